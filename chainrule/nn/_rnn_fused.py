"""One recurrent layer (one direction) as a single graph node: LSTM, GRU and Elman RNN.

``nn.LSTM``/``nn.GRU``/``nn.RNN`` run a whole sequence here instead of recording a dozen ops
per time step (PyTorch's CPU LSTM is one fused kernel too, ``MkldnnRnnLayerBackward0``).
The forward keeps every step's gate activations; the backward is backpropagation through
time on NumPy arrays, with the weight gradients of all steps summed by one matrix product
each. The per-step formulas are the ones of ``nn/modules/rnn.py``'s ``_lstm_step``,
``_gru_step`` and ``_rnn_step``, which the cells still use and which this node re-runs as
recorded ops when its gradient must itself be differentiable (``create_graph=True``).

Gate layouts are PyTorch's: LSTM (i, f, g, o), GRU (r, z, n).
"""
from __future__ import annotations

import sys

import numpy as np

from ..autograd.function import CONST, NO_EDGE, Node, edge
from ..autograd.grad_mode import enable_grad, grad_state
from ..ops._broadcast import sum_rows
from ..tensor import Tensor, _make

__all__ = ["can_fuse", "can_fuse_cell", "cell_step", "gru_cell", "lstm_cell", "rnn_cell",
           "rnn_layer", "rnn_relu_cell", "rnn_tanh_cell"]

_new = object.__new__


# -- buffers -------------------------------------------------------------------------------
# A layer allocates a few arrays of T x N x 4H per call. Freed at the end of each step of a
# training loop, memory of that size goes back to the OS and every new array page-faults
# (measured: ~370 faults, ~1 ms, per LSTM forward of 16 x 50 x 64). So the arrays are kept
# and handed out again once nothing else refers to them (their reference count says so: a
# graph that still holds them, or a view of them a user kept, keeps them out of reuse).
_pool: dict = {}  # (shape, dtype) -> arrays
_POOL_PER_KEY = 3
# Larger arrays are not kept (their page faults cost little next to the work on them), and
# the pool as a whole stays small: memory a finished graph held goes back to the system.
_POOL_MAX_ARRAY = 8 << 20
_POOL_MAX_BYTES = 64 << 20
_pooled_bytes = [0]


def _buffer(shape, dtype):
    """An uninitialised array of ``shape``: a pooled one nobody else holds, or a new one."""
    key = (shape, dtype)
    arrays = _pool.get(key)
    if arrays is not None:
        for a in arrays:
            if sys.getrefcount(a) == 3:  # the list, ``a`` and getrefcount's own argument
                return a
    a = np.empty(shape, dtype)
    if a.nbytes <= _POOL_MAX_ARRAY:
        if _pooled_bytes[0] + a.nbytes > _POOL_MAX_BYTES:  # full: start over
            _pool.clear()
            _pooled_bytes[0] = 0
            arrays = None
        if arrays is None:
            arrays = _pool[key] = []
        if len(arrays) < _POOL_PER_KEY:
            arrays.append(a)
            _pooled_bytes[0] += a.nbytes
    return a


def _sigmoid(x, out):
    """1 / (1 + exp(-x)) into ``out`` (three ufunc calls, no temporaries)."""
    np.negative(x, out=out)
    np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


# ======================================================================================
# Forward: every step's activations are kept for the backward
# ======================================================================================
def _lstm_forward(xg, h0, c0, w_hh, reverse):
    """xg: (T, N, 4H) input projections with both biases. Returns (hs, cs, acts, tcs):
    hs/cs (T+1, N, H) in processing order (hs[0] = h0), acts (T, N, 4H) = sigmoid(i, f),
    tanh(g), sigmoid(o), tcs (T, N, H) = tanh(c)."""
    steps, n, four_h = xg.shape
    hidden = four_h // 4
    dt = xg.dtype
    hs = _buffer((steps + 1, n, hidden), dt)
    cs = _buffer((steps + 1, n, hidden), dt)
    acts = _buffer((steps, n, four_h), dt)
    tcs = _buffer((steps, n, hidden), dt)
    hs[0], cs[0] = h0, c0
    w_hh_t = w_hh.T
    g_cols = slice(2 * hidden, 3 * hidden)
    for k in range(steps):
        t = steps - 1 - k if reverse else k
        gates = xg[t] + hs[k].dot(w_hh_t)
        a = acts[k]
        _sigmoid(gates, a)  # all four; the g block is then replaced by its tanh
        np.tanh(gates[:, g_cols], out=a[:, g_cols])
        i, f, g, o = a[:, :hidden], a[:, hidden:2 * hidden], a[:, g_cols], a[:, 3 * hidden:]
        c = cs[k + 1]
        np.multiply(f, cs[k], out=c)
        c += i * g
        np.tanh(c, out=tcs[k])
        np.multiply(o, tcs[k], out=hs[k + 1])
    return hs, cs, acts, tcs


def _gru_forward(xg, h0, w_hh, b_hh, reverse):
    """xg: (T, N, 3H) input projections with b_ih. Returns (hs, acts, hns): acts (T, N, 3H)
    = (r, z, n), hns (T, N, H) = W_hn h + b_hn (what r multiplies)."""
    steps, n, three_h = xg.shape
    hidden = three_h // 3
    dt = xg.dtype
    hs = _buffer((steps + 1, n, hidden), dt)
    acts = _buffer((steps, n, three_h), dt)
    hns = _buffer((steps, n, hidden), dt)
    hs[0] = h0
    w_hh_t = w_hh.T
    for k in range(steps):
        t = steps - 1 - k if reverse else k
        hg = hs[k].dot(w_hh_t)
        if b_hh is not None:
            hg += b_hh
        a = acts[k]
        x = xg[t]
        _sigmoid(x[:, :2 * hidden] + hg[:, :2 * hidden], a[:, :2 * hidden])
        r, z, nn = a[:, :hidden], a[:, hidden:2 * hidden], a[:, 2 * hidden:]
        hns[k] = hg[:, 2 * hidden:]
        np.tanh(x[:, 2 * hidden:] + r * hns[k], out=nn)
        h = hs[k + 1]
        np.subtract(hs[k], nn, out=h)  # h' = n + z (h - n)
        h *= z
        h += nn
    return hs, acts, hns


def _elman_forward(xg, h0, w_hh, relu, reverse):
    """xg: (T, N, H) input projections with both biases. Returns hs (T+1, N, H)."""
    steps, n, hidden = xg.shape
    hs = _buffer((steps + 1, n, hidden), xg.dtype)
    hs[0] = h0
    w_hh_t = w_hh.T
    for k in range(steps):
        t = steps - 1 - k if reverse else k
        pre = xg[t] + hs[k].dot(w_hh_t)
        if relu:
            np.maximum(pre, 0, out=hs[k + 1])
        else:
            np.tanh(pre, out=hs[k + 1])
    return hs


# ======================================================================================
# Backward: backpropagation through time, newest step first
# ======================================================================================
def _lstm_steps(g_out, dh, g_cn, acts, cs, tcs, w_hh, reverse):
    """Backpropagation through the steps: (d gates by time, the same, dh0, dc0).

    Everything that does not depend on the incoming gradient is computed first for all
    steps at once (a few passes over whole arrays), so that each step is six NumPy calls:
    with q = (g, c_prev, i) * the gates' local derivatives and r = o * (1 - tanh(c)**2),
    d(i, f, g) = dc * q, d(o) = dh * tanh(c) * o (1 - o), dc = (dc + dh * r) * f."""
    steps, batch, four_h = acts.shape
    hidden = four_h // 4
    i, f, g, o = (acts[..., j * hidden:(j + 1) * hidden] for j in range(4))
    c_prev = cs[:-1]
    q = _buffer((steps, batch, 4, hidden), acts.dtype)  # in processing order
    np.multiply(g, i * (1 - i), out=q[:, :, 0])
    np.multiply(c_prev, f * (1 - f), out=q[:, :, 1])
    np.multiply(i, 1 - g * g, out=q[:, :, 2])
    np.multiply(tcs, o * (1 - o), out=q[:, :, 3])
    r = o * (1 - tcs * tcs)
    dc = np.zeros_like(dh) if g_cn is None else np.array(g_cn, dh.dtype)
    d_gates = _buffer((steps, batch, 4, hidden), acts.dtype)  # indexed by time
    for k in range(steps - 1, -1, -1):
        t = steps - 1 - k if reverse else k
        if g_out is not None:
            dh = dh + g_out[t]
        dc = dc + dh * r[k]
        d = d_gates[t]
        np.multiply(dc[:, None, :], q[k, :, :3], out=d[:, :3])
        np.multiply(dh, q[k, :, 3], out=d[:, 3])
        dh = d.reshape(batch, four_h).dot(w_hh)
        dc *= f[k]
    d_gates = d_gates.reshape(steps, batch, four_h)
    return d_gates, d_gates, dh, dc


def _gru_steps(g_out, dh, acts, hs, hns, w_hh, reverse):
    """(d input projections by time, d hidden projections by time, dh0, None)."""
    steps, _, three_h = acts.shape
    hidden = three_h // 3
    d_xg = _buffer(acts.shape, acts.dtype)
    d_hg = _buffer(acts.shape, acts.dtype)
    for k in range(steps - 1, -1, -1):
        t = steps - 1 - k if reverse else k
        if g_out is not None:
            dh = dh + g_out[t]
        a = acts[k]
        r, z, nn = a[:, :hidden], a[:, hidden:2 * hidden], a[:, 2 * hidden:]
        h_prev = hs[k]
        dan = dh * (1 - z) * (1 - nn * nn)  # through n = tanh(.)
        dx, dhg = d_xg[t], d_hg[t]
        np.multiply(dan * hns[k], r * (1 - r), out=dx[:, :hidden])
        np.multiply(dh * (h_prev - nn), z * (1 - z), out=dx[:, hidden:2 * hidden])
        dx[:, 2 * hidden:] = dan
        dhg[:, :2 * hidden] = dx[:, :2 * hidden]
        np.multiply(dan, r, out=dhg[:, 2 * hidden:])
        dh = dh * z + dhg.dot(w_hh)
    return d_xg, d_hg, dh, None


def _elman_steps(g_out, dh, hs, w_hh, relu, reverse):
    """(d pre-activations by time, dh0)."""
    steps = hs.shape[0] - 1
    d_pre = _buffer((steps,) + hs.shape[1:], hs.dtype)
    for k in range(steps - 1, -1, -1):
        t = steps - 1 - k if reverse else k
        if g_out is not None:
            dh = dh + g_out[t]
        h = hs[k + 1]
        d = d_pre[t]
        if relu:
            np.multiply(dh, h > 0, out=d)
        else:
            np.multiply(dh, 1 - h * h, out=d)
        dh = d.dot(w_hh)
    return d_pre, dh


# ======================================================================================
# The node
# ======================================================================================
class _RnnLayerBackward(Node):
    """outputs (out, h_n[, c_n]) of one layer and direction; inputs (x, w_ih, w_hh, b_ih,
    b_hh, h0, c0) as PyTorch's MkldnnRnnLayerBackward0 orders them."""

    __slots__ = ("mode", "reverse")
    saved_spec = (0, 1, 2, 3, 4, 5, 6, CONST, CONST, CONST, CONST)

    def backward(self, grads, x, w_ih, w_hh, b_ih, b_hh, h0, c0, hs, cs, acts, extra):
        if any(isinstance(g, Tensor) for g in grads):  # create_graph: differentiable form
            return self._recorded_backward(grads, x, w_ih, w_hh, b_ih, b_hh, h0, c0)
        g_out, g_hn = grads[0], grads[1]
        g_cn = grads[2] if self.mode == "LSTM" else None
        steps, n, _ = x.shape
        hidden = w_hh.shape[1]
        dt = hs.dtype
        dh = np.zeros((n, hidden), dt) if g_hn is None else np.array(g_hn, dt)
        reverse = self.reverse
        if self.mode == "LSTM":
            d_xg, d_hg, dh0, dc0 = _lstm_steps(g_out, dh, g_cn, acts, cs, extra, w_hh, reverse)
        elif self.mode == "GRU":
            d_xg, d_hg, dh0, dc0 = _gru_steps(g_out, dh, acts, hs, extra, w_hh, reverse)
        else:
            d_xg, dh0 = _elman_steps(g_out, dh, hs, w_hh, self.mode == "RNN_RELU", reverse)
            d_hg, dc0 = d_xg, None
        # The weight gradients of all steps: one product each over (T*N) rows.
        rows = d_xg.reshape(steps * n, -1)
        h_rows = d_hg.reshape(steps * n, -1)
        h_prev = hs[:-1] if not reverse else hs[-2::-1]  # h_{t-1} at each time t
        fx, fwi, fwh, fbi, fbh, fh, fc = (e[0] is not None for e in self.next_functions)
        gx = rows.dot(w_ih).reshape(x.shape) if fx else None
        gw_ih = rows.T.dot(x.reshape(steps * n, -1)) if fwi else None
        gw_hh = h_rows.T.dot(h_prev.reshape(steps * n, hidden)) if fwh else None
        gb_ih = sum_rows(rows) if fbi else None
        gb_hh = sum_rows(h_rows) if fbh else None
        return gx, gw_ih, gw_hh, gb_ih, gb_hh, (dh0 if fh else None), (dc0 if fc else None)

    def _recorded_backward(self, grads, x, w_ih, w_hh, b_ih, b_hh, h0, c0):
        """Under create_graph: run the layer again as recorded ops and differentiate that,
        so the gradient is itself differentiable."""
        with enable_grad():
            outs = _composite(self.mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, self.reverse)
        return _recorded_grads(self, outs, grads, (x, w_ih, w_hh, b_ih, b_hh, h0, c0))


def _recorded_grads(node, outs, grads, inputs) -> tuple:
    """create_graph for a fused node: the gradients of ``outs`` (the same computation, re-run
    as recorded ops) for the node's ``inputs``, themselves differentiable."""
    from ..autograd import grad as autograd_grad

    wanted = [k for k, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad
              and node.next_functions[k][0] is not None]
    pairs = [(o, g) for o, g in zip(outs, grads) if g is not None]
    res = autograd_grad([o for o, _ in pairs], [inputs[k] for k in wanted],
                        [g for _, g in pairs], create_graph=True, allow_unused=True)
    out = [None] * len(inputs)
    for k, g in zip(wanted, res):
        out[k] = g
    return tuple(out)


class MkldnnRnnLayerBackward0(_RnnLayerBackward):
    """An LSTM layer (PyTorch's name for its fused CPU LSTM)."""

    __slots__ = ()


class RnnLayerBackward0(_RnnLayerBackward):
    """A GRU or Elman RNN layer."""

    __slots__ = ()


def _composite(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
    """The layer as recorded per-step ops (the cells' formulas)."""
    import chainrule as cr

    from .modules import rnn as _rnn

    xgs = cr.nn.functional.linear(x, w_ih, b_ih).unbind(0)
    order = range(len(xgs) - 1, -1, -1) if reverse else range(len(xgs))
    h, c, ys = h0, c0, [None] * len(xgs)
    for t in order:
        if mode == "LSTM":
            h, c = _rnn._lstm_step(xgs[t], h, c, w_hh, b_hh)
        elif mode == "GRU":
            h = _rnn._gru_step(xgs[t], h, w_hh, b_hh)
        else:
            h = _rnn._rnn_step(xgs[t], h, w_hh, b_hh, "relu" if mode == "RNN_RELU" else "tanh")
        ys[t] = h
    return (cr.stack(ys, 0), h, c) if mode == "LSTM" else (cr.stack(ys, 0), h)


# ======================================================================================
# Entry point
# ======================================================================================
def can_fuse(x, h0, c0, weights) -> bool:
    """The fused layer handles float32/float64 operands of one dtype with no forward-mode
    tangents (dual tensors take the recorded per-step ops, whose jvp rules they need)."""
    dt = x._data.dtype
    if dt.kind != "f" or dt.itemsize < 4 or x._data.ndim != 3 or x._fw_grad is not None:
        return False
    for t in (h0, c0, *weights):
        if t is not None and (t._data.dtype is not dt or t._fw_grad is not None):
            return False
    return True


def rnn_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse: bool):
    """(out (T, N, H), h_n (N, H), c_n (N, H) or None) of one layer in one direction."""
    xd, whh = x._data, w_hh._data
    steps, n, _ = xd.shape
    wih = w_ih._data
    xg = np.dot(xd.reshape(steps * n, -1), wih.T,
                out=_buffer((steps * n, wih.shape[0]), xd.dtype))
    if b_ih is not None:
        xg += b_ih._data
        if mode != "GRU":  # GRU keeps b_hn inside r * (W_hn h + b_hn)
            xg += b_hh._data
    xg = xg.reshape(steps, n, -1)
    bhh = None if b_hh is None else b_hh._data
    extra = None
    cs = None
    if mode == "LSTM":
        hs, cs, acts, extra = _lstm_forward(xg, h0._data, c0._data, whh, reverse)
    elif mode == "GRU":
        hs, acts, extra = _gru_forward(xg, h0._data, whh, bhh, reverse)
    else:
        hs = _elman_forward(xg, h0._data, whh, mode == "RNN_RELU", reverse)
        acts = None
    out = hs[1:] if not reverse else hs[:0:-1]  # by time
    outputs = [out, hs[-1]] + ([cs[-1]] if mode == "LSTM" else [])
    res = _record(MkldnnRnnLayerBackward0 if mode == "LSTM" else RnnLayerBackward0, mode,
                  (x, w_ih, w_hh, b_ih, b_hh, h0, c0), outputs,
                  (xd, w_ih._data, whh, None if b_ih is None else b_ih._data, bhh, h0._data,
                   None if c0 is None else c0._data, hs, cs, acts, extra))
    if res[0].grad_fn is not None:
        res[0].grad_fn.reverse = reverse
    return res[0], res[1], (res[2] if mode == "LSTM" else None)


def _record(node_cls, mode, inputs, outputs, saved) -> list:
    """``outputs`` as Tensors, of one ``node_cls`` node over the seven ``inputs`` (x, w_ih,
    w_hh, b_ih, b_hh, h, c; None where absent) when a gradient is wanted."""
    edges = []  # a plain loop: generator expressions cost ~1 us more per step
    wanted = False
    if grad_state.enabled:
        for t in inputs:
            if t is not None and t._requires_grad:
                wanted = True
                edges.append(edge(t))
            else:
                edges.append(NO_EDGE)
    if not wanted:
        return [_make(o, False, None) for o in outputs]
    node = _new(node_cls)
    node.mode = mode
    node.next_functions = tuple(edges)
    node.saved = saved
    if len(outputs) > 1:
        node.num_outputs = len(outputs)
    return [_make(o, True, node, i) for i, o in enumerate(outputs)]


# ======================================================================================
# Cells: one time step as one node (nn.RNNCell, nn.LSTMCell, nn.GRUCell)
# ======================================================================================
# A cell called in a Python loop records one node per step instead of the dozen ops of its
# formula (PyTorch's CUDA cells are fused the same way: ThnnFusedLstmCellBackward0). Inputs
# are ordered as the layer's: (x, w_ih, w_hh, b_ih, b_hh, h, c).
class _CellBackward(Node):
    __slots__ = ("mode",)
    saved_spec = (0, 1, 2, 3, 4, 5, 6, CONST, CONST)

    def backward(self, grads, x, w_ih, w_hh, b_ih, b_hh, h, c, acts, extra):
        lstm = self.mode == "LSTM"
        gh, gc = (grads[0], grads[1]) if lstm else (grads, None)
        if isinstance(gh, Tensor) or isinstance(gc, Tensor):  # create_graph
            return self._recorded_backward(gh, gc, x, w_ih, w_hh, b_ih, b_hh, h, c)
        if gh is None:
            gh = np.zeros(acts.shape[:1] + h.shape[1:], acts.dtype)
        hidden = h.shape[1]
        dh_extra = None
        if lstm:
            i, f, g, o = (acts[:, j * hidden:(j + 1) * hidden] for j in range(4))
            tc = extra
            dc = gh * o * (1 - tc * tc)
            if gc is not None:
                dc += gc
            d = np.empty(acts.shape, acts.dtype)
            np.multiply(dc * g, i * (1 - i), out=d[:, :hidden])
            np.multiply(dc * c, f * (1 - f), out=d[:, hidden:2 * hidden])
            np.multiply(dc * i, 1 - g * g, out=d[:, 2 * hidden:3 * hidden])
            np.multiply(gh * tc, o * (1 - o), out=d[:, 3 * hidden:])
            d_hg = d
            gc_prev = dc * f
        elif self.mode == "GRU":
            r, z, n = (acts[:, j * hidden:(j + 1) * hidden] for j in range(3))
            dan = gh * (1 - z) * (1 - n * n)  # through n = tanh(x_n + r * hn)
            d = np.empty(acts.shape, acts.dtype)
            np.multiply(dan * extra, r * (1 - r), out=d[:, :hidden])
            np.multiply(gh * (h - n), z * (1 - z), out=d[:, hidden:2 * hidden])
            d[:, 2 * hidden:] = dan
            d_hg = d.copy()
            np.multiply(dan, r, out=d_hg[:, 2 * hidden:])
            dh_extra = gh * z  # h' = n + z (h - n) reads h directly too
            gc_prev = None
        else:
            d = gh * (acts > 0) if self.mode == "RNN_RELU" else gh * (1 - acts * acts)
            d_hg = d
            gc_prev = None
        (fx, _), (fwi, _), (fwh, _), (fbi, _), (fbh, _), (fh, _), (fc, _) = \
            self.next_functions
        gh_prev = None
        if fh is not None:
            gh_prev = d_hg.dot(w_hh)
            if dh_extra is not None:
                gh_prev += dh_extra
        return (d.dot(w_ih) if fx is not None else None,
                d.T.dot(x) if fwi is not None else None,
                d_hg.T.dot(h) if fwh is not None else None,
                sum_rows(d) if fbi is not None else None,
                sum_rows(d_hg) if fbh is not None else None,
                gh_prev, gc_prev if fc is not None else None)

    def _recorded_backward(self, gh, gc, x, w_ih, w_hh, b_ih, b_hh, h, c):
        """Under create_graph: the step again as recorded ops, differentiated."""
        import chainrule as cr

        from .modules import rnn as _rnn

        with enable_grad():
            xg = cr.nn.functional.linear(x, w_ih, b_ih)
            if self.mode == "LSTM":
                outs = _rnn._lstm_step(xg, h, c, w_hh, b_hh)
            elif self.mode == "GRU":
                outs = (_rnn._gru_step(xg, h, w_hh, b_hh),)
            else:
                outs = (_rnn._rnn_step(xg, h, w_hh, b_hh,
                                       "relu" if self.mode == "RNN_RELU" else "tanh"),)
        return _recorded_grads(self, outs, (gh, gc), (x, w_ih, w_hh, b_ih, b_hh, h, c))


class ThnnFusedLstmCellBackward0(_CellBackward):
    """An LSTM cell step (the name of PyTorch's fused CUDA LSTM cell)."""

    __slots__ = ()


class ThnnFusedGruCellBackward0(_CellBackward):
    """A GRU cell step (the name of PyTorch's fused CUDA GRU cell)."""

    __slots__ = ()


class RnnCellBackward0(_CellBackward):
    """An Elman cell step: h' = tanh or relu(x W_ih^T + b_ih + h W_hh^T + b_hh)."""

    __slots__ = ()


_CELL_NODES = {"LSTM": ThnnFusedLstmCellBackward0, "GRU": ThnnFusedGruCellBackward0,
               "RNN_TANH": RnnCellBackward0, "RNN_RELU": RnnCellBackward0}


def can_fuse_cell(x, h, c, weights) -> bool:
    """A batched (2-D) float32/float64 step with one dtype and no forward-mode tangents."""
    dt = x._data.dtype
    if dt.kind != "f" or dt.itemsize < 4 or x._data.ndim != 2 or x._fw_grad is not None:
        return False
    for t in (h, c, *weights):
        if t is not None and (t._data.dtype is not dt or t._fw_grad is not None):
            return False
    return True


def rnn_cell(mode, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """(h', c' or None) of one step; ``mode`` as the layers' (LSTM, GRU, RNN_TANH, RNN_RELU)."""
    xd, hd, wih, whh = x._data, h._data, w_ih._data, w_hh._data
    bih = None if b_ih is None else b_ih._data
    bhh = None if b_hh is None else b_hh._data
    cd = None if c is None else c._data
    extra = None
    if mode == "GRU":
        hidden = hd.shape[1]
        xg = xd.dot(wih.T)
        hg = hd.dot(whh.T)
        if bih is not None:
            xg += bih
            hg += bhh
        acts = np.empty(xg.shape, xg.dtype)
        _sigmoid(xg[:, :2 * hidden] + hg[:, :2 * hidden], acts[:, :2 * hidden])
        r, z, n = (acts[:, j * hidden:(j + 1) * hidden] for j in range(3))
        extra = hg[:, 2 * hidden:]
        np.tanh(xg[:, 2 * hidden:] + r * extra, out=n)
        out = hd - n  # h' = n + z (h - n)
        out *= z
        out += n
        outputs = (out,)
    else:
        pre = xd.dot(wih.T)
        pre += hd.dot(whh.T)
        if bih is not None:
            pre += bih
            pre += bhh
        if mode == "LSTM":
            hidden = hd.shape[1]
            acts = np.empty(pre.shape, pre.dtype)
            _sigmoid(pre, acts)
            g_cols = slice(2 * hidden, 3 * hidden)
            np.tanh(pre[:, g_cols], out=acts[:, g_cols])
            i, f, g, o = (acts[:, j * hidden:(j + 1) * hidden] for j in range(4))
            c_new = f * cd
            c_new += i * g
            extra = np.tanh(c_new)
            outputs = (o * extra, c_new)
        else:
            acts = np.maximum(pre, 0, out=pre) if mode == "RNN_RELU" else np.tanh(pre, out=pre)
            outputs = (acts,)
    res = _record(_CELL_NODES[mode], mode, (x, w_ih, w_hh, b_ih, b_hh, h, c), outputs,
                  (xd, wih, whh, bih, bhh, hd, cd, acts, extra))
    return res[0], (res[1] if mode == "LSTM" else None)


# -- torch.lstm_cell, torch.gru_cell, torch.rnn_tanh_cell, torch.rnn_relu_cell --------------
_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _check_cell(mode, x, states, w_ih, w_hh):
    """PyTorch's checks of a batched step's sizes (input, hidden states, weights)."""
    n, k = x._data.shape
    hidden = w_hh._data.shape[-1]
    gates = _GATES[mode] * hidden
    for name, w in (("weight_ih", w_ih), ("weight_hh", w_hh)):
        if w._data.shape[0] != gates:
            raise RuntimeError(f"{name} first dim must be {_GATES[mode]} * hidden_size = "
                               f"{gates}, but got {w._data.shape[0]}")
    if k != w_ih._data.shape[-1]:
        raise RuntimeError(f"input has inconsistent input_size: got {k} expected "
                           f"{w_ih._data.shape[-1]}")
    for i, h in enumerate(states):
        hn, hk = h._data.shape
        if hn != n:
            raise RuntimeError(f"Input batch size {n} doesn't match hidden{i} batch size {hn}")
        if hk != hidden:
            raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {hk}, "
                               f"expected {hidden}")


def cell_step(mode, input, h, c, w_ih, w_hh, b_ih, b_hh):
    """(h', c' or None): the step as one node where it can be, else as the step ops."""
    if input._data.ndim == 2 and h._data.ndim == 2:
        _check_cell(mode, input, (h,) if c is None else (h, c), w_ih, w_hh)
    if can_fuse_cell(input, h, c, (w_ih, w_hh, b_ih, b_hh)) and \
            (b_ih is None) == (b_hh is None):
        return rnn_cell(mode, input, h, c, w_ih, w_hh, b_ih, b_hh)
    import chainrule as cr  # the step ops (1-D input, mixed dtypes, forward-mode tangents)

    from .modules import rnn as _rnn

    xg = cr.nn.functional.linear(input, w_ih, b_ih)
    if mode == "LSTM":
        return _rnn._lstm_step(xg, h, c, w_hh, b_hh)
    if mode == "GRU":
        return _rnn._gru_step(xg, h, w_hh, b_hh), None
    return _rnn._rnn_step(xg, h, w_hh, b_hh, "relu" if mode == "RNN_RELU" else "tanh"), None


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step, ``(h, c)`` (what ``nn.LSTMCell`` runs; gates in PyTorch's order)."""
    return cell_step("LSTM", input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (what ``nn.GRUCell`` runs)."""
    return cell_step("GRU", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step with tanh (what ``nn.RNNCell`` runs)."""
    return cell_step("RNN_TANH", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step with relu."""
    return cell_step("RNN_RELU", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]
