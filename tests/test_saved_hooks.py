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
