"""Hooks fire like PyTorch's (tensor, node, post-accumulate, retain_grad, multi-grad), plus
anomaly mode and autograd.graph. Each scenario runs on chainrule and torch and the records
(which hook fired, in which order, with which gradient) must match."""
import importlib
import warnings

import numpy as np
import pytest

import chainrule as cr

anomaly = importlib.import_module("chainrule.autograd.anomaly_mode")
graph = importlib.import_module("chainrule.autograd.graph")

X = np.array([1.0, -2.0, 3.0])


def _np(v):
    if v is None:
        return None
    if isinstance(v, (tuple, list)):
        return tuple(_np(u) for u in v)
    if hasattr(v, "detach"):
        return v.detach().numpy().copy()
    return v


def _same(rec_c, rec_t):
    assert len(rec_c) == len(rec_t), (rec_c, rec_t)
    for a, b in zip(rec_c, rec_t):
        if isinstance(a, tuple) and isinstance(b, tuple):
            _same(list(a), list(b))
        elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-12)
        else:
            assert a == b, (rec_c, rec_t)


def _run(scenario):
    import torch

    return scenario(cr, []), scenario(torch, [])


def _both(scenario):
    rc, rt = _run(scenario)
    _same(rc, rt)


def _x(lib):
    return lib.tensor(X, requires_grad=True)


@pytest.mark.torch
def test_leaf_hook_sees_and_replaces_grad():
    def s(lib, rec):
        x = _x(lib)
        x.register_hook(lambda g: rec.append(("h1", _np(g))))
        x.register_hook(lambda g: g * 10)
        x.register_hook(lambda g: rec.append(("h3", _np(g))))
        (x * x).sum().backward()
        rec.append(("grad", _np(x.grad)))
        return rec
    _both(s)


@pytest.mark.torch
def test_non_leaf_hook_changes_what_flows_on():
    def s(lib, rec):
        x = _x(lib)
        h = x.exp()
        h.register_hook(lambda g: rec.append(("h", _np(g))))
        h.register_hook(lambda g: g * 2)
        (h * 3).sum().backward()
        rec.append(("x.grad", _np(x.grad)))
        return rec
    _both(s)


@pytest.mark.torch
def test_handle_remove():
    def s(lib, rec):
        x = _x(lib)
        handle = x.register_hook(lambda g: rec.append("fired") or g * 100)
        (x * 2).sum().backward()
        handle.remove()
        handle.remove()  # idempotent
        x.grad = None
        (x * 2).sum().backward()
        rec.append(_np(x.grad))
        return rec
    _both(s)


@pytest.mark.torch
@pytest.mark.parametrize("hook_first", [True, False])
def test_retain_grad_and_hook_order(hook_first):
    def s(lib, rec):
        x = _x(lib)
        h = x * 2
        if hook_first:
            h.register_hook(lambda g: g + 1)
            h.retain_grad()
        else:
            h.retain_grad()
            h.register_hook(lambda g: g + 1)
        (h * h).sum().backward()
        rec += [_np(h.grad), _np(x.grad), h.retains_grad]
        return rec
    _both(s)


@pytest.mark.torch
def test_post_accumulate_grad_hook():
    def s(lib, rec):
        x = _x(lib)
        x.register_post_accumulate_grad_hook(lambda t: rec.append(("post", _np(t.grad))))
        x.register_hook(lambda g: rec.append(("pre", _np(g))))
        (x * x).sum().backward()
        (x * 3).sum().backward()  # accumulates: the hook sees the running sum
        return rec
    _both(s)


@pytest.mark.torch
def test_node_hooks_and_prehooks():
    def s(lib, rec):
        x = _x(lib)
        y = lib.tensor(X[::-1].copy(), requires_grad=True)
        z = x * y
        z.grad_fn.register_prehook(lambda go: rec.append(("pre", _np(go))))
        z.grad_fn.register_hook(lambda gi, go: rec.append(("post", _np(gi), _np(go))))
        out = (z * 2).sum()
        out.grad_fn.register_prehook(lambda go: (go[0] * 3,))  # scales everything below
        out.backward()
        rec += [_np(x.grad), _np(y.grad)]
        return rec
    _both(s)


@pytest.mark.torch
def test_node_hook_can_replace_grad_inputs():
    def s(lib, rec):
        x = _x(lib)
        y = x.tanh()
        y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0 + 7,))
        y.sum().backward()
        rec.append(_np(x.grad))
        return rec
    _both(s)


@pytest.mark.torch
def test_hooks_under_create_graph():
    def s(lib, rec):
        x = _x(lib)
        h = x ** 3
        h.register_hook(lambda g: g * 2)
        (g,) = lib.autograd.grad(h.sum(), x, create_graph=True)
        rec.append(_np(g))
        rec.append(g.requires_grad)
        (gg,) = lib.autograd.grad(g.sum(), x)
        rec.append(_np(gg))
        return rec
    _both(s)


@pytest.mark.torch
def test_multi_grad_hook_all():
    def s(lib, rec):
        a, b = _x(lib), lib.tensor(X * 2, requires_grad=True)
        gmod = importlib.import_module(lib.__name__ + ".autograd.graph")
        gmod.register_multi_grad_hook((a, b), lambda grads: rec.append(_np(tuple(grads))))
        (a * b).sum().backward()
        return rec
    _both(s)


@pytest.mark.torch
def test_multi_grad_hook_any():
    def s(lib, rec):
        a, b = _x(lib), lib.tensor(X * 2, requires_grad=True)
        gmod = importlib.import_module(lib.__name__ + ".autograd.graph")
        gmod.register_multi_grad_hook((a, b), lambda g: rec.append(_np(g)), mode="any")
        (a * b).sum().backward()
        (a * b * 3).sum().backward()
        return rec
    rc, rt = _run(s)
    assert len(rc) == len(rt) == 2
    # which of the two gradients comes first is an engine ordering detail: compare as sets
    for c, t in zip(rc, rt):
        assert any(np.allclose(c, u) for u in (2 * X, X, 6 * X, 3 * X))
        assert any(np.allclose(t, u) for u in (2 * X, X, 6 * X, 3 * X))


# ======================================================================================
# anomaly mode
# ======================================================================================
def _nan_backward(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    (x / 0 * 0).sum().backward()


@pytest.mark.torch
def test_anomaly_message_matches_torch():
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError) as et, torch.autograd.detect_anomaly():
            _nan_backward(torch)
        with np.errstate(all="ignore"), pytest.raises(RuntimeError) as ec, \
                anomaly.detect_anomaly():
            _nan_backward(cr)
    assert str(ec.value) == str(et.value)
    assert str(ec.value) == "Function 'DivBackward0' returned nan values in its 0th output."


def test_anomaly_off_outside_and_state_restored():
    with np.errstate(all="ignore"):
        _nan_backward(cr)  # no check: NaN gradients pass silently, as in PyTorch
        assert not anomaly.is_anomaly_enabled()
        with anomaly.set_detect_anomaly(True):
            assert anomaly.is_anomaly_enabled()
            with anomaly.set_detect_anomaly(False):
                _nan_backward(cr)
            with pytest.raises(RuntimeError, match="returned nan values"):
                _nan_backward(cr)
        assert not anomaly.is_anomaly_enabled()
        with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"), \
                anomaly.detect_anomaly(check_nan=False):
            _nan_backward(cr)


def test_anomaly_leaves_graph_hooks_clean():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).exp()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with anomaly.detect_anomaly():
            y.sum().backward(retain_graph=True)
    node = y.grad_fn
    while node is not None and node.next_functions:
        assert "_hooks" not in node.__dict__
        node = node.next_functions[0][0]
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(2 * np.array([1.0, 2.0])))


# ======================================================================================
# autograd.graph
# ======================================================================================
@pytest.mark.torch
def test_saved_tensors_hooks_interface():
    import torch

    for lib, gmod in ((cr, graph), (torch, torch.autograd.graph)):
        x = lib.tensor(X, requires_grad=True)
        with gmod.saved_tensors_hooks(lambda t: t, lambda t: t), gmod.save_on_cpu():
            y = (x * x).sum()
        y.backward()
        np.testing.assert_allclose(x.grad.numpy(), 2 * X)
    msgs = []
    for gmod in (graph, torch.autograd.graph):
        with gmod.disable_saved_tensors_hooks("no hooks here"), \
                pytest.raises(RuntimeError) as e, \
                gmod.saved_tensors_hooks(lambda t: t, lambda t: t):
            pass
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_gradient_edge_and_node_alias():
    x = cr.tensor(X, requires_grad=True)
    y = x * 2
    edge = graph.get_gradient_edge(y)
    assert edge.node is y.grad_fn and edge.output_nr == 0
    assert isinstance(y.grad_fn, graph.Node)
    assert graph.get_gradient_edge(x).node is y.grad_fn.next_functions[0][0]


# ======================================================================================
# Engine gaps found by comparing with torch (engine.py / function.py are not this file's
# owner's): kept as xfail so they flip to XPASS once the engine matches.
# ======================================================================================
@pytest.mark.torch
def test_hook_changing_size_raises():
    def s(lib, rec):
        x = _x(lib)
        y = x * 2
        y.register_hook(lambda g: g.sum())
        try:
            y.sum().backward()
        except RuntimeError as e:
            rec.append(str(e))
        return rec
    _both(s)


@pytest.mark.torch
def test_autograd_grad_runs_leaf_input_hooks():
    def s(lib, rec):
        x = _x(lib)
        x.register_hook(lambda g: g * 5)
        (g,) = lib.autograd.grad((x * x).sum(), x)
        rec.append(_np(g))
        return rec
    _both(s)


@pytest.mark.torch
def test_accumulate_grad_node_hook():
    def s(lib, rec):
        x = _x(lib)
        y = x * 2
        acc = y.grad_fn.next_functions[0][0]
        acc.register_hook(lambda gi, go: rec.append(("acc", len(gi), _np(go[0]))))
        y.sum().backward()
        return rec
    _both(s)


@pytest.mark.torch
def test_tensor_hooks_run_before_node_prehooks():
    def s(lib, rec):
        x = _x(lib)
        y = x * 2
        y.grad_fn.register_prehook(lambda go: rec.append("node_pre"))
        y.register_hook(lambda g: rec.append("tensor"))
        y.sum().backward()
        return rec
    _both(s)


def test_anomaly_catches_custom_function_and_autograd_grad():
    class NanGrad(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError) as e, anomaly.detect_anomaly():
            cr.autograd.grad(NanGrad.apply(x).sum(), x)
    assert str(e.value) == (f"Function '{type(NanGrad.apply(x).grad_fn).__name__}' returned "
                            "nan values in its 0th output.")
