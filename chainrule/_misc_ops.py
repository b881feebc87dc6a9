"""Everyday extras users reach for: diff, histc, histogram, quantile, cov, trapezoid, sinc,
deg2rad, gcd, unravel_index, ... and the runtime knobs scripts set (threads, determinism).

Ops with their own PyTorch node (``Deg2RadBackward0``, ``SincBackward0``, ...) keep forward
and derivative together; the rest are compositions of existing ops, as in PyTorch (whose
``diff`` records a ``SubBackward0``), so their gradients come for free.

>>> import chainrule as torch
>>> torch.diff(torch.tensor([1, 4, 9, 16]))
tensor([3, 5, 7])
"""
from __future__ import annotations

import math

import numpy as np

from . import _dtype
from .autograd.function import Node
from .ops._broadcast import canon_dim, xp
from .ops.elementwise import _float, unary
from .ops.reduction import _return_type
from .tensor import Tensor, _make

__all__ = [
    "are_deterministic_algorithms_enabled",
    "as_strided",
    "bitwise_left_shift",
    "bitwise_right_shift",
    "compile",
    "corrcoef",
    "cov",
    "cumulative_trapezoid",
    "deg2rad",
    "diff",
    "frexp",
    "gcd",
    "get_default_device",
    "get_float32_matmul_precision",
    "get_num_interop_threads",
    "get_num_threads",
    "gradient",
    "heaviside",
    "histc",
    "histogram",
    "is_nonzero",
    "is_same_size",
    "is_signed",
    "isreal",
    "lcm",
    "ldexp",
    "nanquantile",
    "nextafter",
    "pdist",
    "polar",
    "positive",
    "quantile",
    "rad2deg",
    "renorm",
    "set_default_device",
    "set_float32_matmul_precision",
    "set_num_interop_threads",
    "set_num_threads",
    "sinc",
    "trapezoid",
    "trapz",
    "typename",
    "unravel_index",
    "use_deterministic_algorithms",
    "view_as_complex",
    "view_as_real",
]


def _cr():
    import chainrule

    return chainrule


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else _make(np.asarray(x), False, None)


# ======================================================================================
# Elementwise: angle conversion, sinc, ldexp, gcd/lcm, heaviside
# ======================================================================================
class Deg2RadBackward0(Node):
    """out = x * pi / 180:  dx = g * pi / 180"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        return (g * (math.pi / 180),)

    def jvp(self, tangents):
        return tangents[0] * (math.pi / 180)


def deg2rad(input: Tensor) -> Tensor:
    x = _float(input._data)
    return unary(Deg2RadBackward0, input, x * np.asarray(math.pi / 180, x.dtype), ())


class Rad2DegBackward0(Node):
    """out = x * 180 / pi:  dx = g * 180 / pi"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        return (g * (180 / math.pi),)

    def jvp(self, tangents):
        return tangents[0] * (180 / math.pi)


def rad2deg(input: Tensor) -> Tensor:
    x = _float(input._data)
    return unary(Rad2DegBackward0, input, x * np.asarray(180 / math.pi, x.dtype), ())


def _dsinc(x):
    """d/dx sin(pi x) / (pi x) = (cos(pi x) - sinc(x)) / x, and 0 at x = 0."""
    ns = xp(x)
    zero = x == 0
    safe = ns.where(zero, 1.0, x)
    px = safe * math.pi
    d = (ns.cos(px) * px - ns.sin(px)) / (px * safe)
    return ns.where(zero, 0.0, d)


class SincBackward0(Node):
    """out = sin(pi x) / (pi x):  dx = g (cos(pi x) - sinc(x)) / x  (0 at x = 0)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        return (g * _dsinc(x),)

    def jvp(self, tangents, x):
        return tangents[0] * _dsinc(x)


def sinc(input: Tensor) -> Tensor:
    x = _float(input._data)
    return unary(SincBackward0, input, np.sinc(x).astype(x.dtype, copy=False), (x,))


def ldexp(input: Tensor, other: Tensor) -> Tensor:
    """input * 2**other (a composition, so the gradient reaches both)."""
    other = _as_tensor(other)
    return input * _cr().pow(2.0, other)


def _int_binary(name, fn, input, other):
    other = _as_tensor(other)
    a, b = input._data, other._data
    if a.dtype.kind not in "iub" or b.dtype.kind not in "iub":
        raise RuntimeError(f'"{name}_cpu" not implemented for '
                           f"'{_dtype.to_dtype(np.result_type(a, b)).name.capitalize()}'")
    return _make(np.asarray(fn(a, b)).astype(_dtype.result_type(a, b), copy=False),
                 False, None)


def gcd(input: Tensor, other: Tensor) -> Tensor:
    return _int_binary("gcd", np.gcd, input, other)


def lcm(input: Tensor, other: Tensor) -> Tensor:
    return _int_binary("lcm", np.lcm, input, other)


def heaviside(input: Tensor, values) -> Tensor:
    """0 where input < 0, 1 where input > 0, ``values`` where input == 0 (no gradient)."""
    values = _as_tensor(values)
    if input._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes")
    out = np.heaviside(input._data, values._data).astype(input._data.dtype, copy=False)
    return _make(np.asarray(out), False, None)


def _shift(name, fn, input, other):
    a = input._data if isinstance(input, Tensor) else np.asarray(input)
    b = other._data if isinstance(other, Tensor) else np.asarray(other)
    if isinstance(input, Tensor) and not isinstance(other, Tensor):
        b = b.astype(a.dtype)  # a Python int takes the tensor's dtype
    elif isinstance(other, Tensor) and not isinstance(input, Tensor):
        a = a.astype(b.dtype)
    out_dtype = _dtype.result_type(a, b)
    if np.dtype(out_dtype).kind not in "iub":
        cname = {"float32": "Float", "float64": "Double", "float16": "Half"}.get(
            np.dtype(out_dtype).name, np.dtype(out_dtype).name)
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'{cname}\'')
    with np.errstate(all="ignore"):
        out = fn(a.astype(out_dtype), b.astype(out_dtype))
    return _make(np.asarray(out, dtype=out_dtype), False, None)


def bitwise_left_shift(input, other) -> Tensor:
    """input << other, elementwise (integers)."""
    return _shift("lshift", np.left_shift, input, other)


def bitwise_right_shift(input, other) -> Tensor:
    """input >> other, elementwise (integers; arithmetic shift for signed)."""
    return _shift("rshift", np.right_shift, input, other)


def _filled_diagonal(input: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """``input`` with its main diagonal set to ``fill_value`` (out of place)."""
    shape = input.shape
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = np.zeros(shape, dtype=bool)
    if len(shape) == 2:
        n, m = shape
        flat = mask.reshape(-1)
        step = m + 1
        stop = n * m if wrap else min(n, m) * m
        flat[0:stop:step] = True
    else:
        idx = np.arange(shape[0])
        mask[(idx,) * len(shape)] = True
    return input.masked_fill(_make(mask, False, None), fill_value)


# ======================================================================================
# Complex parts for fft.py's formulas: real, imag, conj (PyTorch's convention: grad =
# dL/dRe + i dL/dIm). Not exported: the public torch.real/imag/conj live in
# ops/elementwise.py.
# ======================================================================================
class RealBackward0(Node):
    """out = Re z:  dz = g (as a complex number)"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        return (g * (1 + 0j),)

    def jvp(self, tangents):
        return real(tangents[0]) if isinstance(tangents[0], Tensor) else np.real(tangents[0])


class ImagBackward0(Node):
    """out = Im z:  dz = i g"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        return (g * 1j,)

    def jvp(self, tangents):
        return imag(tangents[0]) if isinstance(tangents[0], Tensor) else np.imag(tangents[0])


class ConjBackward0(Node):
    """out = conj(z):  dz = conj(g)"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        return (conj(g) if isinstance(g, Tensor) else np.conj(g),)

    def jvp(self, tangents):
        t = tangents[0]
        return conj(t) if isinstance(t, Tensor) else np.conj(t)


def real(input: Tensor) -> Tensor:
    """The real part (a real tensor is returned as it is)."""
    if not input.is_complex():
        return input
    return unary(RealBackward0, input, np.ascontiguousarray(input._data.real), ())


def imag(input: Tensor) -> Tensor:
    """The imaginary part of a complex tensor."""
    if not input.is_complex():
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return unary(ImagBackward0, input, np.ascontiguousarray(input._data.imag), ())


def conj(input: Tensor) -> Tensor:
    """The complex conjugate (a real tensor is returned as it is)."""
    if not input.is_complex():
        return input
    return unary(ConjBackward0, input, np.conj(input._data), ())


def isreal(input: Tensor) -> Tensor:
    """True where the element is real (always, for a real dtype)."""
    if input.is_complex():
        return _make(np.asarray(input._data.imag == 0), False, None)
    return _make(np.ones(input._data.shape, dtype=bool), False, None)


def nextafter(input: Tensor, other) -> Tensor:
    """The next float after ``input`` towards ``other`` (not differentiable)."""
    other = _as_tensor(other)
    d = _dtype.result_type(input._data, other._data)
    return _make(np.asarray(np.nextafter(input._data.astype(d), other._data.astype(d))),
                 False, None)


def frexp(input: Tensor):
    """(mantissa, exponent) with input = mantissa * 2**exponent, |mantissa| in [0.5, 1)."""
    if input._data.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    _, e = np.frexp(input._data)
    scale = np.ldexp(np.ones_like(input._data), -e)  # 2**-e, exact
    mantissa = input * _make(scale, False, None)    # a composition: dmantissa = g 2**-e
    cls = _return_type("frexp", ("mantissa", "exponent"))
    return cls(mantissa, _make(e.astype(np.int32), False, None))


def renorm(input: Tensor, p, dim: int, maxnorm) -> Tensor:
    """Rescale each slice along ``dim`` whose p-norm exceeds ``maxnorm`` to norm maxnorm."""
    cr = _cr()
    d = canon_dim(dim, input.dim())
    others = tuple(i for i in range(input.dim()) if i != d)
    norms = cr.linalg.vector_norm(input, ord=p, dim=others, keepdim=True) if others else \
        input.abs()
    factor = cr.where(norms > maxnorm, maxnorm / (norms + 1e-7), cr.ones_like(norms))
    return input * factor


def _sum_to_size(input: Tensor, *size) -> Tensor:
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    shape = tuple(input.shape)
    lead = len(shape) - len(size)
    if lead < 0 or any(s not in (1, t) for s, t in zip(size, shape[lead:])):
        raise RuntimeError(f"size {{{', '.join(map(str, size))}}} is not expandable to size "
                           f"{{{', '.join(map(str, shape))}}}.")
    out = input.sum(dim=tuple(range(lead))) if lead else input
    dims = tuple(i for i, (s, t) in enumerate(zip(size, shape[lead:])) if s == 1 and t != 1)
    return out.sum(dim=dims, keepdim=True) if dims else out


def _apply_(t: Tensor, fn, other=None) -> Tensor:
    if t.requires_grad:
        name = "apply_" if other is None else "map_"
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use "
                           f"var.detach().{name}() instead.")
    if other is None:
        values = [fn(v) for v in t._data.reshape(-1).tolist()]
    else:
        o = np.broadcast_to(_as_tensor(other)._data, t._data.shape)
        values = [fn(a, b) for a, b in zip(t._data.reshape(-1).tolist(), o.reshape(-1).tolist())]
    t._data[...] = np.asarray(values, dtype=t._data.dtype).reshape(t._data.shape)
    t._bump()
    return t


def positive(input: Tensor) -> Tensor:
    """``+x``: ``x`` itself, as torch (which refuses bool tensors)."""
    if input._data.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


# ======================================================================================
# Differences and integrals: diff, trapezoid, cumulative_trapezoid
# ======================================================================================
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """n-th forward difference along ``dim`` (``out[i] = x[i + 1] - x[i]``).

    >>> import chainrule as torch
    >>> torch.diff(torch.tensor([1., 3., 6.]), prepend=torch.tensor([0.]))
    tensor([1., 2., 3.])
    """
    cr = _cr()
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if prepend is not None or append is not None:
        parts = [_as_tensor(p) for p in (prepend, input, append) if p is not None]
        if any(p.dim() != input.dim() for p in parts):
            raise RuntimeError("diff expects prepend or append to be the same dimension as "
                               "input")
        input = cr.cat(parts, dim=dim)
    d = canon_dim(dim, input.dim())
    for _ in range(n):
        size = input.shape[d]
        if size == 0:
            break
        hi, lo = input.narrow(d, 1, size - 1), input.narrow(d, 0, size - 1)
        input = hi ^ lo if input.dtype == cr.bool else hi - lo
    return input


def _spacing_along(y: Tensor, x, dim: int):
    """The interval widths for trapezoid rules: diff(x) broadcast along ``dim`` of y."""
    if x.dim() == 1:
        shape = [1] * y.dim()
        shape[dim] = x.shape[0] - 1
        return diff(x).reshape(shape)
    return diff(x, dim=dim)


def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """Integrate ``y`` over ``dim`` by the trapezoid rule (samples at ``x``, or spacing ``dx``)."""
    d = canon_dim(dim, y.dim())
    n = y.shape[d]
    if n == 0:
        return y.sum(d) * 0
    if isinstance(x, Tensor):
        return ((y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1))
                * _spacing_along(y, x, d)).sum(d) / 2
    step = 1.0 if dx is None and x is None else (dx if dx is not None else x)
    return (y.sum(d) - (y.narrow(d, 0, 1).sum(d) + y.narrow(d, n - 1, 1).sum(d)) / 2) * step


trapz = trapezoid


def cumulative_trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """Running trapezoid integral along ``dim`` (one fewer element than ``y``)."""
    d = canon_dim(dim, y.dim())
    n = y.shape[d]
    mids = y.narrow(d, 1, max(n - 1, 0)) + y.narrow(d, 0, max(n - 1, 0))
    if isinstance(x, Tensor):
        mids = mids * _spacing_along(y, x, d)
    else:
        mids = mids * (1.0 if dx is None and x is None else (dx if dx is not None else x))
    return (mids / 2).cumsum(d)


# ======================================================================================
# Statistics: quantile, nanquantile, cov, corrcoef
# ======================================================================================
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name, input, q, dim, keepdim, interpolation, ignore_nan):
    cr = _cr()
    if input._data.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{name}() interpolation must be one of linear, lower, higher, "
                         f"midpoint or nearest. Got {interpolation}")
    scalar_q = not isinstance(q, Tensor) or q.dim() == 0
    qs = np.atleast_1d(np.asarray(q._data if isinstance(q, Tensor) else q, np.float64))
    if qs.ndim > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
    if ((qs < 0) | (qs > 1)).any():
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    ndim = input.dim()
    if dim is None:
        x = input.reshape(-1)
        d = 0
    else:
        d = canon_dim(dim, max(ndim, 1))
        x = input if ndim else input.reshape(1)
    if x.shape[d] == 0:
        raise IndexError(f"{name}() input tensor must be non-empty")
    x = x.movedim(d, -1)
    srt = x.sort(dim=-1).values                            # NaNs sort last
    n = srt.shape[-1]
    nan = np.isnan(srt._data)
    valid = (~nan).sum(-1) if ignore_nan else np.full(srt.shape[:-1], n)
    last = np.maximum(valid - 1, 0)
    # rank of each quantile in each slice: shape (len(q), *batch)
    ranks = qs.reshape((-1,) + (1,) * (srt.dim() - 1)) * last
    if not ignore_nan:
        ranks = np.where(nan.any(-1), n - 1, ranks)        # a NaN anywhere gives NaN
    else:
        ranks = np.where(valid == 0, n - 1, ranks)         # all NaN gives NaN
    if interpolation == "nearest":
        ranks = np.round(ranks)
    lo = np.floor(ranks).astype(np.int64)
    hi = np.ceil(ranks).astype(np.int64)
    big = srt.unsqueeze(0).expand(len(qs), *srt.shape)
    below = big.gather(-1, _make(lo[..., None], False, None)).squeeze(-1)
    above = big.gather(-1, _make(hi[..., None], False, None)).squeeze(-1)
    if interpolation in ("lower", "nearest"):
        out = below
    elif interpolation == "higher":
        out = above
    else:
        w = np.full(ranks.shape, 0.5) if interpolation == "midpoint" else ranks - lo
        out = cr.lerp(below, above, _make(w.astype(srt._data.dtype), False, None))
    if keepdim:
        if dim is None:
            out = out.reshape((len(qs),) + (1,) * ndim)
        elif ndim:
            out = out.unsqueeze(d + 1)
    return out.squeeze(0) if scalar_q else out


def quantile(input: Tensor, q, dim=None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The q-th quantiles of ``input`` (along ``dim``, or of all values); NaN if any NaN.

    >>> import chainrule as torch
    >>> torch.quantile(torch.tensor([1., 2., 3., 4.]), 0.5)
    tensor(2.5000)
    """
    return _quantile("quantile", input, q, dim, keepdim, interpolation, False)


def nanquantile(input: Tensor, q, dim=None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """Like quantile, ignoring NaNs (NaN only where a slice is all NaN)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, True)


def cov(input: Tensor, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """Covariance of the variables in the rows of ``input`` (observations in columns)."""
    if input.dim() > 2:
        raise ValueError(f"cov(): expected input to have two or fewer dimensions but got an "
                         f"input with {input.dim()} dimensions")
    x = input if input.dim() == 2 else input.reshape(1, -1)
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(_dtype.get_default_dtype())
    n = x.shape[1]
    w = None
    if fweights is not None:
        w = _as_tensor(fweights)
    if aweights is not None:
        aw = _as_tensor(aweights)
        w = aw if w is None else w * aw
    if w is None:
        avg = x.mean(1)
        w_sum = n
        norm = n - correction
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
        if aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * (w * _as_tensor(aweights)).sum() / w_sum
    if isinstance(norm, Tensor):
        norm = norm.clamp(min=0)
    else:
        norm = max(norm, 0)
    xm = x - avg.unsqueeze(1)
    xt = conj(xm.transpose(0, 1))
    c = (xm if w is None else xm * w) @ xt
    return (c / norm).squeeze()


def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of the rows of ``input``."""
    c = cov(input)
    if c.dim() == 0:
        return c / c
    std = c.diagonal().sqrt()
    c = c / std.unsqueeze(1) / std.unsqueeze(0)
    return c.clamp(-1, 1)


# ======================================================================================
# Counting: histc, histogram
# ======================================================================================
def _check_float(name, input):
    if input._data.dtype.kind != "f":
        cname = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                 "uint8": "Byte", "bool": "Bool"}.get(input._data.dtype.name,
                                                       input._data.dtype.name)
        raise NotImplementedError(f"\"{name}\" not implemented for '{cname}'")


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Counts of ``input`` in ``bins`` equal bins over [min, max] (the data's range if both
    are 0); values outside are ignored. Not differentiable.

    >>> import chainrule as torch
    >>> torch.histc(torch.tensor([1., 2., 1.]), bins=4, min=0, max=3)
    tensor([0., 2., 1., 0.])
    """
    _check_float("histogram_cpu", input)
    if bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for dimension 0")
    a = input._data.reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"torch.histc: max must be larger than min, but got min {lo} max {hi}")
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    counts, _ = np.histogram(a[~np.isnan(a)], bins=bins, range=(lo, hi))
    return _make(counts.astype(a.dtype), False, None)


def histogram(input: Tensor, bins=100, *, range=None, weight=None,
              density: bool = False):
    """(hist, bin_edges) of ``input``: ``bins`` equal bins (or the given edges)."""
    _check_float("histogram_cpu", input)
    a = input._data.reshape(-1)
    edges = bins._data if isinstance(bins, Tensor) else int(bins)
    w = None if weight is None else weight._data.reshape(-1)
    if range is None and not isinstance(bins, Tensor) and a.size:
        range = (float(a.min()), float(a.max()))
        if range[0] == range[1]:
            range = (range[0] - 0.5, range[1] + 0.5)
    hist, edges = np.histogram(a, bins=edges, range=range, weights=w, density=density)
    cls = _return_type("histogram", ("hist", "bin_edges"))
    return cls(_make(hist.astype(a.dtype), False, None),
               _make(np.asarray(edges, dtype=a.dtype), False, None))


# ======================================================================================
# Predicates and index helpers
# ======================================================================================
def is_nonzero(input: Tensor) -> bool:
    n = input.numel()
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(-1)[0])


def is_same_size(input: Tensor, other: Tensor) -> bool:
    return input.shape == other.shape


def is_signed(input: Tensor) -> bool:
    return input.dtype.is_signed


def typename(obj) -> str:
    """``'torch.FloatTensor'`` for a tensor, the qualified type name otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    if not hasattr(obj, "__qualname__"):
        module = type(obj).__module__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def unravel_index(indices, shape) -> tuple:
    """Flat indices into coordinate tensors for ``shape`` (a tuple of int64 tensors)."""
    idx = _as_tensor(indices)
    if idx._data.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {idx.dtype}")
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    total = int(np.prod(shape))
    if ((idx._data < -total) | (idx._data >= total)).any():
        raise RuntimeError("'indices' must be in range [-" + str(total) + ", "
                           + str(total - 1) + "]")
    coords = np.unravel_index(np.where(idx._data < 0, idx._data + total, idx._data), shape)
    return tuple(_make(np.asarray(c, dtype=np.int64), False, None) for c in coords)


# ======================================================================================
# Runtime knobs scripts set (NumPy decides threads; there is one algorithm per op)
# ======================================================================================
_state = {"threads": 1, "interop": 1, "deterministic": False, "matmul": "highest"}


def get_default_device():
    """Where factories put tensors: always the CPU here."""
    from .tensor import device

    return device("cpu")


def set_default_device(device) -> None:
    """Accepts the CPU (or None); other devices raise, as chainrule has no other."""
    from .tensor import device as _device

    if device is not None:
        _device(device)


# chainrule's intra-op parallelism is NumPy's BLAS: torch.set_num_threads(n) maps to the
# thread count of the OpenBLAS library NumPy loaded (found among the process's mapped
# libraries, called through ctypes). With another BLAS, or none found, the number is only
# recorded.
_BLAS_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                 "openblas_set_num_threads64_", "openblas_set_num_threads")
_BLAS_GETTERS = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
                 "openblas_get_num_threads64_", "openblas_get_num_threads")
_blas = []  # [(setter, getter)] once looked up; [None] when there is none


def _openblas():
    if not _blas:
        _blas.append(_find_openblas())
    return _blas[0]


def _find_openblas():
    import ctypes

    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        setter = next((getattr(lib, n) for n in _BLAS_SETTERS if hasattr(lib, n)), None)
        getter = next((getattr(lib, n) for n in _BLAS_GETTERS if hasattr(lib, n)), None)
        if setter is not None and getter is not None:
            getter.restype = ctypes.c_int
            return setter, getter
    return None


def get_num_threads() -> int:
    """The threads NumPy's BLAS uses (chainrule's intra-op parallelism)."""
    blas = _openblas()
    return int(blas[1]()) if blas is not None else _state["threads"]


def set_num_threads(n: int) -> None:
    """Set the threads NumPy's OpenBLAS uses, process-wide (as torch's intra-op threads)."""
    import ctypes

    if int(n) <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _state["threads"] = int(n)
    blas = _openblas()
    if blas is not None:
        blas[0](ctypes.c_int(int(n)))


def get_num_interop_threads() -> int:
    return _state["interop"]


def set_num_interop_threads(n: int) -> None:
    if int(n) <= 0:
        raise RuntimeError("Expected positive number of threads")
    _state["interop"] = int(n)


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Accepted and recorded: every chainrule op is deterministic already."""
    _state["deterministic"] = bool(mode)


def are_deterministic_algorithms_enabled() -> bool:
    return _state["deterministic"]


def set_float32_matmul_precision(precision: str) -> None:
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid precision {precision}")
    _state["matmul"] = precision


def get_float32_matmul_precision() -> str:
    return _state["matmul"]


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor",
            mode=None, options=None, disable=False):
    """No compiler here: returns ``model`` unchanged (also as ``@compile`` / ``@compile(...)``)."""
    if model is None:
        return lambda fn: fn
    return model


# ======================================================================================
# Top-level spellings whose signatures differ from their nn.functional namesakes
# ======================================================================================
def embedding(weight, indices, padding_idx: int = -1, scale_grad_by_freq: bool = False,
              sparse: bool = False):
    """``torch.embedding(weight, indices, ...)``: F.embedding with torch's argument order
    (a negative ``padding_idx`` means none)."""
    from .nn import functional as F

    return F.embedding(indices, weight, padding_idx=None if padding_idx < 0 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def batch_norm(input, weight, bias, running_mean, running_var, training: bool,
               momentum: float, eps: float, cudnn_enabled: bool = True):
    """``torch.batch_norm``: F.batch_norm with the weight and bias first, as ATen orders them."""
    from .nn import functional as F

    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                        eps)


def adaptive_max_pool1d(input, output_size):
    """``torch.adaptive_max_pool1d``: ``(values, indices)``, as ATen returns them."""
    from .nn import functional as F

    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


# ======================================================================================
# complex, polar, range, pdist at the top level (complex and range are exported under
# torch's names by chainrule/__init__.py: here they would shadow the builtins)
# ======================================================================================
_FLOAT_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double"}


def complex_from_parts(real, imag, *, out=None):
    """``real + i * imag`` from two float tensors of one dtype (differentiable in both)."""
    from ._dtype import complex64, complex128

    rd, idt = real._data.dtype, imag._data.dtype
    if rd.name not in _FLOAT_NAMES or idt.name not in _FLOAT_NAMES:
        raise RuntimeError("Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_scalar_type(rd)} and {_scalar_type(idt)}")
    if rd != idt:
        raise RuntimeError(f"Expected object of scalar type {_FLOAT_NAMES[rd.name]} but got "
                           f"scalar type {_FLOAT_NAMES[idt.name]} for second argument")
    ct = complex128 if rd == np.float64 else complex64
    return real.to(ct) + imag.to(ct) * 1j


def _scalar_type(dt) -> str:
    from .ops.linalg import _scalar_name

    return _scalar_name(dt)


def polar(abs, angle, *, out=None):
    """``abs * (cos(angle) + i sin(angle))``."""
    return complex_from_parts(abs * angle.cos(), abs * angle.sin())


def inclusive_range(start, end, step=1, *, out=None, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """Deprecated ``torch.range``: like ``arange`` but with ``end`` included (default dtype
    unless ``dtype`` is given)."""
    import warnings

    from ._dtype import get_default_dtype
    from .ops.creation import arange

    warnings.warn("torch.range is deprecated and will be removed in a future release because its "
                  "behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    n = int(np.floor((end - start) / step)) + 1
    return arange(n, dtype=dtype or get_default_dtype(),
                  requires_grad=requires_grad) * step + start if n > 0 else \
        arange(0, dtype=dtype or get_default_dtype())


def pdist(input, p=2):
    """``torch.pdist``: the same as ``nn.functional.pdist``."""
    from .nn import functional as F

    return F.pdist(input, p)


# ======================================================================================
# view_as_real / view_as_complex (rotary embeddings and FFT code use them)
# ======================================================================================
class ViewAsRealBackward0(Node):
    """r = (Re z, Im z) along a new last dim:  dz = g[..., 0] + i g[..., 1]"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        return (xp(g).complex(g[..., 0], g[..., 1]) if xp(g) is not np
                else g[..., 0] + 1j * g[..., 1],)

    def jvp(self, tangents):
        t = tangents[0]
        return xp(t).view_as_real(t) if xp(t) is not np else _real_view(t)


class ViewAsComplexBackward0(Node):
    """z = x[..., 0] + i x[..., 1]:  dx = (Re g, Im g) along the last dim"""

    __slots__ = ()
    saved_spec = ()
    complex_rule = True  # the formula is already in torch's convention for complex grads

    def backward(self, g):
        return (xp(g).view_as_real(g.resolve_conj() if hasattr(g, "resolve_conj") else g)
                if xp(g) is not np else _real_view(np.ascontiguousarray(g)),)

    def jvp(self, tangents):
        t = tangents[0]
        return xp(t).view_as_complex(t) if xp(t) is not np else t[..., 0] + 1j * t[..., 1]


def _real_view(z: np.ndarray) -> np.ndarray:
    z = np.ascontiguousarray(z)
    return z.view(z.real.dtype).reshape(z.shape + (2,))


def view_as_real(input: Tensor) -> Tensor:
    """A real view of a complex tensor: a last dim of size 2 holds (real, imag)."""
    z = input._data
    if z.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    if not z.flags.c_contiguous:
        z = np.ascontiguousarray(z)
    return unary(ViewAsRealBackward0, input, z.view(z.real.dtype).reshape(z.shape + (2,)), ())


def view_as_complex(input: Tensor) -> Tensor:
    """A complex view of a real tensor whose last dim of size 2 holds (real, imag)."""
    x = input._data
    if x.dtype not in (np.float32, np.float64):
        raise RuntimeError("view_as_complex is only supported for half, float and double "
                           f"tensors, but got a tensor of scalar type: {_torch_scalar(x.dtype)}"
                           + (" (chainrule has no complex32)" if x.dtype == np.float16 else ""))
    if x.ndim == 0 or x.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if x.strides[-1] != x.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    ct = np.complex64 if x.dtype == np.float32 else np.complex128
    return unary(ViewAsComplexBackward0, input, x.view(ct)[..., 0], ())


def _torch_scalar(dt) -> str:
    from .ops.linalg import _scalar_name

    return _scalar_name(dt)


# ======================================================================================
# as_strided
# ======================================================================================
class AsStridedBackward0(Node):
    """out[i] = storage[offset + sum_k i_k stride_k]:  dstorage = the scatter-add of g"""

    __slots__ = ("in_shape", "index")
    saved_spec = ()

    def backward(self, g):
        n = math.prod(self.in_shape)
        if type(g) is np.ndarray:
            flat = np.bincount(self.index.ravel(), weights=g.ravel(), minlength=n)
            return (flat.astype(g.dtype, copy=False).reshape(self.in_shape),)
        from .ops.indexing import index_add

        zeros = xp(g).zeros(n, dtype=g.dtype)
        return (index_add(zeros, 0, _make(self.index.ravel(), False, None), g.reshape(-1))
                .reshape(self.in_shape),)

    def jvp(self, tangents):
        t = tangents[0]
        return t.reshape(-1)[self.index] if type(t) is np.ndarray else \
            t.reshape(-1)[_make(self.index, False, None)]


def as_strided(input: Tensor, size, stride, storage_offset=None) -> Tensor:
    """The elements of ``input``'s (C-ordered) storage at ``offset + sum_k i_k stride_k``.
    A copy here (PyTorch returns a view: writes into it do not reach ``input``)."""
    size, stride = tuple(int(v) for v in size), tuple(int(v) for v in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    offset = int(storage_offset or 0)
    x = input._data
    n = x.size
    need = offset + 1 + sum((s - 1) * st for s, st in zip(size, stride)) if all(size) else 0
    if need > n or offset < 0:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
            f"and itemsize {x.itemsize} requiring a storage size of {need * x.itemsize} are out "
            f"of bounds for storage of size {n * x.itemsize}")
    index = offset + sum(np.arange(s).reshape((-1,) + (1,) * (len(size) - k - 1)) * st
                         for k, (s, st) in enumerate(zip(size, stride))) \
        if size else np.asarray(offset)
    index = np.broadcast_to(index, size).astype(np.int64)
    res = unary(AsStridedBackward0, input, np.ascontiguousarray(x).reshape(-1)[index], ())
    if res.grad_fn is not None:
        res.grad_fn.index, res.grad_fn.in_shape = index, x.shape
    return res


# ======================================================================================
# gradient: finite differences of samples (central inside, one-sided at the edges)
# ======================================================================================
def gradient(input: Tensor, *, spacing=1, dim=None, edge_order: int = 1) -> tuple:
    """``torch.gradient``: d input / d coordinate along each of ``dim`` (all dims by
    default), second-order accurate inside; ``spacing`` is a number, one number per dim, or
    one coordinate tensor per dim. A composition of slices, so it is differentiable."""
    x = input
    ndim = x.dim()
    dims = list(range(ndim)) if dim is None else \
        [canon_dim(d, ndim) for d in (dim if isinstance(dim, (list, tuple)) else (dim,))]
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                               f"it's spacing and dim arguments to have the same length, but "
                               f"got a spacing argument of length {len(spacing)} and a dim "
                               f"argument of length {len(dims)}.")
        steps = list(spacing)
    else:
        steps = [spacing] * len(dims)
    out = []
    for d, h in zip(dims, steps):
        n = x.shape[d]
        if n < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
        out.append(_gradient_1d(x, d, n, h, edge_order))
    return tuple(out)


def _gradient_1d(x, d, n, h, edge_order):
    def sl(a, b):
        return x.narrow(d, a, b - a)

    if isinstance(h, Tensor):  # coordinates: possibly uneven steps
        if edge_order != 1:
            raise NotImplementedError("torch.gradient with coordinate tensors: edge_order=2 "
                                      "is not implemented in chainrule")
        c = h.to(x.dtype) if x.dtype.is_floating_point else h.double()
        shape = [1] * x.dim()
        shape[d] = n - 1
        dx = (c[1:] - c[:-1]).reshape(shape)
        hs, hd = dx.narrow(d, 0, n - 2), dx.narrow(d, 1, n - 2)
        inner = (hs * hs * sl(2, n) + (hd * hd - hs * hs) * sl(1, n - 1) - hd * hd * sl(0, n - 2)) \
            / (hs * hd * (hd + hs))
        first = (sl(1, 2) - sl(0, 1)) / dx.narrow(d, 0, 1)
        last = (sl(n - 1, n) - sl(n - 2, n - 1)) / dx.narrow(d, n - 2, 1)
    else:
        h = float(h)
        inner = (sl(2, n) - sl(0, n - 2)) / (2 * h)
        if edge_order == 1:
            first = (sl(1, 2) - sl(0, 1)) / h
            last = (sl(n - 1, n) - sl(n - 2, n - 1)) / h
        else:
            first = (-1.5 * sl(0, 1) + 2 * sl(1, 2) - 0.5 * sl(2, 3)) / h
            last = (0.5 * sl(n - 3, n - 2) - 2 * sl(n - 2, n - 1) + 1.5 * sl(n - 1, n)) / h
    from .ops.shape import cat

    return cat([first, inner, last], d) if n > 2 else cat([first, last], d)
