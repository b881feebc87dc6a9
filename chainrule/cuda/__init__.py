"""chainrule computes on the CPU: ``cuda.is_available()`` is False so device-picking code
(``'cuda' if torch.cuda.is_available() else 'cpu'``) takes the CPU branch.

Queries that PyTorch answers without a GPU answer the same here (``device_count()`` is 0,
``memory_allocated()`` is 0, ``empty_cache()`` does nothing); calls that need a GPU raise
PyTorch's ``AssertionError('Torch not compiled with CUDA enabled')``.
"""
from __future__ import annotations

from . import amp  # noqa: F401 - torch.cuda.amp.GradScaler / autocast

_NO_CUDA = "Torch not compiled with CUDA enabled"


def _lazy_init():
    raise AssertionError(_NO_CUDA)


def is_available() -> bool:
    return False


def is_initialized() -> bool:
    return False


def device_count() -> int:
    return 0


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def current_device() -> int:
    _lazy_init()


def get_device_name(device=None) -> str:
    _lazy_init()


def get_device_properties(device=None):
    _lazy_init()


def get_device_capability(device=None):
    _lazy_init()


def set_device(device) -> None:
    _lazy_init()


def get_rng_state(device="cuda"):
    _lazy_init()


def manual_seed(seed: int) -> None:
    """Accepted for compatibility; there is no CUDA generator to seed."""


def manual_seed_all(seed: int) -> None:
    """Accepted for compatibility; there is no CUDA generator to seed."""


def seed() -> None:
    """Nothing to seed."""


def seed_all() -> None:
    """Nothing to seed."""


def synchronize(device=None) -> None:
    """Nothing runs asynchronously on the CPU."""


def empty_cache() -> None:
    """There is no CUDA caching allocator to release."""


def memory_allocated(device=None) -> int:
    return 0


def max_memory_allocated(device=None) -> int:
    return 0


def memory_reserved(device=None) -> int:
    return 0


def max_memory_reserved(device=None) -> int:
    return 0


def reset_peak_memory_stats(device=None) -> None:
    """No CUDA memory to track."""
