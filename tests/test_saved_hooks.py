"""saved_tensors_hooks: pack at save time, unpack in backward, compared with PyTorch."""
import numpy as np
import pytest

import chainrule as cr


def _run(lib):
    calls = []

    def pack(t):
        calls.append(("pack", tuple(t.shape)))
        return t * 2  # what is stored is transformed ...

    def unpack(t):
        calls.append(("unpack", tuple(t.shape)))
        return t / 2  # ... and undone: gradients must not change

    a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = lib.tensor([[0.5, -1.0], [2.0, 0.25], [1.0, 1.0]], requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = ((a.exp() * a) @ w).tanh().sum()
    y.backward()
    return a.grad.numpy().copy(), w.grad.numpy().copy(), calls


@pytest.mark.torch
def test_hooks_are_called_and_gradients_match_torch():
    import torch

    ga, gw, calls = _run(cr)
    ta, tw, tcalls = _run(torch)
    np.testing.assert_allclose(ga, ta, rtol=1e-6)
    np.testing.assert_allclose(gw, tw, rtol=1e-6)
    n_pack = sum(1 for c in calls if c[0] == "pack")
    assert n_pack > 0 and n_pack == sum(1 for c in calls if c[0] == "unpack")
    assert n_pack == sum(1 for c in tcalls if c[0] == "pack")


def test_unpack_result_is_what_backward_uses():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t * 0):
        y = (a * a).sum()  # saves a twice; unpacking to zeros zeroes the gradient
    y.backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])


def test_ops_outside_the_context_are_not_packed():
    calls = []
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.autograd.graph.saved_tensors_hooks(lambda t: calls.append(1) or t, lambda t: t):
        pass
    (a * a).sum().backward()
    assert calls == []
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 4.0])


def _custom_function_run(lib):
    calls = []

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            y = x ** 3 * w
            ctx.save_for_backward(x, w, y)
            return y

        @staticmethod
        def backward(ctx, g):
            x, w, y = ctx.saved_tensors
            return g * 3 * x ** 2 * w, g * y / w

    def pack(t):
        calls.append(("pack", tuple(t.shape)))
        return t * 2

    def unpack(t):
        calls.append(("unpack", tuple(t.shape)))
        return t / 2

    x = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
    w = lib.tensor([2.0, 3.0, -1.0], requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = Cube.apply(x, w)
    y.sum().backward()
    return x.grad.numpy().copy(), w.grad.numpy().copy(), calls


@pytest.mark.torch
def test_custom_function_saved_tensors_are_packed_like_torch():
    import torch

    gx, gw, calls = _custom_function_run(cr)
    tx, tw, tcalls = _custom_function_run(torch)
    np.testing.assert_allclose(gx, tx.astype(np.float64), rtol=1e-6)
    np.testing.assert_allclose(gw, tw.astype(np.float64), rtol=1e-6)
    assert calls == tcalls  # three packs at save time, three unpacks in backward


def test_custom_function_unpacked_value_is_what_backward_reads():
    class Square(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t * 0):
        y = Square.apply(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


@pytest.mark.torch
def test_pack_runs_without_grad_and_numbers_are_not_packed_like_torch():
    import torch

    def run(lib):
        calls = []

        def pack(t):
            calls.append((tuple(t.shape), lib.is_grad_enabled()))
            return t * 2

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(pack, lambda t: t / 2):
            y = ((x * 3.0) / 2.0).exp() * x
        y.sum().backward()
        return calls, x.grad.numpy().astype(np.float64)

    ours, g = run(cr)
    theirs, tg = run(torch)
    assert ours == theirs
    np.testing.assert_allclose(g, tg, rtol=1e-6)
