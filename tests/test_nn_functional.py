"""nn.functional against PyTorch (float64 values and gradients), central differences,
second-order gradients, numerical stability and PyTorch's error messages."""
import warnings

import numpy as np
import pytest
from conftest import check_grad
from test_conv import compare_torch, second_order

import chainrule as cr

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
        compare_torch(lambda t, d=dim: F.glu(t, d), lambda t, d=dim: torch.nn.functional.glu(t, d),
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


# -- losses ---------------------------------------------------------------------------------
REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw", [
    ("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", dict(beta=0.3)),
    ("huber_loss", {}), ("huber_loss", dict(delta=0.4)), ("soft_margin_loss", {}),
])
def test_pointwise_losses_match_torch(name, kw, reduction):
    import torch

    x, t = _rand(3, 4), _rand(3, 4)
    const = ()
    if name == "soft_margin_loss":
        t = np.sign(t)
        const = (1,)  # PyTorch: not differentiable w.r.t. the target
    y = compare_torch(lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kw),
                      lambda a, b: getattr(torch.nn.functional, name)(a, b, reduction=reduction,
                                                                      **kw), x, t, const=const)
    check_grad(lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kw), x, t)
    if name != "l1_loss":  # piecewise linear: no second derivative to record
        second_order(lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kw), x, t)
    ty = getattr(torch.nn.functional, name)(torch.ones(2, requires_grad=True), torch.zeros(2))
    assert y.grad_fn is not None and ty.grad_fn is not None


@pytest.mark.torch
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_pointwise_losses_weight(name):
    import torch

    compare_torch(lambda a, b, w: getattr(F, name)(a, b, weight=w),
                  lambda a, b, w: getattr(torch.nn.functional, name)(a, b, weight=w),
                  _rand(3, 4), _rand(3, 4), np.abs(_rand(3, 4)))


@pytest.mark.torch
def test_mse_broadcast_warns_and_bad_shapes_raise():
    with pytest.warns(UserWarning, match=r"Using a target size \(torch.Size\(\[4\]\)\) that is "
                                         r"different to the input size"):
        F.mse_loss(cr.randn(3, 4), cr.randn(4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match=r"The size of tensor a \(4\) must match the size "
                                               r"of tensor b \(5\) at non-singleton dimension 1"):
            F.mse_loss(cr.randn(3, 4), cr.randn(3, 5))
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        F.l1_loss(cr.randn(3), cr.randn(3), reduction="foo")
    with pytest.raises(RuntimeError, match="does not support negative values for beta"):
        F.smooth_l1_loss(cr.randn(3), cr.randn(3), beta=-1)


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw", [
    {}, dict(weight=True), dict(ignore_index=1), dict(label_smoothing=0.2),
    dict(weight=True, label_smoothing=0.3, ignore_index=2),
])
@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2, 3), (4,)])
def test_cross_entropy_class_indices_match_torch(kw, reduction, shape):
    import torch

    c = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else shape[:1] + shape[2:]
    y = RNG.integers(0, c, tshape)
    kw = dict(kw)
    arrays = [_rand(*shape)]
    if kw.pop("weight", False):
        arrays.append(RNG.uniform(0.5, 2.0, c))
    tf = torch.nn.functional

    def crf(x, w=None):
        return F.cross_entropy(x, cr.tensor(y), weight=w, reduction=reduction, **kw)

    def tof(x, w=None):
        return tf.cross_entropy(x, torch.tensor(y), weight=w, reduction=reduction, **kw)

    out = compare_torch(crf, tof, *arrays, const=(1,))
    if reduction != "none":
        assert out.grad_fn.name() == "NllLossBackward0"
    if np.all(y == kw.get("ignore_index", -100)):
        return  # every target ignored: the loss is nan, finite differences say nothing
    check_grad(crf, *arrays[:1], *arrays[1:]) if len(arrays) == 1 else None
    second_order(lambda x: crf(x, *[cr.tensor(a) for a in arrays[1:]]), arrays[0])


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_probabilities_match_torch(reduction, smoothing):
    import torch

    x = _rand(4, 5, 2)
    p = np.abs(_rand(4, 5, 2))
    p /= p.sum(1, keepdims=True)
    w = RNG.uniform(0.5, 2.0, 5)
    compare_torch(lambda a, t, w: F.cross_entropy(a, t, w, reduction=reduction,
                                                  label_smoothing=smoothing),
                  lambda a, t, w: torch.nn.functional.cross_entropy(
                      a, t, w, reduction=reduction, label_smoothing=smoothing), x, p, w, const=(2,))
    check_grad(lambda a, t: F.cross_entropy(a, t, reduction=reduction,
                                            label_smoothing=smoothing), x, p)
    second_order(lambda a, t: F.cross_entropy(a, t, label_smoothing=smoothing), x, p, wrt=0)


def test_cross_entropy_bad_inputs():
    x = cr.randn(3, 4)
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target "
                                         r"batch_size \(2\)"):
        F.cross_entropy(x, cr.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Float|"
                                           "expected target dtype to be Long"):
        F.cross_entropy(x, cr.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        F.cross_entropy(x, cr.tensor([0, 1, 5]))
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 4\], got \[2, 5\]"):
        F.cross_entropy(cr.randn(2, 3, 4), cr.zeros(2, 5, dtype=cr.int64))
    with pytest.raises(RuntimeError, match="Expected floating point type for target with class "
                                           "probabilities, got Long"):
        F.cross_entropy(x, cr.zeros(3, 4, dtype=cr.int64))
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 4 "
                                           r"classes or no classes but got weight tensor of "
                                           r"shape: \[3\]"):
        F.cross_entropy(x, cr.tensor([0, 1, 2]), weight=cr.ones(3))


@pytest.mark.torch
def test_cross_entropy_float32_matches_torch():
    import torch

    x = _rand(6, 10).astype(np.float32) * 5
    y = RNG.integers(0, 10, 6)
    c = cr.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    lc = F.cross_entropy(c, cr.tensor(y))
    lt = torch.nn.functional.cross_entropy(t, torch.tensor(y))
    assert lc.dtype == cr.float32
    lc.backward()
    lt.backward()
    np.testing.assert_allclose(lc.item(), lt.item(), rtol=1e-5)
    np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), atol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw", [{}, dict(weight=True), dict(ignore_index=0)])
def test_nll_loss_matches_torch(reduction, kw):
    import torch

    x = _rand(5, 3, 2)
    y = RNG.integers(0, 3, (5, 2))
    kw = dict(kw)
    arrays = [x] + ([RNG.uniform(0.5, 2, 3)] if kw.pop("weight", False) else [])
    compare_torch(lambda a, w=None: F.nll_loss(a, cr.tensor(y), w, reduction=reduction, **kw),
                  lambda a, w=None: torch.nn.functional.nll_loss(a, torch.tensor(y), w,
                                                                 reduction=reduction, **kw),
                  *arrays, const=(1,))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got "
                                           "Float"):
        F.nll_loss(cr.randn(3, 4), cr.tensor([0.0, 1.0, 2.0]))


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_matches_torch(reduction):
    import torch

    x = RNG.uniform(0.05, 0.95, (3, 4))
    t = RNG.uniform(0, 1, (3, 4))
    w = RNG.uniform(0.5, 2, (4,))
    tf = torch.nn.functional
    compare_torch(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
                  lambda a, b: tf.binary_cross_entropy(a, b, reduction=reduction), x, t)
    compare_torch(lambda a, b, w: F.binary_cross_entropy(a, b, w, reduction=reduction),
                  lambda a, b, w: tf.binary_cross_entropy(a, b, w, reduction=reduction), x, t, w,
                  const=(2,))
    check_grad(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), x, t)
    second_order(lambda a, b: F.binary_cross_entropy(a, b), x, t)
    # log clamped at -100: finite at exactly 0 and 1, like PyTorch
    edge = np.array([0.0, 1.0, 0.5])
    compare_torch(lambda a, b: F.binary_cross_entropy(a, b), lambda a, b: tf.binary_cross_entropy(
        a, b), edge, np.array([1.0, 0.0, 1.0]), grad=False)
    with pytest.raises(ValueError, match="Using a target size"):
        F.binary_cross_entropy(cr.rand(3, 4), cr.rand(3, 5))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(cr.tensor([1.5]), cr.tensor([1.0]))


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_matches_torch(reduction):
    import torch

    x, t = _rand(3, 4) * 10, RNG.uniform(0, 1, (3, 4))
    w, pw = RNG.uniform(0.5, 2, (4,)), RNG.uniform(0.5, 2, (4,))
    compare_torch(lambda a, b, w, pw: F.binary_cross_entropy_with_logits(
        a, b, w, reduction=reduction, pos_weight=pw),
        lambda a, b, w, pw: torch.nn.functional.binary_cross_entropy_with_logits(
            a, b, w, reduction=reduction, pos_weight=pw), x, t, w, pw, const=(2, 3))


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    import torch

    x = np.log(RNG.dirichlet(np.ones(5), 3))
    t = RNG.dirichlet(np.ones(5), 3)
    t[0, 1] = 0.0  # 0 log 0 = 0
    if log_target:
        t = np.log(t + 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # PyTorch's target gradient is nan at t == 0: compare it on positive targets only
        compare_torch(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                      lambda a, b: torch.nn.functional.kl_div(a, b, reduction=reduction,
                                                              log_target=log_target), x, t,
                      const=() if log_target else (1,))
        compare_torch(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                      lambda a, b: torch.nn.functional.kl_div(a, b, reduction=reduction,
                                                              log_target=log_target), x,
                      np.abs(t) + 0.01)


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_other_losses_match_torch(reduction):
    import torch

    tf = torch.nn.functional
    x1, x2 = _rand(4, 5), _rand(4, 5)
    sgn = np.sign(_rand(4))
    cases = [
        (lambda a, b: F.poisson_nll_loss(a, b, reduction=reduction),
         lambda a, b: tf.poisson_nll_loss(a, b, reduction=reduction), x1,
         np.abs(x2) * 3),
        (lambda a, b: F.poisson_nll_loss(a, b, log_input=False, full=True, reduction=reduction),
         lambda a, b: tf.poisson_nll_loss(a, b, log_input=False, full=True, reduction=reduction),
         np.abs(x1) + 0.1, np.abs(x2) * 3),
        (lambda a, b, v: F.gaussian_nll_loss(a, b, v, reduction=reduction),
         lambda a, b, v: tf.gaussian_nll_loss(a, b, v, reduction=reduction), x1, x2,
         np.abs(_rand(4, 5)) + 0.1),
        (lambda a, b, v: F.gaussian_nll_loss(a, b, v, full=True, reduction=reduction),
         lambda a, b, v: tf.gaussian_nll_loss(a, b, v, full=True, reduction=reduction), x1, x2,
         np.abs(_rand(4, 1)) + 0.1),
        (lambda a, b: F.cosine_embedding_loss(a, b, cr.tensor(sgn), 0.1, reduction=reduction),
         lambda a, b: tf.cosine_embedding_loss(a, b, torch.tensor(sgn), 0.1,
                                               reduction=reduction), x1, x2),
        (lambda a, b: F.margin_ranking_loss(a, b, cr.tensor(np.sign(x2)), 0.2,
                                            reduction=reduction),
         lambda a, b: tf.margin_ranking_loss(a, b, torch.tensor(np.sign(x2)), 0.2,
                                             reduction=reduction), x1, _rand(4, 5)),
        (lambda a: F.hinge_embedding_loss(a, cr.tensor(np.sign(x2)), 0.5, reduction=reduction),
         lambda a: tf.hinge_embedding_loss(a, torch.tensor(np.sign(x2)), 0.5,
                                           reduction=reduction), x1),
        (lambda a, b: F.multilabel_soft_margin_loss(a, b, reduction=reduction),
         lambda a, b: tf.multilabel_soft_margin_loss(a, b, reduction=reduction), x1,
         (x2 > 0).astype(float)),
        (lambda a, p, n: F.triplet_margin_loss(a, p, n, reduction=reduction),
         lambda a, p, n: tf.triplet_margin_loss(a, p, n, reduction=reduction), x1, x2,
         _rand(4, 5)),
        (lambda a, p, n: F.triplet_margin_loss(a, p, n, p=1, swap=True, reduction=reduction),
         lambda a, p, n: tf.triplet_margin_loss(a, p, n, p=1, swap=True, reduction=reduction),
         x1, x2, _rand(4, 5)),
        (lambda a: F.multi_margin_loss(a, cr.tensor([0, 4, 2, 1]), reduction=reduction),
         lambda a: tf.multi_margin_loss(a, torch.tensor([0, 4, 2, 1]), reduction=reduction), x1),
        (lambda a: F.multi_margin_loss(a, cr.tensor([0, 4, 2, 1]), p=2, margin=0.5,
                                       reduction=reduction),
         lambda a: tf.multi_margin_loss(a, torch.tensor([0, 4, 2, 1]), p=2, margin=0.5,
                                        reduction=reduction), x1),
    ]
    for crf, tof, *arrays in cases:
        compare_torch(crf, tof, *arrays)


def test_composed_losses_second_order():
    x1, x2 = _rand(3, 4), _rand(3, 4)
    second_order(lambda a, b: F.poisson_nll_loss(a, b), x1, np.abs(x2))
    second_order(lambda a, b, v: F.gaussian_nll_loss(a, b, v), x1, x2, np.abs(x2) + 0.5, wrt=2)
    second_order(lambda a, b: F.cosine_embedding_loss(a, b, cr.tensor([1.0, -1.0, 1.0]), -1.0),
                 x1, x2)
    second_order(lambda a, b: F.kl_div(a, b, reduction="batchmean"), x1, np.abs(x2), wrt=1)
    second_order(lambda a, b: F.multilabel_soft_margin_loss(a, b), x1, (x2 > 0) * 1.0)
    second_order(lambda a: F.binary_cross_entropy_with_logits(a, cr.tensor(np.abs(x2))), x1)


def test_loss_shape_errors_name_both_shapes():
    with pytest.raises(RuntimeError, match="input1: torch.Size"):
        F.margin_ranking_loss(cr.randn(3, 4), cr.randn(3, 4), cr.randn(3))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(cr.randn(3, 4), cr.randn(3, 4), cr.ones(2))
    with pytest.raises(ValueError, match=r"Target size \(torch.Size\(\[3, 5\]\)\) must be the "
                                         r"same as input size \(torch.Size\(\[3, 4\]\)\)"):
        F.binary_cross_entropy_with_logits(cr.randn(3, 4), cr.rand(3, 5))


# -- normalization ---------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_torch(affine):
    import torch

    x = _rand(3, 4, 5)
    arrays = [x] + ([_rand(4, 5), _rand(4, 5)] if affine else [])
    y = compare_torch(lambda x, *wb: F.layer_norm(x, (4, 5), *wb, eps=1e-3),
                      lambda x, *wb: torch.nn.functional.layer_norm(x, (4, 5), *wb, eps=1e-3),
                      *arrays)
    assert y.grad_fn.name() == "NativeLayerNormBackward0"
    check_grad(lambda x, *wb: F.layer_norm(x, (5,), *[t[0] for t in wb]), *arrays)
    second_order(lambda x, *w: F.layer_norm(x, (4, 5), *w), *arrays[:2])  # linear in bias
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[3\], expected input with "
                                           r"shape \[\*, 3\], but got input of size\[3, 4, 5\]"):
        F.layer_norm(cr.tensor(x), (3,))


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 2)])
def test_batch_norm_training_matches_torch_and_updates_running_stats(shape):
    import torch

    x, w, b = _rand(*shape), _rand(3), _rand(3)
    rm, rv = _rand(3), np.abs(_rand(3)) + 0.5
    crm, crv = cr.tensor(rm.copy()), cr.tensor(rv.copy())
    trm, trv = torch.tensor(rm.copy()), torch.tensor(rv.copy())
    y = compare_torch(lambda x, w, b: F.batch_norm(x, crm, crv, w, b, True, 0.3),
                      lambda x, w, b: torch.nn.functional.batch_norm(x, trm, trv, w, b, True, 0.3),
                      x, w, b)
    assert y.grad_fn.name() == "NativeBatchNormBackward0"
    np.testing.assert_allclose(crm.numpy(), trm.numpy())
    np.testing.assert_allclose(crv.numpy(), trv.numpy())
    # eval uses the running statistics
    compare_torch(lambda x, w, b: F.batch_norm(x, crm, crv, w, b, False),
                  lambda x, w, b: torch.nn.functional.batch_norm(x, trm, trv, w, b, False),
                  x, w, b)
    second_order(lambda x, w: F.batch_norm(x, None, None, w, None, True), x, w)
    second_order(lambda x, w: F.batch_norm(x, None, None, w, None, True) ** 2, x, w, wrt=1)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(cr.randn(1, 4), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean should contain 4 elements not 5"):
        F.batch_norm(cr.randn(3, 4), cr.zeros(5), cr.ones(5))


@pytest.mark.torch
def test_group_and_instance_norm_match_torch():
    import torch

    tf = torch.nn.functional
    x, w, b = _rand(2, 6, 3, 2), _rand(6), _rand(6)
    y = compare_torch(lambda x, w, b: F.group_norm(x, 3, w, b), lambda x, w, b: tf.group_norm(
        x, 3, w, b), x, w, b)
    assert y.grad_fn.name() == "NativeGroupNormBackward0"
    second_order(lambda x: F.group_norm(x, 2), _rand(2, 4, 3))
    compare_torch(lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
                  lambda x, w, b: tf.instance_norm(x, weight=w, bias=b), x, w, b)
    rm, rv = cr.zeros(6), cr.ones(6)
    trm, trv = torch.zeros(6, dtype=torch.float64), torch.ones(6, dtype=torch.float64)
    compare_torch(lambda x: F.instance_norm(x, rm, rv), lambda x: tf.instance_norm(x, trm, trv), x)
    np.testing.assert_allclose(rm.numpy(), trm.numpy())
    np.testing.assert_allclose(rv.numpy(), trv.numpy())
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(cr.randn(3, 4), 3)


@pytest.mark.torch
def test_local_response_norm_and_rms_norm_match_torch():
    import torch

    tf = torch.nn.functional
    compare_torch(lambda x: F.local_response_norm(x, 3), lambda x: tf.local_response_norm(x, 3),
                  _rand(2, 5, 3, 3))
    compare_torch(lambda x, w: F.rms_norm(x, (4,), w, 1e-5), lambda x, w: tf.rms_norm(
        x, (4,), w, 1e-5), _rand(3, 4), _rand(4))


@pytest.mark.torch
def test_normalize_cosine_similarity_pairwise_distance_match_torch():
    import torch

    tf = torch.nn.functional
    a, b = _rand(4, 5), _rand(4, 5)
    for p in (1, 2, 3, float("inf")):
        compare_torch(lambda x, p=p: F.normalize(x, p, 1), lambda x, p=p: tf.normalize(x, p, 1),
                      a)
        compare_torch(lambda x, y, p=p: F.pairwise_distance(x, y, p),
                      lambda x, y, p=p: tf.pairwise_distance(x, y, p), a, b)
    compare_torch(lambda x, y: F.cosine_similarity(x, y, 1), lambda x, y: tf.cosine_similarity(
        x, y, 1), a, b)
    compare_torch(lambda x, y: F.cosine_similarity(x, y, 0), lambda x, y: tf.cosine_similarity(
        x, y, 0), a, _rand(1, 5))
    second_order(lambda x: F.normalize(x, 2, 1), a)
    second_order(lambda x, y: F.cosine_similarity(x, y), a, b)
    # a zero row: normalize and the norm's gradient stay finite (eps clamps)
    z = np.zeros((2, 3))
    compare_torch(lambda x: F.normalize(x), lambda x: tf.normalize(x), z)


# -- attention ---------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("kw", [{}, dict(is_causal=True), dict(scale=0.3), dict(mask="bool"),
                                dict(mask="float")])
def test_scaled_dot_product_attention_matches_torch(kw):
    import torch

    kw = dict(kw)
    q, k, v = _rand(2, 3, 4, 5), _rand(2, 3, 6, 5), _rand(2, 3, 6, 2)
    if kw.get("is_causal"):
        k, v = k[:, :, :4], v[:, :, :4]
    mask = kw.pop("mask", None)
    cm = tm = None
    if mask == "bool":
        m = RNG.uniform(size=(4, 6)) > 0.3
        m[:, 0] = True
        cm, tm = cr.tensor(m), torch.tensor(m)
    elif mask == "float":
        m = _rand(4, 6)
        cm, tm = cr.tensor(m), torch.tensor(m)
    compare_torch(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, cm, **kw),
                  lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(
                      q, k, v, tm, **kw), q, k, v)
    second_order(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, cm, **kw),
                 q[:1, :1], k[:1, :1], v[:1, :1])


def test_sdpa_dropout_is_seeded():
    q = cr.randn(1, 2, 3, 4)
    cr.manual_seed(5)
    a = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    cr.manual_seed(5)
    b = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_gumbel_softmax_soft_hard_and_seeded():
    logits = cr.tensor(_rand(4, 5), requires_grad=True)
    cr.manual_seed(2)
    a = F.gumbel_softmax(logits, tau=0.5)
    cr.manual_seed(2)
    b = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    np.testing.assert_allclose(a.detach().numpy().sum(-1), np.ones(4))
    h = F.gumbel_softmax(logits, hard=True)
    hv = h.detach().numpy()
    assert set(np.unique(hv)) <= {0.0, 1.0} and (hv.sum(-1) == 1).all()
    (h * cr.tensor(_rand(4, 5))).sum().backward()
    assert logits.grad is not None and np.abs(logits.grad.numpy()).sum() > 0


@pytest.mark.torch
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_all_targets_ignored_nan_loss_zero_grad(smoothing):
    import torch

    x = _rand(3, 4)
    for lib in (cr, torch):
        for fn, kw in ((lib.nn.functional.cross_entropy, dict(label_smoothing=smoothing)),
                       (lib.nn.functional.nll_loss, {})):
            t = lib.tensor(x, requires_grad=True)
            loss = fn(t, lib.tensor([1, 1, 1]), ignore_index=1, **kw)
            loss.backward()
            assert np.isnan(loss.item())
            np.testing.assert_array_equal(t.grad.numpy(), np.zeros((3, 4)))


# -- forward mode: jvp rules (dot-product test against backward) ------------------------
def _check_jvp(*args, **kw):
    from test_conv import check_jvp

    check_jvp(*args, **kw)


@pytest.mark.parametrize("fn", [
    lambda x: F.hardtanh(x, -0.5, 0.7), lambda x: F.leaky_relu(x, 0.1),
    lambda x: F.threshold(x, 0.2, -1.0), F.softshrink, F.hardshrink, F.hardsigmoid,
    F.elu, F.selu, lambda x: F.celu(x, 0.7), lambda x: F.softplus(x, 2.0, 1.0),
    F.logsigmoid, F.silu, F.mish, F.gelu, lambda x: F.gelu(x, approximate="tanh"),
    F.hardswish, lambda x: F.softmax(x, dim=1), lambda x: F.log_softmax(x, dim=0),
    lambda x: F.glu(x, dim=1),
])
def test_activation_jvp_dot_product(fn):
    _check_jvp(fn, _rand(3, 4, 2) * 2)


def test_prelu_linear_embedding_jvp():
    _check_jvp(F.prelu, _rand(2, 3, 4), np.abs(_rand(3)))
    _check_jvp(F.linear, _rand(5, 3), _rand(4, 3), _rand(4))
    _check_jvp(F.linear, _rand(2, 5, 3), _rand(4, 3))
    _check_jvp(F.linear, _rand(5, 3), _rand(4, 3), _rand(4), const=(0, 1))
    _check_jvp(lambda i, w: F.embedding(i, w), np.array([[0, 2], [3, 2]]), _rand(4, 3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_jvp_dot_product(reduction):
    r = dict(reduction=reduction)
    x, t = _rand(4, 3), _rand(4, 3)
    for fn in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss):
        _check_jvp(lambda a, b, fn=fn: fn(a, b, **r), x, t)
    _check_jvp(lambda a, b: F.soft_margin_loss(a, b, **r), x, np.sign(t))
    p = 1 / (1 + np.exp(-x))
    _check_jvp(lambda a, b: F.binary_cross_entropy(a, b, **r), p, RNG.uniform(0, 1, (4, 3)))
    _check_jvp(lambda a, b, w, pw: F.binary_cross_entropy_with_logits(
        a, b, weight=w, pos_weight=pw, **r), x, RNG.uniform(0, 1, (4, 3)), np.abs(t),
        np.abs(_rand(3)), const=(2, 3))
    y = np.array([0, 2, 1, 2])
    _check_jvp(lambda a, y: F.cross_entropy(a, y, label_smoothing=0.1, ignore_index=1, **r),
               x, y)
    soft = np.abs(t) / np.abs(t).sum(1, keepdims=True)
    _check_jvp(lambda a, b: F.cross_entropy(a, b, **r), x, soft)
    w = cr.tensor(np.abs(_rand(3)))
    _check_jvp(lambda a, y: F.nll_loss(a, y, weight=w, **r), x, y)


def test_norm_jvp_dot_product():
    x = _rand(4, 3, 5)
    _check_jvp(lambda a, w, b: F.layer_norm(a, (5,), w, b), x, _rand(5), _rand(5))
    _check_jvp(lambda a: F.layer_norm(a, (3, 5)), x)
    _check_jvp(lambda a, w, b: F.batch_norm(a, None, None, w, b, training=True), x, _rand(3),
               _rand(3))
    _check_jvp(lambda a, w, b: F.group_norm(a, 3, w, b), _rand(2, 6, 4), _rand(6), _rand(6),
               const=(0,))


@pytest.mark.torch
@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("int64", "float32"),
                                    ("int32", "float32"), ("float64", "float32")])
@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("x_shape", [(2, 3), (5, 2, 3), (3,)])
def test_linear_dtype_mismatch_messages_like_torch(dtypes, with_bias, x_shape):
    import torch

    msgs = []
    for L in (cr, torch):
        x = L.ones(x_shape, dtype=getattr(L, dtypes[0]))
        w = L.ones(4, 3, dtype=getattr(L, dtypes[1]))
        b = L.ones(4, dtype=getattr(L, dtypes[1])) if with_bias else None
        with pytest.raises(RuntimeError) as e:
            L.nn.functional.linear(x, w, b)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
