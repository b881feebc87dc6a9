"""Gradient clipping: clip_grad_norm_ (global p-norm) and clip_grad_value_ (elementwise)."""
from __future__ import annotations

import numpy as np

from ...tensor import Tensor, _make

__all__ = [
    "clip_grad_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
]


def _as_list(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _vector_norm(a: np.ndarray, p: float) -> float:
    a = np.abs(a.ravel())
    if p == np.inf:
        return float(a.max()) if a.size else 0.0
    if p == -np.inf:
        return float(a.min()) if a.size else np.inf
    if p == 0:
        return float((a != 0).sum())
    return float((a ** p).sum() ** (1.0 / p))


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """The p-norm of all tensors viewed as one vector (the norm of the per-tensor norms)."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return _make(np.asarray(0.0, np.float32), False, None)
    dtype = tensors[0]._data.dtype
    norms = np.array([_vector_norm(t._data, norm_type) for t in tensors])
    total = np.asarray(_vector_norm(norms, norm_type), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return _make(total, False, None)


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6)), in place."""
    grads = [p._grad for p in _as_list(parameters) if p._grad is not None]
    if not grads:
        return
    total = total_norm._data if isinstance(total_norm, Tensor) else total_norm
    coef = min(float(max_norm) / (float(total) + 1e-6), 1.0)
    for g in grads:
        if not g._data.flags.writeable:
            g._data = g._data.copy()
        g._data *= np.asarray(coef, dtype=g._data.dtype)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Clip the global gradient norm to ``max_norm``; returns the norm before clipping.

    >>> import chainrule as torch
    >>> w = torch.ones(4, requires_grad=True)
    >>> (3 * w).sum().backward()
    >>> round(torch.nn.utils.clip_grad_norm_([w], 1.0).item(), 4)
    6.0
    """
    params = _as_list(parameters)
    grads = [p._grad for p in params if p._grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    import warnings

    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    c = float(clip_value)
    for p in _as_list(parameters):
        if p._grad is not None:
            g = p._grad
            if not g._data.flags.writeable:
                g._data = g._data.copy()
            np.clip(g._data, -c, c, out=g._data)
