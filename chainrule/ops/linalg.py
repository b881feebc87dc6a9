"""Linear algebra: matmul and friends, decompositions and norms, with PyTorch's rules and messages.

Backward formulas are written once for both paths: on NumPy arrays (plain backward) and on
Tensors (``create_graph=True``). Matrix functions they call (inverse, solve, ...) go through
small dispatchers (``_inv``, ``_solve``, ``_solve_tri``) that pick ``numpy.linalg`` for arrays
and this module's differentiable ops for Tensors, so second-order gradients come for free.
"""
from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from .. import _dtype
from ..autograd.function import (
    FREED,
    NO_EDGE,
    OUTPUT,
    SECOND_BACKWARD_MSG,
    Node,
    array_versions,
    as_graph_tensor,
    edge,
    stamp_versions,
)
from ..autograd.grad_mode import grad_state
from ..tensor import Tensor, _make
from ._broadcast import broadcast_to as _broadcast_to
from ._broadcast import canon_dim, canon_dims, shape_str, sum_to

__all__ = [
    'addbmm',
    'addmm',
    'addmv',
    'addr',
    'baddbmm',
    'block_diag',
    'bmm',
    'cdist',
    'chain_matmul',
    'cholesky',
    'cholesky_inverse',
    'cholesky_solve',
    'cross',
    'det',
    'dist',
    'dot',
    'einsum',
    'frobenius_norm',
    'ger',
    'inner',
    'inverse',
    'is_tensor',
    'kron',
    'logdet',
    'lu',
    'lu_solve',
    'lu_unpack',
    'matmul',
    'matrix_exp',
    'matrix_power',
    'mm',
    'mv',
    'nuclear_norm',
    'outer',
    'pca_lowrank',
    'pinverse',
    'qr',
    'slogdet',
    'svd',
    'svd_lowrank',
    'tensordot',
    'trace',
    'triangular_solve',
    'vander',
    'vdot',
]

_ndarray = np.ndarray
_new = object.__new__


class LinAlgError(RuntimeError):
    """Raised when a matrix is singular or not positive-definite (``torch.linalg.LinAlgError``)."""


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


# ======================================================================================
# Helpers shared by the formulas (each works on arrays and on Tensors)
# ======================================================================================
def _is_arr(x) -> bool:
    return type(x) is _ndarray or isinstance(x, np.generic)


def _const(a):
    return _make(np.asarray(a), False, None)


def _tensor(x):
    """Operands given as arrays or numbers become constant Tensors."""
    return x if isinstance(x, Tensor) else _const(np.asarray(x))


def _mT(x):
    return x.swapaxes(-1, -2)


def _mH(x):
    if _is_arr(x):
        return np.conj(x).swapaxes(-1, -2) if x.dtype.kind == "c" else x.swapaxes(-1, -2)
    if x._data.dtype.kind == "c":
        return x.conj().swapaxes(-1, -2)
    if not x._requires_grad:  # a constant (create_graph over data): nothing to record
        return _const(x._data.swapaxes(-1, -2))
    return x.t() if x._data.ndim == 2 else x.swapaxes(-1, -2)  # t(): TBackward0, as torch


def _conj(x):
    if _is_arr(x):
        return np.conj(x) if x.dtype.kind == "c" else x
    return x.conj() if x._data.dtype.kind == "c" else x


def _arr(x) -> np.ndarray:
    return x if _is_arr(x) else x._data


def _unsq(x, axis):
    """``x`` with a new axis of size 1 at ``axis`` (negative counts from the end)."""
    shape = tuple(x.shape)
    if axis < 0:
        axis = len(shape) + 1 + axis
    return x.reshape(shape[:axis] + (1,) + shape[axis:])


def _diag_embed(v):
    """Batched diagonal matrices from the last dim of ``v``."""
    n = v.shape[-1]
    return _unsq(v, -1) * np.eye(n, dtype=_arr(v).dtype)


def _diagonal(x):
    if _is_arr(x):
        return np.diagonal(x, 0, -2, -1)
    n = min(x.shape[-2], x.shape[-1])
    r = np.arange(n)
    return x[..., r, r]


def _tril(x, k=0):
    return x * np.tril(np.ones(x.shape[-2:], _arr(x).dtype), k)


def _triu(x, k=0):
    return x * np.triu(np.ones(x.shape[-2:], _arr(x).dtype), k)


def _inv(a):
    return np.linalg.inv(a) if _is_arr(a) else linalg_inv(a)


def _solve(a, b):
    """A^{-1} B for matrices B."""
    return np.linalg.solve(a, b) if _is_arr(a) and _is_arr(b) else linalg_solve(
        _tensor(a), _tensor(b))


def _solve_tri(a, b, upper, left=True):
    if _is_arr(a) and _is_arr(b):
        return np.linalg.solve(a, b) if left else _mT(np.linalg.solve(_mT(a), _mT(b)))
    return linalg_solve_triangular(_tensor(a), _tensor(b), upper=upper, left=left)


def _cat(a, b, axis):
    """Concatenate along ``axis`` (-1 or -2), arrays or Tensors."""
    if _is_arr(a) and _is_arr(b):
        return np.concatenate([a, b], axis)
    from .indexing import _embed

    shape = list(a.shape)
    na = shape[axis]
    shape[axis] += b.shape[axis]
    tail = (slice(None),) * (-1 - axis)
    return _embed(_tensor(a), tuple(shape), (Ellipsis, slice(0, na)) + tail, False) + _embed(
        _tensor(b), tuple(shape), (Ellipsis, slice(na, None)) + tail, False)


def _cat_last(a, b):
    return _cat(a, b, -1)


def _reduce_batch(g, shape):
    """Sum a gradient over broadcast batch dims back to ``shape``."""
    if tuple(g.shape) == tuple(shape):
        return g
    return sum_to(g, tuple(shape))


def _name(dt) -> str:
    return _dtype.from_numpy_dtype(dt).name


_SCALAR_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                 "uint8": "Byte", "bool": "Bool", "float16": "Half", "float32": "Float",
                 "float64": "Double", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _scalar_name(dt) -> str:
    """PyTorch's ScalarType name (``Long``, ``Float``, ...)."""
    return _SCALAR_NAMES.get(np.dtype(dt).name, _name(dt).capitalize())


def _check_float(name, x, what="A"):
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{_scalar_name(x.dtype)}")


def _check_square(name, a, what="A"):
    if a.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {what} must have at least 2 dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{name}: {what} must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")
    _check_float(name, a)


# ======================================================================================
# Forward mode (jvp) shortcuts
# ======================================================================================
def _bilinear_jvp(prod, ta, tb, a, b):
    """``d prod(a, b) = prod(ta, b) + prod(a, tb)`` for a product linear in each operand
    (matmul, mv, dot, cross, ...); None tangents contribute nothing."""
    out = None
    if ta is not None:
        out = prod(ta, b)
    if tb is not None:
        out = prod(a, tb) if out is None else out + prod(a, tb)
    return out


def _matmul(x, y):
    return x @ y


def _zeros_like_shape(ref, shape):
    z = np.zeros(tuple(shape), _arr(ref).dtype)
    return z if _is_arr(ref) else _const(z)


def _pinv_jvp(a, p, t):
    """P = pinv(A):  dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P"""
    th = _mH(t)
    ph = _mH(p)
    d = -(p @ t @ p)
    d = d + (p @ ph) @ (th - (th @ a) @ p)
    return d + (th - p @ (a @ th)) @ (ph @ p)


def _lu_jvp(p, l_, u, t):
    """A = P L U (L unit lower m x k, U upper k x n):  with the top k x k blocks L1, U1 and
    X = L1^{-1} (P^T dA)_{k x k} U1^{-1}:  dL1 = L1 tril(X, -1), dU1 = triu(X) U1; the rows of
    a tall L below L1 and the columns of a wide U right of U1 follow from P^T dA = dL U + L dU."""
    m, n = l_.shape[-2], u.shape[-1]
    k = min(m, n)
    da = _mH(p) @ t
    l1, u1 = l_[..., :k, :], u[..., :, :k]
    y = _solve_tri(l1, da[..., :k, :k], False)  # L1^{-1} dA11
    x = _mH(_solve_tri(_mH(u1), _mH(y), False))  # ... U1^{-1}
    dl1 = l1 @ _tril(x, -1)
    du1 = _triu(x) @ u1
    dl, du = dl1, du1
    if m > k:  # dA21 = dL2 U1 + L2 dU1
        rest = da[..., k:, :k] - l_[..., k:, :] @ du1
        dl = _cat(dl1, _mH(_solve_tri(_mH(u1), _mH(rest), False)), -2)
    if n > k:  # dA12 = dL1 U2 + L1 dU2
        rest = da[..., :k, k:] - dl1 @ u[..., :, k:]
        du = _cat(du1, _solve_tri(l1, rest, False), -1)
    return dl, du


def _trace_of_solve(a, t):
    """``trace(A^{-1} T)`` over the last two dims (the derivative of log|det A|)."""
    s = _solve(a, t)
    n = s.shape[-1]
    return (s * np.eye(n, dtype=_arr(s).dtype)).sum(axis=(-2, -1))


def _record(node_cls, out, inputs, saved):
    if grad_state.enabled and out.dtype.kind in "fc":
        needs = [isinstance(t, Tensor) and t._requires_grad for t in inputs]
        if any(needs):
            node = node_cls()
            node.next_functions = tuple(edge(t) if n else NO_EDGE for t, n in zip(inputs, needs))
            node.saved = saved
            return _make(out, True, node)
    return _make(out, False, None)


class _MultiOutputNode(Node):
    """A node with several outputs; saved_spec ``-1 - i`` means "output i"."""

    __slots__ = ()

    def apply(self, grad, create_graph):
        saved = self.saved
        if saved is FREED:
            raise RuntimeError(SECOND_BACKWARD_MSG)
        if create_graph:
            grad = [as_graph_tensor(g) for g in grad]
            saved = self._saved_tensors()
        return self.backward(grad, *saved)

    def _saved_tensors(self):
        out = []
        for value, src in zip(self.saved, self.saved_spec):
            if isinstance(value, np.ndarray) and src is not None and src < 0:
                out.append(_make(value, True, self, -1 - src))
            elif isinstance(value, np.ndarray) and src is not None and src >= 0:
                fn, nr = self.next_functions[src]
                if fn is None:
                    out.append(_make(value, False, None))
                elif hasattr(fn, "variable"):
                    out.append(fn.variable)
                else:
                    out.append(_make(value, True, fn, nr))
            elif isinstance(value, np.ndarray):
                out.append(_make(value, False, None))
            else:
                out.append(value)
        return tuple(out)


def _record_multi(node_cls, outs, inputs, saved):
    """Wrap several outputs of one node (only float outputs get the node)."""
    if grad_state.enabled and any(isinstance(t, Tensor) and t._requires_grad for t in inputs):
        node = node_cls()
        node.next_functions = tuple(edge(t) if isinstance(t, Tensor) and t._requires_grad
                                    else NO_EDGE for t in inputs)
        node.saved = saved
        node.num_outputs = len(outs)
        return node, tuple(_make(o, True, node, i) if o.dtype.kind in "fc"
                           else _make(o, False, None) for i, o in enumerate(outs))
    return None, tuple(_make(o, False, None) for o in outs)


# ======================================================================================
# matmul, mm, dot and the products built on them
# ======================================================================================
class MmBackward0(Node):
    """out = a @ b (2-D):  da = g @ b.T,  db = a.T @ g"""

    __slots__ = ()

    def backward(self, g, a, b):
        fa, fb = self.next_functions
        if type(g) is _ndarray and g.dtype.kind != "c":  # the common real case: plain .T
            if g.ndim == 2:
                # ndarray.dot, not @: the same BLAS call, ~0.5 us less overhead on small
                # matrices (a batch of gradients, (B, m, n), takes @)
                return (g.dot(b.T) if fa[0] is not None else None,
                        a.T.dot(g) if fb[0] is not None else None)
            return (g @ b.T if fa[0] is not None else None,
                    a.T @ g if fb[0] is not None else None)
        return (g @ _mH(b) if fa[0] is not None else None,
                _mH(a) @ g if fb[0] is not None else None)

    def jvp(self, tangents, a, b):
        return _bilinear_jvp(_matmul, *tangents, a, b)

    jvp_batched = True  # NumPy's matmul broadcasts leading batch dims of the tangents


class BmmBackward0(MmBackward0):
    """out = a @ b (3-D batches):  da = g @ b^T,  db = a^T @ g"""

    __slots__ = ()

    def backward(self, g, a, b):
        fa, fb = self.next_functions
        return (g @ _mH(b) if fa[0] is not None else None,
                _mH(a) @ g if fb[0] is not None else None)


class MatmulBackward0(Node):
    """out = a @ b with PyTorch's 1-D / batched rules; 1-D operands are lifted to 2-D."""

    __slots__ = ("shapes",)

    def backward(self, g, a, b):
        fa, fb = self.next_functions
        sa, sb = self.shapes
        a2 = a.reshape((1,) + sa) if len(sa) == 1 else a
        b2 = b.reshape(sb + (1,)) if len(sb) == 1 else b
        g2 = g
        if len(sa) == 1:
            g2 = g2.reshape(g2.shape[:-1] + (1,) + g2.shape[-1:]) if len(sb) > 1 else \
                g2.reshape(g2.shape + (1,))
        if len(sb) == 1:
            g2 = g2.reshape(g2.shape + (1,))
        ga = gb = None
        if fa[0] is not None:
            ga = sum_to(g2 @ _mH(b2), a2.shape if len(sa) > 1 else (1,) + sa).reshape(sa)
        if fb[0] is not None:
            gb = sum_to(_mH(a2) @ g2, b2.shape if len(sb) > 1 else sb + (1,)).reshape(sb)
        return ga, gb

    def jvp(self, tangents, a, b):
        return _bilinear_jvp(_matmul, *tangents, a, b)

    def backward_batch(self, g, a, b):
        """The formula for gradients with one leading batch dim (a batch of cotangents):
        vector operands make outer products. None (the caller loops) for other mixes of
        ranks, and where batch dims broadcast."""
        if g.dtype.kind == "c" or (a.ndim > 2 or b.ndim > 2) and a.shape[:-2] != b.shape[:-2]:
            return None
        fa, fb = self.next_functions
        if a.ndim >= 2 and b.ndim >= 2:
            return (g @ b.swapaxes(-1, -2) if fa[0] is not None else None,
                    a.swapaxes(-1, -2) @ g if fb[0] is not None else None)
        if a.ndim == 2 and b.ndim == 1:  # out (m,): g (B, m)
            return (g[:, :, None] * b if fa[0] is not None else None,
                    g @ a if fb[0] is not None else None)
        if a.ndim == 1 and b.ndim == 2:  # out (n,): g (B, n)
            return (g @ b.T if fa[0] is not None else None,
                    a[:, None] * g[:, None, :] if fb[0] is not None else None)
        if a.ndim == 1 and b.ndim == 1:  # out (): g (B,)
            return (g[:, None] * b if fa[0] is not None else None,
                    g[:, None] * a if fb[0] is not None else None)
        return None

    def jvp_batch(self, tangents, a, b):
        """The rule for tangents with one leading batch dim, where matmul's 1-D rules would
        misread it: a vector operand's batched tangent becomes a stack of column (or row)
        vectors. None (the caller loops) for other mixes of ranks."""
        ta, tb = tangents
        out = None
        if ta is not None:
            if a.ndim == b.ndim or (a.ndim >= 2 and b.ndim == 1):
                out = ta @ b
            elif a.ndim == 1 and b.ndim == 2:
                out = (ta[:, None, :] @ b)[:, 0, :]
            else:
                return None
        if tb is not None:
            if b.ndim >= 2 and a.ndim == b.ndim:
                p = a @ tb
            elif b.ndim == 1 and a.ndim <= 2:
                p = (a @ tb[:, :, None])[..., 0]
            elif a.ndim == 1 and b.ndim == 2:
                p = a @ tb
            else:
                return None
            out = p if out is None else out + p
        return out


class DotBackward0(Node):
    """out = a . b (1-D):  da = g * b,  db = g * a"""

    __slots__ = ()

    def backward(self, g, a, b):
        fa, fb = self.next_functions
        return (g * _conj(b) if fa[0] is not None else None,
                g * _conj(a) if fb[0] is not None else None)

    def jvp(self, tangents, a, b):
        return _bilinear_jvp(_matmul, *tangents, a, b)

    def backward_batch(self, g, a, b):  # g (B,): outer products with the operands
        if g.dtype.kind == "c":
            return None
        fa, fb = self.next_functions
        return (g[:, None] * b if fa[0] is not None else None,
                g[:, None] * a if fb[0] is not None else None)

    def jvp_batch(self, tangents, a, b):  # batched tangents (B, k): b @ t reads them right
        ta, tb = tangents
        out = None if ta is None else ta @ b
        return out if tb is None else (tb @ a if out is None else out + tb @ a)


def _check_matmul(a: np.ndarray, b: np.ndarray):
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and "
            f"{b.ndim}D")
    if a.ndim == 1 and b.ndim == 1:
        if a.shape[0] != b.shape[0]:
            n, m = a.shape[0], b.shape[0]
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same "
                f"number of elements, but got {n} and {m} elements respectively")
        return
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    batch_a, batch_b = a.shape[:-2], b.shape[:-2]
    if batch_a and batch_b:  # torch checks that the batch dims broadcast first
        try:
            batch = np.broadcast_shapes(batch_a, batch_b)
        except ValueError:
            from ._broadcast import broadcast_error

            raise broadcast_error(batch_a, batch_b) from None
    else:
        batch = batch_a or batch_b
    if k_a == k_b:
        return
    # As torch words it for the kernel the product is folded into: mm, mv or bmm.
    if b.ndim <= 2:
        rows = math.prod(a.shape[:-1]) if a.ndim > 1 else 1
        if b.ndim == 2:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k_a} and "
                               f"{k_b}x{b.shape[1]})")
        raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{k_a}), vec ({k_b})")
    nb = math.prod(batch)
    raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                       f"[{nb}, {k_a}] but got: [{nb}, {k_b}].")


_C_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool", "float16": "c10::Half", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>"}


def _same(a, b, msg):
    """Raise ``msg`` (with ``{a}``/``{b}`` the ScalarType names) when the dtypes differ."""
    if a.dtype != b.dtype:
        raise RuntimeError(msg.format(a=_scalar_name(a.dtype), b=_scalar_name(b.dtype)))


def _check_dtypes(a, b):
    if a.dtype != b.dtype:
        if a.ndim == 1 and b.ndim == 1:
            raise RuntimeError("dot : expected both vectors to have same dtype, but found "
                               f"{_scalar_name(a.dtype)} and {_scalar_name(b.dtype)}")
        raise RuntimeError("expected m1 and m2 to have the same dtype, but got: "
                           f"{_C_NAMES.get(a.dtype.name, a.dtype.name)} != "
                           f"{_C_NAMES.get(b.dtype.name, b.dtype.name)}")


def matmul(input, other, *, out=None):
    """Matrix product with PyTorch's rules for 1-D, 2-D and batched operands."""
    if type(input) is Tensor and type(other) is Tensor:
        # The hot case (layers, RNN steps): two float matrices of one dtype that fit.
        a, b = input._data, other._data
        dt = a.dtype
        if a.ndim == 2 and b.ndim == 2 and dt is b.dtype and dt.kind == "f":
            try:
                res = a.dot(b)  # for 2-D the same BLAS call as @, with ~0.5 us less overhead
            except ValueError:  # the inner sizes differ
                _check_matmul(a, b)  # raises PyTorch's message
                raise
            ta, tb = input._requires_grad, other._requires_grad
            if (ta or tb) and grad_state.enabled:
                node = _new(MmBackward0)
                fa, fb = input.grad_fn, other.grad_fn
                node.next_functions = (
                    ((fa, input._output_nr) if fa is not None else edge(input)) if ta
                    else NO_EDGE,
                    ((fb, other._output_nr) if fb is not None else edge(other)) if tb
                    else NO_EDGE)
                node.saved = (a, b)
                out = _new(Tensor)  # _make, inline
                out._data = res
                out._requires_grad = True
                out.grad_fn = node
                if array_versions:
                    stamp_versions(node)
                return out
            return _make(res, False, None)
    if type(other) is not Tensor:
        other = _tensor(other)
    if type(input) is not Tensor:
        input = _tensor(input)
    a, b = input._data, other._data
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        _check_matmul(a, b)  # the 2-D case with matching sizes needs no further check
    if a.dtype is not b.dtype:
        _check_dtypes(a, b)
    res = np.matmul(a, b)
    if a.ndim == 2 and b.ndim == 2:
        node_cls = MmBackward0
    elif a.ndim == 1 and b.ndim == 1:
        node_cls = DotBackward0
    else:
        node_cls = MatmulBackward0
    ta, tb = input._requires_grad, other._requires_grad
    if (ta or tb) and grad_state.enabled and res.dtype.kind in "fc":
        node = node_cls()
        node.next_functions = (edge(input) if ta else NO_EDGE, edge(other) if tb else NO_EDGE)
        node.saved = (a, b)
        if node_cls is MatmulBackward0:
            node.shapes = (a.shape, b.shape)
        return _make(res if type(res) is _ndarray else np.asarray(res), True, node)
    return _make(res, False, None)


def mm(input, mat2, *, out=None):
    a, b = input._data, mat2._data
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(input, mat2)


def dot(input, other):
    a, b = input._data, other._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    return matmul(input, other)


class VdotBackward0(Node):
    """out = sum(conj(a) * b):  da = conj(g) * b... (real: g * b),  db = g * a"""

    __slots__ = ()

    def backward(self, g, a, b):
        fa, fb = self.next_functions
        return (_conj(g) * b if fa[0] is not None else None,
                g * a if fb[0] is not None else None)

    def jvp(self, tangents, a, b):
        return _bilinear_jvp(lambda x, y: (_conj(x) * y).sum(), *tangents, a, b)


def vdot(input, other, *, out=None):
    a, b = input._data, other._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    _check_matmul(a, b)
    _check_dtypes(a, b)
    return _record(VdotBackward0, np.asarray(np.vdot(a, b)), (input, other), (a, b))


class MvBackward0(Node):
    """out = A @ v:  dA = outer(g, v),  dv = A^T @ g"""

    __slots__ = ()

    def backward(self, g, a, v):
        fa, fv = self.next_functions
        return (_unsq(g, -1) * _unsq(_conj(v), 0) if fa[0] is not None else None,
                _mH(a) @ g if fv[0] is not None else None)

    def jvp(self, tangents, a, v):
        return _bilinear_jvp(_matmul, *tangents, a, v)


def mv(input, vec, *, out=None):
    a, v = input._data, vec._data
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a.ndim}, {v.ndim}")
    _check_matmul(a, v)
    _same(a, v, "addmv input tensors must have the same dtype, but got {b}, {a}, and {b}")
    return _record(MvBackward0, a @ v, (input, vec), (a, v))


def bmm(input, mat2, *, out=None):
    a, b = input._data, mat2._data
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if b.shape[0] != a.shape[0] or b.shape[1] != a.shape[2]:
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    _same(b, a, "expected scalar type {b} but found {a}")
    return _record(BmmBackward0, np.matmul(a, b), (input, mat2), (a, b))


def outer(input, vec2):
    """Outer product of two 1-D tensors (``input[:, None] * vec2``, as PyTorch computes it)."""
    if input._data.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input._data.ndim}-D")
    if vec2._data.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument vec2, but got {vec2._data.ndim}-D")
    return input.reshape(-1, 1) * vec2


ger = outer


def inner(input, other, *, out=None):
    """Sum-product over the last dims of both operands."""
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        return input * other
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {shape_str(a.shape)} and {shape_str(b.shape)}")
    return tensordot(input, other, ([-1], [-1]))


def tensordot(a, b, dims=2, out=None):
    """Contract ``dims`` of ``a`` with ``dims`` of ``b`` (permute, reshape and one mm)."""
    ad, bd = a._data, b._data
    if ad.dtype != bd.dtype:
        raise RuntimeError("both inputs should have same dtype")
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da = list(range(ad.ndim - dims, ad.ndim))
        db = list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da = [canon_dim(d, ad.ndim) for d in da]
    db = [canon_dim(d, bd.ndim) for d in db]
    for x, y in zip(da, db):
        if ad.shape[x] != bd.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{ad.shape[x]} in dim {x} and second has size {bd.shape[y]} in "
                               f"dim {y}")
    fa = [d for d in range(ad.ndim) if d not in da]
    fb = [d for d in range(bd.ndim) if d not in db]
    k = int(np.prod([ad.shape[d] for d in da])) if da else 1
    pa = a.permute(*(fa + da)).reshape(-1, k) if ad.ndim else a.reshape(1, 1)
    pb = b.permute(*(db + fb)).reshape(k, -1) if bd.ndim else b.reshape(1, 1)
    out_shape = [ad.shape[d] for d in fa] + [bd.shape[d] for d in fb]
    return matmul(pa, pb).reshape(*out_shape) if out_shape else matmul(pa, pb).reshape(())


def kron(input, other, *, out=None):
    """Kronecker product (block ``input[i, j] * other``), as a broadcast multiply."""
    a, b = input._data, other._data
    n = max(a.ndim, b.ndim)
    sa = (1,) * (n - a.ndim) + a.shape
    sb = (1,) * (n - b.ndim) + b.shape
    ra = [d for s in sa for d in (s, 1)]
    rb = [d for s in sb for d in (1, s)]
    prod = input.reshape(*ra) * other.reshape(*rb)
    return prod.reshape(*[x * y for x, y in zip(sa, sb)])


def chain_matmul(*matrices, out=None):
    return linalg_multi_dot(list(matrices))


# -- add* products ---------------------------------------------------------------------
class AddmmBackward0(Node):
    """out = beta*C + alpha*(A @ B):  dC = beta*g,  dA = alpha*g@B^T,  dB = alpha*A^T@g"""

    __slots__ = ("alpha", "beta", "c_shape")
    saved_spec = (1, 2)

    def backward(self, g, a, b):
        fc, fa, fb = self.next_functions
        al = self.alpha
        gc = ga = gb = None
        if fc[0] is not None:
            gc = _reduce_batch(g * self.beta if self.beta != 1 else g, self.c_shape)
        if fa[0] is not None:
            ga = self._prod_a(g, b)
            if al != 1:
                ga = ga * al
        if fb[0] is not None:
            gb = self._prod_b(g, a)
            if al != 1:
                gb = gb * al
        return gc, ga, gb

    def jvp(self, tangents, a, b):
        tc, ta, tb = tangents
        batch_sum = isinstance(self, AddbmmBackward0)
        out = _bilinear_jvp(_matmul, ta, tb, a, b)
        if out is not None:
            if batch_sum:
                out = out.sum(axis=0)
            if self.alpha != 1:
                out = out * self.alpha
        if tc is None:
            return out
        tc = tc * self.beta if self.beta != 1 else tc
        if out is not None:
            return out + tc
        shape = tuple(a.shape[:-1]) + (() if b.ndim == 1 else (b.shape[-1],))
        return _broadcast_to(tc, shape[1:] if batch_sum else shape)

    def _prod_a(self, g, b):
        return g @ _mH(b)

    def _prod_b(self, g, a):
        return _mH(a) @ g


class AddmvBackward0(AddmmBackward0):
    __slots__ = ()

    def _prod_a(self, g, v):
        return _unsq(g, -1) * _unsq(_conj(v), 0)

    def _prod_b(self, g, a):
        return _mH(a) @ g


class BaddbmmBackward0(AddmmBackward0):
    __slots__ = ()


class AddbmmBackward0(AddmmBackward0):
    __slots__ = ()

    def _prod_a(self, g, b):
        return _unsq(g, 0) @ _mH(b)

    def _prod_b(self, g, a):
        return _mH(a) @ _unsq(g, 0)


def _addprod(node_cls, input, m1, m2, prod, beta, alpha):
    c = input._data
    try:
        shape = np.broadcast_shapes(c.shape, prod.shape)
    except ValueError:
        shape = None
    if shape != prod.shape:
        raise RuntimeError(f"The expanded size of the tensor ({prod.shape[-1]}) must match the "
                           f"existing size ({c.shape[-1] if c.ndim else 1}) at non-singleton "
                           f"dimension {prod.ndim - 1}.  Target sizes: {shape_str(prod.shape)}."
                           f"  Tensor sizes: {shape_str(c.shape)}")
    if prod.dtype.kind in "biu":  # integer products: torch casts the factors to the dtype
        beta, alpha = int(beta), int(alpha)
    out = prod * alpha if alpha != 1 else prod
    if beta != 0:
        out = out + (c * beta if beta != 1 else c)
    out = np.asarray(out, dtype=prod.dtype)
    res = _record(node_cls, out, (input, m1, m2), (m1._data, m2._data))
    if res.grad_fn is not None:
        n = res.grad_fn
        n.beta, n.alpha, n.c_shape = beta, alpha, c.shape
    return res


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat1 @ mat2)``."""
    a, b = mat1._data, mat2._data
    if a.ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {a.ndim}-D tensor")
    if b.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {b.ndim}-D tensor")
    _check_matmul(a, b)
    _same(a, b, "self and mat2 must have the same dtype, but got {a} and {b}")
    return _addprod(AddmmBackward0, input, mat1, mat2, a @ b, beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat @ vec)``."""
    a, v = mat._data, vec._data
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input._data.ndim}, "
                           f"{a.ndim}, {v.ndim}")
    _check_matmul(a, v)
    return _addprod(AddmvBackward0, input, mat, vec, a @ v, beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (batch1 @ batch2)`` for 3-D batches."""
    bmm(batch1.detach(), batch2.detach())  # shape checks with bmm's messages
    return _addprod(BaddbmmBackward0, input, batch1, batch2,
                    np.matmul(batch1._data, batch2._data), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``."""
    bmm(batch1.detach(), batch2.detach())
    return _addprod(AddbmmBackward0, input, batch1, batch2,
                    np.matmul(batch1._data, batch2._data).sum(0), beta, alpha)


# ======================================================================================
# einsum
# ======================================================================================
_PATHS: dict = {}
_PARSED: dict = {}


def _parse_einsum(eq, shapes):
    """Explicit subscripts per operand and for the output (``...`` spelled out)."""
    eq = eq.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->")
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError("einsum(): more operands were provided than specified in the equation"
                         if len(terms) < len(shapes) else
                         "einsum(): fewer operands were provided than specified in the equation")
    used = {c for c in eq if c.isalpha()}
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used]
    n_ell = 0
    for t, s in zip(terms, shapes):
        if "..." in t:
            n_ell = max(n_ell, len(s) - (len(t) - 3))
    ell = "".join(spare[:n_ell])
    out_terms = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            k = len(s) - (len(t) - 3)
            t = t.replace("...", ell[n_ell - k:] if k else "")
        if len(t) != len(s):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(t)}) "
                               f"does not match the number of dimensions ({len(s)}) for operand "
                               f"{len(out_terms)}" + ("" if "..." in eq else
                                                      " and no ellipsis was given"))
        out_terms.append(t)
    if rhs is None:
        counts = {}
        for t in out_terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        rhs = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        rhs = rhs.replace("...", ell)
    sizes = {}
    for i, (t, s) in enumerate(zip(out_terms, shapes)):
        for c, n in zip(t, s):
            old = sizes.get(c)
            if old is None or old == 1:
                sizes[c] = n
            elif n != 1 and n != old:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which "
                                   f"does not broadcast with previously seen size {old}")
    return out_terms, rhs, sizes


def _np_einsum(eq, *ops):
    """NumPy einsum with a cached contraction path (BLAS for the pairwise products)."""
    if len(ops) <= 1:
        return np.einsum(eq, *ops)
    key = (eq,) + tuple(o.shape for o in ops)
    path = _PATHS.get(key)
    if path is None:
        path = np.einsum_path(eq, *ops, optimize="optimal" if len(ops) <= 4 else "greedy")[0]
        if len(_PATHS) > 4096:
            _PATHS.clear()
        _PATHS[key] = path
    return np.einsum(eq, *ops, optimize=path)


class EinsumBackward0(Node):
    """out = einsum(terms -> rhs):  d op_i = einsum(g and the other operands -> term_i)"""

    __slots__ = ("rhs", "shapes", "terms")

    def backward(self, g, *ops):
        terms, rhs = self.terms, self.rhs
        grads = []
        for i, (fn, _) in enumerate(self.next_functions):
            if fn is None:
                grads.append(None)
                continue
            t = terms[i]
            shape = self.shapes[i]
            others = [terms[j] for j in range(len(terms)) if j != i]
            avail = set(rhs).union(*others) if others else set(rhs)
            uniq = "".join(dict.fromkeys(t))
            keep = "".join(c for c in uniq if c in avail)
            sub = ",".join([rhs] + others) + "->" + keep
            gi = _einsum_any(sub, g, *[ops[j] for j in range(len(ops)) if j != i])
            usizes = {c: n for c, n in zip(t, shape)}
            if keep != uniq:  # letters only this operand has: broadcast g over them
                gshape = []
                k = 0
                for c in uniq:
                    if c in keep:
                        gshape.append(gi.shape[k])
                        k += 1
                    else:
                        gshape.append(1)
                gi = gi.reshape(tuple(gshape))
                gi = gi * np.ones(tuple(usizes[c] for c in uniq), _arr(gi).dtype)
            # size-1 (broadcast) dims of this operand: sum them back
            target = tuple(usizes[c] for c in uniq)
            if tuple(gi.shape) != target:
                gi = sum_to(gi, target)
            if uniq != t:  # repeated subscripts (a diagonal): place g on it
                from .indexing import _embed

                pos = {c: k for k, c in enumerate(uniq)}
                key = []
                for c in t:
                    shp = [1] * len(uniq)
                    shp[pos[c]] = usizes[c]
                    key.append(np.arange(usizes[c]).reshape(shp))
                gi = _embed(gi, shape, tuple(key), False)
            grads.append(gi)
        return tuple(grads)

    def jvp(self, tangents, *ops):
        """Multilinear: the sum over operands of the einsum with that operand's tangent."""
        eq = ",".join(self.terms) + "->" + self.rhs
        out = None
        for i, t in enumerate(tangents):
            if t is not None:
                term = _einsum_any(eq, *ops[:i], t, *ops[i + 1:])
                out = term if out is None else out + term
        return out


def _einsum_any(eq, *ops):
    if all(_is_arr(o) for o in ops):
        return _np_einsum(eq, *ops)
    return einsum(eq, *[_tensor(o) for o in ops])


def _sublist_equation(args):
    """``(a, [0, 1], b, [1, 2], [0, 2])`` -> ``('ab,bc->ac', (a, b))``."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def term(sub):
        return "".join("..." if d is Ellipsis else letters[int(d)] for d in sub)

    ops, terms = [], []
    i = 0
    while i + 1 < len(args) and not isinstance(args[i], (list, tuple)):
        ops.append(args[i])
        terms.append(term(args[i + 1]))
        i += 2
    eq = ",".join(terms)
    if i < len(args):
        eq += "->" + term(args[i])
    return eq, tuple(ops)


def einsum(equation, *operands):
    """Einstein summation (``'ij,jk->ik'``), with ``...`` and implicit output.

    >>> import chainrule as torch
    >>> torch.einsum("i,i->", torch.tensor([1., 2.]), torch.tensor([3., 4.]))
    tensor(11.)
    """
    if not isinstance(equation, str):  # sublist format: einsum(a, [0, 1], b, [1, 2], [0, 2])
        equation, operands = _sublist_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = tuple(_tensor(o) for o in operands)
    datas = [o._data for o in operands]
    key = (equation,) + tuple(d.shape for d in datas)
    parsed = _PARSED.get(key)
    if parsed is None:
        parsed = _parse_einsum(equation, [d.shape for d in datas])
        if len(_PARSED) > 4096:
            _PARSED.clear()
        _PARSED[key] = parsed
    terms, rhs, _ = parsed
    eq = ",".join(terms) + "->" + rhs
    for d in datas[1:]:
        _same(datas[0], d, "expected scalar type {a} but found {b}")
    out = np.asarray(_np_einsum(eq, *datas))
    res = _record(EinsumBackward0, out, operands, tuple(datas))
    if res.grad_fn is not None:
        n = res.grad_fn
        n.terms, n.rhs, n.shapes = terms, rhs, [d.shape for d in datas]
        n.saved_spec = tuple(range(len(datas)))
    return res


# ======================================================================================
# trace, cross
# ======================================================================================
class TraceBackward0(Node):
    """out = sum(diag(x)):  dx = g * I"""

    __slots__ = ("in_shape",)
    saved_spec = ()

    def backward(self, g):
        n, m = self.in_shape
        return (g * np.eye(n, m, dtype=_arr(g).dtype),)

    def jvp(self, tangents):  # linear
        t = tangents[0]
        return np.trace(t) if _is_arr(t) else trace(t)


def trace(input):
    x = input._data
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    if x.dtype == np.bool_:
        raise NotImplementedError('"trace" not implemented for \'Bool\'')
    out = np.asarray(np.trace(x))
    if x.dtype.kind in "biu":
        out = out.astype(np.int64)
    res = _record(TraceBackward0, out, (input,), ())
    if res.grad_fn is not None:
        res.grad_fn.in_shape = x.shape
    return res


class LinalgCrossBackward0(Node):
    """out = a x b:  da = b x g,  db = g x a"""

    __slots__ = ("dim", "shapes")

    def backward(self, g, a, b):
        fa, fb = self.next_functions
        d = self.dim
        ga = _reduce_batch(_cross_any(b, g, d), self.shapes[0]) if fa[0] is not None else None
        gb = _reduce_batch(_cross_any(g, a, d), self.shapes[1]) if fb[0] is not None else None
        return ga, gb

    def jvp(self, tangents, a, b):
        d = self.dim
        return _bilinear_jvp(lambda x, y: _cross_any(x, y, d), *tangents, a, b)


def _cross_any(a, b, dim):
    if _is_arr(a) and _is_arr(b):
        return np.cross(a, b, axis=dim)
    return linalg_cross(_tensor(a), _tensor(b), dim=dim)


def linalg_cross(input, other, *, dim=-1, out=None):
    """Cross product of 3-vectors along ``dim`` (operands broadcast)."""
    a, b = input._data, other._data
    if a.ndim != b.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = canon_dim(dim, a.ndim)
    _same(a, b, "expected scalar type {a} but found {b}")
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[d]} and {b.shape[d]}")
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        from ._broadcast import broadcast_error

        raise broadcast_error(a.shape, b.shape) from None
    dt = _dtype.result_type(a, b)
    out = np.cross(a.astype(dt, copy=False), b.astype(dt, copy=False), axis=d - a.ndim)
    res = _record(LinalgCrossBackward0, out, (input, other), (a, b))
    if res.grad_fn is not None:
        res.grad_fn.dim, res.grad_fn.shapes = d - a.ndim, (a.shape, b.shape)
    return res


def cross(input, other, dim=None, *, out=None):
    """``torch.cross``: like ``linalg.cross``, but dim=None picks the first dim of size 3."""
    if dim is None:
        a, b = input._data, other._data
        try:
            shape = np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            shape = a.shape
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return linalg_cross(input, other, dim=dim)


# ======================================================================================
# inv, det, slogdet, logdet, solve, solve_triangular
# ======================================================================================
def _singular_pivot(a: np.ndarray) -> int:
    """1-based index of the first zero pivot of LU with partial pivoting (error path only)."""
    u = np.array(a, dtype=np.float64 if a.dtype.kind == "f" else np.complex128)
    n = u.shape[0]
    for k in range(n):
        p = k + int(np.argmax(np.abs(u[k:, k])))
        if u[p, k] == 0:
            return k + 1
        u[[k, p]] = u[[p, k]]
        u[k + 1:] -= np.outer(u[k + 1:, k] / u[k, k], u[k])
    return n


def _raise_singular(name, a):
    flat = a.reshape((-1,) + a.shape[-2:])
    for i, m in enumerate(flat):
        try:
            np.linalg.inv(m)
            continue
        except np.linalg.LinAlgError:
            batch = f"(Batch element {i}): " if a.ndim > 2 else ""
            raise LinAlgError(f"{name}: {batch}The diagonal element {_singular_pivot(m)} is zero, "
                              "the inversion could not be completed because the input matrix is "
                              "singular.")
    raise LinAlgError(f"{name}: The inversion could not be completed because the input matrix is "
                      "singular.")


class LinalgInvExBackward0(Node):
    """out = A^{-1}:  dA = -out^H g out^H"""

    __slots__ = ()
    saved_spec = (OUTPUT,)

    def backward(self, g, inv):
        ih = _mH(inv)
        return (-(ih @ g @ ih),)

    def jvp(self, tangents, inv):
        return -(inv @ tangents[0] @ inv)


def _np_inv(name, a):
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        _raise_singular(name, a)


def linalg_inv(A, *, out=None):
    """The inverse of square matrices (batched)."""
    a = A._data
    _check_square("linalg.inv", a)
    inv = _np_inv("linalg.inv", a)
    return _record(LinalgInvExBackward0, inv, (A,), (inv,))


def inverse(input, *, out=None):
    return linalg_inv(input)


_InvEx = namedtuple("linalg_inv_ex", ["inverse", "info"])


def linalg_inv_ex(A, *, check_errors=False, out=None):
    a = A._data
    _check_square("linalg.inv_ex", a)
    try:
        return _InvEx(linalg_inv(A), _const(np.zeros(a.shape[:-2], np.int32)))
    except LinAlgError:
        if check_errors:
            raise
        info = np.zeros(a.shape[:-2], np.int32).reshape(-1)
        for i, m in enumerate(a.reshape((-1,) + a.shape[-2:])):
            try:
                np.linalg.inv(m)
            except np.linalg.LinAlgError:
                info[i] = _singular_pivot(m)
        return _InvEx(_const(np.full(a.shape, np.nan, a.dtype)),
                      _const(info.reshape(a.shape[:-2])))


def _cofactor(a: np.ndarray) -> np.ndarray:
    """det(A) * A^{-T}, valid for singular A too (through the SVD)."""
    u, s, vh = np.linalg.svd(a)
    # prod_{j != i} s_j without dividing: products of the prefixes and suffixes
    ones = np.ones(s.shape[:-1] + (1,), s.dtype)
    pre = np.cumprod(np.concatenate([ones, s[..., :-1]], -1), -1)
    suf = np.flip(np.cumprod(np.flip(np.concatenate([s[..., 1:], ones], -1), -1), -1), -1)
    others = pre * suf
    sign = np.linalg.det(u) * np.linalg.det(vh)
    adj = np.swapaxes(vh, -1, -2) @ (others[..., :, None] * np.swapaxes(u, -1, -2))
    return np.conj(sign[..., None, None] * np.swapaxes(adj, -1, -2))


class LinalgDetBackward0(Node):
    """out = det(A):  dA = g * det * A^{-H} (cofactor matrix; SVD route if singular)"""

    __slots__ = ()
    saved_spec = (0, OUTPUT)

    def backward(self, g, a, det):
        gd = _unsq(_unsq(g * _conj(det), -1), -1)
        if _is_arr(a):
            try:
                return (gd * _mH(np.linalg.inv(a)),)
            except np.linalg.LinAlgError:
                return (_unsq(_unsq(g, -1), -1) * _cofactor(a),)
        return (gd * _mH(_inv(a)),)

    def jvp(self, tangents, a, det):
        """d det = sum(cofactor(A) * T) (= det * trace(A^{-1} T) when A is invertible)."""
        t = tangents[0]
        if _is_arr(a):
            try:
                cof = det[..., None, None] * np.linalg.inv(a).swapaxes(-1, -2)
            except np.linalg.LinAlgError:
                cof = _cofactor(a)
            return (cof * t).sum(axis=(-2, -1))
        return det * _trace_of_solve(a, t)


def linalg_det(A, *, out=None):
    a = A._data
    _check_square("linalg.det", a)
    d = np.asarray(np.linalg.det(a))
    return _record(LinalgDetBackward0, d, (A,), (a, d))


det = linalg_det


class LinalgSlogdetBackward0(_MultiOutputNode):
    """(sign, logabsdet) = slogdet(A):  dA = g_logabsdet * A^{-H}"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, grads, a):
        _gsign, glog = grads  # a real matrix's sign is locally constant: no gradient
        if glog is None:
            return (None,)  # torch too leaves A.grad None for a loss of the sign alone
        return (_unsq(_unsq(glog, -1), -1) * _mH(_inv(a)),)

    def jvp(self, tangents, a):
        d = _trace_of_solve(a, tangents[0])
        return [d * 0, d]  # (sign, logabsdet): the sign is locally constant


_Slogdet = namedtuple("slogdet", ["sign", "logabsdet"])


def linalg_slogdet(A, *, out=None):
    a = A._data
    _check_square("linalg.slogdet", a)
    sign, lad = np.linalg.slogdet(a)
    sign, lad = np.asarray(sign), np.asarray(lad)
    _, (s, l_) = _record_multi(LinalgSlogdetBackward0, (sign, lad), (A,), (a,))
    return _Slogdet(s, l_)


slogdet = linalg_slogdet


def logdet(input):
    """log(det(A)): nan for a negative determinant, -inf for a singular matrix."""
    sign, lad = linalg_slogdet(input)
    s = sign._data
    if np.all(s > 0):
        return lad
    fix = np.where(s < 0, np.nan, 0).astype(lad._data.dtype)
    return lad + fix


class LinalgSolveExBackward0(Node):
    """X = A^{-1} B:  dB = A^{-H} g,  dA = -dB X^H"""

    __slots__ = ("shapes", "vector")
    saved_spec = (0, OUTPUT)

    def backward(self, g, a, x):
        fa, fb = self.next_functions
        if self.vector:
            g = _unsq(g, -1)
            x = _unsq(x, -1)
        gb = _solve(_mH(a), g)
        ga = None
        if fa[0] is not None:
            ga = _reduce_batch(-(gb @ _mH(x)), self.shapes[0])
        if fb[0] is not None:
            gbb = gb[..., 0] if self.vector else gb
            gb = _reduce_batch(gbb, self.shapes[1])
        else:
            gb = None
        return ga, gb

    def jvp(self, tangents, a, x):
        """X = A^{-1} B:  dX = A^{-1} (dB - dA X)"""
        ta, tb = tangents
        if self.vector:
            x = _unsq(x, -1)
            tb = None if tb is None else _unsq(tb, -1)
        rhs = tb
        if ta is not None:
            rhs = -(ta @ x) if rhs is None else rhs - ta @ x
        dx = _solve(a, rhs)
        return dx[..., 0] if self.vector else dx


def _is_vector_rhs(a, b):
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


def linalg_solve(A, B, *, left=True, out=None):
    """Solve ``A X = B`` (``X A = B`` with ``left=False``); batches broadcast.

    >>> import chainrule as torch
    >>> torch.linalg.solve(torch.tensor([[2., 0.], [0., 4.]]), torch.tensor([2., 2.]))
    tensor([1.0000, 0.5000])
    """
    if not left:
        return _mT(linalg_solve(_mT(A), _mT(B)))
    a, b = A._data, B._data
    _check_square("linalg.solve", a)
    _same(a, b, "linalg.solve: Expected A and B to have the same dtype, but found A of type {a} "
          "and B of type {b} instead")
    vector = _is_vector_rhs(a, b)
    b2 = b[..., None] if vector else b
    if b2.shape[-2] != a.shape[-1]:
        raise RuntimeError("linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({a.shape[-2]}x{a.shape[-1]} and {b2.shape[-2]}x{b2.shape[-1]})")
    dt = _dtype.result_type(a, b)
    try:
        x = np.linalg.solve(a.astype(dt, copy=False), b2.astype(dt, copy=False))
    except np.linalg.LinAlgError:
        raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is "
                          "singular.") from None
    except ValueError:
        from ._broadcast import broadcast_error

        raise broadcast_error(a.shape[:-2], b2.shape[:-2]) from None
    if vector:
        x = x[..., 0]
    res = _record(LinalgSolveExBackward0, x, (A, B), (a, x))
    if res.grad_fn is not None:
        res.grad_fn.vector, res.grad_fn.shapes = vector, (a.shape, b.shape)
    return res


class LinalgSolveTriangularBackward0(Node):
    """X = A^{-1} B (A triangular):  dB = A^{-H} g,  dA = -dB X^H (kept triangular)"""

    __slots__ = ("shapes", "unitriangular", "upper")
    saved_spec = (0, OUTPUT)

    def backward(self, g, a, x):
        fa, fb = self.next_functions
        gb = _solve_tri(_mH(a), g, not self.upper)
        ga = None
        if fa[0] is not None:
            ga = -(gb @ _mH(x))
            ga = _triu(ga, 1 if self.unitriangular else 0) if self.upper else \
                _tril(ga, -1 if self.unitriangular else 0)
            ga = _reduce_batch(ga, self.shapes[0])
        return ga, (_reduce_batch(gb, self.shapes[1]) if fb[0] is not None else None)

    def jvp(self, tangents, a, x):
        """X = A^{-1} B:  dX = A^{-1} (dB - dA X), dA kept to the triangle A is read from"""
        ta, tb = tangents
        rhs = tb
        if ta is not None:
            k = 1 if self.unitriangular else 0
            ta = _triu(ta, k) if self.upper else _tril(ta, -k)
            rhs = -(ta @ x) if rhs is None else rhs - ta @ x
        return _solve_tri(a, rhs, self.upper)


def linalg_solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """Solve a triangular system (only the ``upper`` or lower triangle of A is read)."""
    if not left:
        return _mT(linalg_solve_triangular(_mT(A), _mT(B), upper=not upper,
                                           unitriangular=unitriangular))
    a, b = A._data, B._data
    if a.ndim < 2 or b.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor "
                           f"{'A' if a.ndim < 2 else 'B'} must have at least 2 dimensions.")
    at = np.triu(a, 1 if unitriangular else 0) if upper else np.tril(a, -1 if unitriangular else 0)
    if unitriangular:
        at = at + np.eye(a.shape[-1], dtype=a.dtype)
    if b.shape[-2] != a.shape[-1]:
        raise RuntimeError("linalg.solve_triangular: Incompatible shapes of A and B for the "
                           f"equation AX = B ({a.shape[-2]}x{a.shape[-1]} and "
                           f"{b.shape[-2]}x{b.shape[-1]})")
    with np.errstate(divide="ignore", invalid="ignore"):
        try:
            x = np.linalg.solve(at, b)
        except np.linalg.LinAlgError:
            x = np.full(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:],
                        np.nan, b.dtype)
    res = _record(LinalgSolveTriangularBackward0, x, (A, B), (at, x))
    if res.grad_fn is not None:
        n = res.grad_fn
        n.upper, n.unitriangular, n.shapes = upper, unitriangular, (a.shape, b.shape)
    return res


# ======================================================================================
# Decompositions: cholesky, qr, eigh, svd; pinv, lstsq
# ======================================================================================
class LinalgCholeskyExBackward0(Node):
    """A = L L^H:  dA = L^{-H} sym(tril(L^H gL)) L^{-1}  (PyTorch's symmetrised form)"""

    __slots__ = ("upper",)
    saved_spec = (OUTPUT,)

    def backward(self, g, l_):
        if self.upper:
            l_, g = _mH(l_), _mH(g)
        ga = _tril(_mH(l_) @ g)
        ga = 0.5 * (ga + _mH(_tril(ga, -1)))
        ga = _solve_tri(_mH(l_), ga, True)
        ga = _solve_tri(l_, ga, False, left=False)
        return (ga,)

    def jvp(self, tangents, l_):
        """A = L L^H:  dL = L Phi(L^{-1} sym(dA) L^{-H}), Phi = lower triangle, half diagonal
        (sym(dA): the backward's symmetrised convention)."""
        t = tangents[0]
        if self.upper:
            l_ = _mH(l_)
        s = 0.5 * (t + _mH(t))
        y = _solve_tri(l_, s, False)
        m = _mH(_solve_tri(l_, _mH(y), False))
        phi = _tril(m, -1) + 0.5 * (m * np.eye(m.shape[-1], dtype=_arr(m).dtype))
        dl = l_ @ phi
        return _mH(dl) if self.upper else dl


def _not_pd(name, a):
    flat = a.reshape((-1,) + a.shape[-2:])
    for i, m in enumerate(flat):
        for k in range(1, m.shape[0] + 1):
            try:
                np.linalg.cholesky(m[:k, :k])
            except np.linalg.LinAlgError:
                batch = f"(Batch element {i}): " if a.ndim > 2 else ""
                raise LinAlgError(f"{name}: {batch}The factorization could not be completed "
                                  "because the input is not positive-definite (the leading "
                                  f"minor of order {k} is not positive-definite).") from None
    raise LinAlgError(f"{name}: The factorization could not be completed because the input is "
                      "not positive-definite.")


def linalg_cholesky(A, *, upper=False, out=None):
    """Lower (or upper) Cholesky factor of Hermitian positive-definite matrices."""
    a = A._data
    _check_square("linalg.cholesky", a)
    try:
        l_ = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        _not_pd("linalg.cholesky", a)
    if upper:
        l_ = np.ascontiguousarray(_mH(l_))
    res = _record(LinalgCholeskyExBackward0, l_, (A,), (l_,))
    if res.grad_fn is not None:
        res.grad_fn.upper = upper
    return res


def cholesky(input, upper=False, *, out=None):
    return linalg_cholesky(input, upper=upper)


class LinalgQrBackward0(_MultiOutputNode):
    """A = QR (reduced): the formula of Walter & Lehmann / TensorFlow's QrGrad."""

    __slots__ = ("mode",)
    saved_spec = (-1, -2)

    def backward(self, grads, q, r):
        gq, gr = grads
        m, n = q.shape[-2], r.shape[-1]
        if self.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        if gq is None:
            gq = q * 0
        if gr is None:
            gr = r * 0
        if m >= n:
            return (_qr_grad_deep(q, r, gq, gr),)
        # wide A = [X | Y]: X = Q U is square, Y = Q V
        u, v = r[..., :, :m], r[..., :, m:]
        gu, gv = gr[..., :, :m], gr[..., :, m:]
        y = q @ v
        gy = q @ gv
        gx = _qr_grad_deep(q, u, gq + y @ _mH(gv), gu)
        return (_cat_last(gx, gy),)

    def jvp(self, tangents, q, r):
        """Real A = QR (reduced, m >= n), X = Q^H dA R^{-1}, W = strict lower part of X:
        dQ = Q (W - W^H) + (I - Q Q^H) dA R^{-1},  dR = (X - (W - W^H)) R"""
        t = tangents[0]
        m, n = q.shape[-2], r.shape[-1]
        if m < n or q.shape[-1] != n or _arr(t).dtype.kind == "c":
            return NotImplemented  # wide or complete: the double-vjp fallback
        dar = _mH(_solve_tri(_mH(r), _mH(t), False))  # dA R^{-1}
        x = _mH(q) @ dar
        w = _tril(x, -1)
        omega = w - _mH(w)
        dq = q @ omega + dar - q @ (_mH(q) @ dar)
        return [dq, (x - omega) @ r]


def _qr_grad_deep(q, r, gq, gr):
    qdq = _mH(q) @ gq
    rdr = r @ _mH(gr)
    m = _tril(qdq - _mH(qdq) + rdr - _mH(rdr))
    # X R^{-H} = (R^{-1} X^H)^H, a triangular solve
    ga = q @ (gr + _mH(_solve_tri(r, _mH(m), True)))
    gb = _mH(_solve_tri(r, _mH(gq - q @ qdq), True))
    return ga + gb


_QR = namedtuple("qr", ["Q", "R"])


def linalg_qr(A, mode="reduced", *, out=None):
    """QR decomposition; ``mode`` is 'reduced', 'complete' or 'r' (R only, no gradient)."""
    a = A._data
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    if a.ndim < 2:
        raise RuntimeError("linalg.qr: The input tensor A must have at least 2 dimensions.")
    _check_float("linalg.qr", a)
    if mode == "r":
        r = np.linalg.qr(a, mode="r")
        res = _make(np.asarray(r), False, None)
        if A._requires_grad and grad_state.enabled:
            res = _make(res._data, True, _QrRNode.make(A))
        return _QR(_const(np.zeros((0,), a.dtype)), res)
    q, r = np.linalg.qr(a, mode=mode)
    node, (qt, rt) = _record_multi(LinalgQrBackward0, (q, r), (A,), (q, r))
    if node is not None:
        node.mode = mode
    return _QR(qt, rt)


class _QrRNode(Node):
    """mode='r' computes no Q: PyTorch refuses the derivative."""

    __slots__ = ()
    saved_spec = ()

    @classmethod
    def make(cls, a):
        n = cls()
        n.next_functions = (edge(a),)
        n.saved = ()
        return n

    def name(self):
        return "LinalgQrBackward0"

    def backward(self, g):
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when "
                           "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to "
                           "differentiate through linalg.qr.")


def qr(input, some=True, *, out=None):
    return linalg_qr(input, "reduced" if some else "complete")


class LinalgEighBackward0(_MultiOutputNode):
    """A = V diag(L) V^H:  dA = V (diag(gL) + skew(V^H gV)/2 / (L_j - L_i)) V^H"""

    __slots__ = ()
    saved_spec = (-1, -2)

    def backward(self, grads, lam, v):
        gl, gv = grads
        if gv is None:
            if gl is None:
                return (None,)
            return ((v * _unsq(gl, -2)) @ _mH(v),)
        vgv = _mH(v) @ gv
        vgv = 0.5 * (vgv - _mH(vgv))
        n = lam.shape[-1]
        e = _unsq(lam, -2) - _unsq(lam, -1)  # e[i, j] = L_j - L_i
        eye = np.eye(n, dtype=_arr(lam).dtype)
        inner = vgv / (e + eye)  # the diagonal of vgv is 0: any non-zero divisor will do
        if gl is not None:
            inner = inner + _diag_embed(gl)
        return (v @ inner @ _mH(v),)

    def jvp(self, tangents, lam, v):
        """A = V diag(L) V^H:  with M = V^H sym(dA) V:  dL = diag(M),
        dV = V (M / (L_j - L_i)) off the diagonal"""
        t = tangents[0]
        m = _mH(v) @ (0.5 * (t + _mH(t))) @ v
        n = lam.shape[-1]
        eye = np.eye(n, dtype=_arr(lam).dtype)
        e = _unsq(lam, -2) - _unsq(lam, -1) + eye  # L_j - L_i, 1 on the diagonal
        dl = (m * eye).sum(axis=-1)
        dv = v @ ((m / e) * (1 - eye))
        return [dl, dv]


_Eigh = namedtuple("eigh", ["eigenvalues", "eigenvectors"])


def linalg_eigh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending) and orthonormal eigenvectors of Hermitian matrices."""
    a = A._data
    _check_square("linalg.eigh", a)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    lam, v = np.linalg.eigh(a, UPLO=UPLO)
    _, (lt, vt) = _record_multi(LinalgEighBackward0, (lam, v), (A,), (lam, v))
    return _Eigh(lt, vt)


def linalg_eigvalsh(A, UPLO="L", *, out=None):
    a = A._data
    _check_square("linalg.eigvalsh", a)
    if A._requires_grad and grad_state.enabled:
        return linalg_eigh(A, UPLO).eigenvalues
    return _make(np.linalg.eigvalsh(a, UPLO=UPLO), False, None)


class LinalgSvdBackward0(_MultiOutputNode):
    """A = U diag(S) Vh: PyTorch's svd_backward (k = min(m, n) columns used)."""

    __slots__ = ()
    saved_spec = (-1, -2, -3)

    def backward(self, grads, u, s, vh):
        gu, gs, gvh = grads
        m, n = u.shape[-2], vh.shape[-1]
        k = s.shape[-1]
        if u.shape[-1] != k:
            u = u[..., :, :k]
            gu = gu[..., :, :k] if gu is not None else None
        if vh.shape[-2] != k:
            vh = vh[..., :k, :]
            gvh = gvh[..., :k, :] if gvh is not None else None
        if gu is None and gvh is None:
            if gs is None:
                return (None,)
            return ((u * _unsq(gs, -2)) @ vh,)
        s_row = _unsq(s, -2)   # S_j along columns
        s_col = _unsq(s, -1)   # S_i along rows
        s2 = s * s
        e = _unsq(s2, -2) - _unsq(s2, -1)  # S_j^2 - S_i^2
        eye = np.eye(k, dtype=_arr(s).dtype)
        e = e + eye
        if gu is not None:
            uhgu = _mH(u) @ gu
            skew_u = uhgu - _mH(uhgu)
        if gvh is not None:
            vhgv = vh @ _mH(gvh)
            skew_v = vhgv - _mH(vhgv)
        if gu is not None and gvh is not None:
            ret = (skew_u * s_row + s_col * skew_v) / e
        elif gu is not None:
            ret = (skew_u / e) * s_row
        else:
            ret = s_col * (skew_v / e)
        if gs is not None:
            ret = ret + _diag_embed(gs)
        if m > k and gu is not None:
            ga = u @ ret
            gus = gu / s_row
            ga = ga + gus - u @ (_mH(u) @ gus)
            ga = ga @ vh
        elif n > k and gvh is not None:
            ga = ret @ vh
            sgv = gvh / s_col
            ga = ga + sgv - (sgv @ _mH(vh)) @ vh
            ga = u @ ga
        else:
            ga = u @ ret @ vh
        return (ga,)

    def jvp(self, tangents, u, s, vh):
        """Real A = U S V^H (k = min(m, n) columns), dP = U^H dA V, F_ij = 1/(S_j^2 - S_i^2):
        dS = diag(dP),  dU = U (F o (dP S + S dP^H)) + (I - U U^H) dA V S^{-1},
        dV = V (F o (S dP + dP^H S)) + (I - V V^H) dA^H U S^{-1}.
        Extra columns of full matrices get 0 (their gradient is ignored in backward)."""
        t = tangents[0]
        if _arr(t).dtype.kind == "c":
            return NotImplemented
        k = s.shape[-1]
        m, n = u.shape[-2], vh.shape[-1]
        full_u, full_v = u.shape[-1], vh.shape[-2]
        u, vh = u[..., :, :k], vh[..., :k, :]
        v = _mH(vh)
        dp = _mH(u) @ t @ v
        eye = np.eye(k, dtype=_arr(s).dtype)
        s_row = _unsq(s, -2)  # S_j along columns
        s2 = s * s
        f = (1 - eye) / (_unsq(s2, -2) - _unsq(s2, -1) + eye)
        dps = dp * s_row  # dP S
        sdp = _unsq(s, -1) * dp  # S dP
        du = u @ (f * (dps + _mH(dps)))
        dv = v @ (f * (sdp + _mH(sdp)))
        if m > k:
            tv = t @ v
            du = du + (tv - u @ (_mH(u) @ tv)) / s_row
        if n > k:
            tu = _mH(t) @ u
            dv = dv + (tu - v @ (_mH(v) @ tu)) / s_row
        dvh = _mH(dv)
        if full_u > k:
            du = _cat(du, _zeros_like_shape(du, du.shape[:-1] + (full_u - k,)), -1)
        if full_v > k:
            dvh = _cat(dvh, _zeros_like_shape(dvh, dvh.shape[:-2] + (full_v - k,) +
                                              dvh.shape[-1:]), -2)
        return [du, (dp * eye).sum(axis=-1), dvh]


_Svd = namedtuple("svd", ["U", "S", "Vh"])


def linalg_svd(A, full_matrices=True, *, driver=None, out=None):
    """Singular value decomposition ``A = U diag(S) Vh``."""
    a = A._data
    if a.ndim < 2:
        raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
    _check_float("linalg.svd", a)
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    _, outs = _record_multi(LinalgSvdBackward0, (u, s, vh), (A,), (u, s, vh))
    return _Svd(*outs)


def linalg_svdvals(A, *, driver=None, out=None):
    a = A._data
    if a.ndim < 2:
        raise RuntimeError("linalg.svdvals: The input tensor A must have at least 2 dimensions.")
    _check_float("linalg.svdvals", a)
    if A._requires_grad and grad_state.enabled:
        return linalg_svd(A, full_matrices=False).S
    return _make(np.linalg.svd(a, compute_uv=False), False, None)


_SvdOld = namedtuple("svd", ["U", "S", "V"])


def svd(input, some=True, compute_uv=True, *, out=None):
    """``torch.svd``: returns V (not Vh); ``some=False`` gives full U and V."""
    if not compute_uv:
        a = input._data
        s = linalg_svdvals(input)
        m, n = a.shape[-2:]
        return _SvdOld(_const(np.zeros(a.shape[:-2] + (m, m), a.dtype)), s,
                       _const(np.zeros(a.shape[:-2] + (n, n), a.dtype)))
    u, s, vh = linalg_svd(input, full_matrices=not some)
    return _SvdOld(u, s, _mH(vh))


class LinalgPinvBackward0(Node):
    """P = A^+:  dA = -P^H g P^H + (I - A P)^H... (Golub & Pereyra's formula, adjointed)"""

    __slots__ = ()
    saved_spec = (0, OUTPUT)

    def backward(self, g, a, p):
        return (_pinv_grad(a, p, g),)

    def jvp(self, tangents, a, p):
        return _pinv_jvp(a, p, tangents[0])


def _pinv_grad(a, p, g):
    ph = _mH(p)
    gh = _mH(g)
    t1 = -(ph @ g @ ph)
    # (I - A P) g^H P P^H  and  P^H P g^H (I - P A), without forming the identities
    pph = p @ ph
    t2 = gh @ pph - a @ (p @ (gh @ pph))
    php = ph @ p
    t3 = php @ gh - ((php @ gh) @ p) @ a
    return t1 + t2 + t3


def _np_pinv(a, atol=None, rtol=None, hermitian=False):
    if hermitian:
        lam, v = np.linalg.eigh(a)
        s = np.abs(lam)
    else:
        u, s, vh = np.linalg.svd(a, full_matrices=False)
    smax = s.max(-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s.dtype)
    if rtol is None:
        rtol = np.finfo(a.dtype).eps * max(a.shape[-2:]) if atol is None or atol == 0 else 0.0
    tol = np.maximum(atol if atol is not None else 0.0, rtol * smax)
    with np.errstate(divide="ignore"):
        if hermitian:
            inv = np.where(s > tol, 1 / np.where(lam == 0, 1, lam), 0)
            return (v * inv[..., None, :]) @ _mH(v)
        inv = np.where(s > tol, 1 / np.where(s == 0, 1, s), 0)
    return _mH(vh) @ (inv[..., :, None] * _mH(u))


def linalg_pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """Moore-Penrose pseudo-inverse (singular values below the tolerance are dropped)."""
    a = A._data
    if a.ndim < 2:
        raise RuntimeError("linalg.pinv(" + _name(a.dtype).capitalize() + "{" + shape_str(
            a.shape)[1:-1] + "}): expected a tensor with 2 or more dimensions of float, double, "
            "cfloat or cdouble types")
    _check_float("linalg.pinv", a)
    atol = atol._data if isinstance(atol, Tensor) else atol
    rtol = rtol._data if isinstance(rtol, Tensor) else rtol
    p = _np_pinv(a, atol, rtol, hermitian).astype(a.dtype, copy=False)
    return _record(LinalgPinvBackward0, p, (A,), (a, p))


def pinverse(input, rcond=1e-15):
    return linalg_pinv(input, rtol=rcond)


class LinalgLstsqBackward0(Node):
    """X = pinv(A) B:  dB = P^H g,  dA = pinv's backward with dP = g B^H"""

    __slots__ = ("shapes", "vector")
    saved_spec = (0, 1)

    def backward(self, g, a, b):
        fa, fb = self.next_functions
        if self.vector:
            g, b = _unsq(g, -1), _unsq(b, -1)
        p = _np_pinv(a) if _is_arr(a) else linalg_pinv(a)
        ga = gb = None
        if fb[0] is not None:
            gb = _reduce_batch(_mH(p) @ g, self.shapes[1])
            if self.vector:
                gb = gb[..., 0]
        if fa[0] is not None:
            ga = _reduce_batch(_pinv_grad(a, p, g @ _mH(b)), self.shapes[0])
        return ga, gb

    def jvp(self, tangents, a, b):
        """X = P B with P = pinv(A):  dX = dP B + P dB"""
        ta, tb = tangents
        if self.vector:
            b = _unsq(b, -1)
            tb = None if tb is None else _unsq(tb, -1)
        p = _np_pinv(a) if _is_arr(a) else linalg_pinv(a)
        dx = None if tb is None else p @ tb
        if ta is not None:
            dpb = _pinv_jvp(a, p, ta) @ b
            dx = dpb if dx is None else dx + dpb
        return dx[..., 0] if self.vector else dx


_Lstsq = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])


def linalg_lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of ``A X = B`` (minimum norm for rank-deficient A)."""
    a, b = A._data, B._data
    if a.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if b.ndim < 1:
        raise RuntimeError("torch.linalg.lstsq: other must have at least 1 dimension.")
    _same(a, b, "torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
          "input's dtype {a} and other's dtype {b}")
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    vector = b.ndim == a.ndim - 1
    b2 = b[..., None] if vector else b
    if b2.shape[-2] != a.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    m, n = a.shape[-2:]
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    smax = s.max(-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s.dtype)
    tol = (np.finfo(a.dtype).eps * max(m, n) if rcond is None else rcond) * smax
    with np.errstate(divide="ignore"):
        inv = np.where(s > tol, 1 / np.where(s == 0, 1, s), 0)
    x = _mH(vh) @ (inv[..., :, None] * (_mH(u) @ b2))
    rank = (s > tol).sum(-1).astype(np.int64)
    drv = driver or "gelsy"
    if drv in ("gelsd", "gelss") and m > n and np.all(rank == n):
        resid = (np.abs(a @ x - b2) ** 2).sum(-2)
    else:
        resid = np.zeros((0,), a.dtype)
    sv = s if drv in ("gelsd", "gelss") else np.zeros((0,), s.dtype)
    rank_t = _const(rank) if drv != "gels" else _const(np.zeros((0,), np.int64))
    if vector:
        x = x[..., 0]
    sol = _record(LinalgLstsqBackward0, x.astype(a.dtype, copy=False), (A, B), (a, b))
    if sol.grad_fn is not None:
        sol.grad_fn.vector, sol.grad_fn.shapes = vector, (a.shape, b2.shape)
    return _Lstsq(sol, _const(resid), rank_t, _const(sv))


def linalg_matrix_power(A, n):
    """``A`` multiplied by itself ``n`` times (``n < 0`` uses the inverse; 0 gives I)."""
    a = A._data
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError("linalg.matrix_power: A must be batches of square matrices, but they "
                           f"are {a.shape[-2] if a.ndim >= 2 else 1} by {a.shape[-1]} matrices")
    n = int(n)
    if n == 0:
        return _const(np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape).copy())
    if n < 0:
        A = linalg_inv(A)
        n = -n
    result = None
    base = A
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


matrix_power = linalg_matrix_power


def linalg_multi_dot(tensors, *, out=None):
    """``A @ B @ C ...`` (1-D first/last operands are treated as row/column vectors)."""
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    result = tensors[0]
    for t in tensors[1:]:
        result = matmul(result, t)
    return result


def linalg_matmul(input, other, *, out=None):
    return matmul(input, other)


def linalg_vecdot(x, y, *, dim=-1, out=None):
    """``sum(conj(x) * y, dim)``."""
    xc = x.conj() if x._data.dtype.kind == "c" else x
    return (xc * y).sum(dim)


def linalg_matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None, out=None):
    a = A._data
    if a.ndim < 2:
        raise RuntimeError("linalg.matrix_rank: The input tensor input must have at least 2 "
                           "dimensions.")
    s = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
    if tol is not None:
        atol, rtol = tol, 0.0
    smax = s.max(-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,))
    if rtol is None:
        rtol = np.finfo(a.dtype).eps * max(a.shape[-2:]) if atol is None or atol == 0 else 0.0
    thr = np.maximum(atol if atol is not None else 0.0, rtol * smax)
    return _const((s > thr).sum(-1).astype(np.int64))


# ======================================================================================
# Norms
# ======================================================================================
class LinalgVectorNormBackward0(Node):
    """out = ||x||_p over dims:  dx = g * x |x|^(p-2) / out^(p-1)  (p=2: g x / out)"""

    __slots__ = ("axes", "in_shape", "keepdim", "ord")
    saved_spec = (0, OUTPUT)

    def backward(self, g, x, out):
        p = self.ord
        g = self._expand(g)
        out = self._expand(out)
        xa = _arr(x)
        if p == 0:  # a count: PyTorch sends no gradient at all
            return (None,)
        if p == 2:
            zero = (_arr(out) == 0)
            return (g * x / (out + zero) if zero.any() else g * x / out,)
        sign = np.sign(xa)
        if p == 1:
            return (g * sign,)
        if p == math.inf or p == -math.inf:
            mask = (np.abs(xa) == _arr(out)).astype(xa.dtype)
            count = mask.sum(axis=self.axes, keepdims=True) if self.axes is not None \
                else mask.sum(keepdims=True)
            return (g * sign * mask / count,)
        absx = x * sign
        zero = (_arr(out) == 0)
        safe_out = out + zero if zero.any() else out
        if p < 2:
            xz = (xa == 0)
            pw = (absx + xz) ** (p - 2) * ~xz
        else:
            pw = absx ** (p - 2)
        return (g * x * pw / safe_out ** (p - 1),)

    def jvp(self, tangents, x, out):
        """A weighted reduction: the same sum of ``W * t``, ``W`` from backward(g = 1)."""
        t = tangents[0]
        w = self.backward(out * 0 + 1, x, out)[0]
        if w is None:  # p = 0: a count, no derivative
            return out * 0
        return (w * t).sum(axis=self.axes, keepdims=self.keepdim)

    def _expand(self, t):
        if self.keepdim:
            return t
        if self.axes is None:
            return t.reshape((1,) * len(self.in_shape))
        shape = list(self.in_shape)
        for a in self.axes:
            shape[a] = 1
        return t.reshape(tuple(shape))


def _np_vector_norm(x, p, axes, keepdim):
    ax = x if x.dtype.kind != "c" else np.abs(x)
    if p == 2:
        return np.sqrt(np.sum((x * np.conj(x)).real if x.dtype.kind == "c" else x * x,
                              axis=axes, keepdims=keepdim))
    a = np.abs(ax)
    if p == math.inf:
        return np.max(a, axis=axes, keepdims=keepdim, initial=0) if a.size == 0 else \
            np.max(a, axis=axes, keepdims=keepdim)
    if p == -math.inf:
        return np.min(a, axis=axes, keepdims=keepdim)
    if p == 0:
        return np.sum(a != 0, axis=axes, keepdims=keepdim).astype(a.dtype)
    if p == 1:
        return np.sum(a, axis=axes, keepdims=keepdim)
    return np.sum(a ** p, axis=axes, keepdims=keepdim) ** (1.0 / p)


def linalg_vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The ``ord``-norm of ``x`` over ``dim`` (all entries when None) as a vector."""
    xd = x._data
    if dtype is not None:
        x = x.to(dtype)
        xd = x._data
    if xd.dtype.kind not in "fc":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_scalar_name(xd.dtype)}")
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord}")  # noqa: TRY004
    if xd.ndim == 0 and dim is not None and all(
            d in (0, -1) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))):
        dim = None  # a 0-d tensor: dim 0 / -1 mean the whole of it
    axes = canon_dims(dim, xd.ndim)
    if (ord < 0 or ord == math.inf) and xd.size == 0:
        what = "inf" if ord == math.inf else str(ord)
        raise RuntimeError(f"linalg.vector_norm cannot compute the {what} norm on an empty "
                           "tensor because the operation does not have an identity")
    out = np.asarray(_np_vector_norm(xd, ord, axes, keepdim))
    if out.dtype != xd.dtype and xd.dtype.kind == "f":
        out = out.astype(xd.dtype)
    res = _record(LinalgVectorNormBackward0, out, (x,), (xd, out))
    if res.grad_fn is not None:
        n = res.grad_fn
        n.ord, n.axes, n.keepdim, n.in_shape = ord, axes, keepdim, xd.shape
    return res


class _ExtremeBackward(Node):
    """out = max/min over dim:  dx = g shared evenly by the entries equal to out"""

    __slots__ = ("dim", "keepdim")
    saved_spec = (0, OUTPUT)

    def backward(self, g, x, out):
        if not self.keepdim:
            g, out = _unsq(g, self.dim), _unsq(out, self.dim)
        mask = (_arr(x) == _arr(out)).astype(_arr(x).dtype)
        mask = mask / mask.sum(axis=self.dim, keepdims=True)
        return (g * mask,)

    def jvp(self, tangents, x, out):
        w = self.backward(out * 0 + 1, x, out)[0]  # even weights on the tied extremes
        return (w * tangents[0]).sum(axis=self.dim, keepdims=self.keepdim)


class AmaxBackward0(_ExtremeBackward):
    __slots__ = ()


class AminBackward0(_ExtremeBackward):
    __slots__ = ()


def _amax(x, dim, keepdim, largest=True):
    xd = x._data
    out = (np.max if largest else np.min)(xd, axis=dim, keepdims=keepdim)
    res = _record(AmaxBackward0 if largest else AminBackward0, np.asarray(out), (x,),
                  (xd, np.asarray(out)))
    if res.grad_fn is not None:
        res.grad_fn.dim, res.grad_fn.keepdim = dim % xd.ndim, keepdim
    return res


def linalg_matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """Matrix norms: 'fro', 'nuc', 1, -1, 2, -2, inf, -inf over the two dims ``dim``."""
    a = A._data
    if dtype is not None:
        A = A.to(dtype)
        a = A._data
    if a.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    _check_float("linalg.matrix_norm", a)
    d0, d1 = (canon_dim(d, a.ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, "
                           f"{dim[1]})")
    if ord == "fro":
        return linalg_vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        perm = [i for i in range(a.ndim) if i not in (d0, d1)] + [d0, d1]
        s = linalg_svdvals(A.permute(*perm))
        if ord == "nuc":
            res = s.sum(-1)
        else:
            res = _amax(s, -1, False, ord == 2)
        if keepdim:
            for d in sorted((d0, d1)):
                res = _unsq(res, d)
        return res
    if ord in (1, -1, math.inf, -math.inf):
        if ord in (math.inf, -math.inf):
            d0, d1 = d1, d0
        s = linalg_vector_norm(A, 1, d0, keepdim)
        return _amax(s, d1 if keepdim or d1 < d0 else d1 - 1, keepdim, ord > 0)
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """Vector or matrix norm, picked the way ``torch.linalg.norm`` does."""
    a = A._data
    if dim is not None and not isinstance(dim, (list, tuple)):
        dim = (dim,)
    if ord is None:
        if dim is not None and len(dim) == 2:
            return linalg_matrix_norm(A, "fro", dim, keepdim, dtype=dtype)
        return linalg_vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if isinstance(ord, str) or (dim is not None and len(dim) == 2) or (
            dim is None and a.ndim == 2):
        if dim is None:
            if a.ndim != 2:
                raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input "
                                   f"must be 1D or 2D. Got {a.ndim}D.")
            dim = (-2, -1)
        return linalg_matrix_norm(A, ord, dim, keepdim, dtype=dtype)
    if dim is None and a.ndim != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {a.ndim}D.")
    return linalg_vector_norm(A, ord, dim, keepdim, dtype=dtype)


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """``torch.norm`` (legacy): 'fro' and numbers are vector norms over ``dim``; 'nuc' too."""
    if isinstance(dim, int):
        dim = (dim,)
    if p == "fro" or p is None:
        return linalg_vector_norm(input, 2, dim, keepdim, dtype=dtype)
    if p == "nuc":
        return linalg_matrix_norm(input, "nuc", dim if dim is not None else (-2, -1), keepdim,
                                  dtype=dtype)
    return linalg_vector_norm(input, p, dim, keepdim, dtype=dtype)


# ======================================================================================
# More of torch.linalg: *_ex variants, Cholesky solves, cond, matrix_exp, eig, tensor*
# ======================================================================================
_CholEx = namedtuple("linalg_cholesky_ex", ["L", "info"])
_SolveEx = namedtuple("linalg_solve_ex", ["result", "info"])


def linalg_cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """Cholesky factor and ``info`` (0, or the order of the first non-positive minor)."""
    a = A._data
    _check_square("linalg.cholesky_ex", a)
    try:
        return _CholEx(linalg_cholesky(A, upper=upper), _const(np.zeros(a.shape[:-2], np.int32)))
    except LinAlgError:
        if check_errors:
            raise
    info = np.zeros(a.shape[:-2], np.int32).reshape(-1)
    for i, m in enumerate(a.reshape((-1,) + a.shape[-2:])):
        for k in range(1, m.shape[0] + 1):
            try:
                np.linalg.cholesky(m[:k, :k])
            except np.linalg.LinAlgError:
                info[i] = k
                break
    return _CholEx(_const(np.full(a.shape, np.nan, a.dtype)), _const(info.reshape(a.shape[:-2])))


def linalg_solve_ex(A, B, *, left=True, check_errors=False, out=None):
    a = A._data
    try:
        return _SolveEx(linalg_solve(A, B, left=left), _const(np.zeros(a.shape[:-2], np.int32)))
    except LinAlgError:
        if check_errors:
            raise
    b = B._data
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2] if b.ndim >= 2 else ()) + b.shape[-2:]
    return _SolveEx(_const(np.full(shape, np.nan, a.dtype)),
                    _const(np.ones(a.shape[:-2], np.int32)))


def cholesky_solve(B, L, upper=False, *, out=None):
    """Solve ``A X = B`` given the Cholesky factor of ``A`` (two triangular solves)."""
    if B._data.ndim < 2 or L._data.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {B._data.ndim} "
                           "dimensions instead")
    if upper:
        y = linalg_solve_triangular(L.mT, B, upper=False)
        return linalg_solve_triangular(L, y, upper=True)
    y = linalg_solve_triangular(L, B, upper=False)
    return linalg_solve_triangular(L.mT, y, upper=True)


def cholesky_inverse(L, upper=False, *, out=None):
    """``(L L^T)^{-1}`` from a Cholesky factor."""
    n = L._data.shape[-1]
    eye = _const(np.broadcast_to(np.eye(n, dtype=L._data.dtype), L._data.shape).copy())
    return cholesky_solve(eye, L, upper)


_TriSolve = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """Legacy ``torch.triangular_solve``: solves ``op(A) X = b``."""
    a = A.mT if transpose else A
    x = linalg_solve_triangular(a, b, upper=upper != transpose, unitriangular=unitriangular)
    return _TriSolve(x, A.clone())


def linalg_cond(A, p=None, *, out=None):
    """Condition number (``p=None`` or 2: ratio of extreme singular values)."""
    if p is None or p == 2 or p == -2:
        s = linalg_svdvals(A)
        hi, lo = _amax(s, -1, False, True), _amax(s, -1, False, False)
        return hi / lo if p != -2 else lo / hi
    return linalg_matrix_norm(A, p) * linalg_matrix_norm(linalg_inv(A), p)


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * outer(vec1, vec2)``."""
    res = outer(vec1, vec2)
    if alpha != 1:
        res = res * alpha
    if beta == 0:
        return res
    return res + (input * beta if beta != 1 else input)


def _expm(a: np.ndarray) -> np.ndarray:
    """Matrix exponential: scaling and squaring with a degree-13 Pade approximant (batched)."""
    b = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
         129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
         40840800., 960960., 16380., 182., 1.)
    n = a.shape[-1]
    norm1 = np.abs(a).sum(-2).max(-1) if a.size else np.zeros(a.shape[:-2])
    s = np.maximum(0, np.ceil(np.log2(np.maximum(norm1, 1e-300) / 5.371920351148152))).astype(
        np.int64)
    s = np.where(norm1 == 0, 0, s)
    a = a / (2.0 ** s)[..., None, None]
    ident = np.broadcast_to(np.eye(n, dtype=a.dtype), a.shape)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2
             + b[1] * ident)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 \
        + b[0] * ident
    r = np.linalg.solve(v - u, v + u)
    smax = int(s.max()) if s.size else 0
    for k in range(smax):  # square each matrix s times (loop over squarings, not elements)
        sq = r @ r
        r = np.where((k < s)[..., None, None], sq, r)
    return r


class LinalgMatrixExpBackward0(Node):
    """out = exp(A):  dA = the upper-right block of exp([[A^H, g], [0, A^H]])"""

    __slots__ = ()
    saved_spec = (0,)

    def backward(self, g, a):
        n = a.shape[-1]
        ah = _mH(a)
        shape = tuple(a.shape[:-2]) + (2 * n, 2 * n)
        if _is_arr(g):
            big = np.zeros(shape, np.result_type(a, g))
            big[..., :n, :n] = ah
            big[..., n:, n:] = ah
            big[..., :n, n:] = g
            return (_expm(big)[..., :n, n:],)
        from .indexing import _embed

        big = (_embed(_tensor(ah), shape, (Ellipsis, slice(0, n), slice(0, n)), False)
               + _embed(_tensor(ah), shape, (Ellipsis, slice(n, None), slice(n, None)), False)
               + _embed(g, shape, (Ellipsis, slice(0, n), slice(n, None)), False))
        return (linalg_matrix_exp(big)[..., :n, n:],)

    def jvp(self, tangents, a):
        """d exp(A) = the upper-right block of exp([[A, dA], [0, A]])."""
        t = tangents[0]
        if not (_is_arr(t) and _is_arr(a)):
            return NotImplemented
        n = a.shape[-1]
        big = np.zeros(tuple(a.shape[:-2]) + (2 * n, 2 * n), np.result_type(a, t))
        big[..., :n, :n] = a
        big[..., n:, n:] = a
        big[..., :n, n:] = t
        return _expm(big)[..., :n, n:]


def linalg_matrix_exp(A):
    """``exp(A)`` for square matrices (batched)."""
    a = A._data
    _check_square("linalg.matrix_exp", a)
    return _record(LinalgMatrixExpBackward0, _expm(a).astype(a.dtype, copy=False), (A,), (a,))


matrix_exp = linalg_matrix_exp


class LinalgEigBackward0(_MultiOutputNode):
    """A = V diag(L) V^{-1}:  dA = V^{-H} (diag(gL)* + (V^H gV - V^H V Re(diag(V^H gV)))/E*) V^H"""

    __slots__ = ("real_input",)
    saved_spec = (-1, -2)

    def backward(self, grads, lam, v):
        gl, gv = grads
        if not (_is_arr(lam) and _is_arr(v)):
            raise NotImplementedError("linalg.eig: higher-order gradients are not supported")
        n = lam.shape[-1]
        vh = np.conj(v).swapaxes(-1, -2)
        inner = np.zeros(v.shape, v.dtype)
        if gv is not None:
            vhgv = vh @ gv
            vhv = vh @ v
            vhgv = vhgv - vhv @ (np.real(np.diagonal(vhgv, 0, -2, -1))[..., :, None] *
                                 np.eye(n))
            e = np.conj(lam[..., None, :] - lam[..., :, None]) + np.eye(n)
            inner = vhgv / e
            inner = inner * (1 - np.eye(n))
        if gl is not None:
            inner = inner + np.conj(gl)[..., :, None] * np.eye(n)
        ga = np.linalg.solve(vh, inner @ vh)
        return (np.real(ga) if self.real_input else ga,)

    def jvp(self, tangents, lam, v):
        """dL = diag(V^-1 dA V);  dV = V ((V^-1 dA V) / E off the diagonal), E_ij = L_j - L_i,
        minus V Re(diag(V^H dV)) (the eigenvectors stay of unit norm)."""
        (ta,) = tangents
        lam, v = _arr(lam), _arr(v)
        if not _is_arr(ta):
            return NotImplemented
        n = lam.shape[-1]
        eye = np.eye(n)
        p = np.linalg.solve(v, ta.astype(v.dtype) @ v)
        dl = np.diagonal(p, 0, -2, -1).copy()
        off = p * (1 - eye) / (lam[..., None, :] - lam[..., :, None] + eye)
        dv = v @ off
        dv = dv - v * np.real(np.sum(np.conj(v) * dv, axis=-2))[..., None, :]
        return [dl, dv]


_Eig = namedtuple("eig", ["eigenvalues", "eigenvectors"])


def linalg_eig(A, *, out=None):
    """Eigenvalues and eigenvectors of general square matrices (complex results)."""
    a = A._data
    _check_square("linalg.eig", a)
    lam, v = np.linalg.eig(a)
    ct = np.complex128 if a.dtype in (np.float64, np.complex128) else np.complex64
    lam, v = lam.astype(ct), v.astype(ct)
    # PyTorch normalises each eigenvector to unit norm (NumPy does too)
    node, outs = _record_multi(LinalgEigBackward0, (lam, v), (A,), (lam, v))
    if node is not None:
        node.real_input = a.dtype.kind == "f"
    return _Eig(*outs)


def linalg_eigvals(A, *, out=None):
    if A._requires_grad and grad_state.enabled:
        return linalg_eig(A).eigenvalues
    a = A._data
    _check_square("linalg.eigvals", a)
    ct = np.complex128 if a.dtype in (np.float64, np.complex128) else np.complex64
    return _const(np.linalg.eigvals(a).astype(ct))


def linalg_tensorinv(A, ind=2, *, out=None):
    """Inverse of a tensor seen as a matrix of shape (prod(shape[:ind]), prod(shape[ind:]))."""
    a = A._data
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = a.shape[:ind], a.shape[ind:]
    m = int(np.prod(rows))
    inv = linalg_inv(A.reshape(m, -1))
    return inv.reshape(*(tuple(cols) + tuple(rows)))


def linalg_tensorsolve(A, B, dims=None, *, out=None):
    """Solve ``tensordot(A, X, X.ndim) = B``."""
    if dims is not None:
        nd = A._data.ndim
        dims = [d % nd for d in dims]
        A = A.permute(*([d for d in range(nd) if d not in dims] + dims))
    a, b = A._data, B._data
    xshape = a.shape[b.ndim:]
    n = int(np.prod(xshape))
    x = linalg_solve(A.reshape(-1, n), B.reshape(-1))
    return x.reshape(*xshape)


def linalg_vander(x, *, N=None):
    """Vandermonde matrix: columns x**0, x**1, ... (increasing powers)."""
    n = x._data.shape[-1] if N is None else N
    if x._data.dtype.kind in "biu" and x._data.dtype != np.int64:
        x = x.to(_dtype.int64)  # torch computes integer Vandermonde matrices in int64
    cols = [x * 0 + 1] + [None] * (n - 1)
    for k in range(1, n):
        cols[k] = cols[k - 1] * x
    return _stack_last(cols)


def _stack_last(ts):
    from .indexing import _embed

    n = len(ts)
    shape = tuple(ts[0].shape) + (n,)
    out = None
    for k, t in enumerate(ts):
        e = _embed(_tensor(t), shape, (Ellipsis, k), False)
        out = e if out is None else out + e
    return out


# ======================================================================================
# LU: lu_factor, lu, lu_solve
# ======================================================================================
def _lu_np(a: np.ndarray):
    """Partial-pivoting LU like LAPACK's getrf: packed LU, 1-based pivots, row permutation.

    The loop runs over the min(m, n) columns; every step is vectorised over the batch.
    """
    m, n = a.shape[-2:]
    k = min(m, n)
    lu = np.array(a, dtype=a.dtype if a.dtype.kind in "fc" else np.float64).reshape((-1, m, n))
    nb = lu.shape[0]
    rows = np.arange(nb)
    piv = np.zeros((nb, k), np.int32)
    perm = np.tile(np.arange(m), (nb, 1))
    for j in range(k):
        p = j + np.argmax(np.abs(lu[:, j:, j]), axis=1)
        piv[:, j] = p + 1
        top = lu[rows, j].copy()
        lu[rows, j] = lu[rows, p]
        lu[rows, p] = top
        tp = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = tp
        d = lu[:, j, j]
        safe = np.where(d == 0, 1, d)
        lu[:, j + 1:, j] = np.where((d == 0)[:, None], lu[:, j + 1:, j],
                                    lu[:, j + 1:, j] / safe[:, None])
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
    batch = a.shape[:-2]
    return lu.reshape(batch + (m, n)), piv.reshape(batch + (k,)), perm.reshape(batch + (m,))


def _perm_matrix(perm, dtype):
    m = perm.shape[-1]
    p = np.zeros(perm.shape[:-1] + (m, m), dtype)
    np.put_along_axis(p, perm[..., None, :], 1, axis=-2)  # P[perm[i], i] = 1
    return p


def _lu_square_grad(l_, u, gl, gu):
    """Square A = L U (no pivots):  dA = L^{-H} (tril(L^H gL, -1) + triu(gU U^H)) U^{-H}"""
    phi = None
    if gl is not None:
        phi = _tril(_mH(l_) @ gl, -1)
    if gu is not None:
        t = _triu(gu @ _mH(u))
        phi = t if phi is None else phi + t
    if phi is None:
        return None
    x = _solve_tri(_mH(l_), phi, True)              # L^{-H} phi
    return _solve_tri(_mH(u), x, False, left=False)  # ... U^{-H}


def _lu_grad(p, l_, u, gl, gu):
    """A = P L U for any shape: the square rule, with the extra block of a wide U or a tall L
    folded in (wide: A2 = P L U2; tall: A2' = L2 U)."""
    m, n = l_.shape[-2], u.shape[-1]
    if m == n:
        ga = _lu_square_grad(l_, u, gl, gu)
        return None if ga is None else p @ ga
    if m < n:  # wide: U = [U1 | U2]
        u1, u2 = u[..., :, :m], u[..., :, m:]
        gu1 = gu[..., :, :m] if gu is not None else None
        gu2 = gu[..., :, m:] if gu is not None else None
        ga2 = None
        if gu2 is not None:
            ga2 = _solve_tri(_mH(l_), gu2, True)     # L^{-H} gU2
            corr = ga2 @ _mH(u2)
            gl = -corr if gl is None else gl - corr
        ga1 = _lu_square_grad(l_, u1, gl, gu1)
        if ga1 is None:
            ga1 = u1 * 0
        if ga2 is None:
            ga2 = u2 * 0
        return p @ _cat(ga1, ga2, -1)
    # tall: L = [L1; L2]
    l1, l2 = l_[..., :n, :], l_[..., n:, :]
    gl1 = gl[..., :n, :] if gl is not None else None
    gl2 = gl[..., n:, :] if gl is not None else None
    ga2 = None
    if gl2 is not None:
        ga2 = _mH(_solve_tri(u, _mH(gl2), True))     # gL2 U^{-H}
        corr = _mH(l2) @ ga2
        gu = -corr if gu is None else gu - corr
    ga1 = _lu_square_grad(l1, u, gl1, gu)
    if ga1 is None:
        ga1 = l1 * 0
    if ga2 is None:
        ga2 = l2 * 0
    return p @ _cat(ga1, ga2, -2)


class LinalgLuBackward0(_MultiOutputNode):
    """A = P L U:  dA = P L^{-H} (tril(L^H gL, -1) + triu(gU U^H)) U^{-H} (square case)"""

    __slots__ = ("p",)
    saved_spec = (-2, -3)

    def backward(self, grads, l_, u):
        _, gl, gu = grads
        return (_lu_grad(self.p, l_, u, gl, gu),)

    def jvp(self, tangents, l_, u):
        dl, du = _lu_jvp(self.p, l_, u, tangents[0])
        return [None, dl, du]  # P is piecewise constant


_Lu = namedtuple("lu", ["P", "L", "U"])
_LuFactor = namedtuple("lu_factor", ["LU", "pivots"])


def linalg_lu(A, *, pivot=True, out=None):
    """``A = P L U`` with partial pivoting (L unit lower triangular)."""
    a = A._data
    if a.ndim < 2:
        raise RuntimeError("linalg.lu: Expected tensor with 2 or more dimensions. Got size: "
                           f"{shape_str(a.shape)} instead")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    lu, _, perm = _lu_np(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    l_ = np.tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=lu.dtype)
    u = np.triu(lu[..., :k, :])
    p = _perm_matrix(perm, lu.dtype)
    node, outs = _record_multi(LinalgLuBackward0, (p, l_, u), (A,), (l_, u))
    if node is not None:
        node.p = p
        p_out = _make(p, False, None)
        outs = (p_out,) + outs[1:]
    return _Lu(*outs)


class LinalgLuFactorExBackward0(_MultiOutputNode):
    """Packed LU: the lu backward with gL = tril(g, -1), gU = triu(g)."""

    __slots__ = ("p",)
    saved_spec = (-1,)

    def backward(self, grads, lu):
        g = grads[0]
        if g is None:
            return (None,)
        m, n = lu.shape[-2], lu.shape[-1]
        k = min(m, n)
        dt = _arr(lu).dtype
        l_ = _tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=dt)
        u = _triu(lu[..., :k, :])
        return (_lu_grad(self.p, l_, u, _tril(g[..., :, :k], -1), _triu(g[..., :k, :])),)

    def jvp(self, tangents, lu):
        """The packed tangent: the strict lower part of dL plus the upper part of dU."""
        t = tangents[0]
        if not (_is_arr(t) and _is_arr(lu)):
            return NotImplemented
        m, n = lu.shape[-2], lu.shape[-1]
        k = min(m, n)
        l_ = np.tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=lu.dtype)
        u = np.triu(lu[..., :k, :])
        dl, du = _lu_jvp(self.p, l_, u, t)
        out = np.zeros(np.broadcast_shapes(dl.shape[:-2], du.shape[:-2]) + (m, n), dl.dtype)
        out[..., :, :k] += np.tril(dl, -1)
        out[..., :k, :] += np.triu(du)
        return [out, None]  # the pivots are integers


def linalg_lu_factor(A, *, pivot=True, out=None):
    """Packed LU factors and LAPACK-style 1-based pivots."""
    a = A._data
    if a.ndim < 2:
        raise RuntimeError("torch.linalg.lu_factor: Expected tensor with 2 or more dimensions. "
                           f"Got size: {shape_str(a.shape)} instead")
    lu, piv, perm = _lu_np(a)
    node, outs = _record_multi(LinalgLuFactorExBackward0, (lu, piv), (A,), (lu,))
    if node is not None:
        node.p = _perm_matrix(perm, lu.dtype)
    return _LuFactor(*outs)


def linalg_lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """Solve ``A X = B`` from ``lu_factor``'s output (differentiable in LU and B)."""
    lu = LU._data
    piv = pivots._data
    n = lu.shape[-1]
    # rebuild the permutation from the sequential swaps
    perm = np.tile(np.arange(n), piv.shape[:-1] + (1,)).reshape(-1, n)
    pv = piv.reshape(-1, piv.shape[-1]) - 1
    rows = np.arange(perm.shape[0])
    for j in range(pv.shape[-1]):
        p = pv[:, j]
        tj = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = tj
    p_mat = _const(_perm_matrix(perm.reshape(piv.shape[:-1] + (n,)), lu.dtype))
    eye = np.eye(n, dtype=lu.dtype)
    l_ = _tril(LU, -1) + eye
    u = _triu(LU)
    a = matmul(p_mat, matmul(l_, u))
    if adjoint:
        a = _mH(a)
    return linalg_solve(a, B, left=left)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    lu = LU_data._data
    m, n = lu.shape[-2:]
    k = min(m, n)
    piv = LU_pivots._data.reshape(-1, k) - 1
    perm = np.tile(np.arange(m), (piv.shape[0], 1))
    rows = np.arange(perm.shape[0])
    for j in range(k):
        p = piv[:, j]
        tj = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = tj
    p_mat = _const(_perm_matrix(perm.reshape(lu.shape[:-2] + (m,)), lu.dtype))
    l_ = _tril(LU_data[..., :, :k], -1) + np.eye(m, k, dtype=lu.dtype)
    u = _triu(LU_data[..., :k, :])
    return _Lu(p_mat, l_, u)


def cdist(x1, x2, p=2.0, compute_mode=None):
    """Pairwise ``p``-norm distances between the rows of ``x1`` and of ``x2`` (batched)."""
    a, b = x1._data, x2._data
    if a.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D")
    if b.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {b.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} "
                           f"X2: {b.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return linalg_vector_norm(diff, p, -1)


_LuFactorEx = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])


def linalg_lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    lu, piv = linalg_lu_factor(A, pivot=pivot)
    d = np.diagonal(lu._data, 0, -2, -1)
    zero = d == 0
    info = np.where(zero.any(-1), zero.argmax(-1) + 1, 0).astype(np.int32)
    if check_errors and info.any():
        raise LinAlgError("torch.linalg.lu_factor_ex: U[{0},{0}] is zero and using it on "
                          "lu_solve would result in a division by zero.".format(int(info.max())))
    return _LuFactorEx(lu, piv, _const(info))


def lu(A, pivot=True, get_infos=False, out=None):
    """Legacy ``torch.lu``: packed LU and pivots (and infos)."""
    res = linalg_lu_factor_ex(A, pivot=pivot)
    return (res.LU, res.pivots, res.info) if get_infos else (res.LU, res.pivots)


def lu_solve(b, LU_data, LU_pivots, *, out=None):
    """Legacy ``torch.lu_solve(b, LU_data, LU_pivots)``."""
    return linalg_lu_solve(LU_data, LU_pivots, b)


# ======================================================================================
# torch.vander, dist, block_diag, nuclear/frobenius norms
# ======================================================================================
def vander(x, N=None, increasing=False):
    """``torch.vander``: columns x**(N-1), ..., x, 1 (or increasing powers)."""
    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x._data.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if x._data.dtype.kind in "biu" and x._data.dtype != np.int64:
        x = x.to(_dtype.int64)  # torch computes integer Vandermonde matrices in int64
    if n == 0:
        return _const(np.zeros((x._data.shape[0], 0), x._data.dtype))
    cols = [x * 0 + 1]
    for _ in range(1, n):
        cols.append(cols[-1] * x)
    if not increasing:
        cols = cols[::-1]
    return _stack_last(cols)


def dist(input, other, p=2):
    """The ``p``-norm of ``input - other`` (broadcast)."""
    return linalg_vector_norm(input - other, p)


class BlockDiagBackward0(Node):
    """out = block_diag(t_0, t_1, ...):  dt_i = g's i-th diagonal block"""

    __slots__ = ("blocks",)
    saved_spec = ()

    def backward(self, g):
        out = []
        for (fn, _), (r0, c0, r, c, shape) in zip(self.next_functions, self.blocks):
            out.append(None if fn is None else g[r0:r0 + r, c0:c0 + c].reshape(shape))
        return tuple(out)

    def jvp(self, tangents):  # linear: the block-diagonal matrix of the tangents
        ref = next(t for t in tangents if t is not None)
        rows = sum(r for _, _, r, _, _ in self.blocks)
        cols = sum(c for _, _, _, c, _ in self.blocks)
        if not _is_arr(ref):
            return NotImplemented
        out = np.zeros((rows, cols), ref.dtype)
        for t, (r0, c0, r, c, _) in zip(tangents, self.blocks):
            if t is not None:
                out[r0:r0 + r, c0:c0 + c] = t.reshape(r, c)
        return out


def block_diag(*tensors):
    """A block-diagonal matrix from 0-, 1- or 2-D tensors (1-D ones are rows)."""
    mats = []
    for i, t in enumerate(tensors):
        d = t._data
        if d.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {d.ndim} dimensions")
        mats.append(d.reshape(1, -1) if d.ndim == 1 else d.reshape(1, 1) if d.ndim == 0 else d)
    dt = _dtype.result_type(*mats) if mats else np.float32
    rows = sum(m.shape[0] for m in mats)
    cols = sum(m.shape[1] for m in mats)
    out = np.zeros((rows, cols), dt)
    blocks = []
    r0 = c0 = 0
    for m, t in zip(mats, tensors):
        out[r0:r0 + m.shape[0], c0:c0 + m.shape[1]] = m
        blocks.append((r0, c0, m.shape[0], m.shape[1], t._data.shape))
        r0 += m.shape[0]
        c0 += m.shape[1]
    res = _record(BlockDiagBackward0, out, tensors, ())
    if res.grad_fn is not None:
        res.grad_fn.blocks = blocks
    return res


def nuclear_norm(input, dim=None, keepdim=False, *, out=None, dtype=None):
    return linalg_matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)


def frobenius_norm(input, dim=None, keepdim=False, *, out=None, dtype=None):
    return linalg_vector_norm(input, 2, (-2, -1) if dim is None else dim, keepdim)


def svd_lowrank(A, q=6, niter=2, M=None):
    """The ``q`` leading singular triplets (U, S, V) of ``A - M``; computed exactly here (the
    randomized iterations of PyTorch are not needed on the CPU at these sizes)."""
    a = A if M is None else A - M
    m, n = a._data.shape[-2:]
    q = min(int(q), m, n)
    u, s, vh = linalg_svd(a, full_matrices=False)
    return u[..., :, :q], s[..., :q], _mH(vh[..., :q, :])


def pca_lowrank(A, q=None, center=True, niter=2):
    """Principal directions of the rows of ``A`` (centered by column means): (U, S, V)."""
    m, n = A._data.shape[-2:]
    q = min(6, m, n) if q is None else q
    if center:
        A = A - A.mean(-2, keepdim=True)
    return svd_lowrank(A, q, niter)
