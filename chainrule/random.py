"""torch.random: the global generator's seed and state, and ``fork_rng``.

>>> import chainrule as torch
>>> with torch.random.fork_rng():
...     _ = torch.rand(3)  # the global state is restored on exit
"""
from __future__ import annotations

import contextlib

from .ops.creation import (Generator, default_generator, get_rng_state, initial_seed,
                           manual_seed, seed, set_rng_state)

__all__ = ["Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed",
           "manual_seed", "seed", "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller="fork_rng",
             _devices_kw="devices", device_type="cuda"):
    """Run the block with a copy of the global random state, restored afterwards."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
