"""``torch.distributions.pareto``: Pareto(scale, alpha), density
alpha scale^alpha / x^(alpha + 1) on x >= scale."""
from __future__ import annotations

import math

from ..tensor import Size, Tensor
from . import Distribution, Exponential, _as_param, _broadcast_all, _cr, constraints, register_kl
from ._extra import _check_positive, _check_support

__all__ = ["Pareto"]


class Pareto(Distribution):
    """Pareto(scale, alpha): rsample = scale * exp(Exponential(alpha)).

    >>> import chainrule as torch
    >>> Pareto(torch.tensor(1.0), torch.tensor(3.0)).mean
    tensor(1.5000)
    """

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}
    has_rsample = True

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = _broadcast_all(scale, alpha)
        super().__init__(self.scale.shape, Size(), validate_args)
        if self._validate_args:  # torch reports a bad alpha from its base Exponential
            Exponential(self.alpha, validate_args=True)
        _check_positive(self, "scale", self.scale)

    def _param_names(self):
        return ("alpha", "scale")

    @property
    def support(self):
        return constraints.greater_than_eq(self.scale)

    @property
    def mean(self) -> Tensor:
        cr = _cr()
        finite = self.alpha > 1  # infinite for alpha <= 1
        a = cr.where(finite, self.alpha, cr.full_like(self.alpha, 2.0))
        mean = a * self.scale / (a - 1)
        return cr.where(finite, mean, cr.full_like(mean, math.inf))

    @property
    def mode(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        cr = _cr()
        finite = self.alpha > 2  # infinite for alpha <= 2
        a = cr.where(finite, self.alpha, cr.full_like(self.alpha, 3.0))
        var = self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))
        return cr.where(finite, var, cr.full_like(var, math.inf))

    def rsample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        u = cr.rand(self._extended_shape(sample_shape), dtype=self.scale.dtype)
        return self.icdf(u)

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        value = _as_param(value)
        if self._validate_args and not bool((value >= self.scale).all()):
            _check_support(self, value, repr(self.support))
        a = self.alpha
        return cr.log(a) + a * cr.log(self.scale) - (a + 1) * cr.log(value)

    def cdf(self, value) -> Tensor:
        return 1 - (self.scale / value).pow(self.alpha)

    def icdf(self, value) -> Tensor:
        return self.scale * (-_cr().log1p(-value) / self.alpha).exp()

    def entropy(self) -> Tensor:
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p: Pareto, q: Pareto) -> Tensor:
    cr = _cr()
    alpha_ratio = q.alpha / p.alpha
    result = q.alpha * (p.scale / q.scale).log() - alpha_ratio.log() + alpha_ratio - 1
    # p puts mass below q's support: infinite
    return cr.where(p.scale < q.scale, cr.full_like(result, math.inf), result)
