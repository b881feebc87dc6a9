"""Linear algebra: matmul and friends, with PyTorch's shape rules and messages."""
from __future__ import annotations

import numpy as np

from ..autograd.function import Node
from ..tensor import Tensor
from ..autograd.function import NO_EDGE, edge
from ..autograd.grad_mode import grad_state
from ..tensor import _make
from ._broadcast import shape_str, sum_to



__all__ = ['dot', 'is_tensor', 'matmul', 'mm']  # extend as ops are added

def _mT(x):
    return x.swapaxes(-1, -2)


class MmBackward0(Node):
    """out = a @ b (2-D):  da = g @ b.T,  db = a.T @ g"""

    __slots__ = ()

    def backward(self, g, a, b):
        fa, fb = self.next_functions
        return (g @ b.T if fa[0] is not None else None,
                a.T @ g if fb[0] is not None else None)


class MatmulBackward0(Node):
    """out = a @ b with PyTorch's 1-D / batched rules; 1-D operands are lifted to 2-D."""

    __slots__ = ("shapes",)

    def backward(self, g, a, b):
        fa, fb = self.next_functions
        sa, sb = self.shapes
        a2 = a.reshape((1,) + sa) if len(sa) == 1 else a
        b2 = b.reshape(sb + (1,)) if len(sb) == 1 else b
        g2 = g
        if len(sa) == 1:
            g2 = g2.reshape(g2.shape[:-1] + (1,) + g2.shape[-1:]) if len(sb) > 1 else \
                g2.reshape(g2.shape + (1,))
        if len(sb) == 1:
            g2 = g2.reshape(g2.shape + (1,))
        ga = gb = None
        if fa[0] is not None:
            ga = sum_to(g2 @ _mT(b2), a2.shape if len(sa) > 1 else (1,) + sa).reshape(sa)
        if fb[0] is not None:
            gb = sum_to(_mT(a2) @ g2, b2.shape if len(sb) > 1 else sb + (1,)).reshape(sb)
        return ga, gb


class DotBackward0(Node):
    """out = a . b (1-D):  da = g * b,  db = g * a"""

    __slots__ = ()

    def backward(self, g, a, b):
        fa, fb = self.next_functions
        return (g * b if fa[0] is not None else None, g * a if fb[0] is not None else None)


def _check_matmul(a: np.ndarray, b: np.ndarray):
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and "
            f"{b.ndim}D")
    if a.ndim == 1 and b.ndim == 1:
        if a.shape[0] != b.shape[0]:
            raise RuntimeError(
                "inconsistent tensor size, expected tensor [%d] and src [%d] to have the same "
                "number of elements, but got %d and %d elements respectively"
                % (a.shape[0], b.shape[0], a.shape[0], b.shape[0]))
        return
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a == k_b:
        return
    if a.ndim == 2 and b.ndim == 2:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{k_a} and "
                           f"{k_b}x{b.shape[1]})")
    if a.ndim == 2 and b.ndim == 1:
        raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat "
                           f"({a.shape[0]}x{k_a}), vec ({k_b})")
    raise RuntimeError(f"matmul: shapes {shape_str(a.shape)} and {shape_str(b.shape)} cannot "
                       f"be multiplied (contracted dimensions {k_a} and {k_b} differ)")


def _check_dtypes(a, b):
    if a.dtype != b.dtype:
        from .. import _dtype

        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{_dtype.from_numpy_dtype(a.dtype).name} != {_dtype.from_numpy_dtype(b.dtype).name}")


def matmul(input, other, *, out=None):
    """Matrix product with PyTorch's rules for 1-D, 2-D and batched operands."""
    a, b = input._data, other._data
    _check_matmul(a, b)
    _check_dtypes(a, b)
    res = np.matmul(a, b)
    if a.ndim == 2 and b.ndim == 2:
        node_cls = MmBackward0
    elif a.ndim == 1 and b.ndim == 1:
        node_cls = DotBackward0
    else:
        node_cls = MatmulBackward0
    ta, tb = input._requires_grad, other._requires_grad
    if (ta or tb) and grad_state.enabled and res.dtype.kind in "fc":
        node = node_cls()
        node.next_functions = (edge(input) if ta else NO_EDGE, edge(other) if tb else NO_EDGE)
        node.saved = (a, b)
        if node_cls is MatmulBackward0:
            node.shapes = (a.shape, b.shape)
        return _make(res, True, node)
    return _make(res, False, None)


def mm(input, mat2, *, out=None):
    a, b = input._data, mat2._data
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(input, mat2)


def dot(input, other):
    a, b = input._data, other._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    return matmul(input, other)


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)
