"""``torch.distributions.lowrank_multivariate_normal``: LowRankMultivariateNormal(loc,
cov_factor, cov_diag), a normal with covariance W W^T + diag(D) handled through the m x m
capacitance matrix I + W^T D^-1 W (Woodbury identity, matrix determinant lemma)."""
from __future__ import annotations

import math

from ..tensor import Size, Tensor
from . import Distribution, MultivariateNormal, _cr, constraints, register_kl

__all__ = ["LowRankMultivariateNormal"]


class LowRankMultivariateNormal(Distribution):
    """LowRankMultivariateNormal(loc, cov_factor, cov_diag): loc (..., n), cov_factor
    (..., n, m), cov_diag (..., n); rsample = loc + W eps_m + sqrt(D) eps_n.

    >>> import chainrule as torch
    >>> d = LowRankMultivariateNormal(torch.zeros(2), torch.ones(2, 1), torch.ones(2))
    >>> d.covariance_matrix
    tensor([[2., 1.],
            [1., 2.]])
    """

    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        cr = _cr()
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        n = loc.shape[-1]
        if cov_factor.dim() < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if cov_factor.shape[-2] != n:
            raise ValueError(f"cov_factor must be a batch of matrices with shape {n} x m")
        if tuple(cov_diag.shape[-1:]) != (n,):
            raise ValueError(f"cov_diag must be a batch of vectors with shape "
                             f"{Size((n,))}")
        m = cov_factor.shape[-1]
        try:
            batch = tuple(cr.broadcast_shapes(tuple(loc.shape[:-1]),
                                              tuple(cov_factor.shape[:-2]),
                                              tuple(cov_diag.shape[:-1])))
        except (RuntimeError, ValueError) as e:
            raise ValueError(f"Incompatible batch shapes: loc {loc.shape}, cov_factor "
                             f"{cov_factor.shape}, cov_diag {cov_diag.shape}") from e
        self.loc = loc.expand(batch + (n,))
        self.cov_factor = cov_factor.expand(batch + (n, m))
        self.cov_diag = cov_diag.expand(batch + (n,))
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        super().__init__(batch, (n,), validate_args)
        if self._validate_args and not bool((cov_diag > 0).all()):
            self._invalid("cov_diag", self.cov_diag,
                          "IndependentConstraint(GreaterThan(lower_bound=0.0), 1)")
        # W^T D^-1 (m x n) and the Cholesky factor of the capacitance I + W^T D^-1 W
        self._wt_dinv = cov_factor.mT / cov_diag.unsqueeze(-2)
        capacitance = self._wt_dinv @ cov_factor + cr.eye(m, dtype=cov_factor.dtype)
        self._capacitance_tril = cr.linalg.cholesky(capacitance)

    def _param_names(self):
        return ("loc", "cov_factor", "cov_diag")

    def _expand_params(self):
        return {"loc": 1, "cov_factor": 2, "cov_diag": 1}

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        var = self._unbroadcasted_cov_factor.pow(2).sum(-1) + self._unbroadcasted_cov_diag
        return var.expand(self._batch_shape + self._event_shape)

    @property
    def covariance_matrix(self) -> Tensor:
        w = self._unbroadcasted_cov_factor
        cov = w @ w.mT + _cr().diag_embed(self._unbroadcasted_cov_diag)
        return cov.expand(self._batch_shape + self._event_shape + self._event_shape)

    @property
    def precision_matrix(self) -> Tensor:
        # Woodbury: D^-1 - D^-1 W (I + W^T D^-1 W)^-1 W^T D^-1
        cr = _cr()
        a = self._solve_capacitance(self._wt_dinv)
        prec = cr.diag_embed(self._unbroadcasted_cov_diag.reciprocal()) - a.mT @ a
        return prec.expand(self._batch_shape + self._event_shape + self._event_shape)

    @property
    def scale_tril(self) -> Tensor:
        return _cr().linalg.cholesky(self.covariance_matrix)

    def _solve_capacitance(self, rhs: Tensor) -> Tensor:
        """L^-1 rhs for the capacitance factor L, broadcasting their batch dims."""
        cr = _cr()
        tril = self._capacitance_tril
        shape = tuple(cr.broadcast_shapes(tuple(tril.shape[:-2]), tuple(rhs.shape[:-2])))
        m = tril.shape[-1]
        return cr.linalg.solve_triangular(tril.expand(shape + (m, m)),
                                          rhs.expand(shape + tuple(rhs.shape[-2:])),
                                          upper=False)

    def _log_det(self) -> Tensor:
        tril = self._capacitance_tril
        return (2 * tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
                + self._unbroadcasted_cov_diag.log().sum(-1))

    def _mahalanobis(self, diff: Tensor) -> Tensor:
        """diff^T (W W^T + D)^-1 diff = diff^T D^-1 diff - |L^-1 W^T D^-1 diff|^2."""
        t = (diff.pow(2) / self._unbroadcasted_cov_diag).sum(-1)
        u = self._wt_dinv @ diff.unsqueeze(-1)
        return t - self._solve_capacitance(u).pow(2).sum((-2, -1))

    def rsample(self, sample_shape=Size()) -> Tensor:
        cr = _cr()
        shape = self._extended_shape(sample_shape)
        m = self.cov_factor.shape[-1]
        eps_w = cr.randn(tuple(shape[:-1]) + (m,), dtype=self.loc.dtype)
        eps_d = cr.randn(shape, dtype=self.loc.dtype)
        return (self.loc + (self._unbroadcasted_cov_factor @ eps_w.unsqueeze(-1)).squeeze(-1)
                + self._unbroadcasted_cov_diag.sqrt() * eps_d)

    def log_prob(self, value) -> Tensor:
        n = self._event_shape[0]
        m = self._mahalanobis(value - self.loc)
        return -0.5 * (n * math.log(2 * math.pi) + self._log_det() + m)

    def entropy(self) -> Tensor:
        n = self._event_shape[0]
        h = 0.5 * (n * (1.0 + math.log(2 * math.pi)) + self._log_det())
        return h.expand(self._batch_shape)


def _as_full(d) -> MultivariateNormal:
    if isinstance(d, LowRankMultivariateNormal):
        return MultivariateNormal(d.loc, covariance_matrix=d.covariance_matrix,
                                  validate_args=False)
    return d


def _kl_low_rank(p, q) -> Tensor:
    from . import kl_divergence

    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two (Low Rank) Multivariate Normals with "
                         "different event shapes cannot be computed")
    return kl_divergence(_as_full(p), _as_full(q))


# KL through the dense covariance (one n x n Cholesky per distribution)
register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)(_kl_low_rank)
register_kl(LowRankMultivariateNormal, MultivariateNormal)(_kl_low_rank)
register_kl(MultivariateNormal, LowRankMultivariateNormal)(_kl_low_rank)
