"""W6: a tanh RNN unrolled for 100 steps, forward + backward.

``h = tanh(x_t @ Wx + h @ Wh + b)``, input 32, hidden 64, batch 16, float32, loss = h_T.sum();
gradients of Wx, Wh, b.  The hand-written NumPy version is backpropagation through time.
"""
import numpy as np

from _harness import import_lib

NAME = "W6"
TITLE = "tanh RNN 100 steps h64 in32 b16 fwd+bwd"
UNIT = "ms/iter"
SCALE = 1e3
TARGETS = [("time", "torch", 0.6)]
TOL = 1e-4
STEPS, BATCH, NIN, NH = 100, 16, 32, 64


def init(seed=0):
    rng = np.random.default_rng(seed)
    f = np.float32
    params = [(rng.standard_normal((NIN, NH)) / np.sqrt(NIN)).astype(f),
              (rng.standard_normal((NH, NH)) / np.sqrt(NH)).astype(f),
              (rng.standard_normal(NH) * 0.1).astype(f)]
    xs = [rng.standard_normal((BATCH, NIN)).astype(f) for _ in range(STEPS)]
    return params, xs, np.zeros((BATCH, NH), f)


def _autograd(impl):
    lib = import_lib(impl)
    arrays, xs, h0 = init()
    params = [lib.tensor(a, requires_grad=True) for a in arrays]
    xs = [lib.tensor(x) for x in xs]
    h0 = lib.tensor(h0)
    Wx, Wh, b = params

    def run():
        for p in params:
            p.grad = None
        h = h0
        for x in xs:
            h = (x @ Wx + h @ Wh + b).tanh()
        h.sum().backward()
        return [p.grad for p in params]

    return run


def _numpy():
    (Wx, Wh, b), xs, h0 = init()

    def run():
        hs = [h0]
        h = h0
        for x in xs:
            h = np.tanh(x @ Wx + h @ Wh + b)
            hs.append(h)
        gWx, gWh, gb = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
        dh = np.ones_like(h)
        for t in range(STEPS - 1, -1, -1):
            h = hs[t + 1]
            da = dh * (1 - h * h)
            gWx += xs[t].T @ da
            gWh += hs[t].T @ da
            gb += da.sum(axis=0)
            dh = da @ Wh.T
        return [gWx, gWh, gb]

    return run


def make(impl):
    return _numpy() if impl == "numpy" else _autograd(impl)


def grads(impl):
    return make(impl)()
