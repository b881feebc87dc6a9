"""torch.cpu: the device chainrule computes on (one CPU device, nothing asynchronous)."""
from __future__ import annotations

from . import amp  # noqa: F401 - torch.cpu.amp.autocast

__all__ = ["current_device", "device_count", "is_available", "is_initialized", "synchronize"]


def is_available() -> bool:
    return True


def is_initialized() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device=None) -> None:
    """Nothing runs asynchronously on the CPU."""
