"""topk / argtopk: equal to a stable-argsort reference (DESIGN.md order rules).

largest=True: descending, equal values in ascending index order, NaN above +inf, -0.0 == +0.0.
largest=False: ascending, NaN last, equal values in ascending index order.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fasttopk

from conftest import (
    ALL_REAL_DTYPES,
    LENGTHS,
    float_arrays,
    lexsort_topk_reference,
    random_array,
    stable_topk_reference,
)

CORE_DTYPES = [np.float32, np.float64, np.int32, np.int64]


def same_values(got, want):
    """Equal, NaN where NaN, and the sign of zero kept (values are x[indices])."""
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    if got.dtype.kind == "f":
        np.testing.assert_array_equal(np.signbit(got[got == 0]), np.signbit(want[want == 0]))


def check(x, k, axis=-1, largest=True, sorted=True):
    x_arr = np.asarray(x)
    before = x_arr.copy()
    values, indices = fasttopk.topk(x, k, axis=axis, largest=largest, sorted=sorted)
    assert isinstance(values, np.ndarray) and isinstance(indices, np.ndarray)
    assert indices.dtype == np.int64
    assert values.dtype == x_arr.dtype
    expected_shape = list(x_arr.shape)
    expected_shape[axis] = k
    assert values.shape == indices.shape == tuple(expected_shape)
    ref = stable_topk_reference(x_arr, k, largest, axis)
    if sorted:
        np.testing.assert_array_equal(indices, ref, err_msg=f"k={k} largest={largest}")
    else:
        np.testing.assert_array_equal(np.sort(indices, axis=axis), np.sort(ref, axis=axis),
                                      err_msg=f"k={k} largest={largest} unsorted")
    same_values(values, np.take_along_axis(x_arr, indices, axis))
    np.testing.assert_array_equal(
        fasttopk.argtopk(x, k, axis=axis, largest=largest, sorted=sorted), indices)
    assert x_arr.tobytes() == before.tobytes()
    return values, indices


# --- the reference itself ---------------------------------------------------------------


def test_reference_on_hand_example():
    nan, inf = np.nan, np.inf
    x = np.array([1.0, nan, 3.0, -0.0, 3.0, 0.0, -inf, inf, nan])
    assert stable_topk_reference(x, 9, True).tolist() == [1, 8, 7, 2, 4, 0, 3, 5, 6]
    assert stable_topk_reference(x, 9, False).tolist() == [6, 3, 5, 0, 2, 4, 7, 1, 8]
    assert stable_topk_reference(x, 3, True).tolist() == [1, 8, 7]
    assert lexsort_topk_reference(x, 9, True).tolist() == [1, 8, 7, 2, 4, 0, 3, 5, 6]
    assert lexsort_topk_reference(x, 9, False).tolist() == [6, 3, 5, 0, 2, 4, 7, 1, 8]
    u = np.array([2**64 - 1, 0, 2**63, 2**64 - 1], dtype=np.uint64)
    assert stable_topk_reference(u, 4, True).tolist() == [0, 3, 2, 1]
    assert stable_topk_reference(u, 4, False).tolist() == [1, 2, 0, 3]
    b = np.array([False, True, False, True])
    assert stable_topk_reference(b, 4, True).tolist() == [1, 3, 0, 2]
    x2 = np.array([[3, 1, 3], [2, 2, 5]])
    assert stable_topk_reference(x2, 2, True, axis=0).tolist() == [[0, 1, 1], [1, 0, 0]]


def test_reference_agrees_with_lexsort(rng):
    for _ in range(50):
        n = int(rng.integers(1, 60))
        x = rng.choice([np.nan, -np.inf, -1.0, -0.0, 0.0, 2.0, np.inf], size=n)
        for largest in (True, False):
            np.testing.assert_array_equal(stable_topk_reference(x, n, largest),
                                          lexsort_topk_reference(x, n, largest))


def test_topk_returns_namedtuple(rng):
    x = rng.standard_normal(10)
    res = fasttopk.topk(x, 3)
    assert isinstance(res, fasttopk.TopK)
    assert res.values is res[0] and res.indices is res[1]


# --- parity -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", CORE_DTYPES)
@pytest.mark.parametrize("largest", [True, False])
def test_lengths_and_k(dtype, largest, rng):
    for n in LENGTHS:
        x = random_array(rng, (3, n), dtype, ties=(n % 2 == 0))
        for k in sorted({0, 1, 2, n // 3, n // 2, n - 1, n} & set(range(n + 1))):
            check(x, k, largest=largest)
        check(x, min(n, 5), largest=largest, sorted=False)


@pytest.mark.parametrize("dtype", CORE_DTYPES)
@pytest.mark.parametrize("n", [600, 3000])
def test_k_around_simd_widths(dtype, n, rng):
    x = random_array(rng, (2, n), dtype)
    y = random_array(rng, (2, n), dtype, ties=True)
    for k in [*range(1, 21), 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257]:
        for largest in (True, False):
            check(x, k, largest=largest)
            check(y, k, largest=largest)
            check(x, k, largest=largest, sorted=False)


@pytest.mark.parametrize("dtype", CORE_DTYPES)
def test_large_k(dtype, rng):
    """k between n/2 and n: the select-everything path."""
    for n in [10, 64, 100, 513, 2000]:
        x = random_array(rng, (3, n), dtype, ties=True)
        for k in sorted({n // 2, n // 2 + 1, (3 * n) // 4, n - 2, n - 1, n}):
            for largest in (True, False):
                check(x, k, largest=largest)
                check(x, k, largest=largest, sorted=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_k_radix_sorted_with_nan_and_signed_zeros(dtype, rng):
    """k >= 256 winners are radix-sorted on their packed keys: NaN, -0.0/+0.0 and ties keep
    the order rule there too."""
    n = 3000
    x = random_array(rng, (4, n), dtype, ties=True)
    x[0, rng.integers(0, n, 300)] = np.nan
    x[1, ::3] = -0.0
    x[1, 1::3] = 0.0
    x[2, rng.integers(0, n, 50)] = np.inf
    x[3, rng.integers(0, n, 50)] = -np.inf
    for k in [256, 257, 1000, 2999, 3000]:
        for largest in (True, False):
            check(x, k, largest=largest)


@pytest.mark.parametrize("dtype", CORE_DTYPES)
def test_both_sides_of_the_scan_path_switch(dtype, rng):
    """The core keeps every key when n <= k + slack + block and scans otherwise (slack and
    block depend on k, dtype and ISA): every n from k to well past the switch."""
    for k in [1, 5, 50, 300]:
        for n in range(k, k + max(k, 256) + 70):
            x = random_array(rng, (2, n), dtype, ties=(n % 3 == 0))
            check(x, k, largest=bool(n % 2))


@pytest.mark.parametrize("dtype", CORE_DTYPES)
def test_long_rows_scan_path(dtype, rng):
    for n in [1000, 2049, 5000]:
        x = random_array(rng, (4, n), dtype)
        for k in [1, 3, 10, 50, 100]:
            check(x, k)
            check(x, k, largest=False)
            check(x, k, sorted=False)


@pytest.mark.parametrize("dtype", CORE_DTYPES)
@pytest.mark.parametrize("n", [50, 300, 3000])
def test_hostile_rows(dtype, n, rng):
    dtype = np.dtype(dtype)
    ramp = np.arange(n)
    rows = [ramp, ramp[::-1], np.zeros(n), np.ones(n), ramp % 2, (ramp % 2) * -1, ramp % 7,
            np.repeat(np.arange(n // 10 + 1), 10)[:n]]
    if dtype.kind == "f":
        rows += [
            np.where(ramp % 2 == 0, -0.0, 0.0),
            np.where(ramp % 3 == 0, 0.0, -0.0),
            np.full(n, -np.inf),
            np.full(n, np.inf),
            np.where(ramp % 2 == 0, np.inf, -np.inf),
            ramp / 2.0 - n,
        ]
    else:
        info = np.iinfo(dtype)
        rows += [np.full(n, info.min), np.full(n, info.max), np.where(ramp % 2 == 0, info.min, info.max)]
    x = np.stack([np.asarray(r, dtype=np.float64 if dtype.kind == "f" else object) for r in rows])
    x = x.astype(dtype)
    for k in sorted({1, 5, 50, n // 2, n} & set(range(n + 1))):
        for largest in (True, False):
            check(x, k, largest=largest)
            check(x, k, largest=largest, sorted=False)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_nan_rows_select_all_path(dtype, rng):
    """NaN rows with k >= n/2 (every key kept; no SIMD scan): NaN first when largest, last
    otherwise, NaNs among themselves in index order."""
    for n in [1, 2, 7, 16, 33, 100, 301]:
        ramp = np.arange(n, dtype=np.float64)
        rows = [np.full(n, np.nan), np.where(ramp % 2 == 0, np.nan, ramp),
                np.where(ramp % 3 == 0, np.nan, -ramp), np.where(ramp % 2 == 0, np.nan, np.inf),
                np.where(ramp % 2 == 0, -np.nan, -np.inf), ramp]
        rows[-1][n // 2] = np.nan
        x = np.stack(rows).astype(dtype)
        for k in sorted({(n + 1) // 2, n - 1, n} - {-1}):
            for largest in (True, False):
                check(x, k, largest=largest)
                check(x, k, largest=largest, sorted=False)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_nan_rows_scan_path(dtype, rng):
    """Long rows with NaN beyond the first k: the scan must take them (largest) or leave them
    (smallest); rows of NaN only."""
    n = 2000
    ramp = np.arange(n, dtype=np.float64)
    rows = [np.where(ramp % 2 == 0, np.nan, ramp), np.where(ramp % 5 == 3, np.nan, -ramp),
            np.where(ramp % 2 == 1, -np.nan, np.inf), rng.standard_normal(n), ramp,
            np.full(n, np.nan), np.full(n, -np.nan)]
    rows[3][rng.choice(n, 40, replace=False)] = np.nan
    rows[4][[700, 1999]] = np.nan
    x = np.stack(rows).astype(dtype)
    for k in [1, 2, 5, 50, 100]:
        for largest in (True, False):
            for row in range(len(rows)):
                check(x[row], k, largest=largest)
            check(x, k, largest=largest, sorted=False)


def test_nan_scan_regression():
    """Regression: a NaN after the first k of a long row was dropped on AVX2/AVX-512."""
    x = np.arange(1000, dtype=np.float32)
    x[500] = np.nan
    assert fasttopk.argtopk(x, 1).tolist() == [500]


def test_all_nan_row_regression():
    """Regression: a long all-NaN row crashed (segfault) an AVX build whose scan took no
    survivor from a NaN lane bound (`x != x` false for NaN), leaving fewer than k."""
    for largest in (True, False):
        assert fasttopk.argtopk(np.full(2000, np.nan, dtype=np.float32), 1, largest=largest).tolist() == [0]


def test_negative_zero_equals_positive_zero():
    x = np.array([0.0, -0.0, 1.0, -0.0, 0.0, -1.0], dtype=np.float32)
    v, i = check(x, 6)
    assert i.tolist() == [2, 0, 1, 3, 4, 5]
    assert np.signbit(v).tolist() == [False, False, True, True, False, True]
    v, i = check(x, 6, largest=False)
    assert i.tolist() == [5, 0, 1, 3, 4, 2]
    long = np.tile(x, 500)
    for k in [1, 3, 7, 100]:
        check(long, k)
        check(long, k, largest=False)


def test_language_model_rows(rng):
    x = rng.standard_normal((4, 128000)).astype(np.float32)
    x[1, rng.choice(128000, 100)] = 7.0  # ties at the top
    for largest in (True, False):
        _v, _i = check(x, 50, largest=largest)
    check(x, 50, sorted=False)
    check(x.astype(np.float64)[:2], 50)


# --- dtypes -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ALL_REAL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_dtype_keeps_its_dtype(dtype, rng):
    for n in [1, 9, 64, 700, 3000]:
        for ties in (False, True):
            x = random_array(rng, (3, n), dtype, ties=ties)
            for k in sorted({0, 1, min(n, 5), min(n, 50), n}):
                for largest in (True, False):
                    v, _ = check(x, k, largest=largest)
                    assert v.dtype == np.dtype(dtype)


def test_uint64_above_int64_max():
    x = np.array([2**63, 2**64 - 1, 0, 2**63 - 1, 2**64 - 1, 1, 2**63 + 5], dtype=np.uint64)
    v, i = check(x, 7)
    assert v.tolist() == [2**64 - 1, 2**64 - 1, 2**63 + 5, 2**63, 2**63 - 1, 1, 0]
    assert i.tolist() == [1, 4, 6, 0, 3, 5, 2]
    v, i = check(x, 3, largest=False)
    assert v.tolist() == [0, 1, 2**63 - 1]
    check(np.tile(x, 400), 10)
    check(np.tile(x, 400), 10, largest=False)


def test_small_integer_extremes():
    for dtype in [np.int8, np.uint8, np.int16, np.uint16, np.uint32]:
        info = np.iinfo(dtype)
        x = np.array([info.min, info.max, 0 if info.min < 0 else 1, info.max, info.min], dtype=dtype)
        _v, i = check(x, 5)
        assert i.tolist() == [1, 3, 2, 0, 4]
        check(np.tile(x, 300), 7, largest=False)


def test_bool():
    x = np.array([False, True, False, True, True])
    v, i = check(x, 3)
    assert v.tolist() == [True, True, True] and i.tolist() == [1, 3, 4]
    v, i = check(x, 3, largest=False)
    assert v.tolist() == [False, False, True] and i.tolist() == [0, 2, 1]


def test_python_sequences():
    v, i = fasttopk.topk([3, 1, 2], 2)
    assert v.tolist() == [3, 2] and i.tolist() == [0, 2]
    assert fasttopk.argtopk([[0.5, 1.5], [2.0, -1.0]], 1).tolist() == [[1], [0]]


# --- axes and layouts -------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint8])
def test_every_axis_nd(dtype, rng):
    x = random_array(rng, (3, 4, 5, 6), dtype, ties=True)
    for axis in [0, 1, 2, 3, -1, -2, -3, -4]:
        n = x.shape[axis]
        for k in [0, 1, 2, n]:
            for largest in (True, False):
                check(x, k, axis=axis, largest=largest)
        check(x, 2, axis=axis, sorted=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int16])
def test_layouts(dtype, rng):
    base = random_array(rng, (60, 300), dtype, ties=True)
    for view in [base[:, ::2], base[::-1], base[:, ::-1], np.asfortranarray(base), base.T]:
        for k in [1, 5, 50]:
            check(view, k)
            check(view, k, largest=False)
    check(np.asfortranarray(base), 7, axis=0)
    check(base, 7, axis=0)
    ro = base.copy()
    ro.flags.writeable = False
    check(ro, 5)
    swapped = base.astype(np.dtype(dtype).newbyteorder(">" if np.little_endian else "<"))
    v, i = fasttopk.topk(swapped, 5)
    np.testing.assert_array_equal(i, stable_topk_reference(base, 5))
    np.testing.assert_array_equal(v, np.take_along_axis(base, i, -1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_strided_rows_zero_copy_layouts(dtype, rng):
    base = random_array(rng, (60, 300), dtype, ties=True)
    check(base[::3], 5)
    check(base[::3, 1:200], 5)
    check(base[:, :77], 5)
    check(np.broadcast_to(base[0], (5, 300)), 5)


def test_memmap(tmp_path, rng):
    data = rng.standard_normal((40, 257)).astype(np.float32)
    path = tmp_path / "scores.bin"
    data.tofile(path)
    mm = np.memmap(path, dtype=np.float32, mode="r", shape=(40, 257))
    check(mm, 5)
    check(mm[3:30], 5)
    del mm


def test_empty(rng):
    for shape, axis, k in [((0, 5), -1, 3), ((3, 0), -1, 0), ((0,), 0, 0), ((0, 0), 0, 0),
                           ((2, 0, 4), 1, 0), ((2, 0, 4), 2, 4)]:
        x = np.empty(shape, dtype=np.float32)
        v, i = fasttopk.topk(x, k, axis=axis)
        out_shape = list(shape)
        out_shape[axis] = k
        assert v.shape == i.shape == tuple(out_shape)
        assert v.dtype == np.float32 and i.dtype == np.int64


# --- k ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [fasttopk.topk, fasttopk.argtopk])
def test_bad_k(fn, rng):
    x = rng.standard_normal((3, 10))
    for k in [-1, 11, 10**20]:
        with pytest.raises(ValueError, match="k"):
            fn(x, k)
    for k in [1.0, 2.5, True, "3", None, np.float64(2.0), [1]]:
        with pytest.raises(TypeError, match="k"):
            fn(x, k)
    np.testing.assert_array_equal(fn(x, np.int32(2)) if fn is fasttopk.argtopk else fn(x, np.int32(2))[1],
                                  stable_topk_reference(x, 2))
    with pytest.raises(ValueError, match="k"):
        fn(x, 4, axis=0)


# --- property tests ---------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.float32, np.float64, np.float16]),
        shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=40),
        elements=st.floats(width=16, allow_nan=False, allow_infinity=True),
    ),
    st.data(),
)
def test_property_floats_without_nan(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    k = data.draw(st.integers(0, x.shape[axis]))
    check(x, k, axis=axis, largest=data.draw(st.booleans()), sorted=data.draw(st.booleans()))


@settings(max_examples=60, deadline=None)
@given(
    float_arrays(st.tuples(st.integers(1, 3), st.integers(1, 700)), nan=False),
    st.data(),
)
def test_property_long_rows_without_nan(x, data):
    k = data.draw(st.integers(0, min(x.shape[1], 40)) | st.integers(0, x.shape[1]))
    check(x, k, largest=data.draw(st.booleans()), sorted=data.draw(st.booleans()))


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.int8, np.uint8, np.int32, np.int64, np.uint32, np.uint64, np.bool_]),
        shape=st.tuples(st.integers(1, 3), st.integers(1, 600)),
    ),
    st.data(),
)
def test_property_integers(x, data):
    k = data.draw(st.integers(0, min(x.shape[1], 40)) | st.integers(0, x.shape[1]))
    check(x, k, largest=data.draw(st.booleans()), sorted=data.draw(st.booleans()))


@settings(max_examples=60, deadline=None)
@given(
    float_arrays(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=40)),
    st.data(),
)
def test_property_with_nan_short_rows(x, data):
    """Rows too short for the scan path at this k (n <= 2k): every key compared exactly."""
    n = x.shape[-1]
    k = data.draw(st.integers((n + 1) // 2, n))
    check(x, k, largest=data.draw(st.booleans()), sorted=data.draw(st.booleans()))


@settings(max_examples=40, deadline=None)
@given(
    float_arrays(st.tuples(st.integers(1, 3), st.integers(400, 700))),
    st.data(),
)
def test_property_with_nan_long_rows(x, data):
    """Long rows, small k, a NaN planted near the end of the first row."""
    k = data.draw(st.integers(1, 10))
    x[0, x.shape[1] - 1 - data.draw(st.integers(0, 50))] = np.nan
    check(x, k, largest=data.draw(st.booleans()), sorted=data.draw(st.booleans()))
