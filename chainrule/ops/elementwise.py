"""Elementwise ops: one node class per op with its derivative, the function below it.

Each ``backward(g, *saved)`` gets NumPy arrays in a plain backward and Tensors under
``create_graph=True``; ``xp(g)`` picks ``numpy`` or ``chainrule`` for the functions it calls.
"""
from __future__ import annotations

import numpy as np

from .. import _dtype
from ..autograd.function import CONST, NO_EDGE, OUTPUT, Node, edge
from ..autograd.grad_mode import grad_state
from ..tensor import Tensor, _make

_new = object.__new__
from ._broadcast import broadcast_error, sum_to, xp


__all__ = ['add', 'clone', 'div', 'divide', 'exp', 'log', 'mul', 'multiply', 'neg', 'negative',
           'positive', 'pow', 'relu', 'rsub', 'sigmoid', 'sub', 'subtract', 'tanh', 'true_divide']  # extend as ops are added

_ndarray = np.ndarray
_SCALARS = (int, float, bool, complex)


# ======================================================================================
# Plumbing shared by the binary ops
# ======================================================================================
def _operand(x):
    """The array (or Python scalar) behind an operand; ndarrays pass as constants."""
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, _SCALARS) or isinstance(x, (np.ndarray, np.generic)):
        return x
    raise TypeError(f"unsupported operand type: {type(x).__name__}")


def _compute(ufunc, ad, bd, true_div=False):
    """Run ``ufunc`` and give the result PyTorch's dtype (NumPy differs for mixed kinds)."""
    try:
        # Fast paths where NumPy's result dtype already is PyTorch's.
        if type(ad) is _ndarray:
            tb = type(bd)
            if tb is _ndarray:
                if ad.dtype is bd.dtype and not (true_div and ad.dtype.kind in "iub"):
                    return ufunc(ad, bd)
            elif tb is float:
                if ad.dtype.kind in "fc":
                    return ufunc(ad, bd)
            elif tb is int and (ad.dtype.kind in "fc" or ad.dtype.kind in "iu" and not true_div):
                return ufunc(ad, bd)
        elif type(bd) is _ndarray and bd.dtype.kind in "fc" and type(ad) in (float, int):
            return ufunc(ad, bd)
        rt = _dtype.result_type(ad, bd)
        if true_div and rt.kind in "iub":
            rt = _dtype.get_default_dtype().np
        if type(ad) is _ndarray and ad.dtype is not rt:
            ad = ad.astype(rt)
        if type(bd) is _ndarray and bd.dtype is not rt:
            bd = bd.astype(rt)
        out = ufunc(ad, bd)
        if out.dtype != rt:
            out = out.astype(rt)
        return out
    except ValueError:
        raise broadcast_error(np.shape(ad), np.shape(bd)) from None


class BinaryNode(Node):
    """Base of two-input nodes: remembers input shapes only when broadcasting changed them."""

    __slots__ = ("shapes",)

    def reduce(self, ga, gb):
        """Sum each gradient back to its input's shape."""
        shapes = self.shapes
        if shapes is not None:
            if ga is not None:
                ga = sum_to(ga, shapes[0])
            if gb is not None:
                gb = sum_to(gb, shapes[1])
        return ga, gb


def _binary(node_cls, a, b, out, ad, bd, saved):
    """Wrap ``out`` as a Tensor and, when a gradient is wanted, record a ``node_cls`` node."""
    ta = isinstance(a, Tensor) and a._requires_grad
    tb = isinstance(b, Tensor) and b._requires_grad
    if (ta or tb) and grad_state.enabled and out.dtype.kind in "fc":
        node = node_cls()
        node.next_functions = (edge(a) if ta else NO_EDGE, edge(b) if tb else NO_EDGE)
        node.saved = saved
        oshape = out.shape
        ashape = ad.shape if type(ad) is _ndarray else ()
        bshape = bd.shape if type(bd) is _ndarray else ()
        node.shapes = None if ashape == oshape and (not tb or bshape == oshape) \
            else (ashape, bshape)
        return _make(out, True, node)
    return _make(out, False, None)


def _arith_op(node_cls, ufunc, save_inputs):
    """Build the forward of an arithmetic op (+ - * /), the hottest code in chainrule.

    The common cases (Tensor with Tensor of one dtype, float Tensor with a Python number)
    run inline in one function; everything else goes through ``_compute`` and ``_binary``.
    A Python number becomes a 0-d array of the tensor's dtype first: NumPy multiplies by
    that faster than by a Python float, in forward and again in backward.
    """
    true_div = ufunc is np.true_divide

    def op(a, b):
        if type(a) is Tensor:
            ad = a._data
            tb = type(b)
            if tb is Tensor:
                bd = b._data
                fast = bd.dtype is ad.dtype and (ad.dtype.kind == "f" or not true_div)
                shapes = None if ad.shape == bd.shape else (ad.shape, bd.shape)
            elif tb is float or tb is int:
                fast = ad.dtype.kind == "f"
                if fast:
                    bd = _np_array(b, ad.dtype)
                    shapes = None  # a 0-d operand never changes the shape
            else:
                fast = False
            if fast:
                try:
                    out = ufunc(ad, bd)
                except ValueError:
                    raise broadcast_error(ad.shape, bd.shape) from None
                if type(out) is not _ndarray:
                    out = _np_array(out)
                ra = a._requires_grad
                rb = tb is Tensor and b._requires_grad
                t = _new(Tensor)
                t._data = out
                if (ra or rb) and grad_state.enabled:
                    node = node_cls()
                    if ra:
                        fn = a.grad_fn
                        ea = (fn, a._output_nr) if fn is not None else edge(a)
                    else:
                        ea = NO_EDGE
                    node.next_functions = (ea, edge(b) if rb else NO_EDGE)
                    node.saved = (ad, bd) if save_inputs else ()
                    node.shapes = shapes
                    t._requires_grad = True
                    t.grad_fn = node
                else:
                    t._requires_grad = False
                    t.grad_fn = None
                return t
        ad = _operand(a)
        bd = _operand(b)
        out = _compute(ufunc, ad, bd, true_div)
        return _binary(node_cls, a, b, out, ad, bd, (ad, bd) if save_inputs else ())

    return op


_np_array = np.asarray


# ======================================================================================
# Arithmetic
# ======================================================================================
class AddBackward0(BinaryNode):
    """out = a + b:  da = g,  db = g"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        fa, fb = self.next_functions
        ga = g if fa[0] is not None else None
        gb = g if fb[0] is not None else None
        return (ga, gb) if self.shapes is None else self.reduce(ga, gb)


_add = _arith_op(AddBackward0, np.add, save_inputs=False)


def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other``, broadcasting."""
    return _add(input, other if alpha == 1 else other * alpha)


class SubBackward0(BinaryNode):
    """out = a - b:  da = g,  db = -g"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        fa, fb = self.next_functions
        return self.reduce(g if fa[0] is not None else None, -g if fb[0] is not None else None)


_sub = _arith_op(SubBackward0, np.subtract, save_inputs=False)


def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other``, broadcasting."""
    if isinstance(input, Tensor) and isinstance(other, Tensor) and \
            input._data.dtype == np.bool_ and other._data.dtype == np.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    return _sub(input, other if alpha == 1 else other * alpha)


def rsub(input, other, *, alpha=1):
    """``other - alpha * input``."""
    return sub(other, input * alpha if alpha != 1 else input)


class MulBackward0(BinaryNode):
    """out = a * b:  da = g * b,  db = g * a"""

    __slots__ = ()

    def backward(self, g, a, b):
        fa, fb = self.next_functions
        ga = g * b if fa[0] is not None else None
        gb = g * a if fb[0] is not None else None
        return (ga, gb) if self.shapes is None else self.reduce(ga, gb)


_mul = _arith_op(MulBackward0, np.multiply, save_inputs=True)


def mul(input, other, *, out=None):
    """``input * other``, broadcasting."""
    return _mul(input, other)


class DivBackward0(BinaryNode):
    """out = a / b:  da = g / b,  db = -g * a / b**2"""

    __slots__ = ()

    def backward(self, g, a, b):
        fa, fb = self.next_functions
        return self.reduce(g / b if fa[0] is not None else None,
                           -g * a / (b * b) if fb[0] is not None else None)


_div = _arith_op(DivBackward0, np.true_divide, save_inputs=True)


def div(input, other, *, rounding_mode=None, out=None):
    """``input / other`` (true division; ``rounding_mode`` 'trunc' or 'floor' rounds)."""
    if rounding_mode is not None:
        from . import elementwise_more

        return elementwise_more.rounded_div(input, other, rounding_mode)
    return _div(input, other)


class PowBackward0(Node):
    """out = x ** e for a number e:  dx = g * e * x ** (e - 1)"""

    __slots__ = ("exponent",)
    saved_spec = (0,)

    def backward(self, g, x):
        e = self.exponent
        if e == 0:
            return (g * 0,)
        if e == 2:
            return (g * (2 * x),)
        return (g * (e * x ** (e - 1)),)


class PowBackward1(BinaryNode):
    """out = a ** b (both tensors):  da = g * b * a**(b-1),  db = g * out * log(a)"""

    __slots__ = ()
    saved_spec = (0, 1, OUTPUT)

    def backward(self, g, a, b, out):
        fa, fb = self.next_functions
        ns = xp(g)
        ga = gb = None
        if fa[0] is not None:
            ga = g * ns.where(b == 0, 0.0, b * a ** ns.where(b == 0, 1.0, b - 1))
        if fb[0] is not None:
            gb = g * ns.where((a == 0) & (b >= 0), 0.0, out * ns.log(ns.where(a == 0, 1.0, a)))
        return self.reduce(ga, gb)


class PowBackward2(Node):
    """out = s ** x for a number s:  dx = g * out * log(s)"""

    __slots__ = ("base",)
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        s = self.base
        if s == 0:
            return (g * 0,)
        return (g * out * float(np.log(s)),)


def pow(input, exponent, *, out=None):  # noqa: A001 - torch.pow
    """``input ** exponent``; either side may be a number."""
    if not isinstance(input, Tensor):  # number ** tensor
        ed = exponent._data
        base = input
        res = _compute(np.power, base, ed)
        if exponent._requires_grad and grad_state.enabled and res.dtype.kind in "fc":
            node = PowBackward2()
            node.next_functions = (edge(exponent),)
            node.base = base
            node.saved = (res,)
            return _make(res, True, node)
        return _make(res, False, None)
    xd = input._data
    if isinstance(exponent, Tensor):
        ed = exponent._data
        if xd.dtype.kind in "iu" and ed.dtype.kind in "iu" and (ed < 0).any():
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        res = _compute(np.power, xd, ed)
        return _binary(PowBackward1, input, exponent, res, xd, ed, (xd, ed, res))
    if xd.dtype.kind in "iu" and isinstance(exponent, int) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if exponent == 2:
        res = xd * xd  # faster than np.power for the most common case
    elif exponent == 0.5 and xd.dtype.kind == "f":
        res = np.sqrt(xd)
    else:
        res = _compute(np.power, xd, exponent)
    if input._requires_grad and grad_state.enabled and res.dtype.kind in "fc":
        node = PowBackward0()
        node.next_functions = (edge(input),)
        node.exponent = exponent
        node.saved = (xd,)
        return _make(res, True, node)
    return _make(res, False, None)


# ======================================================================================
# Unary ops
# ======================================================================================
def _float(x: np.ndarray) -> np.ndarray:
    """Integer and bool inputs of float-valued functions compute in the default dtype."""
    return x if x.dtype.kind in "fc" else x.astype(_dtype.get_default_dtype().np)


def unary(node_cls, input, out, saved):
    """Wrap ``out`` as a Tensor; record a one-input ``node_cls`` node if a gradient is wanted."""
    if input._requires_grad and grad_state.enabled and out.dtype.kind in "fc":
        node = node_cls()
        node.next_functions = (edge(input),)
        node.saved = saved
        return _make(out, True, node)
    return _make(out, False, None)


class NegBackward0(Node):
    """out = -x"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        return (-g,)


def neg(input):
    if input._data.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return unary(NegBackward0, input, -input._data, ())


negative = neg


class ExpBackward0(Node):
    """out = exp(x):  dx = g * out"""

    __slots__ = ()
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        return (g * out,)


def exp(input):
    out = np.exp(_float(input._data))
    return unary(ExpBackward0, input, out, (out,))


class LogBackward0(Node):
    """out = log(x):  dx = g / x"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        return (g / x,)


def log(input):
    x = _float(input._data)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(x)
    return unary(LogBackward0, input, out, (x,))


class SigmoidBackward0(Node):
    """out = 1 / (1 + exp(-x)):  dx = g * out * (1 - out)"""

    __slots__ = ()
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        return (g * (out * (1 - out)),)


def _sigmoid_array(x: np.ndarray) -> np.ndarray:
    # exp(-|x|) never overflows; pick the algebraically equal form for each sign.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def sigmoid(input):
    out = _sigmoid_array(_float(input._data))
    return unary(SigmoidBackward0, input, out, (out,))


class TanhBackward0(Node):
    """out = tanh(x):  dx = g * (1 - out**2)"""

    __slots__ = ()
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        return (g * (1 - out * out),)


def tanh(input):
    out = np.tanh(_float(input._data))
    return unary(TanhBackward0, input, out, (out,))


class ReluBackward0(Node):
    """out = max(x, 0):  dx = g where out > 0 (0 at x == 0, as PyTorch)"""

    __slots__ = ()
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        return (g * (out > 0),)


def relu(input):
    x = input._data
    out = np.maximum(x, 0, dtype=x.dtype) if x.dtype.kind != "b" else x.copy()
    return unary(ReluBackward0, input, out, (out,))


class CloneBackward0(Node):
    """out = copy of x"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        return (g,)


def clone(input, *, memory_format=None):
    return unary(CloneBackward0, input, input._data.copy(), ())


class PositiveBackward0(CloneBackward0):
    __slots__ = ()


def positive(input):
    return unary(PositiveBackward0, input, input._data, ())


divide = true_divide = div
multiply = mul
subtract = sub
