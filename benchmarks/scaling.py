"""Thread scaling: every kernel on DESIGN.md's shapes at 1, 2, 4, ... threads, fasttopk and torch.

``python -m benchmarks.scaling [--threads 1,2,4,8,16] [--out scaling]`` writes
build/bench/<out>.json and <out>.md and prints the table. Issue 12, item 5: a kernel "scales to
the memory bus" when, at t threads, it reads its input at a rate close to what t processes of
plain NumPy reductions read (bandwidth.py, measured here for every t), so each row reports its
GB/s at the largest thread count against that machine figure, beside the speed-up over one
thread and torch at the same thread count.

Only fasttopk and torch are timed (the single-threaded NumPy/SciPy/scikit-learn peers have no
thread setting; ``benchmarks.run`` compares against them). Threads are set and pinned as in
``benchmarks.run`` (machine.thread_setting). Timing is timing.time_row's interleaved median.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from . import bandwidth, machine, report
from .run import SEED, make_data
from .timing import Contender, Settings, time_row, warm_up

SETTINGS = Settings(budget_s=0.12, min_repeats=5, max_repeats=60, slow_s=2.0, slow_repeats=3)
TOPK_KS = (1, 5, 50)
ACCURACY_KS = (1, 5)


def _threads_default() -> str:
    n = os.cpu_count() or 1
    counts, t = [], 1
    while t < n:
        counts.append(t)
        t *= 2
    return ",".join(map(str, [*counts, n]))


def _contenders(kernel: str, k: int | None, x: np.ndarray, y: np.ndarray, torch):
    import fasttopk

    from .cases import torch_topk_accuracy

    t = torch.from_numpy(x) if torch is not None else None
    yt = torch.from_numpy(y) if torch is not None else None
    if kernel == "argmax":
        pair = (lambda: fasttopk.argmax(x, axis=1), lambda: torch.argmax(t, dim=1))
    elif kernel == "softmax":
        pair = (lambda: fasttopk.softmax(x, axis=1), lambda: torch.softmax(t, dim=1))
    elif kernel == "log_softmax":
        pair = (lambda: fasttopk.log_softmax(x, axis=1), lambda: torch.log_softmax(t, dim=1))
    elif kernel == "logsumexp":
        pair = (lambda: fasttopk.logsumexp(x, axis=1), lambda: torch.logsumexp(t, dim=1))
    elif kernel == "topk":
        pair = (lambda: fasttopk.topk(x, k, axis=1), lambda: torch.topk(t, k, dim=1))
    elif kernel == "accuracy":
        labels = np.arange(x.shape[1])
        pair = (lambda: fasttopk.top_k_accuracy_score(y, x, k=k, labels=labels),
                lambda: torch_topk_accuracy(t, yt, k))
    else:
        raise ValueError(kernel)
    cs = [Contender("fasttopk", "fasttopk", pair[0])]
    if torch is not None:
        cs.append(Contender("torch", "torch", pair[1], traced=False))
    return cs


def _rows_for(shape):
    c = shape[1]
    out = [("argmax", None), ("softmax", None), ("log_softmax", None), ("logsumexp", None)]
    out += [("topk", k) for k in TOPK_KS if k <= c]
    out += [("accuracy", k) for k in ACCURACY_KS if k <= c]
    return out


def _bandwidths(counts, runs, mib=512) -> dict[int, float]:
    """GB/s of `t` processes of NumPy reductions, for each t; before torch or fasttopk start
    thread pools in this process (a fork after that may deadlock)."""
    out = {}
    n_items = mib * 2**20 // 8
    for t in counts:
        if t == 1:
            out[t] = bandwidth.measure(nbytes=n_items * 8, runs=runs, procs=1)["single_thread_gbps"]
            continue
        best = min(min(bandwidth._parallel(n_items, m, t, runs)) for m in bandwidth.METHODS)
        out[t] = n_items * 8 / 1e9 / best
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__.split("\n")[0])
    p.add_argument("--threads", default=_threads_default(), help="comma-separated thread counts")
    p.add_argument("--shapes", default=None, help="comma-separated n_rowsxn_classes (default: DESIGN.md's)")
    p.add_argument("--out", default="scaling", help="file stem under build/bench")
    p.add_argument("--bandwidth-mib", type=int, default=512,
                   help="buffer of the bandwidth measurement (larger than the last-level cache)")
    args = p.parse_args(argv)
    counts = [int(s) for s in args.threads.split(",")]
    shapes = ([tuple(int(v) for v in s.lower().replace("×", "x").split("x")) for s in args.shapes.split(",")]
              if args.shapes else list(report.DESIGN_SHAPES))

    t_start = time.perf_counter()
    print(f"measuring read bandwidth at {counts} processes ...", flush=True)
    bw = _bandwidths(counts, runs=5, mib=args.bandwidth_mib)
    print("  " + ", ".join(f"{t}: {g:.1f} GB/s" for t, g in bw.items()), flush=True)

    try:
        import torch
    except ImportError:
        torch = None

    rows = []
    for shape in shapes:
        x, y = make_data(*shape)
        for kernel, k in _rows_for(shape):
            row = {"kernel": kernel, "shape": list(shape), "k": k, "bytes_read": x.nbytes, "ms": {}, "torch_ms": {}}
            for t in counts:
                with machine.thread_setting(t):
                    cs = _contenders(kernel, k, x, y, torch)
                    first = warm_up(cs)
                    timed = time_row(cs, SETTINGS, {n: s for n, (_, s) in first.items()},
                                     measure_memory=False)
                    del first
                row["ms"][t] = timed["fasttopk"].median_s * 1e3
                if "torch" in timed:
                    row["torch_ms"][t] = timed["torch"].median_s * 1e3
            rows.append(row)
            print(_line(row, counts, bw), flush=True)
        del x, y

    meta = {
        "machine": machine.machine_info(),
        "versions": machine.versions(),
        "commit": machine.git_commit(),
        "seed": SEED,
        "thread_counts": counts,
        "read_bandwidth_gbps": bw,
        "bandwidth_method": (f"bandwidth.py's reductions over {args.bandwidth_mib} MiB in t forked "
                             "processes, best of 5 runs"),
        "threads_method": machine.thread_setting.__doc__.strip(),
        "elapsed_s": time.perf_counter() - t_start,
    }
    os.makedirs(machine.OUT_DIR, exist_ok=True)
    stem = os.path.join(machine.OUT_DIR, args.out)
    with open(stem + ".json", "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    text = markdown(rows, counts, bw, meta)
    with open(stem + ".md", "w") as f:
        f.write(text)
    print(text)
    print(f"wrote {stem}.json and {stem}.md")


README_KERNELS = (("argmax", None), ("softmax", None), ("log_softmax", None), ("logsumexp", None),
                  ("topk", 5), ("topk", 50), ("accuracy", 5))


def readme_table(saved: dict) -> str:
    """The README's compact view of a saved run: per kernel and DESIGN shape, the speed-up of the
    largest thread count over one thread, and the share of that many processes' read bandwidth."""
    meta, rows = saved["meta"], saved["rows"]
    top = str(meta["thread_counts"][-1])
    bw = meta["read_bandwidth_gbps"][top]
    shapes = [s for s in report.DESIGN_SHAPES if any(tuple(r["shape"]) == s for r in rows)]
    head = ["kernel"] + [report.shape_str(s) for s in shapes]
    lines = ["| " + " | ".join(head) + " |", "|:--|" + "--:|" * len(shapes)]
    for kernel, k in README_KERNELS:
        cells = [kernel + ("" if k is None else f" k={k}")]
        for s in shapes:
            r = next((r for r in rows if r["kernel"] == kernel and r["k"] == k and tuple(r["shape"]) == s), None)
            if r is None:
                cells.append("—")
                continue
            ms = r["ms"]
            gbps = _gbps(r, top)
            cells.append(f"{ms['1'] / ms[top]:.1f}× · {100 * gbps / bw:.0f}%")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _gbps(row, threads) -> float:
    return row["bytes_read"] / (row["ms"][threads] * 1e-3) / 1e9


def _line(row, counts, bw) -> str:
    top = counts[-1]
    ms = row["ms"]
    gbps = _gbps(row, top)
    k = f" k={row['k']}" if row["k"] is not None else ""
    return (f"{row['kernel']}{k} {report.shape_str(row['shape'])}: "
            + " ".join(f"{t}t {ms[t]:.3f}" for t in counts)
            + f" ms; ×{ms[counts[0]] / ms[top]:.1f}; {gbps:.1f} GB/s ({100 * gbps / bw[top]:.0f}% of read)")


def markdown(rows, counts, bw, meta) -> str:
    top = counts[-1]
    head = ["kernel", "shape", "k"] + [f"{t} thr ms" for t in counts] + [
        f"speed-up {top} vs {counts[0]}", f"torch {top} thr ms", f"vs torch ({top} thr)",
        f"GB/s ({top} thr)", f"% of {top}-process read"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        ms = r["ms"]
        gbps = _gbps(r, top)
        tms = r["torch_ms"].get(top)
        cells = [r["kernel"], report.shape_str(r["shape"]), "" if r["k"] is None else str(r["k"])]
        cells += [report.fmt_ms(ms[t]) for t in counts]
        cells += [f"{ms[counts[0]] / ms[top]:.1f}×", report.fmt_ms(tms),
                  "" if tms is None else f"{tms / ms[top]:.2f}×", f"{gbps:.1f}", f"{100 * gbps / bw[top]:.0f}%"]
        lines.append("| " + " | ".join(cells) + " |")
    m = meta["machine"]
    foot = (f"\nMachine: {m.get('cpu_model', '?')}, {m.get('cpu_count')} CPUs, fasttopk ISA {m.get('simd_arch')}; "
            "read bandwidth " + ", ".join(f"{t} proc {g:.1f} GB/s" for t, g in bw.items())
            + f"; commit {meta['commit']}; torch {meta['versions'].get('torch', 'n/a')}.\n")
    return "\n".join(lines) + "\n" + foot


if __name__ == "__main__":
    main()
