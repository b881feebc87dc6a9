"""torch.testing.assert_close: compare tensors (or nested sequences/mappings of them) with
PyTorch's per-dtype default tolerances and its mismatch report.

>>> import chainrule as torch
>>> torch.testing.assert_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0 + 1e-7]))
"""
from __future__ import annotations

import collections.abc
import numbers

import numpy as np

from . import _dtype
from .tensor import Tensor, _make

__all__ = ["assert_close"]

# (rtol, atol) by dtype, PyTorch's table; integers and bools compare exactly.
_TOLERANCES = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7),
               "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}


class _Mismatch(AssertionError):
    pass


def _tolerances(np_dtype, rtol, atol, *, scalar=False):
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but "
                         f"got no {'rtol' if rtol is None else 'atol'}.")
    if rtol is not None:
        return float(rtol), float(atol)
    return _TOLERANCES.get(np.dtype(np_dtype).name, (0.0, 0.0))


def _index_str(flat: int, shape) -> str:
    idx = np.unravel_index(flat, shape) if shape else ()
    return "(" + ", ".join(str(int(i)) for i in idx) + ("," if len(idx) == 1 else "") + ")"


def _num(x):
    x = x.item() if hasattr(x, "item") else x
    return x


def _compare_tensors(actual, expected, rtol, atol, equal_nan, check_dtype, msg):
    a_t, e_t = actual, expected
    if a_t.shape != e_t.shape:
        raise _Mismatch(f"The values for attribute 'shape' do not match: {a_t.shape} != "
                        f"{e_t.shape}.")
    if check_dtype and a_t.dtype != e_t.dtype:
        raise _Mismatch(f"The values for attribute 'dtype' do not match: {a_t.dtype} != "
                        f"{e_t.dtype}.")
    a, e = a_t._data, e_t._data
    common = np.result_type(a, e)
    a, e = a.astype(common, copy=False), e.astype(common, copy=False)
    rtol, atol = _tolerances(common, rtol, atol)
    items = (a.item(), e.item()) if a.ndim == 0 else None  # bools stay bools in the report
    if common.kind == "b":
        a, e = a.astype(np.int64), e.astype(np.int64)
    exact = common.kind in "biu"
    if exact:
        ok = a == e
    else:
        ok = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if ok.all():
        return
    if msg is not None:
        raise _Mismatch(msg)
    if a.ndim == 0:  # PyTorch reports 0-d tensors as scalars
        raise _Mismatch(_scalar_message(*items, rtol, atol, exact))
    with np.errstate(all="ignore"):
        diff = np.abs(a - e)
        if diff.dtype.kind not in "fc":
            f = _dtype.get_default_dtype().np
            rel = diff.astype(f) / np.abs(e).astype(f)
        else:
            rel = diff / np.abs(e)
    mismatched = int((~ok).sum())
    total = ok.size
    flat_diff, flat_rel = diff.reshape(-1), rel.reshape(-1)
    i_abs = int(np.argmax(np.where(np.isnan(flat_diff), np.inf, flat_diff)))
    i_rel = int(np.argmax(np.where(np.isnan(flat_rel), np.inf, flat_rel)))
    shape = a.shape
    what = "equal" if exact else "close"
    lines = [f"Tensor-likes are not {what}!", "",
             f"Mismatched elements: {mismatched} / {total} ({100 * mismatched / total:.1f}%)"]
    abs_line = (f"Greatest absolute difference: {_num(flat_diff[i_abs])} at index "
                f"{_index_str(i_abs, shape)}")
    rel_line = (f"Greatest relative difference: {_num(flat_rel[i_rel])} at index "
                f"{_index_str(i_rel, shape)}")
    if not exact:
        abs_line += f" (up to {atol} allowed)"
        rel_line += f" (up to {rtol} allowed)"
    raise _Mismatch("\n".join(lines + [abs_line, rel_line]))


def _compare_scalars(actual, expected, rtol, atol, equal_nan, msg):
    """Python numbers: float64 tolerances, exact for ints; bools must be identical."""
    if isinstance(actual, bool) and isinstance(expected, bool):
        if actual is not expected:
            raise _Mismatch(msg or f"Booleans mismatch: {actual} is not {expected}")
        return
    exact = isinstance(actual, (bool, numbers.Integral)) and \
        isinstance(expected, (bool, numbers.Integral))
    np_dtype = np.float64 if not isinstance(actual, complex) else np.complex128
    rtol, atol = (0.0, 0.0) if exact else _tolerances(np_dtype, rtol, atol)
    if exact:
        ok = actual == expected
    elif equal_nan and actual != actual and expected != expected:
        ok = True
    else:
        ok = abs(actual - expected) <= atol + rtol * abs(expected)
    if not ok:
        raise _Mismatch(msg if msg is not None else
                        _scalar_message(actual, expected, rtol, atol, exact))


def _scalar_message(actual, expected, rtol, atol, exact) -> str:
    diff = abs(actual - expected)
    rel = diff / abs(expected) if expected != 0 else float("inf")
    what = "equal" if exact else "close"
    lines = [f"Scalars are not {what}!", "", f"Expected {expected} but got {actual}."]
    if exact:
        lines += [f"Absolute difference: {int(diff)}", f"Relative difference: {rel}"]
    else:
        lines += [f"Absolute difference: {diff} (up to {atol} allowed)",
                  f"Relative difference: {rel} (up to {rtol} allowed)"]
    return "\n".join(lines)


def _as_tensor(x):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return _make(x, False, None)
    return None


def _item(key, actual, expected, kw):
    """Compare one element of a sequence or mapping, remembering where a mismatch was."""
    try:
        _compare(actual, expected, **kw)
    except _Mismatch as err:
        err.path = [key, *getattr(err, "path", [])]
        raise


def _compare(actual, expected, **kw):
    ta, te = _as_tensor(actual), _as_tensor(expected)
    if ta is not None and te is not None:
        return _compare_tensors(ta, te, kw["rtol"], kw["atol"], kw["equal_nan"],
                                kw["check_dtype"], kw["msg"])
    scalar = (bool, numbers.Number)
    if isinstance(actual, scalar) and isinstance(expected, scalar) and \
            not isinstance(actual, np.ndarray):
        return _compare_scalars(actual, expected, kw["rtol"], kw["atol"], kw["equal_nan"],
                                kw["msg"])
    seq = collections.abc.Sequence
    if isinstance(actual, seq) and isinstance(expected, seq) and \
            not isinstance(actual, str) and not isinstance(expected, str):
        if len(actual) != len(expected):
            raise _Mismatch(f"The length of the sequences mismatch: {len(actual)} != "
                            f"{len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _item(i, a, e, kw)
        return
    mapping = collections.abc.Mapping
    if isinstance(actual, mapping) and isinstance(expected, mapping):
        if set(actual) != set(expected):
            raise _Mismatch(f"The keys of the mappings do not match:\n"
                            f"{sorted(map(repr, actual))} != {sorted(map(repr, expected))}")
        for k in expected:
            _item(k, actual[k], expected[k], kw)
        return
    if actual is None and expected is None:
        return
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} "
                    f"and {type(expected)}.")


def assert_close(actual, expected, *, allow_subclasses: bool = True, rtol=None, atol=None,
                 equal_nan: bool = False, check_device: bool = True, check_dtype: bool = True,
                 check_layout: bool = True, check_stride: bool = False, msg=None) -> None:
    """Raise AssertionError unless ``actual`` and ``expected`` are close (PyTorch's rules).

    >>> import chainrule as torch
    >>> torch.testing.assert_close(torch.tensor(1.0), torch.tensor(1.5))
    Traceback (most recent call last):
    ...
    AssertionError: Scalars are not close!
    <BLANKLINE>
    Expected 1.5 but got 1.0.
    Absolute difference: 0.5 (up to 1e-05 allowed)
    Relative difference: 0.3333333333333333 (up to 1.3e-06 allowed)
    """
    try:
        _compare(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan,
                 check_dtype=check_dtype, msg=msg)
    except _Mismatch as e:
        text = str(e)
        failed = getattr(e, "path", None)
        if failed:
            text += "\n\nThe failure occurred for item " + "".join(f"[{p!r}]" for p in failed)
        raise AssertionError(text) from None
