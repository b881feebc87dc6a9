"""Parameter: a Tensor that a Module registers as learnable, and Buffer for module state."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _make

__all__ = ["Buffer", "Parameter", "UninitializedParameter"]


class Parameter(Tensor):
    """A leaf Tensor that ``Module.__setattr__`` registers; requires grad by default.

    It shares memory with the tensor it wraps (like PyTorch's).

    >>> import chainrule as torch
    >>> p = torch.nn.Parameter(torch.zeros(2))
    >>> p.requires_grad
    True
    """

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            arr = np.empty(0, dtype=_default_np())
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            arr = np.asarray(data)
        self._data = arr
        self._requires_grad = False
        self.grad_fn = None
        if requires_grad:
            self.requires_grad = True

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._data, self._requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        new = Parameter(self._data.copy(), self._requires_grad)
        if self._grad is not None:
            new._grad = _make(self._grad._data.copy(), False, None)
        memo[id(self)] = new
        return new


class UninitializedParameter(Parameter):
    """Placeholder for lazy modules (not supported: kept for isinstance checks)."""


class Buffer(Tensor):
    """Marks a tensor as a module buffer when assigned as an attribute (``persistent`` flag)."""

    def __new__(cls, data=None, *, persistent: bool = True):
        t = _make(np.empty(0, dtype=_default_np()) if data is None else data._data, False, None)
        t.__dict__["_buffer_persistent"] = persistent
        return t


def _default_np():
    from .._dtype import get_default_dtype

    return get_default_dtype().np


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)
