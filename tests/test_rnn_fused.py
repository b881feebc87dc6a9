"""nn.LSTM / nn.GRU / nn.RNN layers run as one node per layer and direction
(nn/_rnn_fused.py): values and every gradient against PyTorch with copied weights (float64),
double backward, gradcheck, and the cases that keep the per-step ops."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

CONFIGS = [
    {},
    {"batch_first": True},
    {"num_layers": 2},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True, "batch_first": True},
    {"bias": False},
]
MODES = ["LSTM", "GRU", "RNN", "RNN_RELU"]


def _pair(mode, **kw):
    name = "RNN" if mode.startswith("RNN") else mode
    if mode == "RNN_RELU":
        kw = dict(kw, nonlinearity="relu")
    tm = getattr(torch.nn, name)(3, 4, dtype=torch.float64, **kw)
    cm = getattr(cr.nn, name)(3, 4, dtype=cr.float64, **kw)
    cm.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, cm


def _run(lib, m, x, states, weights, mode):
    xt = lib.tensor(x, requires_grad=True)
    st = [lib.tensor(s, requires_grad=True) for s in states]
    out, hn = m(xt, tuple(st) if mode == "LSTM" else st[0])
    hn = hn if mode == "LSTM" else (hn,)
    loss = (out * lib.tensor(weights)).sum()
    for k, s in enumerate(hn):
        loss = loss + (s * s).sum() * (k + 1)
    loss.backward()
    return [out.detach().numpy()] + [s.detach().numpy() for s in hn] + \
        [xt.grad.numpy()] + [s.grad.numpy() for s in st] + \
        [p.grad.numpy() for p in m.parameters()]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: "-".join(kw) or "default")
def test_layer_matches_torch(mode, kw):
    tm, cm = _pair(mode, **kw)
    rng = np.random.default_rng(0)
    steps, batch = 5, 2
    x = rng.standard_normal((batch, steps, 3) if kw.get("batch_first") else (steps, batch, 3))
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    states = [rng.standard_normal((layers, batch, 4))
              for _ in range(2 if mode == "LSTM" else 1)]
    out_shape = tm(torch.tensor(x))[0].shape
    weights = rng.standard_normal(tuple(out_shape))
    got = _run(cr, cm, x, states, weights, mode)
    want = _run(torch, tm, x, states, weights, mode)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_lstm_node_is_named_as_torch():
    out, _ = cr.nn.LSTM(3, 4)(cr.randn(5, 2, 3))
    ref, _ = torch.nn.LSTM(3, 4)(torch.randn(5, 2, 3))
    assert type(out.grad_fn).__name__ == ref.grad_fn.name() == "MkldnnRnnLayerBackward0"
    assert len(out.grad_fn.next_functions) == len(ref.grad_fn.next_functions) == 7


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_double_backward_matches_torch(mode):
    tm, cm = _pair(mode, bidirectional=True)
    x = np.random.default_rng(1).standard_normal((4, 2, 3))
    res = []
    for lib, m in ((cr, cm), (torch, tm)):
        xt = lib.tensor(x, requires_grad=True)
        g, = lib.autograd.grad(m(xt)[0].pow(2).sum(), xt, create_graph=True)
        gg = lib.autograd.grad((g * g).sum(), list(m.parameters()))
        res.append([t.detach().numpy() for t in (g, *gg)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_gradcheck(mode):
    m = getattr(cr.nn, mode)(2, 3, dtype=cr.float64, bidirectional=True)
    x = cr.randn(3, 2, 2, dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(lambda v: m(v)[0], (x,))


def test_no_graph_under_no_grad_and_second_backward_raises():
    m = cr.nn.GRU(3, 4)
    with cr.no_grad():
        out, h = m(cr.randn(5, 2, 3))
    assert out.grad_fn is None and not out.requires_grad
    out, h = m(cr.randn(5, 2, 3))
    loss = out.sum() + h.sum()
    loss.backward(retain_graph=True)
    loss.backward()
    out, _ = m(cr.randn(5, 2, 3))
    loss = out.sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_inplace_write_into_the_output_is_caught():
    out, _ = cr.nn.LSTM(3, 4)(cr.randn(5, 2, 3))
    out.mul_(2)  # the output is saved for the backward, as in torch
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_projections_and_packed_sequences_keep_the_step_ops():
    tm = torch.nn.LSTM(3, 4, proj_size=2, dtype=torch.float64)
    cm = cr.nn.LSTM(3, 4, proj_size=2, dtype=cr.float64)
    cm.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((5, 2, 3))
    np.testing.assert_allclose(cm(cr.tensor(x))[0].detach().numpy(),
                               tm(torch.tensor(x))[0].detach().numpy(), rtol=1e-10)
    from chainrule.nn.utils.rnn import pack_padded_sequence
    packed = pack_padded_sequence(cr.tensor(x), [5, 3])
    out, _ = cr.nn.GRU(3, 4, dtype=cr.float64)(packed)
    assert tuple(out.data.shape) == (8, 4)


def test_float32_layer_matches_float64_reference():
    tm, cm = _pair("LSTM", num_layers=2)
    cm32 = cr.nn.LSTM(3, 4, num_layers=2)
    cm32.load_state_dict({k: v.float() for k, v in cm.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((6, 2, 3))
    out32 = cm32(cr.tensor(x, dtype=cr.float32))[0]
    assert out32.dtype == cr.float32
    np.testing.assert_allclose(out32.detach().numpy(), tm(torch.tensor(x))[0].detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_flatten_parameters_and_flat_weights_as_torch():
    cm = cr.nn.LSTM(3, 4, num_layers=2)
    tm = torch.nn.LSTM(3, 4, num_layers=2)
    assert cm.flatten_parameters() is None and tm.flatten_parameters() is None
    assert [tuple(w.shape) for w in cm._flat_weights] == \
        [tuple(w.shape) for w in tm._flat_weights]


def test_input_dtype_other_than_the_weights_raises_torchs_error():
    for lib in (cr, torch):
        with pytest.raises(ValueError, match=r"RNN input dtype \(torch.float64\) does not match "
                                             r"weight dtype \(torch.float32\)"):
            lib.nn.GRU(3, 4)(lib.zeros(5, 2, 3, dtype=lib.float64))


def test_reused_buffers_never_overwrite_live_results():
    """Layers hand their large arrays out again only when nothing refers to them: outputs
    and graphs of earlier calls stay intact while later calls run."""
    m = cr.nn.LSTM(3, 4, num_layers=2, dtype=cr.float64)
    rng = np.random.default_rng(4)
    x1 = cr.tensor(rng.standard_normal((6, 2, 3)), requires_grad=True)
    x2 = cr.tensor(rng.standard_normal((6, 2, 3)), requires_grad=True)
    out1, (h1, _) = m(x1)
    kept = out1.detach().numpy().copy(), h1.detach().numpy().copy()
    _out2, _ = m(x2)  # same shapes: would reuse out1's arrays if they were free
    with cr.no_grad():
        m(x2)
    np.testing.assert_array_equal(out1.detach().numpy(), kept[0])
    np.testing.assert_array_equal(h1.detach().numpy(), kept[1])
    out1.sum().backward()  # the first graph's saved arrays are intact too
    g1 = x1.grad.numpy().copy()
    x1.grad = None
    out1b, _ = m(x1)
    out1b.sum().backward()
    np.testing.assert_allclose(x1.grad.numpy(), g1, rtol=1e-12)


# -- cells: one node per step --------------------------------------------------------------
CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("RNNCell", {"bias": False}),
         ("LSTMCell", {}), ("LSTMCell", {"bias": False}), ("GRUCell", {}),
         ("GRUCell", {"bias": False})]


def _cell_pair(kind, **kw):
    tm = getattr(torch.nn, kind)(3, 5, dtype=torch.float64, **kw)
    cm = getattr(cr.nn, kind)(3, 5, dtype=cr.float64, **kw)
    cm.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, cm


def _cell_loop(lib, m, kind, xs, h0, c0, use_h=True):
    xts = [lib.tensor(x, requires_grad=True) for x in xs]
    ht, ct = lib.tensor(h0, requires_grad=True), lib.tensor(c0, requires_grad=True)
    state = (ht, ct) if kind == "LSTMCell" else ht
    loss = 0
    for k, x in enumerate(xts):
        state = m(x, state)
        h = state[0] if kind == "LSTMCell" else state
        if use_h:
            loss = loss + (h * (k + 1)).sum()
    if kind == "LSTMCell":
        loss = loss + (state[1] ** 2).sum()
    loss.backward()
    return [h.detach().numpy()] + [x.grad.numpy() for x in xts] + [ht.grad.numpy()] + \
        ([ct.grad.numpy()] if kind == "LSTMCell" else []) + [p.grad.numpy() for p in m.parameters()]


@pytest.mark.parametrize("kind,kw", CELLS, ids=[f"{k}-{'-'.join(v) or 'default'}"
                                                for k, v in CELLS])
def test_cell_loop_matches_torch(kind, kw):
    tm, cm = _cell_pair(kind, **kw)
    rng = np.random.default_rng(5)
    xs = [rng.standard_normal((2, 3)) for _ in range(4)]
    h0, c0 = rng.standard_normal((2, 5)), rng.standard_normal((2, 5))
    got = _cell_loop(cr, cm, kind, xs, h0, c0)
    want = _cell_loop(torch, tm, kind, xs, h0, c0)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_lstm_cell_with_only_the_cell_state_used():
    tm, cm = _cell_pair("LSTMCell")
    rng = np.random.default_rng(6)
    xs = [rng.standard_normal((2, 3)) for _ in range(3)]
    h0, c0 = rng.standard_normal((2, 5)), rng.standard_normal((2, 5))
    for a, b in zip(_cell_loop(cr, cm, "LSTMCell", xs, h0, c0, use_h=False),
                    _cell_loop(torch, tm, "LSTMCell", xs, h0, c0, use_h=False)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_double_backward_and_gradcheck(kind):
    tm, cm = _cell_pair(kind)
    x = np.random.default_rng(7).standard_normal((2, 3))
    res = []
    for lib, m in ((cr, cm), (torch, tm)):
        xt = lib.tensor(x, requires_grad=True)
        out = m(xt)
        h = out[0] if kind == "LSTMCell" else out
        g, = lib.autograd.grad((h * h).sum(), xt, create_graph=True)
        gg = lib.autograd.grad((g * g).sum(), list(m.parameters()))
        res.append([t.detach().numpy() for t in (g, *gg)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    first = (lambda v: cm(v)[0]) if kind == "LSTMCell" else cm
    assert cr.autograd.gradcheck(first, (cr.tensor(x, requires_grad=True),))


def test_cell_size_errors_as_torch():
    cases = [(lambda L: L.nn.RNNCell(4, 8)(L.zeros(3, 5)),
              "input has inconsistent input_size: got 5 expected 4"),
             (lambda L: L.nn.LSTMCell(4, 8)(L.zeros(3, 4), (L.zeros(3, 7), L.zeros(3, 8))),
              "hidden0 has inconsistent hidden_size: got 7, expected 8"),
             (lambda L: L.nn.GRUCell(4, 8)(L.zeros(3, 4), L.zeros(2, 8)),
              "Input batch size 3 doesn't match hidden0 batch size 2")]
    for fn, msg in cases:
        for lib in (cr, torch):
            with pytest.raises(RuntimeError, match=msg):
                fn(lib)


@pytest.mark.parametrize("name,gates", [("lstm_cell", 4), ("gru_cell", 3),
                                        ("rnn_tanh_cell", 1), ("rnn_relu_cell", 1)])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_functions_match_torch(name, gates, bias):
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal(s) for s in ((2, 3), (2, 4), (2, 4), (4 * gates, 3),
                                               (4 * gates, 4), (4 * gates,), (4 * gates,))]
    res = []
    for lib in (cr, torch):
        x, h, c, w_ih, w_hh, b_ih, b_hh = (lib.tensor(a, requires_grad=True) for a in arrays)
        hx = (h, c) if name == "lstm_cell" else h
        extra = (b_ih, b_hh) if bias else ()
        out = getattr(lib, name)(x, hx, w_ih, w_hh, *extra)
        y = out[0] + out[1] * 2 if name == "lstm_cell" else out
        (y * y).sum().backward()
        used = [x, h, w_ih, w_hh] + ([c] if name == "lstm_cell" else []) + \
            ([b_ih, b_hh] if bias else [])
        res.append([y.detach().numpy()] + [t.grad.numpy() for t in used])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell"])
def test_functional_call_uses_the_given_parameters(kind):
    """torch.func.functional_call puts its tensors on the module instance: the recurrent
    layers and cells must read them, not the module's own parameters."""
    from torch.func import functional_call as t_call

    from chainrule.func import functional_call as c_call

    tm = getattr(torch.nn, kind)(2, 3, dtype=torch.float64)
    cm = getattr(cr.nn, kind)(2, 3, dtype=cr.float64)
    rng = np.random.default_rng(9)
    params = {k: rng.standard_normal(tuple(v.shape)) for k, v in tm.named_parameters()}
    x = rng.standard_normal((4, 2) if kind.endswith("Cell") else (4, 1, 2))
    got = c_call(cm, {k: cr.tensor(v) for k, v in params.items()}, (cr.tensor(x),))
    want = t_call(tm, {k: torch.tensor(v) for k, v in params.items()}, (torch.tensor(x),))
    got = got[0] if isinstance(got, tuple) else got
    want = want[0] if isinstance(want, tuple) else want
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-10)


def test_cell_functions_reject_bad_sizes_as_torch():
    def z(lib, *shape):
        return lib.zeros(*shape)
    cases = [
        (lambda L: L.lstm_cell(z(L, 2, 5), (z(L, 2, 4), z(L, 2, 4)), z(L, 16, 3), z(L, 16, 4)),
         "input has inconsistent input_size: got 5 expected 3"),
        (lambda L: L.gru_cell(z(L, 2, 3), z(L, 2, 5), z(L, 12, 3), z(L, 12, 4)),
         "hidden0 has inconsistent hidden_size: got 5, expected 4"),
        (lambda L: L.rnn_tanh_cell(z(L, 2, 3), z(L, 2, 4), z(L, 4, 3), z(L, 5, 4)),
         r"weight_hh first dim must be 1 \* hidden_size = 4, but got 5"),
        (lambda L: L.lstm_cell(z(L, 2, 3), (z(L, 2, 4), z(L, 2, 4)), z(L, 15, 3), z(L, 16, 4)),
         r"weight_ih first dim must be 4 \* hidden_size = 16, but got 15"),
        (lambda L: L.rnn_relu_cell(z(L, 3, 3), z(L, 2, 4), z(L, 4, 3), z(L, 4, 4)),
         "Input batch size 3 doesn't match hidden0 batch size 2"),
        (lambda L: L.lstm_cell(z(L, 2, 3), (z(L, 2, 4), z(L, 2, 5)), z(L, 16, 3), z(L, 16, 4)),
         "hidden1 has inconsistent hidden_size: got 5, expected 4"),
    ]
    for fn, msg in cases:
        for lib in (cr, torch):
            with pytest.raises(RuntimeError, match=msg):
                fn(lib)
