"""Timing, memory and gradient-check helpers shared by the workloads.

Timing: each implementation is warmed up, then the implementations are run in interleaved
rounds (chainrule, torch, numpy, then the reverse order, ...) so that load changes on a
shared machine hit all of them alike; every call is timed alone with ``time.perf_counter``
and the median and the minimum are reported. Within a round each implementation runs a
block of consecutive calls whose first is untimed (see ``time_interleaved``).  The garbage collector stays enabled (as in
real use); ``gc.collect()`` runs once before the timed rounds.

Memory: a workload that defines ``memory_case(impl)`` is run once more in a fresh Python
process per implementation (``run.py --_child W impl``).  The child builds the inputs and
weights, runs a small warm-up, collects garbage, resets the kernel's peak-RSS counter
(writing ``5`` to ``/proc/self/clear_refs``), reads ``VmRSS`` (the pre-run level), runs the
workload once and reads ``VmHWM`` (peak RSS).  The figure is ``VmHWM - VmRSS_before``: the
same method for chainrule, torch and hand-written NumPy.  With ``tracemalloc`` (NumPy-backed
code only, separate child run) the traced peak is reported as a cross-check.
"""
from __future__ import annotations

import ctypes
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:  # benchmark the working tree, not an installed copy
    sys.path.insert(0, str(REPO))

IMPLS = ("chainrule", "torch", "numpy")


class Missing(Exception):
    """chainrule lacks something the workload needs (the message says what)."""


def require(obj, attr: str, what: str | None = None):
    """``getattr(obj, attr)`` or raise Missing naming the feature."""
    try:
        return getattr(obj, attr)
    except AttributeError:
        raise Missing(what or f"needs {attr}") from None


# -- machine --------------------------------------------------------------------------
def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def openblas_info():
    """(threads, config) of the OpenBLAS that NumPy loaded, via its C API; (None, None) else."""
    import numpy  # noqa: F401  (loads the library)

    try:
        paths = {ln.split()[-1] for ln in open("/proc/self/maps") if "openblas" in ln.lower()}
    except OSError:
        return None, None
    for p in sorted(paths):
        try:
            lib = ctypes.CDLL(p)
        except OSError:
            continue
        for suffix in ("scipy_openblas_{}64_", "openblas_{}64_", "openblas_{}"):
            try:
                nthreads = getattr(lib, suffix.format("get_num_threads"))
                config = getattr(lib, suffix.format("get_config"))
            except AttributeError:
                continue
            config.restype = ctypes.c_char_p
            return int(nthreads()), config().decode()
    return None, None


def machine_info() -> dict:
    import numpy
    import torch

    blas_threads, blas_config = openblas_info()
    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "blas": blas_config,
        "blas_threads": blas_threads,
        "thread_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                  "MKL_NUM_THREADS") if k in os.environ},
        "loadavg": os.getloadavg(),
    }


# -- timing ---------------------------------------------------------------------------
def time_interleaved(fns: dict, budget_s: float = 6.0, warmup: int = 2,
                     min_rounds: int = 5, max_rounds: int = 300, block: int = 3,
                     settle_below_s: float = 0.05) -> dict:
    """Median/min seconds per call of each callable in ``fns`` (name -> fn).

    ``warmup`` untimed calls each, one call each to size the rounds, then interleaved rounds
    until ``budget_s`` is used (at least ``min_rounds``; stops after 2.5 x budget_s).

    In a round each implementation runs a block: for calls shorter than ``settle_below_s``,
    one untimed call and then ``block`` timed calls, so that every timed call follows a call
    of the same code (the steady state of a training loop), not of the other library, whose
    run evicts the caches (measured here: each library is 10-30% slower right after the
    other's call than after its own). Longer calls are timed one per block, as they come."""
    est = {}
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        t0 = time.perf_counter()
        fn()
        est[name] = time.perf_counter() - t0
    settle = {name: e < settle_below_s for name, e in est.items()}
    timed_calls = {name: block if settle[name] else 1 for name in fns}
    per_round = max(sum(est[n] * (timed_calls[n] + settle[n]) for n in fns), 1e-9)
    rounds = int(min(max(budget_s / per_round, min_rounds), max_rounds))
    times = {name: [] for name in fns}
    order = list(fns)
    gc.collect()
    deadline = time.perf_counter() + 2.5 * budget_s  # a loaded machine must not stretch the run
    for r in range(rounds):
        if r >= min_rounds and time.perf_counter() > deadline:
            break
        for name in (order if r % 2 == 0 else order[::-1]):
            fn = fns[name]
            if settle[name]:
                fn()
            for _ in range(timed_calls[name]):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return {name: {"median": statistics.median(ts), "min": min(ts), "n": len(ts)}
            for name, ts in times.items()}


# -- memory ---------------------------------------------------------------------------
def _status_kb(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/self/status")


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def child_main(workload: str, impl: str, use_tracemalloc: bool) -> None:
    """Body of ``run.py --_child``: one measured run, a JSON line on stdout."""
    import importlib

    mod = importlib.import_module(WORKLOAD_MODULES[workload])
    if impl == "torch" and os.environ.get("BENCH_TORCH_THREADS"):
        import torch

        torch.set_num_threads(int(os.environ["BENCH_TORCH_THREADS"]))
    try:
        warm, run = mod.memory_case(impl)
    except Missing as e:
        print(json.dumps({"missing": str(e)}))
        return
    warm()
    gc.collect()
    out = {}
    if use_tracemalloc:
        import tracemalloc

        tracemalloc.start()
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        result = run()
        out["traced_peak_bytes"] = tracemalloc.get_traced_memory()[1] - start
        tracemalloc.stop()
    else:
        reset_ok = _reset_peak_rss()
        base = _status_kb("VmRSS")
        t0 = time.perf_counter()
        result = run()
        out["time_s"] = time.perf_counter() - t0
        out["peak_kb"] = _status_kb("VmHWM")
        out["base_kb"] = base
        out["hwm_reset"] = reset_ok
    if isinstance(result, (list, tuple)):
        import numpy as np

        out["checksum"] = float(sum(np.asarray(to_numpy(r), dtype=np.float64).sum()
                                    for r in result))
    del result
    print(json.dumps(out))


def measure_child(workload: str, impl: str, use_tracemalloc: bool = False,
                  timeout: float = 240.0) -> dict:
    """Run one measured child process; returns its JSON dict (or {'error': ...})."""
    cmd = [sys.executable, str(HERE / "run.py"), "--_child", workload, impl]
    if use_tracemalloc:
        cmd.append("--tracemalloc")
    # A fixed mmap threshold turns off glibc's dynamic threshold, so large freed buffers go
    # back to the OS and RSS follows live memory (same setting for all implementations).
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f}s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
        return {"error": f"child failed: {tail[0]}"}
    d = json.loads(lines[-1])
    if "peak_kb" in d:
        d["delta_mb"] = (d["peak_kb"] - d["base_kb"]) / 1024.0
    if "traced_peak_bytes" in d:
        d["traced_mb"] = d["traced_peak_bytes"] / 2**20
    return d


# -- gradient checks ------------------------------------------------------------------
def to_numpy(t):
    import numpy as np

    if isinstance(t, np.ndarray):
        return t
    return t.detach().numpy()


def compare(name: str, got, ref, tol: float) -> tuple[bool, str]:
    """Max relative error of arrays ``got`` vs ``ref`` (lists), scaled by max|ref|."""
    import numpy as np

    worst = 0.0
    for g, r in zip(got, ref):
        g, r = np.asarray(to_numpy(g), dtype=np.float64), np.asarray(to_numpy(r), np.float64)
        if g.shape != r.shape:
            return False, f"{name}: shape {g.shape} vs torch {r.shape}"
        scale = max(float(np.abs(r).max()) if r.size else 0.0, 1e-30)
        worst = max(worst, float(np.abs(g - r).max()) / scale if r.size else 0.0)
    if len(got) != len(ref):
        return False, f"{name}: {len(got)} gradients vs torch {len(ref)}"
    ok = worst <= tol
    return ok, f"{name} max rel err {worst:.1e}" + ("" if ok else f" > {tol:.0e} MISMATCH")


WORKLOAD_MODULES = {
    "W1": "w1_small_ops",
    "W2": "w2_mlp",
    "W3": "w3_long_chain",
    "W4": "w4_cnn",
    "W5": "w5_hvp",
    "W6": "w6_rnn",
    "W7": "w7_memory",
    "H50": "h50_hessian",
    "W8": "w8_mlp_nn",
    "W9": "w9_cnn_nn",
    "W10": "w10_rnn_nn",
    "D1": "d1_digits_epoch",
    "R1": "r1_lstm_gru",
}


# -- pieces shared by the neural-network workloads --------------------------------------
def import_lib(impl: str):
    import importlib

    return importlib.import_module(impl)


def loss_mode() -> str:
    """How the cross-entropy loss is written (chosen from what chainrule offers; torch runs
    the same formulation so the ratio compares like with like)."""
    try:
        import chainrule
    except Exception:  # noqa: BLE001  (a broken chainrule must not stop the torch side)
        return "composite: z - rowmax (computed outside the graph), exp/sum/log, * one-hot"
    F = chainrule.nn.functional
    if hasattr(F, "cross_entropy"):
        return "F.cross_entropy"
    if hasattr(F, "log_softmax"):
        return "F.log_softmax * one-hot"
    if hasattr(chainrule.Tensor, "amax"):
        return "composite: z - amax(z).detach(), exp/sum/log, * one-hot"
    return "composite: z - rowmax (computed outside the graph), exp/sum/log, * one-hot"


def cross_entropy(lib, logits, target, onehot, mode: str):
    """Mean cross-entropy of ``logits`` (N, C) against class indices ``target`` / ``onehot``."""
    n = logits.shape[0]
    if mode == "F.cross_entropy":
        return lib.nn.functional.cross_entropy(logits, target)
    if mode.startswith("F.log_softmax"):
        return -(lib.nn.functional.log_softmax(logits, dim=1) * onehot).sum() / n
    if "amax" in mode:
        shift = logits.detach().amax(dim=1, keepdim=True)
    else:  # log-softmax is shift-invariant, so a constant shift is exact
        shift = lib.tensor(logits.detach().numpy().max(axis=1, keepdims=True))
    z = logits - shift
    lse = z.exp().sum(dim=1, keepdim=True).log()
    return -((z - lse) * onehot).sum() / n


def sgd_mode() -> str:
    try:
        import chainrule
    except Exception:  # noqa: BLE001
        return "p.data = p.data - lr * p.grad under no_grad; p.grad = None"
    if hasattr(chainrule.Tensor, "sub_"):
        return "p.sub_(lr * p.grad) under no_grad; p.grad = None"
    return "p.data = p.data - lr * p.grad under no_grad (no in-place sub_); p.grad = None"


def sgd(lib, params, lr: float, mode: str) -> None:
    inplace = mode.startswith("p.sub_")
    with lib.no_grad():
        for p in params:
            if inplace:
                p.sub_(lr * p.grad)
            else:
                p.data = p.data - lr * p.grad
            p.grad = None


def np_cross_entropy(z, target, onehot):
    """Hand-written NumPy softmax cross-entropy: (loss, dloss/dz)."""
    import numpy as np

    n = z.shape[0]
    zs = z - z.max(axis=1, keepdims=True)
    e = np.exp(zs)
    s = e.sum(axis=1, keepdims=True)
    loss = (np.log(s[:, 0]) - zs[np.arange(n), target]).mean()
    dz = (e / s - onehot) / n
    return loss, dz
