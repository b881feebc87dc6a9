"""SGD with momentum, dampening, Nesterov momentum, weight decay and maximize."""
from __future__ import annotations

import numpy as np

from ..tensor import _make
from .optimizer import Optimizer


class SGD(Optimizer):
    """p <- p - lr * d, where d is the (momentum-averaged) gradient (PyTorch's formula)."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach=None, differentiable: bool = False, fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                        "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                        "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _update(self, p, grad, group, state):
        d = -grad if group["maximize"] else grad
        wd, momentum = group["weight_decay"], group["momentum"]
        if wd != 0:
            d = d + wd * p._data
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = _make(np.array(d, dtype=p._data.dtype), False, None)
                state["momentum_buffer"] = buf
            else:
                b = buf._data
                b *= momentum
                b += (1 - group["dampening"]) * d
            d = d + momentum * buf._data if group["nesterov"] else buf._data
        p._data -= group["lr"] * d
