"""W2: one SGD training step of an MLP 784-512-512-10 (ReLU), batch 256, float32.

Forward, cross-entropy loss (see ``_harness.loss_mode``), backward, SGD update under
``no_grad`` and gradient reset.  The hand-written NumPy step fuses softmax + cross-entropy
and writes every backward formula by hand.
"""
import numpy as np

from _harness import cross_entropy, import_lib, loss_mode, np_cross_entropy, sgd, sgd_mode

NAME = "W2"
TITLE = "MLP 784-512-512-10 step, b256 f32"
UNIT = "ms/step"
SCALE = 1e3
TARGETS = [("time", "torch", 1.0), ("time", "numpy", 1.1)]
TOL = 1e-4
LR = 1e-3
SIZES = (784, 512, 512, 10)
BATCH = 256


def notes():
    return [f"W2/W4 loss: {loss_mode()}", f"W2/W4 SGD: {sgd_mode()}"]


def init(batch=BATCH, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (fan_out,)).astype(np.float32))
    x = rng.standard_normal((batch, SIZES[0])).astype(np.float32)
    target = rng.integers(0, SIZES[-1], batch)
    onehot = np.eye(SIZES[-1], dtype=np.float32)[target]
    return params, x, target, onehot


def _forward(params, x):
    W1, b1, W2, b2, W3, b3 = params
    h = (x @ W1 + b1).relu()
    h = (h @ W2 + b2).relu()
    return h @ W3 + b3


def _autograd(impl, batch=BATCH):
    lib = import_lib(impl)
    arrays, x, target, onehot = init(batch)
    params = [lib.tensor(a, requires_grad=True) for a in arrays]
    x, onehot = lib.tensor(x), lib.tensor(onehot)
    target = lib.tensor(target)
    lmode, smode = loss_mode(), sgd_mode()

    def loss_backward():
        loss = cross_entropy(lib, _forward(params, x), target, onehot, lmode)
        loss.backward()
        return loss

    def step():
        loss = loss_backward()
        sgd(lib, params, LR, smode)
        return loss

    return params, loss_backward, step


def _numpy_grads(params, x, target, onehot):
    W1, b1, W2, b2, W3, b3 = params
    a1 = x @ W1 + b1
    h1 = np.maximum(a1, 0)
    a2 = h1 @ W2 + b2
    h2 = np.maximum(a2, 0)
    z = h2 @ W3 + b3
    loss, dz = np_cross_entropy(z, target, onehot)
    gW3, gb3 = h2.T @ dz, dz.sum(axis=0)
    da2 = (dz @ W3.T) * (a2 > 0)
    gW2, gb2 = h1.T @ da2, da2.sum(axis=0)
    da1 = (da2 @ W2.T) * (a1 > 0)
    gW1, gb1 = x.T @ da1, da1.sum(axis=0)
    return loss, [gW1, gb1, gW2, gb2, gW3, gb3]


def _numpy(batch=BATCH):
    params, x, target, onehot = init(batch)

    def step():
        loss, gs = _numpy_grads(params, x, target, onehot)
        for p, g in zip(params, gs):
            p -= LR * g
        return loss

    return step


def make(impl, batch=BATCH):
    if impl == "numpy":
        return _numpy(batch)
    return _autograd(impl, batch)[2]


def grads(impl):
    if impl == "numpy":
        params, x, target, onehot = init()
        loss, gs = _numpy_grads(params, x, target, onehot)
        return [np.asarray(loss)] + gs
    params, loss_backward, _ = _autograd(impl)
    loss = loss_backward()
    return [loss] + [p.grad for p in params]


def memory_case(impl):
    """Peak memory of one full step (forward, backward, update)."""
    step = make(impl)
    return step, step
