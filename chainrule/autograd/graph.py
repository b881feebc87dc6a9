"""Graph-level autograd API: Node, GradientEdge, saved-tensor hooks, multi-grad hooks.

``saved_tensors_hooks``: while active, each array a built-in node saves is passed (as a
Tensor) to ``pack_hook`` when the node is made, and ``unpack_hook``'s result is used when the
node runs in backward (see ``autograd/function.py``: the hooks ride on the same zero-cost
trigger as in-place version checks). Custom Functions' ``save_for_backward`` is not hooked
yet. ``save_on_cpu`` is exact as is: everything already lives in CPU memory.
"""
from __future__ import annotations

import threading
from collections import namedtuple

from .function import (AccumulateGrad, Node, RemovableHandle, edge, saved_hooks_entered,
                       saved_hooks_exited)

__all__ = [
    "GradientEdge",
    "Node",
    "current_saved_tensors_hooks",
    "disable_saved_tensors_hooks",
    "get_gradient_edge",
    "increment_version",
    "register_multi_grad_hook",
    "save_on_cpu",
    "saved_tensors_hooks",
]

GradientEdge = namedtuple("GradientEdge", ("node", "output_nr"))


def get_gradient_edge(tensor) -> GradientEdge:
    """The edge a node that uses ``tensor`` would get: its grad_fn (or AccumulateGrad)."""
    if not tensor.requires_grad:
        raise RuntimeError(
            "It is not possible to get the gradient edge for a Tensor that does not require "
            "gradients")
    node, nr = edge(tensor)
    return GradientEdge(node, nr)


def increment_version(tensor) -> None:
    """Bump the version counter of ``tensor`` (as an in-place op would)."""
    tensor._bump()


# ======================================================================================
# Saved-tensor hooks
# ======================================================================================
class _HookState(threading.local):
    def __init__(self):
        self.stack = []
        self.disabled = None


_hooks = _HookState()


def current_saved_tensors_hooks():
    """The innermost active ``(pack_hook, unpack_hook)`` pair, or None."""
    return _hooks.stack[-1] if _hooks.stack else None


class saved_tensors_hooks:
    """Context manager setting pack/unpack hooks for tensors saved for backward."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _hooks.disabled is not None:
            raise RuntimeError(_hooks.disabled)
        _hooks.stack.append((self.pack_hook, self.unpack_hook))
        saved_hooks_entered()
        return self

    def __exit__(self, *exc):
        _hooks.stack.pop()
        saved_hooks_exited()
        return False


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors go to CPU memory (they already do in chainrule)."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        super().__init__(lambda t: t, lambda t: t)


class disable_saved_tensors_hooks:
    """Inside, entering ``saved_tensors_hooks`` raises ``RuntimeError(error_message)``."""

    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        self.prev = _hooks.disabled
        _hooks.disabled = self.error_message
        return self

    def __exit__(self, *exc):
        _hooks.disabled = self.prev
        return False


# ======================================================================================
# register_multi_grad_hook
# ======================================================================================
class _MultiHandle(RemovableHandle):
    def __init__(self, handles):
        self.handles = handles

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """Call ``fn`` once the gradients of ``tensors`` have been computed.

    ``mode="all"``: ``fn(grads)`` with one gradient per tensor, called once all of them
    arrived (chainrule cannot tell which tensors a backward pass will not reach, so a pass
    that skips some of them does not call ``fn``; PyTorch calls it with None there).
    ``mode="any"``: ``fn(grad)`` with the first gradient; the next call comes after every
    tensor received its gradient (or at the first gradient of a later pass for the same one).
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    n = len(tensors)
    pending = {}

    def make(i):
        def hook(grad):
            if mode == "any":
                if not pending:
                    fn(grad)
                if i in pending:  # a new pass
                    pending.clear()
                    fn(grad)
                pending[i] = True
                if len(pending) == n:
                    pending.clear()
                return
            pending[i] = grad
            if len(pending) == n:
                grads = tuple(pending[k] for k in range(n))
                pending.clear()
                fn(grads)
            return
        return hook

    return _MultiHandle([t.register_hook(make(i)) for i, t in enumerate(tensors)])


del AccumulateGrad
