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


@pytest.mark.torch
@pytest.mark.parametrize("order", ["write base, read diagonal", "write diagonal, read base"])
def test_diagonal_shares_the_version_counter_of_its_base(order):
    def f(L):
        x = L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x * 1
        if order == "write base, read diagonal":
            w = y.diagonal().sin()  # saves the diagonal
            y.add_(1)
        else:
            w = y.sin()  # saves y
            y.diagonal().zero_()
        try:
            w.sum().backward()
        except RuntimeError as e:
            return "modified by an inplace operation" in str(e)
        return None

    ours, theirs = _both(f)
    assert ours is theirs is True


@pytest.mark.torch
def test_forward_ad_through_a_write_into_chained_views():
    base, tangent = _rand(3, 3, 3), _rand(3, 3, 3)

    def f(L):
        fwd = L.autograd.forward_ad
        with fwd.dual_level():
            y = fwd.make_dual(L.tensor(base), L.tensor(tangent)) * 1
            y.transpose(0, 2).diagonal(0, 0, 1).mul_(3)  # CopySlices.jvp, non-C tangents
            return fwd.unpack_dual(y).tangent.numpy().copy()

    ours, theirs = _both(f)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


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


# ======================================================================================
# embedding_bag
# ======================================================================================
EB_INPUT = np.array([1, 2, 2, 0, 5, 2, 3, 4, 4])
BAGS = {  # name: (input, offsets, include_last_offset)
    "offsets, an empty bag": (EB_INPUT, [0, 3, 3, 5], False),
    "include_last_offset": (EB_INPUT, [0, 4, 4, 9], True),
    "last offset short of the end": (EB_INPUT, [0, 2, 6], True),
    "2-D input": (EB_INPUT[:8].reshape(2, 4), None, False),
    "one bag": (EB_INPUT, [0], False),
    "empty input": (np.array([], dtype=np.int64), [0, 0], False),
}


def _embedding_bag_both(bags, mode, padding_idx, with_psw, weight):
    import torch

    inp, off, last = BAGS[bags]
    psw = RNG.random(inp.shape) + 0.5
    out = []
    for L in (cr, torch):
        w = L.tensor(weight, requires_grad=True)
        p = L.tensor(psw, requires_grad=True) if with_psw else None
        o = L.nn.functional.embedding_bag(
            L.tensor(inp), w, None if off is None else L.tensor(off), mode=mode,
            per_sample_weights=p, include_last_offset=last, padding_idx=padding_idx)
        r = np.random.default_rng(5).standard_normal(tuple(o.shape))
        (o * L.tensor(r)).sum().backward()
        out.append([o.detach().numpy().copy(), w.grad.numpy().copy()]
                   + ([p.grad.numpy().copy()] if with_psw else []))
    return out


@pytest.mark.torch
@pytest.mark.parametrize("bags", list(BAGS))
@pytest.mark.parametrize("mode,with_psw", [("sum", False), ("sum", True), ("mean", False),
                                           ("max", False)])
@pytest.mark.parametrize("padding_idx", [None, 2, -2])
def test_embedding_bag_matches_torch(bags, mode, with_psw, padding_idx):
    ours, theirs = _embedding_bag_both(bags, mode, padding_idx, with_psw, _rand(6, 3))
    assert ours[0].shape == theirs[0].shape
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_gradient_matches_differences(mode):
    inp, off = cr.tensor([1, 2, 2, 0, 5, 2, 3]), cr.tensor([0, 3, 3, 5])

    def fn(w, p):
        return F.embedding_bag(inp, w, off, mode=mode, padding_idx=0,
                               per_sample_weights=p if mode == "sum" else None) * (p.sum())

    check_grad(fn, _rand(6, 3), RNG.random(7))


def test_embedding_bag_second_order_through_per_sample_weights():
    from test_conv import second_order

    inp, off = cr.tensor([1, 2, 2, 0, 5]), cr.tensor([0, 2])
    fn = lambda w, p: F.embedding_bag(inp, w, off, mode="sum", per_sample_weights=p) ** 2
    second_order(fn, _rand(6, 3), RNG.random(5), wrt=0)
    second_order(fn, _rand(6, 3), RNG.random(5), wrt=1)


@pytest.mark.torch
def test_embedding_bag_float32_and_max_norm_like_torch():
    import torch

    weight = (_rand(6, 3) * 3).astype(np.float32)
    inp, off = np.array([1, 2, 2, 0, 5]), np.array([0, 2])
    outs = []
    for L in (cr, torch):
        w = L.tensor(weight.copy())
        o = L.nn.functional.embedding_bag(L.tensor(inp), w, L.tensor(off), max_norm=1.0)
        outs.append((o.numpy().copy(), w.numpy().copy(), str(o.dtype)))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-5)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-5)
    assert outs[0][2] == outs[1][2].replace("torch", "chainrule") or outs[0][2] == outs[1][2]


@pytest.mark.torch
@pytest.mark.parametrize("call", [
    lambda L, w: L.nn.functional.embedding_bag(L.tensor([1, 2]), w, L.tensor([1])),
    lambda L, w: L.nn.functional.embedding_bag(L.tensor([1, 2]), w, L.tensor([0, 3])),
    lambda L, w: L.nn.functional.embedding_bag(L.tensor([1, 2]), w, L.tensor([0]), mode="mean",
                                               per_sample_weights=L.ones(2)),
    lambda L, w: L.nn.functional.embedding_bag(L.tensor([1, 2]), w, L.tensor([0]), mode="x"),
    lambda L, w: L.nn.functional.embedding_bag(L.tensor([1, 6]), w, L.tensor([0])),
    lambda L, w: L.nn.functional.embedding_bag(L.tensor([-1, 2]), w, L.tensor([0])),
    lambda L, w: L.nn.functional.embedding_bag(L.tensor([[[1]]]), w),
    lambda L, w: L.nn.functional.embedding_bag(L.tensor([1, 2]), w),
    lambda L, w: L.nn.functional.embedding_bag(L.tensor([1.0]), w, L.tensor([0])),
    lambda L, w: L.nn.functional.embedding_bag(L.tensor([1, 2]), w, L.tensor([0]),
                                               mode="max", scale_grad_by_freq=True),
], ids=["offsets[0]", "offsets[-1]", "psw with mean", "mode", "index too big",
        "negative index", "3-D input", "no offsets", "float indices", "max with freq"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding_bag_errors_like_torch(call, dtype):
    from test_errors import _same_error

    _same_error(lambda L: call(L, L.ones(6, 3, dtype=getattr(L, dtype))))


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_scale_grad_by_freq(mode):
    # torch's own embedding_bag CPU kernel miscounts frequencies (indices [4, 2, 2] give
    # row 4 half its gradient), so the reference is torch's embedding followed by the
    # bag reduction: each row's gradient divided by its count in the mini-batch
    import torch

    weight = _rand(6, 3)
    inp = [4, 2, 2, 1, 2, 4, 0]
    ours_w = cr.tensor(weight, requires_grad=True)
    F.embedding_bag(cr.tensor(inp), ours_w, cr.tensor([0, 3]), mode=mode,
                    scale_grad_by_freq=True).sum().backward()
    w = torch.tensor(weight, requires_grad=True)
    e = torch.nn.functional.embedding(torch.tensor(inp), w, scale_grad_by_freq=True)
    bags = torch.stack([e[:3].sum(0), e[3:].sum(0)]) if mode == "sum" else \
        torch.stack([e[:3].mean(0), e[3:].mean(0)])
    bags.sum().backward()
    np.testing.assert_allclose(ours_w.grad.numpy(), w.grad.numpy(), rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_module_like_torch(mode):
    import torch

    weight = _rand(10, 4)
    inp, off = np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 4])
    ours = cr.nn.EmbeddingBag.from_pretrained(cr.tensor(weight), freeze=False, mode=mode,
                                              padding_idx=4)
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(weight), freeze=False,
                                                   mode=mode, padding_idx=4)
    assert repr(ours) == repr(theirs)
    o, t = ours(cr.tensor(inp), cr.tensor(off)), theirs(torch.tensor(inp), torch.tensor(off))
    np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-12)
    o.sum().backward()
    t.sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)
    assert type(o.grad_fn).__name__ == type(t.grad_fn).__name__


# ======================================================================================
# interpolate: bicubic, linear, trilinear, area, nearest in 3-D; scale_factor handling
# ======================================================================================
INTERPOLATIONS = [  # input shape, keyword arguments
    ((2, 3, 5, 4), dict(scale_factor=2, mode="bicubic")),
    ((2, 3, 5, 4), dict(size=(3, 7), mode="bicubic")),
    ((2, 3, 5, 4), dict(scale_factor=(0.5, 1.7), mode="bicubic")),
    ((2, 3, 5, 4), dict(scale_factor=(0.5, 1.7), mode="bicubic", recompute_scale_factor=True)),
    ((1, 2, 1, 1), dict(size=(3, 2), mode="bicubic")),
    ((1, 2, 6, 6), dict(size=(1, 1), mode="bicubic")),
    ((2, 3, 9, 13), dict(size=(4, 5), mode="bilinear", antialias=True)),
    ((2, 3, 9, 13), dict(scale_factor=(0.3, 1.7), mode="bilinear", antialias=True)),
    ((2, 3, 9, 13), dict(size=(4, 17), mode="bicubic", antialias=True)),
    ((1, 1, 9, 13), dict(scale_factor=(0.3, 1.7), mode="bicubic", antialias=True,
                         recompute_scale_factor=True)),
    ((1, 1, 5, 5), dict(size=(1, 1), mode="bicubic", antialias=True)),
    ((1, 2, 3, 4, 5), dict(scale_factor=(1.5, 2, 0.6), mode="trilinear")),
    ((1, 2, 3, 4, 5), dict(size=(1, 5, 2), mode="trilinear")),
    ((2, 3, 5), dict(scale_factor=2.5, mode="linear")),
    ((2, 3, 5), dict(scale_factor=0.7, mode="linear", recompute_scale_factor=True)),
    ((1, 2, 3, 4, 5), dict(scale_factor=(1.5, 2, 0.6), mode="nearest")),
    ((1, 2, 3, 4, 5), dict(size=(2, 7, 3), mode="nearest-exact")),
    ((1, 2, 3, 4, 5), dict(scale_factor=(1.5, 2, 0.6), mode="area")),
    ((1, 2, 7, 5), dict(scale_factor=(0.5, 1.3), mode="area")),
    ((1, 2, 7), dict(size=3, mode="area")),
]


_WITH_CORNERS = [(shape, {**kw, "align_corners": ac}) for shape, kw in INTERPOLATIONS
                 if kw["mode"] not in ("nearest", "nearest-exact", "area") for ac in (False, True)]


@pytest.mark.torch
@pytest.mark.parametrize("shape,kw", INTERPOLATIONS + _WITH_CORNERS)
def test_interpolate_matches_torch(shape, kw):
    import torch

    y = compare_torch(lambda t: F.interpolate(t, **kw),
                      lambda t: torch.nn.functional.interpolate(t, **kw), _rand(*shape),
                      atol=1e-12)
    if kw["mode"] in ("bicubic", "trilinear", "nearest", "nearest-exact") or \
            kw.get("antialias"):
        t = torch.nn.functional.interpolate(torch.ones(shape, requires_grad=True), **kw)
        assert type(y.grad_fn).__name__ == type(t.grad_fn).__name__


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("shape,kw", [
    ((1, 2, 4, 3), dict(scale_factor=(1.5, 2.5), mode="bicubic")),
    ((1, 1, 2, 3, 2), dict(size=(3, 2, 4), mode="trilinear")),
    ((1, 1, 7, 5), dict(size=(3, 6), mode="bicubic", antialias=True)),
    ((1, 1, 7, 5), dict(size=(2, 8), mode="bilinear", antialias=True)),
])
def test_interpolate_gradient_matches_differences(shape, kw, align_corners):
    check_grad(lambda t: F.interpolate(t, align_corners=align_corners, **kw), _rand(*shape))


def test_interpolate_bicubic_second_order_and_float32():
    from test_conv import second_order

    second_order(lambda t: F.interpolate(t * t, scale_factor=1.5, mode="bicubic"),
                 _rand(1, 1, 3, 3))
    x = cr.tensor(_rand(1, 1, 3, 3).astype(np.float32))
    assert F.interpolate(x, scale_factor=2, mode="bicubic").dtype == cr.float32


@pytest.mark.torch
def test_bicubic_float32_and_upsample_module_like_torch():
    import torch

    x = _rand(2, 2, 4, 5).astype(np.float32)
    ours = cr.nn.Upsample(scale_factor=1.5, mode="bicubic", align_corners=True)(cr.tensor(x))
    theirs = torch.nn.Upsample(scale_factor=1.5, mode="bicubic", align_corners=True)(
        torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-5)
    # constant images stay constant: the cubic weights sum to one even at clamped borders
    one = F.interpolate(cr.ones(1, 1, 3, 4, dtype=cr.float64), size=(7, 2), mode="bicubic")
    np.testing.assert_allclose(one.numpy(), 1.0, rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("shape,kw", [
    ((1, 1, 4), dict(scale_factor=2, mode="bicubic")),
    ((1, 1, 4, 4, 4), dict(scale_factor=2, mode="bicubic")),
    ((1, 1, 4, 4), dict(scale_factor=2, mode="trilinear")),
    ((1, 1, 4, 4), dict(scale_factor=2, mode="linear")),
    ((1, 1, 4), dict(scale_factor=2, mode="bilinear")),
    ((1, 1, 4, 4), dict(scale_factor=2, mode="area", align_corners=True)),
    ((1, 1, 4, 4), dict(scale_factor=2, mode="bogus")),
    ((1, 4), dict(scale_factor=2)),
    ((1, 1, 4, 4), dict(scale_factor=(2, 3, 4), mode="bilinear")),
    ((1, 1, 4, 4), dict(size=(2, 3, 4), mode="bicubic")),
    ((1, 1, 4, 4), dict(size=3, scale_factor=2)),
    ((1, 1, 4, 4), dict()),
    ((1, 1, 4, 4), dict(size=3, mode="bicubic", recompute_scale_factor=True)),
    ((1, 1, 4, 4, 4), dict(scale_factor=2, mode="trilinear", antialias=True)),
    ((1, 1, 4, 4), dict(scale_factor=2, mode="nearest", antialias=True)),
], ids=lambda v: str(v) if isinstance(v, dict) else None)
def test_interpolate_errors_like_torch(shape, kw):
    from test_errors import _same_error

    _same_error(lambda L: L.nn.functional.interpolate(L.ones(*shape), **kw))


# ======================================================================================
# ctc_loss
# ======================================================================================
CTC_T, CTC_N, CTC_C = 7, 5, 5
CTC_TARGETS = np.array([[1, 2, 2], [3, 0, 0], [1, 1, 4], [0, 0, 0], [4, 3, 4]])
CTC_TARGET_LENGTHS = np.array([3, 1, 2, 0, 3])  # sample 3: blank only
CTC_INPUT_LENGTHS = np.array([7, 5, 2, 4, 6])  # sample 2: '1 1' needs 3 frames -> inf


def _ctc_both(fn):
    """``fn(lib, logits_leaf, log_probs)`` with chainrule and torch; returns the loss, the
    gradient reaching the logits (through log_softmax) and the one reaching log_probs."""
    import torch

    logits = _rand(CTC_T, CTC_N, CTC_C)
    out = []
    for L in (cr, torch):
        x = L.tensor(logits, requires_grad=True)
        lp = x.log_softmax(2)
        lp.retain_grad()
        loss = fn(L, lp)
        r = np.random.default_rng(3).standard_normal(tuple(loss.shape))
        (loss * L.tensor(r)).sum().backward()
        out.append([loss.detach().numpy().copy(), x.grad.numpy().copy(),
                    lp.grad.numpy().copy()])
    return out


def _ctc_args(L, concatenated):
    if concatenated:
        flat = np.concatenate([t[:n] for t, n in zip(CTC_TARGETS, CTC_TARGET_LENGTHS)])
        targets = L.tensor(flat)
    else:
        targets = L.tensor(CTC_TARGETS)
    return targets, L.tensor(CTC_INPUT_LENGTHS), L.tensor(CTC_TARGET_LENGTHS)


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("concatenated", [False, True])
def test_ctc_loss_matches_torch(reduction, zero_infinity, concatenated):
    ours, theirs = _ctc_both(lambda L, lp: L.nn.functional.ctc_loss(
        lp, *_ctc_args(L, concatenated), reduction=reduction, zero_infinity=zero_infinity))
    for a, b in zip(ours, theirs):  # inf losses and NaN gradients where torch has them
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert np.isinf(ours[0]).any() != zero_infinity


@pytest.mark.torch
def test_ctc_loss_other_blank_lengths_as_tuples_and_name():
    import torch

    targets = np.where(CTC_TARGETS == 4, 0, CTC_TARGETS)  # labels 0..3, blank = 4

    def fn(L, lp):
        out = L.nn.functional.ctc_loss(lp, L.tensor(targets), tuple(CTC_INPUT_LENGTHS.tolist()),
                                       tuple(CTC_TARGET_LENGTHS.tolist()), blank=CTC_C - 1,
                                       reduction="none", zero_infinity=True)
        assert type(out.grad_fn).__name__ in ("CtcLossBackward0", "WhereBackward0")
        return out

    ours, theirs = _ctc_both(fn)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    lp = torch.zeros(3, 2, 4, requires_grad=True)
    t = torch.nn.functional.ctc_loss(lp, torch.tensor([[1], [2]]), (3, 3), (1, 1), reduction="none")
    o = F.ctc_loss(cr.zeros(3, 2, 4, requires_grad=True), cr.tensor([[1], [2]]), (3, 3), (1, 1),
                   reduction="none")
    assert type(o.grad_fn).__name__ == type(t.grad_fn).__name__


@pytest.mark.torch
def test_ctc_loss_unbatched_float32_and_module():
    import torch

    logits = _rand(6, 4).astype(np.float32)
    res = []
    for L in (cr, torch):
        x = L.tensor(logits, requires_grad=True)
        loss = L.nn.CTCLoss(blank=0)(x.log_softmax(1), L.tensor([1, 3, 3]), L.tensor(6),
                                      L.tensor(3))
        loss.backward()
        res.append((loss.detach().numpy(), x.grad.numpy(), str(loss.dtype), loss.shape))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-5)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-4, atol=1e-6)
    assert res[0][2:] == (res[1][2].replace("torch", "chainrule"), res[1][3]) or \
        res[0][2:] == res[1][2:]


@pytest.mark.torch
def test_ctc_loss_long_sequences_stay_finite():
    import torch

    t_len, n, c = 120, 2, 6
    logits = _rand(t_len, n, c) * 4
    targets = RNG.integers(1, c, (n, 40))
    vals = []
    for L in (cr, torch):
        x = L.tensor(logits, requires_grad=True)
        loss = L.nn.functional.ctc_loss(x.log_softmax(2), L.tensor(targets), (120, 100),
                                        (40, 31), reduction="sum")
        loss.backward()
        vals.append((loss.item(), x.grad.numpy()))
    assert np.isfinite(vals[0][0]) and vals[0][0] > 100  # probabilities far below 1e-300
    np.testing.assert_allclose(vals[0][0], vals[1][0], rtol=1e-10)
    np.testing.assert_allclose(vals[0][1], vals[1][1], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_ctc_loss_gradient_matches_differences(reduction):
    # through log_softmax torch's (and our) gradient is the exact derivative
    targets, il, tl = _ctc_args(cr, concatenated=False)
    il = cr.tensor([7, 5, 3, 4, 6])  # every alignment possible: finite losses

    def fn(x):
        return F.ctc_loss(x.log_softmax(2), targets, il, tl, reduction=reduction)

    check_grad(fn, _rand(CTC_T, CTC_N, CTC_C))


def test_ctc_loss_without_log_softmax_is_exact_up_to_the_normalizer_direction():
    # d loss / d log_probs[t, n, :] differs from the exact derivative by exp(log_probs), a
    # direction along which a normalized log_probs cannot move (PyTorch's convention)
    x = cr.tensor(_rand(4, 1, 3)).log_softmax(2).detach().requires_grad_()
    loss = F.ctc_loss(x, cr.tensor([[1, 2]]), (4,), (2,), reduction="sum")
    loss.backward()

    def f(a):
        return F.ctc_loss(cr.tensor(a), cr.tensor([[1, 2]]), (4,), (2,), reduction="sum").item()

    from conftest import numerical_grad

    (exact,) = numerical_grad(f, [x.detach().numpy().copy()])
    np.testing.assert_allclose(x.grad.numpy() - np.exp(x.detach().numpy()), exact, atol=1e-6)


@pytest.mark.torch
def test_ctc_loss_double_backward_raises_like_torch():
    from test_errors import _same_error

    def f(L):
        lp = L.randn(4, 2, 3, dtype=L.float64).log_softmax(2).detach().requires_grad_()
        loss = L.nn.functional.ctc_loss(lp, L.tensor([[1], [2]]), (4, 4), (1, 1))
        (g,) = L.autograd.grad(loss, lp, create_graph=True)
        g.sum().backward()

    _same_error(f)


@pytest.mark.torch
@pytest.mark.parametrize("args", [
    dict(targets=[[1, 2], [1, 1]], il=[6, 5], tl=[2, 2]),
    dict(targets=[[1, 2], [1, 1]], il=[5, 5], tl=[3, 2]),
    dict(targets=[1, 2, 3], il=[5, 5], tl=[2, 2]),
    dict(targets=[[1, 2], [1, 1]], il=[5], tl=[2, 2]),
    dict(targets=[[1, 2], [1, 1]], il=[5, -1], tl=[2, 1]),
    dict(targets=[[1, 2], [1, 1]], il=[5, 4], tl=[2, 1], blank=4),
    dict(targets=[[1, 2], [1, 1]], il=[5, 4], tl=[2, 1], dtype="int64"),
    dict(targets=[[1, 2], [1, 1]], il=[0, 0], tl=[2, 1], empty=True),
], ids=["il>T", "tl>S", "concatenated size", "batch size", "negative length", "blank",
        "integer log_probs", "empty"])
def test_ctc_loss_errors_like_torch(args):
    from test_errors import _same_error

    def f(L):
        lp = L.zeros(0 if args.get("empty") else 5, 2, 4,
                     dtype=getattr(L, args.get("dtype", "float64")))
        return L.nn.functional.ctc_loss(lp, L.tensor(args["targets"]), L.tensor(args["il"]),
                                        L.tensor(args["tl"]), blank=args.get("blank", 0))

    _same_error(f)


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("shape", [(1, 2, 5), (1, 2, 3, 4), (1, 1, 3, 4, 5)])
def test_nearest_modes_in_every_rank_values_grads_and_node_names(mode, shape):
    import torch

    a = np.random.default_rng(0).standard_normal(shape)
    res = []
    for L in (cr, torch):
        t = L.tensor(a, requires_grad=True)
        y = L.nn.functional.interpolate(t, scale_factor=1.7, mode=mode)
        (y * y).sum().backward()
        res.append((y.detach().numpy(), t.grad.numpy(), y.grad_fn.name()))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12)
    assert res[0][2] == res[1][2]
