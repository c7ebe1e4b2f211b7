"""The chart: fasttopk's speed-up over each peer, with the spread of the interleaved runs.

One panel per kernel; along x, the rows (shape, k, dtype); per row one box per peer and thread
count. A box is drawn over the per-round speed-ups: round i's speed-up is the peer's i-th run
over fasttopk's i-th run (the two ran in the same round of the interleaved schedule, so a burst
of load hits both), for as many rounds as both ran. Box = quartiles, whiskers = min and max,
the line inside = the median. Log scale; above 1× fasttopk is faster.
"""
from __future__ import annotations

from .report import KERNEL_ORDER, dtype_of, short_shape, sort_rows

# (role, threads index 0 = one thread / 1 = more) -> colour: dark for one thread.
COLOURS = {
    "peer": ("#1f77b4", "#9ecae1"),
    "torch": ("#d62728", "#fcae91"),
    "other": ("#2ca02c", "#a1d99b"),
}
ROLE_NAME_KEY = {"peer": "peer", "torch": "torch", "other": "other"}


def round_speedups(row: dict, role: str) -> list[float]:
    """Per-round speed-ups of fasttopk over the row's peer in `role` (empty if none)."""
    name = row.get(ROLE_NAME_KEY[role])
    if not name or name not in row["contenders"]:
        return []
    ft = row["contenders"]["fasttopk"]["times_s"]
    peer = row["contenders"][name]["times_s"]
    return [p / f for p, f in zip(peer, ft) if f > 0]


def _categories(krows: list[dict]) -> list[tuple]:
    cats: list[tuple] = []
    for r in krows:
        c = (tuple(r["shape"]), r["k"], dtype_of(r))
        if c not in cats:
            cats.append(c)
    return cats


def chart(rows: list[dict], meta: dict, path: str) -> str | None:
    """Draws the chart into `path` (PNG); None on success, or why no chart was drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
        from matplotlib.ticker import FuncFormatter
    except ImportError:
        return "matplotlib not installed"
    rows = [r for r in sort_rows(rows) if r["check"] == "ok"]
    kernels = [k for k in KERNEL_ORDER if any(r["kernel"] == k for r in rows)]
    if not kernels:
        return "no rows"
    threads = meta["thread_counts"]
    fig, axes = plt.subplots(len(kernels), 1, figsize=(15, 3.4 * len(kernels)), squeeze=False)
    for ax, kern in zip(axes[:, 0], kernels):
        krows = [r for r in rows if r["kernel"] == kern]
        cats = _categories(krows)
        series = [(role, t) for role in ("peer", "torch", "other") for t in threads
                  if any(r["threads"] == t and round_speedups(r, role) for r in krows)]
        width = 0.84 / max(1, len(series))
        handles: dict[str, Patch] = {}
        for si, (role, t) in enumerate(series):
            data, xs = [], []
            for ci, (shape, k, dtype) in enumerate(cats):
                r = next((r for r in krows if (tuple(r["shape"]), r["k"], dtype_of(r)) == (shape, k, dtype)
                          and r["threads"] == t), None)
                sp = round_speedups(r, role) if r else []
                if sp:
                    data.append(sp)
                    xs.append(ci - 0.42 + width * (si + 0.5))
            if not data:
                continue
            colour = COLOURS[role][0 if t == 1 else 1]
            boxes = ax.boxplot(data, positions=xs, widths=width * 0.85, whis=(0, 100),
                               showfliers=False, patch_artist=True, manage_ticks=False,
                               medianprops={"color": "black", "linewidth": 1.0})
            for b in boxes["boxes"]:
                b.set_facecolor(colour)
                b.set_linewidth(0.6)
            names = sorted({r.get(ROLE_NAME_KEY[role]) for r in krows if r["threads"] == t
                            and r.get(ROLE_NAME_KEY[role])})
            label = f"vs {' / '.join(names)}, {t} thread{'s' if t > 1 else ''}"
            handles[label] = Patch(facecolor=colour, label=label)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
        ax.yaxis.set_minor_formatter(FuncFormatter(
            lambda v, _: f"{v:g}×" if f"{v:.0e}"[0] in "25" else ""))
        ax.set_xticks(range(len(cats)))
        ax.set_xticklabels([short_shape(s) + (f"\nk={k}" if k is not None else "")
                            + ("" if d == "float32" else f"\n{d}") for s, k, d in cats], fontsize=8)
        ax.set_xlim(-0.5, len(cats) - 0.5)
        ax.set_axisbelow(True)
        ax.set_ylabel("speed-up (×)\nhigher is better", fontsize=9)
        ax.set_title(kern, loc="left", fontsize=10)
        if handles:
            ax.legend(handles=list(handles.values()), fontsize=7, loc="upper left",
                      bbox_to_anchor=(1.0, 1.0))
        ax.grid(axis="y", which="both", alpha=0.3)
    m = meta["machine"]
    fig.suptitle(
        f"fasttopk speed-up over each peer (peer time / fasttopk time, higher is better): box = "
        f"quartiles, whiskers = min–max of the interleaved rounds\n{m['cpu_model']}, "
        f"{m['simd_arch']}, {meta['date'][:10]}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return None
