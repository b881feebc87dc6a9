"""save/load: tensors and nested containers of them in a safe ``.npz`` file (no pickle).

The file is a NumPy ``.npz`` archive: one array per distinct tensor or ndarray, plus a
``__chainrule__`` entry holding the container structure as JSON. Loading never runs code, so
``weights_only`` is accepted and always effectively True.

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

import numpy as np

from . import _dtype
from .tensor import Size, Tensor, _make

__all__ = ["load", "save"]

_META = "__chainrule__"
_FORMAT = 1


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
            from .nn.parameter import Parameter

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
        raise TypeError(
            f"chainrule.save can store tensors, ndarrays, numbers, strings, None, dtypes and "
            f"lists/tuples/dicts of them; got an object of type {type(obj).__name__}. Save "
            "its state_dict() instead.")


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
    """Write ``obj`` (tensors, numbers, strings, and nested lists/tuples/dicts) to ``f``.

    ``f`` is a path or a binary file object. Tensors shared within ``obj`` are stored once and
    come back shared.
    """
    enc = _Encoder()
    tree = enc.encode(obj)
    meta = json.dumps({"format": _FORMAT, "obj": tree}).encode()
    arrays = dict(enc.arrays)
    arrays[_META] = np.frombuffer(meta, dtype=np.uint8)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            np.savez(fh, **arrays)
    else:
        np.savez(f, **arrays)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Read an object written by :func:`save` (``map_location`` is accepted and ignored:
    everything lives on the CPU)."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            data = fh.read()
    else:
        data = f.read()
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
        arrays = {k: npz[k] for k in npz.files if k != _META}
    return _decode(meta["obj"], arrays, {})
