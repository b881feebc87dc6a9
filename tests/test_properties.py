"""Property-based tests (hypothesis): random shapes, dims and whole random graphs, each
compared with PyTorch end to end (values and gradients, float64)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def _pair(x):
    return cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-9)


# -- broadcasting ------------------------------------------------------------------------
BINARY = [
    ("add", lambda L, a, b: a + b),
    ("sub", lambda L, a, b: a - b),
    ("mul", lambda L, a, b: a * b),
    ("div", lambda L, a, b: a / (b * b + 1)),
    ("maximum", lambda L, a, b: L.maximum(a, b)),
    ("where", lambda L, a, b: L.where(a > b, a, b * 2)),
    ("atan2", lambda L, a, b: L.atan2(a, b + 3)),
]


@pytest.mark.parametrize("name,fn", BINARY, ids=[n for n, _ in BINARY])
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3),
       seed=st.integers(0, 2**16))
def test_broadcasting_binary_ops_match_torch(name, fn, shapes, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    ca, ta = _pair(a)
    cb, tb = _pair(b)
    co, to = fn(cr, ca, cb), fn(torch, ta, tb)
    assert tuple(co.shape) == tuple(to.shape) == shapes.result_shape
    _close(co.detach().numpy(), to.detach().numpy())
    w = rng.standard_normal(shapes.result_shape)
    (co * cr.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()
    _close(ca.grad.numpy(), ta.grad.numpy())
    _close(cb.grad.numpy(), tb.grad.numpy())
    assert ca.grad.shape == ca.shape and cb.grad.shape == cb.shape


# -- reductions over random dims ---------------------------------------------------------
REDUCTIONS = ["sum", "mean", "amax", "amin", "logsumexp", "var", "nansum"]


@pytest.mark.parametrize("name", REDUCTIONS)
@given(data=st.data())
def test_reductions_over_random_dims_match_torch(name, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    ndim = len(shape)
    dims = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                              unique_by=lambda d: d % ndim))
    keepdim = data.draw(st.booleans())
    x = np.random.default_rng(len(shape)).standard_normal(shape)
    cx, tx = _pair(x)
    cy = getattr(cr, name)(cx, dim=tuple(dims), keepdim=keepdim)
    ty = getattr(torch, name)(tx, dim=tuple(dims), keepdim=keepdim)
    assert tuple(cy.shape) == tuple(ty.shape)
    _close(cy.detach().numpy(), ty.detach().numpy())
    cy.sum().backward()
    ty.sum().backward()
    _close(cx.grad.numpy(), tx.grad.numpy())


# -- shape ops ----------------------------------------------------------------------------
@given(data=st.data())
def test_permute_reshape_chains_match_torch(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    perm = data.draw(st.permutations(range(len(shape))))
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    cx, tx = _pair(x)
    cy = cx.permute(*perm).reshape(-1).flip(0).reshape(tuple(shape[i] for i in perm))
    ty = tx.permute(*perm).reshape(-1).flip(0).reshape(tuple(shape[i] for i in perm))
    _close(cy.detach().numpy(), ty.detach().numpy())
    w = np.random.default_rng(0).standard_normal(cy.shape)
    (cy * cr.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    _close(cx.grad.numpy(), tx.grad.numpy())


# -- random graphs ------------------------------------------------------------------------
UNARY = [lambda L, x: L.tanh(x), lambda L, x: L.sigmoid(x), lambda L, x: x * x,
         lambda L, x: L.exp(x * 0.3), lambda L, x: L.sin(x), lambda L, x: L.relu(x) + x * 0.1,
         lambda L, x: x.sum(-1, keepdim=True) * x, lambda L, x: x.softmax(-1)]
COMBINE = [lambda L, a, b: a + b, lambda L, a, b: a * b, lambda L, a, b: a - 0.5 * b,
           lambda L, a, b: a @ b.transpose(-1, -2) @ a * 0.1]


@given(steps=st.lists(st.tuples(st.integers(0, len(UNARY) - 1),
                                st.integers(0, len(COMBINE) - 1),
                                st.integers(0, 10), st.integers(0, 10)),
                      min_size=1, max_size=12),
       seed=st.integers(0, 2**16))
def test_random_graphs_match_torch(steps, seed):
    """Random DAGs: nodes reuse earlier values (diamonds, shared inputs), so the engine's
    dependency counting and gradient accumulation are exercised, not just chains."""
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal((3, 3)) for _ in range(2)]
    leaves = [(cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True))
              for x in xs]
    vals = list(leaves)
    for u, c, i, j in steps:
        a = vals[i % len(vals)]
        b = vals[j % len(vals)]
        ua = (UNARY[u](cr, a[0]), UNARY[u](torch, a[1]))
        vals.append((COMBINE[c](cr, ua[0], b[0]), COMBINE[c](torch, ua[1], b[1])))
    out_c = sum((v[0] for v in vals[2:]), cr.zeros(3, 3)).sum()
    out_t = sum((v[1] for v in vals[2:]), torch.zeros(3, 3)).sum()
    _close(out_c.item(), out_t.item())
    out_c.backward()
    out_t.backward()
    for c, t in leaves:
        if t.grad is None:
            assert c.grad is None
        else:
            np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-7, atol=1e-9)
