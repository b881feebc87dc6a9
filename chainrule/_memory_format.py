"""Memory formats and layouts: ``torch.channels_last``, ``torch.strided``, ...

chainrule stores every tensor as one C-ordered NumPy array, so these are accepted wherever
PyTorch takes them (``x.to(memory_format=torch.channels_last)``, ``layout=torch.strided``)
and change nothing.
"""
from __future__ import annotations

__all__ = ["channels_last", "channels_last_3d", "contiguous_format", "layout",
           "memory_format", "preserve_format", "sparse_coo", "strided"]


class memory_format:
    """How a tensor's elements are ordered in memory (one ordering exists here)."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"torch.{self._name}"

    def __reduce__(self):
        return self._name


class layout:
    """How a tensor is stored: dense (``strided``) or sparse."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"torch.{self._name}"

    def __eq__(self, other) -> bool:
        # Tensor.layout answers the string 'strided'; both spellings compare equal.
        if isinstance(other, str):
            return other in (self._name, repr(self))
        return self is other

    def __hash__(self) -> int:
        return hash(self._name)

    def __reduce__(self):
        return self._name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
strided = layout("strided")
sparse_coo = layout("sparse_coo")
