"""RMSprop (optionally centered, with momentum)."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _lerp_, _state_zeros, _step_tensor


class RMSprop(Optimizer):
    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                        "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                        "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = _step_tensor()
            state["square_avg"] = _state_zeros(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = _state_zeros(p)
            if group["centered"]:
                state["grad_avg"] = _state_zeros(p)
        param, alpha = p._data, group["alpha"]
        if group["maximize"]:
            grad = -grad
        state["step"]._data += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        sq = state["square_avg"]._data
        sq *= alpha
        sq += (1 - alpha) * grad * grad
        if group["centered"]:
            ga = state["grad_avg"]._data
            _lerp_(ga, grad, 1 - alpha)
            avg = np.sqrt(sq - ga * ga)
        else:
            avg = np.sqrt(sq)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]._data
            buf *= group["momentum"]
            buf += grad / avg
            param -= group["lr"] * buf
        else:
            param -= group["lr"] * (grad / avg)
