"""Indexing ops: values and gradients against PyTorch, finite differences, second order, errors."""
import numpy as np
import pytest
from conftest import check_grad

import chainrule as cr

RNG = np.random.default_rng(0)
X34 = RNG.standard_normal((3, 4))
X345 = RNG.standard_normal((3, 4, 5))


def _run_both(fn, arrays, torch):
    """Run ``fn(lib, *tensors)`` in chainrule and torch; compare values and gradients."""
    ct = [cr.tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    co = fn(cr, *ct)
    to = fn(torch, *tt)
    np.testing.assert_allclose(co.detach().numpy(), to.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert tuple(co.shape) == tuple(to.shape)
    r = np.random.default_rng(1).standard_normal(tuple(to.shape))
    (co * cr.tensor(r)).sum().backward()
    (to * torch.tensor(r)).sum().backward()
    for c, t in zip(ct, tt):
        if t.grad is None:
            assert c.grad is None or not np.any(c.grad.numpy())
            continue
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
    return co, to


def _idx(lib, a):
    return lib.tensor(np.asarray(a, dtype=np.int64))


def _mask(lib, a):
    return lib.tensor(np.asarray(a, dtype=bool))


# -- getitem -----------------------------------------------------------------------------
GETITEM_KEYS = {
    "int": lambda L: 1,
    "neg_int": lambda L: -1,
    "slice": lambda L: slice(1, 3),
    "step_slice": lambda L: slice(None, None, 2),
    "int_slice": lambda L: (0, slice(1, 3)),
    "none": lambda L: None,
    "none_int": lambda L: (None, 0),
    "ellipsis": lambda L: Ellipsis,
    "ellipsis_int": lambda L: (Ellipsis, 0),
    "ellipsis_slice_none": lambda L: (0, Ellipsis, None),
    "all_ints": lambda L: (2, 1, 3),
    "list": lambda L: [0, 2, 2],
    "tensor_idx": lambda L: _idx(L, [2, 0, 2, -1]),
    "tensor_2d_idx": lambda L: _idx(L, [[0, 1], [2, 2]]),
    "two_arrays": lambda L: (_idx(L, [0, 2, 2]), _idx(L, [1, 1, 3])),
    "array_slice_array": lambda L: (_idx(L, [0, 2]), slice(None), _idx(L, [4, 4])),
    "slice_array": lambda L: (slice(None), _idx(L, [3, 0, 3])),
    "int_array": lambda L: (1, _idx(L, [0, 0, 2])),
    "mask_first": lambda L: _mask(L, [True, False, True]),
    "mask_2d": lambda L: _mask(L, RNG.random((3, 4)) > 0.5),
    "mask_empty": lambda L: _mask(L, [False, False, False]),
    "empty_list": lambda L: _idx(L, np.zeros(0, np.int64)),
    "zero_d_tensor": lambda L: L.tensor(2),
    "empty_slice": lambda L: slice(2, 2),
    "none_array": lambda L: (None, _idx(L, [1, 1])),
    "range_and_array": lambda L: (range(3), _idx(L, [0, 3, 1])),
    "slice_none_slice": lambda L: (slice(None), None, slice(0, 2)),
    "empty_tuple": lambda L: (),
    "full_slices": lambda L: (slice(None), slice(None)),
    "full_slice_tuple": lambda L: (slice(None, None, 1),),
    "full_slice_ellipsis": lambda L: (Ellipsis, slice(None)),
    "bare_full_slice": lambda L: slice(None),
    "list_of_bools": lambda L: [True, False, True],
}

_KEY_STATE = {}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(GETITEM_KEYS))
def test_getitem_vs_torch(name, torch_mod):
    state = np.random.default_rng(5)
    masks = {}

    def fn(L, x):
        if name == "mask_2d":
            m = masks.setdefault("m", state.random((3, 4)) > 0.5)
            return x[_mask(L, m)]
        return x[GETITEM_KEYS[name](L)]

    co, to = _run_both(fn, [X345], torch_mod)
    assert co.grad_fn.name() == to.grad_fn.name()


def test_getitem_grad_repeated_and_negative():
    check_grad(lambda x: x[[0, 0, -1, 2, 0]], X34)
    check_grad(lambda x: x[:, cr.tensor([3, 3, -4])], X34)
    check_grad(lambda x: x[cr.tensor([[0, 1], [1, 1]]), cr.tensor([[2, 2], [3, 0]])], X34)


def test_getitem_second_order():
    x = cr.tensor(X34, requires_grad=True)
    y = (x[[0, 0, 2]] ** 3).sum()
    (g,) = cr.autograd.grad(y, x, create_graph=True)
    (g * g).sum().backward()
    expected = np.zeros_like(X34)
    counts = np.array([2, 0, 1])[:, None]
    # g = 3 x^2 * count; d/dx sum(g^2) = 2 g * 6 x * count
    gg = 3 * X34 ** 2 * counts
    expected = 2 * gg * 6 * X34 * counts
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-10)


def test_getitem_views_share_memory_and_int_fast_path():
    x = cr.arange(6.0).reshape(2, 3)
    row = x[1]
    assert row.grad_fn is None
    np.testing.assert_array_equal(row.numpy(), [3.0, 4.0, 5.0])


# -- setitem -----------------------------------------------------------------------------
SETITEM_CASES = {
    "int_tensor": (lambda L: 1, (4, 5)),
    "slice_tensor": (lambda L: (slice(0, 2), 1), (2, 5)),
    "broadcast_tensor": (lambda L: (slice(None), 0), (5,)),
    "array_tensor": (lambda L: _idx(L, [2, 0]), (2, 4, 5)),
    "mask_tensor": (lambda L: _mask(L, [True, False, True]), (1, 4, 5)),
    "number": (lambda L: (0, slice(1, 3)), None),
    "number_mask": (lambda L: _mask(L, [False, True, True]), None),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(SETITEM_CASES))
def test_setitem_vs_torch(name, torch_mod):
    keyf, vshape = SETITEM_CASES[name]
    arrays = [X345] + ([RNG.standard_normal(vshape)] if vshape is not None else [])

    def fn(L, x, v=None):
        y = x * 1.0
        y[keyf(L)] = v if v is not None else 7.5
        return y * y

    _run_both(fn, arrays, torch_mod)


@pytest.mark.torch
def test_setitem_into_plain_tensor_and_names(torch_mod):
    for L in (cr, torch_mod):
        w = L.tensor(np.arange(4.0), requires_grad=True)
        z = L.zeros(3, 4, dtype=L.float64)
        z[1] = w
        assert z.requires_grad and z.grad_fn.name().endswith("CopySlices")
        z2 = w * 1
        z2[_idx(L, [0, 1])] = 3.0
        assert z2.grad_fn.name() == "IndexPutBackward0"
        (z * z).sum().backward()
        np.testing.assert_allclose(w.grad.numpy(), 2 * np.arange(4.0))


def test_setitem_leaf_error_and_no_grad():
    w = cr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used "
                                           "in an in-place operation."):
        w[0] = 5.0
    with cr.no_grad():
        w[0] = 5.0
    np.testing.assert_array_equal(w.detach().numpy(), [5.0, 1.0, 1.0])


def test_setitem_view_sees_write_without_grad():
    x = cr.zeros(2, 3)
    row = x[0]
    x[0, 1] = 4.0
    assert row[1].item() == 4.0


def test_scatter_src_larger_than_index_gradcheck():
    check_grad(lambda x, s: x.scatter(1, cr.tensor([[1], [0], [3]]), s), X34,
               RNG.standard_normal((3, 4)))
    check_grad(lambda x, s: x.scatter_add(0, cr.tensor([[1, 1]]), s), X34,
               RNG.standard_normal((2, 3)))


@pytest.mark.torch
def test_setitem_through_views_updates_base(torch_mod):
    grads = []
    for L in (cr, torch_mod):
        w = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        z = L.zeros(2, 3, dtype=L.float64)
        z[1][2] = w[0] * 5
        y = z + 0
        z[0][:2] = w[1:] * w[1:]
        z[0].index_fill_(0, _idx(L, [0]), 0.0)
        row = z[1]
        row.masked_fill_(_mask(L, [True, False, False]), 4.0)
        assert z.grad_fn.name().endswith("CopySlices")
        (z.sum() * 3 + y.sum()).backward()
        grads.append(w.grad.numpy())
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            x[0:2][0] = w[0]
    np.testing.assert_allclose(grads[0], grads[1])


@pytest.mark.torch
def test_setitem_second_order_vs_torch(torch_mod):
    grads = []
    for L in (cr, torch_mod):
        x = L.tensor(X34, requires_grad=True)
        v = L.tensor(np.arange(4.0) - 1.5, requires_grad=True)
        y = x * x
        y[1] = v * x[0]
        y[_idx(L, [0, 2]), 1:3] = 2.0
        out = (y ** 3).sum()
        gx, gv = L.autograd.grad(out, (x, v), create_graph=True)
        ((gx * gx).sum() + (gv * gv).sum()).backward()
        grads.append((x.grad.numpy(), v.grad.numpy()))
    for c, t in zip(*grads):
        np.testing.assert_allclose(c, t, rtol=1e-10)


def test_setitem_gradcheck():
    def f(x, v):
        y = x * 1
        y[1:, [0, 2]] = v * 2
        return y * x

    check_grad(f, X34, RNG.standard_normal((2, 2)))


# -- gather / scatter / index_* / masked / take ------------------------------------------
IDX_1D = [2, 0, 2]
GS_INDEX = np.array([[0, 2, 1, 0], [2, 2, 0, 1]])  # gather along dim 0 of a (3, 4) input
OPS = {
    "index_select0": (lambda L, x: L.index_select(x, 0, _idx(L, IDX_1D)), [X34]),
    "index_select1": (lambda L, x: x.index_select(1, _idx(L, [3, 3, 1, 0])), [X34]),
    "index_select_3d": (lambda L, x: x.index_select(2, _idx(L, [1, 1])), [X345]),
    "gather0": (lambda L, x: L.gather(x, 0, _idx(L, GS_INDEX)), [X34]),
    "gather1": (lambda L, x: x.gather(1, _idx(L, [[0, 0], [3, 1], [2, 2]])), [X34]),
    "gather_small": (lambda L, x: x.gather(0, _idx(L, [[1], [2]])), [X34]),
    "scatter_src": (lambda L, x, s: x.scatter(0, _idx(L, [[0, 1, 2, 0]]), s),
                    [X34, RNG.standard_normal((1, 4))]),
    "scatter_col": (lambda L, x, s: x.scatter(1, _idx(L, [[1], [0], [3]]), s),
                    [X34, RNG.standard_normal((3, 1))]),
    "scatter_value": (lambda L, x: x.scatter(1, _idx(L, [[1, 2], [0, 0], [3, 3]]), 2.5), [X34]),
    "scatter_add": (lambda L, x, s: L.scatter_add(x, 0, _idx(L, GS_INDEX), s),
                    [X34, RNG.standard_normal((2, 4))]),
    "scatter_add_dup": (lambda L, x, s: x.scatter_add(1, _idx(L, [[1, 1, 1]] * 3), s),
                        [X34, RNG.standard_normal((3, 3))]),
    "index_add": (lambda L, x, s: x.index_add(0, _idx(L, [2, 2, 0]), s, alpha=1.5),
                  [X34, RNG.standard_normal((3, 4))]),
    "index_add1": (lambda L, x, s: L.index_add(x, 1, _idx(L, [1, 3]), s),
                   [X34, RNG.standard_normal((3, 2))]),
    "index_copy": (lambda L, x, s: x.index_copy(1, _idx(L, [3, 0]), s),
                   [X34, RNG.standard_normal((3, 2))]),
    "index_fill": (lambda L, x: x.index_fill(1, _idx(L, [0, 2]), -1.0), [X34]),
    "index_fill_tensor": (lambda L, x, v: x.index_fill(0, _idx(L, [1]), v.sum()),
                          [X34, RNG.standard_normal(2)]),
    "index_put": (lambda L, x, v: x.index_put((_idx(L, [0, 2]), _idx(L, [1, 1])), v),
                  [X34, RNG.standard_normal(2)]),
    "index_put_acc": (lambda L, x, v: x.index_put((_idx(L, [0, 0]), _idx(L, [1, 1])), v,
                                                  accumulate=True),
                      [X34, RNG.standard_normal(2)]),
    "masked_fill": (lambda L, x: x.masked_fill(_mask(L, X34 > 0), 0.5), [X34]),
    "masked_fill_bcast": (lambda L, x: L.masked_fill(x, _mask(L, [True, False, False, True]),
                                                     -2.0), [X34]),
    "masked_fill_tensor": (lambda L, x, v: x.masked_fill(_mask(L, X34 > 0), v.sum()),
                           [X34, RNG.standard_normal(3)]),
    "masked_select": (lambda L, x: L.masked_select(x, _mask(L, X34 > 0.2)), [X34]),
    "masked_select_bcast": (lambda L, x: x.masked_select(_mask(L, [[True], [False], [True]])),
                            [X34]),
    "masked_select_empty": (lambda L, x: x.masked_select(_mask(L, np.zeros((3, 4), bool))),
                            [X34]),
    "masked_scatter": (lambda L, x, s: x.masked_scatter(_mask(L, X34 > 0), s),
                       [X34, RNG.standard_normal((4, 4))]),
    "take": (lambda L, x: L.take(x, _idx(L, [[0, 11], [5, 5]])), [X34]),
    "take_neg": (lambda L, x: x.take(_idx(L, [-1, -12, 3])), [X34]),
    "take_along_dim": (lambda L, x: L.take_along_dim(x, _idx(L, [[0], [3], [1]]), 1), [X34]),
    "take_along_dim_bcast": (lambda L, x: L.take_along_dim(x, _idx(L, [[0, 2, 2, 1]]), 0),
                             [X34]),
    "take_along_dim_flat": (lambda L, x: L.take_along_dim(x, _idx(L, [0, 7, 7])), [X34]),
    "put": (lambda L, x, s: x.put(_idx(L, [0, 5, 5]), s, accumulate=True),
            [X34, RNG.standard_normal(3)]),
    "put_noacc": (lambda L, x, s: x.put(_idx(L, [0, 5, 7]), s),
                  [X34, RNG.standard_normal(3)]),
    "select": (lambda L, x: L.select(x, 1, -2), [X34]),
    "select_scatter": (lambda L, x, s: L.select_scatter(x, s, 1, 2),
                       [X34, RNG.standard_normal(3)]),
    "slice_scatter": (lambda L, x, s: x.slice_scatter(s, 1, 0, 4, 2),
                      [X34, RNG.standard_normal((3, 2))]),
    "combinations": (lambda L, x: L.combinations(x[0], 2), [X34]),
    "combinations_repl": (lambda L, x: L.combinations(x[1], 3, with_replacement=True), [X34]),
    "cartesian_prod": (lambda L, x, y: L.cartesian_prod(x[0], y), [X34, RNG.standard_normal(3)]),
    "diagonal_scatter": (lambda L, x, s: L.diagonal_scatter(x, s, 1),
                         [X34, RNG.standard_normal(3)]),
    "diagonal_scatter_3d": (lambda L, x, s: x.diagonal_scatter(s, -1, 0, 2),
                            [X345, RNG.standard_normal((4, 2))]),
    "diagonal_scatter_adj": (lambda L, x, s: x.diagonal_scatter(s, 0, 1, 2),
                             [X345, RNG.standard_normal((3, 4))]),
}


def _scatter_reduce_case(red, inc):
    def fn(L, x, s):
        idx = _idx(L, [[0, 1, 0, 2], [0, 0, 0, 2]])
        return x.scatter_reduce(0, idx, s, red, include_self=inc)
    return fn, [X34, RNG.standard_normal((2, 4))]


def _index_reduce_case(red):
    def fn(L, x, s):
        return x.index_reduce(1, _idx(L, [0, 3, 0]), s, red, include_self=red != "mean")
    return fn, [X34, RNG.standard_normal((3, 3))]


for _red in ("sum", "prod", "mean", "amax", "amin"):
    for _inc in (True, False):
        OPS[f"scatter_reduce_{_red}_{_inc}"] = _scatter_reduce_case(_red, _inc)
for _red in ("prod", "mean", "amax", "amin"):
    OPS[f"index_reduce_{_red}"] = _index_reduce_case(_red)


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(OPS))
def test_ops_vs_torch(name, torch_mod):
    fn, arrays = OPS[name]
    co, to = _run_both(fn, arrays, torch_mod)
    if to.grad_fn is not None:
        assert co.grad_fn.name() == to.grad_fn.name()


@pytest.mark.parametrize("name", sorted(OPS))
def test_ops_gradcheck(name):
    fn, arrays = OPS[name]
    check_grad(lambda *ts: fn(cr, *ts), *arrays)


SECOND_ORDER = ["index_select0", "gather0", "scatter_src", "scatter_add", "index_add",
                "index_copy", "masked_fill", "masked_select", "masked_scatter", "take",
                "index_put_acc", "scatter_reduce_mean_True", "scatter_reduce_amax_False",
                "scatter_reduce_prod_True", "scatter_reduce_prod_False", "index_reduce_prod",
                "put", "take_along_dim_bcast"]


@pytest.mark.torch
@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_order_vs_torch(name, torch_mod):
    fn, arrays = OPS[name]
    grads = []
    for L in (cr, torch_mod):
        ts = [L.tensor(a, requires_grad=True) for a in arrays]
        out = fn(L, *ts)
        y = (out ** 3).sum()
        gs = L.autograd.grad(y, ts, create_graph=True)
        z = sum((g * g).sum() for g in gs)
        z.backward()
        grads.append([t.grad.detach().numpy() if t.grad is not None else None for t in ts])
    for c, t in zip(*grads):
        np.testing.assert_allclose(c, t, rtol=1e-9, atol=1e-12)


# -- in-place variants --------------------------------------------------------------------
INPLACE = {
    "scatter_": lambda L, x, s: x.scatter_(0, _idx(L, [[0, 1, 2, 0]]), s[:1]),
    "scatter_add_": lambda L, x, s: x.scatter_add_(0, _idx(L, [[0, 0, 2, 0]]), s[:1]),
    "scatter_reduce_": lambda L, x, s: x.scatter_reduce_(0, _idx(L, [[0, 0, 2, 0]]), s[:1],
                                                         "amax"),
    "index_add_": lambda L, x, s: x.index_add_(0, _idx(L, [1, 1, 0]), s),
    "index_copy_": lambda L, x, s: x.index_copy_(0, _idx(L, [2, 1, 0]), s),
    "index_fill_": lambda L, x, s: x.index_fill_(1, _idx(L, [0]), 3.0),
    "masked_fill_": lambda L, x, s: x.masked_fill_(_mask(L, X34 > 0), -1.0),
    "masked_scatter_": lambda L, x, s: x.masked_scatter_(_mask(L, X34 < 0), s),
    "index_put_": lambda L, x, s: x.index_put_((_idx(L, [0, 0]),), s[:2], accumulate=True),
    "put_": lambda L, x, s: x.put_(_idx(L, [1, 2]), s[0, :2]),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_vs_torch(name, torch_mod):
    s = RNG.standard_normal((3, 4))

    def fn(L, x, src):
        y = x * 2
        out = INPLACE[name](L, y, src)
        assert out is y
        return y * x

    _run_both(fn, [X34, s], torch_mod)
    # without grad: writes into the same memory
    x = cr.tensor(X34.copy())
    before = x._data
    INPLACE[name](cr, x, cr.tensor(s))
    assert x._data is before


def test_inplace_leaf_error():
    x = cr.tensor(X34, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x.masked_fill_(cr.tensor(X34 > 0), 0.0)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x.index_add_(0, cr.tensor([0]), cr.ones(1, 4, dtype=cr.float64))


# -- no-gradient ops ------------------------------------------------------------------------
@pytest.mark.torch
def test_nonzero_where_unique_search_vs_torch(torch_mod):
    a = np.array([[0, 1, 0], [2, 0, 3]])
    for as_tuple in (False, True):
        c = cr.nonzero(cr.tensor(a), as_tuple=as_tuple)
        t = torch_mod.nonzero(torch_mod.tensor(a), as_tuple=as_tuple)
        if as_tuple:
            for ci, ti in zip(c, t):
                np.testing.assert_array_equal(ci.numpy(), ti.numpy())
        else:
            np.testing.assert_array_equal(c.numpy(), t.numpy())
            assert c.dtype == cr.int64
    for size, fill in [(2, -1), (6, -5)]:
        np.testing.assert_array_equal(
            cr.nonzero_static(cr.tensor(a), size=size, fill_value=fill).numpy(),
            torch_mod.nonzero_static(torch_mod.tensor(a), size=size, fill_value=fill).numpy())
    np.testing.assert_array_equal(cr.argwhere(cr.tensor(a)).numpy(),
                                  torch_mod.argwhere(torch_mod.tensor(a)).numpy())
    from chainrule.ops.indexing import where_condition

    for ci, ti in zip(where_condition(cr.tensor(a > 0)), torch_mod.where(torch_mod.tensor(a > 0))):
        np.testing.assert_array_equal(ci.numpy(), ti.numpy())
    u = np.array([3, 1, 3, 2, 1, 1])
    cu = cr.unique(cr.tensor(u), return_inverse=True, return_counts=True)
    tu = torch_mod.unique(torch_mod.tensor(u), return_inverse=True, return_counts=True)
    for ci, ti in zip(cu, tu):
        np.testing.assert_array_equal(ci.numpy(), ti.numpy())
    m = np.array([[1, 2], [1, 2], [0, 1]])
    for ci, ti in zip(cr.unique(cr.tensor(m), dim=0, return_inverse=True),
                      torch_mod.unique(torch_mod.tensor(m), dim=0, return_inverse=True)):
        np.testing.assert_array_equal(ci.numpy(), ti.numpy())
    for ci, ti in zip(cr.unique_consecutive(cr.tensor(u), return_counts=True),
                      torch_mod.unique_consecutive(torch_mod.tensor(u), return_counts=True)):
        np.testing.assert_array_equal(ci.numpy(), ti.numpy())
    seq = np.array([1.0, 3.0, 5.0, 7.0])
    vals = np.array([[0.0, 3.0, 6.0], [7.0, 8.0, 1.0]])
    for right in (False, True):
        np.testing.assert_array_equal(
            cr.searchsorted(cr.tensor(seq), cr.tensor(vals), right=right).numpy(),
            torch_mod.searchsorted(torch_mod.tensor(seq), torch_mod.tensor(vals),
                                   right=right).numpy())
        np.testing.assert_array_equal(
            cr.bucketize(cr.tensor(vals), cr.tensor(seq), right=right).numpy(),
            torch_mod.bucketize(torch_mod.tensor(vals), torch_mod.tensor(seq),
                                right=right).numpy())
    seq2 = np.array([[1.0, 2.0, 3.0], [0.0, 5.0, 9.0]])
    v2 = np.array([[2.5, 0.0], [5.0, 10.0]])
    np.testing.assert_array_equal(
        cr.searchsorted(cr.tensor(seq2), cr.tensor(v2), side="right").numpy(),
        torch_mod.searchsorted(torch_mod.tensor(seq2), torch_mod.tensor(v2),
                               side="right").numpy())
    assert cr.searchsorted(cr.tensor(seq), 4.0).item() == 2
    for args in [(3, 4, 1), (3, 3, -1), (4, 2, 0), (0, 3, 0)]:
        np.testing.assert_array_equal(cr.tril_indices(*args).numpy(),
                                      torch_mod.tril_indices(*args).numpy())
        np.testing.assert_array_equal(cr.triu_indices(*args).numpy(),
                                      torch_mod.triu_indices(*args).numpy())
    b = np.array([0, 3, 1, 1, 5])
    w = np.array([0.5, 1.0, 2.0, 3.0, 1.5], np.float32)
    for c, t in [(cr.bincount(cr.tensor(b)), torch_mod.bincount(torch_mod.tensor(b))),
                 (cr.bincount(cr.tensor(b), cr.tensor(w), minlength=8),
                  torch_mod.bincount(torch_mod.tensor(b), torch_mod.tensor(w), minlength=8)),
                 (cr.isin(cr.tensor(b), cr.tensor([1, 5])),
                  torch_mod.isin(torch_mod.tensor(b), torch_mod.tensor([1, 5]))),
                 (cr.isin(cr.tensor(b), 3, invert=True),
                  torch_mod.isin(torch_mod.tensor(b), 3, invert=True))]:
        np.testing.assert_array_equal(c.numpy(), t.numpy())
        assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]


# -- errors --------------------------------------------------------------------------------
_S64 = np.ones((3, 4))
BAD = {
    "index_arrays_shapes": (lambda L, x: x[_idx(L, [0, 1]), _idx(L, [0, 1, 2])], IndexError,
                            ("shape mismatch: indexing tensors could not be broadcast together "
                            "with shapes [2], [3]")),
    "scatter_dtype": (lambda L, x: x.float().scatter(0, _idx(L, [[0]]), L.tensor(_S64)),
                      RuntimeError, "scatter(): Expected self.dtype to be equal to src.dtype"),
    "scatter_add_dtype": (lambda L, x: x.float().scatter_add(0, _idx(L, [[0]]), L.tensor(_S64)),
                          RuntimeError, "scatter(): Expected self.dtype to be equal to src.dtype"),
    "index_add_dtype": (lambda L, x: x.float().index_add(0, _idx(L, [0, 1, 2]), L.tensor(_S64)),
                        RuntimeError, ("index_add_(): self (Float) and source (Double) must have "
                        "the same scalar type")),
    "index_copy_dtype": (lambda L, x: x.float().index_copy(0, _idx(L, [0, 1, 2]),
                                                           L.tensor(_S64)), RuntimeError,
                         ("index_copy_(): self and source expected to have the same dtype, but got "
                         "(self) Float and (source) Double")),
    "masked_scatter_dtype": (lambda L, x: x.float().masked_scatter(_mask(L, X34 > 0),
                                                                   L.tensor(_S64)), RuntimeError,
                             ("masked_scatter: expected self and source to have same dtypes but "
                             "gotFloat and Double")),
    "index_put_dtype": (lambda L, x: x.float().index_put((_idx(L, [0]),), L.tensor(_S64[0])),
                        RuntimeError, ("Index put requires the source and destination dtypes "
                        "match, got Float for the destination and Double for the source.")),
    "put_dtype": (lambda L, x: x.float().put(_idx(L, [0]), L.tensor(_S64[0, :1])), RuntimeError,
                  ("put_(): self and source expected to have the same dtype, but got self.dtype = "
                  "Float and source.dtype = Double")),
    "index_add_neg": (lambda L, x: x.index_add(0, _idx(L, [-1]), L.ones(1, 4, dtype=L.float64)),
                      RuntimeError, "index -1 is out of bounds for dimension 0 with size 3"),
    "index_copy_neg": (lambda L, x: x.index_copy(0, _idx(L, [-1]), L.ones(1, 4,
                                                                           dtype=L.float64)),
                       IndexError, ("index_copy_(): index -1 is out of bounds for dimension 0 "
                       "with size 3")),
    "scatter_neg": (lambda L, x: x.scatter(0, _idx(L, [[-1, 0]]), 5.0), RuntimeError,
                    "index -1 is out of bounds for dimension 0 with size 3"),
    "gather_neg": (lambda L, x: x.gather(1, _idx(L, [[0], [-2], [1]])), RuntimeError,
                   "index -2 is out of bounds for dimension 1 with size 4"),
    "select_oob": (lambda L, x: L.select(x, 0, 5), IndexError,
                   "select(): index 5 out of range for tensor of size [3, 4] at dimension 0"),
    "int_out_of_range": (lambda L, x: x[5], IndexError,
                         "index 5 is out of bounds for dimension 0 with size 3"),
    "neg_out_of_range": (lambda L, x: x[:, -5], IndexError,
                         "index -5 is out of bounds for dimension 1 with size 4"),
    "array_out_of_range": (lambda L, x: x[_idx(L, [0, 3])], IndexError,
                           "index 3 is out of bounds for dimension 0 with size 3"),
    "too_many": (lambda L, x: x[0, 0, 0], IndexError,
                 "too many indices for tensor of dimension 2"),
    "float_index": (lambda L, x: x[L.tensor([0.0])], IndexError,
                    "tensors used as indices must be long, int, byte or bool tensors"),
    "mask_shape": (lambda L, x: x[_mask(L, [True, False])], IndexError,
                   ("The shape of the mask [2] at index 0 does not match the shape of the "
                   "indexed tensor [3, 4] at index 0")),
    "mask_shape_after_int": (lambda L, x: x[0, _mask(L, [True, False])], IndexError,
                             ("The shape of the mask [2] at index 0 does not match the shape of "
                             "the indexed tensor [4] at index 0")),
    "mask_shape_2d": (lambda L, x: x[_mask(L, np.ones((3, 3), bool))], IndexError,
                      ("The shape of the mask [3, 3] at index 1 does not match the shape of the "
                      "indexed tensor [3, 4] at index 1")),
    "negative_step": (lambda L, x: x[::-1], ValueError, "step must be greater than zero"),
    "gather_dims": (lambda L, x: x.gather(0, _idx(L, [0, 1])), RuntimeError,
                    "Index tensor must have the same number of dimensions as input tensor"),
    "gather_oob": (lambda L, x: x.gather(0, _idx(L, [[5]])), RuntimeError,
                   "index 5 is out of bounds for dimension 0 with size 3"),
    "gather_dtype": (lambda L, x: x.gather(0, L.tensor([[0.0]])), RuntimeError,
                     "gather(): Expected dtype int32/int64 for index"),
    "index_select_2d": (lambda L, x: x.index_select(0, _idx(L, [[0]])), IndexError,
                        "index_select(): Index is supposed to be a vector"),
    "index_select_oob": (lambda L, x: x.index_select(1, _idx(L, [4])), RuntimeError,
                         "INDICES element is out of DATA bounds, id=4 axis_dim=4"),
    "index_select_neg": (lambda L, x: x.index_select(1, _idx(L, [0, -1])), RuntimeError,
                         "INDICES element is out of DATA bounds, id=-1 axis_dim=4"),
    "index_select_oob_dim0": (lambda L, x: x.index_select(0, _idx(L, [3])), IndexError,
                              "index out of range in self"),
    "masked_fill_float_mask": (lambda L, x: x.masked_fill(L.ones(3, 4), 0.0), RuntimeError,
                               ("masked_fill_ only supports boolean masks, but got mask with "
                               "dtype float")),
    "masked_fill_value_dim": (lambda L, x: x.masked_fill(_mask(L, [True] * 4), L.ones(2)),
                              RuntimeError, ("masked_fill_ only supports a 0-dimensional value "
                              "tensor, but got tensor with 1 dimension(s).")),
    "take_oob": (lambda L, x: x.take(_idx(L, [12])), IndexError,
                 "out of range: tried to access index 12 on a tensor of 12 elements."),
    "setitem_shape": (lambda L, x: x.__setitem__(slice(0, 2), L.ones(3, 4, dtype=L.float64)),
                      RuntimeError, ("The expanded size of the tensor (2) must match the existing "
                      "size (3) at non-singleton dimension 0.  Target sizes: [2, 4].  Tensor "
                      "sizes: [3, 4]")),
    "setitem_ndim": (lambda L, x: x.__setitem__(0, L.ones(2, 4, dtype=L.float64)),
                     RuntimeError, ("the number of sizes provided (1) must be greater or equal to "
                     "the number of dimensions in the tensor (2)")),
    "setitem_adv_shape": (lambda L, x: x.__setitem__(_idx(L, [0, 1]), L.ones(3, dtype=L.float64)),
                          RuntimeError, ("shape mismatch: value tensor of shape [3] cannot be "
                          "broadcast to indexing result of shape [2, 4]")),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_inputs_match_torch(name, torch_mod):
    fn, exc, msg = BAD[name]
    for L in (torch_mod, cr):
        x = L.tensor(X34)
        with pytest.raises(exc) as info:
            fn(L, x)
        assert msg in str(info.value), (L.__name__, str(info.value))


@pytest.mark.parametrize("name", sorted(OPS))
def test_float32_keeps_dtype(name):
    fn, arrays = OPS[name]
    ts = [cr.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    out = fn(cr, *ts)
    assert out.dtype == cr.float32
    out.sum().backward()
    for t in ts:
        assert t.grad is None or t.grad.dtype == cr.float32


FORWARD = ["index_select0", "gather0", "scatter_src", "scatter_add", "index_add", "index_copy",
           "masked_fill", "masked_select", "masked_scatter", "take", "index_put", "put",
           "scatter_reduce_amax_True", "scatter_reduce_prod_True", "scatter_reduce_mean_False",
           "select_scatter", "take_along_dim_bcast", "index_fill_tensor"]


@pytest.mark.torch
@pytest.mark.parametrize("name", FORWARD)
def test_jvp_vs_torch(name, torch_mod):
    """Forward mode (double-vjp here) needs every formula to be differentiable in g."""
    fn, arrays = OPS[name]
    tangents = [np.random.default_rng(7).standard_normal(a.shape) for a in arrays]
    res = []
    for L in (cr, torch_mod):
        ins = tuple(L.tensor(a) for a in arrays)
        vs = tuple(L.tensor(t) for t in tangents)
        _, jv = L.autograd.functional.jvp(lambda *ts, L=L: fn(L, *ts), ins, vs)
        res.append(jv.detach().numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dim", [0, 1])
def test_repeated_rows_of_a_large_table(dim):
    """The compact (np.unique) accumulation path, against np.add.at."""
    shape = (2000, 3) if dim == 0 else (3, 2000)
    w = cr.tensor(np.zeros(shape), requires_grad=True)
    idx = np.array([5, 1999, 5, 0, 5, -1])
    g = np.random.default_rng(3).standard_normal((6, 3) if dim == 0 else (3, 6))
    out = w[idx] if dim == 0 else w[:, idx]
    out.backward(cr.tensor(g))
    expected = np.zeros(shape)
    np.add.at(expected, idx if dim == 0 else (slice(None), idx), g)
    np.testing.assert_allclose(w.grad.numpy(), expected)
    w.grad = None
    w.index_select(dim, cr.tensor(idx % 2000)).backward(cr.tensor(g))
    np.testing.assert_allclose(w.grad.numpy(), expected)


def _random_key(L, rng, shape):
    """A random mix of ints, slices, None, Ellipsis, index tensors and masks."""
    key, d, used_ellipsis = [], 0, False
    for _ in range(rng.randrange(1, 4)):
        size = shape[d] if d < len(shape) else 1
        r = rng.random()
        if r < 0.2:
            item = rng.randrange(-size, size)
        elif r < 0.45:
            item = slice(rng.choice([None, rng.randrange(-size, size)]),
                         rng.choice([None, rng.randrange(-size, size + 2)]),
                         rng.choice([None, 1, 2, 3]))
        elif r < 0.55:
            item = None
        elif r < 0.75:
            item = _idx(L, [rng.randrange(-size, size) for _ in range(rng.randrange(0, 4))])
        elif r < 0.85:
            item = L.tensor([rng.random() < 0.5 for _ in range(size)])
        else:
            item = None if used_ellipsis else Ellipsis
            used_ellipsis = True
        key.append(item)
        if item is not None and item is not Ellipsis:
            d += 1
    return tuple(key)


@pytest.mark.torch
def test_getitem_random_keys_vs_torch(torch_mod):
    """Values, gradients, node names and errors for 300 random keys (ints are applied before
    index tensors, as PyTorch does, so NumPy's int-as-advanced-index rule never leaks)."""
    import random

    for seed in range(300):
        outs = []
        for L in (torch_mod, cr):
            key = _random_key(L, random.Random(seed), X345.shape)
            t = L.tensor(X345, requires_grad=True)
            try:
                y = t[key]
            except (IndexError, RuntimeError, ValueError) as e:
                outs.append((type(e), None, None, None))
                continue
            r = np.random.default_rng(1).standard_normal(tuple(y.shape))
            (y * L.tensor(r)).sum().backward()
            outs.append((None, y.detach().numpy(), t.grad.numpy(),
                         y.grad_fn.name().split("::")[-1]))
        (et, yt, gt, nt), (ec, yc, gc, nc) = outs
        assert et == ec, (seed, et, ec)
        if et is None:
            assert yt.shape == yc.shape, seed
            np.testing.assert_allclose(yc, yt)
            np.testing.assert_allclose(gc, gt)
            assert nc == nt, (seed, nc, nt)


@pytest.mark.torch
def test_setitem_random_keys_vs_torch(torch_mod):
    """x[key] = v for 150 random keys: values and gradients to x and v match PyTorch."""
    import random

    for seed in range(150):
        outs = []
        for L in (torch_mod, cr):
            key = _random_key(L, random.Random(seed), X345.shape)
            key = tuple(_idx(L, np.unique(k.numpy() % 4)[:1]) if hasattr(k, "dtype") and
                        k.dtype == L.int64 else k for k in key)  # no repeats: order-free
            t = L.tensor(X345, requires_grad=True)
            y = t * 1
            try:
                shape = tuple(y[key].shape)
            except (IndexError, RuntimeError, ValueError) as e:
                outs.append((type(e),))
                continue
            v = L.tensor(np.random.default_rng(2).standard_normal(shape), requires_grad=True)
            y[key] = v * 2
            r = np.random.default_rng(1).standard_normal(X345.shape)
            (y * y * L.tensor(r)).sum().backward()
            outs.append((None, y.detach().numpy(), t.grad.numpy(), v.grad.numpy()))
        assert outs[0][0] == outs[1][0], seed
        for a, b in zip(outs[0][1:], outs[1][1:]):
            np.testing.assert_allclose(b, a)
