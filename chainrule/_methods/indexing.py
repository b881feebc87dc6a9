"""Tensor methods for indexing, gather/scatter and masking (ops/indexing.py): one line each, calling the op."""
from __future__ import annotations

from .. import ops as _ops  # submodules are bound once chainrule.tensor has loaded


class IndexingMethods:
    """Mixed into Tensor; every method forwards to ``chainrule.ops.indexing``."""

    __slots__ = ()

    def __getitem__(self, key):
        return _ops.indexing.getitem(self, key)

    def __setitem__(self, key, value):
        _ops.indexing.setitem(self, key, value)

    def index_select(self, dim, index):
        return _ops.indexing.index_select(self, dim, index)

    def gather(self, dim, index, *, sparse_grad=False):
        return _ops.indexing.gather(self, dim, index)

    def take_along_dim(self, indices, dim=None):
        return _ops.indexing.take_along_dim(self, indices, dim)

    def take(self, index):
        return _ops.indexing.take(self, index)

    def scatter(self, dim, index, src=None, value=None, *, reduce=None):
        return _ops.indexing.scatter(self, dim, index, src, value, reduce=reduce)

    def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
        return _ops.indexing.scatter_(self, dim, index, src, value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        return _ops.indexing.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim, index, src):
        return _ops.indexing.scatter_add_(self, dim, index, src)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        return _ops.indexing.scatter_reduce(self, dim, index, src, reduce,
                                            include_self=include_self)

    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
        return _ops.indexing.scatter_reduce_(self, dim, index, src, reduce,
                                             include_self=include_self)

    def index_add(self, dim, index, source, *, alpha=1):
        return _ops.indexing.index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self, dim, index, source, *, alpha=1):
        return _ops.indexing.index_add_(self, dim, index, source, alpha=alpha)

    def index_copy(self, dim, index, source):
        return _ops.indexing.index_copy(self, dim, index, source)

    def index_copy_(self, dim, index, source):
        return _ops.indexing.index_copy_(self, dim, index, source)

    def index_fill(self, dim, index, value):
        return _ops.indexing.index_fill(self, dim, index, value)

    def index_fill_(self, dim, index, value):
        return _ops.indexing.index_fill_(self, dim, index, value)

    def index_put(self, indices, values, accumulate=False):
        return _ops.indexing.index_put(self, indices, values, accumulate)

    def index_put_(self, indices, values, accumulate=False):
        return _ops.indexing.index_put_(self, indices, values, accumulate)

    def masked_fill(self, mask, value):
        return _ops.indexing.masked_fill(self, mask, value)

    def masked_fill_(self, mask, value):
        return _ops.indexing.masked_fill_(self, mask, value)

    def masked_select(self, mask):
        return _ops.indexing.masked_select(self, mask)

    def masked_scatter(self, mask, source):
        return _ops.indexing.masked_scatter(self, mask, source)

    def masked_scatter_(self, mask, source):
        return _ops.indexing.masked_scatter_(self, mask, source)

    def put(self, index, source, accumulate=False):
        return _ops.indexing.put(self, index, source, accumulate)

    def put_(self, index, source, accumulate=False):
        return _ops.indexing.put_(self, index, source, accumulate)

    def nonzero(self, *, as_tuple=False):
        return _ops.indexing.nonzero(self, as_tuple=as_tuple)

    def argwhere(self):
        return _ops.indexing.argwhere(self)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return _ops.indexing.unique(self, sorted, return_inverse, return_counts, dim)

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        return _ops.indexing.unique_consecutive(self, return_inverse, return_counts, dim)

    def select(self, dim, index):
        return _ops.indexing.select(self, dim, index)

    def select_scatter(self, src, dim, index):
        return _ops.indexing.select_scatter(self, src, dim, index)

    def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
        return _ops.indexing.slice_scatter(self, src, dim, start, end, step)

    def index_reduce(self, dim, index, source, reduce, *, include_self=True):
        return _ops.indexing.index_reduce(self, dim, index, source, reduce,
                                          include_self=include_self)

    def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
        return _ops.indexing.index_reduce_(self, dim, index, source, reduce,
                                           include_self=include_self)

    def bincount(self, weights=None, minlength=0):
        return _ops.indexing.bincount(self, weights, minlength)

    def diagonal_scatter(self, src, offset=0, dim1=0, dim2=1):
        return _ops.indexing.diagonal_scatter(self, src, offset, dim1, dim2)

    def nonzero_static(self, *, size, fill_value=-1):
        return _ops.indexing.nonzero_static(self, size=size, fill_value=fill_value)
