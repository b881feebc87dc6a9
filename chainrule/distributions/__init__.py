"""torch.distributions, the part scripts use most: Normal, Categorical, Bernoulli, Uniform,
Exponential, Laplace, MultivariateNormal, Independent and kl_divergence.

log_prob, entropy, cdf and kl_divergence are compositions of chainrule ops, so they are
differentiable in the parameters (policy gradients, VAEs); ``rsample`` reparameterises
(Normal, Uniform). Samples come from chainrule's generator: same shapes and dtypes as
PyTorch's, different numbers.

>>> import chainrule as torch
>>> from chainrule.distributions import Normal
>>> Normal(torch.tensor(0.0), torch.tensor(1.0)).log_prob(torch.tensor(0.0))
tensor(-0.9189)
"""
from __future__ import annotations

import math

from ..tensor import Size, Tensor

__all__ = ["AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial", "Categorical",
           "Cauchy", "Chi2", "ComposeTransform", "ContinuousBernoulli", "Dirichlet",
           "Distribution", "ExpTransform", "Exponential", "FisherSnedecor", "Gamma",
           "GeneralizedPareto", "Geometric", "Gumbel", "HalfCauchy", "HalfNormal", "Independent",
           "InverseGamma", "Kumaraswamy", "LKJCholesky", "Laplace", "LogNormal", "LogisticNormal",
           "LowRankMultivariateNormal", "MixtureSameFamily", "Multinomial", "MultivariateNormal",
           "NegativeBinomial", "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough",
           "Pareto", "Poisson", "PowerTransform", "RelaxedBernoulli", "RelaxedOneHotCategorical",
           "SigmoidTransform", "SoftplusTransform", "StickBreakingTransform", "StudentT",
           "TanhTransform", "Transform", "TransformedDistribution", "Uniform", "VonMises",
           "Weibull", "Wishart", "constraints", "kl_divergence", "register_kl", "transforms"]


def _cr():
    import chainrule

    return chainrule


def _as_param(x) -> Tensor:
    cr = _cr()
    return x if isinstance(x, Tensor) else cr.tensor(float(x))


def _broadcast_all(*values):
    cr = _cr()
    tensors = [_as_param(v) for v in values]
    return cr.broadcast_tensors(*tensors)


def _fmt(t) -> str:
    return str(t.item()) if t.numel() == 1 and t.dim() == 0 else str(t.size())


class Distribution:
    """Base class: shapes, sampling without gradient, and the shape checks of PyTorch."""

    has_rsample = False
    has_enumerate_support = False
    _validate_args = True

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        if value not in (True, False):
            raise ValueError
        Distribution._validate_args = value

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        raise NotImplementedError

    def cdf(self, value) -> Tensor:
        raise NotImplementedError

    def icdf(self, value) -> Tensor:
        raise NotImplementedError

    def log_prob(self, value) -> Tensor:
        raise NotImplementedError

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args

    @property
    def batch_shape(self) -> Size:
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        return self._event_shape

    def _extended_shape(self, sample_shape=Size()) -> Size:
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def sample(self, sample_shape=Size()) -> Tensor:
        with _cr().no_grad():
            return self.rsample(sample_shape)

    def sample_n(self, n: int) -> Tensor:
        return self.sample(Size((n,)))

    def rsample(self, sample_shape=Size()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement rsample")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def expand(self, batch_shape, _instance=None):
        """A view of this distribution with a larger batch shape (parameters expanded)."""
        batch_shape = Size(batch_shape)
        new = _instance if _instance is not None else object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        for name, ndim in self._expand_params().items():
            value = self.__dict__.get(name)
            if value is None:
                continue
            tail = tuple(value.shape[value.dim() - ndim:]) if ndim else ()
            new.__dict__[name] = value.expand(tuple(batch_shape) + tail)
        new._batch_shape = batch_shape
        return new

    def _expand_params(self):
        """Attribute name -> number of trailing (non-batch) dims, for ``expand``."""
        return {n: 0 for n in self._param_names()}

    def perplexity(self) -> Tensor:
        return self.entropy().exp()

    def _param_names(self):
        return ()

    def __repr__(self) -> str:
        args = ", ".join(f"{n}: {_fmt(getattr(self, n))}" for n in self._param_names())
        return f"{type(self).__name__}({args})"

    def _invalid(self, name, value, constraint):
        raise ValueError(f"Expected parameter {name} (Tensor of shape {tuple(value.shape)}) of "
                         f"distribution {self!r} to satisfy the constraint {constraint}, but "
                         f"found invalid values:\n{value}")


class Normal(Distribution):
    """Normal(loc, scale): log_prob, entropy, cdf, icdf; rsample = loc + eps * scale."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _broadcast_all(loc, scale)
        super().__init__(self.loc.shape, Size(), validate_args)
        if self._validate_args and not bool((self.scale > 0).all()):
            self._invalid("scale", self.scale, "GreaterThan(lower_bound=0.0)")

    def _param_names(self):
        return ("loc", "scale")

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2)

    def rsample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        eps = cr.randn(self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        var = self.scale ** 2
        return (-((value - self.loc) ** 2) / (2 * var) - cr.log(self.scale)
                - math.log(math.sqrt(2 * math.pi)))

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + _cr().log(self.scale)

    def cdf(self, value) -> Tensor:
        return 0.5 * (1 + _cr().erf((value - self.loc) * self.scale.reciprocal()
                                    / math.sqrt(2)))

    def icdf(self, value) -> Tensor:
        return self.loc + self.scale * _cr().erfinv(2 * value - 1) * math.sqrt(2)


class Uniform(Distribution):
    """Uniform(low, high) on [low, high)."""

    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = _broadcast_all(low, high)
        super().__init__(self.low.shape, Size(), validate_args)
        if self._validate_args and not bool((self.low < self.high).all()):
            self._invalid("low", self.low, f"LessThan(upper_bound={self.high})")

    def _param_names(self):
        return ("low", "high")

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=Size()) -> Tensor:
        u = _cr().rand(self._extended_shape(sample_shape), dtype=self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        if self._validate_args and not bool(((value >= self.low) & (value < self.high)).all()):
            raise ValueError(f"Expected value argument (Tensor of shape {tuple(value.shape)}) "
                             f"to be within the support (Interval(lower_bound={self.low}, "
                             f"upper_bound={self.high})) of the distribution {self!r}, but "
                             f"found invalid values:\n{value}")
        lb = self.low.le(value).type_as(self.low)
        ub = self.high.gt(value).type_as(self.low)
        return cr.log(lb.mul(ub)) - cr.log(self.high - self.low)

    def entropy(self) -> Tensor:
        return _cr().log(self.high - self.low)

    def cdf(self, value) -> Tensor:
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value) -> Tensor:
        return value * (self.high - self.low) + self.low

    @property
    def mode(self) -> Tensor:
        return math.nan * self.high


class Categorical(Distribution):
    """Categorical(probs=... or logits=...) over the last dim (event: an int64 index)."""

    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        self._probs = self._logits = None
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self._probs = param = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self._logits = param = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._num_events = param.shape[-1]
        super().__init__(param.shape[:-1], Size(), validate_args)

    # The parameter not given is computed on first use and then shown by repr, as in torch.
    @property
    def probs(self) -> Tensor:
        if self._probs is None:
            self._probs = _cr().softmax(self._logits, dim=-1)
        return self._probs

    @property
    def logits(self) -> Tensor:
        if self._logits is None:
            cr = _cr()
            eps = cr.finfo(self._probs.dtype).eps
            self._logits = cr.log(self._probs.clamp(min=eps, max=1 - eps))
        return self._logits

    def _param_names(self):
        return tuple(n for n in ("probs", "logits") if getattr(self, "_" + n) is not None)

    def _expand_params(self):
        return {"_probs": 1, "_logits": 1}

    @property
    def param_shape(self) -> Size:
        return (self._probs if self._probs is not None else self._logits).shape

    @property
    def mean(self) -> Tensor:
        cr = _cr()
        return cr.full(self._extended_shape(), math.nan, dtype=self.probs.dtype)

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(dim=-1)

    @property
    def variance(self) -> Tensor:
        return self.mean

    def sample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        shape = Size(sample_shape)
        n = int(math.prod(shape)) if len(shape) else 1
        probs_2d = self.probs.detach().reshape(-1, self._num_events)
        draws = cr.multinomial(probs_2d, n, True).T  # (n, batch)
        return draws.reshape(self._extended_shape(shape))

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        value = value if isinstance(value, Tensor) else cr.tensor(value)
        if self._validate_args and not bool(((value >= 0) & (value < self._num_events)).all()):
            raise ValueError(f"Expected value argument (Tensor of shape {tuple(value.shape)}) "
                             f"to be within the support (IntegerInterval(lower_bound=0, "
                             f"upper_bound={self._num_events - 1})) of the distribution "
                             f"{self!r}, but found invalid values:\n{value}")
        value = value.long().unsqueeze(-1)
        value, log_pmf = cr.broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self) -> Tensor:
        cr = _cr()
        min_real = cr.finfo(self.logits.dtype).min
        logits = self.logits.clamp(min=min_real)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        cr = _cr()
        values = cr.arange(self._num_events, dtype=cr.long)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values


class _BinaryProbs:
    """``probs`` and ``logits`` of a success probability given as either one: the other is
    derived on first use (Bernoulli, Geometric, Binomial)."""

    @property
    def probs(self) -> Tensor:
        if self._probs is None:
            self._probs = _cr().sigmoid(self._logits)
        return self._probs

    @property
    def logits(self) -> Tensor:
        if self._logits is None:
            cr = _cr()
            eps = cr.finfo(self._probs.dtype).eps
            p = self._probs.clamp(min=eps, max=1 - eps)
            self._logits = cr.log(p) - cr.log1p(-p)
        return self._logits


class Bernoulli(_BinaryProbs, Distribution):
    """Bernoulli(probs=... or logits=...): samples 0./1. in the parameter's dtype."""

    has_enumerate_support = True

    def enumerate_support(self, expand: bool = True) -> Tensor:
        cr = _cr()
        param = self._probs if self._probs is not None else self._logits
        values = cr.arange(2, dtype=param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        self._probs = self._logits = None
        if probs is not None:
            (self._probs,) = param = _broadcast_all(probs)
        else:
            (self._logits,) = param = _broadcast_all(logits)
        super().__init__(param[0].shape, Size(), validate_args)

    def _param_names(self):
        return tuple(n for n in ("probs", "logits") if getattr(self, "_" + n) is not None)

    def _expand_params(self):
        return {"_probs": 0, "_logits": 0}

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        cr = _cr()
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return cr.where(self.probs == 0.5, cr.full_like(mode, math.nan), mode)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        with cr.no_grad():
            return cr.bernoulli(self.probs.expand(self._extended_shape(sample_shape)))

    def log_prob(self, value) -> Tensor:
        from ..nn.functional import binary_cross_entropy_with_logits

        if self._validate_args and not bool(((value == 0) | (value == 1)).all()):
            raise ValueError(f"Expected value argument (Tensor of shape "
                             f"{tuple(_as_param(value).shape)}) to be within the support "
                             f"(Boolean()) of the distribution {self!r}, but found invalid "
                             f"values:\n{value}")
        logits, value = _broadcast_all(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value.type_as(logits),
                                                 reduction="none")

    def entropy(self) -> Tensor:
        from ..nn.functional import binary_cross_entropy_with_logits

        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


class Exponential(Distribution):
    """Exponential(rate) on [0, inf)."""

    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = _broadcast_all(rate)
        super().__init__(self.rate.shape, Size(), validate_args)
        if self._validate_args and not bool((self.rate > 0).all()):
            self._invalid("rate", self.rate, "GreaterThan(lower_bound=0.0)")

    def _param_names(self):
        return ("rate",)

    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        return _cr().zeros_like(self.rate)

    @property
    def variance(self) -> Tensor:
        return self.rate.pow(-2)

    def rsample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        u = cr.rand(self._extended_shape(sample_shape), dtype=self.rate.dtype)
        return -cr.log1p(-u) / self.rate

    def log_prob(self, value) -> Tensor:
        return _cr().log(self.rate) - self.rate * value

    def entropy(self) -> Tensor:
        return 1.0 - _cr().log(self.rate)

    def cdf(self, value) -> Tensor:
        return 1 - _cr().exp(-self.rate * value)

    def icdf(self, value) -> Tensor:
        return -_cr().log1p(-value) / self.rate


class Laplace(Distribution):
    """Laplace(loc, scale)."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _broadcast_all(loc, scale)
        super().__init__(self.loc.shape, Size(), validate_args)
        if self._validate_args and not bool((self.scale > 0).all()):
            self._invalid("scale", self.scale, "GreaterThan(lower_bound=0.0)")

    def _param_names(self):
        return ("loc", "scale")

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale.pow(2)

    def rsample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        eps = cr.finfo(self.loc.dtype).eps
        u = cr.rand(self._extended_shape(sample_shape), dtype=self.loc.dtype) * 2 - 1
        u = u.clamp(min=eps - 1, max=1 - eps)
        return self.loc - self.scale * u.sign() * cr.log1p(-u.abs())

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        return -cr.log(2 * self.scale) - cr.abs(value - self.loc) / self.scale

    def entropy(self) -> Tensor:
        return 1 + _cr().log(2 * self.scale)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return math.sqrt(2) * self.scale

    def cdf(self, value) -> Tensor:
        d = value - self.loc
        return 0.5 - 0.5 * d.sign() * _cr().expm1(-d.abs() / self.scale)

    def icdf(self, value) -> Tensor:
        term = value - 0.5
        return self.loc - self.scale * term.sign() * _cr().log1p(-2 * term.abs())


class MultivariateNormal(Distribution):
    """MultivariateNormal(loc, covariance_matrix= | precision_matrix= | scale_tril=)."""

    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        cr = _cr()
        given = [(n, v) for n, v in (("covariance_matrix", covariance_matrix),
                                     ("precision_matrix", precision_matrix),
                                     ("scale_tril", scale_tril)) if v is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        name, matrix = given[0]
        if matrix.dim() < 2:
            raise ValueError(f"{name} matrix must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        self._given = name
        if name == "scale_tril":
            tril = matrix
        elif name == "covariance_matrix":
            tril = cr.linalg.cholesky(matrix)
        else:
            tril = cr.linalg.cholesky(cr.linalg.inv(matrix))
        batch = cr.broadcast_shapes(tuple(loc.shape[:-1]), tuple(matrix.shape[:-2]))
        k = loc.shape[-1]
        self.loc = loc.expand(tuple(batch) + (k,))
        self._unbroadcasted_scale_tril = tril
        super().__init__(batch, (k,), validate_args)

    def _param_names(self):
        return ("loc", self._given)

    def _expand_params(self):
        return {"loc": 1}

    @property
    def scale_tril(self) -> Tensor:
        t = self._unbroadcasted_scale_tril
        return t.expand(tuple(self._batch_shape) + tuple(t.shape[-2:]))

    @property
    def covariance_matrix(self) -> Tensor:
        t = self._unbroadcasted_scale_tril
        return (t @ t.mT).expand(tuple(self._batch_shape) + tuple(t.shape[-2:]))

    @property
    def precision_matrix(self) -> Tensor:
        return _cr().linalg.inv(self.covariance_matrix)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        t = self._unbroadcasted_scale_tril
        return t.pow(2).sum(-1).expand(self._batch_shape + self._event_shape)

    def rsample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        eps = cr.randn(self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self) -> Tensor:
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def _mahalanobis(self, diff: Tensor) -> Tensor:
        cr = _cr()
        t = self._unbroadcasted_scale_tril
        shape = cr.broadcast_shapes(tuple(t.shape[:-2]), tuple(diff.shape[:-1]))
        k = diff.shape[-1]
        t = t.expand(tuple(shape) + (k, k))
        diff = diff.expand(tuple(shape) + (k,))
        sol = cr.linalg.solve_triangular(t, diff.unsqueeze(-1), upper=False).squeeze(-1)
        return sol.pow(2).sum(-1)

    def log_prob(self, value) -> Tensor:
        k = self._event_shape[0]
        m = self._mahalanobis(value - self.loc)
        return -0.5 * (k * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self) -> Tensor:
        k = self._event_shape[0]
        h = 0.5 * k * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h.expand(self._batch_shape) if len(self._batch_shape) else h


class Independent(Distribution):
    """Treat the last ``reinterpreted_batch_ndims`` batch dims of ``base`` as event dims."""

    def __init__(self, base_distribution, reinterpreted_batch_ndims: int, validate_args=None):
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = int(reinterpreted_batch_ndims)
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        k = len(base_distribution.event_shape) + self.reinterpreted_batch_ndims
        if self.reinterpreted_batch_ndims > len(base_distribution.batch_shape):
            raise ValueError("Expected reinterpreted_batch_ndims <= len(base_distribution."
                             f"batch_shape), actual {self.reinterpreted_batch_ndims} vs "
                             f"{len(base_distribution.batch_shape)}")
        super().__init__(shape[:len(shape) - k], shape[len(shape) - k:], validate_args)

    @property
    def has_rsample(self) -> bool:
        return self.base_dist.has_rsample

    @property
    def has_enumerate_support(self) -> bool:
        return (self.reinterpreted_batch_ndims == 0
                and self.base_dist.has_enumerate_support)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        if self.reinterpreted_batch_ndims:
            raise NotImplementedError("Enumeration over cartesian product is not implemented")
        return self.base_dist.enumerate_support(expand=expand)

    @property
    def mean(self) -> Tensor:
        return self.base_dist.mean

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    def sample(self, sample_shape=Size()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=Size()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def _sum_rightmost(self, t: Tensor) -> Tensor:
        n = self.reinterpreted_batch_ndims
        return t.reshape(tuple(t.shape[:t.dim() - n]) + (-1,)).sum(-1) if n else t

    def log_prob(self, value) -> Tensor:
        return self._sum_rightmost(self.base_dist.log_prob(value))

    def entropy(self) -> Tensor:
        return self._sum_rightmost(self.base_dist.entropy())

    def __repr__(self) -> str:
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"

    def expand(self, batch_shape, _instance=None):
        batch_shape = Size(batch_shape)
        new = _instance if _instance is not None else object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        n = self.reinterpreted_batch_ndims
        base_batch = tuple(self.base_dist.batch_shape)
        new.base_dist = self.base_dist.expand(tuple(batch_shape)
                                              + base_batch[len(base_batch) - n:])
        new._batch_shape = batch_shape
        return new


_KL_REGISTRY = {}


def register_kl(type_p, type_q):
    """Decorator registering ``fn(p, q)`` as KL(p || q) for instances of these types."""
    if not (isinstance(type_p, type) and issubclass(type_p, Distribution)):
        raise TypeError(f"Expected type_p to be a Distribution subclass but got {type_p}")
    if not (isinstance(type_q, type) and issubclass(type_q, Distribution)):
        raise TypeError(f"Expected type_q to be a Distribution subclass but got {type_q}")

    def decorator(fn):
        _KL_REGISTRY[type_p, type_q] = fn
        return fn

    return decorator


def _kl_lookup(type_p, type_q):
    best, best_rank = None, None
    for (tp, tq), fn in _KL_REGISTRY.items():
        if issubclass(type_p, tp) and issubclass(type_q, tq):
            rank = (type_p.__mro__.index(tp), type_q.__mro__.index(tq))
            if best_rank is None or rank < best_rank:
                best, best_rank = fn, rank
    return best


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q): functions registered with ``register_kl``, then pairs of the same family
    (Normal, Categorical, Bernoulli, Uniform, Exponential, Laplace, MultivariateNormal,
    Independent, Beta, Gamma, Dirichlet, Poisson, Geometric, OneHotCategorical)."""
    cr = _cr()
    fn = _kl_lookup(type(p), type(q))
    if fn is not None:
        return fn(p, q)
    if isinstance(p, Normal) and isinstance(q, Normal):
        var_ratio = (p.scale / q.scale).pow(2)
        t1 = ((p.loc - q.loc) / q.scale).pow(2)
        return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())
    if isinstance(p, Categorical) and isinstance(q, Categorical):
        t = p.probs * (p.logits - q.logits)
        t = cr.where((q.probs == 0).expand_as(t), cr.full_like(t, math.inf), t)
        t = cr.where((p.probs == 0).expand_as(t), cr.zeros_like(t), t)
        return t.sum(-1)
    if isinstance(p, Bernoulli) and isinstance(q, Bernoulli):
        from ..nn.functional import softplus

        t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
        t1 = cr.where(q.probs == 0, cr.full_like(t1, math.inf), t1)
        t1 = cr.where(p.probs == 0, cr.zeros_like(t1), t1)
        t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
        t2 = cr.where(q.probs == 1, cr.full_like(t2, math.inf), t2)
        t2 = cr.where(p.probs == 1, cr.zeros_like(t2), t2)
        return t1 + t2
    if isinstance(p, Uniform) and isinstance(q, Uniform):
        result = ((q.high - q.low) / (p.high - p.low)).log()
        outside = (q.low > p.low) | (q.high < p.high)
        return cr.where(outside, cr.full_like(result, math.inf), result)
    if isinstance(p, MultivariateNormal) and isinstance(q, MultivariateNormal):
        k = p.event_shape[0]
        lq, lp = q._unbroadcasted_scale_tril, p._unbroadcasted_scale_tril
        shape = cr.broadcast_shapes(tuple(lq.shape[:-2]), tuple(lp.shape[:-2]))
        lq_b, lp_b = lq.expand(tuple(shape) + (k, k)), lp.expand(tuple(shape) + (k, k))
        term1 = cr.linalg.solve_triangular(lq_b, lp_b, upper=False).pow(2).sum((-2, -1))
        term2 = q._mahalanobis(q.loc - p.loc)
        return q._half_log_det() - p._half_log_det() + 0.5 * (term1 + term2 - k)
    if isinstance(p, Exponential) and isinstance(q, Exponential):
        rate_ratio = q.rate / p.rate
        return rate_ratio - 1 - rate_ratio.log()
    if isinstance(p, Laplace) and isinstance(q, Laplace):
        scale_ratio = p.scale / q.scale
        loc_abs_diff = (p.loc - q.loc).abs()
        t1 = -scale_ratio.log()
        t2 = loc_abs_diff / q.scale
        t3 = scale_ratio * (-loc_abs_diff / p.scale).exp()
        return t1 + t2 + t3 - 1
    if isinstance(p, Independent) and isinstance(q, Independent):
        if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
            raise NotImplementedError
        return p._sum_rightmost(kl_divergence(p.base_dist, q.base_dist))
    from ._extra import _kl_extra

    result = _kl_extra(p, q)
    if result is not None:
        return result
    raise NotImplementedError(f"No KL(p || q) is implemented for p type {type(p).__name__} "
                              f"and q type {type(q).__name__}")




from . import (
    constraints,
    transforms,
)
from ._extra import (
    Beta,
    Cauchy,
    Dirichlet,
    Gamma,
    Geometric,
    Gumbel,
    HalfNormal,
    LogNormal,
    OneHotCategorical,
    Poisson,
    StudentT,
)
from ._transformed import (
    Binomial,
    MixtureSameFamily,
    RelaxedOneHotCategorical,
    TransformedDistribution,
)


def _attach_constraints():
    c = constraints
    pos, real = c.positive, c.real
    logit_pair = {"probs": c.simplex, "logits": c.real_vector}
    binary_pair = {"probs": c.unit_interval, "logits": real}
    table = {
        Normal: ({"loc": real, "scale": pos}, real),
        Uniform: ({"low": c.dependent, "high": c.dependent}, None),
        Categorical: (logit_pair, None),
        OneHotCategorical: (logit_pair, c.one_hot),
        Bernoulli: (binary_pair, c.boolean),
        Exponential: ({"rate": pos}, c.nonnegative),
        Laplace: ({"loc": real, "scale": pos}, real),
        MultivariateNormal: ({"loc": c.real_vector, "covariance_matrix": c.positive_definite,
                              "precision_matrix": c.positive_definite,
                              "scale_tril": c.lower_cholesky}, c.real_vector),
        Independent: ({}, None),
        Gamma: ({"concentration": pos, "rate": pos}, c.nonnegative),
        Beta: ({"concentration1": pos, "concentration0": pos}, c.unit_interval),
        Dirichlet: ({"concentration": c.independent(pos, 1)}, c.simplex),
        Poisson: ({"rate": c.nonnegative}, c.nonnegative_integer),
        Geometric: (binary_pair, c.nonnegative_integer),
        Cauchy: ({"loc": real, "scale": pos}, real),
        Gumbel: ({"loc": real, "scale": pos}, real),
        HalfNormal: ({"scale": pos}, c.nonnegative),
        LogNormal: ({"loc": real, "scale": pos}, pos),
        StudentT: ({"df": pos, "loc": real, "scale": pos}, real),
        Binomial: (dict(binary_pair, total_count=c.nonnegative_integer), None),
        RelaxedOneHotCategorical: (logit_pair, c.simplex),
        MixtureSameFamily: ({}, None),
        TransformedDistribution: ({}, None),
    }
    for cls, (args, support) in table.items():
        cls.arg_constraints = args
        if support is not None:
            cls.support = support
    Distribution.arg_constraints = {}
    Uniform.support = property(lambda self: c.interval(self.low, self.high))
    Categorical.support = property(
        lambda self: c.integer_interval(0, self._num_events - 1))
    Binomial.support = property(lambda self: c.integer_interval(0, self.total_count))
    Independent.support = property(lambda self: c.independent(
        self.base_dist.support, self.reinterpreted_batch_ndims))
    MixtureSameFamily.support = property(lambda self: self._component_distribution.support)
    TransformedDistribution.support = property(_transformed_support)


def _transformed_support(self):
    from .transforms import (
        AffineTransform,
        ComposeTransform,
        ExpTransform,
        SigmoidTransform,
        TanhTransform,
    )

    parts = []
    for t in self.transforms:
        parts.extend(t.parts if isinstance(t, ComposeTransform) else [t])
    if not parts:
        return self.base_dist.support
    last = parts[-1]
    if isinstance(last, ExpTransform):
        return constraints.positive
    if isinstance(last, SigmoidTransform):
        return constraints.unit_interval
    if isinstance(last, TanhTransform):
        return constraints.interval(-1.0, 1.0)
    if isinstance(last, AffineTransform) and len(parts) == 1:
        return self.base_dist.support
    return constraints.dependent


_attach_constraints()

# Families with their own files (each sets arg_constraints and support in its class body), and
# the transforms torch.distributions also exports at top level.
from .chi2 import Chi2
from .continuous_bernoulli import ContinuousBernoulli
from .fishersnedecor import FisherSnedecor
from .generalized_pareto import GeneralizedPareto
from .half_cauchy import HalfCauchy
from .inverse_gamma import InverseGamma
from .kumaraswamy import Kumaraswamy
from .lkj_cholesky import LKJCholesky
from .logistic_normal import LogisticNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .multinomial import Multinomial
from .negative_binomial import NegativeBinomial
from .one_hot_categorical import OneHotCategoricalStraightThrough
from .pareto import Pareto
from .relaxed_bernoulli import RelaxedBernoulli
from .transforms import (
    AbsTransform,
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    PowerTransform,
    SigmoidTransform,
    SoftplusTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
)
from .von_mises import VonMises
from .weibull import Weibull
from .wishart import Wishart
