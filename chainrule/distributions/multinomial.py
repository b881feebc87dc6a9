"""``torch.distributions.multinomial``: Multinomial(total_count, probs= | logits=), counts of
``total_count`` draws from a Categorical over the last dim."""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Size, Tensor
from . import Categorical, Distribution, _cr, constraints
from ._extra import _OverCategorical, _check_support, _from_numpy, _rng
from ._transformed import Binomial

__all__ = ["Multinomial"]


class Multinomial(_OverCategorical, Distribution):
    """Multinomial(total_count=1, probs=... or logits=...): float count vectors, event (k,).

    >>> import chainrule as torch
    >>> Multinomial(4, torch.tensor([0.5, 0.5])).log_prob(torch.tensor([2.0, 2.0]))
    tensor(-0.9808)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count: int = 1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits, validate_args=False)
        # torch's inner Categorical checks its probs under the default setting, whatever
        # validate_args says here
        cat_probs = self._categorical._probs
        if Distribution._validate_args and cat_probs is not None \
                and not bool((cat_probs >= 0).all()):
            self._categorical._invalid("probs", cat_probs, "Simplex()")
        self._binomial = Binomial(total_count=total_count, probs=self._categorical.probs,
                                  validate_args=False)
        shape = self._categorical.param_shape
        super().__init__(shape[:-1], shape[-1:], validate_args)

    def _param_names(self):
        return ()

    def expand(self, batch_shape, _instance=None):
        batch_shape = Size(batch_shape)
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._categorical = self._categorical.expand(batch_shape)
        new._binomial = self._binomial.expand(tuple(batch_shape) + tuple(self._event_shape))
        new._batch_shape = batch_shape
        return new

    @property
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        probs = self.probs.detach().numpy()
        p = probs.astype(np.float64)  # NumPy's sampler wants probabilities summing to 1
        p = np.broadcast_to(p / p.sum(-1, keepdims=True), shape)
        counts = _rng().multinomial(self.total_count, p)
        return _from_numpy(counts.astype(probs.dtype), self.probs.dtype)

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        if self._validate_args:
            ok = ((value >= 0) & (value == value.floor())).all() \
                and (value.sum(-1) <= self.total_count).all()
            if not bool(ok):
                _check_support(self, value, repr(self.support))
        logits, value = cr.broadcast_tensors(self.logits, value)
        # 0 * log(0) counts as 0: a category that never occurs may have zero probability
        logits = cr.where((value == 0) & (logits == -math.inf), cr.zeros_like(logits), logits)
        log_factorial_n = cr.lgamma(value.sum(-1) + 1)
        log_factorial_xs = cr.lgamma(value + 1).sum(-1)
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)

    def entropy(self) -> Tensor:
        # H = n H(Categorical) - log n! + sum_i E[log x_i!], with x_i ~ Binomial(n, p_i)
        cr = _cr()
        n = self.total_count
        counts = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = self._binomial.log_prob(counts).exp()
        e_log_factorials = (binomial_probs * cr.lgamma(counts + 1)).sum(0).sum(-1)
        return n * self._categorical.entropy() - math.lgamma(n + 1) + e_log_factorials
