"""Tensor API details compared with PyTorch: type strings, Size, formatting, layout,
device queries, in-place shape methods, unfold, inference tensors, complex gradients."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch


def _err(fn, *args, **kwargs):
    """(exception class name, message) raised by ``fn``, or None."""
    try:
        fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - compared with torch's
        return type(e).__name__, str(e)
    return None


def _close(ours, theirs, rtol=1e-6, atol=1e-7):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol,
                               atol=atol)


# -- type strings ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["torch.DoubleTensor", "torch.LongTensor", "torch.IntTensor",
                                  "torch.FloatTensor", "torch.BoolTensor", "torch.HalfTensor",
                                  "torch.ByteTensor"])
def test_type_with_type_string(name):
    data = [0.0, 1.5, -2.0]
    ours, theirs = cr.tensor(data).type(name), torch.tensor(data).type(name)
    assert ours.type() == theirs.type()
    _close(ours, theirs)


def test_type_with_dtype_and_legacy_class_and_errors():
    assert cr.ones(2).type(cr.float64).type() == torch.ones(2).type(torch.float64).type()
    assert cr.ones(2).type(cr.DoubleTensor).dtype == cr.float64
    assert cr.ones(2, dtype=cr.int64).type() == torch.ones(2, dtype=torch.int64).type()
    assert _err(cr.ones(2).type, "foo") == _err(torch.ones(2).type, "foo")
    assert _err(cr.ones(2).type, "torch.float64") == _err(torch.ones(2).type, "torch.float64")


# -- Size --------------------------------------------------------------------------------
def test_size_slices_and_concatenation_stay_sizes():
    ours, theirs = cr.ones(2, 3, 4).shape, torch.ones(2, 3, 4).shape
    for f in (lambda s: s[1:], lambda s: s[:-1], lambda s: s[::2], lambda s: s + (5,),
              lambda s: (5,) + s, lambda s: s * 2):
        o, t = f(ours), f(theirs)
        assert type(o).__name__ == type(t).__name__ == "Size"
        assert repr(o) == repr(t) and o.numel() == t.numel()
    assert type(ours[0]) is type(theirs[0]) is int


# -- formatting --------------------------------------------------------------------------
@pytest.mark.parametrize("spec", ["", ".4f", ">8", "e"])
def test_format_0d_tensor(spec):
    for v in (0.123456, 3, 2.5):
        assert format(cr.tensor(v), spec) == format(torch.tensor(v), spec)


def test_format_nd_tensor():
    assert f"{cr.ones(2)}" == f"{torch.ones(2)}"
    assert _err(format, cr.ones(2), ".2f")[0] == _err(format, torch.ones(2), ".2f")[0]


# -- scalar conversion errors ------------------------------------------------------------
def test_scalar_conversion_errors():
    for f in (float, int, complex, bool, lambda t: t.item()):
        assert _err(f, cr.ones(2)) == _err(f, torch.ones(2))
    assert float(cr.tensor([2.5])) == float(torch.tensor([2.5]))
    assert int(cr.tensor([[7]])) == int(torch.tensor([[7]]))


# -- device and layout queries -----------------------------------------------------------
def test_device_queries_and_layout():
    o, t = cr.ones(2), torch.ones(2)
    assert (o.is_cpu, o.is_cuda, o.get_device(), o.is_meta, o.is_sparse) == \
        (t.is_cpu, t.is_cuda, t.get_device(), t.is_meta, t.is_sparse)
    assert str(o.layout) == str(t.layout) and o.layout is cr.strided


def test_cuda_requests_raise_assertion_error():
    for f in (lambda L: L.ones(2).cuda(), lambda L: L.ones(2).to("cuda"),
              lambda L: L.ones(2).to("cuda:0"), lambda L: L.ones(2).to(device="cuda"),
              lambda L: L.ones(2).type("torch.cuda.FloatTensor")):
        ours = _err(f, cr)
        assert ours is not None and ours[0] == "AssertionError"
        assert ours[0] == _err(f, torch)[0] or "CUDA" in _err(f, torch)[1]


# -- in-place shape methods and new() ----------------------------------------------------
@pytest.mark.parametrize("name,args", [("squeeze_", ()), ("squeeze_", (0,)),
                                       ("unsqueeze_", (1,)), ("t_", ()),
                                       ("transpose_", (0, 1)), ("resize_", (3, 2)),
                                       ("resize_", (2,)), ("resize_", ((2, 5),))])
def test_inplace_shape_methods(name, args):
    data = np.arange(6.0).reshape(1, 6) if name.startswith("squeeze") else \
        np.arange(6.0).reshape(2, 3)
    o, t = cr.tensor(data), torch.tensor(data)
    ro, rt = getattr(o, name)(*args), getattr(t, name)(*args)
    assert ro is o and rt is t
    assert tuple(o.shape) == tuple(t.shape)
    n = min(t.numel(), data.size)  # resize_ leaves new elements uninitialised in torch
    np.testing.assert_array_equal(o.numpy().reshape(-1)[:n], t.numpy().reshape(-1)[:n])


@pytest.mark.parametrize("name,args", [("squeeze_", ()), ("unsqueeze_", (0,)), ("t_", ()),
                                       ("transpose_", (1, 0))])
def test_inplace_shape_methods_gradient(name, args):
    data = np.arange(1.0, 7.0).reshape(1, 6) if name == "squeeze_" else \
        np.arange(1.0, 7.0).reshape(2, 3)
    w = np.arange(6.0).reshape(-1)

    def run(L):
        x = L.tensor(data, requires_grad=True)
        y = x * 2
        getattr(y, name)(*args)
        (y.reshape(-1) * L.tensor(w)).sum().backward()
        return y, x.grad

    (yo, go), (yt, gt) = run(cr), run(torch)
    _close(yo, yt)
    _close(go, gt)
    assert _err(getattr(cr.ones(1, 2, requires_grad=True), name), *args)[0] == \
        _err(getattr(torch.ones(1, 2, requires_grad=True), name), *args)[0]


def test_resize_refuses_tensors_requiring_grad():
    assert _err(cr.ones(2, requires_grad=True).clone().resize_, 3) == \
        _err(torch.ones(2, requires_grad=True).clone().resize_, 3)


def test_legacy_new():
    for L in (cr, torch):
        x = L.ones(2, 3, dtype=L.float64)
        assert str(x.new(2, 3).dtype) == "torch.float64" and tuple(x.new(2, 3).shape) == (2, 3)
        assert tuple(x.new().shape) == (0,)
        assert tuple(x.new(L.Size([4])).shape) == (4,)
    _close(cr.ones(1, dtype=cr.int32).new([1, 2]), torch.ones(1, dtype=torch.int32).new([1, 2]))


# -- unfold ------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,dim,size,step", [((10,), 0, 3, 2), ((10,), 0, 4, 4),
                                                 ((3, 7, 2), 1, 3, 1), ((3, 7, 2), -1, 2, 1),
                                                 ((4, 5), 0, 4, 3), ((6,), 0, 0, 1),
                                                 ((), 0, 1, 1)])
def test_unfold_values_and_gradients(shape, dim, size, step):
    data = np.random.default_rng(0).standard_normal(shape)

    def run(L):
        x = L.tensor(data, requires_grad=True)
        y = x.unfold(dim, size, step)
        w = L.tensor(np.arange(y.numel(), dtype=np.float64).reshape(tuple(y.shape)))
        loss = (y * y * w).sum()
        (g,) = L.autograd.grad(loss, x, create_graph=True)
        (g * g).sum().backward()  # second order: through unfold's backward
        return y, g, x.grad, type(y.grad_fn).__name__

    (yo, go, ggo, no), (yt, gt, ggt, nt) = run(cr), run(torch)
    assert no == nt
    _close(yo, yt)
    _close(go, gt)
    _close(ggo, ggt)
    assert cr.tensor(data).unfold(dim, size, step).stride() == \
        torch.tensor(data).unfold(dim, size, step).stride()


def test_unfold_patches_and_errors():
    img = np.arange(36.0).reshape(1, 6, 6)
    _close(cr.tensor(img).unfold(1, 3, 3).unfold(2, 3, 3),
           torch.tensor(img).unfold(1, 3, 3).unfold(2, 3, 3))
    for args in ((0, 11, 1), (0, 3, 0), (1, 3, 1), (0, -1, 1)):
        assert _err(cr.arange(10.0).unfold, *args) == _err(torch.arange(10.0).unfold, *args)


def test_unfold_forward_mode():
    data = np.arange(8.0)
    tangent = np.linspace(-1, 1, 8)

    def run(L):
        import importlib
        fwAD = importlib.import_module(L.__name__ + ".autograd.forward_ad")
        with fwAD.dual_level():
            x = fwAD.make_dual(L.tensor(data), L.tensor(tangent))
            return fwAD.unpack_dual(x.unfold(0, 3, 2) * 2).tangent

    _close(run(cr), run(torch))


# -- inference tensors -------------------------------------------------------------------
def test_results_of_ops_under_inference_mode_are_inference_tensors():
    def run(L):
        F = L.nn.functional
        x = L.ones(2, requires_grad=True)
        y = L.ones(2)
        with L.inference_mode():
            made = [x * 2, y * y, 2.0 * y, y + y, y / 3, F.relu(x), y.exp(), L.ones(2),
                    x.sum(), y - 1.5]
            with L.inference_mode(False):
                plain = y * 2
        after = y * 2
        return ([t.is_inference() for t in made], plain.is_inference(), after.is_inference(),
                x.is_inference(), _err(made[1].add_, 1) is not None)

    assert run(cr) == run(torch)


def test_inference_mode_nested_and_threads():
    import threading

    seen = {}
    with cr.inference_mode():
        with cr.inference_mode():
            a = cr.ones(2) * 2
        b = cr.ones(2) * 2

        def other():  # another thread is not in inference mode
            seen["c"] = (cr.ones(2) * 2).is_inference()

        th = threading.Thread(target=other)
        th.start()
        th.join()
    assert (a.is_inference(), b.is_inference(), seen["c"],
            (cr.ones(2) * 2).is_inference()) == (True, True, False, False)


# -- complex gradients: PyTorch's conjugate convention ----------------------------------
_Z = np.array([1 + 2j, 0.5 - 1j])
_W = np.array([1j, 1 + 1j])
_R = np.array([1.0, 2.0])

_COMPLEX_CASES = {
    "mul_real_complex": (lambda L, a, b: a * b, [_R, _W]),
    "mul_complex_real": (lambda L, a, b: a * b, [_W, _R]),
    "mul_complex": (lambda L, a, b: a * b, [_Z, _W]),
    "div_real_complex": (lambda L, a, b: a / b, [_R, _W]),
    "div_complex": (lambda L, a, b: a / b, [_Z, _W]),
    "add_alpha": (lambda L, a, b: L.add(a, b, alpha=2), [_Z, _W]),
    "rsub_number": (lambda L, a: 1j - a, [_R]),
    "broadcast": (lambda L, a, b: a.reshape(2, 1) / b, [_Z, _W]),
    "mul_complex_number": (lambda L, a: a * (2 + 1j), [_R]),
    "rdiv_complex_number": (lambda L, a: (2 + 1j) / a, [_Z]),
    "exp": (lambda L, a: a.exp(), [_Z]), "log": (lambda L, a: a.log(), [_Z]),
    "sin": (lambda L, a: a.sin(), [_Z]), "tanh": (lambda L, a: a.tanh(), [_Z]),
    "sigmoid": (lambda L, a: a.sigmoid(), [_Z]), "sqrt": (lambda L, a: a.sqrt(), [_Z]),
    "rsqrt": (lambda L, a: a.rsqrt(), [_Z]), "reciprocal": (lambda L, a: a.reciprocal(), [_Z]),
    "pow_number": (lambda L, a: a ** 2.5, [_Z]),
    "pow_complex_number": (lambda L, a: a ** (1 + 1j), [_R]),
    "pow_tensors": (lambda L, a, b: a ** b, [_Z, _W]), "rpow": (lambda L, a: (1 + 1j) ** a, [_Z]),
    "square": (lambda L, a: a.square(), [_Z]), "atanh": (lambda L, a: a.atanh(), [_Z]),
    "sgn": (lambda L, a: a.sgn() * (2 + 1j), [_Z]),
    "abs": (lambda L, a: a.abs() * a.abs(), [_Z]),
    "addcmul": (lambda L, a, b: L.addcmul(a, a, b, value=0.5), [_Z, _W]),
    "lerp": (lambda L, a, b: L.lerp(a, b, 0.3), [_Z, _W]),
    "conj": (lambda L, a: a.conj() * 1j + a, [_Z]),
    "real_imag": (lambda L, a: (a * a).real + L.imag(a), [_Z]),
    "angle": (lambda L, a: (a * a).angle(), [_Z]),
}


@pytest.mark.parametrize("create_graph", [False, True], ids=["first", "second"])
@pytest.mark.parametrize("name", sorted(_COMPLEX_CASES))
def test_complex_gradients_follow_torch(name, create_graph):
    f, vals = _COMPLEX_CASES[name]

    def run(L):
        xs = [L.tensor(v, requires_grad=True) for v in vals]
        out = f(L, *xs)
        if out.is_complex():
            out = out.abs()
        out = (out * L.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)))
               ).sum()
        if create_graph:
            gs = L.autograd.grad(out, xs, create_graph=True)
            sum((g.abs() ** 2).sum() for g in gs).backward()
        else:
            out.backward()
        return [x.grad for x in xs]

    for o, t in zip(run(cr), run(torch)):
        _close(o, t, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["exp", "sgn", "abs", "div", "angle", "real", "sigmoid"])
def test_complex_forward_mode(name):
    f = {"exp": lambda L, x: x.exp(), "sgn": lambda L, x: x.sgn(), "abs": lambda L, x: x.abs(),
         "div": lambda L, x: L.tensor(_W) / x, "angle": lambda L, x: x.angle(),
         "real": lambda L, x: x.real * L.tensor(_W), "sigmoid": lambda L, x: x.sigmoid()}[name]
    tangent = np.array([0.3 - 0.2j, -1 + 0.5j])

    def run(L):
        fw = L.autograd.forward_ad
        with fw.dual_level():
            x = fw.make_dual(L.tensor(_Z), L.tensor(tangent))
            return fw.unpack_dual(f(L, x)).tangent

    _close(run(cr), run(torch))


def test_complex_parts():
    z = _Z * 1.5
    o, t = cr.tensor(z), torch.tensor(z)
    for f in (lambda L, x: x.real, lambda L, x: x.imag, lambda L, x: x.conj().resolve_conj(),
              lambda L, x: x.angle(), lambda L, x: L.real(x), lambda L, x: L.imag(x),
              lambda L, x: L.conj_physical(x), lambda L, x: L.angle(x.real - 2)):
        _close(f(cr, o), f(torch, t))
    r, rt = cr.tensor(_R), torch.tensor(_R)
    assert r.real is r and r.conj() is r and rt.real is rt and rt.conj() is rt
    assert _err(lambda: r.imag) == _err(lambda: rt.imag)
    assert o.is_complex() and not r.is_complex() and not o.is_conj()
    o.real.mul_(2)  # a view: writes reach the complex tensor
    t.real.mul_(2)
    _close(o, t)
    x = cr.tensor(_Z, requires_grad=True)
    assert type(x.real.grad_fn).__name__ == type(torch.tensor(_Z, requires_grad=True).real
                                                 .grad_fn).__name__


# -- keyword spellings ---------------------------------------------------------------------
def test_keyword_spellings_of_shape_methods():
    data = np.arange(6.0).reshape(2, 3)
    for f in (lambda L, x: L.stack([x, x], axis=1), lambda L, x: x.permute(dims=(1, 0)),
              lambda L, x: x.reshape(shape=(3, 2)), lambda L, x: x.view(size=(3, 2)),
              lambda L, x: x.reshape((1, 6)), lambda L, x: x.view(-1, 2)):
        _close(f(cr, cr.tensor(data)), f(torch, torch.tensor(data)))


# -- device objects ------------------------------------------------------------------------
@pytest.mark.parametrize("args", [("cpu",), ("cpu", 0), ("cpu:1",), ("cuda",), ("cuda:0",),
                                  ("cuda", 1)])
def test_device_objects_build_like_torch(args):
    o, t = cr.device(*args), torch.device(*args)
    assert (o.type, o.index, str(o), repr(o)) == (t.type, t.index, str(t), repr(t))
    assert (o == cr.device("cuda:0")) == (t == torch.device("cuda:0"))
    assert (o == cr.device("cpu")) == (t == torch.device("cpu"))
    assert hash(o) == hash(cr.device(*args))


@pytest.mark.parametrize("args", [("foo",), ("cuda:x",), ("cuda:0", 1), ("cpu", -1)])
def test_bad_device_strings_raise_like_torch(args):
    assert _err(cr.device, *args) == _err(torch.device, *args)


def test_using_a_cuda_device_raises_assertion_error():
    d = cr.device("cuda", 0)
    for f in (lambda: cr.ones(2).to(d), lambda: cr.zeros(2, device=d),
              lambda: cr.ones(2).to(d, cr.float64), lambda: cr.ones(2).cuda()):
        assert _err(f) == ("AssertionError", "Torch not compiled with CUDA enabled")


@pytest.mark.parametrize("make,shape", [
    (lambda L: L.ones(2, 3).t(), (6,)), (lambda L: L.ones(2, 3).transpose(0, 1), (-1,)),
    (lambda L: L.ones(2, 3).t(), (3, 2)), (lambda L: L.ones(4, 6)[:, :3], (4, 3)),
    (lambda L: L.ones(4, 6)[:, :3], (2, 2, 3)), (lambda L: L.ones(4, 6)[:, :3], (12,)),
    (lambda L: L.ones(2, 3, 4).transpose(0, 1), (3, 8)),
    (lambda L: L.ones(2, 3, 4).permute(1, 0, 2), (3, 2, 2, 2)),
    (lambda L: L.ones(2, 3), (7,))])
def test_view_of_non_contiguous_tensors(make, shape):
    ours, theirs = _err(make(cr).view, *shape), _err(make(torch).view, *shape)
    assert ours == theirs
    if theirs is None:
        assert tuple(make(cr).view(*shape).shape) == tuple(make(torch).view(*shape).shape)


@pytest.mark.torch
def test_conjugate_transposes_conversions_and_split_spellings_like_torch():
    import torch

    res = []
    for L in (cr, torch):
        x = L.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], dtype=L.float64)
        z = L.tensor([[1 + 2j, 3j], [2.0 + 0j, -1j]])
        res.append([x.mH.numpy(), x.H.numpy(), x.adjoint().numpy(), z.mH.resolve_conj().numpy(),
                    z.H.resolve_conj().numpy(),
                    [p.numpy() for p in x.split_with_sizes([1, 2], dim=1)],
                    [p.numpy() for p in x.unsafe_chunk(3, 1)],
                    [p.numpy() for p in x.unsafe_split(2, 1)],
                    x.narrow_copy(1, 1, 2).numpy(), str(x.cdouble().dtype),
                    str(x.cfloat().dtype), x.output_nr, x.is_pinned(), x.is_shared(),
                    x.to_dense() is x, x.hardshrink(1.0).numpy(),
                    x.prelu(L.tensor([0.25], dtype=L.float64)).numpy()])
        for bad in (L.ones(2, 2, 2), L.ones(3)):
            with pytest.raises(RuntimeError) as e:
                bad.H  # noqa: B018 - the property raises
            res[-1].append(str(e.value))
    ours, theirs = res
    for a, b in zip(ours, theirs):
        if isinstance(a, list):
            for u, v in zip(a, b):
                np.testing.assert_array_equal(u, v)
        elif isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b


@pytest.mark.torch
def test_complex_polar_range_pdist_at_top_level_like_torch():
    import warnings

    import torch

    res = []
    for L in (cr, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            r = [L.range(1, 4).numpy(), L.range(0, 5, 2, dtype=L.long).numpy(),
                 L.range(1, 2, 0.5).numpy()]
        a = L.tensor([1.0, 2.0], requires_grad=True)
        b = L.tensor([0.5, -1.0], requires_grad=True)
        z = L.complex(a, b)
        (z.abs() ** 2).sum().backward()
        r += [str(z.dtype), z.detach().numpy(), a.grad.numpy(), b.grad.numpy(),
              L.polar(L.tensor([2.0]), L.tensor([0.5])).numpy(),
              L.pdist(L.tensor([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]])).numpy()]
        for bad in ((L.ones(2, dtype=L.float64), L.ones(2)), (L.ones(2, dtype=L.long),) * 2):
            with pytest.raises(RuntimeError) as e:
                L.complex(*bad)
            r.append(str(e.value))
        res.append(r)
    for u, v in zip(*res):
        if isinstance(u, np.ndarray):
            np.testing.assert_allclose(u, v, rtol=1e-6)
        else:
            assert u == v


@pytest.mark.torch
def test_view_as_real_and_complex_in_a_rotary_embedding_like_torch():
    """The rotary-embedding idiom: pairs of features as complex numbers, rotated, back to real;
    values, gradients to second order, node names and errors compared with torch."""
    import torch

    rng = np.random.default_rng(0)
    xa, ga, th = rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 4, 2)), \
        rng.standard_normal((3, 4))
    res = []
    for L in (cr, torch):
        x = L.tensor(xa, requires_grad=True)
        z = L.view_as_complex(x)
        y = L.view_as_real(z * L.polar(L.ones(3, 4, dtype=L.float64), L.tensor(th)) * z)
        (g1,) = L.autograd.grad((y * L.tensor(ga)).sum(), x, create_graph=True)
        (g2,) = L.autograd.grad((g1 ** 2).sum(), x)
        errs = []
        for bad in (lambda: L.view_as_complex(L.ones(3, 3)), lambda: L.view_as_real(L.ones(3)),
                    lambda: L.view_as_complex(L.ones(3, 2, dtype=L.long))):
            with pytest.raises(RuntimeError) as e:
                bad()
            errs.append(str(e.value))
        res.append((y.detach().numpy(), g1.detach().numpy(), g2.numpy(), z.grad_fn.name(),
                    y.grad_fn.name(), str(z.dtype), errs))
    ours, theirs = res
    for a, b in zip(ours[:3], theirs[:3]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert ours[3:] == theirs[3:]


@pytest.mark.torch
def test_as_strided_windows_and_gradients_like_torch():
    import torch

    rng = np.random.default_rng(1)
    xa, wa = rng.standard_normal(10), rng.standard_normal((3, 4))
    res = []
    for L in (cr, torch):
        x = L.tensor(xa, requires_grad=True)
        y = x.as_strided((3, 4), (2, 1), 1)
        (g1,) = L.autograd.grad(((y * L.tensor(wa)) ** 2).sum(), x, create_graph=True)
        (g2,) = L.autograd.grad(g1.sum(), x)
        with pytest.raises(RuntimeError) as e:
            x.as_strided((3, 4), (2, 1), 5)
        res.append((y.detach().numpy(), g1.detach().numpy(), g2.numpy(), y.grad_fn.name(),
                    str(e.value),
                    L.as_strided(L.arange(12.0).reshape(3, 4), (2, 2), (4, 1), 1).numpy()))
    ours, theirs = res
    for a, b in zip(ours, theirs):
        if isinstance(a, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-12)
        else:
            assert a == b
    x = cr.tensor(xa, requires_grad=True)
    assert cr.autograd.gradcheck(lambda t: t.as_strided((2, 3), (3, 2), 0), (x,))


@pytest.mark.torch
@pytest.mark.parametrize("kw", [{}, dict(spacing=2.0, dim=1), dict(spacing=(0.5,), dim=1,
                                                                     edge_order=2),
                                dict(dim=(0, 1), spacing=(1.5, 0.25)), dict(dim=-1)])
def test_gradient_values_and_its_own_gradients_like_torch(kw):
    import torch

    xa = np.random.default_rng(0).standard_normal((3, 5))
    res = []
    for L in (cr, torch):
        x = L.tensor(xa, requires_grad=True)
        gs = L.gradient(x, **kw)
        sum((g * g).sum() for g in gs).backward()
        res.append(([g.detach().numpy() for g in gs], x.grad.numpy()))
    for a, b in zip(res[0][0], res[1][0]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12)


@pytest.mark.torch
def test_gradient_with_coordinates_and_errors_like_torch():
    import torch

    res = []
    for L in (cr, torch):
        y = L.tensor([1.0, 2.0, 4.0, 7.0, 11.0], dtype=L.float64)
        c = L.tensor([0.0, 1.0, 3.0, 4.0, 7.5], dtype=L.float64)
        with pytest.raises(RuntimeError) as e:
            L.gradient(L.tensor([1.0]))
        res.append((L.gradient(y, spacing=[c])[0].numpy(), str(e.value)))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    assert res[0][1] == res[1][1]
    x = cr.tensor(np.random.default_rng(1).standard_normal((4, 3)), requires_grad=True)
    assert cr.autograd.gradcheck(lambda t: cr.gradient(t, edge_order=2)[0], (x,))


def test_set_num_threads_sets_numpys_blas_threads():
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(1)
        assert cr.get_num_threads() == 1
        cr.set_num_threads(2)
        assert cr.get_num_threads() == 2
        with pytest.raises(RuntimeError):
            cr.set_num_threads(0)
    finally:
        cr.set_num_threads(before)
