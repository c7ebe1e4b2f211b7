"""python -m tests.fuzz [--seconds S] [--seed N] [--replay SEED:INDEX]"""
from __future__ import annotations

import argparse
import sys
import time

import fasttopk

from .case import judge
from .runner import make_case, supervise, threads_for


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--case-timeout", type=float, default=60.0,
                        help="seconds one case may take before it counts as a hang")
    parser.add_argument("--replay", metavar="SEED:INDEX", help="run one case and show it")
    args = parser.parse_args(argv)
    if args.replay:
        seed, index = (int(v) for v in args.replay.split(":"))
        fasttopk.set_num_threads(threads_for(index))
        case = make_case(seed, index)
        print(f"{case.func}: {case.recipe} [threads={threads_for(index)}]")
        failures = judge(case)
        for kind, detail in failures:
            print(f"  {kind}: {detail}")
        print("  ok" if not failures else "")
        return 1 if failures else 0
    report = supervise(args.seed, args.seconds, args.case_timeout,
                       log=lambda line: print(line, flush=True))
    print(report.summary())
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
