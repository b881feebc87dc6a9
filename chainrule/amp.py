"""Automatic mixed precision: ``GradScaler`` (loss scaling) and ``autocast`` (a context).

chainrule computes every op in the dtype of its inputs: ``autocast`` is accepted (as a
context manager or decorator) but changes no dtypes, so code written for AMP runs in full
precision. ``GradScaler('cpu')`` scales, unscales, skips steps with inf/NaN gradients and
adapts the scale exactly as PyTorch's does; a CUDA scaler disables itself (no CUDA here).

>>> import chainrule as torch
>>> scaler = torch.amp.GradScaler("cpu")
>>> scaler.get_scale()
65536.0
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

__all__ = ["GradScaler", "autocast"]


def _device_type(device) -> str:
    return str(getattr(device, "type", device)).split(":")[0]


class GradScaler:
    """Scale the loss up before backward, unscale the gradients before the optimizer step.

    >>> import chainrule as torch
    >>> p = torch.nn.Parameter(torch.ones(2))
    >>> opt = torch.optim.SGD([p], lr=0.1)
    >>> scaler = torch.amp.GradScaler("cpu")
    >>> scaler.scale((p * 2).sum()).backward()
    >>> scaler.step(opt); scaler.update()
    >>> p
    Parameter containing:
    tensor([0.8000, 0.8000], requires_grad=True)
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = _device_type(device)
        if enabled and self._device == "cuda":
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available."
                          "  Disabling.", stacklevel=2)
            enabled = False
        self._enabled = enabled
        self._scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._per_optimizer_states: dict = {}

    def _state(self, optimizer) -> dict:
        return self._per_optimizer_states.setdefault(id(optimizer),
                                                     {"stage": "ready", "found_inf": False})

    def scale(self, outputs):
        """``outputs`` times the current scale (a tensor, or nested lists/tuples of them)."""
        from .tensor import Tensor

        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * _scale_tensor(self._scale)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def unscale_(self, optimizer) -> None:
        """Divide the optimizer's gradients by the scale in place; note any inf/NaN."""
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] == "unscaled":
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if state["stage"] == "stepped":
            raise RuntimeError("unscale_() is being called after step().")
        inv = np.float32(np.float64(1.0) / np.float32(self._scale))
        found = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                g._data *= g._data.dtype.type(inv)
                g._bump()
                found = found or not bool(np.isfinite(g._data).all())
        state["stage"] = "unscaled"
        state["found_inf"] = found

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step()`` unless the unscaled gradients hold inf/NaN (then skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        state = self._state(optimizer)
        if state["stage"] == "stepped":
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == "ready":
            self.unscale_(optimizer)
        retval = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = "stepped"
        return retval

    def update(self, new_scale=None) -> None:
        """Back off after an inf/NaN step, grow after ``growth_interval`` clean ones."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale)
        else:
            if not self._per_optimizer_states:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(s["found_inf"] for s in self._per_optimizer_states.values()):
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale *= self._growth_factor
                    self._growth_tracker = 0
            self._scale = float(np.float32(self._scale))
        self._per_optimizer_states = {}

    def get_scale(self) -> float:
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict:
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])


def _scale_tensor(value: float):
    from .tensor import _make

    return _make(np.asarray(value, dtype=np.float32), False, None)


class autocast:
    """Mixed-precision region (accepted; chainrule keeps every op in its input dtype).

    >>> import chainrule as torch
    >>> with torch.autocast(device_type="cpu", enabled=False):
    ...     y = torch.ones(2, 2) @ torch.ones(2, 2)
    >>> y.dtype
    torch.float32
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled=None) -> None:
        from . import _dtype

        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: "
                             f"`{type(device_type)}`")
        self.device = device_type
        if device_type == "cuda" and enabled:
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling "
                          "autocast.", stacklevel=2)
            enabled = False
        default = _dtype.float16 if device_type == "cuda" else None
        self.fast_dtype = dtype if dtype is not None else default
        self._enabled = bool(enabled)
        self._cache_enabled = cache_enabled

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return wrapper
