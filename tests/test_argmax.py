"""argmax / argmin: exactly np.argmax / np.argmin (first occurrence; the first NaN if any)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fasttopk

from conftest import ALL_FLOAT_DTYPES, ALL_REAL_DTYPES, LENGTHS, float_arrays, random_array

FUNCS = [(fasttopk.argmax, np.argmax), (fasttopk.argmin, np.argmin)]
FUNC_IDS = ["argmax", "argmin"]


def check(x, axis=-1):
    """Both functions against NumPy, exact, and the input left untouched."""
    before = x.copy()
    for ours, ref in FUNCS:
        got = ours(x, axis=axis)
        want = ref(x, axis=axis)
        assert np.asarray(got).dtype == np.int64
        assert np.shape(got) == np.shape(want)
        np.testing.assert_array_equal(got, want, err_msg=f"{ours.__name__} axis={axis}")
    np.testing.assert_array_equal(x, before)  # equal_nan for floats; -0.0 == 0.0
    assert x.tobytes() == before.tobytes()


@pytest.mark.parametrize("dtype", ALL_REAL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_lengths_around_simd_widths(dtype, rng):
    for n in LENGTHS:
        check(random_array(rng, (3, n), dtype))
        check(random_array(rng, (3, n), dtype, ties=True))


@pytest.mark.parametrize("dtype", ALL_REAL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_extreme_at_every_position(dtype):
    """The single max/min planted at each position of rows of several lengths, including
    positions inside the first SIMD load, a later block and the scalar tail."""
    dtype = np.dtype(dtype)
    for n in [2, 7, 16, 33, 64, 65, 130, 257]:
        base = np.zeros(n, dtype=dtype)
        if dtype == np.bool_:
            lo, hi = False, True
        elif dtype.kind == "f":
            lo, hi = -np.inf, np.inf
        else:
            lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
        rows = np.repeat(base[None], n, axis=0)
        rows[np.arange(n), np.arange(n)] = hi
        check(rows)
        rows = np.repeat(base[None], n, axis=0)
        rows[np.arange(n), np.arange(n)] = lo
        check(rows)
        # two equal extremes: the first wins
        if n > 3:
            rows = np.repeat(base[None], n - 1, axis=0)
            rows[np.arange(n - 1), np.arange(n - 1)] = hi
            rows[np.arange(n - 1), np.arange(1, n)] = hi
            check(rows)


@pytest.mark.parametrize("dtype", ALL_FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_hard_float_rows(dtype):
    dtype = np.dtype(dtype)
    info = np.finfo(dtype)
    for n in [1, 3, 8, 31, 64, 100, 257]:
        rows = np.stack(
            [
                np.full(n, -np.inf),
                np.full(n, np.inf),
                np.zeros(n),
                np.where(np.arange(n) % 2 == 0, -0.0, 0.0),  # -0.0 == +0.0: first wins
                np.where(np.arange(n) % 2 == 0, 0.0, -0.0),
                np.full(n, info.max),
                np.full(n, -info.max),
                np.full(n, info.tiny),  # smallest normal
                np.linspace(-1, 1, n),
                np.linspace(1, -1, n),
            ]
        ).astype(dtype)
        check(rows)
    # A row of all NaN: the first NaN is index 0.
    check(np.full((2, 300), np.nan, dtype=dtype))
    # NaN at index 0 followed by anything.
    row = np.arange(300, dtype=dtype)
    row[0] = np.nan
    check(row)


def nan_rows(n, dtype):
    """Rows with one NaN at every position, NaN after -NaN, NaN among infinities."""
    x = np.tile(np.linspace(-5, 5, n).astype(dtype), (n, 1))
    x[np.arange(n), np.arange(n)] = np.nan
    yield x
    if n > 1:
        y = np.tile(np.linspace(5, -5, n).astype(dtype), (n - 1, 1))
        y[np.arange(n - 1), np.arange(1, n)] = -np.nan
        y[np.arange(n - 1), n - 1] = np.nan
        yield y
    z = np.full((n, n), np.inf, dtype=dtype)
    z[:, -1] = -np.inf
    z[np.arange(n), np.arange(n)] = np.nan
    yield z


@pytest.mark.parametrize("dtype", ALL_FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_nan_anywhere_wins_short_rows(dtype):
    """Rows shorter than two unrolled blocks of any AVX ISA (scalar path there)."""
    for n in range(1, 32):
        for x in nan_rows(n, dtype):
            check(x)


@pytest.mark.parametrize("dtype", ALL_FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_nan_anywhere_wins(dtype):
    """One NaN at every position (or -NaN first): argmax and argmin return the first NaN."""
    for n in [40, 64, 65, 128, 129, 300, 1000]:
        for x in nan_rows(n, dtype):
            check(x)


def test_nan_regression_avx():
    """Regression: xsimd 8.1's `x != x` is false for NaN on AVX/AVX-512, so the SIMD path missed
    this NaN: [0, nan, 0, ...] of length 128 (two unrolled AVX-512 float32 blocks)."""
    x = np.zeros(128, dtype=np.float32)
    x[1] = np.nan
    assert fasttopk.argmax(x) == 1
    assert fasttopk.argmin(x) == 1


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.int64, np.uint32, np.uint64, np.bool_])
def test_integer_extremes(dtype):
    info = np.iinfo(dtype) if dtype != np.bool_ else None
    n = 300
    if info is None:
        x = np.zeros((3, n), dtype=bool)
        x[1, 200] = True
        x[2, :] = True
    else:
        x = np.full((4, n), info.min, dtype=dtype)
        x[1, 5] = info.max
        x[1, 250] = info.max
        x[2, :] = info.max
        x[3, ::7] = info.max - 1
        x[3, 299] = info.max
    check(x)


def test_uint64_above_int64_max():
    x = np.array([[2**63 - 1, 2**63, 2**64 - 1, 0, 2**64 - 1, 2**63]], dtype=np.uint64)
    check(x)
    x = np.tile(x, (1, 50))
    check(x)


def test_long_rows_beyond_float_lane_index():
    """Lane positions are kept as floats: exact up to 2**24 for float32; just below and above."""
    for n in [2**24, 2**24 + 37]:
        x = np.zeros(n, dtype=np.float32)
        x[n - 2] = 1.0
        x[n - 1] = -1.0
        assert fasttopk.argmax(x) == n - 2
        assert fasttopk.argmin(x) == n - 1
        del x


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint64])
def test_every_axis_nd(dtype, rng):
    x = random_array(rng, (3, 4, 5, 6), dtype, ties=True)
    for axis in [None, 0, 1, 2, 3, -1, -2, -3, -4]:
        check(x, axis=axis)
    check(random_array(rng, (70,), dtype), axis=0)
    check(random_array(rng, (70,), dtype), axis=None)


@pytest.mark.parametrize("dtype", ALL_REAL_DTYPES)
def test_axis_0_down_columns(dtype, rng):
    """axis=0 of a row-major matrix runs down the columns in place (lanes are columns): every
    column count around the SIMD widths, NaN in any row, ties, one row, many rows."""
    for n_cols in [*range(1, 40), 63, 64, 65, 127, 128, 129, 1000]:
        for n_rows in [1, 2, 3, 17, 200]:
            x = random_array(rng, (n_rows, n_cols), dtype, ties=True)
            check(x, axis=0)
            check(x, axis=-2)
    if np.dtype(dtype).kind == "f":
        x = random_array(rng, (50, 70), dtype)
        x[0, 3] = np.nan  # NaN in the first row
        x[49, 4] = np.nan  # in the last row
        x[:, 5] = np.nan  # a whole column
        x[10:, 6] = np.nan  # a NaN run below a value
        check(x, axis=0)
        check(x[::2], axis=0)  # strided rows
        check(x[:, 1:60], axis=0)  # sliced columns


def test_axis_none_is_flattened_scalar(rng):
    x = rng.standard_normal((5, 7, 3))
    got = fasttopk.argmax(x, axis=None)
    assert np.ndim(got) == 0 and got == np.argmax(x)
    assert fasttopk.argmin(x, axis=None) == np.argmin(x)
    # Fortran order: flattened in C order like NumPy
    f = np.asfortranarray(x)
    assert fasttopk.argmax(f, axis=None) == np.argmax(f)


def test_zero_dim_input():
    x = np.array(3.5)
    for axis in [None, 0, -1]:
        assert fasttopk.argmax(x, axis=axis) == np.argmax(x, axis=axis) == 0
    with pytest.raises(ValueError, match="axis"):
        fasttopk.argmax(x, axis=1)


def test_default_axis_is_last(rng):
    x = rng.standard_normal((4, 9))
    np.testing.assert_array_equal(fasttopk.argmax(x), np.argmax(x, axis=-1))
    np.testing.assert_array_equal(fasttopk.argmin(x), np.argmin(x, axis=-1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.int64])
def test_layouts(dtype, rng):
    base = random_array(rng, (60, 130), dtype, ties=True)
    check(base[:, ::2])  # strided last axis
    check(base[::-1])  # negative row stride
    check(base[:, ::-1])  # reversed rows
    check(np.asfortranarray(base))
    check(np.asfortranarray(base), axis=0)
    check(base.T)
    check(base, axis=0)
    ro = base.copy()
    ro.flags.writeable = False
    check(ro)
    swapped = base.astype(np.dtype(dtype).newbyteorder(">" if np.little_endian else "<"))
    check(swapped)
    check(swapped, axis=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_strided_rows_zero_copy_layouts(dtype, rng):
    """Row strides other than the row length: read in place by the core."""
    base = random_array(rng, (60, 130), dtype, ties=True)
    check(base[::3])
    check(base[::3, 1:100])
    check(base[:, :77])
    check(np.broadcast_to(base[0], (5, 130)))  # zero row stride


def test_strided_rows_regression():
    """Regression: xt::adapt was handed a buffer size other than n_rows * n_cols for strided
    rows ("xbuffer_storage not resizable")."""
    x = np.arange(40, dtype=np.float32).reshape(4, 10)[::2]
    np.testing.assert_array_equal(fasttopk.argmax(x), [9, 9])


def test_unaligned(rng):
    data = rng.standard_normal(1001).astype(np.float64)
    buf = np.zeros(1001 * 8 + 1, dtype=np.uint8)
    x = np.ndarray(shape=(1001,), dtype=np.float64, buffer=buf.data, offset=1)
    x[...] = data
    assert not x.flags.aligned
    check(x[:1000].reshape(10, 100))


def test_memmap(tmp_path, rng):
    data = rng.standard_normal((40, 257)).astype(np.float32)
    path = tmp_path / "scores.bin"
    data.tofile(path)
    mm = np.memmap(path, dtype=np.float32, mode="r", shape=(40, 257))
    check(mm)
    check(mm[10])
    check(mm[5:30])
    del mm


def test_memmap_slices(tmp_path, rng):
    data = rng.standard_normal((40, 257)).astype(np.float32)
    path = tmp_path / "scores.bin"
    data.tofile(path)
    mm = np.memmap(path, dtype=np.float32, mode="r", shape=(40, 257))
    try:
        check(mm[5:30:2, 3:200])
    finally:
        del mm


@pytest.mark.parametrize("fn", [fasttopk.argmax, fasttopk.argmin], ids=FUNC_IDS)
def test_out(fn, rng):
    ref = np.argmax if fn is fasttopk.argmax else np.argmin
    x = rng.standard_normal((6, 7, 8)).astype(np.float32)
    for axis in [0, 1, 2, -1]:
        shape = tuple(s for i, s in enumerate(x.shape) if i != axis % 3)
        out = np.full(shape, -1, dtype=np.int64)
        got = fn(x, axis=axis, out=out)
        assert got is out
        np.testing.assert_array_equal(out, ref(x, axis=axis))
        # non-contiguous out: every other element of a bigger array
        big = np.full((shape[0] * 2, shape[1] * 3), -7, dtype=np.int64)
        view = big[::2, ::3]
        got = fn(x, axis=axis, out=view)
        assert got is view
        np.testing.assert_array_equal(view, ref(x, axis=axis))
        untouched = np.ones(big.shape, dtype=bool)
        untouched[::2, ::3] = False
        assert (big[untouched] == -7).all()
        # Fortran-ordered out
        fout = np.asfortranarray(np.zeros(shape, dtype=np.int64))
        fn(x, axis=axis, out=fout)
        np.testing.assert_array_equal(fout, ref(x, axis=axis))
    out0 = np.zeros((), dtype=np.int64)
    assert fn(x, axis=None, out=out0) is out0
    assert out0 == ref(x)


def test_out_errors(rng):
    x = rng.standard_normal((4, 5))
    with pytest.raises(ValueError, match="out"):
        fasttopk.argmax(x, out=np.zeros(5, dtype=np.int64))
    with pytest.raises(TypeError, match="out"):
        fasttopk.argmax(x, out=np.zeros(4, dtype=np.int32))
    with pytest.raises(TypeError, match="out"):
        fasttopk.argmax(x, out=[0, 0, 0, 0])
    ro = np.zeros(4, dtype=np.int64)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out"):
        fasttopk.argmin(x, out=ro)


@pytest.mark.parametrize("fn", [fasttopk.argmax, fasttopk.argmin], ids=FUNC_IDS)
def test_empty_axes_match_numpy(fn):
    ref = np.argmax if fn is fasttopk.argmax else np.argmin
    for shape, axis in [((3, 0), 1), ((3, 0), -1), ((0, 3), 0), ((0,), 0), ((0,), None),
                        ((0, 0), 0), ((0, 0), 1), ((2, 0, 3), 1), ((3, 0), None)]:
        x = np.empty(shape)
        with pytest.raises(ValueError):
            ref(x, axis=axis)
        with pytest.raises(ValueError, match="empty"):
            fn(x, axis=axis)
    for shape, axis in [((0, 3), 1), ((0, 3), -1), ((3, 0), 0), ((2, 0, 3), 0), ((2, 0, 3), 2)]:
        x = np.empty(shape, dtype=np.float32)
        got = fn(x, axis=axis)
        want = ref(x, axis=axis)
        assert got.shape == want.shape and got.dtype == np.int64
        out = np.empty(want.shape, dtype=np.int64)
        assert fn(x, axis=axis, out=out) is out


def test_python_sequences():
    assert fasttopk.argmax([1, 3, 3, 2]) == 1
    assert fasttopk.argmin([[1.0, -2.0], [0.5, 0.5]]).tolist() == [1, 0]
    assert fasttopk.argmax([True, False, True]) == 0


def test_many_rows_mixed(rng):
    """Many rows at once, so that rows go over threads; every row checked."""
    x = random_array(rng, (2000, 97), np.float32, ties=True)
    check(x)
    x = random_array(rng, (3000, 33), np.int8, ties=True)
    check(x)


# --- property tests ---------------------------------------------------------------------

_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=150)


@settings(max_examples=60, deadline=None)
@given(
    float_arrays(_shapes, nan=False),
    st.data(),
)
def test_property_finite_and_inf(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1) | st.none())
    check(x, axis=axis)


@settings(max_examples=60, deadline=None)
@given(
    float_arrays(_shapes),
    st.data(),
)
def test_property_any_floats(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1) | st.none())
    check(x, axis=axis)


@settings(max_examples=60, deadline=None)
@given(
    float_arrays(hnp.array_shapes(min_dims=1, max_dims=2, min_side=130, max_side=200)),
    st.data(),
)
def test_property_with_nan(x, data):
    """Rows long enough for every ISA's SIMD path, with at least one NaN somewhere."""
    x.flat[data.draw(st.integers(0, x.size - 1))] = np.nan
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1) | st.none())
    check(x, axis=axis)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.int8, np.uint16, np.int32, np.int64, np.uint64, np.bool_]),
        shape=_shapes,
    ),
    st.data(),
)
def test_property_integers(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1) | st.none())
    check(x, axis=axis)
