"""Shared test helpers: numerical gradients and comparison with PyTorch."""
import numpy as np
import pytest

import chainrule as cr

try:
    import torch
except ImportError:  # pragma: no cover - `make test` installs torch
    torch = None


def pytest_collection_modifyitems(config, items):
    if torch is not None:
        return
    skip = pytest.mark.skip(reason="torch==2.13.0 not installed (make test installs it)")
    for item in items:
        if "torch" in item.keywords:
            item.add_marker(skip)


def numerical_grad(f, arrays, eps=1e-6):
    """Central differences of scalar ``f(*arrays)`` w.r.t. each float64 array."""
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        it = np.nditer(a, flags=["multi_index"])
        for _ in it:
            i = it.multi_index
            old = a[i]
            a[i] = old + eps
            fp = f(*arrays)
            a[i] = old - eps
            fm = f(*arrays)
            a[i] = old
            g[i] = (fp - fm) / (2 * eps)
        grads.append(g)
    return grads


def check_grad(fn, *arrays, atol=1e-6, rtol=1e-5, seed=0):
    """Compare chainrule's gradient of ``fn`` (on Tensors) with central differences.

    ``fn`` maps Tensors to a Tensor; the scalar checked is sum(fn(...) * r) for a fixed
    random r, so every output element's gradient is exercised.
    """
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    out_shape = fn(*[cr.tensor(a) for a in arrays]).shape
    r = np.random.default_rng(seed).standard_normal(out_shape)

    def scalar(*arrs):
        return float((fn(*[cr.tensor(a) for a in arrs])._data * r).sum())

    ts = [cr.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    (out * cr.tensor(r)).sum().backward()
    num = numerical_grad(scalar, arrays)
    for t, n in zip(ts, num):
        assert t.grad is not None, "no gradient reached an input"
        np.testing.assert_allclose(t.grad.numpy(), n, atol=atol, rtol=rtol)


@pytest.fixture
def torch_mod():
    if torch is None:
        pytest.skip("torch not installed")
    return torch


# Property tests run on loaded 2-core CI machines: no per-example deadline.
try:
    from hypothesis import HealthCheck, settings

    settings.register_profile("chainrule", deadline=None, max_examples=30,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile("chainrule")
except ImportError:  # pragma: no cover - hypothesis is in the test extra
    pass
