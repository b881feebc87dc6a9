"""weight_norm: w = g * v / ||v|| recomputed before each forward (the classic hook form)."""
from __future__ import annotations

import warnings

from ...tensor import _make
from ..parameter import Parameter

__all__ = ["remove_weight_norm", "weight_norm"]


def _norm_except_dim(v, dim: int):
    """The 2-norm of v over every dim but ``dim`` (keepdim); dim == -1 means the whole tensor."""
    if dim == -1:
        return (v * v).sum().sqrt()
    dims = tuple(d for d in range(v.dim()) if d != dim % v.dim())
    return (v * v).sum(dims, keepdim=True).sqrt()


class _WeightNorm:
    """The forward pre-hook that rebuilds ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    def __init__(self, name: str, dim: int):
        self.name, self.dim = name, dim

    def compute(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute(module))


def weight_norm(module, name: str = "weight", dim: int | None = 0):
    """Reparametrise ``module.<name>`` as g * v / ||v|| (Salimans & Kingma 2016).

    >>> import chainrule as torch
    >>> m = torch.nn.utils.weight_norm(torch.nn.Linear(3, 2))
    >>> list(m.state_dict())
    ['bias', 'weight_g', 'weight_v']
    """
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, _WeightNorm) and hook.name == name:
            raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter "
                               f"{name}")
    fn = _WeightNorm(name, -1 if dim is None else dim)
    weight = getattr(module, name)
    del module._parameters[name]
    g = _norm_except_dim(weight.detach(), fn.dim)
    module.register_parameter(name + "_g", Parameter(_make(g._data.copy(), False, None)))
    module.register_parameter(name + "_v", Parameter(_make(weight._data, False, None)))
    setattr(module, name, fn.compute(module))
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module, name: str = "weight"):
    """Fold g and v back into one ``<name>`` parameter and remove the hook."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, _WeightNorm) and hook.name == name:
            weight = hook.compute(module)
            del module._forward_pre_hooks[key]
            del module._parameters[name + "_g"]
            del module._parameters[name + "_v"]
            module.__dict__.pop(name, None)
            module.register_parameter(name, Parameter(_make(weight._data, False, None)))
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
