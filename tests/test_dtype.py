"""Dtypes and PyTorch's type promotion, compared with torch over every pair of dtypes."""
import itertools
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule import _dtype

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
         "complex64", "complex128"]
SCALARS = [True, 3, -2.5, 1 + 2j]


def _value(name):
    return {"bool": [True, False]}.get(name, [1, 2])


def _tensors(lib, name, zero_dim=False):
    vals = _value(name)
    return lib.tensor(vals[0] if zero_dim else vals, dtype=getattr(lib, name))


def _tnp(t):
    import torch

    return (t.to(torch.complex64) if t.dtype == torch.complex32 else t).numpy()


def _name(dt) -> str:
    # NumPy has no complex32 (torch's float16 + complex 0-d result): chainrule uses complex64
    name = repr(dt).split(".")[1]
    return "complex64" if name == "complex32" else name


@pytest.mark.torch
@pytest.mark.parametrize("a,b", list(itertools.product(NAMES, NAMES)))
def test_promote_types_matches_torch(a, b):
    import torch

    ours = _dtype.promote_types(getattr(cr, a).np, getattr(cr, b).np)
    assert _dtype.from_numpy_dtype(ours).name == _name(torch.promote_types(
        getattr(torch, a), getattr(torch, b)))


@pytest.mark.torch
@pytest.mark.parametrize("a,b", list(itertools.product(NAMES, NAMES)))
@pytest.mark.parametrize("dims", ["dim-dim", "dim-0d", "0d-dim", "0d-0d"])
def test_tensor_tensor_add_and_mul_dtype(a, b, dims):
    import torch

    za, zb = dims.startswith("0d"), dims.endswith("0d")
    for op in ("add", "mul"):
        theirs = getattr(torch, op)(_tensors(torch, a, za), _tensors(torch, b, zb))
        ours = getattr(cr, op)(_tensors(cr, a, za), _tensors(cr, b, zb))
        assert ours.dtype.name == _name(theirs.dtype), op
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.numpy(), _tnp(theirs))


@pytest.mark.torch
@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("s", SCALARS, ids=["bool", "int", "float", "complex"])
@pytest.mark.parametrize("zero_dim", [False, True])
def test_tensor_scalar_dtype(a, s, zero_dim):
    import torch

    for op in ("add", "mul"):
        for swap in (False, True):
            tt, ct = _tensors(torch, a, zero_dim), _tensors(cr, a, zero_dim)
            if a == "uint8" and isinstance(s, (int, float)) and s < 0:
                continue
            theirs = getattr(torch, op)(tt, s) if not swap else (s + tt if op == "add" else s * tt)
            ours = getattr(cr, op)(ct, s) if not swap else (s + ct if op == "add" else s * ct)
            assert ours.dtype.name == _name(theirs.dtype), (op, swap)
            np.testing.assert_allclose(ours.numpy(), _tnp(theirs), rtol=1e-3)


@pytest.mark.torch
@pytest.mark.parametrize("a,b", list(itertools.product(
    ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"], repeat=2)))
def test_true_division_dtype(a, b):
    import torch

    def den(lib):  # no zero divisor: the dtype is the point here
        return lib.tensor([True, True]) if b == "bool" else _tensors(lib, b)

    theirs = _tensors(torch, a) / den(torch)
    ours = _tensors(cr, a) / den(cr)
    assert ours.dtype.name == _name(theirs.dtype)


@pytest.mark.torch
@pytest.mark.parametrize("default", ["float32", "float64"])
def test_default_dtype_drives_scalar_promotion(default):
    import torch

    old_cr, old_t = cr.get_default_dtype(), torch.get_default_dtype()
    try:
        cr.set_default_dtype(getattr(cr, default))
        torch.set_default_dtype(getattr(torch, default))
        cases = [lambda L: L.tensor([1, 2]) * 1.5, lambda L: L.tensor([1.0]),
                 lambda L: L.tensor([True]) + 0.5, lambda L: L.tensor([1, 2]) / 2,
                 lambda L: L.tensor(2.0), lambda L: L.ones(2), lambda L: L.tensor([1j]),
                 lambda L: L.tensor([1, 2]) * 1j, lambda L: L.arange(0.0, 2.0)]
        for f in cases:
            assert f(cr).dtype.name == _name(f(torch).dtype)
        assert _name(torch.get_default_dtype()) == cr.get_default_dtype().name
    finally:
        cr.set_default_dtype(old_cr)
        torch.set_default_dtype(old_t)


@pytest.mark.torch
def test_set_default_dtype_rejects_non_float():
    import torch

    msgs = []
    for lib in (cr, torch):
        for bad in (lib.int64, lib.complex64, lib.bool):
            with pytest.raises(TypeError) as e:
                lib.set_default_dtype(bad)
            msgs.append(str(e.value))
        assert lib.get_default_dtype() == lib.float32
    assert msgs[:3] == msgs[3:]


@pytest.mark.torch
def test_dtype_attributes_match_torch():
    import torch

    for name in NAMES:
        ours, theirs = getattr(cr, name), getattr(torch, name)
        assert ours.is_floating_point == theirs.is_floating_point, name
        assert ours.is_complex == theirs.is_complex, name
        assert ours.is_signed == theirs.is_signed, name
        assert ours.itemsize == theirs.itemsize, name
        assert repr(ours) == repr(theirs)
        assert str(ours) == str(theirs)


@pytest.mark.torch
def test_aliases_match_torch():
    import torch

    for alias in ["half", "float", "double", "short", "int", "long", "cfloat", "cdouble"]:
        assert getattr(cr, alias).name == _name(getattr(torch, alias)), alias


def test_dtype_pickles_as_singleton():
    for name in NAMES:
        d = getattr(cr, name)
        assert pickle.loads(pickle.dumps(d)) is d


def test_to_dtype_accepts_python_and_numpy_types():
    assert _dtype.to_dtype(float) is cr.float64
    assert _dtype.to_dtype(int) is cr.int64
    assert _dtype.to_dtype(bool) is cr.bool
    assert _dtype.to_dtype(complex) is cr.complex128
    assert _dtype.to_dtype(np.float32) is cr.float32
    assert _dtype.to_dtype("int16") is cr.int16
    with pytest.raises(TypeError):
        _dtype.to_dtype("not a dtype")


@pytest.mark.torch
def test_tensor_dtype_conversions_match_torch():
    import torch

    for method in ["float", "double", "half", "long", "int", "short", "bool", "byte", "char"]:
        ours = getattr(cr.tensor([1.5, 0.0, -2.0]), method)()
        theirs = getattr(torch.tensor([1.5, 0.0, -2.0]), method)()
        assert ours.dtype.name == _name(theirs.dtype), method
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert cr.tensor([1, 2]).to(cr.float64).dtype is cr.float64
    assert cr.tensor([1, 2]).to(cr.zeros(1)).dtype is cr.float32


@pytest.mark.torch
@pytest.mark.parametrize("a,b", list(itertools.product(NAMES, NAMES)))
def test_public_promote_types_and_can_cast(a, b):
    import torch

    ours = _dtype.api_promote_types(getattr(cr, a), getattr(cr, b))
    assert ours.name == _name(torch.promote_types(getattr(torch, a), getattr(torch, b)))
    assert _dtype.api_can_cast(getattr(cr, a), getattr(cr, b)) == torch.can_cast(
        getattr(torch, a), getattr(torch, b))


@pytest.mark.torch
@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("other", ["int32 tensor", "float64 0-d", "int", "float", "bool",
                                   "complex"])
def test_public_result_type(a, other):
    import torch

    def make(L):
        return {"int32 tensor": lambda: L.tensor([1, 2], dtype=L.int32),
                "float64 0-d": lambda: L.tensor(1.0, dtype=L.float64),
                "int": lambda: 3, "float": lambda: 2.5, "bool": lambda: True,
                "complex": lambda: 1j}[other]()

    ours = _dtype.api_result_type(_tensors(cr, a), make(cr))
    theirs = torch.result_type(_tensors(torch, a), make(torch))
    assert ours.name == _name(theirs)
    ours = _dtype.api_result_type(make(cr), _tensors(cr, a, zero_dim=True))
    theirs = torch.result_type(make(torch), _tensors(torch, a, zero_dim=True))
    assert ours.name == _name(theirs)


@pytest.mark.torch
def test_tensor_type_string_matches_torch():
    import torch

    for name in NAMES:
        ours = _tensors(cr, name).type()
        theirs = _tensors(torch, name).type()
        assert ours == theirs, name


BOOL_ARITH = {
    "bool - int tensor": lambda L: L.tensor([True]) - L.tensor([1]),
    "float tensor - bool": lambda L: L.tensor([1.5]) - L.tensor([True]),
    "bool - 1": lambda L: L.tensor([True]) - 1,
    "int tensor - True": lambda L: L.tensor([2]) - True,
    "bool // bool": lambda L: L.tensor([True]) // L.tensor([True]),
    "bool % bool": lambda L: L.tensor([True]) % L.tensor([True]),
    "bool ** bool": lambda L: L.tensor([True]) ** L.tensor([True]),
    "bool ** 2": lambda L: L.tensor([True]) ** 2,
    "bool ** True": lambda L: L.tensor([True]) ** True,
    "True ** bool": lambda L: True ** L.tensor([True]),
    "bool ** int tensor": lambda L: L.tensor([True]) ** L.tensor([2]),
    "bool % 2": lambda L: L.tensor([True, False]) % 2,
    "fmod bools": lambda L: L.fmod(L.tensor([True]), L.tensor([True])),
    "torch.sub bool, 1": lambda L: L.sub(L.tensor([True]), 1),
    "1 - bool": lambda L: 1 - L.tensor([True]),
}


BOOL_ARITH_OK = {
    "bool - bool": lambda L: L.tensor([True]) - L.tensor([False]),
    "bool + bool": lambda L: L.tensor([True]) + L.tensor([False]),
    "bool * 2.5": lambda L: L.tensor([True]) * 2.5,
    "bool / bool": lambda L: L.tensor([True]) / L.tensor([True]),
    "~bool": lambda L: ~L.tensor([True, False]),
}


def _compare_result_or_error(f):
    import torch

    try:
        theirs = f(torch)
    except Exception as e:  # noqa: BLE001 - the type and message are compared below
        with pytest.raises(type(e)) as ours:
            f(cr)
        assert str(ours.value) == str(e)
        return
    ours = f(cr)
    assert ours.dtype.name == _name(theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.torch
@pytest.mark.parametrize("name", list(BOOL_ARITH_OK))
def test_bool_arithmetic_that_works(name):
    _compare_result_or_error(BOOL_ARITH_OK[name])


@pytest.mark.torch
@pytest.mark.parametrize("name", list(BOOL_ARITH))
def test_bool_arithmetic_matches_torch(name):
    _compare_result_or_error(BOOL_ARITH[name])
