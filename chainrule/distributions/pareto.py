"""``torch.distributions.pareto``: Pareto(scale, alpha), density
alpha scale^alpha / x^(alpha + 1) on x >= scale."""
from __future__ import annotations

import math

from ..tensor import Tensor
from . import (
    Distribution,
    Exponential,
    Laplace,
    Normal,
    Uniform,
    _as_param,
    _broadcast_all,
    _cr,
    constraints,
    register_kl,
)
from ._extra import Beta, Gamma, Gumbel, _check_positive, _check_support
from ._transformed import TransformedDistribution, _rebuilt
from .transforms import AffineTransform, ExpTransform

__all__ = ["Pareto"]


class Pareto(TransformedDistribution):
    """Pareto(scale, alpha): Exponential(alpha) through exp, then scale * x (as torch builds
    it); log_prob, cdf, icdf, entropy and moments in closed form.

    >>> import chainrule as torch
    >>> Pareto(torch.tensor(1.0), torch.tensor(3.0)).mean
    tensor(1.5000)
    """

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}
    has_rsample = True

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = _broadcast_all(scale, alpha)
        # torch reports a bad alpha from this base Exponential
        base = Exponential(self.alpha, validate_args=validate_args)
        super().__init__(base, [ExpTransform(), AffineTransform(0, self.scale)], validate_args)
        _check_positive(self, "scale", self.scale)

    __repr__ = Distribution.__repr__

    def _param_names(self):
        return ("alpha", "scale")

    def expand(self, batch_shape, _instance=None):
        shape = tuple(batch_shape)
        return _rebuilt(self, type(self)(self.scale.expand(shape), self.alpha.expand(shape),
                                         validate_args=False))

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


# ---- KL between a Pareto and other families (the pairs torch registers) ----------------------

def _infinite(p) -> Tensor:
    """KL = inf (q puts no mass where p does), one per batch entry of p."""
    return _cr().full(tuple(p.batch_shape), math.inf, dtype=p.mean.dtype)


def _where_inf(cond, result: Tensor) -> Tensor:
    cr = _cr()
    return cr.where(cond, cr.full_like(result, math.inf), result)


def _pareto_moments(p: Pareto):
    """E[x], E[log x] and E[x^2] of a Pareto, with alpha replaced where they are infinite."""
    cr = _cr()
    a, s = p.alpha, p.scale
    a1 = cr.where(a > 1, a, cr.full_like(a, 2.0))
    a2 = cr.where(a > 2, a, cr.full_like(a, 3.0))
    return a1 * s / (a1 - 1), s.log() + a.reciprocal(), a2 * s.pow(2) / (a2 - 2)


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p: Pareto, q: Exponential) -> Tensor:
    # -H(p) - E_p[log rate - rate x]; infinite mean for alpha <= 1
    mean, _, _ = _pareto_moments(p)
    return _where_inf(p.alpha <= 1, -p.entropy() - q.rate.log() + q.rate * mean)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p: Pareto, q: Gamma) -> Tensor:
    cr = _cr()
    mean, mean_log, _ = _pareto_moments(p)
    k, r = q.concentration, q.rate
    expected_log_q = k * r.log() + (k - 1) * mean_log - r * mean - cr.lgamma(k)
    return _where_inf(p.alpha <= 1, -p.entropy() - expected_log_q)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p: Pareto, q: Normal) -> Tensor:
    mean, _, second = _pareto_moments(p)
    sq_dist = second - 2 * q.loc * mean + q.loc.pow(2)  # E[(x - loc)^2]
    result = (-p.entropy() + 0.5 * math.log(2 * math.pi) + q.scale.log()
              + sq_dist / (2 * q.scale.pow(2)))
    return _where_inf(p.alpha <= 2, result)


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p: Uniform, q: Pareto) -> Tensor:
    # -log(high - low) - E_p[log alpha + alpha log scale - (alpha + 1) log x], with
    # E_p[log x] = (high log high - low log low) / (high - low) - 1
    cr = _cr()
    width = p.high - p.low
    mean_log = (cr.xlogy(p.high, p.high) - cr.xlogy(p.low, p.low)) / width - 1
    result = (-width.log() - q.alpha.log() - q.alpha * q.scale.log()
              + (q.alpha + 1) * mean_log)
    return _where_inf(p.low < q.scale, result)


# Unbounded supports against Pareto's [scale, inf), Pareto's against bounded ones.
for _p, _q in [(Beta, Pareto), (Exponential, Pareto), (Gamma, Pareto), (Gumbel, Pareto),
               (Laplace, Pareto), (Normal, Pareto), (Pareto, Uniform), (Pareto, Beta)]:
    register_kl(_p, _q)(lambda p, q: _infinite(p))
