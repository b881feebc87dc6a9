"""finfo and iinfo: machine limits of chainrule dtypes (like torch.finfo / torch.iinfo)."""
from __future__ import annotations

import numpy as np

from . import _dtype


class finfo:
    """Limits of a floating dtype: ``eps``, ``max``, ``min``, ``tiny``, ``resolution``, ``bits``.

    >>> import chainrule as torch
    >>> torch.finfo(torch.float32).eps
    1.1920928955078125e-07
    """

    def __init__(self, type=None):  # noqa: A002 - torch's parameter name
        if type is _dtype.bfloat16:  # no NumPy type to ask: PyTorch's values
            self.dtype, self.bits, self.eps, self.resolution = "bfloat16", 16, 0.0078125, 0.01
            self.max, self.min = 3.3895313892515355e38, -3.3895313892515355e38
            self.tiny = self.smallest_normal = 1.1754943508222875e-38
            return
        d = _dtype.get_default_dtype() if type is None else _dtype.to_dtype(type)
        if not (d.is_floating_point or d.is_complex):
            raise TypeError(f"torch.finfo() requires a floating point input type. Use "
                            f"torch.iinfo to handle '{d}'")
        info = np.finfo(d.to_real().np)
        self.dtype = d.to_real().name
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = 10.0 ** -int(info.precision)  # exact, like torch (not float16(1e-3))

    def __repr__(self) -> str:
        # PyTorch prints the limits with C's %g (six significant digits).
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype: ``min``, ``max``, ``bits``."""

    def __init__(self, type):  # noqa: A002
        d = _dtype.to_dtype(type)
        if d.is_floating_point or d.is_complex:
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo "
                            f"to handle '{d}'")
        if d is _dtype.bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        info = np.iinfo(d.np)
        self.dtype = d.name
        self.bits = int(info.bits)
        self.min = int(info.min)
        self.max = int(info.max)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
