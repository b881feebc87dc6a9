"""Tensor methods for elementwise ops (ops/elementwise.py): math functions, comparisons, logical ops, in-place variants: one line each, calling the op."""
from __future__ import annotations

import numpy as np

from .. import ops as _ops  # submodules are bound once chainrule.tensor has loaded


class ElementwiseMethods:
    """Mixed into Tensor; every method forwards to ``chainrule.ops.elementwise``.

    (``add``, ``sub``, ``mul``, ``div``, ``pow``, ``neg``, ``exp``, ``log``, ``sigmoid``,
    ``tanh``, ``relu``, ``clone`` and the ``+ - * / **`` operators live in tensor.py.)
    """

    __slots__ = ()

    # -- unary math (and their in-place versions) --------------------------------------------
    def abs(self):
        return _ops.elementwise.abs(self)

    def absolute(self):
        return _ops.elementwise.absolute(self)

    def sign(self):
        return _ops.elementwise.sign(self)

    def sgn(self):
        return _ops.elementwise.sgn(self)

    # -- complex parts ------------------------------------------------------------------------
    def conj(self):
        return _ops.elementwise.conj(self)

    def conj_physical(self):
        return _ops.elementwise.conj_physical(self)

    def resolve_conj(self):
        return self

    def resolve_neg(self):
        return self

    def is_conj(self) -> bool:
        return False

    def is_neg(self) -> bool:
        return False

    def angle(self):
        return _ops.elementwise.angle(self)

    @property
    def real(self):
        return _ops.elementwise.real(self)

    @property
    def imag(self):
        return _ops.elementwise.imag(self)

    def exp2(self):
        return _ops.elementwise.exp2(self)

    def expm1(self):
        return _ops.elementwise.expm1(self)

    def log2(self):
        return _ops.elementwise.log2(self)

    def log10(self):
        return _ops.elementwise.log10(self)

    def log1p(self):
        return _ops.elementwise.log1p(self)

    def sqrt(self):
        return _ops.elementwise.sqrt(self)

    def rsqrt(self):
        return _ops.elementwise.rsqrt(self)

    def square(self):
        return _ops.elementwise.square(self)

    def sin(self):
        return _ops.elementwise.sin(self)

    def cos(self):
        return _ops.elementwise.cos(self)

    def tan(self):
        return _ops.elementwise.tan(self)

    def asin(self):
        return _ops.elementwise.asin(self)

    def acos(self):
        return _ops.elementwise.acos(self)

    def atan(self):
        return _ops.elementwise.atan(self)

    def arcsin(self):
        return _ops.elementwise.arcsin(self)

    def arccos(self):
        return _ops.elementwise.arccos(self)

    def arctan(self):
        return _ops.elementwise.arctan(self)

    def sinh(self):
        return _ops.elementwise.sinh(self)

    def cosh(self):
        return _ops.elementwise.cosh(self)

    def asinh(self):
        return _ops.elementwise.asinh(self)

    def acosh(self):
        return _ops.elementwise.acosh(self)

    def atanh(self):
        return _ops.elementwise.atanh(self)

    def arcsinh(self):
        return _ops.elementwise.arcsinh(self)

    def arccosh(self):
        return _ops.elementwise.arccosh(self)

    def arctanh(self):
        return _ops.elementwise.arctanh(self)

    def erf(self):
        return _ops.elementwise.erf(self)

    def erfc(self):
        return _ops.elementwise.erfc(self)

    def erfinv(self):
        return _ops.elementwise.erfinv(self)

    def lgamma(self):
        return _ops.elementwise.lgamma(self)

    def digamma(self):
        return _ops.elementwise.digamma(self)

    def reciprocal(self):
        return _ops.elementwise.reciprocal(self)

    def floor(self):
        return _ops.elementwise.floor(self)

    def ceil(self):
        return _ops.elementwise.ceil(self)

    def trunc(self):
        return _ops.elementwise.trunc(self)

    def fix(self):
        return _ops.elementwise.fix(self)

    def frac(self):
        return _ops.elementwise.frac(self)

    def isnan(self):
        return _ops.elementwise.isnan(self)

    def isinf(self):
        return _ops.elementwise.isinf(self)

    def isfinite(self):
        return _ops.elementwise.isfinite(self)

    def isposinf(self):
        return _ops.elementwise.isposinf(self)

    def isneginf(self):
        return _ops.elementwise.isneginf(self)

    def signbit(self):
        return _ops.elementwise.signbit(self)

    def logical_not(self):
        return _ops.elementwise.logical_not(self)

    def bitwise_not(self):
        return _ops.elementwise.bitwise_not(self)

    def abs_(self):
        return _ops.elementwise.abs_(self)

    def absolute_(self):
        return _ops.elementwise.absolute_(self)

    def sign_(self):
        return _ops.elementwise.sign_(self)

    def sgn_(self):
        return _ops.elementwise.sgn_(self)

    def exp_(self):
        return _ops.elementwise.exp_(self)

    def exp2_(self):
        return _ops.elementwise.exp2_(self)

    def expm1_(self):
        return _ops.elementwise.expm1_(self)

    def log_(self):
        return _ops.elementwise.log_(self)

    def log2_(self):
        return _ops.elementwise.log2_(self)

    def log10_(self):
        return _ops.elementwise.log10_(self)

    def log1p_(self):
        return _ops.elementwise.log1p_(self)

    def sqrt_(self):
        return _ops.elementwise.sqrt_(self)

    def rsqrt_(self):
        return _ops.elementwise.rsqrt_(self)

    def square_(self):
        return _ops.elementwise.square_(self)

    def sin_(self):
        return _ops.elementwise.sin_(self)

    def cos_(self):
        return _ops.elementwise.cos_(self)

    def tan_(self):
        return _ops.elementwise.tan_(self)

    def asin_(self):
        return _ops.elementwise.asin_(self)

    def acos_(self):
        return _ops.elementwise.acos_(self)

    def atan_(self):
        return _ops.elementwise.atan_(self)

    def arcsin_(self):
        return _ops.elementwise.arcsin_(self)

    def arccos_(self):
        return _ops.elementwise.arccos_(self)

    def arctan_(self):
        return _ops.elementwise.arctan_(self)

    def sinh_(self):
        return _ops.elementwise.sinh_(self)

    def cosh_(self):
        return _ops.elementwise.cosh_(self)

    def tanh_(self):
        return _ops.elementwise.tanh_(self)

    def asinh_(self):
        return _ops.elementwise.asinh_(self)

    def acosh_(self):
        return _ops.elementwise.acosh_(self)

    def atanh_(self):
        return _ops.elementwise.atanh_(self)

    def arcsinh_(self):
        return _ops.elementwise.arcsinh_(self)

    def arccosh_(self):
        return _ops.elementwise.arccosh_(self)

    def arctanh_(self):
        return _ops.elementwise.arctanh_(self)

    def sigmoid_(self):
        return _ops.elementwise.sigmoid_(self)

    def relu_(self):
        return _ops.elementwise.relu_(self)

    def hardshrink(self, lambd=0.5):
        from ..nn import functional as F

        return F.hardshrink(self, lambd)

    def prelu(self, weight):
        from ..nn import functional as F

        return F.prelu(self, weight)

    def neg_(self):
        return _ops.elementwise.neg_(self)

    def negative_(self):
        return _ops.elementwise.negative_(self)

    def erf_(self):
        return _ops.elementwise.erf_(self)

    def erfc_(self):
        return _ops.elementwise.erfc_(self)

    def erfinv_(self):
        return _ops.elementwise.erfinv_(self)

    def lgamma_(self):
        return _ops.elementwise.lgamma_(self)

    def digamma_(self):
        return _ops.elementwise.digamma_(self)

    def reciprocal_(self):
        return _ops.elementwise.reciprocal_(self)

    def floor_(self):
        return _ops.elementwise.floor_(self)

    def ceil_(self):
        return _ops.elementwise.ceil_(self)

    def trunc_(self):
        return _ops.elementwise.trunc_(self)

    def fix_(self):
        return _ops.elementwise.fix_(self)

    def frac_(self):
        return _ops.elementwise.frac_(self)

    def logical_not_(self):
        return _ops.elementwise.logical_not_(self)

    def bitwise_not_(self):
        return _ops.elementwise.bitwise_not_(self)

    def logit(self, eps=None):
        return _ops.elementwise.logit(self, eps)

    def logit_(self, eps=None):
        return _ops.elementwise.logit_(self, eps)

    def polygamma(self, n):
        return _ops.elementwise.polygamma(n, self)

    def polygamma_(self, n):
        return _ops.elementwise.polygamma_(self, n)

    def round(self, *, decimals=0):
        return _ops.elementwise.round(self, decimals=decimals)

    def round_(self, *, decimals=0):
        return _ops.elementwise.round_(self, decimals=decimals)

    def clamp(self, min=None, max=None):
        return _ops.elementwise.clamp(self, min, max)

    def clamp_(self, min=None, max=None):
        return _ops.elementwise.clamp_(self, min, max)

    def clip(self, min=None, max=None):
        return _ops.elementwise.clip(self, min, max)

    def clip_(self, min=None, max=None):
        return _ops.elementwise.clip_(self, min, max)

    def clamp_min(self, min):
        return _ops.elementwise.clamp_min(self, min)

    def clamp_min_(self, min):
        return _ops.elementwise.clamp_min_(self, min)

    def clamp_max(self, max):
        return _ops.elementwise.clamp_max(self, max)

    def clamp_max_(self, max):
        return _ops.elementwise.clamp_max_(self, max)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return _ops.elementwise.nan_to_num(self, nan, posinf, neginf)

    def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
        return _ops.elementwise.nan_to_num_(self, nan, posinf, neginf)

    # -- binary math -------------------------------------------------------------------------
    def floor_divide(self, other):
        return _ops.elementwise.floor_divide(self, other)

    def remainder(self, other):
        return _ops.elementwise.remainder(self, other)

    def fmod(self, other):
        return _ops.elementwise.fmod(self, other)

    def atan2(self, other):
        return _ops.elementwise.atan2(self, other)

    def arctan2(self, other):
        return _ops.elementwise.arctan2(self, other)

    def maximum(self, other):
        return _ops.elementwise.maximum(self, other)

    def minimum(self, other):
        return _ops.elementwise.minimum(self, other)

    def fmax(self, other):
        return _ops.elementwise.fmax(self, other)

    def fmin(self, other):
        return _ops.elementwise.fmin(self, other)

    def hypot(self, other):
        return _ops.elementwise.hypot(self, other)

    def logaddexp(self, other):
        return _ops.elementwise.logaddexp(self, other)

    def logaddexp2(self, other):
        return _ops.elementwise.logaddexp2(self, other)

    def xlogy(self, other):
        return _ops.elementwise.xlogy(self, other)

    def copysign(self, other):
        return _ops.elementwise.copysign(self, other)

    def float_power(self, exponent):
        return _ops.elementwise.float_power(self, exponent)

    def add_(self, other, *, alpha=1):
        return _ops.elementwise.add_(self, other, alpha=alpha)

    def sub_(self, other, *, alpha=1):
        return _ops.elementwise.sub_(self, other, alpha=alpha)

    subtract_ = sub_

    def mul_(self, other):
        return _ops.elementwise.mul_(self, other)

    multiply_ = mul_

    def div_(self, other, *, rounding_mode=None):
        return _ops.elementwise.div_(self, other, rounding_mode=rounding_mode)

    divide_ = true_divide_ = div_

    def pow_(self, exponent):
        return _ops.elementwise.pow_(self, exponent)

    def float_power_(self, exponent):
        return _ops.elementwise.float_power_(self, exponent)

    def floor_divide_(self, other):
        return _ops.elementwise.floor_divide_(self, other)

    def remainder_(self, other):
        return _ops.elementwise.remainder_(self, other)

    def fmod_(self, other):
        return _ops.elementwise.fmod_(self, other)

    def atan2_(self, other):
        return _ops.elementwise.atan2_(self, other)

    def arctan2_(self, other):
        return _ops.elementwise.arctan2_(self, other)

    def hypot_(self, other):
        return _ops.elementwise.hypot_(self, other)

    def xlogy_(self, other):
        return _ops.elementwise.xlogy_(self, other)

    def copysign_(self, other):
        return _ops.elementwise.copysign_(self, other)

    def where(self, condition, other):
        return _ops.elementwise.where(condition, self, other)

    def lerp(self, end, weight):
        return _ops.elementwise.lerp(self, end, weight)

    def lerp_(self, end, weight):
        return _ops.elementwise.lerp_(self, end, weight)

    def addcmul(self, tensor1, tensor2, *, value=1):
        return _ops.elementwise.addcmul(self, tensor1, tensor2, value=value)

    def addcmul_(self, tensor1, tensor2, *, value=1):
        return _ops.elementwise.addcmul_(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return _ops.elementwise.addcdiv(self, tensor1, tensor2, value=value)

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        return _ops.elementwise.addcdiv_(self, tensor1, tensor2, value=value)

    # -- comparisons, logical and bitwise ops (bool/integer results, no gradient) ------------
    def eq(self, other):
        return _ops.elementwise.eq(self, other)

    def ne(self, other):
        return _ops.elementwise.ne(self, other)

    def lt(self, other):
        return _ops.elementwise.lt(self, other)

    def le(self, other):
        return _ops.elementwise.le(self, other)

    def gt(self, other):
        return _ops.elementwise.gt(self, other)

    def ge(self, other):
        return _ops.elementwise.ge(self, other)

    def greater(self, other):
        return _ops.elementwise.greater(self, other)

    def greater_equal(self, other):
        return _ops.elementwise.greater_equal(self, other)

    def less(self, other):
        return _ops.elementwise.less(self, other)

    def less_equal(self, other):
        return _ops.elementwise.less_equal(self, other)

    def not_equal(self, other):
        return _ops.elementwise.not_equal(self, other)

    def eq_(self, other):
        return _ops.elementwise.eq_(self, other)

    def ne_(self, other):
        return _ops.elementwise.ne_(self, other)

    def lt_(self, other):
        return _ops.elementwise.lt_(self, other)

    def le_(self, other):
        return _ops.elementwise.le_(self, other)

    def gt_(self, other):
        return _ops.elementwise.gt_(self, other)

    def ge_(self, other):
        return _ops.elementwise.ge_(self, other)

    def greater_(self, other):
        return _ops.elementwise.greater_(self, other)

    def greater_equal_(self, other):
        return _ops.elementwise.greater_equal_(self, other)

    def less_(self, other):
        return _ops.elementwise.less_(self, other)

    def less_equal_(self, other):
        return _ops.elementwise.less_equal_(self, other)

    def not_equal_(self, other):
        return _ops.elementwise.not_equal_(self, other)

    def logical_and(self, other):
        return _ops.elementwise.logical_and(self, other)

    def logical_or(self, other):
        return _ops.elementwise.logical_or(self, other)

    def logical_xor(self, other):
        return _ops.elementwise.logical_xor(self, other)

    def logical_and_(self, other):
        return _ops.elementwise.logical_and_(self, other)

    def logical_or_(self, other):
        return _ops.elementwise.logical_or_(self, other)

    def logical_xor_(self, other):
        return _ops.elementwise.logical_xor_(self, other)

    def bitwise_and(self, other):
        return _ops.elementwise.bitwise_and(self, other)

    def bitwise_or(self, other):
        return _ops.elementwise.bitwise_or(self, other)

    def bitwise_xor(self, other):
        return _ops.elementwise.bitwise_xor(self, other)

    def bitwise_and_(self, other):
        return _ops.elementwise.bitwise_and_(self, other)

    def bitwise_or_(self, other):
        return _ops.elementwise.bitwise_or_(self, other)

    def bitwise_xor_(self, other):
        return _ops.elementwise.bitwise_xor_(self, other)

    def equal(self, other):
        return _ops.elementwise.equal(self, other)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _ops.elementwise.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _ops.elementwise.allclose(self, other, rtol, atol, equal_nan)

    # -- in-place sampling (ops/creation.py) -------------------------------------------------
    def uniform_(self, from_=0.0, to=1.0, *, generator=None):
        return _ops.creation.uniform_(self, from_, to, generator=generator)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        return _ops.creation.normal_(self, mean, std, generator=generator)

    def bernoulli_(self, p=0.5, *, generator=None):
        return _ops.creation.bernoulli_(self, p, generator=generator)

    def exponential_(self, lambd=1.0, *, generator=None):
        return _ops.creation.exponential_(self, lambd, generator=generator)

    def geometric_(self, p, *, generator=None):
        return _ops.creation.geometric_(self, p, generator=generator)

    def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
        return _ops.creation.log_normal_(self, mean, std, generator=generator)

    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
        return _ops.creation.cauchy_(self, median, sigma, generator=generator)

    def random_(self, from_=0, to=None, *, generator=None):
        return _ops.creation.random_(self, from_, to, generator=generator)

    def bernoulli(self, p=None, *, generator=None):
        return _ops.creation.bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return _ops.creation.multinomial(self, num_samples, replacement, generator=generator)

    # -- everyday extras (chainrule/_misc_ops.py) --------------------------------------------
    def deg2rad(self):
        return _misc().deg2rad(self)

    def deg2rad_(self):
        return _inplace(self, _misc().deg2rad)

    def rad2deg(self):
        return _misc().rad2deg(self)

    def rad2deg_(self):
        return _inplace(self, _misc().rad2deg)

    def sinc(self):
        return _misc().sinc(self)

    def sinc_(self):
        return _inplace(self, _misc().sinc)

    def ldexp(self, other):
        return _misc().ldexp(self, other)

    def ldexp_(self, other):
        return _inplace(self, _misc().ldexp, other)

    def gcd(self, other):
        return _misc().gcd(self, other)

    def gcd_(self, other):
        return _inplace(self, _misc().gcd, other)

    def lcm(self, other):
        return _misc().lcm(self, other)

    def lcm_(self, other):
        return _inplace(self, _misc().lcm, other)

    def heaviside(self, values):
        return _misc().heaviside(self, values)

    def heaviside_(self, values):
        return _inplace(self, _misc().heaviside, values)

    def positive(self):
        return _misc().positive(self)

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        return _misc().diff(self, n, dim, prepend, append)

    def histc(self, bins=100, min=0, max=0):
        return _misc().histc(self, bins, min, max)

    def histogram(self, bins=100, *, range=None, weight=None, density=False):
        return _misc().histogram(self, bins, range=range, weight=weight, density=density)

    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return _misc().quantile(self, q, dim, keepdim, interpolation=interpolation)

    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return _misc().nanquantile(self, q, dim, keepdim, interpolation=interpolation)

    def cov(self, *, correction=1, fweights=None, aweights=None):
        return _misc().cov(self, correction=correction, fweights=fweights, aweights=aweights)

    def corrcoef(self):
        return _misc().corrcoef(self)

    def is_nonzero(self):
        return _misc().is_nonzero(self)

    def is_same_size(self, other):
        return _misc().is_same_size(self, other)

    def is_signed(self):
        return _misc().is_signed(self)

    def isreal(self):
        return _misc().isreal(self)

    def nextafter(self, other):
        return _misc().nextafter(self, other)

    def nextafter_(self, other):
        return _inplace(self, _misc().nextafter, other)

    def frexp(self):
        return _misc().frexp(self)

    def renorm(self, p, dim, maxnorm):
        return _misc().renorm(self, p, dim, maxnorm)

    def renorm_(self, p, dim, maxnorm):
        return _inplace(self, _misc().renorm, p, dim, maxnorm)

    def sum_to_size(self, *size):
        return _misc()._sum_to_size(self, *size)

    def apply_(self, callable):
        return _misc()._apply_(self, callable)

    def map_(self, tensor, callable):
        return _misc()._apply_(self, callable, tensor)

    def fill_diagonal_(self, fill_value, wrap=False):
        return _inplace(self, _misc()._filled_diagonal, fill_value, wrap)

    def bitwise_left_shift(self, other):
        return _misc().bitwise_left_shift(self, other)

    def bitwise_right_shift(self, other):
        return _misc().bitwise_right_shift(self, other)

    def bitwise_left_shift_(self, other):
        return _inplace(self, _misc().bitwise_left_shift, other)

    def bitwise_right_shift_(self, other):
        return _inplace(self, _misc().bitwise_right_shift, other)

    def __lshift__(self, other):
        return _binop(_misc().bitwise_left_shift, self, other, other)

    def __rshift__(self, other):
        return _binop(_misc().bitwise_right_shift, self, other, other)

    def __rlshift__(self, other):
        return _binop(_misc().bitwise_left_shift, other, self, other)

    def __rrshift__(self, other):
        return _binop(_misc().bitwise_right_shift, other, self, other)

    def __ilshift__(self, other):
        return _inplace(self, _misc().bitwise_left_shift, other)

    def __irshift__(self, other):
        return _inplace(self, _misc().bitwise_right_shift, other)

    # -- operators (+ - * / ** and the reflected - / ** are in tensor.py) --------------------
    def __eq__(self, other):
        return _binop(_ops.elementwise.eq, self, other, other)

    def __ne__(self, other):
        return _binop(_ops.elementwise.ne, self, other, other)

    def __lt__(self, other):
        return _binop(_ops.elementwise.lt, self, other, other)

    def __le__(self, other):
        return _binop(_ops.elementwise.le, self, other, other)

    def __gt__(self, other):
        return _binop(_ops.elementwise.gt, self, other, other)

    def __ge__(self, other):
        return _binop(_ops.elementwise.ge, self, other, other)

    def __and__(self, other):
        return _binop(_ops.elementwise.bitwise_and, self, other, other)

    def __or__(self, other):
        return _binop(_ops.elementwise.bitwise_or, self, other, other)

    def __xor__(self, other):
        return _binop(_ops.elementwise.bitwise_xor, self, other, other)

    def __floordiv__(self, other):
        return _binop(_ops.elementwise.floor_divide, self, other, other)

    def __mod__(self, other):
        return _binop(_ops.elementwise.remainder, self, other, other)

    def __iadd__(self, other):
        return _binop(_ops.elementwise.add_, self, other, other)

    def __isub__(self, other):
        return _binop(_ops.elementwise.sub_, self, other, other)

    def __imul__(self, other):
        return _binop(_ops.elementwise.mul_, self, other, other)

    def __itruediv__(self, other):
        return _binop(_ops.elementwise.div_, self, other, other)

    def __ipow__(self, other):
        return _binop(_ops.elementwise.pow_, self, other, other)

    def __ifloordiv__(self, other):
        return _binop(_ops.elementwise.floor_divide_, self, other, other)

    def __imod__(self, other):
        return _binop(_ops.elementwise.remainder_, self, other, other)

    def __iand__(self, other):
        return _binop(_ops.elementwise.bitwise_and_, self, other, other)

    def __ior__(self, other):
        return _binop(_ops.elementwise.bitwise_or_, self, other, other)

    def __ixor__(self, other):
        return _binop(_ops.elementwise.bitwise_xor_, self, other, other)

    def __rand__(self, other):
        return _binop(_ops.elementwise.bitwise_and, other, self, other)

    def __ror__(self, other):
        return _binop(_ops.elementwise.bitwise_or, other, self, other)

    def __rxor__(self, other):
        return _binop(_ops.elementwise.bitwise_xor, other, self, other)

    def __rfloordiv__(self, other):
        return _binop(_ops.elementwise.floor_divide, other, self, other)

    def __rmod__(self, other):
        return _binop(_ops.elementwise.remainder, other, self, other)

    def __invert__(self):
        return _ops.elementwise._invert(self)

    def __abs__(self):
        return _ops.elementwise.abs(self)


_OPERANDS = (int, float, bool, complex, np.ndarray, np.generic)


def _misc():
    from .. import _misc_ops  # imports ops.*, so bound on first use

    return _misc_ops


def _inplace(self, op, *args):
    from ..tensor import inplace

    return inplace(self, op, *args)


def _binop(op, a, b, other):
    """``op(a, b)``, or NotImplemented when ``other`` is not something a Tensor combines
    with (then ``t == None`` is False and ``t < [1]`` raises TypeError, as in PyTorch)."""
    if isinstance(other, _OPERANDS) or hasattr(other, "_data"):
        return op(a, b)
    return NotImplemented
