"""``torch.distributions.weibull``: Weibull(scale, concentration), density
k / s (x / s)^(k - 1) exp(-(x / s)^k) on x > 0."""
from __future__ import annotations

import math

from ..tensor import Tensor
from . import Distribution, Exponential, _as_param, _broadcast_all, _cr, constraints
from ._extra import _EULER, _check_positive, _check_support
from ._transformed import TransformedDistribution, _rebuilt
from .transforms import AffineTransform, PowerTransform

__all__ = ["Weibull"]


class Weibull(TransformedDistribution):
    """Weibull(scale, concentration): Exponential(1) through x^(1 / concentration), then
    scale * x (as torch builds it); log_prob, cdf, icdf, entropy and moments in closed form.

    >>> import chainrule as torch
    >>> Weibull(torch.tensor(2.0), torch.tensor(1.0)).mean
    tensor(2.)
    """

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = _broadcast_all(scale, concentration)
        base = Exponential(_cr().ones_like(self.scale), validate_args=validate_args)
        transforms = [PowerTransform(self.concentration.reciprocal()),
                      AffineTransform(0, self.scale)]
        super().__init__(base, transforms, validate_args)
        _check_positive(self, "scale", self.scale)
        _check_positive(self, "concentration", self.concentration)

    __repr__ = Distribution.__repr__

    def _param_names(self):
        return ("scale", "concentration")

    def expand(self, batch_shape, _instance=None):
        shape = tuple(batch_shape)
        return _rebuilt(self, type(self)(self.scale.expand(shape),
                                         self.concentration.expand(shape), validate_args=False))

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


