"""utils.checkpoint: identical gradients with and without checkpointing, less graph kept."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd.function import AccumulateGrad
from chainrule.utils.checkpoint import checkpoint, checkpoint_sequential

RNG = np.random.default_rng(3)
XD = RNG.standard_normal((4, 3))
W1D = RNG.standard_normal((3, 5)) * 0.5
W2D = RNG.standard_normal((5, 2)) * 0.5


def _params():
    return (cr.tensor(XD, requires_grad=True), cr.tensor(W1D, requires_grad=True),
            cr.tensor(W2D, requires_grad=True))


def _block(w1):
    return lambda h: cr.tanh(h @ w1).exp()


def _grads(*ts):
    return [t.grad.numpy().copy() for t in ts]


@pytest.mark.parametrize("reentrant", [False, True])
def test_gradients_equal_plain(reentrant):
    x, w1, w2 = _params()
    ((_block(w1)(x) @ w2) ** 2).sum().backward()
    expected = _grads(x, w1, w2)
    x, w1, w2 = _params()
    h = checkpoint(_block(w1), x, use_reentrant=reentrant)
    ((h @ w2) ** 2).sum().backward()
    for got, exp in zip(_grads(x, w1, w2), expected):
        np.testing.assert_allclose(got, exp, rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("reentrant", [False, True])
def test_matches_torch_checkpoint(reentrant):
    import torch
    import torch.utils.checkpoint as tcp

    tx, tw1, tw2 = (torch.tensor(a, requires_grad=True) for a in (XD, W1D, W2D))
    th = tcp.checkpoint(lambda h: torch.tanh(h @ tw1).exp(), tx, use_reentrant=reentrant)
    ((th @ tw2) ** 2).sum().backward()
    x, w1, w2 = _params()
    h = checkpoint(_block(w1), x, use_reentrant=reentrant)
    ((h @ w2) ** 2).sum().backward()
    for c, t in zip((x, w1, w2), (tx, tw1, tw2)):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_intermediates_are_not_kept_and_recomputed_once():
    calls = []
    x, w1, _ = _params()

    def block(h):
        calls.append(1)
        return cr.tanh(h @ w1).exp()

    h = checkpoint(block, x, use_reentrant=False)
    # The checkpoint node points straight at the leaves: no recorded interior graph.
    assert all(type(n) is AccumulateGrad for n, _ in h.grad_fn.next_functions)
    assert {id(n.variable) for n, _ in h.grad_fn.next_functions} == {id(x), id(w1)}
    assert len(calls) == 1
    h.sum().backward()
    assert len(calls) == 2


def test_autograd_grad_reaches_closure_parameters():
    x, w1, w2 = _params()
    plain = cr.autograd.grad((_block(w1)(x) @ w2).sum(), (w1, w2))
    x, w1, w2 = _params()
    out = (checkpoint(_block(w1), x, use_reentrant=False) @ w2).sum()
    got = cr.autograd.grad(out, (w1, w2))
    for g, p in zip(got, plain):
        np.testing.assert_allclose(g.numpy(), p.numpy(), rtol=1e-12)
    assert w1.grad is None  # nothing accumulated behind autograd.grad's back


def test_input_without_grad_still_trains_parameters():
    x = cr.tensor(XD)
    _, w1, _ = _params()
    checkpoint(_block(w1), x, use_reentrant=False).sum().backward()
    expected = cr.autograd.grad(_block(w1)(x).sum(), w1)[0]
    np.testing.assert_allclose(w1.grad.numpy(), expected.numpy(), rtol=1e-12)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        checkpoint(_block(w1), x, use_reentrant=True)


def test_double_backward_through_checkpoint():
    x, w1, _ = _params()
    f = lambda h: (cr.tanh(h @ w1) ** 3).sum()
    (g,) = cr.autograd.grad(f(x), x, create_graph=True)
    (gg,) = cr.autograd.grad((g * g).sum(), x)
    x2 = cr.tensor(XD, requires_grad=True)
    (g2,) = cr.autograd.grad(checkpoint(f, x2, use_reentrant=False), x2, create_graph=True)
    (gg2,) = cr.autograd.grad((g2 * g2).sum(), x2)
    np.testing.assert_allclose(g2.detach().numpy(), g.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(gg2.numpy(), gg.numpy(), rtol=1e-10)


@pytest.mark.parametrize("reentrant", [False, True])
def test_rng_state_is_replayed(reentrant):
    x, _, _ = _params()

    def noisy(h):
        return h * cr.rand_like(h) * 2

    cr.manual_seed(0)
    out = checkpoint(noisy, x, use_reentrant=reentrant)
    mask = out.detach().numpy() / (2 * XD)
    cr.rand(100)  # move the generator on: the recomputation must not see this
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * mask, rtol=1e-12)


def test_multiple_outputs_and_non_tensor_args():
    x, w1, _ = _params()

    def f(h, scale):
        return h @ w1 * scale, (h * h).sum()

    a, b = f(x, 3.0)
    ((a ** 2).sum() + b).backward()
    expected = _grads(x, w1)
    x, w1, _ = _params()
    a, b = checkpoint(f, x, 3.0, use_reentrant=False)
    ((a ** 2).sum() + b).backward()
    for got, exp in zip(_grads(x, w1), expected):
        np.testing.assert_allclose(got, exp, rtol=1e-12)


def test_checkpoint_sequential():
    _, w1, w2 = _params()
    w3 = cr.tensor(RNG.standard_normal((2, 2)), requires_grad=True)
    fns = [lambda h: h @ w1, cr.tanh, lambda h: h @ w2, cr.sigmoid, lambda h: h @ w3]
    x = cr.tensor(XD, requires_grad=True)
    h = x
    for f in fns:
        h = f(h)
    h.sum().backward()
    expected = _grads(x, w1, w2, w3)
    for p in (x, w1, w2, w3):
        p.grad = None
    checkpoint_sequential(fns, 2, x, use_reentrant=False).sum().backward()
    for got, exp in zip(_grads(x, w1, w2, w3), expected):
        np.testing.assert_allclose(got, exp, rtol=1e-12)


def test_no_grad_mode_just_runs():
    x, w1, _ = _params()
    with cr.no_grad():
        out = checkpoint(_block(w1), x, use_reentrant=False)
    assert not out.requires_grad


def test_reentrant_rejects_kwargs():
    x, _, _ = _params()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="Unexpected keyword arguments"):
            checkpoint(lambda h, k=1: h * k, x, use_reentrant=True, k=2)


def test_context_fn_wraps_forward_and_recompute():
    import contextlib

    seen = []

    @contextlib.contextmanager
    def tag(name):
        seen.append(name)
        yield

    x, w1, _ = _params()
    out = checkpoint(_block(w1), x, use_reentrant=False,
                     context_fn=lambda: (tag("forward"), tag("recompute")))
    assert seen == ["forward"]
    out.sum().backward()
    assert seen == ["forward", "recompute"]


def test_checkpoint_is_reachable_from_the_package_alone():
    """``torch.utils.checkpoint`` works after ``import torch`` only; so must chainrule's."""
    import subprocess
    import sys

    code = ("import chainrule as torch\n"
            "x = torch.ones(2, requires_grad=True)\n"
            "torch.utils.checkpoint.checkpoint(lambda t: t * 3, x, use_reentrant=False)"
            ".sum().backward()\n"
            "assert x.grad.tolist() == [3.0, 3.0]\n")
    subprocess.run([sys.executable, "-c", code], check=True)
