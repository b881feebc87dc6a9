"""Elementwise ops (ops/elementwise.py): one table of ops drives values, gradients, central
differences and second-order gradients against PyTorch; random broadcastable shapes for the
binary and ternary ops; special gradient values, dtypes, in-place versions and errors follow."""
from typing import Callable, NamedTuple

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import chainrule as cr
from conftest import check_grad

try:
    import torch
except ImportError:  # pragma: no cover - `make test` installs torch
    torch = None


# --------------------------------------------------------------------------------------
# Input domains: functions (rng, shape) -> float64 array, kept away from kinks and poles
# --------------------------------------------------------------------------------------
def U(lo, hi):
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def NZ(lo, hi):
    """+-[lo, hi]: away from 0 (abs, sign, reciprocal, copysign)."""
    return lambda rng, shape: rng.choice([-1.0, 1.0], shape) * rng.uniform(lo, hi, shape)


def FRAC(lo, hi):
    """k + [0.1, 0.9] for integers k in [lo, hi): away from the jumps of floor, round, ..."""
    return lambda rng, shape: rng.integers(lo, hi, shape) + rng.uniform(0.1, 0.9, shape)


class Case(NamedTuple):
    name: str
    fn: Callable    # chainrule, on Tensors
    tfn: Callable   # torch, on Tensors
    domains: tuple  # one per input
    rtol: float = 1e-12  # float64 values and gradients vs torch
    rtol2: float = 1e-10  # second-order gradients vs torch


def _t(name, *args, **kwargs):
    """torch.<name> with extra arguments, resolved when called (torch may be absent)."""
    return lambda *xs: getattr(torch, name)(*xs, *args, **kwargs)


def _c(name, *args, **kwargs):
    return lambda *xs: getattr(cr, name)(*xs, *args, **kwargs)


def unary(name, dom, rtol=1e-12, rtol2=1e-10):
    return Case(name, _c(name), _t(name), (dom,), rtol, rtol2)


UNARY = [
    unary("abs", NZ(0.1, 2)), unary("sign", NZ(0.1, 2)), unary("sgn", NZ(0.1, 2)),
    unary("neg", U(-2, 2)), unary("exp", U(-2, 2)), unary("exp2", U(-2, 2)),
    unary("expm1", U(-2, 2)), unary("log", U(0.1, 3)), unary("log2", U(0.1, 3)),
    unary("log10", U(0.1, 3)), unary("log1p", U(-0.5, 3)), unary("sqrt", U(0.1, 3)),
    unary("rsqrt", U(0.1, 3)), unary("square", U(-2, 2)), unary("sin", U(-3, 3)),
    unary("cos", U(-3, 3)), unary("tan", U(-1.2, 1.2)), unary("asin", U(-0.9, 0.9)),
    unary("acos", U(-0.9, 0.9)), unary("atan", U(-2, 2)), unary("sinh", U(-2, 2)),
    unary("cosh", U(-2, 2)), unary("tanh", U(-2, 2)), unary("asinh", U(-2, 2)),
    unary("acosh", U(1.1, 3)), unary("atanh", U(-0.9, 0.9)), unary("sigmoid", U(-3, 3)),
    unary("relu", NZ(0.1, 2)), unary("logit", U(0.05, 0.95)),
    Case("logit_eps", _c("logit", eps=0.2), _t("logit", eps=0.2), (U(0.05, 0.95),)),
    unary("erf", U(-2.5, 2.5), 1e-13), unary("erfc", U(-2.5, 2.5), 1e-13),
    # torch's trigamma (lgamma's second and digamma's first derivative) is good to ~1e-9
    unary("erfinv", U(-0.9, 0.9), 1e-13), unary("lgamma", U(0.1, 5), 1e-13, 1e-8),
    Case("lgamma_neg", cr.lgamma, _t("lgamma"), (FRAC(-4, -1),), 1e-12, 1e-8),
    unary("digamma", U(0.1, 5), 1e-8, 1e-8),
    Case("digamma_neg", cr.digamma, _t("digamma"), (FRAC(-4, -1),), 1e-8, 1e-8),
    Case("polygamma1", lambda x: cr.polygamma(1, x), lambda x: torch.polygamma(1, x),
         (U(0.1, 5),), 1e-8, 1e-8),
    Case("polygamma2", lambda x: cr.polygamma(2, x), lambda x: torch.polygamma(2, x),
         (U(0.1, 5),), 1e-12),
    unary("reciprocal", NZ(0.2, 2)), unary("floor", FRAC(-3, 3)), unary("ceil", FRAC(-3, 3)),
    unary("round", FRAC(-3, 3)), unary("trunc", FRAC(-3, 3)), unary("fix", FRAC(-3, 3)),
    unary("frac", FRAC(-3, 3)),
    Case("round_dec", _c("round", decimals=1), _t("round", decimals=1), (U(-3, 3),)),
    Case("clamp", _c("clamp", -0.5, 0.7), _t("clamp", -0.5, 0.7), (U(-1.5, 1.5),)),
    Case("clamp_min", _c("clamp_min", 0.3), _t("clamp_min", 0.3), (U(-1, 1),)),
    Case("clamp_max", _c("clamp_max", 0.3), _t("clamp_max", 0.3), (U(-1, 1),)),
    Case("clip", _c("clip", max=0.3), _t("clip", max=0.3), (U(-1, 1),)),
    unary("nan_to_num", U(-2, 2)),
    Case("where_scalar", lambda x: cr.where(x > 0, x, 0.5), lambda x: torch.where(x > 0, x, 0.5),
         (U(-2, 2),)),
]

BINARY = [
    Case("add", cr.add, _t("add"), (U(-2, 2), U(-2, 2))),
    Case("add_alpha", _c("add", alpha=2.5), _t("add", alpha=2.5), (U(-2, 2), U(-2, 2))),
    Case("sub", cr.sub, _t("sub"), (U(-2, 2), U(-2, 2))),
    Case("mul", cr.mul, _t("mul"), (U(-2, 2), U(-2, 2))),
    Case("div", cr.div, _t("div"), (U(-2, 2), NZ(0.5, 2))),
    Case("div_trunc", _c("div", rounding_mode="trunc"), _t("div", rounding_mode="trunc"),
         (U(-3, 3), NZ(0.5, 2))),
    Case("div_floor", _c("div", rounding_mode="floor"), _t("div", rounding_mode="floor"),
         (U(-3, 3), NZ(0.5, 2))),
    Case("pow", cr.pow, _t("pow"), (U(0.5, 2), U(-2, 2))),
    Case("float_power", cr.float_power, _t("float_power"), (U(0.5, 2), U(-2, 2))),
    Case("remainder", cr.remainder, _t("remainder"), (U(-3, 3), NZ(0.5, 2))),
    Case("fmod", cr.fmod, _t("fmod"), (U(-3, 3), NZ(0.5, 2))),
    Case("atan2", cr.atan2, _t("atan2"), (U(-2, 2), U(-2, 2))),
    Case("arctan2", cr.arctan2, _t("arctan2"), (U(-2, 2), U(-2, 2))),
    Case("maximum", cr.maximum, _t("maximum"), (U(-2, 2), U(-2, 2))),
    Case("minimum", cr.minimum, _t("minimum"), (U(-2, 2), U(-2, 2))),
    Case("fmax", cr.fmax, _t("fmax"), (U(-2, 2), U(-2, 2))),
    Case("fmin", cr.fmin, _t("fmin"), (U(-2, 2), U(-2, 2))),
    Case("hypot", cr.hypot, _t("hypot"), (NZ(0.1, 2), NZ(0.1, 2))),
    Case("logaddexp", cr.logaddexp, _t("logaddexp"), (U(-3, 3), U(-3, 3))),
    Case("logaddexp2", cr.logaddexp2, _t("logaddexp2"), (U(-3, 3), U(-3, 3))),
    Case("xlogy", cr.xlogy, _t("xlogy"), (U(-2, 2), U(0.1, 3))),
    Case("copysign", cr.copysign, _t("copysign"), (NZ(0.1, 2), NZ(0.1, 2))),
    Case("clamp_min_t", cr.clamp_min, _t("clamp_min"), (U(-1, 1), U(-1, 1))),
    Case("clamp_max_t", cr.clamp_max, _t("clamp_max"), (U(-1, 1), U(-1, 1))),
    Case("lerp_w", _c("lerp", weight=0.3), lambda a, b: torch.lerp(a, b, 0.3),
         (U(-2, 2), U(-2, 2))),
    Case("lerp_w_big", lambda a, b: cr.lerp(a, b, 0.8), lambda a, b: torch.lerp(a, b, 0.8),
         (U(-2, 2), U(-2, 2))),
]

TERNARY = [
    Case("where", lambda c, a, b: cr.where(c > 0, a, b),
         lambda c, a, b: torch.where(c > 0, a, b), (U(-1, 1), U(-2, 2), U(-2, 2))),
    Case("lerp", cr.lerp, _t("lerp"), (U(-2, 2), U(-2, 2), U(-1, 2))),
    Case("addcmul", _c("addcmul", value=0.5), _t("addcmul", value=0.5),
         (U(-2, 2), U(-2, 2), U(-2, 2))),
    Case("addcdiv", _c("addcdiv", value=-1.5), _t("addcdiv", value=-1.5),
         (U(-2, 2), U(-2, 2), NZ(0.5, 2))),
    Case("clamp_t", cr.clamp, _t("clamp"), (U(-2, 2), U(-1.5, 0), U(0, 1.5))),
    Case("clamp_t_crossed", cr.clamp, _t("clamp"), (U(-2, 2), U(0.5, 1.5), U(-1.5, 0.5))),
]

ALL = UNARY + BINARY + TERNARY
SHAPES = {1: [(3, 4)], 2: [(2, 3), (3,)], 3: [(2, 1, 3), (3,), (2, 1, 1)]}
ids = [c.name for c in ALL]


def inputs(case, seed=0, shapes=None):
    rng = np.random.default_rng(seed)
    shapes = shapes or SHAPES[len(case.domains)]
    return [d(rng, s) for d, s in zip(case.domains, shapes)]


def to_torch(arrays, requires_grad=False, dtype=None):
    return [torch.tensor(a, dtype=dtype or torch.float64, requires_grad=requires_grad)
            for a in arrays]


def to_cr(arrays, requires_grad=False, dtype=None):
    return [cr.tensor(a, dtype=dtype or cr.float64, requires_grad=requires_grad)
            for a in arrays]


def close(c, t, rtol, atol=1e-14):
    t = t.detach().numpy(force=True)
    c = c.detach().numpy() if isinstance(c, cr.Tensor) else np.asarray(c)
    assert c.shape == t.shape
    np.testing.assert_allclose(c, t, rtol=rtol, atol=atol, equal_nan=True)


def grads_vs_torch(case, arrays, create_graph=False):
    """First (and with create_graph second) order gradients of sum(f(x) * w) vs torch."""
    xc, xt = to_cr(arrays, True), to_torch(arrays, True)
    oc, ot = case.fn(*xc), case.tfn(*xt)
    w = np.random.default_rng(1).standard_normal(tuple(ot.shape))
    lc = (oc * cr.tensor(w)).sum()
    lt = (ot * torch.tensor(w)).sum()
    gc = cr.autograd.grad(lc, xc, create_graph=create_graph, allow_unused=True)
    gt = torch.autograd.grad(lt, xt, create_graph=create_graph, allow_unused=True)
    for a, b in zip(gc, gt):
        if b is None:
            assert a is None or not a.numpy(force=True).any()
            continue
        close(a, b, case.rtol)
    if not create_graph:
        return
    # second order: d/dx of sum(grad * v), v fixed
    v = [np.random.default_rng(2 + i).standard_normal(a.shape) for i, a in enumerate(arrays)]
    sc = sum((g * cr.tensor(vi)).sum() for g, vi in zip(gc, v) if g is not None and
             g.requires_grad)
    st_ = sum((g * torch.tensor(vi)).sum() for g, vi in zip(gt, v) if g is not None and
              g.requires_grad)
    if not isinstance(st_, torch.Tensor):  # a linear op: torch's gradient is constant
        assert not isinstance(sc, cr.Tensor) or not sc.requires_grad or \
            all(g is None or not g.numpy(force=True).any()
                for g in cr.autograd.grad(sc, xc, allow_unused=True))
        return
    hc = cr.autograd.grad(sc, xc, allow_unused=True) if isinstance(sc, cr.Tensor) and \
        sc.requires_grad else [None] * len(xc)
    ht = torch.autograd.grad(st_, xt, allow_unused=True)
    for a, b in zip(hc, ht):
        if b is None:
            assert a is None or not a.numpy().any()
        elif a is None:
            np.testing.assert_allclose(b.numpy(), 0, atol=1e-12)
        else:
            close(a, b, case.rtol2, atol=1e-10)


# --------------------------------------------------------------------------------------
# The table: values, gradients, central differences, second order
# --------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("case", ALL, ids=ids)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_values_vs_torch(case, dtype):
    arrays = inputs(case)
    oc = case.fn(*to_cr(arrays, dtype=getattr(cr, dtype)))
    ot = case.tfn(*to_torch(arrays, dtype=getattr(torch, dtype)))
    assert str(oc.dtype).split(".")[-1] == str(ot.dtype).split(".")[-1]
    close(oc, ot, case.rtol if dtype == "float64" else 2e-6, 1e-14 if dtype == "float64" else 1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("case", ALL, ids=ids)
def test_grads_vs_torch(case):
    grads_vs_torch(case, inputs(case))


@pytest.mark.parametrize("case", ALL, ids=ids)
def test_check_grad(case):
    # (the piecewise ops, round_dec, remainder, ..., are smooth around the seed's points)
    arrays = inputs(case)
    if case.name == "where":  # the condition's input gets no gradient
        c = cr.tensor(arrays[0])
        check_grad(lambda a, b: case.fn(c, a, b), *arrays[1:])
    else:
        check_grad(case.fn, *arrays)


@pytest.mark.torch
@pytest.mark.parametrize("case", ALL, ids=ids)
def test_second_order_vs_torch(case):
    grads_vs_torch(case, inputs(case, seed=3), create_graph=True)


# --------------------------------------------------------------------------------------
# Random broadcastable shapes (hypothesis)
# --------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("case", BINARY + TERNARY, ids=[c.name for c in BINARY + TERNARY])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_broadcasting_vs_torch(case, data):
    n = len(case.domains)
    shapes = data.draw(mutually_broadcastable_shapes(num_shapes=n, max_dims=3, max_side=3))
    seed = data.draw(st.integers(0, 2**16))
    if case.name.startswith("clamp_t"):  # torch's own backward fails when x broadcasts
        assume(shapes.input_shapes[0] == shapes.result_shape)
    arrays = inputs(case, seed, shapes.input_shapes)
    close(case.fn(*to_cr(arrays)), case.tfn(*to_torch(arrays)), case.rtol)
    grads_vs_torch(case, arrays)


# --------------------------------------------------------------------------------------
# Gradient values PyTorch defines specially
# --------------------------------------------------------------------------------------
def _grad(fn, *values):
    xs = [cr.tensor(v, dtype=cr.float64, requires_grad=True) for v in values]
    fn(*xs).sum().backward()
    return [x.grad.numpy() for x in xs]


def test_abs_gradient_at_zero_is_zero():
    np.testing.assert_array_equal(_grad(cr.abs, [-1.0, 0.0, 2.0])[0], [-1, 0, 1])


def test_sqrt_gradient_at_zero_is_inf():
    assert _grad(cr.sqrt, [0.0, 4.0])[0].tolist() == [np.inf, 0.25]


def test_clamp_gradient_passes_at_the_boundary():
    g = _grad(lambda x: cr.clamp(x, -1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0])[0]
    np.testing.assert_array_equal(g, [0, 1, 1, 1, 0])
    g, lo, hi = _grad(cr.clamp, [-2.0, -1.0, 1.0, 2.0], [-1.0] * 4, [1.0] * 4)
    np.testing.assert_array_equal(g, [0, 1, 1, 0])
    np.testing.assert_array_equal(lo, [1, 0, 0, 0])
    np.testing.assert_array_equal(hi, [0, 0, 0, 1])


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_max_min_ties_split_the_gradient(op):
    ga, gb = _grad(getattr(cr, op), [1.0, 2.0, 3.0], [1.0, 0.0, 5.0])
    big = op == "maximum"
    np.testing.assert_array_equal(ga, [0.5, 1 if big else 0, 0 if big else 1])
    np.testing.assert_array_equal(gb, [0.5, 0 if big else 1, 1 if big else 0])


@pytest.mark.torch
def test_special_gradients_vs_torch():
    nan, inf = float("nan"), float("inf")
    cases = [("abs", [0.0, -0.0, nan]), ("sqrt", [0.0]), ("relu", [0.0]), ("rsqrt", [0.0]),
             ("log", [0.0]), ("asin", [1.0, -1.0]), ("atanh", [1.0]), ("logit", [0.0, 1.5]),
             ("nan_to_num", [nan, inf, -inf, 1.0]), ("sign", [nan, 0.0]),
             ("reciprocal", [0.0]), ("erfinv", [1.0, 0.0]), ("lgamma", [-1.0, 0.0])]
    for name, values in cases:
        xc = cr.tensor(values, dtype=cr.float64, requires_grad=True)
        xt = torch.tensor(values, dtype=torch.float64, requires_grad=True)
        getattr(cr, name)(xc).sum().backward()
        getattr(torch, name)(xt).sum().backward()
        close(xc.grad, xt.grad, 1e-12)
    for op in ("maximum", "minimum", "fmax", "fmin", "hypot", "atan2", "copysign", "xlogy"):
        a, b = [1.0, 0.0, nan, 2.0, 0.0], [1.0, 0.0, 1.0, nan, 0.5]
        ac, bc = (cr.tensor(v, dtype=cr.float64, requires_grad=True) for v in (a, b))
        at, bt = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
        getattr(cr, op)(ac, bc).sum().backward()
        getattr(torch, op)(at, bt).sum().backward()
        close(ac.grad, at.grad, 1e-12)
        close(bc.grad, bt.grad, 1e-12)


def test_where_gradient_only_reaches_the_chosen_branch():
    c = cr.tensor([True, False, True])
    ga, gb = _grad(lambda a, b: cr.where(c, a, b), [1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(ga, [1, 0, 1])
    np.testing.assert_array_equal(gb, [0, 1, 0])
    x = cr.tensor([-1.0, 4.0], requires_grad=True)
    cr.where(x > 0, x * 3, cr.zeros(2)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 3])


@pytest.mark.torch
def test_floor_divide_has_no_derivative_like_torch():
    x = cr.tensor([3.0, 5.0], requires_grad=True)
    y = cr.floor_divide(x, 2.0)
    assert y.requires_grad and y.grad_fn.name() == "torch::autograd::NotImplemented"
    with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not implemented"):
        y.sum().backward()
    close(cr.floor_divide(cr.tensor([7.0, -7.0]), cr.tensor([2.0, 2.0])),
          torch.floor_divide(torch.tensor([7.0, -7.0]), torch.tensor([2.0, 2.0])), 0)


# --------------------------------------------------------------------------------------
# Node names
# --------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("case", ALL, ids=ids)
def test_node_names_match_torch(case):
    arrays = inputs(case)
    oc, ot = case.fn(*to_cr(arrays, True)), case.tfn(*to_torch(arrays, True))
    assert oc.grad_fn.name() == ot.grad_fn.name()


# --------------------------------------------------------------------------------------
# Special functions over wide ranges (the vectorized kernels, not the small-array path)
# --------------------------------------------------------------------------------------
SPECIAL_INPUTS = {
    "erf": np.concatenate([np.linspace(-7, 7, 3001), np.geomspace(1e-300, 1, 300)]),
    "erfc": np.concatenate([np.linspace(-7, 26, 3001), np.geomspace(1e-300, 1, 300)]),
    "erfinv": np.concatenate([np.linspace(-0.999, 0.999, 3001), -np.geomspace(1e-300, 1e-3, 300),
                              1 - np.geomspace(1e-12, 1e-3, 100)]),
    "lgamma": np.concatenate([np.linspace(-20.5, 60, 3001), np.geomspace(1e-300, 1e6, 300),
                              np.linspace(0.9, 2.1, 300)]),
    "digamma": np.concatenate([np.linspace(-20.5, 60, 3001), np.geomspace(1e-300, 1e6, 300)]),
}
SPECIAL_EDGES = [0.0, -0.0, 1.0, 2.0, -1.0, -3.0, float("inf"), -float("inf"), float("nan")]


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(SPECIAL_INPUTS))
def test_special_functions_vs_torch_wide_range(name):
    x = np.concatenate([SPECIAL_INPUTS[name], SPECIAL_EDGES])
    ours = getattr(cr, name)(cr.tensor(x)).numpy()
    ref = getattr(torch, name)(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_array_equal(ours[np.isinf(ref)], ref[np.isinf(ref)])
    fin = np.isfinite(ref)
    # relative accuracy, except near the zeros of lgamma/digamma (absolute there)
    np.testing.assert_allclose(ours[fin], ref[fin], rtol=1e-13, atol=4e-15)
    # small arrays (the element-by-element path) agree with the vectorized kernels
    small = getattr(cr, name)(cr.tensor(x[::37])).numpy()
    np.testing.assert_allclose(small, ours[::37], rtol=1e-14, atol=4e-15, equal_nan=True)


@pytest.mark.torch
@pytest.mark.parametrize("n", [1, 2, 3])
def test_polygamma_vs_torch_wide_range(n):
    x = np.concatenate([np.linspace(-9.5, 40, 2001), np.geomspace(1e-3, 1e4, 200)])
    x = x[x != np.round(x)]
    ours = cr.polygamma(n, cr.tensor(x)).numpy()
    ref = torch.polygamma(n, torch.tensor(x)).numpy()
    # torch's trigamma (n = 1) is accurate to ~1e-9; higher orders agree to ~1e-12
    np.testing.assert_allclose(ours, ref, rtol=5e-9 if n == 1 else 1e-11)


def test_special_functions_keep_float32():
    x = cr.linspace(0.1, 0.9, 600)
    for name in ("erf", "erfc", "erfinv", "lgamma", "digamma"):
        out = getattr(cr, name)(x)
        assert out.dtype == cr.float32
        ref = getattr(cr, name)(x.double()).numpy().astype(np.float32)
        np.testing.assert_array_equal(out.numpy(), ref)


# --------------------------------------------------------------------------------------
# dtypes
# --------------------------------------------------------------------------------------
FLOAT_FNS = ["exp2", "expm1", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan",
             "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "logit", "erf",
             "erfc", "erfinv", "lgamma", "digamma", "reciprocal", "sigmoid"]
SAME_FNS = ["abs", "sign", "sgn", "square", "floor", "ceil", "round", "trunc", "nan_to_num",
            "neg"]


@pytest.mark.torch
@pytest.mark.parametrize("name", FLOAT_FNS + SAME_FNS)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float16"])
def test_unary_result_dtypes_vs_torch(name, dtype):
    vals = [0, 1, 2] if dtype != "bool" else [True, False, True]
    try:
        ref = getattr(torch, name)(torch.tensor(vals, dtype=getattr(torch, dtype)))
    except (RuntimeError, NotImplementedError) as e:
        with pytest.raises(type(e)):
            getattr(cr, name)(cr.tensor(vals, dtype=getattr(cr, dtype)))
        return
    ours = getattr(cr, name)(cr.tensor(vals, dtype=getattr(cr, dtype)))
    assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.numpy().astype(np.float64),
                               ref.numpy().astype(np.float64), rtol=2e-3, equal_nan=True)


OPERANDS = {
    "i64": lambda lib: lib.tensor([3, -4, 5]), "i32": lambda lib: lib.tensor([2, 3, -2],
                                                                             dtype=lib.int32),
    "f32": lambda lib: lib.tensor([1.5, -2.0, 3.0]), "f64": lambda lib: lib.tensor(
        [0.5, 2.5, -1.0], dtype=lib.float64),
    "f16": lambda lib: lib.tensor([1.5, -2.0, 3.0], dtype=lib.float16),
    "b": lambda lib: lib.tensor([True, False, True]), "0d": lambda lib: lib.tensor(2.5,
                                                                                 dtype=lib.float64),
    "int": lambda lib: 2, "float": lambda lib: 2.5,
}
PAIRS = [("i64", "i32"), ("i64", "f32"), ("f32", "f64"), ("f16", "f32"), ("i64", "int"),
         ("i64", "float"), ("f32", "int"), ("b", "i64"), ("f32", "0d"), ("i64", "0d"),
         ("int", "f32")]
BINARY_FNS = ["floor_divide", "remainder", "fmod", "atan2", "maximum", "minimum", "fmax", "fmin",
              "xlogy", "copysign", "float_power", "eq", "ne", "lt", "le", "gt", "ge",
              "logical_and", "logical_xor", "bitwise_and", "bitwise_or", "logaddexp", "hypot"]


@pytest.mark.torch
@pytest.mark.parametrize("name", BINARY_FNS)
@pytest.mark.parametrize("pair", PAIRS, ids=["-".join(p) for p in PAIRS])
def test_binary_result_dtypes_vs_torch(name, pair):
    """PyTorch's promotion, compared with torch wherever torch accepts the operands
    (chainrule also takes numbers where torch insists on tensors: atan2(x, 2.0))."""
    ta, tb = (OPERANDS[k](torch) for k in pair)
    try:
        ref = getattr(torch, name)(ta, tb)
    except (TypeError, RuntimeError, NotImplementedError) as e:
        if isinstance(e, TypeError) or "not implemented for 'Long'" in str(e):
            return  # torch wants tensors / has no integer kernel; chainrule is more lenient
        with pytest.raises(type(e)):
            getattr(cr, name)(*(OPERANDS[k](cr) for k in pair))
        return
    ours = getattr(cr, name)(*(OPERANDS[k](cr) for k in pair))
    assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.numpy().astype(np.float64),
                               ref.numpy().astype(np.float64), rtol=1e-3, equal_nan=True)


def test_comparisons_give_bool_without_graph():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for r in (x == 2, x != 2, x < 2, x <= 2, x > 2, x >= 2, cr.isnan(x), cr.isclose(x, x),
              cr.logical_and(x, x), cr.signbit(x), cr.greater(x, 1), cr.less_equal(x, 1)):
        assert r.dtype == cr.bool and not r.requires_grad
    assert hash(x) == hash(x) and {x: 1}[x] == 1  # __eq__ keeps Tensors hashable


@pytest.mark.torch
def test_comparison_operators_vs_torch():
    a, b = [1.0, 2.0, float("nan")], [1.0, 3.0, float("nan")]
    ac, bc, at, bt = cr.tensor(a), cr.tensor(b), torch.tensor(a), torch.tensor(b)
    for op in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
        close(getattr(ac, op)(bc), getattr(at, op)(bt), 0)
        close(getattr(ac, op)(2), getattr(at, op)(2), 0)
    assert (ac == None) is False and (ac == "a") is False  # noqa: E711
    with pytest.raises(TypeError):
        ac < None  # noqa: B015
    close(np.array([1.0, 5.0, 0.0]) > ac, torch.tensor([1.0, 5.0, 0.0]) > at, 0)
    ia, ib = cr.tensor([6, -3, 5]), cr.tensor([3, 2, -2])
    ta, tb = torch.tensor([6, -3, 5]), torch.tensor([3, 2, -2])
    for op in ("__and__", "__or__", "__xor__", "__floordiv__", "__mod__"):
        close(getattr(ia, op)(ib), getattr(ta, op)(tb), 0)
        close(getattr(ia, op)(3), getattr(ta, op)(3), 0)
    for op in ("__rand__", "__ror__", "__rxor__", "__rfloordiv__", "__rmod__"):
        close(getattr(ia, op)(7), getattr(ta, op)(7), 0)
    close(~ia, ~ta, 0)
    close(~cr.tensor([True, False]), ~torch.tensor([True, False]), 0)
    close(abs(cr.tensor([-1.5, 2.0])), abs(torch.tensor([-1.5, 2.0])), 0)
    close(7.5 // cr.tensor([2.0, -2.0]), 7.5 // torch.tensor([2.0, -2.0]), 0)
    close(7.5 % cr.tensor([2.0, -2.0]), 7.5 % torch.tensor([2.0, -2.0]), 0)


@pytest.mark.torch
def test_isclose_allclose_equal_vs_torch():
    a = [1.0, 1.0 + 1e-9, float("nan"), float("inf"), 2.0]
    b = [1.0, 1.0, float("nan"), float("inf"), 2.1]
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.0, "atol": 0.0}, {"atol": 0.2}):
        close(cr.isclose(cr.tensor(a), cr.tensor(b), **kw),
              torch.isclose(torch.tensor(a), torch.tensor(b), **kw), 0)
        assert cr.allclose(cr.tensor(a), cr.tensor(b), **kw) == \
            torch.allclose(torch.tensor(a), torch.tensor(b), **kw)
    assert cr.equal(cr.tensor([1, 2]), cr.tensor([1.0, 2.0])) == \
        torch.equal(torch.tensor([1, 2]), torch.tensor([1.0, 2.0]))
    assert not cr.equal(cr.ones(2), cr.ones(3))
    close(cr.isclose(cr.tensor([1, 2]), cr.tensor([1, 3])),
          torch.isclose(torch.tensor([1, 2]), torch.tensor([1, 3])), 0)


@pytest.mark.torch
def test_float_classification_vs_torch():
    v = [0.0, -0.0, 1.0, -2.0, float("inf"), -float("inf"), float("nan")]
    for name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit",
                 "logical_not", "sign", "sgn", "nan_to_num"):
        close(getattr(cr, name)(cr.tensor(v)), getattr(torch, name)(torch.tensor(v)), 0)
    close(cr.nan_to_num(cr.tensor(v), nan=1.0, posinf=2.0, neginf=-3.0),
          torch.nan_to_num(torch.tensor(v), nan=1.0, posinf=2.0, neginf=-3.0), 0)
    for name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit"):
        close(getattr(cr, name)(cr.tensor([1, -2])), getattr(torch, name)(torch.tensor([1, -2])),
              0)


@pytest.mark.torch
def test_rounding_vs_torch():
    v = [0.5, 1.5, 2.5, -0.5, -1.5, 1.2345, -7.25, 123.456]
    for kw in ({}, {"decimals": 2}, {"decimals": -1}):
        close(cr.round(cr.tensor(v), **kw), torch.round(torch.tensor(v), **kw), 0)
    close(cr.div(cr.tensor([7, -7, 7, -7]), cr.tensor([2, 2, -2, -2]), rounding_mode="trunc"),
          torch.div(torch.tensor([7, -7, 7, -7]), torch.tensor([2, 2, -2, -2]),
                    rounding_mode="trunc"), 0)
    close(cr.div(cr.tensor([7, -7]), 2, rounding_mode="floor"),
          torch.div(torch.tensor([7, -7]), 2, rounding_mode="floor"), 0)
    close(cr.remainder(cr.tensor([7, -7]), cr.tensor([-3, 3])),
          torch.remainder(torch.tensor([7, -7]), torch.tensor([-3, 3])), 0)
    close(cr.fmod(cr.tensor([7, -7]), -3), torch.fmod(torch.tensor([7, -7]), -3), 0)
    z = [5.0, -5.0, 0.0]
    for mode in ("trunc", "floor"):
        close(cr.div(cr.tensor(z), 0.0, rounding_mode=mode),
              torch.div(torch.tensor(z), 0.0, rounding_mode=mode), 0)


# --------------------------------------------------------------------------------------
# In-place versions
# --------------------------------------------------------------------------------------
INPLACE = [
    ("exp_", (), U(-1, 1)), ("abs_", (), NZ(0.1, 2)), ("sqrt_", (), U(0.1, 2)),
    ("sin_", (), U(-2, 2)), ("erf_", (), U(-2, 2)), ("lgamma_", (), U(0.2, 3)),
    ("clamp_", (-0.3, 0.4), U(-1, 1)), ("clamp_min_", (0.1,), U(-1, 1)),
    ("nan_to_num_", (), U(-1, 1)), ("sigmoid_", (), U(-2, 2)), ("logit_", (), U(0.1, 0.9)),
    ("reciprocal_", (), NZ(0.2, 2)), ("square_", (), U(-2, 2)), ("neg_", (), U(-2, 2)),
    ("floor_", (), FRAC(-2, 2)), ("add_", ("Y",), U(-1, 1)), ("sub_", ("Y",), U(-1, 1)),
    ("mul_", ("Y",), U(-1, 1)), ("div_", ("Y",), U(0.5, 1)), ("pow_", (2.5,), U(0.5, 2)),
    ("atan2_", ("Y",), U(-1, 1)), ("hypot_", ("Y",), NZ(0.1, 1)), ("xlogy_", ("Y",), U(0.1, 1)),
    ("copysign_", ("Y",), NZ(0.1, 1)), ("lerp_", ("Y", 0.3), U(-1, 1)),
    ("addcmul_", ("Y", "Y"), U(-1, 1)), ("addcdiv_", ("Y", "Y"), U(0.5, 1)),
    ("remainder_", ("Y",), U(0.5, 1)), ("fmod_", ("Y",), U(0.5, 1)),
    ("polygamma_", (1,), U(0.5, 2)), ("round_", (), U(-2, 2)),
]


@pytest.mark.torch
@pytest.mark.parametrize("name,args,dom", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_vs_torch(name, args, dom):
    rng = np.random.default_rng(0)
    x, y = dom(rng, (2, 3)), dom(rng, (3,))
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = cr.tensor(y, requires_grad=True), torch.tensor(y, requires_grad=True)
    ac = tuple(yc if a == "Y" else a for a in args)
    at = tuple(yt if a == "Y" else a for a in args)
    rc, rt = xc * 1.0, xt * 1.0  # non-leaves: in-place is allowed and rebases grad_fn
    v0 = rc._version
    out = getattr(rc, name)(*ac)
    getattr(rt, name)(*at)
    assert out is rc and rc._version == v0 + 1
    close(rc, rt, 1e-8 if name == "polygamma_" else 1e-12)  # torch's trigamma: ~1e-9
    assert rc.grad_fn.name() == rt.grad_fn.name()
    w = rng.standard_normal((2, 3))
    (rc * cr.tensor(w)).sum().backward()
    (rt * torch.tensor(w)).sum().backward()
    close(xc.grad, xt.grad, 1e-12)
    if "Y" in args:
        close(yc.grad, yt.grad, 1e-12)


def test_inplace_writes_through_views_and_keeps_identity():
    x = cr.tensor([1.0, 4.0, 9.0])
    alias = x
    x += 1
    x *= 2
    x -= 2
    x /= 2
    x **= 2
    assert alias is x
    np.testing.assert_allclose(x.numpy(), [1.0, 16.0, 81.0])
    x.sqrt_().clamp_(max=5.0)
    np.testing.assert_allclose(x.numpy(), [1.0, 4.0, 5.0])
    m = cr.tensor([1.0, 2.0, 3.0])
    m.eq_(2.0)
    assert m.dtype == cr.float32 and m.tolist() == [0.0, 1.0, 0.0]
    i = cr.tensor([5, 6])
    i //= 4
    i %= 2
    assert i.tolist() == [1, 1] and i.dtype == cr.int64


def test_inplace_on_leaf_under_no_grad_is_allowed():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.no_grad():
        w.mul_(3).add_(cr.tensor([1.0, 1.0]), alpha=-1)
    assert w.tolist() == [2.0, 5.0] and w.is_leaf


def test_inplace_rebases_a_plain_tensor_on_its_operand():
    y = cr.tensor([2.0, 3.0], requires_grad=True)
    x = cr.zeros(2)
    x.add_(y, alpha=2)
    assert x.requires_grad and x.grad_fn.name() == "AddBackward0"
    x.sum().backward()
    assert y.grad.tolist() == [2.0, 2.0]


# --------------------------------------------------------------------------------------
# Bad inputs: PyTorch's exception types and messages
# --------------------------------------------------------------------------------------
def _raises_like_torch(fc, ft, exact=True):
    with pytest.raises(Exception) as et:
        ft()
    with pytest.raises(type(et.value)) as ec:
        fc()
    if exact:
        assert str(ec.value) == str(et.value)
    return str(ec.value)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["atan2", "maximum", "hypot", "xlogy", "remainder", "fmax",
                                  "logaddexp", "copysign", "where", "lerp", "clamp_min"])
def test_shape_mismatch_names_both_shapes(name):
    def call(lib):
        a, b = lib.ones(2, 3, dtype=lib.float64), lib.ones(4, 1, 2, dtype=lib.float64)
        if name == "where":
            return lib.where(a > 0, a, b)
        if name == "lerp":
            return lib.lerp(a, b, 0.5)
        return getattr(lib, name)(a, b)

    msg = _raises_like_torch(lambda: call(cr), lambda: call(torch), exact=False)
    with pytest.raises(RuntimeError) as et:
        call(torch)
    assert msg.startswith(str(et.value))
    assert "[2, 3]" in msg and "[4, 1, 2]" in msg


@pytest.mark.torch
def test_ternary_shape_mismatch():
    for fn in ("addcmul", "addcdiv", "clamp"):
        with pytest.raises(RuntimeError, match="must match the size"):
            getattr(cr, fn)(cr.ones(2), cr.ones(3), cr.ones(2))


ERRORS = [
    ("where_cond", lambda lib: lib.where(lib.ones(2), lib.ones(2), lib.zeros(2))),
    ("clamp_none", lambda lib: lib.clamp(lib.ones(2))),
    ("int_neg_pow", lambda lib: lib.tensor([2]) ** -1),
    ("div_mode", lambda lib: lib.div(lib.ones(2), 2, rounding_mode="xyz")),
    ("int_floordiv_0", lambda lib: lib.floor_divide(lib.tensor([1, 2]), 0)),
    ("int_rem_0", lambda lib: lib.tensor([1, 2]) % 0),
    ("int_fmod_0", lambda lib: lib.fmod(lib.tensor([1, 2]), lib.tensor([1, 0]))),
    ("int_divtrunc_0", lambda lib: lib.div(lib.tensor([1]), 0, rounding_mode="trunc")),
    ("lerp_dtype", lambda lib: lib.lerp(lib.ones(2), lib.ones(2, dtype=lib.float64), 0.5)),
    ("lerp_wdtype", lambda lib: lib.lerp(lib.ones(2), lib.ones(2),
                                         lib.ones(2, dtype=lib.float64))),
    ("addcdiv_int", lambda lib: lib.addcdiv(lib.ones(2), lib.tensor([1, 2]), lib.tensor([1, 2]))),
    ("isclose_dtype", lambda lib: lib.isclose(lib.ones(2), lib.ones(2, dtype=lib.float64))),
    ("isclose_rtol", lambda lib: lib.isclose(lib.ones(2), lib.ones(2), rtol=-1)),
    ("bitwise_float", lambda lib: lib.bitwise_and(lib.ones(2), lib.ones(2))),
    ("bitwise_not_float", lambda lib: lib.bitwise_not(lib.ones(2))),
    ("invert_float", lambda lib: ~lib.ones(2)),
    ("abs_bool", lambda lib: lib.abs(lib.tensor([True]))),
    ("frac_int", lambda lib: lib.frac(lib.tensor([1]))),
    ("floor_bool", lambda lib: lib.floor(lib.tensor([True]))),
    ("round_int_decimals", lambda lib: lib.round(lib.tensor([1]), decimals=1)),
    ("polygamma_neg", lambda lib: lib.polygamma(-1, lib.ones(2))),
    ("float_power_", lambda lib: lib.ones(2).float_power_(2)),
    ("leaf_inplace", lambda lib: lib.ones(2, requires_grad=True).exp_()),
    ("inplace_broadcast", lambda lib: lib.ones(3).add_(lib.ones(2, 3))),
    ("bool_sub", lambda lib: lib.sub(lib.tensor([True]), lib.tensor([False]))),
    ("sign_complex", lambda lib: lib.sign(lib.tensor([1 + 1j]))),
]

# (the message of these comes from tensor.py's inplace(): same type, dtype names differ)
INPLACE_DTYPE_ERRORS = [
    ("inplace_dtype", lambda lib: lib.ones(3, dtype=lib.long).add_(1.5)),
    ("inplace_float_fn_on_int", lambda lib: lib.tensor([1, 2]).sqrt_()),
    ("inplace_bool", lambda lib: lib.ones(3, dtype=lib.bool).add_(1)),
]


@pytest.mark.torch
@pytest.mark.parametrize("name,call", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_like_torch(name, call):
    _raises_like_torch(lambda: call(cr), lambda: call(torch))


@pytest.mark.torch
@pytest.mark.parametrize("name,call", INPLACE_DTYPE_ERRORS,
                         ids=[e[0] for e in INPLACE_DTYPE_ERRORS])
def test_inplace_dtype_errors_like_torch(name, call):
    msg = _raises_like_torch(lambda: call(cr), lambda: call(torch), exact=False)
    assert "can't be cast to the desired output type" in msg


def test_binary_ops_need_a_tensor():
    with pytest.raises(TypeError, match="must be Tensor"):
        cr.atan2(1.0, 2.0)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_sigmoid_far_tails_match_torch_without_warnings(dtype):
    torch = pytest.importorskip("torch")
    import warnings

    x = np.array([-1e4, -700.0, -100.0, -30.0, -5.0, 0.0, 5.0, 30.0, 1e4], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning from NumPy
        got = cr.sigmoid(cr.tensor(x)).numpy()
    want = torch.sigmoid(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6 if dtype != "float16" else 1e-3,
                               atol=1e-37 if dtype != "float16" else 1e-7)
