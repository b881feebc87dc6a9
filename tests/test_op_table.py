"""The op table (tests/op_table.py) against PyTorch: values in every listed dtype, gradients,
float64 central differences and second-order checks; and the coverage count: every public op
is in the table or excluded with a reason.

Run: ``python -m pytest -q -n 2 tests/test_op_table.py`` (``-rP`` prints the count).
"""
import numpy as np
import pytest
from op_table import (
    BOOL,
    CASES,
    EXCLUDED,
    FLOAT,
    INDEX,
    INT,
    ISSUE_OPS,
    OPS,
    Lib,
    covered_names,
    path,
    public_names,
)

import chainrule as cr

try:
    import torch
except ImportError:  # pragma: no cover - `make test` installs torch
    torch = None

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------
def arrays_for(entry, dtype="float64", seed=0):
    """The entry's inputs as NumPy arrays, cast to ``dtype`` according to their kind."""
    rng = np.random.default_rng(seed)
    out = []
    for arg in entry.args:
        a = arg.make(rng)
        d = np.dtype(dtype)
        if arg.kind in (INDEX, BOOL):
            pass
        elif arg.kind == INT or d.kind == "f":
            a = a != 0 if d.kind == "b" else a.astype(d)
        elif d.kind == "b":
            a = a > 0
        else:
            a = np.floor(a).astype(d)
        out.append((a, arg.kind))
    return out


def tensors(lib, arrays, grad):
    ts = []
    for a, kind in arrays:
        needs = grad and kind == FLOAT and a.dtype.kind == "f"
        ts.append(lib.tensor(a, requires_grad=needs))
    return ts


def leaves(out):
    """The values an op returned, flattened (tuples, lists, named tuples, Size)."""
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res += leaves(o)
        return res
    return [out]


def _dtype_name(d):
    return str(d).split(".")[-1]


def assert_same(c, t, tols, values=True, what="output"):
    """``tols``: (rtol, atol) for float64 results, (rtol, atol) for float32 ones."""
    cl, tl = leaves(c), leaves(t)
    rtol, atol = tols[0]
    assert len(cl) == len(tl), f"{what}: chainrule returned {len(cl)} values, torch {len(tl)}"
    for i, (a, b) in enumerate(zip(cl, tl)):
        where = f"{what} {i}"
        if isinstance(b, torch.Tensor):
            assert isinstance(a, cr.Tensor), f"{where}: {type(a).__name__}, expected a Tensor"
            assert tuple(a.shape) == tuple(b.shape), f"{where}: shape {tuple(a.shape)} vs " \
                                                     f"{tuple(b.shape)}"
            assert _dtype_name(a.dtype) == _dtype_name(b.dtype), \
                f"{where}: dtype {a.dtype} vs {b.dtype}"
            if not values:
                continue
            an, bn = a.detach().numpy(), b.detach().numpy(force=True)
            if bn.dtype.kind in "fc":
                r, at = tols[0] if bn.dtype.itemsize >= 8 else tols[1]
                np.testing.assert_allclose(an, bn, rtol=r, atol=at, equal_nan=True,
                                           err_msg=where)
            else:
                np.testing.assert_array_equal(an, bn, err_msg=where)
        elif isinstance(b, float):
            assert a == pytest.approx(b, rel=rtol, abs=atol), f"{where}: {a!r} vs {b!r}"
        else:
            assert type(a) is type(b) and a == b, f"{where}: {a!r} vs {b!r}"


def _params(entries, check):
    """pytest params; an entry's known bug becomes a strict xfail of the checks it names."""
    out = []
    for e in entries:
        marks = []
        if e.xfail and (not e.xfail_tests or check in e.xfail_tests):
            marks.append(pytest.mark.xfail(strict=True, reason=e.xfail))
        out.append(pytest.param(e, id=e.id, marks=marks))
    return out


def _has_grad_input(e):
    return any(a.kind == FLOAT for a in e.args)


DIFF = [e for e in CASES if e.differentiable and _has_grad_input(e)]
VS_TORCH = [e for e in DIFF if e.grad_vs_torch]


# --------------------------------------------------------------------------------------
# (a) values vs torch, in every dtype the entry lists
# --------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("entry", _params(CASES, "values"))
def test_values(entry):
    tols = ((entry.rtol, entry.atol), (entry.rtol32, entry.atol32))
    for dtype in entry.dtypes:
        arrays = arrays_for(entry, dtype)
        try:
            t = entry.op(torch, *tensors(torch, arrays, False))
        except (RuntimeError, TypeError, ValueError, IndexError) as e:
            # torch refuses this dtype: chainrule must refuse it the same way
            with pytest.raises(type(e)):
                entry.op(cr, *tensors(cr, arrays, False))
            continue
        c = entry.op(cr, *tensors(cr, arrays, False))
        assert_same(c, t, tols, entry.values, what=f"{dtype} output")


# --------------------------------------------------------------------------------------
# (b) gradients vs torch (float64)
# --------------------------------------------------------------------------------------
def _grad_outputs(out, lib):
    return [o for o in leaves(out) if isinstance(o, lib.Tensor) and o.requires_grad]


def _vs_torch_grads(entry, dtype="float64"):
    """chainrule's and torch's gradients of a random weighted sum of the outputs."""
    arrays = arrays_for(entry, dtype)
    ct, tt = tensors(cr, arrays, True), tensors(torch, arrays, True)
    co, to = _grad_outputs(entry.op(cr, *ct), cr), _grad_outputs(entry.op(torch, *tt), torch)
    assert to, "torch returns no differentiable output: mark the entry differentiable=False"
    assert len(co) == len(to), f"{len(co)} differentiable outputs, torch has {len(to)}"
    rng = np.random.default_rng(1)
    ws = [rng.standard_normal(tuple(o.shape)) for o in to]
    lc = sum((o * cr.tensor(w, dtype=o.dtype)).sum() for o, w in zip(co, ws))
    lt = sum((o * torch.tensor(w, dtype=o.dtype)).sum() for o, w in zip(to, ws))
    cin = [x for x in ct if x.requires_grad]
    tin = [x for x in tt if x.requires_grad]
    gc = cr.autograd.grad(lc, cin, allow_unused=True)
    gt = torch.autograd.grad(lt, tin, allow_unused=True)
    return gc, gt, cin


@pytest.mark.torch
@pytest.mark.parametrize("entry", _params(VS_TORCH, "gradients"))
def test_gradients(entry):
    gc, gt, cin = _vs_torch_grads(entry)
    for i, (a, b, x) in enumerate(zip(gc, gt, cin)):
        a = np.zeros(tuple(x.shape)) if a is None else a.numpy()
        b = np.zeros(tuple(x.shape)) if b is None else b.numpy(force=True)  # ZeroTensor
        np.testing.assert_allclose(a, b, rtol=entry.rtol, atol=entry.atol,
                                   err_msg=f"gradient of input {i}")


_PRIMARY = {id(e) for e in OPS}


@pytest.mark.torch
@pytest.mark.parametrize("entry", _params([e for e in VS_TORCH if "float32" in e.dtypes
                                           and id(e) in _PRIMARY], "gradients32"))
def test_gradients_float32(entry):
    """float32 inputs get float32 gradients (torch casts each gradient to its input's dtype)."""
    gc, gt, cin = _vs_torch_grads(entry, "float32")
    for i, (a, b, x) in enumerate(zip(gc, gt, cin)):
        if a is None or b is None:
            continue
        assert _dtype_name(a.dtype) == _dtype_name(b.dtype), \
            f"gradient of input {i}: dtype {a.dtype} vs {b.dtype}"
        bn = b.numpy(force=True)
        scale = 1 + (np.nanmax(np.abs(bn), initial=0) if bn.size else 0)
        np.testing.assert_allclose(a.numpy(), bn, rtol=1e-3, atol=1e-3 * scale,
                                   err_msg=f"float32 gradient of input {i}")


# --------------------------------------------------------------------------------------
# (c) float64 central differences; second order where flagged
# --------------------------------------------------------------------------------------
def _diff_fn(entry):
    def fn(*ts):
        return tuple(_grad_outputs(entry.op(cr, *ts), cr))
    return fn


# derived spellings (aliases, methods, in-place) run the entry's function: their gradients are
# compared with torch above, central differences run once per entry
@pytest.mark.parametrize("entry", _params([e for e in DIFF if e.gradcheck and id(e) in _PRIMARY],
                                          "gradcheck"))
def test_gradcheck(entry):
    ts = tensors(cr, arrays_for(entry), True)
    assert cr.autograd.gradcheck(_diff_fn(entry), ts, atol=entry.gc_atol, rtol=entry.gc_rtol)


@pytest.mark.parametrize("entry", _params([e for e in DIFF if e.second_order and e.gradcheck
                                           and id(e) in _PRIMARY], "gradgradcheck"))
def test_gradgradcheck(entry):
    ts = tensors(cr, arrays_for(entry), True)
    # fast mode (PyTorch's): v^T H u against central differences for random u, v
    assert cr.autograd.gradgradcheck(_diff_fn(entry), ts, atol=entry.gc_atol,
                                     rtol=entry.gc_rtol, fast_mode=True)


# --------------------------------------------------------------------------------------
# (d) the table is honest and complete
# --------------------------------------------------------------------------------------
def test_entries_call_the_op_they_name():
    """An entry named ``x`` really calls ``chainrule.x`` (so its name counts as covered)."""
    silent = []
    for entry in OPS:
        if entry.name.startswith("Tensor.") or entry.xfail:
            continue
        calls = []
        real = cr
        for part in path(entry.name).split("."):
            real = getattr(real, part)
        if isinstance(real, type):  # the typed constructors are classes (isinstance needs them)
            continue

        def spy(*a, real=real, calls=calls, **k):
            calls.append(1)
            return real(*a, **k)

        arrays = arrays_for(entry, entry.dtypes[0])
        try:
            entry.op(Lib(cr, {path(entry.name): spy}), *tensors(cr, arrays, False))
        except (RuntimeError, IndexError):  # entries that check torch's errors
            pass
        if not calls:
            silent.append(entry.id)
    assert not silent, f"entries that never call the op they name: {silent}"


def test_case_ids_are_unique():
    ids = [e.id for e in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_every_public_op_is_in_the_table():
    missing = sorted(public_names() - covered_names() - set(EXCLUDED))
    assert not missing, (f"{len(missing)} public names have no op-table entry and no EXCLUDED "
                         f"reason (tests/op_table.py): {missing}")


def test_exclusions_are_current():
    public, covered = public_names(), covered_names()
    assert not sorted(set(EXCLUDED) - public), "EXCLUDED lists names that are not public"
    assert not sorted(set(EXCLUDED) & covered), "EXCLUDED lists names the table covers"
    for name, reason in EXCLUDED.items():
        assert reason.strip(), f"{name}: no reason"


def test_exclusions_name_a_test_that_exists():
    """A reason 'test_x.py: ...' points to a test file that mentions the name."""
    import pathlib

    here = pathlib.Path(__file__).parent
    for name, reason in EXCLUDED.items():
        head = reason.split(":")[0]
        if head.endswith(".py"):
            text = (here / head).read_text()
            assert name.split(".")[-1] in text, f"{name}: {head} never mentions it"


def test_issue_ops_are_covered():
    missing = sorted(set(ISSUE_OPS) - covered_names())
    assert not missing, f"ops the issue lists without a table entry: {missing}"


def test_coverage_count():
    covered = covered_names() & public_names()
    msg = (f"{len(covered)} public ops in the table ({len(OPS)} entries, {len(CASES)} cases "
           f"with derived aliases and methods), {len(EXCLUDED)} public names excluded with "
           f"reasons, {len(public_names())} public names in all")
    print(msg)
    assert len(covered) >= len(ISSUE_OPS), msg
    assert len(covered) + len(EXCLUDED) == len(public_names()), msg
