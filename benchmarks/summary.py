"""The README's compact summary of a run: per kernel and peer, fasttopk's median speed-up over
DESIGN.md's shapes at one thread and at all threads, the machine in a footnote, and links to
the full table and the chart (benchmarks/results/latest.md, latest.png).

Imports no peer (no torch, no JAX): publish.py and its test use it on a run's JSON alone.
"""
from __future__ import annotations

import statistics

# DESIGN_SHAPES, DESIGN_KS: for runs whose JSON predates meta["design_*"]
from .report import DESIGN_KS, DESIGN_SHAPES, KERNEL_ORDER, dtype_of, fmt_ratio

ROLES = (("peer", "peer"), ("torch", "torch"), ("other", "other"))
SUMMARY_KERNELS = tuple(k for k in KERNEL_ORDER if k != "softmax_out")
FULL_TABLE = "benchmarks/results/latest.md"
CHART = "benchmarks/results/latest.png"


def design_rows(meta: dict) -> list[dict]:
    """The rows the summary covers: float32, agreeing with the peers, at DESIGN.md's shapes and
    k (the large-k, 400 MB argmax and half-precision rows stay in the full table)."""
    shapes = {tuple(s) for s in meta.get("design_shapes", DESIGN_SHAPES)}
    ks = set(meta.get("design_ks", DESIGN_KS))
    return [r for r in meta["rows"]
            if r["check"] == "ok" and dtype_of(r) == "float32" and tuple(r["shape"]) in shapes
            and (r["k"] is None or r["k"] in ks) and r["kernel"] in SUMMARY_KERNELS]


def speedups(rows: list[dict], kernel: str, role: str, threads: int) -> tuple[list[float], list[str]]:
    """fasttopk's speed-ups over the peer in `role` for `kernel` at `threads`, and its names."""
    values, names = [], []
    for r in rows:
        if r["kernel"] != kernel or r["threads"] != threads:
            continue
        v = r.get(f"speedup_vs_{role}")
        if v is None:
            continue
        values.append(v)
        name = r.get(role)
        if name not in names:
            names.append(name)
    return values, names


def _cell(values: list[float]) -> str:
    if not values:
        return "—"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt_ratio(med)
    return f"{fmt_ratio(med)} ({fmt_ratio(min(values))}–{fmt_ratio(max(values))})"


def summary_table(meta: dict) -> str:
    rows = design_rows(meta)
    counts = meta["thread_counts"]
    one, many = (1 if 1 in counts else None), max(counts)
    header = ["kernel", "peer", "1 thread", f"{many} threads (all)" if many != 1 else None]
    header = [h for h in header if h]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([":--", ":--"] + ["--:"] * (len(header) - 2)) + "|"]
    for kernel in SUMMARY_KERNELS:
        for role, _ in ROLES:
            cells: dict[int | None, list[float]] = {}
            names: list[str] = []
            for t in {one, many} - {None}:
                cells[t], n = speedups(rows, kernel, role, t)
                names += [x for x in n if x not in names]
            if not any(cells.values()):
                continue
            line = [kernel, " / ".join(f"`{n}`" for n in names), _cell(cells.get(one, []))]
            if many != 1:
                line.append(_cell(cells.get(many, [])))
            lines.append("| " + " | ".join(line) + " |")
    return "\n".join(lines)


def machine_footnote(meta: dict) -> str:
    m, v, bw = meta["machine"], meta["versions"], meta["bandwidth"]
    peers = ", ".join(f"{name} {v[key]}" for name, key in (
        ("NumPy", "numpy"), ("SciPy", "scipy"), ("scikit-learn", "scikit-learn"),
        ("PyTorch", "torch"), ("JAX", "jax"), ("torchmetrics", "torchmetrics")) if v.get(key))
    return (
        f"Machine: {m['cpu_model']}, {m['cpu_count']} cores, {m.get('mem_total_gb')} GB, "
        f"fasttopk ISA {m['simd_arch']}; read bandwidth {bw['single_thread_gbps']:.1f} GB/s "
        f"(1 thread), {bw['all_threads_gbps']:.1f} GB/s (all); {m['platform']}; Python "
        f"{v['python']}, {peers}; measured {meta['date'][:10]}, fasttopk commit "
        f"{(v.get('fasttopk_git_commit') or '?')[:10]}."
    )


def readme_block(meta: dict) -> str:
    """What publish.py writes between the README's bench markers."""
    rows = design_rows(meta)
    shapes = sorted({tuple(r["shape"]) for r in rows}, key=lambda s: (s[1], s[0]))
    return (
        "fasttopk's speed-up over each peer (peer time / fasttopk time; higher is better): the "
        "median over the float32 rows at the shapes "
        + ", ".join(f"{n}×{c}" for n, c in shapes)
        + " and k ∈ {" + ", ".join(map(str, meta.get("design_ks", DESIGN_KS))) + "}, "
        "with the lowest and highest in brackets. Each row of the run times every contender on "
        "the same array in the same process, alternately, and takes the median of its runs."
        + (" JAX keeps its own threads (XLA fixes them at import); the 1-thread rows pin the "
           "whole process to one core, JAX's threads included; its input is a JAX array made "
           "outside the timing."
           if meta["versions"].get("jax") else "")
        + "¹\n\n"
        + summary_table(meta)
        + f"\n\nThe full table (every shape, k, dtype, thread count, the one-read floor, GB/s, "
        f"extra memory, the large-k and `out=` rows of issue 12): [{FULL_TABLE}]({FULL_TABLE}); "
        f"the spread of the runs: [{CHART}]({CHART}). `make bench` measures (into build/bench/, "
        "no tracked file changes); `make bench-publish` copies a complete run that was not "
        "flagged as loaded here.\n\n"
        f"¹ {machine_footnote(meta)}"
    )
