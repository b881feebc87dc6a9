"""Convolution, pooling, padding, resampling and unfold/fold against PyTorch and central
differences (values and gradients in float64, second order, error messages)."""
import numpy as np
import pytest
from conftest import check_grad

import chainrule as cr

F = cr.nn.functional
RNG = np.random.default_rng(1234)


def _rand(*shape):
    return RNG.standard_normal(shape)


def compare_torch(cr_fn, torch_fn, *arrays, atol=1e-10, grad=True, const=()):
    """Values and gradients (for a random cotangent) of cr_fn and torch_fn agree.

    Arrays whose positions are in ``const`` are passed without requires_grad."""
    import torch

    req = [grad and a.dtype.kind == "f" and i not in const for i, a in enumerate(arrays)]
    ts = [torch.tensor(a, requires_grad=r) for a, r in zip(arrays, req)]
    cs = [cr.tensor(a, requires_grad=r) for a, r in zip(arrays, req)]
    ty, cy = torch_fn(*ts), cr_fn(*cs)
    if isinstance(ty, tuple):
        for a, b in zip(cy, ty):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=atol)
        ty, cy = ty[0], cy[0]
    assert tuple(cy.shape) == tuple(ty.shape)
    np.testing.assert_allclose(cy.detach().numpy(), ty.detach().numpy(), atol=atol, rtol=1e-9)
    if not grad:
        return cy
    r = RNG.standard_normal(tuple(ty.shape))
    (ty * torch.tensor(r)).sum().backward()
    (cy * cr.tensor(r)).sum().backward()
    for c, t in zip(cs, ts):
        if t.requires_grad:
            np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), atol=atol, rtol=1e-8)
    return cy


def second_order(fn, *arrays, wrt=0):
    """check_grad on x -> d<fn(x), r>/dx computed with create_graph=True."""
    r_cache = {}

    def first(*ts):
        ts = [t if t.requires_grad else t.detach().requires_grad_() for t in ts]
        out = fn(*ts)
        if "r" not in r_cache:
            r_cache["r"] = cr.tensor(np.random.default_rng(7).standard_normal(tuple(out.shape)))
        (g,) = cr.autograd.grad((out * r_cache["r"]).sum(), ts[wrt], create_graph=True)
        return g

    check_grad(first, *arrays, atol=1e-5, rtol=1e-4)


def check_jvp(fn, *arrays, const=(), seed=3):
    """The jvp rule of ``fn``'s last node, called directly on arrays: the dot-product test
    <J v, u> == <v, J^T u> against the node's backward, and J v against central differences
    of ``fn``; then the same rule on Tensors (the path used when tangents must stay
    differentiable) gives the same values."""
    rng = np.random.default_rng(seed)
    ts = [cr.tensor(a, requires_grad=a.dtype.kind == "f" and i not in const)
          for i, a in enumerate(arrays)]
    out = fn(*ts)
    node = out.grad_fn
    vs = [rng.standard_normal(a.shape) if t.requires_grad else None
          for a, t in zip(arrays, ts)]
    # one tangent per edge: a leaf input's edge is the AccumulateGrad holding it
    pos = {id(t): i for i, t in enumerate(ts)}
    tangents = [None if fn_ is None else vs[pos[id(fn_.variable)]]
                for fn_, _ in node.next_functions]
    jv = np.asarray(node.jvp(list(tangents), *node.saved))
    assert jv.shape == tuple(out.shape)
    u = rng.standard_normal(tuple(out.shape))
    jtu = node.backward(u, *node.saved)
    lhs = float(np.sum(jv * u))
    rhs = sum(float(np.sum(v * g)) for v, g in zip(tangents, jtu) if v is not None)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-9)
    eps = 1e-6

    def at(sign):
        return fn(*[cr.tensor(a if v is None else a + sign * eps * v)
                    for a, v in zip(arrays, vs)]).detach().numpy()

    np.testing.assert_allclose(jv, (at(1) - at(-1)) / (2 * eps), rtol=1e-5, atol=1e-6)
    out = fn(*ts)  # a fresh node (backward may have released cached work)
    tt = [None if v is None else cr.tensor(v) for v in tangents]
    jt = out.grad_fn.jvp(tt, *out.grad_fn._saved_tensors())
    np.testing.assert_allclose(jt.detach().numpy(), jv, rtol=1e-10, atol=1e-12)


# -- convolutions ------------------------------------------------------------------------
CONV2D_CASES = [
    ((2, 3, 7, 6), (4, 3, 3, 3), dict(padding=1)),
    ((2, 4, 7, 6), (6, 2, 3, 2), dict(padding=(1, 2), stride=(2, 1), groups=2)),
    ((2, 4, 9, 8), (6, 2, 3, 3), dict(padding=2, stride=2, dilation=2, groups=2)),
    ((2, 3, 7, 6), (4, 3, 4, 3), dict(padding="same", dilation=(1, 2))),
    ((2, 3, 7, 6), (4, 3, 3, 3), dict(padding="valid", stride=3)),
    ((3, 7, 6), (4, 3, 3, 3), dict(padding=1)),  # unbatched
    ((1, 2, 5, 5), (2, 1, 1, 1), dict(groups=2)),
]


@pytest.mark.torch
@pytest.mark.parametrize("xs,ws,kw", CONV2D_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch(xs, ws, kw, bias):
    import torch

    arrays = [_rand(*xs), _rand(*ws)] + ([_rand(ws[0])] if bias else [])
    compare_torch(lambda *a: F.conv2d(*a, **kw), lambda *a: torch.nn.functional.conv2d(*a, **kw),
                  *arrays)


@pytest.mark.torch
@pytest.mark.parametrize("xs,ws,kw", [
    ((2, 3, 9), (4, 3, 3), dict(padding=1, stride=2)),
    ((2, 4, 9), (4, 2, 3), dict(padding=3, groups=2, dilation=2)),
    ((3, 9), (4, 3, 2), dict(padding="same")),
])
def test_conv1d_matches_torch(xs, ws, kw):
    import torch

    compare_torch(lambda *a: F.conv1d(*a, **kw), lambda *a: torch.nn.functional.conv1d(*a, **kw),
                  _rand(*xs), _rand(*ws), _rand(ws[0]))


@pytest.mark.torch
@pytest.mark.parametrize("xs,ws,kw", [
    ((2, 3, 4, 5), (3, 4, 3, 3), dict(padding=1)),
    ((2, 4, 4, 5), (4, 3, 3, 2), dict(stride=2, padding=(1, 0), output_padding=1, groups=2)),
    ((2, 3, 4, 4), (3, 2, 2, 3), dict(stride=(2, 3), dilation=2, output_padding=(1, 2))),
    ((3, 4, 5), (3, 2, 3, 3), dict(stride=2)),
    # stride 1 with output_padding < dilation: extra output rows only get the bias
    ((2, 4, 4, 5), (4, 1, 3, 1), dict(padding=(2, 0), dilation=(1, 2), groups=2,
                                      output_padding=(0, 1))),
])
def test_conv_transpose2d_matches_torch(xs, ws, kw):
    import torch

    compare_torch(lambda *a: F.conv_transpose2d(*a, **kw),
                  lambda *a: torch.nn.functional.conv_transpose2d(*a, **kw),
                  _rand(*xs), _rand(*ws), _rand(ws[1] * kw.get("groups", 1)))


@pytest.mark.torch
def test_conv_transpose1d_matches_torch():
    import torch

    kw = dict(stride=3, padding=1, output_padding=2, dilation=1)
    compare_torch(lambda *a: F.conv_transpose1d(*a, **kw),
                  lambda *a: torch.nn.functional.conv_transpose1d(*a, **kw),
                  _rand(2, 3, 5), _rand(3, 2, 4), _rand(2))


@pytest.mark.torch
def test_conv_node_name_and_float32():
    import torch

    x = cr.randn(2, 3, 5, 5, requires_grad=True)
    w = cr.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    assert y.grad_fn.name() == "ConvolutionBackward0"
    assert y.dtype == cr.float32
    ty = torch.nn.functional.conv2d(torch.tensor(x.detach().numpy()),
                                    torch.tensor(w.detach().numpy()), padding=1)
    np.testing.assert_allclose(y.detach().numpy(), ty.numpy(), atol=1e-4)


def test_conv_grads_central_differences():
    check_grad(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2),
               _rand(1, 2, 5, 4), _rand(2, 1, 3, 2), _rand(2))
    check_grad(lambda x, w: F.conv_transpose2d(x, w, stride=2, output_padding=1),
               _rand(1, 2, 3, 3), _rand(2, 1, 2, 2))
    check_grad(lambda x, w: F.conv1d(x, w, dilation=2), _rand(1, 2, 7), _rand(3, 2, 2))


def test_conv_second_order():
    # grads of grads: d/dx and d/dw of d<conv(x, w), r>/dx and /dw
    x, w = _rand(1, 2, 4, 4), _rand(2, 2, 2, 2)
    second_order(lambda x, w: F.conv2d(x, w, padding=1) ** 2, x, w, wrt=0)
    second_order(lambda x, w: F.conv2d(x, w, stride=2) ** 2, x, w, wrt=1)
    second_order(lambda x, w: F.conv_transpose2d(x, w, stride=2) ** 2, x, w, wrt=1)
    second_order(lambda x, w: F.conv1d(x, w) ** 2, _rand(1, 2, 5), _rand(2, 2, 3), wrt=0)
    xg, wg, bg = _rand(1, 4, 5, 5), _rand(4, 2, 3, 2), _rand(4)
    second_order(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2) ** 2,
                 xg, wg, bg, wrt=0)
    second_order(lambda x, w, b: F.conv2d(x, w, b, stride=(1, 2), dilation=2, groups=2) ** 2,
                 xg, wg, bg, wrt=1)


def test_conv_errors():
    x = cr.randn(2, 3, 5, 5)
    with pytest.raises(RuntimeError, match=r"expected input\[2, 3, 5, 5\] to have 4 channels"):
        F.conv2d(x, cr.randn(2, 4, 3, 3))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        F.conv2d(x, cr.randn(2, 3, 7, 7))
    with pytest.raises(RuntimeError, match="expected bias to be 1-dimensional with 2"):
        F.conv2d(x, cr.randn(2, 3, 3, 3), cr.randn(3))
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided"):
        F.conv2d(x, cr.randn(2, 3, 3, 3), stride=2, padding="same")
    with pytest.raises(RuntimeError, match="Expected 3D"):
        F.conv2d(cr.randn(5, 5), cr.randn(2, 3, 3, 3))
    with pytest.raises(RuntimeError, match="Given groups=2"):
        F.conv2d(x, cr.randn(3, 3, 3, 3), groups=2)


# -- pooling -----------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("kw", [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1)),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2, padding=1, ceil_mode=True, return_indices=True),
])
def test_max_pool2d_matches_torch(kw):
    import torch

    compare_torch(lambda x: F.max_pool2d(x, **kw),
                  lambda x: torch.nn.functional.max_pool2d(x, **kw), _rand(2, 3, 7, 8))


@pytest.mark.torch
def test_max_pool_indices_and_1d():
    import torch

    x = _rand(2, 3, 9)
    compare_torch(lambda x: F.max_pool1d(x, 3, 2, 1, return_indices=True),
                  lambda x: torch.nn.functional.max_pool1d(x, 3, 2, 1, return_indices=True), x)
    compare_torch(lambda x: F.max_pool1d(x, 2), lambda x: torch.nn.functional.max_pool1d(x, 2),
                  _rand(3, 8))
    y = F.max_pool2d(cr.randn(1, 1, 4, 4, requires_grad=True), 2)
    assert y.grad_fn.name() == "MaxPool2DWithIndicesBackward0"


@pytest.mark.torch
def test_max_pool_ties_pick_one_element():
    import torch

    x = np.zeros((1, 1, 4, 4))
    compare_torch(lambda x: F.max_pool2d(x, 2, 1),
                  lambda x: torch.nn.functional.max_pool2d(x, 2, 1), x)


@pytest.mark.torch
@pytest.mark.parametrize("kw", [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3), divisor_override=5),
])
def test_avg_pool2d_matches_torch(kw):
    import torch

    y = compare_torch(lambda x: F.avg_pool2d(x, **kw),
                      lambda x: torch.nn.functional.avg_pool2d(x, **kw), _rand(2, 3, 7, 8))
    assert y.grad_fn.name() == "AvgPool2DBackward0"


@pytest.mark.torch
def test_avg_pool1d_matches_torch():
    import torch

    compare_torch(lambda x: F.avg_pool1d(x, 3, 2, 1, count_include_pad=False),
                  lambda x: torch.nn.functional.avg_pool1d(x, 3, 2, 1, count_include_pad=False),
                  _rand(2, 3, 9))


@pytest.mark.torch
@pytest.mark.parametrize("size", [(3, 4), 5, (2, None), 1])
def test_adaptive_pools_match_torch(size):
    import torch

    tf = torch.nn.functional
    x = _rand(2, 3, 7, 9)
    compare_torch(lambda x: F.adaptive_avg_pool2d(x, size),
                  lambda x: tf.adaptive_avg_pool2d(x, size), x)
    compare_torch(lambda x: F.adaptive_max_pool2d(x, size, return_indices=True),
                  lambda x: tf.adaptive_max_pool2d(x, size, return_indices=True), x)
    compare_torch(lambda x: F.adaptive_avg_pool1d(x, 4), lambda x: tf.adaptive_avg_pool1d(x, 4),
                  _rand(2, 3, 9))


@pytest.mark.torch
def test_lp_pool_matches_torch():
    import torch

    x = np.abs(_rand(1, 2, 6, 6)) + 0.1
    compare_torch(lambda x: F.lp_pool2d(x, 2, 2), lambda x: torch.nn.functional.lp_pool2d(x, 2, 2),
                  x, atol=1e-9)


def test_pool_second_order_and_grads():
    check_grad(lambda x: F.max_pool2d(x, 2, 1, 1), _rand(1, 2, 4, 4))
    check_grad(lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True), _rand(1, 2, 5, 5))
    second_order(lambda x: F.max_pool2d(x * x, 2), _rand(1, 1, 4, 4))
    second_order(lambda x: F.avg_pool2d(x, 2) ** 3, _rand(1, 1, 4, 4))
    second_order(lambda x: F.adaptive_avg_pool2d(x, 3) ** 3, _rand(1, 1, 5, 4))


def test_pool_errors():
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(cr.randn(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.avg_pool2d(cr.randn(1, 1, 2, 2), 3)


# -- padding, resampling, rearrangements ---------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("mode,pads,shape", [
    ("constant", (1, 2), (2, 3, 4)),
    ("constant", (1, -1, 2, 0), (2, 3, 4, 5)),
    ("constant", (1, 1, 1, 1, 1, 1), (2, 3, 4)),
    ("reflect", (2, 1), (2, 3, 5)),
    ("reflect", (2, 1, 1, 3), (2, 3, 4, 5)),
    ("replicate", (2, 1, 0, 3), (2, 3, 4, 5)),
    ("replicate", (3, 1), (3, 5)),
    ("circular", (2, 1, 1, 3), (2, 3, 4, 5)),
])
def test_pad_matches_torch(mode, pads, shape):
    import torch

    kw = dict(value=2.5) if mode == "constant" else {}
    compare_torch(lambda x: F.pad(x, pads, mode, **kw),
                  lambda x: torch.nn.functional.pad(x, pads, mode, **kw), _rand(*shape))


def test_pad_errors_and_second_order():
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        F.pad(cr.randn(1, 2, 3), (3, 3), mode="reflect")
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 4D"):
        F.pad(cr.randn(1, 1, 3, 3), (1, 1), mode="reflect")
    second_order(lambda x: F.pad(x * x, (1, 2), mode="reflect"), _rand(2, 4))


@pytest.mark.torch
@pytest.mark.parametrize("kw,shape", [
    (dict(scale_factor=2), (2, 3, 4, 5)),
    (dict(size=(7, 3)), (2, 3, 4, 5)),
    (dict(size=(7, 3), mode="nearest-exact"), (2, 3, 4, 5)),
    (dict(scale_factor=2, mode="bilinear"), (2, 3, 4, 5)),
    (dict(size=(7, 3), mode="bilinear", align_corners=True), (2, 3, 4, 5)),
    (dict(size=(7, 3), mode="bilinear", align_corners=False), (2, 3, 4, 5)),
    (dict(scale_factor=1.7, mode="linear"), (2, 3, 5)),
    (dict(size=4), (2, 3, 9)),
])
def test_interpolate_matches_torch(kw, shape):
    import torch

    compare_torch(lambda x: F.interpolate(x, **kw),
                  lambda x: torch.nn.functional.interpolate(x, **kw), _rand(*shape))


@pytest.mark.torch
def test_unfold_fold_pixel_shuffle_match_torch():
    import torch

    tf = torch.nn.functional
    kw = dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1))
    y = compare_torch(lambda x: F.unfold(x, **kw), lambda x: tf.unfold(x, **kw), _rand(2, 3, 5, 6))
    assert y.grad_fn.name() == "Im2ColBackward0"
    cols = tf.unfold(torch.zeros(2, 3, 5, 6), **kw).shape
    compare_torch(lambda x: F.fold(x, (5, 6), **kw), lambda x: tf.fold(x, (5, 6), **kw),
                  _rand(*cols))
    compare_torch(lambda x: F.pixel_shuffle(x, 2), lambda x: tf.pixel_shuffle(x, 2),
                  _rand(2, 8, 3, 4))
    compare_torch(lambda x: F.pixel_unshuffle(x, 2), lambda x: tf.pixel_unshuffle(x, 2),
                  _rand(2, 3, 4, 6))
    second_order(lambda x: F.unfold(x * x, 2), _rand(1, 1, 3, 3))


# -- 3-D convolutions and pooling ----------------------------------------------------------
CONV3D_CASES = [
    ((2, 3, 5, 4, 6), (4, 3, 3, 2, 3), dict(padding=1)),
    ((2, 4, 6, 5, 7), (6, 2, 3, 3, 2), dict(stride=(2, 1, 2), padding=(1, 0, 1),
                                            dilation=(1, 2, 1), groups=2)),
    ((2, 3, 5, 5, 4), (2, 3, 2, 3, 2), dict(padding="same", dilation=(2, 1, 1))),
    ((3, 4, 5, 4), (2, 3, 2, 2, 2), dict(stride=2)),  # unbatched
]


@pytest.mark.torch
@pytest.mark.parametrize("xs,ws,kw", CONV3D_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv3d_matches_torch(xs, ws, kw, bias):
    import torch

    arrays = [_rand(*xs), _rand(*ws)] + ([_rand(ws[0])] if bias else [])
    y = compare_torch(lambda *a: F.conv3d(*a, **kw),
                      lambda *a: torch.nn.functional.conv3d(*a, **kw), *arrays)
    if len(xs) == 5:
        assert y.grad_fn.name() == "ConvolutionBackward0"


@pytest.mark.torch
@pytest.mark.parametrize("xs,ws,kw", [
    ((2, 3, 3, 4, 3), (3, 2, 3, 2, 2), dict(padding=1)),
    ((2, 4, 3, 3, 4), (4, 1, 2, 3, 2), dict(stride=(2, 1, 3), padding=(0, 1, 1), groups=2,
                                            output_padding=(1, 0, 2))),
    ((2, 2, 3, 3, 3), (2, 2, 2, 2, 2), dict(stride=2, dilation=(2, 1, 2), output_padding=1)),
    ((2, 3, 2, 3), (2, 3, 2, 2, 2), dict(stride=2)),  # unbatched
])
def test_conv_transpose3d_matches_torch(xs, ws, kw):
    import torch

    compare_torch(lambda *a: F.conv_transpose3d(*a, **kw),
                  lambda *a: torch.nn.functional.conv_transpose3d(*a, **kw),
                  _rand(*xs), _rand(*ws), _rand(ws[1] * kw.get("groups", 1)))


def test_conv3d_grads_and_second_order():
    check_grad(lambda x, w, b: F.conv3d(x, w, b, stride=(2, 1, 1), padding=1, groups=2),
               _rand(1, 2, 4, 3, 3), _rand(2, 1, 2, 2, 3), _rand(2))
    check_grad(lambda x, w: F.conv_transpose3d(x, w, stride=2, output_padding=1),
               _rand(1, 2, 2, 2, 2), _rand(2, 1, 2, 2, 2))
    x, w = _rand(1, 2, 3, 3, 3), _rand(2, 2, 2, 2, 2)
    second_order(lambda x, w: F.conv3d(x, w, padding=1) ** 2, x, w, wrt=0)
    second_order(lambda x, w: F.conv3d(x, w, stride=2) ** 2, x, w, wrt=1)
    second_order(lambda x, w: F.conv_transpose3d(x, w, stride=2) ** 2, x, w, wrt=0)


def test_conv3d_float32_and_errors():
    x = cr.randn(2, 3, 4, 4, 4, requires_grad=True)
    y = F.conv3d(x, cr.randn(5, 3, 3, 3, 3), cr.randn(5), padding=1)
    assert y.dtype == cr.float32 and tuple(y.shape) == (2, 5, 4, 4, 4)
    with pytest.raises(RuntimeError, match="Expected 5-dimensional weight"):
        F.conv3d(x, cr.randn(5, 3, 3, 3))
    with pytest.raises(RuntimeError, match="to have 6 channels, but got 3 channels"):
        F.conv3d(x, cr.randn(4, 3, 3, 3, 3), groups=2)


@pytest.mark.torch
@pytest.mark.parametrize("kw", [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3, 2), stride=(1, 2, 1), dilation=(2, 1, 1)),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2, padding=1, ceil_mode=True, return_indices=True),
])
def test_max_pool3d_matches_torch(kw):
    import torch

    y = compare_torch(lambda x: F.max_pool3d(x, **kw),
                      lambda x: torch.nn.functional.max_pool3d(x, **kw), _rand(2, 2, 5, 6, 7))
    y = y[0] if isinstance(y, tuple) else y
    assert y.grad_fn.name() == "MaxPool3DWithIndicesBackward0"


@pytest.mark.torch
@pytest.mark.parametrize("kw", [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3, 1), divisor_override=5),
])
def test_avg_pool3d_matches_torch(kw):
    import torch

    y = compare_torch(lambda x: F.avg_pool3d(x, **kw),
                      lambda x: torch.nn.functional.avg_pool3d(x, **kw), _rand(2, 2, 5, 6, 7))
    assert y.grad_fn.name() == "AvgPool3DBackward0"


@pytest.mark.torch
@pytest.mark.parametrize("size", [(2, 3, 4), 3, (None, 2, None), 1])
def test_adaptive_pools3d_match_torch(size):
    import torch

    tf = torch.nn.functional
    x = _rand(2, 3, 5, 7, 6)
    y = compare_torch(lambda x: F.adaptive_avg_pool3d(x, size),
                      lambda x: tf.adaptive_avg_pool3d(x, size), x)
    assert y.grad_fn.name() == "AdaptiveAvgPool3DBackward0"
    y = compare_torch(lambda x: F.adaptive_max_pool3d(x, size, return_indices=True),
                      lambda x: tf.adaptive_max_pool3d(x, size, return_indices=True), x)
    assert y.grad_fn.name() == "AdaptiveMaxPool3DBackward0"
    compare_torch(lambda x: F.adaptive_max_pool3d(x, size), lambda x: tf.adaptive_max_pool3d(
        x, size), _rand(3, 4, 5, 3))  # unbatched


def test_pool3d_grads_and_errors():
    check_grad(lambda x: F.max_pool3d(x, 2, 1, 1), _rand(1, 2, 3, 3, 3))
    check_grad(lambda x: F.avg_pool3d(x, 3, 2, 1, ceil_mode=True), _rand(1, 1, 4, 5, 4))
    check_grad(lambda x: F.adaptive_avg_pool3d(x, (2, 3, 2)), _rand(1, 2, 3, 4, 5))
    check_grad(lambda x: F.adaptive_max_pool3d(x, 2), _rand(1, 2, 3, 4, 5))
    second_order(lambda x: F.avg_pool3d(x, 2) ** 3, _rand(1, 1, 4, 4, 2))
    second_order(lambda x: F.adaptive_avg_pool3d(x, 2) ** 3, _rand(1, 1, 3, 4, 5))
    with pytest.raises(RuntimeError, match="non-empty 4D or 5D"):
        F.max_pool3d(cr.randn(2, 2), 2)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.avg_pool3d(cr.randn(1, 2, 2, 2), 3)
    with pytest.raises(RuntimeError, match=r"adaptive_avg_pool3d\(\): Expected 4D or 5D"):
        F.adaptive_avg_pool3d(cr.randn(2, 2), 2)



# -- forward mode: jvp rules (dot-product test against backward) ------------------------
@pytest.mark.parametrize("fn,shapes", [
    (lambda x, w, b: F.conv2d(x, w, b, padding=1), [(2, 3, 5, 4), (4, 3, 3, 2), (4,)]),
    (lambda x, w, b: F.conv2d(x, w, b, stride=2, dilation=(1, 2), groups=2),
     [(2, 4, 7, 6), (6, 2, 2, 2), (6,)]),
    (lambda x, w: F.conv1d(x, w, padding=2, stride=3), [(2, 3, 9), (2, 3, 3)]),
    (lambda x, w, b: F.conv3d(x, w, b, padding=(1, 0, 1)), [(1, 2, 3, 4, 3), (3, 2, 2, 2, 2),
                                                              (3,)]),
    (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, output_padding=1),
     [(2, 3, 3, 3), (3, 2, 2, 3), (2,)]),
    (lambda x, w: F.conv_transpose3d(x, w, stride=(1, 2, 1)), [(1, 2, 2, 3, 2), (2, 2, 2, 2, 2)]),
])
def test_conv_jvp_dot_product(fn, shapes):
    check_jvp(fn, *[_rand(*s) for s in shapes])


def test_conv_jvp_one_input_and_bias_only():
    x, w, b = _rand(2, 3, 5, 4), _rand(4, 3, 3, 2), _rand(4)
    check_jvp(lambda x, w, b: F.conv2d(x, w, b, padding=1), x, w, b, const=(0,))
    check_jvp(lambda x, w, b: F.conv2d(x, w, b, padding=1), x, w, b, const=(1,))
    check_jvp(lambda x, w, b: F.conv2d(x, w, b, padding=1), x, w, b, const=(0, 1))


def test_conv_jvp_of_gradient_nodes():
    # under create_graph the gradients are conv products too ("bx", "bw" modes)
    x, w, r = _rand(1, 2, 5, 5), _rand(3, 2, 3, 3), _rand(1, 3, 3, 3)

    def grad_wrt(i):
        def f(x, w):
            x, w = (t if t.requires_grad else t.detach().requires_grad_() for t in (x, w))
            y = F.conv2d(x, w, stride=2, padding=1)
            return cr.autograd.grad((y * cr.tensor(r)).sum(), (x, w)[i], create_graph=True)[0]
        return f

    check_jvp(grad_wrt(0), x, w)
    check_jvp(grad_wrt(1), x, w)


@pytest.mark.parametrize("fn,shape", [
    (lambda x: F.max_pool2d(x, 3, 2, 1), (2, 2, 6, 5)),
    (lambda x: F.max_pool3d(x, 2), (1, 2, 4, 4, 2)),
    (lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), (2, 2, 6, 5)),
    (lambda x: F.avg_pool3d(x, 2, ceil_mode=True), (1, 2, 3, 5, 4)),
    (lambda x: F.adaptive_avg_pool3d(x, (2, 3, 2)), (1, 2, 4, 5, 3)),
    (lambda x: F.adaptive_max_pool3d(x, 2), (1, 2, 4, 5, 3)),
    (lambda x: F.adaptive_max_pool2d(x, 3), (2, 2, 5, 7)),
    (lambda x: F.pad(x, (1, 2, 0, 1), mode="reflect"), (1, 2, 4, 5)),
    (lambda x: F.pad(x, (1, 2), value=3.0), (2, 3, 4)),
    (lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"), (1, 2, 3, 4)),
    (lambda x: F.unfold(x, 2, padding=1), (1, 2, 3, 4)),
    (lambda x: F.pixel_shuffle(x, 2), (1, 8, 2, 3)),
])
def test_linear_ops_jvp_dot_product(fn, shape):
    check_jvp(fn, _rand(*shape))


@pytest.mark.torch
def test_conv_forward_ad_matches_torch():
    import torch
    import torch.autograd.forward_ad as tfw

    import chainrule.autograd.forward_ad as fw

    x, w, b, tx, tw = _rand(2, 3, 5, 4), _rand(4, 3, 3, 3), _rand(4), _rand(2, 3, 5, 4), \
        _rand(4, 3, 3, 3)
    with tfw.dual_level():
        y = torch.nn.functional.conv2d(tfw.make_dual(torch.tensor(x), torch.tensor(tx)),
                                       tfw.make_dual(torch.tensor(w), torch.tensor(tw)),
                                       torch.tensor(b), padding=1)
        want = tfw.unpack_dual(torch.nn.functional.max_pool2d(y.relu(), 2)).tangent.numpy()
    with fw.dual_level():
        y = F.conv2d(fw.make_dual(cr.tensor(x), cr.tensor(tx)),
                     fw.make_dual(cr.tensor(w), cr.tensor(tw)), cr.tensor(b), padding=1)
        got = fw.unpack_dual(F.max_pool2d(y.relu(), 2)).tangent.numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_of_complex_input_gradient_matches_torch(mode):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1, 2, 8)) + 1j * rng.standard_normal((1, 2, 8))
    grads = []
    for lib in (cr, torch):
        x = lib.tensor(a, requires_grad=True)
        y = lib.nn.functional.pad(x, (2, 3), mode=mode)
        (y.abs() ** 2 * lib.arange(13.0)).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)


@pytest.mark.torch
def test_gradient_of_real_to_complex_cast_is_the_real_part():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (cr, torch):
        x = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        y = x.to(lib.complex128) * lib.tensor([1 + 2j, 3 - 1j, -1j])
        (y * y).abs().sum().backward()
        grads.append(x.grad.numpy())
    assert grads[0].dtype == np.float32
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
