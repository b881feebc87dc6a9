"""Printing tensors the way PyTorch prints them."""
from __future__ import annotations

import numpy as np


def tensor_repr(t) -> str:
    body = np.array2string(t._data, separator=", ", prefix="tensor(", precision=4)
    extras = []
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
