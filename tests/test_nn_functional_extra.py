"""Views and nn.functional extras against PyTorch (float64 values and gradients) and central
differences: diagonal as a writable view, embedding_bag, bicubic/linear/trilinear/area
interpolation, ctc_loss."""
import numpy as np
import pytest
from conftest import check_grad
from test_conv import compare_torch

import chainrule as cr

F = cr.nn.functional
RNG = np.random.default_rng(2026)


def _rand(*shape):
    return RNG.standard_normal(shape)


def _both(fn):
    """``fn(lib)`` run with chainrule and with torch."""
    import torch

    return fn(cr), fn(torch)


# ======================================================================================
# diagonal(): a view whose writes reach the base
# ======================================================================================
DIAGONALS = [  # shape, offset, dim1, dim2
    ((3, 4), 0, 0, 1), ((3, 4), 1, 0, 1), ((3, 4), -2, 0, 1), ((3, 4), 2, 1, 0),
    ((2, 3, 4), 1, -1, 0), ((2, 3, 4), -1, 2, 1), ((3, 4), 5, 0, 1),
]
WRITES = {
    "add_": lambda d, L: d.add_(1.5),
    "fill_": lambda d, L: d.fill_(-2.0),
    "zero_": lambda d, L: d.zero_(),
    "setitem": lambda d, L: d.__setitem__((..., 0), 5.0),
    "copy_": lambda d, L: d.copy_(L.ones(d.shape, dtype=L.float64) * 7),
}


@pytest.mark.torch
@pytest.mark.parametrize("shape,offset,d1,d2", DIAGONALS)
@pytest.mark.parametrize("write", list(WRITES))
def test_diagonal_write_reaches_the_base(shape, offset, d1, d2, write):
    base = np.arange(float(np.prod(shape))).reshape(shape)

    def f(L):
        x = L.tensor(base)
        d = x.diagonal(offset, d1, d2)
        if d.numel() == 0 and write == "setitem":
            return x.tolist()
        WRITES[write](d, L)
        return x.tolist(), d.tolist()

    ours, theirs = _both(f)
    assert ours == theirs


@pytest.mark.torch
@pytest.mark.parametrize("shape,offset,d1,d2", DIAGONALS)
def test_diagonal_inplace_rebases_the_graph(shape, offset, d1, d2):
    base = _rand(*shape)
    w = _rand(*shape)

    def f(L):
        x = L.tensor(base, requires_grad=True)
        s = L.tensor(2.5, requires_grad=True)
        y = x * 1
        d = y.diagonal(offset, d1, d2)
        d.mul_(s)
        d.add_(x.diagonal(offset, d1, d2) ** 2)  # the view's new value depends on x twice
        (y * L.tensor(w)).sum().backward()
        return y.detach().numpy().copy(), x.grad.numpy().copy(), s.grad.numpy().copy(), \
            type(y.grad_fn).__name__

    ours, theirs = _both(f)
    for a, b in zip(ours[:3], theirs[:3]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert ours[3] == theirs[3] == "CopySlices"


def test_diagonal_inplace_gradient_matches_differences():
    def fn(x, s):
        y = x * 1
        y.diagonal(1, -1, 0).mul_(s).add_(1.0)
        y.diagonal().sub_(s * s)
        return y

    check_grad(fn, _rand(3, 4), _rand(1))


@pytest.mark.torch
def test_diagonal_of_a_diagonal_and_of_a_transpose():
    base = _rand(3, 3, 3)

    def f(L):
        x = L.tensor(base, requires_grad=True)
        y = x * 1
        y.transpose(0, 2).diagonal(0, 0, 1).diagonal().mul_(10)  # the main space diagonal
        (y ** 2).sum().backward()
        return y.detach().numpy().copy(), x.grad.numpy().copy()

    ours, theirs = _both(f)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)


@pytest.mark.torch
def test_diagonal_errors_like_torch():
    from test_errors import _same_error

    # a view of a leaf that requires grad refuses in-place writes
    _same_error(lambda L: L.ones(3, 3, requires_grad=True).diagonal().add_(1))
    _same_error(lambda L: L.ones(3, 3).diagonal(0, 1, -1))


@pytest.mark.torch
def test_diag_and_out_of_place_diagonal_stay_copies_where_torch_copies():
    def f(L):
        x = L.arange(9.0).reshape(3, 3)
        L.diag(x).fill_(0)  # torch.diag returns a new tensor
        d = x.diagonal()
        e = d + 0
        e.fill_(1)
        return x.tolist(), d.tolist(), d.is_contiguous(), d.stride()

    ours, theirs = _both(f)
    assert ours == theirs


def test_diagonal_of_an_expanded_tensor_does_not_write_through_the_broadcast():
    x = cr.arange(3.0).expand(3, 3)
    d = x.diagonal()
    np.testing.assert_array_equal(d.numpy(), [0.0, 1.0, 2.0])
    assert not d._data.flags.writeable  # as read-only as the expanded memory it views


def test_diagonal_second_order():
    from test_conv import second_order

    second_order(lambda x: (x * x).diagonal(1) * x.diagonal(-1, 1, 0), _rand(3, 4))


CHAINED_VIEWS = {  # a write through two or three views (CopySlices on non-contiguous grads)
    "diagonal of diagonal": lambda y: y.diagonal(0, 0, 1).diagonal(),
    "diagonal of transpose": lambda y: y.transpose(0, 2).diagonal(1, 0, 1),
    "transpose of transpose": lambda y: y.transpose(0, 2).transpose(0, 1),
    "transpose, narrow, transpose": lambda y: y.transpose(0, 2).narrow(0, 1, 2).transpose(0, 1),
    "permute then diagonal": lambda y: y.permute(2, 0, 1).diagonal(-1, -1, 0),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(CHAINED_VIEWS))
def test_inplace_through_chained_views(name):
    base = _rand(3, 3, 4)
    w = _rand(3, 3, 4)

    def f(L):
        x = L.tensor(base, requires_grad=True)
        y = x * 1
        CHAINED_VIEWS[name](y).mul_(10)
        (y * y * L.tensor(w)).sum().backward()
        return y.detach().numpy().copy(), x.grad.numpy().copy()

    ours, theirs = _both(f)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
