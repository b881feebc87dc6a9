"""Pieces the digits examples share: loss/accuracy curves and a one-BLAS-thread runner."""
from __future__ import annotations


def plot_curves(history: dict, path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = range(1, len(history["train_loss"]) + 1)
    ax1.plot(epochs, history["train_loss"], label="train")
    ax1.plot(epochs, history["test_loss"], label="test")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy")
    ax1.legend()
    ax2.plot(epochs, history["test_acc"], color="tab:green")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("test accuracy")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def with_one_blas_thread(fn, argv=None):
    """Run ``fn(argv)`` with one BLAS thread: the matrices here are small, so one thread is
    fastest, and it avoids the slowdown of oversubscribed cores (threadpoolctl ships with
    scikit-learn)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return fn(argv)
