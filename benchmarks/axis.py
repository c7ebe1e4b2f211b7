"""Reductions along axis 0 (issue 12, item 4): topk and argmax down the columns of a row-major
(n_samples, n_classes) matrix, "the k most confident samples of each class", read in place.

``python -m benchmarks.axis [--quick] [--out axis]`` writes build/bench/<out>.json and <out>.md
and prints the table. One thread (fasttopk and torch set to one), timing.time_row's interleaved
median. Contenders on the same array: fasttopk along axis 0; the way it went before the column
kernels, a transposed copy and the row kernel (``topk(np.ascontiguousarray(x.T), k)``);
NumPy's argpartition+argsort along axis 0 (np.argmax for argmax); torch.topk(dim=0) when
installed; and the floor, ``x.max()``, one read of the matrix. Every contender's answer is
checked against fasttopk's before timing (see _agree).
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np

from . import machine, report
from .run import SEED, make_data
from .timing import Contender, Settings, time_row, warm_up

SETTINGS = Settings(budget_s=0.3, min_repeats=5, max_repeats=100, slow_s=3.0, slow_repeats=3)
QUICK = Settings(budget_s=0.02, min_repeats=2, max_repeats=5, slow_s=0.5, slow_repeats=2)
SHAPES = ((100000, 10), (100000, 32), (50000, 100), (10000, 1000))
QUICK_SHAPES = ((2000, 10), (1000, 100))
KS = (1, 5, 50)


def numpy_topk_axis0(x: np.ndarray, k: int):
    part = np.argpartition(x, -k, axis=0)[-k:]
    vals = np.take_along_axis(x, part, axis=0)
    order = np.argsort(-vals, axis=0, kind="stable")
    return np.take_along_axis(vals, order, axis=0), np.take_along_axis(part, order, axis=0)


def _contenders(kernel: str, k: int | None, x: np.ndarray, torch) -> list[Contender]:
    import fasttopk

    t = torch.from_numpy(x) if torch is not None else None
    if kernel == "argmax":
        cs = [Contender("fasttopk", "fasttopk", lambda: fasttopk.argmax(x, axis=0)),
              Contender("np.argmax", "peer", lambda: np.argmax(x, axis=0))]
        if t is not None:
            cs.append(Contender("torch.argmax", "torch", lambda: torch.argmax(t, dim=0), traced=False))
    else:
        cs = [Contender("fasttopk", "fasttopk", lambda: fasttopk.topk(x, k, axis=0)),
              Contender("transposed copy + rows", "fasttopk",
                        lambda: fasttopk.topk(np.ascontiguousarray(x.T), k, axis=1)),
              Contender("np.argpartition+argsort", "peer", lambda: numpy_topk_axis0(x, k))]
        if t is not None:
            cs.append(Contender("torch.topk", "torch", lambda: torch.topk(t, k, dim=0), traced=False))
    return [*cs, Contender("x.max()", "floor", lambda: x.max())]


def _indices(name: str, result):
    if name == "x.max()":
        return None
    if name == "transposed copy + rows":
        return np.asarray(result[1]).T
    if isinstance(result, tuple):  # TopK, torch.return_types.topk
        result = result[1]
    return np.asarray(result)


def _agree(results, x: np.ndarray) -> list[str]:
    """The contenders whose indices are not fasttopk's. topk: the same values place by place
    and the same set of rows per column (equal values may come in another order: NumPy's
    argpartition leaves ties in its own order, and a float32 column of 50000 normal draws has
    them); argmax: the same first index."""
    ours = _indices("fasttopk", results["fasttopk"][0])
    disagree = []
    for name, (r, _) in results.items():
        idx = _indices(name, r)
        if idx is None:
            continue
        if ours.ndim == 1:
            same = np.array_equal(idx, ours)
        else:
            same = idx.shape == ours.shape and np.array_equal(
                np.take_along_axis(x, idx, axis=0), np.take_along_axis(x, ours, axis=0)
            ) and np.array_equal(np.sort(idx, axis=0), np.sort(ours, axis=0))
        if not same:
            disagree.append(name)
    return disagree


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small shapes, few repeats (a smoke run)")
    p.add_argument("--out", default="axis")
    args = p.parse_args(argv)
    import fasttopk

    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        torch = None
    shapes, settings = (QUICK_SHAPES, QUICK) if args.quick else (SHAPES, SETTINGS)
    rows = []
    with machine.thread_setting(1):
        for shape in shapes:
            x = make_data(*shape)[0]
            for kernel, k in [("argmax", None), *(("topk", k) for k in KS)]:
                if k is not None and k > shape[0]:
                    continue
                cs = _contenders(kernel, k, x, torch)
                first = warm_up(cs)
                disagree = _agree(first, x)
                timed = time_row(cs, settings, {n: s for n, (_, s) in first.items()}, measure_memory=False)
                row = {"kernel": kernel, "k": k, "shape": list(shape), "disagree": disagree,
                       "ms": {n: 1e3 * t.median_s for n, t in timed.items()}}
                rows.append(row)
                print(_line(row), flush=True)
    meta = {"machine": machine.machine_info(), "versions": machine.versions(),
            "commit": machine.git_commit(), "threads": 1, "seed": SEED, "fasttopk_isa": fasttopk.simd_arch()}
    os.makedirs(machine.OUT_DIR, exist_ok=True)
    stem = os.path.join(machine.OUT_DIR, args.out)
    with open(stem + ".json", "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    text = markdown(rows, meta)
    with open(stem + ".md", "w") as f:
        f.write(text)
    print(f"wrote {stem}.json and {stem}.md")
    return rows


def _line(row) -> str:
    k = f" k={row['k']}" if row["k"] is not None else ""
    times = ", ".join(f"{n} {ms:.2f} ms" for n, ms in row["ms"].items())
    bad = f"  DISAGREE: {', '.join(row['disagree'])}" if row["disagree"] else ""
    return f"{row['kernel']}{k} {report.shape_str(tuple(row['shape']))} axis 0: {times}{bad}"


# The table's columns: contender names by column (argmax and topk name their peers apart).
COLUMNS = {
    "fasttopk": ("fasttopk",),
    "before: transposed copy + rows": ("transposed copy + rows",),
    "NumPy": ("np.argmax", "np.argpartition+argsort"),
    "torch": ("torch.argmax", "torch.topk"),
}


def markdown(rows, meta) -> str:
    """The table: ms per call, and each other's time over fasttopk's (above 1: fasttopk wins);
    the floor share is x.max()'s time over fasttopk's."""
    head = ["axis 0, one thread", *COLUMNS, "x.max() (floor share)"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        ours = r["ms"]["fasttopk"]
        cells = []
        for column, names in COLUMNS.items():
            ms = next((r["ms"][n] for n in names if n in r["ms"]), None)
            if ms is None:
                cells.append("")
            elif column == "fasttopk":
                cells.append(f"{ms:.2f} ms")
            else:
                cells.append(f"{ms:.2f} ms ({ms / ours:.1f}×)")
        floor = r["ms"]["x.max()"]
        cells.append(f"{floor:.2f} ms ({100 * floor / ours:.0f}%)")
        k = f" k={r['k']}" if r["k"] is not None else ""
        out.append(f"| {r['kernel']}{k} {report.shape_str(tuple(r['shape']))} | " + " | ".join(cells) + " |")
    m = meta["machine"]
    out.append("")
    out.append(f"{m.get('cpu_model', '?')}, {meta['fasttopk_isa']} kernels, commit {meta['commit'][:7]}. "
               "NumPy: np.argmax, or np.argpartition + a stable argsort of the k winners; torch: "
               "torch.argmax / torch.topk with dim=0. (n.n×): that time over fasttopk's.")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
