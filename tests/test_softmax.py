"""softmax / log_softmax: scipy.special.softmax / log_softmax within float rounding, with the
same NaN / 0 / inf pattern on non-finite input."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fasttopk

from conftest import LENGTHS, float_arrays

FUNCS = [(fasttopk.softmax, scipy.special.softmax), (fasttopk.log_softmax, scipy.special.log_softmax)]
FUNC_IDS = ["softmax", "log_softmax"]

# (rtol, atol) per result dtype. softmax values lie in [0, 1]; the atol only covers results that
# underflow to subnormals (or 0) on one side. log_softmax's absolute error is a few ulp of
# log(sum), hence a small atol.
TOL = {
    ("softmax", np.dtype(np.float32)): (1e-5, 1e-30),
    ("softmax", np.dtype(np.float64)): (1e-12, 1e-300),
    ("log_softmax", np.dtype(np.float32)): (1e-5, 1e-5),
    ("log_softmax", np.dtype(np.float64)): (1e-12, 1e-12),
    ("softmax", np.dtype(np.float16)): (2e-3, 1e-7),
    ("log_softmax", np.dtype(np.float16)): (2e-3, 2e-3),
}


def scipy_ref(ref, x, axis):
    """SciPy's answer in the dtype fasttopk promises. SciPy computes float16 in float16 (less
    accurate than fasttopk, which rounds a float32 result), gives float16 for int8/uint8 and
    wraps around for unsigned integers; so float16 is referenced through float32, integers and
    bool through float64."""
    x = np.asarray(x)
    result = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    src = x.astype(np.float32) if x.dtype == np.float16 else x.astype(result, copy=False)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return np.asarray(ref(src, axis=axis)).astype(result)


def assert_matches(got, want, name, *, exact_pattern=True):
    got = np.asarray(got)
    rtol, atol = TOL[(name, got.dtype)]
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    if exact_pattern:
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))
        np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))


def check(x, axis=-1, *, ref_input=None, exact_pattern=True, funcs=FUNCS):
    """Both functions against SciPy (on `ref_input`, default x), and x left untouched."""
    before = np.array(x, copy=True)
    for ours, ref in funcs:
        got = ours(x, axis=axis)
        want = scipy_ref(ref, x if ref_input is None else ref_input, axis)
        assert got.shape == np.shape(x)
        assert_matches(got, want, ours.__name__, exact_pattern=exact_pattern)
    assert np.asarray(x).tobytes() == before.tobytes()
    return got


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lengths_around_simd_widths(dtype, rng):
    for n in LENGTHS:
        x = (rng.standard_normal((3, n)) * 5).astype(dtype)
        got = check(x)
        assert got.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_rows_sum_to_one(dtype, rng):
    x = (rng.standard_normal((50, 1000)) * 10).astype(dtype)
    s = fasttopk.softmax(x)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(s.sum(axis=-1, dtype=np.float64), 1.0, rtol=tol)
    assert (s >= 0).all() and (s <= 1).all()
    np.testing.assert_allclose(np.exp(fasttopk.log_softmax(x)), s, rtol=100 * tol, atol=1e-30)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("offset", [1e4, -1e4, 3e4, 1e30])
def test_numerically_stable_for_large_values(dtype, offset, rng):
    if dtype == np.float32 and abs(offset) > 1e5:
        offset = 1e30  # still representable in float32
    x = (rng.standard_normal((4, 300)) * 3 + offset).astype(dtype)
    got = check(x, exact_pattern=True)
    assert np.isfinite(got).all()
    s = fasttopk.softmax(x)
    assert np.isfinite(s).all()
    # one huge value dominates: softmax is one-hot, log_softmax is 0 there
    y = np.zeros((2, 100), dtype=dtype)
    y[:, 17] = 1e4
    check(y)
    np.testing.assert_array_equal(fasttopk.softmax(y)[:, 17], 1.0)


def nonfinite_rows(n, dtype):
    """Rows holding NaN, +inf, -inf in every combination SciPy distinguishes."""
    base = np.linspace(-3, 3, n)
    rows = []
    for pos in sorted({0, n // 2, n - 1}):
        for special in ([np.nan], [np.inf], [-np.inf], [np.nan, np.inf], [np.inf, -np.inf],
                        [np.inf, np.inf], [np.nan, -np.inf]):
            r = base.copy()
            for i, v in enumerate(special):
                r[(pos + i * (n // 3 + 1)) % n] = v
            rows.append(r)
    rows.append(np.full(n, -np.inf))  # all -inf: NaN everywhere
    rows.append(np.full(n, np.inf))
    rows.append(np.full(n, np.nan))
    r = np.full(n, -np.inf)
    r[n // 2] = 0.0  # one finite among -inf: exactly one-hot
    rows.append(r)
    r = base.copy()
    r[::3] = -np.inf
    rows.append(r)
    return np.stack(rows).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_nonfinite_pattern_matches_scipy(dtype):
    for n in [1, 2, 3, 4, 7, 8, 9, 16, 17, 33, 64, 100, 257, 1000]:
        x = nonfinite_rows(n, dtype)
        check(x, funcs=FUNCS[:1])
        # exact zeros where SciPy has exp(-inf) = 0
        want = scipy_ref(scipy.special.softmax, x, -1)
        got = fasttopk.softmax(x)
        np.testing.assert_array_equal(got == 0, want == 0)
        np.testing.assert_array_equal(got == 1, want == 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_softmax_nonfinite_pattern_matches_scipy(dtype):
    for n in [1, 2, 3, 4, 7, 8, 9, 16, 17, 33, 64, 100, 257, 1000]:
        x = nonfinite_rows(n, dtype)
        check(x, funcs=FUNCS[1:])
        want = scipy_ref(scipy.special.log_softmax, x, -1)
        got = fasttopk.log_softmax(x)
        np.testing.assert_array_equal(got == 0, want == 0)


def test_log_softmax_posinf_float32_regression():
    """Minimal reproducer: SciPy's log_softmax([0, inf]) is [-inf, nan] (the max, inf, is reset
    to 0; exp(inf) = inf; log(sum) = inf)."""
    got = fasttopk.log_softmax(np.array([0.0, np.inf], dtype=np.float32))
    assert np.isneginf(got[0]) and np.isnan(got[1])
    x = np.array([1.0, 2.0, np.inf, -np.inf] * 5, dtype=np.float32)
    want = scipy_ref(scipy.special.log_softmax, x, -1)
    assert_matches(fasttopk.log_softmax(x), want, "log_softmax")


def test_one_hot_and_all_minus_inf_exact():
    x = np.array([[-np.inf, 0.0, -np.inf], [-np.inf, -np.inf, -np.inf], [np.nan, 1.0, 2.0],
                  [np.inf, 1.0, 2.0], [np.inf, -np.inf, 2.0]])
    s = fasttopk.softmax(x)
    np.testing.assert_array_equal(s[0], [0.0, 1.0, 0.0])
    assert np.isnan(s[1:]).all()
    ls = fasttopk.log_softmax(x)
    np.testing.assert_array_equal(ls[0], [-np.inf, 0.0, -np.inf])
    assert np.isnan(ls[1:3]).all()
    # SciPy: [inf, 1, 2] -> shift 0, log(sum) = inf -> [nan, -inf, -inf]
    want = scipy_ref(scipy.special.log_softmax, x, -1)
    np.testing.assert_array_equal(np.isnan(ls), np.isnan(want))
    np.testing.assert_array_equal(ls[3:][~np.isnan(ls[3:])], want[3:][~np.isnan(want[3:])])


@pytest.mark.parametrize(
    "dtype, result",
    [(np.float16, np.float16), (np.int8, np.float64), (np.int32, np.float64), (np.int64, np.float64),
     (np.uint8, np.float64), (np.uint64, np.float64), (np.bool_, np.float64)],
)
def test_result_dtype_and_values(dtype, result, rng):
    if dtype == np.bool_:
        x = rng.integers(0, 2, (5, 40)).astype(bool)
    elif dtype == np.float16:
        x = rng.standard_normal((5, 40)).astype(np.float16) * 4
    else:
        x = rng.integers(0, 100, (5, 40)).astype(dtype)
    for ours, ref in FUNCS:
        got = ours(x)
        assert got.dtype == result
        want = scipy_ref(ref, x, -1)
        assert want.dtype == result
        assert_matches(got, want, ours.__name__)


@pytest.mark.parametrize(
    "funcs", [FUNCS[:1], FUNCS[1:]], ids=FUNC_IDS)
def test_float16_nonfinite(funcs):
    x = nonfinite_rows(40, np.float16)
    got = check(x, funcs=funcs)
    assert got.dtype == np.float16


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_axis_nd(dtype, rng):
    x = rng.standard_normal((3, 4, 5, 6)).astype(dtype)
    for axis in [0, 1, 2, 3, -1, -2, -3, -4, None]:
        check(x, axis=axis)
    check(rng.standard_normal(50).astype(dtype), axis=0)


def test_default_axis_is_last(rng):
    x = rng.standard_normal((4, 9))
    np.testing.assert_allclose(fasttopk.softmax(x), scipy.special.softmax(x, axis=-1), rtol=1e-12)


def test_zero_dim_input():
    x = np.array(2.0)
    for axis in [None, 0, -1]:
        assert fasttopk.softmax(x, axis=axis) == 1.0
        assert fasttopk.log_softmax(x, axis=axis) == 0.0
    with pytest.raises(ValueError, match="axis"):
        fasttopk.softmax(x, axis=1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layouts(dtype, rng):
    base = (rng.standard_normal((60, 130)) * 4).astype(dtype)
    check(base[:, ::2])
    check(base[::-1])
    check(base[:, ::-1])
    check(np.asfortranarray(base))
    check(np.asfortranarray(base), axis=0)
    check(base.T)
    check(base, axis=0)
    ro = base.copy()
    ro.flags.writeable = False
    check(ro)
    swapped = base.astype(np.dtype(dtype).newbyteorder(">" if np.little_endian else "<"))
    for ours, ref in FUNCS:
        got = ours(swapped)
        assert got.dtype.isnative and got.dtype == dtype
        assert_matches(got, scipy_ref(ref, base, -1), ours.__name__)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_strided_rows_zero_copy_layouts(dtype, rng):
    base = (rng.standard_normal((60, 130)) * 4).astype(dtype)
    check(base[::3])
    check(base[::3, 1:100])
    check(base[:, :77])
    check(np.broadcast_to(base[0], (5, 130)))


def test_python_sequence():
    got = fasttopk.softmax([1.0, 2.0, 3.0])
    np.testing.assert_allclose(got, scipy.special.softmax([1.0, 2.0, 3.0]), rtol=1e-12)
    assert got.dtype == np.float64


# --- out= -------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [fasttopk.softmax, fasttopk.log_softmax], ids=FUNC_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out(fn, dtype, rng):
    ref = dict(zip(FUNC_IDS, [f[1] for f in FUNCS]))[fn.__name__]
    x = rng.standard_normal((6, 7, 8)).astype(dtype)
    for axis in [0, 1, 2, -1, None]:
        want = scipy_ref(ref, x, axis)
        out = np.full(x.shape, 7.0, dtype=dtype)
        assert fn(x, axis=axis, out=out) is out
        assert_matches(out, want, fn.__name__)
        fout = np.asfortranarray(np.zeros(x.shape, dtype=dtype))
        assert fn(x, axis=axis, out=fout) is fout
        assert_matches(fout, want, fn.__name__)


@pytest.mark.parametrize("fn", [fasttopk.softmax, fasttopk.log_softmax], ids=FUNC_IDS)
def test_out_strided_rows(fn, rng):
    ref = dict(zip(FUNC_IDS, [f[1] for f in FUNCS]))[fn.__name__]
    x = rng.standard_normal((6, 8)).astype(np.float32)
    big = np.full((12, 16), 5.0, dtype=np.float32)
    view = big[::2, :8]  # contiguous rows, row stride 16
    assert fn(x, out=view) is view
    assert_matches(view, scipy_ref(ref, x, -1), fn.__name__)
    assert (big[1::2] == 5.0).all() and (big[::2, 8:] == 5.0).all()


@pytest.mark.parametrize("fn", [fasttopk.softmax, fasttopk.log_softmax], ids=FUNC_IDS)
def test_out_non_contiguous(fn, rng):
    ref = dict(zip(FUNC_IDS, [f[1] for f in FUNCS]))[fn.__name__]
    x = rng.standard_normal((6, 8)).astype(np.float32)
    big = np.full((6, 16), 5.0, dtype=np.float32)
    view = big[:, ::2]  # strided last axis: staged, then copied
    assert fn(x, out=view) is view
    assert_matches(view, scipy_ref(ref, x, -1), fn.__name__)
    assert (big[:, 1::2] == 5.0).all()


@pytest.mark.parametrize("fn", [fasttopk.softmax, fasttopk.log_softmax], ids=FUNC_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_out_is_x_in_place(fn, dtype, rng):
    ref = dict(zip(FUNC_IDS, [f[1] for f in FUNCS]))[fn.__name__]
    for shape, axis in [((5, 1000), -1), ((5, 33), 0), ((4, 5, 6), 1), ((4, 5, 6), None), ((77,), 0)]:
        x = (rng.standard_normal(shape) * 3).astype(dtype)
        want = scipy_ref(ref, x.copy(), axis)
        assert fn(x, axis=axis, out=x) is x
        assert_matches(x, want, fn.__name__)


@pytest.mark.parametrize("fn", [fasttopk.softmax, fasttopk.log_softmax], ids=FUNC_IDS)
def test_out_overlapping_x(fn, rng):
    """out overlaps x without being x: the result must still be computed from the original x."""
    ref = dict(zip(FUNC_IDS, [f[1] for f in FUNCS]))[fn.__name__]
    buf = rng.standard_normal(40)
    x = buf[:30].reshape(3, 10)
    want = scipy_ref(ref, x.copy(), -1)
    out = buf[10:40].reshape(3, 10)
    fn(x, out=out)
    assert_matches(out, want, fn.__name__)
    buf = rng.standard_normal((6, 10))
    want = scipy_ref(ref, buf.copy(), -1)
    fn(buf, out=buf[::-1])  # rows reversed in place
    assert_matches(buf[::-1], want, fn.__name__)


def test_out_errors(rng):
    x = rng.standard_normal((4, 5)).astype(np.float32)
    with pytest.raises(ValueError, match="out"):
        fasttopk.softmax(x, out=np.zeros((5, 4), dtype=np.float32))
    with pytest.raises(TypeError, match="out"):
        fasttopk.softmax(x, out=np.zeros((4, 5), dtype=np.float64))
    with pytest.raises(TypeError, match="out"):
        fasttopk.log_softmax(x.astype(np.int32), out=np.zeros((4, 5), dtype=np.float32))
    with pytest.raises(TypeError, match="out"):
        fasttopk.log_softmax(x, out=x.tolist())
    ro = np.zeros((4, 5), dtype=np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out"):
        fasttopk.softmax(x, out=ro)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="out"):
        fasttopk.softmax(x, out=x)


# --- empty ------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [fasttopk.softmax, fasttopk.log_softmax], ids=FUNC_IDS)
def test_empty_axes_match_scipy(fn):
    ref = dict(zip(FUNC_IDS, [f[1] for f in FUNCS]))[fn.__name__]
    for shape, axis in [((3, 0), -1), ((0,), -1), ((0,), None), ((0, 0), -1), ((0, 0), 0),
                        ((0, 5), 0), ((2, 0, 3), 1), ((3, 0), None), ((0, 5), None)]:
        x = np.empty(shape)
        with pytest.raises(ValueError):
            ref(x, axis=axis)
        with pytest.raises(ValueError, match="x"):
            fn(x, axis=axis)
    for shape, axis in [((0, 5), -1), ((3, 0), 0), ((2, 0, 3), -1), ((2, 0, 3), 0)]:
        x = np.empty(shape, dtype=np.float32)
        want = ref(x, axis=axis)
        got = fn(x, axis=axis)
        assert got.shape == want.shape == shape and got.dtype == np.float32
        out = np.empty(shape, dtype=np.float32)
        assert fn(x, axis=axis, out=out) is out


# --- property tests ---------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    float_arrays(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=70)),
    st.data(),
)
def test_property_against_scipy(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1) | st.none())
    check(x, axis=axis)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.float32, np.float64]),
        shape=hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=300),
        elements=st.floats(-1e4, 1e4, width=32),
    ),
)
def test_property_finite_rows(x):
    check(x)
    s = fasttopk.softmax(x)
    np.testing.assert_allclose(s.sum(axis=-1, dtype=np.float64), 1.0, rtol=1e-5)
