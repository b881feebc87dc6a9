"""Spatial transformers, unpooling, distances and odd losses, and the modules around them,
compared with PyTorch 2.13 in float64 (values and gradients) and with central differences;
also ChainDataset/StackDataset from utils.data against torch's."""
import numpy as np
import pytest
from conftest import check_grad

import chainrule as cr
import chainrule.nn as cnn
import chainrule.nn.functional as CF

torch = pytest.importorskip("torch")
import torch.nn as tnn
import torch.nn.functional as TF

pytestmark = pytest.mark.torch


def _run(lib, fn, arrays, grad=True):
    """fn(*tensors) with lib's tensors; returns the output and each input's gradient."""
    ts = [lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    out = fn(*ts)
    outs = out if isinstance(out, tuple) else (out,)
    res = [o.detach().numpy() for o in outs]
    if grad:
        r = np.random.default_rng(1).standard_normal(outs[0].shape)
        (outs[0] * lib.tensor(r)).sum().backward()
        res += [t.grad.numpy() if t.grad is not None else None for t in ts]
    return res


def _same(cfn, tfn, *arrays, grad=True, atol=1e-10):
    ours = _run(cr, cfn, arrays, grad)
    theirs = _run(torch, tfn, arrays, grad)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        if t is None:
            assert o is None or not np.any(o)
            continue
        assert o is not None and o.shape == t.shape
        np.testing.assert_allclose(o, t, atol=atol, rtol=1e-9)


# -- affine_grid and grid_sample ---------------------------------------------------------
@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_grid_sample(nd, mode, padding_mode, align_corners):
    if mode == "bicubic" and nd == 3:
        with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D"):
            CF.grid_sample(cr.ones(1, 1, 2, 2, 2), cr.zeros(1, 1, 1, 1, 3), mode="bicubic",
                           align_corners=False)
        return
    rng = np.random.default_rng(nd)
    sp, out_sp = ((4, 5), (3, 4)) if nd == 2 else ((3, 4, 3), (2, 3, 2))
    x = rng.standard_normal((2, 3) + sp)
    theta = rng.standard_normal((2, nd, nd + 1)) * 1.3  # reaches well outside [-1, 1]

    def fn(F):
        def f(x, theta):
            grid = F.affine_grid(theta, (2, 3) + out_sp, align_corners=align_corners)
            return F.grid_sample(x, grid * 1.2, mode=mode, padding_mode=padding_mode,
                                 align_corners=align_corners)
        return f
    _same(fn(CF), fn(TF), x, theta)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_numerical_grad(padding_mode):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 2, 3, 4))
    grid = rng.uniform(-1.4, 1.4, (1, 2, 3, 2))
    for mode in ("bilinear", "bicubic"):
        check_grad(lambda a, g, mode=mode: CF.grid_sample(
            a, g, mode=mode, padding_mode=padding_mode, align_corners=False), x, grid)
    check_grad(lambda t: CF.affine_grid(t, (1, 1, 2, 3), align_corners=True),
               rng.standard_normal((1, 2, 3)))


def test_grid_sample_second_order():
    rng = np.random.default_rng(4)
    x = cr.tensor(rng.standard_normal((1, 1, 3, 3)), requires_grad=True)
    g = cr.tensor(rng.uniform(-0.9, 0.9, (1, 2, 2, 2)), requires_grad=True)
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    tg = torch.tensor(g.detach().numpy(), requires_grad=True)
    res = []
    for lib, F, a, b in ((cr, CF, x, g), (torch, TF, tx, tg)):
        out = F.grid_sample(a, b, align_corners=True).pow(2).sum()
        (gg,) = lib.autograd.grad(out, b, create_graph=True)
        (h,) = lib.autograd.grad(gg.sum(), a)
        res.append(h.numpy())
    np.testing.assert_allclose(res[0], res[1], atol=1e-10)


# -- max_unpool ----------------------------------------------------------------------------
@pytest.mark.parametrize("nd,kw", [(1, {}), (2, {}), (3, {}), (1, {"stride": 1, "padding": 1}),
                                   (2, {"stride": (1, 2), "padding": (1, 0)}),
                                   (2, {"output_size": (5, 6)}),
                                   (3, {"output_size": (1, 1, 5, 5, 5)})])
def test_max_unpool(nd, kw):
    rng = np.random.default_rng(nd)
    sp = (5, 6) if nd < 3 else (5, 5, 5) if "output_size" in kw else (4, 4, 4)
    x = rng.standard_normal((2, 3) + sp[:nd])
    pool_kw = {k: v for k, v in kw.items() if k != "output_size"}

    def fn(F):
        def f(a):
            pooled, idx = getattr(F, f"max_pool{nd}d")(a, 2, return_indices=True, **pool_kw)
            return getattr(F, f"max_unpool{nd}d")(pooled * 2, idx, 2, **kw)
        return f
    _same(fn(CF), fn(TF), x)


def test_max_unpool_module_and_errors():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    for lib, nn_ in ((cr, cnn), (torch, tnn)):
        pooled, idx = nn_.MaxPool2d(2, return_indices=True)(lib.tensor(x))
        out = nn_.MaxUnpool2d(2)(pooled, idx, output_size=(5, 5))
        np.testing.assert_array_equal(out.numpy(), TF.max_unpool2d(
            *TF.max_pool2d(torch.tensor(x), 2, return_indices=True), 2, output_size=(5, 5)))
        with pytest.raises(ValueError, match="invalid output_size"):
            nn_.MaxUnpool2d(2)(pooled, idx, output_size=(9, 9))
    assert str(cnn.MaxUnpool3d(2, padding=1)) == str(tnn.MaxUnpool3d(2, padding=1))
    check_grad(lambda a: CF.max_unpool2d(a, cr.tensor([[[[0, 3], [9, 14]]]]), 2),
               np.ones((1, 1, 2, 2)))


# -- pdist, channel_shuffle, multilabel margin, triplet with distance ------------------------
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
def test_pdist(p):
    x = np.random.default_rng(5).standard_normal((5, 3))
    _same(lambda a: CF.pdist(a, p), lambda a: TF.pdist(a, p), x)
    check_grad(lambda a: CF.pdist(a, p), x)


def test_pdist_zero_distance_and_errors():
    x = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 1.0]])
    for p in (2.0, 1.0, 3.0, 0.5, 0.0, float("inf")):
        # equal rows: distance 0 and a zero gradient, as torch
        _same(lambda a, p=p: CF.pdist(a, p), lambda a, p=p: TF.pdist(a, p), x)
    with pytest.raises(RuntimeError, match="pdist only supports 2D tensors, got: 3D"):
        CF.pdist(cr.zeros(2, 2, 2))


def test_channel_shuffle():
    x = np.random.default_rng(6).standard_normal((2, 6, 3, 2))
    _same(lambda a: CF.channel_shuffle(a, 3), lambda a: TF.channel_shuffle(a, 3), x)
    _same(lambda a: cnn.ChannelShuffle(2)(a), lambda a: tnn.ChannelShuffle(2)(a), x)
    assert str(cnn.ChannelShuffle(2)) == str(tnn.ChannelShuffle(2))
    with pytest.raises(RuntimeError, match="Number of channels must be divisible by groups"):
        CF.channel_shuffle(cr.zeros(1, 5, 2), 2)
    check_grad(lambda a: CF.channel_shuffle(a, 2) * cr.arange(6.0).reshape(1, 6, 1, 1),
               x[:1, :, :1])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_multilabel_margin_loss(reduction):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 4))
    t = np.array([[3, 0, -1, 1], [0, 0, -1, 2], [1, 2, 3, 0], [-1, 1, 1, 1], [2, -1, -1, -1]])
    _same(lambda a, b: CF.multilabel_margin_loss(a, b, reduction=reduction),
          lambda a, b: TF.multilabel_margin_loss(a, b, reduction=reduction), x, t)
    _same(lambda a, b: cnn.MultiLabelMarginLoss(reduction=reduction)(a, b),
          lambda a, b: tnn.MultiLabelMarginLoss(reduction=reduction)(a, b), x[0], t[0])
    check_grad(lambda a: CF.multilabel_margin_loss(a, cr.tensor(t), reduction=reduction), x)


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_triplet_margin_with_distance_loss(swap, reduction):
    rng = np.random.default_rng(8)
    a, p, n = (rng.standard_normal((4, 3)) for _ in range(3))

    def l1(x, y):
        return (x - y).abs().sum(-1)
    for dist in (None, l1):
        kw = {"distance_function": dist, "margin": 1.5, "swap": swap, "reduction": reduction}
        _same(lambda *t, kw=kw: CF.triplet_margin_with_distance_loss(*t, **kw),
              lambda *t, kw=kw: TF.triplet_margin_with_distance_loss(*t, **kw), a, p, n)
    _same(lambda *t: cnn.TripletMarginWithDistanceLoss(swap=swap, reduction=reduction)(*t),
          lambda *t: tnn.TripletMarginWithDistanceLoss(swap=swap, reduction=reduction)(*t),
          a, p, n)
    assert str(cnn.TripletMarginWithDistanceLoss()) == str(tnn.TripletMarginWithDistanceLoss())
    check_grad(lambda *t: CF.triplet_margin_with_distance_loss(*t, swap=swap), a, p, n)


# -- modules: FeatureAlphaDropout, AdaptiveMaxPool3d, lazy norms, SyncBatchNorm ------------
def test_module_reprs():
    for make in (lambda nn: nn.FeatureAlphaDropout(0.2), lambda nn: nn.AdaptiveMaxPool3d(1),
                 lambda nn: nn.AdaptiveMaxPool3d((1, 2, 3), return_indices=True),
                 lambda nn: nn.LazyBatchNorm1d(), lambda nn: nn.LazyInstanceNorm3d(affine=False),
                 lambda nn: nn.SyncBatchNorm(3, momentum=None)):
        assert str(make(cnn)) == str(make(tnn))


def test_feature_alpha_dropout_and_adaptive_max_pool3d():
    x = np.random.default_rng(9).standard_normal((2, 40, 4, 5, 3))
    m = cnn.FeatureAlphaDropout(0.5)
    cr.manual_seed(0)
    y = m(cr.tensor(x)).numpy()
    assert y.shape == x.shape
    per_channel = y.reshape(80, -1)  # 80 channels: all kept or all dropped has p = 2^-79
    # a dropped channel is one constant value (alpha' a + b) everywhere, as torch's
    dropped = np.ptp(per_channel, axis=1) == 0
    assert dropped.any() and not dropped.all()
    m.eval()
    np.testing.assert_array_equal(m(cr.tensor(x)).numpy(), x)
    _same(lambda a: cnn.AdaptiveMaxPool3d((2, 3, 1))(a),
          lambda a: tnn.AdaptiveMaxPool3d((2, 3, 1))(a), x[:, :3])


@pytest.mark.parametrize("name,shape", [("BatchNorm1d", (4, 3)), ("BatchNorm1d", (4, 3, 5)),
                                        ("BatchNorm2d", (2, 3, 4, 2)),
                                        ("BatchNorm3d", (2, 3, 2, 2, 2)),
                                        ("InstanceNorm1d", (2, 3, 5)),
                                        ("InstanceNorm2d", (2, 3, 4, 2)),
                                        ("InstanceNorm3d", (2, 3, 2, 2, 3))])
def test_lazy_norms(name, shape):
    x = np.random.default_rng(10).standard_normal(shape)
    mods = []
    for lib, nn_ in ((cr, cnn), (torch, tnn)):
        m = getattr(nn_, "Lazy" + name)(dtype=lib.float64)
        assert m.has_uninitialized_params()
        xt = lib.tensor(x, requires_grad=True)
        m(xt).pow(3).sum().backward()
        m(xt * 2)
        m.eval()
        out = m(xt).detach().numpy()
        mods.append((type(m).__name__, str(m), list(m.state_dict()), out, xt.grad.numpy(),
                     m.running_mean.numpy(), m.weight.grad.numpy()))
    for o, t in zip(*mods):
        if isinstance(t, np.ndarray):
            np.testing.assert_allclose(o, t, rtol=1e-9, atol=1e-12)
        else:
            assert o == t


def test_sync_batch_norm_is_batch_norm_in_one_process():
    x = np.random.default_rng(11).standard_normal((4, 3, 5))
    _same(lambda a: cnn.SyncBatchNorm(3, dtype=cr.float64)(a),
          lambda a: tnn.SyncBatchNorm(3, dtype=torch.float64)(a), x)
    with pytest.raises(ValueError, match="expected at least 2D input"):
        cnn.SyncBatchNorm(3)(cr.ones(3))
    for nn_ in (cnn, tnn):
        net = nn_.SyncBatchNorm.convert_sync_batchnorm(
            nn_.Sequential(nn_.Linear(2, 3), nn_.Sequential(nn_.BatchNorm1d(3))))
        assert type(net[1][0]).__name__ == "SyncBatchNorm"
    assert str(net) == str(nn_.SyncBatchNorm.convert_sync_batchnorm(net))


# -- utils.data: ChainDataset, StackDataset ------------------------------------------------
def _data_api(lib):
    from importlib import import_module
    return import_module(lib.__name__ + ".utils.data")


def _stream_class(data):
    class Stream(data.IterableDataset):
        def __init__(self, n, start=0):
            self.n, self.start = n, start

        def __iter__(self):
            return iter(range(self.start, self.start + self.n))

        def __len__(self):
            return self.n
    return Stream


def test_chain_dataset():
    res = []
    for lib in (cr, torch):
        data = _data_api(lib)
        Stream = _stream_class(data)
        chained = data.ChainDataset([Stream(2), Stream(3, 10)])
        added = Stream(1, 5) + Stream(2, 7)
        loader = data.DataLoader(chained, batch_size=2)
        res.append((list(chained), len(chained), type(added).__name__, list(added),
                    [b.tolist() for b in loader]))
        with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
            list(data.ChainDataset([Stream(1), data.TensorDataset(lib.ones(2))]))
    assert res[0] == res[1]


def test_stack_dataset():
    res = []
    for lib in (cr, torch):
        data = _data_api(lib)
        a, b = lib.arange(4.0), lib.arange(4) * 2
        tup, named = data.StackDataset(a, b), data.StackDataset(x=a, y=data.TensorDataset(b))
        batch = next(iter(data.DataLoader(named, batch_size=3)))
        res.append((len(tup), [float(v) for v in tup[1]], sorted(named[2]),
                    int(named[2]["y"][0]), tup.__getitems__([0, 3])[1][1].item(),
                    batch["x"].tolist(), batch["y"][0].tolist()))
        for args, kwargs, msg in (((a, b[:2]), {}, "Size mismatch"), ((), {}, "At least one"),
                                  ((a,), {"y": b}, "both types are given")):
            with pytest.raises(ValueError, match=msg):
                data.StackDataset(*args, **kwargs)
    assert res[0] == res[1]


# -- save(model): pickled whole objects behind weights_only=False ----------------------------
class _Box:
    """A user object with state: save() pickles it."""

    def __init__(self, w):
        self.w, self.note = w, "hello"


def _save_load_whole(lib, nn_, path):
    model = nn_.Sequential(nn_.Linear(2, 3), nn_.Tanh(), nn_.Linear(3, 1))
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(lib.tensor(np.linspace(-1, 1, p.numel()).reshape(p.shape) * (i + 1),
                               dtype=lib.float32))
    lib.save(model, path)
    errors = []
    for kw in ({}, {"weights_only": True}):
        with pytest.raises(Exception) as info:
            lib.load(path, **kw)
        errors.append((type(info.value), str(info.value)[:24]))
    loaded = lib.load(path, weights_only=False)
    box_path = str(path) + ".box"
    lib.save(_Box(lib.arange(3.0)), box_path)
    box = lib.load(box_path, weights_only=False)
    out = loaded(lib.ones(2, 2))
    return (errors, type(loaded).__name__, str(loaded), out.detach().numpy(), out.requires_grad,
            box.w.tolist(), box.note)


def test_save_whole_module_contract(tmp_path):
    import pickle

    ours = _save_load_whole(cr, cnn, tmp_path / "ours.pt")
    theirs = _save_load_whole(torch, tnn, tmp_path / "theirs.pt")
    assert ours[0] == theirs[0] == [(pickle.UnpicklingError, "Weights only load failed")] * 2
    assert ours[1:3] == theirs[1:3] and ours[4:] == theirs[4:]
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-6)


def test_tensors_pickle_and_state_dicts_stay_safe(tmp_path):
    import io
    import pickle
    import zipfile

    for lib in (cr, torch):
        t = lib.tensor([1.5, -2.0], dtype=lib.float64, requires_grad=True)
        p = lib.nn.Parameter(lib.ones(2, 2))
        t2, p2, y2 = pickle.loads(pickle.dumps((t, p, t * 2)))
        assert (t2.dtype, t2.requires_grad, t2.tolist()) == (lib.float64, True, [1.5, -2.0])
        assert type(p2).__name__ == "Parameter" and y2.grad_fn is None and y2.requires_grad
    buf = io.BytesIO()
    cr.save(cnn.Linear(2, 2).state_dict(), buf)  # the safe format: no pickle inside
    buf.seek(0)
    with zipfile.ZipFile(buf) as z:
        assert "__pickle__.npy" not in z.namelist()
    buf.seek(0)
    assert list(cr.load(buf)) == ["weight", "bias"]


def test_grid_sample_warnings_and_errors():
    grid = CF.affine_grid(cr.eye(2, 3)[None], (1, 1, 2, 2), align_corners=True)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        CF.affine_grid(cr.eye(2, 3)[None], (1, 1, 2, 2))
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        CF.grid_sample(cr.ones(1, 1, 2, 2), grid)
    for inp, g, msg in ((cr.ones(1, 1, 2, 2), grid[..., :1], "to have size 2 in last dim"),
                        (cr.ones(1, 1, 2, 2), grid.repeat(2, 1, 1, 1), "same batch size")):
        for F, lib in ((CF, cr), (TF, torch)):
            with pytest.raises(RuntimeError, match=msg):
                F.grid_sample(lib.tensor(inp.numpy()), lib.tensor(g.numpy()),
                              align_corners=False)
    with pytest.raises(ValueError, match="Nx3x4"):
        CF.affine_grid(cr.eye(2, 3)[None], (1, 1, 2, 2, 2), align_corners=False)


def test_lazy_norm_copies_stay_lazy():
    import copy
    import pickle

    x = np.random.default_rng(12).standard_normal((4, 3))
    outs = []
    # torch 2.13 cannot deepcopy a LazyBatchNorm (its UninitializedBuffer refuses); it pickles
    for lib, nn_, clones in ((cr, cnn, (copy.deepcopy, pickle.dumps)), (torch, tnn,
                                                                        (pickle.dumps,))):
        for clone in clones:
            m = nn_.LazyBatchNorm1d()
            m = pickle.loads(clone(m)) if clone is pickle.dumps else clone(m)
            assert m.has_uninitialized_params()
            out = m(lib.tensor(x, dtype=lib.float32))[0].detach().numpy()
            outs.append((str(out.round(4)), str(m), str(m.running_var.dtype)))
    assert outs[0] == outs[1] == outs[2]
