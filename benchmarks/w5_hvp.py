"""W5: Hessian-vector product by double backward.

2-layer tanh MLP 64-128-1, batch 32, float32, loss = mean((mlp(x) - y)^2).
``g = autograd.grad(loss, params, create_graph=True)``, then
``autograd.grad(sum((g_i * v_i).sum()), params)``.  The hand-written NumPy version is the
R-operator (Pearlmutter) pass: forward, backward, and their directional derivatives.
"""
import numpy as np

from _harness import import_lib

NAME = "W5"
TITLE = "HVP double backward, tanh MLP 64-128-1 b32"
UNIT = "ms/hvp"
SCALE = 1e3
TARGETS = [("time", "torch", 0.7)]
TOL = 1e-4


def init(seed=0):
    rng = np.random.default_rng(seed)
    f = np.float32
    params = [(rng.standard_normal((64, 128)) / 8).astype(f), (rng.standard_normal(128) / 8).astype(f),
              (rng.standard_normal((128, 1)) / 11).astype(f), np.zeros(1, f)]
    vs = [rng.standard_normal(p.shape).astype(f) for p in params]
    x = rng.standard_normal((32, 64)).astype(f)
    y = rng.standard_normal((32, 1)).astype(f)
    return params, vs, x, y


def _autograd(impl):
    lib = import_lib(impl)
    arrays, vs, x, y = init()
    params = [lib.tensor(a, requires_grad=True) for a in arrays]
    vs = [lib.tensor(v) for v in vs]
    x, y = lib.tensor(x), lib.tensor(y)
    W1, b1, W2, b2 = params

    def hvp():
        loss = (((x @ W1 + b1).tanh() @ W2 + b2 - y) ** 2).mean()
        gs = lib.autograd.grad(loss, params, create_graph=True)
        dot = sum((g * v).sum() for g, v in zip(gs, vs))
        return list(lib.autograd.grad(dot, params))

    return hvp


def _numpy():
    (W1, b1, W2, b2), (V1, c1, V2, c2), x, y = init()
    n = y.size

    def hvp():
        a = x @ W1 + b1
        h = np.tanh(a)
        o = h @ W2 + b2
        dr = (2.0 / n) * (o - y)          # dL/do
        dh = dr @ W2.T
        s = 1 - h * h                      # tanh'
        da = dh * s
        # directional derivatives R{.} along v = (V1, c1, V2, c2)
        Ra = x @ V1 + c1
        Rh = s * Ra
        Ro = Rh @ W2 + h @ V2 + c2
        Rdr = (2.0 / n) * Ro
        Rdh = Rdr @ W2.T + dr @ V2.T
        Rda = Rdh * s - 2 * dh * h * Rh
        return [x.T @ Rda, Rda.sum(axis=0), Rh.T @ dr + h.T @ Rdr, Rdr.sum(axis=0)]

    return hvp


def make(impl):
    return _numpy() if impl == "numpy" else _autograd(impl)


def grads(impl):
    return make(impl)()
