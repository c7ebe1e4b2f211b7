"""The machine's read bandwidth, measured with NumPy reductions only (no contender's code).

Method (also stored in the JSON): a 512 MiB float64 buffer, far larger than the last-level
cache, is filled once; a reduction that streams it once and does almost no arithmetic per
byte (``np.maximum.reduce`` over float64, ``np.bitwise_or.reduce`` over the same bytes viewed
as int64) is timed; the best run of the best method counts, since the question is what the
memory system can deliver. Bandwidth = bytes in the buffer / time.

All-thread bandwidth: NumPy runs one thread per process, and Python threads are not reliably
parallel for these reductions, so ``os.cpu_count()`` forked processes each allocate and fill
their own share of the buffer (NumPy memory, so with the same transparent-huge-page advice as
the benchmark's arrays; a shared mapping would not get it and reads measurably slower), then
reduce it after a common barrier; the time is from the earliest start to the latest end
(time.perf_counter is CLOCK_MONOTONIC, the same clock in every process); best of several runs.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import time

import numpy as np

METHODS = {
    "np.maximum.reduce(float64)": lambda a: np.maximum.reduce(a),
    "np.bitwise_or.reduce(int64 view)": lambda a: np.bitwise_or.reduce(a.view(np.int64)),
}

DESCRIPTION = (
    "read of a {mib} MiB float64 buffer (larger than the last-level cache) by a NumPy reduction "
    "with ~no arithmetic per byte; methods {methods}, best run of the best method. "
    "All threads: {procs} forked processes, each filling its own 1/{procs} of the buffer and "
    "reducing it after a common barrier; time from the earliest start to the latest end. "
    "GB = 1e9 bytes."
)


def _buffer(n_items: int) -> np.ndarray:
    a = np.empty(n_items, dtype=np.float64)
    a.fill(1.0)  # touch every page
    a[::4096] = np.linspace(-1.0, 1.0, a[::4096].size)
    return a


def _worker(n_items, method, runs, barrier, conn):
    a = _buffer(n_items)
    f = METHODS[method]
    f(a)  # warm
    spans = []
    for _ in range(runs):
        barrier.wait()
        t0 = time.perf_counter()
        f(a)
        spans.append((t0, time.perf_counter()))
    conn.send(spans)
    conn.close()


def _parallel(n_items, method, procs, runs):
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(procs)
    bounds = np.linspace(0, n_items, procs + 1).astype(np.int64)
    workers, pipes = [], []
    for i in range(procs):
        recv, send = ctx.Pipe(duplex=False)
        p = ctx.Process(
            target=_worker, args=(int(bounds[i + 1] - bounds[i]), method, runs, barrier, send)
        )
        p.start()
        send.close()
        workers.append(p)
        pipes.append(recv)
    all_spans = [r.recv() for r in pipes]
    for p in workers:
        p.join()
    times = []
    for run in range(runs):
        start = min(s[run][0] for s in all_spans)
        end = max(s[run][1] for s in all_spans)
        times.append(end - start)
    return times


def measure(nbytes: int = 512 * 2**20, runs: int = 7, procs: int | None = None) -> dict:
    """Single- and all-thread read bandwidth in GB/s with the raw times; see module docstring."""
    procs = procs or os.cpu_count() or 1
    n_items = nbytes // 8
    a = _buffer(n_items)
    single = {}
    for name, f in METHODS.items():
        f(a)
        ts = []
        for _ in range(runs):
            t0 = time.perf_counter()
            f(a)
            ts.append(time.perf_counter() - t0)
        single[name] = ts
    best_method = min(single, key=lambda m: min(single[m]))
    del a
    multi = {}
    if procs > 1:
        for name in METHODS:
            multi[name] = _parallel(n_items, name, procs, runs)
        best_multi = min(multi, key=lambda m: min(multi[m]))
    else:
        multi = single
        best_multi = best_method
    gb = n_items * 8 / 1e9
    return {
        "method": DESCRIPTION.format(
            mib=nbytes // 2**20, methods=", ".join(METHODS), procs=procs
        ),
        "buffer_bytes": n_items * 8,
        "single_thread_gbps": gb / min(single[best_method]),
        "single_thread_method": best_method,
        "all_threads": procs,
        "all_threads_gbps": gb / min(multi[best_multi]),
        "all_threads_method": best_multi,
        "raw_times_s": {"single": single, "all": multi},
    }


if __name__ == "__main__":
    import json

    r = measure()
    r.pop("raw_times_s")
    print(json.dumps(r, indent=2))
