"""Factories: tensor, zeros, ones, arange, rand, ... and the global random generator."""
from __future__ import annotations

import builtins
import numbers

import numpy as np

from .. import _dtype
from ..tensor import Tensor, _make

# -- random state -----------------------------------------------------------------

__all__ = ['Generator', 'arange', 'as_tensor', 'bernoulli', 'default_generator', 'empty', 'empty_like', 'eye', 'from_numpy', 'full', 'full_like', 'get_rng_state', 'initial_seed', 'linspace', 'logspace', 'manual_seed', 'multinomial', 'normal', 'ones', 'ones_like', 'rand', 'rand_like', 'randint', 'randint_like', 'randn', 'randn_like', 'randperm', 'seed', 'set_rng_state', 'tensor', 'zeros', 'zeros_like']  # extend as ops are added

_rng = np.random.default_rng()
_initial_seed = None


class Generator:
    """A random number generator (a NumPy ``Generator`` behind PyTorch's interface)."""

    def __init__(self, device="cpu"):
        self.rng = np.random.default_rng()
        self._seed = None

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        self.rng = np.random.default_rng(int(seed))
        return self

    def seed(self) -> int:
        s = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        return self.rng.bit_generator.state

    def set_state(self, state) -> "Generator":
        self.rng.bit_generator.state = state
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the global generator used by rand, randn, randint, dropout, init, ..."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)


def rng(generator=None) -> np.random.Generator:
    return (generator or default_generator).rng


# -- conversion ---------------------------------------------------------------------
def _infer_np_dtype(data):
    """PyTorch's dtype inference for Python data: bool < int64 < default float < complex."""
    kind = _scan_kind(data)
    if kind == "b":
        return np.dtype(np.bool_)
    if kind == "i":
        return np.dtype(np.int64)
    if kind == "c":
        return _dtype.get_default_dtype().to_complex().np
    return _dtype.get_default_dtype().np


def _scan_kind(data) -> str:
    if isinstance(data, builtins.bool) or isinstance(data, np.bool_):
        return "b"
    if isinstance(data, numbers.Integral):
        return "i"
    if isinstance(data, numbers.Real):
        return "f"
    if isinstance(data, numbers.Complex):
        return "c"
    if isinstance(data, Tensor):
        return data._data.dtype.kind if data._data.dtype.kind != "u" else "i"
    if isinstance(data, np.ndarray):
        return data.dtype.kind if data.dtype.kind != "u" else "i"
    kinds = "b"
    order = "bifc"
    for item in data:
        k = _scan_kind(item)
        if order.index(k) > order.index(kinds):
            kinds = k
    return kinds


def _to_array(data, dtype=None) -> np.ndarray:
    """An owned ndarray from Python data, an ndarray or a Tensor, with PyTorch's dtype rules."""
    np_dtype = None if dtype is None else _dtype.to_np(dtype)
    if isinstance(data, Tensor):
        arr = data._data
        return np.array(arr, dtype=np_dtype or arr.dtype)
    if isinstance(data, np.ndarray):
        if np_dtype is None:
            np_dtype = data.dtype
            if np_dtype not in _dtype._BY_NP:
                raise TypeError(
                    f"can't convert np.ndarray of type {data.dtype}. The only supported types "
                    "are: float64, float32, float16, complex64, complex128, int64, int32, int16, "
                    "int8, uint8, and bool.")
        return np.array(data, dtype=np_dtype)
    if isinstance(data, np.generic):
        return np.array(data, dtype=np_dtype or data.dtype)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _tensors_to_lists(data)
    if np_dtype is None:
        np_dtype = _infer_np_dtype(data)
    try:
        arr = np.array(data, dtype=np_dtype)
    except ValueError as e:
        raise ValueError(f"expected sequence of equal-length lists: {e}") from None
    if arr.dtype == object:
        raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    return arr


def _flat(data):
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def _tensors_to_lists(data):
    if isinstance(data, Tensor):
        return data._data.tolist() if data._data.ndim else data._data.item()
    if isinstance(data, (list, tuple)):
        return [_tensors_to_lists(x) for x in data]
    return data


def _parse_to(args, kwargs):
    """Parse ``Tensor.to``'s forms: to(dtype), to(device), to(device, dtype), to(other)."""
    from ..tensor import device as _device

    dt = kwargs.get("dtype")
    copy = kwargs.get("copy", False)
    if "device" in kwargs:
        _device(kwargs["device"])
    for a in args:
        if isinstance(a, Tensor):
            dt = a.dtype
        elif isinstance(a, (str, _device)):
            _device(a)
        elif isinstance(a, builtins.bool):
            pass  # non_blocking
        elif a is not None:
            dt = a
    return (None if dt is None else _dtype.to_dtype(dt)), copy


def _leaf(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = _make(arr, False, None)
    if requires_grad:
        t.requires_grad = True  # validates the dtype
    return t


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s.item())
        if not isinstance(s, (int, np.integer)):
            raise TypeError(
                f"size must be a tuple of ints, but got {type(s).__name__} in {tuple(size)}")
        if s < 0:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _float_dtype(dtype):
    return (_dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)).np


# -- factories ------------------------------------------------------------------------
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new leaf tensor holding a copy of ``data``.

    >>> import chainrule as torch
    >>> torch.tensor([[1., 2.], [3., 4.]]).shape
    chainrule.Size([2, 2])
    """
    return _leaf(_to_array(data, dtype), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """A tensor sharing memory with ``data`` where it can (an ndarray or a Tensor)."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or _dtype.to_np(dtype) == data.dtype):
        return _make(data, False, None)
    return _make(_to_array(data, dtype), False, None)


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with the NumPy array ``arr``."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    _dtype.from_numpy_dtype(arr.dtype)
    return _make(arr, False, None)


def _filled(size, value, dtype, requires_grad, default_np=None):
    shape = _size(size)
    np_dtype = _dtype.to_np(dtype) if dtype is not None else (
        default_np if default_np is not None else _dtype.get_default_dtype().np)
    return _leaf(np.full(shape, value, dtype=np_dtype), requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None) -> Tensor:
    return _filled(size, 0, dtype, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None) -> Tensor:
    return _filled(size, 1, dtype, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, memory_format=None,
          out=None, layout=None, pin_memory=False) -> Tensor:
    return _filled(size, 0, dtype, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    default = None
    if dtype is None:
        default = _infer_np_dtype(fill_value)
    return _filled((size,) if isinstance(size, int) else tuple(size), fill_value, dtype,
                   requires_grad, default)


def _like(t: Tensor, dtype):
    return t._data.shape, (t._data.dtype if dtype is None else _dtype.to_np(dtype))


def zeros_like(input, *, dtype=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    shape, d = _like(input, dtype)
    return _leaf(np.zeros(shape, d), requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    shape, d = _like(input, dtype)
    return _leaf(np.ones(shape, d), requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    shape, d = _like(input, dtype)
    return _leaf(np.zeros(shape, d), requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    shape, d = _like(input, dtype)
    return _leaf(np.full(shape, fill_value, d), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _leaf(np.eye(n, n if m is None else m, dtype=_float_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive); int64 unless a bound or step is a float."""
    if end is None:
        start, end = 0, start
    start, end, step = (x.item() if isinstance(x, Tensor) else x for x in (start, end, step))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        is_int = all(isinstance(x, (int, np.integer)) for x in (start, end, step))
        np_dtype = np.dtype(np.int64) if is_int else _dtype.get_default_dtype().np
    else:
        np_dtype = _dtype.to_np(dtype)
    n = int(np.ceil((end - start) / step))
    data = (start + step * np.arange(max(n, 0), dtype=np.float64)) if np_dtype.kind == "f" \
        else np.arange(start, end, step)
    return _leaf(data.astype(np_dtype), requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _leaf(np.linspace(start, end, steps).astype(_float_dtype(dtype)), requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None,
             requires_grad=False) -> Tensor:
    return _leaf(np.logspace(start, end, steps, base=base).astype(_float_dtype(dtype)),
                 requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    d = _float_dtype(dtype)
    return _leaf(rng(generator).random(_size(size)).astype(d), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples."""
    d = _float_dtype(dtype)
    return _leaf(rng(generator).standard_normal(_size(size)).astype(d), requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    """Integers uniform on [low, high) (int64 unless ``dtype`` says otherwise)."""
    if size is None:
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    d = np.dtype(np.int64) if dtype is None else _dtype.to_np(dtype)
    return _leaf(rng(generator).integers(low, high, _size((size,) if isinstance(size, int)
                                                          else tuple(size))).astype(d),
                 requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    d = np.dtype(np.int64) if dtype is None else _dtype.to_np(dtype)
    return _leaf(rng(generator).permutation(n).astype(d), requires_grad)


def rand_like(input, *, dtype=None, generator=None, requires_grad=False, device=None) -> Tensor:
    d = input._data.dtype if dtype is None else _dtype.to_np(dtype)
    return _leaf(rng(generator).random(input._data.shape).astype(d), requires_grad)


def randn_like(input, *, dtype=None, generator=None, requires_grad=False, device=None) -> Tensor:
    d = input._data.dtype if dtype is None else _dtype.to_np(dtype)
    return _leaf(rng(generator).standard_normal(input._data.shape).astype(d), requires_grad)


def randint_like(input, low, high=None, *, dtype=None, requires_grad=False,
                 device=None) -> Tensor:
    if high is None:
        low, high = 0, low
    d = input._data.dtype if dtype is None else _dtype.to_np(dtype)
    return _leaf(rng().integers(low, high, input._data.shape).astype(d), requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None) -> Tensor:
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        out = rng(generator).normal(m, s)
        ref = mean if isinstance(mean, Tensor) else std
        return _make(np.asarray(out, dtype=ref._data.dtype), False, None)
    return _leaf(rng(generator).normal(mean, std, _size(tuple(size))).astype(_float_dtype(dtype)),
                 False)


def bernoulli(input, p=None, *, generator=None) -> Tensor:
    probs = input._data if p is None else np.full(input._data.shape, p)
    return _make((rng(generator).random(input._data.shape) < probs).astype(input._data.dtype),
                 False, None)


def multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor:
    p = np.asarray(input._data, dtype=np.float64)
    g = rng(generator)

    def draw(row):
        row = row / row.sum()
        return g.choice(len(row), size=num_samples, replace=replacement, p=row)

    out = draw(p) if p.ndim == 1 else np.stack([draw(r) for r in p])
    return _make(out.astype(np.int64), False, None)
