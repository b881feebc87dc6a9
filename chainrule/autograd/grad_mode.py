"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode (thread-local)."""
from __future__ import annotations

import functools
import inspect
import sys
import threading


class _GradState(threading.local):
    # Class attributes are the defaults every new thread starts from.
    enabled = True
    inference = False


grad_state = _GradState()

# How many inference_mode blocks are open, in any thread. Ops that make a tensor without a
# node test this plain list first (much cheaper than reading the thread-local flag), and
# only while it is non-zero ask grad_state.inference whether to mark the result.
inference_depth = [0]


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad are being recorded."""
    return grad_state.enabled


def is_inference_mode_enabled() -> bool:
    return grad_state.inference


class _DecoratorContextManager:
    """Base for grad-mode objects usable both as ``with`` blocks and as decorators."""

    def __call__(self, func):
        if isinstance(func, type) or not callable(func):
            raise TypeError(f"{type(self).__name__} can only decorate functions, got {func!r}")
        if inspect.isgeneratorfunction(func):
            return self._wrap_generator(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper

    def _wrap_generator(self, func):
        """The mode holds while the generator runs, not between its yields."""

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            gen = func(*args, **kwargs)
            try:
                with self.clone():
                    value = gen.send(None)
                while True:
                    try:
                        sent = yield value
                    except GeneratorExit:
                        with self.clone():
                            gen.close()
                        raise
                    except BaseException:  # noqa: BLE001 - forwarded into the generator
                        with self.clone():
                            value = gen.throw(*sys.exc_info())
                    else:
                        with self.clone():
                            value = gen.send(sent)
            except StopIteration as stop:
                return stop.value

        return wrapper

    def clone(self):
        return type(self)()


class _BareDecoratable(_DecoratorContextManager):
    """Also usable as a bare decorator: ``@no_grad`` as well as ``@no_grad()``."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_BareDecoratable):
    """Context manager / decorator that disables graph recording.

    >>> import chainrule as torch
    >>> x = torch.ones(2, requires_grad=True)
    >>> with torch.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    def __enter__(self):
        self.prev = grad_state.enabled
        grad_state.enabled = False

    def __exit__(self, *exc):
        grad_state.enabled = self.prev
        return False


class enable_grad(_BareDecoratable):
    """Context manager / decorator that enables graph recording (e.g. inside ``no_grad``)."""

    def __enter__(self):
        self.prev = grad_state.enabled
        grad_state.enabled = True

    def __exit__(self, *exc):
        grad_state.enabled = self.prev
        return False


class set_grad_enabled(_DecoratorContextManager):
    """Turn recording on or off; takes effect at once, and as a context manager restores it."""

    def __init__(self, mode: bool):
        self.prev = grad_state.enabled
        self.mode = bool(mode)
        grad_state.enabled = self.mode

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        grad_state.enabled = self.prev
        return False

    def clone(self):
        return set_grad_enabled(self.mode)


class inference_mode(_DecoratorContextManager):
    """Like ``no_grad``; tensors made inside are marked as inference tensors."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            return cls()(mode)  # bare @inference_mode
        return super().__new__(cls)

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def __enter__(self):
        self.prev = (grad_state.enabled, grad_state.inference)
        if self.mode:
            grad_state.enabled = False
            grad_state.inference = True
            inference_depth[0] += 1
        else:  # PyTorch: inference_mode(False) turns inference off and grad on
            grad_state.enabled = True
            grad_state.inference = False

    def __exit__(self, *exc):
        grad_state.enabled, grad_state.inference = self.prev
        if self.mode:
            inference_depth[0] -= 1
        return False

    def clone(self):
        return inference_mode(self.mode)
