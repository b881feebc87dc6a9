"""Adadelta: step sizes from running averages of squared gradients and squared updates."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _state_zeros, _step_tensor


class Adadelta(Optimizer):
    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach=None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                        "capturable": capturable, "foreach": foreach, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = _step_tensor()
            state["square_avg"] = _state_zeros(p)
            state["acc_delta"] = _state_zeros(p)
        rho, eps, param = group["rho"], group["eps"], p._data
        state["step"]._data += 1
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        sq, acc = state["square_avg"]._data, state["acc_delta"]._data
        sq *= rho
        sq += (1 - rho) * grad * grad
        std = np.sqrt(sq + eps)
        delta = np.sqrt(acc + eps)
        delta /= std
        delta *= grad
        acc *= rho
        acc += (1 - rho) * delta * delta
        param -= group["lr"] * delta
