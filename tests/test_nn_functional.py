"""nn.functional against PyTorch (float64 values and gradients), central differences,
second-order gradients, numerical stability and PyTorch's error messages."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from conftest import check_grad
from test_conv import compare_torch, second_order

F = cr.nn.functional
RNG = np.random.default_rng(99)


def _rand(*shape):
    return RNG.standard_normal(shape)


def _away_from_kinks(shape, kinks=(0.0,), scale=3.0, gap=1e-2):
    """Random values at least ``gap`` away from the points where a function has a kink."""
    x = RNG.uniform(-scale, scale, shape)
    for k in kinks:
        close = np.abs(x - k) < gap
        x[close] = k + np.where(x[close] >= k, gap, -gap) * 2
    return x


# -- activations ------------------------------------------------------------------------
# name, chainrule call, torch call (by name), kinks (for finite differences)
ACTIVATIONS = [
    ("relu", {}, (0,)),
    ("relu6", {}, (0, 6)),
    ("leaky_relu", dict(negative_slope=0.2), (0,)),
    ("elu", dict(alpha=0.7), (0,)),
    ("selu", {}, (0,)),
    ("celu", dict(alpha=1.3), (0,)),
    ("gelu", {}, ()),
    ("gelu", dict(approximate="tanh"), ()),
    ("silu", {}, ()),
    ("mish", {}, ()),
    ("softplus", {}, ()),
    ("softplus", dict(beta=2.0, threshold=3.0), (1.5,)),
    ("softsign", {}, (0,)),
    ("hardtanh", dict(min_val=-0.5, max_val=2.0), (-0.5, 2.0)),
    ("hardsigmoid", {}, (-3, 3)),
    ("hardswish", {}, (-3, 3)),
    ("logsigmoid", {}, ()),
    ("threshold", dict(threshold=0.3, value=-2.0), (0.3,)),
    ("tanhshrink", {}, ()),
    ("softshrink", dict(lambd=0.7), (-0.7, 0.7)),
    ("hardshrink", dict(lambd=0.7), (-0.7, 0.7)),
    ("rrelu", {}, (0,)),
    ("sigmoid", {}, ()),
    ("tanh", {}, ()),
]
SMOOTH = {"gelu", "silu", "mish", "softplus", "logsigmoid", "tanhshrink", "sigmoid", "tanh",
          "elu", "selu", "celu", "softsign", "hardswish"}


@pytest.mark.torch
@pytest.mark.parametrize("name,kw,kinks", ACTIVATIONS)
def test_activation_matches_torch(name, kw, kinks):
    import torch

    x = _away_from_kinks((3, 4), kinks, scale=5)
    x[0, :2] = [30.0, -30.0]  # the saturated regions
    tfn = getattr(torch.nn.functional, name) if hasattr(torch.nn.functional, name) \
        else getattr(torch, name)
    # PyTorch's celu backward rounds 1/alpha to float32 (relative error ~1e-8)
    # (hardsigmoid's slope 1/6 likewise)
    atol = 1e-7 if name in ("celu", "hardsigmoid") else 1e-12
    compare_torch(lambda t: getattr(F, name)(t, **kw), lambda t: tfn(t, **kw), x, atol=atol)


@pytest.mark.torch
@pytest.mark.parametrize("name,kw,kinks", ACTIVATIONS)
def test_activation_node_names(name, kw, kinks):
    import torch

    tfn = getattr(torch.nn.functional, name) if hasattr(torch.nn.functional, name) \
        else getattr(torch, name)
    ty = tfn(torch.ones(3, requires_grad=True), **kw)
    cy = getattr(F, name)(cr.ones(3, requires_grad=True), **kw)
    assert cy.grad_fn.name() == ty.grad_fn.name()


@pytest.mark.parametrize("name,kw,kinks", ACTIVATIONS)
def test_activation_central_differences(name, kw, kinks):
    check_grad(lambda t: getattr(F, name)(t, **kw), _away_from_kinks((2, 3), kinks))


@pytest.mark.parametrize("name,kw,kinks", [a for a in ACTIVATIONS if a[0] in SMOOTH])
def test_activation_second_order(name, kw, kinks):
    second_order(lambda t: getattr(F, name)(t, **kw), _away_from_kinks((2, 3), kinks))


@pytest.mark.torch
def test_inplace_activations():
    import torch

    for name in ("relu", "relu6", "elu", "selu", "celu", "leaky_relu", "hardtanh", "silu",
                 "hardsigmoid", "hardswish", "mish", "rrelu"):
        x = _rand(3, 4)
        c = cr.tensor(x.copy())
        t = torch.tensor(x.copy())
        rc = getattr(F, name)(c, inplace=True)
        getattr(torch.nn.functional, name)(t, inplace=True)
        assert rc is c
        np.testing.assert_allclose(c.numpy(), t.numpy(), atol=1e-12)
    # a non-leaf takes the op's node and still differentiates correctly
    a = cr.tensor(x, requires_grad=True)
    h = a * 1.0
    F.relu(h, inplace=True)
    h.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), (x > 0).astype(float))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.relu(cr.tensor(x, requires_grad=True), inplace=True)


@pytest.mark.torch
def test_rrelu_training_is_seeded_and_in_range():
    x = cr.tensor(-np.ones(1000))
    cr.manual_seed(3)
    a = F.rrelu(x, 0.1, 0.3, training=True).numpy()
    cr.manual_seed(3)
    b = F.rrelu(x, 0.1, 0.3, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    assert (a <= -0.1).all() and (a >= -0.3).all()


@pytest.mark.torch
@pytest.mark.parametrize("shape,wshape", [((2, 3, 4), (3,)), ((2, 3), (1,)), ((5,), (1,)),
                                          ((2, 4, 3, 2), (4,))])
def test_prelu_matches_torch(shape, wshape):
    import torch

    x = _away_from_kinks(shape)
    y = compare_torch(F.prelu, torch.nn.functional.prelu, x, RNG.uniform(0.1, 0.5, wshape))
    assert y.grad_fn.name() == "PreluKernelBackward0"
    check_grad(F.prelu, x, RNG.uniform(0.1, 0.5, wshape))
    second_order(lambda x, w: F.prelu(x, w) ** 2, x, RNG.uniform(0.1, 0.5, wshape), wrt=1)
    second_order(lambda x, w: F.prelu(x, w) ** 2, x, RNG.uniform(0.1, 0.5, wshape), wrt=0)
    with pytest.raises(RuntimeError, match="Found parameter numbers = 4 and channel size = 1"):
        F.prelu(cr.randn(4), cr.randn(4))


@pytest.mark.torch
@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family_matches_torch(fn, dim):
    import torch

    compare_torch(lambda t: getattr(F, fn)(t, dim), lambda t: getattr(torch.nn.functional, fn)(
        t, dim), _rand(3, 4, 5))
    check_grad(lambda t: getattr(F, fn)(t, dim), _rand(2, 3))
    second_order(lambda t: getattr(F, fn)(t, dim), _rand(2, 3))


@pytest.mark.torch
def test_softmax_implicit_dim_warns_and_dtype():
    import torch

    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = F.softmax(cr.tensor(_rand(2, 3)))
    np.testing.assert_allclose(y.sum(1).numpy(), np.ones(2))
    x = _rand(2, 3).astype(np.float32)
    y = F.log_softmax(cr.tensor(x), 1, dtype=cr.float64)
    assert y.dtype == cr.float64
    np.testing.assert_allclose(y.numpy(), torch.log_softmax(torch.tensor(x).double(), 1).numpy())


@pytest.mark.torch
def test_log_softmax_and_cross_entropy_stable_at_1000():
    import torch

    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]])
    y = np.array([1, 0])
    compare_torch(lambda t: F.log_softmax(t, 1), lambda t: torch.log_softmax(t, 1), x)
    compare_torch(lambda t: F.softmax(t, 1), lambda t: torch.softmax(t, 1), x)
    c = cr.tensor(x, requires_grad=True)
    loss = F.cross_entropy(c, cr.tensor(y))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(c.grad.numpy()).all()
    t = torch.tensor(x, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(t, torch.tensor(y))
    tl.backward()
    np.testing.assert_allclose(loss.item(), tl.item())
    np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy())
    for dt in (cr.float32,):
        c32 = cr.tensor(x, dtype=dt, requires_grad=True)
        F.cross_entropy(c32, cr.tensor(y)).backward()
        assert np.isfinite(c32.grad.numpy()).all()


@pytest.mark.torch
def test_glu_matches_torch():
    import torch

    for dim in (0, -1, 1):
        compare_torch(lambda t: F.glu(t, dim), lambda t: torch.nn.functional.glu(t, dim),
                      _rand(4, 6, 2))
    second_order(lambda t: F.glu(t, 1), _rand(2, 4))
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(cr.randn(3, 5))


# -- linear layers ------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("xshape", [(4, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(xshape, bias):
    import torch

    arrays = [_rand(*xshape), _rand(5, 3)] + ([_rand(5)] if bias else [])
    y = compare_torch(F.linear, torch.nn.functional.linear, *arrays)
    if len(xshape) == 2:
        assert y.grad_fn.name() == ("AddmmBackward0" if bias else "MmBackward0")
    second_order(lambda *a: F.linear(*a) ** 2, *arrays)
    second_order(lambda *a: F.linear(*a) ** 2, *arrays, wrt=1)


def test_linear_errors():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(3x4 "
                                           r"and 3x5\)"):
        F.linear(cr.randn(3, 4), cr.randn(5, 3))
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype"):
        F.linear(cr.randn(3, 4), cr.randn(5, 4, dtype=cr.float64))


@pytest.mark.torch
def test_bilinear_matches_torch():
    import torch

    compare_torch(F.bilinear, torch.nn.functional.bilinear, _rand(4, 3), _rand(4, 2),
                  _rand(5, 3, 2), _rand(5))


# -- dropout ------------------------------------------------------------------------------
def test_dropout_train_eval_and_seed():
    x = cr.ones(200, 50, requires_grad=True)
    assert F.dropout(x, 0.3, training=False) is x
    cr.manual_seed(0)
    a = F.dropout(x, 0.3)
    cr.manual_seed(0)
    b = F.dropout(x, 0.3)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    kept = a.detach().numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(a.detach().numpy()[kept], 1 / 0.7)
    a.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), a.detach().numpy())
    assert (F.dropout(x, 1.0).detach().numpy() == 0).all()
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout(x, 1.5)


def test_dropout2d_zeroes_whole_channels():
    x = cr.ones(8, 16, 3, 3)
    y = F.dropout2d(x, 0.5).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()


def test_alpha_dropout_keeps_mean_and_variance():
    cr.manual_seed(1)
    x = cr.randn(200000, dtype=cr.float64)
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    assert F.alpha_dropout(x, 0.2) is x


# -- embedding, one_hot ----------------------------------------------------------------------
@pytest.mark.torch
def test_embedding_matches_torch():
    import torch

    w = _rand(6, 3)
    idx = np.array([[0, 2, 2], [5, 1, 2]])
    for kw in ({}, dict(padding_idx=2), dict(scale_grad_by_freq=True)):
        tw = torch.tensor(w, requires_grad=True)
        cw = cr.tensor(w, requires_grad=True)
        ty = torch.nn.functional.embedding(torch.tensor(idx), tw, **kw)
        cy = F.embedding(cr.tensor(idx), cw, **kw)
        np.testing.assert_allclose(cy.detach().numpy(), ty.detach().numpy())
        r = _rand(2, 3, 3)
        (ty * torch.tensor(r)).sum().backward()
        (cy * cr.tensor(r)).sum().backward()
        np.testing.assert_allclose(cw.grad.numpy(), tw.grad.numpy())
        assert cy.grad_fn.name() == "EmbeddingBackward0"
    second_order(lambda w: F.embedding(cr.tensor(idx), w, padding_idx=0) ** 2, w)
    with pytest.raises(RuntimeError, match="'indices' to have one of the following scalar"):
        F.embedding(cr.tensor([0.0, 1.0]), cr.tensor(w))
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(cr.tensor([6]), cr.tensor(w))


@pytest.mark.torch
def test_embedding_max_norm_renormalizes_rows():
    import torch

    w = _rand(5, 4) * 3
    tw, cw = torch.tensor(w), cr.tensor(w.copy())
    idx = [1, 3, 3]
    ty = torch.nn.functional.embedding(torch.tensor(idx), tw, max_norm=1.0)
    cy = F.embedding(cr.tensor(idx), cw, max_norm=1.0)
    np.testing.assert_allclose(cy.numpy(), ty.numpy(), rtol=1e-6)
    np.testing.assert_allclose(cw.numpy(), tw.numpy(), rtol=1e-6)


@pytest.mark.torch
def test_one_hot_matches_torch():
    import torch

    idx = np.array([[0, 3], [2, 1]])
    np.testing.assert_array_equal(F.one_hot(cr.tensor(idx)).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(idx)).numpy())
    assert F.one_hot(cr.tensor(idx), 6).shape == (2, 2, 6)
    assert F.one_hot(cr.tensor(idx)).dtype == cr.int64
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(cr.tensor([5]), 3)
    with pytest.raises(RuntimeError, match="only applicable to index tensor"):
        F.one_hot(cr.tensor([1.0]))
