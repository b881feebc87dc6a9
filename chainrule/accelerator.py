"""torch.accelerator: the device-agnostic queries newer tutorials use to pick a device.

No accelerator exists here, so ``torch.accelerator.current_accelerator()`` is None and the
usual ``... if torch.accelerator.is_available() else "cpu"`` picks the CPU.
"""
from __future__ import annotations


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False):
    return None


def device_count() -> int:
    return 0


def current_device_index() -> int:
    raise RuntimeError("Cannot access accelerator device when none is available.")


current_device_idx = current_device_index


def set_device_index(device) -> None:
    raise RuntimeError("Cannot access accelerator device when none is available.")


set_device_idx = set_device_index


def synchronize(device=None) -> None:
    raise RuntimeError("Cannot access accelerator device when none is available.")
