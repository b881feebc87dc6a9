"""``torch.distributions.wishart``: Wishart(df, covariance_matrix= | precision_matrix= |
scale_tril=), the distribution of X = sum of df outer products of N(0, V) vectors
(positive definite p x p matrices); rsample by the Bartlett decomposition."""
from __future__ import annotations

import math
import warnings

from ..tensor import Size, Tensor
from . import Distribution, _cr, constraints
from ._extra import _check_support
from .chi2 import Chi2

__all__ = ["Wishart"]


def _mvdigamma(a: Tensor, p: int) -> Tensor:
    """d/da log Gamma_p(a) = sum_{j < p} digamma(a - j / 2)."""
    cr = _cr()
    return sum(cr.digamma(a - j / 2) for j in range(p))


def _mvlgamma(a: Tensor, p: int) -> Tensor:
    """log Gamma_p(a) = p (p - 1) / 4 log(pi) + sum_{j < p} lgamma(a - j / 2)."""
    cr = _cr()
    return sum(cr.lgamma(a - j / 2) for j in range(p)) + p * (p - 1) / 4 * math.log(math.pi)


def _log_det_tril(tril: Tensor) -> Tensor:
    return 2 * tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)


class Wishart(Distribution):
    """Wishart(df, covariance_matrix=... | precision_matrix=... | scale_tril=...): df > p - 1.

    >>> import chainrule as torch
    >>> Wishart(torch.tensor(4.0), covariance_matrix=torch.eye(2)).mean
    tensor([[4., 0.],
            [0., 4.]])
    """

    support = constraints.positive_definite
    has_rsample = True
    _max_try_correction = 10  # re-draws of a numerically singular Bartlett sample

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        cr = _cr()
        given = [(n, v) for n, v in (("covariance_matrix", covariance_matrix),
                                     ("precision_matrix", precision_matrix),
                                     ("scale_tril", scale_tril)) if v is not None]
        if len(given) != 1:
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or "
                                 "scale_tril may be specified.")
        name, param = given[0]
        if param.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if isinstance(df, Tensor):
            batch = tuple(cr.broadcast_shapes(tuple(param.shape[:-2]), tuple(df.shape)))
            self.df = df.expand(batch)
        else:
            batch = tuple(param.shape[:-2])
            self.df = cr.tensor(float(df), dtype=param.dtype)
        p = param.shape[-1]
        if bool((self.df <= p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        if bool((self.df < p).any()):
            warnings.warn("Low df values detected. Singular samples are highly likely to occur "
                          "for ndim - 1 < df < ndim.", stacklevel=2)
        self._given = name
        self._param = param.expand(batch + (p, p))
        super().__init__(batch, (p, p), validate_args)
        if self._validate_args:
            cons = self.arg_constraints[name]
            if not bool(cons.check(self._param).all()):
                self._invalid(name, self._param, repr(cons))
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = param
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = cr.linalg.cholesky(param)
        else:
            self._unbroadcasted_scale_tril = cr.linalg.cholesky(cr.linalg.inv(param))

    @property
    def arg_constraints(self):
        p = self._event_shape[-1]
        return {"covariance_matrix": constraints.positive_definite,
                "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky,
                "df": constraints.greater_than(p - 1)}

    def _param_names(self):
        return (self._given, "df")

    def _expand_params(self):
        return {"df": 0, "_param": 2}

    def _expand_matrix(self, m: Tensor) -> Tensor:
        return m.expand(self._batch_shape + self._event_shape)

    # The matrix given to the constructor is returned as given (expanded), as in torch, so
    # gradients through it are not symmetrised by a Cholesky round trip.
    @property
    def scale_tril(self) -> Tensor:
        if self._given == "scale_tril":
            return self._param
        return self._expand_matrix(self._unbroadcasted_scale_tril)

    @property
    def covariance_matrix(self) -> Tensor:
        if self._given == "covariance_matrix":
            return self._param
        tril = self._unbroadcasted_scale_tril
        return self._expand_matrix(tril @ tril.mT)

    @property
    def precision_matrix(self) -> Tensor:
        if self._given == "precision_matrix":
            return self._param
        tril = self._unbroadcasted_scale_tril
        return self._expand_matrix(_cr().linalg.inv(tril @ tril.mT))

    def _df_matrix(self) -> Tensor:
        return self.df.reshape(tuple(self.df.shape) + (1, 1))

    @property
    def mean(self) -> Tensor:
        return self._df_matrix() * self.covariance_matrix

    @property
    def mode(self) -> Tensor:
        cr = _cr()
        factor = self.df - self._event_shape[-1] - 1
        factor = cr.where(factor <= 0, cr.full_like(factor, math.nan), factor)
        return factor.reshape(tuple(factor.shape) + (1, 1)) * self.covariance_matrix

    @property
    def variance(self) -> Tensor:
        v = self.covariance_matrix
        diag = v.diagonal(dim1=-2, dim2=-1)
        return self._df_matrix() * (v.pow(2) + diag.unsqueeze(-1) * diag.unsqueeze(-2))

    def _bartlett(self, sample_shape) -> Tensor:
        """L A A^T L^T with A lower triangular: A_ii^2 ~ Chi2(df - i), A_ij ~ N(0, 1) below."""
        cr = _cr()
        p = self._event_shape[-1]
        tril = self._unbroadcasted_scale_tril
        dfs = self.df.unsqueeze(-1) - cr.arange(p, dtype=tril.dtype)
        chi2 = Chi2(dfs.expand(tuple(self._batch_shape) + (p,)), validate_args=False)
        diag = chi2.rsample(sample_shape).sqrt()
        below = cr.randn(self._extended_shape(sample_shape), dtype=tril.dtype).tril(-1)
        chol = tril @ (cr.diag_embed(diag) + below)
        return chol @ chol.mT

    def rsample(self, sample_shape=Size(), max_try_correction=None) -> Tensor:
        cr = _cr()
        tries = self._max_try_correction if max_try_correction is None else max_try_correction
        sample = self._bartlett(sample_shape)
        singular = ~self.support.check(sample)
        for _ in range(tries):
            if not bool(singular.any()):
                break
            fresh = self._bartlett(sample_shape)
            sample = cr.where(singular.unsqueeze(-1).unsqueeze(-1), fresh, sample)
            singular = singular & ~self.support.check(fresh)
        else:
            if bool(singular.any()):
                warnings.warn("Singular sample detected.", stacklevel=2)
        return sample

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        if self._validate_args and not bool(self.support.check(value).all()):
            _check_support(self, value, "PositiveDefinite()")
        nu = self.df
        p = self._event_shape[-1]
        tril = self._unbroadcasted_scale_tril
        # tr(V^-1 X) = |L^-1 chol(X)|_F^2 with V = L L^T
        chol_x = cr.linalg.cholesky(value)
        shape = tuple(cr.broadcast_shapes(tuple(tril.shape[:-2]), tuple(chol_x.shape[:-2])))
        solved = cr.linalg.solve_triangular(tril.expand(shape + (p, p)),
                                            chol_x.expand(shape + (p, p)), upper=False)
        trace = solved.pow(2).sum((-2, -1))
        return (-nu * p / 2 * math.log(2) - nu / 2 * _log_det_tril(tril) - _mvlgamma(nu / 2, p)
                + (nu - p - 1) / 2 * _log_det_tril(chol_x) - trace / 2)

    def entropy(self) -> Tensor:
        nu = self.df
        p = self._event_shape[-1]
        h = ((p + 1) / 2 * _log_det_tril(self._unbroadcasted_scale_tril)
             + p * (p + 1) / 2 * math.log(2) + _mvlgamma(nu / 2, p)
             - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p) + nu * p / 2)
        return h.expand(self._batch_shape)
