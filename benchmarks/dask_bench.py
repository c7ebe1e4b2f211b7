"""``make bench-dask``: top-1/top-5 and per-class top-k accuracy over a float16 score matrix on
disk that is larger than the memory given to the Dask workers, with fasttopk and with Dask +
scikit-learn per chunk, on a local two-process cluster.

- Data: ``<dir>/scores.npy`` (float16, n_rows x n_classes) and ``<dir>/labels.npy`` (int32),
  written block by block (never whole in memory) and reused when present with the same shape.
- Each block is read from the file by its task (``np.fromfile`` at its offset): the workers
  never hold more than a few blocks. Before each job the file's pages are dropped from the page
  cache (fsync + posix_fadvise DONTNEED, this file only), so every job reads from the disk.
- Disk read rate: the same drop, then two threads read two halves of the first 2 GB in 16 MiB
  reads; GB = 1e9 bytes. Throughput of a job = the score file's bytes / its wall time.
- Peak memory per worker: each worker process's peak RSS (VmHWM) is reset before each job
  and read after it.
- fasttopk's job: ``top_k_accuracy_score(k=[1, 5])`` and ``top_k_accuracy_per_class(k=[1, 5])``
  computed together (each block read once). float16 blocks are widened to float32 per block
  by fasttopk today (half-precision kernels are a later issue).
- Dask + scikit-learn: per block, ``sklearn.metrics.top_k_accuracy_score(normalize=False)``
  on each class's rows for k=1 and k=5 (scikit-learn has no per-class top-k; summing the
  classes gives the overall counts, so its work is two sorts of each block), counts summed.
  Both jobs must agree exactly (same tie rule); the script checks it.

Usage: python -m benchmarks.dask_bench [--size-gb 20] [--classes 1000] [--dir DIR] [--skip-sklearn]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import threading
import time

import numpy as np

GB = 1e9


def _header_offset(path: str):
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _fortran, dtype = read(f)
        return f.tell(), shape, dtype


def generate(directory: str, n_rows: int, n_classes: int, block_rows: int, seed: int = 0):
    """Scores whose true class is lifted by a random amount (top-1 accuracy ~0.3): float16
    values in [0, 2) tie often, as real half-precision scores do."""
    scores_path = os.path.join(directory, "scores.npy")
    labels_path = os.path.join(directory, "labels.npy")
    if os.path.exists(scores_path) and os.path.exists(labels_path):
        _, shape, dtype = _header_offset(scores_path)
        if shape == (n_rows, n_classes) and dtype == np.float16:
            print(f"reusing {scores_path} {shape} float16")
            return scores_path, labels_path
    os.makedirs(directory, exist_ok=True)
    print(f"writing {scores_path}: {n_rows} x {n_classes} float16 ({n_rows * n_classes * 2 / GB:.1f} GB)")
    rng = np.random.default_rng(seed)
    scores = np.lib.format.open_memmap(scores_path + ".tmp", "w+", np.float16, (n_rows, n_classes))
    labels = np.lib.format.open_memmap(labels_path, "w+", np.int32, (n_rows,))
    t0 = time.perf_counter()
    for start in range(0, n_rows, block_rows):
        stop = min(n_rows, start + block_rows)
        block = rng.random((stop - start, n_classes), dtype=np.float32)
        y = rng.integers(0, n_classes, stop - start)
        block[np.arange(stop - start), y] += rng.random(stop - start, dtype=np.float32)
        scores[start:stop] = block
        labels[start:stop] = y
        scores.flush()
        if start // block_rows % 20 == 0:
            print(f"  {stop / n_rows:5.1%}  {time.perf_counter() - t0:6.0f} s", flush=True)
    del scores, labels
    os.replace(scores_path + ".tmp", scores_path)
    return scores_path, labels_path


def drop_from_page_cache(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def disk_read_rate(path: str, nbytes: int = 2 * 10**9, readers: int = 2) -> float:
    size = min(nbytes, os.path.getsize(path))
    drop_from_page_cache(path)
    share = size // readers

    def read(start):
        buf = bytearray(16 * 2**20)
        with open(path, "rb", buffering=0) as f:
            f.seek(start)
            left = share
            while left > 0:
                n = f.readinto(memoryview(buf)[: min(len(buf), left)])
                if not n:
                    break
                left -= n

    threads = [threading.Thread(target=read, args=(i * share,)) for i in range(readers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rate = share * readers / (time.perf_counter() - t0) / GB
    drop_from_page_cache(path)
    return rate


def _read_rows(path, offset, start, stop, row_items, dtype):
    with open(path, "rb") as f:
        f.seek(offset + start * row_items * np.dtype(dtype).itemsize)
        block = np.fromfile(f, dtype=dtype, count=(stop - start) * row_items)
    return block.reshape((stop - start,) + ((row_items,) if row_items > 1 else ()))


def on_disk(path: str, block_rows: int):
    """A Dask array over a .npy file, each block read by its own task."""
    import dask
    import dask.array as da

    offset, shape, dtype = _header_offset(path)
    row_items = int(np.prod(shape[1:], dtype=np.int64)) if len(shape) > 1 else 1
    blocks = []
    for start in range(0, shape[0], block_rows):
        stop = min(shape[0], start + block_rows)
        part = dask.delayed(_read_rows, pure=True)(path, offset, start, stop, row_items, dtype)
        blocks.append(da.from_delayed(part, (stop - start, *tuple(shape[1:])), dtype=dtype))
    return da.concatenate(blocks)


def _reset_peak_rss() -> None:
    with open("/proc/self/clear_refs", "w") as f:  # Linux >= 4.0: "5" resets VmHWM
        f.write("5")


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024  # kB


def _sklearn_block(y, s, n_classes):
    """Per-class hits (k=1, k=5) and support of a block with scikit-learn."""
    from sklearn.metrics import top_k_accuracy_score

    labels = np.arange(n_classes)
    hits = np.zeros((2, n_classes))
    support = np.bincount(y, minlength=n_classes).astype(np.float64)
    order = np.argsort(y, kind="stable")
    bounds = np.searchsorted(y[order], labels, side="left"), np.searchsorted(y[order], labels, side="right")
    for c in np.flatnonzero(support):
        rows = order[bounds[0][c] : bounds[1][c]]
        for i, k in enumerate((1, 5)):
            hits[i, c] = top_k_accuracy_score(y[rows], s[rows], k=k, normalize=False, labels=labels)
    return {"hits": hits, "support": support}


def _sum_blocks(parts):
    return {key: sum(p[key] for p in parts) for key in ("hits", "support")}


def sklearn_job(y, s, n_classes):
    import dask

    parts = [dask.delayed(_sklearn_block)(yb, sb, n_classes)
             for yb, sb in zip(y.to_delayed().ravel(), s.to_delayed().ravel())]
    while len(parts) > 1:
        parts = [dask.delayed(_sum_blocks)(parts[i : i + 8]) for i in range(0, len(parts), 8)]
    return parts[0]


def run_job(client, name, build, path, nbytes):
    client.run(_reset_peak_rss)
    drop_from_page_cache(path)
    t0 = time.perf_counter()
    result = client.gather(client.compute(build()))
    seconds = time.perf_counter() - t0
    peaks = sorted(client.run(_peak_rss_mb).values())
    print(f"{name:>44}: {seconds:7.1f} s  {nbytes / seconds / GB:6.3f} GB/s  "
          f"worker peak RSS {', '.join(f'{p:.0f}' for p in peaks)} MB", flush=True)
    return result, {"seconds": seconds, "gb": nbytes / GB, "gb_per_s": nbytes / seconds / GB,
                    "worker_peak_rss_mb": peaks}


def machine() -> str:
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB
    return f"{model}, {os.cpu_count()} cores, {mem:.0f} GB RAM"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size-gb", type=float, default=20.0, help="score file size (GB, 1e9 bytes)")
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--block-mb", type=float, default=64.0, help="bytes of scores per block")
    p.add_argument("--dir", default=os.environ.get("FASTTOPK_BENCH_DIR", "/var/tmp/fasttopk-dask-bench"))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--memory-limit", default="3GB", help="per worker")
    p.add_argument("--skip-sklearn", action="store_true")
    p.add_argument("--peer-gb", type=float, default=1.0,
                   help="Dask + scikit-learn runs on the first PEER_GB of the rows (it is ~10x "
                        "slower); fasttopk runs on the same rows too, for the exact comparison")
    p.add_argument("--out", default="build/bench-dask.json")
    args = p.parse_args(argv)

    import distributed

    import fasttopk
    from fasttopk import _dask_metrics

    n_classes = args.classes
    n_rows = int(args.size_gb * GB / (2 * n_classes))
    block_rows = max(1, int(args.block_mb * 2**20 / (2 * n_classes)))
    scores_path, labels_path = generate(args.dir, n_rows, n_classes, block_rows)
    rate = disk_read_rate(scores_path)
    print(f"machine: {machine()}; disk read rate {rate:.2f} GB/s (2 readers, page cache dropped)")
    report = {"machine": machine(), "disk_read_gb_per_s": rate, "size_gb": os.path.getsize(scores_path) / GB,
              "shape": [n_rows, n_classes], "dtype": "float16", "block_rows": block_rows,
              "workers": args.workers, "threads_per_worker": 1, "memory_limit": args.memory_limit,
              "fasttopk_simd_arch": fasttopk.simd_arch(), "jobs": {}}
    per_class_fn = getattr(fasttopk, "top_k_accuracy_per_class", _dask_metrics.top_k_accuracy_per_class)
    with distributed.LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True,
        memory_limit=args.memory_limit, dashboard_address=None, silence_logs=logging.ERROR,
    ) as cluster, distributed.Client(cluster) as client:
        s, y = on_disk(scores_path, block_rows), on_disk(labels_path, block_rows)
        labels = np.arange(n_classes)

        def fasttopk_graph(y, s):
            return [fasttopk.top_k_accuracy_score(y, s, k=[1, 5], labels=labels),
                    per_class_fn(y, s, k=[1, 5], labels=labels)]

        nbytes = n_rows * n_classes * 2
        (acc, per_class), report["jobs"]["fasttopk"] = run_job(
            client, f"fasttopk, {nbytes / GB:.1f} GB", lambda: fasttopk_graph(y, s), scores_path, nbytes)
        report["top1"], report["top5"] = float(acc[0]), float(acc[1])
        print(f"top-1 {acc[0]:.6f}  top-5 {acc[1]:.6f}  worst class top-5 {np.nanmin(per_class[1]):.4f}")
        if not args.skip_sklearn:
            rows = min(n_rows, max(1, int(args.peer_gb * GB / (2 * n_classes))) // block_rows * block_rows or n_rows)
            ys, ss, nbytes = y[:rows], s[:rows], rows * n_classes * 2
            (acc, per_class), report["jobs"]["fasttopk (peer rows)"] = run_job(
                client, f"fasttopk, {nbytes / GB:.1f} GB", lambda: fasttopk_graph(ys, ss), scores_path, nbytes)
            counts, report["jobs"]["dask+sklearn"] = run_job(
                client, f"Dask + scikit-learn per chunk, {nbytes / GB:.1f} GB",
                lambda: sklearn_job(ys, ss, n_classes), scores_path, nbytes)
            sk_acc = counts["hits"].sum(axis=1) / rows
            sk_per_class = counts["hits"] / np.where(counts["support"] > 0, counts["support"], np.nan)
            assert np.array_equal(sk_acc, acc), (sk_acc, acc)
            assert np.array_equal(sk_per_class, per_class, equal_nan=True)
            ratio = report["jobs"]["dask+sklearn"]["seconds"] / report["jobs"]["fasttopk (peer rows)"]["seconds"]
            report["speedup_vs_sklearn"] = ratio
            print(f"same results on those rows; fasttopk {ratio:.1f}x faster")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
