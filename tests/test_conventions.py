"""NumPy/SciPy/torch conventions: keepdims on argmax/argmin (NumPy), out=(values, indices) on
topk (torch), a tuple axis on softmax/log_softmax (SciPy), NumPy scalars for 0-d softmax."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special

import fasttopk

from conftest import peak_growth, stable_topk_reference

AXES = [None, 0, 1, 2, -1, -3]


# --- keepdims ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint64, np.bool_])
def test_keepdims_matches_numpy(name, axis, dtype, rng):
    x = (rng.standard_normal((3, 4, 5)) * 3).astype(dtype)
    ours, theirs = getattr(fasttopk, name), getattr(np, name)
    expected = theirs(x, axis=axis, keepdims=True)
    result = ours(x, axis=axis, keepdims=True)
    assert type(result) is type(expected) and result.dtype == np.int64
    np.testing.assert_array_equal(result, expected)
    assert result.shape == expected.shape
    out = np.full(expected.shape, -7, dtype=np.int64)
    assert ours(x, axis=axis, keepdims=True, out=out) is out
    np.testing.assert_array_equal(out, expected)
    # keepdims=False unchanged
    np.testing.assert_array_equal(ours(x, axis=axis, keepdims=False), theirs(x, axis=axis))


@pytest.mark.parametrize("shape, axis", [((), None), ((), 0), ((), -1), ((7,), None), ((7,), 0), ((1, 1), None)])
def test_keepdims_small_shapes(shape, axis, rng):
    x = rng.standard_normal(shape)
    expected = np.argmax(x, axis=axis, keepdims=True)
    result = fasttopk.argmax(x, axis=axis, keepdims=True)
    assert type(result) is type(expected), (result, expected)
    assert np.shape(result) == np.shape(expected) and np.array_equal(result, expected)


def test_keepdims_errors_like_numpy(rng):
    x = rng.standard_normal((3, 4))
    with pytest.raises(ValueError, match="shape"):
        fasttopk.argmax(x, axis=1, keepdims=True, out=np.empty(3, np.int64))  # needs (3, 1)
    with pytest.raises(TypeError, match="dtype"):
        fasttopk.argmax(x, axis=1, keepdims=True, out=np.empty((3, 1), np.int32))
    with pytest.raises(np.exceptions.AxisError):
        fasttopk.argmin(x, axis=2, keepdims=True)
    with pytest.raises(ValueError, match="empty"):
        fasttopk.argmax(np.empty((3, 0)), keepdims=True)


# --- topk out= ------------------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8, np.uint64])
def test_topk_out_filled_and_returned(axis, dtype, rng):
    x = (rng.standard_normal((6, 9, 11)) * 50).astype(dtype)
    expected = fasttopk.topk(x, 4, axis=axis)
    values = np.empty(expected.values.shape, dtype=dtype)
    indices = np.empty(expected.indices.shape, dtype=np.int64)
    result = fasttopk.topk(x, 4, axis=axis, out=(values, indices))
    assert isinstance(result, fasttopk.TopK)
    assert result.values is values and result.indices is indices
    np.testing.assert_array_equal(indices, stable_topk_reference(x, 4, axis=axis))
    np.testing.assert_array_equal(values, np.take_along_axis(x, indices, axis))


def test_topk_out_may_be_strided_views(rng):
    x = rng.standard_normal((20, 30)).astype(np.float32)
    big_values, big_indices = np.zeros((20, 10), np.float32), np.zeros((40, 5), np.int64)
    out = (big_values[:, ::2], big_indices[::2])
    fasttopk.topk(x, 5, out=out)
    np.testing.assert_array_equal(big_indices[::2], stable_topk_reference(x, 5))
    assert not big_indices[1::2].any() and not big_values[:, 1::2].any()  # nothing else written


def test_topk_out_written_in_place_without_a_temporary(rng):
    x = rng.standard_normal((2000, 50)).astype(np.float32)
    out = (np.empty((2000, 10), np.float32), np.empty((2000, 10), np.int64))
    result, grown = peak_growth(lambda: fasttopk.topk(x, 10, out=out))
    assert result.values is out[0] and result.indices is out[1]
    assert grown < out[0].nbytes // 4  # no result-sized temporary (80 KB and 160 KB here)
    np.testing.assert_array_equal(out[1], stable_topk_reference(x, 10))


def test_topk_out_overlapping_the_input_gets_the_input_s_answer(rng):
    buffer = rng.standard_normal(100)
    x = buffer[:60].reshape(6, 10)
    expected = fasttopk.topk(x.copy(), 2)
    values = buffer[50:62].reshape(6, 2)  # C-contiguous, over x's last row
    fasttopk.topk(x, 2, out=(values, np.empty((6, 2), np.int64)))
    np.testing.assert_array_equal(values, expected.values)


@pytest.mark.parametrize("out, error, match", [
    (np.empty((4, 2)), TypeError, "tuple"),
    ((np.empty((4, 2), np.float32),), TypeError, "length 1"),
    ((np.empty((4, 3), np.float32), np.empty((4, 2), np.int64)), ValueError, r"out\[0\].*shape"),
    ((np.empty((4, 2), np.float64), np.empty((4, 2), np.int64)), TypeError, r"out\[0\].*dtype"),
    ((np.empty((4, 2), np.float32), np.empty((4, 2), np.int32)), TypeError, r"out\[1\].*dtype"),
    ((np.empty((4, 2), np.float32), [[0, 0]] * 4), TypeError, r"out\[1\].*ndarray"),
])
def test_topk_out_checked(out, error, match, rng):
    x = rng.standard_normal((4, 6)).astype(np.float32)
    with pytest.raises(error, match=match):
        fasttopk.topk(x, 2, out=out)


def test_topk_out_read_only_and_overlapping(rng):
    x = rng.standard_normal((4, 6))
    values = np.empty((4, 2))
    values.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fasttopk.topk(x, 2, out=(values, np.empty((4, 2), np.int64)))
    shared = np.empty((4, 2), np.int64)
    with pytest.raises(ValueError, match="overlap"):
        fasttopk.topk(x.astype(np.int64), 2, out=(shared, shared))


# --- tuple axis on softmax / log_softmax -------------------------------------------------------


@pytest.mark.parametrize("axis", [(0,), (1, 2), (2, 0), (0, 1, 2), (-1, -3), ()])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
@pytest.mark.parametrize("log", [False, True])
def test_tuple_axis_matches_scipy(axis, dtype, log, rng):
    x = (rng.standard_normal((4, 5, 6)) * 10).astype(dtype)
    ours = (fasttopk.log_softmax if log else fasttopk.softmax)(x, axis=axis)
    theirs = (scipy.special.log_softmax if log else scipy.special.softmax)(x, axis=axis)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    rtol = 1e-5 if ours.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * (20 if log else 1e-3))
    out = np.empty_like(theirs)
    assert (fasttopk.log_softmax if log else fasttopk.softmax)(x, axis=axis, out=out) is out
    np.testing.assert_array_equal(out, ours)


def test_tuple_axis_special_values():
    x = np.array([[[np.inf, 1.0], [0.0, -np.inf]], [[np.nan, 0.0], [1.0, 2.0]]])
    with np.errstate(invalid="ignore"):
        for axis in [(1, 2), (0, 2), ()]:
            np.testing.assert_allclose(fasttopk.softmax(x, axis=axis), scipy.special.softmax(x, axis=axis),
                                       rtol=1e-15, atol=0)  # NaN where SciPy has NaN


def test_tuple_axis_errors(rng):
    x = rng.standard_normal((3, 4))
    with pytest.raises(ValueError, match="repeated"):
        fasttopk.softmax(x, axis=(0, 0))
    with pytest.raises(ValueError, match="repeated"):
        fasttopk.softmax(x, axis=(1, -1))
    with pytest.raises(np.exceptions.AxisError):
        fasttopk.log_softmax(x, axis=(0, 2))
    with pytest.raises(TypeError, match="integer"):
        fasttopk.softmax(x, axis=(0, 1.0))
    with pytest.raises(TypeError):
        fasttopk.softmax(x, axis=[0, 1])  # as SciPy: only a tuple names several axes
    with pytest.raises(ValueError, match="shape"):
        fasttopk.softmax(x, axis=(0, 1), out=np.empty((4, 3)))
    with pytest.raises(ValueError, match="empty"):
        fasttopk.softmax(np.empty((3, 0)), axis=(0, 1))


# --- 0-d input gives a NumPy scalar -------------------------------------------------------------


@pytest.mark.parametrize("x", [1000, 3.5, np.float32(-2.0), np.array(7.0), np.array(3, np.int32), np.float16(1.0)])
@pytest.mark.parametrize("log", [False, True])
def test_0d_gives_a_numpy_scalar(x, log):
    ours = (fasttopk.log_softmax if log else fasttopk.softmax)(x)
    theirs = (scipy.special.log_softmax if log else scipy.special.softmax)(x)
    assert type(ours) is type(theirs) and np.isscalar(ours)
    assert ours == theirs
    out = np.empty((), dtype=np.asarray(theirs).dtype)
    assert fasttopk.softmax(x, out=out) is out  # out= still returns out


def test_0d_tuple_axis_like_scipy():
    assert fasttopk.softmax(np.array(3.0), axis=()) == scipy.special.softmax(np.array(3.0), axis=())
    assert np.isscalar(fasttopk.softmax(np.array(3.0), axis=()))
    with pytest.raises(np.exceptions.AxisError):
        fasttopk.softmax(np.array(3.0), axis=(0,))


# --- the README's "Differences" example says what it claims ------------------------------------


def test_readme_tie_rule_example():
    import pathlib
    import re

    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Inputs, outputs and differences", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, re.S)
    lines = [line.strip() for line in block.strip().splitlines()]
    assert len(lines) == 2
    for line in lines:
        code, claim = line.split("#", 1)
        expected = claim.split(":", 1)[0].strip()
        result = eval(code, {"ftk": fasttopk})
        assert np.array_equal(result, eval(expected)), (line, result)
