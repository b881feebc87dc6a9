"""torch.stft / torch.istft (chainrule/_stft.py) against PyTorch: values, gradients (float64,
through view_as_real and abs of the complex result) for the signal, the window and the
spectrum, batched and unbatched, and PyTorch's errors."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _rng(seed=0):
    return np.random.default_rng(seed)


def _window(lib, name, n):
    if name is None:
        return None
    fn = {"hann": lib.hann_window, "hamming": lib.hamming_window}[name]
    return fn(n, dtype=lib.float64)


def _np(t):
    t = t.detach()
    if t.is_complex():
        return np.asarray(t.numpy())
    return np.asarray(t.numpy())


# shape, n_fft, keyword arguments (window by name, made in each library)
STFT_CASES = [
    ((20,), 8, {}),
    ((3, 50), 16, {"hop_length": 4, "win_length": 12, "window": "hann", "normalized": True}),
    ((2, 33), 10, {"hop_length": 3, "pad_mode": "constant", "onesided": False}),
    ((40,), 9, {"center": False, "window": "hamming", "hop_length": 2}),
    ((2, 30), 8, {"center": False, "win_length": 5, "align_to_window": True, "hop_length": 2,
                  "window": "hann"}),
    ((2, 31), 8, {"center": False, "win_length": 4, "align_to_window": True, "hop_length": 3}),
    ((25,), 6, {"pad_mode": "replicate"}),
    ((2, 25), 6, {"pad_mode": "circular", "hop_length": 1}),
    ((4, 64), 16, {"window": "hann", "hop_length": 4}),
]


def _stft_both(shape, n_fft, kw, seed=0, complex_input=False):
    """Run stft in both libraries on the same float64 input; return (outs, inputs, windows)."""
    rng = _rng(seed)
    x = rng.standard_normal(shape)
    if complex_input:
        x = x + 1j * rng.standard_normal(shape)
    res = {}
    for lib in (torch, cr):
        xt = lib.tensor(x, requires_grad=True)
        args = dict(kw)
        win = _window(lib, args.pop("window", None), args.get("win_length", n_fft))
        if win is not None:
            win.requires_grad_()
        out = lib.stft(xt, n_fft, window=win, return_complex=True, **args)
        res[lib] = (out, xt, win)
    return res


@pytest.mark.parametrize("shape,n_fft,kw", STFT_CASES)
def test_stft_values_and_gradients_match_torch(shape, n_fft, kw):
    res = _stft_both(shape, n_fft, kw)
    (to, tx, tw), (co, cx, cw) = res[torch], res[cr]
    assert tuple(co.shape) == tuple(to.shape)
    assert co.dtype == cr.complex128
    np.testing.assert_allclose(_np(co), _np(to), rtol=1e-10, atol=1e-10)
    weights = _rng(1).standard_normal(tuple(to.shape) + (2,))
    for loss in (lambda lib, o: (lib.view_as_real(o) * lib.tensor(weights)).sum(),
                 lambda lib, o: (o.abs() * lib.tensor(weights[..., 0])).sum()):
        tgrads = torch.autograd.grad(loss(torch, to), [t for t in (tx, tw) if t is not None],
                                     retain_graph=True)
        cgrads = cr.autograd.grad(loss(cr, co), [t for t in (cx, cw) if t is not None],
                                  retain_graph=True)
        for cg, tg in zip(cgrads, tgrads):
            np.testing.assert_allclose(_np(cg), _np(tg), rtol=1e-9, atol=1e-9)


def test_stft_complex_input_is_two_sided_and_matches_torch():
    res = _stft_both((2, 24), 8, {"hop_length": 3}, complex_input=True)
    (to, tx, _), (co, cx, _) = res[torch], res[cr]
    assert tuple(co.shape) == (2, 8, 9) == tuple(to.shape)
    np.testing.assert_allclose(_np(co), _np(to), rtol=1e-10, atol=1e-10)
    (tg,) = torch.autograd.grad(torch.view_as_real(to).pow(2).sum(), [tx])
    (cg,) = cr.autograd.grad(cr.view_as_real(co).pow(2).sum(), [cx])
    np.testing.assert_allclose(_np(cg), _np(tg), rtol=1e-9, atol=1e-9)


def test_stft_float32_and_return_complex_false_and_method():
    x = _rng(2).standard_normal((2, 40)).astype(np.float32)
    t = torch.stft(torch.tensor(x), 12, hop_length=5, return_complex=True)
    c = cr.stft(cr.tensor(x), 12, hop_length=5, return_complex=True)
    assert c.dtype == cr.complex64
    np.testing.assert_allclose(_np(c), _np(t), rtol=1e-5, atol=1e-4)
    t_old = torch.stft(torch.tensor(x), 12, return_complex=False)
    c_old = cr.stft(cr.tensor(x), 12, return_complex=False)
    assert tuple(c_old.shape) == tuple(t_old.shape) and c_old.dtype == cr.float32
    np.testing.assert_allclose(_np(c_old), _np(t_old), rtol=1e-5, atol=1e-4)
    win_t, win_c = torch.hann_window(12), cr.hann_window(12)
    m = cr.tensor(x).stft(12, 3, window=win_c, return_complex=True)
    np.testing.assert_allclose(
        _np(m), _np(torch.tensor(x).stft(12, 3, window=win_t, return_complex=True)),
        rtol=1e-5, atol=1e-4)


# n_fft, keyword arguments, length
ISTFT_CASES = [
    (8, {}, None),
    (8, {}, 17),
    (8, {}, 30),
    (16, {"hop_length": 4, "window": "hann"}, None),
    (16, {"hop_length": 3, "win_length": 10, "window": "hann", "normalized": True}, 41),
    (10, {"center": False, "hop_length": 5}, None),
    (9, {"window": "hamming", "hop_length": 3}, 35),
    (8, {"onesided": False}, None),
]


@pytest.mark.parametrize("n_fft,kw,length", ISTFT_CASES)
@pytest.mark.parametrize("batch", [(), (3,)])
def test_istft_values_and_gradients_match_torch(n_fft, kw, length, batch):
    rng = _rng(3)
    x = rng.standard_normal(batch + (40,))
    res = {}
    for lib in (torch, cr):
        args = dict(kw)
        win = _window(lib, args.pop("window", None), args.get("win_length", n_fft))
        spec = lib.stft(lib.tensor(x), n_fft, window=win, return_complex=True,
                        **{k: v for k, v in args.items() if k != "normalized"},
                        normalized=args.get("normalized", False))
        spec = (spec + 0.1 * lib.tensor(rng.standard_normal(tuple(spec.shape)))).detach()
        rng = _rng(3)  # the same perturbation for both libraries
        rng.standard_normal(batch + (40,))
        spec.requires_grad_()
        if win is not None:
            win.requires_grad_()
        y = lib.istft(spec, n_fft, window=win, length=length, **args)
        res[lib] = (y, spec, win)
    (ty, ts, tw), (cy, cs, cw) = res[torch], res[cr]
    assert tuple(cy.shape) == tuple(ty.shape)
    np.testing.assert_allclose(_np(cy), _np(ty), rtol=1e-9, atol=1e-9)
    weights = _rng(4).standard_normal(tuple(ty.shape))
    tgrads = torch.autograd.grad((ty * torch.tensor(weights)).sum(),
                                 [t for t in (ts, tw) if t is not None])
    cgrads = cr.autograd.grad((cy * cr.tensor(weights)).sum(),
                              [t for t in (cs, cw) if t is not None])
    for cg, tg in zip(cgrads, tgrads):
        if tg.is_complex():
            tg, cg = torch.view_as_real(tg), cr.view_as_real(cg)
        np.testing.assert_allclose(_np(cg), _np(tg), rtol=1e-8, atol=1e-9)


def test_istft_inverts_stft_and_return_complex():
    x = _rng(5).standard_normal((2, 50))
    spec = cr.stft(cr.tensor(x), 16, window=cr.hann_window(16, dtype=cr.float64),
                   return_complex=True)
    y = spec.istft(16, window=cr.hann_window(16, dtype=cr.float64), length=50)
    np.testing.assert_allclose(_np(y), x, atol=1e-12)
    z = _rng(6).standard_normal((30,)) + 1j * _rng(7).standard_normal((30,))
    ct = cr.stft(cr.tensor(z), 8, return_complex=True)
    tt = torch.stft(torch.tensor(z), 8, return_complex=True)
    cy = cr.istft(ct, 8, onesided=False, return_complex=True, length=30)
    ty = torch.istft(tt, 8, onesided=False, return_complex=True, length=30)
    assert cy.dtype == cr.complex128
    np.testing.assert_allclose(_np(cy), _np(ty), atol=1e-12)
    np.testing.assert_allclose(_np(cy), z, atol=1e-12)


def _both_raise(fn, match, exc=RuntimeError):
    for lib in (torch, cr):
        with pytest.raises(exc, match=match):
            fn(lib)


def test_stft_errors_like_torch():
    x = _rng().standard_normal(20)

    def go(**kw):
        return lambda lib: lib.stft(lib.tensor(x), **kw)

    _both_raise(go(n_fft=8), "requires the return_complex parameter be given for real inputs")
    _both_raise(go(n_fft=30, center=False, return_complex=True),
                r"expected 0 < n_fft < 20, but got n_fft=30")
    _both_raise(go(n_fft=8, hop_length=0, return_complex=True),
                r"expected hop_length > 0, but got hop_length=0")
    _both_raise(go(n_fft=8, win_length=9, return_complex=True),
                r"expected 0 < win_length <= n_fft, but got win_length=9")
    _both_raise(lambda lib: lib.stft(lib.tensor(x), 8, window=lib.ones(7, dtype=lib.float64),
                                     return_complex=True),
                r"expected a 1D window tensor of size equal to win_length=8")
    _both_raise(lambda lib: lib.stft(lib.tensor(x).view(1, 1, 20), 8, return_complex=True),
                "expected a 1D or 2D tensor")
    _both_raise(lambda lib: lib.stft(lib.arange(20), 8, return_complex=True),
                "expected a tensor of floating point or complex values")
    _both_raise(lambda lib: lib.stft(lib.tensor(x + 0j), 8, onesided=True, return_complex=True),
                "Cannot have onesided output if window or input is complex")
    _both_raise(go(n_fft=8, pad_mode="foo", return_complex=True),
                "Unrecognised padding mode foo", NotImplementedError)
    _both_raise(go(n_fft=8, align_to_window=True, return_complex=True),
                "align_to_window should only be set when center = false", (ValueError,
                                                                           RuntimeError))


def test_istft_errors_like_torch():
    x = _rng().standard_normal(20)

    def spec(lib, onesided=True):
        return lib.stft(lib.tensor(x), 8, return_complex=True, onesided=onesided)

    _both_raise(lambda lib: lib.istft(lib.view_as_real(spec(lib)), 8),
                "istft requires a complex-valued input tensor")
    _both_raise(lambda lib: lib.istft(spec(lib), 8, hop_length=9),
                r"expected 0 < hop_length <= win_length")
    _both_raise(lambda lib: lib.istft(spec(lib), 8, win_length=9),
                r"expected 0 < win_length <= n_fft")
    _both_raise(lambda lib: lib.istft(spec(lib), 8, window=lib.ones(7, dtype=lib.float64)),
                "Invalid window shape")
    _both_raise(lambda lib: lib.istft(spec(lib), 10),
                r"to match n_fft / 2 \+ 1 when onesided=True, but got 5")
    _both_raise(lambda lib: lib.istft(spec(lib), 8, onesided=False),
                "to match n_fft when onesided=False, but got 5")
    _both_raise(lambda lib: lib.istft(spec(lib), 8, return_complex=True),
                "Cannot have onesided output")
    _both_raise(lambda lib: lib.istft(spec(lib)[None, None], 8),
                "expected a tensor with 3 or 4 dimensions, but got 5")
    _both_raise(lambda lib: lib.istft(spec(lib)[:, :0], 8), "input tensor cannot be empty")
    # the window envelope: a Hann window without centring is zero at the first sample
    _both_raise(lambda lib: lib.istft(spec(lib), 8, center=False,
                                      window=lib.hann_window(8, dtype=lib.float64)),
                "window overlap add min")
    _both_raise(lambda lib: lib.istft(spec(lib), 8, window=lib.zeros(8, dtype=lib.float64)),
                "window overlap add min")
