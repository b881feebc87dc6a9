"""ASGD: averaged stochastic gradient descent (Polyak-Ruppert averaging in ``ax``)."""
from __future__ import annotations

import numpy as np

from .. import _dtype
from ..tensor import _make
from .optimizer import Optimizer, _state_zeros, _step_tensor


def _scalar(v: float):
    """A 0-d tensor of the default dtype, as torch keeps ``eta`` and ``mu`` (so their values
    are rounded to float32 under the usual default, which the updates then see)."""
    return _make(np.asarray(v, dtype=_dtype.get_default_dtype().np), False, None)


class ASGD(Optimizer):
    """SGD with decaying step ``eta`` and a running average ``ax`` of the iterates.

    >>> import chainrule as torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = torch.optim.ASGD([w], lr=0.1)
    >>> (w ** 2).sum().backward()
    >>> opt.step()
    >>> w.detach().abs().lt(torch.tensor([1.0, 2.0])).all().item()
    True
    """

    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach=None,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = _step_tensor()
            state["eta"] = _scalar(float(group["lr"]))
            state["mu"] = _scalar(1.0)
            state["ax"] = _state_zeros(p)
        lr, lambd = float(group["lr"]), group["lambd"]
        param = p._data
        if group["maximize"]:
            grad = -grad
        state["step"]._data += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        eta = float(state["eta"]._data)
        param *= 1 - lambd * eta  # decay term
        param -= eta * grad
        ax, mu = state["ax"]._data, float(state["mu"]._data)
        if mu != 1:
            ax += (param - ax) * mu
        else:
            ax[...] = param
        step = float(state["step"]._data)
        state["eta"]._data[...] = lr / ((1 + lambd * lr * step) ** group["alpha"])
        state["mu"]._data[...] = 1 / max(1, step - group["t0"])
