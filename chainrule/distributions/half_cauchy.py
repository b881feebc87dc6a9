"""``torch.distributions.half_cauchy``: HalfCauchy(scale), |Cauchy(0, scale)|."""
from __future__ import annotations

import math

from ..tensor import Tensor
from . import Distribution, _as_param, _broadcast_all, _cr, constraints
from ._extra import Cauchy, _check_positive, _check_support
from ._transformed import TransformedDistribution
from .transforms import AbsTransform

__all__ = ["HalfCauchy"]


class HalfCauchy(TransformedDistribution):
    """HalfCauchy(scale) on [0, inf): Cauchy(0, scale) through abs (as torch builds it);
    log_prob, cdf, icdf and entropy in closed form.

    >>> import chainrule as torch
    >>> HalfCauchy(torch.tensor(1.0)).cdf(torch.tensor(1.0))
    tensor(0.5000)
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        (scale,) = _broadcast_all(scale)
        base = Cauchy(_cr().zeros_like(scale), scale, validate_args=False)
        super().__init__(base, AbsTransform(), validate_args)
        _check_positive(self, "scale", scale)

    __repr__ = Distribution.__repr__

    def _param_names(self):
        return ()

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale

    def _cauchy(self) -> Cauchy:
        return self.base_dist

    @property
    def mean(self) -> Tensor:
        return _cr().full(self._extended_shape(), math.inf, dtype=self.scale.dtype)

    @property
    def mode(self) -> Tensor:
        return _cr().zeros_like(self.scale)

    @property
    def variance(self) -> Tensor:
        return _cr().full(self._extended_shape(), math.inf, dtype=self.scale.dtype)

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        value = _as_param(value)
        if self._validate_args and not bool((value >= 0).all()):
            _check_support(self, value, "GreaterThanEq(lower_bound=0.0)")
        lp = self._cauchy().log_prob(value) + math.log(2)
        return cr.where(value >= 0, lp, cr.full_like(lp, -math.inf))

    def cdf(self, value) -> Tensor:
        return 2 * self._cauchy().cdf(value) - 1

    def icdf(self, prob) -> Tensor:
        return self._cauchy().icdf((prob + 1) / 2)

    def entropy(self) -> Tensor:
        return self._cauchy().entropy() - math.log(2)
