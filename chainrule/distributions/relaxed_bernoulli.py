"""``torch.distributions.relaxed_bernoulli``: RelaxedBernoulli(temperature, probs= | logits=),
the binary concrete distribution on (0, 1), and LogitRelaxedBernoulli, its logit."""
from __future__ import annotations

from ..tensor import Size, Tensor
from . import Distribution, _as_param, _BinaryProbs, _broadcast_all, _cr, constraints
from ._extra import _check_support
from ._transformed import TransformedDistribution
from .transforms import SigmoidTransform

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]


class LogitRelaxedBernoulli(_BinaryProbs, Distribution):
    """LogitRelaxedBernoulli(temperature, probs=... or logits=...) on the real line:
    rsample = (logits + log u - log(1 - u)) / temperature."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        self.temperature = _as_param(temperature)
        self._probs = self._logits = None
        if probs is not None:
            (self._probs,) = param = _broadcast_all(probs)
        else:
            (self._logits,) = param = _broadcast_all(logits)
        super().__init__(param[0].shape, Size(), validate_args)
        if self._validate_args and probs is not None \
                and not bool(((self._probs >= 0) & (self._probs <= 1)).all()):
            self._invalid("probs", self._probs, "Interval(lower_bound=0.0, upper_bound=1.0)")

    def _param_names(self):
        return tuple(n for n in ("probs", "logits") if getattr(self, "_" + n) is not None)

    def _expand_params(self):
        return {"_probs": 0, "_logits": 0}

    @property
    def param_shape(self) -> Size:
        return (self._probs if self._probs is not None else self._logits).shape

    def rsample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        shape = self._extended_shape(sample_shape)
        eps = cr.finfo(self.logits.dtype).eps
        u = cr.rand(shape, dtype=self.logits.dtype).clamp(min=eps, max=1 - eps)
        return (self.logits + u.log() - cr.log1p(-u)) / self.temperature

    def log_prob(self, value) -> Tensor:
        from ..nn.functional import softplus

        logits, value = _broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        return self.temperature.log() + diff - 2 * softplus(diff)


class RelaxedBernoulli(TransformedDistribution):
    """RelaxedBernoulli(temperature, probs=... or logits=...): sigmoid of a
    LogitRelaxedBernoulli draw; reparameterised (``rsample``).

    >>> import chainrule as torch
    >>> d = RelaxedBernoulli(torch.tensor(0.5), probs=torch.tensor(0.3))
    >>> d.log_prob(torch.tensor(0.5))
    tensor(-0.8675)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = LogitRelaxedBernoulli(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, SigmoidTransform(), validate_args)
        if self._validate_args:  # torch's check of arg_constraints computes both parameters
            self.probs, self.logits  # noqa: B018

    @property
    def temperature(self) -> Tensor:
        return self.base_dist.temperature

    @property
    def logits(self) -> Tensor:
        return self.base_dist.logits

    @property
    def probs(self) -> Tensor:
        return self.base_dist.probs

    def log_prob(self, value) -> Tensor:
        value = _as_param(value)
        if self._validate_args and not bool(((value >= 0) & (value <= 1)).all()):
            _check_support(self, value, "Interval(lower_bound=0.0, upper_bound=1.0)")
        return super().log_prob(value)
