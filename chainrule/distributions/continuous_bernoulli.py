"""``torch.distributions.continuous_bernoulli``: ContinuousBernoulli(probs= | logits=), the
density C(p) p^x (1 - p)^(1 - x) on [0, 1] (Loaiza-Ganem & Cunningham, 2019).

Near p = 1/2 the closed forms are 0/0, so inside ``lims`` (default (0.499, 0.501)) the
normaliser, mean and variance use their Taylor expansions about 1/2, as torch does."""
from __future__ import annotations

import math

from ..tensor import Size, Tensor
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
from ._extra import Beta, Gamma, Gumbel, _check_support
from .pareto import Pareto

__all__ = ["ContinuousBernoulli"]


def _clamp_probs(p: Tensor) -> Tensor:
    eps = _cr().finfo(p.dtype).eps
    return p.clamp(min=eps, max=1 - eps)


class ContinuousBernoulli(Distribution):
    """ContinuousBernoulli(probs=... or logits=..., lims=(0.499, 0.501)); rsample = icdf(u).

    >>> import chainrule as torch
    >>> ContinuousBernoulli(torch.tensor(0.5)).mean
    tensor(0.5000)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        self._probs = self._logits = None
        if probs is not None:
            (probs,) = _broadcast_all(probs)
            # checked before the clamp below would hide a bad value (torch does this only
            # when validate_args is passed explicitly)
            if validate_args is not None and not bool(((probs >= 0) & (probs <= 1)).all()):
                raise ValueError("The parameter probs has invalid values")
            self._probs = param = _clamp_probs(probs)
        else:
            (self._logits,) = param = _broadcast_all(logits)
            param = self._logits
        self._lims = lims
        super().__init__(param.shape, Size(), validate_args)

    def _param_names(self):
        return tuple(n for n in ("probs", "logits") if getattr(self, "_" + n) is not None)

    def _expand_params(self):
        return {"_probs": 0, "_logits": 0}

    @property
    def probs(self) -> Tensor:
        if self._probs is None:
            self._probs = _clamp_probs(_cr().sigmoid(self._logits))
        return self._probs

    @property
    def logits(self) -> Tensor:
        if self._logits is None:
            p = _clamp_probs(self._probs)
            self._logits = p.log() - _cr().log1p(-p)
        return self._logits

    @property
    def param_shape(self) -> Size:
        return (self._probs if self._probs is not None else self._logits).shape

    def _outside_unstable_region(self) -> Tensor:
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self) -> Tensor:
        """probs, with those inside ``lims`` moved to lims[0] so the closed forms stay finite
        on the branch ``where`` discards."""
        cr = _cr()
        p = self.probs
        return cr.where(self._outside_unstable_region(), p, cr.full_like(p, self._lims[0]))

    def _log_norm(self) -> Tensor:
        """log C(p) = log(|log(1 - p) - log p| / |1 - 2p|); Taylor about p = 1/2 inside lims."""
        cr = _cr()
        p = self._cut_probs()
        below = p <= 0.5
        p_below = cr.where(below, p, cr.zeros_like(p))
        p_above = cr.where(p >= 0.5, p, cr.ones_like(p))
        log_norm = (cr.log(cr.abs(cr.log1p(-p) - cr.log(p)))
                    - cr.where(below, cr.log1p(-2.0 * p_below), cr.log(2.0 * p_above - 1.0)))
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return cr.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self) -> Tensor:
        cr = _cr()
        p = self._cut_probs()
        mus = p / (2.0 * p - 1.0) + 1.0 / (cr.log1p(-p) - cr.log(p))
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return cr.where(self._outside_unstable_region(), mus, taylor)

    @property
    def variance(self) -> Tensor:
        cr = _cr()
        p = self._cut_probs()
        var = (p * (p - 1.0) / (1.0 - 2.0 * p).pow(2)
               + 1.0 / (cr.log1p(-p) - cr.log(p)).pow(2))
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return cr.where(self._outside_unstable_region(), var, taylor)

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def rsample(self, sample_shape=Size()) -> Tensor:
        u = _cr().rand(self._extended_shape(sample_shape), dtype=self.probs.dtype)
        return self.icdf(u)

    def log_prob(self, value) -> Tensor:
        from ..nn.functional import binary_cross_entropy_with_logits

        value = _as_param(value)
        if self._validate_args and not bool(((value >= 0) & (value <= 1)).all()):
            _check_support(self, value, "Interval(lower_bound=0.0, upper_bound=1.0)")
        logits, value = _broadcast_all(self.logits, value)
        return (-binary_cross_entropy_with_logits(logits, value, reduction="none")
                + self._log_norm())

    def cdf(self, value) -> Tensor:
        cr = _cr()
        value = _as_param(value)
        p = self._cut_probs()
        cdfs = (p.pow(value) * (1.0 - p).pow(1.0 - value) + p - 1.0) / (2.0 * p - 1.0)
        inside = cr.where(self._outside_unstable_region(), cdfs, value)
        return cr.where(value <= 0.0, cr.zeros_like(inside),
                        cr.where(value >= 1.0, cr.ones_like(inside), inside))

    def icdf(self, value) -> Tensor:
        cr = _cr()
        p = self._cut_probs()
        x = ((cr.log1p(-p + value * (2.0 * p - 1.0)) - cr.log1p(-p))
             / (cr.log(p) - cr.log1p(-p)))
        return cr.where(self._outside_unstable_region(), x, value)

    def entropy(self) -> Tensor:
        # -E[x log p + (1 - x) log(1 - p)] - log C(p)
        cr = _cr()
        log_p0, log_p1 = cr.log1p(-self.probs), cr.log(self.probs)
        return self.mean * (log_p0 - log_p1) - self._log_norm() - log_p0


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_continuous_bernoulli(p: ContinuousBernoulli, q: ContinuousBernoulli) -> Tensor:
    # log density = x logit + log(1 - p) + log C(p), so KL = E_p[x] (logit_p - logit_q) + ...
    cr = _cr()
    t1 = p.mean * (p.logits - q.logits)
    t2 = p._log_norm() + cr.log1p(-p.probs)
    t3 = -q._log_norm() - cr.log1p(-q.probs)
    return t1 + t2 + t3


# ---- KL between a ContinuousBernoulli and other families (the pairs torch registers) ---------
# log q(x) = x logits + log(1 - probs) + log C(probs) for q a ContinuousBernoulli.

def _expected_log_cb(mean: Tensor, q: ContinuousBernoulli) -> Tensor:
    return mean * q.logits + _cr().log1p(-q.probs) + q._log_norm()


def _where_inf(cond, result: Tensor) -> Tensor:
    cr = _cr()
    return cr.where(cond, cr.full_like(result, math.inf), result)


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_continuous_bernoulli(p: Beta, q: ContinuousBernoulli) -> Tensor:
    return -p.entropy() - _expected_log_cb(p.mean, q)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_continuous_bernoulli(p: Uniform, q: ContinuousBernoulli) -> Tensor:
    # infinite when [low, high) reaches outside [0, 1]. torch also returns inf when low == 0
    # or high == 1 exactly, where the divergence is finite.
    result = -p.entropy() - _expected_log_cb(p.mean, q)
    return _where_inf((p.low < 0) | (p.high > 1), result)


@register_kl(ContinuousBernoulli, Exponential)
def _kl_continuous_bernoulli_exponential(p: ContinuousBernoulli, q: Exponential) -> Tensor:
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _kl_continuous_bernoulli_normal(p: ContinuousBernoulli, q: Normal) -> Tensor:
    sq_dist = p.variance + (p.mean - q.loc).pow(2)  # E[(x - loc)^2]
    return (-p.entropy() + 0.5 * math.log(2 * math.pi) + q.scale.log()
            + sq_dist / (2 * q.scale.pow(2)))


@register_kl(ContinuousBernoulli, Uniform)
def _kl_continuous_bernoulli_uniform(p: ContinuousBernoulli, q: Uniform) -> Tensor:
    # infinite unless [0, 1] lies in [low, high] (torch: also when low == 0 or high == 1)
    result = -p.entropy() + (q.high - q.low).log()
    return _where_inf((q.low > 0) | (q.high < 1), result)


def _infinite(p) -> Tensor:
    return _cr().full(tuple(p.batch_shape), math.inf, dtype=p.mean.dtype)


# Supports reaching outside [0, 1], and [0, 1] against Pareto's [scale, inf) with scale > 0.
for _p, _q in [(Exponential, ContinuousBernoulli), (Gamma, ContinuousBernoulli),
               (Gumbel, ContinuousBernoulli), (Laplace, ContinuousBernoulli),
               (Normal, ContinuousBernoulli), (Pareto, ContinuousBernoulli),
               (ContinuousBernoulli, Pareto)]:
    register_kl(_p, _q)(lambda p, q: _infinite(p))
