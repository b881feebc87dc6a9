"""torch.jit: no TorchScript compiler here; ``script``/``trace`` hand back what they are given.

Code that decorates helpers with ``@torch.jit.script``, asks ``torch.jit.is_scripting()``
or marks methods ``@torch.jit.ignore`` runs eagerly, unchanged.
"""
from __future__ import annotations

from typing import Final  # noqa: F401 - torch.jit.Final annotates module constants

__all__ = ["Final", "export", "ignore", "is_scripting", "is_tracing", "script", "trace",
           "unused"]


def script(obj=None, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """Returns ``obj`` (a function or module) unchanged; it runs eagerly."""
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """Returns ``func`` unchanged (nothing is recorded)."""
    return func


def ignore(drop=False, **kwargs):
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def is_scripting() -> bool:
    return False


def is_tracing() -> bool:
    return False
