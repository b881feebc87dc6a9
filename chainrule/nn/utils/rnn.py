"""Variable-length sequences: PackedSequence, pack/pad helpers (PyTorch's layout).

A PackedSequence stores the time steps of a batch sorted by decreasing length, one after
another: ``data[offset_t : offset_t + batch_sizes[t]]`` holds step t of the batch_sizes[t]
sequences still running. All functions here are differentiable compositions of ops.

>>> import chainrule as torch
>>> from chainrule.nn.utils.rnn import pad_sequence
>>> pad_sequence([torch.ones(2), torch.zeros(3)], batch_first=True, padding_value=-1)
tensor([[ 1.,  1., -1.],
        [ 0.,  0.,  0.]])
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ...tensor import Tensor, _make

__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


def _cr():
    import chainrule

    return chainrule


def _long(values) -> Tensor:
    return _make(np.asarray(values, dtype=np.int64), False, None)


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Packed time-major data with per-step batch sizes (see the module docstring)."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _long(np.argsort(sorted_indices._data))
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def double(self) -> PackedSequence:
        return self.to(_cr().float64)

    def float(self) -> PackedSequence:
        return self.to(_cr().float32)

    @property
    def is_cuda(self) -> bool:
        return False


def _lengths_array(lengths) -> np.ndarray:
    arr = lengths._data if isinstance(lengths, Tensor) else np.asarray(lengths)
    return np.asarray(arr, dtype=np.int64).reshape(-1)


def _pack_sorted(padded: Tensor, lengths_sorted: np.ndarray) -> tuple[Tensor, np.ndarray]:
    """Pack a time-major (T, B, *) tensor whose batch is sorted by decreasing length."""
    t_max = int(lengths_sorted[0])
    batch_sizes = np.array([(lengths_sorted > t).sum() for t in range(t_max)], dtype=np.int64)
    pieces = [padded[t, :int(b)] for t, b in enumerate(batch_sizes)]
    return _cr().cat(pieces, 0), batch_sizes


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with batch_first) of sequences."""
    lens = _lengths_array(lengths)
    if (lens <= 0).any():
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if enforce_sorted:
        if (np.diff(lens) > 0).any():
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_indices = _long(order)
        lens = lens[order]
    if batch_first:
        input = input.transpose(0, 1)
    if sorted_indices is not None:
        input = _cr().index_select(input, 1, sorted_indices)
    data, batch_sizes = _pack_sorted(input, lens)
    return PackedSequence(data, _long(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length=None):
    """Inverse of pack_padded_sequence: returns (padded, lengths) in the original order."""
    cr = _cr()
    data, batch_sizes = sequence.data, sequence.batch_sizes._data
    max_batch = int(batch_sizes[0])
    t_max = len(batch_sizes)
    if total_length is not None:
        if total_length < t_max:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {t_max}")
    else:
        total_length = t_max
    feat = tuple(data.shape[1:])
    rows, offset = [], 0
    for b in batch_sizes:
        b = int(b)
        step = data[offset:offset + b]
        offset += b
        if b < max_batch:
            fill = _make(np.full((max_batch - b,) + feat, padding_value,
                                 dtype=data._data.dtype), False, None)
            step = cr.cat([step, fill], 0)
        rows.append(step)
    for _ in range(total_length - t_max):
        rows.append(_make(np.full((max_batch,) + feat, padding_value, dtype=data._data.dtype),
                          False, None))
    padded = cr.stack(rows, 0)
    lengths = np.array([(batch_sizes > i).sum() for i in range(max_batch)], dtype=np.int64)
    if sequence.unsorted_indices is not None:
        padded = cr.index_select(padded, 1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices._data]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, _long(lengths)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shapes (L_i, *) into (L_max, B, *) (or (B, L_max, *)), padding."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    cr = _cr()
    sequences = list(sequences)
    max_len = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        n = max_len - s.shape[0]
        if n:
            fill = _make(np.full((n,) + tuple(s.shape[1:]), padding_value,
                                 dtype=s._data.dtype), False, None)
            s = cr.cat([s, fill] if padding_side == "right" else [fill, s], 0)
        padded.append(s)
    return cr.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(_lengths_array(lengths))]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
