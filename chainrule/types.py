"""``torch.types``: the type aliases annotations in user code import."""
# ruff: noqa: UP007 - aliases built at runtime need typing.Union on Python 3.9
from __future__ import annotations

from typing import Union

from ._dtype import dtype as _dtype  # noqa: F401 - torch.types._dtype
from .tensor import Size, Tensor, device

Number = Union[int, float, bool]
_int = int
_float = float
_bool = bool
_complex = complex
_device = device
_size = Union[Size, list, tuple]
Device = Union[device, str, int, None]
_TensorOrTensors = Union[Tensor, tuple]
