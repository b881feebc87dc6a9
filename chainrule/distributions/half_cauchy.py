"""``torch.distributions.half_cauchy``: HalfCauchy(scale), |Cauchy(0, scale)|."""
from __future__ import annotations

import math

from ..tensor import Size, Tensor
from . import Distribution, _as_param, _broadcast_all, _cr, constraints
from ._extra import Cauchy, _check_positive, _check_support

__all__ = ["HalfCauchy"]


class HalfCauchy(Distribution):
    """HalfCauchy(scale) on [0, inf): rsample = |Cauchy(0, scale) draw|.

    >>> import chainrule as torch
    >>> HalfCauchy(torch.tensor(1.0)).cdf(torch.tensor(1.0))
    tensor(0.5000)
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        (self.scale,) = _broadcast_all(scale)
        super().__init__(self.scale.shape, Size(), validate_args)
        _check_positive(self, "scale", self.scale)

    def _param_names(self):
        return ()

    def _expand_params(self):
        return {"scale": 0}

    def _cauchy(self) -> Cauchy:
        return Cauchy(_cr().zeros_like(self.scale), self.scale, validate_args=False)

    @property
    def mean(self) -> Tensor:
        return _cr().full(self._extended_shape(), math.inf, dtype=self.scale.dtype)

    @property
    def mode(self) -> Tensor:
        return _cr().zeros_like(self.scale)

    @property
    def variance(self) -> Tensor:
        return _cr().full(self._extended_shape(), math.inf, dtype=self.scale.dtype)

    def rsample(self, sample_shape=Size()) -> Tensor:
        return self._cauchy().rsample(sample_shape).abs()

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
