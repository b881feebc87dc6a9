"""Indexing: basic and advanced indexing, gather/scatter, masking; each node by its function."""
from __future__ import annotations

__all__: list = []
