"""Indexing: basic and advanced indexing, gather/scatter, masking; each node by its function.

Backward formulas receive NumPy arrays (plain backward) or Tensors (``create_graph=True``).
The few scatter-like helpers they need (``_embed``, ``_zero_at``, ``_take``) dispatch on the
type: NumPy code for arrays, the differentiable ops of this module for Tensors, so every
derivative is written once and second-order gradients come from the same formula.
"""
from __future__ import annotations

import numpy as np

from .. import _dtype
from ..autograd.function import NO_EDGE, OUTPUT, Node, edge
from ..autograd.grad_mode import grad_state
from ..tensor import Tensor, _check_inplace, _make, inplace
from ._broadcast import broadcast_error, canon_dim, shape_str, sum_to, xp
from ._broadcast import broadcast_to as _broadcast_to

__all__ = [
    'argwhere',
    'bincount',
    'bucketize',
    'cartesian_prod',
    'combinations',
    'diagonal_scatter',
    'gather',
    'index_add',
    'index_copy',
    'index_fill',
    'index_put',
    'index_put_',
    'index_reduce',
    'index_select',
    'isin',
    'masked_fill',
    'masked_scatter',
    'masked_select',
    'nonzero',
    'nonzero_static',
    'put',
    'scatter',
    'scatter_add',
    'scatter_reduce',
    'searchsorted',
    'select',
    'select_scatter',
    'slice_scatter',
    'take',
    'take_along_dim',
    'tril_indices',
    'triu_indices',
    'unique',
    'unique_consecutive',
]

_ndarray = np.ndarray
_generic = np.generic
_LEAF_MSG = "a leaf Variable that requires grad is being used in an in-place operation."


def _is_arr(x) -> bool:
    return type(x) is _ndarray or isinstance(x, _generic)


def _data(x):
    """The ndarray behind a Tensor (or the array itself)."""
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _const(a):
    return _make(np.asarray(a), False, None)


def _record(node_cls, out, inputs, saved=()):
    """Wrap ``out``; attach a ``node_cls`` node when some Tensor in ``inputs`` wants a grad."""
    if grad_state.enabled and out.dtype.kind in "fc":
        needs = [isinstance(t, Tensor) and t._requires_grad for t in inputs]
        if any(needs):
            node = node_cls()
            node.next_functions = tuple(edge(t) if n else NO_EDGE for t, n in zip(inputs, needs))
            node.saved = saved
            return _make(out, True, node)
    return _make(out, False, None)


def _wants(t) -> bool:
    return isinstance(t, Tensor) and t._requires_grad and grad_state.enabled


# ======================================================================================
# Keys: PyTorch's indexing rules translated to a NumPy key
# ======================================================================================
def _index_array(obj) -> np.ndarray:
    """An integer or bool index array from a Tensor, ndarray or (nested) list."""
    a = obj._data if isinstance(obj, Tensor) else np.asarray(obj)
    k = a.dtype.kind
    if k == "b" or k == "i":
        return a
    if k == "u":
        if a.dtype == np.uint8:
            return a.astype(bool)  # PyTorch treats uint8 index tensors as masks
        return a.astype(np.int64)
    if a.size == 0:
        return a.astype(np.int64)
    raise IndexError("tensors used as indices must be long, int, byte or bool tensors")


def _seq_as_tuple(seq) -> bool:
    """PyTorch (like old NumPy) reads a short list holding slices/sequences as a tuple."""
    if len(seq) >= 32:
        return False
    for o in seq:
        if o is None or o is Ellipsis or isinstance(o, (slice, list, tuple, Tensor, _ndarray)):
            return True
    return False


def _norm_key(key):
    """Return (numpy key tuple, advanced?, node class for a basic key)."""
    bare = not isinstance(key, tuple)
    if bare:
        if isinstance(key, list) and _seq_as_tuple(key):
            key = tuple(key)
            bare = False
        else:
            key = (key,)
    out = []
    adv = False
    kind = None
    has_slice = False
    for k in key:
        tk = type(k)
        if tk is int:
            out.append(k)
            kind = SelectBackward0
        elif tk is slice:
            if k.step is not None and int(k.step) <= 0:
                if int(k.step) == 0:
                    raise ValueError("slice step cannot be zero")
                raise ValueError("step must be greater than zero")
            out.append(k)
            has_slice = True
            if not (k.start is None and k.stop is None and k.step in (None, 1)):
                kind = SliceBackward0
        elif k is None:
            out.append(None)
            kind = UnsqueezeBackward0
        elif k is Ellipsis:
            out.append(k)
        elif tk is bool:
            out.append(k)
            adv = True
        elif isinstance(k, (Tensor, _ndarray)):
            a = k._data if tk is Tensor else k
            if a.ndim == 0 and a.dtype.kind in "iu":
                out.append(int(a))
                kind = SelectBackward0
            else:
                out.append(_index_array(a))
                adv = True
        elif isinstance(k, (list, tuple)):
            out.append(_index_array(k))
            adv = True
        elif tk is range:
            out.append(np.arange(k.start, k.stop, k.step, dtype=np.int64))
            adv = True
        elif isinstance(k, (np.integer,)):
            out.append(int(k))
            kind = SelectBackward0
        elif hasattr(k, "__index__"):
            out.append(k.__index__())
            kind = SelectBackward0
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                "Variables are valid indices (got " + type(k).__name__ + ")")
    if kind is None and not adv:
        kind = SliceBackward0 if has_slice and bare else AliasBackward0
    return tuple(out), adv, kind


def _translate(err: Exception, shape=None) -> Exception:
    """NumPy's indexing errors, reworded as PyTorch's."""
    msg = str(err)
    if "out of bounds for axis" in msg:
        return IndexError(msg.replace("axis", "dimension"))
    if msg.startswith("too many indices"):
        return IndexError(f"too many indices for tensor of dimension {len(shape)}")
    if "boolean index did not match" in msg:
        # "... along axis 0; size of axis is 4 but size of corresponding boolean axis is 3"
        import re

        m = re.search(r"axis (\d+); size of axis is (\d+) but size of corresponding boolean "
                      r"axis is (\d+)", msg)
        if m:
            ax = int(m.group(1))
            return IndexError(
                f"The shape of the mask [{m.group(3)}] at index {ax} does not match the shape "
                f"of the indexed tensor [{m.group(2)}] at index {ax}")
    if "arrays used as indices" in msg:
        return IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if "indexing arrays could not be broadcast together" in msg:
        import re

        shapes = re.findall(r"\(([^)]*)\)", msg.split("shapes", 1)[1])
        parts = ", ".join("[" + ", ".join(d for d in sh.replace(" ", "").split(",") if d) + "]"
                          for sh in shapes)
        return IndexError("shape mismatch: indexing tensors could not be broadcast together "
                          f"with shapes {parts}")
    if "shape mismatch" in msg and shape is not None:
        return IndexError(msg)
    return type(err)(msg)


def _mask_error(shape, key) -> IndexError:
    """PyTorch's message for a boolean mask whose shape does not fit the indexed dims."""
    used = sum(1 if k is not None and k is not Ellipsis and type(k) is not bool and not (
        type(k) is _ndarray and k.dtype.kind == "b") else 0 for k in key) + sum(
        k.ndim for k in key if type(k) is _ndarray and k.dtype.kind == "b")
    dim = 0
    dropped = 0
    for k in key:
        if k is Ellipsis:
            dim += len(shape) - used
        elif k is None or type(k) is bool:
            continue
        elif type(k) is _ndarray and k.dtype.kind == "b":
            for j, n in enumerate(k.shape):
                if dim + j >= len(shape) or shape[dim + j] != n:
                    rest = shape[dropped:]
                    return IndexError(
                        f"The shape of the mask {shape_str(k.shape)} at index {j} does not match "
                        f"the shape of the indexed tensor {shape_str(rest)} at index "
                        f"{dim + j - dropped}")
            dim += k.ndim
        else:
            if type(k) is int and dim == dropped:
                dropped += 1
            dim += 1
    return IndexError("boolean mask does not match the indexed tensor")


def _has_int_array(key) -> bool:
    for k in key:
        if type(k) is _ndarray and k.dtype.kind != "b":
            return True
    return False


# ======================================================================================
# Array helpers used by backward formulas (NumPy path) and their Tensor twins
# ======================================================================================
def _linear_index(shape, key) -> np.ndarray:
    """For each element of ``x[key]``, its flat position in an array of ``shape``."""
    if len(key) >= 1 and type(key[0]) is _ndarray and key[0].dtype.kind in "iu" and all(
            type(k) is slice and k == slice(None) for k in key[1:]) and len(shape) >= 1:
        # x[idx] (embedding lookups, index_select on dim 0): no arange over all of x.
        idx = key[0] % shape[0] if shape[0] else key[0]
        inner = 1
        for s in shape[1:]:
            inner *= s
        lin = idx.reshape(idx.shape + (1,)) * inner + np.arange(inner)
        return lin.reshape(idx.shape + tuple(shape[1:]))
    if len(key) == len(shape) and all(type(k) is _ndarray and k.dtype.kind in "iu"
                                      for k in key):
        # gather/scatter keys (one integer array per dim): strides, no arange over all of x
        lin = key[0] % shape[0]
        for k, s in zip(key[1:], shape[1:]):
            lin = lin * s + k % s
        return np.broadcast_to(lin, np.broadcast_shapes(*(k.shape for k in key)))
    n = 1
    for s in shape:
        n *= s
    return np.arange(n).reshape(shape)[key]


def _add_at(z: np.ndarray, key, g) -> None:
    """``z[key] += g`` with repeated indices accumulating (``np.add.at``, but faster)."""
    if z.dtype.kind != "f" or not z.flags.c_contiguous:
        np.add.at(z, key, g)
        return
    if any(k is Ellipsis for k in key) and not any(k is None for k in key):
        i = next(j for j, k in enumerate(key) if k is Ellipsis)
        key = key[:i] + (slice(None),) * (z.ndim - len(key) + 1) + key[i + 1:]
    d = _single_array_dim(key, z.ndim)
    if d is not None:  # x[idx], x[:, idx] (embedding lookups, index_select): whole slices
        idx = key[d]
        shape = z.shape
        _add_rows(z, d, idx.reshape(-1), np.broadcast_to(
            g, shape[:d] + idx.shape + shape[d + 1:]).reshape(
                shape[:d] + (idx.size,) + shape[d + 1:]))
        return
    lin = _linear_index(z.shape, key)
    w = np.broadcast_to(g, lin.shape).ravel()
    z.reshape(-1)[...] += np.bincount(lin.ravel(), weights=w, minlength=z.size).astype(
        z.dtype, copy=False)


def _single_array_dim(key, ndim):
    """The position of the only index array in ``key`` when all else is ``:``; else None."""
    if len(key) > ndim:
        return None
    pos = None
    for i, k in enumerate(key):
        if type(k) is _ndarray:
            if pos is not None or k.dtype.kind not in "iu":
                return None
            pos = i
        elif type(k) is not slice or k != slice(None):
            return None
    return pos


def _add_rows(z: np.ndarray, dim: int, idx: np.ndarray, src: np.ndarray) -> None:
    """``z[(:,)*dim + (idx,)] += src`` for a 1-D ``idx`` whose entries may repeat.

    ``np.bincount`` sums the repeats. When ``z`` is much larger than ``src`` (an embedding
    table), the rows are first made compact with ``np.unique`` over ``idx`` (small), so no
    float64 buffer of the table's size is made.
    """
    shape = z.shape
    n = shape[dim]
    pre = 1
    for s in shape[:dim]:
        pre *= s
    post = 1
    for s in shape[dim + 1:]:
        post *= s
    i = idx % n if n else idx
    compact = z.size > 4 * src.size
    if compact:
        rows, i = np.unique(i, return_inverse=True)
        i = i.reshape(-1)
        m = rows.size
    else:
        m = n
    lin = (np.arange(pre).reshape(-1, 1, 1) * m + i.reshape(1, -1, 1)) * post \
        + np.arange(post).reshape(1, 1, -1)
    w = src.reshape(lin.shape).ravel()
    sums = np.bincount(lin.ravel(), weights=w, minlength=pre * m * post).reshape(
        pre, m, post).astype(z.dtype, copy=False)
    z3 = z.reshape(pre, n, post)
    if compact:
        z3[:, rows, :] += sums
    else:
        z3 += sums


def _embed(g, shape, key, accumulate):
    """Zeros of ``shape`` with ``g`` written (or added, for repeated indices) at ``key``."""
    if _is_arr(g):
        if accumulate:
            z = np.zeros(shape, g.dtype)
            _add_at(z, key, g)
        else:
            z = np.zeros(shape, g.dtype)
            z[key] = g
        return z
    res = _make(_embed(g._data, shape, key, accumulate), False, None)
    if _wants(g):
        node = IndexBackwardBackward0()
        node.next_functions = (edge(g),)
        node.saved = ()
        node.key = key
        res = _make(res._data, True, node)
    return res


class IndexBackwardBackward0(Node):
    """out = zeros with g placed at key:  dg = out_grad[key]"""

    __slots__ = ("key",)
    saved_spec = ()

    def backward(self, g):
        return (_take(g, self.key),)

    jvp_needs_out_shape = True

    def jvp(self, tangents):  # the adjoint of the take in backward: an add-at
        return _embed(tangents[0], self._out_shape, self.key, True)


def _take(g, key):
    """``g[key]`` for arrays, the recorded getitem for Tensors."""
    if _is_arr(g):
        return g[key]
    return getitem(g, key)


def _zero_at(g, key):
    """``g`` with the entries at ``key`` set to zero."""
    if _is_arr(g):
        out = np.array(g)
        out[key] = 0
        return out
    mask = np.ones(g.shape, g._data.dtype)
    mask[key] = 0
    return g * mask


def _reduce_to(g, shape):
    """Sum a gradient back to ``shape`` (which may have extra leading 1s)."""
    shape = tuple(shape)
    if g.ndim < len(shape):
        g = g.reshape((1,) * (len(shape) - g.ndim) + tuple(g.shape))
    return sum_to(g, shape)



# ======================================================================================
# Forward mode (jvp): the ops here are linear; gathers re-apply themselves to the tangent,
# writes ("x with the entries at key replaced by v") write the tangents the same way.
# ======================================================================================
def _written(tx, tv, key, shape, accumulate=False):
    """The tangent of ``x`` with ``v`` written (or added, ``accumulate``) at ``key``; on
    Tensors the rule declines (the double-vjp fallback computes it)."""
    ref = tx if tx is not None else tv
    if not _is_arr(ref):
        return NotImplemented
    out = np.array(tx) if tx is not None else np.zeros(shape, tv.dtype)
    if accumulate:
        if tv is not None:
            _add_at(out, key, np.broadcast_to(tv, out[key].shape))
    else:
        out[key] = 0 if tv is None else tv
    return out


# ======================================================================================
# x[key]
# ======================================================================================
class _BasicIndexNode(Node):
    """out = x[key] (ints, slices, None, ...):  dx = zeros with g at key"""

    __slots__ = ("in_shape", "key")
    saved_spec = ()

    def backward(self, g):
        return (_embed(g, self.in_shape, self.key, False),)

    def jvp(self, tangents):
        return _take(tangents[0], self.key)


class SelectBackward0(_BasicIndexNode):
    __slots__ = ()


class SliceBackward0(_BasicIndexNode):
    __slots__ = ()


class UnsqueezeBackward0(_BasicIndexNode):
    __slots__ = ()


class AliasBackward0(_BasicIndexNode):
    __slots__ = ()


class IndexBackward0(Node):
    """out = x[key] (advanced):  dx = zeros with g added at key (repeats accumulate)"""

    __slots__ = ("accumulate", "in_shape", "key")
    saved_spec = ()

    def backward(self, g):
        return (_embed(g, self.in_shape, self.key, self.accumulate),)

    def jvp(self, tangents):
        return _take(tangents[0], self.key)


def _simple_tuple(key) -> bool:
    for k in key:
        tk = type(k)
        if tk is int:
            continue
        if tk is not slice or k.step is not None:
            return False
    return True


def _basic_cls(key, shape):
    """PyTorch's node for a basic key: the last op that changed something (select, slice,
    unsqueeze); slices covering a whole dim do nothing, so x[:, :] is an alias."""
    used = 0
    for k in key:
        if k is not None and k is not Ellipsis:
            used += 1
    d = 0
    cls = None
    for k in key:
        if k is Ellipsis:
            d += len(shape) - used
            continue
        if k is None:
            cls = UnsqueezeBackward0
            continue
        if type(k) is slice:
            # PyTorch skips a slice only when it is spelled as the whole dim (a negative
            # start that happens to reach 0 still counts as a slice)
            if not ((k.start is None or k.start == 0) and (k.stop is None or k.stop >= shape[d])
                    and k.step in (None, 1)):
                cls = SliceBackward0
        else:
            cls = SelectBackward0
        d += 1
    return cls or AliasBackward0


def _split_key(key):
    """PyTorch applies ints (selects) before index tensors; NumPy treats an int next to an
    array as one more advanced index (which can move the result dims). Split such a key
    into (basic key, advanced key on the resulting view); None when no split is needed."""
    if not any(type(k) is int for k in key) or any(type(k) is bool for k in key):
        return None
    basic, adv = [], []
    for k in key:
        if type(k) is int:
            basic.append(k)
        elif type(k) is _ndarray:
            basic.extend([slice(None)] * (k.ndim if k.dtype.kind == "b" else 1))
            adv.append(k)
        else:
            basic.append(k)
            adv.append(Ellipsis if k is Ellipsis else slice(None))
    return tuple(basic), tuple(adv)


def getitem(input, key):
    """``input[key]`` with PyTorch's rules; integer-array indices gather (and accumulate back)."""
    x = input._data
    tk = type(key)
    if tk is int:  # the hot path: x[i]
        nkey, adv, cls = (key,), False, SelectBackward0
    elif tk is slice and (key.step is None or type(key.step) is int and key.step > 0):
        nkey, adv = (key,), False
        cls = SliceBackward0  # a bare x[a:b] is a slice even when it covers everything
    elif tk is tuple and _simple_tuple(key):
        # x[:, 0], x[1:3, 2]: ints and step-less slices need no normalising
        nkey, adv, cls = key, False, None  # the node class is found only if needed
    else:
        nkey, adv, cls = _norm_key(key)
        if adv:
            split = _split_key(nkey)
            if split is not None:
                return getitem(getitem(input, split[0]), split[1])
        elif not (tk is slice or tk is int or key is None or key is Ellipsis):
            cls = None  # decided from the shape below
    try:
        out = x[nkey]
    except (IndexError, ValueError) as e:
        if "boolean index did not match" in str(e):
            raise _mask_error(x.shape, nkey) from None
        raise _translate(e, x.shape) from None
    if type(out) is not _ndarray:
        out = np.asarray(out)
    if grad_state.enabled:
        if input._requires_grad and out.dtype.kind in "fc":
            if adv:
                node = IndexBackward0()
                node.accumulate = _has_int_array(nkey)
            else:
                node = (cls or _basic_cls(nkey, x.shape))()
            node.next_functions = (edge(input),)
            node.saved = ()
            node.in_shape = x.shape
            node.key = nkey
            res = _make(out, True, node)
        else:
            res = _make(out, False, None)
        if not adv:
            # A view: remember where it came from, so that writing into it (view[k] = v)
            # can update the base's history too, as PyTorch does.
            d = res.__dict__
            d["_base"] = input
            d["_view_key"] = nkey
        return res
    return _make(out, False, None)


# ======================================================================================
# x[key] = value (and index_put)
# ======================================================================================
class CopySlices(Node):
    """x[key] = v:  dx = g with zeros at key,  dv = g[key] summed to v's shape"""

    __slots__ = ("accumulate", "key", "v_shape")
    saved_spec = ()

    def backward(self, g):
        fx, fv = self.next_functions
        key = self.key
        gx = gv = None
        if fx[0] is not None:
            gx = g if self.accumulate else _zero_at(g, key)
        if fv[0] is not None:
            gv = _reduce_to(_take(g, key), self.v_shape)
        return gx, gv

    jvp_needs_out_shape = True

    def jvp(self, tangents):
        tx, tv = tangents
        return _written(tx, tv, self.key, self._out_shape, self.accumulate)


class IndexPutBackward0(CopySlices):
    __slots__ = ()


def _same_dtype(x, src, msg):
    """PyTorch's scatter-like ops need ``src`` of the destination's dtype: raise ``msg``."""
    if isinstance(src, Tensor) and src._data.dtype != x.dtype:
        from .linalg import _scalar_name

        raise RuntimeError(msg.format(a=_scalar_name(x.dtype), b=_scalar_name(src._data.dtype)))


_C_INT_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
                "int64": "int64_t"}


def _value_array(value, dtype):
    if isinstance(value, Tensor):
        v = value._data
        return v if v.dtype == dtype else v.astype(dtype)
    if isinstance(value, _ndarray):
        return value.astype(dtype, copy=False)
    if dtype.kind in "iu" and isinstance(value, (int, float)):
        info = np.iinfo(dtype)
        if not (np.isfinite(value) and info.min <= int(value) <= info.max):
            raise RuntimeError(f"value cannot be converted to type {_C_INT_NAMES[dtype.name]} "
                               "without overflow")
    return np.asarray(value, dtype=dtype)


def _expand_error(vshape, target, dtype) -> RuntimeError:
    """PyTorch's ``expand`` message when a value does not fit a basic-indexing result."""
    vshape = tuple(vshape)
    while vshape and vshape[0] == 1 and len(vshape) > len(target):
        vshape = vshape[1:]
    if len(vshape) > len(target):
        kind = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
                "bool": "Bool", "float16": "Half"}.get(str(dtype), "Float")
        return RuntimeError(
            f"expand(torch.{kind}Tensor{{{shape_str(vshape)}}}, size={shape_str(target)}): the "
            f"number of sizes provided ({len(target)}) must be greater or equal to the number "
            f"of dimensions in the tensor ({len(vshape)})")
    lead = len(target) - len(vshape)
    for i in range(len(target) - 1, -1, -1):
        n = vshape[i - lead] if i >= lead else 1
        if n != 1 and n != target[i]:
            return RuntimeError(
                f"The expanded size of the tensor ({target[i]}) must match the existing size "
                f"({n}) at non-singleton dimension {i}.  Target sizes: {shape_str(target)}.  "
                f"Tensor sizes: {shape_str(vshape)}")
    return RuntimeError(f"shapes {shape_str(vshape)} and {shape_str(target)} do not broadcast")


def _assign(target: np.ndarray, key, v, accumulate=False):
    try:
        if accumulate:
            _add_at(target, key, v)
        else:
            target[key] = v
    except (IndexError, ValueError) as e:
        msg = str(e)
        if "could not broadcast" in msg or "shape mismatch" in msg:
            try:
                res_shape = np.empty(target.shape, bool)[key].shape
            except Exception:  # noqa: BLE001 - fall back to NumPy's words
                raise _translate(e, target.shape) from None
            if not any(type(k) is _ndarray for k in key):
                raise _expand_error(np.shape(v), res_shape, target.dtype) from None
            raise RuntimeError(
                f"shape mismatch: value tensor of shape {shape_str(np.shape(v))} cannot be "
                f"broadcast to indexing result of shape {shape_str(res_shape)}") from None
        raise _translate(e, target.shape) from None


def _put_op(src, nkey, value, node_cls, accumulate):
    """Out of place ``src[nkey] = value``; ``src`` is a private copy made by ``inplace``."""
    vt = isinstance(value, Tensor)
    out = src._data
    _assign(out, nkey, _value_array(value, out.dtype), accumulate)
    res = _record(node_cls, out, (src, value))
    if res.grad_fn is not None:
        node = res.grad_fn
        node.key = nkey
        node.v_shape = value._data.shape if vt else ()
        node.accumulate = accumulate
    return res


def _put_inplace(t, nkey, value, node_cls, accumulate=False):
    """Write ``value`` at ``nkey`` into ``t``; with a gradient wanted, rebase t's history."""
    record = grad_state.enabled and t._data.dtype.kind in "fc" and (
        t._requires_grad or (isinstance(value, Tensor) and value._requires_grad))
    if record:
        return _view_aware(t, _put_op, nkey, value, node_cls, accumulate)
    _check_inplace(t)
    _assign(t._data, nkey, _value_array(value, t._data.dtype), accumulate)
    t._bump()
    return t


def _view_aware(t, op, *args, **kwargs):
    """Run ``inplace``; if ``t`` is a view, make sure its bases get the new history.

    ``inplace`` rebases the bases itself when one of them is already part of a graph; the
    case left here is a base outside any graph written with a value that requires grad
    (``z = zeros(3); z[1:][0] = w``), which turns the base into a graph tensor.
    """
    if t._base is None:
        return inplace(t, op, *args, **kwargs)
    _check_view_of_leaf(t)
    handled = _bases_in_graph(t)
    inplace(t, op, *args, **kwargs)
    if not handled:
        propagate_to_base(t)
    return t


def _bases_in_graph(t) -> bool:
    b = t._base
    while b is not None:
        if b._requires_grad:
            return True
        b = b._base
    return False


def _check_view_of_leaf(t):
    b = t._base
    while b is not None:
        if b._requires_grad and b.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        b = b._base


def propagate_to_base(view) -> None:
    """After an in-place write into ``view`` (memory already shared), give each base in the
    chain a CopySlices node: base_new = base_old with base_old[key] = view_new."""
    t = view
    while True:
        base = t._base
        key = t.__dict__.get("_view_key")
        if base is None or key is None or not t._requires_grad:
            return
        node = CopySlices()
        node.next_functions = (edge(base) if base._requires_grad else NO_EDGE, edge(t))
        node.saved = ()
        node.key = key
        node.v_shape = t._data.shape
        node.accumulate = False
        base.grad_fn = node
        base._requires_grad = True
        if base._output_nr:
            base._output_nr = 0
        t = base


def setitem(input, key, value):
    """``input[key] = value`` (value a Tensor or a number); gradients reach both."""
    tk = type(key)
    if tk is int or tk is tuple and _simple_tuple(key):
        nkey, adv = (key,) if tk is int else key, False
        tv = type(value)
        if not grad_state.enabled or not input._requires_grad and not (
                tv is Tensor and value._requires_grad):
            # Fast path (no graph): write straight into the memory, as NumPy would.
            x = input._data
            if not x.flags.writeable:
                _check_inplace(input)
                x = input._data
            if tv is float or tv is int or tv is bool:
                v = value
            else:
                v = _value_array(value, x.dtype)
            _assign(x, nkey, v)
            input._bump()
            return
    else:
        nkey, adv, _ = _norm_key(key)
        split = _split_key(nkey) if adv else None
        if split is not None:
            # PyTorch's order: select first (a view), then index_put into that view
            if input._requires_grad and input.grad_fn is None and grad_state.enabled:
                raise RuntimeError(_LEAF_MSG)
            setitem(getitem(input, split[0]), split[1], value)
            return
    cls = IndexPutBackward0 if adv else CopySlices
    _put_inplace(input, nkey, value, cls)


def _index_tuple(indices):
    if isinstance(indices, (Tensor, _ndarray)):
        indices = (indices,)
    key = []
    for i in indices:
        if i is None:
            key.append(slice(None))
        else:
            key.append(_index_array(i))
    return tuple(key)


def index_put(input, indices, values, accumulate=False):
    """Out-of-place ``input[indices] = values`` (``+=`` with ``accumulate=True``)."""
    key = _index_tuple(indices)
    x = input._data
    _same_dtype(x, values, "Index put requires the source and destination dtypes match, got {a} "
                "for the destination and {b} for the source.")
    v = _value_array(values, x.dtype)
    out = x.copy()
    _assign(out, key, v, accumulate)
    res = _record(IndexPutBackward0, out, (input, values))
    if res.grad_fn is not None:
        res.grad_fn.key = key
        res.grad_fn.v_shape = _data(values).shape
        res.grad_fn.accumulate = bool(accumulate)
    return res


def index_put_(input, indices, values, accumulate=False):
    _same_dtype(input._data, values, "Index put requires the source and destination dtypes "
                "match, got {a} for the destination and {b} for the source.")
    return _put_inplace(input, _index_tuple(indices), values, IndexPutBackward0,
                        bool(accumulate))


# ======================================================================================
# index_select / index_add / index_copy / index_fill
# ======================================================================================
def _dim_index(index, name) -> np.ndarray:
    idx = _data(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if idx.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    return idx.reshape(-1) if idx.ndim == 0 else idx


def _check_bounds(idx, size, dim, exc=IndexError, negative=True, prefix=""):
    """PyTorch's out-of-range error; ``negative=False``: negative indices are errors too."""
    low = -size if negative else 0
    if idx.size and (idx.max() >= size or idx.min() < low):
        bad = idx[(idx >= size) | (idx < low)][0]
        raise exc(f"{prefix}index {bad} is out of bounds for dimension {dim} with size {size}")


def _dim_key(ndim, dim, idx):
    return (slice(None),) * dim + (idx,)


def _index_add_arr(shape, dim, idx, src):
    """zeros(shape) with ``src`` slices added at ``idx`` along ``dim`` (repeats accumulate)."""
    z = np.zeros(shape, src.dtype)
    if z.dtype.kind == "f" and z.size:
        _add_rows(z, dim, idx, np.broadcast_to(src, shape[:dim] + idx.shape + shape[dim + 1:]))
        return z
    np.add.at(z, _dim_key(len(shape), dim, idx), src)
    return z


class IndexSelectBackward0(Node):
    """out = x.index_select(dim, idx):  dx = zeros.index_add(dim, idx, g)"""

    __slots__ = ("dim", "in_shape", "index")
    saved_spec = ()

    def backward(self, g):
        if _is_arr(g):
            return (_index_add_arr(self.in_shape, self.dim, self.index, g),)
        z = _const(np.zeros(self.in_shape, g._data.dtype))
        return (index_add(z, self.dim, self.index, g),)

    def jvp(self, tangents):
        t = tangents[0]
        return _take(t, _dim_key(t.ndim, self.dim, self.index))


def index_select(input, dim, index):
    """Entries of ``input`` along ``dim`` at the positions in 1-D ``index``.

    >>> import chainrule as torch
    >>> torch.index_select(torch.tensor([[1., 2.], [3., 4.]]), 0, torch.tensor([1, 1]))
    tensor([[3., 4.],
            [3., 4.]])
    """
    x = input._data
    if x.ndim == 0:
        return index_select(input.reshape(1), dim, index).reshape(())
    d = canon_dim(dim, x.ndim)
    idx = _dim_index(index, "index_select")
    bad = (idx < 0) | (idx >= x.shape[d])
    if bad.any():  # PyTorch's CPU kernels word it two ways: its dim-1 kernel, the others
        if d == 1:
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={idx[bad][0]} "
                               f"axis_dim={x.shape[d]}")
        raise IndexError("index out of range in self")
    out = np.take(x, idx, axis=d)
    res = _record(IndexSelectBackward0, out, (input,))
    if res.grad_fn is not None:
        res.grad_fn.in_shape, res.grad_fn.dim, res.grad_fn.index = x.shape, d, idx
    return res


class IndexAddBackward0(Node):
    """out = x.index_add(dim, idx, src, alpha):  dx = g,  dsrc = g.index_select(dim, idx) * alpha"""

    __slots__ = ("alpha", "dim", "index", "src_shape")
    saved_spec = ()

    def backward(self, g):
        fx, fs = self.next_functions
        gs = None
        if fs[0] is not None:
            gs = _take(g, _dim_key(g.ndim, self.dim, self.index))
            if self.alpha != 1:
                gs = gs * self.alpha
            gs = _reduce_to(gs, self.src_shape)
        return (g if fx[0] is not None else None), gs

    jvp_needs_out_shape = True

    def jvp(self, tangents):
        tx, ts = tangents
        if ts is None:
            return tx
        if not _is_arr(ts):
            return NotImplemented
        if self.alpha != 1:
            ts = ts * self.alpha
        added = _index_add_arr(self._out_shape, self.dim, self.index, ts)
        return added if tx is None else tx + added


def _check_index_src(name, x, d, idx, s):
    if s.ndim != x.ndim and not (s.ndim == 0 and x.ndim <= 1) and x.ndim:
        raise IndexError(f"{name}(): Source/destination tensor must have same slice shapes. "
                         f"Destination slice shape: {shape_str(x.shape[:d] + x.shape[d + 1:])} "
                         f"at dimension {d} and source slice shape: "
                         f"{shape_str(s.shape[:d] + s.shape[d + 1:])} at dimension 0.")
    if s.ndim and s.shape[d] != idx.size:
        raise RuntimeError(f"{name}(): Number of indices ({idx.size}) should be equal to "
                           f"source.size(dim) ({s.shape[d]})")


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` plus ``alpha * source`` added at ``index`` along ``dim`` (repeats add up)."""
    x = input._data
    d = canon_dim(dim, x.ndim)
    idx = _dim_index(index, "index_add")
    _same_dtype(x, source, "index_add_(): self ({a}) and source ({b}) must have the same scalar "
                "type")
    s = _value_array(source, x.dtype)
    _check_index_src("index_add", x, d, idx, s)
    _check_bounds(idx, x.shape[d] if x.ndim else 1, d, RuntimeError, negative=False)
    if alpha != 1:
        # PyTorch converts alpha to the tensor's type: integer tensors add int(alpha) * source
        s = s * alpha if x.dtype.kind in "fc" else (s * int(alpha)).astype(x.dtype)
    add = _index_add_arr(x.shape, d, idx, s.reshape(x.shape[:d] + idx.shape + x.shape[d + 1:]))
    out = x | add if x.dtype == np.bool_ else x + add  # bool + bool is "or" (NumPy: int)
    res = _record(IndexAddBackward0, out, (input, source))
    if res.grad_fn is not None:
        n = res.grad_fn
        n.dim, n.index, n.alpha, n.src_shape = d, idx, alpha, _data(source).shape
    return res


class IndexCopyBackward0(Node):
    """out = x.index_copy(dim, idx, src):  dx = g zeroed at idx,  dsrc = g.index_select(dim, idx)"""

    __slots__ = ("dim", "index", "src_shape")
    saved_spec = ()

    def backward(self, g):
        fx, fs = self.next_functions
        key = _dim_key(g.ndim, self.dim, self.index)
        gx = _zero_at(g, key) if fx[0] is not None else None
        gs = _reduce_to(_take(g, key), self.src_shape) if fs[0] is not None else None
        return gx, gs

    jvp_needs_out_shape = True

    def jvp(self, tangents):
        tx, ts = tangents
        key = _dim_key(len(self._out_shape), self.dim, self.index)
        return _written(tx, ts, key, self._out_shape)


def index_copy(input, dim, index, source):
    """``input`` with slices along ``dim`` at ``index`` replaced by ``source``'s."""
    x = input._data
    d = canon_dim(dim, x.ndim)
    idx = _dim_index(index, "index_copy")
    _same_dtype(x, source, "index_copy_(): self and source expected to have the same dtype, but "
                "got (self) {a} and (source) {b}")
    s = _value_array(source, x.dtype)
    _check_index_src("index_copy", x, d, idx, s)
    _check_bounds(idx, x.shape[d] if x.ndim else 1, d, negative=False, prefix="index_copy_(): ")
    out = x.copy()
    out[_dim_key(x.ndim, d, idx)] = s.reshape(x.shape[:d] + idx.shape + x.shape[d + 1:])
    res = _record(IndexCopyBackward0, out, (input, source))
    if res.grad_fn is not None:
        res.grad_fn.dim, res.grad_fn.index, res.grad_fn.src_shape = d, idx, _data(source).shape
    return res


class IndexFillBackward0(Node):
    """out = x.index_fill(dim, idx, value):  dx = g zeroed at idx,  dvalue = sum(g at idx)"""

    __slots__ = ("dim", "index")
    saved_spec = ()

    def backward(self, g):
        fx = self.next_functions[0]
        key = _dim_key(g.ndim, self.dim, self.index)
        gx = _zero_at(g, key) if fx[0] is not None else None
        if len(self.next_functions) == 1:
            return (gx,)
        gv = _take(g, key).sum() if self.next_functions[1][0] is not None else None
        return gx, gv

    jvp_needs_out_shape = True

    def jvp(self, tangents):
        tx, tv = (tangents[0], None) if len(tangents) == 1 else tangents
        key = _dim_key(len(self._out_shape), self.dim, self.index)
        return _written(tx, tv, key, self._out_shape)


class IndexFillBackward1(IndexFillBackward0):
    __slots__ = ()


def index_fill(input, dim, index, value):
    """``input`` with the slices along ``dim`` at ``index`` set to ``value``."""
    x = input._data
    d = canon_dim(dim, x.ndim)
    idx = _dim_index(index, "index_fill")
    _check_bounds(idx, x.shape[d] if x.ndim else 1, d)
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value._data.ndim} dimension(s).")
    out = x.copy()
    if x.ndim:
        out[_dim_key(x.ndim, d, idx)] = _value_array(value, x.dtype)
    elif idx.size:
        out[...] = _value_array(value, x.dtype)
    if isinstance(value, Tensor):
        res = _record(IndexFillBackward1, out, (input, value))
    else:
        res = _record(IndexFillBackward0, out, (input,))
    if res.grad_fn is not None:
        res.grad_fn.dim, res.grad_fn.index = d, idx
    return res


# ======================================================================================
# gather / scatter family
# ======================================================================================
def _gather_index(name, x, d, index, src=None):
    idx = _data(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    xnd = max(x.ndim, 1)
    if max(idx.ndim, 1) != xnd and idx.size:
        raise RuntimeError("Index tensor must have the same number of dimensions as "
                           f"{'input' if name == 'gather' else 'self'} tensor")
    if x.ndim == 0:
        return idx.reshape(-1)[:1].reshape(idx.shape) if idx.ndim else idx
    for i in range(x.ndim):
        if i != d and idx.shape[i] > x.shape[i]:
            what = "input" if name == "gather" else "self"
            raise RuntimeError(
                f"Size does not match at dimension {i} expected index {shape_str(idx.shape)} "
                f"to be no larger than {what} {shape_str(x.shape)} apart from dimension {d}")
        if src is not None and src.ndim and idx.shape[i] > src.shape[i]:
            raise RuntimeError(
                f"Expected index {shape_str(idx.shape)} to be no larger than self "
                f"{shape_str(x.shape)} apart from dimension {d} and to be no larger size than "
                f"src {shape_str(src.shape)}")
    _check_bounds(idx, x.shape[d], d, RuntimeError, negative=False)
    return idx


def _scatter_key(idx, d, ndim):
    """The advanced-index tuple addressing ``x[..., idx[i,j,k] along d, ...]``."""
    if ndim == 0:
        return ()
    key = []
    for i in range(ndim):
        if i == d:
            key.append(idx)
        else:
            shp = [1] * ndim
            shp[i] = idx.shape[i]
            key.append(np.arange(idx.shape[i]).reshape(shp))
    return tuple(key)


def _src_slice(idx_shape, src_shape):
    """The leading block of ``src`` that ``index`` uses (src may be larger than index)."""
    if tuple(idx_shape) == tuple(src_shape):
        return None
    return tuple(slice(0, n) for n in idx_shape)


class GatherBackward0(Node):
    """out = x.gather(dim, idx):  dx = zeros.scatter_add(dim, idx, g)"""

    __slots__ = ("in_shape", "key", "accumulate")
    saved_spec = ()

    def backward(self, g):
        return (_embed(g, self.in_shape, self.key, self.accumulate),)

    def jvp(self, tangents):
        return _take(tangents[0], self.key)


def gather(input, dim, index, *, sparse_grad=False):
    """``out[i][j] = input[index[i][j]][j]`` for dim=0 (and so on for other dims).

    >>> import chainrule as torch
    >>> torch.gather(torch.tensor([[1., 2.], [3., 4.]]), 1, torch.tensor([[0, 0], [1, 0]]))
    tensor([[1., 1.],
            [4., 3.]])
    """
    x = input._data
    d = canon_dim(dim, x.ndim)
    idx = _gather_index("gather", x, d, index)
    if x.ndim == 0:
        out = np.broadcast_to(x, idx.shape).copy()
        key = ()
    else:
        key = _scatter_key(idx, d, x.ndim)
        out = x[key]
    res = _record(GatherBackward0, out, (input,))
    if res.grad_fn is not None:
        n = res.grad_fn
        n.in_shape, n.key = x.shape, key
        # one index per slice along dim (cross-entropy's pick): no repeats, a plain write
        n.accumulate = not (x.ndim and idx.ndim == x.ndim and idx.shape[d] <= 1)
    return res


def take_along_dim(input, indices, dim=None):
    """Pick values along ``dim`` at ``indices`` (broadcast to each other); flat when dim=None."""
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    x, idx = input._data, _data(indices)
    d = canon_dim(dim, x.ndim)
    if x.ndim != idx.ndim:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {x.ndim} dimensions for input, and "
                           f"{idx.ndim} dimensions for indices")
    xs, ishp = list(x.shape), list(idx.shape)
    xs[d] = ishp[d] = 1
    try:
        b = list(np.broadcast_shapes(tuple(xs), tuple(ishp)))
    except ValueError:
        raise broadcast_error(x.shape, idx.shape) from None
    bx, bi = list(b), list(b)
    bx[d], bi[d] = x.shape[d], idx.shape[d]
    if tuple(bx) != x.shape:
        input = input.expand(*bx)
    if tuple(bi) != idx.shape:
        indices = _const(np.broadcast_to(idx, bi))
    return gather(input, d, indices)


class ScatterBackward0(Node):
    """out = x.scatter(dim, idx, src):  dx = g zeroed at idx,  dsrc = g.gather(dim, idx)"""

    __slots__ = ("key", "src_shape", "src_slice")
    saved_spec = ()

    def backward(self, g):
        fx = self.next_functions[0]
        gx = _zero_at(g, self.key) if fx[0] is not None else None
        if len(self.next_functions) == 1:
            return (gx,)
        gs = None
        if self.next_functions[1][0] is not None:
            gs = _take(g, self.key)
            if self.src_slice is not None:
                gs = _embed(gs, self.src_shape, self.src_slice, False)
        return gx, gs

    jvp_needs_out_shape = True

    def jvp(self, tangents):
        tx, ts = (tangents[0], None) if len(tangents) == 1 else tangents
        if ts is not None and self.src_slice is not None:
            ts = _take(ts, self.src_slice)
        return _written(tx, ts, self.key, self._out_shape)


class ScatterBackward1(ScatterBackward0):
    __slots__ = ()


_REDUCE_ALIAS = {"add": "sum", "multiply": "prod"}


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """``input`` with ``src`` (or ``value``) written at ``index`` along ``dim``."""
    if src is None:
        src = value
    if reduce is not None:
        if reduce not in _REDUCE_ALIAS:
            raise RuntimeError("reduce argument must be either add or multiply.")
        if isinstance(src, Tensor):
            return scatter_reduce(input, dim, index, src, _REDUCE_ALIAS[reduce])
        s = np.broadcast_to(np.asarray(src, input._data.dtype), _data(index).shape)
        return scatter_reduce(input, dim, index, _const(s), _REDUCE_ALIAS[reduce])
    x = input._data
    d = canon_dim(dim, x.ndim)
    is_t = isinstance(src, Tensor)
    _same_dtype(x, src, "scatter(): Expected self.dtype to be equal to src.dtype")
    s = _value_array(src, x.dtype)
    if is_t and s.ndim != max(x.ndim, 1) and s.size and s.ndim != x.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    idx = _gather_index("scatter", x, d, index, s if is_t else None)
    key = _scatter_key(idx, d, x.ndim)
    sl = _src_slice(idx.shape, s.shape) if is_t else None
    out = x.copy()
    if x.ndim == 0:
        if idx.size:
            out[...] = s.reshape(-1)[-1] if s.ndim else s
    else:
        out[key] = s[sl] if sl is not None else s
    if is_t:
        res = _record(ScatterBackward0, out, (input, src))
    else:
        res = _record(ScatterBackward1, out, (input,))
    if res.grad_fn is not None:
        n = res.grad_fn
        n.key, n.src_shape, n.src_slice = key, s.shape, sl
    return res


class ScatterAddBackward0(Node):
    """out = x.scatter_add(dim, idx, src):  dx = g,  dsrc = g.gather(dim, idx)"""

    __slots__ = ("key", "src_shape", "src_slice")
    saved_spec = ()

    def backward(self, g):
        fx, fs = self.next_functions
        gs = None
        if fs[0] is not None:
            gs = _take(g, self.key)
            if self.src_slice is not None:
                gs = _embed(gs, self.src_shape, self.src_slice, False)
        return (g if fx[0] is not None else None), gs

    jvp_needs_out_shape = True

    def jvp(self, tangents):
        tx, ts = tangents
        if ts is not None and self.src_slice is not None:
            ts = _take(ts, self.src_slice)
        return _written(tx, ts, self.key, self._out_shape, accumulate=True)


def scatter_add(input, dim, index, src):
    """``input`` with ``src`` added at ``index`` along ``dim`` (repeated indices add up).

    >>> import chainrule as torch
    >>> torch.zeros(3).scatter_add(0, torch.tensor([0, 2, 0]), torch.tensor([1., 2., 3.]))
    tensor([4., 0., 2.])
    """
    x = input._data
    d = canon_dim(dim, x.ndim)
    _same_dtype(x, src, "scatter(): Expected self.dtype to be equal to src.dtype")
    s = _value_array(src, x.dtype)
    if s.ndim != x.ndim and s.size:
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    idx = _gather_index("scatter_add", x, d, index, s)
    key = _scatter_key(idx, d, x.ndim)
    sl = _src_slice(idx.shape, s.shape)
    out = x.copy()
    _add_at(out, key, s[sl] if sl is not None else s)
    res = _record(ScatterAddBackward0, out, (input, src))
    if res.grad_fn is not None:
        res.grad_fn.key, res.grad_fn.src_shape, res.grad_fn.src_slice = key, s.shape, sl
    return res


class ScatterReduceBackward0(Node):
    """out = x.scatter_reduce(dim, idx, src, reduce, include_self); see each case below."""

    __slots__ = ("consts", "include_self", "key", "reduce", "src_shape", "src_slice")
    saved_spec = ()

    def backward(self, g, *saved):
        fx, fs = self.next_functions
        key, red, inc = self.key, self.reduce, self.include_self
        gx = gs = None
        if red == "sum":
            # dx = g (or 0 where scattered and self excluded);  dsrc = g.gather
            if fx[0] is not None:
                gx = g if inc else _zero_at(g, key)
            if fs[0] is not None:
                gs = _take(g, key)
        elif red == "mean":
            # every contributor gets g / count
            count, self_mask = self.consts
            gc = g / count
            if fx[0] is not None:
                gx = gc * self_mask
            if fs[0] is not None:
                gs = _take(gc, key)
        elif red in ("amax", "amin"):
            # gradient shared evenly by all contributors equal to the result
            self_eq, src_eq, count = self.consts
            gc = g / count
            if fx[0] is not None:
                gx = gc * self_eq
            if fs[0] is not None:
                gs = _take(gc, key) * src_eq
        elif saved and not _is_arr(g):
            # prod under create_graph with no zero contributor: out / v, differentiable
            x, src, out = saved
            sv = src if self.src_slice is None else _take(src, self.src_slice)
            if fx[0] is not None:
                gx = g * out / x if inc else g * self.consts[0]
            if fs[0] is not None:
                gs = _take(g * out, key) / sv
        else:  # prod: d/dv prod = prod of the other contributors (computed without dividing)
            self_other, src_other = self.consts
            if fx[0] is not None:
                gx = g * self_other
            if fs[0] is not None:
                gs = _take(g, key) * src_other
        if gs is not None and self.src_slice is not None:
            gs = _embed(gs, self.src_shape, self.src_slice, False)
        return gx, gs

    jvp_needs_out_shape = True

    def jvp(self, tangents, *saved):
        """Each output entry depends on the entries scattered into it only: the partials
        (the backward run with g = 1) weight the tangents, which scatter the same way."""
        tx, ts = tangents
        ref = tx if tx is not None else ts
        if not _is_arr(ref):
            return NotImplemented
        shape = self._out_shape
        wx, ws = self.backward(np.ones(shape, ref.dtype), *saved)
        out = tx * wx if tx is not None else np.zeros(shape, ref.dtype)
        if ts is not None:
            vs = ts * ws
            if self.src_slice is not None:
                vs = vs[self.src_slice]
            _add_at(out, self.key, vs)
        return out


def _prod_others(x, key, s, inc):
    """For each contributor of a scatter-prod, the product of the other contributors."""
    shape = x.shape
    zero_x = (x == 0) if inc else np.zeros(shape, bool)
    nz_x = np.where(zero_x, 1, x) if inc else np.ones(shape, x.dtype)
    zeros_cnt = zero_x.astype(np.int64)
    np.add.at(zeros_cnt, key, (s == 0).astype(np.int64))
    prod_nz = nz_x.copy()
    np.multiply.at(prod_nz, key, np.where(s == 0, 1, s))
    zc_s = zeros_cnt[key]
    pn_s = prod_nz[key]
    with np.errstate(divide="ignore", invalid="ignore"):
        src_other = np.where(s == 0, np.where(zc_s == 1, pn_s, 0),
                             np.where(zc_s == 0, pn_s / np.where(s == 0, 1, s), 0))
        if inc:
            self_other = np.where(zero_x, np.where(zeros_cnt == 1, prod_nz, 0),
                                  np.where(zeros_cnt == 0, prod_nz / nz_x, 0))
        else:
            self_other = np.zeros(shape, x.dtype)
    scattered = np.zeros(shape, bool)
    scattered[key] = True
    self_other = np.where(scattered, self_other, 1)
    return self_other.astype(x.dtype), src_other.astype(x.dtype)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce ``src`` into ``input`` at ``index`` with sum/prod/mean/amax/amin."""
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    x = input._data
    d = canon_dim(dim, x.ndim)
    _same_dtype(x, src, "scatter(): Expected self.dtype to be equal to src.dtype")
    if reduce == "mean" and x.dtype == np.bool_:
        raise NotImplementedError('"scatter_gather_tensor_cpu_reduce_mean" not implemented for '
                                  "'Bool'")
    s = _value_array(src, x.dtype)
    idx = _gather_index("scatter_reduce", x, d, index, s)
    key = _scatter_key(idx, d, x.ndim)
    sl = _src_slice(idx.shape, s.shape)
    sv = s[sl] if sl is not None else s
    scattered = np.zeros(x.shape, bool)
    scattered[key] = True
    keep = scattered if not include_self else np.zeros(x.shape, bool)
    out = x.copy()
    consts = None
    if reduce in ("sum", "mean"):
        out[keep] = 0
        _add_at(out, key, sv)
        if reduce == "mean":
            count = np.ones(x.shape, np.int64) if include_self else (~scattered).astype(np.int64)
            np.add.at(count, key, 1)
            count = np.maximum(count, 1)
            out = out / count if out.dtype.kind in "fc" else out // count
            out = out.astype(x.dtype, copy=False)
            self_mask = (~keep).astype(x.dtype)
            consts = (count.astype(x.dtype), self_mask)
    elif reduce == "prod":
        out[keep] = 1
        np.multiply.at(out, key, sv)
        if _wants(input) or _wants(src):
            consts = _prod_others(x, key, sv, include_self)
    else:
        ufunc = np.maximum if reduce == "amax" else np.minimum
        if x.dtype.kind == "f":
            init = -np.inf if reduce == "amax" else np.inf
        elif x.dtype.kind == "b":
            init = reduce == "amin"
        else:
            info = np.iinfo(x.dtype)
            init = info.min if reduce == "amax" else info.max
        out[keep] = init
        ufunc.at(out, key, sv)
        if _wants(input) or _wants(src):
            self_eq = ((x == out) & ~keep).astype(x.dtype)
            src_eq = (sv == out[key]).astype(x.dtype)
            count = self_eq.copy()
            _add_at(count, key, src_eq)
            consts = (self_eq, src_eq, np.maximum(count, 1))
    res = _record(ScatterReduceBackward0, out, (input, src))
    if res.grad_fn is not None:
        n = res.grad_fn
        n.key, n.src_shape, n.src_slice = key, s.shape, sl
        n.reduce, n.include_self, n.consts = reduce, include_self, consts
        if reduce == "prod" and not (sv == 0).any() and not (include_self and (x == 0).any()):
            # saved for a differentiable formula under create_graph (out / v needs no zeros)
            n.saved = (x, s, out)
            n.saved_spec = (0, 1, OUTPUT)
    return res


# ======================================================================================
# Masks
# ======================================================================================
def _mask_array(mask, name):
    m = _data(mask)
    if m.dtype != np.bool_:
        from .linalg import _C_NAMES, _scalar_name

        if name == "masked_select:":
            raise RuntimeError("masked_select: expected BoolTensor for mask")
        # torch's kernels name the dtype their own ways: C names for masked_fill_, ScalarType
        # names for masked_scatter_
        kind = (_C_NAMES.get(m.dtype.name, m.dtype.name) if name == "masked_fill_"
                else _scalar_name(m.dtype))
        raise RuntimeError(f"{name} only supports boolean masks, but got mask with dtype {kind}")
    return m


class MaskedFillBackward0(Node):
    """out = x.masked_fill(mask, value):  dx = g where ~mask,  dvalue = sum(g where mask)"""

    __slots__ = ("in_shape", "mask")
    saved_spec = ()

    def backward(self, g):
        fx = self.next_functions[0]
        m = self.mask
        gx = _reduce_to(g * ~m, self.in_shape) if fx[0] is not None else None
        if len(self.next_functions) == 1:
            return (gx,)
        gv = (g * m).sum() if self.next_functions[1][0] is not None else None
        return gx, gv

    jvp_needs_out_shape = True

    def jvp(self, tangents):
        tx, tv = (tangents[0], None) if len(tangents) == 1 else tangents
        ref = tx if tx is not None else tv
        ns = xp(ref)
        out = ns.where(self.mask, 0.0 if tv is None else tv, 0.0 if tx is None else tx)
        return _broadcast_to(out, self._out_shape)


class MaskedFillBackward1(MaskedFillBackward0):
    __slots__ = ()


def masked_fill(input, mask, value):
    """``input`` with ``value`` where ``mask`` is True (mask broadcasts).

    >>> import chainrule as torch
    >>> torch.tensor([1., 2., 3.]).masked_fill(torch.tensor([True, False, True]), 0.)
    tensor([0., 2., 0.])
    """
    x = input._data
    m = _mask_array(mask, "masked_fill_")
    vt = isinstance(value, Tensor)
    if vt and value._data.ndim:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value._data.ndim} dimension(s).")
    v = _value_array(value, x.dtype)
    try:
        out = np.where(m, v, x)
    except ValueError:
        raise broadcast_error(x.shape, m.shape) from None
    if out.dtype != x.dtype:
        out = out.astype(x.dtype)
    res = _record(MaskedFillBackward1 if vt else MaskedFillBackward0, out,
                  (input, value) if vt else (input,))
    if res.grad_fn is not None:
        res.grad_fn.mask, res.grad_fn.in_shape = m, x.shape
    return res


class MaskedSelectBackward0(Node):
    """out = x[mask] (broadcast):  dx = zeros with g at mask, summed back to x's shape"""

    __slots__ = ("in_shape", "mask")
    saved_spec = ()

    def backward(self, g):
        m = self.mask
        return (_reduce_to(_embed(g, m.shape, (m,), False), self.in_shape),)

    def jvp(self, tangents):
        m = self.mask
        return _take(_broadcast_to(tangents[0], m.shape), (m,))


def masked_select(input, mask):
    """The 1-D tensor of ``input``'s entries where ``mask`` (broadcast) is True."""
    x = input._data
    m = _mask_array(mask, "masked_select:")
    try:
        shape = np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        raise broadcast_error(x.shape, m.shape) from None
    mb = np.broadcast_to(m, shape)
    out = np.broadcast_to(x, shape)[mb]
    res = _record(MaskedSelectBackward0, out, (input,))
    if res.grad_fn is not None:
        res.grad_fn.mask, res.grad_fn.in_shape = mb, x.shape
    return res


class MaskedScatterBackward0(Node):
    """out[mask] = src.flatten()[:n]:  dx = g where ~mask,  dsrc = g[mask] padded to src"""

    __slots__ = ("in_shape", "mask", "src_shape")
    saved_spec = ()

    def backward(self, g):
        fx, fs = self.next_functions
        m = self.mask
        gx = _reduce_to(g * ~m, self.in_shape) if fx[0] is not None else None
        gs = None
        if fs[0] is not None:
            n = 1
            for s in self.src_shape:
                n *= s
            sel = _take(g, (m,))
            gs = _embed(sel, (n,), (slice(0, sel.shape[0]),), False).reshape(self.src_shape)
        return gx, gs

    jvp_needs_out_shape = True

    def jvp(self, tangents):
        tx, ts = tangents
        m = self.mask
        if ts is not None:
            ts = ts.reshape(-1)[:int(m.sum())]
        if tx is not None:
            tx = _broadcast_to(tx, m.shape)
        return _written(tx, ts, (m,), self._out_shape)


def masked_scatter(input, mask, source):
    """``input`` with the True positions of ``mask`` filled, in order, from ``source``."""
    x = input._data
    m = _mask_array(mask, "masked_scatter_")
    _same_dtype(x, source, "masked_scatter: expected self and source to have same dtypes but "
                "got{a} and {b}")
    s = _value_array(source, x.dtype)
    try:
        shape = np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        raise broadcast_error(x.shape, m.shape) from None
    mb = np.broadcast_to(m, shape)
    n = int(mb.sum())
    if n > s.size:
        raise RuntimeError("masked_scatter: expected source to have at least as many elements "
                           f"as the ones selected by the mask ({n}), but got {s.size}")
    out = np.array(np.broadcast_to(x, shape))
    out[mb] = s.reshape(-1)[:n]
    res = _record(MaskedScatterBackward0, out, (input, source))
    if res.grad_fn is not None:
        n_ = res.grad_fn
        n_.mask, n_.in_shape, n_.src_shape = mb, x.shape, s.shape
    return res


# ======================================================================================
# Flat indexing: take / put
# ======================================================================================
class TakeBackward0(Node):
    """out = x.flatten()[idx]:  dx = zeros with g added at idx (repeats accumulate)"""

    __slots__ = ("in_shape", "index")
    saved_spec = ()

    def backward(self, g):
        n = 1
        for s in self.in_shape:
            n *= s
        return (_embed(g, (n,), (self.index,), True).reshape(self.in_shape),)

    def jvp(self, tangents):
        return _take(tangents[0].reshape(-1), (self.index,))


def _flat_index(index, size, name="take"):
    idx = _data(index)
    if idx.dtype != np.int64:
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got "
                           f"{_dtype.from_numpy_dtype(idx.dtype).name.capitalize()}")
    if idx.size and (idx.max() >= size or idx.min() < -size):
        bad = idx.max() if idx.max() >= size else idx.min()
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {size} "
                         "elements.")
    return idx % size if size else idx


def take(input, index):
    """Entries of ``input`` read as 1-D at positions ``index`` (shape of ``index``)."""
    x = input._data
    idx = _flat_index(index, x.size)
    out = x.reshape(-1)[idx]
    res = _record(TakeBackward0, out, (input,))
    if res.grad_fn is not None:
        res.grad_fn.in_shape, res.grad_fn.index = x.shape, idx
    return res


class PutBackward0(Node):
    """out = x with x.flat[idx] = src (or +=):  dx = g (zeroed at idx),  dsrc = g.flat[idx]"""

    __slots__ = ("accumulate", "in_shape", "index")
    saved_spec = ()

    def backward(self, g):
        fx, fs = self.next_functions
        flat = g.reshape(-1)
        gx = gs = None
        if fx[0] is not None:
            gx = g if self.accumulate else _zero_at(flat, (self.index,)).reshape(self.in_shape)
        if fs[0] is not None:
            gs = _take(flat, (self.index,))
        return gx, gs

    def jvp(self, tangents):
        tx, ts = tangents
        if ts is not None:
            ts = ts.reshape(-1)
        out = _written(None if tx is None else tx.reshape(-1), ts, (self.index,),
                       (int(np.prod(self.in_shape)),), self.accumulate)
        return out if out is NotImplemented else out.reshape(self.in_shape)


def put(input, index, source, accumulate=False):
    """Out-of-place ``input.flatten()[index] = source`` (``+=`` with ``accumulate``)."""
    x = input._data
    idx = _flat_index(index, x.size, "put")
    _same_dtype(x, source, "put_(): self and source expected to have the same dtype, but got "
                "self.dtype = {a} and source.dtype = {b}")
    s = _value_array(source, x.dtype)
    if s.size != idx.size:
        raise RuntimeError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {s.size}, index.numel() = "
                           f"{idx.size}")
    out = x.copy()
    flat = out.reshape(-1)
    if accumulate:
        _add_at(flat, (idx.reshape(-1),), s.reshape(-1))
    else:
        flat[idx.reshape(-1)] = s.reshape(-1)
    res = _record(PutBackward0, out, (input, source))
    if res.grad_fn is not None:
        n = res.grad_fn
        n.in_shape, n.index, n.accumulate = x.shape, idx, bool(accumulate)
    return res


# ======================================================================================
# No gradient: nonzero, searchsorted, bucketize, unique
# ======================================================================================
def nonzero(input, *, as_tuple=False):
    """Indices of non-zero entries: an (n, ndim) int64 tensor, or one 1-D tensor per dim."""
    x = input._data
    if as_tuple:
        if x.ndim == 0:
            return (_make(np.nonzero(x.reshape(1))[0].astype(np.int64), False, None),)
        return tuple(_make(i.astype(np.int64), False, None) for i in np.nonzero(x))
    return _make(np.argwhere(x).astype(np.int64), False, None)


def nonzero_static(input, *, size, fill_value=-1):
    """``nonzero`` padded with ``fill_value`` (or cut) to exactly ``size`` rows."""
    nz = np.argwhere(input._data).astype(np.int64)[:size]
    out = np.full((size, input._data.ndim), fill_value, np.int64)
    out[:nz.shape[0]] = nz
    return _make(out, False, None)


def argwhere(input):
    return nonzero(input)


def where_condition(condition):
    """``torch.where(condition)``: the same as ``nonzero(condition, as_tuple=True)``."""
    return nonzero(condition, as_tuple=True)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None, out=None):
    """Insertion points of ``input`` in the last dim of ``sorted_sequence``."""
    seq = _data(sorted_sequence)
    scalar = not isinstance(input, (Tensor, _ndarray))
    v = np.asarray(input) if scalar else _data(input)
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    np_side = "right" if right else "left"
    if seq.dtype == np.bool_ and np.asarray(v).dtype == np.bool_:
        raise NotImplementedError("\"searchsorted_out_cpu\" not implemented for 'Bool'")
    srt = None if sorter is None else _data(sorter)
    if seq.ndim == 1 or seq.ndim == 0:
        if seq.ndim == 0:
            raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive "
                               "dimension, but got 0 dimension")
        res = np.searchsorted(seq, v, side=np_side, sorter=srt)
    else:
        if scalar or v.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError(
                "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                "dimensions of boundaries tensor and input value tensor must match, but we got "
                f"boundaries tensor {shape_str(seq.shape)} and input value tensor "
                f"{shape_str(v.shape)}")
        s2 = seq.reshape(-1, seq.shape[-1])
        v2 = v.reshape(-1, v.shape[-1])
        if srt is not None:
            srt2 = srt.reshape(s2.shape)
            s2 = np.take_along_axis(s2, srt2, -1)
        # Offset each row so that one flat searchsorted serves every row: rows of values
        # are mapped into disjoint ranges by their rank within the merged sorted order.
        res = np.empty(v2.shape, np.int64)
        for r in range(s2.shape[0]):  # loop over rows (batches), not elements
            res[r] = np.searchsorted(s2[r], v2[r], side=np_side)
        res = res.reshape(v.shape)
    return _make(np.asarray(res, np.int32 if out_int32 else np.int64), False, None)


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """Index of the bucket of each value given 1-D increasing ``boundaries``."""
    b = _data(boundaries)
    if b.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), with optional inverse indices and counts; no gradient."""
    x = input._data
    if dim is None:
        vals, inv, cnt = np.unique(x.reshape(-1), return_inverse=True, return_counts=True)
        inv = inv.reshape(x.shape)
    else:
        d = canon_dim(dim, x.ndim)
        vals, inv, cnt = np.unique(x, return_inverse=True, return_counts=True, axis=d)
        inv = inv.reshape(-1)
    out = [_make(vals, False, None)]
    if return_inverse:
        out.append(_make(inv.astype(np.int64), False, None))
    if return_counts:
        out.append(_make(cnt.astype(np.int64), False, None))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive values; no gradient."""
    x = input._data
    if dim is None:
        flat = x.reshape(-1)
        if flat.size == 0:
            change = np.zeros(0, bool)
        else:
            change = np.concatenate(([True], flat[1:] != flat[:-1]))
        vals = flat[change]
        inv = (np.cumsum(change) - 1).reshape(x.shape)
        starts = np.flatnonzero(change)
        cnt = np.diff(np.append(starts, flat.size))
    else:
        d = canon_dim(dim, x.ndim)
        xm = np.moveaxis(x, d, 0)
        if xm.shape[0] == 0:
            change = np.zeros(0, bool)
        else:
            neq = (xm[1:] != xm[:-1]).reshape(xm.shape[0] - 1, -1).any(axis=1)
            change = np.concatenate(([True], neq))
        vals = np.moveaxis(xm[change], 0, d)
        inv = np.cumsum(change) - 1
        starts = np.flatnonzero(change)
        cnt = np.diff(np.append(starts, xm.shape[0]))
    out = [_make(np.ascontiguousarray(vals), False, None)]
    if return_inverse:
        out.append(_make(inv.astype(np.int64), False, None))
    if return_counts:
        out.append(_make(cnt.astype(np.int64), False, None))
    return out[0] if len(out) == 1 else tuple(out)


# ======================================================================================
# select / select_scatter / slice_scatter / index_reduce / bincount / isin
# ======================================================================================
def select(input, dim, index):
    """``input`` indexed with ``index`` along ``dim`` (that dim removed); a view."""
    x = input._data
    d = canon_dim(dim, x.ndim)
    i = int(index)
    n = x.shape[d]
    if not -n <= i < n:
        raise IndexError(f"select(): index {i} out of range for tensor of size "
                         f"{shape_str(x.shape)} at dimension {d}")
    return getitem(input, (slice(None),) * d + (i,))


class SelectScatterBackward0(CopySlices):
    __slots__ = ()


class SliceScatterBackward0(CopySlices):
    __slots__ = ()


def _scatter_into(node_cls, input, src, key):
    x = input._data
    s = _value_array(src, x.dtype)
    target = np.empty(x.shape, bool)[key].shape
    if s.shape != target:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{shape_str(s.shape)}, slice size = {shape_str(target)}")
    out = x.copy()
    out[key] = s
    res = _record(node_cls, out, (input, src))
    if res.grad_fn is not None:
        n = res.grad_fn
        n.key, n.v_shape, n.accumulate = key, s.shape, False
    return res


def select_scatter(input, src, dim, index):
    """``input`` with the slice ``select(dim, index)`` replaced by ``src``."""
    x = input._data
    d = canon_dim(dim, x.ndim)
    i = int(index)
    if not -x.shape[d] <= i < x.shape[d]:
        raise IndexError(f"select(): index {i} out of range for tensor of size "
                         f"{shape_str(x.shape)} at dimension {d}")
    return _scatter_into(SelectScatterBackward0, input, src, (slice(None),) * d + (i,))


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """``input`` with ``input[..., start:end:step, ...]`` (along ``dim``) replaced by ``src``."""
    x = input._data
    d = canon_dim(dim, x.ndim)
    return _scatter_into(SliceScatterBackward0, input, src,
                         (slice(None),) * d + (slice(start, end, step),))


class DiagonalScatterBackward0(Node):
    """out = x with its diagonal replaced by src:  dx = g with the diagonal zeroed,
    dsrc = the diagonal of g"""

    __slots__ = ("key", "pos")
    saved_spec = ()

    def backward(self, g):
        fx, fs = self.next_functions
        gx = _zero_at(g, self.key) if fx[0] is not None else None
        gs = None
        if fs[0] is not None:
            gs = _take(g, self.key)
            order = [i for i in range(gs.ndim) if i != self.pos] + [self.pos]
            gs = gs.transpose(order) if _is_arr(gs) else gs.permute(*order)
        return gx, gs

    jvp_needs_out_shape = True

    def jvp(self, tangents):
        tx, ts = tangents
        if ts is not None and _is_arr(ts):
            ts = np.moveaxis(ts, -1, self.pos)  # the diagonal's dim back where key puts it
        return _written(tx, ts, self.key, self._out_shape)


def _diagonal_key(shape, offset, d1, d2):
    """Advanced-index key of a diagonal, and where NumPy puts the diagonal dim in x[key]."""
    n = max(0, min(shape[d1] - max(-offset, 0), shape[d2] - max(offset, 0)))
    r = np.arange(n)
    key = [slice(None)] * len(shape)
    key[d1] = r + max(-offset, 0)
    key[d2] = r + max(offset, 0)
    pos = min(d1, d2) if abs(d1 - d2) == 1 else 0
    return tuple(key), pos, n


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """``input`` with ``diagonal(input, offset, dim1, dim2)`` replaced by ``src``."""
    x = input._data
    d1, d2 = canon_dim(dim1, x.ndim), canon_dim(dim2, x.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    key, pos, n = _diagonal_key(x.shape, offset, d1, d2)
    s = _value_array(src, x.dtype)
    want = tuple(m for i, m in enumerate(x.shape) if i not in (d1, d2)) + (n,)
    if s.shape != want:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{shape_str(s.shape)}, slice size = {shape_str(want)}")
    out = x.copy()
    out[key] = np.moveaxis(s, -1, pos)
    res = _record(DiagonalScatterBackward0, out, (input, src))
    if res.grad_fn is not None:
        res.grad_fn.key, res.grad_fn.pos = key, pos
    return res


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """Reduce slices of ``source`` into ``input`` at ``index`` along ``dim``
    ('prod', 'mean', 'amax', 'amin')."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    x = input._data
    d = canon_dim(dim, x.ndim)
    idx = _dim_index(index, "index_reduce")
    if reduce == "mean" and x.dtype == np.bool_:  # PyTorch divides with floor division
        raise NotImplementedError("\"div_floor_cpu\" not implemented for 'Bool'")
    s = _data(source)
    shape = [1] * s.ndim
    shape[d] = idx.size
    full = np.broadcast_to(idx.reshape(shape), s.shape)
    res = scatter_reduce(input, d, full, source, reduce, include_self=include_self)
    if res.grad_fn is not None:
        res.grad_fn.__class__ = IndexReduceBackward0  # same formula, PyTorch's name
    return res


class IndexReduceBackward0(ScatterReduceBackward0):
    __slots__ = ()


def bincount(input, weights=None, minlength=0):
    """Counts (or summed ``weights``) of each non-negative integer value; no gradient."""
    x = input._data
    if x.ndim != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if x.dtype.kind not in "iub" or (x.size and x.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _make(np.bincount(x, minlength=minlength).astype(np.int64), False, None)
    w = _data(weights)
    out = np.bincount(x, weights=w, minlength=minlength)
    return _make(out.astype(w.dtype if w.dtype.kind == "f" else np.float64), False, None)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each entry of ``elements`` is in ``test_elements`` (either may be a number)."""
    e = _data(elements)
    t = _data(test_elements)
    return _make(np.isin(e, t, assume_unique=assume_unique, invert=invert), False, None)


# ======================================================================================
# Index generators and products built on indexing
# ======================================================================================
def _tri_indices(row, col, offset, lower, dtype):
    r, c = np.nonzero(np.tril(np.ones((row, col), bool), offset) if lower
                      else np.triu(np.ones((row, col), bool), offset))
    np_dt = _dtype.to_np(dtype) if dtype is not None else np.int64
    return _make(np.stack([r, c]).astype(np_dt), False, None)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """Row and column indices of the lower triangle of a row x col matrix (2 x N)."""
    return _tri_indices(row, col, offset, True, dtype)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """Row and column indices of the upper triangle of a row x col matrix (2 x N)."""
    return _tri_indices(row, col, offset, False, dtype)


def combinations(input, r=2, with_replacement=False):
    """All length-``r`` combinations of a 1-D tensor's entries, as rows (differentiable)."""
    import itertools

    x = input._data
    if x.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {shape_str(x.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _make(np.zeros((0,), x.dtype), False, None)
    gen = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    idx = np.array(list(gen(range(x.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    from .shape import stack

    return stack([getitem(input, idx[:, j]) for j in range(r)], 1)


def cartesian_prod(*tensors):
    """Rows of every combination of one entry from each 1-D tensor (differentiable)."""
    if len(tensors) == 1:
        return tensors[0]
    sizes = [t._data.shape[0] for t in tensors]
    grids = np.meshgrid(*[np.arange(n) for n in sizes], indexing="ij")
    from .shape import stack

    return stack([getitem(t, g.reshape(-1)) for t, g in zip(tensors, grids)], 1)


# ======================================================================================
# In-place variants (out-of-place result, then rebase the tensor's data and history)
# ======================================================================================
def _inplace(t, op, *args, **kwargs):
    """``inplace`` from tensor.py, plus PyTorch's view semantics: a base sees the new history."""
    if t._base is None or not grad_state.enabled:
        return inplace(t, op, *args, **kwargs)
    return _view_aware(t, op, *args, **kwargs)


def scatter_(input, dim, index, src=None, value=None, *, reduce=None):
    return _inplace(input, scatter, dim, index, src, value, reduce=reduce)


def scatter_add_(input, dim, index, src):
    return _inplace(input, scatter_add, dim, index, src)


def scatter_reduce_(input, dim, index, src, reduce, *, include_self=True):
    return _inplace(input, scatter_reduce, dim, index, src, reduce, include_self=include_self)


def index_reduce_(input, dim, index, source, reduce, *, include_self=True):
    return _inplace(input, index_reduce, dim, index, source, reduce, include_self=include_self)


def index_add_(input, dim, index, source, *, alpha=1):
    return _inplace(input, index_add, dim, index, source, alpha=alpha)


def index_copy_(input, dim, index, source):
    return _inplace(input, index_copy, dim, index, source)


def index_fill_(input, dim, index, value):
    return _inplace(input, index_fill, dim, index, value)


def masked_fill_(input, mask, value):
    x = input._data
    m = _mask_array(mask, "masked_fill_")
    vt = isinstance(value, Tensor)
    if vt and value._data.ndim:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value._data.ndim} dimension(s).")
    if grad_state.enabled and (input._requires_grad or vt and value._requires_grad):
        return _inplace(input, masked_fill, mask, value)
    # Fast path (attention masks): write straight into the memory, no copies.
    _check_inplace(input)
    try:
        np.copyto(input._data, _value_array(value, x.dtype), where=m)
    except ValueError:
        try:
            shape = np.broadcast_shapes(x.shape, m.shape)
        except ValueError:
            raise broadcast_error(x.shape, m.shape) from None
        raise RuntimeError(f"output with shape {shape_str(x.shape)} doesn't match the "
                           f"broadcast shape {shape_str(shape)}") from None
    input._bump()
    return input


def masked_scatter_(input, mask, source):
    return _inplace(input, masked_scatter, mask, source)


def put_(input, index, source, accumulate=False):
    return _inplace(input, put, index, source, accumulate)
