"""An LSTM learns to continue sine waves of unknown frequency and phase (next-step prediction).

    python examples/sequence_lstm.py            # test MSE well below 0.01 (bound checked)
    python examples/sequence_lstm.py --quick    # a shortened run (used by the tests)

Each sequence is sin(w t + phi) for t = 0..T with w ~ U(0.15, 0.45) and phi ~ U(0, 2 pi),
sampled at integer steps. From x[0..t] the model predicts x[t+1], for every t. Predicting 0
scores an MSE of 0.5 and repeating the last value about 0.04; a trained LSTM must beat
--bound (default 0.01; the script exits with an error when it does not). Needs the
`examples` extra (matplotlib, tqdm). Writes examples/out/sequence_lstm.png.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import chainrule as torch
from chainrule import nn
from chainrule.utils.data import DataLoader, TensorDataset

HERE = os.path.dirname(os.path.abspath(__file__))


def make_waves(n: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """(n, length + 1, 1) float32 sine waves with random frequency and phase."""
    w = rng.uniform(0.15, 0.45, (n, 1))
    phi = rng.uniform(0, 2 * np.pi, (n, 1))
    t = np.arange(length + 1)[None, :]
    return np.sin(w * t + phi).astype(np.float32)[..., None]


class NextStep(nn.Module):
    """LSTM over the sequence, then a linear read-out of every hidden state."""

    def __init__(self, hidden: int = 32, layers: int = 1):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out)


def main(argv=None) -> dict:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: one BLAS thread
        return _main(argv)


def _main(argv=None) -> dict:
    from tqdm import tqdm

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--quick", action="store_true", help="4 epochs")
    p.add_argument("--length", type=int, default=24)
    p.add_argument("--bound", type=float, default=0.01, help="required test MSE")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join(HERE, "out"))
    args = p.parse_args(argv)
    epochs = 4 if args.quick else args.epochs
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    train = make_waves(1024, args.length, rng)
    test = make_waves(256, args.length, rng)
    loader = DataLoader(TensorDataset(torch.tensor(train[:, :-1]), torch.tensor(train[:, 1:])),
                        batch_size=32, shuffle=True,
                        generator=torch.Generator().manual_seed(args.seed))
    x_te, y_te = torch.tensor(test[:, :-1]), torch.tensor(test[:, 1:])
    persistence = float(((test[:, 1:] - test[:, :-1]) ** 2).mean())

    model = NextStep()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, epochs // 3), gamma=0.4)
    loss_fn = nn.MSELoss()
    history = {"train": [], "test": []}
    start = time.perf_counter()
    for _ in (bar := tqdm(range(epochs), desc="sine LSTM", unit="epoch")):
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += loss.item() * len(xb)
        sched.step()
        with torch.no_grad():
            test_mse = loss_fn(model(x_te), y_te).item()
        history["train"].append(total / len(train))
        history["test"].append(test_mse)
        bar.set_postfix(train=f"{total / len(train):.4f}", test=f"{test_mse:.4f}")
    seconds = time.perf_counter() - start

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.semilogy(range(1, epochs + 1), history["train"], label="train")
    ax1.semilogy(range(1, epochs + 1), history["test"], label="test")
    ax1.axhline(persistence, color="gray", ls=":", label="repeat last value")
    ax1.axhline(args.bound, color="red", ls="--", label=f"bound {args.bound}")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("MSE")
    ax1.legend()
    with torch.no_grad():
        pred = model(x_te[:1]).numpy()[0, :, 0]
    ax2.plot(range(1, args.length + 1), test[0, 1:, 0], "o-", label="target")
    ax2.plot(range(1, args.length + 1), pred, "x--", label="LSTM")
    ax2.set_xlabel("t")
    ax2.legend()
    fig.suptitle(f"next-step sine prediction: test MSE {history['test'][-1]:.4f}")
    fig.tight_layout()
    png = os.path.join(args.out, "sequence_lstm.png")
    fig.savefig(png, dpi=100)
    plt.close(fig)
    final = history["test"][-1]
    print(f"test MSE {final:.5f} (repeat-last baseline {persistence:.4f}, bound {args.bound}) "
          f"after {epochs} epochs in {seconds:.1f} s; curves in {png}")
    return {"test_mse": final, "persistence_mse": persistence, "bound": args.bound,
            "png": png, "seconds": seconds, "history": history}


if __name__ == "__main__":
    result = main()
    if result["test_mse"] >= result["bound"]:
        sys.exit(f"test MSE {result['test_mse']:.5f} is not below the bound {result['bound']}")
