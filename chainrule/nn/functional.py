"""Neural-network functions: activations and losses as compositions of ops.

A dedicated node appears only where numerical stability needs one (the fused
logits-based losses); everything else is built from differentiable ops.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import CONST, NO_EDGE, Node, edge
from ..autograd.grad_mode import grad_state
from ..ops import elementwise as _ew
from ..ops._broadcast import broadcast_error, shape_str, sum_to
from ..tensor import Tensor, _make

relu = _ew.relu
sigmoid = _ew.sigmoid
tanh = _ew.tanh


def _reduction_arg(reduction, size_average=None, reduce=None):
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _softplus_neg(x):
    """log(1 + exp(-x)), stable for any x."""
    return np.logaddexp(0, -x)


class BinaryCrossEntropyWithLogitsBackward0(Node):
    """l = w * [(1-y) x + (1 + (pw-1) y) log(1 + e^-x)]
    dl/dx = w * [(1 + (pw-1) y) sigmoid(x) - pw y],  dl/dy = w * [(pw-1) log(1+e^-x) - x]"""

    __slots__ = ("reduction", "numel")
    saved_spec = (0, 1, CONST, CONST)

    def backward(self, g, x, y, w, pw):
        fx, fy = self.next_functions
        ns = _ew.xp(g)
        if self.reduction == "mean":
            g = g / self.numel
        if self.reduction != "none":
            g = _broadcast_like(g, x)
        sig = ns.sigmoid(x) if ns is not np else _ew._sigmoid_array(x)
        gx = gy = None
        if fx[0] is not None:
            gx = sig - y if pw is None else (1 + (pw - 1) * y) * sig - pw * y
            gx = gx * g if w is None else gx * (g * w)
        if fy[0] is not None:
            sp = ns.logaddexp(x * 0, -x)
            gy = -x if pw is None else (pw - 1) * sp - x
            gy = sum_to(gy * g if w is None else gy * (g * w), y.shape)
        return gx, gy


def _broadcast_like(g, x):
    if type(g) is np.ndarray or isinstance(g, np.generic):
        return np.broadcast_to(g, x.shape)
    return g.expand(x.shape)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Binary cross entropy on logits, stable for any logit value.

    >>> import chainrule as torch
    >>> F = torch.nn.functional
    >>> round(F.binary_cross_entropy_with_logits(torch.zeros(3), torch.ones(3)).item(), 4)
    0.6931
    """
    reduction = _reduction_arg(reduction, size_average, reduce)
    x, y = input._data, target._data
    if x.shape != y.shape:
        raise ValueError(f"Target size ({shape_str(y.shape)}) must be the same as input size "
                         f"({shape_str(x.shape)})")
    w = None if weight is None else weight._data
    pw = None if pos_weight is None else pos_weight._data
    for extra in (w, pw):
        if extra is not None:
            try:
                np.broadcast_shapes(extra.shape, x.shape)
            except ValueError:
                raise broadcast_error(x.shape, extra.shape) from None
    sp = _softplus_neg(x)
    loss = (1 - y) * x + (sp if pw is None else (1 + (pw - 1) * y) * sp)
    if w is not None:
        loss = loss * w
    if reduction == "mean":
        out = np.asarray(loss.mean(), dtype=x.dtype)
    elif reduction == "sum":
        out = np.asarray(loss.sum(), dtype=x.dtype)
    else:
        out = loss.astype(x.dtype, copy=False)
    tx, ty = input._requires_grad, target._requires_grad
    if (tx or ty) and grad_state.enabled:
        node = BinaryCrossEntropyWithLogitsBackward0()
        node.next_functions = (edge(input) if tx else NO_EDGE, edge(target) if ty else NO_EDGE)
        node.saved = (x, y, w, pw)
        node.reduction = reduction
        node.numel = x.size
        return _make(out, True, node)
    return _make(out, False, None)


def _is_tensor(x) -> bool:
    return isinstance(x, Tensor)
