"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule (Dozat 2016)."""
from __future__ import annotations

import numpy as np

from ..tensor import _make
from .adam import _check
from .optimizer import Optimizer, _lerp_, _state_zeros, _step_tensor


class NAdam(Optimizer):
    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach=None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False):
        _check(lr, eps, betas, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                        "momentum_decay": momentum_decay,
                        "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                        "foreach": foreach, "capturable": capturable, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = _step_tensor()
            # PyTorch keeps the running product of mu as a default-dtype scalar tensor.
            state["mu_product"] = _make(np.ones((), dtype=state["step"]._data.dtype), False,
                                        None)
            state["exp_avg"] = _state_zeros(p)
            state["exp_avg_sq"] = _state_zeros(p)
        beta1, beta2 = group["betas"]
        lr, wd, param = group["lr"], group["weight_decay"], p._data
        if group["maximize"]:
            grad = -grad
        state["step"]._data += 1
        step = float(state["step"]._data)
        bias_correction2 = 1 - beta2 ** step
        if wd != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * wd
            else:
                grad = grad + wd * param
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * group["momentum_decay"])))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * group["momentum_decay"])))
        mp = state["mu_product"]._data
        mp *= mu
        mu_product = float(mp)
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        _lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        denom = np.sqrt(exp_avg_sq / bias_correction2) + group["eps"]
        param += (-lr * (1.0 - mu) / (1.0 - mu_product)) * (grad / denom)
        param += ((-lr * mu_next) / (1.0 - mu_product * mu_next)) * (exp_avg / denom)
