"""Tensor methods for shape and view ops (ops/shape.py): one line each, calling the op."""
from __future__ import annotations

from .. import ops as _ops  # submodules are bound once chainrule.tensor has loaded


class ShapeMethods:
    """Mixed into Tensor; every method forwards to ``chainrule.ops.shape``."""

    __slots__ = ()
