"""Tensor methods for shape and view ops (ops/shape.py): one line each, calling the op."""
from __future__ import annotations

from .. import ops as _ops  # submodules are bound once chainrule.tensor has loaded


def _inplace(t, op, *args):
    from ..tensor import inplace

    return inplace(t, op, *args)


def _restride(t, r):
    """Give ``t`` the shape of ``r``, a view of it (``squeeze_``, ``t_``, ...): PyTorch
    changes the metadata in place, bumps the version and records the view op's node."""
    from ..tensor import _check_inplace

    _check_inplace(t)
    t._data = r._data
    t._bump()
    if r.grad_fn is not None:
        t.grad_fn = r.grad_fn
    return t


class ShapeMethods:
    """Mixed into Tensor; every method forwards to ``chainrule.ops.shape``."""

    __slots__ = ()

    def ravel(self):
        return _ops.shape.ravel(self)

    def unflatten(self, dim, sizes):
        return _ops.shape.unflatten(self, dim, sizes)

    def movedim(self, source, destination):
        return _ops.shape.movedim(self, source, destination)

    moveaxis = movedim

    def broadcast_to(self, shape):
        return _ops.shape.broadcast_to(self, shape)

    def repeat(self, *sizes):
        return _ops.shape.repeat(self, *sizes)

    def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
        return _ops.shape.repeat_interleave(self, repeats, dim, output_size=output_size)

    def tile(self, *args, dims=None):
        if dims is None:
            dims = args[0] if len(args) == 1 else args
        return _ops.shape.tile(self, dims)

    def split(self, split_size, dim=0):
        return _ops.shape.split(self, split_size, dim)

    def as_strided(self, size, stride, storage_offset=None):
        from .._misc_ops import as_strided

        return as_strided(self, size, stride, storage_offset)

    def split_with_sizes(self, split_sizes, dim=0):
        return _ops.shape.split(self, list(split_sizes), dim)

    unsafe_split = split

    def unsafe_chunk(self, chunks, dim=0):
        return _ops.shape.chunk(self, chunks, dim)

    def narrow_copy(self, dim, start, length):
        return _ops.shape.narrow(self, dim, start, length).clone()

    def chunk(self, chunks, dim=0):
        return _ops.shape.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return _ops.shape.unbind(self, dim)

    def tensor_split(self, indices_or_sections, dim=0):
        return _ops.shape.tensor_split(self, indices_or_sections, dim)

    def unfold(self, dimension, size, step):
        return _ops.shape.unfold(self, dimension, size, step)

    def narrow(self, dim, start, length):
        return _ops.shape.narrow(self, dim, start, length)

    def flip(self, *args, dims=None):
        if dims is None:
            dims = args[0] if len(args) == 1 else args
        return _ops.shape.flip(self, dims)

    def fliplr(self):
        return _ops.shape.fliplr(self)

    def flipud(self):
        return _ops.shape.flipud(self)

    def roll(self, shifts, dims=None):
        return _ops.shape.roll(self, shifts, dims)

    def rot90(self, k=1, dims=(0, 1)):
        return _ops.shape.rot90(self, k, dims)

    def hsplit(self, indices_or_sections):
        return _ops.shape.hsplit(self, indices_or_sections)

    def vsplit(self, indices_or_sections):
        return _ops.shape.vsplit(self, indices_or_sections)

    def dsplit(self, indices_or_sections):
        return _ops.shape.dsplit(self, indices_or_sections)

    def tril_(self, diagonal=0):
        return _inplace(self, _ops.shape.tril, diagonal)

    def triu_(self, diagonal=0):
        return _inplace(self, _ops.shape.triu, diagonal)

    def tril(self, diagonal=0):
        return _ops.shape.tril(self, diagonal)

    def triu(self, diagonal=0):
        return _ops.shape.triu(self, diagonal)

    def diag(self, diagonal=0):
        return _ops.shape.diag(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return _ops.shape.diagonal(self, offset, dim1, dim2)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return _ops.shape.diag_embed(self, offset, dim1, dim2)

    def diagflat(self, offset=0):
        return _ops.shape.diagflat(self, offset)

    # -- in-place shape changes (the tensor now views its memory differently) ------------
    def squeeze_(self, dim=None):
        return _restride(self, _ops.shape.squeeze(self, dim))

    def unsqueeze_(self, dim):
        return _restride(self, _ops.shape.unsqueeze(self, dim))

    def t_(self):
        return _restride(self, _ops.shape.t(self))

    def transpose_(self, dim0, dim1):
        return _restride(self, _ops.shape.transpose(self, dim0, dim1))

    swapaxes_ = swapdims_ = transpose_

    def resize_(self, *sizes, memory_format=None):
        """Keep the first elements (in memory order) under the new shape; new ones are 0."""
        import numpy as np

        from ..ops.creation import _size

        if self._requires_grad:
            raise RuntimeError("cannot resize variables that require grad")
        shape = _size(sizes, "resize_")
        n = int(np.prod(shape, dtype=np.int64))
        flat = self._data.reshape(-1)
        if n <= flat.size and self._data.flags.c_contiguous:
            self._data = flat[:n].reshape(shape)  # same memory, as PyTorch
        else:
            new = np.zeros(n, self._data.dtype)
            k = min(n, flat.size)
            new[:k] = flat[:k]
            self._data = new.reshape(shape)
        self._bump()
        return self

    def resize_as_(self, other, memory_format=None):
        return self.resize_(other.shape)

    # -- the sparse COO layout (chainrule/sparse.py): a dense tensor answers as PyTorch's --
    def to_sparse(self, *args, **kwargs):
        from .. import sparse

        return sparse.to_sparse(self, *args, **kwargs)

    def sparse_dim(self) -> int:
        return 0

    def dense_dim(self) -> int:
        return self._data.ndim

    def indices(self):
        raise RuntimeError("indices expected sparse coordinate tensor layout but got Strided")

    def values(self):
        raise RuntimeError("values expected sparse tensor layout but got Strided")

    def coalesce(self):
        raise RuntimeError("coalesce expected sparse coordinate tensor layout but got Strided")

    def is_coalesced(self):
        raise RuntimeError("is_coalesced expected sparse coordinate tensor layout but got "
                           "Strided")

    def _indices(self):
        raise _not_sparse("_indices")

    def _values(self):
        raise _not_sparse("_values")

    def _nnz(self):
        raise _not_sparse("_nnz")


def _not_sparse(op: str) -> NotImplementedError:
    return NotImplementedError(f"Could not run 'aten::{op}' with arguments from the 'CPU' "
                               f"backend: it needs a sparse tensor (see Tensor.to_sparse)")
