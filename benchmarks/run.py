"""fasttopk against NumPy, SciPy, scikit-learn, PyTorch, JAX, torchmetrics: ``python -m benchmarks.run``.

Writes build/bench/<stem>.json (machine, versions, bandwidth, every row with its raw per-run
times), <stem>.md (the table and the targets) and <stem>.png (speedup chart), and prints the
table and the acceptance targets. It changes no tracked file: publishing a run into
benchmarks/results/ and the README is a separate step, ``python -m benchmarks.publish``, which
takes only a complete run that was not flagged as loaded.

The stem is "latest" for a complete run (all kernels, shapes, dtypes, k and thread settings,
full repeats, the large-k and out= rows) and "partial" otherwise (--quick or a subset).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import os
import re
import subprocess
import sys
import time

import numpy as np

from . import chart, machine, optional_peers, report, timing
from .timing import Settings

ROOT = machine.ROOT
OUT_DIR = machine.OUT_DIR  # untracked: `make bench` changes no tracked file

SHAPES = list(report.DESIGN_SHAPES)
# Half precision on the language-model vocabularies, against torch on the same dtype.
HALF_SHAPES = [(1000, 32000), (64, 128000)]
HALF_KERNELS = ("argmax", "softmax", "topk")
DTYPES = ("float32", "float16", "bfloat16")
# A run that starts with more load than this (1-minute load average per core) is flagged as
# loaded and cannot be published.
LOADED_PER_CORE = 0.25
ARGMAX_EXTRA = [(100000, 1000)]  # 400 MB: argmax against one x.max() pass, all threads
# Issue 12's large-k rows need a shape of their own (8×128000: k = n/2 = 64000), topk only.
LARGE_K_EXTRA = [(8, 128000)]
QUICK_SHAPES = [(100000, 10), (10000, 1000), (1, 128000)]
KS = list(report.DESIGN_KS)
SEED = 20240601

# budget_s 0.6 s of each contender's own time per row (at least 7 runs) and slow_s 8 s keep the
# full run (about 200 rows, up to 6 contenders each) near 15 minutes on a 2-core machine.
FULL = Settings(budget_s=0.6, min_repeats=7, max_repeats=200, slow_s=8.0, slow_repeats=3)
QUICK = Settings(budget_s=0.15, min_repeats=5, max_repeats=40, slow_s=2.0, slow_repeats=3)
# Rows with k >= 256 (seconds per call at 1000×32000, k = 16000): at least 3 runs, not 7, so
# the full run stays near 15 minutes on a 2-core machine.
LARGE_K_MIN = 256
LARGE_K_SETTINGS = dict(min_repeats=3, slow_s=3.0, slow_repeats=3)

MEMORY_METHOD = (
    "tracemalloc peak during one separate (untimed) call, above the memory traced before it, "
    "minus the bytes of the returned arrays. tracemalloc sees Python objects and NumPy array "
    "buffers; it does not see native scratch memory (fasttopk's C++ core, PyTorch), so torch "
    "is reported as n/a and fasttopk's figure covers its NumPy allocations only."
)


def _parse_shapes(text):
    shapes = []
    for part in text.split(","):
        n, _, c = part.strip().lower().replace("×", "x").partition("x")
        shapes.append((int(n), int(c)))
    return shapes


def _parse_threads(text):
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        n = (os.cpu_count() or 1) if part == "all" else int(part)
        if n < 1:
            raise argparse.ArgumentTypeError("thread counts must be >= 1")
        if n not in out:
            out.append(n)
    return out


def parse_args(argv=None):
    from .cases import KERNELS

    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="short development run: few repeats, shapes "
                        + ", ".join(f"{n}x{c}" for n, c in QUICK_SHAPES) + " (+ the 400 MB argmax)")
    p.add_argument("--kernels", default=",".join(KERNELS),
                   help=f"comma-separated subset of {','.join(KERNELS)} (default: all)")
    p.add_argument("--threads", default="1,all", help="comma-separated: 1, all, or counts")
    p.add_argument("--shapes", default=None,
                   help="comma-separated n_rowsxn_classes, e.g. 10000x1000,1x128000")
    p.add_argument("--ks", default=",".join(map(str, KS)), help="k values for topk and accuracy")
    p.add_argument("--dtypes", default=",".join(DTYPES),
                   help="comma-separated subset of " + ",".join(DTYPES)
                        + " (half precision runs on " + ", ".join(f"{n}x{c}" for n, c in HALF_SHAPES) + ")")
    p.add_argument("--large-k", action=argparse.BooleanOptionalAction, default=None,
                   help="issue 12's rows: topk with k = 256, 1024, n/2 and softmax with out= "
                        "(default: on, off with --quick)")
    p.add_argument("--out", default=None,
                   help="file stem under build/bench (default: latest or partial)")
    args = p.parse_args(argv)
    args.kernels = [k.strip() for k in args.kernels.split(",") if k.strip()]
    for k in args.kernels:
        if k not in KERNELS:
            p.error(f"unknown kernel {k!r}; expected some of {', '.join(KERNELS)}")
    args.threads = _parse_threads(args.threads)
    args.ks = [int(k) for k in args.ks.split(",")]
    args.dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    for d in args.dtypes:
        if d not in DTYPES:
            p.error(f"unknown dtype {d!r}; expected some of {', '.join(DTYPES)}")
    if args.large_k is None:
        args.large_k = not args.quick
    default_shapes = QUICK_SHAPES if args.quick else SHAPES
    args.shapes_given = args.shapes is not None
    args.shapes = _parse_shapes(args.shapes) if args.shapes else list(default_shapes)
    args.complete = (
        not args.quick
        and set(args.kernels) == set(KERNELS)
        and set(args.threads) == {1, os.cpu_count() or 1}
        and not args.shapes_given
        and set(args.ks) == set(KS)
        and set(args.dtypes) == set(DTYPES)
        and args.large_k
    )
    return args


# --- the run ----------------------------------------------------------------------------------


def _log(msg):
    print(msg, file=sys.stderr, flush=True)


def make_data(n, c, dtype="float32"):
    rng = np.random.default_rng([SEED, n, c])
    x = rng.standard_normal((n, c), dtype=np.float32)
    y_true = rng.integers(0, c, size=n, dtype=np.int64)
    if dtype != "float32":
        x = x.astype(_numpy_dtype(dtype))
    return x, y_true


def _numpy_dtype(name):
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def _half_dtypes_available(dtypes, skipped):
    out = []
    for d in dtypes:
        if d == "float32":
            continue
        try:
            _numpy_dtype(d)
        except ImportError:
            msg = f"{d} rows skipped: ml_dtypes is not installed"
            _log(msg)
            skipped.append(msg)
            continue
        out.append(d)
    return out


def _bw_text(bw):
    return (f"read bandwidth: {bw['single_thread_gbps']:.1f} GB/s (1 thread), "
            f"{bw['all_threads_gbps']:.1f} GB/s ({bw['all_threads']} processes)")


def _best_bandwidth(first, last):
    """The better single- and all-thread figures of two measurements, with both kept."""
    best = dict(first)
    for key in ("single_thread", "all_threads"):
        if last[key + "_gbps"] > first[key + "_gbps"]:
            best[key + "_gbps"] = last[key + "_gbps"]
            best[key + "_method"] = last[key + "_method"]
    best["method"] = first["method"] + " Measured before and after the rows; the better counts."
    best["raw_times_s"] = {"before": first["raw_times_s"], "after": last["raw_times_s"]}
    best["measurements_gbps"] = {
        "before": [first["single_thread_gbps"], first["all_threads_gbps"]],
        "after": [last["single_thread_gbps"], last["all_threads_gbps"]],
    }
    return best


def _measure_bandwidth(runs, procs):
    """bandwidth.measure in a fresh interpreter: it forks its workers, and after JAX and torch
    have started their thread pools in this process a fork may deadlock (Python warns)."""
    code = ("import json, sys; from benchmarks import bandwidth; "
            f"json.dump(bandwidth.measure(runs={int(runs)}, procs={int(procs)}), sys.stdout)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def run_case(case, shape, threads, settings, dtype="float32"):
    from .timing import time_row, warm_up

    if case.k is not None and case.k >= LARGE_K_MIN:
        settings = dataclasses.replace(settings, **LARGE_K_SETTINGS)

    first = warm_up(case.contenders)
    errors, notes = case.check({name: r for name, (r, _) in first.items()})
    first_s = {name: s for name, (_, s) in first.items()}
    del first
    row = {
        "kernel": case.kernel,
        "shape": list(shape),
        "k": case.k,
        "threads": threads,
        "dtype": dtype,
        "bytes_read": case.bytes_read,
        "bytes_written": case.bytes_written,
        "check": "ok" if not errors else "MISMATCH: " + "; ".join(errors),
        "notes": notes,
    }
    if errors:
        row["contenders"] = {n: {"warmup_s": [s]} for n, s in first_s.items()}
        return row
    timed = time_row(case.contenders, settings, first_s)
    row["contenders"] = {
        c.name: {
            "role": c.role,
            "median_ms": timed[c.name].median_s * 1e3,
            "repeats": len(timed[c.name].times_s),
            "times_s": [round(t, 9) for t in timed[c.name].times_s],
            "warmup_s": [round(t, 9) for t in timed[c.name].warmup_s],
            "extra_peak_mb": (None if timed[c.name].extra_peak_bytes is None
                              else timed[c.name].extra_peak_bytes / 2**20),
        }
        for c in case.contenders
    }
    by_role = {c.role: c.name for c in case.contenders}
    ms = {name: d["median_ms"] for name, d in row["contenders"].items()}
    ft = ms["fasttopk"]
    peer = by_role["peer"]
    tname = by_role.get("torch")
    other = by_role.get("other")
    row.update(
        fasttopk_ms=ft,
        peer=peer,
        peer_ms=ms[peer],
        speedup_vs_peer=ms[peer] / ft,
        torch=tname,
        torch_ms=ms[tname] if tname else None,
        speedup_vs_torch=ms[tname] / ft if tname else None,
        other=other,
        other_ms=ms[other] if other else None,
        speedup_vs_other=ms[other] / ft if other else None,
        floor_ms=ms[by_role["floor"]],
        # issue 12's "% of one read": x.max() time / fasttopk time
        share_of_one_read=ms[by_role["floor"]] / ft,
        fasttopk_gbps=case.bytes_read / (ft * 1e-3) / 1e9,
    )
    return row


def main(argv=None):
    args = parse_args(argv)
    settings = QUICK if args.quick else FULL
    t_start = time.perf_counter()
    cpu_count = os.cpu_count() or 1
    load_start = machine.loadavg()
    if load_start and load_start[0] > 0.5:
        _log(f"note: load average {load_start[0]:.2f} before the run; other work on this "
             "machine makes timings noisy")

    # Read bandwidth before the rows (and again after them: the better of the two counts, so
    # a burst of other work on the machine during one measurement does not lower the bar).
    bw_runs = 4 if args.quick else 7
    _log("measuring read bandwidth ...")
    bw_first = _measure_bandwidth(bw_runs, cpu_count)
    _log(_bw_text(bw_first))

    from . import cases

    skipped = []
    kernels = list(args.kernels)
    if "accuracy" in kernels and not cases.has_accuracy():
        msg = "fasttopk.top_k_accuracy_score is missing: accuracy rows skipped"
        _log(msg)
        skipped.append(msg)
        kernels.remove("accuracy")
    for name, module in (("JAX", optional_peers.jax), ("torchmetrics", optional_peers.torchmetrics)):
        if module is None:
            msg = f"{name} is not installed: its column stays empty"
            _log(msg)
            skipped.append(msg)
    if cases.torch is None:
        msg = "PyTorch is not installed: torch columns stay empty"
        _log(msg)
        skipped.append(msg)

    plan = [(s, kernels, "float32") for s in args.shapes] if "float32" in args.dtypes else []
    if "argmax" in kernels and not args.shapes_given and "float32" in args.dtypes:
        plan += [(s, ["argmax"], "float32") for s in ARGMAX_EXTRA if s not in args.shapes]
    if "topk" in kernels and args.large_k and not args.shapes_given and "float32" in args.dtypes:
        plan += [(s, ["topk"], "float32") for s in LARGE_K_EXTRA if s not in args.shapes]
    half_kernels = [k for k in kernels if k in HALF_KERNELS]
    for dtype in _half_dtypes_available(args.dtypes, skipped):
        plan += [(s, half_kernels, dtype) for s in HALF_SHAPES if s in args.shapes or not args.shapes_given]

    rows = []
    for shape, shape_kernels, dtype in plan:
        n, c = shape
        t0 = time.perf_counter()
        x, y_true = make_data(n, c, dtype)
        _log(f"--- {n}×{c} {dtype} ({x.nbytes / 1e6:.0f} MB), data in {time.perf_counter() - t0:.1f} s")
        for threads in args.threads:
            with machine.thread_setting(threads):
                for kernel in shape_kernels:
                    for case in cases.build_cases(kernel, x, y_true, args.ks, threads, args.large_k):
                        row = run_case(case, shape, threads, settings, dtype)
                        rows.append(row)
                        _log(_progress(row, time.perf_counter() - t_start))
                        for note in row["notes"]:
                            _log(f"    note: {note}")
        del x, y_true

    _log("measuring read bandwidth again ...")
    bw_last = _measure_bandwidth(bw_runs, cpu_count)
    _log(_bw_text(bw_last))
    bw = _best_bandwidth(bw_first, bw_last)
    for row in rows:
        if row["check"] == "ok":
            ref = bw["single_thread_gbps"] if row["threads"] == 1 else bw["all_threads_gbps"]
            row["read_bw_gbps"] = ref
            row["share_of_read_bw"] = row["fasttopk_gbps"] / ref

    elapsed = time.perf_counter() - t_start
    meta = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": "python -m benchmarks.run " + " ".join(sys.argv[1:] if argv is None else argv),
        "quick": args.quick,
        "complete": args.complete,
        "elapsed_s": round(elapsed, 1),
        "loadavg_start": load_start,
        "loadavg_end": machine.loadavg(),
        "machine": machine.machine_info(),
        "versions": {**machine.versions(), **optional_peers.versions()},
        "bandwidth": bw,
        "thread_counts": args.threads,
        "shapes": [list(s) for s, _, _ in plan],
        "dtypes": args.dtypes,
        "loaded": bool(load_start and load_start[0] > LOADED_PER_CORE * cpu_count),
        "ks": args.ks,
        "kernels": kernels,
        "skipped": skipped,
        "data": (f"float32 standard normal, np.random.default_rng([{SEED}, n_rows, n_classes]), "
                 "rounded to float16/bfloat16 for the half-precision rows; "
                 "y_true: uniform integers in [0, n_classes) from the same generator"),
        "timing_method": timing.__doc__.strip(),
        "timing_settings": dataclasses.asdict(settings),
        "memory_method": MEMORY_METHOD,
        "large_k": args.large_k,
        "design_shapes": [list(s) for s in SHAPES],
        "design_ks": KS,
        "peers": {k: {"main": cases.MAIN_PEER[k], "torch": cases.TORCH_PEER.get(k),
                      "other": (optional_peers.JAX_PEER.get(k)
                                or optional_peers.TORCHMETRICS_PEER.get(k))}
                  for k in cases.KERNELS},
        "jax_method": optional_peers.__doc__.strip(),
        "xla_flags": os.environ.get("XLA_FLAGS"),
        "threads_method": machine.thread_setting.__doc__.strip(),
        "floor": ("x.max(): one read of the scores (a whole-array NumPy reduction); for float16/"
                  "bfloat16 x.view(np.int16).max(), the same bytes (NumPy reduces half "
                  "precision through scalar conversions)"),
        "gbps_definition": "bytes of input read (scores, and y_true for accuracy) / median time",
    }
    targets = report.compute_targets(rows, cpu_count)
    meta["targets"] = targets
    meta["rows"] = report.sort_rows(rows)

    table = report.markdown_table(rows)
    header = report.header_line(meta)
    tgt = report.targets_text(targets)
    print()
    print(header)
    print()
    print(table)
    print()
    print("Targets (one thread unless stated, same run):")
    print(tgt)
    if skipped:
        print()
        print("Skipped: " + "; ".join(skipped))
    print(f"\nelapsed {elapsed / 60:.1f} min")

    stem = args.out or ("latest" if args.complete else "partial")
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, stem + ".json"), "w", encoding="utf-8") as f:
        f.write(_json_text(meta))
    md = (f"# fasttopk benchmark\n\n{header}\n\n{table}\n\n{report.notes_block()}\n\n"
          f"## Targets\n\n```\n{tgt}\n```\n")
    if skipped:
        md += "\nSkipped: " + "; ".join(skipped) + "\n"
    with open(os.path.join(OUT_DIR, stem + ".md"), "w", encoding="utf-8") as f:
        f.write(md)
    why_not = chart.chart(rows, meta, os.path.join(OUT_DIR, stem + ".png"))
    where = os.path.relpath(OUT_DIR, ROOT)
    _log(f"wrote {where}/{stem}.json, {stem}.md"
         + (f", {stem}.png" if why_not is None else f" (no chart: {why_not})"))
    if meta["loaded"]:
        _log(f"this run is flagged as loaded (load average {load_start[0]:.2f} at the start): "
             "benchmarks.publish will refuse it")
    elif args.complete:
        _log("publish it with: make bench-publish")

    return 1 if any(r["check"] != "ok" for r in rows) else 0


_NUMBER_LIST = re.compile(r"\[(\s*-?[\d.eE+-]+\s*(?:,\s*-?[\d.eE+-]+\s*)*)\]")


def _json_text(obj) -> str:
    """Indented JSON with lists of numbers (the raw times) kept on one line."""
    text = json.dumps(obj, indent=1, ensure_ascii=False)
    return _NUMBER_LIST.sub(
        lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text) + "\n"


def _progress(row, elapsed):
    shape = report.shape_str(row["shape"])
    k = f" k={row['k']}" if row["k"] is not None else ""
    head = f"[{elapsed:6.0f} s] {row['kernel']} {shape}{k} threads={row['threads']}: "
    if row["check"] != "ok":
        return head + row["check"]
    parts = [f"{n} {report.fmt_ms(d['median_ms'])} ms ×{d['repeats']}"
             for n, d in row["contenders"].items()]
    return head + ", ".join(parts) + f" | vs peer {report.fmt_ratio(row['speedup_vs_peer'])}" + (
        f", vs torch {report.fmt_ratio(row['speedup_vs_torch'])}" if row["torch_ms"] else "") + (
        f", vs {row['other']} {report.fmt_ratio(row['speedup_vs_other'])}" if row["other"] else "") + (
        f", {report.fmt_pct(row['share_of_one_read'])} of one read")


if __name__ == "__main__":
    sys.exit(main())
