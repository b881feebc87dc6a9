"""W8: W2's MLP step written the way PyTorch users write it (issue 5).

``nn.Sequential(nn.Linear, nn.ReLU, ...)``, ``F.cross_entropy``, ``optim.SGD`` with
``zero_grad()`` / ``step()``, same weights and data as W2.  Compare with W2 (raw ops): the
module layer should cost at most 5% more.
"""
import numpy as np

from _harness import import_lib
from w2_mlp import BATCH, LR, SIZES, _numpy, _numpy_grads, init

NAME = "W8"
TITLE = "MLP step via nn.Sequential + optim.SGD"
UNIT = "ms/step"
SCALE = 1e3
TARGETS = [("time", "torch", 1.0)]
TOL = 1e-4


def _model(impl):
    lib = import_lib(impl)
    arrays, x, target, _ = init()
    layers = []
    for i in range(3):
        lin = lib.nn.Linear(SIZES[i], SIZES[i + 1])
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(arrays[2 * i].T.copy()))
            lin.bias.copy_(lib.tensor(arrays[2 * i + 1]))
        layers += [lin] + ([lib.nn.ReLU()] if i < 2 else [])
    model = lib.nn.Sequential(*layers)
    opt = lib.optim.SGD(model.parameters(), lr=LR)
    return lib, model, opt, lib.tensor(x), lib.tensor(target)


def make(impl):
    if impl == "numpy":
        return _numpy(BATCH)
    lib, model, opt, x, target = _model(impl)
    F = lib.nn.functional

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        opt.step()
        return loss

    return step


def grads(impl):
    if impl == "numpy":
        params, x, target, onehot = init()
        loss, gs = _numpy_grads(params, x, target, onehot)
        return [np.asarray(loss)] + [g.T if g.ndim == 2 else g for g in gs]
    lib, model, opt, x, target = _model(impl)
    loss = lib.nn.functional.cross_entropy(model(x), target)
    loss.backward()
    return [loss] + [p.grad for p in model.parameters()]
