"""Memory: no function allocates anything of the input's size except the output it returns, and
float32/float64 inputs whose last axis is contiguous are read in place.

NumPy reports its data allocations to tracemalloc, so the peak of traced memory during a call,
minus what was traced before it, is what the call allocated through NumPy (the core's own
O(k)-per-thread buffers are not NumPy's and are not counted, nor meant to be)."""
from __future__ import annotations

import gc

import numpy as np
import pytest

import fasttopk

from conftest import peak_growth

MB = 1 << 20
ROWS, COLS = 100_000, 1000  # 400 MB of float32


@pytest.fixture(scope="module")
def big():
    x = np.empty((ROWS, COLS), dtype=np.float32)
    rng = np.random.default_rng(99)
    for start in range(0, ROWS, 10_000):  # no 800 MB float64 temporary
        x[start : start + 10_000] = rng.random((10_000, COLS), dtype=np.float32)
    yield x
    del x
    gc.collect()


def test_tracemalloc_sees_numpy_allocations():
    """The measurement itself can fail: a 40 MB NumPy temporary shows up."""
    _, grown = peak_growth(lambda: np.ones(10 * MB, dtype=np.float32).sum())
    assert grown >= 40 * MB


def test_argmax_adds_at_most_one_percent(big):
    result, grown = peak_growth(lambda: fasttopk.argmax(big))
    assert grown <= 0.01 * big.nbytes, f"argmax grew traced memory by {grown / MB:.1f} MB"
    np.testing.assert_array_equal(result[:1000], np.argmax(big[:1000], axis=1))
    _, grown = peak_growth(lambda: fasttopk.argmin(big))
    assert grown <= 0.01 * big.nbytes


def test_argmax_out_adds_nothing(big):
    out = np.empty(ROWS, dtype=np.int64)
    _, grown = peak_growth(lambda: fasttopk.argmax(big, out=out))
    assert grown <= 1 * MB
    np.testing.assert_array_equal(out[:1000], np.argmax(big[:1000], axis=1))


@pytest.mark.parametrize("k", [1, 5, 50])
def test_topk_adds_only_its_outputs(big, k):
    (values, indices), grown = peak_growth(lambda: fasttopk.topk(big, k))
    outputs = values.nbytes + indices.nbytes
    assert grown <= outputs + 1 * MB, f"topk grew by {grown / MB:.1f} MB, outputs {outputs / MB:.1f} MB"
    np.testing.assert_array_equal(indices[:200], np.argsort(-big[:200], axis=1, kind="stable")[:, :k])


def test_softmax_adds_only_its_output(big):
    result, grown = peak_growth(lambda: fasttopk.softmax(big))
    assert result.dtype == np.float32
    assert grown <= result.nbytes + 1 * MB, f"softmax grew by {grown / MB:.1f} MB"
    del result
    result, grown = peak_growth(lambda: fasttopk.log_softmax(big))
    assert grown <= result.nbytes + 1 * MB
    del result
    gc.collect()


def test_softmax_in_place_adds_nothing():
    x = np.random.default_rng(5).random((25_000, 1000), dtype=np.float32)  # 100 MB
    row0 = x[0].astype(np.float64)
    result, grown = peak_growth(lambda: fasttopk.softmax(x, out=x))
    assert result is x
    assert grown <= 1 * MB, f"in-place softmax grew by {grown / MB:.1f} MB"
    np.testing.assert_allclose(x[0], np.exp(row0) / np.exp(row0).sum(), rtol=1e-5)


@pytest.mark.parametrize("view", ["columns", "rows", "reversed"])
def test_strided_views_are_read_in_place(big, view):
    v = {"columns": big[:, :500], "rows": big[::2], "reversed": big[::-1]}[view]
    n_rows = v.shape[0]
    result, grown = peak_growth(lambda: fasttopk.argmax(v))
    assert grown <= n_rows * 8 + 1 * MB, f"argmax of a view grew by {grown / MB:.1f} MB"
    np.testing.assert_array_equal(result[:500], np.argmax(v[:500], axis=1))
    (values, indices), grown = peak_growth(lambda: fasttopk.topk(v, 5))
    assert grown <= values.nbytes + indices.nbytes + 1 * MB
    result, grown = peak_growth(lambda: fasttopk.softmax(v))
    assert grown <= result.nbytes + 1 * MB


def test_transposed_fortran_view_is_read_in_place(big):
    """big.T along axis 0 is C-contiguous rows in disguise: no copy."""
    t = big[:20_000].T  # (1000, 20000), F-ordered; axis 0 runs along big's rows
    result, grown = peak_growth(lambda: fasttopk.argmax(t, axis=0))
    assert grown <= result.nbytes + 1 * MB
    np.testing.assert_array_equal(result[:100], np.argmax(big[:100], axis=1))


def test_argmax_along_axis_0_reads_in_place(big):
    """Down the columns of a row-major matrix: no transposed copy, only the result."""
    result, grown = peak_growth(lambda: fasttopk.argmax(big, axis=0))
    assert grown <= result.nbytes + 1 * MB, f"argmax(axis=0) grew by {grown / MB:.1f} MB"
    np.testing.assert_array_equal(result[:100], np.argmax(big[:, :100], axis=0))
