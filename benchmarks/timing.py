"""Interleaved timing of contenders on the same data, and the extra peak memory of one call.

Timing protocol for one row (one kernel on one array with one thread setting):
  1. warm-up: every contender runs once (its result is kept for the agreement check), and once
     more when that call took under 0.25 s;
  2. repeats per contender: enough to fill `budget_s` of its own time, clamped to
     [min_repeats, max_repeats]; a contender whose `min_repeats` calls would exceed `slow_s`
     (scikit-learn on large inputs) gets max(slow_repeats, slow_s // estimate) instead;
  3. rounds: in round r every contender that still owes a run is called once, in an order
     rotated by r (round 0: A B C, round 1: B C A, ...), so drifts in machine load hit all
     contenders alike; each call is timed alone with time.perf_counter, with the garbage
     collector off; results are dropped after the clock stops;
  4. the row reports the median of each contender's runs (all runs are kept in the JSON).
"""
from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass
class Contender:
    name: str  # display name, e.g. "fasttopk", "np.argmax", "torch.topk", "x.max()"
    role: str  # "fasttopk" | "peer" (the main peer) | "torch" | "floor"
    fn: Callable[[], Any]
    traced: bool = True  # tracemalloc sees its allocations (False for torch)


@dataclass
class Settings:
    budget_s: float = 1.0
    min_repeats: int = 7
    max_repeats: int = 200
    slow_s: float = 12.0
    slow_repeats: int = 3
    second_warmup_below_s: float = 0.25


@dataclass
class Timed:
    warmup_s: list[float] = field(default_factory=list)
    times_s: list[float] = field(default_factory=list)
    extra_peak_bytes: int | None = None

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)


def output_bytes(result: Any) -> int:
    """Bytes held by the arrays a call returned (tuples and namedtuples are walked)."""
    if isinstance(result, np.ndarray):
        return int(result.nbytes)
    if isinstance(result, (tuple, list)):
        return sum(output_bytes(r) for r in result)
    return 0


def extra_peak_bytes(fn: Callable[[], Any]) -> int:
    """tracemalloc's peak during one call, above what was traced before it, minus the bytes of
    the returned arrays: the memory a call needs beyond its output. Sees allocations reported
    to tracemalloc only (Python objects and NumPy array data), not native scratch buffers."""
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    out = output_bytes(result)
    del result
    return max(0, peak - base - out)


def warm_up(contenders: list[Contender]) -> dict[str, Any]:
    """One call of each contender, timed; returns {name: (result, seconds)}."""
    results = {}
    for c in contenders:
        t0 = time.perf_counter()
        r = c.fn()
        results[c.name] = (r, time.perf_counter() - t0)
    return results


def time_row(
    contenders: list[Contender],
    settings: Settings,
    first_warmup: dict[str, float],
    measure_memory: bool = True,
) -> dict[str, Timed]:
    out = {c.name: Timed(warmup_s=[first_warmup[c.name]]) for c in contenders}
    for c in contenders:
        if first_warmup[c.name] < settings.second_warmup_below_s:
            t0 = time.perf_counter()
            r = c.fn()
            out[c.name].warmup_s.append(time.perf_counter() - t0)
            del r
    if measure_memory:
        for c in contenders:
            if c.traced:
                out[c.name].extra_peak_bytes = extra_peak_bytes(c.fn)

    repeats = {}
    for c in contenders:
        est = max(min(out[c.name].warmup_s), 1e-7)
        n = round(settings.budget_s / est)
        n = max(settings.min_repeats, min(settings.max_repeats, n))
        if est * settings.min_repeats > settings.slow_s:
            n = max(settings.slow_repeats, int(settings.slow_s // est))
        repeats[c.name] = n

    m = len(contenders)
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for r in range(max(repeats.values())):
            for c in contenders[r % m :] + contenders[: r % m]:
                times = out[c.name].times_s
                if len(times) >= repeats[c.name]:
                    continue
                t0 = time.perf_counter()
                res = c.fn()
                times.append(time.perf_counter() - t0)
                del res
    finally:
        if gc_was_enabled:
            gc.enable()
    return out
