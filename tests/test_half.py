"""float16 and bfloat16 read by the kernels as they are (issue 8, item 3).

Widening half precision to float32 is exact and keeps order, so every order-based answer must
equal the answer on the float32 copy, and softmax must equal the float32 softmax rounded once.
torch's own answers are checked in the interop tests."""
import tracemalloc

import numpy as np
import pytest
import scipy.special
import sklearn.metrics
from hypothesis import given, settings
from hypothesis import strategies as st

import fasttopk as ftk
from fasttopk import _layout

ml_dtypes = pytest.importorskip("ml_dtypes")

HALF_DTYPES = [np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)]
HALF_IDS = ["float16", "bfloat16"]


def hostile_rows(dtype, n: int, seed: int) -> np.ndarray:
    """Rows of every kind the order rules care about, in `dtype`."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((9, n)) * 4).astype(dtype)
    x[1, :] = x[1, 0]  # all equal
    x[2, :: max(1, n // 3)] = np.nan
    x[3, n // 2] = np.inf
    x[3, 0] = -np.inf
    x[4, :] = np.where(np.arange(n) % 2 == 0, -0.0, 0.0).astype(dtype)
    x[5, :] = np.round(rng.standard_normal(n)).astype(dtype)  # many ties
    x[6, :] = np.arange(n).astype(dtype)  # ascending (ties once the dtype runs out of digits)
    x[7, :] = np.float32(6e-8) if dtype == np.float16 else np.float32(1e-40)  # denormals
    x[8, :] = np.nan
    return x


@pytest.mark.parametrize("dtype", HALF_DTYPES, ids=HALF_IDS)
@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 1000, 4099])
def test_order_answers_equal_the_float32_answers(dtype, n):
    x = hostile_rows(dtype, n, n)
    wide = x.astype(np.float32)
    np.testing.assert_array_equal(ftk.argmax(x), np.argmax(wide, axis=-1))
    np.testing.assert_array_equal(ftk.argmin(x), np.argmin(wide, axis=-1))
    np.testing.assert_array_equal(ftk.argmax(x, axis=0), np.argmax(wide, axis=0))
    for k in sorted({0, 1, min(5, n), n}):
        for largest in (True, False):
            got = ftk.topk(x, k, largest=largest)
            want = ftk.topk(wide, k, largest=largest)
            assert got.values.dtype == dtype
            np.testing.assert_array_equal(got.indices, want.indices)
            np.testing.assert_array_equal(got.values.astype(np.float32), want.values)


@pytest.mark.parametrize("dtype", HALF_DTYPES, ids=HALF_IDS)
@pytest.mark.parametrize("n", [1, 3, 8, 17, 100, 1030])
def test_softmax_is_the_float32_softmax_rounded_once(dtype, n):
    x = hostile_rows(dtype, n, 100 + n)
    for fn in (ftk.softmax, ftk.log_softmax):
        got = fn(x)
        assert got.dtype == dtype
        want = fn(x.astype(np.float32)).astype(dtype)
        np.testing.assert_array_equal(got.view(np.uint16), want.view(np.uint16))


@pytest.mark.parametrize("dtype", HALF_DTYPES, ids=HALF_IDS)
def test_softmax_close_to_scipy_in_float64(dtype):
    x = (np.random.default_rng(5).standard_normal((50, 300)) * 3).astype(dtype)
    exact = scipy.special.softmax(x.astype(np.float64), axis=-1)
    got = ftk.softmax(x).astype(np.float64)
    half_eps = 2.0**-10 if dtype == np.float16 else 2.0**-7
    np.testing.assert_allclose(got, exact, rtol=half_eps, atol=1e-7)


@pytest.mark.parametrize("dtype", HALF_DTYPES, ids=HALF_IDS)
def test_accuracy_metrics_equal_scikit_learn(dtype):
    rng = np.random.default_rng(11)
    scores = np.round(rng.standard_normal((400, 12)) * 2).astype(dtype)  # ties on purpose
    y = rng.integers(0, 12, 400)
    wide = scores.astype(np.float32)
    for k in (1, 2, 5):
        assert ftk.top_k_accuracy_score(y, scores, k=k) == sklearn.metrics.top_k_accuracy_score(
            y, wide, k=k, labels=np.arange(12)
        )
    np.testing.assert_array_equal(ftk.true_label_rank(y, scores), ftk.true_label_rank(y, wide))


@pytest.mark.parametrize("dtype", HALF_DTYPES, ids=HALF_IDS)
def test_strided_views_and_axes(dtype):
    x = hostile_rows(dtype, 40, 3)
    for view in (x[:, ::-1], x[::2], x.T, np.asfortranarray(x), x[:, 5:7]):
        wide = view.astype(np.float32)
        for axis in (0, 1, -1):
            np.testing.assert_array_equal(ftk.argmax(view, axis=axis), np.argmax(wide, axis=axis))
            k = min(3, view.shape[axis])
            np.testing.assert_array_equal(
                ftk.topk(view, k, axis=axis).indices, ftk.topk(wide, k, axis=axis).indices
            )


@settings(max_examples=60, deadline=None)
@given(
    bits=st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=70),
    which=st.sampled_from([0, 1]),
    k_frac=st.floats(0, 1),
)
def test_every_bit_pattern(bits, which, k_frac):
    # Any 16-bit pattern: NaNs with payloads, both zeros, denormals, infinities.
    x = np.array(bits, dtype=np.uint16).view(HALF_DTYPES[which])
    wide = x.astype(np.float32)
    assert ftk.argmax(x) == np.argmax(wide)
    assert ftk.argmin(x) == np.argmin(wide)
    k = round(k_frac * len(bits))
    np.testing.assert_array_equal(ftk.argtopk(x, k), ftk.argtopk(wide, k))


@pytest.mark.parametrize("dtype", HALF_DTYPES, ids=HALF_IDS)
def test_read_in_place_no_float32_copy(dtype):
    # 64 MB of half precision: a float32 copy would be 128 MB; only the outputs may appear.
    x = np.ones((2048, 16384), dtype=dtype)
    assert _layout.direct_rows(x, -1) is x
    tracemalloc.start()
    try:
        ftk.topk(x, 5)
        ftk.argmax(x)
        ftk.top_k_accuracy_score(np.zeros(2048, dtype=np.int64), x, k=5, labels=np.arange(16384))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2048 * 5 * 8 + (1 << 20), peak
    tracemalloc.start()
    try:
        out = ftk.softmax(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.dtype == dtype
    assert peak < x.nbytes + (1 << 20), peak  # the output only


def test_bfloat16_bits_marker_reads_as_bfloat16():
    # A torch bfloat16 tensor without ml_dtypes reaches the core under BFLOAT16_BITS.
    x = (np.random.default_rng(2).standard_normal((5, 37)) * 3).astype(ml_dtypes.bfloat16)
    marked = x.view(np.uint16).view(_layout.BFLOAT16_BITS)
    np.testing.assert_array_equal(ftk.argmax(marked), ftk.argmax(x))
    top = ftk.topk(marked, 4)
    assert top.values.dtype == _layout.BFLOAT16_BITS
    np.testing.assert_array_equal(top.values.view(np.uint16), ftk.topk(x, 4).values.view(np.uint16))
    np.testing.assert_array_equal(ftk.softmax(marked).view(np.uint16), ftk.softmax(x).view(np.uint16))


def test_other_void_dtypes_refused():
    with pytest.raises(TypeError, match="x"):
        ftk.argmax(np.zeros((3, 4), dtype="V2"))
    with pytest.raises(TypeError, match="x"):
        ftk.topk(np.zeros((3, 4), dtype=[("a", "<u2")]), 2)


@pytest.mark.parametrize("dtype", HALF_DTYPES, ids=HALF_IDS)
@pytest.mark.parametrize("temperature", [1.0, 0.7])
@pytest.mark.parametrize("log", [False, True])
def test_topk_softmax_is_the_float32_answer_rounded_once(dtype, temperature, log):
    x = hostile_rows(dtype, 300, 7)[[0, 1, 5, 6]]  # finite rows; NaN/inf rows are SciPy's NaN
    got = ftk.topk_softmax(x, 5, temperature=temperature, log=log)
    assert got.values.dtype == dtype
    np.testing.assert_array_equal(got.indices, ftk.topk(x, 5).indices)
    wide = x.astype(np.float32) / np.float32(temperature)
    ref = (scipy.special.log_softmax if log else scipy.special.softmax)(wide.astype(np.float64), axis=-1)
    want = np.take_along_axis(ref, got.indices, axis=1).astype(np.float32).astype(dtype)
    np.testing.assert_array_equal(got.values.view(np.uint16), want.view(np.uint16))


@pytest.mark.parametrize("dtype", HALF_DTYPES, ids=HALF_IDS)
def test_logsumexp_within_half_an_ulp(dtype):
    x = hostile_rows(dtype, 1000, 8)
    got = ftk.logsumexp(x)
    assert got.dtype == dtype
    with np.errstate(all="ignore"):
        exact = scipy.special.logsumexp(x.astype(np.float64), axis=-1)
    ulp = 2.0**-10 if dtype == np.float16 else 2.0**-7
    finite = np.isfinite(exact)
    np.testing.assert_array_equal(np.isnan(got.astype(np.float64)), np.isnan(exact))
    assert np.all(np.abs(got.astype(np.float64)[finite] - exact[finite]) <= ulp * np.abs(exact[finite]))
