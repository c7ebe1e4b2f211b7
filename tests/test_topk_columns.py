"""topk along axis 0 or a middle axis of a row-major array, read in place (issue 12, item 4):
the column kernels of topk_columns.hpp instead of an n x C transposed copy. Exactly the indices
of a stable NumPy sort and the elements themselves, bit for bit, on every dtype and on the hard
columns (ties, NaN, +-inf, -0.0, ascending and descending), through each of the three ways k
takes (inserting for k <= 16, the filter while n >= 32k, strips beyond); no n x C temporary."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fasttopk
from fasttopk._layout import Panels, reduction_view, to_core

from conftest import peak_growth, random_array, stable_topk_reference

ml_dtypes = pytest.importorskip("ml_dtypes")

DTYPES = [np.float32, np.float64, np.float16, ml_dtypes.bfloat16, np.int32, np.int64,
          np.int16, np.uint8, np.uint64, np.bool_]
DTYPE_IDS = ["float32", "float64", "float16", "bfloat16", "int32", "int64", "int16", "uint8",
             "uint64", "bool"]


def columns(rng, shape, dtype, kind):
    """An array whose columns (along axis 0) are random, tied, non-finite or sorted."""
    dtype = np.dtype(dtype)
    if dtype == ml_dtypes.bfloat16:
        return columns(rng, shape, np.float32, kind).astype(dtype)
    x = random_array(rng, shape, dtype, ties=kind == "ties")
    if kind == "nonfinite" and dtype.kind == "f":
        flat = x.reshape(-1)
        picks = rng.integers(0, flat.size, max(1, flat.size // 10))
        flat[picks] = rng.choice([np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0], picks.size)
    elif kind == "ascending":  # every row beats the k-th so far: the worst case
        x = np.sort(x, axis=0)
    elif kind == "descending":
        x = np.sort(x, axis=0)[::-1].copy()
    return x


def check(x, k, axis, *, in_place=True):
    """topk (largest and smallest) against the stable sort, x untouched, the path as expected."""
    before = np.ascontiguousarray(x)
    assert isinstance(reduction_view(to_core(x), axis % x.ndim), Panels) == in_place
    as_float = x.astype(np.float32) if x.dtype == ml_dtypes.bfloat16 else x
    for largest in (True, False):
        values, indices = fasttopk.topk(x, k, axis=axis, largest=largest)
        want = stable_topk_reference(as_float, k, largest=largest, axis=axis)
        np.testing.assert_array_equal(indices, want, err_msg=f"k={k} largest={largest}")
        assert values.dtype == x.dtype
        picked = np.take_along_axis(x, want, axis=axis)
        np.testing.assert_array_equal(
            np.ascontiguousarray(values).view(np.uint8), np.ascontiguousarray(picked).view(np.uint8)
        )  # the elements themselves: -0.0 stays -0.0, NaN payloads kept
        unsorted = fasttopk.argtopk(x, k, axis=axis, largest=largest, sorted=False)
        np.testing.assert_array_equal(np.sort(unsorted, axis=axis), np.sort(want, axis=axis))
    np.testing.assert_array_equal(np.ascontiguousarray(x).view(np.uint8), before.view(np.uint8))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("kind", ["random", "ties", "nonfinite", "ascending", "descending"])
def test_axis0_every_path(rng, dtype, kind):
    x = columns(rng, (700, 37), dtype, kind)  # 37: whole registers and a partial one
    for k in (0, 1, 2, 5, 16, 17, 21, 22, 100, 699, 700):  # inserting, filter (<= 21), strips
        check(x, k, 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64], ids=str)
def test_narrow_and_wide(rng, dtype):
    for shape in [(3000, 1), (3000, 2), (3000, 3), (2000, 9), (5, 2100), (300, 1100)]:
        x = columns(rng, shape, dtype, "nonfinite")
        for k in {min(k, shape[0]) for k in (1, 4, 16, 17, max(1, shape[0] // 32), shape[0])}:
            check(x, k, 0, in_place=shape[1] > 1)


def test_filter_in_chunks_of_columns(rng):
    # k = 256 on int32 takes 4 KB of candidates a column: 2 MB holds 512 columns, so 530
    # columns take two chunks; n = 32k rows keeps k on the filter.
    x = columns(rng, (8192, 530), np.int32, "random")
    check(x, 256, 0)


def test_middle_and_first_axes_of_3d(rng):
    x = columns(rng, (4, 300, 21), np.float32, "nonfinite")
    for k in (1, 7, 17, 300):
        check(x, k, 1)
        check(x, k, -2)
    y = columns(rng, (400, 3, 5), np.float64, "ties")
    for k in (3, 13, 100):
        check(y, k, 0)
    f = np.asfortranarray(columns(rng, (6, 200, 9), np.float32, "random"))
    check(f, 20, 1)  # inner = axis 0, outer = axis 2: panels still
    check(f, 2, 0, in_place=False)  # the contiguous axis: rows, in place too


def test_views(rng):
    x = columns(rng, (500, 40), np.float32, "nonfinite")
    check(x[::-1], 9, 0)  # rows read bottom up
    check(x[::-3], 17, 0)
    check(x[10:480:2, 3:38], 5, 0)  # a row stride and a column offset
    check(x[:, ::2], 5, 0, in_place=False)  # inner block not contiguous: the copy
    readonly = x.copy()
    readonly.flags.writeable = False
    check(readonly, 16, 0)
    unaligned = np.frombuffer(b"\0" + x.tobytes(), np.float32, offset=1).reshape(x.shape)
    assert not unaligned.flags.aligned
    check(unaligned, 5, 0)  # copied aligned in its own layout, then read as panels


def test_result_layout_and_out(rng):
    x = columns(rng, (300, 50), np.float32, "random")
    values, indices = fasttopk.topk(x, 5, axis=0)
    assert values.shape == indices.shape == (5, 50)
    assert values.flags.c_contiguous and indices.flags.c_contiguous
    out = (np.empty((5, 50), np.float32), np.empty((5, 50), np.int64))
    got = fasttopk.topk(x, 5, axis=0, out=out)
    assert got.values is out[0] and got.indices is out[1]
    np.testing.assert_array_equal(out[1], indices)


def test_threads_do_not_change_results(rng):
    x = columns(rng, (3000, 700), np.float32, "ties")
    before = fasttopk.get_num_threads()
    try:
        results = []
        for n_threads in (1, 3):
            fasttopk.set_num_threads(n_threads)
            results.append([fasttopk.topk(x, k, axis=0).indices for k in (5, 50, 1000)])
    finally:
        fasttopk.set_num_threads(before)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=150, deadline=None)
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.float32, np.float64]),
        shape=hnp.array_shapes(min_dims=2, max_dims=2, min_side=2, max_side=40),
        elements=st.floats(width=32, allow_nan=True, allow_infinity=True),
    ),
    st.data(),
)
def test_property_axis0(x, data):
    k = data.draw(st.integers(0, x.shape[0]))
    check(x, k, 0)


def test_no_transposed_copy_traced():
    x = np.random.default_rng(3).standard_normal((4000, 2500)).astype(np.float32)  # 40 MB
    for k in (5, 60, 2000):
        (values, indices), grown = peak_growth(lambda k=k: fasttopk.topk(x, k, axis=0))
        assert grown <= values.nbytes + indices.nbytes + (1 << 16), f"k={k}: grew {grown} bytes"


def test_no_transposed_copy_native():
    """The kernels' own buffers (invisible to tracemalloc), by the peak resident set of a
    child: after its input is touched, topk along axis 0 may add its result and a few MB of
    buffers, not a copy of the input. Linux's clear_refs resets the peak."""
    if not os.path.exists("/proc/self/clear_refs"):
        pytest.skip("needs Linux's /proc/self/clear_refs")
    if "asan" in os.environ.get("LD_PRELOAD", ""):
        pytest.skip("under AddressSanitizer the resident set holds its shadow memory and quarantine")
    script = textwrap.dedent(
        """
        import numpy as np, fasttopk

        def kib(field):
            with open("/proc/self/status") as f:
                return next(int(line.split()[1]) for line in f if line.startswith(field))

        x = np.random.default_rng(3).standard_normal((20000, 2000)).astype(np.float32)
        fasttopk.set_num_threads(2)
        fasttopk.topk(x[:64], 5, axis=0)  # the pool and the module's first allocations
        for k in (5, 60, 1000):
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            start = kib("VmRSS:")
            result = fasttopk.topk(x, k, axis=0)
            grown = (kib("VmHWM:") - start) * 1024
            print(k, grown, result.values.nbytes + result.indices.nbytes, x.nbytes)
            del result
        """
    )
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("the child measuring the peak resident set hung")
    if "Permission denied" in done.stderr:
        pytest.skip("clear_refs is not writable here")
    assert done.returncode == 0, done.stderr
    for line in done.stdout.split("\n"):
        if line:
            k, grown, result_bytes, _input_bytes = map(int, line.split())
            # the strips (k = 1000 > n / 32) hold 16 columns of n per thread: 1.3 MB each
            assert grown <= result_bytes + (12 << 20), f"k={k}: peak grew {grown} bytes"
            if k == 1000:  # a 24 MB result: the measurement sees what is allocated and touched
                assert grown >= 0.9 * result_bytes


@pytest.mark.parametrize("kind", ["ties", "nonfinite", "ascending", "descending"])
def test_tall_narrow_split_by_rows(rng, kind):
    """Too few columns to share out: the rows are split over the threads and the parts' k best
    merged. Exactly the stable sort's answer (ties across the parts' borders included) at every
    thread count."""
    x = columns(rng, (120000, 10), np.float32, kind)
    before = fasttopk.get_num_threads()
    try:
        for n_threads in (1, 2, 3, 4):
            fasttopk.set_num_threads(n_threads)
            for k in (1, 5, 16, 17, 300):
                check(x, k, 0)
            check(x[:, :3].astype(np.float64), 7, 0)
            check(columns(rng, (2, 60000, 6), np.int64, kind), 5, 1)  # panel by panel, each split
    finally:
        fasttopk.set_num_threads(before)
