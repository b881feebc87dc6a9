"""Embedding: a lookup table of learned vectors."""
from __future__ import annotations

import numpy as np

from ...tensor import _make
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import _empty
from .module import Module

__all__ = ["Embedding", "EmbeddingBag"]


class Embedding(Module):
    """Row ``i`` of ``weight`` for each index ``i`` of the input.

    >>> import chainrule as torch
    >>> torch.nn.Embedding(10, 3)(torch.tensor([[1, 2]])).shape
    torch.Size([1, 2, 3])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None,
                 max_norm=None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight=None, _freeze: bool = False, device=None,
                 dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if padding_idx > 0:
                if padding_idx >= num_embeddings:
                    raise AssertionError("Padding_idx must be within num_embeddings")
            elif padding_idx < 0:
                if padding_idx < -num_embeddings:
                    raise AssertionError("Padding_idx must be within num_embeddings")
                padding_idx = num_embeddings + padding_idx
        self.padding_idx = padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(_empty((num_embeddings, embedding_dim), dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError("Shape of weight does not match num_embeddings and "
                                     "embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        if self.sparse:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)


class EmbeddingBag(Module):
    """Sums, averages or maxes the embeddings of each bag of indices.

    Bags are the rows of a 2-D input, or slices ``input[offsets[i]:offsets[i + 1]]`` of a 1-D
    input. Entries equal to ``padding_idx`` are left out; an empty bag gives zeros. Uses
    ``F.embedding_bag`` when it exists, otherwise ``F.embedding`` and reductions.

    >>> import chainrule as torch
    >>> bag = torch.nn.EmbeddingBag(10, 3, mode="sum")
    >>> bag(torch.tensor([1, 2, 4, 5, 4]), torch.tensor([0, 2])).shape
    torch.Size([2, 3])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight=None, include_last_offset: bool = False,
                 padding_idx=None, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"mode has to be one of sum, mean or max, got {mode}")
        self.mode, self.include_last_offset = mode, include_last_offset
        if _weight is None:
            self.weight = Parameter(_empty((num_embeddings, embedding_dim), dtype))
            self.reset_parameters()
        else:
            self.weight = Parameter(_weight)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def _bags(self, input, offsets):
        """(B, L) indices, a (B, L) validity mask and, for 1-D input, each slot's position."""
        idx = np.asarray(input._data, dtype=np.int64)
        if idx.ndim == 2:
            if offsets is not None:
                raise ValueError(
                    "if input is 2D, then offsets has to be None, as input is treated is a "
                    "mini-batch of fixed length sequences. However, found offsets of type "
                    f"{type(offsets)}")
            return idx, np.ones(idx.shape, dtype=bool), None
        if idx.ndim != 1:
            raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                             f"{idx.ndim}")
        if offsets is None or offsets.dim() != 1:
            raise ValueError(f"offsets has to be a 1D Tensor but got {offsets}")
        off = np.asarray(offsets._data, dtype=np.int64)
        starts = off[:-1] if self.include_last_offset else off
        ends = off[1:] if self.include_last_offset else np.append(off[1:], len(idx))
        lengths = ends - starts
        width = max(int(lengths.max()) if len(lengths) else 0, 1)
        valid = np.arange(width)[None, :] < lengths[:, None]
        pos = np.where(valid, starts[:, None] + np.arange(width)[None, :], 0)
        return np.where(valid, idx[pos] if len(idx) else 0, 0), valid, pos

    def forward(self, input, offsets=None, per_sample_weights=None):
        fn = getattr(F, "embedding_bag", None)
        if fn is not None:
            return fn(input, self.weight, offsets, self.max_norm, self.norm_type,
                      self.scale_grad_by_freq, self.mode, self.sparse, per_sample_weights,
                      self.include_last_offset, self.padding_idx)
        if per_sample_weights is not None and self.mode != "sum":
            raise NotImplementedError(
                "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                f"supported for mode='sum' (got mode='{self.mode}'). Please open a feature "
                "request on GitHub.")
        cr = _cr()
        idx, valid, pos = self._bags(input, offsets)
        if self.padding_idx is not None:
            valid = valid & (idx != self.padding_idx)
        dt = self.weight._data.dtype
        emb = F.embedding(_make(idx, False, None), self.weight, None, self.max_norm,
                          self.norm_type, self.scale_grad_by_freq, self.sparse)  # (B, L, D)
        if per_sample_weights is not None:
            w = per_sample_weights if pos is None else per_sample_weights[_make(pos, False,
                                                                                  None)]
            emb = emb * w.unsqueeze(-1)
        count = valid.sum(1)
        if self.mode == "max":
            out = (emb + _make(np.where(valid, 0.0, -np.inf).astype(dt)[..., None], False,
                               None)).amax(1)
            if (count == 0).any():  # empty bags give zeros, as in PyTorch
                out = cr.where(_make((count > 0)[:, None], False, None), out,
                               _make(np.zeros((), dt), False, None))
            return out
        total = (emb * _make(valid[..., None].astype(dt), False, None)).sum(1)
        if self.mode == "sum":
            return total
        return total / _make(np.maximum(count, 1)[:, None].astype(dt), False, None)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        mode: str = "mean", sparse: bool = False,
                        include_last_offset: bool = False, padding_idx=None) -> EmbeddingBag:
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                  embeddings, include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag


def _cr():
    import chainrule

    return chainrule
