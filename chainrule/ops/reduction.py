"""Reductions: sum, mean, ... each node next to its function."""
from __future__ import annotations

import numpy as np

from .. import _dtype
from ..autograd.function import Node
from ._broadcast import broadcast_to, canon_dims
from .elementwise import unary



__all__ = ['mean', 'sum']  # extend as ops are added

def _dim_arg(dim, kwargs):
    if "axis" in kwargs:  # NumPy spelling, accepted as PyTorch does
        dim = kwargs.pop("axis")
    return dim


def _keep(keepdim, kwargs):
    if "keepdims" in kwargs:
        keepdim = kwargs.pop("keepdims")
    return bool(keepdim)


def _expand_back(g, in_shape, axes, keepdim):
    """Undo a reduction's shape change: re-insert reduced axes, then broadcast."""
    if axes is not None and not keepdim:
        shape = list(in_shape)
        for a in axes:
            shape[a] = 1
        g = g.reshape(tuple(shape))
    elif axes is None and not keepdim:
        g = g.reshape((1,) * len(in_shape))
    return broadcast_to(g, in_shape)


class SumBackward0(Node):
    """out = x.sum(dims):  dx = g broadcast back to x's shape"""

    __slots__ = ("in_shape", "axes", "keepdim")
    saved_spec = ()

    def backward(self, g):
        return (_expand_back(g, self.in_shape, self.axes, self.keepdim),)


SumBackward1 = type("SumBackward1", (SumBackward0,), {"__slots__": ()})


def sum(input, dim=None, keepdim=False, *, dtype=None, **kwargs):  # noqa: A001 - torch.sum
    """Sum over ``dim`` (all elements when None)."""
    dim, keepdim = _dim_arg(dim, kwargs), _keep(keepdim, kwargs)
    x = input._data
    axes = canon_dims(dim, x.ndim)
    if dtype is not None:
        x = x.astype(_dtype.to_np(dtype))
    elif x.dtype.kind in "biu":
        x = x.astype(np.int64)  # PyTorch sums integers and bools in int64
    out = np.sum(x, axis=axes, keepdims=keepdim)
    res = unary(SumBackward0 if dim is None else SumBackward1, input, out, ())
    node = res.grad_fn
    if node is not None:
        node.in_shape, node.axes, node.keepdim = x.shape, axes, keepdim
    return res


class MeanBackward0(Node):
    """out = x.mean(dims):  dx = g / n broadcast back"""

    __slots__ = ("in_shape", "axes", "keepdim", "count")
    saved_spec = ()

    def backward(self, g):
        return (_expand_back(g / self.count, self.in_shape, self.axes, self.keepdim),)


MeanBackward1 = type("MeanBackward1", (MeanBackward0,), {"__slots__": ()})


def mean(input, dim=None, keepdim=False, *, dtype=None, **kwargs):
    """Mean over ``dim`` (all elements when None); needs a floating dtype, like PyTorch."""
    dim, keepdim = _dim_arg(dim, kwargs), _keep(keepdim, kwargs)
    x = input._data
    if dtype is not None:
        x = x.astype(_dtype.to_np(dtype))
    if x.dtype.kind not in "fc":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {_dtype.from_numpy_dtype(x.dtype).name.capitalize()}")
    axes = canon_dims(dim, x.ndim)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.mean(x, axis=axes, keepdims=keepdim)
    res = unary(MeanBackward0 if dim is None else MeanBackward1, input, np.asarray(out, x.dtype),
                ())
    node = res.grad_fn
    if node is not None:
        node.in_shape, node.axes, node.keepdim = x.shape, axes, keepdim
        n = 1
        for a in (range(x.ndim) if axes is None else axes):
            n *= x.shape[a]
        node.count = n
    return res
