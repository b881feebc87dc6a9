"""Shape ops: reshape, view, transpose, permute, expand, squeeze, unsqueeze, dtype casts."""
from __future__ import annotations

import numpy as np

from .. import _dtype
from ..autograd.function import Node
from ..tensor import Tensor
from ._broadcast import canon_dim, shape_str, sum_to
from .elementwise import unary



__all__ = ['broadcast_to', 'expand', 'flatten', 'permute', 'reshape', 'squeeze', 'swapaxes', 'swapdims', 't', 'transpose', 'unsqueeze']  # extend as ops are added

def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _infer_shape(shape, numel):
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if -1 in shape:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{shape_str(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    n = 1
    for s in shape:
        n *= s
    if n != numel:
        raise RuntimeError(f"shape '{shape_str(shape)}' is invalid for input of size {numel}")
    return shape


class ViewBackward0(Node):
    """out = x.view(shape):  dx = g.reshape(x.shape)"""

    __slots__ = ("in_shape",)
    saved_spec = ()

    def backward(self, g):
        return (g.reshape(self.in_shape),)


class ReshapeAliasBackward0(ViewBackward0):
    __slots__ = ()


class UnsafeViewBackward0(ViewBackward0):
    __slots__ = ()


def reshape(input, *shape):
    x = input._data
    shape = _infer_shape(_shape_args(shape), x.size)
    res = unary(ViewBackward0, input, x.reshape(shape), ())
    if res.grad_fn is not None:
        res.grad_fn.in_shape = x.shape
    return res


def view(input, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, list, tuple, np.integer)):
        return input.to(shape[0])  # view(dtype)
    return reshape(input, *shape)


def flatten(input, start_dim=0, end_dim=-1):
    x = input._data
    if x.ndim == 0:
        return reshape(input, 1)
    s, e = canon_dim(start_dim, x.ndim), canon_dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    n = 1
    for d in x.shape[s:e + 1]:
        n *= d
    return reshape(input, x.shape[:s] + (n,) + x.shape[e + 1:])


class TransposeBackward0(Node):
    """out = x.transpose(d0, d1):  dx = g.transpose(d0, d1)"""

    __slots__ = ("dims",)
    saved_spec = ()

    def backward(self, g):
        d0, d1 = self.dims
        return (g.swapaxes(d0, d1),)


def transpose(input, dim0, dim1):
    x = input._data
    d0, d1 = canon_dim(dim0, x.ndim), canon_dim(dim1, x.ndim)
    res = unary(TransposeBackward0, input, x.swapaxes(d0, d1), ())
    if res.grad_fn is not None:
        res.grad_fn.dims = (d0, d1)
    return res


swapaxes = swapdims = transpose


class TBackward0(Node):
    """out = x.t():  dx = g.t()"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        return (g.T if g.ndim == 2 else g,)


def t(input):
    x = input._data
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return unary(TBackward0, input, x.T, ())


class PermuteBackward0(Node):
    """out = x.permute(dims):  dx = g.permute(inverse(dims))"""

    __slots__ = ("inverse",)
    saved_spec = ()

    def backward(self, g):
        if type(g) is np.ndarray:
            return (g.transpose(self.inverse),)
        return (g.permute(self.inverse),)


def permute(input, *dims):
    x = input._data
    dims = _shape_args(dims)
    if len(dims) != x.ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {x.ndim} is not "
            f"equal to len(dims) = {len(dims)}")
    dims = tuple(canon_dim(d, x.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    res = unary(PermuteBackward0, input, x.transpose(dims), ())
    if res.grad_fn is not None:
        res.grad_fn.inverse = tuple(np.argsort(dims))
    return res


class ExpandBackward0(Node):
    """out = x.expand(shape):  dx = g summed back to x's shape"""

    __slots__ = ("in_shape",)
    saved_spec = ()

    def backward(self, g):
        return (sum_to(g, self.in_shape),)


def expand(input, *sizes):
    x = input._data
    sizes = _shape_args(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{shape_str(x.shape)}}}, size={shape_str(sizes)}): the "
            "number of sizes provided ({len(sizes)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({x.ndim})")
    lead = len(sizes) - x.ndim
    target = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    try:
        out = np.broadcast_to(x, target)
    except ValueError:
        raise RuntimeError(
            f"The expanded size of the tensor ({target[-1]}) must match the existing size "
            f"({x.shape[-1] if x.ndim else 1}) at non-singleton dimension {len(target) - 1}.  "
            f"Target sizes: {shape_str(sizes)}.  Tensor sizes: {shape_str(x.shape)}") from None
    res = unary(ExpandBackward0, input, out, ())
    if res.grad_fn is not None:
        res.grad_fn.in_shape = x.shape
    return res


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_to(input, shape):
    return expand(input, shape)


class SqueezeBackward0(ViewBackward0):
    __slots__ = ()


class UnsqueezeBackward0(ViewBackward0):
    __slots__ = ()


def squeeze(input, dim=None):
    x = input._data
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {canon_dim(d, x.ndim) for d in dims}
        shape = tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1))
    res = unary(SqueezeBackward0, input, x.reshape(shape), ())
    if res.grad_fn is not None:
        res.grad_fn.in_shape = x.shape
    return res


def unsqueeze(input, dim):
    x = input._data
    d = canon_dim(dim, x.ndim + 1)
    res = unary(UnsqueezeBackward0, input, np.expand_dims(x, d), ())
    if res.grad_fn is not None:
        res.grad_fn.in_shape = x.shape
    return res


class ToCopyBackward0(Node):
    """out = x.to(dtype):  dx = g cast back to x's dtype"""

    __slots__ = ("in_dtype",)
    saved_spec = ()

    def backward(self, g):
        if type(g) is np.ndarray or isinstance(g, np.generic):
            return (g.astype(self.in_dtype),)
        return (g.to(_dtype.from_numpy_dtype(self.in_dtype)),)


def cast(input: Tensor, dt) -> Tensor:
    """A copy of ``input`` in dtype ``dt``; gradients flow back through float casts."""
    x = input._data
    res = unary(ToCopyBackward0, input, x.astype(dt.np), ())
    if res.grad_fn is not None:
        if x.dtype.kind not in "fc":
            res.grad_fn = None
            res._requires_grad = False
        else:
            res.grad_fn.in_dtype = x.dtype
    return res
