"""Tensor methods for reductions (ops/reduction.py): one line each, calling the op."""
from __future__ import annotations

from .. import ops as _ops  # submodules are bound once chainrule.tensor has loaded


def _inplace(t, op, *args):
    from ..tensor import inplace

    return inplace(t, op, *args)


class ReductionMethods:
    """Mixed into Tensor; every method forwards to ``chainrule.ops.reduction``."""

    __slots__ = ()

    def prod(self, dim=None, keepdim=False, *, dtype=None, **kwargs):
        return _ops.reduction.prod(self, dim, keepdim, dtype=dtype, **kwargs)

    def nansum(self, dim=None, keepdim=False, *, dtype=None, **kwargs):
        return _ops.reduction.nansum(self, dim, keepdim, dtype=dtype, **kwargs)

    def nanmean(self, dim=None, keepdim=False, *, dtype=None, **kwargs):
        return _ops.reduction.nanmean(self, dim, keepdim, dtype=dtype, **kwargs)

    def max(self, dim=None, keepdim=False, **kwargs):
        return _ops.reduction.max(self, dim, keepdim, **kwargs)

    def min(self, dim=None, keepdim=False, **kwargs):
        return _ops.reduction.min(self, dim, keepdim, **kwargs)

    def amax(self, dim=(), keepdim=False, **kwargs):
        return _ops.reduction.amax(self, dim, keepdim, **kwargs)

    def amin(self, dim=(), keepdim=False, **kwargs):
        return _ops.reduction.amin(self, dim, keepdim, **kwargs)

    def aminmax(self, *, dim=None, keepdim=False):
        return _ops.reduction.aminmax(self, dim=dim, keepdim=keepdim)

    def argmax(self, dim=None, keepdim=False, **kwargs):
        return _ops.reduction.argmax(self, dim, keepdim, **kwargs)

    def argmin(self, dim=None, keepdim=False, **kwargs):
        return _ops.reduction.argmin(self, dim, keepdim, **kwargs)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, **kwargs):
        return _ops.reduction.var(self, dim, unbiased, keepdim, correction=correction, **kwargs)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, **kwargs):
        return _ops.reduction.std(self, dim, unbiased, keepdim, correction=correction, **kwargs)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None, **kwargs):
        return _ops.reduction.norm(self, p, dim, keepdim, dtype, **kwargs)

    def logsumexp(self, dim, keepdim=False, **kwargs):
        return _ops.reduction.logsumexp(self, dim, keepdim, **kwargs)

    def cumsum(self, dim, *, dtype=None, **kwargs):
        return _ops.reduction.cumsum(self, dim, dtype=dtype, **kwargs)

    def logcumsumexp(self, dim):
        return _ops.reduction.logcumsumexp(self, dim)

    def cummax(self, dim):
        return _ops.reduction.cummax(self, dim)

    def cummin(self, dim):
        return _ops.reduction.cummin(self, dim)

    def cumsum_(self, dim, *, dtype=None):
        return _inplace(self, _ops.reduction.cumsum, dim)

    def cumprod_(self, dim, *, dtype=None):
        return _inplace(self, _ops.reduction.cumprod, dim)

    def cumprod(self, dim, *, dtype=None, **kwargs):
        return _ops.reduction.cumprod(self, dim, dtype=dtype, **kwargs)

    def all(self, dim=None, keepdim=False, **kwargs):
        return _ops.reduction.all(self, dim, keepdim, **kwargs)

    def any(self, dim=None, keepdim=False, **kwargs):
        return _ops.reduction.any(self, dim, keepdim, **kwargs)

    def count_nonzero(self, dim=None):
        return _ops.reduction.count_nonzero(self, dim)

    def median(self, dim=None, keepdim=False):
        return _ops.reduction.median(self, dim, keepdim)

    def nanmedian(self, dim=None, keepdim=False):
        return _ops.reduction.nanmedian(self, dim, keepdim)

    def mode(self, dim=-1, keepdim=False):
        return _ops.reduction.mode(self, dim, keepdim)

    def topk(self, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - torch's name
        return _ops.reduction.topk(self, k, dim, largest, sorted)

    def sort(self, dim=-1, descending=False, stable=False, **kwargs):
        return _ops.reduction.sort(self, dim, descending, stable, **kwargs)

    def argsort(self, dim=-1, descending=False, stable=False):
        return _ops.reduction.argsort(self, dim, descending, stable)

    def msort(self):
        return _ops.reduction.msort(self)

    def kthvalue(self, k, dim=-1, keepdim=False):
        return _ops.reduction.kthvalue(self, k, dim, keepdim)
