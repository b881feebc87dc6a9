"""Optimizers and LR schedulers against PyTorch: 20 steps in float64 at rtol 1e-10."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn
from chainrule import optim
from chainrule.optim import lr_scheduler as sched

OPTIMIZERS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.9), "maximize": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {"lr": 0.01}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.1, "betas": (0.7, 0.9)}),
    ("NAdam", {"lr": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "momentum_decay": 0.01, "maximize": True}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "betas": (0.8, 0.9)}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
    ("Rprop", {"lr": 0.01}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2), "maximize": True}),
]


def _loss_grads(ws):
    """A fixed non-quadratic objective: gradient arrays for each of the weights."""
    a, b = ws
    return [np.sin(3 * a) + 0.5 * a * np.tanh(b.sum()), np.cos(b) * a.mean() + 0.1 * b]


@pytest.mark.torch
@pytest.mark.parametrize("name,kw", OPTIMIZERS, ids=[f"{n}-{i}" for i, (n, _) in
                                                     enumerate(OPTIMIZERS)])
def test_optimizer_matches_torch(name, kw):
    import torch

    rng = np.random.default_rng(0)
    init = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
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
    # state has the same keys and values
    cs, ts = copt.state_dict(), topt.state_dict()
    assert sorted(cs["param_groups"][0]) == sorted(ts["param_groups"][0])
    assert set(cs["state"]) == set(ts["state"])
    for k in ts["state"]:
        assert sorted(cs["state"][k]) == sorted(ts["state"][k])
        for key, tv in ts["state"][k].items():
            np.testing.assert_allclose(np.asarray(cs["state"][k][key]._data, np.float64),
                                       tv.numpy(), rtol=1e-10, atol=1e-12)


def test_sgd_through_autograd_and_zero_grad():
    w = cr.nn.Parameter(cr.tensor([1.0, -2.0], dtype=cr.float64))
    opt = optim.SGD([w], lr=0.25)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w._data, [0.5, -1.0])
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad._data, [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None


def test_closure_and_param_groups():
    a = cr.nn.Parameter(cr.tensor([1.0], dtype=cr.float64))
    b = cr.nn.Parameter(cr.tensor([1.0], dtype=cr.float64))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (a * 2 + b * 4).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 6.0
    np.testing.assert_allclose([a.item(), b.item()], [1 - 0.2, 1 - 2.0])


@pytest.mark.torch
def test_errors_match_torch():
    import torch

    p = cr.nn.Parameter(cr.zeros(2))
    tp = torch.nn.Parameter(torch.zeros(2))
    cases = [
        (lambda m, q: m.optim.SGD(m.zeros(2), lr=1)),
        (lambda m, q: m.optim.SGD([], lr=1)),
        (lambda m, q: m.optim.SGD([q], lr=-1)),
        (lambda m, q: m.optim.Adam([q], betas=(1.0, 0.9))),
        (lambda m, q: m.optim.SGD([q], lr=0.1, nesterov=True)),
        (lambda m, q: m.optim.SGD([q], lr=0.1).add_param_group({"params": [q]})),
    ]
    for case in cases:
        with pytest.raises(Exception) as te:
            case(torch, tp)
        with pytest.raises(type(te.value)) as ce:
            case(_Ns(), p)
        assert str(ce.value).replace("chainrule.", "torch.") == str(te.value)


class _Ns:
    optim = optim
    zeros = staticmethod(cr.zeros)


@pytest.mark.torch
def test_state_dict_round_trip_continues_identically():
    import torch  # noqa: F401

    rng = np.random.default_rng(1)
    init = rng.standard_normal(6)
    p1 = cr.nn.Parameter(cr.tensor(init.copy()))
    o1 = optim.Adam([p1], lr=0.05, amsgrad=True)
    for _ in range(5):
        p1.grad = cr.tensor(np.sin(p1._data))
        o1.step()
    p2 = cr.nn.Parameter(cr.tensor(p1._data.copy()))
    o2 = optim.Adam([p2], lr=0.9)
    o2.load_state_dict(o1.state_dict())
    assert o2.param_groups[0]["lr"] == 0.05
    for _ in range(5):
        for p, o in ((p1, o1), (p2, o2)):
            p.grad = cr.tensor(np.sin(p._data))
            o.step()
    np.testing.assert_array_equal(p1._data, p2._data)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        o2.load_state_dict({"state": {}, "param_groups": []})


def test_repr_lists_group_options():
    opt = optim.SGD([cr.nn.Parameter(cr.zeros(1))], lr=0.1)
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n")
    assert "    lr: 0.1\n" in text and text.endswith(")")


# -- schedulers -----------------------------------------------------------------------------
SCHEDULERS = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 9], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}),
    ("LambdaLR", {"lr_lambda": lambda e: 1.0 / (1 + e)}),
    ("LinearLR", {"start_factor": 0.25, "total_iters": 6}),
    ("ConstantLR", {"factor": 0.5, "total_iters": 4}),
    ("PolynomialLR", {"total_iters": 8, "power": 2.0}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 25}),
    ("MultiplicativeLR", {"lr_lambda": lambda e: 0.9 if e % 2 else 1.0}),
    ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2, "eta_min": 0.001}),
    ("CosineAnnealingWarmRestarts", {"T_0": 4}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "step_size_down": 5}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4, "mode": "triangular2"}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 2, "mode": "exp_range",
                      "gamma": 0.9}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 25, "anneal_strategy": "linear",
                        "three_phase": True}),
]


@pytest.mark.torch
@pytest.mark.parametrize("name,kw", SCHEDULERS, ids=[f"{n}-{i}" for i, (n, _) in
                                                     enumerate(SCHEDULERS)])
@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_scheduler_matches_torch(name, kw, opt_name):
    import torch

    okw = {"lr": 0.1, "momentum": 0.9} if opt_name == "SGD" else {"lr": 0.1}
    copt = getattr(optim, opt_name)([cr.nn.Parameter(cr.zeros(1))], **okw)
    topt = getattr(torch.optim, opt_name)([torch.nn.Parameter(torch.zeros(1))], **okw)
    cs = getattr(sched, name)(copt, **kw)
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    np.testing.assert_allclose(cs.get_last_lr(), ts.get_last_lr(), rtol=1e-10)
    for _ in range(20):
        copt.step()
        topt.step()
        cs.step()
        ts.step()
        np.testing.assert_allclose(cs.get_last_lr(), ts.get_last_lr(), rtol=1e-10)
        key = "momentum" if opt_name == "SGD" else "betas"
        np.testing.assert_allclose(copt.param_groups[0][key], topt.param_groups[0][key],
                                   rtol=1e-10)


@pytest.mark.torch
def test_sequential_lr_matches_torch():
    import torch

    def build(m, p):
        o = m.optim.SGD([p], lr=0.1)
        s1 = m.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=4)
        s2 = m.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10)
        return o, m.optim.lr_scheduler.SequentialLR(o, [s1, s2], milestones=[4])

    co, cs = build(_CrNs(), cr.nn.Parameter(cr.zeros(1)))
    to, ts = build(torch, torch.nn.Parameter(torch.zeros(1)))
    for _ in range(20):
        co.step()
        to.step()
        cs.step()
        ts.step()
        np.testing.assert_allclose(cs.get_last_lr(), ts.get_last_lr(), rtol=1e-10)


class _CrNs:
    optim = optim


@pytest.mark.torch
def test_chained_scheduler_and_state_dict_match_torch():
    import torch

    def build(m, p):
        o = m.optim.SGD([p], lr=0.1, momentum=0.9)
        s1 = m.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)
        s2 = m.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)
        return o, m.optim.lr_scheduler.ChainedScheduler([s1, s2]), s2

    co, cs, cs2 = build(_CrNs(), cr.nn.Parameter(cr.zeros(1)))
    to, ts, ts2 = build(torch, torch.nn.Parameter(torch.zeros(1)))
    for _ in range(10):
        co.step()
        to.step()
        cs.step()
        ts.step()
        np.testing.assert_allclose(cs.get_last_lr(), ts.get_last_lr(), rtol=1e-10)
    sd = cs2.state_dict()
    assert sd["last_epoch"] == ts2.state_dict()["last_epoch"] == 10
    assert sd["base_lrs"] == ts2.state_dict()["base_lrs"]
    fresh = sched.StepLR(optim.SGD([cr.nn.Parameter(cr.zeros(1))], lr=0.1), step_size=3)
    fresh.load_state_dict(sd)
    assert fresh.last_epoch == 10 and fresh.gamma == 0.5


@pytest.mark.torch
def test_reduce_on_plateau_matches_torch():
    import torch

    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.96, 0.97, 0.5, 0.5, 0.5, 0.5, 0.5, 0.4, 0.41,
               0.42, 0.43, 0.44, 0.45, 0.46, 0.47]
    for kw in ({"patience": 2}, {"mode": "max", "patience": 1, "cooldown": 2, "factor": 0.5,
                                       "threshold_mode": "abs", "min_lr": 0.02}):
        co = optim.SGD([cr.nn.Parameter(cr.zeros(1))], lr=0.1)
        to = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        cs = sched.ReduceLROnPlateau(co, **kw)
        ts = torch.optim.lr_scheduler.ReduceLROnPlateau(to, **kw)
        for m in metrics:
            cs.step(m)
            ts.step(m)
            np.testing.assert_allclose(cs.get_last_lr(), ts.get_last_lr(), rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("kw", [{}, {"lr": 0.5, "history_size": 3, "max_iter": 7},
                                {"max_iter": 4, "tolerance_change": 1e-3},
                                {"line_search_fn": "strong_wolfe"},
                                {"line_search_fn": "strong_wolfe", "lr": 3.0, "history_size": 2}])
def test_lbfgs_matches_torch(kw):
    import torch

    rng = np.random.default_rng(5)
    a0, b0 = rng.standard_normal((3, 2)), rng.standard_normal(4)

    def run(lib, P, params):
        opt = lib.optim.LBFGS(params, **kw)
        a, b = params

        def closure():
            opt.zero_grad()
            loss = ((a * a * a).sum() * 0.1 + (a * a).sum() + ((b - 1.0) ** 2).sum()
                    + (a.sum() * b.sum()) ** 2 * 0.05)
            loss.backward()
            return loss

        losses = [opt.step(closure).item() for _ in range(5)]
        return losses, [p.detach().numpy().copy() for p in params], opt

    t_losses, t_params, topt = run(torch, torch.nn.Parameter, [
        torch.nn.Parameter(torch.tensor(a0)), torch.nn.Parameter(torch.tensor(b0))])
    c_losses, c_params, copt = run(_CrNs2, cr.nn.Parameter, [
        cr.nn.Parameter(cr.tensor(a0)), cr.nn.Parameter(cr.tensor(b0))])
    np.testing.assert_allclose(c_losses, t_losses, rtol=1e-10)
    for c, t in zip(c_params, t_params):
        np.testing.assert_allclose(c, t, rtol=1e-9, atol=1e-12)
    tstate = topt.state[topt._params[0]]
    cstate = copt.state[copt._params[0]]
    assert cstate["func_evals"] == tstate["func_evals"]
    assert cstate["n_iter"] == tstate["n_iter"]


class _CrNs2:
    optim = optim


def test_lbfgs_requires_closure():
    p = cr.nn.Parameter(cr.zeros(2))
    with pytest.raises(RuntimeError, match="closure"):
        optim.LBFGS([p]).step(None)


@pytest.mark.torch
@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_rosenbrock_matches_torch(line_search):
    import torch

    def run(lib, param):
        opt = lib.optim.LBFGS([param], lr=1.0 if line_search else 0.05, max_iter=30,
                              history_size=10, line_search_fn=line_search)

        def closure():
            opt.zero_grad()
            x, y = param[0], param[1]
            loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        return param.detach().numpy().copy(), opt.state[param]["func_evals"]

    tp, tn = run(torch, torch.nn.Parameter(torch.tensor([-1.5, 2.0], dtype=torch.float64)))
    cp, cn = run(_CrNs2, cr.nn.Parameter(cr.tensor([-1.5, 2.0], dtype=cr.float64)))
    assert cn == tn
    np.testing.assert_allclose(cp, tp, rtol=1e-8, atol=1e-10)
    if line_search:
        np.testing.assert_allclose(cp, [1.0, 1.0], atol=1e-4)


# -- weight averaging ------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("mode", ["swa", "ema", "ema-buffers"])
def test_averaged_model_and_swalr_match_torch(mode):
    import torch

    rng = np.random.default_rng(9)
    data = [rng.standard_normal((6, 3)) for _ in range(5)]

    def run(lib):
        lib.manual_seed(0)
        nn = lib.nn
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)).double()
        with lib.no_grad():
            for i, p in enumerate(model.parameters()):
                p.copy_(lib.tensor(np.linspace(-0.5, 0.5, p.numel()).reshape(p.shape) / (i + 1)))
        kw = {}
        if mode.startswith("ema"):
            kw["multi_avg_fn"] = lib.optim.swa_utils.get_ema_multi_avg_fn(0.8)
            kw["use_buffers"] = mode == "ema-buffers"
        avg = lib.optim.swa_utils.AveragedModel(model, **kw)
        opt = lib.optim.SGD(model.parameters(), lr=0.05)
        sched = lib.optim.swa_utils.SWALR(opt, swa_lr=0.01, anneal_epochs=3)
        lrs = []
        for x in data:
            opt.zero_grad()
            model(lib.tensor(x)).pow(2).mean().backward()
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
            avg.update_parameters(model)
        lib.optim.swa_utils.update_bn([lib.tensor(x) for x in data], avg)
        return lrs, {k: v.detach().numpy().copy() for k, v in avg.state_dict().items()}

    t_lrs, t_sd = run(torch)
    c_lrs, c_sd = run(cr)
    np.testing.assert_allclose(c_lrs, t_lrs, rtol=1e-12)
    assert list(c_sd) == list(t_sd)
    for k in t_sd:
        np.testing.assert_allclose(c_sd[k], t_sd[k], rtol=1e-10, atol=1e-12, err_msg=k)
