"""``torch.distributions.kumaraswamy``: Kumaraswamy(concentration1, concentration0), density
a b x^(a - 1) (1 - x^a)^(b - 1) on (0, 1)."""
from __future__ import annotations

import math

from ..tensor import Tensor
from . import Distribution, Uniform, _as_param, _broadcast_all, _cr, constraints
from ._extra import _EULER, _check_positive, _check_support
from ._transformed import TransformedDistribution, _rebuilt
from .transforms import AffineTransform, PowerTransform

__all__ = ["Kumaraswamy"]


class Kumaraswamy(TransformedDistribution):
    """Kumaraswamy(concentration1 = a, concentration0 = b): Uniform(0, 1) through u^(1/b),
    1 - x, x^(1/a) (as torch builds it); log_prob, cdf, icdf, entropy, moments in closed form.

    >>> import chainrule as torch
    >>> Kumaraswamy(torch.tensor(1.0), torch.tensor(1.0)).mean
    tensor(0.5000)
    """

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        cr = _cr()
        self.concentration1, self.concentration0 = _broadcast_all(concentration1,
                                                                  concentration0)
        b = self.concentration0
        base = Uniform(cr.zeros_like(b), cr.ones_like(b), validate_args=validate_args)
        transforms = [PowerTransform(b.reciprocal()), AffineTransform(1.0, -1.0),
                      PowerTransform(self.concentration1.reciprocal())]
        super().__init__(base, transforms, validate_args)
        _check_positive(self, "concentration1", self.concentration1)
        _check_positive(self, "concentration0", self.concentration0)

    __repr__ = Distribution.__repr__

    def _param_names(self):
        return ("concentration1", "concentration0")

    def expand(self, batch_shape, _instance=None):
        shape = tuple(batch_shape)
        return _rebuilt(self, type(self)(self.concentration1.expand(shape),
                                         self.concentration0.expand(shape),
                                         validate_args=False))

    def _moment(self, n: int) -> Tensor:
        """E[x^n] = b B(1 + n / a, b)."""
        cr = _cr()
        a, b = self.concentration1, self.concentration0
        t = 1 + n / a
        return b * (cr.lgamma(t) + cr.lgamma(b) - cr.lgamma(t + b)).exp()

    @property
    def mean(self) -> Tensor:
        return self._moment(1)

    @property
    def mode(self) -> Tensor:
        # ((a - 1) / (a b - 1))^(1 / a) where a, b >= 1 (not both 1); undefined (nan)
        # otherwise. torch 2.x returns nan everywhere here (a sign slip in its log-space form).
        cr = _cr()
        a, b = self.concentration1, self.concentration0
        defined = (a >= 1) & (b >= 1) & ((a > 1) | (b > 1))
        a_ok = cr.where(defined, a, cr.full_like(a, 2.0))
        b_ok = cr.where(defined, b, cr.full_like(b, 2.0))
        mode = ((a_ok - 1) / (a_ok * b_ok - 1)).pow(a_ok.reciprocal())
        return cr.where(defined, mode, cr.full_like(mode, math.nan))

    @property
    def variance(self) -> Tensor:
        return self._moment(2) - self._moment(1).pow(2)

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        value = _as_param(value)
        if self._validate_args and not bool(((value >= 0) & (value <= 1)).all()):
            _check_support(self, value, "Interval(lower_bound=0.0, upper_bound=1.0)")
        a, b = self.concentration1, self.concentration0
        return (cr.log(a) + cr.log(b) + (a - 1) * cr.log(value)
                + (b - 1) * cr.log1p(-value.pow(a)))

    def cdf(self, value) -> Tensor:
        cr = _cr()
        return -cr.expm1(self.concentration0 * cr.log1p(-value.pow(self.concentration1)))

    def icdf(self, value) -> Tensor:
        cr = _cr()
        x = -cr.expm1(cr.log1p(-value) / self.concentration0)
        return x.pow(self.concentration1.reciprocal())

    def entropy(self) -> Tensor:
        cr = _cr()
        a, b = self.concentration1, self.concentration0
        harmonic_b = cr.digamma(b + 1) + _EULER
        return (1 - b.reciprocal()) + (1 - a.reciprocal()) * harmonic_b - cr.log(a) - cr.log(b)
