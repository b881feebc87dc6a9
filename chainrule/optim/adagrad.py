"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""
from __future__ import annotations

import numpy as np

from ..tensor import _make
from .optimizer import Optimizer, _step_tensor


class Adagrad(Optimizer):
    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                        "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                        "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        # PyTorch creates Adagrad's state eagerly, in the constructor.
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group) -> None:
        state = self.state[p]
        if not state:
            state["step"] = _step_tensor()
            state["sum"] = _make(np.full_like(p._data, group["initial_accumulator_value"]),
                                 False, None)

    def _update(self, p, grad, group, state):
        self._init_state(p, group)
        param = p._data
        state["step"]._data += 1
        step = float(state["step"]._data)
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        s = state["sum"]._data
        s += grad * grad
        std = np.sqrt(s) + group["eps"]
        param -= clr * (grad / std)
