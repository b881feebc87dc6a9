"""Reductions (ops/reduction.py): one table drives values, gradients, central differences and
second-order gradients against PyTorch; edge cases and errors follow."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from conftest import check_grad

# --------------------------------------------------------------------------------------
# Shared driver (the shape tests import it too)
# --------------------------------------------------------------------------------------
def _distinct(shape, rng):
    """Values far apart from each other (no ties: argmax, sort, median are well defined)."""
    n = int(np.prod(shape))
    v = (rng.permutation(n) - n / 2) * 0.37 + rng.uniform(-0.05, 0.05, n)
    return v.reshape(shape)


def make_inputs(specs, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for s in specs:
        if isinstance(s, np.ndarray):
            out.append(s.astype(np.float64))
        elif isinstance(s, tuple) and len(s) == 2 and s[0] == "pos":
            out.append(rng.uniform(0.5, 2.0, s[1]))
        else:
            out.append(_distinct(s, rng))
    return out


def outputs(r):
    """The tensors an op returned, as a flat list."""
    if isinstance(r, (tuple, list)):
        res = []
        for t in r:
            res += outputs(t)
        return res
    return [r]


def _float_outs(outs):
    return [o for o in outs if o.is_floating_point()]


def _weights(outs, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(tuple(o.shape)) for o in outs]


def _loss(lib, outs, ws, square=False):
    total = 0
    for o, w in zip(outs, ws):
        o = o * o if square else o
        total = total + (o * lib.tensor(w, dtype=o.dtype)).sum()
    return total


def _np(t):
    return t.detach().numpy() if t is not None else None


def run_case(fn, arrays, second_order=True, numeric=True, rtol=1e-6, atol=1e-8):
    """Compare ``fn(lib, *tensors)`` between chainrule and torch: values, grads, second order."""
    import torch

    res = {}
    for name, lib in (("cr", cr), ("torch", torch)):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        outs = outputs(fn(lib, *ts))
        res[name] = (lib, ts, outs)
    (_, cts, couts), (_, tts, touts) = res["cr"], res["torch"]
    assert len(couts) == len(touts)
    for c, t in zip(couts, touts):
        assert tuple(c.shape) == tuple(t.shape)
        assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(_np(c), _np(t), rtol=rtol, atol=atol, equal_nan=True)
    cf, tf = _float_outs(couts), _float_outs(touts)
    cf = [o for o in cf if o.requires_grad]
    tf = [o for o in tf if o.requires_grad]
    assert len(cf) == len(tf)
    if not tf:
        return
    ws = _weights(tf)
    # first order
    cg = cr.autograd.grad(_loss(cr, cf, ws), cts, allow_unused=True)
    tg = torch.autograd.grad(_loss(torch, tf, ws), tts, allow_unused=True)
    for a, b, x in zip(cg, tg, arrays):
        a = np.zeros_like(x) if a is None else _np(a)
        b = np.zeros_like(x) if b is None else _np(b)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    if numeric:
        def scalar(*ts):
            return _loss(cr, _float_outs(outputs(fn(cr, *ts))), ws)

        check_grad(scalar, *arrays)
    if second_order:
        vs = [np.random.default_rng(2).standard_normal(x.shape) for x in arrays]
        grads = {}
        for name, lib in (("cr", cr), ("torch", torch)):
            ts = [lib.tensor(a, requires_grad=True) for a in arrays]
            outs = [o for o in _float_outs(outputs(fn(lib, *ts))) if o.requires_grad]
            g1 = lib.autograd.grad(_loss(lib, outs, ws, square=True), ts, create_graph=True,
                                   allow_unused=True)
            s = 0
            for g, v in zip(g1, vs):
                if g is not None:
                    s = s + (g * lib.tensor(v)).sum()
            if isinstance(s, int) or not s.requires_grad:
                grads[name] = [np.zeros_like(x) for x in arrays]
                continue
            g2 = lib.autograd.grad(s, ts, allow_unused=True)
            grads[name] = [np.zeros_like(x) if g is None else _np(g) for g, x in zip(g2, arrays)]
        for a, b in zip(grads["cr"], grads["torch"]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def check_error(fn, exc, msg):
    import torch

    with pytest.raises(exc) as ei:
        fn(cr)
    assert msg in str(ei.value)
    with pytest.raises(exc) as et:  # the same input fails the same way in PyTorch
        fn(torch)
    assert msg in str(et.value)


# --------------------------------------------------------------------------------------
# The table: (id, fn(lib, *tensors), input specs, second order?)
# --------------------------------------------------------------------------------------
def _pos(T, x):
    """Bool mask x > 0 (built from NumPy: comparisons belong to another op family)."""
    return T.tensor(x.detach().numpy() > 0)


A = (3, 4)
B = (2, 3, 4)
ZEROS1 = np.array([[1.5, 0.0, 3.0], [0.5, 2.0, -1.0]])
ZEROS2 = np.array([[0.0, 2.0, 0.0], [0.0, 1.5, 3.0], [-1.0, 2.0, 0.5]])
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0]])

CASES = [
    ("sum", lambda T, x: T.sum(x, (0, -1), keepdim=True), [B], True),
    ("mean", lambda T, x: x.mean(-2), [B], True),
    ("prod_all", lambda T, x: T.prod(x), [("pos", A)], True),
    ("prod_dim", lambda T, x: x.prod(-1, keepdim=True), [B], True),
    ("prod_one_zero", lambda T, x: x.prod(), [ZEROS1], True),
    ("prod_dim_zeros", lambda T, x: x.prod(1), [ZEROS2], True),
    ("prod_dim0_zeros", lambda T, x: x.prod(0), [ZEROS2], True),
    ("max_all", lambda T, x: x.max(), [A], True),
    ("min_all", lambda T, x: T.min(x), [A], True),
    ("max_dim", lambda T, x: T.max(x, 1), [B], True),
    ("max_dim_keep", lambda T, x: x.max(dim=-1, keepdim=True), [B], True),
    ("min_dim", lambda T, x: x.min(0), [A], True),
    ("max_dim_values", lambda T, x: x.max(1).values * 2, [A], True),
    ("max_ties", lambda T, x: x.max(), [TIES], False),
    ("max_dim_ties", lambda T, x: x.max(1), [TIES], False),
    ("min_dim_ties", lambda T, x: x.min(1), [TIES], False),
    ("amax", lambda T, x: T.amax(x, (0, 2)), [B], True),
    ("amin", lambda T, x: x.amin(-1, keepdim=True), [B], True),
    ("amax_all", lambda T, x: x.amax(), [A], True),
    ("amax_ties", lambda T, x: x.amax(1), [TIES], False),
    ("amin_ties", lambda T, x: x.amin(), [TIES], False),
    ("aminmax", lambda T, x: T.aminmax(x), [A], True),
    ("aminmax_dim", lambda T, x: T.aminmax(x, dim=1, keepdim=True), [A], True),
    ("aminmax_ties", lambda T, x: T.aminmax(x, dim=1), [TIES], False),
    ("aminmax_min_only", lambda T, x: T.aminmax(x, dim=0).min, [A], True),
    ("argmax", lambda T, x: (T.argmax(x), x.argmax(1), x.argmax(-1, keepdim=True)), [B], False),
    ("argmin", lambda T, x: (T.argmin(x, 0), x.argmin(), x.argmin(keepdim=True)), [B], False),
    ("var", lambda T, x: x.var(), [A], True),
    ("var_dim", lambda T, x: T.var(x, 1, keepdim=True), [B], True),
    ("var_correction", lambda T, x: x.var((0, 2), correction=0), [B], True),
    ("var_unbiased_false", lambda T, x: x.var(False), [A], True),
    ("var_positional", lambda T, x: x.var(1, True, True), [A], True),
    ("var_size1_dim", lambda T, x: x.var(1), [(3, 1)], False),
    ("std_mean_size1_dim", lambda T, x: T.std_mean(x, 1), [(3, 1)], False),
    ("std", lambda T, x: x.std(), [A], True),
    ("std_dim", lambda T, x: T.std(x, -1, correction=2), [B], True),
    ("std_unbiased", lambda T, x: x.std(0, unbiased=False), [A], True),
    ("var_mean", lambda T, x: T.var_mean(x, 1), [A], True),
    ("var_mean_all", lambda T, x: T.var_mean(x, correction=0), [A], True),
    ("std_mean", lambda T, x: T.std_mean(x, (0, 1), keepdim=True), [B], True),
    ("std_mean_std_only", lambda T, x: T.std_mean(x, 0)[0], [A], True),
    ("std_mean_mean_only", lambda T, x: T.std_mean(x, 0)[1], [A], True),
    ("norm", lambda T, x: x.norm(), [A], True),
    ("norm_fro_dim", lambda T, x: T.norm(x, "fro", dim=(0, 1)), [B], True),
    ("norm_p1", lambda T, x: x.norm(1), [A], True),
    ("norm_p1_dim", lambda T, x: x.norm(1, dim=-1, keepdim=True), [B], True),
    ("norm_p2_dim", lambda T, x: x.norm(2, 1), [B], True),
    ("norm_inf", lambda T, x: x.norm(float("inf")), [A], True),
    ("norm_inf_dim", lambda T, x: x.norm(float("inf"), dim=0), [A], True),
    ("norm_ninf", lambda T, x: x.norm(float("-inf"), dim=1), [A], True),
    ("norm_p3", lambda T, x: x.norm(3, dim=1), [A], True),
    ("norm_p05", lambda T, x: x.norm(0.5), [A], True),
    ("norm_p0", lambda T, x: x.norm(0), [A], False),
    ("logsumexp", lambda T, x: T.logsumexp(x, 1), [B], True),
    ("logsumexp_dims", lambda T, x: x.logsumexp((0, -1), keepdim=True), [B], True),
    ("logsumexp_big", lambda T, x: T.logsumexp(x * 300, 0), [A], True),
    ("cumsum", lambda T, x: T.cumsum(x, 1), [B], True),
    ("cumsum_neg", lambda T, x: x.cumsum(-1), [A], True),
    ("cumprod", lambda T, x: T.cumprod(x, 1), [A], True),
    ("logcumsumexp", lambda T, x: T.logcumsumexp(x, 1), [B], True),
    ("logcumsumexp_big", lambda T, x: (x * 400).logcumsumexp(-1), [A], True),
    ("logcumsumexp_0d", lambda T, x: x.sum().logcumsumexp(0), [A], True),
    ("cummax", lambda T, x: x.cummax(1), [B], True),
    ("cummin", lambda T, x: T.cummin(x, 0), [A], True),
    ("cummax_ties", lambda T, x: T.cummax(x, -1), [TIES], "no-numeric"),
    ("cummin_ties", lambda T, x: x.cummin(1), [np.array([[1.0, 3.0, 3.0, 2.0],
                                                         [4.0, 1.0, 1.0, 0.0]])], "no-numeric"),
    ("cummax_nan", lambda T, x: (x * T.tensor([1.0, 1.0, float("nan"), 1.0],
                                              dtype=x.dtype)).cummax(0),
     [np.array([1.0, 3.0, 2.0, 5.0])], False),
    ("cummax_0d", lambda T, x: x.sum().cummax(0), [A], True),
    ("cummax_empty", lambda T, x: x[:0].cummax(0), [A], False),
    ("cumsum_inplace", lambda T, x: (x * 1).cumsum_(0), [A], True),
    ("cumprod_inplace", lambda T, x: (x * 1).cumprod_(-1), [A], True),
    ("cumprod_zeros", lambda T, x: x.cumprod(1), [ZEROS2], False),
    ("cumprod_zeros_dim0", lambda T, x: x.cumprod(0), [ZEROS2], False),
    ("all_any", lambda T, x: (T.all(_pos(T, x)), x.any(1), _pos(T, x).all(1, keepdim=True),
                              T.any(_pos(T, x - 100)), T.all(x)), [A], False),
    ("count_nonzero", lambda T, x: (T.count_nonzero(x * _pos(T, x)),
                                    x.count_nonzero(1)), [A], False),
    ("median_all", lambda T, x: x.median(), [A], True),
    ("median_even", lambda T, x: T.median(x), [(2, 4)], True),
    ("median_dim", lambda T, x: x.median(1), [B], True),
    ("median_dim_keep", lambda T, x: T.median(x, -1, keepdim=True), [A], True),
    ("median_ties", lambda T, x: x.median(), [np.array([1.0, 2.0, 2.0, 2.0, 3.0, 0.0])], False),
    ("median_even_ties", lambda T, x: x.median(), [np.array([1.0, 2.0, 2.0, 3.0])], True),
    # ties are kinks: second order vs torch, but no central differences
    ("max_ties_2nd", lambda T, x: x.max() * x.sum(), [TIES], "no-numeric"),
    ("amax_ties_2nd", lambda T, x: x.amax(1) * x.sum(1), [TIES], "no-numeric"),
    ("norm_inf_ties_dim", lambda T, x: x.norm(float("inf"), dim=1), [TIES], "no-numeric"),
    ("std_zero_row", lambda T, x: x.std(1), [np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]])],
     False),
    ("cumprod_zeros_2nd", lambda T, x: x.cumprod(1), [ZEROS2], "no-numeric"),
    ("prod_two_zeros_2nd", lambda T, x: x.prod(), [np.array([0.0, 2.0, 0.0, 3.0])],
     "no-numeric"),
    ("nanmedian", lambda T, x: x.nanmedian(), [A], True),
    ("nansum", lambda T, x: T.nansum(x, 1), [A], True),
    ("nanmean", lambda T, x: T.nanmean(x, 0), [A], True),
    ("nansum_nan", lambda T, x: (x * T.tensor([[1.0, float("nan"), 1.0]])).nansum(),
     [np.array([[1.0, 2.0, 3.0]])], False),
    ("nanmean_nan", lambda T, x: (x * T.tensor([[1.0, float("nan"), 1.0]])).nanmean(1),
     [np.array([[1.0, 2.0, 3.0]])], False),
    ("mode", lambda T, x: x.mode(1), [np.array([[1.0, 2.0, 2.0, 2.0, 3.0, 0.0],
                                                [5.0, 5.0, 1.0, 1.0, 3.0, 3.0],
                                                [3.0, 1.0, 3.0, 1.0, 2.0, 2.0]])], False),
    ("mode_keep", lambda T, x: T.mode(x, 0, keepdim=True),
     [np.array([[1.0, 2.0], [1.0, 3.0], [4.0, 3.0]])], False),
    ("topk", lambda T, x: x.topk(2), [B], True),
    ("topk_smallest", lambda T, x: T.topk(x, 2, dim=0, largest=False), [A], True),
    ("sort", lambda T, x: x.sort(), [B], True),
    ("sort_desc", lambda T, x: T.sort(x, 0, descending=True), [A], True),
    ("sort_stable_ties", lambda T, x: T.sort(x, dim=1, stable=True), [TIES], False),
    ("sort_desc_ties", lambda T, x: x.sort(dim=1, descending=True, stable=True), [TIES], False),
    ("argsort", lambda T, x: (T.argsort(x, 1), x.argsort(descending=True)), [A], False),
    ("msort", lambda T, x: T.msort(x), [A], True),
    ("topk_partition", lambda T, x: x.topk(3), [(3, 10)], True),
    ("topk_partition_small", lambda T, x: T.topk(x, 2, 0, largest=False), [(9, 2)], True),
    ("kthvalue", lambda T, x: x.kthvalue(2, 1), [B], True),
    ("kthvalue_keep", lambda T, x: T.kthvalue(x, 3, 0, keepdim=True), [A], True),
    ("sort_values_only", lambda T, x: x.sort(0).values.cumsum(0), [A], True),
    # 0-d inputs
    ("max_0d", lambda T, x: x.sum().max(0), [A], True),
    ("sort_0d", lambda T, x: x.sum().sort(), [A], True),
    ("cumsum_0d", lambda T, x: x.sum().cumsum(0), [A], True),
    ("median_0d", lambda T, x: (x.sum().median(), x.sum().median(0)), [A], True),
    ("topk_0d", lambda T, x: x.sum().topk(1), [A], True),
    ("norm_0d", lambda T, x: x.sum().norm(), [A], True),
    # empty inputs
    ("sum_empty", lambda T, x: x[:0].sum(0), [A], False),
    ("prod_empty", lambda T, x: x[:0].prod(), [A], False),
    ("max_empty_other_dim", lambda T, x: x[:0].max(1), [A], False),
    ("amax_empty_other_dim", lambda T, x: x[:0].amax(1), [A], False),
    ("logsumexp_empty", lambda T, x: T.logsumexp(x[:0], 0), [A], False),
    ("sort_empty", lambda T, x: x[:0].sort(0), [A], False),
]


@pytest.mark.torch
@pytest.mark.parametrize("name,fn,specs,second", CASES, ids=[c[0] for c in CASES])
def test_reduction_table(name, fn, specs, second):
    arrays = make_inputs(specs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_case(fn, arrays, second_order=bool(second), numeric=second is True)


# --------------------------------------------------------------------------------------
# Node names
# --------------------------------------------------------------------------------------
NAMES = [
    (lambda x: x.prod(), "ProdBackward0"), (lambda x: x.prod(1), "ProdBackward1"),
    (lambda x: x.max(), "MaxBackward1"), (lambda x: x.max(1)[0], "MaxBackward0"),
    (lambda x: x.min(), "MinBackward1"), (lambda x: x.min(1)[0], "MinBackward0"),
    (lambda x: x.amax(1), "AmaxBackward0"), (lambda x: x.amin(), "AminBackward0"),
    (lambda x: x.var(1), "VarBackward0"), (lambda x: x.std(), "StdBackward0"),
    (lambda x: cr.var_mean(x)[0], "VarMeanBackward0"),
    (lambda x: cr.std_mean(x)[1], "StdMeanBackward0"),
    (lambda x: x.norm(), "LinalgVectorNormBackward0"),
    (lambda x: x.logsumexp(1), "LogsumexpBackward0"), (lambda x: x.cumsum(1), "CumsumBackward0"),
    (lambda x: x.cumprod(1), "CumprodBackward0"),
    (lambda x: x.cummax(1)[0], "CummaxBackward0"),
    (lambda x: x.logcumsumexp(1), "LogcumsumexpBackward0"), (lambda x: x.cummin(0)[0], "CumminBackward0"), (lambda x: x.median(), "MedianBackward0"),
    (lambda x: x.median(1)[0], "MedianBackward1"), (lambda x: x.nanmean(), "DivBackward0"),
    (lambda x: x.nansum(), "NansumBackward0"), (lambda x: x.mode(1)[0], "ModeBackward0"),
    (lambda x: x.topk(2)[0], "TopkBackward0"), (lambda x: x.sort()[0], "SortBackward0"),
    (lambda x: x.kthvalue(2)[0], "KthvalueBackward0"),
    (lambda x: cr.aminmax(x)[0], "AminmaxBackward0"), (lambda x: cr.msort(x), "SortBackward0"),
]


@pytest.mark.parametrize("fn,name", NAMES, ids=[n[1] + str(i) for i, n in enumerate(NAMES)])
def test_node_names(fn, name):
    x = cr.tensor(make_inputs([A])[0], requires_grad=True)
    assert fn(x).grad_fn.name() == name


# --------------------------------------------------------------------------------------
# Edge cases
# --------------------------------------------------------------------------------------
def test_return_type_fields():
    x = cr.tensor(make_inputs([A])[0])
    r = x.max(1)
    values, indices = r
    assert r.values is values and r.indices is indices and r[0] is values
    np.testing.assert_array_equal(indices.numpy(), np.argmax(x.numpy(), 1))
    mn, mx = cr.aminmax(x)
    assert cr.aminmax(x).min.item() == mn.item() == x.numpy().min()
    assert "values=" in repr(r)


def test_logsumexp_all_neg_inf_gives_zero_grad():
    x = cr.tensor([[-np.inf, -np.inf, -np.inf], [0.0, 1.0, -np.inf]], requires_grad=True)
    out = cr.logsumexp(x, 1)
    assert out[0].item() == -np.inf
    out.sum().backward()
    g = x.grad.numpy()
    assert np.isfinite(g).all()
    np.testing.assert_array_equal(g[0], 0.0)
    np.testing.assert_allclose(g[1], np.r_[np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum(), 0])


def test_logsumexp_stable_for_large_inputs():
    x = cr.tensor([1000.0, 1000.0], dtype=cr.float64, requires_grad=True)
    out = cr.logsumexp(x, 0)
    np.testing.assert_allclose(out.item(), 1000 + np.log(2))
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.5])


@pytest.mark.torch
@pytest.mark.parametrize("vals", [[1.0, 0.0, 3.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0],
                                  [2.0, 0.0, 3.0, 0.0, 5.0]])
def test_prod_and_cumprod_with_zeros(vals):
    import torch

    for op in (lambda T, x: x.prod(), lambda T, x: x.cumprod(0)):
        run_case(op, [np.array(vals)], second_order=False, numeric=False)


@pytest.mark.torch
def test_norm_and_std_at_zero_have_zero_grad():
    z = np.zeros((2, 3))
    for fn in (lambda T, x: x.norm(), lambda T, x: x.norm(3, dim=1), lambda T, x: x.std(),
               lambda T, x: x.norm(0.5), lambda T, x: T.std_mean(x, 1)):
        run_case(fn, [z], second_order=False, numeric=False)


@pytest.mark.torch
def test_norm_inf_ties_share():
    run_case(lambda T, x: x.norm(float("inf")), [np.array([3.0, -3.0, 1.0])],
             second_order=False, numeric=False)


def test_topk_unsorted_selects_the_same_set():
    x = cr.tensor(make_inputs([(4, 12)])[0])
    v, i = x.topk(3, sorted=False)
    ref = np.sort(x.numpy(), 1)[:, -3:]
    np.testing.assert_array_equal(np.sort(v.numpy(), 1), ref)
    np.testing.assert_array_equal(np.take_along_axis(x.numpy(), i.numpy(), 1), v.numpy())


F32_OPS = [lambda x: x.prod(1), lambda x: x.max(), lambda x: x.max(1)[0], lambda x: x.var(1),
           lambda x: x.std(), lambda x: cr.std_mean(x, 0)[0], lambda x: x.norm(),
           lambda x: x.norm(3, 1), lambda x: x.norm(float("inf")), lambda x: x.logsumexp(1),
           lambda x: x.cumprod(1), lambda x: x.cumsum(0), lambda x: x.sort(1)[0],
           lambda x: x.median(), lambda x: x.amax(0), lambda x: x.nanmean(),
           lambda x: cr.aminmax(x)[1]]


@pytest.mark.parametrize("fn", F32_OPS, ids=[f"f32_{i}" for i in range(len(F32_OPS))])
def test_float32_gradients_stay_float32(fn):
    x = cr.tensor(make_inputs([A])[0], dtype=cr.float32, requires_grad=True)
    h = x * 1.0  # a non-leaf: its gradient is seen before AccumulateGrad casts anything
    seen = []
    h.register_hook(lambda g: seen.append(g.dtype))
    out = fn(h)
    assert out.dtype == cr.float32
    out.sum().backward()
    assert seen == [cr.float32]


def test_median_is_lower_median():
    x = cr.tensor([4.0, 1.0, 3.0, 2.0])
    assert x.median().item() == 2.0
    v, i = x.median(0)
    assert v.item() == 2.0 and i.item() == 3


@pytest.mark.torch
def test_nan_propagation_matches_torch():
    import torch

    data = [[1.0, float("nan"), 2.0], [3.0, 1.0, 2.0]]
    for fn in (lambda T, x: x.max(), lambda T, x: x.max(1), lambda T, x: x.median(1),
               lambda T, x: x.median(), lambda T, x: x.nanmedian(), lambda T, x: x.sort(1),
               lambda T, x: x.nanmedian(1), lambda T, x: x.topk(2, 1), lambda T, x: x.cummax(1),
               lambda T, x: x.nansum(1), lambda T, x: x.nanmean(), lambda T, x: x.amax(),
               lambda T, x: x.argmax(1), lambda T, x: x.amin(1)):
        c, t = outputs(fn(cr, cr.tensor(data))), outputs(fn(torch, torch.tensor(data)))
        for a, b in zip(c, t):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_integer_inputs():
    x = cr.tensor([[3, 1, 2], [0, 5, 4]])
    assert x.prod().dtype == cr.int64 and x.prod().item() == 0
    assert x.cumsum(1).dtype == cr.int64
    assert x.max().item() == 5 and x.max(1).values.dtype == cr.int64
    assert x.sort(1).values.tolist() == [[1, 2, 3], [0, 4, 5]]
    assert cr.tensor([True, False]).cumprod(0).dtype == cr.int64
    assert x.all().dtype == cr.bool and not x.all().item()
    assert cr.tensor([1, 2], dtype=cr.uint8).any().dtype == cr.uint8
    assert cr.logsumexp(x, 1).dtype == cr.float32


def test_keepdims_axis_spelling():
    x = cr.tensor(make_inputs([B])[0])
    np.testing.assert_allclose(x.prod(axis=1, keepdims=True).numpy(),
                               np.prod(x.numpy(), axis=1, keepdims=True))
    np.testing.assert_allclose(x.amax(axis=(0, 2)).numpy(), np.max(x.numpy(), axis=(0, 2)))


def test_var_warns_without_degrees_of_freedom():
    with pytest.warns(UserWarning, match="degrees of freedom"):
        out = cr.tensor([1.0]).var()
    assert np.isnan(out.item())


def test_max_with_other_tensor_is_elementwise():
    if not hasattr(cr, "maximum"):
        pytest.skip("chainrule.maximum (elementwise family) not available yet")
    a, b = cr.tensor([1.0, 5.0]), cr.tensor([3.0, 2.0])
    assert cr.max(a, b).tolist() == [3.0, 5.0]
    assert cr.min(a, b).tolist() == [1.0, 2.0]


def test_plain_backward_reuses_no_graph():
    x = cr.tensor(make_inputs([A])[0], requires_grad=True)
    with cr.no_grad():
        assert x.sort(1).values.grad_fn is None and x.max().grad_fn is None


# --------------------------------------------------------------------------------------
# Bad inputs: PyTorch's exception type and message
# --------------------------------------------------------------------------------------
X = np.arange(12.0).reshape(3, 4)
E = np.zeros((0, 3))
ERRORS = [
    (lambda T: T.tensor(X).max(2), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    (lambda T: T.tensor(X).sum(-3), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got -3)"),
    (lambda T: T.tensor(X).cumsum(2), IndexError, "Dimension out of range"),
    (lambda T: T.tensor(3.0).max(1), IndexError,
     "Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
    (lambda T: T.tensor(E).max(), RuntimeError,
     "max(): Expected reduction dim to be specified for input.numel() == 0."),
    (lambda T: T.tensor(E).max(0), IndexError,
     "max(): Expected reduction dim 0 to have non-zero size."),
    (lambda T: T.tensor(E).amax(), RuntimeError, "amax(): Expected reduction dim to be specified"),
    (lambda T: T.tensor(E).argmax(), IndexError, "argmax(): Expected reduction dim"),
    (lambda T: T.tensor(E).mode(0), IndexError,
     "mode(): Expected reduction dim 0 to have non-zero size."),
    (lambda T: T.aminmax(T.tensor(E)), RuntimeError, "cannot compute aminmax over an empty"),
    (lambda T: T.tensor(X).topk(5), RuntimeError, "selected index k out of range"),
    (lambda T: T.tensor(X).kthvalue(5), RuntimeError,
     "kthvalue(): selected number k out of range for dimension 1"),
    (lambda T: T.tensor(X).kthvalue(0), RuntimeError, "selected number k out of range"),
    (lambda T: T.tensor([1, 2]).var(), RuntimeError,
     "std and var only support floating point and complex dtypes"),
    (lambda T: T.tensor([1, 2]).std(), RuntimeError, "std and var only support floating point"),
    (lambda T: T.tensor([1, 2]).nanmean(), RuntimeError,
     "nanmean(): expected input to have floating point or complex dtype but got Long"),
    (lambda T: T.tensor(X).prod((0, 1)), TypeError, "prod() received an invalid combination"),
    (lambda T: T.tensor(E).norm(float("inf")), RuntimeError,
     "cannot compute the inf norm on an empty tensor"),
    (lambda T: T.tensor(X).norm("abc"), RuntimeError, "Order abc not supported."),
    (lambda T: T.tensor(X).sum((0, 0)), RuntimeError, "appears multiple times in the list of dims"),
]


@pytest.mark.torch
@pytest.mark.parametrize("fn,exc,msg", ERRORS, ids=[f"err{i}" for i in range(len(ERRORS))])
def test_errors(fn, exc, msg):
    check_error(fn, exc, msg)


def test_docstring_examples():
    import doctest

    from chainrule.ops import reduction, shape

    for mod in (reduction, shape):
        res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert res.attempted > 0 and res.failed == 0
