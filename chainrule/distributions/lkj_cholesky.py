"""``torch.distributions.lkj_cholesky``: LKJCholesky(dim, concentration), the LKJ distribution
of correlation matrices, over their lower Cholesky factors (Lewandowski, Kurowicka & Joe,
2009); samples by the onion method."""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Size, Tensor
from . import Distribution, _broadcast_all, _cr, constraints
from ._extra import _check_positive, _check_support, _from_numpy, _rng
from .wishart import _mvlgamma

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """LKJCholesky(dim, concentration=1.): density of the factor L of a dim x dim correlation
    matrix proportional to prod_{i >= 2} L_ii^(dim - i + 2 concentration - 2).

    >>> import chainrule as torch
    >>> LKJCholesky(2, torch.tensor(1.0)).log_prob(torch.eye(2))
    tensor(-0.6931)
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. "
                             f"Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = _broadcast_all(concentration)
        super().__init__(self.concentration.shape, Size((dim, dim)), validate_args)
        _check_positive(self, "concentration", self.concentration)

    def _param_names(self):
        return ("concentration",)

    def sample(self, sample_shape=Size()) -> Tensor:
        # onion method: row i >= 1 is sqrt(y_i) times a uniform direction in its first i
        # entries, y_i ~ Beta(i / 2, concentration + (dim - 1 - i) / 2), and the diagonal
        # entry sqrt(1 - y_i) closes the row to unit length. (torch 2.x draws y_i with first
        # shape i - 1/2, which skews every correlation but the (1, 0) one.)
        d = self.dim
        shape = tuple(Size(sample_shape)) + tuple(self._batch_shape)
        eta = np.broadcast_to(self.concentration.detach().numpy().astype(np.float64), shape)
        rows = np.arange(d, dtype=np.float64)
        shape1 = np.broadcast_to(np.maximum(rows, 1.0) / 2, shape + (d,))  # row 0: unused
        shape0 = eta[..., None] + (d - 1 - np.maximum(rows, 1.0)) / 2
        rng = _rng()
        y = rng.beta(shape1, shape0)
        u = np.tril(rng.standard_normal(shape + (d, d)), -1)
        norms = np.linalg.norm(u, axis=-1, keepdims=True)
        u = np.divide(u, norms, out=np.zeros_like(u), where=norms > 0)  # row 0 stays zero
        w = np.sqrt(y)[..., None] * u
        diag = np.sqrt(np.clip(1 - (w ** 2).sum(-1), np.finfo(np.float64).tiny, None))
        w = w + diag[..., None] * np.eye(d)
        dtype = self.concentration.detach().numpy().dtype
        return _from_numpy(w.astype(dtype), self.concentration.dtype)

    def log_prob(self, value) -> Tensor:
        cr = _cr()
        if self._validate_args and not bool(self.support.check(value).all()):
            _check_support(self, value, "CorrCholesky()")
        d, eta = self.dim, self.concentration
        diag = value.diagonal(dim1=-2, dim2=-1)[..., 1:]
        # exponent of L_ii for i = 2..dim (1-based): dim - i + 2 (eta - 1)
        powers = 2 * (eta - 1).unsqueeze(-1) + d - cr.arange(2, d + 1, dtype=eta.dtype)
        unnormalized = (powers * diag.log()).sum(-1)
        # log normaliser: (dim-1)/2 log(pi) + log Gamma_{dim-1}(alpha - 1/2) - (dim-1) lgamma(alpha)
        alpha = eta + 0.5 * (d - 1)
        log_norm = (0.5 * (d - 1) * math.log(math.pi) + _mvlgamma(alpha - 0.5, d - 1)
                    - (d - 1) * cr.lgamma(alpha))
        return unnormalized - log_norm
