"""Publishes a benchmark run: ``python -m benchmarks.publish [build/bench/latest.json]``.

`make bench` writes its results under build/ and changes no tracked file. This step copies a
run's JSON, table and chart into benchmarks/results/ and rewrites the README region between
``<!-- bench:begin -->`` and ``<!-- bench:end -->`` with its compact summary (summary.py), which
links the full table and the chart. It refuses a run that is not
complete (a --quick run or a subset) or that was flagged as loaded (other work on the machine
when it started), and one whose rows disagree with the peers.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

from . import report, summary
from .machine import OUT_DIR, ROOT

RESULTS = os.path.join(ROOT, "benchmarks", "results")
README = os.path.join(ROOT, "README.md")


def refusal(meta: dict) -> str | None:
    """Why `meta` may not be published, or None."""
    if not meta.get("complete"):
        return "not a complete run (--quick or a subset of kernels, shapes, dtypes, k or threads)"
    if meta.get("loaded"):
        return f"flagged as loaded (load average {meta.get('loadavg_start')} at the start)"
    bad = [r for r in meta.get("rows", []) if r.get("check") != "ok"]
    if bad:
        return f"{len(bad)} rows disagree with their peers"
    return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.publish", description=__doc__.split("\n")[0])
    p.add_argument("run", nargs="?", default=os.path.join(OUT_DIR, "latest.json"),
                   help="the run's JSON (default: build/bench/latest.json)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the README block and change nothing (any run, even a refused one)")
    args = p.parse_args(argv)
    with open(args.run, encoding="utf-8") as f:
        meta = json.load(f)
    why = refusal(meta)
    if args.dry_run:
        print(summary.readme_block(meta))
        print(f"\n(dry run; publish would {'refuse: ' + why if why else 'accept this run'})",
              file=sys.stderr)
        return 0
    if why is not None:
        print(f"not published: {why}", file=sys.stderr)
        return 1
    stem = os.path.splitext(args.run)[0]
    os.makedirs(RESULTS, exist_ok=True)
    for ext in (".json", ".md", ".png"):
        if os.path.exists(stem + ext):
            shutil.copyfile(stem + ext, os.path.join(RESULTS, "latest" + ext))
    print(report.update_readme(README, summary.readme_block(meta)))
    print(f"published {args.run} into {os.path.relpath(RESULTS, ROOT)}/ and README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
