"""chainrule benchmark suite: chainrule vs PyTorch vs hand-written NumPy, side by side.

    python benchmarks/run.py                 # every workload (< 5 minutes on 2 cores)
    python benchmarks/run.py W1 W3           # a subset
    python benchmarks/run.py --json out.json # also write the figures as JSON
    python benchmarks/run.py --budget 3      # seconds of timed rounds per workload
    python benchmarks/run.py --torch-threads 1  # torch.set_num_threads(1) (default: untouched)
    python benchmarks/run.py --block 1       # time each call right after the other libraries'

Before timing, each workload computes its gradients once with chainrule, torch and the
hand-written NumPy code from the same initial weights and compares them with torch's; a
mismatch is printed and fails the workload's targets.  Timings are never asserted in tests.
See _harness.py for the timing and memory methods.
"""
from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
import traceback

import _harness as H
from _harness import IMPLS, Missing


def _fmt(v, digits=3):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits}g}"


def _fr(v):
    """A ratio: three decimals below 10 (so 1.003x is not printed as 1x)."""
    return "-" if v is None else (f"{v:.3f}" if abs(v) < 10 else _fmt(v))


def _ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def _check_grads(mod, avail, notes):
    """Compare chainrule's and NumPy's gradients with torch's; returns {impl: ok}."""
    ok = {}
    if not hasattr(mod, "grads"):
        return ok
    try:
        ref = mod.grads("torch")
    except Exception as e:  # noqa: BLE001
        notes.append(f"torch reference failed: {type(e).__name__}: {e}")
        return ok
    for impl in ("chainrule", "numpy"):
        if impl not in avail:
            continue
        try:
            good, msg = H.compare(impl, mod.grads(impl), ref, mod.TOL)
        except Missing as e:
            avail.pop(impl, None)
            notes.append(f"chainrule: {e}")
            continue
        except Exception as e:  # noqa: BLE001
            good, msg = False, f"{impl} gradient check crashed: {type(e).__name__}: {e}"
            if impl == "chainrule":
                avail.pop(impl, None)
        ok[impl] = good
        notes.append("grad check " + msg)
    return ok


def _child_series(name, impls, repeats, notes):
    """Timing + memory from fresh processes (long workloads): median/min over repeats."""
    runs = {impl: [] for impl in impls}
    for _ in range(repeats):
        for impl in impls:
            d = H.measure_child(name, impl)
            if "error" in d or "missing" in d:
                notes.append(f"{impl}: {d.get('error') or d.get('missing')}")
                continue
            runs[impl].append(d)
    return runs


def run_workload(name: str, budget: float, memory: bool, block: int = 3) -> dict:
    mod = importlib.import_module(H.WORKLOAD_MODULES[name])
    res = {"name": name, "title": mod.TITLE, "unit": mod.UNIT, "time": {}, "mem": {},
           "traced_mb": {}, "notes": [], "targets": [], "grad_ok": {}}
    notes = res["notes"]
    if hasattr(mod, "notes"):
        notes.extend(mod.notes())
    print(f"\n== {name}: {mod.TITLE}", flush=True)
    t_start = time.perf_counter()

    # which implementations exist (chainrule may lack an op)
    fns = {}
    for impl in IMPLS:
        try:
            fns[impl] = None if getattr(mod, "TIME_IN_CHILD", False) else mod.make(impl)
        except Missing as e:
            notes.append(f"{impl}: {e}")
        except Exception as e:  # noqa: BLE001
            notes.append(f"{impl} failed to build: {type(e).__name__}: {e}")
    res["grad_ok"] = _check_grads(mod, fns, notes)

    if getattr(mod, "TIME_IN_CHILD", False):
        runs = _child_series(name, list(fns), mod.CHILD_REPEATS, notes)
        ref_sum = None
        if runs.get("torch"):
            ref_sum = runs["torch"][0].get("checksum")
        for impl, ds in runs.items():
            if not ds:
                continue
            ts = [d["time_s"] for d in ds]
            res["time"][impl] = {"median": statistics.median(ts) * mod.SCALE,
                                 "min": min(ts) * mod.SCALE, "n": len(ts)}
            res["mem"][impl] = statistics.median(d["delta_mb"] for d in ds)
            cs = ds[0].get("checksum")
            if impl != "torch" and ref_sum is not None and cs is not None:
                err = abs(cs - ref_sum) / max(abs(ref_sum), 1e-30)
                good = err <= mod.TOL
                res["grad_ok"][impl] = res["grad_ok"].get(impl, True) and good
                notes.append(f"full-size result check {impl}: rel err {err:.1e}"
                             + ("" if good else " MISMATCH"))
    else:
        timed = {k: v for k, v in fns.items() if v is not None}
        try:
            t = H.time_interleaved(timed, budget_s=getattr(mod, "BUDGET", budget),
                                   warmup=getattr(mod, "WARMUP", 2), block=block,
                                   settle_below_s=0.05 if block > 1 else 0.0,
                                   min_rounds=getattr(mod, "MIN_ROUNDS", 5))
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            notes.append(f"timing crashed: {type(e).__name__}: {e}")
            t = {}
        for impl, d in t.items():
            res["time"][impl] = {"median": d["median"] * mod.SCALE, "min": d["min"] * mod.SCALE,
                                 "n": d["n"]}
        if memory and hasattr(mod, "memory_case"):
            for impl in fns:
                d = H.measure_child(name, impl)
                if "delta_mb" in d:
                    res["mem"][impl] = d["delta_mb"]
                else:
                    notes.append(f"memory {impl}: {d}")
                if impl != "torch" and getattr(mod, "MEM_TRACEMALLOC", True):
                    d = H.measure_child(name, impl, use_tracemalloc=True)
                    if "traced_mb" in d:
                        res["traced_mb"][impl] = d["traced_mb"]
    fns.clear()

    # ratios and targets
    tm = {k: v["median"] for k, v in res["time"].items()}
    res["ratio_torch"] = _ratio(tm.get("chainrule"), tm.get("torch"))
    res["ratio_numpy"] = _ratio(tm.get("chainrule"), tm.get("numpy"))
    tmin = {k: v["min"] for k, v in res["time"].items()}
    res["min_ratio_torch"] = _ratio(tmin.get("chainrule"), tmin.get("torch"))
    res["min_ratio_numpy"] = _ratio(tmin.get("chainrule"), tmin.get("numpy"))
    res["mem_ratio_torch"] = _ratio(res["mem"].get("chainrule"), res["mem"].get("torch"))
    res["mem_ratio_numpy"] = _ratio(res["mem"].get("chainrule"), res["mem"].get("numpy"))
    grads_ok = res["grad_ok"].get("chainrule", False)
    for kind, base, limit in mod.TARGETS:
        if kind == "time":
            r, label = _ratio(tm.get("chainrule"), tm.get(base)), f"<= {limit}x {base}"
        elif kind == "mem":
            r = _ratio(res["mem"].get("chainrule"), res["mem"].get(base))
            label = f"mem <= {limit}x {base}"
        else:  # absolute, in the workload's unit
            r, label = tm.get("chainrule"), f"< {limit} {mod.UNIT}"
        if r is None:
            status = "n/a"
        elif not grads_ok:
            status = "MISSED (gradients wrong)"
        else:
            met = r < limit if kind == "abs" else r <= limit
            status = ("met" if met else "MISSED") + (f" ({r:.3f}x)" if kind != "abs" else
                                                     f" ({r:.2f} {mod.UNIT})")
        res["targets"].append({"target": label, "value": r, "status": status})
    if hasattr(mod, "post"):
        mod.post(res)
    res["wall_s"] = time.perf_counter() - t_start
    for n in notes:
        print("   " + n)
    _print_rows([res])
    return res


def _print_rows(results, header=True):
    cols = ["workload", "unit", "chainrule", "torch", "numpy", "cr/torch", "cr/numpy", "target"]
    rows = []
    for r in results:
        t = r["time"]
        cell = {k: (f"{_fmt(t[k]['median'])} (min {_fmt(t[k]['min'])})" if k in t else "-")
                for k in IMPLS}
        tgt = "; ".join(f"{x['target']}: {x['status']}" for x in r["targets"] if "mem" not in
                        x["target"])
        rows.append([f"{r['name']} {r['title']}", r["unit"], cell["chainrule"], cell["torch"],
                     cell["numpy"], _fr(r.get("ratio_torch")) + "x",
                     _fr(r.get("ratio_numpy")) + "x", tgt or "-"])
        if r["mem"]:
            m = r["mem"]
            tgt = "; ".join(f"{x['target']}: {x['status']}" for x in r["targets"]
                            if "mem" in x["target"])
            tr = r.get("traced_mb", {})
            cellm = {k: (f"{_fmt(m[k])}" + (f" [tm {_fmt(tr[k])}]" if k in tr else "")
                         if k in m else "-") for k in IMPLS}
            rows.append([f"{r['name']} peak memory", "MB", cellm["chainrule"], cellm["torch"],
                         cellm["numpy"], _fr(r.get("mem_ratio_torch")) + "x",
                         _fr(r.get("mem_ratio_numpy")) + "x", tgt or "-"])
    widths = [max(len(str(x)) for x in col) for col in zip(cols, *rows)]
    line = lambda xs: "  ".join(str(x).ljust(w) for x, w in zip(xs, widths))  # noqa: E731
    if header:
        print(line(cols))
        print(line(["-" * w for w in widths]))
    for row in rows:
        print(line(row))


def markdown(info, results) -> str:
    """The results as Markdown tables (time, then memory)."""
    out = ["| workload | unit | chainrule | torch | hand NumPy | chainrule/torch | "
           "chainrule/NumPy | target | status |", "|" + "---|" * 9]
    for r in results:
        t = r["time"]
        cell = {k: (f"{_fmt(t[k]['median'])} (min {_fmt(t[k]['min'])})" if k in t else "-")
                for k in IMPLS}
        tg = [x for x in r["targets"] if "mem" not in x["target"]] or [
            {"target": "-", "status": "-"}]
        mr = (f" (min: {_fr(r['min_ratio_torch'])}x)" if r.get("min_ratio_torch") else "")
        out.append(f"| {r['name']} {r['title']} | {r['unit']} | {cell['chainrule']} | "
                   f"{cell['torch']} | {cell['numpy']} | {_fr(r.get('ratio_torch'))}x{mr} | "
                   f"{_fr(r.get('ratio_numpy'))}x | "
                   + "; ".join(x["target"] for x in tg) + " | "
                   + "; ".join(x["status"] for x in tg) + " |")
    out += ["", "| workload | chainrule MB | torch MB | hand NumPy MB | chainrule/torch | "
            "chainrule/NumPy | tracemalloc chainrule / NumPy MB | target | status |",
            "|" + "---|" * 9]
    for r in results:
        if not r["mem"]:
            continue
        m, tr = r["mem"], r.get("traced_mb", {})
        tg = [x for x in r["targets"] if "mem" in x["target"]] or [
            {"target": "-", "status": "-"}]
        out.append(f"| {r['name']} | " + " | ".join(_fmt(m.get(k)) for k in IMPLS)
                   + f" | {_fr(r.get('mem_ratio_torch'))}x | {_fr(r.get('mem_ratio_numpy'))}x"
                   + f" | {_fmt(tr.get('chainrule'))} / {_fmt(tr.get('numpy'))} | "
                   + "; ".join(x["target"] for x in tg) + " | "
                   + "; ".join(x["status"] for x in tg) + " |")
    out += ["", "Notes:"] + [f"- {r['name']}: {n}" for r in results for n in r["notes"]]
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("workloads", nargs="*", help="subset, e.g. W1 W3 (default: all)")
    ap.add_argument("--json", help="write results to this file")
    ap.add_argument("--budget", type=float, default=6.0,
                    help="seconds of timed rounds per workload (default 6)")
    ap.add_argument("--markdown", help="write the results table as Markdown to this file")
    ap.add_argument("--torch-threads", type=int,
                    help="torch.set_num_threads(N) first (default: torch's own default)")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    ap.add_argument("--block", type=int, default=3,
                    help="timed calls in a row per implementation and round, after one untimed "
                         "call (default 3); 1: each call timed right after the other "
                         "libraries' calls, the method before 2026-11-26")
    ap.add_argument("--_child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._child:
        H.child_main(args._child[0], args._child[1], args.tracemalloc)
        return 0

    names = [w.upper() for w in args.workloads] or list(H.WORKLOAD_MODULES)
    bad = [w for w in names if w not in H.WORKLOAD_MODULES]
    if bad:
        ap.error(f"unknown workload(s) {bad}; choose from {list(H.WORKLOAD_MODULES)}")

    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
        H.os.environ["BENCH_TORCH_THREADS"] = str(args.torch_threads)  # for the children
    info = H.machine_info()
    info["timing_block"] = args.block
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    t0 = time.perf_counter()
    results = []
    for name in names:
        try:
            results.append(run_workload(name, args.budget, not args.no_memory, args.block))
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            print(f"{name} crashed: {type(e).__name__}: {e}")
            results.append({"name": name, "crashed": f"{type(e).__name__}: {e}"})
    info["loadavg_end"] = H.os.getloadavg()
    info["total_s"] = time.perf_counter() - t0

    print(f"\n== summary (median, min over timed runs; total {info['total_s']:.0f}s, "
          f"load {info['loadavg'][0]:.2f} -> {info['loadavg_end'][0]:.2f})")
    _print_rows([r for r in results if "crashed" not in r])
    for r in results:
        if "crashed" in r:
            print(f"{r['name']}: crashed: {r['crashed']}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(info, [r for r in results if "crashed" not in r]))
        print(f"wrote {args.markdown}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "results": results}, f, indent=1, default=str)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
