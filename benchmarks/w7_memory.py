"""W7: peak memory of one forward + backward of a 16-layer MLP, 1024 wide, batch 512, f32.

``h = relu(h @ W_i + b_i)`` for 16 layers (no ReLU after the last), loss = sum; gradients of
all weights and biases (64 MiB of weights, 64 MiB of gradients).  The gradient check runs the same code in
float64 (see ``grads``).  Memory: peak RSS above the
pre-run level in a fresh process (weights and input already allocated, gradients None), see
_harness.  The hand-written NumPy version keeps each layer's input for the backward pass and
drops it once used.
Time per forward+backward is reported too (no target).
"""
import numpy as np

from _harness import import_lib

NAME = "W7"
TITLE = "16x1024 MLP fwd+bwd b512 f32 (memory)"
UNIT = "ms/iter"
SCALE = 1e3
TARGETS = [("mem", "torch", 1.0)]
TOL = 1e-9
BUDGET = 4.0
WARMUP = 0  # the sizing call warms up
MEM_TRACEMALLOC = False  # agreed with RSS within 0.3 MB when tried; saves two slow children
MIN_ROUNDS = 3
LAYERS, WIDTH, BATCH = 16, 1024, 512


def init(seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    params = []
    for _ in range(LAYERS):
        params.append((rng.standard_normal((WIDTH, WIDTH)) * np.sqrt(2.0 / WIDTH))
                      .astype(dtype))
        params.append((rng.standard_normal(WIDTH) * 0.01).astype(dtype))
    return params, rng.standard_normal((BATCH, WIDTH)).astype(dtype)


def _autograd(impl, dtype=np.float32):
    lib = import_lib(impl)
    arrays, x = init(dtype=dtype)
    params = [lib.tensor(a, requires_grad=True) for a in arrays]
    del arrays
    x = lib.tensor(x)

    def run():
        for p in params:
            p.grad = None
        h = x
        for i in range(LAYERS):
            h = h @ params[2 * i] + params[2 * i + 1]
            if i < LAYERS - 1:
                h = h.relu()
        h.sum().backward()
        return [p.grad for p in params]

    run.clear = lambda: [setattr(p, "grad", None) for p in params]
    return run


def _numpy(dtype=np.float32):
    params, x = init(dtype=dtype)

    def run():
        inputs = []
        h = x
        for i in range(LAYERS):
            inputs.append(h)
            h = h @ params[2 * i] + params[2 * i + 1]
            if i < LAYERS - 1:
                h = np.maximum(h, 0)
        loss = h.sum()  # noqa: F841
        dh = np.ones_like(h)
        gs = [None] * (2 * LAYERS)
        for i in range(LAYERS - 1, -1, -1):
            if i < LAYERS - 1:
                dh *= out > 0  # relu mask from the layer's (post-ReLU) output
            out = inputs.pop()  # freed as soon as it is used, as autograd engines do
            gs[2 * i] = out.T @ dh
            gs[2 * i + 1] = dh.sum(axis=0)
            if i:
                dh = dh @ params[2 * i].T
        return gs

    return run


def make(impl, dtype=np.float32):
    return _numpy(dtype) if impl == "numpy" else _autograd(impl, dtype)


def grads(impl):
    # float64 for the check: in float32, 16 layers of rounding (and ReLU masks flipping near
    # zero) put torch itself ~4e-3 away from a float64 reference in the first layer.
    return make(impl, np.float64)()


def memory_case(impl):
    run = make(impl)

    def warm():  # full-size warm-up, then drop the gradients it made
        run()
        if hasattr(run, "clear"):
            run.clear()

    def measured():
        return run()

    return warm, measured
