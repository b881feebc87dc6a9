"""Rprop: per-coordinate step sizes grown or shrunk by the sign agreement of gradients."""
from __future__ import annotations

import numpy as np

from ..tensor import _make
from .optimizer import Optimizer, _state_zeros, _step_tensor


class Rprop(Optimizer):
    def __init__(self, params, lr: float = 1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": tuple(etas), "step_sizes": tuple(step_sizes), "foreach": foreach,
                        "maximize": maximize, "differentiable": differentiable,
                        "capturable": capturable}
        super().__init__(params, defaults)

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = _step_tensor()
            state["prev"] = _state_zeros(p)
            state["step_size"] = _make(np.full_like(p._data, group["lr"]), False, None)
        etaminus, etaplus = group["etas"]
        lo, hi = group["step_sizes"]
        if group["maximize"]:
            grad = -grad
        state["step"]._data += 1
        prev, step_size = state["prev"]._data, state["step_size"]._data
        sign = np.sign(grad * prev)
        factor = np.where(sign > 0, etaplus, np.where(sign < 0, etaminus, 1.0))
        step_size *= factor
        np.clip(step_size, lo, hi, out=step_size)
        grad = np.where(sign < 0, 0, grad)
        p._data -= np.sign(grad) * step_size
        prev[...] = grad
