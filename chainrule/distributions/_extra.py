"""More torch.distributions families: OneHotCategorical, Gamma, Beta, Dirichlet, Poisson,
Geometric, Cauchy, Gumbel, HalfNormal, LogNormal, StudentT.

log_prob, entropy, mean, variance (and cdf/icdf where present) are compositions of
chainrule ops, so they are differentiable in the parameters. Gamma/Beta/Dirichlet/StudentT draws
come from NumPy's gamma sampler seeded from chainrule's generator; ``rsample`` is
reparameterised in every parameter (implicit gradients for concentrations, as in PyTorch).
"""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Size, Tensor
from . import Categorical, Distribution, Normal, _as_param, _BinaryProbs, _broadcast_all, _cr

_EULER = 0.57721566490153286060


def _rng():
    cr = _cr()
    seed = int(cr.randint(0, 2 ** 62, (1,)).item())
    return np.random.default_rng(seed)


def _from_numpy(arr, dtype):
    return _cr().tensor(np.asarray(arr), dtype=dtype)


def _np_special(fn, arr):
    return getattr(_cr(), fn)(_cr().tensor(arr, dtype=_cr().float64)).numpy()


def _standard_gamma_grad(alpha, x):
    """d x / d alpha for x ~ Gamma(alpha, 1) held at fixed CDF value (implicit
    reparameterisation): -(dP(alpha, x)/d alpha) / density, with P the regularised lower
    incomplete gamma summed by its series; a normal approximation for very large x."""
    alpha = np.asarray(alpha, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(x.shape)
    big = x > 2000.0
    out[big] = (x[big] + alpha[big]) / (2 * alpha[big])
    small = ~big
    if small.any():
        a, xs = alpha[small], x[small]
        n_terms = int(xs.max() + 12 * math.sqrt(xs.max()) + 40)
        n = np.arange(n_terms, dtype=np.float64)
        an = a[:, None] + n[None, :] + 1.0
        logx = np.log(xs)
        log_terms = (a[:, None] + n[None, :]) * logx[:, None] - xs[:, None] \
            - _np_special("lgamma", an)
        terms = np.exp(log_terms) * (logx[:, None] - _np_special("digamma", an))
        dp_da = terms.sum(-1)
        log_density = (a - 1) * logx - xs - _np_special("lgamma", a)
        out[small] = -dp_da / np.exp(log_density)
    return out


def _standard_gamma(alpha: Tensor, shape) -> Tensor:
    """Gamma(alpha, 1) draws of ``shape``, reparameterised: the gradient to ``alpha`` is the
    implicit one (as torch's ``_standard_gamma``)."""
    cr = _cr()
    a = np.broadcast_to(alpha.detach().numpy(), tuple(shape))
    draws = _rng().standard_gamma(a)
    tiny = np.finfo(a.dtype).tiny
    x = _from_numpy(np.maximum(draws, tiny).astype(a.dtype), alpha.dtype)
    if not alpha.requires_grad or not cr.is_grad_enabled():
        return x
    grad = _from_numpy(_standard_gamma_grad(a, x.numpy()).astype(a.dtype), alpha.dtype)
    # x + (alpha - alpha.detach()) * dx/dalpha: value x, gradient dx/dalpha to alpha.
    return x + (alpha.expand(tuple(shape)) - alpha.detach().expand(tuple(shape))) * grad


def _check_positive(dist, name, value):
    if dist._validate_args and not bool((value > 0).all()):
        dist._invalid(name, value, "GreaterThan(lower_bound=0.0)")


def _check_support(dist, value, support):
    raise ValueError(f"Expected value argument (Tensor of shape {tuple(value.shape)}) to be "
                     f"within the support ({support}) of the distribution {dist!r}, but found "
                     f"invalid values:\n{value}")


class _OverCategorical:
    """``probs``, ``logits`` and ``param_shape`` of a distribution built on the Categorical
    ``self._categorical`` (OneHotCategorical, Multinomial)."""

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def param_shape(self) -> Size:
        return self._categorical.param_shape


class OneHotCategorical(_OverCategorical, Distribution):
    """OneHotCategorical(probs=... or logits=...): one-hot float samples, event shape (n,)."""

    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args=False)
        n = self._categorical._num_events
        super().__init__(self._categorical.batch_shape, Size((n,)), validate_args)

    def _param_names(self):
        return ()

    def expand(self, batch_shape, _instance=None):
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._categorical = self._categorical.expand(batch_shape)
        new._batch_shape = Size(batch_shape)
        return new

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        cr = _cr()
        probs = self.probs
        idx = probs.argmax(dim=-1)
        return cr.nn.functional.one_hot(idx, probs.shape[-1]).to(probs.dtype)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        idx = self._categorical.sample(sample_shape)
        return cr.nn.functional.one_hot(idx, self._event_shape[0]).to(self.probs.dtype)

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            ok = ((value == 0) | (value == 1)).all() and (value.sum(-1) == 1).all()
            if not bool(ok):
                _check_support(self, value, "OneHot()")
        return self._categorical.log_prob(value.max(-1)[1])

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        cr = _cr()
        n = self._event_shape[0]
        values = cr.eye(n, dtype=self.probs.dtype)
        values = values.view((n,) + (1,) * len(self._batch_shape) + (n,))
        if expand:
            values = values.expand((n,) + tuple(self._batch_shape) + (n,))
        return values


class Gamma(Distribution):
    """Gamma(concentration, rate)."""

    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = _broadcast_all(concentration, rate)
        super().__init__(self.concentration.shape, Size(), validate_args)
        _check_positive(self, "concentration", self.concentration)
        _check_positive(self, "rate", self.rate)

    def _param_names(self):
        return ("concentration", "rate")

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()) -> Tensor:
        g = _standard_gamma(self.concentration, self._extended_shape(sample_shape))
        return g / self.rate

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        value = _as_param(value)
        if self._validate_args and not bool((value >= 0).all()):
            _check_support(self, value, "GreaterThanEq(lower_bound=0.0)")
        a, r = self.concentration, self.rate
        return cr.xlogy(a, r) + cr.xlogy(a - 1, value) - r * value - cr.lgamma(a)

    def entropy(self) -> Tensor:
        cr = _cr()
        a = self.concentration
        return a - cr.log(self.rate) + cr.lgamma(a) + (1.0 - a) * cr.digamma(a)


class Dirichlet(Distribution):
    """Dirichlet(concentration) over the simplex of the last dim."""

    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args)
        if self._validate_args and not bool((concentration > 0).all()):
            self._invalid("concentration", concentration,
                          "IndependentConstraint(GreaterThan(lower_bound=0.0), 1)")

    def _param_names(self):
        return ("concentration",)

    def _expand_params(self):
        return {"concentration": 1}

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        cr = _cr()
        c = self.concentration
        cm1 = (c - 1).clamp(min=0.0)
        mode = cm1 / cm1.sum(-1, keepdim=True)
        mask = (c < 1).all(dim=-1)
        onehot = cr.nn.functional.one_hot(c.argmax(dim=-1), c.shape[-1]).to(mode.dtype)
        return cr.where(mask.unsqueeze(-1), onehot, mode)

    @property
    def variance(self) -> Tensor:
        c = self.concentration
        c0 = c.sum(-1, keepdim=True)
        return c * (c0 - c) / (c0.pow(2) * (c0 + 1))

    def rsample(self, sample_shape=Size()) -> Tensor:
        g = _standard_gamma(self.concentration, self._extended_shape(sample_shape))
        return g / g.sum(-1, keepdim=True)

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        if self._validate_args:
            ok = (value >= 0).all() and ((value.sum(-1) - 1).abs() < 1e-6).all()
            if not bool(ok):
                _check_support(self, value, "Simplex()")
        c = self.concentration
        return (cr.xlogy(c - 1.0, value).sum(-1) + cr.lgamma(c.sum(-1))
                - cr.lgamma(c).sum(-1))

    def entropy(self) -> Tensor:
        cr = _cr()
        c = self.concentration
        k = c.shape[-1]
        a0 = c.sum(-1)
        return (cr.lgamma(c).sum(-1) - cr.lgamma(a0) - (k - a0) * cr.digamma(a0)
                - ((c - 1.0) * cr.digamma(c)).sum(-1))


class Beta(Distribution):
    """Beta(concentration1, concentration0) on [0, 1]."""

    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        cr = _cr()
        c1, c0 = _broadcast_all(concentration1, concentration0)
        self._dirichlet = Dirichlet(cr.stack([c1, c0], -1), validate_args=validate_args)
        super().__init__(self._dirichlet.batch_shape, Size(), validate_args)

    def _param_names(self):
        return ()

    def expand(self, batch_shape, _instance=None):
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._dirichlet = self._dirichlet.expand(batch_shape)
        new._batch_shape = Size(batch_shape)
        return new

    @property
    def concentration1(self) -> Tensor:
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self) -> Tensor:
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=Size()) -> Tensor:
        return self._dirichlet.rsample(sample_shape).select(-1, 0)

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        value = _as_param(value)
        if self._validate_args and not bool(((value >= 0) & (value <= 1)).all()):
            _check_support(self, value, "Interval(lower_bound=0.0, upper_bound=1.0)")
        heads_tails = cr.stack([value, 1.0 - value], -1)
        return self._dirichlet.log_prob(heads_tails)

    def entropy(self) -> Tensor:
        return self._dirichlet.entropy()


class Poisson(Distribution):
    """Poisson(rate): float samples of counts."""

    def __init__(self, rate, validate_args=None):
        (self.rate,) = _broadcast_all(rate)
        super().__init__(self.rate.shape, Size(), validate_args)
        if self._validate_args and not bool((self.rate >= 0).all()):
            self._invalid("rate", self.rate, "GreaterThanEq(lower_bound=0.0)")

    def _param_names(self):
        return ("rate",)

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape=Size()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        lam = np.broadcast_to(self.rate.detach().numpy(), shape)
        return _from_numpy(_rng().poisson(lam).astype(lam.dtype), self.rate.dtype)

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        value = _as_param(value)
        if self._validate_args and not bool(((value >= 0) & (value == value.floor())).all()):
            _check_support(self, value, "IntegerGreaterThan(lower_bound=0)")
        rate, value = cr.broadcast_tensors(self.rate, value)
        return cr.xlogy(value, rate) - rate - cr.lgamma(value + 1)


class Geometric(_BinaryProbs, Distribution):
    """Geometric(probs=... or logits=...): number of failures before the first success."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        self._probs = self._logits = None
        if probs is not None:
            (self._probs,) = param = _broadcast_all(probs)
        else:
            (self._logits,) = param = _broadcast_all(logits)
        super().__init__(param[0].shape, Size(), validate_args)
        if self._validate_args and probs is not None:
            if not bool(((self._probs > 0) & (self._probs <= 1)).all()):
                self._invalid("probs", self._probs,
                              "HalfOpenInterval(lower_bound=0.0, upper_bound=1.0)")

    def _param_names(self):
        return tuple(n for n in ("probs", "logits") if getattr(self, "_" + n) is not None)

    def _expand_params(self):
        return {"_probs": 0, "_logits": 0}

    @property
    def mean(self) -> Tensor:
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Tensor:
        return _cr().zeros_like(self.probs)

    @property
    def variance(self) -> Tensor:
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        with cr.no_grad():
            tiny = cr.finfo(self.probs.dtype).tiny
            u = cr.rand(self._extended_shape(sample_shape), dtype=self.probs.dtype)
            u = u.clamp(min=tiny)
            return (u.log() / cr.log1p(-self.probs)).floor()

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        value = _as_param(value)
        if self._validate_args and not bool(((value >= 0) & (value == value.floor())).all()):
            _check_support(self, value, "IntegerGreaterThan(lower_bound=0)")
        value, probs = cr.broadcast_tensors(value, self.probs)
        safe = cr.where((probs == 1) & (value == 0), cr.zeros_like(probs), probs)
        return value * cr.log1p(-safe) + self.probs.log()

    def entropy(self) -> Tensor:
        from ..nn.functional import binary_cross_entropy_with_logits

        return binary_cross_entropy_with_logits(self.logits, self.probs,
                                                reduction="none") / self.probs


class _LocScale(Distribution):
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _broadcast_all(loc, scale)
        super().__init__(self.loc.shape, Size(), validate_args)
        _check_positive(self, "scale", self.scale)

    def _param_names(self):
        return ("loc", "scale")


class Cauchy(_LocScale):
    """Cauchy(loc, scale)."""

    @property
    def mean(self) -> Tensor:
        return _cr().full(self._extended_shape(), math.nan, dtype=self.loc.dtype)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return _cr().full(self._extended_shape(), math.inf, dtype=self.loc.dtype)

    def rsample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        u = cr.rand(self._extended_shape(sample_shape), dtype=self.loc.dtype)
        eps = cr.tan(math.pi * (u - 0.5))
        return self.loc + eps * self.scale

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        return (-math.log(math.pi) - cr.log(self.scale)
                - cr.log1p(((value - self.loc) / self.scale) ** 2))

    def cdf(self, value) -> Tensor:
        return _cr().atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value) -> Tensor:
        return _cr().tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + _cr().log(self.scale)


class Gumbel(_LocScale):
    """Gumbel(loc, scale)."""

    @property
    def mean(self) -> Tensor:
        return self.loc + self.scale * _EULER

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self) -> Tensor:
        return self.stddev.pow(2)

    def rsample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        finfo = cr.finfo(self.loc.dtype)
        u = cr.rand(self._extended_shape(sample_shape), dtype=self.loc.dtype)
        u = u.clamp(min=finfo.tiny, max=1 - finfo.eps)
        return self.loc - self.scale * cr.log(-cr.log(u))

    def log_prob(self, value) -> Tensor:
        y = (self.loc - value) / self.scale
        return (y - y.exp()) - self.scale.log()

    def cdf(self, value) -> Tensor:
        return _cr().exp(-_cr().exp(-(value - self.loc) / self.scale))

    def icdf(self, value) -> Tensor:
        cr = _cr()
        return self.loc - self.scale * cr.log(-cr.log(value))

    def entropy(self) -> Tensor:
        return self.scale.log() + (1 + _EULER)


class HalfNormal(Distribution):
    """HalfNormal(scale): |Normal(0, scale)|."""

    has_rsample = True

    def __init__(self, scale, validate_args=None):
        (self.scale,) = _broadcast_all(scale)
        super().__init__(self.scale.shape, Size(), validate_args)
        _check_positive(self, "scale", self.scale)

    def _param_names(self):
        return ()

    def _expand_params(self):
        return {"scale": 0}

    def _normal(self):
        return Normal(_cr().zeros_like(self.scale), self.scale, validate_args=False)

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self) -> Tensor:
        return _cr().zeros_like(self.scale)

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2) * (1 - 2 / math.pi)

    def rsample(self, sample_shape=Size()) -> Tensor:
        return self._normal().rsample(sample_shape).abs()

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        value = _as_param(value)
        if self._validate_args and not bool((value >= 0).all()):
            _check_support(self, value, "GreaterThanEq(lower_bound=0.0)")
        lp = self._normal().log_prob(value) + math.log(2)
        return cr.where(value >= 0, lp, cr.full_like(lp, -math.inf))

    def cdf(self, value) -> Tensor:
        return 2 * self._normal().cdf(value) - 1

    def icdf(self, prob) -> Tensor:
        return self._normal().icdf((prob + 1) / 2)

    def entropy(self) -> Tensor:
        return self._normal().entropy() - math.log(2)


class LogNormal(Distribution):
    """LogNormal(loc, scale): exp(Normal(loc, scale))."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _broadcast_all(loc, scale)
        super().__init__(self.loc.shape, Size(), validate_args)
        if self._validate_args:  # torch reports a bad scale from its base Normal
            Normal(self.loc, self.scale, validate_args=True)

    def _param_names(self):
        return ()

    def _expand_params(self):
        return {"loc": 0, "scale": 0}

    def _normal(self):
        return Normal(self.loc, self.scale, validate_args=False)

    @property
    def mean(self) -> Tensor:
        return (self.loc + self.scale.pow(2) / 2).exp()

    @property
    def mode(self) -> Tensor:
        return (self.loc - self.scale.pow(2)).exp()

    @property
    def variance(self) -> Tensor:
        s2 = self.scale.pow(2)
        return _cr().expm1(s2) * (2 * self.loc + s2).exp()

    def rsample(self, sample_shape=Size()) -> Tensor:
        return self._normal().rsample(sample_shape).exp()

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        value = _as_param(value)
        if self._validate_args and not bool((value > 0).all()):
            _check_support(self, value, "GreaterThan(lower_bound=0.0)")
        y = cr.log(value)
        return self._normal().log_prob(y) - y

    def cdf(self, value) -> Tensor:
        return self._normal().cdf(_cr().log(value))

    def icdf(self, value) -> Tensor:
        return self._normal().icdf(value).exp()

    def entropy(self) -> Tensor:
        return self._normal().entropy() + self.loc


class StudentT(Distribution):
    """StudentT(df, loc=0., scale=1.)."""

    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = _broadcast_all(df, loc, scale)
        super().__init__(self.df.shape, Size(), validate_args)
        _check_positive(self, "df", self.df)
        _check_positive(self, "scale", self.scale)

    def _param_names(self):
        return ("df", "loc", "scale")

    @property
    def mean(self) -> Tensor:
        cr = _cr()
        return cr.where(self.df <= 1, cr.full_like(self.loc, math.nan), self.loc)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        cr = _cr()
        df = self.df
        var = self.scale.pow(2) * df / (df - 2)
        var = cr.where(df <= 2, cr.full_like(var, math.inf), var)
        return cr.where(df <= 1, cr.full_like(var, math.nan), var)

    def rsample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        shape = self._extended_shape(sample_shape)
        x = cr.randn(shape, dtype=self.df.dtype)
        z = _standard_gamma(self.df * 0.5, shape) * 2
        y = x * cr.rsqrt(z / self.df)
        return self.loc + self.scale * y

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        y = (value - self.loc) / self.scale
        z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi)
             + cr.lgamma(0.5 * self.df) - cr.lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * cr.log1p(y ** 2.0 / self.df) - z

    def entropy(self) -> Tensor:
        cr = _cr()
        df = self.df
        lbeta = cr.lgamma(0.5 * df) + math.lgamma(0.5) - cr.lgamma(0.5 * (df + 1))
        return (self.scale.log() + 0.5 * (df + 1)
                * (cr.digamma(0.5 * (df + 1)) - cr.digamma(0.5 * df))
                + 0.5 * df.log() + lbeta)


def _kl_extra(p, q):
    """KL(p || q) for the families of this module, or None."""
    cr = _cr()
    if isinstance(p, Gamma) and isinstance(q, Gamma):
        t1 = q.concentration * cr.log(p.rate / q.rate)
        t2 = cr.lgamma(q.concentration) - cr.lgamma(p.concentration)
        t3 = (p.concentration - q.concentration) * cr.digamma(p.concentration)
        t4 = (q.rate - p.rate) * (p.concentration / p.rate)
        return t1 + t2 + t3 + t4
    if isinstance(p, Dirichlet) and isinstance(q, Dirichlet):
        sum_p = p.concentration.sum(-1)
        sum_q = q.concentration.sum(-1)
        t1 = cr.lgamma(sum_p) - cr.lgamma(sum_q)
        t2 = (cr.lgamma(p.concentration) - cr.lgamma(q.concentration)).sum(-1)
        t3 = p.concentration - q.concentration
        t4 = cr.digamma(p.concentration) - cr.digamma(sum_p).unsqueeze(-1)
        return t1 - t2 + (t3 * t4).sum(-1)
    if isinstance(p, Beta) and isinstance(q, Beta):
        return _kl_extra(p._dirichlet, q._dirichlet)
    if isinstance(p, OneHotCategorical) and isinstance(q, OneHotCategorical):
        from . import kl_divergence

        return kl_divergence(p._categorical, q._categorical)
    if isinstance(p, Poisson) and isinstance(q, Poisson):
        return p.rate * (cr.log(p.rate) - cr.log(q.rate)) - (p.rate - q.rate)
    if isinstance(p, Geometric) and isinstance(q, Geometric):
        return -p.entropy() - cr.log1p(-q.probs) / p.probs - q.logits
    if isinstance(p, Gumbel) and isinstance(q, Gumbel):
        ct1 = p.scale / q.scale
        ct2 = q.loc / q.scale
        ct3 = p.loc / q.scale
        t1 = -ct1.log() - ct2 + ct3
        t2 = ct1 * _EULER
        t3 = cr.exp(ct2 + cr.lgamma(1 + ct1) - ct3)
        return t1 + t2 + t3 - (1 + _EULER)
    if isinstance(p, HalfNormal) and isinstance(q, HalfNormal):
        var_ratio = (p.scale / q.scale).pow(2)
        return 0.5 * (var_ratio - 1 - var_ratio.log())
    if isinstance(p, LogNormal) and isinstance(q, LogNormal):
        from . import kl_divergence

        return kl_divergence(p._normal(), q._normal())
    from ._transformed import _kl_transformed

    return _kl_transformed(p, q)
