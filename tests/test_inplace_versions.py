"""In-place writes: version tracking, PyTorch's backward error, rebased history."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.elementwise import add, mul
from chainrule.tensor import inplace


def test_modifying_a_saved_input_raises_in_backward():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = a * 3
    c = b * b  # saves b
    with cr.no_grad():
        b.fill_(5.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


def test_modifying_a_saved_output_raises_and_names_the_node():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = a.exp()  # saves its output
    with cr.no_grad():
        b.zero_()
    with pytest.raises(RuntimeError, match="ExpBackward0"):
        b.sum().backward()


def test_write_before_use_is_fine():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.zeros(2)
    x.fill_(3.0)  # modified before any node saved it
    (x * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 3.0])


def test_version_counter_counts_writes():
    x = cr.zeros(3)
    v0 = x._version
    x.fill_(1.0)
    x.zero_()
    assert x._version == v0 + 2


def test_leaf_requiring_grad_cannot_be_modified_in_place():
    w = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.zero_()
    with cr.no_grad():
        w.zero_()  # allowed: this is how optimizers and init write parameters
    assert float(w.sum()) == 0.0


@pytest.mark.torch
def test_inplace_helper_rebases_history_like_torch():
    import torch

    def run(lib, inplace_add, inplace_mul):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x = lib.zeros(3)
        inplace_add(x, w)
        inplace_mul(x, w)
        (x * 2).sum().backward()
        return x.detach().numpy().copy(), w.grad.numpy().copy()

    ours = run(cr, lambda t, o: inplace(t, add, o), lambda t, o: inplace(t, mul, o))
    ref = run(torch, lambda t, o: t.add_(o), lambda t, o: t.mul_(o))
    np.testing.assert_allclose(ours[0], ref[0])
    np.testing.assert_allclose(ours[1], ref[1])


def test_inplace_result_shape_must_match():
    x = cr.zeros(3)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        inplace(x, add, cr.zeros(2, 3))
