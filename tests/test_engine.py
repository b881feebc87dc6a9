"""The backward engine: graph shapes, accumulation, retain_graph, VJPs, grad(), inputs=."""
import warnings

import numpy as np
import pytest

import chainrule as cr

rng = np.random.default_rng(0)


def _leaves(lib, *arrays):
    return [lib.tensor(a, requires_grad=True) for a in arrays]


def _np(t):
    return t.detach().numpy()


def _assert_close(a, b):
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-10, atol=1e-12)


def _run_both(fn, *arrays):
    """Run ``fn(lib, *leaves)`` (which calls backward) in chainrule and torch; compare .grad."""
    import torch

    ours = _leaves(cr, *arrays)
    theirs = _leaves(torch, *arrays)
    fn(cr, *ours)
    fn(torch, *theirs)
    for a, b in zip(ours, theirs):
        assert (a.grad is None) == (b.grad is None)
        if a.grad is not None:
            _assert_close(a.grad, b.grad)
    return ours, theirs


# -- graph shapes ------------------------------------------------------------------------
@pytest.mark.torch
def test_diamond():
    def fn(lib, x):
        a = x * 2
        b = a.exp()
        c = a.tanh()
        (b * c).sum().backward()

    _run_both(fn, rng.standard_normal(4))


@pytest.mark.torch
def test_nested_diamonds():
    def fn(lib, x, y):
        h = x * y
        for _ in range(5):
            h = h.sigmoid() * h + h.tanh()
        (h.sum() + (x * h).mean()).backward()

    _run_both(fn, rng.standard_normal((3, 2)), rng.standard_normal((3, 2)))


@pytest.mark.torch
def test_tensor_reused_many_times():
    def fn(lib, x):
        total = x * 0
        for i in range(200):
            total = total + x * (i % 7)
        (total * x).sum().backward()

    _run_both(fn, rng.standard_normal(5))


@pytest.mark.torch
def test_same_tensor_both_operands():
    def fn(lib, x):
        (x * x + x / (x + 3) - x).sum().backward()

    _run_both(fn, rng.standard_normal(6))


@pytest.mark.torch
def test_wide_fan_in():
    def fn(lib, *xs):
        s = xs[0]
        for x in xs[1:]:
            s = s + x * x
        s.sum().backward()

    _run_both(fn, *[rng.standard_normal(3) for _ in range(50)])


@pytest.mark.torch
def test_broadcasting_gradients():
    def fn(lib, a, b, c):
        ((a + b) * c).sum().backward()

    _run_both(fn, rng.standard_normal((4, 1, 3)), rng.standard_normal((5, 1)),
              rng.standard_normal(3))


@pytest.mark.torch
def test_matmul_graph():
    def fn(lib, w1, w2, x):
        h = (x @ w1).relu()
        ((h @ w2).sigmoid() ** 2).mean().backward()

    _run_both(fn, rng.standard_normal((4, 6)), rng.standard_normal((6, 2)),
              rng.standard_normal((3, 4)))


@pytest.mark.torch
def test_leaf_not_requiring_grad_gets_nothing():
    import torch

    for lib in (cr, torch):
        x = lib.tensor(rng.standard_normal(3), requires_grad=True)
        c = lib.tensor(rng.standard_normal(3))
        (x * c).sum().backward()
        assert c.grad is None and x.grad is not None


# -- retain_graph and accumulation -----------------------------------------------------------
@pytest.mark.torch
def test_retain_graph_twice_accumulates():
    def fn(lib, x):
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward(retain_graph=True)
        y.backward()

    _run_both(fn, rng.standard_normal(4))


@pytest.mark.torch
def test_accumulation_across_graphs():
    def fn(lib, x, w):
        for k in range(3):
            ((x * w).sum() * (k + 1)).backward()

    _run_both(fn, rng.standard_normal(3), rng.standard_normal(3))


@pytest.mark.torch
def test_grad_reset_between_calls():
    import torch

    for lib in (cr, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * 3).sum().backward()
        x.grad = None
        (x * x).sum().backward()
        np.testing.assert_allclose(_np(x.grad), [2.0, 4.0])


def test_accumulation_does_not_alias_user_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    g = cr.tensor([1.0, 1.0])
    (x * 1).backward(g)
    (x * 1).backward(g)
    np.testing.assert_allclose(_np(g), [1.0, 1.0])
    np.testing.assert_allclose(_np(x.grad), [2.0, 2.0])


def test_grads_of_two_leaves_do_not_alias():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([3.0, 4.0], requires_grad=True)
    (x + y).sum().backward()
    x.grad.add_(1) if hasattr(x.grad, "add_") else x.grad.fill_(5.0)
    np.testing.assert_allclose(_np(y.grad), [1.0, 1.0])


# -- backward(gradient): vector-Jacobian products ------------------------------------------------
@pytest.mark.torch
def test_backward_with_gradient_is_vjp():
    import torch

    v = rng.standard_normal((3, 4))

    def fn(lib, a, b):
        out = (a @ b).tanh()
        out.backward(lib.tensor(v))

    _run_both(fn, rng.standard_normal((3, 5)), rng.standard_normal((5, 4)))
    del torch


@pytest.mark.torch
def test_autograd_backward_several_roots():
    def fn(lib, x):
        y1 = (x * 2).sum()
        y2 = x.exp()
        lib.autograd.backward([y1, y2], [lib.tensor(1.5), lib.ones_like(y2)])

    _run_both(fn, rng.standard_normal(3))


@pytest.mark.torch
def test_backward_gradient_on_scalar():
    def fn(lib, x):
        (x ** 3).sum().backward(lib.tensor(2.0, dtype=lib.float64))

    _run_both(fn, rng.standard_normal(3))


# -- autograd.grad -----------------------------------------------------------------------------
@pytest.mark.torch
def test_grad_returns_and_leaves_grad_untouched():
    import torch

    arr = rng.standard_normal(4)
    res = []
    for lib in (cr, torch):
        x = lib.tensor(arr, requires_grad=True)
        y = lib.tensor(arr * 2, requires_grad=True)
        out = (x * y.sigmoid()).sum()
        gx, gy = lib.autograd.grad(out, (x, y))
        assert x.grad is None and y.grad is None
        res.append((_np(gx), _np(gy)))
        assert not gx.requires_grad
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12)


@pytest.mark.torch
def test_grad_allow_unused_and_materialize():
    import torch

    for lib in (cr, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        u = lib.tensor([[5.0]], requires_grad=True)
        out = (x * x).sum()
        with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
            lib.autograd.grad(out, (x, u), retain_graph=True)
        gx, gu = lib.autograd.grad(out, (x, u), allow_unused=True, retain_graph=True)
        assert gu is None
        np.testing.assert_allclose(_np(gx), [2.0, 4.0])
        gx, gu = lib.autograd.grad(out, (x, u), materialize_grads=True)
        assert tuple(gu.shape) == (1, 1) and float(gu.sum()) == 0.0
        with pytest.raises(ValueError, match="allow_unused"):
            lib.autograd.grad((x * 2).sum(), (x,), allow_unused=False, materialize_grads=True)


@pytest.mark.torch
def test_grad_of_intermediate():
    import torch

    arr = rng.standard_normal(3)
    res = []
    for lib in (cr, torch):
        x = lib.tensor(arr, requires_grad=True)
        h = x.exp()
        out = (h * h).sum()
        (gh,) = lib.autograd.grad(out, h)
        res.append(_np(gh))
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)


@pytest.mark.torch
def test_grad_with_grad_outputs():
    import torch

    arr, v = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    res = []
    for lib in (cr, torch):
        x = lib.tensor(arr, requires_grad=True)
        (g,) = lib.autograd.grad(x.tanh(), x, grad_outputs=lib.tensor(v))
        res.append(_np(g))
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)


@pytest.mark.torch
def test_grad_create_graph_second_order():
    import torch

    arr = rng.standard_normal(3)
    res = []
    for lib in (cr, torch):
        x = lib.tensor(arr, requires_grad=True)
        (g,) = lib.autograd.grad((x ** 3).sum(), x, create_graph=True)
        assert g.requires_grad
        (h,) = lib.autograd.grad(g.sum(), x)
        res.append((_np(g), _np(h)))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12)


# -- non-leaf .grad, retain_grad -----------------------------------------------------------------
@pytest.mark.torch
def test_nonleaf_grad_warns_like_torch():
    import torch

    msgs = []
    for lib in (cr, torch):
        x = lib.tensor([1.0], requires_grad=True)
        y = x * 2
        y.sum().backward()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            assert y.grad is None
        assert len(w) == 1 and w[0].category is UserWarning
        msgs.append(str(w[0].message))
    # torch appends a link to its PR and the C++ source line that raised it
    assert msgs[1].startswith(msgs[0])
    assert msgs[0].endswith("make sure you access the leaf Tensor instead.")


def test_leaf_grad_does_not_warn():
    x = cr.tensor([1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is None
        assert cr.tensor([1.0]).grad is None


@pytest.mark.torch
def test_retain_grad():
    import torch

    arr = rng.standard_normal(3)
    res = []
    for lib in (cr, torch):
        x = lib.tensor(arr, requires_grad=True)
        h = x.exp()
        h.retain_grad()
        h.retain_grad()  # twice is harmless
        assert h.retains_grad
        y = h * h
        (y.sum() + h.sum()).backward()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res.append((_np(h.grad), _np(x.grad)))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12)


@pytest.mark.torch
def test_retain_grad_accumulates_over_backward_calls():
    import torch

    res = []
    for lib in (cr, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        h.retain_grad()
        out = (h * h).sum()
        out.backward(retain_graph=True)
        out.backward()
        res.append(_np(h.grad))
    np.testing.assert_allclose(res[0], res[1])


@pytest.mark.torch
def test_retain_grad_errors_like_torch():
    import torch

    for lib in (cr, torch):
        with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has "
                                               "requires_grad=False"):
            lib.tensor([1.0]).retain_grad()


# -- inputs= ------------------------------------------------------------------------------------
@pytest.mark.torch
def test_backward_inputs_restricts_accumulation():
    def fn(lib, x, y, z):
        ((x * y).exp().sum() + (z * x).sum()).backward(inputs=[y])

    ours, _theirs = _run_both(fn, rng.standard_normal(3), rng.standard_normal(3),
                             rng.standard_normal(3))
    assert ours[0].grad is None and ours[1].grad is not None and ours[2].grad is None


@pytest.mark.torch
def test_backward_inputs_single_tensor_and_nonleaf():
    import torch

    arr = rng.standard_normal(3)
    res = []
    for lib in (cr, torch):
        x = lib.tensor(arr, requires_grad=True)
        h = x.sigmoid()
        (h * h).sum().backward(inputs=h)
        assert x.grad is None
        res.append(_np(h.grad))
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)


@pytest.mark.torch
def test_backward_inputs_empty_raises():
    import torch

    for lib in (cr, torch):
        x = lib.tensor([1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="cannot be empty"):
            (x * 2).sum().backward(inputs=[])


# -- long graphs --------------------------------------------------------------------------------
def test_long_chain_gradient_value():
    arr = np.array([0.5, 1.5])
    x = cr.tensor(arr, requires_grad=True)
    h = x
    for _ in range(3000):
        h = h * 1.001
    h.sum().backward()
    np.testing.assert_allclose(_np(x.grad), np.full(2, 1.001 ** 3000), rtol=1e-10)


# -- more graph shapes and calling conventions, each compared with torch ------------------------
def _both(fn):
    import torch

    ours, theirs = fn(cr), fn(torch)
    return ours, theirs


def _lists_close(a, b):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=1e-6)


@pytest.mark.torch
def test_leaf_as_root():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        x.backward(L.tensor([3.0, 4.0]))
        return x.grad.tolist()

    _lists_close(*_both(f))


@pytest.mark.torch
def test_grad_of_tensor_wrt_itself():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        return L.autograd.grad(x, x, L.tensor([5.0, 6.0]))[0].tolist()

    _lists_close(*_both(f))


@pytest.mark.torch
def test_backward_inputs_not_in_graph_leaves_grads_alone():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        u = L.tensor([1.0], requires_grad=True)
        (x * 2).sum().backward(inputs=[u])
        return x.grad is None, u.grad is None

    ours, theirs = _both(f)
    assert ours == theirs


@pytest.mark.torch
def test_grad_wrt_intermediate_and_leaf_together():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        z = y * 3 + x
        gy, gx = L.autograd.grad(z.sum(), [y, x])
        return gy.tolist() + gx.tolist()

    _lists_close(*_both(f))


@pytest.mark.torch
def test_double_backward_into_grad():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        (gx,) = L.autograd.grad((x * x * x).sum(), x, create_graph=True)
        (gx * gx).sum().backward()
        return x.grad.tolist()

    _lists_close(*_both(f))


@pytest.mark.torch
def test_backward_of_a_list_of_outputs():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        ys = [x * i for i in range(1, 4)]
        L.autograd.backward(ys, [L.ones(2)] * 3)
        return x.grad.tolist()

    _lists_close(*_both(f))


@pytest.mark.torch
def test_grad_then_backward_on_retained_graph():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        out = (x * x).sum()
        (gx,) = L.autograd.grad(out, x, retain_graph=True)
        out.backward()
        return gx.tolist() + x.grad.tolist()

    _lists_close(*_both(f))


@pytest.mark.torch
def test_same_output_listed_twice():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = (x * 3).sum()
        return L.autograd.grad([y, y], [x])[0].tolist()

    _lists_close(*_both(f))


@pytest.mark.torch
def test_accumulates_into_user_assigned_grad_in_place():
    def f(L):
        x = L.tensor([3.0], requires_grad=True)
        x.grad = L.tensor([1.0])
        g0 = x.grad
        (x * 2).sum().backward()
        return g0 is x.grad, x.grad.tolist()

    ours, theirs = _both(f)
    assert ours == theirs


@pytest.mark.torch
def test_gradient_dtype_follows_the_leaf():
    def f(L):
        x = L.tensor([1.0, 2.0], dtype=L.float64, requires_grad=True)
        (x.float() * 2).sum().backward()
        y = L.tensor([1.0, 2.0], requires_grad=True)
        (y * 2).backward(L.tensor([1.0, 1.0], dtype=L.float64))
        return repr(x.grad.dtype).split(".")[1], repr(y.grad.dtype).split(".")[1]

    ours, theirs = _both(f)
    assert ours == theirs


@pytest.mark.torch
def test_detached_copy_is_a_new_leaf():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = (x * 5).detach().requires_grad_()
        (y * 2).sum().backward()
        return x.grad is None, y.grad.tolist(), y.is_leaf

    ours, theirs = _both(f)
    assert ours == theirs


@pytest.mark.torch
@pytest.mark.torch
def test_inplace_on_view_of_non_leaf_rebases_base_history():
    def f(L):
        x = L.tensor([1.0, 1.0, 1.0, 1.0], requires_grad=True)
        y = x * 1
        y[:2].fill_(3.0)
        y.sum().backward()
        return x.grad.tolist()

    ours, theirs = _both(f)
    assert ours == theirs


@pytest.mark.torch
def test_node_name_of_T_property():
    def f(L):
        x = L.ones(2, 3, requires_grad=True)
        return x.T.grad_fn.name(), x.t().grad_fn.name(), x.mT.grad_fn.name()

    ours, theirs = _both(f)
    assert ours == theirs


VIEWS = {
    "getitem slice": lambda y: y[:, :1],
    "getitem int": lambda y: y[0],
    "select": lambda y: y.select(0, 1),
    "chained getitem": lambda y: y[1][1:],
    "view": lambda y: y.view(6),
    "reshape": lambda y: y.reshape(3, 2),
    "t": lambda y: y.t(),
    "transpose": lambda y: y.transpose(0, 1),
    "permute": lambda y: y.permute(1, 0),
    "unsqueeze": lambda y: y.unsqueeze(0),
    "narrow": lambda y: y.narrow(1, 0, 2),
    "flatten": lambda y: y.flatten(),
    "T": lambda y: y.T,
    "split": lambda y: y.split(1, dim=0)[1],
    "unbind": lambda y: y.unbind(0)[0],
    "diagonal": lambda y: y.diagonal(),
    "diagonal offset": lambda y: y.diagonal(1),
    "diagonal negative dims": lambda y: y.diagonal(-1, -1, -2),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(VIEWS))
def test_inplace_through_a_view_of_a_non_leaf(name):
    make_view = VIEWS[name]

    def f(L):
        x = L.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], requires_grad=True)
        y = x * 1
        try:
            make_view(y).mul_(2)
        except RuntimeError as e:  # torch refuses in-place on multi-output views
            return str(e).split(".")[0]
        (y * L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
        return x.grad.tolist(), y.tolist()

    ours, theirs = _both(f)
    assert ours == theirs


@pytest.mark.torch
def test_contiguous_copies_only_non_contiguous_tensors_like_torch():
    import torch

    for L in (cr, torch):
        m = L.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True) * 1
        c = m.T.contiguous()
        assert c.is_contiguous() and not m.T.is_contiguous()
        assert c.grad_fn.name() == "CloneBackward0"
        assert m.contiguous() is m
        c.sum().backward()
