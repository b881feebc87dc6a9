"""W9: W4's CNN step written with nn modules (issue 5).

``nn.Sequential(nn.Conv2d, nn.ReLU, nn.Conv2d, nn.ReLU, nn.Flatten, nn.Linear)``,
``F.cross_entropy``, ``optim.SGD``; same weights and data as W4.  Compare with W4 (raw ops).
"""
from _harness import import_lib
from w4_cnn import LR, init
from w4_cnn import grads as w4_grads
from w4_cnn import make as w4_make

NAME = "W9"
TITLE = "CNN step via nn.Conv2d/nn.Linear + optim.SGD"
UNIT = "ms/step"
SCALE = 1e3
TARGETS = [("time", "torch", 1.5)]
TOL = 1e-4


def _model(impl):
    lib = import_lib(impl)
    nn = lib.nn
    arrays, x, target, _ = init()
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                          nn.Flatten(), nn.Linear(2048, 10))
    with lib.no_grad():
        model[0].weight.copy_(lib.tensor(arrays[0]))
        model[0].bias.copy_(lib.tensor(arrays[1]))
        model[2].weight.copy_(lib.tensor(arrays[2]))
        model[2].bias.copy_(lib.tensor(arrays[3]))
        model[5].weight.copy_(lib.tensor(arrays[4].T.copy()))
        model[5].bias.copy_(lib.tensor(arrays[5]))
    opt = lib.optim.SGD(model.parameters(), lr=LR)
    return lib, model, opt, lib.tensor(x), lib.tensor(target)


def make(impl):
    if impl == "numpy":
        return w4_make("numpy")
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
        out = w4_grads("numpy")
        return out[:5] + [out[5].T, out[6]]  # Linear keeps (out, in) weights
    lib, model, opt, x, target = _model(impl)
    loss = lib.nn.functional.cross_entropy(model(x), target)
    loss.backward()
    return [loss] + [p.grad for p in model.parameters()]
