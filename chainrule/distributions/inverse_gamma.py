"""``torch.distributions.inverse_gamma``: InverseGamma(concentration, rate), the distribution of
1 / x for x ~ Gamma(concentration, rate)."""
from __future__ import annotations

import math

from ..tensor import Tensor
from . import _cr, constraints
from ._extra import Gamma
from ._transformed import TransformedDistribution
from .transforms import PowerTransform

__all__ = ["InverseGamma"]


class InverseGamma(TransformedDistribution):
    """InverseGamma(concentration, rate): density r^c / Gamma(c) x^(-c-1) exp(-r / x) on x > 0;
    rsample inverts a (reparameterised) Gamma draw.

    >>> import chainrule as torch
    >>> InverseGamma(torch.tensor(3.0), torch.tensor(4.0)).mean
    tensor(2.)
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        base = Gamma(concentration, rate, validate_args=validate_args)
        super().__init__(base, PowerTransform(-base.rate.new_ones(())), validate_args)

    @property
    def concentration(self) -> Tensor:
        return self.base_dist.concentration

    @property
    def rate(self) -> Tensor:
        return self.base_dist.rate

    def _inf_unless(self, ok, x: Tensor) -> Tensor:
        cr = _cr()
        return cr.where(ok, x, cr.full_like(x, math.inf))

    @property
    def mean(self) -> Tensor:
        cr = _cr()
        c = self.concentration
        ok = c > 1
        c_ok = cr.where(ok, c, cr.full_like(c, 2.0))
        return self._inf_unless(ok, self.rate / (c_ok - 1))

    @property
    def mode(self) -> Tensor:
        return self.rate / (self.concentration + 1)

    @property
    def variance(self) -> Tensor:
        cr = _cr()
        c = self.concentration
        ok = c > 2
        c_ok = cr.where(ok, c, cr.full_like(c, 3.0))
        return self._inf_unless(ok, self.rate.pow(2) / ((c_ok - 1).pow(2) * (c_ok - 2)))

    def entropy(self) -> Tensor:
        cr = _cr()
        c = self.concentration
        return c + self.rate.log() + cr.lgamma(c) - (1 + c) * cr.digamma(c)
