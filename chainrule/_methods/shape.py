"""Tensor methods for shape and view ops (ops/shape.py): one line each, calling the op."""
from __future__ import annotations

from .. import ops as _ops  # submodules are bound once chainrule.tensor has loaded


def _inplace(t, op, *args):
    from ..tensor import inplace

    return inplace(t, op, *args)


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

    def chunk(self, chunks, dim=0):
        return _ops.shape.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return _ops.shape.unbind(self, dim)

    def tensor_split(self, indices_or_sections, dim=0):
        return _ops.shape.tensor_split(self, indices_or_sections, dim)

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
