"""The COO sparse layer (chainrule/sparse.py) against PyTorch: construction, printing,
coalesce, indices/values, to_sparse, sparse.mm / @ / mm, sparse.sum, and the gradients that
reach the values, the dense operand and a sparse leaf."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

IDX = [[0, 1, 1, 0, 2], [2, 0, 2, 2, 1]]  # (0, 2) appears twice: uncoalesced
VALS = [3.0, 4.0, -5.0, 1.5, 2.0]


def _np(t):
    return np.asarray(t.detach().numpy())


def _both(fn):
    return fn(torch), fn(cr)


def _coo(lib, requires_grad=False, size=(3, 3), values=VALS):
    v = lib.tensor(values, dtype=lib.float64, requires_grad=requires_grad)
    return lib.sparse_coo_tensor(IDX, v, size), v


def test_construction_and_to_dense_match_torch():
    (ts, _), (cs, _) = _both(_coo)
    assert cs.is_sparse and not cr.ones(2).is_sparse
    assert cs.layout == cr.sparse_coo and str(cs.layout) == str(ts.layout)
    assert tuple(cs.shape) == tuple(ts.shape) and cs.dtype == cr.float64
    assert (cs.sparse_dim(), cs.dense_dim(), cs._nnz()) == \
        (ts.sparse_dim(), ts.dense_dim(), ts._nnz())
    assert cs.is_coalesced() is ts.is_coalesced() is False
    d = cs.to_dense()
    assert not d.is_sparse and type(d) is cr.Tensor
    np.testing.assert_array_equal(_np(d), _np(ts.to_dense()))
    np.testing.assert_array_equal(_np(cs._indices()), _np(ts._indices()))
    np.testing.assert_array_equal(_np(cs._values()), _np(ts._values()))
    # the size is inferred, lists and dtype= are accepted, hybrid values keep dense dims
    t2, c2 = _both(lambda lib: lib.sparse_coo_tensor(IDX, [1, 2, 3, 4, 5]))
    assert tuple(c2.shape) == tuple(t2.shape) and c2.dtype == cr.int64
    t3, c3 = _both(lambda lib: lib.sparse_coo_tensor(IDX, np.arange(10.).reshape(5, 2),
                                                     dtype=lib.float32))
    assert tuple(c3.shape) == tuple(t3.shape) == (3, 3, 2) and c3.dense_dim() == 1
    np.testing.assert_array_equal(_np(c3.to_dense()), _np(t3.to_dense()))


@pytest.mark.parametrize("make", [
    lambda lib: lib.sparse_coo_tensor(IDX, lib.tensor(VALS, dtype=lib.float64,
                                                      requires_grad=True), (3, 4)),
    lambda lib: lib.sparse_coo_tensor(IDX, VALS),
    lambda lib: lib.sparse_coo_tensor(IDX, [1, 2, 3, 4, 5], requires_grad=False),
    lambda lib: lib.sparse_coo_tensor(IDX, VALS, (3, 3), requires_grad=True),
    lambda lib: lib.tensor([[0., 2.], [3., 0.]]).to_sparse(),
    lambda lib: lib.sparse_coo_tensor([[0, 1]], [[1., 2.], [3., 4.]]),
])
def test_repr_matches_torch(make):
    t, c = _both(make)
    assert repr(c) == repr(t)


def test_coalesce_indices_values_match_torch():
    (ts, _), (cs, _) = _both(_coo)
    tc, cc = ts.coalesce(), cs.coalesce()
    assert cc.is_coalesced() and cc._nnz() == tc._nnz() == 4
    np.testing.assert_array_equal(_np(cc.indices()), _np(tc.indices()))
    np.testing.assert_array_equal(_np(cc.values()), _np(tc.values()))
    assert cc.coalesce() is cc
    for lib, s in ((torch, ts), (cr, cs)):
        with pytest.raises(RuntimeError, match="Cannot get indices on an uncoalesced tensor"):
            s.indices()
        with pytest.raises(RuntimeError, match="Cannot get values on an uncoalesced tensor"):
            s.values()
    # entries that cancel stay in the pattern, as in PyTorch
    tz, cz = _both(lambda lib: lib.sparse_coo_tensor([[0, 0, 1]], [1., -1., 2.]).coalesce())
    assert cz._nnz() == tz._nnz() == 2


def test_dense_tensors_answer_like_torch():
    for name, msg in (("indices", "indices expected sparse coordinate tensor layout"),
                      ("values", "values expected sparse tensor layout"),
                      ("coalesce", "coalesce expected sparse coordinate tensor layout"),
                      ("is_coalesced", "is_coalesced expected sparse coordinate tensor")):
        for lib in (torch, cr):
            with pytest.raises(RuntimeError, match=msg):
                getattr(lib.ones(2, 2), name)()
    for name in ("_nnz", "_indices", "_values"):
        for lib in (torch, cr):
            with pytest.raises(NotImplementedError, match=f"aten::{name}"):
                getattr(lib.ones(2, 2), name)()
    t, c = _both(lambda lib: lib.ones(2, 3))
    assert (c.sparse_dim(), c.dense_dim()) == (t.sparse_dim(), t.dense_dim())
    assert c.to_dense() is c


def test_construction_errors_like_torch():
    def both(fn, match):
        for lib in (torch, cr):
            with pytest.raises(RuntimeError, match=match):
                fn(lib)

    both(lambda lib: lib.sparse_coo_tensor(IDX[0], VALS), r"indices must be sparse_dim x nnz")
    both(lambda lib: lib.sparse_coo_tensor(IDX, VALS[:3]),
         "indices and values must have same nnz, but got nnz from indices: 5, nnz from "
         "values: 3")
    both(lambda lib: lib.sparse_coo_tensor(IDX, VALS, (3, 3, 4)),
         r"len\(size\) = 3, sparse_dim = 2, dense_dim = 0")
    # PyTorch checks bounds only when asked; the dense storage here always checks
    with pytest.raises(RuntimeError, match="size is inconsistent with indices: for dim 0, "
                                           "size is 2 but found index 2"):
        torch.sparse_coo_tensor(IDX, VALS, (2, 3), check_invariants=True)
    with pytest.raises(RuntimeError, match="size is inconsistent with indices: for dim 0, "
                                           "size is 2 but found index 2"):
        cr.sparse_coo_tensor(IDX, VALS, (2, 3))


@pytest.mark.parametrize("sparse_dim", [None, 1])
def test_to_sparse_matches_torch_with_gradient(sparse_dim):
    a = np.array([[0., 2., 0.], [0., 0., 0.], [3., 0., -1.]])
    res = {}
    for lib in (torch, cr):
        x = lib.tensor(a, requires_grad=True)
        s = x.to_sparse() if sparse_dim is None else x.to_sparse(sparse_dim)
        out = lib.sparse.sum(s) if sparse_dim == 1 else lib.sparse.mm(s, lib.tensor(a + 1.0))
        (out * 1.5).sum().backward()
        res[lib] = (s, x.grad)
    (ts, tg), (cs, cg) = res[torch], res[cr]
    assert cs.is_coalesced() and cs.sparse_dim() == ts.sparse_dim()
    np.testing.assert_array_equal(_np(cs.indices()), _np(ts.indices()))
    np.testing.assert_array_equal(_np(cs.values()), _np(ts.values()))
    np.testing.assert_allclose(_np(cg), _np(tg.to_dense()), rtol=1e-12)


@pytest.mark.parametrize("how", ["sparse.mm", "@", "mm", "matmul"])
def test_products_match_torch_with_value_and_dense_gradients(how):
    rng = np.random.default_rng(0)
    d_np, w_np = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    res = {}
    for lib in (torch, cr):
        s, v = _coo(lib, requires_grad=True)
        d = lib.tensor(d_np, requires_grad=True)
        if how == "sparse.mm":
            out = lib.sparse.mm(s, d)
        elif how == "@":
            out = s @ d
        else:
            out = getattr(lib, how)(s, d)
        assert not out.is_sparse
        (out * lib.tensor(w_np)).sum().backward()
        res[lib] = (out, v.grad, d.grad)
    for c, t in zip(res[cr], res[torch]):
        np.testing.assert_allclose(_np(c), _np(t), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("how", ["sparse.mm", "@"])
def test_gradient_of_a_sparse_leaf_matches_torch(how):
    """sparse.mm hands PyTorch's sparse leaf a gradient on its pattern only, ``@`` a dense
    one; here both are dense tensors, compared with PyTorch's densified."""
    d_np = np.random.default_rng(1).standard_normal((3, 2))
    grads = {}
    for lib in (torch, cr):
        s = lib.sparse_coo_tensor(IDX, lib.tensor(VALS, dtype=lib.float64), (3, 3),
                                  requires_grad=True)
        assert s.is_leaf and s.requires_grad
        d = lib.tensor(d_np)
        out = lib.sparse.mm(s, d) if how == "sparse.mm" else s @ d
        out.pow(2).sum().backward()
        grads[lib] = s.grad
    tg = grads[torch].to_dense() if grads[torch].is_sparse else grads[torch]
    np.testing.assert_allclose(_np(grads[cr]), _np(tg), rtol=1e-12)


def test_sparse_times_sparse_is_sparse_like_torch():
    t, c = _both(lambda lib: lib.sparse.mm(_coo(lib)[0], lib.eye(3, dtype=lib.float64)
                                           .to_sparse()))
    assert c.is_sparse and t.is_sparse
    np.testing.assert_allclose(_np(c.to_dense()), _np(t.to_dense()))


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1), -1])
def test_sparse_sum_matches_torch_with_gradient(dim):
    w = np.array([0.5, -1.0, 2.0])
    res = {}
    for lib in (torch, cr):
        s, v = _coo(lib, requires_grad=True)
        out = lib.sparse.sum(s) if dim is None else lib.sparse.sum(s, dim=dim)
        dense = out.to_dense() if out.is_sparse else out
        res[lib] = (out, dense)
        (dense * lib.tensor(w[:dense.numel()]).reshape(dense.shape)).sum().backward()
        res[lib] += (v.grad,)
    (to, td, tg), (co, cd, cg) = res[torch], res[cr]
    assert co.is_sparse == to.is_sparse
    if to.is_sparse:
        np.testing.assert_array_equal(_np(co.indices()), _np(to.indices()))
        np.testing.assert_allclose(_np(co.values()), _np(to.values()))
    np.testing.assert_allclose(_np(cd), _np(td), rtol=1e-12)
    np.testing.assert_allclose(_np(cg), _np(tg), rtol=1e-12)


def test_gradient_through_coalesced_values_matches_torch():
    w = np.array([1.0, -2.0, 3.0, 0.5])
    grads = {}
    for lib in (torch, cr):
        s, v = _coo(lib, requires_grad=True)
        (s.coalesce().values() * lib.tensor(w, dtype=lib.float64)).sum().backward()
        grads[lib] = v.grad
    np.testing.assert_allclose(_np(grads[cr]), _np(grads[torch]))


def test_detach_and_requires_grad_keep_the_layout():
    s, _ = _coo(cr, requires_grad=True)
    d = s.detach()
    assert d.is_sparse and not d.requires_grad and d._nnz() == 5
    assert s.requires_grad and not s.is_leaf
