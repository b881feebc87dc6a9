"""Tensor methods for indexing, gather/scatter and masking (ops/indexing.py): one line each, calling the op."""
from __future__ import annotations

from .. import ops as _ops  # submodules are bound once chainrule.tensor has loaded


class IndexingMethods:
    """Mixed into Tensor; every method forwards to ``chainrule.ops.indexing``."""

    __slots__ = ()
