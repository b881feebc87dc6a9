"""Ready-made parametrizations: weight_norm (and spectral_norm) in the parametrize style."""
from __future__ import annotations

import numpy as np

from ...tensor import _make
from ..modules.module import Module
from . import parametrize
from .spectral_norm import _normalize

__all__ = ["spectral_norm", "weight_norm"]


def _norm_except_dim(v, dim):
    if dim is None or dim == -1:
        return (v * v).sum().sqrt()
    dims = tuple(d for d in range(v.dim()) if d != dim % v.dim())
    return (v * v).sum(dims, keepdim=True).sqrt()


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim=0) -> Module:
    """w = g * v / ||v|| with g = original0 and v = original1 under ``parametrizations``.

    >>> import chainrule as torch
    >>> m = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(3, 2))
    >>> list(m.state_dict())
    ['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12):
        super().__init__()
        from ...ops.creation import rng

        ndim = weight.dim()
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps, self.n_power_iterations = eps, n_power_iterations
        if ndim > 1:
            h, w = self._matrix(weight._data).shape
            dt = weight._data.dtype
            u = _normalize(rng().normal(0, 1, h).astype(dt), eps)
            v = _normalize(rng().normal(0, 1, w).astype(dt), eps)
            self.register_buffer("_u", _make(u, False, None))
            self.register_buffer("_v", _make(v, False, None))
            self._power_method(self._matrix(weight._data), 15)

    def _matrix(self, w):
        if self.dim != 0:
            perm = (self.dim, *[d for d in range(w.ndim) if d != self.dim])
            w = w.transpose(perm) if isinstance(w, np.ndarray) else w.permute(*perm)
        return w.reshape(w.shape[0], -1)

    def _power_method(self, w: np.ndarray, n: int) -> None:
        for _ in range(n):
            self._u._data[...] = _normalize(w @ self._v._data, self.eps)
            self._v._data[...] = _normalize(w.T @ self._u._data, self.eps)

    def forward(self, weight):
        if weight.dim() == 1:
            return weight / _normalize_tensor_norm(weight, self.eps)
        w = self._matrix(weight)
        if self.training:
            self._power_method(self._matrix(weight._data), self.n_power_iterations)
        u = _make(self._u._data.copy(), False, None)
        v = _make(self._v._data.copy(), False, None)
        sigma = (u * (w @ v)).sum()
        return weight / sigma

    def right_inverse(self, value):
        return value


def _normalize_tensor_norm(x, eps):
    n = (x * x).sum().sqrt()
    return n if float(n._data) > eps else _make(np.asarray(eps, x._data.dtype), False, None)


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim=None) -> Module:
    """Divide ``module.<name>`` by its spectral norm (power iteration buffers ``_u``, ``_v``)."""
    from ..modules.conv import _ConvTranspose

    weight = getattr(module, name)
    if dim is None:
        dim = 1 if isinstance(module, _ConvTranspose) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
