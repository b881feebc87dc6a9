"""``torch.profiler``'s interface, timing the regions the user marks.

chainrule records no per-op events (its ops are Python calls; ``cProfile`` sees them all).
``profile`` times the whole block and every ``record_function`` region inside it, and
``key_averages().table()`` reports them in PyTorch's layout (CPU time only).
"""
from __future__ import annotations

import enum
import json
import time

__all__ = ["ProfilerActivity", "profile", "record_function", "schedule",
           "tensorboard_trace_handler"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    CUDA = 1
    XPU = 2
    MTIA = 3


_active: list = []  # the profiles currently recording (innermost last)


class _Event:
    __slots__ = ("children", "end", "name", "start")

    def __init__(self, name, start):
        self.name, self.start, self.end, self.children = name, start, None, 0.0


class record_function:
    """Mark a region: its wall time appears under ``name`` in an enclosing ``profile``."""

    def __init__(self, name: str, args=None):
        self.name = name
        self._event = None

    def __enter__(self):
        if _active:
            self._event = _Event(self.name, time.perf_counter_ns())
            _active[-1]._stack.append(self._event)
        return self

    def __exit__(self, *exc):
        if self._event is not None and _active:
            prof = _active[-1]
            ev = self._event
            ev.end = time.perf_counter_ns()
            if prof._stack and prof._stack[-1] is ev:
                prof._stack.pop()
            if prof._stack:  # time inside a parent region is not the parent's own
                prof._stack[-1].children += ev.end - ev.start
            prof._events.append(ev)
        return False


class _Averages(list):
    def table(self, sort_by=None, row_limit=100, **kwargs) -> str:
        rows = sorted(self, key=lambda r: r["total"], reverse=True)[:row_limit]
        total = sum(r["self"] for r in self) or 1
        head = ("Name", "Self CPU %", "Self CPU", "CPU total", "CPU time avg", "# of Calls")
        width = max([len(head[0])] + [len(r["name"]) for r in rows]) + 2
        line = "-" * width + "  " + "  ".join(["-" * 12] * 5)
        out = [line, head[0].rjust(width) + "  " + "  ".join(h.rjust(12) for h in head[1:]),
               line]
        for r in rows:
            out.append(r["name"].rjust(width) + "  " + "  ".join(s.rjust(12) for s in (
                f"{100.0 * r['self'] / total:.2f}%", _fmt_ns(r["self"]), _fmt_ns(r["total"]),
                _fmt_ns(r["total"] / r["calls"]), str(r["calls"]))))
        out.append(line)
        out.append(f"Self CPU time total: {_fmt_ns(total)}")
        return "\n".join(out) + "\n"


def _fmt_ns(ns: float) -> str:
    return f"{ns / 1e6:.3f}ms" if ns >= 1e6 else f"{ns / 1e3:.3f}us"


class profile:
    """Context manager: times the block and its ``record_function`` regions."""

    def __init__(self, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False,
                 with_flops=False, with_modules=False, use_cuda=None, **kwargs):
        self.on_trace_ready = on_trace_ready
        self._events: list = []
        self._stack: list = []
        self.step_num = 0

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self) -> None:
        self._t0 = time.perf_counter_ns()
        _active.append(self)

    def stop(self) -> None:
        if self in _active:
            _active.remove(self)
        self._t1 = time.perf_counter_ns()
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def step(self) -> None:
        self.step_num += 1

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0) -> _Averages:
        acc: dict = {}
        for ev in self._events:
            r = acc.setdefault(ev.name, {"name": ev.name, "self": 0, "total": 0, "calls": 0})
            r["total"] += ev.end - ev.start
            r["self"] += ev.end - ev.start - ev.children
            r["calls"] += 1
        return _Averages(acc.values())

    def events(self) -> list:
        return [{"name": e.name, "start_ns": e.start, "end_ns": e.end} for e in self._events]

    def export_chrome_trace(self, path: str) -> None:
        """Write the regions as a Chrome trace (chrome://tracing, Perfetto)."""
        trace = [{"name": e.name, "ph": "X", "ts": e.start / 1e3, "dur": (e.end - e.start) / 1e3,
                  "pid": 0, "tid": 0} for e in self._events]
        with open(path, "w") as f:
            json.dump({"traceEvents": trace}, f)


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0):
    """Accepted for compatibility: every step is recorded."""
    return lambda step: None


def tensorboard_trace_handler(dir_name: str, worker_name=None, use_gzip: bool = False):
    """Accepted for compatibility: returns a handler that writes a Chrome trace to ``dir_name``."""
    import os

    def handler(prof) -> None:
        os.makedirs(dir_name, exist_ok=True)
        prof.export_chrome_trace(os.path.join(dir_name, f"{worker_name or 'chainrule'}.json"))

    return handler
