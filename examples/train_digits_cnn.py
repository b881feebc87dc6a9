"""Train a small CNN (Conv2d, BatchNorm2d, MaxPool2d, Dropout) on scikit-learn's 8x8 digits.

    python examples/train_digits_cnn.py             # ~98-99% test accuracy
    python examples/train_digits_cnn.py --quick     # a shortened run (used by the tests)

Needs the `examples` extra: pip install -e '.[examples]' (scikit-learn, matplotlib, tqdm).
Training images are shifted by up to one pixel at random (a cheap augmentation).
Writes loss/accuracy curves to examples/out/digits_cnn.png.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _common import plot_curves, with_one_blas_thread

import chainrule as torch
from chainrule import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def load_digits_split(seed: int = 0):
    """8x8 digits as (N, 1, 8, 8) float32 in [0, 1], 80/20 split stratified by class."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    return train_test_split(x, y, test_size=0.2, random_state=seed, stratify=y)


def random_shift(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shift each image by -1, 0 or +1 pixels along each axis (zero fill)."""
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.empty_like(x)
    dy, dx = rng.integers(0, 3, (2, len(x)))
    for i in range(len(x)):
        out[i] = padded[i, :, dy[i]:dy[i] + 8, dx[i]:dx[i] + 8]
    return out


def make_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 10))


def evaluate(model, x, y, batch: int = 500) -> tuple[float, float]:
    model.eval()
    losses, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = model(torch.tensor(x[i:i + batch]))
            target = torch.tensor(y[i:i + batch])
            losses += nn.functional.cross_entropy(logits, target, reduction="sum").item()
            correct += (logits.argmax(1) == target).sum().item()
    model.train()
    return losses / len(x), correct / len(x)


def main(argv=None) -> dict:
    return with_one_blas_thread(_main, argv)


def _main(argv=None) -> dict:
    from tqdm import tqdm

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--quick", action="store_true", help="3 epochs")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join(HERE, "out"))
    args = p.parse_args(argv)
    epochs = 3 if args.quick else args.epochs
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    x_tr, x_te, y_tr, y_te = load_digits_split(args.seed)
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = -(-len(x_tr) // args.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr,
                                                total_steps=epochs * steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss()

    history = {"train_loss": [], "test_loss": [], "test_acc": []}
    start = time.perf_counter()
    bar = tqdm(total=epochs * steps_per_epoch, desc="digits CNN", unit="step")
    for epoch in range(epochs):
        order = rng.permutation(len(x_tr))
        total = 0.0
        for i in range(0, len(x_tr), args.batch_size):
            idx = order[i:i + args.batch_size]
            xb = torch.tensor(random_shift(x_tr[idx], rng))
            yb = torch.tensor(y_tr[idx])
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            bar.update(1)
        test_loss, test_acc = evaluate(model, x_te, y_te)
        history["train_loss"].append(total / len(x_tr))
        history["test_loss"].append(test_loss)
        history["test_acc"].append(test_acc)
        bar.set_postfix(epoch=epoch + 1, loss=f"{total / len(x_tr):.3f}",
                        test_acc=f"{test_acc:.3f}")
    bar.close()
    seconds = time.perf_counter() - start
    png = os.path.join(args.out, "digits_cnn.png")
    plot_curves(history, png, f"CNN on digits: {history['test_acc'][-1]:.1%} test accuracy")
    print(f"test accuracy {history['test_acc'][-1]:.4f} after {epochs} epochs "
          f"in {seconds:.1f} s; curves in {png}")
    return {"test_acc": history["test_acc"][-1], "seconds": seconds, "png": png,
            "history": history}


if __name__ == "__main__":
    main()
