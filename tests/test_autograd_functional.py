"""autograd.functional (vjp, jvp, jacobian, hessian, hvp, vhp) against torch.autograd.functional."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import functional as F

RNG = np.random.default_rng(0)
X = RNG.standard_normal(4)
W1 = RNG.standard_normal((4, 5)) * 0.5
W2 = RNG.standard_normal((5, 3)) * 0.5
T = RNG.standard_normal(3)


def mlp_loss(x, w1, w2, lib):
    h = lib.tanh(x @ w1)
    y = h @ w2
    return ((y - lib.as_tensor(T)) ** 2).mean()


def softmaxish(x, lib):
    e = lib.exp(x - x.sum() / 4)
    return e / e.sum()


def poly(x):
    return 3 * x ** 3 - 2 * x ** 2 + x - 5


FUNCS = {
    "mlp": lambda lib: (lambda x: mlp_loss(x, lib.as_tensor(W1), lib.as_tensor(W2), lib)),
    "softmax": lambda lib: (lambda x: softmaxish(x, lib)),
    "poly": lambda lib: poly,
}


def _both(x):
    import torch

    return cr.tensor(x), torch.tensor(x)


def _np(t):
    if isinstance(t, tuple):
        return tuple(_np(u) for u in t)
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _close(a, b, **kw):
    a, b = _np(a), _np(b)
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y, **kw)
        return
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10, **kw)


@pytest.mark.torch
@pytest.mark.parametrize("name", list(FUNCS))
@pytest.mark.parametrize("vectorize", [False, True])
def test_jacobian_matches_torch(name, vectorize):
    import torch
    import torch.autograd.functional as TF

    xc, xt = _both(X)
    _close(F.jacobian(FUNCS[name](cr), xc, vectorize=vectorize),
           TF.jacobian(FUNCS[name](torch), xt, vectorize=vectorize))


@pytest.mark.torch
def test_jacobian_forward_mode_and_tuples():
    import torch
    import torch.autograd.functional as TF

    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal(3)

    def f(lib):
        return lambda x, y: (lib.tanh(x * y), (x @ y).sum() * y)

    ins_c, ins_t = (cr.tensor(a), cr.tensor(b)), (torch.tensor(a), torch.tensor(b))
    expected = TF.jacobian(f(torch), ins_t)
    _close(F.jacobian(f(cr), ins_c), expected)
    _close(F.jacobian(f(cr), ins_c, vectorize=True, strategy="forward-mode"), expected)
    # tensor input, tuple output / tuple input, tensor output
    _close(F.jacobian(lambda x: (x.exp(), x * 2), ins_c[0]),
           TF.jacobian(lambda x: (x.exp(), x * 2), ins_t[0]))
    _close(F.jacobian(lambda x, y: x * y, ins_c), TF.jacobian(lambda x, y: x * y, ins_t))


@pytest.mark.torch
@pytest.mark.parametrize("name", ["mlp", "poly"])
def test_hessian_hvp_vhp_match_torch(name):
    import torch
    import torch.autograd.functional as TF

    fc, ft = FUNCS[name](cr), FUNCS[name](torch)
    if name == "poly":
        fc0, ft0 = fc, ft
        fc, ft = (lambda x: fc0(x).sum()), (lambda x: ft0(x).sum())
    xc, xt = _both(X)
    vc, vt = _both(RNG.standard_normal(4))
    _close(F.hessian(fc, xc), TF.hessian(ft, xt))
    _close(F.hessian(fc, xc, vectorize=True), TF.hessian(ft, xt, vectorize=True))
    _close(F.hessian(fc, xc, vectorize=True, outer_jacobian_strategy="forward-mode"),
           TF.hessian(ft, xt))
    _close(F.hvp(fc, xc, vc), TF.hvp(ft, xt, vt))
    _close(F.vhp(fc, xc, vc), TF.vhp(ft, xt, vt))


@pytest.mark.torch
def test_hessian_of_several_inputs():
    import torch
    import torch.autograd.functional as TF

    x, w1, w2 = X, W1, W2

    def f(lib):
        return lambda x, a, b: mlp_loss(x, a, b, lib)

    hc = F.hessian(f(cr), (cr.tensor(x), cr.tensor(w1), cr.tensor(w2)))
    ht = TF.hessian(f(torch), (torch.tensor(x), torch.tensor(w1), torch.tensor(w2)))
    assert len(hc) == 3 and all(len(r) == 3 for r in hc)
    _close(hc, ht)


@pytest.mark.torch
@pytest.mark.parametrize("name", list(FUNCS))
def test_vjp_jvp_match_torch(name):
    import torch
    import torch.autograd.functional as TF

    fc, ft = FUNCS[name](cr), FUNCS[name](torch)
    xc, xt = _both(X)
    out_shape = tuple(ft(xt).shape)
    uc, ut = _both(RNG.standard_normal(out_shape))
    vc, vt = _both(RNG.standard_normal(4))
    _close(F.vjp(fc, xc, uc), TF.vjp(ft, xt, ut))
    _close(F.jvp(fc, xc, vc), TF.jvp(ft, xt, vt))


def test_create_graph_makes_results_differentiable():
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    j = F.jacobian(lambda x: x ** 3, x, create_graph=True)
    assert j.requires_grad
    (g,) = cr.autograd.grad(j.sum(), x)
    np.testing.assert_allclose(g.numpy(), 6 * x.detach().numpy())
    j2 = F.jacobian(lambda x: x ** 3, x)
    assert not j2.requires_grad
    _, jv = F.jvp(lambda x: x ** 3, x, cr.ones(2, dtype=cr.float64), create_graph=True)
    (g,) = cr.autograd.grad(jv.sum(), x)
    np.testing.assert_allclose(g.numpy(), 6 * x.detach().numpy())


@pytest.mark.torch
def test_errors_match_torch():
    import torch
    import torch.autograd.functional as TF

    def msg(fn, *args, **kw):
        with pytest.raises(Exception) as e:
            fn(*args, **kw)
        return type(e.value), str(e.value).replace("chainrule.", "torch.")

    xc, xt = _both(X)
    for fns in [("jacobian", lambda x: x.detach() * 2, {"strict": True}),
                ("hessian", lambda x: x * 2, {}),
                ("jacobian", lambda x: x, {"strategy": "forward-mode"}),
                ("jvp", lambda x: x * 2, {}),
                ("vjp", lambda x: x * 2, {})]:
        name, f, kw = fns
        assert msg(getattr(F, name), f, xc, **kw) == msg(getattr(TF, name), f, xt, **kw)
    assert msg(F.jvp, lambda x: x * 2, xc, cr.ones(2, dtype=cr.float64)) == \
        msg(TF.jvp, lambda x: x * 2, xt, torch.ones(2, dtype=torch.float64))
    assert msg(F.jacobian, lambda x: x, 3) == msg(TF.jacobian, lambda x: x, 3)


@pytest.mark.torch
def test_strict_mode_independent_input():
    import torch.autograd.functional as TF

    xc, xt = _both(X)
    f = (lambda lib: lambda x, y: x * 2)
    with pytest.raises(RuntimeError) as ec:
        F.vjp(f(cr), (xc, xc), cr.ones(4, dtype=cr.float64), strict=True)
    import torch

    with pytest.raises(RuntimeError) as et:
        TF.vjp(f(torch), (xt, xt), torch.ones(4, dtype=torch.float64), strict=True)
    assert str(ec.value) == str(et.value)
    # non-strict: zeros
    _, (_, g1) = F.vjp(f(cr), (xc, xc), cr.ones(4, dtype=cr.float64))
    np.testing.assert_array_equal(g1.numpy(), np.zeros(4))


def test_batched_grad_equals_rows():
    x = cr.tensor(X, requires_grad=True)
    y = cr.tanh(x) * x.sum()
    basis = cr.tensor(np.eye(4))
    (jac,) = cr.autograd.functional._batched_grad((y,), (x,), (basis,), True, False, False)
    for k in range(4):
        (row,) = cr.autograd.grad(y, x, cr.tensor(np.eye(4)[k]), retain_graph=True)
        np.testing.assert_allclose(jac.numpy()[k], row.numpy())


@pytest.mark.torch
def test_is_grads_batched_matches_torch():
    import torch

    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        w = lib.tensor(W1, requires_grad=True)
        y = lib.tanh(x @ w)
        v = lib.tensor(np.arange(15.0).reshape(3, 5) / 7)
        return lib.autograd.grad(y, (x, w), v, is_grads_batched=True)

    for a, b in zip(run(cr), run(torch)):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_is_grads_batched_shape_error():
    x = cr.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="first dimension of each grad_output"):
        cr.autograd.grad(x * 2, x, cr.ones(4), is_grads_batched=True)


@pytest.mark.torch
def test_vectorized_jacobian_is_one_batched_backward_and_matches_torch(monkeypatch):
    """jacobian(vectorize=True), jacrev and grad(is_grads_batched=True): one reverse pass
    for all the one-hot cotangents (not one per row), with torch's values."""
    import torch

    import chainrule.autograd.functional as F

    calls = []
    orig = F._batched_backward

    def counted(*args, **kwargs):
        res = orig(*args, **kwargs)
        calls.append(res is not None)
        return res

    monkeypatch.setattr(F, "_batched_backward", counted)
    rng = np.random.default_rng(0)
    W, b, x0 = rng.standard_normal((4, 3)), rng.standard_normal(4), rng.standard_normal((2, 3))

    def make(L):
        Wt, bt = L.tensor(W), L.tensor(b)
        return lambda x: (L.tanh(x @ Wt.T + bt) * x.sum(1, keepdim=True)).softmax(-1)

    ours = cr.autograd.functional.jacobian(make(cr), cr.tensor(x0), vectorize=True)
    theirs = torch.autograd.functional.jacobian(make(torch), torch.tensor(x0), vectorize=True)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14)
    assert calls == [True]
    rev = cr.func.jacrev(make(cr))(cr.tensor(x0))
    np.testing.assert_allclose(rev.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14)
    assert calls == [True, True]


def test_batched_backward_falls_back_to_rows_for_custom_functions_and_hooks():
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * g * x * x

    x = cr.tensor([1.0, -2.0, 0.5], requires_grad=True)
    y = Cube.apply(x) * 2
    (jac,) = cr.autograd.grad(y, x, cr.eye(3), is_grads_batched=True)
    np.testing.assert_allclose(jac.numpy(), np.diag(6 * x.detach().numpy() ** 2))
    seen = []
    z = x * 3
    z.register_hook(lambda g: seen.append(tuple(g.shape)))
    (jac,) = cr.autograd.grad(z.sin(), x, cr.eye(3), is_grads_batched=True)
    np.testing.assert_allclose(jac.numpy(), np.diag(3 * np.cos(3 * x.detach().numpy())))
    assert seen == [(3,)] * 3  # hooks take the row loop: the hook sees each row
