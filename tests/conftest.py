"""Shared helpers for the fasttopk test suite.

The suite runs once per ISA (`FASTTOPK_ARCH=sse2|avx2|avx512`, see the Makefile); every test
compares against NumPy or SciPy on the same data, with fixed seeds. The modules that test no
kernel arithmetic (memory, threads and fork, interop, Dask, docs) run once, under the best ISA.
"""
from __future__ import annotations

import gc
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import fasttopk

# Modules whose outcome does not depend on the ISA: they check memory, processes, conversions,
# the Dask graph and the docs, while the kernels' answers are checked by the others under every
# ISA. Run once per `make test-python` instead of once per ISA (about 4 minutes saved per ISA).
ISA_INDEPENDENT_MODULES = frozenset({
    "test_memory.py", "test_stress.py", "test_threadpool.py", "test_interop.py",
    "test_interop_torch.py", "test_notebook.py", "test_readme.py", "test_doctests.py",
    "test_dask.py", "test_dask_metrics.py", "test_dask_cluster.py", "test_conventions.py",
    "test_bad_input.py", "test_typing.py",
})


def _below_best_isa() -> bool:
    forced = os.environ.get("FASTTOPK_ARCH", "")
    return forced not in ("", fasttopk._core.available_archs()[-1])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _below_best_isa():
        return
    skip = pytest.mark.skip(reason="ISA-independent: runs under the best ISA only")
    for item in items:
        if Path(str(item.fspath)).name in ISA_INDEPENDENT_MODULES:
            item.add_marker(skip)

ALL_FLOAT_DTYPES = [np.float16, np.float32, np.float64]
INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
ALL_REAL_DTYPES = ALL_FLOAT_DTYPES + INT_DTYPES + [np.bool_]

# Lengths around every SIMD width (2..16 lanes), unroll block (up to 64) and beyond.
LENGTHS = [*range(1, 71), 127, 128, 129, 255, 256, 257, 1000, 4097]

@pytest.fixture
def rng():
    return np.random.default_rng(20240611)


def random_array(rng, shape, dtype, *, ties: bool = False) -> np.ndarray:
    """Values spread over the dtype's range; with `ties`, drawn from a few distinct values."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if ties:
            pool = np.array([info.min, info.min + 1, 0 if info.min < 0 else 1, info.max - 1, info.max],
                            dtype=dtype)
            return rng.choice(pool, size=shape)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    if ties:
        pool = np.array([-np.inf, -2.5, -0.0, 0.0, 1.0, 2.5, np.inf])
        return rng.choice(pool, size=shape).astype(dtype)
    return (rng.standard_normal(size=shape) * 100).astype(dtype)


def stable_topk_reference(x, k: int, largest: bool = True, axis: int = -1) -> np.ndarray:
    """The indices topk must return, from np.argsort(kind="stable") alone.

    largest=False: ascending stable sort (NumPy puts NaN last; -0.0 == +0.0; ties keep index
    order). largest=True: the ascending stable sort of the row reversed, reversed back: values
    descending, NaN first, ties still in ascending index order. Works for every real dtype
    (no negation, so uint64 and bool are fine)."""
    x = np.moveaxis(np.asarray(x), axis, -1)
    n = x.shape[-1]
    if largest:
        order = n - 1 - np.flip(np.argsort(np.flip(x, -1), axis=-1, kind="stable"), -1)
    else:
        order = np.argsort(x, axis=-1, kind="stable")
    return np.moveaxis(order[..., :k].astype(np.int64), -1, axis)


def lexsort_topk_reference(x, k: int, largest: bool = True) -> np.ndarray:
    """A second, independent reference for 1-D float rows (to check the first): sort keys
    (NaN group, value with -0.0 folded into +0.0, index)."""
    x = np.asarray(x, dtype=np.float64)
    nan = np.isnan(x)
    v = np.where(nan, 0.0, np.where(x == 0, 0.0, x))
    idx = np.arange(x.size)
    if largest:
        order = np.lexsort((idx, -v, ~nan))  # NaN (True -> ~ False) first, then descending
    else:
        order = np.lexsort((idx, v, nan))  # NaN last, ascending
    return order[:k].astype(np.int64)


def float_arrays(shape, *, nan: bool = True, inf: bool = True, width: int = 32,
                 dtypes=(np.float32, np.float64)):
    """Hypothesis arrays of floats (any of `dtypes`) with values of `width` bits, NaN and
    infinities allowed unless switched off: the common shape of the property tests."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    return hnp.arrays(dtype=st.sampled_from(list(dtypes)), shape=shape,
                      elements=st.floats(width=width, allow_nan=nan, allow_infinity=inf))


def peak_growth(fn):
    """(result, bytes): what fn returned and the peak of traced memory above the start."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak - start
