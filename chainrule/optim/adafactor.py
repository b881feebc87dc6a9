"""Adafactor: Adam-like steps from a factored (row and column) second moment."""
from __future__ import annotations

import numpy as np

from ..tensor import _make
from .optimizer import Optimizer, _lerp_, _step_tensor


class Adafactor(Optimizer):
    """Memory-light adaptive steps: a matrix keeps one variance per row and per column.

    >>> import chainrule as torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = torch.optim.Adafactor([w], lr=0.1)
    >>> (w ** 2).sum().backward()
    >>> opt.step()
    >>> w.detach().abs().lt(torch.tensor([1.0, 2.0])).all().item()
    True
    """

    def __init__(self, params, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps=(None, 1e-3), d: float = 1.0, weight_decay: float = 0.0, *,
                 foreach=None, maximize: bool = False):
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    def _update(self, p, grad, group, state):
        if np.iscomplexobj(p._data):
            raise RuntimeError("Adafactor does not support complex parameters")
        factored = grad.ndim > 1  # factor over the last two dims
        if not state:
            state["step"] = _step_tensor()
            if factored:
                state["row_var"] = _zeros(grad.shape[:-1] + (1,), grad.dtype)
                state["col_var"] = _zeros(grad.shape[:-2] + (1, grad.shape[-1]), grad.dtype)
            else:
                state["variance"] = _zeros(grad.shape, grad.dtype)
        lr, (eps1, eps2) = float(group["lr"]), group["eps"]
        param = p._data
        if group["maximize"]:
            grad = -grad
        if eps1 is None:
            eps1 = float(np.finfo(param.dtype).eps)
        state["step"]._data += 1
        step = float(state["step"]._data)
        one_minus_beta2 = step ** group["beta2_decay"]
        rho = min(lr, 1 / step ** 0.5)
        alpha = max(eps2, float(np.linalg.norm(param.ravel())) / param.size ** 0.5) * rho
        if group["weight_decay"] != 0:
            param *= 1 - lr * group["weight_decay"]
        sq = grad * grad
        if factored:
            row_var, col_var = state["row_var"]._data, state["col_var"]._data
            _lerp_(row_var, sq.sum(-1, keepdims=True) / grad.shape[-1], one_minus_beta2)
            _lerp_(col_var, sq.sum(-2, keepdims=True) / grad.shape[-2], one_minus_beta2)
            var = row_var @ col_var
            var /= np.maximum(row_var.mean(-2, keepdims=True), eps1)
        else:
            _lerp_(state["variance"]._data, sq, one_minus_beta2)
            var = state["variance"]._data.copy()
        update = grad / np.sqrt(np.maximum(var, eps1 * eps1))
        denom = max(1.0, float(np.linalg.norm(update.ravel())) / (update.size ** 0.5 * group["d"]))
        param -= (alpha / denom) * update


def _zeros(shape, dtype):
    return _make(np.zeros(shape, dtype), False, None)
