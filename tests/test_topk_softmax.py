"""topk_softmax: the top-k of softmax(x / T) (log_softmax with log=True) without the softmax in
memory. Checked three ways on every input: the indices are topk's on the logits (its order, tie
and NaN rules), the values are SciPy's softmax of x / T at those indices, and the values equal
topk(scipy.special.softmax(x / T)).values to float rounding."""
from __future__ import annotations

import gc
import pickle
import warnings

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st

import fasttopk

from conftest import ALL_REAL_DTYPES, float_arrays, random_array, stable_topk_reference

TEMPERATURES = [1.0, 0.5, 2.0, 7.3, 1e-3]
# (rtol, atol) per result dtype; atol covers results that underflow to subnormals on one side.
TOL = {
    (False, np.dtype(np.float32)): (2e-6, 1e-37),
    (False, np.dtype(np.float64)): (1e-13, 1e-300),
    (True, np.dtype(np.float32)): (2e-6, 2e-6),
    (True, np.dtype(np.float64)): (1e-13, 1e-13),
    (False, np.dtype(np.float16)): (2e-3, 1e-7),
    (True, np.dtype(np.float16)): (2e-3, 2e-3),
}


def core_logits(x):
    """The logits as the kernel reads them: float16 in float32, integers and bool in float64."""
    x = np.asarray(x)
    if x.dtype == np.float16:
        return x.astype(np.float32)
    if x.dtype.kind != "f":
        return x.astype(np.float64)
    return x


def scipy_softmax(z, axis, log):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        f = scipy.special.log_softmax if log else scipy.special.softmax
        return f(z, axis=axis)


def check(x, k, *, axis=-1, temperature=1.0, log=False, sorted=True):
    x = np.asarray(x)
    result = fasttopk.topk_softmax(x, k, axis=axis, temperature=temperature, log=log, sorted=sorted)
    values, indices = result
    assert type(result) is fasttopk.TopK
    expected_dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    z = core_logits(x)
    with np.errstate(over="ignore"):
        scaled = z / z.dtype.type(temperature)
    probs = scipy_softmax(scaled, axis, log)
    shape = list(x.shape)
    shape[axis] = k
    assert values.dtype == expected_dtype and indices.dtype == np.int64
    assert values.shape == tuple(shape) and indices.shape == tuple(shape)
    ref_idx = stable_topk_reference(z, k, axis=axis)
    if sorted:
        np.testing.assert_array_equal(indices, ref_idx)
    else:
        np.testing.assert_array_equal(np.sort(indices, axis=axis), np.sort(ref_idx, axis=axis))
    rtol, atol = TOL[(bool(log), expected_dtype)]
    at_indices = np.take_along_axis(probs, indices, axis=axis).astype(expected_dtype)
    np.testing.assert_allclose(values, at_indices, rtol=rtol, atol=atol, equal_nan=True)
    if sorted:
        # topk on the probabilities themselves gives the same values (ties there may order
        # the indices differently: the fused kernel orders equal probabilities by logit)
        ref_values = fasttopk.topk(probs, k, axis=axis).values.astype(expected_dtype)
        np.testing.assert_allclose(values, ref_values, rtol=rtol, atol=atol, equal_nan=True)
    return values, indices


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 64, 127, 129, 255, 257, 1000, 4097])
def test_lengths_around_simd_widths_and_blocks(rng, dtype, n):
    x = random_array(rng, (5, n), dtype)
    for k in sorted({0, 1, min(5, n), n}):
        check(x, k)
        check(x, k, log=True)


@pytest.mark.parametrize("pattern", ["random", "ascending", "descending", "equal", "few values", "nan", "minus inf"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_long_rows_and_hostile_patterns(rng, pattern, dtype):
    """The selection is bounded below by the k-th largest block maximum of the first pass; rows
    that make that bound loose (ascending, equal, NaN) must still come out exact."""
    n = 20_000
    if pattern == "random":
        x = rng.standard_normal((3, n))
    elif pattern == "ascending":
        x = np.tile(np.arange(n, dtype=np.float64), (3, 1))
    elif pattern == "descending":
        x = np.tile(np.arange(n, 0, -1, dtype=np.float64), (3, 1))
    elif pattern == "equal":
        x = np.full((3, n), 2.5)
    elif pattern == "few values":
        x = rng.integers(0, 3, (3, n)).astype(np.float64)
    elif pattern == "nan":
        x = rng.standard_normal((3, n))
        x[:, rng.integers(0, n, 300)] = np.nan
    else:
        x = np.full((3, n), -np.inf)
        x[:, rng.integers(0, n, 40)] = rng.standard_normal(40)
    x = x.astype(dtype)
    for k in (1, 5, 50, 300, 1249, 1250, 1251, 5000, n):
        check(x, k, sorted=k < 2000)
        check(x[:, 7:], min(k, n - 7), log=True, temperature=0.5, sorted=k < 2000)


@pytest.mark.parametrize("temperature", TEMPERATURES)
@pytest.mark.parametrize("log", [False, True])
def test_temperatures(rng, temperature, log):
    x = (rng.standard_normal((20, 500)) * 3).astype(np.float32)
    check(x, 10, temperature=temperature, log=log)
    check(x.astype(np.float64), 10, temperature=temperature, log=log)


def test_temperature_is_a_division_in_the_input_precision(rng):
    """x / T rounds like NumPy's float32 division by np.float32(T), not a multiply by 1/T."""
    x = rng.standard_normal((3, 1000)).astype(np.float32)
    t = 0.7
    got = fasttopk.topk_softmax(x, 1000, temperature=t, log=True)
    ref = scipy.special.log_softmax(x / t, axis=-1)  # a Python float: float32 division
    np.testing.assert_allclose(got.values, np.take_along_axis(ref, got.indices, -1), rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("dtype", ALL_REAL_DTYPES)
def test_every_dtype(rng, dtype):
    x = random_array(rng, (6, 40), dtype)
    if np.dtype(dtype).kind == "f":
        x = (rng.standard_normal((6, 40)) * 4).astype(dtype)
    for k in (0, 1, 5, 40):
        check(x, k)
        check(x, k, log=True, temperature=3.0)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int16])
def test_ties_ordered_by_index(rng, dtype):
    x = random_array(rng, (30, 50), dtype, ties=True)
    for k in (1, 7, 50):
        check(x, k)
        check(x, k, log=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("log", [False, True])
def test_non_finite_rows_as_scipy(dtype, log):
    inf, nan = np.inf, np.nan
    rows = [
        [1.0, 2.0, nan, 0.5],  # NaN: all NaN
        [1.0, inf, 0.0, -1.0],  # +inf: NaN (softmax); -inf and NaN (log_softmax)
        [inf, inf, 1.0, -inf],
        [-inf, -inf, -inf, -inf],  # all -inf: NaN
        [-inf, 3.0, -inf, 2.0],  # -inf: probability 0
        [nan, -inf, -inf, -inf],
        [inf, nan, 1.0, 2.0],
        [-0.0, 0.0, -0.0, 0.0],
        [1e-45, -1e-45, 0.0, 5e-324],
        [3e38, -3e38, 1e38, 0.0],
    ]
    x = np.array(rows, dtype=dtype)
    for k in (1, 2, 4):
        for t in (1.0, 0.01, 100.0):
            check(x, k, log=log, temperature=t)
    # the same rows at the end of long rows (block and tail paths of the kernel)
    long = np.full((len(rows), 1000), -5.0, dtype=dtype)
    long[:, -4:] = x
    check(long, 3, log=log)
    long2 = np.full((len(rows), 1000), -5.0, dtype=dtype)
    long2[:, 500:504] = x
    check(long2, 3, log=log)


def test_probabilities_that_underflow_keep_the_logit_order():
    """Both of the last two underflow to 0: topk of the softmax would order them by index,
    the fused kernel by logit (documented)."""
    x = np.array([[0.0, -2000.0, -1000.0]])
    values, indices = fasttopk.topk_softmax(x, 3)
    np.testing.assert_array_equal(indices, [[0, 2, 1]])
    np.testing.assert_array_equal(values, [[1.0, 0.0, 0.0]])


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_every_axis_and_layout(rng, axis):
    x = (rng.standard_normal((7, 9, 33)) * 5).astype(np.float32)
    for arr in (x, np.asfortranarray(x), x[:, ::2, :], x[::-1]):
        check(arr, 3, axis=axis)
        check(arr, arr.shape[axis], axis=axis, log=True, temperature=0.3)


def test_read_only_strided_and_1d(rng):
    x = rng.standard_normal((10, 300)).astype(np.float64)
    x.setflags(write=False)
    before = x.copy()
    check(x, 4)
    check(x[:, 1::3], 4)
    check(x[3], 7)
    check(list(x[3]), 7)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unsorted_is_the_same_set(rng, dtype):
    x = rng.standard_normal((50, 3000)).astype(dtype)
    for k in (1, 10, 200, 3000):
        check(x, k, sorted=False)


def test_empty_rows_and_zero_rows():
    values, indices = fasttopk.topk_softmax(np.empty((0, 5), np.float32), 2)
    assert values.shape == (0, 2) and values.dtype == np.float32 and indices.shape == (0, 2)
    values, indices = fasttopk.topk_softmax(np.empty((3, 0)), 0)
    assert values.shape == (3, 0)


def test_threads_do_not_change_results(rng):
    x = rng.standard_normal((3000, 700)).astype(np.float32)
    before = fasttopk.get_num_threads()
    try:
        fasttopk.set_num_threads(1)
        one = fasttopk.topk_softmax(x, 5, temperature=0.8)
        fasttopk.set_num_threads(4)
        four = fasttopk.topk_softmax(x, 5, temperature=0.8)
    finally:
        fasttopk.set_num_threads(before)
    np.testing.assert_array_equal(one.values, four.values)
    np.testing.assert_array_equal(one.indices, four.indices)


def test_long_row_sum_is_accurate(rng):
    """10^7 float32 logits: the sum of exponentials is kept in double precision, so the result
    is within a few ulp of the exact (float64) value."""
    x = rng.standard_normal(10_000_000).astype(np.float32) * 3
    values, indices = fasttopk.topk_softmax(x, 5)
    exact = scipy.special.softmax(x.astype(np.float64))[indices]
    np.testing.assert_allclose(values, exact, rtol=4 * np.finfo(np.float32).eps)
    log_values, _ = fasttopk.topk_softmax(x, 5, log=True)
    exact_log = scipy.special.log_softmax(x.astype(np.float64))[indices]
    np.testing.assert_allclose(log_values, exact_log, rtol=4 * np.finfo(np.float32).eps)


@settings(max_examples=150, deadline=None)
@given(
    x=float_arrays(st.tuples(st.integers(1, 4), st.integers(1, 80))),
    data=st.data(),
    temperature=st.sampled_from(TEMPERATURES),
    log=st.booleans(),
)
def test_matches_topk_of_scipy_softmax(x, data, temperature, log):
    k = data.draw(st.integers(0, x.shape[1]))
    check(x, k, temperature=temperature, log=log)


@settings(max_examples=60, deadline=None)
@given(x=float_arrays(st.tuples(st.integers(1, 3), st.integers(1, 40)), width=16, dtypes=(np.float16,)))
def test_float16_hypothesis(x):
    check(x, min(3, x.shape[1]))


def test_classes_give_labels(rng):
    x = rng.standard_normal((4, 6))
    names = np.array(["ant", "bee", "cat", "dog", "eel", "fox"])
    result = fasttopk.topk_softmax(x, 3, classes=names)
    _values, indices = result
    assert isinstance(result, tuple) and len(result) == 2
    np.testing.assert_array_equal(result.labels, names[indices])
    assert pickle.loads(pickle.dumps(result)).labels.tolist() == result.labels.tolist()


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [0, 0.0, -1.0, np.nan, np.inf, -np.inf, 1e-50, 1e39])
def test_bad_temperature(temperature):
    with pytest.raises(ValueError, match="temperature"):
        fasttopk.topk_softmax(np.ones((2, 3), np.float32), 1, temperature=temperature)


@pytest.mark.parametrize("temperature", ["1", None, True, 1j, [1.0]])
def test_temperature_of_the_wrong_type(temperature):
    with pytest.raises(TypeError, match="temperature"):
        fasttopk.topk_softmax(np.ones((2, 3)), 1, temperature=temperature)


def test_tiny_temperature_valid_in_float64_only():
    x = np.ones((1, 3))
    fasttopk.topk_softmax(x, 1, temperature=1e-50)  # a float64 number
    with pytest.raises(ValueError, match="temperature"):
        fasttopk.topk_softmax(x.astype(np.float32), 1, temperature=1e-50)


def test_bad_k_axis_x_and_classes():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="k"):
        fasttopk.topk_softmax(x, 4)
    with pytest.raises(ValueError, match="k"):
        fasttopk.topk_softmax(x, -1)
    with pytest.raises(TypeError, match="k"):
        fasttopk.topk_softmax(x, 1.5)
    with pytest.raises((ValueError, IndexError), match="axis"):
        fasttopk.topk_softmax(x, 1, axis=2)
    with pytest.raises(TypeError, match="axis"):
        fasttopk.topk_softmax(x, 1, axis=(0, 1))
    with pytest.raises(TypeError, match="x"):
        fasttopk.topk_softmax(x.astype(complex), 1)
    with pytest.raises(TypeError, match="x"):
        fasttopk.topk_softmax(np.array([["a", "b"]]), 1)
    with pytest.raises(ValueError, match="dimension"):
        fasttopk.topk_softmax(np.float64(3.0), 1)
    with pytest.raises(ValueError, match="classes"):
        fasttopk.topk_softmax(x, 1, classes=["a", "b"])
    with pytest.raises(ValueError, match="classes"):
        fasttopk.topk_softmax(x, 1, classes=np.zeros((3, 1)))


# --- memory -------------------------------------------------------------------------------------


def test_400mb_logits_add_only_the_outputs():
    """topk_softmax on a 400 MB float32 matrix allocates its outputs and nothing of the input's
    size (a softmax + topk would allocate 400 MB)."""
    import tracemalloc

    rows, cols = 100_000, 1000
    x = np.empty((rows, cols), dtype=np.float32)
    block = np.random.default_rng(5).standard_normal((10_000, cols), dtype=np.float32)
    for start in range(0, rows, 10_000):  # the content may repeat: what counts is the size
        x[start : start + 10_000] = block
    try:
        for k, log in ((5, False), (50, True)):
            gc.collect()
            tracemalloc.start()
            try:
                tracemalloc.reset_peak()
                start = tracemalloc.get_traced_memory()[0]
                values, indices = fasttopk.topk_softmax(x, k, log=log, temperature=0.9)
                grown = tracemalloc.get_traced_memory()[1] - start
            finally:
                tracemalloc.stop()
            outputs = values.nbytes + indices.nbytes
            assert grown <= outputs + (1 << 20), f"grew {grown / 2**20:.1f} MB, outputs {outputs / 2**20:.1f} MB"
            check(x[:200], k, log=log, temperature=0.9)
            np.testing.assert_array_equal(indices[:200], stable_topk_reference(x[:200], k))
    finally:
        del x
        gc.collect()


@pytest.mark.parametrize("flag", ["log", "sorted"])
@pytest.mark.parametrize("value", [0, 1.0, None, "no", np.array([True, False])])
def test_flags_must_be_bools(flag, value):
    """As topk's largest/sorted: a truthy stand-in is a TypeError naming the flag (found by
    the fuzz harness: log=0 was taken as False, an array raised NumPy's ambiguity error)."""
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    with pytest.raises(TypeError, match=flag):
        fasttopk.topk_softmax(x, 2, **{flag: value})
