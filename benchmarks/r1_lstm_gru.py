"""R1: nn.LSTM and nn.GRU layers over a whole sequence, forward + backward (report only).

Batch 16, 50 steps, input 32, hidden 64, ``batch_first``, float32, loss = out.sum() +
h_n.sum(); gradients of every weight and of the input. Same weights in both libraries.
PyTorch runs its LSTM as one fused CPU kernel (MkldnnRnnLayerBackward0) and its GRU as
per-step ops; chainrule runs both as one node per layer (nn/_rnn_fused.py). There is no
hand-written NumPy version.
"""
import numpy as np

from _harness import Missing, import_lib

NAME = "R1"
TITLE = "nn.LSTM + nn.GRU layers, 50 steps h64 in32 b16 fwd+bwd"
UNIT = "ms/iter"
SCALE = 1e3
TARGETS = []
TOL = 1e-4
BATCH, STEPS, NIN, NH = 16, 50, 32, 64


def _setup(lib):
    rng = np.random.default_rng(0)
    layers = [lib.nn.LSTM(NIN, NH, batch_first=True), lib.nn.GRU(NIN, NH, batch_first=True)]
    with lib.no_grad():
        for layer in layers:
            for p in layer.parameters():
                p.copy_(lib.tensor(rng.uniform(-0.125, 0.125, tuple(p.shape)).astype(np.float32)))
    x = lib.tensor(rng.standard_normal((BATCH, STEPS, NIN)).astype(np.float32),
                   requires_grad=True)
    return layers, x


def make(impl):
    if impl == "numpy":
        raise Missing("no hand-written NumPy version of the recurrent layers")
    lib = import_lib(impl)
    layers, x = _setup(lib)

    def run():
        x.grad = None
        for layer in layers:
            layer.zero_grad()
        loss = 0
        for layer in layers:
            out, h = layer(x)
            loss = loss + out.sum() + (h[0] if isinstance(h, tuple) else h).sum()
        loss.backward()
        return [x.grad] + [p.grad for layer in layers for p in layer.parameters()]

    return run


def grads(impl):
    return make(impl)()
