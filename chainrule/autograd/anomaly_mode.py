"""Anomaly detection: detect_anomaly() and set_detect_anomaly(mode) (PyTorch's API).

While enabled, every gradient a node returns in backward is checked for NaN, and the first
bad one raises ``RuntimeError("Function 'DivBackward0' returned nan values in its 0th
output.")``.

How it hooks in: the engine calls ``run_backward`` for every ``backward``/``autograd.grad``;
while anomaly mode is on, ``chainrule.autograd.run_backward`` is wrapped so that before a
pass it walks the graph from the roots (iteratively) and registers a ``Node.register_hook``
check on every node, removed after the pass. An engine that calls ``check_node`` itself can
set ``engine.ANOMALY_NATIVE = True`` and no wrapping happens. Forward tracebacks are not
recorded (that needs a hook where nodes are created).
"""
from __future__ import annotations

import threading
import warnings

import numpy as np

__all__ = [
    "check_node",
    "detect_anomaly",
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "set_detect_anomaly",
]


class _State(threading.local):
    enabled = False
    check_nan = True


_state = _State()
_installed = None  # the original run_backward while our wrapper is in place


def is_anomaly_enabled() -> bool:
    return _state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return _state.check_nan


def check_node(node, grads) -> None:
    """Raise if any gradient ``node`` returned contains NaN (the engine may call this)."""
    if not _state.check_nan:
        return
    for i, g in enumerate(grads):
        if g is None:
            continue
        data = g._data if hasattr(g, "_data") else np.asarray(g)
        if data.dtype.kind in "fc" and np.isnan(data).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th "
                               "output.")


def _hook_graph(tensors):
    """Register a NaN check after every node reachable from ``tensors``; return undo info."""
    from .function import AccumulateGrad

    added = []
    seen = set()
    stack = [t.grad_fn for t in tensors if getattr(t, "grad_fn", None) is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if type(node) is AccumulateGrad:
            continue
        had = "_hooks" in node.__dict__
        handle = node.register_hook(lambda gi, go, node=node: check_node(node, gi))
        added.append((node, handle, had))
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                stack.append(child)
    return added


def _unhook(added):
    for node, handle, had in added:
        handle.remove()
        if not had and not node.__dict__.get("_hooks"):
            node.__dict__.pop("_hooks", None)


def _checked_run_backward(tensors, *args, **kwargs):
    if not _state.enabled:
        return _installed(tensors, *args, **kwargs)
    added = _hook_graph(tensors)
    try:
        return _installed(tensors, *args, **kwargs)
    finally:
        _unhook(added)


def _install():
    global _installed
    from .. import autograd
    from . import engine

    if getattr(engine, "ANOMALY_NATIVE", False) or _installed is not None:
        return
    _installed = autograd.run_backward
    autograd.run_backward = _checked_run_backward


def _uninstall():
    global _installed
    from .. import autograd

    if _installed is not None and autograd.run_backward is _checked_run_backward:
        autograd.run_backward = _installed
    _installed = None


def _set(enabled, check_nan):
    _state.enabled, _state.check_nan = enabled, check_nan
    if enabled:
        _install()
    else:
        _uninstall()


class detect_anomaly:
    """Context manager / decorator: check every backward gradient for NaN.

    >>> import chainrule as torch
    >>> x = torch.zeros(1, requires_grad=True)
    >>> with torch.autograd.anomaly_mode.detect_anomaly():   # doctest: +SKIP
    ...     (x / x).sum().backward()
    Traceback (most recent call last):
    RuntimeError: Function 'DivBackward0' returned nan values in its 0th output.
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self.prev = (_state.enabled, _state.check_nan)
        _set(True, self.check_nan)

    def __exit__(self, *exc):
        _set(*self.prev)
        return False

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return func(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off; takes effect at once, and as a context manager
    restores the previous setting on exit."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self.prev = (_state.enabled, _state.check_nan)
        _set(bool(mode), check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _set(*self.prev)
        return False
