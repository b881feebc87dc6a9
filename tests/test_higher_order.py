"""Higher-order derivatives (create_graph chains) and forward-mode AD, against torch."""
import importlib

import numpy as np
import pytest

import chainrule as cr

fwAD = importlib.import_module("chainrule.autograd.forward_ad")

RNG = np.random.default_rng(4)
X = RNG.standard_normal(5)


def _nth(lib, f, x, n):
    """[f'(x), f''(x), ..., f^(n)(x)] elementwise, by repeated autograd.grad."""
    out, y = [], f(x)
    for _ in range(n):
        (y,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        out.append(y.detach().numpy().copy())
    return out


def test_third_derivative_of_x4_is_24x():
    x = cr.tensor(X, requires_grad=True)
    d1, d2, d3, d4 = _nth(cr, lambda x: x ** 4, x, 4)
    np.testing.assert_allclose(d1, 4 * X ** 3, rtol=1e-12)
    np.testing.assert_allclose(d2, 12 * X ** 2, rtol=1e-12)
    np.testing.assert_allclose(d3, 24 * X, rtol=1e-12)
    np.testing.assert_allclose(d4, np.full_like(X, 24.0))


@pytest.mark.torch
@pytest.mark.parametrize("name", ["tanh", "sigmoid", "exp_log", "div", "softmaxish"])
def test_nth_derivatives_match_torch(name):
    import torch

    fns = {
        "tanh": lambda lib: (lambda x: lib.tanh(x) * x),
        "sigmoid": lambda lib: (lambda x: lib.sigmoid(x * 2) ** 2),
        "exp_log": lambda lib: (lambda x: lib.log(lib.exp(x) + 1) * x),
        "div": lambda lib: (lambda x: x / (x * x + 1)),
        "softmaxish": lambda lib: (lambda x: lib.exp(x) / lib.exp(x).sum()),
    }
    got = _nth(cr, fns[name](cr), cr.tensor(X, requires_grad=True), 3)
    exp = _nth(torch, fns[name](torch), torch.tensor(X, requires_grad=True), 3)
    for g, e in zip(got, exp):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
def test_mlp_mixed_second_derivatives_match_torch():
    import torch

    xd, wd = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))

    def run(lib):
        x = lib.tensor(xd, requires_grad=True)
        w = lib.tensor(wd, requires_grad=True)
        loss = (lib.tanh(x @ w) ** 2).mean()
        gx, gw = lib.autograd.grad(loss, (x, w), create_graph=True)
        penalty = (gx * gx).sum() + (gw ** 3).sum()
        return [t.numpy().copy() for t in lib.autograd.grad(penalty, (x, w))]

    for a, b in zip(run(cr), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# ======================================================================================
# forward-mode AD
# ======================================================================================
def _fw_jvp(lib, fw, f, xd, td):
    with fw.dual_level():
        d = fw.make_dual(lib.tensor(xd), lib.tensor(td))
        p, t = fw.unpack_dual(f(d))
        return p.numpy().copy(), t.numpy().copy()


@pytest.mark.torch
@pytest.mark.parametrize("which", ["mlp", "softmax", "poly"])
def test_forward_ad_matches_torch(which):
    import torch
    import torch.autograd.forward_ad as tfw

    w = RNG.standard_normal((5, 3))
    fns = {
        "mlp": lambda lib: (lambda x: lib.tanh(x @ lib.tensor(w)).sum() * x),
        "softmax": lambda lib: (lambda x: lib.exp(x) / lib.exp(x).sum()),
        "poly": lambda lib: (lambda x: 3 * x ** 3 - x ** 2 + 2),
    }
    td = RNG.standard_normal(5)
    pc, tc = _fw_jvp(cr, fwAD, fns[which](cr), X, td)
    pt, tt = _fw_jvp(torch, tfw, fns[which](torch), X, td)
    np.testing.assert_allclose(pc, pt, rtol=1e-12)
    np.testing.assert_allclose(tc, tt, rtol=1e-10, atol=1e-12)


def test_forward_ad_two_duals_and_non_duals():
    with fwAD.dual_level():
        a = fwAD.make_dual(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 0.0]))
        b = fwAD.make_dual(cr.tensor([3.0, 4.0]), cr.tensor([0.0, 1.0]))
        c = cr.tensor([5.0, 6.0])
        p, t = fwAD.unpack_dual(a * b + c)
        # d(ab) = a' b + a b'
        np.testing.assert_allclose(t.numpy(), [1 * 3 + 0, 0 + 2 * 1])
        assert not p.requires_grad
        assert fwAD.unpack_dual(c).tangent is None
        assert fwAD.unpack_dual(c * 2).tangent is None
        assert fwAD.unpack_dual(a).tangent is not None
    assert fwAD.unpack_dual(a).tangent is None  # the level is gone
    assert not a.requires_grad


@pytest.mark.torch
def test_forward_ad_errors_match_torch():
    import torch
    import torch.autograd.forward_ad as tfw

    def msg(lib, fw, fn):
        with pytest.raises(Exception) as e:
            fn(lib, fw)
        return type(e.value), str(e.value)

    def no_level(lib, fw):
        fw.make_dual(lib.ones(2), lib.ones(2))

    def bad_size(lib, fw):
        with fw.dual_level():
            fw.make_dual(lib.ones(2), lib.ones(3))

    def nested(lib, fw):
        with fw.dual_level(), fw.dual_level():
            pass

    for fn in (no_level, bad_size, nested):
        assert msg(cr, fwAD, fn) == msg(torch, tfw, fn)


def test_backward_over_forward():
    # tangent of sum(w**3) along v is 3 sum(w**2 v); its gradient w.r.t. w is 6 w v
    w = cr.tensor(X, requires_grad=True)
    v = RNG.standard_normal(5)
    with fwAD.dual_level():
        d = fwAD.make_dual(w, cr.tensor(v))
        t = fwAD.unpack_dual((d ** 3).sum()).tangent
    assert t.requires_grad
    t.backward()
    np.testing.assert_allclose(w.grad.numpy(), 6 * X * v, rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
def test_fused_tanh_sigmoid_backward_nodes_to_third_order_like_torch(act):
    """Under create_graph, tanh's and sigmoid's backward are one node each, named as torch
    names them; their own derivatives (to third order) and jvp agree with torch."""
    import torch

    res = []
    for L in (cr, torch):
        x = L.tensor(np.array([0.3, -1.2, 2.0, 0.0]), requires_grad=True)
        (g1,) = L.autograd.grad(getattr(x, act)().sum(), x, create_graph=True)
        (g2,) = L.autograd.grad((g1 * g1).sum(), x, create_graph=True)
        (g3,) = L.autograd.grad(g2.sum(), x)
        res.append((g1.grad_fn.name(), g1.detach().numpy(), g2.detach().numpy(), g3.numpy()))
    assert res[0][0] == res[1][0] == f"{act.capitalize()}BackwardBackward0"
    for ours, theirs in zip(res[0][1:], res[1][1:]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    x = cr.tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    assert cr.autograd.gradgradcheck(lambda t: getattr(t, act)(), (x,))
