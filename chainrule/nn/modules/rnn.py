"""Recurrent layers: RNN, LSTM, GRU and their cells, with PyTorch's parameter names and gates.

Each time step is composed from ``F.linear``, ``sigmoid`` and ``tanh`` (the cells, and the
layers with projections or packed sequences); a layer's plain sequence is one node of
``nn/_rnn_fused.py`` with the same formulas.
"""
from __future__ import annotations

import math

import numpy as np

from ...tensor import Tensor, _make
from .. import _rnn_fused as _fused
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, _pack_sorted, pad_packed_sequence
from .linear import _empty
from .module import Module

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"]


def _cr():
    import chainrule

    return chainrule


# -- one time step (shared by the layers and the cells) -------------------------------------
def _rnn_step(xg, h, w_hh, b_hh, nonlinearity: str):
    pre = xg + F.linear(h, w_hh, b_hh)
    return F.tanh(pre) if nonlinearity == "tanh" else F.relu(pre)


def _lstm_step(xg, h, c, w_hh, b_hh, w_hr=None):
    """PyTorch's gate order along the 4*hidden axis: input, forget, cell (g), output."""
    gates = xg + F.linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, -1)
    c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
    h = F.sigmoid(o) * F.tanh(c)
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


def _gru_step(xg, h, w_hh, b_hh):
    """Gate order reset (r), update (z), new (n); n = tanh(x_n + r * (W_hn h + b_hn))."""
    hg = F.linear(h, w_hh, b_hh)
    x_r, x_z, x_n = xg.chunk(3, -1)
    h_r, h_z, h_n = hg.chunk(3, -1)
    r = F.sigmoid(x_r + h_r)
    z = F.sigmoid(x_z + h_z)
    n = F.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h


def _weight(module, name):
    """``getattr(module, name, None)`` without Module.__getattr__'s Python call in the usual
    case (a cell runs once per step): the instance dict first (where functional_call puts
    the tensors it substitutes), then the parameters; anything else (parametrizations) by
    attribute lookup."""
    d = module.__dict__
    if name in d:
        return d[name]
    params = module._parameters
    if name in params:
        return params[name]
    return getattr(module, name, None)


def _zeros(shape, like: Tensor) -> Tensor:
    return _make(np.zeros(shape, dtype=like._data.dtype), False, None)


class RNNBase(Module):
    """Shared construction of RNN/LSTM/GRU: one weight set per layer and direction."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1 or \
                isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError("hidden_size must be an integer greater than zero" if
                             isinstance(hidden_size, int) else
                             f"hidden_size should be of type int, got: "
                             f"{type(hidden_size).__name__}")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than or equal to 1")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if dropout > 0 and num_layers == 1:
            import warnings

            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}")
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size
        gate_size = {"LSTM": 4, "GRU": 3}.get(mode, 1) * hidden_size
        num_directions = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_in = input_size if layer == 0 else real_hidden * num_directions
                sfx = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate_size, layer_in)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                for base, shape in shapes:
                    name = f"{base}_l{layer}{sfx}"
                    setattr(self, name, Parameter(_empty(shape, dtype)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """Nothing to do: PyTorch packs the weights into one buffer for cuDNN; here (as on
        PyTorch's CPU path) each weight is used where it is."""

    @property
    def _flat_weights(self):
        return [self._parameters.get(name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        d = 2 if self.bidirectional else 1
        return [[w for w in self._layer_weights(layer, k) if w is not None]
                for layer in range(self.num_layers) for k in range(d)]

    def _layer_weights(self, layer: int, direction: int):
        sfx = "_reverse" if direction == 1 else ""
        return tuple(_weight(self, f"{base}_l{layer}{sfx}") for base in
                     ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- the sequence loop --------------------------------------------------------------
    def _run(self, input, hx, lengths=None):
        """Output (L, N, D*H_out) and final states. With ``lengths`` (variable-length batch),
        a sequence's state stops changing after its last step, so the reverse direction
        starts at each sequence's own end."""
        cr = _cr()
        masks = None
        if lengths is not None:
            dt = input._data.dtype
            masks = [_make((lengths > t).astype(dt)[:, None], False, None)
                     for t in range(input.shape[0])]
        lstm = self.mode == "LSTM"
        d = 2 if self.bidirectional else 1
        h0, c0 = hx if lstm else (hx, None)
        layer_input = input
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(d):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_weights(layer, direction)
                k = layer * d + direction
                h = h0[k]
                c = c0[k] if lstm else None
                if masks is None and w_hr is None and _fused.can_fuse(
                        layer_input, h, c, (w_ih, w_hh, b_ih, b_hh)):
                    # The whole sequence as one node (same formulas, BPTT in NumPy).
                    out, h, c = _fused.rnn_layer(self.mode, layer_input, h, c, w_ih, w_hh,
                                                 b_ih, b_hh, direction == 1)
                    outs.append(out)
                    h_n.append(h)
                    c_n.append(c)
                    continue
                steps = list(enumerate(F.linear(layer_input, w_ih, b_ih).unbind(0)))
                if direction == 1:
                    steps = steps[::-1]
                ys = []
                for t, xg in steps:
                    h_old, c_old = h, c
                    if lstm:
                        h, c = _lstm_step(xg, h, c, w_hh, b_hh, w_hr)
                    elif self.mode == "GRU":
                        h = _gru_step(xg, h, w_hh, b_hh)
                    else:
                        h = _rnn_step(xg, h, w_hh, b_hh,
                                      "tanh" if self.mode == "RNN_TANH" else "relu")
                    if masks is not None:  # keep the old state past a sequence's end
                        m = masks[t]
                        h = h * m + h_old * (1 - m)
                        if lstm:
                            c = c * m + c_old * (1 - m)
                    ys.append(h)
                if direction == 1:
                    ys = ys[::-1]
                outs.append(cr.stack(ys, 0))
                h_n.append(h)
                c_n.append(c)
            layer_input = outs[0] if d == 1 else cr.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        h_n = cr.stack(h_n, 0)
        return layer_input, ((h_n, cr.stack(c_n, 0)) if lstm else h_n)

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        if not isinstance(input, Tensor):
            raise TypeError(f"{self._get_name()} expects a Tensor or a PackedSequence, got "
                            f"{type(input).__name__}")
        lstm = self.mode == "LSTM"
        w = _weight(self, "weight_ih_l0")
        if w is not None and input.dtype.is_floating_point and input.dtype != w.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({w.dtype}). Convert input: input.to({w.dtype}), or convert "
                             f"model: model.to({input.dtype})")
        batched = input.dim() == 3
        if input.dim() not in (2, 3):
            raise ValueError(f"{self._get_name()}: Expected input to be 2D or 3D, got "
                             f"{input.dim()}D instead")
        if not batched:
            input = input.unsqueeze(1)
            if hx is not None:
                hx = tuple(h.unsqueeze(1) for h in hx) if lstm else hx.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        n = input.shape[1]
        d = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        if hx is None:
            h0 = _zeros((self.num_layers * d, n, real_hidden), input)
            hx = (h0, _zeros((self.num_layers * d, n, self.hidden_size), input)) if lstm else h0
        else:
            expected = (self.num_layers * d, n, real_hidden)
            first = hx[0] if lstm else hx
            if tuple(first.shape) != expected:
                raise RuntimeError(f"Expected hidden size {expected}, got {list(first.shape)}")
        out, state = self._run(input, hx)
        if not batched:
            out = out.squeeze(1)
            state = tuple(s.squeeze(1) for s in state) if lstm else state.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, state


    def _forward_packed(self, packed, hx):
        """Unpack to a padded batch (original order), run with length masks, pack again."""
        cr = _cr()
        padded, lengths = pad_packed_sequence(packed)
        lens = lengths._data
        lstm = self.mode == "LSTM"
        n = padded.shape[1]
        d = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        if hx is None:
            h0 = _zeros((self.num_layers * d, n, real_hidden), padded)
            hx = (h0, _zeros((self.num_layers * d, n, self.hidden_size), padded)) if lstm \
                else h0
        out, state = self._run(padded, hx, lens)
        order = packed.sorted_indices
        if order is not None:
            out = cr.index_select(out, 1, order)
            lens = lens[order._data]
        data, _ = _pack_sorted(out, lens)
        return PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                              packed.unsorted_indices), state


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None):
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)


class LSTM(RNNBase):
    """Long short-term memory; returns ``output, (h_n, c_n)``.

    >>> import chainrule as torch
    >>> lstm = torch.nn.LSTM(3, 5, batch_first=True)
    >>> out, (h, c) = lstm(torch.zeros(2, 7, 3))
    >>> out.shape, h.shape
    (torch.Size([2, 7, 5]), torch.Size([1, 2, 5]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit; returns ``output, h_n``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype)


# -- cells ---------------------------------------------------------------------------------
class RNNCellBase(Module):
    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(_empty((num_chunks * hidden_size, input_size), dtype))
        self.weight_hh = Parameter(_empty((num_chunks * hidden_size, hidden_size), dtype))
        if bias:
            self.bias_ih = Parameter(_empty((num_chunks * hidden_size,), dtype))
            self.bias_hh = Parameter(_empty((num_chunks * hidden_size,), dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prep(self, input):
        if input.dim() not in (1, 2):
            raise ValueError(f"{self._get_name()}: Expected input to be 1D or 2D, got "
                             f"{input.dim()}D instead")
        return input.dim() == 2

    def _weights(self):
        return (_weight(self, "weight_ih"), _weight(self, "weight_hh"),
                _weight(self, "bias_ih"), _weight(self, "bias_hh"))


class RNNCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        batched = self._prep(input)
        if not batched:
            input = input.unsqueeze(0)
            hx = None if hx is None else hx.unsqueeze(0)
        if hx is None:
            hx = _zeros((input.shape[0], self.hidden_size), input)
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        h, _ = _fused.cell_step("RNN_" + self.nonlinearity.upper(), input, hx, None,
                                *self._weights())
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        batched = self._prep(input)
        if not batched:
            input = input.unsqueeze(0)
            hx = None if hx is None else (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        if hx is None:
            z = _zeros((input.shape[0], self.hidden_size), input)
            hx = (z, z)
        h, c = _fused.cell_step("LSTM", input, hx[0], hx[1], *self._weights())
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        batched = self._prep(input)
        if not batched:
            input = input.unsqueeze(0)
            hx = None if hx is None else hx.unsqueeze(0)
        if hx is None:
            hx = _zeros((input.shape[0], self.hidden_size), input)
        h, _ = _fused.cell_step("GRU", input, hx, None, *self._weights())
        return h if batched else h.squeeze(0)
