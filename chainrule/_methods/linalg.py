"""Tensor methods for linear algebra (ops/linalg.py): one line each, calling the op."""
from __future__ import annotations

from .. import ops as _ops  # submodules are bound once chainrule.tensor has loaded


class LinalgMethods:
    """Mixed into Tensor; every method forwards to ``chainrule.ops.linalg``."""

    __slots__ = ()
