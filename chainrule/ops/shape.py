"""Shape ops: views and reshapes, joins and splits, flips and rolls, diagonals, dtype casts.

Every op here is linear, so each backward is another op of this file (often the op's own
inverse); formulas dispatch on NumPy arrays (plain backward) vs Tensors (create_graph).
"""
from __future__ import annotations

import numpy as np

from .. import _dtype
from ..autograd.function import FREED, NO_EDGE, SECOND_BACKWARD_MSG, Node, as_graph_tensor, edge
from ..autograd.grad_mode import grad_state
from ..tensor import Tensor, _make
from ._broadcast import broadcast_error, broadcast_one, canon_dim, shape_str, sum_to
from ._broadcast import broadcast_to as _broadcast_to
from .elementwise import unary

__all__ = ['atleast_1d', 'atleast_2d', 'atleast_3d', 'broadcast_shapes', 'broadcast_tensors',
           'broadcast_to', 'cat', 'chunk', 'column_stack', 'concat', 'concatenate', 'diag',
           'diag_embed', 'diagflat', 'diagonal', 'dsplit', 'dstack', 'expand', 'flatten', 'flip',
           'fliplr', 'flipud', 'hsplit', 'hstack', 'meshgrid', 'moveaxis', 'movedim', 'narrow',
           'permute', 'ravel', 'repeat_interleave', 'reshape', 'roll', 'rot90', 'row_stack',
           'split', 'squeeze', 'stack', 'swapaxes', 'swapdims', 't', 'tensor_split', 'tile',
           'transpose', 'tril', 'triu', 'unbind', 'unflatten', 'unsqueeze', 'vsplit', 'vstack']

_ndarray = np.ndarray


def _isarr(g) -> bool:
    """True for NumPy values (plain backward), False for Tensors (create_graph)."""
    return type(g) is _ndarray or isinstance(g, np.generic)

def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _infer_shape(shape, numel):
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if -1 in shape:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{shape_str(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    n = 1
    for s in shape:
        n *= s
    if n != numel:
        raise RuntimeError(f"shape '{shape_str(shape)}' is invalid for input of size {numel}")
    return shape


class ViewBackward0(Node):
    """out = x.view(shape):  dx = g.reshape(x.shape)"""

    __slots__ = ("in_shape",)
    saved_spec = ()

    def backward(self, g):
        return (g.reshape(self.in_shape),)

    jvp_needs_out_shape = True

    def jvp(self, tangents):  # linear: the same reshape
        return tangents[0].reshape(self._out_shape)


class ReshapeAliasBackward0(ViewBackward0):
    __slots__ = ()


class UnsafeViewBackward0(ViewBackward0):
    __slots__ = ()


def reshape(input, *shape):
    x = input._data
    shape = _infer_shape(_shape_args(shape), x.size)
    res = unary(ViewBackward0, input, x.reshape(shape), ())
    if res.grad_fn is not None:
        res.grad_fn.in_shape = x.shape
    _as_view(res, input, lambda a: a.reshape(shape))
    return res


def view(input, *shape):
    """``reshape`` that refuses to copy: the new shape must fit the memory as it is laid out."""
    if len(shape) == 1 and not isinstance(shape[0], (int, list, tuple, np.integer)):
        return input.to(shape[0])  # view(dtype)
    x = input._data
    if not x.flags.c_contiguous:  # NumPy's no-copy reshape follows PyTorch's stride rule
        try:
            np.reshape(x, _infer_shape(_shape_args(shape), x.size), copy=False)
        except ValueError:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            ) from None
    return reshape(input, *shape)


def flatten(input, start_dim=0, end_dim=-1):
    x = input._data
    if x.ndim == 0:
        return reshape(input, 1)
    s, e = canon_dim(start_dim, x.ndim), canon_dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    n = 1
    for d in x.shape[s:e + 1]:
        n *= d
    return reshape(input, x.shape[:s] + (n,) + x.shape[e + 1:])


class TransposeBackward0(Node):
    """out = x.transpose(d0, d1):  dx = g.transpose(d0, d1)"""

    __slots__ = ("dims",)
    saved_spec = ()

    def backward(self, g):
        d0, d1 = self.dims
        return (g.swapaxes(d0, d1),)

    def jvp(self, tangents):
        d0, d1 = self.dims
        return tangents[0].swapaxes(d0, d1)


def transpose(input, dim0, dim1):
    x = input._data
    d0, d1 = canon_dim(dim0, x.ndim), canon_dim(dim1, x.ndim)
    res = unary(TransposeBackward0, input, x.swapaxes(d0, d1), ())
    if res.grad_fn is not None:
        res.grad_fn.dims = (d0, d1)
    _as_view(res, input, lambda a: a.swapaxes(d0, d1))
    return res


swapaxes = swapdims = transpose


class TBackward0(Node):
    """out = x.t():  dx = g.t()"""

    __slots__ = ()
    saved_spec = ()

    def backward(self, g):
        return (g.T if g.ndim == 2 else g,)

    def jvp(self, tangents):
        t = tangents[0]
        return t.T if t.ndim == 2 else t


def t(input):
    x = input._data
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return _as_view(unary(TBackward0, input, x.T, ()), input, lambda a: a.T)


class PermuteBackward0(Node):
    """out = x.permute(dims):  dx = g.permute(inverse(dims))"""

    __slots__ = ("inverse",)
    saved_spec = ()

    def backward(self, g):
        if type(g) is np.ndarray:
            return (g.transpose(self.inverse),)
        return (g.permute(self.inverse),)

    def jvp(self, tangents):
        t = tangents[0]
        dims = _inverse_permutation(self.inverse)
        return t.transpose(dims) if type(t) is np.ndarray else t.permute(dims)


def permute(input, *dims):
    x = input._data
    dims = _shape_args(dims)
    if len(dims) != x.ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {x.ndim} is not "
            f"equal to len(dims) = {len(dims)}")
    dims = tuple(canon_dim(d, x.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return permute_checked(input, dims)


def permute_checked(input, dims: tuple):
    """``permute`` with ``dims`` already a valid tuple of non-negative ints (``Tensor.T``)."""
    res = unary(PermuteBackward0, input, input._data.transpose(dims), ())
    if res.grad_fn is not None:
        res.grad_fn.inverse = _inverse_permutation(dims)
    _as_view(res, input, lambda a: a.transpose(dims))
    return res


def _inverse_permutation(dims: tuple) -> tuple:
    inverse = [0] * len(dims)
    for i, d in enumerate(dims):
        inverse[d] = i
    return tuple(inverse)


class ExpandBackward0(Node):
    """out = x.expand(shape):  dx = g summed back to x's shape"""

    __slots__ = ("in_shape",)
    saved_spec = ()

    def backward(self, g):
        return (sum_to(g, self.in_shape),)

    jvp_needs_out_shape = True

    def jvp(self, tangents):
        return _broadcast_to(tangents[0], self._out_shape)


def _expand_target(shape, sizes):
    """The shape ``expand(*sizes)`` gives a tensor of ``shape``; errors as torch words them
    (it checks from the last dim to the first, so the last mismatching dim is named)."""
    lead = len(sizes) - len(shape)
    target = list(sizes)
    for i in range(len(sizes) - 1, -1, -1):
        s = sizes[i]
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            continue
        have = shape[i - lead]
        if s == -1:
            target[i] = have
        elif have != s and (have != 1 or s < 0):
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({have}) "
                f"at non-singleton dimension {i}.  Target sizes: {shape_str(sizes)}.  "
                f"Tensor sizes: {shape_str(shape)}")
    return tuple(target)


def expand(input, *sizes):
    x = input._data
    sizes = _shape_args(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{shape_str(x.shape)}}}, size={shape_str(sizes)}): the "
            f"number of sizes provided ({len(sizes)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({x.ndim})")
    target = _expand_target(x.shape, sizes)
    out = broadcast_one(x, target) if x.size == 1 else np.broadcast_to(x, target)
    res = unary(ExpandBackward0, input, out, ())
    if res.grad_fn is not None:
        res.grad_fn.in_shape = x.shape
    return res


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_to(input, shape):
    return expand(input, shape)


class SqueezeBackward0(ViewBackward0):
    __slots__ = ()


SqueezeBackward1 = type("SqueezeBackward1", (ViewBackward0,), {"__slots__": ()})
SqueezeBackward2 = type("SqueezeBackward2", (ViewBackward0,), {"__slots__": ()})


class UnsqueezeBackward0(ViewBackward0):
    __slots__ = ()


def squeeze(input, dim=None):
    """Drop size-1 dims (all of them, or those among ``dim``: an int or a tuple)."""
    x = input._data
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
        cls = SqueezeBackward0
    else:
        cls = SqueezeBackward2 if isinstance(dim, (tuple, list)) else SqueezeBackward1
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        canon = [canon_dim(d, x.ndim) for d in dims]
        if len(set(canon)) != len(canon):
            raise RuntimeError(f"dim {canon[0]} appears multiple times in the list of dims")
        dims = set(canon)
        shape = tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1))
    res = unary(cls, input, x.reshape(shape), ())
    if res.grad_fn is not None:
        res.grad_fn.in_shape = x.shape
    _as_view(res, input, lambda a: a.reshape(shape))
    return res


def unsqueeze(input, dim):
    x = input._data
    d = canon_dim(dim, x.ndim + 1)
    res = unary(UnsqueezeBackward0, input, np.expand_dims(x, d), ())
    if res.grad_fn is not None:
        res.grad_fn.in_shape = x.shape
    _as_view(res, input, lambda a: np.expand_dims(a, d))
    return res


class ToCopyBackward0(Node):
    """out = x.to(dtype):  dx = g cast back to x's dtype"""

    __slots__ = ("in_dtype",)
    saved_spec = ()

    def backward(self, g):
        real_input = self.in_dtype.kind == "f"  # of a real -> complex cast: the real part
        if type(g) is np.ndarray or isinstance(g, np.generic):
            if real_input and g.dtype.kind == "c":
                g = g.real
            return (g.astype(self.in_dtype),)
        if real_input and g.is_complex():
            g = g.real
        return (g.to(_dtype.from_numpy_dtype(self.in_dtype)),)

    def jvp(self, tangents):
        return tangents[0]  # the tangent keeps its dtype (the output's is not kept)


def cast(input: Tensor, dt) -> Tensor:
    """A copy of ``input`` in dtype ``dt``; gradients flow back through float casts."""
    x = input._data
    res = unary(ToCopyBackward0, input, x.astype(dt.np), ())
    if res.grad_fn is not None:
        if x.dtype.kind not in "fc":
            res.grad_fn = None
            res._requires_grad = False
        else:
            res.grad_fn.in_dtype = x.dtype
    return res


# ======================================================================================
# Plumbing: multi-input and multi-output nodes
# ======================================================================================
def _seq(tensors, name):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        "not Tensor")
    return list(tensors)


def _multi_in(node_cls, tensors, out):
    """Wrap ``out`` (computed from several tensors); one edge per input tensor."""
    if grad_state.enabled and out.dtype.kind in "fc" and any(t._requires_grad for t in tensors):
        node = node_cls()
        node.next_functions = tuple(edge(t) if t._requires_grad else NO_EDGE for t in tensors)
        node.saved = ()
        return _make(out, True, node)
    return _make(out, False, None)


class _MultiOutputNode(Node):
    """A node with several outputs: ``backward`` gets a list of grads (None: none arrived)."""

    __slots__ = ()
    saved_spec = ()

    def apply(self, grad, create_graph):
        if self.saved is FREED:
            raise RuntimeError(SECOND_BACKWARD_MSG)
        if create_graph:
            grad = [as_graph_tensor(g) for g in _as_list(grad)]
        return self.backward(grad)


def _as_list(grads):
    """The engine hands a node with a single output (a one-piece split) a bare gradient."""
    return grads if type(grads) is list else [grads]


class CopySlices(Node):
    """base_new = base_old with view_fn(base_old) replaced by v (an in-place write into a
    view made by reshape/transpose/...):  d base_old = g zeroed where the view covers,
    dv = g at the view's positions. ``sel`` holds, shaped like the view, the flat indices
    of the base elements the view covers, so one formula serves every kind of view."""

    __slots__ = ("sel",)
    saved_spec = ()

    def backward(self, g):
        fx, fv = self.next_functions
        flat = self.sel.reshape(-1)
        gx = gv = None
        if _isarr(g):
            if fx[0] is not None:
                gx = np.array(g, order="C")  # C order: reshape(-1) must be a view
                gx.reshape(-1)[flat] = 0
            if fv[0] is not None:
                gv = g.reshape(-1)[self.sel]
        else:
            if fx[0] is not None:
                mask = np.ones(g.shape, g._data.dtype)
                mask.reshape(-1)[flat] = 0
                gx = g * _make(mask, False, None)
            if fv[0] is not None:
                gv = g.reshape(-1)[_make(self.sel, False, None)]
        return gx, gv

    jvp_needs_out_shape = True

    def jvp(self, tangents):
        """The base's tangent with the view's positions replaced by the value's tangent."""
        tx, tv = tangents
        ref = tx if tx is not None else tv
        if not _isarr(ref):
            return NotImplemented  # on Tensors: the double-vjp fallback
        out = np.array(tx, order="C") if tx is not None else np.zeros(self._out_shape, tv.dtype)
        flat = out.reshape(-1)
        flat[self.sel.reshape(-1)] = 0 if tv is None else np.broadcast_to(
            tv, self.sel.shape).reshape(-1)
        return out


def _as_view(res, input, view_fn):
    """Mark ``res`` as a view of ``input`` when it shares memory and is in a graph, so that
    an in-place write into it also rebases ``input``'s history (PyTorch's view semantics)."""
    r = res._data
    base = r.base  # NumPy points a view at the array owning the memory: the quick answer
    if grad_state.enabled and (base is not None and (base is input._data or
                                                    base is input._data.base)
                               or r.size == 0 or np.may_share_memory(r, input._data)):
        d = res.__dict__
        d["_base"] = input
        d["_view_fn"] = view_fn
    return res


def _multi_out(node_cls, input, datas):
    """Outputs ``datas`` of one multi-output ``node_cls`` node (if a gradient is wanted)."""
    if input._requires_grad and grad_state.enabled and input._data.dtype.kind in "fc":
        node = node_cls()
        node.next_functions = (edge(input),)
        node.saved = ()
        node.num_outputs = len(datas)
        outs = tuple(_make(d, True, node, output_nr=i) for i, d in enumerate(datas))
        for o in outs:  # PyTorch refuses in-place writes into these views
            o.__dict__["_multi_view"] = node_cls.__name__.replace("WithSizes", "")[:-9]
        return node, outs
    return None, tuple(_make(d, False, None) for d in datas)


def _zeros_like_out(ref_is_arr, shape, dtype):
    z = np.zeros(shape, dtype)
    return z if ref_is_arr else _make(z, False, None)


def _fill_missing(grads, shapes, dtype):
    """Replace the None gradients of a multi-output node with zeros of each output's shape."""
    grads = _as_list(grads)
    is_arr = next((_isarr(g) for g in grads if g is not None), True)
    return [g if g is not None else _zeros_like_out(is_arr, s, dtype)
            for g, s in zip(grads, shapes)], is_arr



# ======================================================================================
# Forward mode (jvp) shortcuts shared by the shape nodes
# ======================================================================================
# Every op here is linear: its jvp applies the op itself to the tangent. Where the node
# keeps too little to redo the op (a view keeps only its input's shape), the rule declares
# ``jvp_needs_out_shape`` and forward_ad gives the node ``_out_shape`` before calling it.
def _self_adjoint_jvp(self, tangents):
    """Ops equal to their own adjoint (flip, tril, triu: a projection or an involution):
    the backward formula is the jvp."""
    return self.backward(tangents[0])[0]


def _zeros_for(ref, shape):
    """Zeros of ``shape`` in ``ref``'s dtype, an array or a constant Tensor like ``ref``."""
    z = np.zeros(shape, ref.dtype if _isarr(ref) else ref._data.dtype)
    return z if _isarr(ref) else _make(z, False, None)


def _tangents_or_zeros(tangents, shapes):
    """Each input's tangent, zeros (shaped by ``shapes[i]``) where it has none."""
    ref = next(t for t in tangents if t is not None)
    return [t if t is not None else _zeros_for(ref, s) for t, s in zip(tangents, shapes)]


# ======================================================================================
# Reshapes and dim moves
# ======================================================================================
def ravel(input):
    """The elements as a 1-D tensor."""
    return reshape(input, -1)


def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one entry may be -1)."""
    x = input._data
    d = canon_dim(dim, x.ndim)
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = x.shape[d]
    known = 1
    for s in sizes:
        if s != -1:
            known *= s
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if -1 in sizes:
        if known == 0 or n % known:
            raise RuntimeError(f"unflatten: Provided sizes {shape_str(sizes)} don't multiply up "
                               f"to the size of dim {dim} ({n}) in the input tensor")
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    elif known != n:
        raise RuntimeError(f"unflatten: Provided sizes {shape_str(sizes)} don't multiply up to "
                           f"the size of dim {dim} ({n}) in the input tensor")
    return reshape(input, x.shape[:d] + sizes + x.shape[d + 1:])


def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination`` (others keep their order)."""
    x = input._data
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({shape_str(src)} dims) "
            f"should contain the same number of dims as destination ({shape_str(dst)} dims)")
    src_c = [canon_dim(d, x.ndim) for d in src]
    dst_c = [canon_dim(d, x.ndim) for d in dst]
    if len(set(src_c)) != len(src_c):
        raise RuntimeError(f"movedim: repeated dim in `source` ({shape_str(src)})")
    if len(set(dst_c)) != len(dst_c):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({shape_str(dst)})")
    order = [i for i in range(x.ndim) if i not in src_c]
    for dd, sd in sorted(zip(dst_c, src_c)):
        order.insert(dd, sd)
    if x.ndim == 0:
        return permute(input)
    return permute(input, *order)


moveaxis = movedim


# ======================================================================================
# Broadcasting, repeat, tile
# ======================================================================================
def broadcast_shapes(*shapes):
    """The shape that ``shapes`` broadcast to."""
    from ..tensor import Size

    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    try:
        return Size(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape.  "
                           f"Mismatch is between {shape_str(shapes[0])} and "
                           f"{shape_str(shapes[-1])}.") from None


def broadcast_tensors(*tensors):
    """Expand every tensor to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shapes = [t._data.shape for t in tensors]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        bad = next(s for s in shapes[1:] if _not_broadcastable(shapes[0], s))
        raise broadcast_error(shapes[0], bad) from None
    return tuple(expand(t, shape) for t in tensors)


def _not_broadcastable(a, b):
    try:
        np.broadcast_shapes(a, b)
        return False
    except ValueError:
        return True


class RepeatBackward0(Node):
    """out = x.repeat(reps):  dx = g viewed as (r0, s0, r1, s1, ...) summed over the r's"""

    __slots__ = ("in_shape", "reps")
    saved_spec = ()

    def backward(self, g):
        inter = []
        for r, s in zip(self.reps, self.padded()):
            inter += [r, s]
        g = g.reshape(tuple(inter)).sum(axis=tuple(range(0, len(inter), 2)))
        return (g.reshape(self.in_shape),)

    def jvp(self, tangents):
        t = tangents[0]
        return np.tile(t, self.reps) if _isarr(t) else t.repeat(*self.reps)

    def padded(self):
        return (1,) * (len(self.reps) - len(self.in_shape)) + tuple(self.in_shape)


def repeat(input, *sizes):
    """Tile ``input`` ``sizes[i]`` times along dim i (new leading dims when more sizes)."""
    sizes = _shape_args(sizes)
    x = input._data
    if len(sizes) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(sizes)}: "
                           f"{shape_str(sizes)}")
    res = unary(RepeatBackward0, input, np.tile(x, sizes) if sizes else x.copy(), ())
    if res.grad_fn is not None:
        res.grad_fn.in_shape, res.grad_fn.reps = x.shape, sizes
    return res


def tile(input, dims):
    """``repeat`` with missing leading repetitions taken as 1."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    nd = input._data.ndim
    if len(dims) < nd:
        dims = (1,) * (nd - len(dims)) + dims
    return repeat(input, *dims)


class IndexSelectBackward0(Node):
    """out = x.index_select(dim, idx):  dx = zeros with g added at idx (repeats summed)"""

    __slots__ = ("dim", "in_shape")
    saved_spec = (None,)

    def backward(self, g, idx):
        return (_index_add(g, idx, self.dim, self.in_shape),)

    def jvp(self, tangents, idx):
        return _index_select(tangents[0], idx, self.dim)


class IndexAddBackward0(Node):
    """out = zeros(shape).index_add(dim, idx, x):  dx = out-grad selected at idx"""

    __slots__ = ("dim",)
    saved_spec = (None,)

    def backward(self, g, idx):
        return (_index_select(g, idx, self.dim),)

    jvp_needs_out_shape = True

    def jvp(self, tangents, idx):
        return _index_add(tangents[0], idx, self.dim, self._out_shape)


def _index_select(x, idx, dim):
    if _isarr(x):
        return np.take(x, idx, axis=dim)
    idx = idx._data if isinstance(idx, Tensor) else idx
    res = unary(IndexSelectBackward0, x, np.take(x._data, idx, axis=dim), (idx,))
    if res.grad_fn is not None:
        res.grad_fn.dim, res.grad_fn.in_shape = dim, x._data.shape
    return res


def _index_add(g, idx, dim, shape):
    arr = _isarr(g)
    idx = idx._data if isinstance(idx, Tensor) else idx
    gd = g if arr else g._data
    z = np.zeros(shape, gd.dtype)
    np.add.at(np.moveaxis(z, dim, 0), idx, np.moveaxis(gd, dim, 0))
    if arr:
        return z
    res = unary(IndexAddBackward0, g, z, (idx,))
    if res.grad_fn is not None:
        res.grad_fn.dim = dim
    return res


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (an int or a tensor of per-element counts)."""
    if repeats is None:  # repeat_interleave(counts): indices repeated by counts
        counts = input._data
        return _make(np.repeat(np.arange(counts.shape[0], dtype=np.int64), counts), False, None)
    if dim is None:
        input = reshape(input, -1)
        d = 0
    else:
        d = canon_dim(dim, input._data.ndim)
    x = input._data
    if isinstance(repeats, Tensor) and repeats._data.ndim == 0:
        repeats = int(repeats._data)
    if isinstance(repeats, (int, np.integer)):
        if repeats < 0:
            raise RuntimeError("Repeats must be non-negative")
        if x.ndim == 0:
            input, x, d = reshape(input, 1), x.reshape(1), 0
        # As PyTorch: unsqueeze, expand, then merge the two dims (ViewBackward0 on top).
        y = unsqueeze(input, d + 1)
        y = expand(y, x.shape[:d + 1] + (int(repeats),) + x.shape[d + 1:])
        return reshape(y, x.shape[:d] + (x.shape[d] * int(repeats),) + x.shape[d + 1:])
    reps = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    reps = reps.reshape(-1)
    n = x.shape[d] if x.ndim else 1
    if reps.shape[0] != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {reps.shape[0]} and input.size({d}) = {n}")
    if (reps < 0).any():
        raise RuntimeError("repeats can not be negative")
    idx = np.repeat(np.arange(n, dtype=np.int64), reps)
    return _index_select(input if x.ndim else reshape(input, 1), idx, d)


# ======================================================================================
# Joining: cat, stack, hstack, vstack, dstack
# ======================================================================================
class CatBackward0(Node):
    """out = cat(xs, dim):  dx_i = g narrowed to x_i's slice along dim"""

    __slots__ = ("dim", "sizes", "dtypes")
    saved_spec = ()

    def backward(self, g):
        d = self.dim
        out, start = [], 0
        for (fn, _), n in zip(self.next_functions, self.sizes):
            if fn is None or n is None:
                out.append(None)
            else:
                out.append(_narrow(g, d, start, n))
            start += n or 0
        return _cast_back(out, self.dtypes)

    def jvp(self, tangents):
        d = self.dim
        ref = next(t for t in tangents if t is not None)
        parts = []
        for t, n in zip(tangents, self.sizes):
            if n is None:
                continue  # a skipped 1-D empty input
            if t is None:
                shape = list(ref.shape)
                shape[d] = n
                t = _zeros_for(ref, tuple(shape))
            parts.append(t)
        return np.concatenate(parts, axis=d) if _isarr(ref) else cat(parts, d)


def _mixed_dtypes(datas, rt):
    """The inputs' dtypes when some differ from the result's (``rt``), else None."""
    return [a.dtype for a in datas] if any(a.dtype != rt for a in datas) else None


def _cast_back(grads, dtypes):
    """Inputs of mixed dtypes were promoted: give each gradient its input's dtype again."""
    if dtypes is None:
        return tuple(grads)
    out = []
    for g, dt in zip(grads, dtypes):
        if g is not None and g.dtype != dt and dt.kind in "fc":
            g = g.astype(dt) if _isarr(g) else g.to(_dtype.from_numpy_dtype(dt))
        out.append(g)
    return tuple(out)


def _narrow(g, d, start, n):
    if _isarr(g):
        idx = (slice(None),) * d + (slice(start, start + n),)
        return g[idx]
    return narrow(g, d, start, n)


def cat(tensors, dim=0, *, out=None, **kwargs):
    """Join ``tensors`` along existing dim ``dim`` (1-D empty tensors are skipped).

    >>> import chainrule as torch
    >>> torch.cat([torch.zeros(1, 2), torch.ones(1, 2)]).shape
    torch.Size([2, 2])
    """
    if "axis" in kwargs:
        dim = kwargs.pop("axis")
    tensors = _seq(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    datas = [t._data for t in tensors]
    # Legacy rule: 1-D empty tensors are skipped (kept only if nothing else is left).
    keep = [not (a.ndim == 1 and a.shape[0] == 0) for a in datas]
    live = [a for a, k in zip(datas, keep) if k] or datas[:1]
    ref = live[0]
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position "
                           f"{datas.index(ref)}) cannot be concatenated")
    d = canon_dim(dim, ref.ndim)
    dt = ref.dtype
    same = all(a.dtype == dt for a in datas)
    rt = dt if same else _dtype.result_type(*datas)
    try:
        # The common case runs straight through NumPy; checks only explain a failure.
        out = np.concatenate(live if same else [a.astype(rt, copy=False) for a in live],
                             axis=d)
    except ValueError:
        raise _cat_error(datas, keep, ref, d) from None
    res = _multi_in(CatBackward0, tensors, out)
    if res.grad_fn is not None:
        res.grad_fn.dim = d
        res.grad_fn.dtypes = _mixed_dtypes(datas, rt)
        res.grad_fn.sizes = tuple(a.shape[d] if (k or a is ref) else None
                                  for a, k in zip(datas, keep))
    return res


def _cat_error(datas, keep, ref, d):
    """PyTorch's message for the first input that cannot be joined to ``ref``."""
    for i, (a, k) in enumerate(zip(datas, keep)):
        if not k:
            continue
        if a.ndim != ref.ndim:
            if a.ndim == 0:
                return RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                                    "concatenated")
            return RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} "
                                f"and {a.ndim}")
        for j in range(ref.ndim):
            if j != d and a.shape[j] != ref.shape[j]:
                return RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ref.shape[j]} but got size {a.shape[j]} for tensor number {i} in the "
                    "list.")
    return RuntimeError("cat(): tensors cannot be concatenated")


concat = cat


def concatenate(tensors, axis=0, *, out=None):
    """``cat`` with NumPy's argument name."""
    return cat(tensors, axis)


class StackBackward0(Node):
    """out = stack(xs, dim):  dx_i = g.select(dim, i)"""

    __slots__ = ("dim", "dtypes")
    saved_spec = ()

    def backward(self, g):
        d = self.dim
        if _isarr(g):
            parts = [g[(slice(None),) * d + (i,)] for i in range(g.shape[d])]
        else:
            parts = unbind(g, d)
        return _cast_back([p if fn is not None else None
                           for p, (fn, _) in zip(parts, self.next_functions)], self.dtypes)

    def jvp(self, tangents):
        ref = next(t for t in tangents if t is not None)
        parts = _tangents_or_zeros(tangents, [tuple(ref.shape)] * len(tangents))
        return np.stack(parts, axis=self.dim) if _isarr(ref) else stack(parts, self.dim)


def stack(tensors, dim=0, *, out=None, axis=None):
    """Join same-shaped ``tensors`` along a new dim ``dim`` (``axis``: NumPy's spelling).

    >>> import chainrule as torch
    >>> torch.stack([torch.zeros(3), torch.ones(3)], dim=1).shape
    torch.Size([3, 2])
    """
    if axis is not None:
        dim = axis
    tensors = _seq(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    datas = [t._data for t in tensors]
    s0 = datas[0].shape
    d = canon_dim(dim, len(s0) + 1)
    dt = datas[0].dtype
    same = all(a.dtype == dt for a in datas)
    rt = dt if same else _dtype.result_type(*datas)
    try:
        out = np.stack(datas if same else [a.astype(rt, copy=False) for a in datas], axis=d)
    except ValueError:
        i, a = next((i, a) for i, a in enumerate(datas) if a.shape != s0)
        raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                           f"{shape_str(s0)} at entry 0 and {shape_str(a.shape)} at entry {i}"
                           ) from None
    res = _multi_in(StackBackward0, tensors, out)
    if res.grad_fn is not None:
        res.grad_fn.dim = d
        res.grad_fn.dtypes = _mixed_dtypes(datas, rt)
    return res


def hstack(tensors, *, out=None):
    """Concatenate along dim 1 (dim 0 for 1-D tensors)."""
    ts = atleast_1d(*_seq(tensors, "hstack"))
    ts = [ts] if isinstance(ts, Tensor) else list(ts)
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1)


def vstack(tensors, *, out=None):
    """Concatenate along dim 0 after making every tensor at least 2-D."""
    ts = atleast_2d(*_seq(tensors, "vstack"))
    return cat([ts] if isinstance(ts, Tensor) else list(ts), 0)


def dstack(tensors, *, out=None):
    """Concatenate along dim 2 after making every tensor at least 3-D."""
    ts = atleast_3d(*_seq(tensors, "dstack"))
    return cat([ts] if isinstance(ts, Tensor) else list(ts), 2)


row_stack = vstack


def column_stack(tensors, *, out=None):
    """Tensors as columns: 0-D and 1-D inputs become (n, 1) columns, then ``hstack``."""
    ts = []
    for t in _seq(tensors, "column_stack"):
        nd = t._data.ndim
        ts.append(reshape(t, t._data.size, 1) if nd <= 1 else t)
    return hstack(ts)


def _atleast(tensors, n, fn):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(fn(t) for t in tensors[0])
    if len(tensors) == 1:
        return fn(tensors[0])
    return tuple(fn(t) for t in tensors)


def _at1(t):
    return reshape(t, 1) if t._data.ndim == 0 else t


def _at2(t):
    nd = t._data.ndim
    return reshape(t, 1, 1) if nd == 0 else unsqueeze(t, 0) if nd == 1 else t


def _at3(t):
    nd = t._data.ndim
    if nd == 0:
        return reshape(t, 1, 1, 1)
    if nd == 1:
        return unsqueeze(unsqueeze(t, 0), -1)
    if nd == 2:
        return unsqueeze(t, -1)
    return t


def atleast_1d(*tensors):
    """Each tensor viewed with at least 1 dim (one tensor in, one out)."""
    return _atleast(tensors, 1, _at1)


def atleast_2d(*tensors):
    """Each tensor viewed with at least 2 dims."""
    return _atleast(tensors, 2, _at2)


def atleast_3d(*tensors):
    """Each tensor viewed with at least 3 dims."""
    return _atleast(tensors, 3, _at3)


# ======================================================================================
# Splitting: split, chunk, unbind, tensor_split, narrow
# ======================================================================================
class SplitBackward0(_MultiOutputNode):
    """outs = split(x, sizes, dim):  dx = cat of the outputs' grads (zeros where none came)"""

    __slots__ = ("dim", "shapes", "dtype")

    def backward(self, grads):
        grads, is_arr = _fill_missing(grads, self.shapes, self.dtype)
        if is_arr:
            return (np.concatenate(grads, axis=self.dim),)
        return (cat(grads, self.dim),)

    def jvp(self, tangents):
        t, d = tangents[0], self.dim
        out, start = [], 0
        for s in self.shapes:
            out.append(_narrow(t, d, start, s[d]))
            start += s[d]
        return out


SplitWithSizesBackward0 = type("SplitWithSizesBackward0", (SplitBackward0,), {"__slots__": ()})


class UnbindBackward0(_MultiOutputNode):
    """outs = unbind(x, dim):  dx = stack of the outputs' grads (zeros where none came)"""

    __slots__ = ("dim", "shapes", "dtype")

    def backward(self, grads):
        grads, is_arr = _fill_missing(grads, self.shapes, self.dtype)
        if is_arr:
            return (np.stack(grads, axis=self.dim),)
        return (stack(grads, self.dim),)

    def jvp(self, tangents):
        t, d = tangents[0], self.dim
        if _isarr(t):
            return [t[(slice(None),) * d + (i,)] for i in range(len(self.shapes))]
        return list(unbind(t, d))


def _split_sizes(input, sizes, d, node_cls):
    x = input._data
    bounds = np.cumsum((0,) + tuple(sizes))
    idx = (slice(None),) * d
    datas = [x[idx + (slice(int(a), int(b)),)] for a, b in zip(bounds[:-1], bounds[1:])]
    node, outs = _multi_out(node_cls, input, datas)
    if node is not None:
        node.dim, node.shapes, node.dtype = d, [a.shape for a in datas], x.dtype
    return outs


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes.

    >>> import chainrule as torch
    >>> [p.tolist() for p in torch.arange(5).split(2)]
    [[0, 1], [2, 3], [4]]
    >>> [p.shape[1] for p in torch.zeros(2, 5).split([1, 4], dim=1)]
    [1, 4]
    """
    x = tensor._data
    d = canon_dim(dim, x.ndim)
    if x.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    n = x.shape[d]
    s = split_size_or_sections
    if isinstance(s, Tensor):
        s = s.tolist()
    if isinstance(s, (int, np.integer)):
        s = int(s)
        if s < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={s}")
        if s == 0:
            if n != 0:
                raise RuntimeError("split_size can only be 0 if dimension size is 0, but got "
                                   f"dimension size of {n}")
            sizes = [0]
        else:
            sizes = [s] * (n // s) + ([n % s] if n % s else [])
            if not sizes:
                sizes = [0]
        return _split_sizes(tensor, sizes, d, SplitBackward0)
    sizes = [int(v) for v in s]
    if sum(sizes) != n or any(v < 0 for v in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                           f"tensor's size at dimension {d}), but got "
                           f"split_sizes={shape_str(sizes)}")
    return _split_sizes(tensor, sizes, d, SplitWithSizesBackward0)


def chunk(input, chunks, dim=0):
    """``chunks`` pieces (or fewer) of equal size along ``dim``; the last may be smaller."""
    chunks = int(chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    x = input._data
    if x.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    n = x.shape[canon_dim(dim, x.ndim)]
    size = -(-n // chunks)
    if n == 0:
        return split(input, [0] * chunks, dim) if chunks > 0 else ()
    return split(input, size, dim)


def unbind(input, dim=0):
    """The slices along ``dim`` as a tuple (that dim removed)."""
    x = input._data
    if x.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = canon_dim(dim, x.ndim)
    idx = (slice(None),) * d
    datas = [x[idx + (i,)] for i in range(x.shape[d])]
    if not datas:
        return ()
    node, outs = _multi_out(UnbindBackward0, input, datas)
    if node is not None:
        node.dim, node.shapes, node.dtype = d, [a.shape for a in datas], x.dtype
    return outs


class SliceBackward0(Node):
    """out = x.narrow(dim, start, length):  dx = zeros(x.shape) with g at the slice"""

    __slots__ = ("dim", "start", "in_shape")
    saved_spec = ()

    def backward(self, g):
        return (_slice_scatter(g, self.in_shape, self.dim, self.start),)

    jvp_needs_out_shape = True

    def jvp(self, tangents):
        d = self.dim
        return _narrow(tangents[0], d, self.start, self._out_shape[d])


class SliceScatterBackward0(Node):
    """out = zeros(shape) with x at [start:start+n] along dim:  dx = g narrowed back"""

    __slots__ = ("dim", "start", "length")
    saved_spec = ()

    def backward(self, g):
        return (_narrow(g, self.dim, self.start, self.length),)

    jvp_needs_out_shape = True

    def jvp(self, tangents):
        return _slice_scatter(tangents[0], self._out_shape, self.dim, self.start)


def _slice_scatter(g, shape, d, start):
    arr = _isarr(g)
    gd = g if arr else g._data
    z = np.zeros(shape, gd.dtype)
    z[(slice(None),) * d + (slice(start, start + gd.shape[d]),)] = gd
    if arr:
        return z
    res = unary(SliceScatterBackward0, g, z, ())
    if res.grad_fn is not None:
        res.grad_fn.dim, res.grad_fn.start, res.grad_fn.length = d, start, gd.shape[d]
    return res


def narrow(input, dim, start, length):
    """The ``length`` elements from ``start`` along ``dim``."""
    x = input._data
    if x.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = canon_dim(dim, x.ndim)
    n = x.shape[d]
    start = int(start)
    length = int(length)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but "
                         f"got {start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    key = (slice(None),) * d + (slice(start, start + length),)
    res = unary(SliceBackward0, input, x[key], ())
    if res.grad_fn is not None:
        res.grad_fn.dim, res.grad_fn.start, res.grad_fn.in_shape = d, start, x.shape
    _as_view(res, input, lambda a: a[key])
    return res


class UnfoldBackward0(Node):
    """out = x.unfold(dim, size, step):  dx = each window of g added back at its place"""

    __slots__ = ("dim", "size", "step", "in_shape")
    saved_spec = ()

    def backward(self, g):
        return (_unfold_backward(g, self.in_shape, self.dim, self.size, self.step),)

    def jvp(self, tangents):
        return _unfold(tangents[0], self.dim, self.size, self.step)


class UnfoldBackwardBackward0(Node):
    """out = unfold_backward(x, shape, dim, size, step):  dx = g.unfold(dim, size, step)"""

    __slots__ = ("dim", "size", "step")
    saved_spec = ()

    def backward(self, g):
        return (_unfold(g, self.dim, self.size, self.step),)

    jvp_needs_out_shape = True

    def jvp(self, tangents):
        return _unfold_backward(tangents[0], self._out_shape, self.dim, self.size, self.step)


def _unfold_data(x, d, size, step):
    """The windows of ``x`` along ``d`` as a strided view, windows last (read-only: they
    overlap)."""
    if x.ndim == 0:
        # size <= 1 here, so the stride never moves past the one element
        return np.lib.stride_tricks.as_strided(x, (size,), (x.itemsize,), writeable=False)
    n = (x.shape[d] - size) // step + 1
    st = x.strides
    shape = x.shape[:d] + (n,) + x.shape[d + 1:] + (size,)
    strides = st[:d] + (st[d] * step,) + st[d + 1:] + (st[d],)
    return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)


def _unfold(x, d, size, step):
    if _isarr(x):
        return _unfold_data(x, d, size, step)
    return unfold(x, d, size, step)


def _unfold_backward(g, in_shape, d, size, step):
    """Sum the windows ``g`` back into a tensor of ``in_shape`` (one pass per window offset)."""
    gd = g if _isarr(g) else g._data
    if len(in_shape) == 0:
        z = np.asarray(gd.sum(), gd.dtype)  # size <= 1: at most one element
    else:
        z = np.zeros(in_shape, gd.dtype)
        n = gd.shape[d]
        for k in range(size):
            z[(slice(None),) * d + (slice(k, k + step * (n - 1) + 1, step),)] += gd[..., k]
    if _isarr(g):
        return z
    res = unary(UnfoldBackwardBackward0, g, z, ())
    if res.grad_fn is not None:
        res.grad_fn.dim, res.grad_fn.size, res.grad_fn.step = d, size, step
    return res


def unfold(input, dimension, size, step):
    """A view of every ``size``-long window along ``dimension``, ``step`` apart; the windows
    become the last dim (``Tensor.unfold``).

    >>> import chainrule as torch
    >>> torch.arange(5.).unfold(0, 2, 2)
    tensor([[0., 1.],
            [2., 3.]])
    """
    x = input._data
    d = canon_dim(dimension, x.ndim)
    size, step = int(size), int(step)
    length = x.shape[d] if x.ndim else 1
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    res = unary(UnfoldBackward0, input, _unfold_data(x, d, size, step), ())
    node = res.grad_fn
    if node is not None:
        node.dim, node.size, node.step, node.in_shape = d, size, step, x.shape
    _as_view(res, input, lambda a: _unfold_data(a, d, size, step))
    return res


def tensor_split(input, indices_or_sections, dim=0):
    """Split into ``n`` near-equal parts, or at the given indices, along ``dim``."""
    x = input._data
    if x.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = canon_dim(dim, x.ndim)
    n = x.shape[d]
    s = indices_or_sections
    if isinstance(s, Tensor):
        s = s.item() if s._data.ndim == 0 else s.tolist()
    if isinstance(s, (int, np.integer)):
        s = int(s)
        if s <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {s}")
        q, r = divmod(n, s)
        sizes = [q + 1] * r + [q] * (s - r)
        bounds = np.cumsum([0] + sizes)
    else:
        bounds = [0] + [int(i) for i in s] + [n]
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        a, b = _clip(int(a), n), _clip(int(b), n)
        out.append(narrow(input, d, a, max(b - a, 0)))
    return tuple(out)


def _nsplit(input, indices_or_sections, d, name, min_dims):
    x = input._data
    if x.ndim < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, "
                           f"but got a tensor with {x.ndim} dimensions!")
    s = indices_or_sections
    if isinstance(s, (int, np.integer)):
        if s == 0 or x.shape[d] % s:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but the "
                               f"size of the dimension {x.shape[d]} is not divisible by the "
                               f"split_size {s}!")
    return tensor_split(input, s, d)


def hsplit(input, indices_or_sections):
    """``tensor_split`` along dim 1 (dim 0 for 1-D tensors); int sections must divide evenly."""
    return _nsplit(input, indices_or_sections, 0 if input._data.ndim == 1 else 1, "hsplit", 1)


def vsplit(input, indices_or_sections):
    """``tensor_split`` along dim 0 of a tensor with at least 2 dims."""
    return _nsplit(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input, indices_or_sections):
    """``tensor_split`` along dim 2 of a tensor with at least 3 dims."""
    return _nsplit(input, indices_or_sections, 2, "dsplit", 3)


def _clip(i, n):
    if i < 0:
        i += n
    return min(max(i, 0), n)


# ======================================================================================
# Flips, rolls, rotations, triangles
# ======================================================================================
def _dims_list(dims, ndim):
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    out = tuple(canon_dim(int(d), ndim) for d in dims)
    if len(set(out)) != len(out):
        dup = next(d for d in out if out.count(d) > 1)
        raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    return out


class FlipBackward0(Node):
    """out = flip(x, dims):  dx = flip(g, dims)"""

    __slots__ = ("dims",)
    saved_spec = ()

    def backward(self, g):
        return (np.flip(g, self.dims) if _isarr(g) else flip(g, self.dims),)

    jvp = _self_adjoint_jvp


def flip(input, dims):
    """Reverse the order of elements along ``dims``."""
    x = input._data
    dims = _dims_list(dims, x.ndim)
    res = unary(FlipBackward0, input, np.flip(x, dims) if x.ndim else x.copy(), ())
    if res.grad_fn is not None:
        res.grad_fn.dims = dims if x.ndim else ()
    return res


def fliplr(input):
    """Flip dim 1 (left/right)."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    """Flip dim 0 (up/down)."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class RollBackward0(Node):
    """out = roll(x, shifts, dims):  dx = roll(g, -shifts, dims)"""

    __slots__ = ("shifts", "dims")
    saved_spec = ()

    def backward(self, g):
        back = tuple(-s for s in self.shifts)
        if self.dims is None:
            shape = g.shape
            if _isarr(g):
                return (np.roll(g.reshape(-1), back[0]).reshape(shape),)
            return (roll(g, back[0]),)
        return (np.roll(g, back, self.dims) if _isarr(g) else roll(g, back, self.dims),)

    def jvp(self, tangents):
        t = tangents[0]
        if self.dims is None:
            if _isarr(t):
                return np.roll(t.reshape(-1), self.shifts[0]).reshape(t.shape)
            return roll(t, self.shifts[0])
        return np.roll(t, self.shifts, self.dims) if _isarr(t) else \
            roll(t, self.shifts, self.dims)


def roll(input, shifts, dims=None):
    """Shift elements cyclically by ``shifts`` along ``dims`` (flattened when None).

    >>> import chainrule as torch
    >>> torch.arange(4).roll(1).tolist()
    [3, 0, 1, 2]
    """
    x = input._data
    shifts_t = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    shifts_t = tuple(int(s) for s in shifts_t)
    if dims is None:
        if len(shifts_t) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts_t)}, "
                               "dims:0")
        out = np.roll(x.reshape(-1), shifts_t[0]).reshape(x.shape)
        dims_t = None
    else:
        dims_t = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
        if len(shifts_t) != len(dims_t):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts_t)}, "
                               f"dims:{len(dims_t)}")
        if x.ndim == 0:
            raise IndexError(f"Dimension specified as {dims_t[0]} but tensor has no dimensions")
        dims_t = tuple(canon_dim(int(d), x.ndim) for d in dims_t)
        out = np.roll(x, shifts_t, dims_t)
    res = unary(RollBackward0, input, out, ())
    if res.grad_fn is not None:
        res.grad_fn.shifts, res.grad_fn.dims = shifts_t, dims_t
    return res


class Rot90Backward0(Node):
    """out = rot90(x, k, dims):  dx = rot90(g, -k, dims)"""

    __slots__ = ("k", "dims")
    saved_spec = ()

    def backward(self, g):
        if _isarr(g):
            return (np.rot90(g, -self.k, self.dims),)
        return (rot90(g, -self.k, self.dims),)

    def jvp(self, tangents):
        t = tangents[0]
        return np.rot90(t, self.k, self.dims) if _isarr(t) else rot90(t, self.k, self.dims)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from dims[0] to dims[1])."""
    x = input._data
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if x.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {x.ndim}")
    d0, d1 = canon_dim(dims[0], x.ndim), canon_dim(dims[1], x.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    res = unary(Rot90Backward0, input, np.rot90(x, k, (d0, d1)).copy(), ())
    if res.grad_fn is not None:
        res.grad_fn.k, res.grad_fn.dims = int(k), (d0, d1)
    return res


class TrilBackward0(Node):
    """out = tril(x, k):  dx = tril(g, k)"""

    __slots__ = ("k",)
    saved_spec = ()

    def backward(self, g):
        return (np.tril(g, self.k) if _isarr(g) else tril(g, self.k),)

    jvp = _self_adjoint_jvp


class TriuBackward0(Node):
    """out = triu(x, k):  dx = triu(g, k)"""

    __slots__ = ("k",)
    saved_spec = ()

    def backward(self, g):
        return (np.triu(g, self.k) if _isarr(g) else triu(g, self.k),)

    jvp = _self_adjoint_jvp


def _tri(input, diagonal, name, node_cls, fn):
    x = input._data
    if x.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    res = unary(node_cls, input, fn(x, int(diagonal)), ())
    if res.grad_fn is not None:
        res.grad_fn.k = int(diagonal)
    return res


def tril(input, diagonal=0, *, out=None):
    """The lower triangle (on and below diagonal ``diagonal``) of the last two dims."""
    return _tri(input, diagonal, "tril", TrilBackward0, np.tril)


def triu(input, diagonal=0, *, out=None):
    """The upper triangle (on and above diagonal ``diagonal``) of the last two dims."""
    return _tri(input, diagonal, "triu", TriuBackward0, np.triu)


# ======================================================================================
# Diagonals: diagonal and diag_embed are each other's adjoint
# ======================================================================================
def _diag_index(shape, offset, d1, d2):
    """Row and column indices of diagonal ``offset`` in the (d1, d2) plane of ``shape``."""
    n1, n2 = shape[d1], shape[d2]
    r0, c0 = max(-offset, 0), max(offset, 0)
    length = max(min(n1 - r0, n2 - c0), 0)
    ar = np.arange(length)
    return ar + r0, ar + c0


def _diagonal_data(x, offset, d1, d2):
    """A view of ``x``'s diagonal (NumPy's, whose order matches torch's), made writable like
    torch's when ``x`` is: writes into it reach ``x``. NumPy only marks it read-only."""
    v = np.diagonal(x, offset, d1, d2)
    if x.flags.writeable:
        v.flags.writeable = True
    return v


def _diag_scatter_data(v, shape, offset, d1, d2):
    z = np.zeros(shape, v.dtype)
    rows, cols = _diag_index(shape, offset, d1, d2)
    np.moveaxis(z, (d1, d2), (-2, -1))[..., rows, cols] = v
    return z


class DiagonalBackward0(Node):
    """out = diagonal(x, offset, d1, d2):  dx = zeros(x.shape) with g on that diagonal"""

    __slots__ = ("offset", "d1", "d2", "in_shape")
    saved_spec = ()

    def backward(self, g):
        return (_diag_scatter(g, self.in_shape, self.offset, self.d1, self.d2),)

    def jvp(self, tangents):
        return _diagonal(tangents[0], self.offset, self.d1, self.d2)


DiagonalBackward0_copy = type("DiagonalBackward0_copy", (DiagonalBackward0,), {"__slots__": ()})


class DiagEmbedBackward0(Node):
    """out = diag_embed(x, offset, d1, d2):  dx = diagonal(g, offset, d1, d2)"""

    __slots__ = ("offset", "d1", "d2")
    saved_spec = ()

    def backward(self, g):
        return (_diagonal(g, self.offset, self.d1, self.d2),)

    jvp_needs_out_shape = True

    def jvp(self, tangents):
        return _diag_scatter(tangents[0], self._out_shape, self.offset, self.d1, self.d2)


def _diagonal(x, offset, d1, d2, node_cls=DiagonalBackward0):
    if _isarr(x):
        return _diagonal_data(x, offset, d1, d2)
    out = _diagonal_data(x._data, offset, d1, d2)
    if node_cls is DiagonalBackward0_copy:
        out = out.copy()
    res = unary(node_cls, x, out, ())
    node = res.grad_fn
    if node is not None:
        node.offset, node.d1, node.d2, node.in_shape = offset, d1, d2, x._data.shape
    return res


def _diag_scatter(v, shape, offset, d1, d2):
    if _isarr(v):
        return _diag_scatter_data(v, shape, offset, d1, d2)
    res = unary(DiagEmbedBackward0, v, _diag_scatter_data(v._data, shape, offset, d1, d2), ())
    node = res.grad_fn
    if node is not None:
        node.offset, node.d1, node.d2 = offset, d1, d2
    return res


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal ``offset`` of the (dim1, dim2) planes, as a new last dim.

    >>> import chainrule as torch
    >>> torch.arange(6.0).reshape(2, 3).diagonal(1)
    tensor([1., 5.])
    """
    x = input._data
    d1, d2 = canon_dim(dim1, x.ndim), canon_dim(dim2, x.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    offset = int(offset)
    res = _diagonal(input, offset, d1, d2)
    return _as_view(res, input, lambda a: _diagonal_data(a, offset, d1, d2))


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Square matrices (in dims dim1, dim2 of the result) with ``input``'s last dim on the
    diagonal ``offset``."""
    x = input._data
    nd = x.ndim + 1
    d1, d2 = canon_dim(dim1, nd), canon_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    offset = int(offset)
    n = (x.shape[-1] if x.ndim else 1) + abs(offset)
    batch = list(x.shape[:-1])
    shape = []
    for i in range(nd):
        shape.append(n if i in (d1, d2) else batch.pop(0))
    return _diag_scatter(input if x.ndim else reshape(input, 1), tuple(shape), offset, d1, d2)


def diag(input, diagonal=0):
    """1-D input: a matrix with it on diagonal ``diagonal``; 2-D input: that diagonal."""
    x = input._data
    if x.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if x.ndim == 2:
        return _diagonal(input, int(diagonal), 0, 1, DiagonalBackward0_copy)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")


def diagflat(input, offset=0):
    """A matrix with the flattened input on diagonal ``offset``."""
    return diag_embed(reshape(input, -1), offset, 0, 1)


# ======================================================================================
# meshgrid
# ======================================================================================
def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors ('ij': matrix indexing, 'xy': Cartesian)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        import warnings

        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but '
                           f'received: {indexing}')
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {t}")
    sizes = [t._data.size for t in tensors]
    n = len(tensors)
    pos = list(range(n))
    if indexing == "xy" and n >= 2:
        pos[0], pos[1] = 1, 0
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for t, p in zip(tensors, pos):
        view_shape = [1] * n
        view_shape[p] = -1
        out.append(expand(reshape(t, *view_shape), tuple(sizes)))
    return tuple(out)
