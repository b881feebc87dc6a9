"""Errors users hit most: type and message compared with PyTorch's."""
import warnings

import numpy as np
import pytest

import chainrule as cr

pytestmark = pytest.mark.torch


def _raised(fn, lib):
    with pytest.raises(Exception) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn(lib)
    return info.value


def _same_error(fn, *, same_message=True, rename=True):
    """Run ``fn(lib)`` with chainrule and torch; both must raise the same type (and message,
    with ``torch.`` read as ``chainrule.``)."""
    import torch

    theirs = _raised(fn, torch)
    ours = _raised(fn, cr)
    assert type(ours) is type(theirs), (ours, theirs)
    if same_message:
        expected = str(theirs) if rename else str(theirs)
        assert str(ours) == expected, (str(ours), str(theirs))
    return ours, theirs


# -- backward ---------------------------------------------------------------------------------
def test_second_backward():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward()
        y.backward()

    _same_error(f)


def test_second_autograd_grad():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        L.autograd.grad(y, x)
        L.autograd.grad(y, x)

    _same_error(f)


def test_non_scalar_implicit_backward():
    _same_error(lambda L: (L.tensor([1.0, 2.0], requires_grad=True) * 2).backward())


def test_backward_with_no_graph():
    _same_error(lambda L: L.tensor([1.0, 2.0]).sum().backward())


def test_backward_of_result_made_under_no_grad():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        with L.no_grad():
            y = (x * 2).sum()
        y.backward()

    _same_error(f)


def test_backward_of_integer_tensor():
    _same_error(lambda L: L.tensor(1).backward())


def test_wrong_gradient_shape_backward():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).backward(L.ones(3))

    _same_error(f)


def test_wrong_gradient_shape_grad():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        L.autograd.grad(x * 2, x, L.ones(2, 1))

    _same_error(f)


def test_grad_input_that_does_not_require_grad():
    def f(L):
        x = L.tensor([1.0], requires_grad=True)
        L.autograd.grad((x * 2).sum(), [x, L.tensor([1.0])])

    _same_error(f)


def test_unused_input_in_grad_type():
    def f(L):
        x = L.tensor([1.0], requires_grad=True)
        y = L.tensor([1.0], requires_grad=True)
        L.autograd.grad((x * 2).sum(), [x, y])

    ours, _ = _same_error(f, same_message=False)
    assert "Set allow_unused=True if this is the desired behavior." in str(ours)


def test_unused_input_in_grad_message():
    def f(L):
        x = L.tensor([1.0], requires_grad=True)
        y = L.tensor([1.0], requires_grad=True)
        L.autograd.grad((x * 2).sum(), [x, y])

    _same_error(f)


# -- requires_grad ----------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda L: L.tensor([1, 2], requires_grad=True),
    lambda L: L.arange(3, requires_grad=True),
    lambda L: L.zeros(2, dtype=L.int32, requires_grad=True),
    lambda L: L.tensor([True], requires_grad=True),
], ids=["tensor", "arange", "zeros", "bool"])
def test_requires_grad_on_integer_factory(make):
    _same_error(make)


def test_requires_grad_setter_on_integer_tensor():
    def f(L):
        x = L.tensor([1, 2])
        x.requires_grad = True

    _same_error(f)


def test_requires_grad_method_on_integer_tensor_type():
    ours, _ = _same_error(lambda L: L.tensor([1, 2]).requires_grad_(), same_message=False)
    assert "can require gradients" in str(ours)


def test_requires_grad_method_on_integer_tensor_message():
    _same_error(lambda L: L.tensor([1, 2]).requires_grad_())


def test_requires_grad_false_on_non_leaf():
    def f(L):
        y = L.tensor([1.0], requires_grad=True) * 2
        y.requires_grad = False

    _same_error(f)


# -- in-place on a leaf that requires grad ------------------------------------------------------
@pytest.mark.parametrize("op", ["zero_", "fill_", "add_", "mul_", "iadd", "imul"])
def test_inplace_on_leaf_requiring_grad(op):
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        if op == "zero_":
            x.zero_()
        elif op == "fill_":
            x.fill_(3.0)
        elif op == "add_":
            x.add_(1.0)
        elif op == "mul_":
            x.mul_(2.0)
        elif op == "iadd":
            x += 1
        else:
            x *= 2

    _same_error(f)


@pytest.mark.parametrize("op", ["zero_", "add_"])
def test_inplace_on_leaf_allowed_under_no_grad(op):
    import torch

    vals = []
    for L in (cr, torch):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        with L.no_grad():
            getattr(x, op)(*(() if op == "zero_" else (1.0,)))
        vals.append(x.detach().numpy().tolist())
        assert x.requires_grad and x.is_leaf
    assert vals[0] == vals[1]


# -- shapes -------------------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [((5, 3), (4, 2)), ((2, 3), (2, 3)), ((1, 7), (6, 1))])
def test_matmul_mismatch_names_both_shapes(shapes):
    a, b = shapes
    for call in (lambda L: L.matmul(L.ones(*a), L.ones(*b)),
                 lambda L: L.ones(*a) @ L.ones(*b),
                 lambda L: L.mm(L.ones(*a), L.ones(*b))):
        ours, _ = _same_error(call)
        assert f"{a[0]}x{a[1]}" in str(ours) and f"{b[0]}x{b[1]}" in str(ours)


@pytest.mark.parametrize("call", [
    lambda L: L.dot(L.ones(3), L.ones(4)),
    lambda L: L.ones(3) @ L.ones(4),
    lambda L: L.ones(2, 3) @ L.ones(4),
    lambda L: L.ones(()) @ L.ones(3),
    lambda L: L.ones(2, 5, 3) @ L.ones(2, 4, 2),
], ids=["dot", "vec@vec", "mat@vec", "0d", "batched"])
def test_matmul_family_mismatch_messages(call):
    _same_error(call)


def test_matmul_vector_matrix_mismatch_names_both_shapes():
    ours, _ = _same_error(lambda L: L.ones(3) @ L.ones(4, 2), same_message=False)
    assert "3" in str(ours) and "4" in str(ours)


@pytest.mark.parametrize("a,b", [((2, 3), (4,)), ((2, 3), (2, 4)), ((2, 3, 4), (5, 4)),
                                 ((3,), (2,))])
@pytest.mark.parametrize("op", ["add", "mul", "sub", "div"])
def test_broadcast_mismatch_names_both_shapes(a, b, op):
    ours, theirs = _same_error(lambda L: getattr(L, op)(L.ones(*a), L.ones(*b)),
                               same_message=False)
    assert str(ours).startswith(str(theirs))  # torch's sentence, then the shapes
    assert str(list(a)) in str(ours) and str(list(b)) in str(ours)


@pytest.mark.parametrize("call", [
    lambda L: L.ones(2, 3).reshape(4, 2),
    lambda L: L.ones(2, 3).view(5),
    lambda L: L.ones(2, 3).sum(2),
    lambda L: L.ones(2, 3).transpose(0, 3),
], ids=["reshape", "view", "sum dim", "transpose dim"])
def test_shape_errors(call):
    _same_error(call)


def test_expand_mismatch_type():
    ours, _ = _same_error(lambda L: L.ones(2, 3).expand(4, 3), same_message=False)
    assert "[4, 3]" in str(ours) and "[2, 3]" in str(ours)


# -- conversions ---------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda L: L.tensor([1.0], requires_grad=True).numpy(),
    lambda L: L.ones(2).item(),
    lambda L: bool(L.ones(2)),
    lambda L: len(L.tensor(1.0)),
    lambda L: iter(L.tensor(1.0)),
], ids=["numpy requires_grad", "item", "bool", "len 0-d", "iter 0-d"])
def test_conversion_errors(call):
    _same_error(call)


def test_assigning_grad_of_wrong_type():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        x.grad = 3

    _same_error(f)


def test_assigning_grad_of_wrong_shape_type():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        x.grad = L.ones(3)

    _same_error(f, same_message=False)


def test_assigning_grad_of_wrong_shape_message():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        x.grad = L.ones(3)

    _same_error(f)


def test_retain_grad_and_hooks_on_tensor_without_grad():
    _same_error(lambda L: L.tensor([1.0]).retain_grad())
    _same_error(lambda L: L.tensor([1.0]).register_hook(lambda g: g))
    _same_error(lambda L: (L.tensor([1.0], requires_grad=True) * 2)
                .register_post_accumulate_grad_hook(lambda t: None))


def test_deepcopy_of_non_leaf():
    import copy

    _same_error(lambda L: copy.deepcopy(L.tensor([1.0], requires_grad=True) * 2), rename=False)


def test_grad_with_no_inputs():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        L.autograd.grad((x * 2).sum(), [])

    _same_error(f)


def test_grad_outputs_of_another_dtype_give_input_dtype():
    import torch

    res = []
    for L in (cr, torch):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        (g,) = L.autograd.grad(x * 2, x, L.ones(2, dtype=L.float64))
        res.append(repr(g.dtype).split(".")[1])
    assert res[0] == res[1]


@pytest.mark.parametrize("shape, sizes", [
    ((2, 3), (4, 3)), ((2, 3), (4, 5)), ((2, 3), (4, -1)), ((2, 1, 3), (2, 5, 4)),
    ((3,), (-1, 3)), ((2, 3), (-2, 3)),
])
def test_expand_mismatch_message(shape, sizes):
    # torch checks from the last dim to the first and names the first mismatch it meets
    _same_error(lambda L: L.ones(*shape).expand(*sizes))


@pytest.mark.torch
@pytest.mark.parametrize("call", [
    lambda L: L.ones(3) @ L.ones(4, 2),
    lambda L: L.ones(2, 3) @ L.ones(4),
    lambda L: L.ones(2, 5, 3) @ L.ones(4, 2),
    lambda L: L.ones(2, 5, 3) @ L.ones(4),
    lambda L: L.ones(2, 2, 3) @ L.ones(2, 4, 2),
    lambda L: L.ones(2, 3) @ L.ones(2, 5, 3),
    lambda L: L.ones(3) @ L.ones(2, 4, 2),
], ids=["vec@mat", "mat@vec", "batch@mat", "batch@vec", "bmm", "mat@batch", "vec@batch"])
def test_matmul_mismatch_messages_like_torch(call):
    _same_error(call)


@pytest.mark.torch
def test_matmul_batch_dims_that_do_not_broadcast():
    """torch's broadcast message, followed (as every chainrule shape error) by both shapes."""
    ours, theirs = _same_error(lambda L: L.ones(2, 5, 3) @ L.ones(3, 4, 2), same_message=False)
    assert str(ours).startswith(str(theirs)) and "[2] and [3]" in str(ours)


@pytest.mark.parametrize("call", [
    lambda L: L.tensor([1.0, 0.0]) / L.tensor([0.0, 0.0]),
    lambda L: L.tensor([1000.0]).exp(),
    lambda L: L.tensor([0.0]).rsqrt(),
    lambda L: L.tensor([-1.0]).sqrt(),
], ids=["div by zero", "exp overflow", "rsqrt zero", "sqrt negative"])
def test_no_numpy_warnings_on_inf_and_nan(call):
    """torch returns inf/nan silently; chainrule filters NumPy's warnings from its own code
    (under the default warning filters, which pytest replaces: restored here)."""
    from chainrule.ops import quiet_numpy_warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        quiet_numpy_warnings()
        out = call(cr)
        np.array([1.0]) / np.array([0.0])  # the user's own NumPy code still warns
    assert not np.isfinite(out.numpy()).all()
    assert [str(w.message) for w in caught] == ["divide by zero encountered in divide"]


@pytest.mark.parametrize("call", [
    lambda L: L.tensor([-1.0]).log(),
    lambda L: L.tensor([0.0]).log(),
], ids=["log negative", "log zero"])
def test_log_of_non_positive_is_quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        call(cr)
