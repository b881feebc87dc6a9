"""Transfer learning with a frozen trunk: pretrain on digits 0-4, fine-tune a new head on 5-9.

    python examples/finetune_frozen.py            # pretrain, freeze, fine-tune, verify
    python examples/finetune_frozen.py --quick    # a shortened run (used by the tests)

The trunk is frozen with ``requires_grad_(False)`` and put in eval mode (so BatchNorm's
running statistics stay fixed too); only the head's parameters go to the optimizer. The
script checks that every trunk tensor (parameters and buffers) is bit-for-bit unchanged.
Needs the `examples` extra (scikit-learn, matplotlib, tqdm). Writes
examples/out/finetune_frozen.png.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

import chainrule as torch
from chainrule import nn
from chainrule.utils.data import DataLoader, TensorDataset

HERE = os.path.dirname(os.path.abspath(__file__))


def load_split(seed: int):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    return train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)


def accuracy(model, x, y) -> float:
    with torch.no_grad():
        return (model(torch.tensor(x)).argmax(1) == torch.tensor(y)).float().mean().item()


def fit(model, params, x, y, epochs, lr, seed, desc, x_val, y_val, history, train_mode):
    """Adam on ``params``; ``train_mode()`` sets the modules' train/eval modes each epoch."""
    from tqdm import tqdm

    loader = DataLoader(TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=32,
                        shuffle=True, generator=torch.Generator().manual_seed(seed))
    opt = torch.optim.Adam(params, lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    for _ in (bar := tqdm(range(epochs), desc=desc, unit="epoch")):
        total = 0.0
        train_mode()
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        model.eval()
        acc = accuracy(model, x_val, y_val)
        history.append((total / len(x), acc))
        bar.set_postfix(loss=f"{total / len(x):.3f}", val_acc=f"{acc:.3f}")


def main(argv=None) -> dict:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: one BLAS thread
        return _main(argv)


def _main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=15, help="epochs per phase")
    p.add_argument("--quick", action="store_true", help="4 epochs per phase")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join(HERE, "out"))
    args = p.parse_args(argv)
    epochs = 4 if args.quick else args.epochs
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    start = time.perf_counter()

    x_tr, x_te, y_tr, y_te = load_split(args.seed)
    first = (y_tr < 5, y_te < 5)        # task A: digits 0-4
    second = (y_tr >= 5, y_te >= 5)     # task B: digits 5-9, labels shifted to 0-4

    trunk = nn.Sequential(nn.Linear(64, 128), nn.BatchNorm1d(128), nn.ReLU(),
                          nn.Linear(128, 64), nn.ReLU())
    model = nn.Sequential(trunk, nn.Linear(64, 5))
    hist_a, hist_b = [], []
    fit(model, model.parameters(), x_tr[first[0]], y_tr[first[0]], epochs, 3e-3, args.seed,
        "pretrain 0-4", x_te[first[1]], y_te[first[1]], hist_a, model.train)
    model.eval()
    acc_a = accuracy(model, x_te[first[1]], y_te[first[1]])

    # Freeze the trunk, attach a fresh head for the new task.
    trunk.zero_grad()
    trunk.requires_grad_(False)
    trunk.eval()
    frozen_before = {k: v.numpy().copy() for k, v in trunk.state_dict().items()}
    model = nn.Sequential(trunk, nn.Linear(64, 5))
    head = model[1]
    head_before = {k: v.numpy().copy() for k, v in head.state_dict().items()}
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert len(trainable) == 2  # head weight and bias only

    def head_only_training():
        model.train()
        trunk.eval()  # model.train() re-enabled it: keep BatchNorm statistics frozen

    fit(model, trainable, x_tr[second[0]], y_tr[second[0]] - 5, epochs, 1e-2, args.seed + 1,
        "fine-tune 5-9", x_te[second[1]], y_te[second[1]] - 5, hist_b, head_only_training)
    model.eval()
    acc_b = accuracy(model, x_te[second[1]], y_te[second[1]] - 5)

    frozen_unchanged = all(np.array_equal(frozen_before[k], v.numpy())
                           for k, v in trunk.state_dict().items())
    no_trunk_grads = all(p.grad is None for p in trunk.parameters())
    head_changed = any(not np.array_equal(head_before[k], v.numpy())
                       for k, v in head.state_dict().items())
    seconds = time.perf_counter() - start

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for hist, label in ((hist_a, "pretrain (0-4, all weights)"),
                        (hist_b, "fine-tune (5-9, head only)")):
        ax1.plot(range(1, len(hist) + 1), [h[0] for h in hist], label=label)
        ax2.plot(range(1, len(hist) + 1), [h[1] for h in hist], label=label)
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("train cross-entropy")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("test accuracy")
    ax1.legend()
    fig.suptitle(f"frozen trunk: unchanged={frozen_unchanged}, fine-tuned accuracy "
                 f"{acc_b:.1%}")
    fig.tight_layout()
    png = os.path.join(args.out, "finetune_frozen.png")
    fig.savefig(png, dpi=100)
    plt.close(fig)
    print(f"pretrain accuracy (0-4) {acc_a:.4f}; fine-tuned head accuracy (5-9) {acc_b:.4f}")
    print(f"frozen trunk unchanged: {frozen_unchanged}; trunk grads all None: "
          f"{no_trunk_grads}; head changed: {head_changed}; {seconds:.1f} s; curves in {png}")
    return {"pretrain_acc": acc_a, "finetune_acc": acc_b, "frozen_unchanged": frozen_unchanged,
            "no_trunk_grads": no_trunk_grads, "head_changed": head_changed, "png": png,
            "seconds": seconds}


if __name__ == "__main__":
    main()
