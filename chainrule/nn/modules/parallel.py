"""``nn.DataParallel``: on the one CPU device it runs the wrapped module as it is."""
from __future__ import annotations

from .module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    """Holds ``module`` as ``self.module`` (so state_dict keys start with ``module.``, as in
    PyTorch) and calls it: with one CPU device there is nothing to scatter or gather."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = [] if device_ids is None else list(device_ids)
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
