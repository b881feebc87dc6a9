"""Tensor methods for reductions (ops/reduction.py): one line each, calling the op."""
from __future__ import annotations

from .. import ops as _ops  # submodules are bound once chainrule.tensor has loaded


class ReductionMethods:
    """Mixed into Tensor; every method forwards to ``chainrule.ops.reduction``."""

    __slots__ = ()
