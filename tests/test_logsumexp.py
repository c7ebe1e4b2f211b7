"""logsumexp: scipy.special.logsumexp's value (within float rounding), shape and type, with
its handling of NaN, +-inf, all -inf and empty rows, for int and tuple axes and keepdims."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st

import fasttopk

from conftest import ALL_REAL_DTYPES, LENGTHS, float_arrays, random_array

RTOL = {np.dtype(np.float16): 2e-3, np.dtype(np.float32): 2e-6, np.dtype(np.float64): 1e-13}


def reference(x, axis, keepdims=False):
    """SciPy's logsumexp in the dtype fasttopk promises: float16 computed in float32 (SciPy
    computes float16 in float16), integers and bool in float64."""
    x = np.asarray(x)
    src = x.astype(np.float32) if x.dtype == np.float16 else x
    if src.dtype.kind != "f":
        src = src.astype(np.float64)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = scipy.special.logsumexp(src, axis=axis, keepdims=keepdims)
    out_dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    return ref.astype(out_dtype) if isinstance(ref, np.ndarray) else out_dtype.type(ref)


def check(x, axis=-1, keepdims=False):
    got = fasttopk.logsumexp(x, axis=axis, keepdims=keepdims)
    ref = reference(x, axis, keepdims)
    assert type(got) is type(ref), (type(got), type(ref))
    assert np.shape(got) == np.shape(ref) and got.dtype == ref.dtype
    scale = np.abs(np.asarray(ref, dtype=np.float64))
    # the absolute error of log(sum) is a few ulp of 1, its relative error a few ulp
    tol = RTOL[ref.dtype] * np.maximum(scale, 1.0)
    with np.errstate(invalid="ignore"):
        diff = np.abs(np.asarray(got, np.float64) - np.asarray(ref, np.float64))
    same_special = (np.isnan(got) & np.isnan(ref)) | (np.asarray(got) == np.asarray(ref))
    assert np.all(same_special | (diff <= tol)), (got, ref)
    return got


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", LENGTHS)
def test_lengths(rng, dtype, n):
    check(random_array(rng, (3, n), dtype))
    check((rng.standard_normal((3, n)) * 3).astype(dtype))


@pytest.mark.parametrize("dtype", ALL_REAL_DTYPES)
def test_every_dtype(rng, dtype):
    x = random_array(rng, (5, 33), dtype)
    check(x)
    check(x, axis=0)
    check(x, axis=None)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scipy_edge_cases(dtype):
    inf, nan = np.inf, np.nan
    rows = [
        [1.0, inf, 0.0],  # +inf
        [inf, inf, -inf],
        [-inf, -inf, -inf],  # -inf
        [nan, 1.0, 2.0],  # NaN
        [inf, nan, -inf],  # NaN wins
        [-inf, nan, -inf],
        [-inf, 5.0, -inf],
        [1e308 if dtype == np.float64 else 3e38] * 3,  # near overflow: no overflow
        [-1e308 if dtype == np.float64 else -3e38] * 3,
        [0.0, -0.0, 0.0],
        [5e-324 if dtype == np.float64 else 1e-45, 0.0, 0.0],
    ]
    x = np.array(rows, dtype=dtype)
    got = check(x)
    assert got[0] == inf and got[1] == inf and got[2] == -inf and np.isnan(got[3]) and np.isnan(got[4])
    # the same values inside long rows, at a block boundary and in the tail
    for at in (0, 127, 128, 995):
        long = np.full((len(rows), 1000), -np.inf, dtype=dtype)
        long[:, at : at + 3] = x
        check(long)


def test_growing_maximum_rescales_the_sum(rng):
    """Ascending rows: the running maximum grows at every block."""
    x = np.sort(rng.standard_normal((4, 5000)) * 50, axis=1)
    check(x)
    check(x[:, ::-1])
    check(x.astype(np.float32))


@pytest.mark.parametrize("jump", [1.0, 30.0, 90.0, 200.0, 800.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_late_jumps_of_the_maximum(rng, jump, dtype):
    """The running sum, partly held lane-wise, is rescaled when a late element raises the
    maximum by a little or by more than float's exponent range."""
    x = rng.standard_normal((4, 9000)).astype(dtype)
    x[0, 8500] = jump
    x[1, 4100] = jump
    x[1, 8999] = 2 * jump
    x[2, 130:140] = jump
    x[3, :] = -jump
    x[3, 7000] = 0.0
    check(x)
    check(x, axis=0)


def test_empty_axes():
    check(np.ones((2, 0)), axis=1)  # -inf, as SciPy
    check(np.ones((2, 0)), axis=0)  # no rows: an empty result
    check(np.empty(0), axis=None)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, None, (0, 2), (2, 0), (-1, -2), (0, 1, 2), ()])
@pytest.mark.parametrize("keepdims", [False, True])
def test_axes_and_keepdims(rng, axis, keepdims):
    x = rng.standard_normal((4, 5, 6)) * 10
    for arr in (x, np.asfortranarray(x), x[:, ::2], x.astype(np.float32)[::-1]):
        check(arr, axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("axis", [None, 0, -1, ()])
@pytest.mark.parametrize("keepdims", [False, True])
def test_0d_input_as_scipy(axis, keepdims):
    check(np.float32(3.0), axis=axis, keepdims=keepdims)
    check(np.float64(-np.inf), axis=axis, keepdims=keepdims)


def test_long_rows_are_accurate(rng):
    """10^7 float32 values: within a few ulp of the exact (float64) value."""
    x = rng.standard_normal(10_000_000).astype(np.float32) * 3
    got = fasttopk.logsumexp(x)
    exact = scipy.special.logsumexp(x.astype(np.float64))
    assert abs(float(got) - exact) <= 2 * np.spacing(np.float32(exact))


def test_lists_and_read_only(rng):
    x = rng.standard_normal((3, 10))
    x.setflags(write=False)
    check(x)
    check(x.tolist())
    check(x[0].tolist(), axis=None)


@settings(max_examples=200, deadline=None)
@given(x=float_arrays(st.tuples(st.integers(1, 4), st.integers(0, 70))), axis=st.sampled_from([0, 1, -1, None]))
def test_matches_scipy(x, axis):
    if x.size == 0 and axis is None:  # SciPy 1.17 raises IndexError on an empty 2-D array here
        assert fasttopk.logsumexp(x, axis=None) == -np.inf
        return
    check(x, axis=axis)


def test_bad_input():
    x = np.ones((2, 3))
    with pytest.raises((ValueError, IndexError), match="axis"):
        fasttopk.logsumexp(x, axis=2)
    with pytest.raises((ValueError, IndexError), match="axis"):
        fasttopk.logsumexp(x, axis=(0, 3))
    with pytest.raises(ValueError, match="axis"):
        fasttopk.logsumexp(x, axis=(0, 0))
    with pytest.raises(ValueError, match="axis"):
        fasttopk.logsumexp(x, axis=(1, -1))
    with pytest.raises(TypeError, match="axis"):
        fasttopk.logsumexp(x, axis=1.0)
    with pytest.raises(TypeError, match="x"):
        fasttopk.logsumexp(x.astype(complex))
    with pytest.raises(TypeError, match="x"):
        fasttopk.logsumexp(["a", "b"])
    with pytest.raises(TypeError, match="keepdims"):
        fasttopk.logsumexp(x, keepdims="yes")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape,axis", [((31, 4), None), ((31, 4), -1), ((5, 3, 4), (0, 2)), ((6, 7, 0), -1)])
def test_unaligned_input(dtype, shape, axis):
    """An unaligned buffer is copied (found by the fuzz harness: axis=None on a contiguous
    unaligned array reached the core, which refuses misaligned data)."""
    values = np.random.default_rng(3).standard_normal(shape).astype(dtype)
    buf = bytearray(values.nbytes + 1)
    x = np.frombuffer(buf, dtype=dtype, offset=1, count=values.size).reshape(shape)
    x[...] = values
    assert x.size == 0 or not x.flags.aligned
    got = fasttopk.logsumexp(x, axis=axis)
    if values.size:
        want = scipy.special.logsumexp(values.astype(np.float64), axis=axis)
    else:
        want = np.full(shape[:-1], -np.inf)
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=2e-3 if dtype == np.float16 else 1e-6)
