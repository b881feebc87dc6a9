"""Factories: tensor, zeros, ones, arange, rand, ... and the global random generator."""
from __future__ import annotations

import builtins
import itertools
import json
import numbers
from collections.abc import Sequence

import numpy as np

from .. import _dtype
from ..tensor import Tensor, _make

# -- random state -----------------------------------------------------------------
# Seeding is reproducible within chainrule (same seed, same numbers), but the numbers are
# not PyTorch's: chainrule draws from NumPy's PCG64, PyTorch from its own Mersenne Twister
# (CPU) generator. Shapes, dtypes, ranges and distributions match; values do not, so code
# that compares samples against numbers printed by PyTorch will differ.

__all__ = ['Generator', 'arange', 'as_tensor', 'asarray', 'bernoulli', 'default_generator', 'empty', 'empty_like', 'empty_strided', 'eye', 'from_numpy', 'frombuffer', 'full', 'full_like', 'get_rng_state', 'hamming_window', 'hann_window', 'blackman_window', 'bartlett_window', 'kaiser_window', 'initial_seed', 'linspace', 'logspace', 'manual_seed', 'multinomial', 'normal', 'ones', 'ones_like', 'rand', 'rand_like', 'randint', 'randint_like', 'randn', 'randn_like', 'randperm', 'scalar_tensor', 'seed', 'set_rng_state', 'tensor', 'zeros', 'zeros_like']  # extend as ops are added

_NEW_GENERATOR_SEED = 67280421310721  # what torch.Generator() starts from


class Generator:
    """A random number generator (a NumPy ``Generator`` behind PyTorch's interface).

    >>> import chainrule as torch
    >>> g = torch.Generator().manual_seed(0)
    >>> torch.rand(2, generator=g).shape, g.initial_seed()
    (torch.Size([2]), 0)
    """

    def __init__(self, device="cpu"):
        self.manual_seed(_NEW_GENERATOR_SEED)

    @property
    def device(self):
        from ..tensor import device

        return device("cpu")

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed & (2**64 - 1))
        return self

    def seed(self) -> int:
        """Re-seed from fresh entropy; returns the new seed."""
        s = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        """The generator state as a uint8 tensor (torch's ByteTensor form: clone/save it)."""
        text = json.dumps(self.rng.bit_generator.state, sort_keys=True)
        return _make(np.frombuffer(text.encode(), dtype=np.uint8).copy(), False, None)

    def set_state(self, state) -> Generator:
        if isinstance(state, Tensor):
            if state._data.dtype != np.uint8:
                raise TypeError(f"expected a torch.ByteTensor, but got {state.type()}")
            state = json.loads(state._data.tobytes().decode())
        elif not isinstance(state, dict):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(state).__name__}")
        self.rng.bit_generator.state = state
        return self


default_generator = Generator()
default_generator.seed()  # like torch: a fresh random seed per process


def manual_seed(seed: int) -> Generator:
    """Seed the global generator used by rand, randn, randint, dropout, init, ..."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Re-seed the global generator from fresh entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the global generator was last seeded with."""
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)


def rng(generator=None) -> np.random.Generator:
    return (generator or default_generator).rng


# -- conversion ---------------------------------------------------------------------
# PyTorch infers the dtype of nested Python data by promoting the dtypes of its scalars:
# bool -> bool, int -> int64, float -> default dtype, complex -> default complex; NumPy
# scalars and arrays and Tensors bring their own dtype. An empty sequence is default dtype.
# The nested data is walked level by level with C-speed builtins (map, set, chain), so
# tensor(list_of_a_million_floats) costs about what NumPy's own conversion costs.
_SEQ = (list, tuple)
_SEQ_TYPES = frozenset(_SEQ)
_PLAIN = frozenset((builtins.float, builtins.int, builtins.bool, builtins.complex))
_BOOL_NP, _INT64_NP = np.dtype(np.bool_), np.dtype(np.int64)


def _leaves(data):
    """(set of leaf types, leaves) of nested sequences, raising PyTorch's errors for ragged
    or mixed nesting. ``data`` itself is a list or tuple."""
    types = set(map(type, data))
    if not types & _SEQ_TYPES and all(not issubclass(t, _SEQ) for t in types):
        return types, data  # flat: the common case
    level, dim = [data], 0
    while True:
        types = set(map(type, level))
        seq = {t for t in types if issubclass(t, _SEQ)}
        if not seq:
            return types, level
        if seq != types:
            if isinstance(level[0], _SEQ):
                raise TypeError("not a sequence")
            bad = next(x for x in level if isinstance(x, _SEQ))
            raise TypeError(f"'{type(bad).__name__}' object cannot be interpreted as a number")
        lens = set(map(len, level))
        if len(lens) > 1:
            n = len(level[0])
            got = next(len(x) for x in level if len(x) != n)
            raise ValueError(f"expected sequence of length {n} at dim {dim} (got {got})")
        level = list(itertools.chain.from_iterable(level))
        dim += 1


def _type_np_dtype(t):
    """The dtype a leaf of Python type ``t`` brings (None: look at each value)."""
    if t is builtins.float:
        return _dtype.get_default_dtype().np
    if t is builtins.int:
        return _INT64_NP
    if t is builtins.bool or issubclass(t, np.bool_):
        return _BOOL_NP
    if issubclass(t, (Tensor, np.ndarray)):
        return None
    if issubclass(t, np.generic):
        d = np.dtype(t)
        if d not in _dtype._BY_NP:
            _unsupported_numpy(d)
        return d
    if issubclass(t, builtins.bool):
        return _BOOL_NP
    if issubclass(t, numbers.Integral):
        return _INT64_NP
    if issubclass(t, numbers.Real):
        return _dtype.get_default_dtype().np
    if issubclass(t, numbers.Complex):
        return _dtype.get_default_dtype().to_complex().np
    if issubclass(t, str):
        raise TypeError(f"new(): invalid data type '{t.__name__}'")
    raise RuntimeError(f"Could not infer dtype of {t.__name__}")


def _infer_np_dtype(data, types=None, leaves=None):
    """PyTorch's dtype inference for a Python number or (nested) sequence."""
    if types is None:
        if isinstance(data, _SEQ):
            types, leaves = _leaves(data)
        else:
            types, leaves = {type(data)}, [data]
    if len(types) == 1 and builtins.float in types:
        return _dtype.get_default_dtype().np
    found = None
    for t in types:
        if issubclass(t, (Tensor, np.ndarray)):
            ds = {x._data.dtype if isinstance(x, Tensor) else x.dtype
                  for x in leaves if type(x) is t}
        else:
            ds = (_type_np_dtype(t),)
        for d in ds:
            if d not in _dtype._BY_NP:
                _unsupported_numpy(d)
            found = d if found is None else _dtype.promote_types(found, d)
    return _dtype.get_default_dtype().np if found is None else found


def _unsupported_numpy(np_dtype):
    raise TypeError(
        f"can't convert np.ndarray of type numpy.{np_dtype}. The only supported types are: "
        "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, "
        "and bool.")


def _to_array(data, dtype=None) -> np.ndarray:
    """An owned ndarray from Python data, an ndarray or a Tensor, with PyTorch's dtype rules."""
    np_dtype = None if dtype is None else _dtype.to_np(dtype)
    t = type(data)
    if t is builtins.float or t is builtins.int or t is builtins.bool:  # the common scalars
        try:
            return np.array(data, dtype=np_dtype or _type_np_dtype(t))
        except (OverflowError, ValueError):
            pass  # the general path below raises PyTorch's error
    if isinstance(data, Tensor):
        arr = data._data
        return np.array(arr, dtype=np_dtype or arr.dtype)
    if isinstance(data, (np.ndarray, np.generic)):
        if np_dtype is None:
            np_dtype = data.dtype
            if np_dtype not in _dtype._BY_NP:
                _unsupported_numpy(np_dtype)
        return np.array(data, dtype=np_dtype)
    if not isinstance(data, _SEQ) and isinstance(data, Sequence) and \
            not isinstance(data, (str, bytes)):
        data = list(data)  # range, array.array, other sequences
    if isinstance(data, _SEQ):
        types, leaves = _leaves(data)
        if np_dtype is None:
            np_dtype = _infer_np_dtype(data, types, leaves)
        if not types <= _PLAIN and any(issubclass(t, Tensor) for t in types):
            data = _tensors_to_lists(data)
    elif np_dtype is None or not isinstance(data, numbers.Number):
        inferred = _infer_np_dtype(data)  # raises PyTorch's error for strings, None, dicts
        np_dtype = np_dtype or inferred
    try:
        with np.errstate(over="ignore"):  # 1e40 into float32 is inf, quietly, as in torch
            arr = np.array(data, dtype=np_dtype)
    except (OverflowError, ValueError):
        if dtype is None:
            raise ValueError("Overflow when unpacking long long") from None
        arr = _checked_int_array(data, np_dtype)
    if arr.dtype == object:
        raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")
    return arr


def _checked_int_array(data, np_dtype) -> np.ndarray:
    """Python numbers out of an integer dtype's range: PyTorch wraps negatives into uint8
    (-1 -> 255) and refuses everything else."""
    msg = f"value cannot be converted to type {np_dtype.name} without overflow"
    if np_dtype != np.uint8:
        raise RuntimeError(msg) from None
    try:
        wide = np.array(data, dtype=np.int64)
    except (OverflowError, ValueError):
        raise RuntimeError(msg) from None
    if (wide > 255).any():
        raise RuntimeError(msg)
    return wide.astype(np.uint8)


def _tensors_to_lists(data):
    if isinstance(data, Tensor):
        return data._data.tolist() if data._data.ndim else data._data.item()
    if isinstance(data, _SEQ):
        return [_tensors_to_lists(x) for x in data]
    return data


def _parse_to(args, kwargs):
    """Parse ``Tensor.to``'s forms: to(dtype), to(device), to(device, dtype), to(other)."""
    from ..tensor import device as _device

    dt = kwargs.get("dtype")
    copy = kwargs.get("copy", False)
    if kwargs.get("device") is not None:
        _check_device(kwargs["device"])
    flags = []  # positional (non_blocking, copy)
    dtypes = 0
    for a in args:
        if isinstance(a, Tensor):
            dt = a.dtype
        elif isinstance(a, (str, _device)):
            _check_device(a)
        elif isinstance(a, builtins.bool):
            flags.append(a)
        elif a is not None:
            dt = a
            dtypes += 1
    if dtypes > 1:
        raise TypeError("to() received an invalid combination of arguments - got "
                        "(torch.dtype, torch.dtype)")
    if len(flags) > 1:
        copy = flags[1]
    return (None if dt is None else _dtype.to_dtype(dt)), copy


_GRAD_DTYPE_MSG = "Only Tensors of floating point and complex dtype can require gradients"

# PyTorch's C type names, used in its "not implemented for 'Long'" errors.
_C_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
            "int64": "Long", "float16": "Half", "float32": "Float", "float64": "Double",
            "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _leaf(arr: np.ndarray, requires_grad: bool, out=None) -> Tensor:
    if requires_grad and arr.dtype.kind not in "fc":
        raise RuntimeError(_GRAD_DTYPE_MSG)
    if out is not None:
        out._data = arr
        out._bump()
        return out
    t = _make(arr, False, None)
    t._requires_grad = builtins.bool(requires_grad)
    return t


def _size(size, name="tensor") -> tuple:
    """A shape from ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(size=(2, 3))``."""
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor) and s._data.size == 1 and s._data.dtype.kind in "iu":
            s = int(s.item())
        if isinstance(s, builtins.bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, "
                            f"not {type(s).__name__}")
        out.append(int(s))
    if any(s < 0 for s in out):
        if name == "zeros":
            raise RuntimeError("zeros: Dimension size must be non-negative.")
        neg = next(s for s in out if s < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {neg}: {out}")
    return tuple(out)


def _shape_arg(size, kw_size, name):
    if kw_size is not None:
        if size:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        size = (kw_size,)
    return _size(size, name)


def _check_device(device) -> None:
    """chainrule runs on the CPU: 'cpu' is accepted; 'cuda' raises what CPU-only PyTorch
    raises (AssertionError, which scripts catch), anything else RuntimeError."""
    from ..tensor import device as _device

    kind = getattr(device, "type", device)
    if isinstance(kind, str) and kind.split(":")[0] == "cuda":
        raise AssertionError("Torch not compiled with CUDA enabled")
    _device(device)


def _float_dtype(dtype, name=None):
    d = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    if name is not None and not d.is_floating_point and not d.is_complex:
        raise NotImplementedError(f'"{name}" not implemented for \'{_C_NAMES[d.name]}\'')
    return d.np


# -- factories ------------------------------------------------------------------------
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (dtype inferred as PyTorch does).

    >>> import chainrule as torch
    >>> torch.tensor([[1., 2.], [3., 4.]]).shape
    torch.Size([2, 2])
    >>> torch.tensor([1, 2]).dtype, torch.tensor([1, 2.5]).dtype
    (torch.int64, torch.float32)
    """
    if isinstance(data, Tensor):
        import warnings

        warnings.warn(
            "To copy construct from a tensor, it is recommended to use "
            "sourceTensor.detach().clone() or sourceTensor.detach().clone().requires_grad_(True), "
            "rather than torch.tensor(sourceTensor).", UserWarning, stacklevel=2)
    if device is not None:
        _check_device(device)
    return _leaf(_to_array(data, dtype), requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A 0-d tensor holding the number ``s`` (default float dtype unless ``dtype`` is given).

    >>> import chainrule as torch
    >>> torch.scalar_tensor(3)
    tensor(3.)
    """
    if device is not None:
        _check_device(device)
    return _leaf(np.array(s, dtype=_float_dtype(None) if dtype is None else _dtype.to_np(dtype)),
                 requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """A tensor sharing memory with ``data`` where it can (an ndarray or a Tensor)."""
    if device is not None:
        _check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or _dtype.to_np(dtype) == data.dtype):
        if data.dtype not in _dtype._BY_NP:
            _unsupported_numpy(data.dtype)
        return _make(data, False, None)
    return _make(_to_array(data, dtype), False, None)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    """Like ``as_tensor``; ``copy=True`` always copies."""
    if device is not None:
        _check_device(device)
    t = tensor(obj, dtype=dtype) if copy and not isinstance(obj, Tensor) else (
        as_tensor(obj, dtype) if not copy else obj.detach().clone().to(dtype or obj.dtype))
    if requires_grad:
        t.requires_grad_(True)
    return t


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with the NumPy array ``arr``.

    >>> import chainrule as torch, numpy as np
    >>> a = np.zeros(2)
    >>> t = torch.from_numpy(a)
    >>> a[0] = 5
    >>> t
    tensor([5., 0.], dtype=torch.float64)
    """
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    if arr.dtype not in _dtype._BY_NP:
        _unsupported_numpy(arr.dtype)
    return _make(arr, False, None)


def _filled(shape, value, dtype, requires_grad, default_np=None, out=None):
    np_dtype = _dtype.to_np(dtype) if dtype is not None else (
        default_np if default_np is not None else _dtype.get_default_dtype().np)
    return _leaf(np.full(shape, value, dtype=np_dtype), requires_grad, out)


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          **kwargs) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``.

    >>> import chainrule as torch
    >>> torch.zeros(2, 3, dtype=torch.int32)
    tensor([[0, 0, 0],
            [0, 0, 0]], dtype=torch.int32)
    """
    if device is not None:
        _check_device(device)
    return _filled(_shape_arg(size, kwargs.get("size"), "zeros"), 0, dtype, requires_grad,
                   out=out)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         **kwargs) -> Tensor:
    """A tensor of ones.

    >>> import chainrule as torch
    >>> torch.ones(3, requires_grad=True)
    tensor([1., 1., 1.], requires_grad=True)
    """
    if device is not None:
        _check_device(device)
    return _filled(_shape_arg(size, kwargs.get("size"), "ones"), 1, dtype, requires_grad,
                   out=out)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None, **kwargs) -> Tensor:
    """An uninitialised tensor (chainrule fills it with zeros)."""
    if device is not None:
        _check_device(device)
    return _filled(_shape_arg(size, kwargs.get("size"), "empty"), 0, dtype, requires_grad,
                   out=out)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:
    """An uninitialised (here: zero) tensor of ``size`` laid out with ``stride`` (in elements).

    >>> import chainrule as torch
    >>> torch.empty_strided((2, 3), (1, 2)).stride()
    (1, 2)
    """
    if device is not None:
        _check_device(device)
    shape, stride = _size(tuple(size), "empty_strided"), tuple(int(s) for s in stride)
    if len(stride) != len(shape):
        raise RuntimeError("mismatch in length of strides and shape")
    d = _float_dtype(None) if dtype is None else _dtype.to_np(dtype)
    n = 1 + sum((s - 1) * st for s, st in zip(shape, stride)) if all(shape) else 0
    buf = np.zeros(max(n, 0), d)
    arr = np.lib.stride_tricks.as_strided(buf, shape, tuple(st * d.itemsize for st in stride))
    return _leaf(arr, requires_grad)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False) -> Tensor:
    """A 1-D tensor sharing memory with a Python buffer (``bytearray``, ``array.array``, ...).

    >>> import chainrule as torch, array
    >>> torch.frombuffer(array.array("f", [1.0, 2.0]), dtype=torch.float32)
    tensor([1., 2.])
    """
    d = _dtype.to_np(dtype)
    length = memoryview(buffer).nbytes
    if count == -1:
        if (length - offset) % d.itemsize:
            raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} "
                             f"bytes) must be a multiple of element size ({d.itemsize})")
        count = (length - offset) // d.itemsize
    elif count * d.itemsize > length - offset:
        raise ValueError(f"requested buffer length ({count} * {d.itemsize} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length "
                         f"({length} bytes)")
    return _leaf(np.frombuffer(buffer, dtype=d, count=count, offset=offset), requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False) -> Tensor:
    """A tensor filled with ``fill_value``; its dtype follows the value (bool, int64, float).

    >>> import chainrule as torch
    >>> torch.full((2,), 7), torch.full((2,), 0.5), torch.full((1,), True)
    (tensor([7, 7]), tensor([0.5000, 0.5000]), tensor([True]))
    """
    if device is not None:
        _check_device(device)
    if not isinstance(size, (list, tuple)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, "
                        f"not {type(size).__name__}")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    default = _infer_np_dtype(fill_value) if dtype is None else None
    return _filled(_size(tuple(size), "full"), fill_value, dtype, requires_grad, default, out)


def _like(t: Tensor, dtype):
    return t._data.shape, (t._data.dtype if dtype is None else _dtype.to_np(dtype))


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    if device is not None:
        _check_device(device)
    shape, d = _like(input, dtype)
    return _leaf(np.zeros(shape, d), requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    if device is not None:
        _check_device(device)
    shape, d = _like(input, dtype)
    return _leaf(np.ones(shape, d), requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    if device is not None:
        _check_device(device)
    shape, d = _like(input, dtype)
    return _leaf(np.zeros(shape, d), requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    if device is not None:
        _check_device(device)
    shape, d = _like(input, dtype)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _leaf(np.full(shape, fill_value, d), requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None,
        requires_grad=False) -> Tensor:
    """The ``n x m`` identity matrix (default float dtype).

    >>> import chainrule as torch
    >>> torch.eye(2, 3)
    tensor([[1., 0., 0.],
            [0., 1., 0.]])
    """
    if device is not None:
        _check_device(device)
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    d = _float_dtype(None) if dtype is None else _dtype.to_np(dtype)
    return _leaf(np.eye(n, n if m is None else m, dtype=d), requires_grad, out)


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive); int64 unless a bound or step is a float.

    >>> import chainrule as torch
    >>> torch.arange(5), torch.arange(0, 1, 0.25)
    (tensor([0, 1, 2, 3, 4]), tensor([0.0000, 0.2500, 0.5000, 0.7500]))
    """
    if device is not None:
        _check_device(device)
    if end is None:
        start, end = 0, start
    start, end, step = (x.item() if isinstance(x, Tensor) else x for x in (start, end, step))
    if dtype is None:
        is_int = all(isinstance(x, (int, np.integer)) for x in (start, end, step))
        np_dtype = np.dtype(np.int64) if is_int else _dtype.get_default_dtype().np
    else:
        np_dtype = _dtype.to_np(dtype)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if np_dtype == np.int64:  # PyTorch casts the bounds and step to int64 first
        start, end, step = int(start), int(end), int(step)
        if step == 0:
            raise ValueError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    n = max(int(np.ceil((end - start) / step)), 0)
    if np_dtype.kind in "fc":
        data = start + step * np.arange(n, dtype=np.float64)
    else:  # other integer dtypes: the length from the float bounds, values from int ones
        data = int(start) + int(step) * np.arange(n, dtype=np.int64)
    return _leaf(data.astype(np_dtype), requires_grad, out)


def _linspace(start, end, steps, np_dtype):
    """PyTorch's linspace: the first half counts up from ``start``, the second half down from
    ``end`` (so both ends are exact), computed in the output's float dtype."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    work = np_dtype if np_dtype.kind in "fc" else np.dtype(np.float64)
    if steps == 1:
        return np.array([start], dtype=work)
    step = work.type((end - start) / (steps - 1)) if steps else work.type(0)
    idx = np.arange(steps)
    lo = work.type(start) + step * idx.astype(work)
    hi = work.type(end) - step * (steps - 1 - idx).astype(work)
    return np.where(idx < steps // 2, lo, hi).astype(work)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    >>> import chainrule as torch
    >>> torch.linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    if device is not None:
        _check_device(device)
    d = _float_dtype(None) if dtype is None else _dtype.to_np(dtype)
    return _leaf(_linspace(start, end, steps, d).astype(d), requires_grad, out)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """``steps`` values ``base ** x`` for x evenly spaced from ``start`` to ``end``.

    >>> import chainrule as torch
    >>> torch.logspace(0, 2, 3)
    tensor([  1.,  10., 100.])
    """
    if device is not None:
        _check_device(device)
    d = _float_dtype(None) if dtype is None else _dtype.to_np(dtype)
    exps = _linspace(start, end, steps, np.dtype(np.float64))
    return _leaf(np.power(float(base), exps).astype(d), requires_grad, out)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False, **kwargs) -> Tensor:
    """Uniform samples on [0, 1).

    >>> import chainrule as torch
    >>> _ = torch.manual_seed(0)
    >>> x = torch.rand(2, 3)
    >>> x.shape, x.dtype, bool(((x >= 0) & (x < 1)).all())
    (torch.Size([2, 3]), torch.float32, True)
    """
    if device is not None:
        _check_device(device)
    d = _float_dtype(dtype, "check_uniform_bounds")
    shape = _shape_arg(size, kwargs.get("size"), "rand")
    return _leaf(rng(generator).random(shape).astype(d), requires_grad, out)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False, **kwargs) -> Tensor:
    """Standard normal samples.

    >>> import chainrule as torch
    >>> torch.randn(4, dtype=torch.float64).dtype
    torch.float64
    """
    if device is not None:
        _check_device(device)
    d = _float_dtype(dtype, "normal_kernel_cpu")
    shape = _shape_arg(size, kwargs.get("size"), "randn")
    return _leaf(rng(generator).standard_normal(shape).astype(d), requires_grad, out)


def randint(low, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False) -> Tensor:
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high, size)``
    (int64 unless ``dtype`` says otherwise).

    >>> import chainrule as torch
    >>> r = torch.randint(3, 5, (100,))
    >>> r.dtype, sorted(set(r.tolist())) in ([3], [4], [3, 4])
    (torch.int64, True)
    """
    if device is not None:
        _check_device(device)
    if size is None:
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if size is None or not isinstance(size, (list, tuple)):
        raise TypeError("randint(): argument 'size' (position 2) must be tuple of ints, not "
                        f"{type(size).__name__}")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    d = np.dtype(np.int64) if dtype is None else _dtype.to_np(dtype)
    return _leaf(rng(generator).integers(low, high, _size(tuple(size), "randint")).astype(d),
                 requires_grad, out)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64 unless ``dtype`` says otherwise).

    >>> import chainrule as torch
    >>> sorted(torch.randperm(5).tolist())
    [0, 1, 2, 3, 4]
    """
    if device is not None:
        _check_device(device)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    d = np.dtype(np.int64) if dtype is None else _dtype.to_np(dtype)
    return _leaf(rng(generator).permutation(n).astype(d), requires_grad, out)


def rand_like(input, *, dtype=None, generator=None, requires_grad=False, device=None,
              layout=None, memory_format=None) -> Tensor:
    if device is not None:
        _check_device(device)
    d = input._data.dtype if dtype is None else _dtype.to_np(dtype)
    _float_dtype(_dtype.from_numpy_dtype(d), "check_uniform_bounds")
    return _leaf(rng(generator).random(input._data.shape).astype(d), requires_grad)


def randn_like(input, *, dtype=None, generator=None, requires_grad=False, device=None,
               layout=None, memory_format=None) -> Tensor:
    if device is not None:
        _check_device(device)
    d = input._data.dtype if dtype is None else _dtype.to_np(dtype)
    _float_dtype(_dtype.from_numpy_dtype(d), "normal_kernel_cpu")
    return _leaf(rng(generator).standard_normal(input._data.shape).astype(d), requires_grad)


def randint_like(input, low, high=None, *, dtype=None, generator=None, requires_grad=False,
                 device=None, layout=None, memory_format=None) -> Tensor:
    if device is not None:
        _check_device(device)
    if high is None:
        low, high = 0, low
    d = input._data.dtype if dtype is None else _dtype.to_np(dtype)
    return _leaf(rng(generator).integers(low, high, input._data.shape).astype(d), requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None,
           layout=None, device=None, requires_grad=False) -> Tensor:
    """Normal samples: tensor ``mean``/``std`` (broadcast), or numbers with a ``size``."""
    if device is not None:
        _check_device(device)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        ref = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        draw = rng(generator).standard_normal(shape)
        return _leaf(np.asarray(m + s * draw, dtype=ref._data.dtype), False, out)
    if size is None:
        raise TypeError("normal() missing required argument 'size' when mean and std are "
                        "numbers")
    d = _float_dtype(dtype, "normal_kernel_cpu")
    shape = _size(tuple(size) if isinstance(size, (list, tuple)) else (size,), "normal")
    return _leaf(rng(generator).normal(mean, std, shape).astype(d), requires_grad, out)


def bernoulli(input, p=None, *, generator=None, out=None) -> Tensor:
    """0/1 samples with probabilities ``input`` (or ``p``), in ``input``'s dtype."""
    probs = input._data if p is None else np.full(input._data.shape, p)
    return _leaf((rng(generator).random(input._data.shape) < probs).astype(input._data.dtype),
                 False, out)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None) -> Tensor:
    """Indices drawn from the rows of ``input`` (non-negative weights), int64.

    Without replacement the draw is "exponential keys": ``argsort(E / p)`` with
    ``E ~ Exp(1)``, so zero-weight categories come last, as in PyTorch."""
    p = np.asarray(input._data, dtype=np.float64)
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if np.any(p.sum(axis=-1) <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > p.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    g = rng(generator)
    rows = p.reshape(-1, p.shape[-1])
    if replacement:
        cdf = np.cumsum(rows, axis=-1)
        cdf /= cdf[:, -1:]
        u = g.random((rows.shape[0], num_samples))
        samples = np.stack([np.searchsorted(c, x, side="right") for c, x in zip(cdf, u)])
        samples = np.minimum(samples, rows.shape[-1] - 1)
    else:
        with np.errstate(divide="ignore"):
            keys = g.standard_exponential(rows.shape) / rows
        samples = np.argsort(keys, axis=-1, kind="stable")[:, :num_samples]
    samples = samples.reshape(p.shape[:-1] + (num_samples,))
    return _leaf(samples.astype(np.int64), False, out)


# -- in-place sampling: Tensor.uniform_, normal_, bernoulli_, ... -----------------------
# The samples are drawn in float64 and written with copy_, which brings the leaf check
# ("a leaf Variable that requires grad ...") and the version bump of every in-place op.
def _write_samples(t: Tensor, values, name: str) -> Tensor:
    if t._data.dtype.kind not in "fc" and name != "random_":
        raise NotImplementedError(f"\"{name}\" not implemented for "
                                  f"'{_C_NAMES.get(t._data.dtype.name, t._data.dtype.name)}'")
    return t.copy_(_make(np.asarray(values).astype(t._data.dtype), False, None))


def uniform_(t: Tensor, from_: float = 0.0, to: float = 1.0, *, generator=None) -> Tensor:
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={from_} > to={to}")
    return _write_samples(t, rng(generator).uniform(from_, to, t._data.shape),
                          "check_uniform_bounds")


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _write_samples(t, rng(generator).normal(mean, std, t._data.shape), "normal_kernel_cpu")


def bernoulli_(t: Tensor, p=0.5, *, generator=None) -> Tensor:
    probs = p._data if isinstance(p, Tensor) else p
    draws = rng(generator).random(t._data.shape) < probs
    return t.copy_(_make(draws.astype(t._data.dtype), False, None))


def exponential_(t: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    return _write_samples(t, rng(generator).exponential(1.0 / lambd, t._data.shape),
                          "exponential_cpu")


def geometric_(t: Tensor, p: float, *, generator=None) -> Tensor:
    draws = rng(generator).geometric(p, t._data.shape)
    return t.copy_(_make(draws.astype(t._data.dtype), False, None))


def log_normal_(t: Tensor, mean: float = 1.0, std: float = 2.0, *, generator=None) -> Tensor:
    return _write_samples(t, rng(generator).lognormal(mean, std, t._data.shape),
                          "log_normal_cpu")


def cauchy_(t: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator=None) -> Tensor:
    return _write_samples(t, median + sigma * rng(generator).standard_cauchy(t._data.shape),
                          "cauchy_cpu")


def random_(t: Tensor, from_=0, to=None, *, generator=None) -> Tensor:
    """Integers in [from, to) (``random_(to)``: [0, to); ``random_()``: [0, 2**mantissa])."""
    if to is None and from_ == 0:
        d = t._data.dtype
        if d.kind == "f":
            hi = 2 ** (np.finfo(d).nmant + 1) + 1
        elif d.kind == "b":
            hi = 2
        else:
            hi = int(np.iinfo(d).max) + 1
        lo = 0
    elif to is None:
        lo, hi = 0, from_
    else:
        lo, hi = from_, to
    if lo >= hi:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={lo} >= to={hi}")
    return _write_samples(t, rng(generator).integers(lo, hi, t._data.shape, dtype=np.int64),
                          "random_")


# -- window functions (signal processing): PyTorch's formulas, in the requested dtype -----
def _window(name, window_length, periodic, dtype, requires_grad, formula):
    d = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    if not d.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {d}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    if window_length <= 1:
        return _leaf(np.ones(window_length, dtype=d.np), requires_grad)
    n = window_length + 1 if periodic else window_length
    out = formula(np.arange(n, dtype=d.np), n)[:window_length]
    return _leaf(np.ascontiguousarray(out, dtype=d.np), requires_grad)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype=None, layout=None, device=None,
                   pin_memory=False, requires_grad=False) -> Tensor:
    """alpha - beta cos(2 pi n / (N - 1)) (N = length + 1 when ``periodic``)."""
    def formula(k, n):
        return np.cos(k * k.dtype.type(2 * np.pi / (n - 1))) * k.dtype.type(-beta) + \
            k.dtype.type(alpha)
    return _window("hamming_window", window_length, periodic, dtype, requires_grad, formula)


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                device=None, pin_memory=False, requires_grad=False) -> Tensor:
    """0.5 - 0.5 cos(2 pi n / (N - 1)): a Hamming window with alpha = beta = 0.5."""
    d = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    if not d.is_floating_point:
        raise RuntimeError(f"hann_window expects floating point dtypes, got: {d}")
    return hamming_window(window_length, periodic, 0.5, 0.5, dtype=d,
                          requires_grad=requires_grad)


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, pin_memory=False, requires_grad=False) -> Tensor:
    """0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    def formula(k, n):
        t = k.dtype.type
        x = k * t(np.pi / (n - 1))
        return np.cos(x * t(4)) * t(0.08) - np.cos(x * t(2)) * t(0.5) + t(0.42)
    return _window("blackman_window", window_length, periodic, dtype, requires_grad, formula)


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, pin_memory=False, requires_grad=False) -> Tensor:
    """The triangle 1 - |2n / (N - 1) - 1|."""
    def formula(k, n):
        w = k * k.dtype.type(2.0 / (n - 1))
        half = ((n - 1) >> 1) + 1
        w[half:] = k.dtype.type(2) - w[half:]
        return w
    return _window("bartlett_window", window_length, periodic, dtype, requires_grad, formula)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype=None, layout=None, device=None, pin_memory=False,
                  requires_grad=False) -> Tensor:
    """I0(beta sqrt(1 - ((n - a) / a)^2)) / I0(beta), a = (N - 1) / 2."""
    def formula(k, n):
        a = (n - 1) / 2.0
        x = k.astype(np.float64)
        return np.i0(beta * np.sqrt(np.clip(1 - ((x - a) / a) ** 2, 0, None))) / np.i0(beta)
    return _window("kaiser_window", window_length, periodic, dtype, requires_grad, formula)
