"""TransformedDistribution, RelaxedOneHotCategorical (Gumbel-softmax), MixtureSameFamily and
Binomial."""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Size, Tensor
from . import Categorical, Distribution, _as_param, _BinaryProbs, _broadcast_all, _cr
from ._extra import _check_support, _from_numpy, _rng
from .transforms import ExpTransform, Transform, _sum_rightmost


class TransformedDistribution(Distribution):
    """``base_distribution`` pushed through ``transforms`` (a Transform or a list)."""

    def __init__(self, base_distribution, transforms, validate_args=None):
        if isinstance(transforms, Transform):
            self.transforms = [transforms]
        elif isinstance(transforms, list):
            if not all(isinstance(t, Transform) for t in transforms):
                raise ValueError("transforms must be a Transform or a list of Transforms")
            self.transforms = transforms
        else:
            raise ValueError(f"transforms must be a Transform or list, but was {transforms}")
        self.base_dist = base_distribution
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        event_dim = max([len(base_distribution.event_shape)]
                        + [t.event_dim for t in self.transforms])
        cut = len(shape) - event_dim
        super().__init__(shape[:cut], shape[cut:], validate_args)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    @property
    def has_rsample(self) -> bool:
        return self.base_dist.has_rsample

    def expand(self, batch_shape, _instance=None):
        batch_shape = Size(batch_shape)
        new = _instance if _instance is not None else object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        shape = tuple(batch_shape) + tuple(self._event_shape)
        base_event = len(self.base_dist.event_shape)
        new.base_dist = self.base_dist.expand(shape[:len(shape) - base_event])
        new._batch_shape = batch_shape
        return new

    def sample(self, sample_shape=Size()) -> Tensor:
        with _cr().no_grad():
            x = self.base_dist.sample(sample_shape)
            for t in self.transforms:
                x = t(x)
            return x

    def rsample(self, sample_shape=Size()) -> Tensor:
        x = self.base_dist.rsample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x

    def log_prob(self, value) -> Tensor:
        event_dim = len(self._event_shape)
        lp = 0.0
        y = _as_param(value)
        for t in reversed(self.transforms):
            x = t.inv(y)
            lp = lp - _sum_rightmost(t.log_abs_det_jacobian(x, y), event_dim - t.event_dim)
            y = x
        base_lp = self.base_dist.log_prob(y)
        return lp + _sum_rightmost(base_lp, event_dim - len(self.base_dist.event_shape))

    def _monotonize_cdf(self, value):
        sign = 1
        for t in self.transforms:
            sign = sign * t.sign
        if isinstance(sign, int) and sign == 1:
            return value
        return sign * (value - 0.5) + 0.5

    def cdf(self, value) -> Tensor:
        for t in reversed(self.transforms):
            value = t.inv(value)
        return self._monotonize_cdf(self.base_dist.cdf(value))

    def icdf(self, value) -> Tensor:
        value = self.base_dist.icdf(self._monotonize_cdf(value))
        for t in self.transforms:
            value = t(value)
        return value


def _rebuilt(old: Distribution, new: Distribution) -> Distribution:
    """``new``, a copy of ``old`` built again with validate_args=False (an ``expand`` of a
    family that stores its own parameters), set to validate as ``old`` does."""
    new.__dict__.pop("_validate_args", None)
    if "_validate_args" in old.__dict__:
        new._validate_args = old._validate_args
    return new


class _ExpRelaxedCategorical(Distribution):
    """log of a RelaxedOneHotCategorical draw (torch's ExpRelaxedCategorical)."""

    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args=False)
        self.temperature = _as_param(temperature)
        n = self._categorical._num_events
        super().__init__(self._categorical.batch_shape, Size((n,)), validate_args)

    def expand(self, batch_shape, _instance=None):
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._categorical = self._categorical.expand(batch_shape)
        new._batch_shape = Size(batch_shape)
        return new

    def rsample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        logits = self._categorical.logits
        eps = cr.finfo(logits.dtype).eps
        u = cr.rand(self._extended_shape(sample_shape), dtype=logits.dtype)
        u = u.clamp(min=eps, max=1 - eps)
        gumbels = -((-(u.log())).log())
        scores = (logits + gumbels) / self.temperature
        return scores - scores.logsumexp(dim=-1, keepdim=True)

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        k = self._categorical._num_events
        temp = self.temperature
        log_scale = cr.full_like(temp, float(k)).lgamma() - temp.log().mul(-(k - 1))
        logits, value = cr.broadcast_tensors(self._categorical.logits, value)
        score = logits - value.mul(temp)
        score = (score - score.logsumexp(dim=-1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(TransformedDistribution):
    """RelaxedOneHotCategorical(temperature, probs=... or logits=...): Gumbel-softmax
    samples on the simplex, reparameterised (``rsample``)."""

    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = _ExpRelaxedCategorical(temperature, probs, logits, validate_args=False)
        super().__init__(base, ExpTransform(), validate_args)

    @property
    def temperature(self) -> Tensor:
        return self.base_dist.temperature

    @property
    def logits(self) -> Tensor:
        return self.base_dist._categorical.logits

    @property
    def probs(self) -> Tensor:
        return self.base_dist._categorical.probs


class MixtureSameFamily(Distribution):
    """Mixture of the last batch dim of ``component_distribution`` with weights given by the
    Categorical ``mixture_distribution``."""

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(" The Mixture distribution needs to be an  instance of "
                             "torch.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("The Component distribution need to be an instance of "
                             "torch.distributions.Distribution")
        mdbs = tuple(mixture_distribution.batch_shape)
        cdbs = tuple(component_distribution.batch_shape)[:-1]
        for size1, size2 in zip(reversed(mdbs), reversed(cdbs)):
            if size1 != 1 and size2 != 1 and size1 != size2:
                raise ValueError(f"`mixture_distribution.batch_shape` ({mdbs}) is not "
                                 "compatible with `component_distribution.batch_shape`"
                                 f"({cdbs})")
        km = mixture_distribution.logits.shape[-1]
        kc = component_distribution.batch_shape[-1]
        if km != kc:
            raise ValueError(f"`mixture_distribution component` ({km}) does not equal "
                             f"`component_distribution.batch_shape[-1]` ({kc})")
        self._num_component = km
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(Size(cdbs), component_distribution.event_shape, validate_args)

    @property
    def mixture_distribution(self):
        return self._mixture_distribution

    @property
    def component_distribution(self):
        return self._component_distribution

    def __repr__(self) -> str:
        return (f"MixtureSameFamily(\n  {self._mixture_distribution!r},\n"
                f"  {self._component_distribution!r})")

    def expand(self, batch_shape, _instance=None):
        batch_shape = tuple(batch_shape)
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._component_distribution = self._component_distribution.expand(
            batch_shape + (self._num_component,))
        new._mixture_distribution = self._mixture_distribution.expand(batch_shape)
        new._batch_shape = Size(batch_shape)
        return new

    def _pad_mixture(self, t):
        # mixture weights (..., k) -> (..., k, 1 * event_ndims)
        return t.reshape(tuple(t.shape) + (1,) * self._event_ndims)

    @property
    def mean(self) -> Tensor:
        probs = self._pad_mixture(self._mixture_distribution.probs)
        return (probs * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self) -> Tensor:
        d = -1 - self._event_ndims
        probs = self._pad_mixture(self._mixture_distribution.probs)
        comp = self._component_distribution
        mean_cond_var = (probs * comp.variance).sum(d)
        var_cond_mean = (probs * (comp.mean - self.mean.unsqueeze(d)).pow(2)).sum(d)
        return mean_cond_var + var_cond_mean

    def _pad(self, x):
        return x.unsqueeze(-1 - self._event_ndims)

    def log_prob(self, x) -> Tensor:
        cr = _cr()
        lp_x = self._component_distribution.log_prob(self._pad(_as_param(x)))
        mix_logp = cr.log_softmax(self._mixture_distribution.logits, dim=-1)
        return (lp_x + mix_logp).logsumexp(dim=-1)

    def cdf(self, x) -> Tensor:
        cdf_x = self._component_distribution.cdf(self._pad(_as_param(x)))
        return (cdf_x * self._mixture_distribution.probs).sum(dim=-1)

    def sample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        with cr.no_grad():
            sample_shape = tuple(sample_shape)
            mix_sample = self._mixture_distribution.sample(sample_shape)
            comp_samples = self._component_distribution.sample(sample_shape)
            es = tuple(self._event_shape)
            idx = mix_sample.reshape(tuple(mix_sample.shape) + (1,) + (1,) * len(es))
            idx = idx.expand(tuple(mix_sample.shape) + (1,) + es)
            gather_dim = len(sample_shape) + len(self._batch_shape)
            return cr.gather(comp_samples, gather_dim, idx).squeeze(gather_dim)


class _CountedProbs(_BinaryProbs):
    """A ``total_count`` with a success probability (Binomial, NegativeBinomial): the
    parameters shown in the repr and carried by ``expand``."""

    def _param_names(self):
        return ("total_count",) + tuple(n for n in ("probs", "logits")
                                        if getattr(self, "_" + n) is not None)

    def _expand_params(self):
        return {"total_count": 0, "_probs": 0, "_logits": 0}


class Binomial(_CountedProbs, Distribution):
    """Binomial(total_count=1, probs=... or logits=...): float counts."""

    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        self._probs = self._logits = None
        if probs is not None:
            self.total_count, self._probs = _broadcast_all(total_count, probs)
            self.total_count = self.total_count.type_as(self._probs)
            param = self._probs
        else:
            self.total_count, self._logits = _broadcast_all(total_count, logits)
            self.total_count = self.total_count.type_as(self._logits)
            param = self._logits
        super().__init__(param.shape, Size(), validate_args)
        if self._validate_args:
            tc = self.total_count
            if not bool(((tc >= 0) & (tc == tc.floor())).all()):
                self._invalid("total_count", tc, "IntegerGreaterThan(lower_bound=0)")
            if probs is not None and not bool(((param >= 0) & (param <= 1)).all()):
                self._invalid("probs", param, "Interval(lower_bound=0.0, upper_bound=1.0)")

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        n = np.broadcast_to(self.total_count.detach().numpy(), shape).astype(np.int64)
        p = np.broadcast_to(self.probs.detach().numpy(), shape)
        return _from_numpy(_rng().binomial(n, p).astype(p.dtype), self.probs.dtype)

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        value = _as_param(value)
        if self._validate_args:
            ok = (value >= 0) & (value <= self.total_count) & (value == value.floor())
            if not bool(ok.all()):
                _check_support(self, value, "IntegerInterval(lower_bound=0, upper_bound="
                               f"{self.total_count})")
        n, logits = self.total_count, self.logits
        log_factorial_n = cr.lgamma(n + 1)
        log_factorial_k = cr.lgamma(value + 1)
        log_factorial_nmk = cr.lgamma(n - value + 1)
        clamp_by_zero = (logits.clamp(min=0) + logits - logits.clamp(max=0)) / 2
        normalize = (n * clamp_by_zero + n * cr.log1p(cr.exp(-logits.abs()))
                     - log_factorial_n)
        return value * logits - log_factorial_k - log_factorial_nmk - normalize

    def enumerate_support(self, expand: bool = True) -> Tensor:
        cr = _cr()
        total = int(self.total_count.max().item())
        if not int(self.total_count.min().item()) == total:
            raise NotImplementedError("Inhomogeneous total count not supported by "
                                      "`enumerate_support`.")
        values = cr.arange(1 + total, dtype=self.probs.dtype if self._probs is not None
                           else self._logits.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values

    def entropy(self) -> Tensor:
        total = int(self.total_count.max().item())
        if not int(self.total_count.min().item()) == total:
            raise NotImplementedError("Inhomogeneous total count not supported by `entropy`.")
        lp = self.log_prob(self.enumerate_support(False))
        return -(lp.exp() * lp).sum(0)


def _kl_transformed(p, q):
    cr = _cr()
    if isinstance(p, Binomial) and isinstance(q, Binomial):
        if bool((p.total_count < q.total_count).any()):
            raise NotImplementedError("KL between Binomials where q.total_count > "
                                      "p.total_count is not implemented")
        kl = p.total_count * (p.probs * (p.logits - q.logits) + cr.log1p(-p.probs)
                              - cr.log1p(-q.probs))
        inf_idxs = p.total_count > q.total_count
        return cr.where(inf_idxs, cr.full_like(kl, math.inf), kl)
    return None
