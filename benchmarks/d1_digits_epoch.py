"""D1: one training epoch of the digits MLP of examples/train_digits_mlp.py (issue 5).

scikit-learn's 8x8 digits (1437 training images after the 80/20 split), batch 32 from a
shuffling ``DataLoader``, ``nn.Sequential(Linear 64-128, ReLU, Dropout 0.3, Linear 128-64,
ReLU, Linear 64-10)``, ``CrossEntropyLoss(label_smoothing=0.1)``, ``AdamW`` and a cosine
schedule stepped per batch: the same code with ``chainrule`` and with ``torch``. There is no
hand-written NumPy version. The gradient check compares one batch's gradients with the same
weights in eval mode (dropout off: the two libraries draw different masks).
"""
import numpy as np

from _harness import Missing, import_lib

NAME = "D1"
TITLE = "digits MLP, one training epoch (45 steps, AdamW)"
UNIT = "ms/epoch"
SCALE = 1e3
TARGETS = []
TOL = 1e-4
SIZES = (64, 128, 64, 10)


def _data():
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise Missing("needs scikit-learn (pip install -e '.[examples]')") from None
    x, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(x))[:1437]
    x = (x[idx] / 16.0).astype(np.float32)
    x = (x - x.mean(0)) / (x.std(0) + 1e-3)
    return x.astype(np.float32), y[idx].astype(np.int64)


def _weights():
    rng = np.random.default_rng(1)
    out = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        b = 1 / np.sqrt(fan_in)
        out.append((rng.uniform(-b, b, (fan_out, fan_in)).astype(np.float32),
                    rng.uniform(-b, b, fan_out).astype(np.float32)))
    return out


def _model(lib):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    linears = [m for m in model if isinstance(m, nn.Linear)]
    with lib.no_grad():
        for lin, (w, b) in zip(linears, _weights()):
            lin.weight.copy_(lib.tensor(w))
            lin.bias.copy_(lib.tensor(b))
    return model


def make(impl):
    if impl == "numpy":
        raise Missing("no hand-written NumPy version of a training epoch")
    lib = import_lib(impl)
    x, y = _data()
    lib.manual_seed(0)
    loader = lib.utils.data.DataLoader(
        lib.utils.data.TensorDataset(lib.tensor(x), lib.tensor(y)), batch_size=32,
        shuffle=True, generator=lib.Generator().manual_seed(0))
    model = _model(lib)
    opt = lib.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1000 * len(loader))
    loss_fn = lib.nn.CrossEntropyLoss(label_smoothing=0.1)

    def epoch():
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(yb)
        return total

    return epoch


def grads(impl):
    if impl == "numpy":
        raise Missing("no hand-written NumPy version of a training epoch")
    lib = import_lib(impl)
    x, y = _data()
    model = _model(lib).eval()
    loss = lib.nn.CrossEntropyLoss(label_smoothing=0.1)(model(lib.tensor(x[:32])),
                                                       lib.tensor(y[:32]))
    loss.backward()
    return [loss] + [p.grad for p in model.parameters()]
