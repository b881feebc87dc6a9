"""``torch.distributions.weibull``: Weibull(scale, concentration), density
k / s (x / s)^(k - 1) exp(-(x / s)^k) on x > 0."""
from __future__ import annotations

import math

from ..tensor import Size, Tensor
from . import Distribution, _as_param, _broadcast_all, _cr, constraints
from ._extra import _EULER, _check_positive, _check_support

__all__ = ["Weibull"]


class Weibull(Distribution):
    """Weibull(scale, concentration): rsample = scale * (-log(1 - u))^(1 / concentration).

    >>> import chainrule as torch
    >>> Weibull(torch.tensor(2.0), torch.tensor(1.0)).mean
    tensor(2.)
    """

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = _broadcast_all(scale, concentration)
        super().__init__(self.scale.shape, Size(), validate_args)
        _check_positive(self, "scale", self.scale)
        _check_positive(self, "concentration", self.concentration)

    def _param_names(self):
        return ("scale", "concentration")

    @property
    def mean(self) -> Tensor:
        return self.scale * _cr().lgamma(1 + self.concentration.reciprocal()).exp()

    @property
    def mode(self) -> Tensor:
        # scale ((k - 1) / k)^(1 / k) for k >= 1; for k < 1 the density is unbounded at 0,
        # outside the support, so there is none (nan). torch 2.x applies the closed form to
        # every k: nan, or a wrong finite value where 1 / k is an integer (pytorch#198186).
        cr = _cr()
        k = self.concentration
        defined = k >= 1
        k_ok = cr.where(defined, k, cr.full_like(k, 2.0))
        mode = self.scale * ((k_ok - 1) / k_ok).pow(k_ok.reciprocal())
        return cr.where(defined, mode, cr.full_like(mode, math.nan))

    @property
    def variance(self) -> Tensor:
        cr = _cr()
        inv_k = self.concentration.reciprocal()
        return self.scale.pow(2) * (cr.lgamma(1 + 2 * inv_k).exp()
                                    - cr.lgamma(1 + inv_k).exp().pow(2))

    def rsample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        u = cr.rand(self._extended_shape(sample_shape), dtype=self.scale.dtype)
        return self.icdf(u)

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        value = _as_param(value)
        if self._validate_args and not bool((value > 0).all()):
            _check_support(self, value, "GreaterThan(lower_bound=0.0)")
        k = self.concentration
        z = value / self.scale
        return cr.log(k / self.scale) + (k - 1) * cr.log(z) - z.pow(k)

    def cdf(self, value) -> Tensor:
        return -_cr().expm1(-(value / self.scale).pow(self.concentration))

    def icdf(self, value) -> Tensor:
        return self.scale * (-_cr().log1p(-value)).pow(self.concentration.reciprocal())

    def entropy(self) -> Tensor:
        k = self.concentration
        return _EULER * (1 - k.reciprocal()) + _cr().log(self.scale / k) + 1


