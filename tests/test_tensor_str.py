"""Tensor printing: repr compared string-for-string with PyTorch 2.13."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import _tensor_str

pytestmark = pytest.mark.torch

rng = np.random.default_rng(0)

CASES = {
    "ints": np.array([1, 2, 3]),
    "negative ints": np.array([-100, 2, 30]),
    "int 2d": np.arange(-6, 6).reshape(3, 4),
    "int32": np.array([1, -2], dtype=np.int32),
    "uint8": np.array([0, 255], dtype=np.uint8),
    "int8": np.array([[1, -2], [3, 4]], dtype=np.int8),
    "int16": np.array([7], dtype=np.int16),
    "int 0d": np.array(5),
    "floats 4 decimals": np.array([0.1, 0.25, 1 / 3]),
    "integral floats": np.array([1.0, 2.0], dtype=np.float32),
    "integral negative": np.array([-1.0, 20.0, 300.0], dtype=np.float32),
    "zeros": np.zeros(3, dtype=np.float32),
    "negative zero": np.array([-0.0, 1.0], dtype=np.float32),
    "ratio > 1000": np.array([1.0, 1000.5], dtype=np.float32),
    "integral ratio > 1000": np.array([1.0, 10000.0], dtype=np.float32),
    "big >= 1e8": np.array([1.5e8, 2.0], dtype=np.float32),
    "integral big": np.array([1e9], dtype=np.float32),
    "small": np.array([1e-5, 2e-5], dtype=np.float32),
    "small and large": np.array([1e-8, 1.0, 5.0], dtype=np.float32),
    "mixed signs": np.array([[-1.5, 2.25], [3.125, -400.0]], dtype=np.float32),
    "nan inf": np.array([np.nan, np.inf, -np.inf], dtype=np.float32),
    "nan with values": np.array([np.nan, 1.5, -np.inf], dtype=np.float32),
    "nan with ints": np.array([np.nan, 1.0, 2.0], dtype=np.float32),
    "nan with sci": np.array([np.nan, 1e-7, 1.0], dtype=np.float32),
    "bools": np.array([True, False, True]),
    "bool 2d": np.array([[True], [False]]),
    "float 0d": np.array(0.7622, dtype=np.float32),
    "float 0d integral": np.array(3.0, dtype=np.float32),
    "float 0d sci": np.array(1.5e-9, dtype=np.float32),
    "float 0d nan": np.array(np.nan, dtype=np.float32),
    "empty": np.array([], dtype=np.float32),
    "empty int": np.array([], dtype=np.int64),
    "empty float64": np.array([], dtype=np.float64),
    "empty 0x3": np.zeros((0, 3), dtype=np.float32),
    "empty 2x0 int": np.zeros((2, 0), dtype=np.int64),
    "empty 3d": np.zeros((1, 0, 2), dtype=np.float64),
    "float64": np.array([1.5, 2.0]),
    "float64 integral": np.array([[1.0, 2.0]]),
    "float16": np.array([0.1, 2.5], dtype=np.float16),
    "3d": rng.standard_normal((2, 3, 4)).astype(np.float32),
    "4d": rng.standard_normal((2, 2, 2, 3)).astype(np.float32),
    "wide row wraps": rng.standard_normal(30).astype(np.float32),
    "wide 2d wraps": rng.standard_normal((3, 25)).astype(np.float32),
    "wide ints": np.arange(100),
    "wide sci": (rng.standard_normal(20) * 1e6).astype(np.float32),
    "1001 elements": np.arange(1001, dtype=np.float32),
    "summarized 2d": rng.standard_normal((40, 40)).astype(np.float32),
    "summarized 3d": rng.standard_normal((12, 10, 11)).astype(np.float32),
    "summarized few rows": rng.standard_normal((2, 600)).astype(np.float32),
    "summarized ints": np.arange(5000).reshape(50, 100),
    "summarized bools": rng.standard_normal(2000) > 0,
    "summarized uses shown values": np.concatenate(
        [np.ones(3), np.full(1000, 1e-9), np.ones(3)]).astype(np.float32),
    "1000 exactly": np.arange(1000, dtype=np.float32).reshape(10, 100),
    "complex": np.array([1 + 2j, -3.5 - 0.25j], dtype=np.complex64),
    "complex 0d": np.array(1 - 1j, dtype=np.complex64),
    "complex128": np.array([[1 + 0j, 2j]], dtype=np.complex128),
    "single": np.array([42.5], dtype=np.float32),
    "column": rng.standard_normal((4, 1)).astype(np.float32),
}


def _torch_repr(torch, arr):
    return repr(torch.from_numpy(np.array(arr, copy=True)))


@pytest.mark.parametrize("name", list(CASES))
def test_repr_matches_torch(name):
    import torch

    arr = CASES[name]
    assert repr(cr.tensor(arr)) == _torch_repr(torch, arr)


@pytest.mark.parametrize("name", ["floats 4 decimals", "3d", "int 2d", "empty", "float 0d"])
def test_str_and_format_match_torch(name):
    import torch

    arr = CASES[name]
    t = cr.tensor(arr)
    assert str(t) == _torch_repr(torch, arr)
    # f"{t}": the repr, except a 0-d tensor formats its item() (torch's Tensor.__format__)
    assert f"{t}" == f"{torch.from_numpy(np.array(arr, copy=True))}"


def test_default_factories_match_torch():
    import torch

    pairs = [(cr.ones(2, 3), torch.ones(2, 3)), (cr.zeros(4), torch.zeros(4)),
             (cr.arange(5), torch.arange(5)), (cr.eye(3), torch.eye(3)),
             (cr.tensor(True), torch.tensor(True)), (cr.tensor(-7), torch.tensor(-7))]
    for a, b in pairs:
        assert repr(a) == repr(b)


def test_requires_grad_and_grad_fn_suffixes():
    import torch

    w = np.array([[0.5, -1.25], [2.0, 3.0]], dtype=np.float32)
    a, b = cr.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    assert repr(a) == repr(b)
    assert repr(a * 2) == repr(b * 2)
    assert repr(a.sum()) == repr(b.sum())
    assert repr((a + 1).exp()) == repr((b + 1).exp())
    x64 = np.array([1.0, 2.0])
    a, b = cr.tensor(x64, requires_grad=True), torch.tensor(x64, requires_grad=True)
    assert repr(a).replace("chainrule.", "torch.") == repr(b)
    assert repr(a * 3).replace("chainrule.", "torch.") == repr(b * 3)


def test_long_suffix_moves_to_next_line():
    import torch

    for shape in [(2, 8), (2, 7), (11,), (3, 9)]:
        arr = rng.standard_normal(shape).astype(np.float32)
        a, b = cr.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)
        assert repr(a) == repr(b)
        assert repr(a * 2) == repr(b * 2)


def test_dtype_suffix_names_chainrule_dtype():
    # "chainrule." is longer than "torch.": the layout matches torch's where both fit.
    import torch

    arr = np.array([[1.5, -2.0], [3.0, 4.0]])
    a, b = cr.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)
    assert repr(a * 3) == repr(b * 3)
    assert repr(cr.tensor([1, 2], dtype=cr.int32)) == "tensor([1, 2], dtype=torch.int32)"


def test_float64_default_dtype_hides_dtype():
    import torch

    arr = np.array([1.5, 2.0])
    old_cr, old_t = cr.get_default_dtype(), torch.get_default_dtype()
    try:
        cr.set_default_dtype(cr.float64)
        torch.set_default_dtype(torch.float64)
        for a in (arr, arr.astype(np.float32), np.array([], dtype=np.float32)):
            assert repr(cr.tensor(a)) == _torch_repr(torch, a)
    finally:
        cr.set_default_dtype(old_cr)
        torch.set_default_dtype(old_t)


@pytest.mark.parametrize("opts", [
    {"precision": 2}, {"precision": 8}, {"threshold": 5}, {"edgeitems": 1, "threshold": 10},
    {"linewidth": 40}, {"sci_mode": True}, {"sci_mode": False}, {"profile": "short"},
    {"profile": "full"}, {"edgeitems": 0, "threshold": 3},
])
def test_set_printoptions_matches_torch(opts):
    import torch

    arrays = [CASES["3d"], CASES["wide row wraps"], CASES["small and large"],
              CASES["1001 elements"], CASES["summarized 2d"], CASES["int 2d"],
              CASES["integral ratio > 1000"]]
    try:
        cr.set_printoptions(**opts) if hasattr(cr, "set_printoptions") \
            else _tensor_str.set_printoptions(**opts)
        torch.set_printoptions(**opts)
        for arr in arrays:
            assert repr(cr.tensor(arr)) == _torch_repr(torch, arr), opts
    finally:
        _tensor_str.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


def test_printoptions_context_restores():
    before = _tensor_str.get_printoptions()
    with _tensor_str.printoptions(precision=1):
        assert repr(cr.tensor([1.25, 2.5])) == "tensor([1.2, 2.5])"  # Python's rounding
    assert _tensor_str.get_printoptions() == before


def test_unknown_profile_raises():
    with pytest.raises(ValueError):
        _tensor_str.set_printoptions(profile="tiny")


def test_tutorial_loss_prints_like_torch():
    import torch

    F = cr.nn.functional
    w = rng.standard_normal((5, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    ours = F.binary_cross_entropy_with_logits(
        cr.matmul(cr.ones(5), cr.tensor(w, requires_grad=True)) + cr.tensor(b, requires_grad=True),
        cr.zeros(3))
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.matmul(torch.ones(5), torch.tensor(w, requires_grad=True))
        + torch.tensor(b, requires_grad=True), torch.zeros(3))
    assert repr(ours) == repr(theirs)


def test_random_arrays_match_torch():
    import torch

    r = np.random.default_rng(1)
    for i in range(200):
        ndim = int(r.integers(0, 4))
        shape = tuple(int(s) for s in r.integers(1, 6, ndim))
        scale = 10.0 ** r.integers(-9, 10)
        arr = r.standard_normal(shape) * scale
        if i % 3 == 0:
            arr = np.round(arr)
        if i % 5 == 0 and arr.size:
            arr.reshape(-1)[0] = [np.nan, np.inf, 0.0, -0.0][i % 4]
        for dt in (np.float32, np.float64):
            a = arr.astype(dt)
            # float64 through the default dtype: no dtype suffix whose length differs
            old_cr, old_t = cr.get_default_dtype(), torch.get_default_dtype()
            cr.set_default_dtype(cr.float64 if dt == np.float64 else cr.float32)
            torch.set_default_dtype(torch.float64 if dt == np.float64 else torch.float32)
            try:
                assert repr(cr.tensor(a)) == _torch_repr(torch, a), (shape, scale)
            finally:
                cr.set_default_dtype(old_cr)
                torch.set_default_dtype(old_t)


@pytest.mark.parametrize("module", ["chainrule._tensor_str", "chainrule.ops.creation",
                                    "chainrule.viz", "chainrule._dtype"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_parameter_and_grad_reprs_match_torch():
    import torch

    arr = np.array([[0.5, -1.0], [2.0, 3.25]], dtype=np.float32)
    ours = cr.nn.Parameter(cr.tensor(arr))
    theirs = torch.nn.Parameter(torch.tensor(arr))
    assert repr(ours) == repr(theirs)
    (ours * ours).sum().backward()
    (theirs * theirs).sum().backward()
    assert repr(ours.grad) == repr(theirs.grad)
    frozen = cr.nn.Parameter(cr.tensor(arr), requires_grad=False)
    assert repr(frozen) == repr(torch.nn.Parameter(torch.tensor(arr), requires_grad=False))
