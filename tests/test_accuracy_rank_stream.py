"""true_label_rank and the streaming TopKAccuracy: ranks, layouts, threads, batches and memory."""
from __future__ import annotations

import gc
import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fasttopk
from fasttopk import TopKAccuracy, top_k_accuracy_score, true_label_rank

from accuracy_helpers import (
    INF3,
    LAYOUTS,
    NAN3,
    S3,
    S4,
    SCORE_DTYPES,
    SETTINGS,
    Y3,
    UndefinedMetricWarning,
    assert_unchanged,
    label_names,
    layout,
    make_scores,
    outcome,
    sk_score,
    snapshot,
)

# --- true_label_rank ----------------------------------------------------------------------------


def reference_ranks(s: np.ndarray, codes: np.ndarray) -> np.ndarray:
    order = np.argsort(s, axis=1, kind="stable")[:, ::-1]
    return np.array([int(np.nonzero(order[i] == codes[i])[0][0]) for i in range(s.shape[0])])


@settings(max_examples=300, **SETTINGS)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 60),
    n_classes=st.sampled_from([3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 65, 129]),
    score_kind=st.sampled_from(["ties", "signed_zero", "normal"]),
    dtype=st.sampled_from([*SCORE_DTYPES, np.float16, np.int8, np.uint64, bool]),
    how=st.sampled_from(LAYOUTS),
)
def test_true_label_rank_matches_stable_argsort(seed, n, n_classes, score_kind, dtype, how):
    rng = np.random.default_rng(seed)
    base = make_scores(rng, n, n_classes, score_kind, np.float64)
    if np.dtype(dtype).kind in "ub":
        base = np.abs(base)
    s = layout(base.astype(dtype), how)
    y = rng.integers(0, n_classes, n)
    labels = np.arange(n_classes)
    snaps = snapshot(s, y)
    ranks = true_label_rank(y, s, labels=labels)
    assert ranks.dtype == np.int64 and ranks.shape == (n,)
    np.testing.assert_array_equal(ranks, reference_ranks(np.asarray(s), y))
    assert_unchanged((s, y), snaps)
    for k in (1, 2, 5):
        hits = ranks < k
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            assert float(np.mean(hits)) == sk_score(y, s, k=k, labels=labels)


def test_true_label_rank_labels_and_binary():
    y = ["b", "a", "c", "a"]
    s = np.array(S4, dtype=np.float64)
    np.testing.assert_array_equal(true_label_rank(y, s), [1, 0, 0, 2])
    np.testing.assert_array_equal(true_label_rank(y, s, labels=["a", "b", "c"]), [1, 0, 0, 2])
    # binary: 0 where the thresholded prediction is right (a top-1 hit), else 1
    yb, sb = [0, 1, 0, 1], [0.2, 0.7, 0.6, 0.4]
    r = true_label_rank(yb, sb)
    np.testing.assert_array_equal(r, [0, 0, 1, 1])
    assert float(np.mean(r < 1)) == sk_score(yb, sb, k=1)
    with pytest.raises(ValueError, match=r"Input contains NaN\."):
        true_label_rank(Y3, NAN3)
    with pytest.raises(ValueError, match="'labels' must be ordered"):
        true_label_rank(Y3, S3, labels=[2, 1, 0])
    with pytest.raises(ValueError, match="The 'y_true' parameter of true_label_rank must be"):
        true_label_rank(3, S3)


def test_padded_rows_read_in_place():
    """Rows with a stride > n_classes are read where they lie; NaN found there too."""
    rng = np.random.default_rng(7)
    base = rng.integers(0, 4, size=(3000, 40)).astype(np.float32)
    s = layout(base, "padded")
    y = np.arange(3000) % 40
    np.testing.assert_array_equal(true_label_rank(y, s), true_label_rank(y, np.ascontiguousarray(s)))
    np.testing.assert_array_equal(true_label_rank(y, s)[:300], reference_ranks(base[:300], y[:300]))
    s_nan = layout(base, "padded")
    s_nan[2999, 3] = np.nan
    with pytest.raises(ValueError, match=r"Input contains NaN\."):
        true_label_rank(y, s_nan)


# --- threads ------------------------------------------------------------------------------------


def test_thread_count_does_not_change_results():
    rng = np.random.default_rng(3)
    s = rng.integers(0, 5, size=(20000, 50)).astype(np.float32)
    y = np.arange(20000) % 50
    before = fasttopk.get_num_threads()
    try:
        fasttopk.set_num_threads(1)
        one = true_label_rank(y, s)
        fasttopk.set_num_threads(max(2, before))
        many = true_label_rank(y, s)
    finally:
        fasttopk.set_num_threads(before)
    np.testing.assert_array_equal(one, many)
    np.testing.assert_array_equal(one[:500], reference_ranks(s[:500], y[:500]))


# --- streaming --------------------------------------------------------------------------------------


def random_splits(rng, n, max_batches=6):
    cuts = np.sort(rng.integers(0, n + 1, size=rng.integers(0, max_batches)))
    edges = np.concatenate([[0], cuts, [n]])
    return list(zip(edges[:-1], edges[1:]))


@settings(max_examples=200, **SETTINGS)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 120),
    n_classes=st.sampled_from([3, 4, 9, 17, 40]),
    label_kind=st.sampled_from([None, "str", "offset"]),
    dtype=st.sampled_from(SCORE_DTYPES),
    weights=st.sampled_from([None, None, "float", "int", "some"]),
    k=st.one_of(st.integers(1, 6), st.lists(st.integers(1, 45), min_size=1, max_size=4)),
    normalize=st.booleans(),
    use_merge=st.booleans(),
)
def test_stream_equals_one_shot(seed, n, n_classes, label_kind, dtype, weights, k, normalize, use_merge):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, n_classes, n)
    s = make_scores(rng, n, n_classes, "ties", dtype)
    if label_kind is None:
        labels, y = None, codes
        sk_labels = np.arange(n_classes)
    else:
        sk_labels = label_names(label_kind, n_classes)
        labels, y = sk_labels, sk_labels[codes]
    w = None
    if weights in ("float", "some"):
        w = rng.random(n)
    elif weights == "int":
        w = rng.integers(0, 5, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        accs = [TopKAccuracy(k=k, normalize=normalize, labels=labels) for _ in range(2)]
        for i, (a, b) in enumerate(random_splits(rng, n)):
            acc = accs[i % 2] if use_merge else accs[0]
            bw = None if w is None or (weights == "some" and i % 2) else w[a:b]
            if weights == "some" and bw is None:
                w[a:b] = 1.0  # an unweighted batch counts with weight 1
            acc.update(y[a:b], s[a:b], sample_weight=bw)
        if use_merge:
            accs[0].merge(accs[1])
        ks = k if isinstance(k, list) else [k]
        want = [
            outcome(sk_score, y, s, k=kk, labels=sk_labels, normalize=normalize, sample_weight=w)
            for kk in ks
        ]
    assert accs[0].n_samples == n
    if want[0][0] == "raise":  # weights summing to zero
        assert want[0][1] is ZeroDivisionError
        with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
            accs[0].result()
        return
    got = accs[0].result()
    want = np.array([o[2] for o in want])
    if not isinstance(k, list):
        assert type(got) is float
        got = np.array([got])
    if w is None:
        np.testing.assert_array_equal(got, want)  # exact for counts
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@settings(max_examples=150, **SETTINGS)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 60),
    scale=st.sampled_from(["unit", "mixed", "logit"]),
    k=st.sampled_from([1, 2, [1, 2, 1]]),
    pair=st.sampled_from([None, ("neg", "pos")]),
)
def test_stream_binary_threshold(seed, n, scale, k, pair):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 2, n)
    codes[:2] = [0, 1]
    s = rng.random(n)
    if scale == "mixed":  # one late batch leaves [0, 1]: the threshold switches to 0 overall
        s[-1] = 1.5
    elif scale == "logit":
        s = rng.standard_normal(n)
    labels = None if pair is None else np.array(pair)
    y = codes if pair is None else labels[codes]
    acc = TopKAccuracy(k=k, labels=labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for a, b in random_splits(rng, n):
            acc.update(y[a:b], s[a:b].reshape(-1, 1) if a % 2 else s[a:b])
        ks = k if isinstance(k, list) else [k]
        want = [sk_score(y, s, k=kk) for kk in ks]
    got = acc.result()
    assert (got.tolist() if isinstance(k, list) else [got]) == want


def test_stream_merge_reset_and_state():
    rng = np.random.default_rng(5)
    s = rng.integers(0, 4, size=(300, 10)).astype(np.float32)
    y = rng.integers(0, 10, 300)
    labels = np.arange(10)
    a, b = TopKAccuracy(k=[1, 3]), TopKAccuracy(k=[1, 3])
    a.update(y[:100], s[:100])
    b.update(y[100:], s[100:])
    assert a.merge(b) is a
    want = [sk_score(y, s, k=1, labels=labels), sk_score(y, s, k=3, labels=labels)]
    assert a.result().tolist() == want
    assert b.n_samples == 200  # other unchanged
    assert a.reset() is a and a.n_samples == 0
    with pytest.raises(ValueError, match="no samples"):
        a.result()
    a.update(y, s)
    assert a.result().tolist() == want
    # merging into an empty accumulator, and an empty one into a full one
    c = TopKAccuracy(k=[1, 3]).merge(a).merge(TopKAccuracy(k=[1, 3]))
    assert c.result().tolist() == want
    # counts
    cnt = TopKAccuracy(k=3, normalize=False)
    cnt.update(y, s)
    assert cnt.result() == sk_score(y, s, k=3, normalize=False, labels=labels)
    # incompatible merges
    with pytest.raises(ValueError, match="k differs"):
        TopKAccuracy(k=2).merge(TopKAccuracy(k=3))
    with pytest.raises(ValueError, match="normalize differs"):
        TopKAccuracy(k=2).merge(TopKAccuracy(k=2, normalize=False))
    with pytest.raises(ValueError, match="labels differ"):
        TopKAccuracy(k=2, labels=[0, 1, 2]).merge(TopKAccuracy(k=2))
    with pytest.raises(ValueError, match="n_classes differs"):
        TopKAccuracy(k=2).update(y, s).merge(TopKAccuracy(k=2).update([0, 1, 2], S3))
    with pytest.raises(TypeError):
        TopKAccuracy().merge(3)


def test_stream_errors_leave_state_unchanged():
    acc = TopKAccuracy(k=2)
    acc.update([0, 1, 2], S3)
    before = acc.result()
    bad_batches = [
        (([0, 1, 5], S3), "outside 0..2"),
        ((["a", "b", "c"], S3), "needs labels="),
        (([0.5, 1, 2], S3), "continuous"),
        (([0, 1, 2], NAN3), "Input contains NaN."),
        (([0, 1, 2], INF3.astype(np.float32)), "infinity or a value too large for dtype\\('float32'\\)"),
        (([0, 1, 2], np.ones((3, 4))), "expected \\(n_samples, 3\\)"),
        (([0, 1, 2], np.ones(3)), "expected \\(n_samples, 3\\)"),
        (([0, 1], S3), "inconsistent numbers of samples"),
        (([0, 1, 2], S3, [1, 2]), "inconsistent numbers of samples"),
        (([0, 1, 2], np.zeros((3, 3, 1))), "dim 3"),
    ]
    for args, msg in bad_batches:
        with pytest.raises(ValueError, match=msg):
            acc.update(*args)
        assert acc.n_samples == 3 and acc.result() == before
    with pytest.raises(ValueError, match="2 columns"):
        TopKAccuracy().update([0, 1], np.eye(2))
    with pytest.raises(ValueError, match="at least 2 classes"):
        TopKAccuracy(labels=[0])
    with pytest.raises(ValueError, match="must be ordered"):
        TopKAccuracy(labels=[1, 0, 2])
    with pytest.raises(ValueError, match="'y_true' contains labels not in parameter 'labels'"):
        TopKAccuracy(labels=["a", "b", "c"]).update(["a", "d", "c"], S3)
    with pytest.raises(ValueError, match="The 'normalize' parameter of TopKAccuracy"):
        TopKAccuracy(normalize="yes")
    with pytest.raises(TypeError, match="at least 1 dimension"):
        TopKAccuracy().update([0], np.array(1.0))
    # empty batches are no-ops; zero weights
    acc2 = TopKAccuracy(k=1)
    acc2.update(np.zeros(0, int), np.zeros((0, 3)))
    acc2.update([0, 1, 2], S3, sample_weight=[0, 0, 0])
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
        acc2.result()


def test_stream_warns_once_per_reset():
    acc = TopKAccuracy(k=[1, 3])
    with pytest.warns(UndefinedMetricWarning, match=r"'k' \(3\) greater than or equal to 'n_classes' \(3\)"):
        acc.update([0, 1, 2], S3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        acc.update([0, 1, 2], S3)
    acc.reset()
    with pytest.warns(UndefinedMetricWarning):
        acc.update([0, 1, 2], S3)


# --- memory: O(n_samples) on a ~400 MB score matrix -------------------------------------------------


def test_memory_is_o_n_samples():
    n, c = 100_000, 1000
    rng = np.random.default_rng(6)
    s = rng.random((n, c), dtype=np.float32)  # 400 MB
    y = rng.integers(0, c, n)
    y[:c] = np.arange(c)
    try:
        budget = 64 * n + (1 << 20)
        for fn in (
            lambda: top_k_accuracy_score(y, s, k=[1, 5, 50]),
            lambda: top_k_accuracy_score(y, s, k=5, sample_weight=np.ones(n)),
            lambda: true_label_rank(y, s),
            lambda: TopKAccuracy(k=5).update(y, s).result(),
            lambda: top_k_accuracy_score(y % 999, s[:, :999], k=5, labels=np.arange(999)),
            lambda: top_k_accuracy_score(y, s[:, :999], k=5, labels=np.arange(999)),  # error path
        ):
            gc.collect()
            tracemalloc.start()
            try:
                base = tracemalloc.get_traced_memory()[0]
                tracemalloc.reset_peak()
                try:
                    fn()
                except ValueError:
                    pass
                peak = tracemalloc.get_traced_memory()[1] - base
            finally:
                tracemalloc.stop()
            assert peak < budget, f"peak {peak} bytes for n_samples={n}"
    finally:
        s = None  # frees the 400 MB now (the lambdas above share this binding)
        gc.collect()
