"""save/load: tensors and nested containers of them in a safe ``.npz`` file (no pickle), and
state dicts in the ``.safetensors`` format (:func:`load_safetensors`, :func:`save_safetensors`;
``load``/``save`` use it for paths ending in ``.safetensors``).

The ``.npz`` file is a NumPy archive: one array per distinct tensor or ndarray, plus a
``__chainrule__`` entry holding the container structure as JSON. Loading it never runs code.

A whole object the safe format cannot hold (``save(model)``: a module, an optimizer, a
user object) is pickled instead, into the same kind of archive. As in PyTorch (since 2.6),
``load`` refuses to unpickle it with ``pickle.UnpicklingError`` ("Weights only load failed")
unless told ``weights_only=False``, which runs the pickle's code: only for trusted files.

>>> import io, chainrule as torch
>>> buf = io.BytesIO()
>>> torch.save({"w": torch.ones(2), "step": 3}, buf)
>>> _ = buf.seek(0)
>>> torch.load(buf)["w"]
tensor([1., 1.])
"""
from __future__ import annotations

import collections
import collections.abc
import io
import json
import math
import os
import pickle

import numpy as np

from . import _dtype
from .tensor import Size, Tensor, _make

__all__ = ["load", "load_safetensors", "save", "save_safetensors"]

_META = "__chainrule__"
_PICKLE = "__pickle__"
_FORMAT = 1


class _Unsupported(TypeError):
    """An object the safe format has no encoding for."""


class _Encoder:
    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self.memo: dict[int, int] = {}

    def _array(self, obj, arr: np.ndarray) -> int:
        key = id(obj)
        if key not in self.memo:
            idx = len(self.arrays)
            self.arrays[f"a{idx}"] = np.array(arr, order="C", copy=None)
            self.memo[key] = idx
        return self.memo[key]

    def encode(self, obj):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, Tensor):
            from .nn.parameter import Parameter, is_lazy

            if is_lazy(obj):
                raise TypeError("chainrule.save cannot store an UninitializedParameter: run a "
                                "forward pass through the lazy module first (its shapes are "
                                "not known yet)")
            out = {"__tensor__": self._array(obj, obj._data)}
            if obj._requires_grad:
                out["requires_grad"] = True
            if isinstance(obj, Parameter):
                out["parameter"] = True
            return out
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind in "OV":
                raise TypeError(f"chainrule.save cannot store ndarrays of dtype {obj.dtype}")
            return {"__ndarray__": self._array(obj, obj)}
        if isinstance(obj, np.generic):
            return {"__npscalar__": obj.dtype.str, "v": self.encode(obj.item())}
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            if not math.isfinite(obj):
                return {"__float__": repr(obj)}
            return obj
        if isinstance(obj, complex):
            return {"__complex__": [obj.real, obj.imag]}
        if isinstance(obj, _dtype.dtype):
            return {"__dtype__": str(obj)}
        if isinstance(obj, Size):
            return {"__size__": list(obj)}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(x) for x in obj]}
        if isinstance(obj, list):
            return [self.encode(x) for x in obj]
        if isinstance(obj, (set, frozenset)):
            return {"__set__": [self.encode(x) for x in obj]}
        if isinstance(obj, collections.abc.Mapping):
            kind = ("OrderedDict" if isinstance(obj, collections.OrderedDict) else
                    "Counter" if isinstance(obj, collections.Counter) else "dict")
            return {"__dict__": kind,
                    "items": [[self.encode(k), self.encode(v)] for k, v in obj.items()]}
        raise _Unsupported(
            f"chainrule.save can store tensors, ndarrays, numbers, strings, None, dtypes and "
            f"lists/tuples/dicts of them; got an object of type {type(obj).__name__}. Save "
            "its state_dict() instead (or save the object itself, not inside a container: "
            "it is then pickled, and loading it needs weights_only=False).")


def _decode(node, arrays, cache):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(x, arrays, cache) for x in node]
    if "__tensor__" in node:
        idx = node["__tensor__"]
        key = ("t", idx)
        if key not in cache:
            data = arrays[f"a{idx}"]
            if node.get("parameter"):
                from .nn.parameter import Parameter

                t = Parameter(_make(data, False, None), node.get("requires_grad", False))
            else:
                t = _make(data, False, None)
                if node.get("requires_grad"):
                    t.requires_grad = True
            cache[key] = t
        return cache[key]
    if "__ndarray__" in node:
        return arrays[f"a{node['__ndarray__']}"]
    if "__npscalar__" in node:
        return np.dtype(node["__npscalar__"]).type(_decode(node["v"], arrays, cache))
    if "__float__" in node:
        return float(node["__float__"])
    if "__complex__" in node:
        return complex(*node["__complex__"])
    if "__dtype__" in node:
        return _dtype.to_dtype(node["__dtype__"].split(".")[-1])
    if "__size__" in node:
        return Size(node["__size__"])
    if "__tuple__" in node:
        return tuple(_decode(x, arrays, cache) for x in node["__tuple__"])
    if "__set__" in node:
        return {_decode(x, arrays, cache) for x in node["__set__"]}
    if "__dict__" in node:
        pairs = [(_hashable(_decode(k, arrays, cache)), _decode(v, arrays, cache))
                 for k, v in node["items"]]
        if node["__dict__"] == "OrderedDict":
            return collections.OrderedDict(pairs)
        if node["__dict__"] == "Counter":
            return collections.Counter(dict(pairs))
        return dict(pairs)
    raise RuntimeError(f"chainrule.load: unknown entry in file: {sorted(node)}")


def _hashable(k):
    return tuple(_hashable(x) for x in k) if isinstance(k, list) else k


def save(obj, f, pickle_module=None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True) -> None:
    """Write ``obj`` to ``f``: tensors, numbers, strings and nested lists/tuples/dicts in a safe
    format; anything else (a module, an optimizer) pickled, which ``load`` opens only with
    ``weights_only=False``.

    ``f`` is a path or a binary file object. Tensors shared within ``obj`` are stored once and
    come back shared. A path ending in ``.safetensors`` gets that format (``obj`` must then be
    a dict of tensors, such as a ``state_dict()``).
    """
    if _is_safetensors_path(f):
        save_safetensors(obj, f)
        return
    enc = _Encoder()
    try:
        meta = {"format": _FORMAT, "obj": enc.encode(obj)}
        arrays = dict(enc.arrays)
    except _Unsupported:  # what the safe format cannot hold is pickled, as torch.save does
        dumps = (pickle_module or pickle).dumps
        meta = {"format": _FORMAT, "pickle": type(obj).__qualname__}
        arrays = {_PICKLE: np.frombuffer(dumps(obj, protocol=pickle_protocol), np.uint8)}
    arrays[_META] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            np.savez(fh, **arrays)
    else:
        np.savez(f, **arrays)


_WEIGHTS_ONLY_MSG = (
    "Weights only load failed. This file holds a pickled object of type {name} (written by "
    "chainrule.save for an object the safe tensor format cannot hold), and unpickling runs "
    "code named by the file. It can still be loaded: re-run chainrule.load with "
    "weights_only=False, but do that only if you trust the source of the checkpoint. To "
    "avoid the question, save tensors or state_dict() instead of whole objects.")


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Read an object written by :func:`save`, or a ``.safetensors`` file (a dict of tensors;
    see :func:`load_safetensors`). ``map_location`` is accepted and ignored: everything lives
    on the CPU. A pickled object (``save(model)``) loads only with ``weights_only=False``.

    >>> import io, chainrule as torch
    >>> buf = io.BytesIO()
    >>> torch.save(torch.nn.Linear(2, 1), buf)  # a whole module: pickled
    >>> _ = buf.seek(0)
    >>> torch.load(buf, weights_only=False)  # a trusted file: its pickle may run code
    Linear(in_features=2, out_features=1, bias=True)
    """
    if _is_safetensors_path(f):
        return load_safetensors(f)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            data = fh.read()
    else:
        data = f.read()
    if _looks_like_safetensors(data):
        return load_safetensors(data)
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as e:  # not a zip/npz at all
        raise RuntimeError("chainrule.load: the file is not a chainrule checkpoint (an .npz "
                           f"archive written by chainrule.save): {e}") from None
    with npz:
        if _META not in npz.files:
            raise RuntimeError(
                "chainrule.load: the file is not a chainrule checkpoint (it has no "
                f"'{_META}' entry). Files written by torch.save use pickle, which chainrule "
                "does not load; convert tensors with .numpy() and chainrule.tensor().")
        meta = json.loads(bytes(npz[_META]).decode())
        if meta.get("format") != _FORMAT:
            raise RuntimeError(f"chainrule.load: unsupported checkpoint format "
                               f"{meta.get('format')}")
        if "pickle" in meta:
            if weights_only is not False:  # None means True, as in torch >= 2.6
                raise pickle.UnpicklingError(_WEIGHTS_ONLY_MSG.format(name=meta["pickle"]))
            blob = npz[_PICKLE].tobytes()
            return (pickle_module or pickle).loads(blob, **pickle_load_args)
        arrays = {k: npz[k] for k in npz.files if k != _META}
    return _decode(meta["obj"], arrays, {})


# -- safetensors ------------------------------------------------------------------------------
# The format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
# length N, N bytes of JSON {name: {"dtype", "shape", "data_offsets": [begin, end]}, ...,
# "__metadata__": {str: str}} (padded with spaces), then the tensors' raw little-endian bytes,
# with offsets counted from the end of the header.
_ST_DTYPES = {  # safetensors name -> the NumPy dtype of its bytes
    "BOOL": np.dtype(np.bool_), "U8": np.dtype("u1"), "I8": np.dtype("i1"),
    "I16": np.dtype("<i2"), "U16": np.dtype("<u2"), "I32": np.dtype("<i4"),
    "U32": np.dtype("<u4"), "I64": np.dtype("<i8"), "U64": np.dtype("<u8"),
    "F16": np.dtype("<f2"), "BF16": np.dtype("<u2"), "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
}
_ST_NAMES = {np.dtype(np.bool_): "BOOL", np.dtype(np.uint8): "U8", np.dtype(np.int8): "I8",
             np.dtype(np.int16): "I16", np.dtype(np.int32): "I32", np.dtype(np.int64): "I64",
             np.dtype(np.float16): "F16", np.dtype(np.float32): "F32",
             np.dtype(np.float64): "F64"}
_ST_MAX_HEADER = 100_000_000  # the reference implementation's limit
# The reference writer stores tensors by dtype, in decreasing order of this list (its Dtype
# enum; item sizes never decrease along it), then by name: all tensors stay aligned.
_ST_RANK = ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64",
            "U64"]


def _st_error(msg: str) -> ValueError:
    return ValueError(f"invalid safetensors file: {msg}")


def _st_array(raw: np.ndarray, st_dtype: str) -> np.ndarray:
    """The stored array as a dtype chainrule has: BF16 is widened to float32 (exactly: a
    bfloat16 is the top half of a float32), U16/U32 to the next signed integer, U64 to int64
    when its values fit."""
    if st_dtype == "BF16":
        return (raw.astype(np.uint32) << 16).view(np.float32)
    if st_dtype == "U16":
        return raw.astype(np.int32)
    if st_dtype == "U32":
        return raw.astype(np.int64)
    if st_dtype == "U64":
        if raw.size and raw.max() > np.iinfo(np.int64).max:
            raise ValueError("safetensors: a U64 tensor holds values beyond int64, the widest "
                             "integer type chainrule has")
        return raw.astype(np.int64)
    if not raw.dtype.isnative:
        return raw.astype(raw.dtype.newbyteorder("="))
    return raw


def _read_all(f) -> bytearray:
    if isinstance(f, (bytes, bytearray, memoryview)):
        return bytearray(f)
    if isinstance(f, (str, os.PathLike)):
        buf = bytearray(os.path.getsize(f))  # read straight into one writable buffer
        with open(f, "rb") as fh:
            if fh.readinto(buf) != len(buf):
                raise OSError(f"could not read all of {os.fspath(f)!r}")
        return buf
    return bytearray(f.read())


def _parse_safetensors(buf: bytearray):
    if len(buf) < 8:
        raise _st_error(f"{len(buf)} bytes is shorter than the 8-byte header length")
    n = int.from_bytes(buf[:8], "little")
    if n > _ST_MAX_HEADER or 8 + n > len(buf):
        raise _st_error(f"header length {n} does not fit in a file of {len(buf)} bytes")
    try:
        text = bytes(buf[8:8 + n]).decode("utf-8")
        header = json.loads(text, object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as e:
        raise _st_error(f"the header is not valid UTF-8 JSON ({e})") from None
    if not text.startswith("{") or not isinstance(header, dict):
        raise _st_error("the header must be a JSON object")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise _st_error("__metadata__ must map strings to strings")
    data = memoryview(buf)[8 + n:]
    entries, spans = {}, []
    for name, info in header.items():
        try:
            st_dtype, shape = info["dtype"], info["shape"]
            begin, end = info["data_offsets"]
        except (TypeError, KeyError, ValueError):
            raise _st_error(f"tensor '{name}' needs dtype, shape and data_offsets "
                            f"[begin, end]; got {info!r}") from None
        if st_dtype not in _ST_DTYPES:
            raise ValueError(f"safetensors: tensor '{name}' has dtype {st_dtype}, which "
                             f"chainrule does not read (it reads {', '.join(_ST_DTYPES)})")
        if not (isinstance(shape, list) and all(type(s) is int and s >= 0 for s in shape)):
            raise _st_error(f"tensor '{name}' has shape {shape!r}")
        if not (type(begin) is int and type(end) is int and 0 <= begin <= end):
            raise _st_error(f"tensor '{name}' has data_offsets {[begin, end]!r}")
        dt = _ST_DTYPES[st_dtype]
        if end - begin != math.prod(shape) * dt.itemsize:
            raise _st_error(f"tensor '{name}' of dtype {st_dtype} and shape {shape} needs "
                            f"{math.prod(shape) * dt.itemsize} bytes; data_offsets "
                            f"{[begin, end]} give {end - begin}")
        entries[name] = (st_dtype, dt, shape, begin)
        spans.append((begin, end, name))
    pos = 0  # the tensors must tile the data section: no gaps, no overlaps, nothing after
    for begin, end, name in sorted(spans):
        if begin != pos:
            raise _st_error(f"tensor '{name}' starts at byte {begin} of the data section, "
                            f"expected {pos} (gap or overlap)")
        pos = end
    if pos != len(data):
        raise _st_error(f"the data section has {len(data)} bytes; the tensors cover {pos}")
    return entries, data, metadata


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate tensor names in the header")
    return dict(pairs)


def load_safetensors(f, *, with_metadata: bool = False):
    """Read a ``.safetensors`` file (a path, a binary file object, or bytes) into a dict of
    tensors, in the file's order; ``with_metadata=True`` also returns its ``__metadata__``.

    Note: NumPy has no bfloat16, so BF16 tensors come back as float32 (exact: every bfloat16
    is a float32). U16/U32 come back as int32/int64, U64 as int64 (if the values fit).

    >>> import chainrule as torch
    >>> from chainrule.serialization import load_safetensors, save_safetensors
    >>> blob = save_safetensors({"w": torch.ones(2, 3)})
    >>> load_safetensors(blob)["w"].shape
    torch.Size([2, 3])
    """
    entries, data, metadata = _parse_safetensors(_read_all(f))
    out = {}
    for name, (st_dtype, dt, shape, begin) in entries.items():
        raw = np.frombuffer(data, dtype=dt, count=math.prod(shape), offset=begin)
        if not raw.flags.aligned:  # files by other writers need not align their tensors
            raw = raw.copy()
        out[name] = _make(_st_array(raw, st_dtype).reshape(shape), False, None)
    return (out, metadata or {}) if with_metadata else out


def save_safetensors(tensors, f=None, metadata=None):
    """Write a dict of named tensors (or NumPy arrays) in the safetensors format to ``f`` (a
    path or a binary file object); without ``f``, return the bytes. ``metadata`` maps
    strings to strings (``{"format": "pt"}`` is what PyTorch writers add).

    Like the reference writer, tensors are laid out by dtype, widest first, then by name,
    and the header is padded with spaces to a multiple of 8 bytes: every tensor is aligned.
    """
    from .nn.parameter import is_lazy

    if not isinstance(tensors, collections.abc.Mapping):
        raise TypeError(f"save_safetensors expects a dict of tensors, got "
                        f"{type(tensors).__name__}")
    if metadata is not None and not all(isinstance(k, str) and isinstance(v, str)
                                        for k, v in metadata.items()):
        raise TypeError("safetensors metadata must map strings to strings")
    arrays = {}
    for name, t in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"safetensors tensor names must be strings, got {name!r}")
        if is_lazy(t):
            raise TypeError(f"safetensors cannot store '{name}', an UninitializedParameter: run "
                            "a forward pass through the lazy module first")
        arr = t._data if isinstance(t, Tensor) else np.asarray(t)
        st = _ST_NAMES.get(arr.dtype.newbyteorder("="))
        if st is None:
            raise TypeError(f"safetensors cannot store tensor '{name}' of dtype {arr.dtype} "
                            f"(it stores {', '.join(_ST_NAMES.values())})")
        arrays[name] = (st, np.asarray(arr, dtype=_ST_DTYPES[st], order="C"))  # keeps 0-d
    order = sorted(arrays, key=lambda k: (-_ST_RANK.index(arrays[k][0]), k))
    header, pos = {}, 0
    if metadata:
        header["__metadata__"] = dict(metadata)
    for name in order:
        st, arr = arrays[name]
        header[name] = {"dtype": st, "shape": list(arr.shape),
                        "data_offsets": [pos, pos + arr.nbytes]}
        pos += arr.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    parts = [len(text).to_bytes(8, "little"), text] + [arrays[k][1].tobytes() for k in order]
    if f is None:
        return b"".join(parts)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.writelines(parts)
    else:
        f.writelines(parts)
    return None


def _is_safetensors_path(f) -> bool:
    return isinstance(f, (str, os.PathLike)) and os.fspath(f).endswith(".safetensors")


def _looks_like_safetensors(data: bytes) -> bool:
    """Content sniffing for file objects: npz files start with the zip magic ``PK``."""
    if len(data) < 9:
        return False
    n = int.from_bytes(data[:8], "little")
    return 8 + n <= len(data) and data[8:9] == b"{"
