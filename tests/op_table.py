"""The op table: one entry per public op (and per interesting argument form).

Each entry names the public op it tests (``"exp"`` = ``torch.exp``, ``"Tensor.view"``,
``"F.relu"`` = ``torch.nn.functional.relu``, ``"linalg.det"``), a function ``op(lib, *tensors)``
written once and run with ``lib = chainrule`` and ``lib = torch``, and one input spec per
tensor argument (shape, value domain, kind). ``tests/test_op_table.py`` turns every entry into
value checks against PyTorch (each listed dtype), gradient checks against PyTorch, float64
central differences (``gradcheck``) and, where flagged, second-order checks
(``gradgradcheck``).

From each entry the table also derives the other spellings of the same op: the aliases it
lists (``arccos`` for ``acos``), the Tensor method (``x.exp()``) and the in-place method
(``x.exp_()``) where chainrule has them. ``EXCLUDED`` lists every public name that has no
entry, with the reason; ``test_op_table.py::test_every_public_op_is_in_the_table`` fails when a
public op has neither.
"""
from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# ======================================================================================
# Input specs: Arg(make(rng) -> ndarray, kind)
# ======================================================================================
FLOAT, CONST, INT, INDEX, BOOL = "float", "const", "int", "index", "bool"


@dataclass(frozen=True)
class Arg:
    """One tensor argument. ``kind``: float (differentiable; cast to the dtype under test),
    const (float, never requires grad), int (cast to the integer dtype under test),
    index (int64 as is), bool."""
    make: Callable
    kind: str = FLOAT


def _distinct(rng, shape, scale=0.37):
    """Values far apart from each other (no ties: max, sort, median are well defined)."""
    n = int(np.prod(shape))
    v = (rng.permutation(n) - n / 2) * scale + rng.uniform(-0.05, 0.05, n)
    return v.reshape(shape)


def N(*shape, scale=None):
    """Distinct values, spaced ``scale`` apart (default: 0.37, or closer so that they stay
    within +-2), centred on 0."""
    if scale is None:
        scale = min(0.37, 4.0 / max(1, int(np.prod(shape))))
    return Arg(lambda rng: _distinct(rng, shape, scale))


def U(lo, hi, *shape):
    return Arg(lambda rng: rng.uniform(lo, hi, shape))


def NZ(lo, hi, *shape):
    """+-[lo, hi]: away from 0 (abs, sign, reciprocal, ...)."""
    return Arg(lambda rng: rng.choice([-1.0, 1.0], shape) * rng.uniform(lo, hi, shape))


def FRAC(lo, hi, *shape):
    """k + [0.1, 0.9] for integers k in [lo, hi): away from the jumps of floor, round, ..."""
    return Arg(lambda rng: rng.integers(lo, hi, shape) + rng.uniform(0.1, 0.9, shape))


def P(*shape):
    """Positive, in [0.5, 2]."""
    return U(0.5, 2.0, *shape)


def C(value):
    """A fixed float array (never requires grad)."""
    a = np.asarray(value, dtype=np.float64)
    return Arg(lambda rng: a.copy(), CONST)


def F64(value):
    """A fixed float array that is differentiated."""
    a = np.asarray(value, dtype=np.float64)
    return Arg(lambda rng: a.copy())


def CU(lo, hi, *shape):
    """Uniform floats that are never differentiated (targets, probabilities)."""
    return Arg(lambda rng: rng.uniform(lo, hi, shape), CONST)


def I(lo, hi, *shape):  # the integer spec
    """Integers in [lo, hi), cast to the integer dtype under test."""
    return Arg(lambda rng: rng.integers(lo, hi, shape).astype(np.int64), INT)


def IDX(value):
    """A fixed int64 index tensor."""
    a = np.asarray(value, dtype=np.int64)
    return Arg(lambda rng: a.copy(), INDEX)


def RIDX(hi, *shape):
    """Random int64 indices in [0, hi)."""
    return Arg(lambda rng: rng.integers(0, hi, shape).astype(np.int64), INDEX)


def MASK(*shape):
    return Arg(lambda rng: rng.random(shape) > 0.5, BOOL)


def BMASK(value):
    a = np.asarray(value, dtype=bool)
    return Arg(lambda rng: a.copy(), BOOL)


def WELL(n, *batch):
    """A well-conditioned square matrix (inv, solve, det)."""
    return Arg(lambda rng: rng.standard_normal(batch + (n, n)) + 3 * np.eye(n))


def SPD(n, *batch):
    """A symmetric positive definite matrix (cholesky, eigh)."""
    def make(rng):
        a = rng.standard_normal(batch + (n, n))
        return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    return Arg(make)


def SPECIAL(*shape):
    """Finite values with nan, +inf and -inf mixed in (isnan, nan_to_num, ...)."""
    def make(rng):
        a = rng.uniform(-2, 2, shape).reshape(-1)
        a[::5] = np.nan
        a[1::7] = np.inf
        a[3::7] = -np.inf
        return a.reshape(shape)
    return Arg(make, CONST)


A, B, V, M = (3, 4), (2, 3, 4), (4,), (3, 3)
FLOATS = ("float64", "float32")


# ======================================================================================
# The entry
# ======================================================================================
@dataclass(frozen=True)
class OpInfo:
    name: str                     # the public op: "exp", "Tensor.view", "F.relu", "linalg.det"
    op: Callable                  # op(lib, *tensors) with lib = chainrule or torch
    args: tuple = ()              # one Arg per tensor argument
    variant: str = ""             # tells several entries of one op apart
    aliases: tuple = ()           # other public names of the same op, derived from the entry
    dtypes: tuple = FLOATS        # forward values are compared in each
    differentiable: bool = True   # gradients vs torch and gradcheck (float64)
    gradcheck: bool = True        # central differences (off at kinks/discontinuities)
    second_order: bool = True     # gradgradcheck (float64), where gradcheck runs
    method: bool = True           # derive Tensor.<name>(...) (first argument is self)
    inplace: bool = True          # derive Tensor.<name>_(...) on a clone of the first argument
    inplace_grad: bool = True     # torch differentiates the in-place form too
    grad_vs_torch: bool = True    # torch's own gradient works (else gradcheck alone)
    values: bool = True           # compare values (False: uninitialised memory; shape/dtype only)
    rtol: float = 1e-10           # float64 values and gradients vs torch
    atol: float = 1e-12
    rtol32: float = 1e-5          # float32 values vs torch
    atol32: float = 1e-5
    gc_atol: float = 1e-5         # gradcheck / gradgradcheck tolerances
    gc_rtol: float = 1e-3
    xfail: str = ""               # known bug: "<file>: <what differs>" (strict xfail)
    xfail_tests: tuple = ()       # which checks the xfail applies to (empty: all of them)

    @property
    def id(self):
        return self.name + ("-" + self.variant if self.variant else "")


def path(name):
    """Attribute path of a public name inside ``chainrule``/``torch``."""
    if name.startswith("F."):
        return "nn.functional." + name[2:]
    return name


def resolve(lib, name):
    obj = lib
    for part in path(name).split("."):
        obj = getattr(obj, part)
    return obj


def call(name, *extra, **kw):
    """``op(lib, x, *rest)`` = ``<lib>.<name>(x, *rest, *extra, **kw)``."""
    return lambda L, *xs: resolve(L, name)(*xs, *extra, **kw)


def E(name, *args, fn=None, kw=None, extra=(), **opts):
    """An entry calling ``name`` with the tensor arguments, then ``extra`` and ``kw``."""
    if fn is None:
        fn = call(name, *extra, **(kw or {}))
    return OpInfo(name, fn, tuple(args), **opts)


class Lib:
    """``lib`` with some public names replaced (derived spellings: aliases, methods)."""

    def __init__(self, lib, overrides):
        self._lib, self._over = lib, overrides

    def __getattr__(self, attr):
        if attr in self._over:
            return self._over[attr]
        sub = {k[len(attr) + 1:]: v for k, v in self._over.items() if k.startswith(attr + ".")}
        if sub:
            return Lib(getattr(self._lib, attr), sub)
        return getattr(self._lib, attr)


def _method(name):
    return lambda self, *a, **k: getattr(self, name)(*a, **k)


def _inplace_method(name):
    return lambda self, *a, **k: getattr(self.clone(), name)(*a, **k)


def derive(entry, spelling, how):
    """The entry with its op spelled ``spelling``: ``how`` = alias | method | inplace."""
    base = path(entry.name)
    short = spelling.split(".")[-1]

    def op(L, *xs):
        if how == "alias":
            try:
                impl = resolve(L, spelling)
            except AttributeError:  # torch lacks this alias: its reference is the entry's name
                impl = resolve(L, entry.name)
        else:
            owner = L.Tensor
            if not hasattr(owner, short):  # torch lacks the method
                return entry.op(L, *xs)
            impl = _method(short) if how == "method" else _inplace_method(short)
        return entry.op(Lib(L, {base: impl}), *xs)

    differentiable = entry.differentiable and (how != "inplace" or entry.inplace_grad)
    return dataclasses.replace(entry, name=spelling, op=op, variant=entry.variant, aliases=(),
                               method=False, inplace=False, dtypes=entry.dtypes[:1],
                               second_order=False, differentiable=differentiable)


# ======================================================================================
# Elementwise
# ======================================================================================
def unary(name, dom=None, aliases=(), **opts):
    return E(name, dom or U(-2, 2, *A), aliases=aliases, second_order=True, **opts)


# torch's float32 special functions round differently from NumPy/SciPy-free formulas
LOOSE32 = dict(rtol32=1e-4, atol32=1e-4)

ELEMENTWISE = [
    unary("abs", NZ(0.1, 2, *A), ("absolute",)),
    unary("sign", NZ(0.1, 2, *A)), unary("sgn", NZ(0.1, 2, *A)),
    unary("neg", aliases=("negative",)), unary("positive", inplace=False),
    unary("exp"), unary("exp2"), unary("expm1"),
    unary("log", U(0.1, 3, *A)), unary("log2", U(0.1, 3, *A)), unary("log10", U(0.1, 3, *A)),
    unary("log1p", U(-0.5, 3, *A)), unary("sqrt", U(0.1, 3, *A)), unary("rsqrt", U(0.1, 3, *A)),
    unary("square"), unary("reciprocal", NZ(0.2, 2, *A)),
    unary("sin", U(-3, 3, *A)), unary("cos", U(-3, 3, *A)), unary("tan", U(-1.2, 1.2, *A)),
    unary("asin", U(-0.9, 0.9, *A), ("arcsin",)), unary("acos", U(-0.9, 0.9, *A), ("arccos",)),
    unary("atan", aliases=("arctan",)),
    unary("sinh"), unary("cosh"), unary("tanh", aliases=("F.tanh",)),
    # torch has no derivative for the in-place forms of these three
    unary("asinh", aliases=("arcsinh",), inplace_grad=False),
    unary("acosh", U(1.1, 3, *A), ("arccosh",), inplace_grad=False),
    unary("atanh", U(-0.9, 0.9, *A), ("arctanh",), inplace_grad=False),
    unary("sigmoid", aliases=("F.sigmoid",)), unary("relu", NZ(0.1, 2, *A), ("F.relu",)),
    unary("logit", U(0.05, 0.95, *A)),
    E("logit", U(0.05, 0.95, *A), kw=dict(eps=0.2), variant="eps", second_order=True),
    unary("erf", U(-2.5, 2.5, *A)), unary("erfc", U(-2.5, 2.5, *A)),
    unary("erfinv", U(-0.9, 0.9, *A), **LOOSE32),
    # torch's trigamma (lgamma's second and digamma's first derivative) is good to ~1e-9
    unary("lgamma", U(0.1, 5, *A), rtol=1e-8, **LOOSE32),
    unary("digamma", U(0.1, 5, *A), rtol=1e-8, atol=1e-10, **LOOSE32),
    E("digamma", FRAC(-4, -1, *A), variant="negative", rtol=1e-8, atol=1e-10, **LOOSE32),
    E("polygamma", U(0.5, 5, *A), fn=lambda L, x: L.polygamma(1, x), method=False,
      inplace=False, rtol=1e-8, atol=1e-10, **LOOSE32),
    E("Tensor.polygamma", U(0.5, 5, *A), fn=lambda L, x: x.polygamma(2), rtol=1e-8,
      atol=1e-10, **LOOSE32),
    E("Tensor.polygamma_", U(0.5, 5, *A), fn=lambda L, x: x.clone().polygamma_(1), rtol=1e-8,
      atol=1e-10, **LOOSE32),
    unary("floor", FRAC(-3, 3, *A)), unary("ceil", FRAC(-3, 3, *A)),
    unary("round", FRAC(-3, 3, *A)), unary("trunc", FRAC(-3, 3, *A), ("fix",)),
    unary("frac", FRAC(-3, 3, *A)),
    E("round", U(-3, 3, *A), kw=dict(decimals=1), variant="decimals", gradcheck=False),
    E("clamp", U(-1.5, 1.5, *A), extra=(-0.5, 0.7), aliases=("clip",)),
    E("clamp", U(-2, 2, *A), U(-1.5, 0, *A), U(0, 1.5, *A), variant="tensor_bounds"),
    E("clamp", U(-1.5, 1.5, *A), kw=dict(max=0.3), variant="max_only"),
    E("clamp_min", U(-1, 1, *A), extra=(0.3,)),
    E("clamp_max", U(-1, 1, *A), extra=(0.3,)),
    E("clamp_min", U(-1, 1, *A), U(-1, 1, *A), variant="tensor"),
    unary("nan_to_num"),
    E("nan_to_num", SPECIAL(*A), kw=dict(nan=0.5, posinf=9.0, neginf=-9.0), variant="special",
      differentiable=False),
    E("signbit", NZ(0.1, 2, *A), differentiable=False),
    E("isnan", SPECIAL(*A), differentiable=False), E("isinf", SPECIAL(*A), differentiable=False),
    E("isfinite", SPECIAL(*A), differentiable=False),
    E("isposinf", SPECIAL(*A), differentiable=False),
    E("isneginf", SPECIAL(*A), differentiable=False),
    # binary
    E("add", U(-2, 2, 2, 3), U(-2, 2, 3), second_order=True),
    E("add", U(-2, 2, *A), U(-2, 2, *A), kw=dict(alpha=2.5), variant="alpha"),
    E("add", U(-2, 2, *A), fn=lambda L, x: L.add(x, 1.5), variant="scalar"),
    E("sub", U(-2, 2, *A), U(-2, 2, *A), kw=dict(alpha=-0.5), aliases=("subtract",)),
    E("rsub", U(-2, 2, *A), U(-2, 2, *A), kw=dict(alpha=2.0), method=False),
    E("mul", U(-2, 2, 2, 3), U(-2, 2, 3), aliases=("multiply",), second_order=True),
    E("mul", U(-2, 2, *A), U(-2, 2, *A), variant="same_shape"),
    E("div", U(-2, 2, *A), NZ(0.5, 2, *A), aliases=("divide", "true_divide"), second_order=True),
    E("div", U(-3, 3, *A), NZ(0.5, 2, *A), kw=dict(rounding_mode="trunc"), variant="trunc",
      aliases=("divide",)),
    E("div", U(-3, 3, *A), NZ(0.5, 2, *A), kw=dict(rounding_mode="floor"), variant="floor"),
    E("floor_divide", U(-3, 3, *A), NZ(0.5, 2, *A), differentiable=False),  # torch: no derivative
    E("floor_divide", I(-9, 9, *A), I(1, 4, *A), variant="int", dtypes=("int64", "int32"),
      differentiable=False),
    E("remainder", U(-3, 3, *A), NZ(0.5, 2, *A)),
    E("remainder", I(-9, 9, *A), I(1, 4, *A), variant="int", dtypes=("int64", "int32"),
      differentiable=False),
    E("fmod", U(-3, 3, *A), NZ(0.5, 2, *A)),
    E("pow", U(0.5, 2, *A), U(-2, 2, *A), second_order=True),
    E("pow", U(-2, 2, *A), extra=(3,), variant="scalar_exponent", second_order=True),
    E("pow", U(-2, 2, *A), fn=lambda L, x: L.pow(2.5, x), variant="scalar_base", method=False,
      inplace=False, second_order=True),
    E("float_power", U(0.5, 2, *A), U(-2, 2, *A), dtypes=("float64",)),
    E("atan2", U(-2, 2, *A), U(-2, 2, *A), aliases=("arctan2",), second_order=True),
    E("maximum", U(-2, 2, *A), U(-2, 2, *A), inplace=False),
    E("minimum", U(-2, 2, *A), U(-2, 2, *A), inplace=False),
    E("fmax", U(-2, 2, *A), U(-2, 2, *A)), E("fmin", U(-2, 2, *A), U(-2, 2, *A)),
    E("hypot", NZ(0.1, 2, *A), NZ(0.1, 2, *A), second_order=True),
    E("logaddexp", U(-3, 3, *A), U(-3, 3, *A), second_order=True),
    E("logaddexp2", U(-3, 3, *A), U(-3, 3, *A)),
    E("xlogy", U(-2, 2, *A), U(0.1, 3, *A), second_order=True),
    E("copysign", NZ(0.1, 2, *A), NZ(0.1, 2, *A)),
    E("lerp", U(-2, 2, *A), U(-2, 2, *A), extra=(0.3,), second_order=True),
    E("lerp", U(-2, 2, *A), U(-2, 2, *A), U(-1, 2, *A), variant="tensor_weight"),
    E("addcmul", U(-2, 2, *A), U(-2, 2, *A), U(-2, 2, *A), kw=dict(value=0.5),
      second_order=True),
    E("addcdiv", U(-2, 2, *A), U(-2, 2, *A), NZ(0.5, 2, *A), kw=dict(value=-1.5),
      second_order=True),
    E("where", U(-1, 1, *A), U(-2, 2, *A), U(-2, 2, *A),
      fn=lambda L, c, a, b: L.where(c > 0, a, b), method=False),
    E("where", U(-2, 2, *A), fn=lambda L, x: L.where(x > 0, x, 0.5), variant="scalar",
      method=False),
    E("where", MASK(*A), fn=lambda L, c: L.where(c), variant="nonzero", method=False),
    E("Tensor.where", U(-2, 2, *A), U(-2, 2, *A), fn=lambda L, x, y: x.where(x > 0, y)),
    E("isclose", U(-1, 1, *A), fn=lambda L, x: L.isclose(x, x + 1e-9 * (x > 0)),
      differentiable=False),
    E("allclose", U(-1, 1, *A), fn=lambda L, x: (L.allclose(x, x + 1e-9),
                                                 L.allclose(x, x + 1e-3)), differentiable=False),
    E("equal", U(-1, 1, *A), fn=lambda L, x: (L.equal(x, x * 1), L.equal(x, x + 1)),
      differentiable=False),
    E("isin", I(0, 6, *A), I(0, 6, 5), dtypes=("int64",), differentiable=False),
]

for _cmp, _aliases in (("eq", ()), ("ne", ("not_equal",)), ("lt", ("less",)),
                       ("le", ("less_equal",)), ("gt", ("greater",)),
                       ("ge", ("greater_equal",))):
    ELEMENTWISE.append(E(_cmp, I(-2, 2, *A), I(-2, 2, *A), aliases=_aliases,
                         dtypes=FLOATS + ("int64",), differentiable=False))
    ELEMENTWISE.append(E(_cmp, I(-2, 2, *A), extra=(0,), variant="scalar",
                         dtypes=("float64", "int32"), differentiable=False, inplace=False))
for _name in ("logical_and", "logical_or", "logical_xor"):
    ELEMENTWISE.append(E(_name, I(-1, 2, *A), I(-1, 2, *A), dtypes=("float64", "int64"),
                         differentiable=False))
    ELEMENTWISE.append(E(_name, MASK(*A), MASK(*A), variant="bool", dtypes=("bool",),
                         differentiable=False, inplace=False))
ELEMENTWISE.append(E("logical_not", I(-1, 2, *A), dtypes=("float64", "int64"),
                     differentiable=False))
for _name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    ELEMENTWISE.append(E(_name, I(-50, 50, *A), I(-50, 50, *A), dtypes=("int64", "int32"),
                         differentiable=False))
    ELEMENTWISE.append(E(_name, MASK(*A), MASK(*A), variant="bool", dtypes=("bool",),
                         differentiable=False, inplace=False))
for _name in ("bitwise_left_shift", "bitwise_right_shift"):
    ELEMENTWISE.append(E(_name, I(-50, 50, *A), I(0, 5, *A), dtypes=("int64", "int32"),
                         differentiable=False))
ELEMENTWISE.append(E("bitwise_not", I(-50, 50, *A), dtypes=("int64", "int32"),
                     differentiable=False))
ELEMENTWISE.append(E("bitwise_not", MASK(*A), variant="bool", dtypes=("bool",),
                     differentiable=False, inplace=False))

# ======================================================================================
# Reductions
# ======================================================================================
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0]])
MODE = np.array([[1.0, 2.0, 2.0, 2.0, 3.0, 0.0], [5.0, 5.0, 1.0, 1.0, 3.0, 3.0],
                 [3.0, 1.0, 3.0, 1.0, 2.0, 2.0]])
ZEROS = np.array([[0.0, 2.0, 0.0], [0.0, 1.5, 3.0], [-1.0, 2.0, 0.5]])


def red(name, *args, **opts):
    opts.setdefault("second_order", True)
    return E(name, *args, **opts)


REDUCTION = [
    red("sum", N(*B)), red("sum", N(*B), kw=dict(dim=(0, -1), keepdim=True), variant="dims"),
    red("sum", I(-5, 5, *A), variant="int", dtypes=("int64", "int32", "bool"),
        differentiable=False),
    red("sum", N(*A), kw=dict(dtype=None), extra=(1,), variant="dim_dtype"),
    red("mean", N(*B)), red("mean", N(*B), extra=(-2,), variant="dim"),
    red("prod", P(*A)), red("prod", N(*B), extra=(-1, True), variant="dim"),
    red("prod", F64(ZEROS), extra=(1,), variant="zeros", gradcheck=False, second_order=False,
        dtypes=("float64",)),
    red("max", N(*A)), red("max", N(*B), extra=(1,), variant="dim"),
    red("max", N(*A), N(*A), variant="binary", inplace=False),
    red("min", N(*A)), red("min", N(*B), kw=dict(dim=-1, keepdim=True), variant="dim"),
    red("amax", N(*B), extra=((0, 2),)), red("amin", N(*B), kw=dict(dim=-1, keepdim=True)),
    red("amax", F64(TIES), extra=(1,), variant="ties", gradcheck=False, second_order=False),
    red("aminmax", N(*A)), red("aminmax", N(*A), kw=dict(dim=1, keepdim=True), variant="dim"),
    red("argmax", N(*B), differentiable=False),
    red("argmax", N(*B), extra=(1,), variant="dim", differentiable=False),
    red("argmin", N(*B), kw=dict(dim=-1, keepdim=True), differentiable=False),
    red("var", N(*A)), red("var", N(*B), kw=dict(dim=1, correction=0), variant="correction"),
    red("var", N(*B), extra=((0, 2),), kw=dict(unbiased=False, keepdim=True),
        variant="unbiased"),
    red("std", N(*A)), red("std", N(*B), kw=dict(dim=-1, correction=2), variant="dim"),
    red("var_mean", N(*A), extra=(1,)), red("std_mean", N(*B), kw=dict(dim=(0, 1))),
    red("norm", N(*A)), red("norm", N(*B), extra=(1,), kw=dict(dim=-1), variant="p1"),
    red("norm", N(*B), extra=("fro",), kw=dict(dim=(0, 1)), variant="fro"),
    red("norm", N(*A), extra=(float("inf"),), kw=dict(dim=0), variant="inf"),
    red("norm", N(*A), extra=(3,), kw=dict(dim=1, keepdim=True), variant="p3"),
    red("linalg.vector_norm", N(*B)),
    red("linalg.vector_norm", N(*B), kw=dict(ord=1, dim=(0, 2)), variant="ord1"),
    red("linalg.vector_norm", N(*A), kw=dict(ord=float("-inf"), dim=1), variant="ninf"),
    red("linalg.matrix_norm", N(*B)),
    red("linalg.matrix_norm", N(*A), kw=dict(ord=1), variant="ord1"),
    red("linalg.matrix_norm", N(*A), kw=dict(ord=float("inf")), variant="inf"),
    red("linalg.matrix_norm", N(3, 3), kw=dict(ord=2), variant="ord2", rtol32=1e-4),
    red("linalg.matrix_norm", N(3, 3), kw=dict(ord="nuc"), variant="nuc", rtol32=1e-4),
    red("linalg.norm", N(*A)), red("linalg.norm", N(*A), kw=dict(ord=2, dim=1), variant="vec"),
    red("frobenius_norm", N(*B), extra=((1, 2),), method=False),
    red("nuclear_norm", N(3, 3), method=False, rtol32=1e-4),
    red("dist", N(*A), N(*A), extra=(3,)),
    red("logsumexp", N(*B), extra=(1,)), red("logsumexp", N(*A, scale=100), extra=(0,),
                                             variant="big"),
    red("cumsum", N(*B), extra=(1,)), red("cumprod", N(*A), extra=(1,)),
    red("cumprod", F64(ZEROS), extra=(1,), variant="zeros", gradcheck=False, second_order=False),
    red("logcumsumexp", N(*B), extra=(1,)),
    red("cummax", N(*B), extra=(1,)), red("cummin", N(*A), extra=(0,)),
    red("all", I(-1, 2, *A), dtypes=("float64", "int64", "bool"), differentiable=False),
    red("all", I(0, 2, *A), extra=(1,), variant="dim", dtypes=("bool", "float64"),
        differentiable=False),
    red("any", I(-1, 2, *A), dtypes=("float64", "int64", "bool"), differentiable=False),
    red("any", I(0, 2, *A), kw=dict(dim=0, keepdim=True), variant="dim",
        dtypes=("bool", "float64"), differentiable=False),
    red("count_nonzero", I(-1, 2, *A), extra=(1,), dtypes=("float64", "int64"),
        differentiable=False),
    red("median", N(*A)), red("median", N(*B), extra=(1,), variant="dim"),
    red("median", N(2, 4), variant="even"),
    red("nanmedian", N(*A)), red("nansum", N(*A), extra=(1,)), red("nanmean", N(*A), extra=(0,)),
    red("nansum", C([[1.0, np.nan, 2.0]]), variant="nan", differentiable=False),
    red("mode", F64(MODE), extra=(1,), gradcheck=False, second_order=False),  # ties
    red("topk", N(*B), extra=(2,)),
    red("topk", N(*A), extra=(2,), kw=dict(dim=0, largest=False), variant="smallest"),
    red("sort", N(*B)), red("sort", N(*A), extra=(0,), kw=dict(descending=True), variant="desc"),
    red("sort", F64(TIES), kw=dict(dim=1, stable=True), variant="stable_ties", gradcheck=False, second_order=False),
    red("argsort", N(*A), extra=(1,), differentiable=False),
    red("argsort", N(*A), kw=dict(descending=True), variant="desc", differentiable=False),
    red("msort", N(*A)),
    red("kthvalue", N(*B), extra=(2, 1)),
    red("kthvalue", N(*A), extra=(3, 0, True), variant="keepdim"),
]

# Edge cases: 0-d and empty inputs, NaN, -inf, dtype arguments (values and gradients vs torch)
NANS = np.array([[1.0, np.nan, 3.0, 0.5], [2.0, -1.0, 0.0, 4.0], [np.nan, 1.5, -2.0, 0.25]])
NEG_INF = np.array([[0.5, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf]])
SCALAR = (lambda L, x: x.sum() * 0.5)  # a 0-d tensor from the (3, 4) input
EMPTY = np.zeros((0, 3))
NO_GRAD = {"argmax", "argmin", "all", "any", "count_nonzero"}
REDUCTION_EDGES = [
    red(n, N(*A), fn=lambda L, x, n=n: resolve(L, n)(SCALAR(L, x)), variant="0d",
        dtypes=("float64",), differentiable=n not in NO_GRAD)
    for n in ("sum", "mean", "prod", "amax", "amin", "max", "min", "logsumexp", "median",
              "nansum", "norm", "std", "var", "argmax", "argmin", "all", "any", "msort")
    if n not in ("logsumexp", "std", "var", "msort")
] + [
    red("logsumexp", N(*A), fn=lambda L, x: L.logsumexp(SCALAR(L, x), 0), variant="0d"),
    red("cumsum", N(*A), fn=lambda L, x: L.cumsum(SCALAR(L, x), 0), variant="0d"),
    red("sort", N(*A), fn=lambda L, x: L.sort(SCALAR(L, x)), variant="0d"),
    red("topk", N(*A), fn=lambda L, x: L.topk(SCALAR(L, x), 1), variant="0d"),
    red("max", N(*A), fn=lambda L, x: L.max(SCALAR(L, x), 0), variant="0d_dim"),
] + [
    red(n, N(*A), fn=lambda L, x, n=n: resolve(L, n)(SCALAR(L, x), 0), variant="0d_dim",
        differentiable=n not in NO_GRAD)
    for n in ("sum", "mean", "prod", "amax", "amin", "nansum", "nanmean", "logsumexp",
              "count_nonzero", "all", "any")
] + [
    red("std", N(*A), fn=lambda L, x: L.std(SCALAR(L, x), 0, correction=0), variant="0d_dim"),
    red("var", N(*A), fn=lambda L, x: L.var(SCALAR(L, x), -1, correction=0),
        variant="0d_dim"),
    red("norm", N(*A), fn=lambda L, x: L.norm(SCALAR(L, x), dim=0), variant="0d_dim"),
    red("linalg.vector_norm", N(*A), fn=lambda L, x: L.linalg.vector_norm(SCALAR(L, x), dim=0),
        variant="0d_dim"),
    red("sum", C(EMPTY), extra=(0,), variant="empty", differentiable=False),
    red("prod", C(EMPTY), extra=(0,), variant="empty", differentiable=False),
    red("mean", C(EMPTY), extra=(1,), variant="empty", differentiable=False),
    red("amax", C(EMPTY), extra=(1,), variant="empty", differentiable=False),
    red("logsumexp", C(EMPTY), extra=(0,), variant="empty", differentiable=False),
    red("cumsum", C(EMPTY), extra=(0,), variant="empty", differentiable=False),
    red("nansum", C(EMPTY), variant="empty", differentiable=False),
    red("count_nonzero", C(EMPTY), variant="empty", differentiable=False),
    red("all", C(EMPTY), variant="empty", differentiable=False),
    red("any", C(EMPTY), extra=(1,), variant="empty", differentiable=False),
    red("sort", C(EMPTY), extra=(1,), variant="empty", differentiable=False),
    red("argsort", C(EMPTY), extra=(0,), variant="empty", differentiable=False),
    red("sum", N(*A), kw=dict(dtype="float32"), variant="dtype_arg",
        fn=lambda L, x: L.sum(x, 1, dtype=L.float32), gradcheck=False, second_order=False),
    red("cumsum", N(*A), fn=lambda L, x: L.cumsum(x, 0, dtype=L.float64), variant="dtype_arg"),
    red("mean", N(*A), fn=lambda L, x: L.mean(x, (0, 1), keepdim=True, dtype=L.float64),
        variant="dtype_arg"),
    red("prod", I(1, 4, *A), fn=lambda L, x: L.prod(x, 1, dtype=L.float64), variant="dtype_int",
        dtypes=("int64",), differentiable=False),
    red("sum", I(-5, 5, *A), fn=lambda L, x: L.sum(x, dtype=L.float32), variant="dtype_int",
        dtypes=("int32", "bool"), differentiable=False),
    # bool inputs that torch refuses (the same exception type from chainrule)
    red("argmax", MASK(*A), extra=(1,), variant="bool", dtypes=("bool",), differentiable=False),
    red("argmin", MASK(*A), variant="bool", dtypes=("bool",), differentiable=False),
    red("median", MASK(*A), variant="bool", dtypes=("bool",), differentiable=False),
    red("median", MASK(*A), extra=(1,), variant="bool_dim", dtypes=("bool",),
        differentiable=False),
    red("nanmedian", MASK(*A), extra=(0,), variant="bool", dtypes=("bool",),
        differentiable=False),
    red("topk", MASK(*A), extra=(2,), variant="bool", dtypes=("bool",), differentiable=False),
    red("kthvalue", MASK(*A), extra=(2,), variant="bool", dtypes=("bool",),
        differentiable=False),
    # an integer dtype= is kept (no int64 promotion), and no wider NumPy accumulator leaks out
    red("sum", I(-5, 5, *A), fn=lambda L, x: (L.sum(x, 1, dtype=L.int32),
                                             L.sum(x > 0, dtype=L.uint8)),
        variant="dtype_int32", dtypes=("int64",), differentiable=False),
    red("nansum", I(-5, 5, *A), fn=lambda L, x: L.nansum(x, dtype=L.int32),
        variant="dtype_int32", dtypes=("int64",), differentiable=False),
    red("prod", I(-3, 3, *A), fn=lambda L, x: L.prod(x, 0, dtype=L.int16),
        variant="dtype_int16", dtypes=("int64", "uint8"), differentiable=False),
    red("cumsum", I(-5, 5, *A), fn=lambda L, x: L.cumsum(x, 1, dtype=L.int32),
        variant="dtype_int32", dtypes=("int64", "bool"), differentiable=False),
    red("cumprod", I(-3, 3, *A), fn=lambda L, x: L.cumprod(x, 0, dtype=L.int8),
        variant="dtype_int8", dtypes=("int64",), differentiable=False),
    # NaN: propagates through max/amax/sort/topk/median; nan-aware versions skip it
    red("max", F64(NANS), variant="nan", gradcheck=False, second_order=False),
    red("max", F64(NANS), extra=(1,), variant="nan_dim", gradcheck=False, second_order=False),
    red("min", F64(NANS), extra=(0,), variant="nan_dim", gradcheck=False, second_order=False),
    red("amax", F64(NANS), extra=(1,), variant="nan", gradcheck=False, second_order=False),
    red("amin", F64(NANS), variant="nan", gradcheck=False, second_order=False),
    red("aminmax", F64(NANS), kw=dict(dim=1), variant="nan", gradcheck=False,
        second_order=False),
    red("argmax", C(NANS), extra=(1,), variant="nan", differentiable=False),
    red("argmin", C(NANS), variant="nan", differentiable=False),
    red("sort", F64(NANS), extra=(1,), variant="nan", gradcheck=False, second_order=False),
    red("sort", F64(NANS), kw=dict(dim=0, descending=True), variant="nan_desc",
        gradcheck=False, second_order=False),
    red("argsort", C(NANS), extra=(1,), variant="nan", differentiable=False),
    red("topk", F64(NANS), extra=(2,), variant="nan", gradcheck=False, second_order=False),
    red("median", F64(NANS), extra=(1,), variant="nan", gradcheck=False, second_order=False),
    red("median", F64(NANS), variant="nan_all", gradcheck=False, second_order=False),
    red("nanmedian", F64(NANS), extra=(1,), variant="nan", gradcheck=False, second_order=False),
    red("nanmedian", F64(NANS), variant="nan_all", gradcheck=False, second_order=False),
    red("nansum", F64(NANS), extra=(0,), variant="nan_grad", gradcheck=False,
        second_order=False),
    red("nanmean", F64(NANS), extra=(1,), variant="nan", gradcheck=False, second_order=False),
    red("kthvalue", F64(NANS), extra=(2, 1), variant="nan", gradcheck=False,
        second_order=False),
    red("cummax", F64(NANS), extra=(1,), variant="nan", gradcheck=False, second_order=False),
    red("cummin", F64(NANS), extra=(0,), variant="nan", gradcheck=False, second_order=False),
    red("cumsum", F64(NANS), extra=(1,), variant="nan", gradcheck=False, second_order=False),
    red("logsumexp", F64(NANS), extra=(1,), variant="nan", gradcheck=False,
        second_order=False),
    red("all", C(NANS), extra=(1,), variant="nan", differentiable=False),
    red("count_nonzero", C(NANS), extra=((0, 1),), variant="nan", differentiable=False),
    # an all -inf slice: chainrule's gradient is 0 on purpose (LogsumexpBackward0), torch's NaN
    red("logsumexp", F64(NEG_INF), extra=(1,), variant="neg_inf", gradcheck=False,
        second_order=False, grad_vs_torch=False),
    red("logcumsumexp", F64(NEG_INF), extra=(1,), variant="neg_inf", gradcheck=False,
        second_order=False),
    red("amax", F64(NEG_INF), extra=(1,), variant="neg_inf", gradcheck=False,
        second_order=False),
    # ties: which index and how the gradient is shared
    red("max", F64(TIES), variant="ties", gradcheck=False, second_order=False),
    red("max", F64(TIES), extra=(1,), variant="ties_dim", gradcheck=False, second_order=False),
    red("min", F64(TIES), extra=(1,), variant="ties_dim", gradcheck=False, second_order=False),
    red("amin", F64(TIES), variant="ties", gradcheck=False, second_order=False),
    red("argmax", C(TIES), extra=(1,), variant="ties", differentiable=False),
    red("argmin", C(TIES), extra=(1,), variant="ties", differentiable=False),
    red("cummax", F64(TIES), extra=(1,), variant="ties", gradcheck=False, second_order=False),
    red("cummin", F64(TIES), extra=(1,), variant="ties", gradcheck=False, second_order=False),
    red("median", F64(TIES), extra=(1,), variant="ties", gradcheck=False, second_order=False),
    red("norm", F64(TIES), extra=(float("inf"),), variant="inf_ties", gradcheck=False,
        second_order=False),
    red("std", F64([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]]), extra=(1,), variant="constant_row",
        gradcheck=False, second_order=False),
    # values only: torch's gradient divides by N - correction < 0 where its value clamps it at 0
    red("var", N(*A), kw=dict(dim=1, correction=5), variant="correction_gt_n",
        differentiable=False),
    red("norm", F64(ZEROS), variant="zeros", gradcheck=False, second_order=False),
    red("norm", F64(ZEROS), extra=(1,), variant="p1_zeros", gradcheck=False,
        second_order=False),
    red("prod", F64([[0.0, 2.0, 0.0, 3.0]]), variant="two_zeros", gradcheck=False,
        second_order=False),
    red("cumprod", F64([[1.5, 0.0, 2.0, 0.0, 3.0]]), extra=(1,), variant="two_zeros",
        gradcheck=False, second_order=False),
    red("mean", N(*B), kw=dict(dim=(-1, 0)), variant="neg_dims"),
    red("amax", N(*B), kw=dict(dim=(-3, -1), keepdim=True), variant="neg_dims"),
    red("std", N(*B), kw=dict(dim=(-1, 0), keepdim=True), variant="neg_dims"),
    red("logsumexp", N(*B), kw=dict(dim=(-1, 0), keepdim=True), variant="neg_dims"),
    red("median", N(*B), kw=dict(dim=-2, keepdim=True), variant="keepdim"),
    red("mode", C([[1.0, 2.0, 2.0, 1.0], [3.0, 3.0, 3.0, 0.0]]), extra=(1,), variant="ties",
        differentiable=False),
]

INDEXING_EDGES = [
    # Python numbers written into integer tensors: truncated, or torch's overflow error
    E("masked_fill", I(0, 5, *A), MASK(*A), fn=lambda L, x, m: L.masked_fill(x, m, -1.5),
      variant="int_value", dtypes=("int64", "int8", "uint8"), differentiable=False),
    E("masked_fill", I(0, 5, *A), MASK(*A), fn=lambda L, x, m: L.masked_fill(x, m, 300),
      variant="int_overflow", dtypes=("int16", "int8"), differentiable=False),
    E("index_fill", I(0, 5, *A), IDX([1, 3]), fn=lambda L, x, i: L.index_fill(x, 1, i, 1e30),
      variant="int_overflow", dtypes=("int64", "int32"), differentiable=False),
    E("scatter", I(0, 5, *A), IDX([[2, 0, 1, 1]]), fn=lambda L, x, i: L.scatter(x, 0, i, 2.7),
      variant="int_value", dtypes=("int64", "uint8"), differentiable=False),
    E("gather", N(*A), IDX(np.zeros((3, 0), np.int64)), fn=lambda L, x, i: L.gather(x, 1, i),
      variant="empty_index"),
    E("gather", N(*A), IDX([[3, 1, 0]] * 3), fn=lambda L, x, i: L.gather(x, -1, i),
      variant="neg_dim"),
    E("gather", N(*A), IDX([[3, -1, 0]] * 3), fn=lambda L, x, i: L.gather(x, 1, i),
      variant="neg_index_raises", differentiable=False),
    E("index_select", N(*A), IDX(2), fn=lambda L, x, i: L.index_select(x, 0, i),
      variant="0d_index"),
    E("index_select", N(*A), IDX(np.zeros(0, np.int64)),
      fn=lambda L, x, i: L.index_select(x, 1, i), variant="empty_index"),
    E("index_fill", N(*A), IDX([-1, 0]), fn=lambda L, x, i: L.index_fill(x, 1, i, 2.0),
      variant="neg_index"),
    E("index_copy", N(*A), IDX([2, 0]), N(2, 4), fn=lambda L, x, i, s: L.index_copy(x, 0, i, s),
      variant="dim0"),
    E("masked_select", N(*A), BMASK([True, False, True, True]), variant="broadcast_mask"),
    E("masked_scatter", N(*A), BMASK([[True], [False], [True]]), N(3, 5),
      variant="broadcast_mask"),
    E("take", N(*B), IDX(-5), variant="0d_index"),
    E("put", N(*A), IDX([-1, -12]), N(2), variant="neg_index"),
    E("nonzero", I(0, 2), variant="0d", differentiable=False, dtypes=("int64", "float64")),
    E("nonzero", C(EMPTY), variant="empty", differentiable=False),
    E("unique", I(0, 4, 4, 3), kw=dict(dim=0, return_counts=True), variant="dim",
      dtypes=("int64",), differentiable=False),
    E("unique", C([3.0, np.nan, 1.0, 3.0]), variant="nan", differentiable=False),
    E("unique_consecutive", IDX([[1, 1], [1, 1], [2, 0], [2, 0], [1, 1]]),
      kw=dict(dim=0, return_inverse=True), variant="dim", differentiable=False),
    E("searchsorted", C([[-1.0, 0.0, 2.0], [0.0, 1.0, 5.0]]), C([[0.0, 3.0], [0.5, 1.0]]),
      kw=dict(side="left"), variant="batched", differentiable=False),
    E("searchsorted", C([3.0, -1.0, 1.0]), C([0.0, 2.0]), IDX([1, 2, 0]), variant="sorter",
      fn=lambda L, s, v, o: L.searchsorted(s, v, sorter=o), differentiable=False),
    E("bincount", IDX([1, 1, 4]), kw=dict(minlength=7), variant="minlength",
      differentiable=False),
    E("bincount", IDX(np.zeros(0, np.int64)), variant="empty", differentiable=False),
    E("take_along_dim", N(*B), IDX([[[1], [0], [3]]]), kw=dict(dim=-1), variant="broadcast"),
    E("scatter_add", N(*A), IDX(np.zeros((0, 4), np.int64)), N(0, 4), variant="empty",
      fn=lambda L, x, i, s: L.scatter_add(x, 0, i, s)),
    # torch's own backward raises here (a src gradient of the index's shape): gradcheck only
    E("scatter", N(*A), IDX([[1], [0]]), N(2, 3), variant="small_index",
      fn=lambda L, x, i, s: L.scatter(x, 1, i, s), grad_vs_torch=False),
    E("scatter_reduce", N(*A), IDX([[1, 1, 1, 1]]), N(1, 4), variant="prod_zero_src",
      fn=lambda L, x, i, s: L.scatter_reduce(x, 0, i, s * 0, "prod")),
    E("index_add", N(*A), IDX([-1, 0, -1]), N(3, 3), variant="neg_index_raises",
      fn=lambda L, x, i, s: L.index_add(x, 1, i, s), differentiable=False),
    E("Tensor.__getitem__", N(*A), fn=lambda L, x: x[True], variant="true"),
    E("Tensor.__getitem__", N(*A), fn=lambda L, x: x[x > 100], variant="empty_mask"),
    E("Tensor.__getitem__", N(*B), IDX([[0, 1]]), IDX([[2], [0]]),
      fn=lambda L, x, i, j: x[i, :, j], variant="separated_arrays"),
    E("Tensor.__getitem__", N(*A), fn=lambda L, x: x[L.tensor(1)], variant="0d_tensor"),
    E("Tensor.__getitem__", N(*A), fn=lambda L, x: x[[[0, 2], [1, 1]]], variant="nested_list"),
    # torch's (and chainrule's) gradient counts each repeated write, the last one wins the value
    E("Tensor.__setitem__", N(*A), N(4), fn=lambda L, x, v: _setitem(x, ([0, 0, 2],), v),
      variant="repeated_rows", gradcheck=False),
    E("Tensor.__setitem__", N(*A), fn=lambda L, x: _setitem(x, (Ellipsis, 1), x[:, 0]),
      variant="self_values"),
    E("Tensor.__setitem__", N(*A), N(2), fn=lambda L, x, v: _setitem(x, (L.tensor([1, 2]),
                                                                          L.tensor([3, 0])), v),
      variant="point_pairs"),
]

# ======================================================================================
def meth(name, *args, extra=(), kw=None, **opts):
    """An entry for a Tensor method: ``x.<name>(*extra, **kw)``."""
    short = name.split(".")[-1]
    kw = kw or {}
    return E(name, *args, fn=lambda L, x, *r: getattr(x, short)(*r, *extra, **kw), **opts)


SHAPE = [
    E("reshape", N(*B), extra=((4, -1),)), E("reshape", N(*A), extra=((12,),), variant="flat"),
    meth("Tensor.view", N(*B), extra=(6, 4)), meth("Tensor.view", N(*B), extra=(-1,),
                                                    variant="flat"),
    E("Tensor.view_as", N(2, 6), fn=lambda L, x: x.view_as(L.zeros(3, 4))),
    E("Tensor.reshape_as", N(*A), fn=lambda L, x: x.t().reshape_as(L.zeros(2, 6))),
    E("expand", N(3, 1), fn=lambda L, x: L.expand(x, 2, 3, 4) if hasattr(L, "expand")
      else x.expand(2, 3, 4)),
    meth("Tensor.expand", N(3, 1), extra=(-1, 4), variant="method"),
    E("Tensor.expand_as", N(*V), N(*A), fn=lambda L, x, y: x.expand_as(y) * y),
    E("broadcast_to", N(*V), extra=((2, 3, 4),)),
    E("broadcast_tensors", N(3, 1), N(*V)),
    E("squeeze", N(1, 3, 1, 4)), E("squeeze", N(1, 3, 1, 4), extra=(2,), variant="dim"),
    E("squeeze", N(1, 3, 1, 4), extra=((0, 2),), variant="dims"),
    E("unsqueeze", N(*A), extra=(1,)), E("unsqueeze", N(*A), extra=(-1,), variant="neg"),
    E("flatten", N(*B)), E("flatten", N(*B), extra=(1,), variant="start"),
    E("unflatten", N(*A), extra=(1, (2, 2))),
    E("permute", N(*B), extra=((2, 0, 1),)),
    meth("Tensor.permute", N(*B), extra=(1, 2, 0), variant="varargs"),
    E("transpose", N(*B), extra=(0, 2), aliases=("swapaxes", "swapdims")),
    E("t", N(*A)), E("t", N(*V), variant="1d"),
    E("movedim", N(*B), extra=((0, 1), (2, 0)), aliases=("moveaxis",)),
    meth("Tensor.repeat", N(*A), extra=(2, 1, 3)),
    E("repeat_interleave", N(*A), extra=(2,)),
    E("repeat_interleave", N(*A), IDX([1, 0, 3]), kw=dict(dim=0), variant="tensor"),
    E("tile", N(*A), extra=((2, 1, 2),)),
    E("cat", N(*A), N(2, 4), fn=lambda L, x, y: L.cat([x, y]), aliases=("concat", "concatenate"),
      method=False),
    E("cat", N(*A), N(3, 2), fn=lambda L, x, y: L.cat((x, y, x), dim=-1), variant="dim",
      method=False),
    E("stack", N(*A), N(*A), fn=lambda L, x, y: L.stack([x, y], dim=-1), method=False),
    E("hstack", N(*A), N(3, 2), fn=lambda L, x, y: L.hstack([x, y]), method=False),
    E("vstack", N(*A), N(1, 4), fn=lambda L, x, y: L.vstack([x, y]), method=False,
      aliases=("row_stack",)),
    E("dstack", N(*A), N(*A), fn=lambda L, x, y: L.dstack([x, y]), method=False),
    E("column_stack", N(3), N(3, 2), fn=lambda L, x, y: L.column_stack([x, y]), method=False),
    E("split", N(*A), extra=(2, 1)), E("split", N(*A), extra=([1, 3],), kw=dict(dim=-1),
                                       variant="sizes"),
    E("chunk", N(5, 2), extra=(3,)), E("unbind", N(*B), extra=(-1,)),
    E("tensor_split", N(2, 7), extra=(3,), kw=dict(dim=1)),
    E("tensor_split", N(5, 2), extra=([1, 3],), variant="indices"),
    E("hsplit", N(*A), extra=(2,)), E("vsplit", N(*A), extra=(3,)), E("dsplit", N(*B), extra=([1],)),
    E("narrow", N(*A), extra=(1, 1, 2)),
    E("flip", N(*B), extra=((0, 2),)), E("fliplr", N(*A)), E("flipud", N(*A)),
    E("roll", N(*B), extra=((1, -2), (0, 2))), E("roll", N(*A), extra=(2,), variant="flat"),
    E("rot90", N(*B), extra=(3, (1, 2))),
    E("tril", N(*A)), E("tril", N(*B), extra=(-1,), variant="k"),
    E("triu", N(*A), extra=(1,)),
    E("diag", N(*A)), E("diag", N(*V), extra=(1,), variant="vector"),
    E("diagonal", N(*B), extra=(1, 2, 0)), E("diag_embed", N(*A), extra=(1, 0, 2)),
    E("diagflat", N(2, 2), extra=(-1,)),
    E("atleast_1d", N(*A), fn=lambda L, x: L.atleast_1d(x.sum()), method=False),
    E("atleast_2d", N(*V), N(*A), fn=lambda L, x, y: L.atleast_2d(x, y.sum()), method=False),
    E("atleast_3d", N(*V), N(*A), fn=lambda L, x, y: L.atleast_3d((x, y)), method=False),
    E("ravel", N(*A), fn=lambda L, x: L.ravel(x.t())),
    E("meshgrid", N(*V), N(3), fn=lambda L, x, y: L.meshgrid(x, y, indexing="xy"),
      method=False),
    E("block_diag", N(2, 2), N(1, 3), N(2)),
    E("cartesian_prod", N(3), N(2)),
    E("combinations", N(4), kw=dict(r=2)),
    E("combinations", N(4), kw=dict(r=2, with_replacement=True), variant="replacement"),
    E("clone", N(*A)), meth("Tensor.contiguous", N(*A)),
    E("select", N(*B), extra=(1, -1)),
    E("pixel_shuffle", N(1, 8, 2, 3), extra=(2,), aliases=("F.pixel_shuffle",)),
    E("pixel_unshuffle", N(1, 2, 4, 6), extra=(2,), aliases=("F.pixel_unshuffle",)),
    E("vander", N(4), kw=dict(N=3), grad_vs_torch=False,  # torch's backward raises
      dtypes=FLOATS + ("int64",)),
    E("linalg.vander", N(4), dtypes=FLOATS + ("int64",)),
    E("vander", I(-3, 3, 4), variant="int32", dtypes=("int32",), differentiable=False),
    E("linalg.vander", I(-3, 3, 4), variant="int32", dtypes=("int32",), differentiable=False),
    E("trace", N(*A), dtypes=FLOATS + ("int64", "int32")),
    E("trace", I(0, 2, *A), variant="bool", dtypes=("bool",), differentiable=False),
    # Tensor conversions and queries
    meth("Tensor.double", U(-2, 2, *A), dtypes=("float32",)),
    meth("Tensor.float", N(*A), gradcheck=False),
    meth("Tensor.half", N(*A), dtypes=("float32",), differentiable=False, rtol32=1e-3),
    meth("Tensor.int", N(*A), differentiable=False), meth("Tensor.long", N(*A),
                                                          differentiable=False),
    meth("Tensor.short", N(*A), differentiable=False), meth("Tensor.char", N(*A),
                                                            differentiable=False),
    meth("Tensor.byte", U(0, 9, *A), differentiable=False),
    meth("Tensor.bool", I(-1, 2, *A), differentiable=False),
    E("Tensor.to", N(*A), fn=lambda L, x: x.to(L.float32), gradcheck=False),
    E("Tensor.to", N(*A), fn=lambda L, x: x.to("cpu", L.float64), variant="device_dtype"),
    E("Tensor.type", N(*A), fn=lambda L, x: (x.type(), x.type(L.float32)), gradcheck=False),
    E("Tensor.type_as", N(*A), fn=lambda L, x: x.type_as(L.zeros(1, dtype=L.float32)), gradcheck=False),
    meth("Tensor.cpu", N(*A)),
    meth("Tensor.detach", N(*A), differentiable=False),
    E("Tensor.detach_", N(*A), fn=lambda L, x: (x * 2).detach_(), differentiable=False),
    meth("Tensor.item", N(1, 1), differentiable=False),
    meth("Tensor.tolist", N(*A), differentiable=False),
    E("Tensor.numpy", N(*A), fn=lambda L, x: L.tensor(x.detach().numpy() * 2),
      differentiable=False),
    meth("Tensor.dim", N(*B), differentiable=False),
    meth("Tensor.ndimension", N(*B), differentiable=False),
    E("numel", N(*B), differentiable=False),
    meth("Tensor.nelement", N(*B), differentiable=False),
    meth("Tensor.size", N(*B), differentiable=False),
    meth("Tensor.size", N(*B), extra=(-1,), variant="dim", differentiable=False),
    E("Tensor.stride", N(*B), fn=lambda L, x: (x.stride(), x.transpose(0, 2).stride(),
                                               x.stride(1)),
      differentiable=False),
    E("Tensor.storage_offset", N(*B), fn=lambda L, x: (x.storage_offset(),
                                                       x[1:, 1].storage_offset()),
      differentiable=False),
    E("Tensor.is_contiguous", N(*B), fn=lambda L, x: (x.is_contiguous(),
                                                      x.transpose(0, 1).is_contiguous()),
      differentiable=False),
    meth("Tensor.element_size", N(*A), differentiable=False),
    E("is_floating_point", N(*A), fn=lambda L, x: (L.is_floating_point(x),
                                                   L.is_floating_point(x.long())),
      differentiable=False),
    E("is_complex", N(*A), differentiable=False),
    E("is_tensor", N(*A), fn=lambda L, x: (L.is_tensor(x), L.is_tensor(1.0)),
      differentiable=False),
    meth("Tensor.is_inference", N(*A), differentiable=False),
    E("Tensor.new_zeros", N(*A), fn=lambda L, x: x.new_zeros(2, 3), differentiable=False),
    E("Tensor.new_ones", N(*A), fn=lambda L, x: x.new_ones((2,)), differentiable=False),
    E("Tensor.new_full", N(*A), fn=lambda L, x: x.new_full((2, 2), 1.5), differentiable=False),
    E("Tensor.new_empty", N(*A), fn=lambda L, x: x.new_empty(2, 3), differentiable=False,
      values=False),
    E("Tensor.new_tensor", N(*A), fn=lambda L, x: x.new_tensor([1, 2]), differentiable=False),
    E("Tensor.fill_", N(*A), fn=lambda L, x: (x * 1).fill_(2.5) * x),
    meth("Tensor.unfold", N(3, 7), extra=(1, 3, 2)),
    meth("Tensor.unfold", N(2, 3, 5), extra=(-1, 2, 1), variant="last_dim"),
    E("Tensor.get_device", N(*A), fn=lambda L, x: x.get_device(), differentiable=False),
    E("Tensor.new", N(*A), fn=lambda L, x: (x.new([1.0, 2.0]), x.new(2, 3).shape),
      differentiable=False),
    E("Tensor.resize_", N(*A), fn=lambda L, x: x.detach().clone().resize_(2, 6),
      differentiable=False),
    E("Tensor.resize_as_", N(*A), fn=lambda L, x: x.detach().clone().resize_as_(L.zeros(6, 2)),
      differentiable=False),
    E("Tensor.fill_diagonal_", N(*A), fn=lambda L, x: (x * 1).fill_diagonal_(-1.5)),
    E("Tensor.fill_diagonal_", N(5, 2), fn=lambda L, x: (x * 1).fill_diagonal_(2.0, wrap=True),
      variant="wrap"),
    E("Tensor.zero_", N(*A), fn=lambda L, x: (x * 1).zero_() + x),
    E("Tensor.copy_", N(*A), N(*V), fn=lambda L, x, y: (x * 1).copy_(y) * x),
    E("Tensor.requires_grad_", N(*A), fn=lambda L, x: (x.detach() * 2).requires_grad_()
      .requires_grad, differentiable=False),
    # the op detaches / rescales gradients on purpose: vs torch only, no central differences
    E("Tensor.retain_grad", N(*A), fn=lambda L, x: _retained_grad(L, x), gradcheck=False),
    E("Tensor.register_hook", N(*A), fn=lambda L, x: _hooked_grad(L, x), gradcheck=False),
    E("Tensor.backward", N(*A), fn=lambda L, x: _backward_grad(L, x), differentiable=False),
]


def _leaf(x):
    """``x`` itself when it requires grad, else a detached copy that does (values test)."""
    return x if x.requires_grad else x.detach().requires_grad_()


def _retained_grad(L, x):
    """The retained gradient of an intermediate (as a value)."""
    x = _leaf(x)
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward(retain_graph=True)
    g = y.grad
    x.grad = None
    return y * g.detach()


def _hooked_grad(L, x):
    """A hook that triples the gradient flowing into y."""
    y = _leaf(x) * x
    y.register_hook(lambda g: g * 3)
    return y


def _backward_grad(L, x):
    x = x.detach().requires_grad_()
    (x.exp() * x).sum().backward()
    return x.grad

# ======================================================================================
# Indexing
# ======================================================================================
SCATTER_IDX = [[1, 0, 2, 2], [0, 2, 1, 0]]        # a (2, 4) index into dim 0 of a (3, 4)
UNIQUE_ROWS = [[2, 0, 1, 1], [0, 1, 2, 0]]        # per column distinct rows (scatter, copy)

INDEXING = [
    E("Tensor.__getitem__", N(*B), fn=lambda L, x: x[1, :, ::2]),
    E("Tensor.__getitem__", N(*A), IDX([2, 0, 2, -1]), fn=lambda L, x, i: x[i],
      variant="int_tensor"),
    E("Tensor.__getitem__", N(*A), BMASK([[True, False, True, True]] * 3),
      fn=lambda L, x, m: x[m], variant="mask"),
    E("Tensor.__getitem__", N(*B), fn=lambda L, x: x[None, ..., [0, 2, 2], 1:3],
      variant="mixed"),
    E("Tensor.__setitem__", N(*A), N(2, 4), fn=lambda L, x, v: _setitem(x, slice(0, 2), v)),
    E("Tensor.__setitem__", N(*A), fn=lambda L, x: _setitem(x, (x > 0), 0.5), variant="mask"),
    E("gather", N(*A), IDX(SCATTER_IDX), fn=lambda L, x, i: L.gather(x, 0, i)),
    E("gather", N(*B), IDX([[[3], [0], [1]], [[2], [2], [0]]]),
      fn=lambda L, x, i: L.gather(x, -1, i), variant="last_dim"),
    E("take_along_dim", N(*A), IDX([[0], [3], [1]]), kw=dict(dim=1)),
    E("take_along_dim", N(*A), IDX([5, 0, 11]), variant="flat"),
    E("scatter", N(*A), IDX(UNIQUE_ROWS), N(2, 4), fn=lambda L, x, i, s: L.scatter(x, 0, i, s)),
    E("scatter", N(*A), IDX(UNIQUE_ROWS), fn=lambda L, x, i: L.scatter(x, 0, i, 1.5),
      variant="value"),
    E("scatter", N(*A), IDX(SCATTER_IDX), N(2, 4), variant="reduce_add", differentiable=False,
      fn=lambda L, x, i, s: L.scatter(x, 0, i, s, reduce="add")),
    E("scatter_add", N(*A), IDX(SCATTER_IDX), N(2, 4),
      fn=lambda L, x, i, s: L.scatter_add(x, 0, i, s)),
    E("index_select", N(*A), IDX([2, 0, 2]), fn=lambda L, x, i: L.index_select(x, 1, i)),
    E("index_add", N(*A), IDX([2, 0, 2]), N(3, 3),
      fn=lambda L, x, i, s: L.index_add(x, 1, i, s, alpha=2.0)),
    E("index_copy", N(*A), IDX([3, 0]), N(3, 2), fn=lambda L, x, i, s: L.index_copy(x, 1, i, s)),
    E("index_fill", N(*A), IDX([1, 3]), fn=lambda L, x, i: L.index_fill(x, 1, i, -2.0)),
    E("index_put", N(*A), IDX([0, 2, 2]), IDX([1, 1, 3]), N(3),
      fn=lambda L, x, i, j, v: L.index_put(x, (i, j), v, accumulate=True)),
    E("index_put", N(*A), IDX([0, 2]), N(2, 4), variant="rows",
      fn=lambda L, x, i, v: L.index_put(x, (i,), v)),
    E("index_put_", N(*A), IDX([0, 2]), IDX([1, 3]), N(2), method=False,
      fn=lambda L, x, i, j, v: L.index_put_(x * 1, (i, j), v)),
    E("masked_fill", N(*A), MASK(*A), fn=lambda L, x, m: L.masked_fill(x, m, -1.5)),
    E("masked_fill", N(*A), MASK(*V), fn=lambda L, x, m: L.masked_fill(x, m, L.tensor(0.5,
      dtype=x.dtype)), variant="broadcast_mask"),
    E("masked_scatter", N(*A), BMASK([[True, False, True, False]] * 3), N(*A)),
    E("masked_select", N(*A), MASK(*A)),
    E("take", N(*A), IDX([[0, 11], [5, -1]])),
    E("put", N(*A), IDX([0, 5, 11]), N(3), kw=dict(accumulate=False)),
    E("put", N(*A), IDX([0, 5, 0]), N(3), kw=dict(accumulate=True), variant="accumulate"),
    E("nonzero", I(-1, 2, *A), dtypes=("float64", "int64"), differentiable=False),
    E("nonzero", I(-1, 2, *A), kw=dict(as_tuple=True), variant="as_tuple",
      differentiable=False),
    E("nonzero_static", I(-1, 2, *A), kw=dict(size=5), differentiable=False),
    E("argwhere", I(-1, 2, *A), differentiable=False),
    E("select_scatter", N(*A), N(4), extra=(0, 1)),
    E("slice_scatter", N(*A), N(3, 2), kw=dict(dim=1, start=1, end=3)),
    E("diagonal_scatter", N(*A), N(3), extra=(0,)),
    E("bincount", RIDX(5, 7), differentiable=False, dtypes=("int64",)),
    E("bincount", RIDX(5, 7), U(0, 1, 7), fn=lambda L, i, w: L.bincount(i, w, minlength=6),
      variant="weights", dtypes=("float64",), differentiable=False),
    E("bucketize", N(*A), C([-1.0, 0.0, 1.5]), differentiable=False),
    E("searchsorted", C([-1.0, 0.0, 1.5, 2.0]), N(*A), differentiable=False,
      kw=dict(right=True)),
    E("unique", I(0, 4, 9), kw=dict(return_inverse=True, return_counts=True),
      dtypes=("float64", "int64"), differentiable=False),
    E("unique_consecutive", IDX([1, 1, 2, 2, 3, 1, 1]), kw=dict(return_counts=True),
      differentiable=False),
    E("tril_indices", fn=lambda L: L.tril_indices(3, 4, 1), differentiable=False),
    E("triu_indices", fn=lambda L: L.triu_indices(4, 3, -1), differentiable=False),
    E("scatter_reduce", N(*A), IDX(SCATTER_IDX), N(2, 4), variant="sum",
      fn=lambda L, x, i, s: L.scatter_reduce(x, 0, i, s, "sum")),
    E("scatter_reduce", N(*A), IDX(SCATTER_IDX), N(2, 4), variant="prod",
      fn=lambda L, x, i, s: L.scatter_reduce(x, 0, i, s, "prod")),
    E("scatter_reduce", N(*A), IDX(SCATTER_IDX), N(2, 4), variant="mean_exclude_self",
      fn=lambda L, x, i, s: L.scatter_reduce(x, 0, i, s, "mean", include_self=False)),
    E("scatter_reduce", N(*A), IDX(SCATTER_IDX), N(2, 4), variant="amax",
      fn=lambda L, x, i, s: L.scatter_reduce(x, 0, i, s, "amax")),
    E("scatter_reduce", N(*A), IDX(SCATTER_IDX), N(2, 4), variant="amin",
      fn=lambda L, x, i, s: L.scatter_reduce(x, 0, i, s, "amin", include_self=False)),
    E("index_reduce", N(*A), IDX([2, 0, 2]), N(3, 3), variant="prod",
      fn=lambda L, x, i, s: L.index_reduce(x, 1, i, s, "prod")),
    E("index_reduce", N(*A), IDX([2, 0, 2]), N(3, 3), variant="mean",
      fn=lambda L, x, i, s: L.index_reduce(x, 1, i, s, "mean", include_self=False)),
    E("index_reduce", N(*A), IDX([2, 0, 2]), N(3, 3), variant="amax",
      fn=lambda L, x, i, s: L.index_reduce(x, 1, i, s, "amax")),
]


def _setitem(x, key, value):
    y = x * 1
    y[key] = value
    return y

# ======================================================================================
# Linear algebra
# ======================================================================================
def lin(name, *args, **opts):
    opts.setdefault("rtol", 1e-8)
    opts.setdefault("atol", 1e-10)
    opts.setdefault("rtol32", 1e-4)
    opts.setdefault("atol32", 1e-4)
    return E(name, *args, **opts)


def _sym(a):
    return (a + a.mT) / 2


def _svd_invariants(L, r):
    """Singular values and U @ Vh: both free of the singular vectors' signs."""
    u, s, vh = r
    return s, u @ vh


def _vh(u, s, v):
    """torch.svd returns V; linalg.svd returns Vh."""
    return u, s, v.mT


def _eigh_invariants(r):
    w, v = r
    return w, v * v


LINALG = [
    lin("matmul", N(2, 1, 3, 4), N(3, 4, 2), second_order=True, aliases=("linalg.matmul",)),
    lin("matmul", N(4), N(2, 4, 3), variant="vec_mat"),
    lin("mm", N(*A), N(4, 2), second_order=True), lin("bmm", N(2, 3, 4), N(2, 4, 2)),
    lin("mv", N(*A), N(4)), lin("dot", N(5), N(5)), lin("vdot", N(4), N(4)),
    lin("inner", N(2, 4), N(*A)), lin("outer", N(3), N(4), aliases=("ger",)),
    lin("addmm", N(4), N(3, 5), N(5, 4), kw=dict(beta=0.5, alpha=2.0), second_order=True,
        inplace=False),
    lin("addmm", N(3, 4), N(3, 5), N(5, 4), variant="same_shape"),
    lin("addmv", N(3), N(3, 5), N(5), kw=dict(alpha=-1.5)),
    lin("addbmm", N(3, 5), N(2, 3, 4), N(2, 4, 5), kw=dict(alpha=0.5)),
    lin("baddbmm", N(3, 1), N(2, 3, 4), N(2, 4, 5), kw=dict(beta=2.0), inplace=False),
    lin("baddbmm", N(2, 3, 5), N(2, 3, 4), N(2, 4, 5), kw=dict(alpha=-1.0), variant="same_shape"),
    lin("addr", N(*A), N(3), N(4), kw=dict(beta=2.0, alpha=0.5)),
    lin("einsum", N(2, 3, 4), N(2, 4, 2), fn=lambda L, a, b: L.einsum("bij,bjk->bik", a, b),
        second_order=True),
    lin("einsum", N(4, 4), fn=lambda L, a: L.einsum("ii->i", a), variant="diag"),
    lin("tensordot", N(2, 3, 4), N(4, 5, 2), extra=(([0, 2], [2, 0]),)),
    lin("kron", N(2, 3), N(3, 2)),
    lin("cross", N(2, 3), N(2, 3), kw=dict(dim=1)),
    lin("linalg.cross", N(4, 3), N(1, 3)),
    lin("linalg.vecdot", N(*A), N(*V)),
    lin("linalg.multi_dot", N(2, 3), N(3, 4), N(4),
        fn=lambda L, a, b, c: L.linalg.multi_dot([a, b, c])),
    lin("chain_matmul", N(2, 3), N(3, 4), N(4, 2), method=False),
    lin("linalg.inv", WELL(3, 2), aliases=("inverse",), second_order=True),
    lin("linalg.inv_ex", WELL(3), fn=lambda L, a: L.linalg.inv_ex(a).inverse),
    lin("linalg.det", N(2, 3, 3), aliases=("det",), second_order=True),
    lin("linalg.slogdet", N(2, 3, 3), aliases=("slogdet",)),
    lin("logdet", SPD(3)),
    lin("linalg.solve", WELL(3), N(3, 2), second_order=True),
    lin("linalg.solve", WELL(3), N(2, 3), kw=dict(left=False), variant="right"),
    lin("linalg.solve_ex", WELL(3), N(3), fn=lambda L, a, b: L.linalg.solve_ex(a, b).result),
    lin("linalg.solve_triangular", Arg(lambda r: np.triu(r.standard_normal(M)) + 3 * np.eye(3)),
        N(3, 2), kw=dict(upper=True)),
    lin("triangular_solve", N(3, 2), Arg(lambda r: np.triu(r.standard_normal(M)) + 3 * np.eye(3)),
        kw=dict(upper=True)),
    # symmetric inputs made explicit, so that central differences see what the op reads
    lin("linalg.cholesky", SPD(3, 2), fn=lambda L, a: L.linalg.cholesky(_sym(a)),
        aliases=("cholesky",), second_order=True),
    lin("linalg.cholesky_ex", SPD(3), fn=lambda L, a: L.linalg.cholesky_ex(_sym(a)).L),
    # torch differentiates the factor as a full matrix; LAPACK reads its lower triangle only
    lin("cholesky_inverse", Arg(lambda r: np.tril(r.standard_normal(M)) + 3 * np.eye(3)),
        fn=lambda L, a: L.cholesky_inverse(L.tril(a))),
    lin("cholesky_solve", N(3, 2), Arg(lambda r: np.tril(r.standard_normal(M)) + 3 * np.eye(3)),
        fn=lambda L, b, a: L.cholesky_solve(b, L.tril(a))),
    lin("linalg.qr", WELL(3), fn=lambda L, a: tuple(L.linalg.qr(a))),
    lin("qr", N(4, 3), fn=lambda L, a: tuple(L.qr(a))),
    lin("linalg.svd", N(*A), fn=lambda L, a: _svd_invariants(L, L.linalg.svd(
        a, full_matrices=False))),
    lin("svd", N(*A), fn=lambda L, a: _svd_invariants(L, _vh(*L.svd(a)))),
    lin("linalg.svdvals", N(2, 3, 4)),
    lin("linalg.eigh", SPD(3), fn=lambda L, a: _eigh_invariants(L.linalg.eigh(_sym(a)))),
    lin("linalg.eigvalsh", SPD(3, 2), fn=lambda L, a: L.linalg.eigvalsh(_sym(a))),
    # complex results: the (positive) eigenvalues of an SPD matrix, through abs, sorted
    lin("linalg.eig", SPD(3), fn=lambda L, a: L.sort(L.linalg.eig(a)[0].abs()).values,
        differentiable=False),
    lin("linalg.eigvals", SPD(3), fn=lambda L, a: L.sort(L.linalg.eigvals(a).abs()).values,
        differentiable=False),
    lin("linalg.lstsq", N(4, 3), N(4, 2), fn=lambda L, a, b: L.linalg.lstsq(a, b).solution),
    lin("linalg.lu", WELL(3), fn=lambda L, a: tuple(L.linalg.lu(a))),
    lin("linalg.lu_factor", WELL(3), fn=lambda L, a: tuple(L.linalg.lu_factor(a))),
    lin("linalg.lu_factor_ex", WELL(3), fn=lambda L, a: tuple(L.linalg.lu_factor_ex(a))[:2]),
    lin("linalg.lu_solve", WELL(3), N(3, 2),
        fn=lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor(a), b)),
    lin("lu", WELL(3), fn=lambda L, a: tuple(L.lu(a)), method=False),
    lin("lu_solve", N(3, 2), WELL(3), fn=lambda L, b, a: L.lu_solve(b, *L.linalg.lu_factor(a))),
    lin("lu_unpack", WELL(3), fn=lambda L, a: tuple(L.lu_unpack(*L.linalg.lu_factor(a))),
        method=False),
    lin("linalg.matrix_exp", N(3, 3, scale=0.1), aliases=("matrix_exp",)),
    lin("linalg.matrix_power", N(3, 3), extra=(3,), aliases=("matrix_power",)),
    lin("linalg.matrix_power", WELL(3), extra=(-2,), variant="negative"),
    lin("linalg.matrix_rank", N(*A), differentiable=False),
    lin("linalg.pinv", N(*A), aliases=("pinverse",)),
    lin("linalg.cond", WELL(3)),
    lin("linalg.tensorinv", WELL(4), fn=lambda L, a: L.linalg.tensorinv(a.reshape(4, 2, 2),
                                                                       ind=1)),
    lin("linalg.tensorsolve", WELL(4), N(4),
        fn=lambda L, a, b: L.linalg.tensorsolve(a.reshape(2, 2, 4), b.reshape(2, 2))),
    lin("linalg.diagonal", N(*B), kw=dict(offset=1)),
    lin("cdist", N(3, 2), N(4, 2)), lin("cdist", N(3, 2), N(4, 2), kw=dict(p=1.0),
                                        variant="p1"),
]

# ======================================================================================
# nn.functional
# ======================================================================================
def nnf(name, *args, **opts):
    """An entry for ``torch.nn.functional.<name>``; never a Tensor method."""
    opts.setdefault("rtol", 1e-9)
    opts.setdefault("atol", 1e-11)
    return E("F." + name, *args, **opts)


def act(name, dom=None, kw=None, **opts):
    opts.setdefault("second_order", True)
    return nnf(name, dom or U(-3, 3, *A), kw=kw, **opts)


def _away(kinks, lo=-4.0, hi=4.0, gap=0.05):
    """Uniform values at least ``gap`` away from each kink."""
    def make(rng):
        x = rng.uniform(lo, hi, A)
        for k in kinks:
            near = np.abs(x - k) < gap
            x[near] = k + np.where(x[near] >= k, 2 * gap, -2 * gap)
        return x
    return Arg(make)


def _targets(n_class, *shape):
    return RIDX(n_class, *shape)


ACTIVATIONS = [
    act("relu6", _away((0, 6), -2, 8)),
    act("leaky_relu", _away((0,)), kw=dict(negative_slope=0.2)),
    act("elu", _away((0,)), kw=dict(alpha=0.7)), act("selu", _away((0,)), aliases=("selu",)),
    act("celu", _away((0,)), kw=dict(alpha=1.3), atol=1e-7, aliases=("celu",)),
    act("gelu"), act("gelu", kw=dict(approximate="tanh"), variant="tanh"),
    act("silu"), act("mish"), act("softplus"),
    act("softplus", _away((1.5,)), kw=dict(beta=2.0, threshold=3.0), variant="threshold"),
    act("softsign"), act("hardtanh", _away((-0.5, 2.0)), kw=dict(min_val=-0.5, max_val=2.0)),
    act("hardsigmoid", _away((-3, 3), -5, 5), atol=1e-7),
    act("hardswish", _away((-3, 3), -5, 5)),
    act("logsigmoid"), act("tanhshrink"),
    act("threshold", _away((0.3,)), extra=(0.3, -2.0), aliases=("threshold",)),
    act("softshrink", _away((-0.7, 0.7)), kw=dict(lambd=0.7)),
    act("hardshrink", _away((-0.7, 0.7)), kw=dict(lambd=0.7), aliases=("hardshrink",)),
    act("rrelu", _away((0,)), kw=dict(training=False), aliases=("rrelu",)),
    act("relu_", _away((0,)), fn=lambda L, x: L.nn.functional.relu_(x * 1)),
    act("elu_", _away((0,)), fn=lambda L, x: L.nn.functional.elu_(x * 1, alpha=0.5)),
    act("leaky_relu_", _away((0,)), fn=lambda L, x: L.nn.functional.leaky_relu_(x * 1, 0.3)),
    act("hardtanh_", _away((-1, 1)), fn=lambda L, x: L.nn.functional.hardtanh_(x * 1)),
    act("threshold_", _away((0.3,)), fn=lambda L, x: L.nn.functional.threshold_(x * 1, 0.3,
                                                                                 -1.0)),
    act("rrelu_", _away((0,)), fn=lambda L, x: L.nn.functional.rrelu_(x * 1, training=False)),
    # torch's top-level in-place forms
    E("relu_", _away((0,)), fn=lambda L, x: L.relu_(x * 1), second_order=True),
    E("rrelu_", _away((0,)), fn=lambda L, x: L.rrelu_(x * 1, training=False)),
    E("threshold_", _away((0.3,)), fn=lambda L, x: L.threshold_(x * 1, 0.3, -1.0)),
    act("softmax", N(*B), kw=dict(dim=1), aliases=("softmax",)),
    act("log_softmax", N(*B), kw=dict(dim=-1), aliases=("log_softmax",)),
    act("softmin", N(*A), kw=dict(dim=0)),
    act("glu", N(3, 4), kw=dict(dim=-1)),
    nnf("prelu", _away((0,)), C([0.25]), aliases=("prelu",)),
    nnf("prelu", N(2, 3, 4), F64([0.1, -0.3, 0.7]), variant="channels"),
    nnf("dropout", N(*A), kw=dict(p=0.5, training=False), variant="eval"),
    E("dropout", N(*A), extra=(0.5, False), variant="eval"),
    nnf("dropout1d", N(2, 3, 4), kw=dict(training=False), variant="eval"),
    nnf("dropout2d", N(2, 3, 2, 2), kw=dict(training=False), variant="eval"),
    nnf("dropout3d", N(2, 3, 2, 2, 1), kw=dict(training=False), variant="eval"),
    nnf("alpha_dropout", N(*A), kw=dict(training=False), variant="eval"),
    nnf("feature_alpha_dropout", N(2, 3, 2), kw=dict(training=False), variant="eval"),
    E("alpha_dropout", N(*A), extra=(0.5, False), variant="eval"),  # (input, p, train)
    E("feature_alpha_dropout", N(2, 3, 2), extra=(0.5, False), variant="eval"),
    nnf("dropout", N(*A), kw=dict(p=0.0, training=True), variant="p0"),
]

LOSSES = [
    nnf("mse_loss", N(*A), N(*A), second_order=True),
    nnf("mse_loss", N(*A), CU(-1, 1, *A), kw=dict(reduction="none"), variant="none"),
    nnf("l1_loss", N(*A), N(*A)),
    nnf("huber_loss", N(*A), C(np.zeros(A)), kw=dict(delta=0.8)),
    nnf("smooth_l1_loss", N(*A), C(np.zeros(A)), kw=dict(beta=0.5, reduction="sum")),
    nnf("cross_entropy", N(*A), _targets(4, 3), second_order=True),
    nnf("cross_entropy", N(2, 4, 3), _targets(4, 2, 3), variant="spatial",
        kw=dict(label_smoothing=0.1, reduction="sum")),
    nnf("cross_entropy", N(*A), CU(0, 1, *A), variant="probabilities"),
    nnf("cross_entropy", N(*A), _targets(4, 3), C([1.0, 0.5, 2.0, 1.0]), variant="weight",
        fn=lambda L, x, t, w: L.nn.functional.cross_entropy(x, t, weight=w, ignore_index=1)),
    nnf("nll_loss", N(*A), _targets(4, 3)),
    nnf("nll_loss", N(2, 4, 3), _targets(4, 2, 3), kw=dict(reduction="none"), variant="2d"),
    nnf("binary_cross_entropy", U(0.1, 0.9, *A), CU(0, 1, *A)),
    nnf("binary_cross_entropy", U(0.1, 0.9, *A), CU(0, 1, *A), CU(0.5, 2, *A),
        variant="weight"),
    nnf("binary_cross_entropy_with_logits", N(*A), CU(0, 1, *A), second_order=True),
    nnf("binary_cross_entropy_with_logits", N(*A), CU(0, 1, *A), variant="pos_weight",
        fn=lambda L, x, t: L.nn.functional.binary_cross_entropy_with_logits(
            x, t, pos_weight=L.tensor([1.0, 2.0, 0.5, 3.0], dtype=x.dtype))),
    nnf("kl_div", N(*A), CU(0.1, 1, *A), kw=dict(reduction="batchmean")),
    nnf("kl_div", N(*A), N(*A), kw=dict(reduction="sum", log_target=True), variant="log_target"),
    nnf("soft_margin_loss", N(*A), C(np.sign(np.arange(12) % 3 - 0.5).reshape(A))),
    nnf("multilabel_soft_margin_loss", N(*A), C((np.arange(12) % 2).reshape(A))),
    nnf("multi_margin_loss", N(*A), _targets(4, 3), kw=dict(margin=1.5)),
    nnf("hinge_embedding_loss", N(*A), C(np.sign(np.arange(12) % 3 - 0.5).reshape(A))),
    nnf("margin_ranking_loss", N(5), N(5), C([1.0, -1.0, 1.0, 1.0, -1.0]), kw=dict(margin=0.1)),
    nnf("cosine_embedding_loss", N(3, 4), N(3, 4), C([1.0, -1.0, 1.0])),
    nnf("triplet_margin_loss", N(3, 4), N(3, 4), N(3, 4), kw=dict(margin=2.0)),
    nnf("poisson_nll_loss", N(*A), CU(0, 3, *A)),
    nnf("poisson_nll_loss", P(*A), CU(0, 3, *A), kw=dict(log_input=False, full=True),
        variant="full"),
    nnf("gaussian_nll_loss", N(*A), CU(-1, 1, *A), P(*A)),
    nnf("multilabel_margin_loss", N(*A), IDX([[3, 0, -1, 1], [1, 2, 3, -1], [0, -1, 2, 2]])),
    nnf("triplet_margin_with_distance_loss", N(*A), N(*A), N(*A), kw=dict(margin=1.5)),
    nnf("triplet_margin_with_distance_loss", N(*A), N(*A), N(*A), variant="custom",
        fn=lambda L, a, p, n: L.nn.functional.triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda u, v: (u - v).abs().sum(-1), swap=True)),
    # no second derivative, as in torch (derivative for _ctc_loss_backward not implemented)
    nnf("ctc_loss", N(5, 2, 4), IDX([[1, 2, 1], [3, 1, 2]]), second_order=False,
        fn=lambda L, x, t: L.nn.functional.ctc_loss(x.log_softmax(2), t, (5, 4), (2, 3))),
    nnf("ctc_loss", N(5, 2, 4), IDX([[1, 2, 1], [3, 1, 2]]), variant="sum", second_order=False,
        fn=lambda L, x, t: L.nn.functional.ctc_loss(
            x.log_softmax(2), t, L.tensor([5, 5]), L.tensor([3, 1]), reduction="sum")),
]

CONV = [
    nnf("linear", N(*B), N(5, 4), N(5), second_order=True),
    nnf("bilinear", N(3, 2), N(3, 4), N(5, 2, 4), N(5), aliases=("bilinear",)),
    nnf("conv1d", N(2, 3, 7), N(4, 3, 3), N(4), kw=dict(stride=2, padding=1),
        aliases=("conv1d",), second_order=True),
    nnf("conv2d", N(1, 4, 4, 4), N(4, 2, 3, 3), N(4), kw=dict(padding=1, groups=2,
                                                               dilation=(1, 2)),
        aliases=("conv2d",)),
    nnf("conv2d", N(1, 2, 5, 6), N(3, 2, 2, 3), kw=dict(padding="same"), variant="same"),
    nnf("conv3d", N(1, 2, 4, 4, 3), N(2, 2, 2, 3, 2), kw=dict(stride=(1, 2, 1)),
        aliases=("conv3d",)),
    nnf("conv_transpose1d", N(2, 3, 5), N(3, 2, 3), N(2), kw=dict(stride=2, output_padding=1),
        aliases=("conv_transpose1d",)),
    nnf("conv_transpose2d", N(1, 4, 3, 4), N(4, 1, 3, 2), kw=dict(stride=2, padding=1,
                                                                  groups=2),
        aliases=("conv_transpose2d",)),
    nnf("conv_transpose3d", N(1, 2, 2, 3, 2), N(2, 2, 2, 2, 2), aliases=("conv_transpose3d",)),
    nnf("max_pool1d", N(2, 3, 8), kw=dict(kernel_size=3, stride=2, padding=1),
        aliases=("max_pool1d",)),
    nnf("max_pool2d", N(1, 2, 5, 6), kw=dict(kernel_size=2, ceil_mode=True),
        aliases=("max_pool2d",)),
    nnf("max_pool2d", N(1, 2, 5, 6), kw=dict(kernel_size=3, stride=2, dilation=2,
                                             return_indices=True), variant="indices"),
    nnf("max_pool3d", N(1, 1, 4, 4, 2), kw=dict(kernel_size=2), aliases=("max_pool3d",)),
    nnf("avg_pool1d", N(2, 3, 8), kw=dict(kernel_size=3, stride=2, padding=1,
                                          count_include_pad=False), aliases=("avg_pool1d",)),
    nnf("avg_pool2d", N(1, 2, 5, 6), kw=dict(kernel_size=2, ceil_mode=True),
        aliases=("avg_pool2d",)),
    nnf("avg_pool2d", N(1, 2, 5, 6), kw=dict(kernel_size=3, padding=1, divisor_override=4),
        variant="divisor"),
    nnf("avg_pool3d", N(1, 1, 4, 4, 2), kw=dict(kernel_size=2), aliases=("avg_pool3d",)),
    nnf("adaptive_avg_pool1d", N(2, 3, 7), extra=(3,), aliases=("adaptive_avg_pool1d",)),
    nnf("adaptive_avg_pool2d", N(1, 2, 4, 5), extra=((2, 3),), aliases=("adaptive_avg_pool2d",)),
    nnf("adaptive_avg_pool3d", N(1, 1, 4, 3, 3), extra=(2,), aliases=("adaptive_avg_pool3d",)),
    nnf("adaptive_max_pool1d", N(2, 3, 7), extra=(3,)),
    E("adaptive_max_pool1d", N(2, 3, 7), extra=(3,)),
    nnf("adaptive_max_pool2d", N(1, 2, 4, 5), extra=((2, 3),), aliases=("adaptive_max_pool2d",)),
    nnf("adaptive_max_pool3d", N(1, 1, 4, 3, 3), extra=(2,), aliases=("adaptive_max_pool3d",)),
    nnf("lp_pool1d", P(2, 3, 8), extra=(2, 3), kw=dict(stride=2)),
    nnf("lp_pool2d", P(1, 2, 4, 6), extra=(3, 2)),
    nnf("unfold", N(1, 2, 4, 5), kw=dict(kernel_size=(2, 3), padding=1, stride=2)),
    nnf("fold", N(1, 8, 6), kw=dict(output_size=(3, 4), kernel_size=2)),
    nnf("pad", N(*B), extra=((1, 2, 0, 1),), kw=dict(value=0.5)),
    nnf("pad", N(1, 2, 5), extra=((2, 1),), kw=dict(mode="reflect"), variant="reflect"),
    nnf("pad", N(1, 2, 3, 4), extra=((1, 2, 2, 0),), kw=dict(mode="replicate"),
        variant="replicate"),
    nnf("pad", N(1, 2, 3, 4), extra=((1, 1, 2, 2),), kw=dict(mode="circular"),
        variant="circular"),
    nnf("interpolate", N(1, 2, 3, 4), kw=dict(scale_factor=2, mode="nearest")),
    nnf("interpolate", N(1, 2, 3, 4), kw=dict(size=(5, 7), mode="bilinear",
                                              align_corners=False), variant="bilinear"),
    nnf("interpolate", N(1, 2, 5), kw=dict(size=8, mode="linear", align_corners=True),
        variant="linear"),
    nnf("upsample", N(1, 2, 3, 4), kw=dict(scale_factor=2, mode="nearest")),
    nnf("embedding", IDX([[0, 2], [3, 2]]), N(4, 3)),
    E("embedding", N(4, 3), IDX([[0, 2], [3, 2]])),
    # the padding row gets no gradient by design: no central differences
    nnf("embedding", IDX([0, 2, 3, 2]), N(4, 3), kw=dict(padding_idx=2), variant="padding",
        gradcheck=False),
    nnf("embedding_bag", IDX([0, 2, 3, 2, 1]), N(4, 3), IDX([0, 2]),
        fn=lambda L, i, w, o: L.nn.functional.embedding_bag(i, w, o, mode="mean")),
    nnf("embedding_bag", IDX([[0, 2], [3, 1]]), N(4, 3), variant="sum_2d",
        fn=lambda L, i, w: L.nn.functional.embedding_bag(i, w, mode="sum")),
    nnf("embedding_bag", IDX([[0, 2], [3, 1]]), N(4, 3), variant="max",
        fn=lambda L, i, w: L.nn.functional.embedding_bag(i, w, mode="max")),
    nnf("affine_grid", N(2, 2, 3), kw=dict(size=(2, 1, 3, 4), align_corners=False)),
    nnf("affine_grid", N(1, 3, 4), kw=dict(size=(1, 1, 2, 3, 2), align_corners=True),
        variant="3d"),
    nnf("grid_sample", N(1, 2, 3, 4), U(-0.9, 0.9, 1, 2, 3, 2), kw=dict(align_corners=False)),
    nnf("grid_sample", N(1, 2, 3, 4), U(-1.2, 1.2, 1, 2, 3, 2), variant="border_nearest",
        kw=dict(mode="nearest", padding_mode="border", align_corners=True), gradcheck=False),
    nnf("max_unpool1d", N(2, 3, 8), fn=lambda L, x: L.nn.functional.max_unpool1d(
        *L.nn.functional.max_pool1d(x, 2, return_indices=True), 2)),
    nnf("max_unpool2d", N(1, 2, 4, 6), fn=lambda L, x: L.nn.functional.max_unpool2d(
        *L.nn.functional.max_pool2d(x, 2, return_indices=True), 2)),
    nnf("max_unpool3d", N(1, 1, 4, 4, 2), fn=lambda L, x: L.nn.functional.max_unpool3d(
        *L.nn.functional.max_pool3d(x, 2, return_indices=True), 2)),
    nnf("channel_shuffle", N(1, 6, 2, 2), extra=(3,)),
    nnf("native_channel_shuffle", N(1, 6, 2, 2), extra=(2,), grad_vs_torch=False),  # torch: none
    nnf("pdist", N(4, 3)), nnf("pdist", N(4, 3), kw=dict(p=1.0), variant="p1"),
    nnf("one_hot", IDX([0, 2, 1, 3]), kw=dict(num_classes=5), differentiable=False),
    nnf("pixel_shuffle", N(1, 8, 2, 3), extra=(2,), variant="method"),
    nnf("normalize", N(*B), kw=dict(dim=1)),
    nnf("cosine_similarity", N(*A), N(*A), aliases=("cosine_similarity",)),
    nnf("pairwise_distance", N(*A), N(*A), aliases=("pairwise_distance",)),
    nnf("scaled_dot_product_attention", N(2, 3, 4), N(2, 5, 4), N(2, 5, 2)),
    nnf("scaled_dot_product_attention", N(1, 4, 3), N(1, 4, 3), N(1, 4, 2),
        kw=dict(is_causal=True, scale=0.3), variant="causal"),
]

NORMS = [
    nnf("layer_norm", N(*B), extra=((3, 4),), aliases=("layer_norm",), second_order=True),
    nnf("layer_norm", N(*B), N(4), N(4), fn=lambda L, x, w, b: L.nn.functional.layer_norm(
        x, (4,), w, b), variant="affine"),
    nnf("batch_norm", N(4, 3, 2), N(3), N(3),
        fn=lambda L, x, w, b: L.nn.functional.batch_norm(x, None, None, w, b, training=True)),
    # torch.batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
    # cudnn_enabled)
    E("batch_norm", N(4, 3, 2), N(3), N(3),
      fn=lambda L, x, w, b: L.batch_norm(x, w, b, None, None, True, 0.1, 1e-5, False)),
    nnf("batch_norm", N(4, 3), C([0.1, -0.2, 0.3]), C([1.0, 2.0, 0.5]), variant="eval",
        fn=lambda L, x, m, v: L.nn.functional.batch_norm(x, m, v, training=False)),
    nnf("group_norm", N(2, 4, 3), extra=(2,), aliases=("group_norm",)),
    nnf("group_norm", N(2, 4, 3), N(4), N(4), fn=lambda L, x, w, b: L.nn.functional.group_norm(
        x, 2, w, b), variant="affine"),
    nnf("instance_norm", N(2, 3, 4)),
    nnf("local_response_norm", N(2, 4, 3), extra=(3,)),
    nnf("rms_norm", N(*B), N(4), fn=lambda L, x, w: L.nn.functional.rms_norm(x, (4,), w),
        aliases=("rms_norm",)),
]

NN_FUNCTIONAL = ACTIVATIONS + LOSSES + CONV + NORMS

# ======================================================================================
# Factories (no tensor inputs, or only a template)
# ======================================================================================
FACTORIES = [
    E(n, fn=f, differentiable=False) for n, f in [
        ("arange", lambda L: (L.arange(5), L.arange(1, 4, 0.5), L.arange(0, -3, -1))),
        ("eye", lambda L: (L.eye(3), L.eye(2, 4))),
        ("full", lambda L: (L.full((2, 3), 1.5), L.full((2,), 7))),
        ("linspace", lambda L: L.linspace(-1, 2, 7)),
        ("logspace", lambda L: L.logspace(0, 2, 5, base=3.0)),
        ("ones", lambda L: (L.ones(2, 3), L.ones((2,), dtype=L.int64))),
        ("zeros", lambda L: (L.zeros(2, 3), L.zeros((3,), dtype=L.bool))),
        ("tensor", lambda L: (L.tensor([[1, 2], [3, 4]]), L.tensor([1.5, 2]), L.tensor(True))),
        ("as_tensor", lambda L: L.as_tensor([1.0, 2.0])),
        ("asarray", lambda L: L.asarray([[1, 2]], dtype=L.float32)),
        ("scalar_tensor", lambda L: L.scalar_tensor(2.5)),
        ("from_numpy", lambda L: L.from_numpy(np.arange(6.0).reshape(2, 3))),
        ("frombuffer", lambda L: L.frombuffer(bytearray(np.arange(4, dtype=np.float32)
                                                        .tobytes()), dtype=L.float32)),
    ]
] + [
    E(n, differentiable=False, fn=lambda L, n=n: (getattr(L, n)(5), getattr(L, n)(4, periodic=False),
                                                  getattr(L, n)(1)))
    for n in ("bartlett_window", "blackman_window", "hamming_window", "hann_window")
] + [
    E("kaiser_window", differentiable=False,
      fn=lambda L: (L.kaiser_window(6), L.kaiser_window(5, periodic=False, beta=5.0))),
    E("empty", fn=lambda L: L.empty(2, 3), differentiable=False, values=False),
    E("empty_strided", fn=lambda L: L.empty_strided((2, 3), (3, 1)), differentiable=False,
      values=False),
    E("empty_like", N(*A), differentiable=False, values=False),
    E("zeros_like", N(*A), differentiable=False), E("ones_like", N(*A), differentiable=False),
    E("full_like", N(*A), extra=(2.5,), differentiable=False),
]

# ======================================================================================
# Other math (chainrule/_misc_ops.py) and queries
# ======================================================================================
def _cplx(L, x, y):
    """A complex tensor built from two real ones (its gradient reaches both)."""
    return L.complex(x, y) if hasattr(L, "complex") else x.to(L.complex128) + y * 1j


MISC = [
    # complex numbers: real inputs, and complex ones built differentiably from two real ones
    # (Tensor.real and Tensor.imag are properties, not methods)
    unary("conj"), unary("conj_physical"), unary("resolve_conj"),
    unary("resolve_neg"),
    E("real", N(*A), method=False), E("angle", NZ(0.1, 2, *A)),
    E("imag", N(*A), differentiable=False, method=False),  # torch raises for real tensors
    E("is_conj", N(*A), differentiable=False), E("is_neg", N(*A), differentiable=False),
    E("isreal", N(*A), differentiable=False),
    E("frexp", N(*A)),
    E("nextafter", N(*A), N(*A), differentiable=False),
    E("renorm", N(*A), extra=(2, 0, 1.0)),
    E("renorm", N(*B), extra=(1, 2, 0.5), variant="p1"),
    meth("Tensor.sum_to_size", N(*B), extra=(3, 1)),
    E("Tensor.apply_", N(*A), fn=lambda L, x: x.detach().clone().apply_(lambda v: v * 2 + 1),
      differentiable=False),
    E("Tensor.map_", N(*A), N(*A), differentiable=False,
      fn=lambda L, x, y: x.detach().clone().map_(y.detach(), lambda a, b: a - 2 * b)),
    E("real", N(*A), N(*A), variant="complex", dtypes=("float64",), method=False,
      fn=lambda L, x, y: L.real(x.to(L.complex128) * (1 + 2j) + y * 1j)),
    E("imag", N(*A), N(*A), variant="complex", dtypes=("float64",), method=False,
      fn=lambda L, x, y: L.imag(x.to(L.complex128) * (1 + 2j) + y * 1j)),
    E("angle", N(*A), N(*A), variant="complex", dtypes=("float64",), method=False,
      fn=lambda L, x, y: L.angle(x.to(L.complex128) * (1 + 2j) + y * 1j)),
    E("conj", N(*A), N(*A), variant="complex", dtypes=("float64",), method=False,
      fn=lambda L, x, y: L.conj(x.to(L.complex128) * (1 + 2j) + y * 1j).imag * x),
    unary("sinc", NZ(0.1, 2, *A)), unary("deg2rad"), unary("rad2deg"),
    E("gcd", I(-20, 20, *A), I(-20, 20, *A), dtypes=("int64", "int32"), differentiable=False),
    E("lcm", I(-12, 12, *A), I(-12, 12, *A), dtypes=("int64", "int32"), differentiable=False),
    E("heaviside", I(-1, 2, *A), C([0.5, 1.0, 0.0, 2.0]), dtypes=("float64", "float32"),
      differentiable=False),
    # non-negative exponents: torch's gradient computes 2**other in integers (2**-2 -> 0)
    E("ldexp", U(-2, 2, *A), IDX([[1, 2, 0, 3]])),
    red("quantile", N(*A), extra=(0.3,), kw=dict(dim=1)),
    red("quantile", N(*B), C([0.1, 0.5, 0.8]), kw=dict(dim=-1, keepdim=True),
        variant="tensor_q"),
    red("quantile", N(*A), extra=(0.4,), kw=dict(interpolation="midpoint"), variant="midpoint"),
    red("nanquantile", N(*A), extra=(0.7,), kw=dict(dim=0)),
    red("cov", N(3, 6)), red("cov", N(3, 6), kw=dict(correction=0), variant="correction"),
    red("corrcoef", N(3, 6)),
    red("diff", N(*B)), red("diff", N(*A), N(3, 1), kw=dict(dim=1, n=2), variant="prepend",
                            fn=lambda L, x, p: L.diff(x, 2, 1, prepend=p)),
    red("trapezoid", N(*A)), red("trapezoid", N(*A), N(4), kw=dict(), variant="x",
                                 fn=lambda L, y, x: L.trapezoid(y, x.sort().values)),
    red("trapz", N(*A), kw=dict(dx=0.5)),
    red("cumulative_trapezoid", N(*A), kw=dict(dim=0)),
    E("histc", N(*A), kw=dict(bins=5, min=-1.5, max=1.5), differentiable=False),
    E("histogram", N(*A), kw=dict(bins=4), differentiable=False,
      fn=lambda L, x: tuple(L.histogram(x, bins=4))),
    E("is_nonzero", N(1), differentiable=False),
    E("is_same_size", N(*A), N(*A), fn=lambda L, x, y: (L.is_same_size(x, y),
                                                        L.is_same_size(x, y[:1])),
      differentiable=False),
    E("is_signed", N(*A), fn=lambda L, x: (L.is_signed(x), L.is_signed(x.byte())),
      differentiable=False),
    E("unravel_index", IDX([0, 5, 11]), extra=((3, 4),), differentiable=False),
    E("typename", N(*A), differentiable=False),
    E("broadcast_shapes", fn=lambda L: L.broadcast_shapes((3, 1), (2, 1, 4)),
      differentiable=False),
    E("Tensor.data_ptr", N(*A), fn=lambda L, x: (x.data_ptr() == x[0].data_ptr(),
                                                 x.data_ptr() == x.clone().data_ptr()),
      differentiable=False),
    E("Tensor.share_memory_", N(*A), fn=lambda L, x: x.detach().clone().share_memory_() * 2,
      differentiable=False),
]

# Integer inputs of elementwise ops: float functions compute in the default dtype, the rest keep
# int64 (not where chainrule accepts what torch refuses: float alpha for integers, hypot and
# logaddexp of integers; pow has its own entry below)
_INT_PERMISSIVE = {"add-alpha", "sub", "rsub", "hypot", "logaddexp", "logaddexp2", "pow",
                   "nextafter"}
for _lst in (ELEMENTWISE, MISC):
    for _i, _e in enumerate(_lst):
        if (_e.dtypes == FLOATS and _e.id not in _INT_PERMISSIVE | {"div"}
                and all(a.kind != CONST for a in _e.args)):  # (no NaN to cast)
            _lst[_i] = dataclasses.replace(_e, dtypes=FLOATS + ("int64",))

# Known dtype differences on integer and bool inputs (values vs torch)
DTYPE_BUGS = [
    # float32 with float64: the float32 leaf's gradient comes back as float32, as in torch
    E("add", N(*A), N(*A), variant="mixed_dtype", fn=lambda L, x, y: L.add(x, y.double()),
      dtypes=("float32",), method=False, inplace=False),
    E("mul", N(*A), N(*A), variant="mixed_dtype", fn=lambda L, x, y: L.mul(x, y.double()),
      dtypes=("float32",), method=False, inplace=False),
    E("pow", I(-2, 3, *A), I(-2, 3, *A), variant="int_negative_exponent", dtypes=("int64",),
      differentiable=False, method=False, inplace=False),
    E("positive", I(0, 2, *A), variant="bool", dtypes=("bool",), differentiable=False,
      method=False),
    nnf("relu6", I(-3, 9, *A), variant="int", dtypes=("int64",), differentiable=False),
    nnf("hardtanh", I(-3, 3, *A), variant="int", dtypes=("int64",), differentiable=False),
    lin("addmm", I(-3, 3, 4), I(-3, 3, 3, 5), I(-3, 3, 5, 4), kw=dict(beta=0.5, alpha=2.0),
        variant="int", dtypes=("int64",), differentiable=False),
    nnf("avg_pool1d", I(-5, 5, 2, 3, 8), kw=dict(kernel_size=2), variant="int",
        dtypes=("int64",), differentiable=False),
    nnf("max_pool1d", I(0, 2, 2, 3, 8), kw=dict(kernel_size=2), variant="bool",
        dtypes=("bool",), differentiable=False),
    nnf("lp_pool1d", I(0, 5, 2, 3, 8), extra=(2, 2), variant="int", dtypes=("int64",),
        differentiable=False),
]

# Integer and bool inputs: ops that move or pick values keep the dtype (values vs torch)
ALL_DTYPES = FLOATS + ("int64", "int32", "bool")
for _i, _e in enumerate(SHAPE + INDEXING):
    if _e.dtypes == FLOATS and any(a.kind == FLOAT for a in _e.args):
        _e = dataclasses.replace(_e, dtypes=ALL_DTYPES)
        (SHAPE if _i < len(SHAPE) else INDEXING)[_i - (0 if _i < len(SHAPE) else len(SHAPE))] = _e
# (not the ops that return indices: integer inputs have ties)
INT_REDUCTIONS = {"sum", "prod", "cumsum", "cumprod", "amax", "amin", "nansum", "logsumexp",
                  "msort", "mean", "var", "std", "logcumsumexp", "norm", "dist"}
for _i, _e in enumerate(REDUCTION):
    if _e.name in INT_REDUCTIONS and _e.dtypes == FLOATS and _e.variant != "nan":
        REDUCTION[_i] = dataclasses.replace(_e, dtypes=FLOATS + ("int64", "int32", "bool"))

# the legacy typed constructors: from data, from a shape, and as isinstance checks
for _n, _dt in (("FloatTensor", "float32"), ("DoubleTensor", "float64"), ("HalfTensor", "float16"),
                ("LongTensor", "int64"), ("IntTensor", "int32"), ("ShortTensor", "int16"),
                ("CharTensor", "int8"), ("ByteTensor", "uint8"), ("BoolTensor", "bool")):
    FACTORIES.append(E(_n, differentiable=False, fn=lambda L, n=_n, dt=_dt: (
        getattr(L, n)([1, 0, 2]), getattr(L, n)(2, 3).shape,
        isinstance(L.zeros(2, dtype=getattr(L, dt)), getattr(L, n)),
        isinstance(L.zeros(2, dtype=L.float64 if dt != "float64" else L.float32),
                   getattr(L, n)))))

REDUCTION += REDUCTION_EDGES
INDEXING += INDEXING_EDGES

OPS = (ELEMENTWISE + REDUCTION + SHAPE + INDEXING + LINALG + NN_FUNCTIONAL + FACTORIES
       + MISC + DTYPE_BUGS)


# ======================================================================================
# Derived spellings: aliases, Tensor methods, in-place methods
# ======================================================================================
def _derived(ops):
    import chainrule

    out, done = [], set()
    for e in ops:
        for a in e.aliases:
            out.append(derive(e, a, "alias"))
        if e.name.startswith("Tensor."):
            continue
        # the method and in-place spellings come from the first entry that allows them
        for n in (e.name,) + e.aliases:
            if "." in n:
                continue
            for spelling, how, ok in (("Tensor." + n, "method", e.method),
                                      ("Tensor." + n + "_", "inplace", e.inplace)):
                if ok and spelling not in done and hasattr(chainrule.Tensor, spelling[7:]):
                    done.add(spelling)
                    out.append(derive(e, spelling, how))
    return out


CASES = OPS + _derived(OPS)


# ======================================================================================
# Coverage
# ======================================================================================
def public_names():
    """Callables in dir(chainrule), dir(chainrule.Tensor) (no underscore),
    dir(chainrule.nn.functional) ("F.x") and dir(chainrule.linalg) ("linalg.x")."""
    import chainrule
    import chainrule.linalg
    import chainrule.nn.functional

    names = set()
    for prefix, mod in (("", chainrule), ("Tensor.", chainrule.Tensor),
                        ("F.", chainrule.nn.functional), ("linalg.", chainrule.linalg)):
        for n in dir(mod):
            if n.startswith("_"):
                continue
            obj = getattr(mod, n)
            if callable(obj) and not inspect.ismodule(obj):
                names.add(prefix + n)
    return names


def covered_names():
    return {e.name for e in CASES}


_NOT_OP = "not an op: "
_RANDOM = "random: torch's generator cannot be matched; "
EXCLUDED = {
    # recurrent steps, checked against torch in test_rnn_fused.py (weights of 4H/3H rows)
    "lstm_cell": "test_rnn_fused.py: cell functions vs torch, with and without biases",
    "gru_cell": "test_rnn_fused.py: cell functions vs torch, with and without biases",
    "rnn_tanh_cell": "test_rnn_fused.py: cell functions vs torch, with and without biases",
    "rnn_relu_cell": "test_rnn_fused.py: cell functions vs torch, with and without biases",
    # spellings checked against torch in test_nn_spellings.py
    "F.upsample_nearest": "test_nn_spellings.py: deprecated interpolate(mode='nearest')",
    "F.upsample_bilinear": "test_nn_spellings.py: deprecated interpolate(mode='bilinear')",
    "F.max_pool1d_with_indices": "test_nn_spellings.py: max_pool1d(return_indices=True)",
    "F.max_pool2d_with_indices": "test_nn_spellings.py: max_pool2d(return_indices=True)",
    "F.max_pool3d_with_indices": "test_nn_spellings.py: max_pool3d(return_indices=True)",
    "F.adaptive_max_pool1d_with_indices": "test_nn_spellings.py: with return_indices=True",
    "F.adaptive_max_pool2d_with_indices": "test_nn_spellings.py: with return_indices=True",
    "F.adaptive_max_pool3d_with_indices": "test_nn_spellings.py: with return_indices=True",
    "F.selu_": "test_nn_spellings.py: selu(inplace=True)",
    "F.celu_": "test_nn_spellings.py: celu(inplace=True)",
    # spellings checked against torch in test_tensor_api.py
    "gradient": "test_tensor_api.py: finite differences of samples (values and gradients)",
    "complex": "test_tensor_api.py: builds a complex tensor from two float ones (gradients too)",
    "polar": "test_tensor_api.py: complex from abs and angle",
    "range": "test_tensor_api.py: deprecated arange with the end included",
    "pdist": "test_tensor_api.py: the top-level name of F.pdist (in the table)",
    "as_strided": "test_tensor_api.py: strided windows of the storage (a copy here)",
    "Tensor.as_strided": "test_tensor_api.py: strided windows of the storage (a copy here)",
    "view_as_real": "test_tensor_api.py: complex <-> real views (rotary embeddings)",
    "view_as_complex": "test_tensor_api.py: complex <-> real views (rotary embeddings)",
    "Tensor.adjoint": "test_tensor_api.py: mH under another name",
    "Tensor.cdouble": "test_tensor_api.py: a cast (to complex128)",
    "Tensor.cfloat": "test_tensor_api.py: a cast (to complex64)",
    "Tensor.is_pinned": "test_tensor_api.py: a query (always False on the CPU)",
    "Tensor.is_shared": "test_tensor_api.py: a query (always False)",
    "Tensor.narrow_copy": "test_tensor_api.py: narrow followed by clone",
    "Tensor.split_with_sizes": "test_tensor_api.py: split with a list of sizes",
    "Tensor.to_dense": "test_tensor_api.py: the identity (tensors are dense)",
    "Tensor.unsafe_chunk": "test_tensor_api.py: chunk under another name",
    "Tensor.unsafe_split": "test_tensor_api.py: split under another name",
    # short-time Fourier transforms, checked against torch in test_stft.py
    "stft": "test_stft.py: framed rfft/fft (values, signal and window gradients)",
    "istft": "test_stft.py: overlap-add inverse (values, spectrum and window gradients)",
    "Tensor.stft": "test_stft.py: the method spelling of stft",
    "Tensor.istft": "test_stft.py: the method spelling of istft",
    # the sparse COO layout, checked against torch in test_sparse.py
    "sparse_coo_tensor": "test_sparse.py: builds a COO tensor (values and gradients)",
    "Tensor.to_sparse": "test_sparse.py: dense -> COO (gradients reach the dense tensor)",
    "Tensor.coalesce": "test_sparse.py: COO duplicates summed, indices sorted",
    "Tensor.indices": "test_sparse.py: COO indices (an error on dense tensors)",
    "Tensor.values": "test_sparse.py: COO values (an error on dense tensors)",
    "Tensor.is_coalesced": "test_sparse.py: a COO query (an error on dense tensors)",
    "Tensor.sparse_dim": "test_sparse.py: a layout query",
    "Tensor.dense_dim": "test_sparse.py: a layout query",
    # types, dtype utilities, global state
    "Generator": "test_creation.py: a class (random generator state)",
    "Size": "test_creation.py: a class (shape tuple)",
    "Tensor": _NOT_OP + "the tensor class itself; its methods are listed one by one",
    "device": "test_creation.py: a class (device descriptor)",
    "dtype": "test_dtype.py: a class (dtype objects)",
    "finfo": _NOT_OP + "float type limits (chainrule/_finfo.py)",
    "iinfo": _NOT_OP + "integer type limits (chainrule/_finfo.py)",
    "can_cast": "test_dtype.py: dtype rule, not an op on tensors",
    "promote_types": "test_dtype.py: dtype rule, not an op on tensors",
    "result_type": "test_dtype.py: dtype rule, not an op on tensors",
    "get_default_dtype": "test_dtype.py: global setting",
    "set_default_dtype": "test_dtype.py: global setting",
    "get_printoptions": "test_tensor_str.py: printing setting",
    "set_printoptions": "test_tensor_str.py: printing setting",
    "printoptions": "test_tensor_str.py: printing setting (context manager)",
    "enable_grad": "test_grad_mode.py: grad mode context manager",
    "no_grad": "test_grad_mode.py: grad mode context manager",
    "set_grad_enabled": "test_grad_mode.py: grad mode context manager",
    "inference_mode": "test_grad_mode.py: grad mode context manager",
    "is_grad_enabled": "test_grad_mode.py: grad mode query",
    "is_inference_mode_enabled": "test_grad_mode.py: grad mode query",
    "load": "test_serialization.py: file I/O",
    "save": "test_serialization.py: file I/O",
    "get_default_device": _NOT_OP + "global setting (CPU only)",
    "set_default_device": _NOT_OP + "global setting (CPU only)",
    "set_default_tensor_type": _NOT_OP + "global setting (legacy default dtype)",
    "is_anomaly_enabled": _NOT_OP + "anomaly mode query",
    "layout": _NOT_OP + "a class (tensor layout descriptor)",
    "memory_format": _NOT_OP + "a class (memory format descriptor)",
    "GradScaler": _NOT_OP + "the AMP loss scaler (a class)",
    "vmap": "test_func.py: a function transform, not an op",
    "autocast": _NOT_OP + "mixed-precision context manager",
    "compile": _NOT_OP + "torch.compile stand-in that returns the model unchanged",
    "are_deterministic_algorithms_enabled": _NOT_OP + "global setting",
    "use_deterministic_algorithms": _NOT_OP + "global setting",
    "get_num_threads": _NOT_OP + "global setting",
    "set_num_threads": _NOT_OP + "global setting",
    "get_num_interop_threads": _NOT_OP + "global setting",
    "set_num_interop_threads": _NOT_OP + "global setting",
    "get_float32_matmul_precision": _NOT_OP + "global setting",
    "set_float32_matmul_precision": _NOT_OP + "global setting",
    "linalg.LinAlgError": "test_ops_linalg.py: an exception class",
    # random number generation
    "get_rng_state": "test_creation.py: random generator state",
    "set_rng_state": "test_creation.py: random generator state",
    "initial_seed": "test_creation.py: random generator state",
    "manual_seed": "test_creation.py: random generator state",
    "seed": "test_creation.py: random generator state",
    "bernoulli": "test_creation.py: " + _RANDOM + "tested there by shape, range and seeding",
    "multinomial": "test_creation.py: " + _RANDOM + "tested there by shape, range and seeding",
    "normal": "test_creation.py: " + _RANDOM + "tested there by shape, range and seeding",
    "rand": "test_creation.py: " + _RANDOM + "tested there by shape, range and seeding",
    "rand_like": "test_creation.py: " + _RANDOM + "tested there by shape, range and seeding",
    "randint": "test_creation.py: " + _RANDOM + "tested there by shape, range and seeding",
    "randint_like": "test_creation.py: " + _RANDOM + "tested there by shape, range and seeding",
    "randn": "test_creation.py: " + _RANDOM + "tested there by shape, range and seeding",
    "randn_like": "test_creation.py: " + _RANDOM + "tested there by shape, range and seeding",
    "randperm": "test_creation.py: " + _RANDOM + "tested there by shape, range and seeding",
    "pca_lowrank": "test_ops_linalg.py: " + _RANDOM + "randomised low-rank factorisation",
    "svd_lowrank": "test_ops_linalg.py: " + _RANDOM + "randomised low-rank factorisation",
    "F.gumbel_softmax": "test_nn_functional.py: " + _RANDOM + "seeded there",
    "Tensor.bernoulli": _RANDOM + "in-place/method sampling",
    "Tensor.bernoulli_": _RANDOM + "in-place sampling",
    "Tensor.multinomial": _RANDOM + "method sampling",
    "Tensor.cauchy_": _RANDOM + "in-place sampling",
    "Tensor.exponential_": _RANDOM + "in-place sampling",
    "Tensor.geometric_": _RANDOM + "in-place sampling",
    "Tensor.log_normal_": _RANDOM + "in-place sampling",
    "Tensor.normal_": "test_nn_modules.py: " + _RANDOM + "used by parameter init",
    "Tensor.uniform_": "test_nn_modules.py: " + _RANDOM + "used by parameter init",
    "Tensor.random_": _RANDOM + "in-place sampling",
    # autograd plumbing, memory placement
    "Tensor.register_post_accumulate_grad_hook": "test_hooks.py: autograd hook, not an op",
    "Tensor.cuda": "test_creation.py: device transfer (no CUDA in chainrule)",
    "Tensor.pin_memory": _NOT_OP + "page-locked memory; torch needs an accelerator for it",
}


def _node_classes():
    """nn.functional's namespace holds the backward node classes (``EluBackward0``, ...) its
    functions record: one exclusion per class, found by type so that a new one needs no edit."""
    import chainrule.nn.functional as F
    from chainrule.autograd.function import Node

    return [n for n in dir(F) if not n.startswith("_") and isinstance(getattr(F, n), type)
            and issubclass(getattr(F, n), Node) and n != "Node"]


for _n in _node_classes():
    EXCLUDED["F." + _n] = _NOT_OP + "a backward node class imported into nn.functional"
for _n in ("Node", "Tensor", "broadcast_error", "canon_dim", "edge", "shape_str", "sum_to", "xp"):
    EXCLUDED["F." + _n] = _NOT_OP + "an internal helper imported into nn.functional"

# The ops issue 3 names (a lower bound for the count).
ISSUE_OPS = """
abs sign sgn neg exp exp2 expm1 log log2 log10 log1p sqrt rsqrt square reciprocal sin cos tan
asin acos atan sinh cosh tanh asinh acosh atanh sigmoid logit erf erfc erfinv lgamma digamma
polygamma floor ceil round trunc frac clamp clamp_min clamp_max nan_to_num
add sub mul div floor_divide remainder fmod pow atan2 maximum minimum fmax fmin hypot logaddexp
where lerp addcmul addcdiv eq ne lt le gt ge logical_and logical_or logical_xor logical_not
bitwise_and bitwise_or bitwise_xor bitwise_not isnan isinf isfinite
sum mean prod max min amax amin argmax argmin var std norm linalg.vector_norm linalg.matrix_norm
logsumexp cumsum cumprod all any median mode topk sort argsort kthvalue
reshape Tensor.view transpose permute squeeze unsqueeze flatten cat stack split chunk
Tensor.expand broadcast_to flip roll
Tensor.__getitem__ gather scatter scatter_add index_select index_add masked_fill masked_select
take_along_dim
matmul mm bmm mv dot outer einsum linalg.inv linalg.det linalg.solve linalg.cholesky
linalg.qr linalg.svd linalg.eigh
F.relu F.gelu F.silu F.softmax F.log_softmax F.mse_loss F.cross_entropy F.nll_loss
F.binary_cross_entropy F.conv1d F.conv2d F.max_pool2d F.avg_pool2d F.layer_norm F.batch_norm
F.linear F.dropout F.embedding
""".split()


def summary():
    covered = covered_names() & public_names()
    return (f"{len(covered)} public ops in the table, {len(EXCLUDED)} public names excluded "
            f"with reasons")
