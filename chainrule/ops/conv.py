"""Convolution, pooling and other spatial kernels (pad, unfold/fold, resampling) as nodes.

Layout: convolutions (1-D as 2-D with H = 1, 2-D, 3-D) work on a channels-last copy of the
(padded) input, because gathering the windows with ``as_strided`` then copies runs of C
contiguous values instead of single ones (about 10x faster than NCHW im2col). Outputs are
returned as contiguous channels-first arrays.

Every kernel here is linear (pooling, padding, resampling, unfold/fold) or bilinear
(convolution). Linear ops are one ``(f, adjoint)`` pair of NumPy functions (``_linear``): the
backward of ``f`` is the adjoint and the backward of the adjoint is ``f``, so gradients of
any order come from the same two functions. The convolution's three products (output,
input gradient, weight gradient) call each other the same way (``_conv``).

Forward mode: a linear node's ``jvp`` applies ``f`` to the tangent; the convolution's is
bilinear, ``P(ta, b) + P(a, tb)``.
"""
from __future__ import annotations

import functools
import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd.function import NO_EDGE, Node, edge
from ..autograd.grad_mode import grad_state
from ..tensor import Tensor, _make
from ._broadcast import shape_str

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d", "avg_pool1d",
           "avg_pool2d", "avg_pool3d", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
           "conv_transpose2d", "conv_transpose3d", "max_pool1d", "max_pool2d", "max_pool3d",
           "pixel_shuffle", "pixel_unshuffle"]


def _is_array(g) -> bool:
    return type(g) is np.ndarray or isinstance(g, np.generic)


def _tuple(v, n: int, name: str = "") -> tuple:
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return tuple(int(v[0]) for _ in range(n))
        if len(v) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of "
                               f"{n} values to match the convolution dimensions, but got "
                               f"{name}={list(v)}")
        return tuple(int(a) for a in v)
    return (int(v),) * n


# ======================================================================================
# Linear ops: a forward and its adjoint, each the other's derivative
# ======================================================================================
class _LinearNode(Node):
    """out = f(x) for a linear f:  dx = adjoint(g)  (and the adjoint's derivative is f)."""

    __slots__ = ("adj", "f")
    saved_spec = ()

    def backward(self, g):
        if _is_array(g):
            return (self.adj(g),)
        return (_linear(g, self.adj, self.f, _LinearAdjointNode),)

    def jvp(self, tangents):
        """A linear op's tangent is the op applied to the input's tangent."""
        (t,) = tangents
        if _is_array(t):
            return self.f(t)
        return _linear(t, self.f, self.adj, type(self))


class _LinearAdjointNode(_LinearNode):
    __slots__ = ()


def _linear(x: Tensor, f, adj, node_cls=_LinearNode, out=None) -> Tensor:
    """Apply the linear NumPy function ``f`` to ``x``; record ``node_cls`` if needed.

    ``out`` may hold f(x) (or f(x) plus a constant) already computed by the caller.
    """
    data = f(x._data) if out is None else out
    if x._requires_grad and grad_state.enabled and data.dtype.kind in "fc":
        node = node_cls()
        node.next_functions = (edge(x),)
        node.saved = ()
        node.f, node.adj = f, adj
        return _make(data, True, node)
    return _make(data, False, None)


def _linear_node(name: str):
    return type(name, (_LinearNode,), {"__slots__": (), "__module__": __name__})


def _scatter_rows(g2: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    """Adjoint of gathering ``x2[:, idx]`` (x2 of shape (B, n); idx 1-D and shared by all rows,
    or (B, m) with one row of positions per row of x2): sums ``g2`` (B, m) back.

    One ``bincount`` over row-offset indices instead of ``np.add.at`` (much faster).
    """
    b = g2.shape[0]
    lin = ((np.arange(b, dtype=np.int64) * n)[:, None] + idx).ravel()
    if g2.dtype.kind == "c":  # bincount weights are real: the two parts one after the other
        out = np.bincount(lin, weights=g2.real.ravel(), minlength=b * n) + \
            1j * np.bincount(lin, weights=g2.imag.ravel(), minlength=b * n)
    else:
        out = np.bincount(lin, weights=g2.ravel(), minlength=b * n)
    return out.reshape(b, n).astype(g2.dtype, copy=False)


def _take_adjoint(g: np.ndarray, axis: int, idx: np.ndarray, n: int) -> np.ndarray:
    """Adjoint of ``np.take(x, idx, axis)`` where x has length n on ``axis`` (idx 1-D)."""
    gm = np.moveaxis(g, axis, -1)
    lead = gm.shape[:-1]
    out = _scatter_rows(gm.reshape(-1, gm.shape[-1]), idx, n)
    return np.moveaxis(out.reshape(lead + (n,)), -1, axis)


# ======================================================================================
# Convolution kernels (NumPy, channels-last inside)
# ======================================================================================
def _out_len(n: int, k: int, s: int, p0: int, p1: int, d: int) -> int:
    return (n + p0 + p1 - d * (k - 1) - 1) // s + 1


class _Workspace:
    """Recycled scratch buffers for the large temporaries of a convolution (padded copies,
    im2col matrices). A fresh multi-megabyte array costs a page fault per 4 KiB when it is
    first written; reusing a warm buffer halves the time of a small CNN's step."""

    def __init__(self, max_bytes: int = 64 << 20):
        self.free: dict = {}
        self.bytes = 0
        self.max_bytes = max_bytes

    def get(self, shape, dtype) -> np.ndarray:
        stack = self.free.get((shape, dtype))
        if stack:
            a = stack.pop()
            self.bytes -= a.nbytes
            return a
        return np.empty(shape, dtype)

    def put(self, a) -> None:
        """Give back a buffer nothing else references any more."""
        if a is None or self.bytes + a.nbytes > self.max_bytes or a.nbytes > self.max_bytes // 4:
            return
        stack = self.free.setdefault((a.shape, a.dtype), [])
        if len(stack) < 2:
            stack.append(a)
            self.bytes += a.nbytes


_ws = _Workspace()


def _cl(a: np.ndarray) -> np.ndarray:
    """(N, C, *sp) -> channels-last view (N, *sp, C)."""
    return a.transpose((0,) + tuple(range(2, a.ndim)) + (1,))


def _cf_perm(nd: int) -> tuple:
    """The transpose that turns (N, *sp, C) back into (N, C, *sp)."""
    return (0, nd + 1) + tuple(range(1, nd + 1))


def _to_cl_padded(x: np.ndarray, pads) -> np.ndarray:
    """(N, C, *sp) -> zero-padded channels-last (N, *padded sp, C) scratch buffer (give it
    back to ``_ws`` when done); a negative pad crops."""
    return _pad_cl(_cl(x), pads)


def _pad_cl(xt: np.ndarray, pads) -> np.ndarray:
    """Zero-pad (or crop) a channels-last (N, *sp, C) array into a scratch buffer: only the
    border is zeroed (no ``np.pad`` temporary), then the interior is copied once."""
    sp = xt.shape[1:-1]
    xt = xt[(slice(None),) + tuple(slice(max(-b, 0), s - max(-e, 0))
                                   for (b, e), s in zip(pads, sp))]
    pos = tuple((max(b, 0), max(e, 0)) for b, e in pads)
    sp = xt.shape[1:-1]
    out = _ws.get((xt.shape[0],) + tuple(s + b + e for s, (b, e) in zip(sp, pos))
                  + (xt.shape[-1],), xt.dtype)
    full = (slice(None),) * (len(sp) + 2)
    for i, ((b, e), s) in enumerate(zip(pos, sp)):
        if b:
            out[full[:i + 1] + (slice(0, b),)] = 0
        if e:
            out[full[:i + 1] + (slice(b + s, None),)] = 0
    out[(slice(None),) + tuple(slice(b, b + s) for (b, _), s in zip(pos, sp))] = xt
    return out


def _im2col(xp: np.ndarray, k, s, d, out_sp, groups: int) -> np.ndarray:
    """Windows of channels-last ``xp`` as a (G, N*prod(out), prod(k)*Cg) scratch matrix
    (one copy, runs of Cg contiguous values)."""
    n, c = xp.shape[0], xp.shape[-1]
    sn, ssp, sc = xp.strides[0], xp.strides[1:-1], xp.strides[-1]
    cg = c // groups
    win = as_strided(xp, (groups, n) + tuple(out_sp) + tuple(k) + (cg,),
                     (cg * sc, sn) + tuple(a * b for a, b in zip(ssp, s))
                     + tuple(a * b for a, b in zip(ssp, d)) + (sc,), writeable=False)
    cols = _ws.get((groups, n * math.prod(out_sp), math.prod(k) * cg), xp.dtype)
    np.copyto(cols.reshape(win.shape), win)
    return cols


def _padded_cols(x, k, p, out_sp):
    xp = _to_cl_padded(x, p.pads)
    cols = _im2col(xp, k, p.stride, p.dil, out_sp, p.groups)
    _ws.put(xp)
    return cols


class _ConvParams:
    """Geometry of one convolution (2-D or 3-D; 1-D convolutions use H = 1)."""

    __slots__ = ("dil", "groups", "nd", "pads", "stride", "w_shape", "x_shape", "y_shape")

    def spatial(self, a: np.ndarray) -> np.ndarray:
        return a.reshape(a.shape[:2] + (1,) + a.shape[2:]) if self.nd == 1 else a

    def unspatial(self, a: np.ndarray) -> np.ndarray:
        return a.reshape(a.shape[:2] + a.shape[3:]) if self.nd == 1 else a


def _w_matrix(w: np.ndarray, groups: int) -> np.ndarray:
    """(O, Cg, *k) -> (G, Og, prod(k)*Cg), matching _im2col's column order."""
    o, cg, *k = w.shape
    nd = len(k)
    return w.reshape((groups, o // groups, cg) + tuple(k)).transpose(
        (0, 1) + tuple(range(3, nd + 3)) + (2,)).reshape(groups, o // groups, math.prod(k) * cg)


def _g_matrix(g: np.ndarray, groups: int, g_cl=None) -> np.ndarray:
    """(N, O, *sp) -> (G, N*prod(sp), Og); ``g_cl``: the same values already channels-last."""
    o = g.shape[1]
    if g_cl is None:
        g_cl = _cl(g)
    gm = g_cl.reshape(-1, groups, o // groups)
    return gm.transpose(1, 0, 2)


def _from_rows(y: np.ndarray, n: int, sp, bias=None) -> np.ndarray:
    """(G, N*prod(sp), Og) -> contiguous (N, G*Og, *sp), plus ``bias`` (per channel) if given.

    One transposing copy here keeps every later elementwise op on contiguous NCHW data
    (a channels-last view would make each mixed-layout op in backward several times
    slower); the bias is added by that same pass instead of a second one."""
    groups, _, og = y.shape
    y = y[0] if groups == 1 else y.transpose(1, 0, 2)
    yt = y.reshape((n,) + tuple(sp) + (groups * og,)).transpose(_cf_perm(len(sp)))
    if bias is None:
        return np.ascontiguousarray(yt)
    out = np.empty(yt.shape, y.dtype)
    np.add(yt, bias.reshape((1, -1) + (1,) * len(sp)), out=out)
    return out


def _conv_out_sp(x_sp, k, p: _ConvParams) -> tuple:
    out = tuple(_out_len(x_sp[i], k[i], p.stride[i], *p.pads[i], p.dil[i])
                for i in range(len(k)))
    if p.y_shape is not None:  # the input gradient of conv_transpose with output_padding:
        out = tuple(min(a, b) for a, b in zip(out, p.y_shape))  # the extra rows are dropped
    return out


def _conv_forward(x, w, p: _ConvParams, cols=None, bias=None):
    """y = conv(x, w) (+ bias) for (N, C, *sp) arrays; returns y and the im2col matrix (for
    the weight grad)."""
    k = w.shape[2:]
    out_sp = _conv_out_sp(x.shape[2:], k, p)
    if cols is None:
        cols = _padded_cols(x, k, p, out_sp)
    wm = _w_matrix(w, p.groups)
    y = cols[0] @ wm[0].T if p.groups == 1 else np.matmul(cols, wm.transpose(0, 2, 1))
    return _from_rows(y.reshape((p.groups,) + y.shape[-2:]), x.shape[0], out_sp, bias), cols


def _conv_input_grad(g, w, p: _ConvParams, x_sp, g_cl=None):
    """dx = conv_transpose(g, w): the adjoint of _conv_forward in x."""
    n, o = g.shape[:2]
    out_sp = g.shape[2:]
    _, cg, *k = w.shape
    nd = len(k)
    groups = p.groups
    og = o // groups
    if all(s == 1 for s in p.stride):
        # Stride 1: dx is a correlation of the zero-padded g with the flipped kernel. One
        # more im2col + matmul, instead of prod(k) strided scatter-adds (3-5x faster).
        pads = []
        for ki, di, (lo, _), xi, oi in zip(k, p.dil, p.pads, x_sp, out_sp):
            a = (ki - 1) * di - lo
            pads.append((a, xi + (ki - 1) * di - a - oi))
        gp = _pad_cl(_cl(g) if g_cl is None else g_cl, pads)
        gcols = _im2col(gp, k, (1,) * nd, p.dil, x_sp, groups)
        _ws.put(gp)
        flip = (slice(None),) * 3 + (slice(None, None, -1),) * nd
        wf = w.reshape((groups, og, cg) + tuple(k))[flip]
        wt = wf.transpose((0,) + tuple(range(3, nd + 3)) + (1, 2)).reshape(
            groups, math.prod(k) * og, cg)
        dx = gcols[0] @ wt[0] if groups == 1 else np.matmul(gcols, wt)
        _ws.put(gcols)
        return _from_rows(dx.reshape((groups,) + dx.shape[-2:]), n, x_sp)
    gm = _g_matrix(g, groups, g_cl)
    wm = _w_matrix(w, groups)
    dcols = gm[0] @ wm[0] if groups == 1 else np.matmul(gm, wm)
    dcols = dcols.reshape((groups, n) + tuple(out_sp) + tuple(k) + (cg,))
    padded = tuple(xi + lo + hi for xi, (lo, hi) in zip(x_sp, p.pads))
    dxp = np.zeros((n,) + padded + (groups, cg), dcols.dtype)
    to_cl = (1,) + tuple(range(2, nd + 2)) + (0, nd + 2)  # (G, N, *out, Cg) -> (N, *out, G, Cg)
    for off in itertools.product(*(range(ki) for ki in k)):
        sl = tuple(slice(i * d, i * d + s * (oi - 1) + 1, s)
                   for i, d, s, oi in zip(off, p.dil, p.stride, out_sp))
        dxp[(slice(None),) + sl] += dcols[(slice(None),) * (nd + 2) + off].transpose(to_cl)
    dxp = dxp.reshape((n,) + padded + (groups * cg,))
    crop = tuple(slice(lo, lo + xi) for (lo, _), xi in zip(p.pads, x_sp))
    return dxp[(slice(None),) + crop].transpose(_cf_perm(nd))


def _conv_weight_grad(g, x, p: _ConvParams, w_shape, cols=None, g_cl=None):
    """dw for y = conv(x, w): g's rows times the im2col matrix of x."""
    o = g.shape[1]
    _, cg, *k = w_shape
    nd = len(k)
    if cols is None:
        cols = _padded_cols(x, k, p, g.shape[2:])
    gm = _g_matrix(g, p.groups, g_cl)
    dw = gm[0].T @ cols[0] if p.groups == 1 else np.matmul(gm.transpose(0, 2, 1), cols)
    _ws.put(cols)
    return dw.reshape((o,) + tuple(k) + (cg,)).transpose(_cf_perm(nd))


def _bias_grad(g):
    """Sum of g over all dims but 1. On arrays a matrix-vector product with ones (BLAS):
    about 5x faster than ``g.sum(axis=(0, 2, 3))``, which walks NCHW data with a stride."""
    if not _is_array(g) or g.dtype.kind not in "fc":
        return g.sum(axis=(0,) + tuple(range(2, g.ndim)))
    g3 = g.reshape(g.shape[0], g.shape[1], -1)
    return (g3 @ np.ones(g3.shape[2], g.dtype)).sum(axis=0)


# The three products of a convolution, each differentiable through the other two:
#   fwd(x, w) = y      d/dx: bx(g, w)    d/dw: bw(g, x)
#   bx(a, w)  = dx     d/da: fwd(h, w)   d/dw: bw(a, h)
#   bw(a, x)  = dw     d/da: fwd(x, h)   d/dx: bx(a, h)
class ConvolutionBackward0(Node):
    """The node of conv*d and conv_transpose*d (and of their gradients, under create_graph)."""

    __slots__ = ("cols", "has_bias", "mode", "p")
    saved_spec = (0, 1)

    def backward(self, g, a, b):
        fa, fb = self.next_functions[:2]
        mode, p = self.mode, self.p
        need_a, need_b = fa[0] is not None, fb[0] is not None
        gb = None
        if self.has_bias and self.next_functions[2][0] is not None:
            gb = _bias_grad(g)
        if _is_array(g):
            g2, a2, b2 = p.spatial(g), p.spatial(a), p.spatial(b)
            da = db = None
            if mode == "fwd":  # a = x, b = w
                # both products read g as channels-last rows: transpose it once
                gt = np.ascontiguousarray(_cl(g2)) if need_a and need_b else None
                if need_a:
                    da = p.unspatial(_conv_input_grad(g2, b2, p, a2.shape[2:], gt))
                if need_b:
                    db = _conv_weight_grad(g2, a2, p, b2.shape, self.cols, gt)
                    db = db.reshape(b.shape)
            elif mode == "bx":  # a = g_y, b = w
                if need_a:
                    da = p.unspatial(_conv_forward(g2, b2, p)[0])
                if need_b:
                    db = _conv_weight_grad(a2, g2, p, b2.shape).reshape(b.shape)
            else:  # "bw": a = g_y, b = x
                if need_a:
                    da = p.unspatial(_conv_forward(b2, g2, p)[0])
                if need_b:
                    db = p.unspatial(_conv_input_grad(a2, g2, p, b2.shape[2:]))
            self.cols = None
            return (da, db, gb) if self.has_bias else (da, db)
        da = db = None
        if mode == "fwd":
            if need_a:
                da = _conv("bx", g, b, p)
            if need_b:
                db = _conv("bw", g, a, p)
        elif mode == "bx":
            if need_a:
                da = _conv("fwd", g, b, p)
            if need_b:
                db = _conv("bw", a, g, p)
        else:
            if need_a:
                da = _conv("fwd", b, g, p)
            if need_b:
                db = _conv("bx", a, g, p)
        return (da, db, gb) if self.has_bias else (da, db)

    def jvp(self, tangents, a, b):
        """Bilinear: d P(a, b) = P(da, b) + P(a, db), plus the bias tangent."""
        ta, tb = tangents[:2]
        tc = tangents[2] if self.has_bias else None
        mode, p = self.mode, self.p
        if _is_array(a):
            def prod(u, v):
                out, cols = _product(mode, u, v, p)
                _ws.put(cols)
                return out
        else:
            def prod(u, v):
                return _conv(mode, u, v, p)
        out = None
        for u, v in ((ta, b), (a, tb)):
            if u is not None and v is not None:
                y = prod(u, v)
                out = y if out is None else out + y
        if tc is not None:
            if out is None:  # only the bias moves: a zero product gives the output's shape
                out = prod(a * 0, b)
            out = out + tc.reshape((1, -1) + (1,) * p.nd)
        return out


def _product(mode: str, a, b, p: _ConvParams, bias=None):
    """One of the three products on arrays: (out, im2col matrix of x or None). The caller
    gives the matrix back to ``_ws`` (or keeps it for the weight gradient)."""
    a2, b2 = p.spatial(a), p.spatial(b)
    if mode == "fwd":
        out, cols = _conv_forward(a2, b2, p, bias=bias)
        return p.unspatial(out), cols
    if mode == "bx":
        sp = p.x_shape[2:]
        return p.unspatial(_conv_input_grad(a2, b2, p, (1,) + sp if p.nd == 1 else sp)), None
    ws = p.w_shape
    out = _conv_weight_grad(a2, b2, p, ws[:2] + (1,) + ws[2:] if p.nd == 1 else ws)
    return out.reshape(ws), None


def _conv(mode: str, a: Tensor, b: Tensor, p: _ConvParams, bias=None) -> Tensor:
    """Run one of the three products on Tensors, recording a ConvolutionBackward0 node."""
    ad, bd = a._data, b._data
    add_bias = bias
    fuse = mode == "fwd" and bias is not None and bias._data.dtype == ad.dtype
    out, cols = _product(mode, ad, bd, p, bias._data if fuse else None)
    if fuse:
        add_bias = None  # added by the layout copy already
    if add_bias is not None:
        bshape = (1, -1) + (1,) * (out.ndim - 2)
        if mode != "bw" and out.dtype == bias._data.dtype:
            np.add(out, bias._data.reshape(bshape), out=out)  # in place: a fresh buffer
        else:
            out = out + bias._data.reshape(bshape)
    ta, tb = a._requires_grad, b._requires_grad
    tc = bias is not None and bias._requires_grad
    if (ta or tb or tc) and grad_state.enabled:
        node = ConvolutionBackward0()
        edges = (edge(a) if ta else NO_EDGE, edge(b) if tb else NO_EDGE)
        node.has_bias = bias is not None
        if node.has_bias:
            edges += (edge(bias) if tc else NO_EDGE,)
        node.next_functions = edges
        node.saved = (ad, bd)
        node.mode, node.p = mode, p
        node.cols = cols if (mode == "fwd" and tb) else None
        if node.cols is None:
            _ws.put(cols)
        return _make(out, True, node)
    _ws.put(cols)
    return _make(out, False, None)


# ======================================================================================
# Public convolutions
# ======================================================================================
def _check_conv(x: Tensor, w: Tensor, bias, nd: int, groups: int, transposed: bool):
    xd, wd = x._data, w._data
    fname = f"conv{'_transpose' if transposed else ''}{nd}d"
    if wd.ndim != nd + 2:
        raise RuntimeError("weight should have at least three dimensions" if nd == 1 and
                           wd.ndim < 3 else
                           f"Expected {nd + 2}-dimensional weight for {nd + 2}-dimensional "
                           f"input {shape_str(xd.shape)}, but got {wd.ndim}-dimensional "
                           f"weight of size {shape_str(wd.shape)} instead")
    if xd.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{fname}, but got input of size: {shape_str(xd.shape)}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    c = xd.shape[-nd - 1]
    if not transposed:
        if wd.shape[0] % groups:
            raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                               f"{groups} at dimension 0, but got weight of size "
                               f"{shape_str(wd.shape)} instead")
        if c != wd.shape[1] * groups:
            full = xd.shape if xd.ndim == nd + 2 else (1,) + xd.shape
            raise RuntimeError(f"Given groups={groups}, weight of size {shape_str(wd.shape)}, "
                               f"expected input{shape_str(full)} to have "
                               f"{wd.shape[1] * groups} channels, but got {c} channels instead")
    elif c != wd.shape[0]:
        full = xd.shape if xd.ndim == nd + 2 else (1,) + xd.shape
        raise RuntimeError(f"Given transposed=1, weight of size {shape_str(wd.shape)}, "
                           f"expected input{shape_str(full)} to have {wd.shape[0]} channels, "
                           f"but got {c} channels instead")
    if xd.dtype != wd.dtype:
        raise RuntimeError(f"Input type ({xd.dtype}) and weight type ({wd.dtype}) should be "
                           "the same")
    if bias is not None:
        nout = wd.shape[0] if not transposed else wd.shape[1] * groups
        if bias._data.shape != (nout,):
            raise RuntimeError(f"Given weight of size {shape_str(wd.shape)}, expected bias to "
                               f"be 1-dimensional with {nout} elements, but got bias of size "
                               f"{shape_str(bias._data.shape)} instead")


def _batched(x: Tensor, nd: int):
    """Unbatched inputs get a batch dim of 1 (undone on the output)."""
    if x._data.ndim == nd + 1:
        from .shape import unsqueeze

        return unsqueeze(x, 0), True
    return x, False


def _unbatch(y: Tensor, squeeze: bool) -> Tensor:
    if squeeze:
        from .shape import squeeze as _squeeze

        return _squeeze(y, 0)
    return y


def _convnd(nd, input, weight, bias, stride, padding, dilation, groups):
    _check_conv(input, weight, bias, nd, groups, False)
    x, unb = _batched(input, nd)
    stride = _tuple(stride, nd, "stride")
    dil = _tuple(dilation, nd, "dilation")
    ks = weight._data.shape[2:]
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if isinstance(padding, str):
        if padding == "valid":
            pads = tuple((0, 0) for _ in range(nd))
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            tot = [d * (k - 1) for d, k in zip(dil, ks)]
            pads = tuple((t // 2, t - t // 2) for t in tot)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        pads = tuple((p, p) for p in _tuple(padding, nd, "padding"))
    xs = x._data.shape
    for i in range(nd):
        eff = dil[i] * (ks[i] - 1) + 1
        if xs[2 + i] + sum(pads[i]) < eff:
            padded = tuple(xs[2 + j] + sum(pads[j]) for j in range(nd))
            raise RuntimeError(
                f"Calculated padded input size per channel: ({' x '.join(map(str, padded))})"
                f". Kernel size: ({' x '.join(map(str, ks))}). Kernel size can't be greater "
                "than actual input size")
    p = _ConvParams()
    p.nd, p.groups = nd, groups
    if nd == 1:
        p.stride, p.dil, p.pads = (1,) + stride, (1,) + dil, ((0, 0),) + pads
    else:
        p.stride, p.dil, p.pads = stride, dil, pads
    p.x_shape, p.w_shape, p.y_shape = xs, weight._data.shape, None
    return _unbatch(_conv("fwd", x, weight, p, bias), unb)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation over (N, C, L) inputs, like ``torch.nn.functional.conv1d``."""
    return _convnd(1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation over (N, C, H, W) inputs.

    >>> import chainrule as torch
    >>> x = torch.ones(1, 1, 3, 3)
    >>> torch.nn.functional.conv2d(x, torch.ones(1, 1, 2, 2)).shape
    torch.Size([1, 1, 2, 2])
    """
    return _convnd(2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation over (N, C, D, H, W) inputs.

    >>> import chainrule as torch
    >>> x = torch.ones(1, 1, 3, 3, 3)
    >>> torch.nn.functional.conv3d(x, torch.ones(1, 1, 2, 2, 2)).shape
    torch.Size([1, 1, 2, 2, 2])
    """
    return _convnd(3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(nd, input, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    _check_conv(input, weight, bias, nd, groups, True)
    x, unb = _batched(input, nd)
    stride = _tuple(stride, nd, "stride")
    dil = _tuple(dilation, nd, "dilation")
    pad = _tuple(padding, nd, "padding")
    opad = _tuple(output_padding, nd, "output_padding")
    for op_, s, d in zip(opad, stride, dil):
        if op_ >= s and op_ >= d:
            raise RuntimeError("output padding must be smaller than either stride or dilation,"
                               f" but got output_padding: {op_}, stride: {s}, dilation: {d}")
    ks = weight._data.shape[2:]
    xs = x._data.shape
    out_sp = tuple((xs[2 + i] - 1) * stride[i] - 2 * pad[i] + dil[i] * (ks[i] - 1) + opad[i] + 1
                   for i in range(nd))
    if any(o <= 0 for o in out_sp):
        raise RuntimeError(f"Given input size per channel: {list(xs[2:])}. Calculated output "
                           f"size per channel: {list(out_sp)}. Output size is too small")
    p = _ConvParams()
    p.nd, p.groups = nd, groups
    pads = tuple((q, q) for q in pad)
    if nd == 1:
        p.stride, p.dil, p.pads = (1,) + stride, (1,) + dil, ((0, 0),) + pads
    else:
        p.stride, p.dil, p.pads = stride, dil, pads
    p.x_shape = (xs[0], weight._data.shape[1] * groups) + out_sp
    p.w_shape = weight._data.shape
    p.y_shape = ((1,) if nd == 1 else ()) + xs[2:]
    return _unbatch(_conv("bx", x, weight, p, bias), unb)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 1-D convolution (the gradient of conv1d w.r.t. its input)."""
    return _conv_transposend(1, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 2-D convolution (the gradient of conv2d w.r.t. its input)."""
    return _conv_transposend(2, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 3-D convolution (the gradient of conv3d w.r.t. its input)."""
    return _conv_transposend(3, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


# ======================================================================================
# Pooling
# ======================================================================================
MaxPool2DWithIndicesBackward0 = _linear_node("MaxPool2DWithIndicesBackward0")
MaxPool3DWithIndicesBackward0 = _linear_node("MaxPool3DWithIndicesBackward0")
AvgPool2DBackward0 = _linear_node("AvgPool2DBackward0")
AvgPool3DBackward0 = _linear_node("AvgPool3DBackward0")
AdaptiveAvgPool2DBackward0 = _linear_node("AdaptiveAvgPool2DBackward0")
AdaptiveAvgPool3DBackward0 = _linear_node("AdaptiveAvgPool3DBackward0")
AdaptiveMaxPool2DBackward0 = _linear_node("AdaptiveMaxPool2DBackward0")
AdaptiveMaxPool3DBackward0 = _linear_node("AdaptiveMaxPool3DBackward0")


def _pool_out(n, k, s, p, d, ceil):
    num = n + 2 * p - d * (k - 1) - 1
    o = (-(-num // s) if ceil else num // s) + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def _pool_args(nd, x: Tensor, kernel_size, stride, padding, dilation, name):
    """Per-axis (k, s, p, d) tuples; 1-D pools get a leading H axis of size 1."""
    xd = x._data
    if xd.ndim not in (nd + 1, nd + 2):
        if nd == 3:
            raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D input tensor, but got "
                           f"{shape_str(xd.shape)}" if nd == 2 else
                           f"{name}() Expected 2D or 3D input tensor, but got "
                           f"{shape_str(xd.shape)}")
    k = _tuple(kernel_size, nd, "kernel_size")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) \
        else _tuple(stride, nd, "stride")
    p = _tuple(padding, nd, "padding")
    d = _tuple(dilation, nd, "dilation")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"{name}(): stride should be greater than zero, but got stride: "
                           f"{list(s)}" if nd == 1 else "stride should be greater than zero")
    for pi, ki, di in zip(p, k, d):
        if pi > (di * (ki - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pi}, kernel_size={ki} and dilation={di}")
    if nd == 1:
        return (1,) + k, (1,) + s, (0,) + p, (1,) + d
    return k, s, p, d


def _asnd(a: np.ndarray, nd: int):
    """(N, C, *spatial) or (C, *spatial) -> (N, C, *spatial), with H = 1 added for 1-D."""
    lead = a.shape[:a.ndim - nd]
    if len(lead) == 1:
        lead = (1,) + lead
    sp = a.shape[a.ndim - nd:]
    return a.reshape(lead + ((1,) + sp if nd == 1 else sp))


def _win_slices(s, d, out, off):
    """(N, C, *sp) slices picking kernel offset ``off`` of every window."""
    return (slice(None), slice(None)) + tuple(
        slice(i * di, i * di + si * (oi - 1) + 1, si) for i, si, di, oi in zip(off, s, d, out))


def _slices(k, s, d, out_hw, i, j):
    return _win_slices(s, d, out_hw, (i, j))


def _pool_geometry(x, k, s, p, d, ceil_mode, extent):
    """Output sizes and padded sizes of a pooling window grid; errors like PyTorch."""
    c, sp = x.shape[1], x.shape[2:]
    out = tuple(_pool_out(sp[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(len(sp)))
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (c,) + sp))}). Calculated "
                           f"output size: ({'x'.join(map(str, (c,) + out))}). Output size is "
                           "too small")
    padded = tuple(max((out[i] - 1) * s[i] + extent(i), sp[i] + p[i]) for i in range(len(sp)))
    return out, padded


def _embed_padded(a, p, padded, fill):
    """``a`` (N, C, *sp) inside a ``fill``-valued (N, C, *padded) array at offset ``p``."""
    sp = a.shape[2:]
    if not any(p) and tuple(padded) == sp:
        return a
    out = np.full(a.shape[:2] + tuple(padded), fill, a.dtype)
    out[(slice(None),) * 2 + tuple(slice(pi, pi + n) for pi, n in zip(p, sp))] = a
    return out


def _max_pool(nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
              name):
    k, s, p, d = _pool_args(nd, input, kernel_size, stride, padding, dilation, name)
    xd = input._data
    if xd.dtype == np.bool_:
        kernel = "max_pool1d_impl" if name == "max_pool1d" else name
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
    x = _asnd(xd, nd)
    n, c, *sp = x.shape
    out, padded = _pool_geometry(x, k, s, p, d, ceil_mode, lambda i: d[i] * (k[i] - 1) + 1)
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    xp = _embed_padded(x, p, padded, fill)
    best = arg = None
    for t, off in enumerate(itertools.product(*(range(ki) for ki in k))):
        v = xp[_win_slices(s, d, out, off)]  # t: which window position holds the max so far
        if best is None:
            best = v.copy()
            arg = np.zeros(best.shape, np.int64)
            continue
        m = v > best
        if x.dtype.kind == "f":
            m |= np.isnan(v)
        np.copyto(best, v, where=m)
        np.copyto(arg, t, where=m)
    m_ = len(sp)
    offs = np.unravel_index(arg, k)
    pos = [(np.arange(out[i]) * s[i] - p[i]).reshape((-1,) + (1,) * (m_ - 1 - i))
           + offs[i] * d[i] for i in range(m_)]
    plane = math.prod(sp)
    idx = sum(pos[i] * math.prod(sp[i + 1:]) for i in range(m_))  # flat index in the plane
    out_shape = xd.shape[:xd.ndim - nd] + out[m_ - nd:]
    idx2 = idx.reshape(n * c, -1)
    keep = None
    if any(p) or tuple(padded) != tuple(sp):
        # a window lying entirely in the padding "wins" at a padded spot: no gradient there
        inb = np.logical_and.reduce([(q >= 0) & (q < sp[i]) for i, q in enumerate(pos)])
        if not inb.all():
            keep = inb.reshape(n * c, -1)
            idx2 = np.where(keep, idx2, 0)

    def gather(a):
        r = np.take_along_axis(_asnd(a, nd).reshape(n * c, plane), idx2, 1)
        return (r if keep is None else r * keep).reshape(out_shape)

    def scatter(g):
        g2 = g.reshape(n * c, -1)
        if keep is not None:
            g2 = g2 * keep
        return _scatter_rows(g2, idx2, plane).reshape(xd.shape)

    node = MaxPool3DWithIndicesBackward0 if nd == 3 else MaxPool2DWithIndicesBackward0
    res = _linear(input, gather, scatter, node, out=best.reshape(out_shape))
    if return_indices:
        return res, _make(idx.reshape(out_shape), False, None)
    return res


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, L) inputs."""
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, H, W) inputs; ``return_indices`` gives the flat
    position of each maximum in its H*W plane.

    >>> import chainrule as torch
    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> torch.nn.functional.max_pool2d(x, 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, "max_pool2d")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, D, H, W) inputs; ``return_indices`` gives the flat
    position of each maximum in its D*H*W volume.

    >>> import chainrule as torch
    >>> torch.nn.functional.max_pool3d(torch.arange(8.0).reshape(1, 1, 2, 2, 2), 2).flatten()
    tensor([7.])
    """
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, "max_pool3d")


def _avg_divisor(n, k, s, p, o, include_pad):
    start = np.arange(o) * s - p
    end = np.minimum(start + k, n + p)
    size = end - start
    if not include_pad:
        size = np.minimum(end, n) - np.maximum(start, 0)
    return size


def _avg_pool(nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, name):
    k, s, p, _ = _pool_args(nd, input, kernel_size, stride, padding, 1, name)
    xd = input._data
    x = _asnd(xd, nd)
    sp = x.shape[2:]
    out, padded = _pool_geometry(x, k, s, p, (1,) * len(k), ceil_mode, lambda i: k[i])
    if divisor_override:
        div = np.full(out, float(divisor_override))
    else:
        div = functools.reduce(np.multiply.outer, [
            _avg_divisor(sp[i], k[i], s[i], p[i], out[i], count_include_pad)
            for i in range(len(sp))])
    div = div.astype(xd.dtype) if xd.dtype.kind == "f" else div
    out_shape = xd.shape[:xd.ndim - nd] + out[len(out) - nd:]
    ones = (1,) * len(k)
    offsets = list(itertools.product(*(range(ki) for ki in k)))
    interior = (slice(None),) * 2 + tuple(slice(pi, pi + n) for pi, n in zip(p, sp))

    def fwd(a):
        ap = _embed_padded(_asnd(a, nd), p, padded, 0)
        acc = None
        for off in offsets:
            v = ap[_win_slices(s, ones, out, off)]
            acc = v.copy() if acc is None else np.add(acc, v, out=acc)
        res = acc / div
        if xd.dtype.kind in "iu":  # integer inputs: torch's integer mean, truncated
            res = np.trunc(res).astype(xd.dtype)
        return res.reshape(out_shape)

    def adj(g):
        gn = _asnd(g, nd) / div
        gp = np.zeros(gn.shape[:2] + tuple(padded), gn.dtype)
        for off in offsets:
            gp[_win_slices(s, ones, out, off)] += gn
        return gp[interior].reshape(xd.shape)

    node = AvgPool3DBackward0 if nd == 3 else AvgPool2DBackward0
    return _linear(input, fwd, adj, node)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over sliding windows of (N, C, L) inputs."""
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     None, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over sliding windows of (N, C, H, W) inputs."""
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, "avg_pool2d")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over sliding windows of (N, C, D, H, W) inputs.

    >>> import chainrule as torch
    >>> torch.nn.functional.avg_pool3d(torch.arange(8.0).reshape(1, 1, 2, 2, 2), 2).flatten()
    tensor([3.5000])
    """
    return _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, "avg_pool3d")


def _adaptive_bounds(n, o):
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)


def _adaptive_matrix(n, o, dtype):
    start, end = _adaptive_bounds(n, o)
    m = np.zeros((o, n), dtype)
    for r in range(o):
        m[r, start[r]:end[r]] = 1.0 / (end[r] - start[r])
    return m


def _adaptive_sizes(nd, xd, output_size, name):
    if xd.ndim not in (nd + 1, nd + 2):
        colon = ":" if name == "adaptive_max_pool3d" else ""
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got{colon} "
                           f"{shape_str(xd.shape)}")
    if nd == 1:
        os_ = output_size[0] if isinstance(output_size, (list, tuple)) else output_size
        return (1, int(os_))
    if isinstance(output_size, int):
        output_size = (output_size,) * nd
    return tuple(xd.shape[xd.ndim - nd + i] if o is None else int(o)
                 for i, o in enumerate(output_size))


def _along(a, m, axis):
    """Apply the matrix ``m`` (o, n) along ``axis`` of ``a`` (length n there)."""
    return np.moveaxis(np.tensordot(a, m, axes=([axis], [1])), -1, axis)


def _adaptive_avg(nd, input, output_size, name):
    xd = input._data
    osz = _adaptive_sizes(nd, xd, output_size, name)
    sp = _asnd(xd, nd).shape[2:]
    dt = xd.dtype if xd.dtype.kind == "f" else np.float64
    mats = [_adaptive_matrix(n, o, dt) for n, o in zip(sp, osz)]
    out_shape = xd.shape[:xd.ndim - nd] + osz[len(osz) - nd:]
    *lead, mh, mw = mats  # the last two axes by matmul, a depth axis (3-D) by tensordot

    def fwd(a):
        a = _asnd(a, nd)
        for ax, m in enumerate(lead):
            a = _along(a, m, 2 + ax)
        return (mh @ a @ mw.T).reshape(out_shape)

    def adj(g):
        g = _asnd(g, nd)
        for ax, m in enumerate(lead):
            g = _along(g, m.T, 2 + ax)
        return (mh.T @ g @ mw).reshape(xd.shape)

    node = AdaptiveAvgPool3DBackward0 if nd == 3 else AdaptiveAvgPool2DBackward0
    return _linear(input, fwd, adj, node)


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg(1, input, output_size, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (windows [floor(i n/o), ceil((i+1) n/o)))."""
    return _adaptive_avg(2, input, output_size, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input, output_size):
    """Average pooling of (N, C, D, H, W) inputs to a fixed output size.

    >>> import chainrule as torch
    >>> torch.nn.functional.adaptive_avg_pool3d(torch.ones(1, 1, 4, 4, 4), 2).shape
    torch.Size([1, 1, 2, 2, 2])
    """
    return _adaptive_avg(3, input, output_size, "adaptive_avg_pool3d")


def _adaptive_max(nd, input, output_size, return_indices, name):
    xd = input._data
    osz = _adaptive_sizes(nd, xd, output_size, name)
    x = _asnd(xd, nd)
    n, c, *sp = x.shape
    m_ = len(sp)
    bounds = [_adaptive_bounds(sp[i], osz[i]) for i in range(m_)]
    widths = [int((e - b).max()) for b, e in bounds]
    best = arg = None
    for off in itertools.product(*(range(w) for w in widths)):
        ix = np.ix_(*(np.minimum(b + j, e - 1) for (b, e), j in zip(bounds, off)))
        v = x[(slice(None), slice(None)) + ix]
        pos = sum(ix[i] * math.prod(sp[i + 1:]) for i in range(m_))
        if best is None:
            best, arg = v.copy(), np.broadcast_to(pos, v.shape).copy()
            continue
        m = v > best
        if x.dtype.kind == "f":
            m |= np.isnan(v)
        np.copyto(best, v, where=m)
        np.copyto(arg, np.broadcast_to(pos, v.shape), where=m)
    out_shape = xd.shape[:xd.ndim - nd] + osz[m_ - nd:]
    idx2 = arg.reshape(n * c, -1)
    plane = math.prod(sp)

    def gather(a):
        return np.take_along_axis(_asnd(a, nd).reshape(n * c, plane), idx2, 1).reshape(
            out_shape)

    def scatter(g):
        return _scatter_rows(g.reshape(n * c, -1), idx2, plane).reshape(xd.shape)

    node = AdaptiveMaxPool3DBackward0 if nd == 3 else AdaptiveMaxPool2DBackward0
    out = _linear(input, gather, scatter, node, out=best.reshape(out_shape))
    if return_indices:
        return out, _make(arg.reshape(out_shape), False, None)
    return out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max(1, input, output_size, return_indices, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size."""
    return _adaptive_max(2, input, output_size, return_indices, "adaptive_max_pool2d")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling of (N, C, D, H, W) inputs to a fixed output size.

    >>> import chainrule as torch
    >>> torch.nn.functional.adaptive_max_pool3d(torch.arange(8.0).reshape(1, 1, 2, 2, 2), 1)
    tensor([[[[[7.]]]]])
    """
    return _adaptive_max(3, input, output_size, return_indices, "adaptive_max_pool3d")


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over windows of x^p)^(1/p), via avg_pool2d like PyTorch."""
    k = _tuple(kernel_size, 2)
    out = avg_pool2d(input ** norm_type, k, stride, 0, ceil_mode)
    sign = _make(np.sign(out._data), False, None)
    from .elementwise import relu

    return (sign * relu(out * sign)) ** (1.0 / norm_type) * float(k[0] * k[1]) ** (
        1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    out = avg_pool1d(input ** norm_type, kernel_size, stride, 0, ceil_mode)
    sign = _make(np.sign(out._data), False, None)
    from .elementwise import relu

    return (sign * relu(out * sign)) ** (1.0 / norm_type) * float(kernel_size) ** (
        1.0 / norm_type)


# ======================================================================================
# Rearrangements: pixel shuffle, unfold / fold
# ======================================================================================
PixelShuffleBackward0 = _linear_node("PixelShuffleBackward0")
PixelUnshuffleBackward0 = _linear_node("PixelUnshuffleBackward0")
Im2ColBackward0 = _linear_node("Im2ColBackward0")
Col2ImBackward0 = _linear_node("Col2ImBackward0")


def _shuffle_np(a, r):
    *lead, c, h, w = a.shape
    oc = c // (r * r)
    b = a.reshape(tuple(lead) + (oc, r, r, h, w))
    nl = len(lead)
    perm = tuple(range(nl)) + (nl, nl + 3, nl + 1, nl + 4, nl + 2)
    return b.transpose(perm).reshape(tuple(lead) + (oc, h * r, w * r))


def _unshuffle_np(a, r):
    *lead, c, h, w = a.shape
    b = a.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    nl = len(lead)
    perm = tuple(range(nl)) + (nl, nl + 2, nl + 4, nl + 1, nl + 3)
    return b.transpose(perm).reshape(tuple(lead) + (c * r * r, h // r, w // r))


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    x = input._data
    r = int(upscale_factor)
    if x.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {x.ndim} dimension(s)")
    if x.shape[-3] % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)="
                           f"{x.shape[-3]} is not divisible by {r * r}")
    return _linear(input, lambda a: _shuffle_np(a, r), lambda g: _unshuffle_np(g, r),
                   PixelShuffleBackward0)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    x = input._data
    r = int(downscale_factor)
    if x.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {x.ndim} dimension(s)")
    if x.shape[-1] % r or x.shape[-2] % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by "
                           f"downscale_factor, but got input of size {shape_str(x.shape)}")
    return _linear(input, lambda a: _unshuffle_np(a, r), lambda g: _shuffle_np(g, r),
                   PixelUnshuffleBackward0)


def _unfold_np(a, k, d, p, s, out_hw):
    n, c = a.shape[:2]
    ap = np.pad(a, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1]))) if any(p) else a
    sn, sc, s_h, s_w = ap.strides
    ho, wo = out_hw
    win = as_strided(ap, (n, c, k[0], k[1], ho, wo),
                     (sn, sc, s_h * d[0], s_w * d[1], s_h * s[0], s_w * s[1]), writeable=False)
    return win.reshape(n, c * k[0] * k[1], ho * wo)


def _fold_np(cols, hw, k, d, p, s, out_hw):
    n, ckk, _ = cols.shape
    c = ckk // (k[0] * k[1])
    ho, wo = out_hw
    g = cols.reshape(n, c, k[0], k[1], ho, wo)
    h, w = hw
    out = np.zeros((n, c, h + 2 * p[0], w + 2 * p[1]), cols.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            out[_slices(k, s, d, (ho, wo), i, j)] += g[:, :, i, j]
    return out[:, :, p[0]:p[0] + h, p[1]:p[1] + w]


def _fold_geometry(hw, kernel_size, dilation, padding, stride):
    k = _tuple(kernel_size, 2, "kernel_size")
    d = _tuple(dilation, 2, "dilation")
    p = _tuple(padding, 2, "padding")
    s = _tuple(stride, 2, "stride")
    out_hw = tuple((hw[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))
    return k, d, p, s, out_hw


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks: (N, C, H, W) -> (N, C * kh * kw, L) (im2col)."""
    x = input._data
    if x.ndim not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported "
                                  f"(got {x.ndim}D)")
    unb = x.ndim == 3
    hw = x.shape[-2:]
    k, d, p, s, out_hw = _fold_geometry(hw, kernel_size, dilation, padding, stride)
    if out_hw[0] <= 0 or out_hw[1] <= 0:
        raise RuntimeError(f"Given input with spatial size {list(hw)}, kernel_size={list(k)}, "
                           f"dilation={list(d)}, padding={list(p)}, calculated shape of the "
                           f"array of sliding blocks as {list(out_hw)}, but its components "
                           "must be at least one.")
    shape = x.shape

    def fwd(a):
        r = _unfold_np(a[None] if unb else a, k, d, p, s, out_hw)
        return r[0] if unb else r

    def adj(g):
        r = _fold_np(g[None] if unb else g, hw, k, d, p, s, out_hw)
        return r.reshape(shape)

    return _linear(input, fwd, adj, Im2ColBackward0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding local blocks back into an image: (N, C kh kw, L) -> (N, C, H, W)."""
    x = input._data
    if x.ndim not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input "
                                  f"Tensors are supported (got {x.ndim}D)")
    unb = x.ndim == 2
    hw = _tuple(output_size, 2, "output_size")
    k, d, p, s, out_hw = _fold_geometry(hw, kernel_size, dilation, padding, stride)
    kk = k[0] * k[1]
    if x.shape[-2] % kk:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={x.shape[-2]} and "
                           f"kernel_size={k}")
    if x.shape[-1] != out_hw[0] * out_hw[1]:
        raise RuntimeError(f"Given output_size={hw}, kernel_size={k}, dilation={d}, "
                           f"padding={p}, stride={s}, expected size of input's dimension 2 to "
                           f"match the calculated number of sliding blocks {out_hw[0]} * "
                           f"{out_hw[1]} = {out_hw[0] * out_hw[1]}, but got input.size(2)="
                           f"{x.shape[-1]}.")
    shape = x.shape

    def fwd(a):
        r = _fold_np(a[None] if unb else a, hw, k, d, p, s, out_hw)
        return r[0] if unb else r

    def adj(g):
        r = _unfold_np(g[None] if unb else g, k, d, p, s, out_hw)
        return r.reshape(shape)

    return _linear(input, fwd, adj, Col2ImBackward0)


# ======================================================================================
# Padding and resampling
# ======================================================================================
ConstantPadNdBackward0 = _linear_node("ConstantPadNdBackward0")
ReflectionPad1DBackward0 = _linear_node("ReflectionPad1DBackward0")
ReflectionPad2DBackward0 = _linear_node("ReflectionPad2DBackward0")
ReflectionPad3DBackward0 = _linear_node("ReflectionPad3DBackward0")
ReplicationPad1DBackward0 = _linear_node("ReplicationPad1DBackward0")
ReplicationPad2DBackward0 = _linear_node("ReplicationPad2DBackward0")
ReplicationPad3DBackward0 = _linear_node("ReplicationPad3DBackward0")
CircularPadBackward0 = _linear_node("CircularPadBackward0")  # PyTorch: a cat/slice chain
UpsampleNearest1DBackward0 = _linear_node("UpsampleNearest1DBackward0")
UpsampleNearest2DBackward0 = _linear_node("UpsampleNearest2DBackward0")
UpsampleNearest3DBackward0 = _linear_node("UpsampleNearest3DBackward0")
UpsampleNearestExact1DBackward0 = _linear_node("UpsampleNearestExact1DBackward0")
UpsampleNearestExact2DBackward0 = _linear_node("UpsampleNearestExact2DBackward0")
UpsampleNearestExact3DBackward0 = _linear_node("UpsampleNearestExact3DBackward0")
_NEAREST_NODES = {
    "nearest": (UpsampleNearest1DBackward0, UpsampleNearest2DBackward0,
                UpsampleNearest3DBackward0),
    "nearest-exact": (UpsampleNearestExact1DBackward0, UpsampleNearestExact2DBackward0,
                      UpsampleNearestExact3DBackward0)}
UpsampleLinear1DBackward0 = _linear_node("UpsampleLinear1DBackward0")
UpsampleBilinear2DBackward0 = _linear_node("UpsampleBilinear2DBackward0")


def _pad_const_np(a, pads, value=0):
    """Pad (or crop, for negative amounts) each axis by ``pads[axis] = (before, after)``."""
    crop = tuple(slice(max(-b, 0), a.shape[i] - max(-e, 0)) for i, (b, e) in enumerate(pads))
    a = a[crop]
    pos = tuple((max(b, 0), max(e, 0)) for b, e in pads)
    if any(b or e for b, e in pos):
        a = np.pad(a, pos, constant_values=value)
    return a


def _pad_index(n, before, after, mode):
    i = np.arange(-before, n + after)
    if mode == "reflect":
        period = 2 * (n - 1) if n > 1 else 1
        i = np.abs(i) % period
        i = np.where(i >= n, period - i, i)
    elif mode == "replicate":
        i = np.clip(i, 0, n - 1)
    else:  # circular
        i = i % n
    return i


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad) // 2 dims: pad = (left_last, right_last, left_prev, ...).

    >>> import chainrule as torch
    >>> torch.nn.functional.pad(torch.tensor([[1.0, 2.0]]), (1, 1), mode="replicate")
    tensor([[1., 1., 2., 2.]])
    """
    x = input._data
    pad = tuple(int(v) for v in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    m = len(pad) // 2
    if m > x.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{x.ndim}")
    pads = [(0, 0)] * x.ndim
    for i in range(m):
        pads[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    pads = tuple(pads)
    if mode == "constant":
        v = 0 if value is None else value
        out = _pad_const_np(x, pads, v)
        neg = tuple((-b, -e) for b, e in pads)
        return _linear(input, lambda a: _pad_const_np(a, pads), lambda g: _pad_const_np(g, neg),
                       ConstantPadNdBackward0, out=out)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise AssertionError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if not (m + 1 <= x.ndim <= m + 2) or m > 3:
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {x.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    axes = list(range(x.ndim - m, x.ndim))
    idxs = []
    for ax in axes:
        b, e = pads[ax]
        n = x.shape[ax]
        if mode == "reflect" and (b >= n or e >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({b}, {e}) at dimension {ax} "
                               f"of input {shape_str(x.shape)}")
        if mode == "circular" and (b > n or e > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if mode == "replicate" and n == 0:
            raise RuntimeError("padding size is expected to be non-empty")
        idxs.append((ax, _pad_index(n, b, e, mode), n))

    def fwd(a):
        for ax, ix, _ in idxs:
            a = np.take(a, ix, axis=ax)
        return a

    def adj(g):
        for ax, ix, n in reversed(idxs):
            g = _take_adjoint(g, ax, ix, n)
        return g

    names = {"reflect": "ReflectionPad", "replicate": "ReplicationPad"}
    cls = CircularPadBackward0 if mode == "circular" else \
        globals()[f"{names[mode]}{m}DBackward0"]
    return _linear(input, fwd, adj, cls)


def _linear_matrix(n_in, n_out, scale, align_corners, dtype):
    """(n_out, n_in) matrix of 1-D linear interpolation (PyTorch's source-index rule)."""
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((dst + 0.5) * scale - 0.5, 0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), i0), 1 - lam)
    np.add.at(m, (np.arange(n_out), i1), lam)
    return m.astype(dtype)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims: 'nearest', 'nearest-exact', 'linear' (3-D), 'bilinear' (4-D).

    >>> import chainrule as torch
    >>> torch.nn.functional.interpolate(torch.tensor([[[1.0, 2.0]]]), scale_factor=2)
    tensor([[[1., 1., 2., 2.]]])
    """
    x = input._data
    nd = x.ndim - 2
    if nd not in (1, 2) and not (nd == 3 and mode in ("nearest", "nearest-exact")):
        raise NotImplementedError(f"Input Error: Only 3D and 4D input Tensors supported (got "
                                  f"{x.ndim}D) for the modes: nearest | linear | bilinear")
    if mode in ("nearest", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined" if size is not None
                         else "either size or scale_factor should be defined")
    sp = x.shape[2:]
    if size is not None:
        out = _tuple(size, nd, "size")
        scales = [sp[i] / out[i] for i in range(nd)]
    else:
        sf = scale_factor if isinstance(scale_factor, (list, tuple)) else (scale_factor,) * nd
        out = tuple(int(math.floor(sp[i] * sf[i])) for i in range(nd))
        scales = [sp[i] / out[i] if recompute_scale_factor else 1.0 / sf[i]
                  for i in range(nd)]
    if mode in ("nearest", "nearest-exact"):
        idxs = []
        for i in range(nd):
            dst = np.arange(out[i], dtype=np.float64)
            if mode == "nearest":
                src = np.floor(dst * np.float32(scales[i]) if x.dtype == np.float32
                               else dst * scales[i])
            else:
                src = np.floor((dst + 0.5) * scales[i])
            idxs.append((2 + i, np.minimum(src.astype(np.int64), sp[i] - 1), sp[i]))

        def fwd(a):
            for ax, ix, _ in idxs:
                a = np.take(a, ix, axis=ax)
            return a

        def adj(g):
            for ax, ix, n in reversed(idxs):
                g = _take_adjoint(g, ax, ix, n)
            return g

        cls = _NEAREST_NODES[mode][nd - 1]
        return _linear(input, fwd, adj, cls)
    if mode not in ("linear", "bilinear"):
        raise NotImplementedError(f"interpolate mode '{mode}' is not supported")
    if (mode == "linear") != (nd == 1):
        raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs "
                                  f"{'3D' if mode == 'linear' else '4D'} input")
    ac = bool(align_corners)
    dt = x.dtype if x.dtype.kind == "f" else np.float64
    mats = [_linear_matrix(sp[i], out[i], scales[i], ac, dt) for i in range(nd)]
    if nd == 1:
        (mw,) = mats
        return _linear(input, lambda a: a @ mw.T, lambda g: g @ mw, UpsampleLinear1DBackward0)
    mh, mw = mats
    return _linear(input, lambda a: mh @ a @ mw.T, lambda g: mh.T @ g @ mw,
                   UpsampleBilinear2DBackward0)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)
