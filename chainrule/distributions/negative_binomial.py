"""``torch.distributions.negative_binomial``: NegativeBinomial(total_count, probs= | logits=),
the number of successes before ``total_count`` failures."""
from __future__ import annotations

import numpy as np

from ..tensor import Size, Tensor
from . import Distribution, _broadcast_all, _cr, constraints
from ._extra import _check_support, _from_numpy, _rng
from ._transformed import _CountedProbs

__all__ = ["NegativeBinomial"]


class NegativeBinomial(_CountedProbs, Distribution):
    """NegativeBinomial(total_count, probs=... or logits=...): float counts; ``probs`` is the
    probability of success of each Bernoulli trial.

    >>> import chainrule as torch
    >>> NegativeBinomial(torch.tensor(3.0), torch.tensor(0.25)).mean
    tensor(1.)
    """

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        self._probs = self._logits = None
        if probs is not None:
            self.total_count, self._probs = _broadcast_all(total_count, probs)
            param = self._probs
        else:
            self.total_count, self._logits = _broadcast_all(total_count, logits)
            param = self._logits
        self.total_count = self.total_count.type_as(param)
        super().__init__(param.shape, Size(), validate_args)
        if self._validate_args:
            if not bool((self.total_count >= 0).all()):
                self._invalid("total_count", self.total_count, "GreaterThanEq(lower_bound=0)")
            if probs is not None and not bool(((param >= 0) & (param < 1)).all()):
                self._invalid("probs", param,
                              "HalfOpenInterval(lower_bound=0.0, upper_bound=1.0)")

    @property
    def param_shape(self) -> Size:
        return (self._probs if self._probs is not None else self._logits).shape

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.logits.exp()

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / _cr().sigmoid(-self.logits)

    def sample(self, sample_shape=Size()) -> Tensor:
        # a Poisson whose rate is Gamma(total_count, rate=exp(-logits)) distributed
        shape = tuple(self._extended_shape(sample_shape))
        dtype = self.logits.detach().numpy().dtype
        r = np.broadcast_to(self.total_count.detach().numpy(), shape)
        odds = np.broadcast_to(np.exp(self.logits.detach().numpy()), shape)
        rng = _rng()
        rate = np.where(r > 0, rng.standard_gamma(np.where(r > 0, r, 1.0)), 0.0) * odds
        return _from_numpy(rng.poisson(rate).astype(dtype), self.logits.dtype)

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        from ..nn.functional import logsigmoid

        value = value if isinstance(value, Tensor) else cr.tensor(float(value))
        if self._validate_args and not bool(((value >= 0) & (value == value.floor())).all()):
            _check_support(self, value, "IntegerGreaterThan(lower_bound=0)")
        n, logits = self.total_count, self.logits
        log_unnormalized = n * logsigmoid(-logits) + value * logsigmoid(logits)
        log_normalization = -cr.lgamma(n + value) + cr.lgamma(1.0 + value) + cr.lgamma(n)
        # n + value == 0 is the one point mass of NegativeBinomial(0, p): log 1 = 0
        log_normalization = cr.where(n + value == 0, cr.zeros_like(log_normalization),
                                     log_normalization)
        return log_unnormalized - log_normalization
