"""Printing tensors exactly the way PyTorch prints them, plus ``set_printoptions``.

The layout rules (checked string-for-string against torch 2.13 in tests/test_tensor_str.py):

* One format is chosen for the whole tensor from its non-zero finite values:
  integral floats print as ``1.``; other floats with ``precision`` decimals; scientific
  notation when max/min > 1000, max > 1e8 or min < 1e-4 (of absolute values).
* Every element is right-aligned to the widest one; rows wrap at ``linewidth``.
* Above ``threshold`` elements only ``edgeitems`` per side of each dimension are shown.
* Suffixes (``dtype=``, ``grad_fn=``, ``requires_grad=True``) follow the data and move to
  their own line when the line would pass ``linewidth``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math

import numpy as np

from . import _dtype


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print (PyTorch's options; ``None`` leaves an option unchanged,
    except ``sci_mode``, where ``None`` means "choose automatically").

    >>> import chainrule as torch
    >>> from chainrule._tensor_str import set_printoptions   # also torch.set_printoptions
    >>> set_printoptions(precision=2)
    >>> torch.tensor([1.12345])
    tensor([1.12])
    >>> set_printoptions(profile="default")
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"Unknown profile {profile!r}; expected one of {list(_PROFILES)}")
        for k, v in _PROFILES[profile].items():
            setattr(PRINT_OPTS, k, v)
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current print options as a dict (keys as in ``set_printoptions``)."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Set print options inside a ``with`` block, restoring the old ones afterwards."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


# ======================================================================================
# Element formatting
# ======================================================================================
class _Formatter:
    """Chooses one format and one width for all (shown) elements of a real array."""

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        p = PRINT_OPTS.precision
        flat = values.reshape(-1)
        if not self.floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(str(v)))
            return
        finite = flat[np.isfinite(flat) & (flat != 0)]
        if finite.size == 0:
            return  # only zeros, nan and inf: printed as integers ("0.", "nan", "inf")
        absval = np.abs(finite.astype(np.float64))
        lo, hi = float(absval.min()), float(absval.max())
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = bool(PRINT_OPTS.sci_mode)
        vals = finite.tolist()
        if self.sci_mode:
            self.max_width = max(len(f"{v:.{p}e}") for v in vals)
        elif self.int_mode:  # "1." : one more character for the point
            self.max_width = max(len(f"{v:.0f}") + 1 for v in vals)
        else:
            self.max_width = max(len(f"{v:.{p}f}") for v in vals)

    def width(self) -> int:
        return self.max_width

    def format(self, value) -> str:
        p = PRINT_OPTS.precision
        if not self.floating:
            s = str(value)
        elif self.sci_mode:
            s = f"{value:{self.max_width}.{p}e}"
        elif self.int_mode:
            s = f"{value:.0f}"
            if not (math.isinf(value) or math.isnan(value)):
                s += "."
        else:
            s = f"{value:.{p}f}"
        return " " * (self.max_width - len(s)) + s


class _ComplexFormatter:
    """Real and imaginary parts formatted separately, joined as ``a+bj``."""

    def __init__(self, values: np.ndarray):
        self.real = _Formatter(values.real)
        self.imag = _Formatter(values.imag)

    def width(self) -> int:
        return self.real.width() + self.imag.width() + 1  # _vector_str adds the 2 for ", "

    def format(self, value) -> str:
        re = self.real.format(value.real)
        im = (self.imag.format(value.imag) + "j").lstrip()
        return re + im if im[0] in "+-" else re + "+" + im


# ======================================================================================
# Layout
# ======================================================================================
def _summarized(a: np.ndarray) -> np.ndarray:
    """The elements that will be shown when the tensor is summarized (to pick the format)."""
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate([a[:e], a[-e:]]) if a.shape[0] > 2 * e else a
    if not e:
        return np.empty((0,) * a.ndim, a.dtype)
    rows = list(range(e)) + list(range(a.shape[0] - e, a.shape[0])) \
        if a.shape[0] > 2 * e else range(a.shape[0])
    return np.stack([_summarized(a[i]) for i in rows])


def _vector_str(a, indent, summarize, fmt) -> str:
    e = PRINT_OPTS.edgeitems
    element_length = fmt.width() + 2
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = ([fmt.format(v) for v in a[:e].tolist()] + [" ..."]
                + [fmt.format(v) for v in a[-e:].tolist()])
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _array_str(a, indent, summarize, fmt) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    e = PRINT_OPTS.edgeitems
    n = a.shape[0]
    if summarize and n > 2 * e:
        parts = ([_array_str(a[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."]
                 + [_array_str(a[i], indent + 1, summarize, fmt) for i in range(n - e, n)])
    else:
        parts = [_array_str(a[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _data_str(a: np.ndarray, indent: int) -> str:
    if a.size == 0:
        return "[]"
    summarize = a.size > PRINT_OPTS.threshold
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    shown = _summarized(a) if summarize else a
    fmt = _ComplexFormatter(shown) if a.dtype.kind == "c" else _Formatter(shown)
    return _array_str(a, indent, summarize, fmt)


def _add_suffixes(text: str, suffixes, indent: int) -> str:
    out = [text]
    last_line_len = len(text) - text.rfind("\n") + 1  # PyTorch's count (off by design)
    for s in suffixes:
        if last_line_len + len(s) + 2 > PRINT_OPTS.linewidth:
            out.append(",\n" + " " * indent + s)
            last_line_len = indent + len(s)
        else:
            out.append(", " + s)
            last_line_len += len(s) + 2
    out.append(")")
    return "".join(out)


def _has_default_dtype(np_dtype) -> bool:
    default = _dtype.get_default_dtype()
    return np_dtype in (default.np, default.to_complex().np, np.dtype(np.int64),
                        np.dtype(np.bool_))


def tensor_repr(t, prefix: str = "tensor(") -> str:
    """``repr(t)`` as PyTorch writes it, dtype names included (``torch.float64``: the text PyTorch prints).

    >>> import chainrule as torch
    >>> torch.tensor([[1., -2.5], [3., 4.]], dtype=torch.float64)
    tensor([[ 1.0000, -2.5000],
            [ 3.0000,  4.0000]], dtype=torch.float64)
    """
    a = t._data
    indent = len(prefix)
    suffixes = []
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append("size=" + str(tuple(a.shape)))
        if a.dtype != _dtype.get_default_dtype().np:
            suffixes.append("dtype=" + repr(_dtype.from_numpy_dtype(a.dtype)))
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append("size=" + str(tuple(a.shape)))
        if not _has_default_dtype(a.dtype):
            suffixes.append("dtype=" + repr(_dtype.from_numpy_dtype(a.dtype)))
        body = _data_str(a, indent)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    tangent = getattr(t, "_fw_grad", None)
    if tangent is not None and hasattr(tangent, "_data"):
        suffixes.append(f"tangent={tensor_repr(tangent)}")
    return _add_suffixes(prefix + body, suffixes, indent)
