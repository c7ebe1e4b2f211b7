"""Runs fuzz cases: in-process (`run_cases`, the worker) and supervised (`supervise`), where a
worker process runs the cases and reports each one before running it, so that a crash or a
hang is caught, recorded against its case and the run goes on in a fresh worker."""
from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter

import numpy as np

import fasttopk

from . import array_cases, fused_cases, metric_cases, per_class_cases
from .case import judge

GENERATORS = [  # (weight, generator)
    (3.0, array_cases.topk_case),
    (3.0, array_cases.argmax_case),
    (3.0, array_cases.softmax_case),
    (1.5, fused_cases.topk_softmax_case),
    (1.0, fused_cases.logsumexp_case),
    (2.0, metric_cases.score_case),
    (1.0, metric_cases.rank_case),
    (0.7, metric_cases.stream_case),
    (1.0, per_class_cases.per_class_case),
    (0.1, metric_cases.masked_case),
]
_WEIGHTS = np.array([w for w, _ in GENERATORS]) / sum(w for w, _ in GENERATORS)


def threads_for(index: int) -> int:
    """The thread count case `index` runs with: 1..4 in turns (results must not depend on it)."""
    return 1 + (index // 64) % 4


def make_case(seed: int, index: int):
    rng = np.random.default_rng([seed, index])
    gen = GENERATORS[int(rng.choice(len(GENERATORS), p=_WEIGHTS))][1]
    return gen(rng)


def run_cases(seed: int, start: int, seconds: float, emit=print, max_cases=None) -> None:
    """The worker: cases start, start+1, ... until `seconds` pass; one line per event."""
    warnings.simplefilter("ignore")  # the references' RuntimeWarnings (NaN, overflow)
    deadline = time.monotonic() + seconds
    index = start
    while time.monotonic() < deadline and (max_cases is None or index < start + max_cases):
        emit(f"CASE {index}")
        threads = threads_for(index)
        if fasttopk.get_num_threads() != threads:
            fasttopk.set_num_threads(threads)
        try:
            case = make_case(seed, index)
        except Exception as exc:  # a harness bug, reported as such
            emit(f"FAIL {index} harness-error ? | {type(exc).__name__}: {exc} | -")
            index += 1
            continue
        for kind, detail in judge(case):
            emit(f"FAIL {index} {kind} {case.func} | {_one_line(detail)} | "
                 f"{_one_line(case.recipe)} [threads={threads}]")
        emit(f"RAN {index} {case.func}")
        index += 1
    emit(f"DONE {index}")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:600]


def worker_main(argv) -> None:
    seed, start, wall_deadline = int(argv[0]), int(argv[1]), float(argv[2])
    run_cases(seed, start, wall_deadline - time.time(), emit=lambda line: print(line, flush=True))


class Report:
    def __init__(self, seed):
        self.seed = seed
        self.cases = Counter()  # per function
        self.failures = []  # (index, kind, func, detail, recipe)

    @property
    def n_cases(self):
        return sum(self.cases.values())

    def by_kind(self):
        return Counter(kind for _, kind, *_ in self.failures)

    def summary(self, max_shown=3) -> str:
        lines = [f"fuzz seed {self.seed}: {self.n_cases} cases "
                 f"({', '.join(f'{f} {n}' for f, n in sorted(self.cases.items()))})",
                 f"failures: {len(self.failures)} "
                 f"({', '.join(f'{k} {n}' for k, n in sorted(self.by_kind().items())) or 'none'})"]
        groups = {}
        for fail in self.failures:
            groups.setdefault((fail[1], fail[2]), []).append(fail)
        for (kind, func), fails in sorted(groups.items()):
            lines.append(f"  {kind} in {func}: {len(fails)}")
            for index, _, _, detail, recipe in fails[:max_shown]:
                lines.append(f"    python -m tests.fuzz --replay {self.seed}:{index}")
                lines.append(f"      {detail}")
                lines.append(f"      {recipe}")
        return "\n".join(lines)


def supervise(seed: int, seconds: float, case_timeout: float = 60.0, log=None) -> Report:
    """Runs workers for `seconds`; a worker that dies or stalls on a case is recorded as a
    crash or hang of that case and replaced by a fresh one starting after it."""
    report = Report(seed)
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    package = os.path.basename(os.path.dirname(os.path.abspath(__file__)))
    deadline = time.monotonic() + seconds
    index = 0
    while time.monotonic() < deadline - 0.5:
        code = (f"import sys; sys.path.insert(0, {tests_dir!r}); "
                f"from {package}.runner import worker_main; worker_main(sys.argv[1:])")
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(seed), str(index),
             str(time.time() + deadline - time.monotonic())],  # the worker's imports count
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
        current, noise, finished = None, [], False
        while True:
            try:
                line = lines.get(timeout=case_timeout)
            except queue.Empty:
                proc.kill()
                proc.wait()
                report.failures.append((current, "hang", "?", f"no progress in {case_timeout} s",
                                        "see --replay"))
                break
            if line is None:  # the worker's output ended
                proc.wait()
                if not finished:
                    report.failures.append((current, "crash", "?", f"worker exit {proc.returncode}: "
                                            + _one_line(" ".join(noise[-5:])), "see --replay"))
                break
            head, _, rest = line.partition(" ")
            if head == "CASE":
                current = int(rest)
            elif head == "RAN":
                report.cases[rest.split()[1]] += 1
            elif head == "FAIL":
                where, detail, recipe = ([*rest.split(" | ", 2), "", ""])[:3]
                idx, kind, func = where.split(" ", 2)
                report.failures.append((int(idx), kind, func, detail, recipe))
                if log:
                    log(line)
            elif head == "DONE":
                finished = True
                current = int(rest)
            else:
                noise.append(line)
        index = (current if current is not None else index) + (0 if finished else 1)
        if finished:
            break
    return report


def _pump(stream, lines):
    with stream:  # closed here, at the end of the worker's output (else a ResourceWarning)
        for line in stream:
            lines.put(line.rstrip("\n"))
    lines.put(None)
