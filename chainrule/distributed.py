"""torch.distributed: chainrule runs in one process, so no process group can exist.

``is_available()`` and ``is_initialized()`` are False, so the usual
``if dist.is_available() and dist.is_initialized():`` guards take the single-process path;
calls that need a process group raise PyTorch's ValueError.
"""
from __future__ import annotations

__all__ = ["barrier", "get_rank", "get_world_size", "is_available", "is_initialized"]

_NO_GROUP = ("Default process group has not been initialized, please make sure to call "
             "init_process_group.")


def is_available() -> bool:
    return False


def is_initialized() -> bool:
    return False


def get_rank(group=None) -> int:
    raise ValueError(_NO_GROUP)


def get_world_size(group=None) -> int:
    raise ValueError(_NO_GROUP)


def barrier(group=None, async_op=False, device_ids=None):
    raise ValueError(_NO_GROUP)
