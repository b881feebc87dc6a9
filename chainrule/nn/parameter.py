"""Parameter: a Tensor that a Module registers as learnable, and Buffer for module state."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _make

__all__ = ["Buffer", "Parameter", "UninitializedBuffer", "UninitializedParameter"]


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


_USE_MSG = ("Attempted to use an uninitialized parameter in {}. This error happens when you "
            "are using a `LazyModule` or explicitly manipulating "
            "`torch.nn.parameter.UninitializedParameter` objects. When using LazyModules Call "
            "`forward` with a dummy batch to initialize the parameters before calling torch "
            "functions")


class _NoData(np.ndarray):
    """The empty array behind an UninitializedParameter: arithmetic on it raises PyTorch's
    error instead of quietly computing with zero elements."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise ValueError(_USE_MSG.format(ufunc.__name__))


class UninitializedParameter(Parameter):
    """A parameter of a lazy module whose shape is not known yet; :meth:`materialize`
    gives it one and turns it into a plain Parameter (the same object, so optimizers made
    before the first forward keep working).

    >>> import chainrule as torch
    >>> p = torch.nn.UninitializedParameter()
    >>> p.materialize((2, 3))
    >>> type(p).__name__, tuple(p.shape)
    ('Parameter', (2, 3))
    """

    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        super().__init__(None, requires_grad)
        np_dtype = _default_np() if dtype is None else _to_np(dtype)
        self._data = np.empty(0, dtype=np_dtype).view(_NoData)

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give the parameter an (uninitialised) array of ``shape``; it becomes a Parameter."""
        np_dtype = self._data.dtype if dtype is None else _to_np(dtype)
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self._data = np.zeros(shape, dtype=np_dtype)
        self.__class__ = self.cls_to_become

    def _shape_error(self):
        return RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error "
            "usually happens in `load_state_dict` when trying to load an uninitialized "
            "parameter into an initialized one. Call `forward` to initialize the parameters "
            "before accessing their attributes.")

    @property
    def shape(self):
        raise self._shape_error()

    def size(self, dim=None):
        raise self._shape_error()

    def numel(self) -> int:
        raise ValueError(_USE_MSG.format("numel"))

    nelement = numel

    def detach(self):
        return UninitializedParameter(self._requires_grad, dtype=self.dtype)

    def __repr__(self) -> str:
        return "<UninitializedParameter>"

    def __reduce_ex__(self, protocol):
        return (_rebuild_uninitialized, (self._data.dtype.str, self._requires_grad))

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = UninitializedParameter(self._requires_grad, dtype=self.dtype)
        return memo[id(self)]


class UninitializedBuffer(Tensor):
    """A buffer of a lazy module (the running statistics of ``LazyBatchNorm1d``) whose shape
    is not known yet; :meth:`materialize` gives it one and turns it into a plain Tensor."""

    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device=None, dtype=None):
        np_dtype = _default_np() if dtype is None else _to_np(dtype)
        super().__init__()
        self._data = np.empty(0, dtype=np_dtype).view(_NoData)
        self._requires_grad = requires_grad

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give the buffer a zero array of ``shape``; it becomes a plain Tensor."""
        np_dtype = self._data.dtype if dtype is None else _to_np(dtype)
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self._data = np.zeros(shape, dtype=np_dtype)
        self.__class__ = self.cls_to_become

    def __repr__(self) -> str:
        return "<UninitializedBuffer>"

    def __reduce_ex__(self, protocol):
        return (_rebuild_uninitialized_buffer, (self._data.dtype.str, self._requires_grad))


def _rebuild_uninitialized_buffer(np_dtype: str, requires_grad: bool) -> UninitializedBuffer:
    return UninitializedBuffer(requires_grad, dtype=np.dtype(np_dtype))


def is_lazy(t) -> bool:
    """Whether ``t`` is a parameter or buffer still waiting for its shape."""
    return isinstance(t, (UninitializedParameter, UninitializedBuffer))


class Buffer(Tensor):
    """Marks a tensor as a module buffer when assigned as an attribute (``persistent`` flag)."""

    def __new__(cls, data=None, *, persistent: bool = True):
        t = _make(np.empty(0, dtype=_default_np()) if data is None else data._data, False, None)
        t.__dict__["_buffer_persistent"] = persistent
        return t


def _default_np():
    from .._dtype import get_default_dtype

    return get_default_dtype().np


def _to_np(dtype):
    from .._dtype import to_dtype

    return to_dtype(dtype).np


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


def _rebuild_uninitialized(np_dtype: str, requires_grad: bool):
    return UninitializedParameter(requires_grad, dtype=np.dtype(np_dtype))
