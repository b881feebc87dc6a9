"""chainrule.serialization: save/load round trips of tensors and containers, safety."""
import collections
import io
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.serialization import load, save


def _round_trip(obj, tmp_path=None):
    if tmp_path is None:
        buf = io.BytesIO()
        save(obj, buf)
        buf.seek(0)
        return load(buf, weights_only=True)
    path = tmp_path / "ckpt.pt"
    save(obj, str(path))
    assert path.exists()  # no ".npz" appended to the name
    return load(path, map_location="cpu")


def test_tensors_of_every_dtype_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    obj = {
        "f32": cr.tensor(rng.standard_normal((2, 3)).astype(np.float32)),
        "f64": cr.tensor(rng.standard_normal(4)),
        "i64": cr.arange(5),
        "b": cr.tensor([True, False]),
        "c": cr.tensor(np.array([1 + 2j])),
        "scalar": cr.tensor(3.5),
    }
    back = _round_trip(obj, tmp_path)
    assert list(back) == list(obj)
    for k in obj:
        assert back[k].dtype == obj[k].dtype
        assert back[k].shape == obj[k].shape
        np.testing.assert_array_equal(back[k].numpy(), obj[k].numpy())


def test_nested_containers_and_numbers():
    obj = collections.OrderedDict(
        a=[1, 2.5, "s", None, True, (3, [4.0])], b={0: cr.ones(2), "x": {"y": float("inf")}},
        c=float("nan"), d=cr.float64, e=cr.Size([2, 3]), f=collections.Counter([1, 1, 2]),
        g=np.arange(3), h=np.float32(1.5), i=1 + 2j)
    back = _round_trip(obj)
    assert isinstance(back, collections.OrderedDict)
    assert back["a"] == [1, 2.5, "s", None, True, (3, [4.0])]
    assert isinstance(back["a"][5], tuple)
    assert list(back["b"]) == [0, "x"] and back["b"]["x"]["y"] == float("inf")
    np.testing.assert_array_equal(back["b"][0].numpy(), [1.0, 1.0])
    assert np.isnan(back["c"])
    assert back["d"] == cr.float64 and back["e"] == cr.Size([2, 3])
    assert back["f"] == collections.Counter({1: 2, 2: 1})
    np.testing.assert_array_equal(back["g"], np.arange(3))
    assert back["h"] == np.float32(1.5) and back["h"].dtype == np.float32
    assert back["i"] == 1 + 2j


def test_shared_tensors_stay_shared_and_flags_kept():
    w = nn.Parameter(cr.ones(3))
    t = cr.zeros(2, requires_grad=True)
    back = _round_trip({"a": w, "b": w, "t": t})
    assert back["a"] is back["b"]
    assert isinstance(back["a"], nn.Parameter) and back["a"].requires_grad
    assert back["t"].requires_grad and not isinstance(back["t"], nn.Parameter)


def test_module_and_optimizer_state_dict_round_trip():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    opt = optim.Adam(model.parameters(), lr=0.1)
    for p in model.parameters():
        p.grad = cr.ones_like(p)
    opt.step()
    back = _round_trip({"model": model.state_dict(), "opt": opt.state_dict()})
    model2 = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    model2.load_state_dict(back["model"])
    for (k1, v1), (k2, v2) in zip(model.state_dict().items(), model2.state_dict().items()):
        assert k1 == k2
        np.testing.assert_array_equal(v1.numpy(), v2.numpy())
    opt2 = optim.Adam(model2.parameters(), lr=0.5)
    opt2.load_state_dict(back["opt"])
    assert opt2.param_groups[0]["lr"] == 0.1
    assert opt2.param_groups[0]["betas"] == (0.9, 0.999)
    np.testing.assert_array_equal(opt2.state[next(model2.parameters())]["exp_avg"].numpy(),
                                  opt.state[next(model.parameters())]["exp_avg"].numpy())


def test_file_is_a_plain_npz_without_pickles():
    buf = io.BytesIO()
    save({"w": cr.ones(2)}, buf)
    buf.seek(0)
    with zipfile.ZipFile(buf) as z:
        assert all(name.endswith(".npy") for name in z.namelist())
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as npz:  # readable with pickle disabled
        assert "__chainrule__" in npz.files


def test_objects_the_safe_format_cannot_hold_are_pickled_and_load_refuses_them():
    """As torch.save: a dict holding a module is pickled; load needs weights_only=False."""
    import pickle

    lin = nn.Linear(2, 2)
    buf = io.BytesIO()
    save({"m": lin, "step": 3}, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        load(buf)
    buf.seek(0)
    back = load(buf, weights_only=False)
    assert back["step"] == 3
    np.testing.assert_array_equal(back["m"].weight.detach().numpy(), lin.weight.detach().numpy())


def test_foreign_files_are_rejected():
    with pytest.raises(RuntimeError, match="not a chainrule checkpoint"):
        load(io.BytesIO(b"not a zip"))
    buf = io.BytesIO()
    np.savez(buf, x=np.ones(2))
    buf.seek(0)
    with pytest.raises(RuntimeError, match="not a chainrule checkpoint"):
        load(buf)


def test_modules_and_optimizers_pickle():
    import pickle

    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    opt = optim.Adam(model.parameters(), lr=0.1)
    for p in model.parameters():
        p.grad = cr.ones_like(p)
    opt.step()
    model2, opt2 = pickle.loads(pickle.dumps((model, opt)))
    assert isinstance(model2[0].weight, nn.Parameter) and model2[0].weight.requires_grad
    for (k, a), (_, b) in zip(model.state_dict().items(), model2.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    opt2.step()  # the unpickled optimizer still works
    assert len(opt2.state) == 4
