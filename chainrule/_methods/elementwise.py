"""Tensor methods for elementwise ops (ops/elementwise.py): math functions, comparisons, logical ops, in-place variants: one line each, calling the op."""
from __future__ import annotations

from .. import ops as _ops  # submodules are bound once chainrule.tensor has loaded


class ElementwiseMethods:
    """Mixed into Tensor; every method forwards to ``chainrule.ops.elementwise``."""

    __slots__ = ()
