"""ASGD, Adafactor and the schedulers' state_dicts against PyTorch 2.13 (float64 trajectories
over 20 steps at rtol 1e-10, like tests/test_optim.py)."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

OPTIMIZERS = [
    ("ASGD", {}),
    ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.6, "t0": 5, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.05, "t0": 3, "maximize": True}),
    ("Adafactor", {}),
    ("Adafactor", {"lr": 0.05, "beta2_decay": -0.5, "eps": (1e-20, 1e-2), "d": 1.5,
                   "weight_decay": 0.1}),
    ("Adafactor", {"lr": 0.5, "maximize": True}),
]


def _loss_grads(ws):
    """A fixed non-quadratic objective: gradient arrays for each of the weights."""
    a, b, c = ws
    return [np.sin(3 * a) + 0.5 * a * np.tanh(b.sum()), np.cos(b) * a.mean() + 0.1 * b,
            c * c.mean(-1, keepdims=True) - np.cos(c)]


@pytest.mark.parametrize("name,kw", OPTIMIZERS, ids=[f"{n}-{i}" for i, (n, _) in
                                                     enumerate(OPTIMIZERS)])
def test_optimizer_matches_torch(name, kw):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal((3, 4)), rng.standard_normal(5), rng.standard_normal((2, 3, 4))]
    cps = [cr.nn.Parameter(cr.tensor(a.copy())) for a in init]
    tps = [torch.nn.Parameter(torch.tensor(a.copy())) for a in init]
    copt = getattr(optim, name)(cps, **kw)
    topt = getattr(torch.optim, name)(tps, **kw)
    for _ in range(20):
        for p, g in zip(cps, _loss_grads([p._data for p in cps])):
            p.grad = cr.tensor(g)
        for p, g in zip(tps, _loss_grads([p.detach().numpy() for p in tps])):
            p.grad = torch.tensor(g)
        copt.step()
        topt.step()
        for c, t in zip(cps, tps):
            np.testing.assert_allclose(c._data, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    cs, ts = copt.state_dict(), topt.state_dict()
    assert list(cs["param_groups"][0]) == list(ts["param_groups"][0])
    assert cs["param_groups"][0] == ts["param_groups"][0]
    for k in ts["state"]:
        assert list(cs["state"][k]) == list(ts["state"][k])
        for key, tv in ts["state"][k].items():
            cv = cs["state"][k][key]
            assert str(cv.dtype) == str(tv.dtype) and tuple(cv.shape) == tuple(tv.shape)
            np.testing.assert_allclose(cv.numpy(), tv.numpy(), rtol=1e-10, atol=1e-12)
    assert repr(copt) == repr(topt)


@pytest.mark.parametrize("name,kw,match", [
    ("ASGD", {"lr": -1}, "Invalid learning rate"),
    ("Adafactor", {"beta2_decay": 0.5}, "beta2_decay should be <= 0"),
    ("Adafactor", {"d": 0.5}, "Clipping threshold d should be >= 1"),
])
def test_optimizer_argument_errors(name, kw, match):
    p = cr.nn.Parameter(cr.ones(2))
    with pytest.raises(ValueError, match=match):
        getattr(optim, name)([p], **kw)
    with pytest.raises(ValueError, match=match):
        getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))], **kw)


class _Halve:
    """A callable object: schedulers save its __dict__ (plain functions save None)."""

    def __init__(self):
        self.rate = 0.5

    def __call__(self, epoch):
        return self.rate ** epoch


def _schedulers(lib):
    S = lib.optim.lr_scheduler

    def opt():
        return lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1, momentum=0.9)
    o1, o2, o3 = opt(), opt(), opt()
    return {
        "LambdaLR": S.LambdaLR(opt(), [_Halve()]),
        "LambdaLR-fn": S.LambdaLR(opt(), lambda e: 0.9 ** e),
        "MultiplicativeLR": S.MultiplicativeLR(opt(), lambda e: 0.9),
        "StepLR": S.StepLR(opt(), 3),
        "MultiStepLR": S.MultiStepLR(opt(), [2, 4]),
        "ConstantLR": S.ConstantLR(opt()),
        "LinearLR": S.LinearLR(opt()),
        "ExponentialLR": S.ExponentialLR(opt(), 0.9),
        "PolynomialLR": S.PolynomialLR(opt()),
        "CosineAnnealingLR": S.CosineAnnealingLR(opt(), 5),
        "ReduceLROnPlateau": S.ReduceLROnPlateau(opt()),
        "CyclicLR": S.CyclicLR(opt(), 0.01, 0.1),
        "CyclicLR-fn": S.CyclicLR(opt(), 0.01, 0.1, scale_fn=_Halve()),
        "OneCycleLR": S.OneCycleLR(opt(), 0.1, total_steps=10),
        "OneCycleLR-3": S.OneCycleLR(opt(), 0.1, total_steps=10, three_phase=True),
        "CosineAnnealingWarmRestarts": S.CosineAnnealingWarmRestarts(opt(), 3),
        "SequentialLR": S.SequentialLR(o1, [S.ConstantLR(o1), S.ExponentialLR(o1, 0.9)], [2]),
        "ChainedScheduler": S.ChainedScheduler([S.ConstantLR(o2), S.ExponentialLR(o2, 0.9)]),
        "SWALR": lib.optim.swa_utils.SWALR(o3, 0.05),
    }


def _plain(v):
    """A state_dict value with callables named by type (their identity differs)."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_plain(x) for x in v)
    return type(v).__name__ if callable(v) else v


def test_scheduler_state_dicts_match_torch():
    ours, theirs = _schedulers(cr), _schedulers(torch)
    for name in theirs:
        for step in range(4):
            c, t = ours[name].state_dict(), theirs[name].state_dict()
            assert list(c) == list(t), (name, step)
            assert str(_plain(c)) == str(_plain(t)), (name, step)
            if name == "ReduceLROnPlateau":
                ours[name].step(1.0)
                theirs[name].step(1.0)
            else:
                ours[name].optimizer.step()
                theirs[name].optimizer.step()
                ours[name].step()
                theirs[name].step()


def test_scheduler_load_state_dict_restores_callable_state():
    s = _schedulers(cr)["LambdaLR"]
    state = s.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}]
    fresh = _schedulers(cr)["LambdaLR"]
    state["lr_lambdas"] = [{"rate": 0.25}]
    fresh.load_state_dict(state)
    assert fresh.lr_lambdas[0].rate == 0.25 and callable(fresh.lr_lambdas[0])
    fresh.step()
    assert fresh.get_last_lr() == [0.1 * 0.25 ** 1]


def test_get_lr_outside_step_warns_like_torch():
    import warnings

    for lib in (cr, torch):
        s = _schedulers(lib)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # stepping never warns
            for name, sch in s.items():
                if name != "ReduceLROnPlateau":
                    sch.optimizer.step()
                    sch.step()
        for name in ("StepLR", "CosineAnnealingWarmRestarts", "SWALR", "OneCycleLR"):
            with pytest.warns(UserWarning, match="please use `get_last_lr"):
                s[name].get_lr()
