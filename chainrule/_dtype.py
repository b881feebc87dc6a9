"""Dtypes, PyTorch's type-promotion rules and the default floating dtype."""
from __future__ import annotations

import builtins as _builtins

import numpy as np

_py_float, _py_int, _py_bool, _py_complex = (_builtins.float, _builtins.int, _builtins.bool,
                                             _builtins.complex)


class dtype:
    """A tensor element type, printed and compared like ``torch.dtype``."""

    __slots__ = ("is_complex", "is_floating_point", "is_signed", "itemsize", "name", "np")

    def __init__(self, name: str, np_dtype, category: int):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = category == _FLOAT
        self.is_complex = category == _COMPLEX
        self.is_signed = name not in ("uint8", "bool")
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return "torch." + self.name  # what PyTorch prints: code runs as `import chainrule as torch`

    def __reduce__(self):
        return self.name  # pickles as the module-level singleton

    def to_complex(self) -> dtype:
        return {float32: complex64, float64: complex128, float16: complex64}.get(self, self)

    def to_real(self) -> dtype:
        return {complex64: float32, complex128: float64}.get(self, self)


# Categories, ordered as PyTorch orders them when promoting across kinds.
_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3

bool = dtype("bool", np.bool_, _BOOL)  # torch.bool: shadows the builtin on purpose
uint8 = dtype("uint8", np.uint8, _INT)
int8 = dtype("int8", np.int8, _INT)
int16 = dtype("int16", np.int16, _INT)
int32 = dtype("int32", np.int32, _INT)
int64 = dtype("int64", np.int64, _INT)
float16 = dtype("float16", np.float16, _FLOAT)
float32 = dtype("float32", np.float32, _FLOAT)
float64 = dtype("float64", np.float64, _FLOAT)
complex64 = dtype("complex64", np.complex64, _COMPLEX)
complex128 = dtype("complex128", np.complex128, _COMPLEX)



class _NoNumpyDtype(dtype):
    """A PyTorch dtype NumPy cannot store (bfloat16): it exists, so code may name it (as an
    autocast dtype, in ``x if cond else torch.bfloat16``), but making a tensor of it raises."""

    __slots__ = ()

    def __init__(self, name: str, itemsize: int):
        self.name = name
        self.np = None
        self.is_floating_point = True
        self.is_complex = False
        self.is_signed = True
        self.itemsize = itemsize


bfloat16 = _NoNumpyDtype("bfloat16", 2)

# PyTorch's aliases.
half, float, double = float16, float32, float64  # shadow builtins, as torch does
short, int, long = int16, int32, int64
cfloat, cdouble = complex64, complex128

ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float16, float32, float64, complex64, complex128)
_BY_NP = {d.np: d for d in ALL_DTYPES}
_CATEGORY = {d.np: (_BOOL if d is bool else _INT if d.np.kind in "iu" else
                    _FLOAT if d.np.kind == "f" else _COMPLEX) for d in ALL_DTYPES}

_default_float = float32


def get_default_dtype() -> dtype:
    """The dtype of tensors made from Python floats (float32 unless changed)."""
    return _default_float


def set_default_dtype(d) -> None:
    """Set the dtype used for Python floats and float factories (float32 or float64)."""
    global _default_float
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default_float = d


def set_default_tensor_type(t) -> None:
    """Old spelling of set_default_dtype: ``torch.DoubleTensor`` or ``'torch.DoubleTensor'``."""
    name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
    if name.startswith("torch.cuda.") or ".cuda." in name:
        raise TypeError(f"type {name} not available. Torch not compiled with CUDA enabled.")
    name = name.rsplit(".", 1)[-1]
    by_name = {"FloatTensor": float32, "DoubleTensor": float64, "HalfTensor": float16}
    if name not in by_name:
        raise TypeError("only floating-point types are supported as the default type")
    set_default_dtype(by_name[name])


def from_numpy_dtype(np_dtype) -> dtype:
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        raise TypeError(f"chainrule has no dtype for numpy dtype {np_dtype}") from None


def to_dtype(d) -> dtype:
    """Accept a chainrule dtype, a NumPy dtype or a Python type (float, int, bool, complex)."""
    if type(d) is dtype:
        return d
    if isinstance(d, _NoNumpyDtype):
        raise TypeError(f"chainrule has no {d!r} tensors (NumPy has no {d.name}); use "
                        f"torch.float32 or torch.float16")
    if d is _py_float:
        return float64
    if d is _py_int:
        return int64
    if d is _py_bool:
        return bool
    if d is _py_complex:
        return complex128
    try:
        return _BY_NP[np.dtype(d)]
    except (TypeError, KeyError):
        raise TypeError(f"cannot interpret {d!r} as a chainrule dtype") from None


def to_np(d) -> np.dtype:
    return to_dtype(d).np


def category(np_dtype) -> int:
    return _CATEGORY[np_dtype]


def is_floating(np_dtype) -> _builtins.bool:
    return np_dtype.kind in "fc"


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's promote_types on NumPy dtypes: across kinds the higher kind's dtype wins
    (int64 with float16 is float16, unlike NumPy), within a kind NumPy's lattice applies."""
    if a is b:
        return a
    ca, cb = _CATEGORY[a], _CATEGORY[b]
    if ca != cb:
        if ca == _COMPLEX and cb != _COMPLEX or cb == _COMPLEX and ca != _COMPLEX:
            hi, lo = (a, b) if ca > cb else (b, a)
            if _CATEGORY[lo] == _FLOAT and lo.itemsize * 2 > hi.itemsize:
                return np.dtype(np.complex128)
            return hi
        return a if ca > cb else b
    return np.promote_types(a, b)


def _scalar_dtype(x) -> np.dtype:
    """The dtype a Python number takes when it is a 'wrapped number' operand."""
    if type(x) is _py_bool:
        return np.dtype(np.bool_)
    if type(x) is _py_int:
        return np.dtype(np.int64)
    if type(x) is _py_complex:
        return _default_float.to_complex().np
    return _default_float.np


def result_type(*operands) -> np.dtype:
    """PyTorch's result_type for a mix of arrays (dimensioned or 0-d) and Python scalars.

    Dimensioned tensors outrank 0-d tensors, which outrank Python numbers, but only a
    higher *category* (bool < int < float < complex) from a lower-ranked operand changes
    the result: ``float32_tensor * 2.0`` stays float32, ``int_tensor * 2.5`` becomes the
    default float dtype.
    """
    dim = zero = wrapped = None
    for x in operands:
        if isinstance(x, np.ndarray):
            if x.ndim:
                dim = x.dtype if dim is None else promote_types(dim, x.dtype)
            else:
                zero = x.dtype if zero is None else promote_types(zero, x.dtype)
        elif isinstance(x, np.generic):
            zero = x.dtype if zero is None else promote_types(zero, x.dtype)
        elif x is not None:
            d = _scalar_dtype(x)
            wrapped = d if wrapped is None else promote_types(wrapped, d)
    return _combine(dim, _combine(zero, wrapped))


def _combine(higher, lower):
    """Merge the result of a higher-ranked operand group with a lower-ranked one."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    ch, cl = _CATEGORY[higher], _CATEGORY[lower]
    if ch == _COMPLEX:
        return higher
    if cl == _COMPLEX:
        return _BY_NP[higher].to_complex().np if ch == _FLOAT else lower
    if ch == _FLOAT:
        return higher
    if ch == _BOOL or cl == _FLOAT:
        return promote_types(higher, lower)
    return higher


# -- public API (exported by chainrule/__init__.py as promote_types, result_type, can_cast) ---
def api_promote_types(type1, type2) -> dtype:
    """``torch.promote_types``: the smallest dtype both ``type1`` and ``type2`` convert to.

    >>> import chainrule as torch
    >>> from chainrule._dtype import api_promote_types
    >>> api_promote_types(torch.int32, torch.float16)
    torch.float16
    """
    return _BY_NP[promote_types(to_np(type1), to_np(type2))]


def api_result_type(tensor1, tensor2) -> dtype:
    """``torch.result_type``: the dtype of an arithmetic op on two tensors and/or numbers
    (dimensioned tensors outrank 0-d tensors, which outrank Python numbers)."""
    def operand(x):
        data = getattr(x, "_data", None)
        if data is not None:
            return data
        if isinstance(x, (_py_bool, _py_int, _py_float, _py_complex)):
            return x
        raise TypeError("result_type() received an invalid combination of arguments - got "
                        f"({type(tensor1).__name__}, {type(tensor2).__name__})")

    return _BY_NP[result_type(operand(tensor1), operand(tensor2))]


def api_can_cast(from_, to) -> _builtins.bool:
    """``torch.can_cast``: casting is allowed unless it lowers the category
    (complex > floating > integral > bool); within a category any size goes."""
    return _CATEGORY[to_np(from_)] <= _CATEGORY[to_np(to)]
