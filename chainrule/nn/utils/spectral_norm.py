"""spectral_norm: divide a weight by its largest singular value, estimated by power iteration.

The estimate's vectors ``<name>_u`` and ``<name>_v`` are buffers, refined by
``n_power_iterations`` steps before each forward in training mode.
"""
from __future__ import annotations

import numpy as np

from ...tensor import _make
from ..parameter import Parameter

__all__ = ["remove_spectral_norm", "spectral_norm"]


def _normalize(x: np.ndarray, eps: float) -> np.ndarray:
    return x / max(float(np.sqrt((x * x).sum())), eps)


class _SpectralNorm:
    """The forward pre-hook that sets ``module.<name>`` = W / sigma(W)."""

    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float):
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = (name, n_power_iterations,
                                                                  dim, eps)

    def matrix(self, w):
        """W as a (shape[dim], -1) matrix; works on arrays and tensors alike."""
        if self.dim != 0:
            w = w.transpose(self.dim, *[d for d in range(w.ndim) if d != self.dim]) \
                if isinstance(w, np.ndarray) else \
                w.permute(self.dim, *[d for d in range(w.dim()) if d != self.dim])
        return w.reshape(w.shape[0], -1)

    def compute(self, module, do_power_iteration: bool):
        weight = getattr(module, self.name + "_orig")
        u_buf = getattr(module, self.name + "_u")
        v_buf = getattr(module, self.name + "_v")
        if do_power_iteration:  # refine the singular vectors in place (no graph)
            w = self.matrix(weight._data)
            for _ in range(self.n_power_iterations):
                v_buf._data[...] = _normalize(w.T @ u_buf._data, self.eps)
                u_buf._data[...] = _normalize(w @ v_buf._data, self.eps)
        u = _make(u_buf._data.copy(), False, None)
        v = _make(v_buf._data.copy(), False, None)
        sigma = (u * (self.matrix(weight) @ v)).sum()
        return weight / sigma

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute(module, module.training))


def spectral_norm(module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim=None):
    """Constrain ``module.<name>`` to spectral norm 1 (Miyato et al. 2018).

    >>> import chainrule as torch
    >>> m = torch.nn.utils.spectral_norm(torch.nn.Linear(4, 3))
    >>> sorted(m.state_dict())
    ['bias', 'weight_orig', 'weight_u', 'weight_v']
    """
    from ...ops.creation import rng
    from ..modules.conv import _ConvTranspose

    if dim is None:
        dim = 1 if isinstance(module, _ConvTranspose) else 0
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, _SpectralNorm) and hook.name == name:
            raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter "
                               f"{name}")
    fn = _SpectralNorm(name, n_power_iterations, dim, eps)
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
    h, w = fn.matrix(weight._data).shape
    dt = weight._data.dtype
    u = _normalize(rng().normal(0, 1, h).astype(dt), eps)
    v = _normalize(rng().normal(0, 1, w).astype(dt), eps)
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, _make(weight._data, False, None))
    module.register_buffer(name + "_u", _make(u, False, None))
    module.register_buffer(name + "_v", _make(v, False, None))
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module, name: str = "weight"):
    """Replace the normalised weight by a plain parameter holding its current value."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, _SpectralNorm) and hook.name == name:
            weight = hook.compute(module, do_power_iteration=False)
            del module._forward_pre_hooks[key]
            module.__dict__.pop(name, None)
            del module._buffers[name + "_u"]
            del module._buffers[name + "_v"]
            del module._parameters[name + "_orig"]
            module.register_parameter(name, Parameter(_make(weight._data, False, None)))
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
