"""W10: W6's tanh RNN written with ``nn.RNNCell`` in a Python loop (issue 5).

Same weights, inputs and loss (h_T.sum()) as W6; gradients of the cell's weights.  The
cell computes ``tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``: W6's single bias is split as
b_ih = b, b_hh = 0.
"""
import numpy as np

from _harness import import_lib
from w6_rnn import BATCH, NH, NIN, init
from w6_rnn import make as w6_make

NAME = "W10"
TITLE = "tanh RNN via nn.RNNCell, 100 steps, fwd+bwd"
UNIT = "ms/iter"
SCALE = 1e3
TARGETS = [("time", "torch", 0.6)]
TOL = 1e-4


def _cell(impl):
    lib = import_lib(impl)
    (Wx, Wh, b), xs, h0 = init()
    cell = lib.nn.RNNCell(NIN, NH)
    with lib.no_grad():
        cell.weight_ih.copy_(lib.tensor(Wx.T.copy()))
        cell.weight_hh.copy_(lib.tensor(Wh.T.copy()))
        cell.bias_ih.copy_(lib.tensor(b))
        cell.bias_hh.zero_()
    return cell, [lib.tensor(x) for x in xs], lib.tensor(h0)


def make(impl):
    if impl == "numpy":
        return w6_make("numpy")
    cell, xs, h0 = _cell(impl)

    def run():
        cell.zero_grad()
        h = h0
        for x in xs:
            h = cell(x, h)
        h.sum().backward()
        return [p.grad for p in cell.parameters()]

    return run


def grads(impl):
    if impl == "numpy":
        gWx, gWh, gb = w6_make("numpy")()
        return [gWx.T, gWh.T, gb, gb]  # d/d b_hh equals d/d b_ih
    return make(impl)()
