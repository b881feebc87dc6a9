"""Train a small MLP on scikit-learn's 8x8 digits with chainrule, written as PyTorch code.

    python examples/train_digits_mlp.py             # ~97-99% test accuracy in a few seconds
    python examples/train_digits_mlp.py --quick     # a shortened run (used by the tests)

Needs the `examples` extra: pip install -e '.[examples]' (scikit-learn, matplotlib, tqdm).
Writes loss/accuracy curves to examples/out/digits_mlp.png and the weights to
examples/out/digits_mlp.pt (chainrule's safe .npz-based format).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _common import plot_curves, with_one_blas_thread

import chainrule as torch
from chainrule import nn
from chainrule.utils.data import DataLoader, TensorDataset

HERE = os.path.dirname(os.path.abspath(__file__))


def load_digits_split(seed: int = 0):
    """Standardised 8x8 digits (1797 images), 80/20 split stratified by class."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=seed,
                                              stratify=y)
    mean, std = x_tr.mean(0), x_tr.std(0) + 1e-3
    return (x_tr - mean) / std, (x_te - mean) / std, y_tr, y_te


def evaluate(model, x, y) -> tuple[float, float]:
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor(x))
        loss = nn.functional.cross_entropy(logits, torch.tensor(y)).item()
        acc = (logits.argmax(1) == torch.tensor(y)).float().mean().item()
    model.train()
    return loss, acc


def main(argv=None) -> dict:
    return with_one_blas_thread(_main, argv)


def _main(argv=None) -> dict:
    from tqdm import tqdm

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--quick", action="store_true", help="6 epochs")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join(HERE, "out"))
    args = p.parse_args(argv)
    epochs = 6 if args.quick else args.epochs
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)

    x_tr, x_te, y_tr, y_te = load_digits_split(args.seed)
    train = DataLoader(TensorDataset(torch.tensor(x_tr), torch.tensor(y_tr)),
                       batch_size=args.batch_size, shuffle=True,
                       generator=torch.Generator().manual_seed(args.seed))
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(train))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)

    history = {"train_loss": [], "test_loss": [], "test_acc": []}
    start = time.perf_counter()
    bar = tqdm(range(epochs), desc="digits MLP", unit="epoch")
    for _ in bar:
        total, n = 0.0, 0
        for xb, yb in train:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(yb)
            n += len(yb)
        test_loss, test_acc = evaluate(model, x_te, y_te)
        history["train_loss"].append(total / n)
        history["test_loss"].append(test_loss)
        history["test_acc"].append(test_acc)
        bar.set_postfix(loss=f"{total / n:.3f}", test_acc=f"{test_acc:.3f}")
    seconds = time.perf_counter() - start

    png = os.path.join(args.out, "digits_mlp.png")
    plot_curves(history, png, f"MLP on digits: {history['test_acc'][-1]:.1%} test accuracy")
    ckpt = os.path.join(args.out, "digits_mlp.pt")
    torch.save(model.state_dict(), ckpt)
    reloaded = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.3),
                             nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    reloaded.load_state_dict(torch.load(ckpt, weights_only=True))
    assert evaluate(reloaded, x_te, y_te)[1] == history["test_acc"][-1]
    print(f"test accuracy {history['test_acc'][-1]:.4f} after {epochs} epochs "
          f"in {seconds:.1f} s; curves in {png}")
    return {"test_acc": history["test_acc"][-1], "seconds": seconds, "png": png,
            "history": history}


if __name__ == "__main__":
    main()
