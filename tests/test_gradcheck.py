"""gradcheck / gradgradcheck: pass on right gradients, fail with PyTorch's message on wrong ones."""
import importlib

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck

# (chainrule.autograd.gradcheck may be the function once exported, as in torch)
gc_mod = importlib.import_module("chainrule.autograd.gradcheck")
RNG = np.random.default_rng(2)


def _x(*shape, dtype=cr.float64):
    return cr.tensor(RNG.standard_normal(shape), dtype=dtype, requires_grad=True)


class WrongSquare(cr.autograd.Function):
    """forward x**2 with a wrong backward (3x instead of 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x * g


class DetachedBackward(cr.autograd.Function):
    """Right first derivative of x**3, but backward cuts the graph: second order is wrong."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * cr.tensor(3 * x.detach().numpy() ** 2)


def _numbers(text):
    import re

    return np.array([float(v) for v in re.findall(r"-?\d+\.\d*(?:e[-+]\d+)?", text)])


def mlp(x, w, b):
    return cr.tanh(x @ w + b).sum(-1)


@pytest.mark.parametrize("fn,shapes", [
    (lambda x: cr.tanh(x) * x.exp(), [(3,)]),
    (lambda x, y: (x * y).sum() / (1 + y ** 2).sum(), [(2, 3), (2, 3)]),
    (mlp, [(4, 3), (3, 2), (2,)]),
    (lambda x: (x.exp() / x.exp().sum(-1, keepdim=True), x.sigmoid()), [(2, 3)]),
])
def test_correct_functions_pass(fn, shapes):
    inputs = tuple(_x(*s) for s in shapes)
    assert gradcheck(fn, inputs)
    assert gradcheck(fn, inputs, fast_mode=True)
    assert gradcheck(fn, inputs, check_forward_ad=True)
    assert gradgradcheck(fn, inputs)


def test_inputs_not_requiring_grad_are_constants():
    x = _x(3)
    c = cr.tensor(RNG.standard_normal(3))
    assert gradcheck(lambda x, c, k: (x * c) ** k, (x, c, 2))


def test_wrong_backward_fails_with_message():
    x = _x(3)
    with pytest.raises(GradcheckError) as e:
        gradcheck(WrongSquare.apply, (x,))
    msg = str(e.value)
    assert isinstance(e.value, RuntimeError)
    assert msg.startswith("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:")
    assert "analytical:" in msg
    num_part, ana_part = msg.split("numerical:")[1].split("analytical:")
    xd = x.detach().numpy()
    np.testing.assert_allclose(_numbers(num_part), np.diag(2 * xd).ravel(), atol=1e-4)
    np.testing.assert_allclose(_numbers(ana_part), np.diag(3 * xd).ravel(), atol=1e-4)
    assert gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False


def test_wrong_input_index_is_named():
    a, b = _x(2), _x(2)
    with pytest.raises(GradcheckError, match="with respect to input 1"):
        gradcheck(lambda a, b: a * WrongSquare.apply(b), (a, b))


@pytest.mark.torch
def test_message_format_matches_torch():
    import torch

    class TWrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * g

    data = np.array([1.0, 2.0])
    with pytest.raises(importlib.import_module("torch.autograd.gradcheck").GradcheckError) as et:
        torch.autograd.gradcheck(TWrong.apply, (torch.tensor(data, requires_grad=True),))
    with pytest.raises(GradcheckError) as ec:
        gradcheck(WrongSquare.apply, (cr.tensor(data, requires_grad=True),))
    lines_t, lines_c = str(et.value).splitlines(), str(ec.value).splitlines()
    assert lines_c[0] == lines_t[0]
    assert [ln.split(":")[0] for ln in lines_c if ":" in ln] == \
        [ln.split(":")[0] for ln in lines_t if ":" in ln]
    # both sides print the same numbers
    np.testing.assert_allclose(_numbers(str(ec.value)), _numbers(str(et.value)), atol=1e-4)


def test_fast_mode_and_forward_ad_fail_on_wrong_backward():
    x = _x(3)
    with pytest.raises(GradcheckError, match="fast mode"):
        gradcheck(WrongSquare.apply, (x,), fast_mode=True)
    assert gradcheck(WrongSquare.apply, (x,), fast_mode=True, raise_exception=False) is False


def test_gradgradcheck_catches_wrong_second_derivative():
    x = _x(3)
    assert gradcheck(DetachedBackward.apply, (x,))
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(DetachedBackward.apply, (x,))


def test_no_input_requires_grad():
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda x: x * 2, (cr.ones(2, dtype=cr.float64),))


def test_float32_warns_and_central_differences_fail():
    x = _x(4, dtype=cr.float32)
    with pytest.warns(UserWarning, match="not a double precision"):
        ok = gradcheck(lambda x: cr.tanh(x) * x.exp(), (x,), raise_exception=False)
    assert ok is False  # eps=1e-6 in float32 is all round-off (as in PyTorch)


def test_richardson_checks_float32_tightly():
    f = lambda x: cr.tanh(x) * x.exp()
    x = _x(4, dtype=cr.float32)
    assert gradcheck(f, (x,), method="richardson", atol=1e-5, rtol=1e-4)
    assert not gradcheck(WrongSquare.apply, (x,), method="richardson", raise_exception=False)
    # error of the numerical Jacobian against the exact one
    xd = x.detach().numpy().astype(np.float64)
    exact = np.diag((1 - np.tanh(xd) ** 2) * np.exp(xd) + np.tanh(xd) * np.exp(xd))
    rich = gc_mod._numerical_jacobian(f, (x,), [0], 1, None, "richardson")[0][0]
    best_central = min(np.abs(gc_mod._numerical_jacobian(f, (x,), [0], 1, eps, "central")[0][0]
                              - exact).max() for eps in (1e-2, 1e-3, 1e-4))
    assert np.abs(rich - exact).max() < 5e-6
    assert np.abs(rich - exact).max() < best_central / 5


def test_richardson_float64_is_near_exact():
    x = _x(3)
    xd = x.detach().numpy()
    rich = gc_mod._numerical_jacobian(lambda x: x.exp(), (x,), [0], 1, None, "richardson")[0][0]
    np.testing.assert_allclose(rich, np.diag(np.exp(xd)), rtol=1e-11)


def test_nondeterministic_backward_is_reported():
    class Noisy(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2 + cr.tensor(RNG.standard_normal(g.shape) * 1e-8)

    x = _x(3)
    with pytest.raises(GradcheckError, match="Backward is not reentrant"):
        gradcheck(Noisy.apply, (x,))
    assert gradcheck(Noisy.apply, (x,), nondet_tol=1e-6, check_undefined_grad=False)


def test_check_grad_dtypes_passes_on_right_dtypes():
    x = _x(3)
    assert gradcheck(lambda x: cr.tanh(x) * 2, (x,), check_grad_dtypes=True)


@pytest.mark.torch
def test_custom_function_grad_dtype_cast_like_torch():
    import torch

    def make(lib):
        class WrongDtype(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return (g * 2).float()
        return WrongDtype

    xt = torch.tensor(RNG.standard_normal(3), requires_grad=True)
    assert torch.autograd.gradcheck(make(torch).apply, (xt,), check_grad_dtypes=True)
    assert gradcheck(make(cr).apply, (_x(3),), check_grad_dtypes=True)
