"""``torch.distributions.generalized_pareto``: GeneralizedPareto(loc, scale, concentration),
survival function (1 + xi z)^(-1 / xi) with z = (x - loc) / scale (exp(-z) at xi = 0)."""
from __future__ import annotations

import math

from ..tensor import Size, Tensor
from . import Distribution, _as_param, _broadcast_all, _cr, constraints
from ._extra import _check_positive, _check_support

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """GeneralizedPareto(loc, scale, concentration): support [loc, loc - scale / xi] for
    xi < 0, [loc, inf) otherwise; rsample = icdf(u).

    >>> import chainrule as torch
    >>> GeneralizedPareto(torch.tensor(0.0), torch.tensor(1.0), torch.tensor(0.0)).mean
    tensor(1.)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = _broadcast_all(loc, scale, concentration)
        super().__init__(self.loc.shape, Size(), validate_args)
        _check_positive(self, "scale", self.scale)

    def _param_names(self):
        return ("loc", "scale", "concentration")

    @property
    def support(self):
        cr = _cr()
        xi = self.concentration
        safe = cr.where(xi < 0, xi, -cr.ones_like(xi))
        upper = cr.where(xi < 0, self.loc - self.scale / safe, cr.full_like(xi, math.inf))
        return constraints.interval(self.loc, upper)

    def _z(self, x) -> Tensor:
        return (x - self.loc) / self.scale

    def _safe_concentration(self):
        """(xi ~ 0, xi with those replaced by 1): the xi = 0 branch is the exponential; like
        torch, |xi| <= 1e-8 counts as 0 (torch.isclose(xi, 0))."""
        cr = _cr()
        xi = self.concentration
        zero = xi.abs() <= 1e-8
        return zero, cr.where(zero, cr.ones_like(xi), xi)

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        value = _as_param(value)
        if self._validate_args and not bool(self.support.check(value).all()):
            _check_support(self, value, repr(self.support))
        z = self._z(value)
        zero, xi = self._safe_concentration()
        # -(1 / xi + 1) log1p(xi z), written so that z = 0 gives 0 without 0 * inf
        tail = (1 / xi + 1) * cr.log1p(xi * z)
        tail = cr.where(z == 0, cr.zeros_like(tail), tail)
        return -self.scale.log() - cr.where(zero, z, tail)

    def log_survival_function(self, value) -> Tensor:
        cr = _cr()
        z = self._z(_as_param(value))
        zero, xi = self._safe_concentration()
        return cr.where(zero, -z, -cr.log1p(xi * z) / xi)

    def log_cdf(self, value) -> Tensor:
        return _cr().log1p(-self.log_survival_function(value).exp())

    def cdf(self, value) -> Tensor:
        return self.log_cdf(value).exp()

    def icdf(self, value) -> Tensor:
        cr = _cr()
        zero, xi = self._safe_concentration()
        log_tail = cr.log1p(-_as_param(value))  # log(1 - u)
        z = cr.where(zero, -log_tail, cr.expm1(-xi * log_tail) / xi)
        return self.loc + self.scale * z

    def rsample(self, sample_shape=Size()) -> Tensor:
        u = _cr().rand(self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.icdf(u)

    @property
    def mean(self) -> Tensor:
        cr = _cr()
        ok = self.concentration < 1
        xi = cr.where(ok, self.concentration, cr.full_like(self.concentration, 0.5))
        mean = self.loc + self.scale / (1 - xi)
        return cr.where(ok, mean, cr.full_like(mean, math.nan))

    @property
    def variance(self) -> Tensor:
        cr = _cr()
        ok = self.concentration < 0.5
        xi = cr.where(ok, self.concentration, cr.full_like(self.concentration, 0.25))
        var = self.scale.pow(2) / ((1 - xi).pow(2) * (1 - 2 * xi))
        return cr.where(ok, var, cr.full_like(var, math.nan))

    @property
    def mode(self) -> Tensor:
        return self.loc

    def entropy(self) -> Tensor:
        return (self.scale.log() + self.concentration + 1).expand(self._batch_shape)
