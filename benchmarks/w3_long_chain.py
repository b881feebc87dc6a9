"""W3: a 1,000,000-op chain on a (1,)-shaped float64 tensor, forward + backward.

``y = y * 1.000001`` one million times, then ``y.sum().backward()``, under the default
recursion limit (a recursive backward or a recursive graph teardown would crash).  Each
repeat runs in a fresh process (see _harness): time per node and peak memory per node
(VmHWM above the pre-run level, divided by the node count), graph teardown included.
"""
import sys

import numpy as np

from _harness import import_lib

NAME = "W3"
TITLE = "1M-op chain on (1,) f64, fwd+bwd"
UNIT = "us/node"
N_NODES = 1_000_000
SCALE = 1e6 / N_NODES
TARGETS = [("abs", None, 10.0)]
TOL = 1e-9
TIME_IN_CHILD = True
CHILD_REPEATS = 3
C = 1.000001


def notes():
    return [f"recursion limit {sys.getrecursionlimit()} (default, unchanged)"]


def post(res):
    """Peak memory per node, in bytes."""
    for impl, mb in res["mem"].items():
        res["notes"].append(f"{impl}: {mb * 2**20 / N_NODES:.0f} bytes/node peak")


def _autograd(impl, n):
    lib = import_lib(impl)
    x = lib.tensor(np.array([0.5]), requires_grad=True)

    def run():
        x.grad = None
        y = x
        for _ in range(n):
            y = y * C
        y.sum().backward()
        return [x.grad]

    return run


def _numpy(n):
    x = np.array([0.5])

    def run():
        y = x
        for _ in range(n):
            y = y * C
        loss = y.sum()  # noqa: F841
        g = np.ones_like(x)
        for _ in range(n):  # d(y * C)/dy = C
            g = g * C
        return [g]

    return run


def make(impl, n=N_NODES):
    return _numpy(n) if impl == "numpy" else _autograd(impl, n)


def grads(impl):  # quick in-process check; the full-size result is checked in the children
    return make(impl, 20_000)()


def memory_case(impl):
    return make(impl, 1000), make(impl)
