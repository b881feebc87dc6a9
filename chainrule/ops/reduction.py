"""Reductions: sum, mean, prod, max/min, var/std, norm, logsumexp, scans, sorting, selection.

Each node sits next to its function. A backward formula gets NumPy arrays in a plain backward
and Tensors under ``create_graph=True``; the private helpers ``_take_along``/``_put_along``
(gather / scatter into zeros, each the other's adjoint) and ``_cumsum_rev`` dispatch on type,
so every derivative is written once and differentiates again.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import _dtype
from ..autograd.function import (CONST, FREED, OUTPUT, SECOND_BACKWARD_MSG, Node,
                                 as_graph_tensor, edge)
from ..autograd.grad_mode import grad_state
from ..tensor import Tensor, _make
from ._broadcast import broadcast_to, canon_dim, canon_dims, xp
from .elementwise import _float, unary

__all__ = ['all', 'amax', 'amin', 'aminmax', 'any', 'argmax', 'argmin', 'argsort',
           'count_nonzero', 'cummax', 'cummin', 'cumprod', 'cumsum', 'kthvalue', 'logcumsumexp',
           'logsumexp', 'max', 'mean',
           'median', 'min', 'mode', 'msort', 'nanmean', 'nanmedian', 'nansum', 'norm', 'prod',
           'sort', 'std', 'std_mean', 'sum', 'topk', 'var', 'var_mean']

_ndarray = np.ndarray


def _with_dtype(input, dtype):
    """``input`` converted to a reduction's ``dtype=`` argument, as a recorded cast: its
    backward casts the gradient back to the input's dtype (PyTorch's engine does that)."""
    return input if dtype is None else input.to(dtype)


def _reduction_args(input, dim, keepdim, dtype, kwargs):
    """sum/mean's less common arguments: NumPy's ``axis``/``keepdims`` spellings, a truthy
    keepdim, ``dtype=`` (a recorded cast: its backward casts the gradient back). The plain
    call ``x.sum()`` / ``x.sum(0)`` skips this function."""
    dim, keepdim = _dim_arg(dim, kwargs), _keep(keepdim, kwargs)
    return _with_dtype(input, dtype), dim, keepdim


def _axes(dim, ndim):
    """The NumPy axes of a reduction over ``dim`` (checked like PyTorch's dims). A 0-d tensor
    reduces over dim 0 or -1 as over all of it, which NumPy spells ``axis=None``."""
    if type(dim) is int and 0 <= dim < ndim:  # the common case, checked in one line
        return (dim,)
    axes = canon_dims(dim, ndim)
    return None if ndim == 0 else axes


_builtin_all, _builtin_any, _builtin_max, _builtin_min = all, any, max, min


_SCALAR_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                 "uint8": "Byte", "bool": "Bool", "float16": "Half", "float32": "Float",
                 "float64": "Double", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _scalar_name(dt) -> str:
    """PyTorch's ScalarType name of a NumPy dtype (``Long`` for int64), as errors print it."""
    return _SCALAR_NAMES.get(np.dtype(dt).name, str(dt))


def _isarr(g) -> bool:
    """True for NumPy values (plain backward), False for Tensors (create_graph)."""
    return type(g) is _ndarray or isinstance(g, np.generic)


def _dim_arg(dim, kwargs):
    if "axis" in kwargs:  # NumPy spelling, accepted as PyTorch does
        dim = kwargs.pop("axis")
    return dim


def _keep(keepdim, kwargs):
    if "keepdims" in kwargs:
        keepdim = kwargs.pop("keepdims")
    return bool(keepdim)


def _keep_shape(in_shape, axes):
    """The shape of a keepdim=True reduction of ``in_shape`` over ``axes`` (None: all)."""
    if axes is None:
        return (1,) * len(in_shape)
    return tuple(1 if i in axes else s for i, s in enumerate(in_shape))


def _expand_back(g, in_shape, axes, keepdim):
    """Undo a reduction's shape change: re-insert reduced axes, then broadcast."""
    if axes is not None and not keepdim:
        shape = list(in_shape)
        for a in axes:
            shape[a] = 1
        g = g.reshape(tuple(shape))
    return broadcast_to(g, in_shape)  # a full reduction's 0-d g broadcasts as it is


def _count(shape, axes) -> int:
    n = 1
    for a in (range(len(shape)) if axes is None else axes):
        n *= shape[a]
    return n


class _ReductionNode(Node):
    """Base of single-input reductions: remembers the input shape and reduced axes."""

    __slots__ = ("in_shape", "axes", "keepdim")
    saved_spec = ()

    def expand(self, g):
        return _expand_back(g, self.in_shape, self.axes, self.keepdim)

    def unreduce(self, t):
        """``t`` (reduced) reshaped with the reduced axes kept, ready to broadcast."""
        if self.keepdim:
            return t
        return t.reshape(_keep_shape(self.in_shape, self.axes))

    def jvp(self, tangents, *saved):
        return _weighted_reduction_jvp(self, tangents, *saved)


def _reduce_node(res, in_shape, axes, keepdim):
    node = res.grad_fn
    if node is not None:
        node.in_shape, node.axes, node.keepdim = in_shape, axes, keepdim
    return node


class _MultiOutputNode(Node):
    """A node with several outputs: ``backward`` gets a list of grads (None: none arrived)."""

    __slots__ = ()

    def apply(self, grad, create_graph):
        saved = self.saved
        if saved is FREED:
            raise RuntimeError(SECOND_BACKWARD_MSG)
        if create_graph:
            grad = [as_graph_tensor(g) for g in (grad if type(grad) is list else [grad])]
            saved = self._saved_tensors()
        return self.backward(grad, *saved)


def _multi_out(node_cls, input, datas, saved=()):
    """Outputs ``datas`` of one multi-output node (recorded only if a gradient is wanted)."""
    if input._requires_grad and grad_state.enabled and datas[0].dtype.kind in "fc":
        node = node_cls()
        node.next_functions = (edge(input),)
        node.saved = saved
        node.num_outputs = len(datas)
        return node, tuple(_make(d, True, node, output_nr=i) for i, d in enumerate(datas))
    return None, tuple(_make(d, False, None) for d in datas)



# ======================================================================================
# Forward mode (jvp) shortcuts shared by the reductions
# ======================================================================================
def _ones(ref, shape):
    """Ones of ``shape`` in ``ref``'s dtype, an array or a Tensor like ``ref``."""
    if _isarr(ref):
        return np.ones(shape, ref.dtype)
    import chainrule

    return chainrule.ones(shape, dtype=ref.dtype)


def _weighted_reduction_jvp(self, tangents, *saved):
    """A reduction whose backward is ``expand(g) * W`` (``W`` shaped like the input): its
    jvp is the same reduction of ``W * t``, ``W`` read off the backward run with ``g = 1``.
    Multi-output nodes (var_mean, aminmax) get one such product per output."""
    t = tangents[0]
    ones = _ones(t, _keep_shape(self.in_shape, self.axes))
    n = self.num_outputs
    outs = []
    for k in range(n):
        g = ones if n == 1 else [ones if i == k else None for i in range(n)]
        w = self.backward(g, *saved)[0]
        if w is None:  # no derivative (norm with p=0)
            w = ones * 0
        outs.append((w * t).sum(axis=self.axes, keepdims=self.keepdim))
    return outs[0] if n == 1 else outs


# ======================================================================================
# Return types: namedtuple-like (values, indices) pairs, as torch.return_types
# ======================================================================================
_RETURN_TYPES = {}


def _return_type(name, fields=("values", "indices")):
    cls = _RETURN_TYPES.get(name)
    if cls is None:
        def make_prop(i):
            return property(lambda self: self[i])

        def __repr__(self):
            body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
            return f"torch.return_types.{name}(\n{body})"

        ns = {"__slots__": (), "_fields": fields, "__repr__": __repr__,
              "__new__": lambda c, *vals: tuple.__new__(c, vals),
              "__getnewargs__": lambda self: tuple(self)}
        for i, f in enumerate(fields):
            ns[f] = make_prop(i)
        cls = _RETURN_TYPES[name] = type(name, (tuple,), ns)
        cls.__module__ = "chainrule.return_types"
    return cls


# ======================================================================================
# Gather / scatter along a dim: the adjoint pair behind every value-selecting reduction
# ======================================================================================
class GatherBackward0(Node):
    """out = take_along_axis(x, idx, dim):  dx = zeros(x.shape) with g added at idx"""

    __slots__ = ("dim", "in_shape", "unique")
    saved_spec = (CONST,)

    def backward(self, g, idx):
        if self.unique:
            return (_put_along(g, idx, self.dim, self.in_shape),)
        return (_scatter_add_along(g, idx, self.dim, self.in_shape),)

    def jvp(self, tangents, idx):
        return _take_along(tangents[0], idx, self.dim, self.unique)


class ScatterBackward0(Node):
    """out = zeros(shape) with x put at idx (indices unique along dim):  dx = g[idx]"""

    __slots__ = ("dim",)
    saved_spec = (CONST,)

    def backward(self, g, idx):
        return (_take_along(g, idx, self.dim),)

    jvp_needs_out_shape = True  # zeros of the output's shape, which the node does not keep

    def jvp(self, tangents, idx):
        return _put_along(tangents[0], idx, self.dim, self._out_shape)


class ScatterAddBackward0(Node):
    """out = zeros(shape) with x added at idx (indices may repeat):  dx = g[idx]"""

    __slots__ = ("dim",)
    saved_spec = (CONST,)

    def backward(self, g, idx):
        return (_take_along(g, idx, self.dim, unique=False),)

    jvp_needs_out_shape = True

    def jvp(self, tangents, idx):
        return _scatter_add_along(tangents[0], idx, self.dim, self._out_shape)


def _idx_array(idx):
    return idx._data if isinstance(idx, Tensor) else idx


def _take_along(x, idx, dim, unique=True):
    if _isarr(x):
        return np.take_along_axis(x, idx, dim)
    idx = _idx_array(idx)
    res = unary(GatherBackward0, x, np.take_along_axis(x._data, idx, dim), (idx,))
    if res.grad_fn is not None:
        res.grad_fn.dim, res.grad_fn.in_shape, res.grad_fn.unique = dim, x._data.shape, unique
    return res


def _put_along(g, idx, dim, shape):
    if _isarr(g):
        z = np.zeros(shape, g.dtype)
        np.put_along_axis(z, idx, g, dim)
        return z
    idx = _idx_array(idx)
    z = np.zeros(shape, g._data.dtype)
    np.put_along_axis(z, idx, g._data, dim)
    res = unary(ScatterBackward0, g, z, (idx,))
    if res.grad_fn is not None:
        res.grad_fn.dim = dim
    return res


def _scatter_add_data(gd, idx, dim, shape):
    z = np.zeros(shape, gd.dtype)
    grid = list(np.indices(idx.shape, sparse=True))
    grid[dim] = idx
    np.add.at(z, tuple(grid), gd)
    return z


def _scatter_add_along(g, idx, dim, shape):
    if _isarr(g):
        return _scatter_add_data(g, idx, dim, shape)
    idx = _idx_array(idx)
    res = unary(ScatterAddBackward0, g, _scatter_add_data(g._data, idx, dim, shape), (idx,))
    if res.grad_fn is not None:
        res.grad_fn.dim = dim
    return res


class _SelectNode(Node):
    """Value-selecting reduction (max/min/median/mode/kthvalue with a dim, sort, topk):
    the gradient goes to the selected positions only."""

    __slots__ = ("dim", "in_shape", "idx_shape")
    saved_spec = (CONST,)

    def backward(self, g, idx):
        if g.shape != self.idx_shape:  # keepdim=False (or a 0-d input): re-insert the dim
            g = g.reshape(self.idx_shape)
        in_shape = self.in_shape
        dx = _put_along(g, idx, self.dim, in_shape or (1,))
        return (dx.reshape(()) if not in_shape else dx,)

    jvp_needs_out_shape = True  # keepdim or not: the node keeps only the kept-dim shape

    def jvp(self, tangents, idx):
        t = tangents[0]
        if not self.in_shape:
            return t
        return _take_along(t, idx, self.dim).reshape(self._out_shape)


def _select_cls(name):
    return type(name, (_SelectNode,), {"__slots__": ()})


MaxBackward0 = _select_cls("MaxBackward0")
MinBackward0 = _select_cls("MinBackward0")
MedianBackward1 = _select_cls("MedianBackward1")
NanmedianBackward1 = _select_cls("NanmedianBackward1")
ModeBackward0 = _select_cls("ModeBackward0")
KthvalueBackward0 = _select_cls("KthvalueBackward0")
SortBackward0 = _select_cls("SortBackward0")
TopkBackward0 = _select_cls("TopkBackward0")


def _select(node_cls, input, idx, axis, keepdim, name, squeeze=True):
    """Values of ``input`` at ``idx`` along ``axis`` (idx has the kept-dim shape).

    Returns the (values, indices) pair, recording a ``node_cls`` node when needed.
    ``squeeze`` drops ``axis`` from both unless ``keepdim``.
    """
    x = input._data
    x1 = x if x.ndim else x.reshape(1)
    vals = np.take_along_axis(x1, idx, axis)
    out_v, out_i = vals, idx
    if x.ndim == 0:
        out_v, out_i = vals.reshape(()), idx.reshape(())
    elif squeeze and not keepdim:
        out_v, out_i = np.squeeze(vals, axis), np.squeeze(idx, axis)
    res = unary(node_cls, input, out_v, (idx,))
    node = res.grad_fn
    if node is not None:
        node.dim, node.in_shape, node.idx_shape = axis, x.shape, idx.shape
    return _return_type(name)(res, _make(out_i, False, None))


# ======================================================================================
# Sum and mean
# ======================================================================================
class SumBackward0(_ReductionNode):
    """out = x.sum(dims):  dx = g broadcast back to x's shape"""

    __slots__ = ()

    def backward(self, g):
        return (_expand_back(g, self.in_shape, self.axes, self.keepdim),)

    def jvp(self, tangents):  # linear: the same sum of the tangent
        return tangents[0].sum(axis=self.axes, keepdims=self.keepdim)


SumBackward1 = type("SumBackward1", (SumBackward0,), {"__slots__": ()})


def sum(input, dim=None, keepdim=False, *, dtype=None, **kwargs):  # noqa: A001 - torch.sum
    """Sum over ``dim`` (all elements when None)."""
    if kwargs or keepdim is not False or dtype is not None:
        input, dim, keepdim = _reduction_args(input, dim, keepdim, dtype, kwargs)
    x = input._data
    axes = None if dim is None else _axes(dim, x.ndim)
    if dtype is None and x.dtype.kind in "biu":
        x = x.astype(np.int64)  # PyTorch sums integers and bools in int64
    out = np.add.reduce(x, axis=axes, keepdims=keepdim, dtype=x.dtype)  # np.sum, unwrapped
    res = unary(SumBackward0 if dim is None else SumBackward1, input, out, ())
    node = res.grad_fn
    if node is not None:
        node.in_shape, node.axes, node.keepdim = x.shape, axes, keepdim
    return res


class MeanBackward0(_ReductionNode):
    """out = x.mean(dims):  dx = g / n broadcast back"""

    __slots__ = ("count",)

    def backward(self, g):
        return (_expand_back(g / self.count, self.in_shape, self.axes, self.keepdim),)

    def jvp(self, tangents):  # linear
        return tangents[0].sum(axis=self.axes, keepdims=self.keepdim) / self.count


MeanBackward1 = type("MeanBackward1", (MeanBackward0,), {"__slots__": ()})


def mean(input, dim=None, keepdim=False, *, dtype=None, **kwargs):
    """Mean over ``dim`` (all elements when None); needs a floating dtype, like PyTorch."""
    if kwargs or keepdim is not False or dtype is not None:
        input, dim, keepdim = _reduction_args(input, dim, keepdim, dtype, kwargs)
    x = input._data
    if x.dtype.kind not in "fc":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {_scalar_name(x.dtype)}")
    axes = None if dim is None else _axes(dim, x.ndim)
    count = _count(x.shape, axes)
    if x.dtype.itemsize > 2:
        # np.mean is Python code (~4 us); this is its sum and division
        total = np.add.reduce(x, axis=axes, keepdims=keepdim)
        if count:
            out = np.true_divide(total, count)
        else:  # empty: NaN, silently (as PyTorch)
            with np.errstate(invalid="ignore", divide="ignore"):
                out = np.true_divide(total, count)
        if type(out) is not np.ndarray:
            out = np.asarray(out)
    else:  # float16: NumPy accumulates it in float32
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.asarray(np.mean(x, axis=axes, keepdims=keepdim), x.dtype)
    res = unary(MeanBackward0 if dim is None else MeanBackward1, input, out, ())
    node = res.grad_fn
    if node is not None:
        node.in_shape, node.axes, node.keepdim = x.shape, axes, keepdim
        node.count = count
    return res


class NansumBackward0(_ReductionNode):
    """out = nansum(x):  dx = g where x is not NaN, else 0"""

    __slots__ = ()
    saved_spec = (CONST,)

    def backward(self, g, keep):
        return (self.expand(g) * keep,)

    def jvp(self, tangents, keep):  # NaN entries' tangents are skipped, not multiplied by 0
        t = tangents[0]
        return xp(t).where(keep != 0, t, 0).sum(axis=self.axes, keepdims=self.keepdim)


def nansum(input, dim=None, keepdim=False, *, dtype=None, **kwargs):
    """Sum over ``dim`` treating NaN as zero."""
    dim, keepdim = _dim_arg(dim, kwargs), _keep(keepdim, kwargs)
    input = _with_dtype(input, dtype)
    x = input._data
    axes = _axes(dim, x.ndim)
    if dtype is None and x.dtype.kind in "biu":
        x = x.astype(np.int64)
    out = np.asarray(np.nansum(x, axis=axes, keepdims=keepdim), x.dtype)
    if not (input._requires_grad and grad_state.enabled and x.dtype.kind in "fc"):
        return _make(out, False, None)
    res = unary(NansumBackward0, input, out, ((~np.isnan(x)).astype(x.dtype),))
    _reduce_node(res, x.shape, axes, keepdim)
    return res


def nanmean(input, dim=None, keepdim=False, *, dtype=None, **kwargs):
    """Mean over the non-NaN elements (``nansum / count``, as PyTorch composes it)."""
    dim, keepdim = _dim_arg(dim, kwargs), _keep(keepdim, kwargs)
    input = _with_dtype(input, dtype)
    x = input._data
    if x.dtype.kind not in "fc":
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {_scalar_name(x.dtype)}")
    axes = _axes(dim, x.ndim)
    count = np.sum(~np.isnan(x), axis=axes, keepdims=keepdim).astype(x.dtype)
    return nansum(input, dim, keepdim) / count


# ======================================================================================
# Products and scans
# ======================================================================================
def _flip(g, axis):
    if _isarr(g):
        return np.flip(g, axis)
    from .shape import flip

    return flip(g, (axis,))


def _cumsum(g, axis):
    if _isarr(g):
        return np.cumsum(g, axis)
    return cumsum(g, axis)


def _cumsum_rev(g, axis):
    """out[k] = sum of g[k:] along ``axis``."""
    return _flip(_cumsum(_flip(g, axis), axis), axis)


def _cumprod_excl(x, axis, reverse=False):
    """Exclusive cumulative product along ``axis``: out[k] = prod of x[:k] (or x[k+1:])."""
    n = x.shape[axis]
    if reverse:
        return _flip(_cumprod_excl(_flip(x, axis), axis), axis)
    if _isarr(x):
        out = np.ones_like(x)
        if n > 1:
            src = [slice(None)] * x.ndim
            dst = [slice(None)] * x.ndim
            src[axis], dst[axis] = slice(0, n - 1), slice(1, n)
            out[tuple(dst)] = np.cumprod(x[tuple(src)], axis)
        return out
    from .shape import cat, narrow

    ones = _make(np.ones(x.shape[:axis] + (1,) + x.shape[axis + 1:], x._data.dtype), False, None)
    if n <= 1:
        return ones.expand(x.shape) if n == 1 else x * 0
    return cat([ones, cumprod(narrow(x, axis, 0, n - 1), axis)], axis)


class ProdBackward0(_ReductionNode):
    """out = prod(x):  dx = g * out / x, or g * (product of the others) where x has zeros"""

    __slots__ = ("has_zero",)
    saved_spec = (0, OUTPUT)

    def backward(self, g, x, out):
        ge = self.expand(g)
        if not self.has_zero:
            return (ge * (self.unreduce(out) / x),)
        # Zeros: the product of the others, as (exclusive prefix) * (exclusive suffix).
        if self.axes is None:
            flat = x.reshape(-1)
            others = _cumprod_excl(flat, 0) * _cumprod_excl(flat, 0, reverse=True)
            return (ge * others.reshape(self.in_shape),)
        (a,) = self.axes
        return (ge * (_cumprod_excl(x, a) * _cumprod_excl(x, a, reverse=True)),)


ProdBackward1 = type("ProdBackward1", (ProdBackward0,), {"__slots__": ()})


def prod(input, dim=None, keepdim=False, *, dtype=None, **kwargs):
    """Product over all elements, or over one ``dim``.

    >>> import chainrule as torch
    >>> x = torch.tensor([2.0, 0.0, 3.0], requires_grad=True)
    >>> x.prod().backward()
    >>> x.grad  # the product of the others, also where x is 0
    tensor([0., 6., 0.])
    """
    dim, keepdim = _dim_arg(dim, kwargs), _keep(keepdim, kwargs)
    if isinstance(dim, (tuple, list)):
        raise TypeError("prod() received an invalid combination of arguments - got (tuple), but "
                        "expected one of: (Tensor input, *, torch.dtype dtype = None) or (Tensor "
                        "input, int dim, bool keepdim = False, *, torch.dtype dtype = None)")
    input = _with_dtype(input, dtype)
    x = input._data
    axes = _axes(dim, x.ndim)
    if dtype is None and x.dtype.kind in "biu":
        x = x.astype(np.int64)
    out = np.asarray(np.prod(x, axis=axes, keepdims=keepdim), x.dtype)
    res = unary(ProdBackward0 if dim is None else ProdBackward1, input, out, (x, out))
    node = _reduce_node(res, x.shape, axes, keepdim)
    if node is not None:
        node.has_zero = bool((x == 0).any())
    return res


class CumsumBackward0(Node):
    """out = cumsum(x, dim):  dx = reversed cumsum of g"""

    __slots__ = ("dim",)
    saved_spec = ()

    def backward(self, g):
        if g.ndim == 0:
            return (g,)
        return (_cumsum_rev(g, self.dim),)

    def jvp(self, tangents):  # linear
        t = tangents[0]
        return t if t.ndim == 0 else _cumsum(t, self.dim)


def _scan_input(input, dim, dtype):
    input = _with_dtype(input, dtype)
    x = input._data
    d = canon_dim(dim, x.ndim)
    if dtype is None and x.dtype.kind in "biu":
        x = x.astype(np.int64)
    return input, x, d


def cumsum(input, dim, *, dtype=None, **kwargs):
    """Cumulative sum along ``dim``."""
    input, x, d = _scan_input(input, _dim_arg(dim, kwargs), dtype)
    out = np.cumsum(x, d, dtype=x.dtype) if x.ndim else x.copy()
    res = unary(CumsumBackward0, input, out, ())
    if res.grad_fn is not None:
        res.grad_fn.dim = d
    return res


class CumprodBackward0(Node):
    """out = cumprod(x, dim):  dx[k] = sum_{i>=k} g[i] * out[i] / x[k]; where x has zeros,
    positions before the first zero use that formula, the first zero gets the reversed
    cumsum of g * cumprod(x with that zero set to 1), positions after it get 0."""

    __slots__ = ("dim", "masks")
    saved_spec = (0, OUTPUT)

    def backward(self, g, x, out):
        d = self.dim
        if x.ndim == 0:
            return (g,)
        if self.masks is None:
            return (_cumsum_rev(g * out, d) / x,)
        before, first = self.masks  # k < first zero; k == first zero (float 0/1 arrays)
        x_safe = x * before + (1 - before)  # 1 from the first zero on: no 0/0
        part_before = _cumsum_rev(g * out, d) / x_safe * before
        x_one = x * (1 - first) + first
        out_one = _cumprod(x_one, d)
        return (part_before + _cumsum_rev(g * out_one, d) * first,)

    def jvp(self, tangents, x, out):
        """d out[i] = sum_{k<=i} t[k] prod_{j<=i, j!=k} x[j]:  out * cumsum(t / x) without
        zeros; with a first zero at z (the backward's masks): that formula before z, and
        t[z] * cumprod(x with x[z] = 1) from z on (every other term has the factor x[z])."""
        t = tangents[0]
        d = self.dim
        if x.ndim == 0:
            return t
        if self.masks is None:
            return out * _cumsum(t / x, d)
        before, first = self.masks  # k < first zero; k == first zero (float 0/1 arrays)
        x_safe = x * before + (1 - before)
        head = before * out * _cumsum(t / x_safe * before, d)
        t_zero = (t * first).sum(axis=d, keepdims=True)
        return head + (1 - before) * t_zero * _cumprod(x * (1 - first) + first, d)


def _cumprod(x, d):
    if _isarr(x):
        return np.cumprod(x, d)
    return cumprod(x, d)


def cumprod(input, dim, *, dtype=None, **kwargs):
    """Cumulative product along ``dim``."""
    input, x, d = _scan_input(input, _dim_arg(dim, kwargs), dtype)
    out = np.cumprod(x, d, dtype=x.dtype) if x.ndim else x.copy()
    res = unary(CumprodBackward0, input, out, (x, out))
    node = res.grad_fn
    if node is not None:
        node.dim = d
        node.masks = None
        if x.ndim:
            zero = x == 0
            if zero.any():
                seen = np.cumsum(zero, d)  # zeros seen up to and including k
                before = (seen == 0).astype(x.dtype)
                first = (zero & (seen == 1)).astype(x.dtype)
                node.masks = (before, first)
    return res


class LogcumsumexpBackward0(Node):
    """out = logcumsumexp(x, dim):  dx[k] = sum_{i>=k} g[i] exp(x[k] - out[i]), computed in log
    space (positive and negative parts of g apart) so nothing overflows."""

    __slots__ = ("dim",)
    saved_spec = (0, OUTPUT)

    def backward(self, g, x, out):
        d = self.dim
        if x.ndim == 0:
            return (g,)
        if _isarr(g):
            with np.errstate(divide="ignore", invalid="ignore"):
                lg = np.log(np.abs(g))
                pos = np.where(g > 0, lg, -np.inf) - out
                neg = np.where(g < 0, lg, -np.inf) - out
                rp = np.flip(np.logaddexp.accumulate(np.flip(pos, d), axis=d), d)
                rn = np.flip(np.logaddexp.accumulate(np.flip(neg, d), axis=d), d)
                return (np.exp(rp + x) - np.exp(rn + x),)
        import chainrule

        # Tensors (create_graph): the signs are constants; a huge negative number stands in
        # for log(0) so that the formula stays finite and differentiable.
        gd = g._data
        m_pos = (gd > 0).astype(gd.dtype)
        m_neg = (gd < 0).astype(gd.dtype)
        sgn = m_pos - m_neg
        big = float(np.finfo(gd.dtype).max) / 8
        lg = chainrule.log(g * sgn + (1 - np.abs(sgn)))
        rp = _flip(logcumsumexp(_flip(lg - big * (1 - m_pos) - out, d), d), d)
        rn = _flip(logcumsumexp(_flip(lg - big * (1 - m_neg) - out, d), d), d)
        return (chainrule.exp(rp + x) - chainrule.exp(rn + x),)

    def jvp(self, tangents, x, out):
        """d out[i] = sum_{k<=i} exp(x[k] - out[i]) t[k], in log space (signs of t apart)."""
        t = tangents[0]
        if x.ndim == 0:
            return t
        d = self.dim
        if _isarr(t):
            with np.errstate(divide="ignore", invalid="ignore"):
                lt = np.log(np.abs(t))
                pos = np.logaddexp.accumulate(np.where(t > 0, lt, -np.inf) + x, axis=d)
                neg = np.logaddexp.accumulate(np.where(t < 0, lt, -np.inf) + x, axis=d)
                return np.exp(pos - out) - np.exp(neg - out)
        import chainrule

        # Tensors: as in backward, the signs are constants and a huge negative number
        # stands in for log(0).
        td = t._data
        m_pos = (td > 0).astype(td.dtype)
        m_neg = (td < 0).astype(td.dtype)
        sgn = m_pos - m_neg
        big = float(np.finfo(td.dtype).max) / 8
        lt = chainrule.log(t * sgn + (1 - np.abs(sgn)))
        pos = logcumsumexp(lt - big * (1 - m_pos) + x, d)
        neg = logcumsumexp(lt - big * (1 - m_neg) + x, d)
        return chainrule.exp(pos - out) - chainrule.exp(neg - out)


def logcumsumexp(input, dim):
    """log(cumsum(exp(x))) along ``dim``, computed stably."""
    if input._data.dtype.kind in "iub":  # PyTorch has no integer kernel (sum and mean do)
        from .linalg import _scalar_name

        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for '
                                  f"'{_scalar_name(input._data.dtype)}'")
    x = _float(input._data)
    d = canon_dim(dim, x.ndim)
    out = np.logaddexp.accumulate(x, axis=d) if x.ndim else x.copy()
    res = unary(LogcumsumexpBackward0, input, out, (x, out))
    if res.grad_fn is not None:
        res.grad_fn.dim = d
    return res


class CummaxBackward0(Node):
    """(values, indices) = cummax(x, dim):  dx = g added at indices (repeats summed)"""

    __slots__ = ("dim",)
    saved_spec = (CONST,)

    def backward(self, g, idx):
        if g.ndim == 0:
            return (g,)
        return (_scatter_add_along(g, idx, self.dim, g.shape),)

    def jvp(self, tangents, idx):
        t = tangents[0]
        return t if t.ndim == 0 else _take_along(t, idx, self.dim, unique=False)


CumminBackward0 = type("CumminBackward0", (CummaxBackward0,), {"__slots__": ()})


def _cum_extreme(input, dim, name):
    x = input._data
    d = canon_dim(dim, x.ndim)
    rt = _return_type(name)
    if x.ndim == 0:
        res = unary(CummaxBackward0 if name == "cummax" else CumminBackward0, input, x.copy(),
                    (np.zeros((), np.int64),))
        if res.grad_fn is not None:
            res.grad_fn.dim = 0
        return rt(res, _make(np.zeros((), np.int64), False, None))
    acc = np.maximum.accumulate if name == "cummax" else np.minimum.accumulate
    vals = acc(x, axis=d)
    n = x.shape[d]
    pos = np.arange(n).reshape((n,) + (1,) * (x.ndim - d - 1))
    if n:
        # The running extreme was (re)reached at k when x[k] ties or beats the one before;
        # the index is the latest such k (the first NaN once a NaN has appeared).
        prev = np.concatenate([np.take(vals, [0], axis=d), np.take(vals, np.arange(n - 1),
                                                                    axis=d)], axis=d)
        with np.errstate(invalid="ignore"):
            new = (x >= prev) if name == "cummax" else (x <= prev)
        if x.dtype.kind in "fc":
            new |= np.isnan(x) & ~np.isnan(prev)
        first = [slice(None)] * x.ndim
        first[d] = 0
        new[tuple(first)] = True
        idx = np.maximum.accumulate(np.where(new, pos, 0), axis=d).astype(np.int64)
    else:
        idx = np.zeros(x.shape, np.int64)
    res = unary(CummaxBackward0 if name == "cummax" else CumminBackward0, input, vals, (idx,))
    if res.grad_fn is not None:
        res.grad_fn.dim = d
    return rt(res, _make(idx, False, None))


def cummax(input, dim):
    """(values, indices): the running maximum along ``dim`` and where it was (last) reached."""
    return _cum_extreme(input, dim, "cummax")


def cummin(input, dim):
    """(values, indices): the running minimum along ``dim`` and where it was (last) reached."""
    return _cum_extreme(input, dim, "cummin")


# ======================================================================================
# max / min / amax / amin / aminmax / argmax / argmin
# ======================================================================================
class _EvenNode(_ReductionNode):
    """Reductions whose gradient is shared evenly among the tied extreme elements:
    dx = g * mask / count (mask and count computed in the forward)."""

    __slots__ = ()
    saved_spec = (CONST,)

    def backward(self, g, w):
        return (self.expand(g) * w,)


def _even_cls(name):
    return type(name, (_EvenNode,), {"__slots__": ()})


MaxBackward1 = _even_cls("MaxBackward1")
MinBackward1 = _even_cls("MinBackward1")
AmaxBackward0 = _even_cls("AmaxBackward0")
AminBackward0 = _even_cls("AminBackward0")
MedianBackward0 = _even_cls("MedianBackward0")
NanmedianBackward0 = _even_cls("NanmedianBackward0")


def _even_weights(x, out_keep, axes, nan_at_nans=True):
    """mask / count in x's dtype: 1/k on each of the k elements equal to the (kept-dim)
    result. NaN results, as in PyTorch: the gradient goes to the NaNs (max, min, median:
    ``evenly_distribute_backward``), or with ``nan_at_nans=False`` the whole slice gets NaN
    (amax, amin, aminmax: ``scale_grad_by_count`` divides by a count of 0)."""
    mask = np.asarray(x == out_keep)
    nan_out = x.dtype.kind in "fc" and np.isnan(out_keep).any()
    if nan_out and nan_at_nans:
        mask |= np.isnan(x) & np.isnan(out_keep)
    count = np.sum(mask, axis=axes, keepdims=True)
    w = mask.astype(x.dtype if x.dtype.kind in "fc" else np.float64)
    if nan_out and not nan_at_nans:
        with np.errstate(invalid="ignore"):
            np.divide(w, count, out=w, casting="unsafe")  # 0 / 0 on the NaN slices only
        return w
    np.divide(w, np.maximum(count, 1), out=w, casting="unsafe")
    return w


def _even_reduce(node_cls, input, out, axes, keepdim, nan_at_nans=True):
    """Wrap the reduction ``out`` (of input over ``axes``) with an even-split node."""
    x = input._data
    if not (input._requires_grad and grad_state.enabled and x.dtype.kind in "fc"):
        return _make(out, False, None)
    keep = out if keepdim else out.reshape(_keep_shape(x.shape, axes))
    res = unary(node_cls, input, out, (_even_weights(x, keep, axes, nan_at_nans),))
    _reduce_node(res, x.shape, axes, keepdim)
    return res


def _check_nonempty(x, axes, name, msg_all=None):
    if x.size == 0:
        if axes is None:
            raise RuntimeError(msg_all or (
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."))
        for a in axes:
            if x.shape[a] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {a} to have non-zero size.")


def _arg_extreme(x, d, fn):
    """argmax/argmin of x along d with the dim kept (first occurrence; NaN wins)."""
    if x.ndim == 0:
        return np.zeros((1,), np.int64)
    return np.expand_dims(fn(x, axis=d), d).astype(np.int64)


def _max_min(input, dim, keepdim, other, name, kwargs):
    if isinstance(dim, Tensor) or other is not None:  # torch.max(a, b): elementwise
        import chainrule

        return getattr(chainrule, "maximum" if name == "max" else "minimum")(
            input, dim if other is None else other)
    dim, keepdim = _dim_arg(dim, kwargs), _keep(keepdim, kwargs)
    x = input._data
    if dim is None:
        _check_nonempty(x, None, name)
        out = np.asarray(np.max(x) if name == "max" else np.min(x))
        return _even_reduce(MaxBackward1 if name == "max" else MinBackward1, input, out, None,
                            False)
    d = canon_dim(dim, x.ndim)
    _check_nonempty(x, (d,) if x.ndim else (), name)
    idx = _arg_extreme(x, d, np.argmax if name == "max" else np.argmin)
    return _select(MaxBackward0 if name == "max" else MinBackward0, input, idx, d, keepdim, name)


def max(input, dim=None, keepdim=False, *, out=None, other=None, **kwargs):  # noqa: A001
    """Largest element; with ``dim`` the (values, indices) pair; with a Tensor, maximum.

    >>> import chainrule as torch
    >>> x = torch.tensor([[1.0, 5.0], [4.0, 2.0]], requires_grad=True)
    >>> x.max(1).indices
    tensor([1, 0])
    >>> x.max().backward()
    >>> x.grad
    tensor([[0., 1.],
            [0., 0.]])
    """
    return _max_min(input, dim, keepdim, other, "max", kwargs)


def min(input, dim=None, keepdim=False, *, out=None, other=None, **kwargs):  # noqa: A001
    """Smallest element; with ``dim`` the (values, indices) pair; with a Tensor, minimum."""
    return _max_min(input, dim, keepdim, other, "min", kwargs)


def _amax_amin(input, dim, keepdim, name, kwargs):
    dim, keepdim = _dim_arg(dim, kwargs), _keep(keepdim, kwargs)
    x = input._data
    axes = _axes(dim, x.ndim)
    _check_nonempty(x, axes, name)
    out = np.asarray((np.max if name == "amax" else np.min)(x, axis=axes, keepdims=keepdim))
    return _even_reduce(AmaxBackward0 if name == "amax" else AminBackward0, input, out, axes,
                        keepdim, nan_at_nans=False)


def amax(input, dim=(), keepdim=False, **kwargs):
    """Maximum over ``dim`` (all dims when empty); ties share the gradient evenly."""
    return _amax_amin(input, dim, keepdim, "amax", kwargs)


def amin(input, dim=(), keepdim=False, **kwargs):
    """Minimum over ``dim`` (all dims when empty); ties share the gradient evenly."""
    return _amax_amin(input, dim, keepdim, "amin", kwargs)


class AminmaxBackward0(_MultiOutputNode, _ReductionNode):
    """(mn, mx) = aminmax(x):  dx = g_min * w_min + g_max * w_max (even split among ties)"""

    __slots__ = ()
    saved_spec = (CONST, CONST)

    def backward(self, grads, w_min, w_max):
        g_min, g_max = grads
        dx = None
        if g_min is not None:
            dx = self.expand(g_min) * w_min
        if g_max is not None:
            t = self.expand(g_max) * w_max
            dx = t if dx is None else dx + t
        return (dx,)


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over ``dim`` (all elements when None)."""
    x = input._data
    axes = None if dim is None else (canon_dim(dim, x.ndim),)
    if x.size == 0 and (axes is None or x.ndim == 0 or x.shape[axes[0]] == 0):
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    if x.ndim == 0:
        axes = None
    mn = np.asarray(np.min(x, axis=axes, keepdims=keepdim))
    mx = np.asarray(np.max(x, axis=axes, keepdims=keepdim))
    rt = _return_type("aminmax", ("min", "max"))
    if not (input._requires_grad and grad_state.enabled and x.dtype.kind in "fc"):
        return rt(_make(mn, False, None), _make(mx, False, None))
    kshape = _keep_shape(x.shape, axes)
    saved = (_even_weights(x, mn.reshape(kshape), axes, nan_at_nans=False),
             _even_weights(x, mx.reshape(kshape), axes, nan_at_nans=False))
    node, (a, b) = _multi_out(AminmaxBackward0, input, (mn, mx), saved)
    node.in_shape, node.axes, node.keepdim = x.shape, axes, keepdim
    return rt(a, b)


def _argext(input, dim, keepdim, name):
    x = input._data
    if x.dtype == np.bool_:
        raise RuntimeError(f"{name}(): does not support bool input")
    fn = np.argmax if name == "argmax" else np.argmin
    if dim is None:
        if x.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                             "input.numel() == 0.")
        out = np.asarray(fn(x), np.int64)
        if keepdim:
            out = out.reshape((1,) * x.ndim)
        return _make(out, False, None)
    d = canon_dim(dim, x.ndim)
    _check_nonempty(x, (d,) if x.ndim else (), name)
    if x.ndim == 0:
        return _make(np.zeros((), np.int64), False, None)
    return _make(np.asarray(fn(x, axis=d, keepdims=keepdim), np.int64), False, None)


def argmax(input, dim=None, keepdim=False, **kwargs):
    """Index of the largest element (of the flattened input when ``dim`` is None)."""
    dim, keepdim = _dim_arg(dim, kwargs), _keep(keepdim, kwargs)
    if kwargs:
        raise TypeError(f"argmax() got an unexpected keyword argument '{next(iter(kwargs))}'")
    return _argext(input, dim, keepdim, "argmax")


def argmin(input, dim=None, keepdim=False, **kwargs):
    """Index of the smallest element (of the flattened input when ``dim`` is None)."""
    dim, keepdim = _dim_arg(dim, kwargs), _keep(keepdim, kwargs)
    if kwargs:
        raise TypeError(f"argmin() got an unexpected keyword argument '{next(iter(kwargs))}'")
    return _argext(input, dim, keepdim, "argmin")


# ======================================================================================
# var / std / var_mean / std_mean
# ======================================================================================
def _var_args(input, dim, unbiased, keepdim, correction, kwargs):
    dim, keepdim = _dim_arg(dim, kwargs), _keep(keepdim, kwargs)
    if isinstance(dim, bool):  # var(x, unbiased)
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    x = input._data
    if x.dtype.kind not in "fc":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    axes = _axes(dim, x.ndim)
    n = _count(x.shape, axes)
    dof = n - correction
    if dof <= 0:
        warnings.warn("var(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=3)
    return x, axes, keepdim, n, _builtin_max(dof, 0)


def _inv(dof):
    """1 / dof as a NumPy float: inf (not ZeroDivisionError) without degrees of freedom."""
    with np.errstate(divide="ignore"):
        return float(np.float64(1.0) / np.float64(dof))


def _var_forward(x, axes, keepdim, dof):
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.mean(x, axis=axes, keepdims=True)
        dev = x - m
        sq = dev * dev.conj() if x.dtype.kind == "c" else dev * dev
        var = np.asarray(np.sum(sq.real, axis=axes, keepdims=keepdim) / dof,
                         x.real.dtype)
    return var, m


class VarBackward0(_ReductionNode):
    """out = var(x):  dx = g * 2 (x - mean(x)) / (n - correction)"""

    __slots__ = ("inv_dof",)
    saved_spec = (0,)

    def backward(self, g, x):
        dev = x - x.mean(axis=self.axes, keepdims=True)
        return (self.expand(g) * dev * (2.0 * self.inv_dof),)


class StdBackward0(_ReductionNode):
    """out = std(x):  dx = g * (x - mean(x)) / ((n - correction) * out); 0 where out == 0"""

    __slots__ = ("inv_dof",)
    saved_spec = (0, OUTPUT, CONST)

    def backward(self, g, x, out, zero):
        dev = x - x.mean(axis=self.axes, keepdims=True)
        return (self.expand(g) * dev / (self.unreduce(out) + zero) * self.inv_dof,)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, **kwargs):
    """Variance over ``dim`` with Bessel's ``correction`` (1 unless ``unbiased=False``)."""
    x, axes, keepdim, n, dof = _var_args(input, dim, unbiased, keepdim, correction, kwargs)
    out, _ = _var_forward(x, axes, keepdim, dof)
    res = unary(VarBackward0, input, out, (x,))
    node = _reduce_node(res, x.shape, axes, keepdim)
    if node is not None:
        node.inv_dof = _inv(dof)
    return res


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, **kwargs):
    """Standard deviation over ``dim`` with Bessel's ``correction``."""
    x, axes, keepdim, n, dof = _var_args(input, dim, unbiased, keepdim, correction, kwargs)
    v, _ = _var_forward(x, axes, keepdim, dof)
    out = np.asarray(np.sqrt(v))
    zero = (_keep_shape_arr(out, x.shape, axes, keepdim) == 0).astype(out.dtype)
    res = unary(StdBackward0, input, out, (x, out, zero))
    node = _reduce_node(res, x.shape, axes, keepdim)
    if node is not None:
        node.inv_dof = _inv(dof)
    return res


def _keep_shape_arr(out, in_shape, axes, keepdim):
    return out if keepdim else out.reshape(_keep_shape(in_shape, axes))


class VarMeanBackward0(_MultiOutputNode, _ReductionNode):
    """(v, m) = var_mean(x):  dx = g_v * 2 (x - mean) / dof + g_m / n"""

    __slots__ = ("inv_dof", "n")
    saved_spec = (0,)

    def backward(self, grads, x):
        gv, gm = grads
        dx = None
        if gv is not None:
            dev = x - x.mean(axis=self.axes, keepdims=True)
            dx = self.expand(gv) * dev * (2.0 * self.inv_dof)
        if gm is not None:
            t = self.expand(gm / self.n)
            dx = t if dx is None else dx + t
        return (dx,)


class StdMeanBackward0(_MultiOutputNode, _ReductionNode):
    """(s, m) = std_mean(x):  dx = g_s * (x - mean) / (dof * s) + g_m / n"""

    __slots__ = ("inv_dof", "n")
    saved_spec = (0, OUTPUT, CONST)

    def backward(self, grads, x, out, zero):
        gs, gm = grads
        dx = None
        if gs is not None:
            dev = x - x.mean(axis=self.axes, keepdims=True)
            dx = self.expand(gs) * dev / (self.unreduce(out) + zero) * self.inv_dof
        if gm is not None:
            t = self.expand(gm / self.n)
            dx = t if dx is None else dx + t
        return (dx,)


def _stat_mean(input, dim, unbiased, keepdim, correction, kwargs, take_sqrt):
    x, axes, keepdim, n, dof = _var_args(input, dim, unbiased, keepdim, correction, kwargs)
    v, m = _var_forward(x, axes, keepdim, dof)
    m = np.asarray(m if keepdim else m.reshape(v.shape), x.dtype)
    if take_sqrt:
        v = np.asarray(np.sqrt(v))
        zero = (_keep_shape_arr(v, x.shape, axes, keepdim) == 0).astype(v.dtype)
        saved = (x, v, zero)
    else:
        saved = (x,)
    node, outs = _multi_out(StdMeanBackward0 if take_sqrt else VarMeanBackward0, input,
                            (v, m), saved)
    if node is not None:
        node.in_shape, node.axes, node.keepdim, node.n = x.shape, axes, keepdim, n
        node.inv_dof = _inv(dof)
    return outs


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, **kwargs):
    """(var, mean) over ``dim`` in one pass."""
    return _stat_mean(input, dim, unbiased, keepdim, correction, kwargs, False)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, **kwargs):
    """(std, mean) over ``dim`` in one pass."""
    return _stat_mean(input, dim, unbiased, keepdim, correction, kwargs, True)


# ======================================================================================
# norm
# ======================================================================================
class LinalgVectorNormBackward0(_ReductionNode):
    """out = ||x||_p over dims:
    p=2: g x / out;  p=1: g sign(x);  p=+-inf: g sign(x) (even split among |x| == out);
    other p: g sign(x) |x|^(p-1) / out^(p-1); 0 where that is 0/0."""

    __slots__ = ("p",)
    saved_spec = (0, OUTPUT, CONST, CONST)

    def backward(self, g, x, out, sgn, aux):
        p = self.p
        ge = self.expand(g)
        if p == 2:
            o = self.unreduce(out)
            return (ge * x / (o + aux),)  # aux: 1 where out == 0
        if p == 1:
            return (ge * sgn,)
        if p == float("inf") or p == float("-inf"):
            return (ge * aux,)  # aux: sign(x) * even weights
        if p == 0:
            return (None,)
        zx, zo = aux  # zx: 1 where x == 0; zo: 1 where out == 0 (kept-dim shape)
        absx = x * sgn + zx
        o = self.unreduce(out) + zo
        return (ge * sgn * (absx ** (p - 1) * (1 - zx)) / o ** (p - 1),)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None, **kwargs):
    """Vector p-norm over ``dim`` (all elements when None); 'fro' is the 2-norm.

    >>> import chainrule as torch
    >>> torch.tensor([[3.0, -4.0]]).norm(dim=1), torch.tensor([3.0, -4.0]).norm(1)
    (tensor([5.]), tensor(7.))
    """
    dim, keepdim = _dim_arg(dim, kwargs), _keep(keepdim, kwargs)
    if isinstance(p, str):
        if p == "fro":
            if isinstance(dim, (tuple, list)) and len(dim) not in (1, 2):
                raise RuntimeError("linalg.matrix_norm: dim must be a 2-tuple. Got "
                                   + " ".join(str(d) for d in dim))
            p = 2
        elif p == "nuc":
            import chainrule

            if hasattr(chainrule, "linalg") and hasattr(chainrule.linalg, "matrix_norm"):
                return chainrule.linalg.matrix_norm(input, "nuc", dim if dim is not None
                                                    else (-2, -1), keepdim)
            raise NotImplementedError("norm(p='nuc') needs chainrule.linalg.matrix_norm")
        else:
            raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
    if dtype is not None:
        input = input.to(dtype)
    x = input._data
    if x.dtype.kind not in "fc":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_scalar_name(x.dtype)}")
    axes = _axes(dim, x.ndim)
    p = float(p)
    inf = float("inf")
    absx = np.abs(x)
    if (p == inf or p == -inf) and x.size == 0 and (axes is None or _builtin_any(
            x.shape[a] == 0 for a in axes)):
        raise RuntimeError("linalg.vector_norm cannot compute the inf norm on an empty tensor "
                           "because the operation does not have an identity")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if p == 2:
            out = np.sqrt(np.sum(absx * absx, axis=axes, keepdims=keepdim))
        elif p == 1:
            out = np.sum(absx, axis=axes, keepdims=keepdim)
        elif p == inf:
            out = np.max(absx, axis=axes, keepdims=keepdim)
        elif p == -inf:
            out = np.min(absx, axis=axes, keepdims=keepdim)
        elif p == 0:
            out = np.sum(absx != 0, axis=axes, keepdims=keepdim)
        else:
            out = np.sum(absx ** p, axis=axes, keepdims=keepdim) ** (1.0 / p)
    out = np.asarray(out, absx.dtype)
    if not (input._requires_grad and grad_state.enabled):
        return _make(out, False, None)
    sgn = np.sign(x) if x.dtype.kind != "c" else np.where(absx == 0, 0, x / np.where(
        absx == 0, 1, absx))
    okeep = _keep_shape_arr(out, x.shape, axes, keepdim)
    if p == 2:
        aux = (okeep == 0).astype(out.dtype)
    elif p in (inf, -inf):
        aux = sgn * _even_weights(absx, okeep, axes)
    elif p in (1, 0):
        aux = None
    else:
        aux = ((x == 0).astype(out.dtype), (okeep == 0).astype(out.dtype))
    res = unary(LinalgVectorNormBackward0, input, out, (x, out, sgn, aux))
    node = _reduce_node(res, x.shape, axes, keepdim)
    if node is not None:
        node.p = p
    return res


# ======================================================================================
# logsumexp
# ======================================================================================
class LogsumexpBackward0(_ReductionNode):
    """out = log(sum(exp(x))):  dx = g * exp(x - out) (0 for slices that are all -inf)"""

    __slots__ = ()
    saved_spec = (0, OUTPUT, CONST)

    def backward(self, g, x, out, live):
        d = self.expand(g) * xp_exp(x - self.unreduce(out))
        return (d if live is None else d * live,)


def xp_exp(t):
    if _isarr(t):
        return np.exp(t)
    import chainrule

    return chainrule.exp(t)


def logsumexp(input, dim, keepdim=False, **kwargs):
    """log(sum(exp(x))) over ``dim``, computed stably (max subtracted first).

    >>> import chainrule as torch
    >>> torch.logsumexp(torch.tensor([1000.0, 1000.0]), 0)
    tensor(1000.6932)
    """
    dim, keepdim = _dim_arg(dim, kwargs), _keep(keepdim, kwargs)
    x = _float(input._data)
    axes = _axes(dim, x.ndim)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if x.size:
            m = np.max(x, axis=axes, keepdims=True)
            m = np.where(np.isfinite(m), m, 0)
        else:
            m = np.zeros(_keep_shape(x.shape, axes), x.dtype)
        out = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
    if not keepdim:
        out = out.reshape(tuple(s for i, s in enumerate(x.shape)
                                if not (axes is None or i in axes)))
    out = np.asarray(out, x.dtype)
    live, xs, os_ = None, x, out
    if input._requires_grad and grad_state.enabled:
        dead = np.isneginf(_keep_shape_arr(out, x.shape, axes, keepdim))
        if dead.any():  # all -inf: gradient 0, not exp(-inf + inf) = NaN
            live = (~dead).astype(x.dtype)
            xs = np.where(dead, 0, x)
            os_ = np.where(dead.reshape(out.shape), 0, out)
    res = unary(LogsumexpBackward0, input, out, (xs, os_, live))
    _reduce_node(res, x.shape, axes, keepdim)
    return res


# ======================================================================================
# Logical reductions
# ======================================================================================
def _logical(input, dim, keepdim, fn, kwargs):
    dim, keepdim = _dim_arg(dim, kwargs), _keep(keepdim, kwargs)
    x = input._data
    axes = _axes(dim, x.ndim)
    out = np.asarray(fn(x, axis=axes, keepdims=keepdim))
    if x.dtype == np.uint8:
        out = out.astype(np.uint8)
    return _make(out, False, None)


def all(input, dim=None, keepdim=False, **kwargs):  # noqa: A001 - torch.all
    """True where every element over ``dim`` is nonzero."""
    return _logical(input, dim, keepdim, np.all, kwargs)


def any(input, dim=None, keepdim=False, **kwargs):  # noqa: A001 - torch.any
    """True where some element over ``dim`` is nonzero."""
    return _logical(input, dim, keepdim, np.any, kwargs)


def count_nonzero(input, dim=None):
    """Number of nonzero elements over ``dim`` (int64)."""
    x = input._data
    axes = _axes(dim, x.ndim)
    return _make(np.asarray(np.count_nonzero(x, axis=axes), np.int64), False, None)


# ======================================================================================
# Sorting and selection
# ======================================================================================
def _stable_argsort(x, d, descending):
    """Stable argsort along ``d``; NaN sorts as the largest value (PyTorch's order)."""
    if not descending:
        return np.argsort(x, axis=d, kind="stable")
    # Descending and stable: sort the reversed array ascending, then reverse back.
    n = x.shape[d]
    rev = np.argsort(np.flip(x, d), axis=d, kind="stable")
    return np.flip(n - 1 - rev, d)


def _dim_input(input, dim):
    """(array with >= 1 dim, canonical dim) for ops that treat a 0-d input as 1 element."""
    x = input._data
    d = canon_dim(dim, x.ndim)
    return (x if x.ndim else x.reshape(1)), d


def sort(input, dim=-1, descending=False, stable=False, **kwargs):
    """(values, indices) sorted along ``dim`` (ties keep their order).

    >>> import chainrule as torch
    >>> torch.sort(torch.tensor([3.0, 1.0, 2.0]), descending=True)
    torch.return_types.sort(
    values=tensor([3., 2., 1.]),
    indices=tensor([0, 2, 1]))
    """
    dim = _dim_arg(dim, kwargs)
    x1, d = _dim_input(input, dim)
    idx = _stable_argsort(x1, d, descending).astype(np.int64)
    return _select(SortBackward0, input, idx, d, True, "sort", squeeze=False)


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim``."""
    x1, d = _dim_input(input, dim)
    idx = _stable_argsort(x1, d, descending).astype(np.int64)
    return _make(idx if input._data.ndim else idx.reshape(()), False, None)


def msort(input):
    """``input`` sorted along its first dim."""
    return sort(input, 0)[0]


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - torch's name
    """(values, indices) of the ``k`` largest (or smallest) elements along ``dim``."""
    if input._data.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    x1, d = _dim_input(input, dim)
    k = int(k)
    n = x1.shape[d]
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if 0 < k < n // 2:
        # Partition first (O(n)), then order only the k selected (NaN counts as largest).
        kth = n - k if largest else k - 1
        part = np.argpartition(x1, kth, axis=d)
        idx = np.take(part, np.arange(n - k, n) if largest else np.arange(k), axis=d)
        if sorted:
            order = _stable_argsort(np.take_along_axis(x1, idx, d), d, largest)
            idx = np.take_along_axis(idx, order, d)
    else:
        idx = np.take(_stable_argsort(x1, d, largest), np.arange(k), axis=d)
    return _select(TopkBackward0, input, idx.astype(np.int64), d, True, "topk", squeeze=False)


def _kth_index(x1, d, k):
    """Index (kept dim) of the k-th smallest (0-based) along ``d``; NaN sorts last."""
    return np.take(np.argpartition(x1, k, axis=d), [k], axis=d)


def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices) of the ``k``-th smallest element along ``dim``."""
    if input._data.dtype == np.bool_:
        raise NotImplementedError("\"kthvalue_cpu\" not implemented for 'Bool'")
    x1, d = _dim_input(input, dim)
    k = int(k)
    if not 1 <= k <= x1.shape[d]:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    idx = _kth_index(x1, d, k - 1).astype(np.int64)
    return _select(KthvalueBackward0, input, idx, d, keepdim, "kthvalue")


def _median(input, dim, keepdim, ignore_nan):
    name = "nanmedian" if ignore_nan else "median"
    x = input._data
    if x.dtype == np.bool_:  # PyTorch has no bool kernel
        kernel = "median_cpu" if dim is None else "median_out"
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
    if dim is None:
        if x.size == 0:
            out = np.asarray(np.nan, x.dtype) if x.dtype.kind in "fc" else None
            if out is None:
                raise RuntimeError(f"{name}() input tensor cannot be empty")
            return _make(out, False, None)
        flat = x.reshape(-1)
        if ignore_nan:
            n = int(np.sum(~np.isnan(flat))) if x.dtype.kind in "fc" else flat.size
            k = (n - 1) // 2 if n else 0
        else:
            k = (flat.size - 1) // 2
        val = np.partition(flat, k)[k]
        if not ignore_nan and x.dtype.kind in "fc" and np.isnan(flat).any():
            val = np.asarray(np.nan, x.dtype)
        return _even_reduce(NanmedianBackward0 if ignore_nan else MedianBackward0, input,
                            np.asarray(val, x.dtype), None, False)
    x1, d = _dim_input(input, dim)
    if x1.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    n = x1.shape[d]
    if ignore_nan and x1.dtype.kind in "fc":
        cnt = np.sum(~np.isnan(x1), axis=d, keepdims=True)
        if (cnt == n).all():
            idx = _kth_index(x1, d, (n - 1) // 2)
        else:  # per-slice ranks: sort (NaN last) and pick the lower median of the rest
            order = _stable_argsort(x1, d, False)
            idx = np.take_along_axis(order, np.maximum((cnt - 1) // 2, 0), d)
    else:
        idx = _kth_index(x1, d, (n - 1) // 2)
        if x1.dtype.kind in "fc":
            nan = np.isnan(x1)
            has_nan = nan.any(axis=d, keepdims=True)
            if has_nan.any():  # a NaN in the slice makes the median NaN: its first NaN
                idx = np.where(has_nan, np.expand_dims(np.argmax(nan, axis=d), d), idx)
    idx = idx.astype(np.int64)
    return _select(NanmedianBackward1 if ignore_nan else MedianBackward1, input, idx, d,
                   keepdim, name)


def median(input, dim=None, keepdim=False):
    """Lower median of all elements, or (values, indices) along ``dim``."""
    return _median(input, dim, keepdim, False)


def nanmedian(input, dim=None, keepdim=False):
    """``median`` ignoring NaN."""
    return _median(input, dim, keepdim, True)


def mode(input, dim=-1, keepdim=False):
    """(values, indices): the most frequent value along ``dim`` (smallest among ties) and
    the index of its last occurrence."""
    x1, d = _dim_input(input, dim)
    n = x1.shape[d]
    if n == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    xm = np.moveaxis(x1, d, -1)
    order = np.argsort(xm, axis=-1, kind="stable")
    s = np.take_along_axis(xm, order, -1)
    pos = np.arange(n)
    new = np.ones(s.shape, bool)
    new[..., 1:] = s[..., 1:] != s[..., :-1]
    start = np.maximum.accumulate(np.where(new, pos, 0), axis=-1)
    end_mark = np.ones(s.shape, bool)
    end_mark[..., :-1] = new[..., 1:]
    end = np.flip(np.minimum.accumulate(np.flip(np.where(end_mark, pos, n), -1), axis=-1), -1)
    length = end - start + 1
    best = np.argmax(length, axis=-1)[..., None]  # first max: the smallest value
    last = np.take_along_axis(end, best, -1)
    idx = np.take_along_axis(order, last, -1)
    idx = np.moveaxis(idx, -1, d).astype(np.int64)
    return _select(ModeBackward0, input, idx, d, keepdim, "mode")
