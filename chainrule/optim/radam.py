"""RAdam: Adam with a rectified variance estimate in the first steps (Liu et al. 2019)."""
from __future__ import annotations

import numpy as np

from .adam import _check
from .optimizer import Optimizer, _lerp_, _state_zeros, _step_tensor


class RAdam(Optimizer):
    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach=None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        _check(lr, eps, betas, weight_decay)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                        "maximize": maximize, "foreach": foreach, "capturable": capturable,
                        "decoupled_weight_decay": decoupled_weight_decay,
                        "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = _step_tensor()
            state["exp_avg"] = _state_zeros(p)
            state["exp_avg_sq"] = _state_zeros(p)
        beta1, beta2 = group["betas"]
        lr, wd, param = group["lr"], group["weight_decay"], p._data
        if group["maximize"]:
            grad = -grad
        state["step"]._data += 1
        step = float(state["step"]._data)
        if wd != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * wd
            else:
                grad = grad + wd * param
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        _lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        corrected = exp_avg / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = (bias_correction2 ** 0.5) / (np.sqrt(exp_avg_sq) + group["eps"])
            param -= corrected * lr * adaptive * rect
        else:
            param -= corrected * lr
