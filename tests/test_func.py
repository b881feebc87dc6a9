"""chainrule.func (grad, vjp, jvp, jacrev, jacfwd, hessian, vmap) against torch.func."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import func as CF

RNG = np.random.default_rng(1)
X = RNG.standard_normal(4)
XB = RNG.standard_normal((3, 4))
W1 = RNG.standard_normal((4, 5)) * 0.5
W2 = RNG.standard_normal((5, 3)) * 0.5
T = RNG.standard_normal(3)


def mlp_loss(lib):
    def f(x, w1, w2):
        h = lib.tanh(x @ w1)
        return ((h @ w2 - lib.as_tensor(T)) ** 2).mean()
    return f


def softmaxish(lib):
    def f(x):
        e = lib.exp(x - x.sum(-1, keepdim=True) / 4)
        return e / e.sum(-1, keepdim=True)
    return f


def poly(lib):
    return lambda x: (3 * x ** 3 - 2 * x ** 2 + x - 5)


def _np(t):
    if isinstance(t, (tuple, list)):
        return tuple(_np(u) for u in t)
    if isinstance(t, dict):
        return {k: _np(v) for k, v in t.items()}
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _close(a, b):
    a, b = _np(a), _np(b)
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y)
        return
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _close(a[k], b[k])
        return
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


def _args(*arrays):
    import torch

    return tuple(cr.tensor(a) for a in arrays), tuple(torch.tensor(a) for a in arrays)


@pytest.mark.torch
def test_grad_argnums_and_value():
    import torch
    import torch.func as TF

    c, t = _args(X, W1, W2)
    fc, ft = mlp_loss(cr), mlp_loss(torch)
    for argnums in [0, 1, (0, 2), (2, 1, 0)]:
        _close(CF.grad(fc, argnums)(*c), TF.grad(ft, argnums)(*t))
        _close(CF.grad_and_value(fc, argnums)(*c), TF.grad_and_value(ft, argnums)(*t))
    g = CF.grad(fc)(*c)
    assert not g.requires_grad  # nothing outside required grad: a plain tensor


@pytest.mark.torch
def test_grad_has_aux_and_dict_params():
    import torch
    import torch.func as TF

    def f(lib):
        def loss(p, x):
            out = lib.tanh(x @ p["w"]) * p["s"]
            return out.sum(), out
        return loss

    pc = {"w": cr.tensor(W1), "s": cr.tensor(2.0, dtype=cr.float64)}
    pt = {"w": torch.tensor(W1), "s": torch.tensor(2.0, dtype=torch.float64)}
    gc, auxc = CF.grad(f(cr), has_aux=True)(pc, cr.tensor(X))
    gt, auxt = TF.grad(f(torch), has_aux=True)(pt, torch.tensor(X))
    _close(gc, gt)
    _close(auxc, auxt)


@pytest.mark.torch
@pytest.mark.parametrize("make", [softmaxish, poly])
def test_jacrev_jacfwd_vjp_jvp(make):
    import torch
    import torch.func as TF

    (xc,), (xt,) = _args(X)
    fc, ft = make(cr), make(torch)
    expected = TF.jacrev(ft)(xt)
    _close(CF.jacrev(fc)(xc), expected)
    _close(CF.jacfwd(fc)(xc), expected)
    (vc,), (vt,) = _args(RNG.standard_normal(4))
    _close(CF.jvp(fc, (xc,), (vc,)), TF.jvp(ft, (xt,), (vt,)))
    oc, fnc = CF.vjp(fc, xc)
    ot, fnt = TF.vjp(ft, xt)
    _close(oc, ot)
    _close(fnc(vc), fnt(vt))


@pytest.mark.torch
def test_jacobians_of_several_inputs_and_outputs():
    import torch
    import torch.func as TF

    def f(lib):
        return lambda x, w: (lib.tanh(x @ w), (x * x).sum())

    c, t = _args(X, W1)
    for argnums in [0, (0, 1)]:
        _close(CF.jacrev(f(cr), argnums)(*c), TF.jacrev(f(torch), argnums)(*t))
        _close(CF.jacfwd(f(cr), argnums)(*c), TF.jacfwd(f(torch), argnums)(*t))


@pytest.mark.torch
def test_hessian_and_composition():
    import torch
    import torch.func as TF

    c, t = _args(X, W1, W2)
    fc, ft = mlp_loss(cr), mlp_loss(torch)
    expected = TF.hessian(ft)(*t)
    _close(CF.hessian(fc)(*c), expected)
    _close(CF.jacfwd(CF.jacrev(fc))(*c), expected)
    _close(CF.jacrev(CF.jacrev(fc))(*c), expected)
    _close(CF.jacrev(CF.jacfwd(fc))(*c), expected)
    _close(CF.hessian(fc, argnums=(0, 2))(*c), TF.hessian(ft, argnums=(0, 2))(*t))


def test_third_derivative():
    x = cr.tensor([0.5, -1.0, 2.0], dtype=cr.float64)
    d3 = CF.grad(lambda x: CF.grad(lambda x: CF.grad(lambda x: (x ** 4).sum())(x).sum())(x).sum())
    np.testing.assert_allclose(d3(x).numpy(), 24 * x.numpy())


def test_closure_is_not_confused_with_argument():
    # d/dx [ d/dy sum(x * y) at y = x ].sum() = d/dx sum(x) = 1 (torch.func agrees)
    x = cr.tensor([1.0, 2.0], dtype=cr.float64)
    g = CF.grad(lambda x: CF.grad(lambda y: (x * y).sum())(x).sum())(x)
    np.testing.assert_array_equal(g.numpy(), [1.0, 1.0])


def test_grad_stays_differentiable_wrt_outer_tensors():
    w = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    x = cr.tensor([3.0, 4.0], dtype=cr.float64)
    g = CF.grad(lambda x: ((x * w) ** 2).sum())(x)  # 2 x w^2
    assert g.requires_grad
    g.sum().backward()  # d/dw sum(2 x w^2) = 4 x w
    np.testing.assert_allclose(w.grad.numpy(), 4 * x.numpy() * w.detach().numpy())


@pytest.mark.torch
@pytest.mark.parametrize("make", [softmaxish, poly])
def test_vmap_broadcasting_function(make):
    import torch
    import torch.func as TF

    (xc,), (xt,) = _args(XB)
    _close(CF.vmap(make(cr))(xc), TF.vmap(make(torch))(xt))
    _close(CF.vmap(make(cr), in_dims=1, out_dims=1)(xc.T), TF.vmap(make(torch), 1, 1)(xt.T))


@pytest.mark.torch
def test_vmap_non_broadcasting_function_falls_back_to_loop():
    import torch.func as TF

    def f(x, w):  # the full sum and x @ w (w unbatched) are not batch-friendly as written
        return x.sum() * (w.t() @ x)

    (xc, wc), (xt, wt) = _args(XB, RNG.standard_normal((4, 2)))
    _close(CF.vmap(f, in_dims=(0, None))(xc, wc), TF.vmap(f, in_dims=(0, None))(xt, wt))


@pytest.mark.torch
def test_vmap_of_grad_and_jacrev():
    import torch
    import torch.func as TF

    c, t = _args(XB, W1, W2)
    _close(CF.vmap(CF.grad(mlp_loss(cr)), in_dims=(0, None, None))(*c),
           TF.vmap(TF.grad(mlp_loss(torch)), in_dims=(0, None, None))(*t))
    _close(CF.vmap(CF.jacrev(softmaxish(cr)))(c[0]), TF.vmap(TF.jacrev(softmaxish(torch)))(t[0]))


def test_vmap_errors():
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        CF.vmap(lambda a, b: a + b)(cr.ones(2, 3), cr.ones(3, 3))
    with pytest.raises(ValueError, match="in_dims"):
        CF.vmap(lambda a, b: a + b, in_dims=(0,))(cr.ones(2), cr.ones(2))


def test_grad_errors():
    with pytest.raises(RuntimeError, match="scalar Tensor"):
        CF.grad(lambda x: x * 2)(cr.ones(3))
    with pytest.raises(RuntimeError, match="tuple: \\(output, aux\\)"):
        CF.grad(lambda x: x.sum(), has_aux=True)(cr.ones(3))


def test_vmap_runs_broadcasting_functions_on_the_whole_batch():
    calls = []

    def f(x):
        calls.append(tuple(x.shape))
        return cr.tanh(x) * 2

    x = cr.tensor(RNG.standard_normal((50, 3)))
    out = CF.vmap(f)(x)
    np.testing.assert_allclose(out.numpy(), np.tanh(x.numpy()) * 2)
    assert calls[0] == (50, 3) and len(calls) <= 3  # one batched call + two spot checks
    calls.clear()
    CF.vmap(f, chunk_size=1)(x)  # chunk_size=1 forces the per-sample loop
    assert len(calls) == 50


@pytest.mark.torch
def test_functional_call_per_sample_grads():
    import torch
    import torch.func as TF

    m = cr.nn.Linear(3, 2)
    tm = torch.nn.Linear(3, 2)
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(m.weight.detach().numpy()))
        tm.bias.copy_(torch.tensor(m.bias.detach().numpy()))
    xd = RNG.standard_normal((5, 3)).astype(np.float32)
    pc = {k: v.detach() for k, v in m.named_parameters()}
    pt = {k: v.detach() for k, v in tm.named_parameters()}

    def loss(lib, call, mod):
        return lambda p, xi: (call(mod, p, (xi.unsqueeze(0),)) ** 2).sum()

    gc = CF.vmap(CF.grad(loss(cr, CF.functional_call, m)), in_dims=(None, 0))(pc, cr.tensor(xd))
    gt = TF.vmap(TF.grad(loss(torch, TF.functional_call, tm)), in_dims=(None, 0))(
        pt, torch.tensor(xd))
    assert gc.keys() == gt.keys()
    for k in gc:
        np.testing.assert_allclose(gc[k].numpy(), gt[k].numpy(), rtol=1e-5, atol=1e-6)
    # the module's own parameters are untouched
    np.testing.assert_array_equal(m.weight.detach().numpy(), tm.weight.detach().numpy())


@pytest.mark.torch
def test_stack_module_state_and_ensemble_vmap_like_torch():
    import copy

    import torch

    rng = np.random.default_rng(0)
    ws = [(rng.standard_normal((2, 3)), rng.standard_normal(2)) for _ in range(4)]
    x = rng.standard_normal((5, 3))
    outs = []
    for L in (cr, torch):
        models = []
        for w, b in ws:
            m = L.nn.Linear(3, 2).double()
            with L.no_grad():
                m.weight.copy_(L.tensor(w))
                m.bias.copy_(L.tensor(b))
            models.append(m)
        params, buffers = L.func.stack_module_state(models)
        assert all(p.is_leaf and p.requires_grad for p in params.values())
        base = copy.deepcopy(models[0])
        y = L.func.vmap(lambda p, b, xx: L.func.functional_call(base, (p, b), (xx,)),
                        in_dims=(0, 0, None))(params, buffers, L.tensor(x))
        y.sum().backward()
        outs.append((y.detach().numpy(), params["weight"].grad.numpy()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-12)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-12)
