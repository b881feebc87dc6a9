"""Elementwise ops: one node class per op with its derivative, the function below it.

Each ``backward(g, *saved)`` gets NumPy arrays in a plain backward and Tensors under
``create_graph=True``; ``xp(g)`` picks ``numpy`` or ``chainrule`` for the functions it calls.
"""
from __future__ import annotations

import builtins
import functools
import math
from fractions import Fraction

import numpy as np

from .. import _dtype
from ..autograd.function import (CONST, NO_EDGE, OUTPUT, Node, array_versions, edge,
                                 mark_inference, stamp_versions)
from ..autograd.grad_mode import grad_state, inference_depth
from ..tensor import Tensor, _make, inplace

_new = object.__new__
from ._broadcast import broadcast_error, broadcast_to, sum_rows, sum_to, xp


__all__ = ['abs', 'absolute', 'acos', 'acosh', 'add', 'addcdiv', 'addcmul', 'allclose', 'angle',
           'arccos', 'arccosh', 'arcsin', 'arcsinh', 'arctan', 'arctan2', 'arctanh', 'asin',
           'asinh', 'atan', 'atan2', 'atanh', 'bitwise_and', 'bitwise_not', 'bitwise_or',
           'bitwise_xor', 'ceil', 'clamp', 'clamp_max', 'clamp_min', 'clip', 'clone', 'conj',
           'conj_physical', 'copysign', 'cos', 'cosh', 'digamma', 'div', 'divide', 'eq', 'equal',
           'erf', 'erfc', 'erfinv', 'exp', 'exp2', 'expm1', 'fix', 'float_power', 'floor',
           'floor_divide', 'fmax', 'fmin', 'fmod', 'frac', 'ge', 'greater', 'greater_equal', 'gt',
           'hypot', 'imag', 'is_conj', 'is_neg', 'isclose', 'isfinite', 'isinf', 'isnan',
           'isneginf', 'isposinf', 'le', 'lerp', 'less', 'less_equal', 'lgamma', 'log', 'log10',
           'log1p', 'log2', 'logaddexp', 'logaddexp2', 'logical_and', 'logical_not', 'logical_or',
           'logical_xor', 'logit', 'lt', 'maximum', 'minimum', 'mul', 'multiply', 'nan_to_num',
           'ne', 'neg', 'negative', 'not_equal', 'polygamma', 'positive', 'pow', 'real',
           'reciprocal', 'relu', 'remainder', 'resolve_conj', 'resolve_neg', 'round', 'rsqrt',
           'rsub', 'sgn', 'sigmoid', 'sign', 'signbit', 'sin', 'sinh', 'sqrt', 'square', 'sub',
           'subtract', 'tan', 'tanh', 'true_divide', 'trunc', 'where', 'xlogy']

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


class ElementwiseNode(Node):
    """Base of this file's nodes: each rule works elementwise, with broadcasting ops only, so it
    also holds for tangents with leading batch dims (forward_ad's batched Jacobians)."""

    __slots__ = ()
    jvp_batched = True


class BinaryNode(ElementwiseNode):
    """Base of two-input nodes: remembers input shapes only when broadcasting changed them."""

    __slots__ = ("shapes",)

    def reduce(self, ga, gb):
        """Sum each gradient back to its input's shape."""
        shapes = self.shapes
        if shapes is not None:
            if ga is not None and ga.shape != shapes[0]:
                ga = sum_to(ga, shapes[0])
            if gb is not None and gb.shape != shapes[1]:
                gb = sum_to(gb, shapes[1])
        return ga, gb

    def jvp(self, tangents, *saved):
        return _broadcast_jvp(self, tangents, saved)


def _binary(node_cls, a, b, out, ad, bd, saved):
    """Wrap ``out`` as a Tensor and, when a gradient is wanted, record a ``node_cls`` node."""
    ta = isinstance(a, Tensor) and a._requires_grad
    tb = isinstance(b, Tensor) and b._requires_grad
    if (ta or tb) and grad_state.enabled:
        kind = out.dtype.kind
        if kind == "f":
            node = node_cls()
        elif kind == "c":
            node = _complex_node(node_cls, (ad, bd))
        else:
            return _make(out, False, None)
        node.next_functions = (edge(a) if ta else NO_EDGE, edge(b) if tb else NO_EDGE)
        node.saved = saved
        oshape = out.shape
        ashape = ad.shape if type(ad) is _ndarray else ()
        bshape = bd.shape if type(bd) is _ndarray else ()
        node.shapes = None if ashape == oshape and (not tb or bshape == oshape) \
            else (ashape, bshape)
        return _make(out, True, node)
    return _make(out, False, None)


def _arith_op(node_cls, ufunc, save_inputs, number_cls):
    """Build the forward of an arithmetic op (+ - * /), the hottest code in chainrule.

    The common cases (Tensor with Tensor of one dtype, float Tensor with a Python number)
    run inline in one function; everything else goes through ``_compute`` and ``_binary``.
    A Python number becomes a 0-d array of the tensor's dtype first: NumPy multiplies by
    that faster than by a Python float, in forward and again in backward.
    """
    true_div = ufunc is np.true_divide
    cross = ufunc is np.multiply  # d(a*b)/da reads only b and vice versa; a/b reads b always

    def op(a, b):
        if type(a) is Tensor:
            ad = a._data
            tb = type(b)
            if tb is float or tb is int:
                # Tensor (op) number. The cache holds 0-d arrays for float dtypes only, so
                # a hit also says that NumPy's result dtype is PyTorch's.
                pair = _scalar_pairs.get((b, ad.dtype))
                if pair is None and ad.dtype.kind == "f":
                    pair = _scalar_pair(b, ad.dtype)
                if pair is not None:
                    bd = pair[1]
                    out = ufunc(ad, bd)
                    if type(out) is not _ndarray:
                        out = _np_array(out)
                    t = _new(Tensor)
                    t._data = out
                    if a._requires_grad and grad_state.enabled:
                        node = _new(number_cls)
                        fn = a.grad_fn
                        node.next_functions = ((fn, a._output_nr) if fn is not None
                                               else edge(a), NO_EDGE)
                        node.saved = pair if save_inputs else ()  # (None, bd), shared
                        node.shapes = None  # a 0-d operand never changes the shape
                        t._requires_grad = True
                        t.grad_fn = node
                        if array_versions:
                            stamp_versions(node)
                    else:
                        t._requires_grad = False
                        t.grad_fn = None
                        if inference_depth[0] and grad_state.inference:
                            mark_inference(out)  # as _make does
                    return t
            elif tb is Tensor:
                bd = b._data
                if bd.dtype is ad.dtype and (ad.dtype.kind == "f" or not true_div
                                             and ad.dtype.kind in "iu"):
                    try:
                        out = ufunc(ad, bd)
                    except ValueError:
                        raise broadcast_error(ad.shape, bd.shape) from None
                    if type(out) is not _ndarray:
                        out = _np_array(out)
                    ra = a._requires_grad
                    rb = b._requires_grad
                    t = _new(Tensor)
                    t._data = out
                    if (ra or rb) and grad_state.enabled:
                        node = _new(node_cls)  # the arithmetic nodes have no __init__
                        if ra:
                            fn = a.grad_fn
                            ea = (fn, a._output_nr) if fn is not None else edge(a)
                        else:
                            ea = NO_EDGE
                        if rb:
                            fn = b.grad_fn
                            eb = (fn, b._output_nr) if fn is not None else edge(b)
                        else:
                            eb = NO_EDGE
                        node.next_functions = (ea, eb)
                        # Save only what the wanted gradients read (PyTorch does the same):
                        # an operand saved needlessly would trip the in-place version check.
                        if save_inputs:
                            node.saved = (ad if rb else None, bd if ra or not cross else None)
                        else:
                            node.saved = ()
                        node.shapes = None if ad.shape == bd.shape else (ad.shape, bd.shape)
                        t._requires_grad = True
                        t.grad_fn = node
                        if array_versions:
                            stamp_versions(node)
                    else:
                        t._requires_grad = False
                        t.grad_fn = None
                        if inference_depth[0] and grad_state.inference:
                            mark_inference(out)  # as _make does
                    return t
        ad = _operand(a)
        bd = _operand(b)
        if ufunc is np.subtract:
            _check_bool_sub(ad, bd)
        out = _compute(ufunc, ad, bd, true_div)
        ra = isinstance(a, Tensor) and a._requires_grad
        rb = isinstance(b, Tensor) and b._requires_grad
        saved = (ad if rb else None, bd if ra or not cross else None) if save_inputs else ()
        return _binary(node_cls, a, b, out, ad, bd, saved)

    return op


_np_array = np.asarray
_scalar_pairs: dict = {}


def _scalar_pair(value, dtype) -> tuple:
    """``(None, a)`` with ``a`` a read-only 0-d array for a Python number, cached: code like
    ``x * 0.5`` in a loop converts the number once, and the pair doubles as the ``saved``
    tuple of every node it makes (nothing to allocate per op)."""
    key = (value, dtype)
    pair = _scalar_pairs.get(key)
    if pair is None:
        if len(_scalar_pairs) > 512:
            _scalar_pairs.clear()
        arr = np.array(value, dtype)
        arr.setflags(write=False)
        pair = _scalar_pairs[key] = (None, arr)
    return pair


# ======================================================================================
# Forward mode (jvp) shortcuts shared by the elementwise nodes
# ======================================================================================
def _elementwise_jvp(self, tangents, *saved):
    """One-input elementwise op: its Jacobian is diagonal, so ``J t = J^T t``: the backward
    formula applied to the tangent is the jvp (for real dtypes, as the formulas here; the
    complex variants of ``_complex_node`` keep the plain formula as ``_plain_backward``)."""
    return getattr(self, "_plain_backward", self.backward)(tangents[0], *saved)[0]


def _broadcast_jvp(node, tangents, saved):
    """Elementwise op of broadcast operands: ``d out = sum_i f_i t_i`` with the partial
    derivatives ``f_i`` read off the backward formula run with ``g = 1`` before it sums back
    to the operands' shapes (``shapes`` is None during that call: nothing is reduced)."""
    shapes = node.shapes
    ref = next(t for t in tangents if t is not None)
    out_shape = tuple(ref.shape) if shapes is None else \
        np.broadcast_shapes(*(tuple(s) for s in shapes))
    ones = np.ones(out_shape, ref.dtype) if _is_array(ref) else \
        xp(ref).ones(out_shape, dtype=ref.dtype)
    node.shapes = None
    try:
        factors = getattr(node, "_plain_backward", node.backward)(ones, *saved)
    finally:
        node.shapes = shapes
    out = None
    for f, t in zip(factors, tangents):
        if t is not None:
            out = f * t if out is None else out + f * t
    return _to_shape(out, out_shape)


def _to_shape(t, shape):
    """A tangent broadcast to the output's ``shape`` (an operand that broadcast); leading
    dims beyond the output's rank (a batch of tangents) are kept."""
    shape = tuple(shape)
    lead = t.ndim - len(shape)
    if lead > 0:
        shape = tuple(t.shape[:lead]) + shape
    return t if tuple(t.shape) == shape else broadcast_to(t, shape)


def _sum_tangents(node, ta, tb):
    """``ta + tb`` for the tangents of a two-operand op, either may be None."""
    if ta is None:
        out = tb
    elif tb is None:
        out = ta
    else:
        return ta + tb
    shapes = node.shapes
    return out if shapes is None else _to_shape(out, np.broadcast_shapes(*shapes))



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
        shapes = self.shapes
        if shapes is None:
            return ga, gb
        if type(g) is _ndarray and g.ndim == 2 and shapes[0] == g.shape and \
                shapes[1] == g.shape[1:]:  # x + bias: the bias gets the column sums
            return ga, (sum_rows(g) if gb is not None else None)
        return self.reduce(ga, gb)

    def jvp(self, tangents):
        return _sum_tangents(self, *tangents)


class _AddNumber(AddBackward0):
    """tensor + number: the hot case, with no checks in the formula (same node name)."""

    __slots__ = ()

    def backward(self, g):
        return (g, None)


_add = _arith_op(AddBackward0, np.add, False, _AddNumber)


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

    def jvp(self, tangents):
        ta, tb = tangents
        return _sum_tangents(self, ta, None if tb is None else -tb)


class _SubNumber(SubBackward0):
    """tensor - number (same node name)."""

    __slots__ = ()

    def backward(self, g):
        return (g, None)


_sub = _arith_op(SubBackward0, np.subtract, False, _SubNumber)


def _check_bool_sub(ad, bd):
    """PyTorch refuses ``-`` with a bool operand (tensor or Python bool): it is never what a
    mask inversion or xor should be written as."""
    a_bool = getattr(ad, "dtype", None) == np.bool_ or type(ad) is bool
    b_bool = getattr(bd, "dtype", None) == np.bool_ or type(bd) is bool
    if a_bool and b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if a_bool or b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


def _refuse_two_bools(kernel, ad, bd):
    """PyTorch has no bool kernel for //, %, fmod and a tensor ** tensor of bools."""
    if (getattr(ad, "dtype", None) == np.bool_ or type(ad) is bool) and \
            (getattr(bd, "dtype", None) == np.bool_ or type(bd) is bool):
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other``, broadcasting."""
    _check_bool_sub(_operand(input), _operand(other))
    return _sub(input, other if alpha == 1 else other * alpha)


def rsub(input, other, *, alpha=1):
    """``other - alpha * input`` (``number - tensor`` is ``rsub(tensor, number)``)."""
    if alpha == 1 and type(other) in (int, float) and isinstance(input, Tensor):
        xd = input._data
        _check_bool_sub(xd, other)
        return unary(RsubBackward1, input, _compute(np.subtract, other, xd, False), ())
    return sub(other, input * alpha if alpha != 1 else input)


def _rtruediv(input, other):
    """``other / input``: for a number, ``reciprocal(input) * other``, as PyTorch computes it
    (the same rounding, and the same two nodes: ReciprocalBackward0, MulBackward0)."""
    if type(other) in (int, float) and isinstance(input, Tensor):
        return _mul(reciprocal(input), other)
    return div(other, input)


class MulBackward0(BinaryNode):
    """out = a * b:  da = g * b,  db = g * a"""

    __slots__ = ()

    def backward(self, g, a, b):
        fa, fb = self.next_functions
        ga = g * b if fa[0] is not None else None
        gb = g * a if fb[0] is not None else None
        return (ga, gb) if self.shapes is None else self.reduce(ga, gb)

    def jvp(self, tangents, a, b):
        ta, tb = tangents
        return _sum_tangents(self, None if ta is None else ta * b, None if tb is None else a * tb)


class _MulNumber(MulBackward0):
    """tensor * number: the hot case, with no checks in the formula (same node name)."""

    __slots__ = ()
    number_slot = 1  # saved = (None, the number as a 0-d array)

    def backward(self, g, a, b):
        return (g * b, None)


_mul = _arith_op(MulBackward0, np.multiply, True, _MulNumber)


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

    def jvp(self, tangents, a, b):
        ta, tb = tangents
        return _sum_tangents(self, None if ta is None else ta / b,
                             None if tb is None else -tb * a / (b * b))


class _DivNumber(DivBackward0):
    """tensor / number (same node name)."""

    __slots__ = ()
    number_slot = 1  # saved = (None, the number as a 0-d array)

    def backward(self, g, a, b):
        return (g / b, None)


_div = _arith_op(DivBackward0, np.true_divide, True, _DivNumber)

for _cls in (_AddNumber, _SubNumber, _MulNumber, _DivNumber):  # print as PyTorch's names
    _cls.__name__ = _cls.__qualname__ = _cls.__mro__[1].__name__


def div(input, other, *, rounding_mode=None, out=None):
    """``input / other`` (true division; ``rounding_mode`` 'trunc' or 'floor' rounds)."""
    if rounding_mode is not None:
        return _rounded_div(input, other, rounding_mode)
    return _div(input, other)


class PowBackward0(ElementwiseNode):
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

    jvp = _elementwise_jvp


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


class PowBackward2(ElementwiseNode):
    """out = s ** x for a number s:  dx = g * out * log(s)"""

    __slots__ = ("base",)
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        s = self.base
        if s == 0:
            return (g * 0,)
        return (g * out * (complex(np.log(complex(s))) if isinstance(s, complex)
                           else float(np.log(s))),)

    jvp = _elementwise_jvp


def pow(input, exponent, *, out=None):  # noqa: A001 - torch.pow
    """``input ** exponent``; either side may be a number."""
    if not isinstance(input, Tensor):  # number ** tensor
        ed = exponent._data
        base = input
        _refuse_two_bools("pow", base, ed)
        res = _compute(np.power, base, ed)
        if exponent._requires_grad and grad_state.enabled and res.dtype.kind in "fc":
            node = PowBackward2() if res.dtype.kind == "f" else \
                _complex_node(PowBackward2, (ed,))
            node.next_functions = (edge(exponent),)
            node.base = base
            node.saved = (res,)
            return _make(res, True, node)
        return _make(res, False, None)
    xd = input._data
    if isinstance(exponent, Tensor):
        ed = exponent._data
        _refuse_two_bools("pow", xd, ed)
        if xd.dtype.kind in "iu" and ed.dtype.kind in "iu" and (ed < 0).any():
            # NumPy refuses; torch's integer results: 1 ** -n = 1, (-1) ** -n = +-1, else 0
            res = _compute(np.power, xd, np.where(ed < 0, 0, ed))
            xb, eb = np.broadcast_to(xd, res.shape), np.broadcast_to(ed, res.shape)
            special = np.where(xb == 1, 1, np.where(xb == -1, np.where(eb % 2 == 0, 1, -1), 0))
            res = np.where(eb < 0, special, res).astype(res.dtype)
            return _binary(PowBackward1, input, exponent, res, xd, ed, (xd, ed, res))
        res = _compute(np.power, xd, ed)
        return _binary(PowBackward1, input, exponent, res, xd, ed, (xd, ed, res))
    if xd.dtype.kind in "iu" and isinstance(exponent, int) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if xd.dtype == np.bool_ and type(exponent) is int:  # an int exponent promotes bools
        xd = xd.astype(np.int64)
    if exponent == 2:
        res = xd * xd  # faster than np.power for the most common case
    elif exponent == 0.5 and xd.dtype.kind == "f":
        res = np.sqrt(xd)
    else:
        res = _compute(np.power, xd, exponent)
    if input._requires_grad and grad_state.enabled and res.dtype.kind in "fc":
        node = PowBackward0() if res.dtype.kind == "f" else \
            _complex_node(PowBackward0, (xd,))
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
    if input._requires_grad and grad_state.enabled:
        kind = out.dtype.kind
        if kind == "f" and type(out) is _ndarray:
            # The hot case (activations in a loop): ``edge`` and ``_make`` written inline.
            node = _new(node_cls)
            fn = input.grad_fn
            node.next_functions = ((fn, input._output_nr) if fn is not None else edge(input),)
            node.saved = saved
            t = _new(Tensor)
            t._data = out
            t._requires_grad = True
            t.grad_fn = node
            if array_versions:
                stamp_versions(node)
            return t
        if kind == "f":
            node = node_cls()
        elif kind == "c":
            node = _complex_node(node_cls, (input._data,))
        else:
            return _make(out, False, None)
        node.next_functions = (edge(input),)
        node.saved = saved
        return _make(out, True, node)
    return _make(out, False, None)


# ======================================================================================
# Complex outputs: PyTorch's conjugate convention
# ======================================================================================
# PyTorch's gradient of a holomorphic op with a complex output is ``g * conj(f'(z))``, and
# a real input receives its real part. The formulas in this file are written for real
# numbers (``g * f'(z)``), and ``conj(formula(conj(g)))`` turns one into the other, so a
# node with a complex output is made from a variant of its class that wraps the same
# formula. Nodes with real outputs (the hot path) never meet it. A class whose formula
# already follows the convention (sgn, conj, ...) sets ``complex_rule = True``.
_complex_variants: dict = {}


def _is_complex(d) -> bool:
    """Is ``d`` (a Tensor, an array, a NumPy or Python number) complex?"""
    if isinstance(d, Tensor):
        return d._data.dtype.kind == "c"
    return isinstance(d, complex) or getattr(d, "dtype", None) is not None and \
        d.dtype.kind == "c"


def _conj(v):
    return conj(v) if isinstance(v, Tensor) else np.conj(v)


def _complex_variant(node_cls):
    cls = _complex_variants.get(node_cls)
    if cls is not None:
        return cls
    plain = node_cls.backward

    def backward(self, g, *saved):
        grads = plain(self, _conj(g), *saved)
        return tuple(None if r is None else r.real if real else _conj(r)
                     for r, real in zip(grads, self.real_inputs))

    def _plain_backward(self, g, *saved):
        return plain(self, g, *saved)

    cls = type(node_cls.__name__, (node_cls,), {
        "__slots__": ("real_inputs",), "backward": backward,
        "_plain_backward": _plain_backward, "__doc__": node_cls.__doc__,
        "__qualname__": node_cls.__qualname__, "__module__": node_cls.__module__})
    _complex_variants[node_cls] = cls
    return cls


def _complex_node(node_cls, datas):
    """A node of ``node_cls`` for a complex output of inputs ``datas`` (arrays/numbers)."""
    if getattr(node_cls, "complex_rule", False):
        return node_cls()
    node = _complex_variant(node_cls)()
    node.real_inputs = tuple(not _is_complex(d) for d in datas)
    return node


class NegBackward0(ElementwiseNode):
    """out = -x"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        return (-g,)

    def jvp(self, tangents):
        return -tangents[0]


class RsubBackward1(NegBackward0):
    """out = c - x (c a number, ``rsub``):  dx = -g, neg's formula under PyTorch's name"""

    __slots__ = ()


def neg(input):
    if input._data.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return unary(NegBackward0, input, -input._data, ())


negative = neg


class ExpBackward0(ElementwiseNode):
    """out = exp(x):  dx = g * out"""

    __slots__ = ()
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        return (g * out,)

    def jvp(self, tangents, out):
        return tangents[0] * out


def exp(input):
    out = np.exp(_float(input._data))
    return unary(ExpBackward0, input, out, (out,))


class LogBackward0(ElementwiseNode):
    """out = log(x):  dx = g / x"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g / x,)

    def jvp(self, tangents, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return tangents[0] / x


def log(input):
    x = _float(input._data)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(x)
    return unary(LogBackward0, input, out, (x,))


class SigmoidBackward0(ElementwiseNode):
    """out = 1 / (1 + exp(-x)):  dx = g * out * (1 - out)"""

    __slots__ = ()
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        if type(g) is not Tensor:
            return (g * (out * (1 - out)),)
        gd, y = g._data, out._data  # create_graph: one recorded node, as PyTorch
        return (_backward_op(SigmoidBackwardBackward0, g, out, gd * (y * (1 - y))),)

    def jvp(self, tangents, out):
        return tangents[0] * (out * (1 - out))


def _sigmoid_array(x: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "c":
        with _quiet():
            return 1 / (1 + np.exp(-x))
    if x.ndim == 0:  # ufuncs give 0-d results as scalars: no out= below
        return np.asarray(1 / (1 + np.exp(-x)), x.dtype)
    # 1 / (1 + exp(-x)) in four ufunc calls on one buffer (~3x faster than a two-branch
    # stable form). -x is capped where exp would overflow (88 for float32): below that x
    # the result stays at its smallest normal value instead of reaching 0.
    if x.dtype.itemsize < 4:  # float16: in float32 (its cap would be visible in float16)
        return _sigmoid_array(x.astype(np.float32)).astype(x.dtype)
    e = np.negative(x)
    np.minimum(e, _EXP_MAX.get(x.dtype.char, 88.0), out=e)
    np.exp(e, out=e)
    np.add(e, 1, out=e)
    return np.reciprocal(e, out=e)


_EXP_MAX = {"f": 88.0, "d": 708.0, "g": 11355.0}  # exp(v) is finite below these


def sigmoid(input):
    out = _sigmoid_array(_float(input._data))
    return unary(SigmoidBackward0, input, out, (out,))


class TanhBackward0(ElementwiseNode):
    """out = tanh(x):  dx = g * (1 - out**2)"""

    __slots__ = ()
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        if type(g) is not Tensor:
            return (g - g * out * out,)  # = g * (1 - out**2), one NumPy temporary fewer
        gd, y = g._data, out._data  # create_graph: one recorded node, as PyTorch, not three
        return (_backward_op(TanhBackwardBackward0, g, out, gd * (1 - y * y)),)

    def jvp(self, tangents, out):
        return tangents[0] * (1 - out * out)


# -- the backward formulas of tanh and sigmoid as ops of their own ------------------------
# Under create_graph a formula is recorded op by op; these two are recorded as one node
# each (PyTorch's TanhBackwardBackward0 / SigmoidBackwardBackward0): fewer nodes to make
# and to run in a double backward.
def _backward_op(node_cls, g, y, data):
    """The array ``data`` (computed from Tensors ``g`` and ``y``) as the output of one
    ``node_cls`` node with inputs ``g`` and ``y``."""
    if grad_state.enabled and (g._requires_grad or y._requires_grad):
        node = node_cls() if data.dtype.kind != "c" else \
            _complex_node(node_cls, (g._data, y._data))
        node.next_functions = (edge(g) if g._requires_grad else NO_EDGE,
                               edge(y) if y._requires_grad else NO_EDGE)
        node.saved = (g._data, y._data)
        node.shapes = None
        if array_versions:
            stamp_versions(node)
        return _make(data, True, node)
    return _make(data, False, None)


class TanhBackwardBackward0(BinaryNode):
    """out = g * (1 - y**2):  dg = gg * (1 - y**2),  dy = -2 gg g y"""

    __slots__ = ()

    def backward(self, gg, g, y):
        fg, fy = self.next_functions
        return (gg * (1 - y * y) if fg[0] is not None else None,
                gg * g * y * -2 if fy[0] is not None else None)

    def jvp(self, tangents, g, y):
        tg, ty = tangents
        return _sum_tangents(self, None if tg is None else tg * (1 - y * y),
                             None if ty is None else ty * g * y * -2)


class SigmoidBackwardBackward0(BinaryNode):
    """out = g * y (1 - y):  dg = gg * y (1 - y),  dy = gg g (1 - 2 y)"""

    __slots__ = ()

    def backward(self, gg, g, y):
        fg, fy = self.next_functions
        return (gg * (y * (1 - y)) if fg[0] is not None else None,
                gg * g * (1 - 2 * y) if fy[0] is not None else None)

    def jvp(self, tangents, g, y):
        tg, ty = tangents
        return _sum_tangents(self, None if tg is None else tg * (y * (1 - y)),
                             None if ty is None else ty * g * (1 - 2 * y))


def tanh(input):
    x = input._data
    out = np.tanh(x if x.dtype.kind in "fc" else _float(x))
    return unary(TanhBackward0, input, out, (out,))


class ReluBackward0(ElementwiseNode):
    """out = max(x, 0):  dx = g where out > 0 (0 at x == 0, as PyTorch)"""

    __slots__ = ()
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        if type(g) is _ndarray and g.shape == out.shape and g.dtype == out.dtype:
            # The mask written as 0/1 into the result buffer: no bool temporary (a quarter of
            # the activation's size, at the backward pass's peak), as torch's one kernel.
            res = np.greater(out, 0, out=np.empty_like(g))
            return (np.multiply(res, g, out=res),)
        return (g * (out > 0),)

    def jvp(self, tangents, out):
        return tangents[0] * (out > 0)


def relu(input):
    x = input._data
    if x.dtype.kind == "b":
        raise RuntimeError('"clamp_min_cpu" not implemented for \'Bool\'')
    out = np.maximum(x, 0, dtype=x.dtype) if x.dtype.kind != "b" else x.copy()
    return unary(ReluBackward0, input, out, (out,))


class CloneBackward0(ElementwiseNode):
    """out = copy of x"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        return (g,)

    def jvp(self, tangents):
        return tangents[0]


def clone(input, *, memory_format=None):
    return unary(CloneBackward0, input, input._data.copy(), ())


class PositiveBackward0(CloneBackward0):
    __slots__ = ()


def positive(input):
    return unary(PositiveBackward0, input, input._data, ())


divide = true_divide = div
multiply = mul
subtract = sub


# ======================================================================================
# Helpers shared by the ops below
# ======================================================================================
_quiet = functools.partial(np.errstate, divide="ignore", invalid="ignore", over="ignore")
"""``with _quiet():`` silences NumPy's warnings where PyTorch returns inf/nan silently."""

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_SQRT_PI = math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2.0 / _SQRT_PI
_NAN = float("nan")

# PyTorch's C++ names of the dtypes, as its error messages print them.
_TYPE_NAMES = {np.dtype(k): v for k, v in (
    (np.bool_, "Bool"), (np.uint8, "Byte"), (np.int8, "Char"), (np.int16, "Short"),
    (np.int32, "Int"), (np.int64, "Long"), (np.float16, "Half"), (np.float32, "Float"),
    (np.float64, "Double"), (np.complex64, "ComplexFloat"), (np.complex128, "ComplexDouble"))}


def _type_name(dt) -> str:
    return _TYPE_NAMES.get(np.dtype(dt), str(dt))


def _not_implemented(kernel: str, dt) -> NotImplementedError:
    """PyTorch's error for a dtype a kernel has no implementation for."""
    return NotImplementedError(f'"{kernel}" not implemented for \'{_type_name(dt)}\'')


def _is_array(x) -> bool:
    return type(x) is _ndarray or isinstance(x, np.generic)


def _zeros_like(g):
    """Zeros shaped like ``g`` (a gradient that is 0 almost everywhere: floor, sign, ...)."""
    return xp(g).zeros_like(g)


def _cast_saved(dtype, *values):
    """Saved operands in the output's dtype, so that a plain backward stays in that dtype
    (an int64 operand would turn a float32 gradient into float64)."""
    return tuple(v.astype(dtype) if _is_array(v) and v.dtype != dtype else v for v in values)


def _need_tensor(name: str, *args) -> None:
    """Ops with two or three operands accept numbers for some, but need one Tensor."""
    if not any(isinstance(a, Tensor) for a in args):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, "
                        f"not {type(args[0]).__name__}")


def _broadcast_failure(*shapes) -> RuntimeError:
    """PyTorch's message naming the first pair of shapes that do not broadcast."""
    acc = tuple(shapes[0])
    for s in shapes[1:]:
        try:
            acc = np.broadcast_shapes(acc, tuple(s))
        except ValueError:
            return broadcast_error(acc, s)
    return broadcast_error(shapes[0], shapes[-1])


def _sign_np(x):
    """PyTorch's sign on arrays: like ``np.sign`` but 0 (not nan) for nan."""
    out = np.sign(x)
    if out.dtype.kind == "f":
        nan = out != out
        if nan.any():
            out = np.where(nan, 0, out)
    return out


class TernaryNode(ElementwiseNode):
    """Base of three-input nodes (lerp, addcmul, clamp with tensor bounds, ...)."""

    __slots__ = ("shapes",)

    def reduce(self, *grads):
        """Sum each gradient back to its input's shape."""
        shapes = self.shapes
        if shapes is None:
            return grads
        return tuple(None if g is None else sum_to(g, s) for g, s in zip(grads, shapes))

    def jvp(self, tangents, *saved):
        return _broadcast_jvp(self, tangents, saved)


def _nary(node_cls, inputs, datas, out, saved):
    """``_binary`` for any number of operands (numbers and None get no edge)."""
    req = [isinstance(t, Tensor) and t._requires_grad for t in inputs]
    kind = out.dtype.kind
    if grad_state.enabled and kind in "fc" and any(req):
        node = node_cls() if kind == "f" else _complex_node(node_cls, datas)
        node.next_functions = tuple(edge(t) if r else NO_EDGE for t, r in zip(inputs, req))
        node.saved = saved
        oshape = out.shape
        shapes = tuple(np.shape(d) for d in datas)
        node.shapes = None if all(s == oshape for s, r in zip(shapes, req) if r) else shapes
        return _make(out, True, node)
    return _make(out, False, None)


def _inplace_version(op):
    """``op_(input, ...)``: ``op`` computed out of place and written into ``input``
    (``inplace`` from tensor.py: leaf check, version bump, ``grad_fn`` rebased)."""

    def op_(input, *args, **kwargs):
        return inplace(input, op, *args, **kwargs)

    op_.__name__ = op_.__qualname__ = op.__name__ + "_"
    op_.__doc__ = f"In-place version of :func:`{op.__name__}`."
    return op_


# ======================================================================================
# Special-function kernels (NumPy only; SciPy is not a dependency)
# ======================================================================================
# Each kernel takes and returns float64 arrays; ``_special_np`` runs it for other float
# dtypes (the result is rounded back, as PyTorch rounds its float32 results). Accuracy
# against 40-digit references: erf/erfc a few ulp, erfinv/lgamma/digamma/polygamma ~1e-15
# relative away from their zeros.
def _bernoulli_even(n: int):
    """B_2, B_4, ..., B_2n as exact Fractions (Akiyama-Tanigawa)."""
    a, out = [], []
    for m in range(2 * n + 1):
        a.append(Fraction(1, m + 1))
        for j in range(m, 0, -1):
            a[j - 1] = j * (a[j - 1] - a[j])
        if m >= 2 and m % 2 == 0:
            out.append(a[0])
    return out


_B2K = _bernoulli_even(12)  # B_2 ... B_24
_EULER_GAMMA = 0.5772156649015329


class _Cheb:
    """``f`` on ``[a, b]`` as a Chebyshev series, interpolated once at the Chebyshev points
    of the first kind and evaluated on arrays with Clenshaw's recurrence."""

    def __init__(self, f, a: float, b: float, deg: int):
        n = deg + 1
        y = [f(0.5 * (a + b) + 0.5 * (b - a) * math.cos(math.pi * (2 * i + 1) / (2 * n)))
             for i in range(n)]
        # cos(pi m / 2n) with m reduced exactly in integers, summed with fsum: the
        # coefficients come out accurate to ~1 ulp (chebvander's recurrence loses digits).
        coef = [(2.0 / n) * math.fsum(
            yi * math.cos(math.pi * ((j * (2 * i + 1)) % (4 * n)) / (2 * n))
            for i, yi in enumerate(y)) for j in range(n)]
        coef[0] *= 0.5
        self.coef = coef
        self.scale, self.shift = 2.0 / (b - a), (a + b) / (b - a)

    def __call__(self, x):
        u = x * self.scale - self.shift
        u2 = u + u
        c = self.coef
        b1, b2 = np.full_like(u, c[-1]), 0.0
        for ck in c[-2:0:-1]:
            b1, b2 = u2 * b1 - b2 + ck, b1
        return u * b1 - b2 + c[0]


def _erfcx_scalar(x: float) -> float:
    """exp(x*x) * erfc(x) for one float x >= 0.5, from the standard library (a few ulp)."""
    if x >= 10.0:  # the continued fraction, evaluated backwards, converges fast out here
        t = x
        for k in range(120, 0, -1):
            t = x + 0.5 * k / t
        return 1.0 / (_SQRT_PI * t)
    s = float(np.float32(x))  # x = s + (x - s) with s*s exact: exp(x*x) keeps every digit
    return math.erfc(x) * math.exp(s * s) * math.exp((x - s) * (x + s))


@functools.lru_cache(maxsize=None)
def _erf_tables():
    """Fitted on first use (~1 ms): erf(x)/x in t = x*x on |x| <= 1; erfcx(x) on [0.5, 4];
    x * erfcx(x) in v = 1/x**2 beyond 4 (smooth there, so one piece of modest degree)."""
    def erf_over_x(t):
        r = math.sqrt(t)
        return math.erf(r) / r if r else _TWO_OVER_SQRT_PI

    def x_erfcx(v):
        return _erfcx_scalar(v ** -0.5) * v ** -0.5 if v else 1.0 / _SQRT_PI

    return (_Cheb(erf_over_x, 0.0, 1.0, 14), _Cheb(_erfcx_scalar, 0.5, 4.0, 26),
            _Cheb(x_erfcx, 0.0, 1.0 / 16, 20))


def _exp_neg_sq(a):
    """exp(-a*a) without the rounding error of a*a (a split into a float32 head and a tail)."""
    s = a.astype(np.float32).astype(np.float64)
    return np.exp(-s * s) * np.exp((s - a) * (a + s))


def _erfc_pos(a):
    """erfc on a 1-d array of a >= 0.5 or nan: erfcx from the tables times exp(-a*a)."""
    _, mid, tail = _erf_tables()
    out = np.where(a == a, 0.0, a)  # erfc(inf) = 0; past 27.3 erfc underflows to 0
    i = np.flatnonzero(a < 4.0)
    if i.size:
        v = a[i]
        out[i] = mid(v) * _exp_neg_sq(v)
    i = np.flatnonzero((a >= 4.0) & (a < 27.3))
    if i.size:
        v = a[i]
        out[i] = tail(1.0 / (v * v)) / v * _exp_neg_sq(v)
    return out


# Below this many elements the standard library, element by element, is faster than
# evaluating the series (whose cost is mostly per call, not per element).
_SMALL = 512
_math_erf = np.frompyfunc(math.erf, 1, 1)
_math_erfc = np.frompyfunc(math.erfc, 1, 1)


def _erf_np(x):
    if x.size < _SMALL:
        return np.asarray(_math_erf(x), np.float64)
    flat = x.ravel()
    small = np.abs(flat) <= 1.0
    out = np.empty_like(flat)
    i = np.flatnonzero(small)
    v = flat[i]
    out[i] = v * _erf_tables()[0](v * v)
    i = np.flatnonzero(~small)  # |x| > 1 and nan
    if i.size:
        v = flat[i]
        out[i] = np.copysign(1.0 - _erfc_pos(np.abs(v)), v)
    return out.reshape(x.shape)


def _erfc_np(x):
    if x.size < _SMALL:
        return np.asarray(_math_erfc(x), np.float64)
    flat = x.ravel()
    big = (flat >= 0.5) | (flat != flat)
    out = np.empty_like(flat)
    i = np.flatnonzero(big)
    out[i] = _erfc_pos(flat[i])
    i = np.flatnonzero(~big)  # erfc(x) = 1 - erf(x) >= 0.48: no digits lost
    if i.size:
        out[i] = 1.0 - _erf_np(flat[i])
    return out.reshape(x.shape)


def _erfinv_np(y):
    """A closed-form start (Winitzki's, relative error < 2e-3), then two Halley steps on
    erf(x) = y (cubic convergence: 2e-3 -> 1e-8 -> 1e-16). For |y| > 0.5 the residual is
    taken on erfc, where 1 - |y| is exact, so the tails keep their digits."""
    ay = np.abs(y)
    lg = np.log1p(-y * y)
    t = 2.0 / (math.pi * 0.147) + 0.5 * lg
    x = np.copysign(np.sqrt(np.sqrt(t * t - lg / 0.147) - t), y)
    tail = np.flatnonzero(ay > 0.5)
    core = np.flatnonzero(ay <= 0.5)
    yf, ayf, x = y.ravel(), ay.ravel(), x.ravel()
    r = np.empty_like(x)
    for _ in range(2):
        r[core] = _erf_np(x[core]) - yf[core]
        r[tail] = np.sign(yf[tail]) * ((1.0 - ayf[tail]) - _erfc_np(np.abs(x[tail])))
        d = r / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
        x = x - d / (1.0 + x * d)
    x = x.reshape(y.shape)
    return np.where(ay < 1, x, np.where(ay == 1, np.copysign(np.inf, y), np.nan))


# (2k)! / B_2k: the Euler-Maclaurin tail of the Hurwitz zeta function (as in Cephes).
_ZETA_EM = [float(math.factorial(2 * k) / b) for k, b in enumerate(_B2K, 1)]


def _pow_neg(a, s):
    """``a ** -s``; by repeated squaring for a small integer s (np.power is ~10x slower)."""
    if np.ndim(s) == 0 and float(s).is_integer() and 0 < s <= 64:
        n, r, out = int(s), 1.0 / a, None
        while True:
            if n & 1:
                out = r if out is None else out * r
            n >>= 1
            if not n:
                return out
            r = r * r
    return np.power(a, -s)


def _zeta_np(s, q):
    """Hurwitz zeta(s, q) = sum_k (q + k)**-s, s > 1: direct sum until q + k > 9 (at least
    nine terms), then the Euler-Maclaurin tail, as Cephes does. q <= 0 is allowed for
    integer s (polygamma); ``s`` is a number or an array broadcasting with ``q``."""
    q = np.asarray(q, np.float64)
    if np.ndim(s):
        s, q = (np.array(v, np.float64) for v in np.broadcast_arrays(s, q))
    a = q
    total = b = _pow_neg(q, s)
    for _ in range(9):
        a = a + 1.0
        b = _pow_neg(a, s)
        total = total + b
    low = np.flatnonzero(a <= 9.0)  # q < 0: keep summing until q + k > 9
    if low.size:
        a, b, total = a.ravel(), b.ravel(), total.ravel()
        al, bl, tl = a[low], b[low], total[low]
        sl = s.ravel()[low] if np.ndim(s) else s
        while True:
            more = al <= 9.0
            if not more.any():
                break
            al = al + more
            bl = np.where(more, _pow_neg(al, sl), bl)
            tl = tl + more * bl
        a[low], b[low], total[low] = al, bl, tl
        a, b, total = a.reshape(q.shape), b.reshape(q.shape), total.reshape(q.shape)
    total = total + b * a / (s - 1.0) - 0.5 * b
    fac, j, done = np.ones_like(q), 0.0, np.zeros(q.shape, bool)
    for c in _ZETA_EM:
        fac = fac * (s + j)
        b = b / a
        term = fac * b / c
        done |= np.abs(term) < 1.1102230246251565e-16 * np.abs(total)
        if done.all():
            break
        total = total + np.where(done, 0.0, term)
        fac = fac * (s + j + 1.0)
        b = b / a
        j += 2.0
    total = np.where((q <= 0) & (q == np.floor(q)), np.inf, total)
    return np.where(s == 1, np.inf, np.where(s < 1, np.nan, total))


@functools.lru_cache(maxsize=None)
def _lgamma_series():
    """lgamma(2 + z) / z = (1 - gamma) + sum_{k>=2} (-1)^k (zeta(k) - 1) / k z^(k-1)."""
    k = np.arange(2.0, 30.0)
    return [1.0 - _EULER_GAMMA] + list((-1.0) ** k * _zeta_np(k, 2.0) / k)


_STIRLING = [float(b / (2 * k * (2 * k - 1))) for k, b in enumerate(_B2K[:8], 1)]
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _lgamma_pos(x):
    """lgamma on a 1-d array of finite x > 0."""
    out = np.empty_like(x)
    big = x >= 10.0
    i = np.flatnonzero(big)
    if i.size:  # Stirling's series
        v = x[i] if i.size < x.size else x
        r = 1.0 / (v * v)
        s = _STIRLING[-1]
        for c in _STIRLING[-2::-1]:
            s = s * r + c
        out[i] = (v - 0.5) * np.log(v) - v + _HALF_LOG_2PI + s / v
    i = np.flatnonzero(~big)
    if i.size:
        # Move v into [1.5, 2.5) (lgamma(v) = lgamma(v - n) + log((v-1)...(v-n)) going
        # down, - log(v) per step going up), then the Taylor series around 2: relative
        # accuracy is kept near the zeros at 1 and 2.
        v = x[i] if i.size < x.size else x
        n = np.floor(v - 1.5)
        prod = np.ones_like(v)
        for j in range(1, int(n.max()) + 1 if n.size else 1):
            d = v - j  # exact; the factor is d where d >= 1.5, else 1 (exactly, no where())
            prod *= 1.0 + (d >= 1.5) * (d - 1.0)
        up1, up2 = n == -1, n == -2
        z = v - n - 2.0
        c = _lgamma_series()
        s = c[-1]
        for ck in c[-2::-1]:
            s = s * z + ck
        out[i] = s * z + np.log(prod) - up1 * np.log(v) - up2 * np.log(v * (v + 1.0))
    return out


def _lgamma_np(x):
    flat = x.ravel()
    out = np.where(flat == flat, np.inf, flat)  # inf at +-inf and the poles, nan stays
    neg = flat < 0
    i = np.flatnonzero((flat > 0) & (flat < np.inf) |
                       neg & (flat > -np.inf) & (flat != np.floor(flat)))
    v = flat[i]
    vneg = v < 0
    out[i] = _lgamma_pos(np.where(vneg, 1.0 - v, v))  # one pass for both signs
    j = np.flatnonzero(vneg)
    if j.size:  # reflection: lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x)
        v = v[j]
        sinpi = np.abs(np.sin(math.pi * (v - np.round(v))))
        out[i[j]] = math.log(math.pi) - np.log(sinpi) - out[i[j]]
    return out.reshape(x.shape)


_DIGAMMA_ASYM = [float(b / (2 * k)) for k, b in enumerate(_B2K[:7], 1)]


def _digamma_np(x):
    """PyTorch's algorithm: reflect x < 0, shift up to >= 10, then the asymptotic series.
    (0 gives -inf, -0 gives +inf, negative integers nan, as in PyTorch.)"""
    neg = x < 0
    v = np.where(neg, 1.0 - x, x)
    res = np.zeros_like(v)
    for _ in range(10):  # v < 10 moves up one step; arithmetic masks, no where()
        low = v < 10
        res -= low / v
        v = v + low
    z = 1.0 / (v * v)
    p = _DIGAMMA_ASYM[-1]
    for c in _DIGAMMA_ASYM[-2::-1]:
        p = p * z + c
    out = res + np.log(v) - 0.5 / v - p * z
    if neg.any():  # digamma(x) = digamma(1 - x) - pi / tan(pi * frac(x))
        i = np.flatnonzero(neg.ravel())
        xv = x.ravel()[i]
        refl = np.where(xv == np.floor(xv), np.nan,
                        -math.pi / np.tan(math.pi * (xv - np.trunc(xv))))
        out = out.ravel()
        out[i] += refl
        out = out.reshape(x.shape)
    return out


def _polygamma_np(n: int, x):
    if n == 0:
        return _digamma_np(x)
    return (-1.0) ** (n + 1) * math.factorial(n) * _zeta_np(float(n + 1), x)


def _special_np(kernel, x, *args):
    """Run a float64 kernel on the float array ``x``; the result has ``x``'s dtype."""
    with _quiet():
        out = kernel(*args, np.asarray(x, np.float64))
    return out.astype(x.dtype, copy=False)


def _special_input(input, kernel_name: str):
    x = _float(input._data)
    if x.dtype.kind == "c":
        raise _not_implemented(kernel_name, x.dtype)
    return x


def _xlogy_np(x, y):
    """x * log(y), 0 where x == 0 (unless y is nan), as PyTorch defines xlogy."""
    if not _is_array(y):  # a Python number: take its log in x's dtype (not float64)
        y = np.asarray(y, x.dtype)
    with _quiet():
        out = x * np.log(y)
    fix = (x == 0) & (y == y)
    if np.any(fix):
        out = np.where(fix, 0, out)
    return out


# Formulas call these: the NumPy kernel on arrays, the differentiable op on Tensors.
def _sign_of(x):
    if isinstance(x, Tensor):
        return sgn(x) if x._data.dtype.kind == "c" else sign(x)
    return _sign_np(x)


def _digamma_of(x):
    return digamma(x) if isinstance(x, Tensor) else _special_np(_digamma_np, x)


def _polygamma_of(n, x):
    return polygamma(n, x) if isinstance(x, Tensor) else _special_np(_polygamma_np, x, n)


def _xlogy_of(x, y):
    return xlogy(x, y) if isinstance(x, Tensor) or isinstance(y, Tensor) else _xlogy_np(x, y)


def _rounded_div_of(a, b, mode):
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return div(a, b, rounding_mode=mode)
    return (_floor_divide_np if mode == "floor" else _trunc_divide_np)(a, b)


# ======================================================================================
# Unary math: abs/sign, exponentials and logs, roots, trigonometric and hyperbolic
# ======================================================================================
class AbsBackward0(ElementwiseNode):
    """out = |x|:  dx = g * sign(x)  (0 at x == 0, as PyTorch)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        return (g * _sign_of(x),)

    def jvp(self, tangents, x):
        t = tangents[0]
        if _is_complex(x):  # d|x| = Re(conj(sgn x) dx)
            return (_conj(_sign_of(x)) * t).real
        return t * _sign_of(x)


def abs(input):  # noqa: A001 - torch.abs
    """``|input|``, elementwise (integers stay integers)."""
    x = input._data
    if x.dtype == np.bool_:
        raise _not_implemented("abs_cpu", x.dtype)
    return unary(AbsBackward0, input, np.abs(x), (x,))


absolute = abs


class SignBackward0(ElementwiseNode):
    """out = sign(x):  dx = 0"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        return (_zeros_like(g),)

    jvp = _elementwise_jvp


def sign(input):
    """-1, 0 or 1 by the sign of each element (0 for nan, as PyTorch)."""
    x = input._data
    if x.dtype.kind == "c":
        raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support "
                                  "complex numbers. Please use torch.sgn instead.")
    return unary(SignBackward0, input, x.copy() if x.dtype == np.bool_ else _sign_np(x), ())


class SgnBackward0(SignBackward0):
    """out = sgn(x) (x / |x| for complex x):  dx = 0 for real x"""

    __slots__ = ()


class _SgnComplex(SgnBackward0):
    """out = x / |x| for complex x:  dx = (g - out**2 * conj(g)) / (2 |x|)  (0 at x == 0)"""

    __slots__ = ()
    saved_spec = (0, OUTPUT)
    complex_rule = True  # sgn is not holomorphic: this formula is PyTorch's as it stands

    def backward(self, g, x, out):
        ns = xp(g)
        a = ns.abs(x)
        return (ns.where(a == 0, 0.0, (g - out * out * _conj(g)) / (2 * a)),)

    def jvp(self, tangents, x, out):  # d sgn = (t - out * Re(conj(out) t)) / |x|
        t = tangents[0]
        ns = xp(t)
        a = ns.abs(x)
        return ns.where(a == 0, 0.0, (t - out * (_conj(out) * t).real) / a)


_SgnComplex.__name__ = _SgnComplex.__qualname__ = "SgnBackward0"


def sgn(input):
    """``sign`` for real tensors; ``x / |x|`` (0 at 0) for complex ones."""
    x = input._data
    if x.dtype.kind == "c":
        with _quiet():
            a = np.abs(x)
            out = np.where(a == 0, 0, x / a).astype(x.dtype)
        return unary(_SgnComplex, input, out, (x, out))
    out = x.copy() if x.dtype == np.bool_ else _sign_np(x)
    return unary(SgnBackward0, input, out, ())


# -- complex parts -----------------------------------------------------------------------
class ConjBackward0(ElementwiseNode):
    """out = conj(x):  dx = conj(g)"""

    __slots__ = ()
    saved_spec = ()
    complex_rule = True

    def backward(self, g):
        return (_conj(g),)

    def jvp(self, tangents):
        return _conj(tangents[0])


def conj(input):
    """The complex conjugate (``input`` itself for a real tensor, as PyTorch).

    >>> import chainrule as torch
    >>> torch.tensor([1 + 2j]).conj()
    tensor([1.-2.j])
    """
    x = input._data
    if x.dtype.kind != "c":
        return input
    return unary(ConjBackward0, input, np.conj(x), ())


def conj_physical(input):
    """``conj`` computed at once (chainrule has no lazy conjugate bit)."""
    x = input._data
    if x.dtype.kind != "c":
        return _make(x.copy(), False, None) if not input._requires_grad else clone(input)
    return conj(input)


def resolve_conj(input):
    return input


def resolve_neg(input):
    return input


def is_conj(input) -> bool:
    return False


def is_neg(input) -> bool:
    return False


class RealBackward0(ElementwiseNode):
    """out = Re(x) (a view):  dx = g + 0j"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        return (g * (1 + 0j),)

    def jvp(self, tangents):
        return tangents[0].real


class ImagBackward0(ElementwiseNode):
    """out = Im(x) (a view):  dx = g * 1j"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        return (g * 1j,)

    def jvp(self, tangents):
        return tangents[0].imag


# PyTorch takes both parts as view_as_real(x).select(-1, k): its nodes print that name.
RealBackward0.__name__ = ImagBackward0.__name__ = "SelectBackward0"


def real(input):
    """The real part of a complex tensor, as a view (a real tensor itself, as PyTorch)."""
    x = input._data
    if x.dtype.kind != "c":
        return input
    return unary(RealBackward0, input, x.real, ())


def imag(input):
    """The imaginary part of a complex tensor, as a view."""
    x = input._data
    if x.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return unary(ImagBackward0, input, x.imag, ())


class AngleBackward0(ElementwiseNode):
    """out = arg(x):  dx = g * i x / |x|^2 for complex x (0 at 0), 0 for real x"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        ns = xp(g)
        if not _is_complex(x):
            return (g * 0,)
        a2 = (x * _conj(x)).real
        return (ns.where(a2 == 0, 0.0, g * (1j * x) / ns.where(a2 == 0, 1.0, a2)),)

    def jvp(self, tangents, x):
        t = tangents[0]
        if not _is_complex(x):
            return t * 0
        ns = xp(t)
        a2 = (x * _conj(x)).real
        return ns.where(a2 == 0, 0.0, (_conj(1j * x) * t).real / ns.where(a2 == 0, 1.0, a2))


def angle(input):
    """The argument of each element (radians); 0 or pi for real tensors, as PyTorch."""
    x = input._data
    if x.dtype.kind == "c":
        out = np.angle(x)
    else:
        xf = _float(x)
        out = np.where(xf < 0, np.pi, 0.0).astype(xf.dtype)
        out = np.where(np.isnan(xf), xf, out)
    return unary(AngleBackward0, input, out, (x,))


class Exp2Backward0(ElementwiseNode):
    """out = 2**x:  dx = g * out * ln 2"""

    __slots__ = ()
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        return (g * (out * _LN2),)

    jvp = _elementwise_jvp


def exp2(input):
    out = np.exp2(_float(input._data))
    return unary(Exp2Backward0, input, out, (out,))


class Expm1Backward0(ElementwiseNode):
    """out = exp(x) - 1:  dx = g * (out + 1)"""

    __slots__ = ()
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        return (g * (out + 1),)

    jvp = _elementwise_jvp


def expm1(input):
    out = np.expm1(_float(input._data))
    return unary(Expm1Backward0, input, out, (out,))


class Log2Backward0(ElementwiseNode):
    """out = log2(x):  dx = g / (x ln 2)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        with _quiet():
            return (g / (x * _LN2),)

    jvp = _elementwise_jvp


def log2(input):
    x = _float(input._data)
    with _quiet():
        out = np.log2(x)
    return unary(Log2Backward0, input, out, (x,))


class Log10Backward0(ElementwiseNode):
    """out = log10(x):  dx = g / (x ln 10)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        with _quiet():
            return (g / (x * _LN10),)

    jvp = _elementwise_jvp


def log10(input):
    x = _float(input._data)
    with _quiet():
        out = np.log10(x)
    return unary(Log10Backward0, input, out, (x,))


class Log1PBackward0(ElementwiseNode):
    """out = log(1 + x):  dx = g / (1 + x)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        with _quiet():
            return (g / (x + 1),)

    jvp = _elementwise_jvp


def log1p(input):
    x = _float(input._data)
    with _quiet():
        out = np.log1p(x)
    return unary(Log1PBackward0, input, out, (x,))


class SqrtBackward0(ElementwiseNode):
    """out = sqrt(x):  dx = g / (2 out)  (inf at x == 0, as PyTorch)"""

    __slots__ = ()
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        with _quiet():
            return (g / (2 * out),)

    jvp = _elementwise_jvp


def sqrt(input):
    x = _float(input._data)
    with _quiet():
        out = np.sqrt(x)
    return unary(SqrtBackward0, input, out, (out,))


class RsqrtBackward0(ElementwiseNode):
    """out = 1 / sqrt(x):  dx = -g out**3 / 2"""

    __slots__ = ()
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        with _quiet():
            return (g * (-0.5 * out * out * out),)

    jvp = _elementwise_jvp


def rsqrt(input):
    x = _float(input._data)
    with _quiet():
        out = 1 / np.sqrt(x)
    return unary(RsqrtBackward0, input, out, (out,))


def square(input):
    """``input ** 2`` (a ``PowBackward0`` node, as in PyTorch; bool gives int64)."""
    if input._data.dtype == np.bool_:
        input = _make(input._data.astype(np.int64), False, None)
    return pow(input, 2)


class SinBackward0(ElementwiseNode):
    """out = sin(x):  dx = g cos(x)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        return (g * xp(g).cos(x),)

    def jvp(self, tangents, x):
        return tangents[0] * xp(x).cos(x)


def sin(input):
    x = _float(input._data)
    return unary(SinBackward0, input, np.sin(x), (x,))


class CosBackward0(ElementwiseNode):
    """out = cos(x):  dx = -g sin(x)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        return (g * -xp(g).sin(x),)

    def jvp(self, tangents, x):
        return tangents[0] * -xp(x).sin(x)


def cos(input):
    x = _float(input._data)
    return unary(CosBackward0, input, np.cos(x), (x,))


class TanBackward0(ElementwiseNode):
    """out = tan(x):  dx = g (1 + out**2)"""

    __slots__ = ()
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        return (g * (1 + out * out),)

    jvp = _elementwise_jvp


def tan(input):
    out = np.tan(_float(input._data))
    return unary(TanBackward0, input, out, (out,))


class AsinBackward0(ElementwiseNode):
    """out = asin(x):  dx = g / sqrt(1 - x**2)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        with _quiet():
            return (g / xp(g).sqrt(1 - x * x),)

    jvp = _elementwise_jvp


def asin(input):
    x = _float(input._data)
    with _quiet():
        out = np.arcsin(x)
    return unary(AsinBackward0, input, out, (x,))


class AcosBackward0(ElementwiseNode):
    """out = acos(x):  dx = -g / sqrt(1 - x**2)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        with _quiet():
            return (-g / xp(g).sqrt(1 - x * x),)

    jvp = _elementwise_jvp


def acos(input):
    x = _float(input._data)
    with _quiet():
        out = np.arccos(x)
    return unary(AcosBackward0, input, out, (x,))


class AtanBackward0(ElementwiseNode):
    """out = atan(x):  dx = g / (1 + x**2)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        return (g / (1 + x * x),)

    jvp = _elementwise_jvp


def atan(input):
    x = _float(input._data)
    return unary(AtanBackward0, input, np.arctan(x), (x,))


class SinhBackward0(ElementwiseNode):
    """out = sinh(x):  dx = g cosh(x)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        with _quiet():
            return (g * xp(g).cosh(x),)

    jvp = _elementwise_jvp


def sinh(input):
    x = _float(input._data)
    with _quiet():
        out = np.sinh(x)
    return unary(SinhBackward0, input, out, (x,))


class CoshBackward0(ElementwiseNode):
    """out = cosh(x):  dx = g sinh(x)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        with _quiet():
            return (g * xp(g).sinh(x),)

    jvp = _elementwise_jvp


def cosh(input):
    x = _float(input._data)
    with _quiet():
        out = np.cosh(x)
    return unary(CoshBackward0, input, out, (x,))


class AsinhBackward0(ElementwiseNode):
    """out = asinh(x):  dx = g / sqrt(x**2 + 1)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        with _quiet():
            return (g / xp(g).sqrt(x * x + 1),)

    jvp = _elementwise_jvp


def asinh(input):
    x = _float(input._data)
    return unary(AsinhBackward0, input, np.arcsinh(x), (x,))


class AcoshBackward0(ElementwiseNode):
    """out = acosh(x):  dx = g / sqrt(x**2 - 1)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        with _quiet():
            return (g / xp(g).sqrt(x * x - 1),)

    jvp = _elementwise_jvp


def acosh(input):
    x = _float(input._data)
    with _quiet():
        out = np.arccosh(x)
    return unary(AcoshBackward0, input, out, (x,))


class AtanhBackward0(ElementwiseNode):
    """out = atanh(x):  dx = g / (1 - x**2)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        with _quiet():
            return (g / (1 - x * x),)

    jvp = _elementwise_jvp


def atanh(input):
    x = _float(input._data)
    with _quiet():
        out = np.arctanh(x)
    return unary(AtanhBackward0, input, out, (x,))


arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


class LogitBackward0(ElementwiseNode):
    """out = log(z / (1 - z)), z = x clamped to [eps, 1 - eps]:
    dx = g / (x (1 - x)) inside, 0 outside [eps, 1 - eps] (nan outside [0, 1] without eps)"""

    __slots__ = ("eps",)
    saved_spec = (0,)

    def backward(self, g, x):
        ns = xp(g)
        eps = self.eps
        with _quiet():
            d = g / (x * (1 - x))
            if eps is None:
                return (ns.where((x < 0) | (x > 1), _NAN, d),)
            return (ns.where((x < eps) | (x > 1 - eps), 0, d),)

    jvp = _elementwise_jvp


def logit(input, eps=None):
    """``log(p / (1 - p))``; with ``eps``, p is first clamped to ``[eps, 1 - eps]``."""
    x = _float(input._data)
    z = x if eps is None else np.minimum(np.maximum(x, eps), 1 - eps)
    with _quiet():
        out = np.log(z / (1 - z))
    res = unary(LogitBackward0, input, out, (x,))
    if res.grad_fn is not None:
        res.grad_fn.eps = eps
    return res


# ======================================================================================
# Special functions: erf, erfc, erfinv, lgamma, digamma, polygamma
# ======================================================================================
class ErfBackward0(ElementwiseNode):
    """out = erf(x):  dx = g 2/sqrt(pi) exp(-x**2)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        return (g * (_TWO_OVER_SQRT_PI * xp(g).exp(-(x * x))),)

    jvp = _elementwise_jvp


def erf(input):
    x = _special_input(input, "erf_vml_cpu")
    return unary(ErfBackward0, input, _special_np(_erf_np, x), (x,))


class ErfcBackward0(ElementwiseNode):
    """out = erfc(x):  dx = -g 2/sqrt(pi) exp(-x**2)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        return (g * (-_TWO_OVER_SQRT_PI * xp(g).exp(-(x * x))),)

    jvp = _elementwise_jvp


def erfc(input):
    x = _special_input(input, "erfc_vml_cpu")
    return unary(ErfcBackward0, input, _special_np(_erfc_np, x), (x,))


class ErfinvBackward0(ElementwiseNode):
    """out = erfinv(x):  dx = g sqrt(pi)/2 exp(out**2)"""

    __slots__ = ()
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        with _quiet():
            return (g * (0.5 * _SQRT_PI * xp(g).exp(out * out)),)

    jvp = _elementwise_jvp


def erfinv(input):
    x = _special_input(input, "erfinv_cpu")
    out = _special_np(_erfinv_np, x)
    return unary(ErfinvBackward0, input, out, (out,))


class LgammaBackward0(ElementwiseNode):
    """out = log|Gamma(x)|:  dx = g digamma(x)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        return (g * _digamma_of(x),)

    jvp = _elementwise_jvp


def lgamma(input):
    x = _special_input(input, "lgamma_vml_cpu")
    return unary(LgammaBackward0, input, _special_np(_lgamma_np, x), (x,))


class DigammaBackward0(ElementwiseNode):
    """out = digamma(x):  dx = g polygamma(1, x)"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, x):
        return (g * _polygamma_of(1, x),)

    jvp = _elementwise_jvp


def digamma(input):
    x = _special_input(input, "digamma")
    return unary(DigammaBackward0, input, _special_np(_digamma_np, x), (x,))


class PolygammaBackward0(ElementwiseNode):
    """out = polygamma(n, x):  dx = g polygamma(n + 1, x)"""

    __slots__ = ("n",)
    saved_spec = (0,)

    def backward(self, g, x):
        return (g * _polygamma_of(self.n + 1, x),)

    jvp = _elementwise_jvp


class PolygammaBackward1(PolygammaBackward0):  # the in-place overload, x.polygamma_(n)
    __slots__ = ()


def polygamma(n, input, *, _node=PolygammaBackward0):
    """The n-th derivative of digamma (``polygamma(0, x)`` is ``digamma(x)``)."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    x = _special_input(input, "polygamma")
    res = unary(_node, input, _special_np(_polygamma_np, x, int(n)), (x,))
    if res.grad_fn is not None:
        res.grad_fn.n = int(n)
    return res


# ======================================================================================
# Rounding, reciprocal, clamp, nan_to_num
# ======================================================================================
class ReciprocalBackward0(ElementwiseNode):
    """out = 1 / x:  dx = -g out**2"""

    __slots__ = ()
    saved_spec = (OUTPUT,)

    def backward(self, g, out):
        return (g * -(out * out),)

    jvp = _elementwise_jvp


def reciprocal(input):
    x = _float(input._data)
    with _quiet():
        out = np.reciprocal(x)
    return unary(ReciprocalBackward0, input, out, (out,))


class FloorBackward0(SignBackward0):
    """out = floor(x):  dx = 0"""

    __slots__ = ()


class CeilBackward0(SignBackward0):
    """out = ceil(x):  dx = 0"""

    __slots__ = ()


class RoundBackward0(SignBackward0):
    """out = round(x) (half to even):  dx = 0"""

    __slots__ = ()


class RoundBackward1(SignBackward0):
    """out = round(x, decimals):  dx = 0"""

    __slots__ = ()


class TruncBackward0(SignBackward0):
    """out = trunc(x):  dx = 0"""

    __slots__ = ()


def _rounding(node_cls, fn, kernel, input):
    """floor/ceil/trunc: integers come back unchanged (a copy), bool is rejected."""
    x = input._data
    if x.dtype == np.bool_:
        raise _not_implemented(kernel, x.dtype)
    return unary(node_cls, input, fn(x) if x.dtype.kind in "fc" else x.copy(), ())


def floor(input):
    return _rounding(FloorBackward0, np.floor, "floor_vml_cpu", input)


def ceil(input):
    return _rounding(CeilBackward0, np.ceil, "ceil_vml_cpu", input)


def trunc(input):
    return _rounding(TruncBackward0, np.trunc, "trunc_vml_cpu", input)


fix = trunc


def round(input, *, decimals=0):  # noqa: A001 - torch.round
    """Round half to even; ``decimals`` rounds to that many decimal places (< 0: tens...)."""
    x = input._data
    if decimals == 0:
        return _rounding(RoundBackward0, np.rint, "round_vml_cpu", input)
    if x.dtype.kind not in "fc":
        raise _not_implemented("round_cpu", x.dtype)
    p = x.dtype.type(10.0 ** builtins.abs(decimals))  # PyTorch's: scale, nearbyint, unscale
    out = np.rint(x * p) / p if decimals > 0 else np.rint(x / p) * p
    return unary(RoundBackward1, input, out, ())


class FracBackward0(ElementwiseNode):
    """out = x - trunc(x):  dx = g"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        return (g,)

    jvp = _elementwise_jvp


def frac(input):
    x = input._data
    if x.dtype.kind not in "fc":
        raise _not_implemented("frac_cpu", x.dtype)
    return unary(FracBackward0, input, x - np.trunc(x), ())


class ClampBackward1(ElementwiseNode):
    """out = clamp(x, lo, hi) for numbers lo/hi (either may be None):
    dx = g where lo <= x <= hi, else 0 (so the boundary passes the gradient, as PyTorch)"""

    __slots__ = ("lo", "hi")
    saved_spec = (CONST,)

    def backward(self, g, x):
        lo, hi = self.lo, self.hi
        if lo is None:
            mask = x <= hi
        elif hi is None:
            mask = x >= lo
        else:
            mask = (x >= lo) & (x <= hi)
        return (xp(g).where(mask, g, 0),)

    jvp = _elementwise_jvp


class ClampMinBackward0(ClampBackward1):
    __slots__ = ()


class ClampMaxBackward0(ClampBackward1):
    __slots__ = ()


class ClampBackward0(TernaryNode):
    """out = clamp(x, lo, hi) with tensor bounds (PyTorch's clamp_backward_min_max):
    dx where lo <= x <= hi; dlo where x < lo (and lo < hi); dhi where x > hi (or hi < lo)"""

    __slots__ = ()
    saved_spec = (CONST, CONST, CONST)

    def backward(self, g, x, lo, hi):
        ns = xp(g)
        f = self.next_functions
        gx = glo = ghi = None
        if lo is not None and hi is not None:
            if f[0][0] is not None:
                gx = ns.where((x >= lo) & (x <= hi), g, 0)
            if f[1][0] is not None:
                glo = ns.where((x < lo) & (lo < hi), g, 0)
            if f[2][0] is not None:
                ghi = ns.where((x > hi) | (hi < lo), g, 0)
        elif lo is not None:
            if f[0][0] is not None:
                gx = ns.where(x >= lo, g, 0)
            if f[1][0] is not None:
                glo = ns.where(x < lo, g, 0)
        else:
            if f[0][0] is not None:
                gx = ns.where(x <= hi, g, 0)
            if f[2][0] is not None:
                ghi = ns.where(x > hi, g, 0)
        return self.reduce(gx, glo, ghi)


def _bound(v):
    """A clamp bound: None, a number, or an array (from a Tensor)."""
    if v is None or isinstance(v, (int, float)):
        return v
    if isinstance(v, np.generic):
        return v.item()
    return _operand(v)


_BOUND_NUMBERS = (float, int, type(None))


def _clamp_arrays(x, lo, hi):
    """x clamped to [lo, hi] in PyTorch's result dtype (min(max(x, lo), hi))."""
    if x.dtype.kind == "f" and type(lo) in _BOUND_NUMBERS and type(hi) in _BOUND_NUMBERS:
        cast = (x, lo, hi)  # float tensor, number bounds: the tensor's dtype (the common case)
    else:
        rt = _dtype.result_type(x, *(v for v in (lo, hi) if v is not None))
        cast = [v.astype(rt) if _is_array(v) and v.dtype != rt else v for v in (x, lo, hi)]
    out = cast[0]
    try:
        if lo is not None:
            out = np.maximum(out, cast[1])
        if hi is not None:
            out = np.minimum(out, cast[2])
    except ValueError:
        raise _broadcast_failure(*(np.shape(v) for v in (x, lo, hi) if v is not None)) from None
    return out


def _clamp_scalar(node_cls, input, lo, hi):
    x = input._data
    res = unary(node_cls, input, _clamp_arrays(x, lo, hi), (x,))
    if res.grad_fn is not None:
        res.grad_fn.lo, res.grad_fn.hi = lo, hi
    return res


def clamp(input, min=None, max=None):  # noqa: A002 - torch's names
    """Limit every element to ``[min, max]`` (numbers or broadcastable tensors)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if not (isinstance(min, Tensor) or isinstance(max, Tensor)):
        return _clamp_scalar(ClampBackward1, input, _bound(min), _bound(max))
    x, lo, hi = input._data, _bound(min), _bound(max)
    out = _clamp_arrays(x, lo, hi)
    return _nary(ClampBackward0, (input, min, max), (x, lo, hi), out, (x, lo, hi))


clip = clamp


class ClampMinBackward1(BinaryNode):
    """out = max(x, lo) for a tensor lo:  dx = g where x >= lo;  dlo = g where x < lo"""

    __slots__ = ()
    saved_spec = (CONST, CONST)

    def backward(self, g, x, lo):
        ns, (fa, fb) = xp(g), self.next_functions
        return self.reduce(ns.where(x >= lo, g, 0) if fa[0] is not None else None,
                           ns.where(x < lo, g, 0) if fb[0] is not None else None)


class ClampMaxBackward1(BinaryNode):
    """out = min(x, hi) for a tensor hi:  dx = g where x <= hi;  dhi = g where x > hi"""

    __slots__ = ()
    saved_spec = (CONST, CONST)

    def backward(self, g, x, hi):
        ns, (fa, fb) = xp(g), self.next_functions
        return self.reduce(ns.where(x <= hi, g, 0) if fa[0] is not None else None,
                           ns.where(x > hi, g, 0) if fb[0] is not None else None)


def clamp_min(input, min):  # noqa: A002
    if not isinstance(min, Tensor):
        return _clamp_scalar(ClampMinBackward0, input, _bound(min), None)
    x, lo = input._data, min._data
    return _binary(ClampMinBackward1, input, min, _clamp_arrays(x, lo, None), x, lo, (x, lo))


def clamp_max(input, max):  # noqa: A002
    if not isinstance(max, Tensor):
        return _clamp_scalar(ClampMaxBackward0, input, None, _bound(max))
    x, hi = input._data, max._data
    return _binary(ClampMaxBackward1, input, max, _clamp_arrays(x, None, hi), x, hi, (x, hi))


class NanToNumBackward0(ElementwiseNode):
    """out = x with nan/inf replaced:  dx = g where x is finite, else 0"""

    __slots__ = ()
    saved_spec = (CONST,)

    def backward(self, g, x):
        ns = xp(g)
        return (ns.where(ns.isfinite(x), g, 0),)

    jvp = _elementwise_jvp


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """nan -> ``nan``, +-inf -> ``posinf``/``neginf`` (default: the dtype's largest values)."""
    x = input._data
    out = np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf) if x.dtype.kind in "fc" \
        else x.copy()
    return unary(NanToNumBackward0, input, out, (x,))


# ======================================================================================
# Binary ops: rounding division, remainders, atan2, max/min, hypot, logaddexp, xlogy, ...
# ======================================================================================
def _int_args(a, b) -> bool:
    return np.result_type(a, b).kind in "iub"


def _check_int_divisor(a, b):
    if _int_args(a, b) and np.any(np.asarray(b) == 0):
        raise RuntimeError("ZeroDivisionError")


def _floor_divide_np(a, b):
    _check_int_divisor(a, b)
    with _quiet():
        return np.floor_divide(a, b)


def _trunc_divide_np(a, b):
    _check_int_divisor(a, b)
    if _int_args(a, b):  # floor, then one step back toward 0 where signs differ and b ∤ a
        q = np.floor_divide(a, b)
        return q + ((np.remainder(a, b) != 0) & ((np.asarray(a) < 0) != (np.asarray(b) < 0)))
    with _quiet():
        return np.trunc(np.true_divide(a, b))


def _remainder_np(a, b):
    _check_int_divisor(a, b)
    with _quiet():
        return np.remainder(a, b)


def _fmod_np(a, b):
    _check_int_divisor(a, b)
    with _quiet():
        return np.fmod(a, b)


class DivBackward2(BinaryNode):
    """out = div(a, b, rounding_mode='trunc'|'floor'):  da = 0,  db = 0"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        fa, fb = self.next_functions
        z = _zeros_like(g)
        return self.reduce(z if fa[0] is not None else None, z if fb[0] is not None else None)


def _rounded_div(input, other, rounding_mode):
    """``div`` with ``rounding_mode``: floats round the true quotient, integers divide exactly."""
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{rounding_mode}'")
    _need_tensor("div", input, other)
    ad, bd = _operand(input), _operand(other)
    kernel = _floor_divide_np if rounding_mode == "floor" else _trunc_divide_np
    return _binary(DivBackward2, input, other, _compute(kernel, ad, bd), ad, bd, ())


class NotImplementedBackward(BinaryNode):
    """An op PyTorch defines no derivative for (floor_divide): backward raises, as there."""

    __slots__ = ("op",)
    saved_spec = ()

    def name(self) -> str:
        return "torch::autograd::NotImplemented"

    def backward(self, g):
        raise RuntimeError(f"derivative for {self.op} is not implemented")

    jvp = None  # no rule: forward mode raises the same error (via the backward)


def floor_divide(input, other):
    """``input // other`` (rounds the quotient down; PyTorch defines no gradient for it)."""
    _need_tensor("floor_divide", input, other)
    ad, bd = _operand(input), _operand(other)
    _refuse_two_bools("div_floor_cpu", ad, bd)
    res = _binary(NotImplementedBackward, input, other, _compute(_floor_divide_np, ad, bd),
                  ad, bd, ())
    if res.grad_fn is not None:
        res.grad_fn.op = "aten::floor_divide"
    return res


class RemainderBackward0(BinaryNode):
    """out = remainder(a, s) for a number s:  da = g"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        return self.reduce(g, None)


class RemainderBackward1(BinaryNode):
    """out = a - b floor(a / b):  da = g,  db = -g floor(a / b)"""

    __slots__ = ()
    saved_spec = (CONST, CONST)

    def backward(self, g, a, b):
        fa, fb = self.next_functions
        return self.reduce(g if fa[0] is not None else None,
                           -g * _rounded_div_of(a, b, "floor") if fb[0] is not None else None)


def remainder(input, other):
    """Python's ``%``: the result has the sign of ``other``."""
    _need_tensor("remainder", input, other)
    ad, bd = _operand(input), _operand(other)
    _refuse_two_bools("remainder_cpu", ad, bd)
    out = _compute(_remainder_np, ad, bd)
    if isinstance(other, Tensor):
        return _binary(RemainderBackward1, input, other, out, ad, bd, (ad, bd))
    return _binary(RemainderBackward0, input, other, out, ad, bd, ())


class FmodBackward0(RemainderBackward0):
    """out = fmod(a, s) for a number s:  da = g"""

    __slots__ = ()


class FmodBackward1(BinaryNode):
    """out = a - b trunc(a / b):  da = g,  db = -g trunc(a / b)"""

    __slots__ = ()
    saved_spec = (CONST, CONST)

    def backward(self, g, a, b):
        fa, fb = self.next_functions
        return self.reduce(g if fa[0] is not None else None,
                           -g * _rounded_div_of(a, b, "trunc") if fb[0] is not None else None)


def fmod(input, other):
    """C's ``fmod``: the result has the sign of ``input``."""
    _need_tensor("fmod", input, other)
    ad, bd = _operand(input), _operand(other)
    _refuse_two_bools("fmod_cpu", ad, bd)
    out = _compute(_fmod_np, ad, bd)
    if isinstance(other, Tensor):
        return _binary(FmodBackward1, input, other, out, ad, bd, (ad, bd))
    return _binary(FmodBackward0, input, other, out, ad, bd, ())


class Atan2Backward0(BinaryNode):
    """out = atan2(a, b):  da = g b / (a**2 + b**2),  db = -g a / (a**2 + b**2)
    (0 at the origin, as PyTorch)"""

    __slots__ = ()

    def backward(self, g, a, b):
        fa, fb = self.next_functions
        with _quiet():
            den = a * a + b * b
            r = xp(g).where(den == 0, 0, 1 / den)
            return self.reduce(g * b * r if fa[0] is not None else None,
                               g * -a * r if fb[0] is not None else None)


def atan2(input, other):
    """The angle of the point (other, input), in (-pi, pi]."""
    _need_tensor("atan2", input, other)
    ad, bd = _operand(input), _operand(other)
    out = _compute(np.arctan2, ad, bd, True)
    return _binary(Atan2Backward0, input, other, out, ad, bd, _cast_saved(out.dtype, ad, bd))


arctan2 = atan2


class MaximumBackward0(BinaryNode):
    """out = maximum(a, b):  the larger input gets g; a tie splits it g/2 + g/2 (as PyTorch)"""

    __slots__ = ()
    saved_spec = (CONST, CONST)

    def backward(self, g, a, b):
        ns = xp(g)
        fa, fb = self.next_functions
        tie = ns.where(a == b, g * 0.5, g)
        return self.reduce(ns.where(a < b, 0, tie) if fa[0] is not None else None,
                           ns.where(a > b, 0, tie) if fb[0] is not None else None)


class MinimumBackward0(BinaryNode):
    """out = minimum(a, b):  the smaller input gets g; a tie splits it g/2 + g/2"""

    __slots__ = ()
    saved_spec = (CONST, CONST)

    def backward(self, g, a, b):
        ns = xp(g)
        fa, fb = self.next_functions
        tie = ns.where(a == b, g * 0.5, g)
        return self.reduce(ns.where(a > b, 0, tie) if fa[0] is not None else None,
                           ns.where(a < b, 0, tie) if fb[0] is not None else None)


def maximum(input, other):
    """Elementwise maximum (nan wins)."""
    _need_tensor("maximum", input, other)
    ad, bd = _operand(input), _operand(other)
    return _binary(MaximumBackward0, input, other, _compute(np.maximum, ad, bd), ad, bd,
                   (ad, bd))


def minimum(input, other):
    """Elementwise minimum (nan wins)."""
    _need_tensor("minimum", input, other)
    ad, bd = _operand(input), _operand(other)
    return _binary(MinimumBackward0, input, other, _compute(np.minimum, ad, bd), ad, bd,
                   (ad, bd))


class FmaxBackward0(BinaryNode):
    """out = fmax(a, b) (nan loses):  da = g where a >= b or b is nan, db = g elsewhere"""

    __slots__ = ()
    saved_spec = (CONST, CONST)

    def backward(self, g, a, b):
        ns = xp(g)
        fa, fb = self.next_functions
        pick_a = (a >= b) | ns.isnan(b)
        return self.reduce(ns.where(pick_a, g, 0) if fa[0] is not None else None,
                           ns.where(pick_a, 0, g) if fb[0] is not None else None)


class FminBackward0(BinaryNode):
    """out = fmin(a, b) (nan loses):  da = g where a <= b or b is nan, db = g elsewhere"""

    __slots__ = ()
    saved_spec = (CONST, CONST)

    def backward(self, g, a, b):
        ns = xp(g)
        fa, fb = self.next_functions
        pick_a = (a <= b) | ns.isnan(b)
        return self.reduce(ns.where(pick_a, g, 0) if fa[0] is not None else None,
                           ns.where(pick_a, 0, g) if fb[0] is not None else None)


def fmax(input, other):
    """Elementwise maximum that ignores nan (nan only where both are nan)."""
    _need_tensor("fmax", input, other)
    ad, bd = _operand(input), _operand(other)
    return _binary(FmaxBackward0, input, other, _compute(np.fmax, ad, bd), ad, bd, (ad, bd))


def fmin(input, other):
    """Elementwise minimum that ignores nan (nan only where both are nan)."""
    _need_tensor("fmin", input, other)
    ad, bd = _operand(input), _operand(other)
    return _binary(FminBackward0, input, other, _compute(np.fmin, ad, bd), ad, bd, (ad, bd))


class HypotBackward0(BinaryNode):
    """out = sqrt(a**2 + b**2):  da = g a / out,  db = g b / out"""

    __slots__ = ()
    saved_spec = (0, 1, OUTPUT)

    def backward(self, g, a, b, out):
        fa, fb = self.next_functions
        with _quiet():
            d = g / out
            return self.reduce(d * a if fa[0] is not None else None,
                               d * b if fb[0] is not None else None)


def hypot(input, other):
    _need_tensor("hypot", input, other)
    ad, bd = _operand(input), _operand(other)
    out = _compute(np.hypot, ad, bd, True)
    return _binary(HypotBackward0, input, other, out, ad, bd,
                   _cast_saved(out.dtype, ad, bd) + (out,))


class LogaddexpBackward0(BinaryNode):
    """out = log(e**a + e**b):  da = g / (1 + e**(b - a)),  db = g / (1 + e**(a - b))"""

    __slots__ = ()

    def backward(self, g, a, b):
        ns = xp(g)
        fa, fb = self.next_functions
        with _quiet():
            return self.reduce(g / (1 + ns.exp(b - a)) if fa[0] is not None else None,
                               g / (1 + ns.exp(a - b)) if fb[0] is not None else None)


def logaddexp(input, other):
    """``log(exp(input) + exp(other))`` without overflow."""
    _need_tensor("logaddexp", input, other)
    ad, bd = _operand(input), _operand(other)
    out = _compute(np.logaddexp, ad, bd, True)
    return _binary(LogaddexpBackward0, input, other, out, ad, bd,
                   _cast_saved(out.dtype, ad, bd))


class Logaddexp2Backward0(BinaryNode):
    """out = log2(2**a + 2**b):  da = g / (1 + 2**(b - a)),  db = g / (1 + 2**(a - b))"""

    __slots__ = ()

    def backward(self, g, a, b):
        ns = xp(g)
        fa, fb = self.next_functions
        with _quiet():
            return self.reduce(g / (1 + ns.exp2(b - a)) if fa[0] is not None else None,
                               g / (1 + ns.exp2(a - b)) if fb[0] is not None else None)


def logaddexp2(input, other):
    """``log2(2**input + 2**other)`` without overflow."""
    _need_tensor("logaddexp2", input, other)
    ad, bd = _operand(input), _operand(other)
    out = _compute(np.logaddexp2, ad, bd, True)
    return _binary(Logaddexp2Backward0, input, other, out, ad, bd,
                   _cast_saved(out.dtype, ad, bd))


class XlogyBackward0(BinaryNode):
    """out = x log(y) (0 where x == 0):  dx = xlogy(g, y), but 0 where x == 0 and y <= 0;
    dy = g x / y  (PyTorch's formulas)"""

    __slots__ = ()

    def backward(self, g, x, y):
        fa, fb = self.next_functions
        gx = gy = None
        if fa[0] is not None:
            gx = xp(g).where((x == 0) & (y <= 0), 0, _xlogy_of(g, y))
        if fb[0] is not None:
            with _quiet():
                gy = g * x / y
        return self.reduce(gx, gy)


class XlogyBackward1(XlogyBackward0):  # number x, tensor y
    __slots__ = ()


class XlogyBackward2(XlogyBackward0):  # tensor x, number y
    __slots__ = ()


def xlogy(input, other):
    """``input * log(other)``, 0 where ``input`` is 0 (unless ``other`` is nan)."""
    _need_tensor("xlogy", input, other)
    ad, bd = _operand(input), _operand(other)
    out = _compute(_xlogy_np, ad, bd, True)
    cls = XlogyBackward0 if isinstance(input, Tensor) and isinstance(other, Tensor) else \
        XlogyBackward2 if isinstance(input, Tensor) else XlogyBackward1
    return _binary(cls, input, other, out, ad, bd, _cast_saved(out.dtype, ad, bd))


class CopysignBackward0(BinaryNode):
    """out = |a| with b's sign:  da = g out / a (0 at a == 0),  db = 0"""

    __slots__ = ()
    saved_spec = (0, OUTPUT)

    def backward(self, g, a, out):
        ns = xp(g)
        fa, fb = self.next_functions
        ga = gb = None
        if fa[0] is not None:
            with _quiet():
                ga = g * ns.where(a == 0, 0, out / a)
        if fb[0] is not None:
            gb = _zeros_like(g)
        return self.reduce(ga, gb)


class CopysignBackward1(CopysignBackward0):  # number b
    __slots__ = ()


def copysign(input, other):
    """``|input|`` with the sign of ``other`` (signed zeros count)."""
    _need_tensor("copysign", input, other)
    ad, bd = _operand(input), _operand(other)
    out = _compute(np.copysign, ad, bd, True)
    cls = CopysignBackward0 if isinstance(other, Tensor) else CopysignBackward1
    return _binary(cls, input, other, out, ad, bd, _cast_saved(out.dtype, ad) + (out,))


def float_power(input, exponent):
    """``input ** exponent`` computed in float64 (complex128 for complex operands)."""
    _need_tensor("float_power", input, exponent)
    with _quiet():  # a negative base to a fractional power is nan, silently as in PyTorch
        return pow(_as_float64(input), _as_float64(exponent))


def _as_float64(v):
    if isinstance(v, Tensor):
        if v._data.dtype.kind == "c":
            return v.to(_dtype.complex128) if v._data.dtype != np.complex128 else v
        return v.to(_dtype.float64) if v._data.dtype != np.float64 else v
    return v if isinstance(v, complex) else float(v)


# ======================================================================================
# where, lerp, addcmul, addcdiv
# ======================================================================================
class WhereBackward0(BinaryNode):
    """out = where(c, a, b):  da = g where c, else 0;  db = g where not c, else 0"""

    __slots__ = ()
    saved_spec = (CONST,)

    def backward(self, g, c):
        ns = xp(g)
        fa, fb = self.next_functions
        return self.reduce(ns.where(c, g, 0) if fa[0] is not None else None,
                           ns.where(c, 0, g) if fb[0] is not None else None)


def where(condition, input=None, other=None):
    """``input`` where ``condition`` holds, else ``other`` (either may be a number).

    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``.
    """
    cd = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if input is None and other is None:
        return tuple(_make(i, False, None) for i in np.nonzero(np.atleast_1d(cd)))
    if cd.dtype != np.bool_:
        raise RuntimeError("where expected condition to be a boolean tensor, but got a "
                           f"tensor with dtype {_type_name(cd.dtype)}")
    ad, bd = _operand(input), _operand(other)
    if type(ad) is _ndarray and type(bd) is _ndarray and ad.dtype is bd.dtype:
        rt = ad.dtype
    else:
        rt = _dtype.result_type(ad, bd)
        ad = ad.astype(rt) if _is_array(ad) and ad.dtype != rt else ad
        bd = bd.astype(rt) if _is_array(bd) and bd.dtype != rt else bd
    try:
        out = np.where(cd, ad, bd)
    except ValueError:
        raise _broadcast_failure(cd.shape, np.shape(ad), np.shape(bd)) from None
    if out.dtype != rt:
        out = out.astype(rt)
    return _binary(WhereBackward0, input, other, out, ad, bd, (cd,))


class LerpBackward0(BinaryNode):
    """out = a + w (b - a) for a number w:  da = g (1 - w),  db = g w"""

    __slots__ = ("weight",)
    saved_spec = ()

    def backward(self, g):
        fa, fb = self.next_functions
        w = self.weight
        return self.reduce(g * (1 - w) if fa[0] is not None else None,
                           g * w if fb[0] is not None else None)


class LerpBackward1(TernaryNode):
    """out = a + w (b - a):  da = g (1 - w),  db = g w,  dw = g (b - a)"""

    __slots__ = ()
    saved_spec = (0, 1, 2)

    def backward(self, g, a, b, w):
        f = self.next_functions
        return self.reduce(g * (1 - w) if f[0][0] is not None else None,
                           g * w if f[1][0] is not None else None,
                           g * (b - a) if f[2][0] is not None else None)


_CPP_NAMES = {np.dtype(np.float16): "c10::Half", np.dtype(np.float32): "float",
              np.dtype(np.float64): "double", np.dtype(np.complex64): "c10::complex<float>",
              np.dtype(np.complex128): "c10::complex<double>"}


def _check_same_dtype(x, other, what):
    """lerp needs one dtype for all its tensors (PyTorch's message uses C++ type names)."""
    if other.dtype != x.dtype:
        raise RuntimeError(f"expected dtype {_CPP_NAMES.get(x.dtype, x.dtype)} for `{what}` "
                           f"but got dtype {_CPP_NAMES.get(other.dtype, other.dtype)}")


def lerp(input, end, weight):
    """``input + weight * (end - input)`` (PyTorch's form: exact at weight 0 and 1)."""
    a, b = input._data, end._data
    if a.dtype.kind not in "fc":
        raise _not_implemented("lerp_kernel_scalar", a.dtype)
    _check_same_dtype(a, b, "end")
    if not isinstance(weight, Tensor):
        w = float(weight)
        try:
            out = a + w * (b - a) if builtins.abs(w) < 0.5 else b - (b - a) * (1 - w)
        except ValueError:
            raise broadcast_error(a.shape, b.shape) from None
        res = _binary(LerpBackward0, input, end, out, a, b, ())
        if res.grad_fn is not None:
            res.grad_fn.weight = w
        return res
    w = weight._data
    _check_same_dtype(a, w, "weight")
    try:
        d = b - a
        out = np.where(np.abs(w) < 0.5, a + w * d, b - d * (1 - w))
    except ValueError:
        raise _broadcast_failure(a.shape, b.shape, w.shape) from None
    return _nary(LerpBackward1, (input, end, weight), (a, b, w), out, (a, b, w))


class AddcmulBackward0(TernaryNode):
    """out = s + v t1 t2:  ds = g,  dt1 = g v t2,  dt2 = g v t1"""

    __slots__ = ("value",)
    saved_spec = (1, 2)

    def backward(self, g, t1, t2):
        f, v = self.next_functions, self.value
        return self.reduce(g if f[0][0] is not None else None,
                           g * t2 * v if f[1][0] is not None else None,
                           g * t1 * v if f[2][0] is not None else None)


def _addc_operands(input, tensor1, tensor2, value):
    """Arrays in PyTorch's result dtype, and ``value`` as that dtype takes it."""
    s, t1, t2 = (_operand(v) for v in (input, tensor1, tensor2))
    rt = _dtype.result_type(s, t1, t2)
    s, t1, t2 = (v.astype(rt) if v.dtype != rt else v for v in (s, t1, t2))
    if rt.kind in "iu":
        value = int(value)
    elif rt.kind == "b":
        value = bool(value)
    return s, t1, t2, value, rt


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``."""
    s, t1, t2, value, rt = _addc_operands(input, tensor1, tensor2, value)
    try:
        out = s + value * t1 * t2
    except ValueError:
        raise _broadcast_failure(s.shape, t1.shape, t2.shape) from None
    res = _nary(AddcmulBackward0, (input, tensor1, tensor2), (s, t1, t2), np.asarray(out, rt),
                (t1, t2))
    if res.grad_fn is not None:
        res.grad_fn.value = value
    return res


class AddcdivBackward0(TernaryNode):
    """out = s + v t1 / t2:  ds = g,  dt1 = g v / t2,  dt2 = -g v t1 / t2**2"""

    __slots__ = ("value",)
    saved_spec = (1, 2)

    def backward(self, g, t1, t2):
        f, v = self.next_functions, self.value
        with _quiet():
            return self.reduce(g if f[0][0] is not None else None,
                               g * v / t2 if f[1][0] is not None else None,
                               -g * v * t1 / (t2 * t2) if f[2][0] is not None else None)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2`` (integer tensor1 and tensor2 are rejected)."""
    if _operand(tensor1).dtype.kind in "iub" and _operand(tensor2).dtype.kind in "iub":
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))"
            ".to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) "
            "for float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes.")
    s, t1, t2, value, rt = _addc_operands(input, tensor1, tensor2, value)
    try:
        with _quiet():
            out = s + value * t1 / t2
    except ValueError:
        raise _broadcast_failure(s.shape, t1.shape, t2.shape) from None
    res = _nary(AddcdivBackward0, (input, tensor1, tensor2), (s, t1, t2), np.asarray(out, rt),
                (t1, t2))
    if res.grad_fn is not None:
        res.grad_fn.value = value
    return res


# ======================================================================================
# Comparisons, logical and bitwise ops, float classification (no gradient)
# ======================================================================================
def _compare(ufunc, input, other):
    """``ufunc`` after PyTorch's promotion; the bool result never records a node."""
    ad, bd = _operand(input), _operand(other)
    try:
        if type(ad) is _ndarray and (type(bd) is _ndarray and bd.dtype is ad.dtype or
                                     (type(bd) is float or type(bd) is int) and
                                     ad.dtype.kind == "f"):
            out = ufunc(ad, bd)
        else:
            rt = _dtype.result_type(ad, bd)
            out = ufunc(ad.astype(rt) if _is_array(ad) and ad.dtype != rt else ad,
                        bd.astype(rt) if _is_array(bd) and bd.dtype != rt else bd)
    except ValueError:
        raise broadcast_error(np.shape(ad), np.shape(bd)) from None
    return _make(out, False, None)


def eq(input, other):
    return _compare(np.equal, input, other)


def ne(input, other):
    return _compare(np.not_equal, input, other)


def lt(input, other):
    return _compare(np.less, input, other)


def le(input, other):
    return _compare(np.less_equal, input, other)


def gt(input, other):
    return _compare(np.greater, input, other)


def ge(input, other):
    return _compare(np.greater_equal, input, other)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``|input - other| <= atol + rtol * |other|`` elementwise (PyTorch's definition)."""
    a = input._data
    b = other._data if isinstance(other, Tensor) else np.asarray(other, a.dtype)
    if a.dtype != b.dtype:
        raise RuntimeError(f"{_type_name(a.dtype)} did not match {_type_name(b.dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    try:
        with _quiet():
            close = np.asarray(a == b)
            if equal_nan and a.dtype.kind in "fc":
                close = close | (np.isnan(a) & np.isnan(b))
            if rtol != 0 or atol != 0:
                if a.dtype == np.bool_:
                    a = a.astype(_dtype.get_default_dtype().np)
                    b = b.astype(a.dtype)
                actual = np.abs(a - b)
                close = close | (np.isfinite(actual) & (actual <= atol + np.abs(rtol * b)))
    except ValueError:
        raise broadcast_error(a.shape, b.shape) from None
    return _make(close, False, None)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """True when ``isclose`` holds everywhere."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other) -> bool:
    """True when both have the same shape and the same values."""
    a, b = input._data, other._data
    return a.shape == b.shape and bool(np.all(a == b))


def _logical(ufunc, input, other):
    ad, bd = _operand(input), _operand(other)
    try:
        return _make(np.asarray(ufunc(ad, bd)), False, None)
    except ValueError:
        raise broadcast_error(np.shape(ad), np.shape(bd)) from None


def logical_and(input, other):
    return _logical(np.logical_and, input, other)


def logical_or(input, other):
    return _logical(np.logical_or, input, other)


def logical_xor(input, other):
    return _logical(np.logical_xor, input, other)


def logical_not(input):
    return _make(np.logical_not(input._data), False, None)


def _bitwise(ufunc, kernel, input, other):
    ad, bd = _operand(input), _operand(other)
    rt = _dtype.result_type(ad, bd)
    if rt.kind not in "iub":
        raise _not_implemented(kernel, rt)
    try:
        out = ufunc(ad.astype(rt) if _is_array(ad) and ad.dtype != rt else ad,
                    bd.astype(rt) if _is_array(bd) and bd.dtype != rt else bd)
    except ValueError:
        raise broadcast_error(np.shape(ad), np.shape(bd)) from None
    return _make(np.asarray(out, rt), False, None)


def bitwise_and(input, other):
    return _bitwise(np.bitwise_and, "bitwise_and_cpu", input, other)


def bitwise_or(input, other):
    return _bitwise(np.bitwise_or, "bitwise_or_cpu", input, other)


def bitwise_xor(input, other):
    return _bitwise(np.bitwise_xor, "bitwise_xor_cpu", input, other)


def bitwise_not(input):
    x = input._data
    if x.dtype.kind not in "iub":
        raise _not_implemented("bitwise_not_cpu", x.dtype)
    return _make(np.invert(x), False, None)


def _invert(input):
    """``~tensor``: PyTorch raises TypeError (not bitwise_not's error) for floats."""
    if input._data.dtype.kind not in "iub":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return bitwise_not(input)


def isnan(input):
    x = input._data
    return _make(np.isnan(x) if x.dtype.kind in "fc" else np.zeros(x.shape, bool), False, None)


def isinf(input):
    x = input._data
    return _make(np.isinf(x) if x.dtype.kind in "fc" else np.zeros(x.shape, bool), False, None)


def isfinite(input):
    x = input._data
    return _make(np.isfinite(x) if x.dtype.kind in "fc" else np.ones(x.shape, bool), False,
                 None)


def isposinf(input):
    x = input._data
    return _make(np.isposinf(x) if x.dtype.kind == "f" else np.zeros(x.shape, bool), False,
                 None)


def isneginf(input):
    x = input._data
    return _make(np.isneginf(x) if x.dtype.kind == "f" else np.zeros(x.shape, bool), False,
                 None)


def signbit(input):
    """True where the sign bit is set (also for -0.0 and negative nan)."""
    x = input._data
    return _make(np.signbit(x) if x.dtype.kind == "f" else np.asarray(x < 0), False, None)


# ======================================================================================
# In-place versions (``x.exp_()``...): the op out of place, written back by ``inplace``
# ======================================================================================
abs_, sign_, sgn_ = (_inplace_version(f) for f in (abs, sign, sgn))
absolute_ = abs_
exp_, exp2_, expm1_ = (_inplace_version(f) for f in (exp, exp2, expm1))
log_, log2_, log10_, log1p_ = (_inplace_version(f) for f in (log, log2, log10, log1p))
sqrt_, rsqrt_, square_, reciprocal_ = (_inplace_version(f)
                                       for f in (sqrt, rsqrt, square, reciprocal))
sin_, cos_, tan_, asin_, acos_, atan_ = (_inplace_version(f)
                                         for f in (sin, cos, tan, asin, acos, atan))
sinh_, cosh_, tanh_, asinh_, acosh_, atanh_ = (_inplace_version(f)
                                               for f in (sinh, cosh, tanh, asinh, acosh, atanh))
arcsin_, arccos_, arctan_ = asin_, acos_, atan_
arcsinh_, arccosh_, arctanh_ = asinh_, acosh_, atanh_
sigmoid_, relu_, logit_, neg_ = (_inplace_version(f) for f in (sigmoid, relu, logit, neg))
negative_ = neg_
erf_, erfc_, erfinv_, lgamma_, digamma_ = (_inplace_version(f)
                                           for f in (erf, erfc, erfinv, lgamma, digamma))
floor_, ceil_, round_, trunc_, frac_ = (_inplace_version(f)
                                        for f in (floor, ceil, round, trunc, frac))
fix_ = trunc_
clamp_, clamp_min_, clamp_max_, nan_to_num_ = (_inplace_version(f)
                                               for f in (clamp, clamp_min, clamp_max, nan_to_num))
clip_ = clamp_
add_, sub_, mul_, div_ = (_inplace_version(f) for f in (add, sub, mul, div))
subtract_, multiply_, divide_, true_divide_ = sub_, mul_, div_, div_
floor_divide_, remainder_, fmod_ = (_inplace_version(f) for f in (floor_divide, remainder, fmod))
atan2_, hypot_, xlogy_, copysign_ = (_inplace_version(f) for f in (atan2, hypot, xlogy, copysign))
arctan2_ = atan2_
lerp_, addcmul_, addcdiv_, pow_ = (_inplace_version(f) for f in (lerp, addcmul, addcdiv, pow))
eq_, ne_, lt_, le_, gt_, ge_ = (_inplace_version(f) for f in (eq, ne, lt, le, gt, ge))
greater_, greater_equal_, less_, less_equal_, not_equal_ = gt_, ge_, lt_, le_, ne_
logical_and_, logical_or_, logical_xor_, logical_not_ = (
    _inplace_version(f) for f in (logical_and, logical_or, logical_xor, logical_not))
bitwise_and_, bitwise_or_, bitwise_xor_, bitwise_not_ = (
    _inplace_version(f) for f in (bitwise_and, bitwise_or, bitwise_xor, bitwise_not))


def polygamma_(input, n):
    """In-place ``polygamma(n, input)`` (the tensor is the method's receiver)."""
    return inplace(input, lambda x: polygamma(n, x, _node=PolygammaBackward1))


def float_power_(input, exponent):
    """In-place ``float_power``: only a float64 (or complex128) tensor can hold the result."""
    dt = input._data.dtype
    if dt not in (np.float64, np.complex128):
        raise RuntimeError(f"the base given to float_power_ has dtype {_type_name(dt)} but "
                           "the operation's result requires dtype Double")
    return inplace(input, float_power, exponent)
