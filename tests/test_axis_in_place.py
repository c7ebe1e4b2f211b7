"""Reductions along a non-last axis read in place (issue 12, item 4): softmax, log_softmax and
logsumexp along axis 0 / a middle axis of a row-major array, or along the class axis of a
Fortran array, and the rank pass of top_k_accuracy_score on a Fortran y_score, go through the
column kernels (columns.hpp) instead of a transposed copy. Same answers as SciPy and
scikit-learn, hard values included; layouts that are not a contiguous inner block fall back to
the copy; no n x C temporary on the in-place path."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.special
from sklearn.metrics import top_k_accuracy_score as sk_top_k_accuracy_score

import fasttopk
from fasttopk._layout import Panels, reduction_view

from conftest import peak_growth

ml_dtypes = pytest.importorskip("ml_dtypes")

FLOATS = [np.float32, np.float64, np.float16, ml_dtypes.bfloat16]
FLOAT_IDS = ["float32", "float64", "float16", "bfloat16"]
# (rtol, atol) of softmax / log_softmax / logsumexp per dtype; half precision is compared with
# SciPy on float32 (fasttopk computes it in float32 and rounds once).
TOL = {
    np.dtype(np.float32): (2e-5, 2e-5),
    np.dtype(np.float64): (1e-12, 1e-12),
    np.dtype(np.float16): (2e-3, 2e-3),
    np.dtype(ml_dtypes.bfloat16): (1.6e-2, 1.6e-2),
}
FUNCS = {
    "softmax": (fasttopk.softmax, scipy.special.softmax),
    "log_softmax": (fasttopk.log_softmax, scipy.special.log_softmax),
    "logsumexp": (fasttopk.logsumexp, scipy.special.logsumexp),
}


def reference(name, x, axis, **kw):
    """SciPy's answer, in x's dtype (half precision through float32)."""
    src = x.astype(np.float32) if x.dtype.itemsize == 2 else x
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return np.asarray(FUNCS[name][1](src, axis=axis, **kw)).astype(x.dtype)


def assert_close(got, want, dtype):
    got = np.asarray(got).astype(np.float64)
    want = np.asarray(want).astype(np.float64)
    rtol, atol = TOL[np.dtype(dtype)]
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=rtol, atol=atol)


def check_all(x, axis, *, in_place=True):
    """The three functions against SciPy, x untouched, and the path taken as expected."""
    before = x.copy()
    assert isinstance(reduction_view(x, axis % x.ndim), Panels) == in_place
    for name, (ours, _) in FUNCS.items():
        got = ours(x, axis=axis)
        assert np.asarray(got).dtype == x.dtype
        assert_close(got, reference(name, x, axis), x.dtype)
    same = np.ascontiguousarray(x).view(np.uint8) == np.ascontiguousarray(before).view(np.uint8)
    assert same.all()


def hostile(rng, shape, dtype, kind):
    """Random logits, or one of the hard patterns, in `dtype` (column-wise where it matters)."""
    x = rng.standard_normal(shape) * 3
    if kind == "ties":
        x = rng.integers(-2, 3, shape).astype(np.float64)
    elif kind == "nonfinite":
        flat = x.reshape(-1)
        picks = rng.integers(0, flat.size, max(1, flat.size // 20))
        flat[picks] = rng.choice([np.nan, np.inf, -np.inf, -0.0, 0.0], picks.size)
    elif kind == "minus_inf_columns":
        x[..., ::3] = -np.inf  # whole columns of -inf (along axis 0 of a 2-D array)
        x[..., 1::7] = np.inf
    elif kind == "wide_range":
        x = rng.standard_normal(shape) * 300  # exps underflow, to denormals too
        x.reshape(-1)[:: max(1, x.size // 50)] = -0.0
    return x.astype(dtype)


KINDS = ["random", "ties", "nonfinite", "minus_inf_columns", "wide_range"]


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", [(37, 70), (2, 200), (1000, 19), (3, 2), (600, 130)])
def test_axis0_of_row_major(rng, dtype, kind, shape):
    check_all(hostile(rng, shape, dtype, kind), 0)


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
@pytest.mark.parametrize("kind", KINDS)
def test_class_axis_of_fortran(rng, dtype, kind):
    x = np.asfortranarray(hostile(rng, (300, 45), dtype, kind))
    check_all(x, 1)
    check_all(x, -1)


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
def test_middle_axis_of_3d(rng, dtype):
    x = hostile(rng, (4, 33, 21), dtype, "nonfinite")
    check_all(x, 1)
    check_all(x, 0)
    check_all(np.asfortranarray(x), 1)  # inner = axis 0, outer = axis 2


def test_denormals_and_signed_zeros():
    tiny = np.finfo(np.float32).smallest_subnormal
    x = np.array([[-0.0, 0.0, tiny, -tiny, 1e-40], [0.0, -0.0, -tiny, tiny, -1e-40]] * 9, np.float32)
    check_all(x, 0)
    x64 = np.array([[-0.0, 5e-324, -5e-324, 1e-310]] * 9 + [[0.0, 0.0, 0.0, 0.0]], np.float64)
    check_all(x64, 0)


def test_every_special_column():
    nan, inf = np.nan, np.inf
    columns = [
        [-inf, -inf, -inf],  # softmax NaN, log_softmax NaN, logsumexp -inf
        [inf, 1.0, -inf],  # NaN, NaN, inf
        [nan, 1.0, 2.0],  # NaN throughout
        [inf, nan, 0.0],  # logsumexp NaN
        [1000.0, -inf, 1000.0],
        [-inf, 3.0, -inf],
        [-0.0, 0.0, -0.0],
        [inf, inf, 1.0],
    ]
    for dtype in (np.float32, np.float64):
        x = np.array(columns, dtype).T.copy()  # one special case per column, 3 rows
        x = np.concatenate([x] * 3, axis=1)  # 24 columns: whole registers and a partial one
        check_all(x, 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_negative_strides(rng, dtype):
    x = hostile(rng, (50, 40), dtype, "nonfinite")
    check_all(x[::-1], 0)  # rows read bottom up, in place
    check_all(x[::-2], 0)
    check_all(np.asfortranarray(x)[:, ::-1], 1)  # classes in reverse order, in place
    check_all(x[:, ::-1], 0, in_place=False)  # a reversed inner block: the copy
    check_all(np.asfortranarray(x)[::-1], 1, in_place=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layouts_that_fall_back_to_the_copy(rng, dtype):
    x = hostile(rng, (60, 50), dtype, "random")
    check_all(x[:, ::2], 0, in_place=False)  # inner block not contiguous
    check_all(x[:, :1], 0, in_place=False)  # one column: a (1, n) row view, no copy either
    check_all(np.broadcast_to(x[0], (20, 50)), 0, in_place=False)  # zero stride
    check_all(x[:1], 0, in_place=False)  # a reduced axis of one
    x3 = hostile(rng, (6, 7, 8), dtype, "random")
    check_all(x3[:, :, ::2], 1, in_place=False)
    check_all(x3[:, :, :5], 0, in_place=False)  # inner dims (7, 5 of 8) not one block
    check_all(x3[:, :, :5], 1, in_place=True)  # inner is 5 contiguous, outer of stride 56


def test_sliced_rows_read_in_place(rng):
    x = hostile(rng, (80, 64), np.float32, "random")
    check_all(x[5:70:3, 10:50], 0)  # a row stride of 3 rows, a column offset


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
def test_out_aliasing_x(rng, dtype, log):
    fn, name = (fasttopk.log_softmax, "log_softmax") if log else (fasttopk.softmax, "softmax")
    for x, axis in [
        (hostile(rng, (40, 33), dtype, "nonfinite"), 0),
        (np.asfortranarray(hostile(rng, (40, 33), dtype, "nonfinite")), 1),
        (hostile(rng, (3, 40, 17), dtype, "random"), 1),
    ]:
        want = reference(name, x, axis)
        got = fn(x, axis=axis, out=x)
        assert got is x
        assert_close(x, want, dtype)


@pytest.mark.parametrize("order", ["C", "F"])
def test_out_of_another_layout(rng, order):
    x = np.asfortranarray(hostile(rng, (40, 33), np.float32, "random"))
    out = np.zeros(x.shape, np.float32, order=order)
    assert fasttopk.softmax(x, axis=1, out=out) is out
    assert_close(out, reference("softmax", x, 1), np.float32)
    y = hostile(rng, (40, 33), np.float64, "random")
    out = np.zeros(y.shape, np.float64, order=order)
    assert fasttopk.log_softmax(y, axis=0, out=out) is out
    assert_close(out, reference("log_softmax", y, 0), np.float64)


def test_out_overlapping_x_partially_is_staged(rng):
    base = hostile(rng, (41, 30), np.float64, "random")
    x = base[:40]
    want = reference("softmax", x, 0)
    fasttopk.softmax(x, axis=0, out=base[1:])  # shifted by one row: staged, as NumPy
    assert_close(base[1:], want, np.float64)


def test_logsumexp_keepdims_and_3d(rng):
    x = hostile(rng, (5, 30, 20), np.float64, "nonfinite")
    for axis in (0, 1, -2):
        for keepdims in (False, True):
            got = fasttopk.logsumexp(x, axis=axis, keepdims=keepdims)
            assert_close(got, reference("logsumexp", x, axis, keepdims=keepdims), np.float64)
    f = np.asfortranarray(x)
    assert_close(fasttopk.logsumexp(f, axis=1), reference("logsumexp", f, 1), np.float64)


def test_tall_and_short(rng):
    check_all(hostile(rng, (20000, 3), np.float32, "random"), 0)  # tall, narrow
    check_all(hostile(rng, (3000, 300), np.float32, "random"), 0)  # blocks beyond the cache
    check_all(hostile(rng, (2, 5000), np.float32, "nonfinite"), 0)  # short, wide


def test_threads_do_not_change_results(rng):
    x = hostile(rng, (400, 3000), np.float32, "nonfinite")
    before = fasttopk.get_num_threads()
    try:
        fasttopk.set_num_threads(1)
        one = [fasttopk.softmax(x, axis=0), fasttopk.logsumexp(x, axis=0)]
        fasttopk.set_num_threads(3)
        three = [fasttopk.softmax(x, axis=0), fasttopk.logsumexp(x, axis=0)]
    finally:
        fasttopk.set_num_threads(before)
    for a, b in zip(one, three):
        np.testing.assert_array_equal(a.view(np.uint32), b.view(np.uint32))


# --- top_k_accuracy_score / true_label_rank on a Fortran y_score --------------------------------


def reference_rank(y_score, codes):
    s = np.asarray(y_score, np.float64)
    st = s[np.arange(len(codes)), codes][:, None]
    after = np.arange(s.shape[1])[None, :] > codes[:, None]
    return ((s > st) | ((s == st) & after)).sum(axis=1)


@pytest.mark.parametrize("dtype", [*FLOATS, np.int32, np.int64], ids=[*FLOAT_IDS, "int32", "int64"])
@pytest.mark.parametrize("n_samples,n_classes", [(500, 7), (37, 100), (3, 3), (1000, 3), (129, 33)])
def test_rank_of_fortran_scores(rng, dtype, n_samples, n_classes):
    y = rng.integers(0, n_classes, n_samples)
    y[:n_classes] = np.arange(min(n_classes, n_samples))
    scores = np.asfortranarray(rng.integers(-3, 4, (n_samples, n_classes)).astype(dtype))  # ties
    if n_samples >= n_classes:
        assert isinstance(reduction_view(scores, 1), Panels)
    labels = np.arange(n_classes)
    got = fasttopk.true_label_rank(y, scores, labels=labels)
    np.testing.assert_array_equal(got, reference_rank(scores, y))
    if np.dtype(dtype).itemsize > 2:
        for k in (k for k in (1, 2, 5) if k < n_classes):
            assert fasttopk.top_k_accuracy_score(y, scores, k=k, labels=labels) == pytest.approx(
                sk_top_k_accuracy_score(y, scores, k=k, labels=labels), abs=0
            )


def test_rank_of_fortran_scores_random_and_sliced(rng):
    y = rng.integers(0, 40, 3000)
    s = np.asfortranarray(rng.standard_normal((3000, 40)).astype(np.float32))
    for scores, yy in [(s, y), (s[::-1], y[::-1]), (s[100:2900:2], y[100:2900:2])]:
        for k in (1, 3, 10):
            assert fasttopk.top_k_accuracy_score(yy, scores, k=k) == sk_top_k_accuracy_score(yy, scores, k=k)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_rank_of_fortran_scores_rejects_nonfinite(rng, bad):
    y = rng.integers(0, 5, 100)
    y[:5] = np.arange(5)
    s = np.asfortranarray(rng.standard_normal((100, 5)))
    s[77, 3] = bad
    with pytest.raises(ValueError) as ours:
        fasttopk.top_k_accuracy_score(y, s, k=2)
    with pytest.raises(ValueError) as theirs:
        sk_top_k_accuracy_score(y, s, k=2)
    assert str(ours.value) == str(theirs.value)


# --- memory ------------------------------------------------------------------------------------

MB = 1 << 20


def test_in_place_path_makes_no_temporary():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2000, 5000), dtype=np.float32)  # 40 MB
    f = np.asfortranarray(x)
    # softmax: the output only (40 MB), no transposed copy besides
    for arr, axis in [(x, 0), (f, 1)]:
        _, grown = peak_growth(lambda a=arr, ax=axis: fasttopk.softmax(a, axis=ax))
        assert grown <= 1.05 * x.nbytes, f"softmax grew traced memory by {grown / MB:.1f} MB"
        _, grown = peak_growth(lambda a=arr, ax=axis: fasttopk.log_softmax(a, axis=ax, out=a))
        assert grown <= 0.01 * x.nbytes, f"log_softmax(out=x) grew by {grown / MB:.1f} MB"
        _, grown = peak_growth(lambda a=arr, ax=axis: fasttopk.logsumexp(a, axis=ax))
        assert grown <= 0.01 * x.nbytes, f"logsumexp grew traced memory by {grown / MB:.1f} MB"
    # the transposed copy is what the fall-back makes: the measurement can see it
    _, grown = peak_growth(lambda: fasttopk.logsumexp(x[:, ::-1], axis=0))
    assert grown >= 0.9 * x.nbytes
    y = rng.integers(0, 5000, 2000)
    _, grown = peak_growth(lambda: fasttopk.top_k_accuracy_score(y, f, k=5, labels=np.arange(5000)))
    assert grown <= 0.01 * x.nbytes, f"top_k_accuracy_score grew by {grown / MB:.1f} MB"
