"""W4: one SGD step of a small CNN.

Input (64, 1, 8, 8) float32; conv3x3 1->16 pad 1, ReLU, conv3x3 16->32 pad 1, ReLU, flatten,
linear 2048->10, cross-entropy (as in W2), SGD update and gradient reset.  chainrule runs it
only if ``chainrule.nn.functional.conv2d`` exists; the hand-written NumPy version uses im2col
(``sliding_window_view``) and a 9-offset col2im for the input gradient of the second conv.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from _harness import (Missing, cross_entropy, import_lib, loss_mode, np_cross_entropy, sgd,
                      sgd_mode)

NAME = "W4"
TITLE = "CNN step 2xconv3x3+linear, b64 f32"
UNIT = "ms/step"
SCALE = 1e3
TARGETS = [("time", "torch", 1.5)]
TOL = 1e-4
LR = 1e-3
BATCH = 64


def init(seed=0):
    rng = np.random.default_rng(seed)

    def u(fan_in, shape):
        b = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-b, b, shape).astype(np.float32)

    params = [u(9, (16, 1, 3, 3)), u(9, (16,)), u(144, (32, 16, 3, 3)), u(144, (32,)),
              u(2048, (2048, 10)), u(2048, (10,))]
    x = rng.standard_normal((BATCH, 1, 8, 8)).astype(np.float32)
    target = rng.integers(0, 10, BATCH)
    return params, x, target, np.eye(10, dtype=np.float32)[target]


def _autograd(impl):
    lib = import_lib(impl)
    F = lib.nn.functional
    if impl == "chainrule" and not hasattr(F, "conv2d"):
        raise Missing("needs conv2d (chainrule.nn.functional.conv2d is missing): skipped")
    arrays, x, target, onehot = init()
    params = [lib.tensor(a, requires_grad=True) for a in arrays]
    x, target, onehot = lib.tensor(x), lib.tensor(target), lib.tensor(onehot)
    lmode, smode = loss_mode(), sgd_mode()

    def loss_backward():
        w1, b1, w2, b2, w3, b3 = params
        h = F.conv2d(x, w1, b1, padding=1).relu()
        h = F.conv2d(h, w2, b2, padding=1).relu()
        z = h.reshape(BATCH, -1) @ w3 + b3
        loss = cross_entropy(lib, z, target, onehot, lmode)
        loss.backward()
        return loss

    def step():
        loss = loss_backward()
        sgd(lib, params, LR, smode)
        return loss

    return params, loss_backward, step


def _conv_fwd(x, w, b):
    n, c, hh, ww = x.shape
    o = w.shape[0]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = sliding_window_view(xp, (3, 3), axis=(2, 3))  # (n, c, hh, ww, 3, 3)
    cols = cols.transpose(0, 2, 3, 1, 4, 5).reshape(n * hh * ww, c * 9)
    out = cols @ w.reshape(o, -1).T + b
    return out.reshape(n, hh, ww, o).transpose(0, 3, 1, 2), cols


def _conv_bwd(dout, cols, x_shape, w, need_dx=True):
    n, c, hh, ww = x_shape
    o = w.shape[0]
    d = dout.transpose(0, 2, 3, 1).reshape(n * hh * ww, o)
    dw = (d.T @ cols).reshape(w.shape)
    db = d.sum(axis=0)
    if not need_dx:
        return None, dw, db
    dcols = (d @ w.reshape(o, -1)).reshape(n, hh, ww, c, 3, 3)
    dxp = np.zeros((n, c, hh + 2, ww + 2), dtype=dout.dtype)
    for i in range(3):
        for j in range(3):
            dxp[:, :, i:i + hh, j:j + ww] += dcols[..., i, j].transpose(0, 3, 1, 2)
    return dxp[:, :, 1:-1, 1:-1], dw, db


def _numpy_grads(params, x, target, onehot):
    w1, b1, w2, b2, w3, b3 = params
    a1, cols1 = _conv_fwd(x, w1, b1)
    h1 = np.maximum(a1, 0)
    a2, cols2 = _conv_fwd(h1, w2, b2)
    h2 = np.maximum(a2, 0)
    flat = h2.reshape(BATCH, -1)
    z = flat @ w3 + b3
    loss, dz = np_cross_entropy(z, target, onehot)
    gw3, gb3 = flat.T @ dz, dz.sum(axis=0)
    da2 = (dz @ w3.T).reshape(h2.shape) * (a2 > 0)
    dh1, gw2, gb2 = _conv_bwd(da2, cols2, h1.shape, w2)
    da1 = dh1 * (a1 > 0)
    _, gw1, gb1 = _conv_bwd(da1, cols1, x.shape, w1, need_dx=False)
    return loss, [gw1, gb1, gw2, gb2, gw3, gb3]


def make(impl):
    if impl != "numpy":
        return _autograd(impl)[2]
    params, x, target, onehot = init()

    def step():
        loss, gs = _numpy_grads(params, x, target, onehot)
        for p, g in zip(params, gs):
            p -= LR * g
        return loss

    return step


def grads(impl):
    if impl == "numpy":
        loss, gs = _numpy_grads(*init())
        return [np.asarray(loss)] + gs
    params, loss_backward, _ = _autograd(impl)
    loss = loss_backward()
    return [loss] + [p.grad for p in params]
