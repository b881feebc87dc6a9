"""Older and explicit spellings of nn ops and Module methods, compared with torch."""
import warnings

import numpy as np
import pytest

import chainrule as cr


@pytest.mark.torch
def test_functional_spellings_like_torch():
    import torch

    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4))
    x1 = x[:, :, 0]
    x3 = np.random.default_rng(1).standard_normal((1, 1, 4, 4, 4))
    res = []
    for L in (cr, torch):
        F = L.nn.functional
        t, t1, t3 = L.tensor(x), L.tensor(x1), L.tensor(x3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = [F.upsample_bilinear(t, scale_factor=2), F.upsample_nearest(t, size=(8, 8))]
        out += list(F.max_pool1d_with_indices(t1, 2)) + list(F.max_pool2d_with_indices(t, 2))
        out += list(F.max_pool3d_with_indices(t3, 2))
        out += list(F.adaptive_max_pool1d_with_indices(t1, 2))
        out += list(F.adaptive_max_pool2d_with_indices(t, 3))
        out += list(F.adaptive_max_pool3d_with_indices(t3, 2))
        y, w = t.clone(), t.clone()
        F.selu_(y)
        F.celu_(w, 0.5)
        res.append([o.numpy() for o in out + [y, w]])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.torch
def test_module_set_submodule_extra_state_to_empty_and_data_parallel_like_torch():
    import torch

    res = []
    for L in (cr, torch):
        m = L.nn.Sequential(L.nn.Linear(2, 2), L.nn.Sequential(L.nn.ReLU()))
        m.set_submodule("1.0", L.nn.Tanh())
        m.set_submodule("2", L.nn.Linear(2, 3))  # a new name is added unless strict
        with pytest.raises(AttributeError):
            m.set_submodule("9", L.nn.ReLU(), strict=True)
        with pytest.raises(RuntimeError) as e:
            m.get_extra_state()
        dp = L.nn.DataParallel(m)
        res.append((repr(m), m.to_empty(device="cpu") is m, list(dp.state_dict()), repr(dp),
                    str(e.value)[:60], dp.module is m))
    assert res[0] == res[1]


@pytest.mark.torch
def test_full_backward_pre_hook_scales_grad_output_like_torch():
    import torch

    res = []
    for L in (cr, torch):
        m = L.nn.Linear(3, 2).double()
        with L.no_grad():
            m.weight.copy_(L.tensor(np.arange(6.0).reshape(2, 3)))
            m.bias.zero_()
        calls = []

        def pre(mod, gout, calls=calls):
            calls.append(("pre", tuple(gout[0].shape)))
            return (gout[0] * 2,)

        def post(mod, gin, gout, calls=calls):
            calls.append(("post", tuple(gout[0].shape), gin[0] is None))

        h1 = m.register_full_backward_pre_hook(pre)
        m.register_full_backward_hook(post)
        x = L.ones(4, 3, dtype=L.float64, requires_grad=True)
        m(x).sum().backward()
        h1.remove()
        m(x).sum().backward()  # removed: no doubling the second time
        res.append((calls, x.grad.numpy(), m.weight.grad.numpy()))
    assert res[0][0] == res[1][0]
    np.testing.assert_array_equal(res[0][1], res[1][1])
    np.testing.assert_array_equal(res[0][2], res[1][2])
