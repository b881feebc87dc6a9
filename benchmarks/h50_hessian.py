"""H50: full Hessian of a scalar function of 50 inputs (issue 4).

f(x) = sum(tanh(A x)) + 0.5 * sum(x**2) * mean(x),  A: 64x50, float64.
chainrule: ``chainrule.func.jacfwd(chainrule.func.jacrev(f))``; torch: ``torch.func.hessian``
(which is jacfwd(jacrev)); hand NumPy: the closed form
H = A^T diag(-2 t (1 - t^2)) A + (mean(x) I + (x 1^T + 1 x^T) / n).
"""
import numpy as np

from _harness import import_lib

NAME = "H50"
TITLE = "Hessian 50 inputs, jacfwd(jacrev(f)) vs torch.func.hessian"
UNIT = "ms/hess"
SCALE = 1e3
TARGETS = [("time", "torch", 1.0)]
TOL = 1e-8
N, M = 50, 64


def init(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((M, N)) / np.sqrt(N), rng.standard_normal(N)


def _autograd(impl):
    lib = import_lib(impl)
    A, x = init()
    A, x = lib.tensor(A), lib.tensor(x)

    def f(v):
        return (A @ v).tanh().sum() + 0.5 * (v * v).sum() * v.mean()

    hess = lib.func.hessian(f) if impl == "torch" else lib.func.jacfwd(lib.func.jacrev(f))

    def run():
        return [hess(x)]

    return run


def _numpy():
    A, x = init()

    def run():
        t = np.tanh(A @ x)
        d = -2 * t * (1 - t * t)
        one = np.ones(N)
        return [(A.T * d) @ A + x.mean() * np.eye(N) + (np.outer(x, one) + np.outer(one, x)) / N]

    return run


def make(impl):
    return _numpy() if impl == "numpy" else _autograd(impl)


def grads(impl):
    return make(impl)()
