"""W1: per-op overhead on a tiny tensor.

x: shape (8,), float64, requires_grad.  1,000 times ``y = y * 1.0001 + 0.0001`` (2,000 ops),
then ``y.sum().backward()``.  Reported: microseconds per op (forward + backward time / 2,000).
"""
import numpy as np

NAME = "W1"
TITLE = "tiny ops (8,) f64, 2k ops fwd+bwd"
UNIT = "us/op"
N_STEPS = 1000
SCALE = 1e6 / (2 * N_STEPS)  # seconds per call -> us per op
TARGETS = [("time", "torch", 0.5)]
TOL = 1e-12

X0 = np.linspace(-1.0, 1.0, 8)


def _autograd_step(lib):
    x = lib.tensor(X0.copy(), requires_grad=True)

    def step():
        x.grad = None
        y = x
        for _ in range(N_STEPS):
            y = y * 1.0001 + 0.0001
        y.sum().backward()
        return x.grad

    return step


def _numpy_step():
    x = X0.copy()

    def step():
        y = x
        for _ in range(N_STEPS):
            y = y * 1.0001 + 0.0001
        loss = y.sum()  # noqa: F841
        g = np.ones_like(x)  # d sum / dy
        for _ in range(N_STEPS):  # add: identity; mul by constant: g * c
            g = g * 1.0001
        return g

    return step


def make(impl):
    if impl == "numpy":
        return _numpy_step()
    import importlib

    return _autograd_step(importlib.import_module(impl))


def grads(impl):
    return [make(impl)()]
