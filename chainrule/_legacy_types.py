"""Legacy typed constructors: ``FloatTensor``, ``LongTensor``, ... (old tutorials still use them).

``torch.FloatTensor([1, 2])`` copies data into a float32 tensor, ``torch.FloatTensor(2, 3)``
makes an uninitialised 2x3 one, and ``isinstance(t, torch.FloatTensor)`` asks whether ``t``
is a float32 tensor, as in PyTorch.

>>> import chainrule as torch
>>> torch.LongTensor([1, 2]), isinstance(torch.ones(1), torch.FloatTensor)
(tensor([1, 2]), True)
"""
from __future__ import annotations

import numbers

import numpy as np

from . import _dtype
from .tensor import Size, Tensor, _make

__all__ = ["BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor",
           "HalfTensor", "IntTensor", "LongTensor", "ShortTensor"]


def _new(cls, args, device):
    from .ops.creation import _check_device, empty, tensor

    if device is not None:
        _check_device(device)
    d = cls.dtype
    if not args:
        return empty(0, dtype=d)
    if len(args) == 1 and isinstance(args[0], Size):
        return empty(*args[0], dtype=d)
    if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
        return empty(*args, dtype=d)
    if len(args) > 1:
        raise TypeError(f"new() received an invalid combination of arguments - got "
                        f"({', '.join(type(a).__name__ for a in args)})")
    data = args[0]
    if isinstance(data, Tensor):
        if data.dtype is not d:
            raise TypeError(f"expected {d} (got {data.dtype})")
        return _make(data._data, False, None)  # shares memory, like PyTorch
    if not isinstance(data, (list, tuple, np.ndarray)):
        raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
    return tensor(data, dtype=d)


class _TensorType(type):
    """Metaclass of the legacy types: calling one builds a tensor, isinstance checks dtype."""

    def __call__(cls, *args, device=None):
        return _new(cls, args, device)

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'torch.{cls.__name__}'>"


def _legacy(name: str, dtype) -> type:
    return _TensorType(name, (), {"dtype": dtype, "is_cuda": False, "is_sparse": False,
                                  "__module__": "chainrule"})


FloatTensor = _legacy("FloatTensor", _dtype.float32)
DoubleTensor = _legacy("DoubleTensor", _dtype.float64)
HalfTensor = _legacy("HalfTensor", _dtype.float16)
LongTensor = _legacy("LongTensor", _dtype.int64)
IntTensor = _legacy("IntTensor", _dtype.int32)
ShortTensor = _legacy("ShortTensor", _dtype.int16)
CharTensor = _legacy("CharTensor", _dtype.int8)
ByteTensor = _legacy("ByteTensor", _dtype.uint8)
BoolTensor = _legacy("BoolTensor", _dtype.bool)
