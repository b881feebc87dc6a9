"""parameters_to_vector and vector_to_parameters."""
from __future__ import annotations

import numpy as np

from ...tensor import Tensor


def parameters_to_vector(parameters) -> Tensor:
    """One 1-D tensor holding every parameter, flattened and concatenated (differentiable).

    >>> import chainrule as torch
    >>> torch.nn.utils.parameters_to_vector(torch.nn.Linear(3, 2).parameters()).shape
    torch.Size([8])
    """
    import chainrule

    return chainrule.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of ``vec`` into the parameters' data."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    flat = vec._data.reshape(-1)
    i = 0
    for p in parameters:
        n = p._data.size
        p._data = np.array(flat[i:i + n].reshape(p._data.shape), dtype=p._data.dtype)
        i += n
