"""Lazy modules: UninitializedParameter, LazyLinear and the lazy convolutions."""
import copy
import io
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.serialization import save_safetensors


def test_uninitialized_parameter():
    p = nn.UninitializedParameter()
    assert isinstance(p, nn.Parameter) and p.requires_grad and p.dtype == cr.float32
    assert repr(p) == "<UninitializedParameter>"
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
        _ = p.shape
    with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter in numel"):
        p.numel()
    for q in (copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert type(q) is nn.UninitializedParameter and q.requires_grad
    p.materialize((2, 3), dtype=cr.float64)
    assert type(p) is nn.Parameter and p.shape == (2, 3) and p.dtype == cr.float64


def test_lazy_linear_infers_in_features_and_becomes_linear():
    m = nn.LazyLinear(3)
    assert repr(m) == "LazyLinear(in_features=0, out_features=3, bias=True)"
    assert m.has_uninitialized_params()
    w = m.weight
    y = m(cr.ones(4, 5))
    assert type(m) is nn.Linear and not hasattr(m, "has_uninitialized_params")
    assert m.in_features == 5 and m.weight.shape == (3, 5) and m.bias.shape == (3,)
    assert m.weight is w and type(w) is nn.Parameter  # the same object, now a Parameter
    assert y.shape == (4, 3)
    assert not m._forward_pre_hooks  # the hook removed itself
    np.testing.assert_allclose(y.detach().numpy(),
                               np.ones((4, 5)) @ m.weight.detach().numpy().T
                               + m.bias.detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        m(cr.ones(2, 4))  # the shape is fixed from now on
    m = nn.LazyLinear(2, bias=False, dtype=cr.float64)
    assert m.bias is None and list(m.state_dict()) == ["weight"]
    m(cr.ones(3, 4, dtype=cr.float64))
    assert m.weight.dtype == cr.float64 and m.weight.shape == (2, 4)


def test_optimizer_made_before_the_first_forward_updates_the_parameters():
    m = nn.LazyLinear(2)
    opt = cr.optim.Adam(m.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="uninitialized parameter"):
        sum(p.numel() for p in m.parameters())
    m(cr.ones(3, 4)).sum().backward()
    before = m.weight.detach().clone()
    opt.step()
    assert not np.allclose(before.numpy(), m.weight.detach().numpy())


def test_dtype_conversion_before_the_first_forward_and_saving():
    m = nn.LazyLinear(2).double()
    m(cr.ones(1, 3, dtype=cr.float64))
    assert m.weight.dtype == cr.float64 and m.bias.dtype == cr.float64
    with pytest.raises(TypeError, match="cannot store an UninitializedParameter"):
        cr.save(nn.LazyLinear(2).state_dict(), io.BytesIO())
    with pytest.raises(TypeError, match="an UninitializedParameter"):
        save_safetensors(nn.LazyLinear(2).state_dict())


def test_lazy_modules_in_sequential_and_deepcopy():
    net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(2))
    twin = copy.deepcopy(net)
    net(cr.ones(1, 3))
    assert [tuple(p.shape) for p in net.parameters()] == [(8, 3), (8,), (2, 8), (2,)]
    assert all(type(m) is nn.Linear for m in (net[0], net[2]))
    assert type(twin[0]) is nn.LazyLinear and twin[0].has_uninitialized_params()
    twin(cr.ones(1, 6))
    assert twin[0].weight.shape == (8, 6) and net[0].weight.shape == (8, 3)


def test_load_state_dict_into_a_lazy_module():
    src = nn.Linear(5, 3)
    m = nn.LazyLinear(3)
    m.load_state_dict(src.state_dict())
    assert not m.has_uninitialized_params() and type(m) is nn.LazyLinear
    np.testing.assert_array_equal(m.weight.detach().numpy(), src.weight.detach().numpy())
    x = cr.randn(2, 5)
    np.testing.assert_allclose(m(x).detach().numpy(), src(x).detach().numpy())
    assert type(m) is nn.Linear and m.in_features == 5
    lazy = nn.LazyLinear(3)
    lazy.load_state_dict(nn.LazyLinear(3).state_dict())  # lazy into lazy: still lazy
    assert lazy.has_uninitialized_params()
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
        nn.Linear(2, 3).load_state_dict(nn.LazyLinear(3).state_dict())


@pytest.mark.parametrize("cls, x_shape, kw", [
    ("LazyConv1d", (2, 6, 9), {"groups": 2}),
    ("LazyConv2d", (2, 3, 7, 7), {"stride": 2, "padding": 1}),
    ("LazyConv2d", (3, 7, 7), {}),  # unbatched
    ("LazyConv3d", (1, 2, 4, 4, 4), {}),
    ("LazyConvTranspose1d", (2, 4, 5), {"stride": 2}),
    ("LazyConvTranspose2d", (1, 4, 3, 3), {"groups": 2}),
])
def test_lazy_convs_become_convs(cls, x_shape, kw):
    m = getattr(nn, cls)(4, 3, **kw)
    assert m.has_uninitialized_params() and m.in_channels == 0
    y = m(cr.randn(*x_shape))
    plain = getattr(nn, cls[4:])
    assert type(m) is plain
    c_in = x_shape[1] if len(x_shape) == int(cls[-2]) + 2 else x_shape[0]
    ref = plain(c_in, 4, 3, **kw)
    assert m.in_channels == c_in and m.weight.shape == ref.weight.shape
    assert y.shape == ref(cr.randn(*x_shape)).shape
    assert repr(m) == repr(ref)


def test_lazy_conv_errors():
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input "
                                           "to LazyConv2d"):
        nn.LazyConv2d(4, 3)(cr.ones(5, 5))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.LazyConv1d(4, 3, groups=2)(cr.ones(1, 3, 5))


@pytest.mark.torch
def test_shapes_state_dict_and_repr_match_torch():
    import torch

    cases = [(lambda m: m.LazyLinear(3), (4, 5)),
             (lambda m: m.LazyLinear(3, bias=False), (2, 7, 6)),
             (lambda m: m.LazyConv1d(4, 3, padding=1), (2, 3, 8)),
             (lambda m: m.LazyConv2d(6, 3, groups=2, bias=False), (1, 4, 6, 6)),
             (lambda m: m.LazyConvTranspose2d(2, 3, stride=2), (1, 3, 4, 4))]
    for make, shape in cases:
        t, c = make(torch.nn), make(nn)
        assert repr(c) == repr(t)
        assert list(c.state_dict()) == list(t.state_dict())
        assert c.has_uninitialized_params() == t.has_uninitialized_params()
        yt, yc = t(torch.ones(shape)), c(cr.ones(*shape))
        assert repr(c) == repr(t) and type(c).__name__ == type(t).__name__
        assert {k: tuple(v.shape) for k, v in c.state_dict().items()} == \
               {k: tuple(v.shape) for k, v in t.state_dict().items()}
        assert tuple(yc.shape) == tuple(yt.shape)
        # with torch's weights, the same outputs
        c.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
        np.testing.assert_allclose(c(cr.ones(*shape)).detach().numpy(),
                                   yt.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_initialisation_uses_the_inferred_fan_in():
    """reset_parameters runs after materializing: kaiming-uniform bounds from the real fan-in
    (PyTorch's Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)))."""
    m = nn.LazyLinear(50)
    m(cr.ones(1, 400))
    bound = 1 / np.sqrt(400)
    w = m.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(m.bias.detach().numpy()).max() <= bound
