"""torch.sparse: a minimal COO sparse tensor, stored densely, with PyTorch's COO API.

A ``SparseTensor`` is a ``Tensor`` subclass. Its ``_data`` is the full dense NumPy array
(storage is dense: no memory is saved); beside it, it keeps the COO description PyTorch
answers with: ``indices`` (sparse_dim x nnz, int64), ``values`` (nnz, *dense_dims) and a
coalesced flag. The dense array is the sum of the values at their indices, so duplicates
add up as in PyTorch's ``coalesce``.

Gradients: the one node below scatters the values into the dense array; its backward
gathers the dense gradient at the indices, which is the gradient PyTorch gives ``values``.
Ops not written here (``s * 2``, ``s.sum()``, ``torch.mm(s, d)``) see the dense array and
return dense tensors with the values PyTorch gives (PyTorch keeps some of them sparse).
The gradient a sparse leaf receives is a dense tensor; ``torch.sparse.mm`` masks it to the
sparsity pattern, as PyTorch's sparse gradient does, ``s @ d`` does not (as PyTorch).

>>> import chainrule as torch
>>> s = torch.sparse_coo_tensor([[0, 1], [1, 0]], [2., 3.], (2, 2))
>>> s.to_dense()
tensor([[0., 2.],
        [3., 0.]])
>>> torch.sparse.mm(s, torch.ones(2, 1))
tensor([[2.],
        [3.]])
"""
from __future__ import annotations

import numpy as np

from . import _dtype
from ._memory_format import sparse_coo
from .autograd.function import Node, edge
from .autograd.grad_mode import grad_state
from .ops._broadcast import canon_dim
from .tensor import Tensor, _make, _new

__all__ = ["SparseTensor", "mm", "sparse_coo_tensor", "sum"]

# ======================================================================================
# The node: values scattered into the dense array
# ======================================================================================
class SparseCooTensorWithDimsAndTensorsBackward0(Node):
    """out = zeros(size); out[indices[:, k]] += values[k]:  dvalues = g[indices]"""

    __slots__ = ("index", "size")
    saved_spec = ()

    def backward(self, g):
        return (g[self.index],)

    def jvp(self, tangents):
        t = tangents[0]
        if isinstance(t, Tensor):
            return _scatter(t, self.index, self.size)
        out = np.zeros(self.size, np.asarray(t).dtype)
        np.add.at(out, self.index, t)
        return out


def _scatter(values: Tensor, index: tuple, size) -> Tensor:
    """The dense Tensor with ``values`` added at ``index`` (differentiable in values)."""
    out = np.zeros(size, values._data.dtype)
    np.add.at(out, index, values._data)
    if values._requires_grad and grad_state.enabled:
        node = SparseCooTensorWithDimsAndTensorsBackward0()
        node.next_functions = (edge(values),)
        node.saved = ()
        node.index, node.size = index, tuple(size)
        return _make(out, True, node)
    return _make(out, False, None)


# ======================================================================================
# The tensor
# ======================================================================================
class SparseTensor(Tensor):
    """A COO sparse tensor (``layout=torch.sparse_coo``) whose storage is a dense array."""

    __slots__ = ("_sp_coalesced", "_sp_indices", "_sp_values")

    is_sparse = property(lambda self: True)

    @property
    def layout(self):
        return sparse_coo

    def sparse_dim(self) -> int:
        return self._sp_indices.shape[0]

    def dense_dim(self) -> int:
        return self._data.ndim - self._sp_indices.shape[0]

    def _nnz(self) -> int:
        return self._sp_indices.shape[1]

    def is_coalesced(self) -> bool:
        return self._sp_coalesced

    def _indices(self) -> Tensor:
        return _make(self._sp_indices, False, None)

    def _values(self) -> Tensor:
        return self._sp_values

    def indices(self) -> Tensor:
        if not self._sp_coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._indices()

    def values(self) -> Tensor:
        if not self._sp_coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        if self._requires_grad:  # read back from this tensor, so gradients pass through it
            return Tensor.__getitem__(self, tuple(self._sp_indices))
        return self._sp_values

    def coalesce(self) -> SparseTensor:
        """Duplicates summed, indices sorted (row-major); entries that sum to 0 stay."""
        if self._sp_coalesced:
            return self
        sparse_shape = self._data.shape[:self.sparse_dim()]
        flat = np.unique(np.ravel_multi_index(tuple(self._sp_indices), sparse_shape))
        idx = np.stack(np.unravel_index(flat, sparse_shape)).astype(np.int64).reshape(
            len(sparse_shape), -1)
        return _from_dense(self, idx)

    def to_dense(self, dtype=None, *, masked_grad=None) -> Tensor:
        out = Tensor.clone(self)  # a plain Tensor; the gradient reaches self unchanged
        return out if dtype is None else out.to(dtype)

    def to_sparse(self, *args, **kwargs) -> SparseTensor:
        return self

    def detach(self) -> SparseTensor:
        return _wrap(_make(self._data, False, None), self._sp_indices,
                     self._sp_values.detach(), self._sp_coalesced)

    def __matmul__(self, other):
        return _matmul(self, other, mask_grad=False)

    def __repr__(self) -> str:
        from ._tensor_str import _add_suffixes, _has_default_dtype

        idx, vals = self._sp_indices, self._sp_values._data
        text = ("tensor(indices=tensor(" + _body(idx, 22) + "),\n"
                "       values=tensor(" + _body(vals, 21) + "),\n"
                "       size=" + str(tuple(self._data.shape)))
        suffixes = [f"nnz={idx.shape[1]}"]
        if not _has_default_dtype(self._data.dtype):
            suffixes.append("dtype=" + repr(_dtype.from_numpy_dtype(self._data.dtype)))
        suffixes.append("layout=torch.sparse_coo")
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        return _add_suffixes(text, suffixes, 7)


def _body(a: np.ndarray, indent: int) -> str:
    from ._tensor_str import _data_str

    if a.size == 0:
        return f"[], size={tuple(a.shape)}"
    return _data_str(a, indent)


def _wrap(dense: Tensor, indices: np.ndarray, values: Tensor, coalesced: bool) -> SparseTensor:
    """A SparseTensor standing for ``dense`` (same array, same graph node)."""
    t = _new(SparseTensor)
    t._data = dense._data
    t._requires_grad = dense._requires_grad
    t.grad_fn = dense.grad_fn
    t._sp_indices, t._sp_values, t._sp_coalesced = indices, values, coalesced
    return t


def _build(indices: np.ndarray, values: Tensor, size, coalesced: bool) -> SparseTensor:
    return _wrap(_scatter(values, tuple(indices), size), indices, values, coalesced)


def _from_dense(x: Tensor, indices: np.ndarray) -> SparseTensor:
    """The coalesced sparse tensor holding x at ``indices`` (unique, sorted); the values are
    read from x differentiably, so gradients reach x."""
    values = Tensor.__getitem__(x, tuple(indices))
    return _build(indices, values, x._data.shape, True)


# ======================================================================================
# Construction and conversion
# ======================================================================================
def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      pin_memory=False, requires_grad=False, check_invariants=None,
                      is_coalesced=None) -> SparseTensor:
    """A COO tensor with ``values[k]`` at ``indices[:, k]`` (duplicates add up).

    >>> import chainrule as torch
    >>> torch.sparse_coo_tensor([[0, 2]], [1., 5.], (4,)).to_dense()
    tensor([1., 0., 5., 0.])
    """
    from .ops.creation import tensor as _tensor

    idx = np.asarray(indices._data if isinstance(indices, Tensor) else indices)
    if idx.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(idx.shape)}")
    idx = idx.astype(np.int64)
    if not isinstance(values, Tensor):
        values = _tensor(values, dtype=dtype)
    elif dtype is not None and values.dtype != _dtype.to_dtype(dtype):
        values = values.to(dtype)
    if values.dim() == 0:
        raise RuntimeError("values must be at least 1-dimensional (nnz, *dense_dims)")
    sparse_dim, nnz = idx.shape
    if values.shape[0] != nnz:
        raise RuntimeError("indices and values must have same nnz, but got nnz from indices: "
                           f"{nnz}, nnz from values: {values.shape[0]}")
    dense_shape = tuple(values.shape[1:])
    if size is None:
        size = tuple(int(r.max()) + 1 if nnz else 0 for r in idx) + dense_shape
    else:
        size = tuple(int(s) for s in size)
        if len(size) != sparse_dim + len(dense_shape):
            raise RuntimeError("'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) "
                               f"= {len(size)}, sparse_dim = {sparse_dim}, dense_dim = "
                               f"{len(dense_shape)}")
        if size[sparse_dim:] != dense_shape:
            raise RuntimeError(f"values has incorrect size, expected {list(size[sparse_dim:])}"
                               f" for the dense dims, got {list(dense_shape)}")
    for d in range(sparse_dim):  # checked always: the dense storage cannot hold them
        if nnz and idx[d].min() < 0:
            raise RuntimeError(f"found negative index {int(idx[d].min())} for dim {d}")
        if nnz and idx[d].max() >= size[d]:
            raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is "
                               f"{size[d]} but found index {int(idx[d].max())}")
    if requires_grad:
        values = values.detach()
    out = _build(idx, values, size, bool(is_coalesced))
    if requires_grad:
        out.requires_grad_()
    return out


def to_sparse(x: Tensor, sparse_dim: int | None = None, *, layout=None, blocksize=None,
              dense_dim=None) -> SparseTensor:
    """``Tensor.to_sparse``: the nonzero entries (nonzero slices, for a hybrid tensor with
    fewer sparse dims) of a dense tensor, coalesced."""
    if isinstance(x, SparseTensor):
        return x
    if layout is not None and layout != sparse_coo:
        raise NotImplementedError(f"to_sparse: only layout=torch.sparse_coo is supported "
                                  f"here, got {layout}")
    a = x._data
    if sparse_dim is None:
        sparse_dim = a.ndim - (dense_dim or 0)
    if not 0 <= sparse_dim <= a.ndim:
        raise RuntimeError(f"sparse_dim argument must be in [0, {a.ndim}] range, but "
                           f"{sparse_dim} is given")
    nonzero = a != 0
    if sparse_dim < a.ndim:
        nonzero = nonzero.any(axis=tuple(range(sparse_dim, a.ndim)))
    idx = np.stack(np.nonzero(nonzero)).astype(np.int64).reshape(sparse_dim, -1)
    return _from_dense(x, idx)


# ======================================================================================
# torch.sparse functions
# ======================================================================================
def _matmul(mat1, mat2, mask_grad: bool):
    from .ops.linalg import matmul

    a = mat1
    if mask_grad and isinstance(mat1, SparseTensor) and mat1._requires_grad:
        # PyTorch's gradient for the sparse operand lives on its pattern only
        mask = np.zeros(mat1._data.shape, mat1._data.dtype)
        mask[tuple(mat1._sp_indices)] = 1
        a = mat1 * _make(mask, False, None)
    out = matmul(a, mat2)
    if isinstance(mat1, SparseTensor) and isinstance(mat2, SparseTensor):
        return to_sparse(out)
    return out


def mm(mat1: Tensor, mat2: Tensor) -> Tensor:
    """sparse @ dense (dense result) or sparse @ sparse (sparse result); the sparse
    operand's gradient is kept to its pattern, as in PyTorch.

    >>> import chainrule as torch
    >>> s = torch.eye(2).to_sparse()
    >>> torch.sparse.mm(s, torch.tensor([[1.], [2.]]))
    tensor([[1.],
            [2.]])
    """
    if mat1.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"sparse.mm: expected 2-D operands, got {mat1.dim()}-D and "
                           f"{mat2.dim()}-D")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {mat1.shape[1]}, "
                           f"got {mat2.shape[0]}")
    return _matmul(mat1, mat2, mask_grad=True)


def sum(input: Tensor, dim=None, dtype=None) -> Tensor:  # torch.sparse.sum (shadows the builtin here)
    """Sum of a sparse tensor: a dense scalar with no ``dim``; over ``dim``, a sparse tensor
    on the remaining sparse dims (dense once every sparse dim is summed).

    >>> import chainrule as torch
    >>> s = torch.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3., 4., 5.])
    >>> torch.sparse.sum(s)
    tensor(12.)
    """
    s = input
    if dtype is not None:
        s = s.to(dtype)  # dense from here on; the pattern is read from input
    if dim is None:
        return Tensor.sum(s)
    dims = [dim] if isinstance(dim, int) else list(dim)
    dims = sorted({canon_dim(d, input.dim()) for d in dims})
    out = Tensor.sum(s, dim=tuple(dims))
    if not isinstance(input, SparseTensor):
        return out
    sd = input.sparse_dim()
    kept = [d for d in range(sd) if d not in dims]
    if not kept:
        return out
    rows = input._sp_indices[kept]
    shape = tuple(input._data.shape[d] for d in kept)
    flat = np.unique(np.ravel_multi_index(tuple(rows), shape)) if rows.shape[1] else \
        np.zeros(0, np.int64)
    idx = np.stack(np.unravel_index(flat, shape)).astype(np.int64).reshape(len(kept), -1)
    return _from_dense(out, idx)
