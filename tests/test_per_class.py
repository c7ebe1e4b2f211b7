"""top_k_accuracy_per_class and TopKAccuracy(average=...): against a NumPy reference written
from scikit-learn's rank rule, against scikit-learn's top_k_accuracy_score (their support-weighted
mean), and against torchmetrics' MulticlassAccuracy on tie-free scores when it is installed."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.metrics
from sklearn.exceptions import UndefinedMetricWarning

import fasttopk


def sklearn_ranks(y_codes, scores):
    """rank(t) = #{j: s_j > s_t} + #{j > t: s_j == s_t} (scikit-learn's tie rule)."""
    s_t = scores[np.arange(len(y_codes)), y_codes][:, None]
    higher_index = np.arange(scores.shape[1])[None, :] > y_codes[:, None]
    return np.sum(scores > s_t, axis=1) + np.sum((scores == s_t) & higher_index, axis=1)


def reference(y_codes, scores, k, n_classes, weights=None):
    w = np.ones(len(y_codes)) if weights is None else np.asarray(weights, dtype=np.float64)
    hits = sklearn_ranks(y_codes, scores) < k
    out = np.full(n_classes, np.nan)
    for c in range(n_classes):
        mine = y_codes == c
        if w[mine].sum() != 0:
            out[c] = np.sum(w[mine] * hits[mine]) / np.sum(w[mine])
    return out


def data(rng, n=400, c=8, ties=False):
    scores = rng.integers(0, 4, (n, c)).astype(np.float64) if ties else rng.random((n, c))
    y = rng.integers(0, c, n)
    y[:c] = np.arange(c)  # every class present
    return y, scores


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.float16])
def test_against_numpy_reference(rng, ties, dtype):
    y, s = data(rng, ties=ties)
    s = s.astype(dtype) if ties or np.dtype(dtype).kind == "f" else (s * 1000).astype(dtype)
    for k in (1, 2, 3, 7, 8):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)  # k >= n_classes
            got = fasttopk.top_k_accuracy_per_class(y, s, k=k)
        np.testing.assert_allclose(got, reference(y, s.astype(np.float64), k, 8), rtol=1e-15)
        assert got.dtype == np.float64 and got.shape == (8,)


def test_several_k_in_one_call(rng):
    y, s = data(rng)
    got = fasttopk.top_k_accuracy_per_class(y, s, k=[1, 3, 5])
    assert got.shape == (3, 8)
    for row, k in zip(got, (1, 3, 5)):
        np.testing.assert_array_equal(row, fasttopk.top_k_accuracy_per_class(y, s, k=k))


def test_weights(rng):
    y, s = data(rng)
    w = rng.random(len(y)) * 3
    got = fasttopk.top_k_accuracy_per_class(y, s, k=2, sample_weight=w)
    np.testing.assert_allclose(got, reference(y, s, 2, 8, w), rtol=1e-12)
    ints = rng.integers(0, 3, len(y))
    ints[:8] = 1
    np.testing.assert_allclose(
        fasttopk.top_k_accuracy_per_class(y, s, k=2, sample_weight=ints), reference(y, s, 2, 8, ints), rtol=1e-12
    )


@pytest.mark.parametrize("ties", [False, True])
def test_support_weighted_mean_is_sklearn_score(rng, ties):
    y, s = data(rng, ties=ties)
    for k in (1, 2, 4):
        per_class = fasttopk.top_k_accuracy_per_class(y, s, k=k)
        support = np.bincount(y, minlength=8)
        assert np.isclose(per_class @ support / support.sum(), sklearn.metrics.top_k_accuracy_score(y, s, k=k))


def test_string_labels_and_label_order(rng):
    names = np.array(["ant", "bee", "cat", "dog"])
    codes = rng.integers(0, 4, 100)
    codes[:4] = np.arange(4)
    s = rng.random((100, 4))
    got = fasttopk.top_k_accuracy_per_class(names[codes], s, k=2, labels=names)
    np.testing.assert_allclose(got, reference(codes, s, 2, 4))
    got_inferred = fasttopk.top_k_accuracy_per_class(names[codes], s, k=2)  # sorted labels of y_true
    np.testing.assert_array_equal(got, got_inferred)


def test_class_without_samples_is_nan_and_warns(rng):
    y, s = data(rng)
    keep = y != 5
    with pytest.warns(UndefinedMetricWarning, match="no samples"):
        got = fasttopk.top_k_accuracy_per_class(y[keep], s[keep], k=2, labels=np.arange(8))
    assert np.isnan(got[5]) and not np.isnan(np.delete(got, 5)).any()
    np.testing.assert_allclose(np.delete(got, 5), np.delete(reference(y[keep], s[keep], 2, 8), 5))
    w = np.where(y == 3, 0.0, 1.0)  # class 3 has samples but zero weight
    with pytest.warns(UndefinedMetricWarning):
        got = fasttopk.top_k_accuracy_per_class(y, s, k=2, sample_weight=w)
    assert np.isnan(got[3])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_binary_scores(rng):
    y = rng.integers(0, 2, 200)
    s = rng.random(200)
    got = fasttopk.top_k_accuracy_per_class(y, s, k=[1, 2])
    pred = (s > 0.5).astype(int)  # scikit-learn's threshold for scores in [0, 1]
    expected_k1 = [np.mean(pred[y == c] == c) for c in (0, 1)]
    np.testing.assert_allclose(got[0], expected_k1)
    np.testing.assert_array_equal(got[1], [1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for k in (1, 2):
            score = sklearn.metrics.top_k_accuracy_score(y, s, k=k)
            assert np.isclose(got[k - 1] @ np.bincount(y) / len(y), score)


def test_same_errors_as_top_k_accuracy_score(rng):
    y, s = data(rng)
    bad = s.copy()
    bad[3, 2] = np.nan
    cases = [
        dict(y_true=y, y_score=bad),
        dict(y_true=y, y_score=s[:, :5]),
        dict(y_true=y[:10], y_score=s),
        dict(y_true=y, y_score=s, k=0),
        dict(y_true=y, y_score=s, labels=np.arange(9)),
        dict(y_true=y, y_score=s, labels=np.arange(8)[::-1]),
    ]
    for kwargs in cases:
        with pytest.raises(Exception) as ours:
            fasttopk.top_k_accuracy_per_class(**kwargs)
        with pytest.raises(Exception) as theirs:
            sklearn.metrics.top_k_accuracy_score(**kwargs)
        assert type(ours.value) is type(theirs.value), kwargs
        assert str(theirs.value).replace("top_k_accuracy_score", "") in str(ours.value).replace(
            "top_k_accuracy_per_class", ""
        )


# --- TopKAccuracy(average=...) ------------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
def test_streaming_per_class_and_macro_equal_one_shot(rng, weighted):
    y, s = data(rng, n=1000, ties=True)
    w = rng.random(len(y)) if weighted else None
    per_class = fasttopk.TopKAccuracy(k=[1, 3], labels=np.arange(8), average=None)
    macro = fasttopk.TopKAccuracy(k=3, labels=np.arange(8), average="macro")
    micro = fasttopk.TopKAccuracy(k=3, labels=np.arange(8))
    for start in range(0, 1000, 170):
        part = slice(start, start + 170)
        wp = None if w is None else w[part]
        per_class.update(y[part], s[part], sample_weight=wp)
        macro.update(y[part], s[part], sample_weight=wp)
        micro.update(y[part], s[part], sample_weight=wp)
    expected = fasttopk.top_k_accuracy_per_class(y, s, k=[1, 3], sample_weight=w)
    np.testing.assert_allclose(per_class.result(), expected, rtol=1e-12)
    assert macro.result() == pytest.approx(np.mean(expected[1]), rel=1e-12)
    assert isinstance(macro.result(), float)
    assert micro.result() == pytest.approx(sklearn.metrics.top_k_accuracy_score(y, s, k=3, sample_weight=w))


def test_merge_and_reset(rng):
    y, s = data(rng, n=600)
    a = fasttopk.TopKAccuracy(k=2, labels=np.arange(8), average=None)
    b = fasttopk.TopKAccuracy(k=2, labels=np.arange(8), average=None)
    a.update(y[:300], s[:300])
    b.update(y[300:], s[300:])
    a.merge(b)
    np.testing.assert_allclose(a.result(), fasttopk.top_k_accuracy_per_class(y, s, k=2))
    assert a.n_samples == 600 and b.n_samples == 300
    a.reset()
    with pytest.raises(ValueError, match="no samples"):
        a.result()
    empty = fasttopk.TopKAccuracy(k=2, labels=np.arange(8), average=None)
    b.merge(empty)
    expected = fasttopk.top_k_accuracy_per_class(y[300:], s[300:], k=2, labels=np.arange(8))
    np.testing.assert_allclose(b.result(), expected)
    with pytest.raises(ValueError, match="average"):
        b.merge(fasttopk.TopKAccuracy(k=2, labels=np.arange(8), average="macro"))


def test_per_class_counts_without_normalize(rng):
    y, s = data(rng)
    acc = fasttopk.TopKAccuracy(k=2, normalize=False, average=None).update(y, s)
    hits = sklearn_ranks(y, s) < 2
    np.testing.assert_array_equal(acc.result(), np.bincount(y[hits], minlength=8))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_streaming_without_labels_and_binary(rng):
    y, s = data(rng)
    acc = fasttopk.TopKAccuracy(k=1, average=None).update(y, s)  # classes 0..7 from the columns
    np.testing.assert_allclose(acc.result(), fasttopk.top_k_accuracy_per_class(y, s, k=1))
    yb, sb = rng.integers(0, 2, 100), rng.random(100)
    acc = fasttopk.TopKAccuracy(k=[1, 2], average=None).update(yb[:50], sb[:50]).update(yb[50:], sb[50:])
    np.testing.assert_allclose(acc.result(), fasttopk.top_k_accuracy_per_class(yb, sb, k=[1, 2]))


def test_macro_leaves_out_classes_without_samples(rng):
    y, s = data(rng)
    keep = y != 2
    acc = fasttopk.TopKAccuracy(k=2, labels=np.arange(8), average="macro").update(y[keep], s[keep])
    with pytest.warns(UndefinedMetricWarning, match="macro"):
        got = acc.result()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        per_class = fasttopk.top_k_accuracy_per_class(y[keep], s[keep], k=2, labels=np.arange(8))
        assert got == pytest.approx(np.nanmean(per_class))


def test_average_argument_checked():
    with pytest.raises(ValueError, match="average"):
        fasttopk.TopKAccuracy(k=2, average="weighted")
    with pytest.raises(ValueError, match="normalize"):
        fasttopk.TopKAccuracy(k=2, average="macro", normalize=False)
    assert "average=None" in repr(fasttopk.TopKAccuracy(k=2, average=None))


def test_bad_batch_leaves_state_unchanged(rng):
    y, s = data(rng)
    acc = fasttopk.TopKAccuracy(k=2, labels=np.arange(8), average=None).update(y, s)
    before = acc.result()
    bad = s.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError):
        acc.update(y, bad)
    with pytest.raises(ValueError):
        acc.update(y, s[:, :5])
    np.testing.assert_array_equal(acc.result(), before)


# --- torchmetrics -------------------------------------------------------------------------------


@pytest.mark.parametrize("n_classes,k", [(5, 1), (10, 3), (100, 5)])
def test_equals_torchmetrics_on_tie_free_scores(rng, n_classes, k):
    torch = pytest.importorskip("torch")
    classification = pytest.importorskip("torchmetrics.classification")
    scores = rng.random((2000, n_classes)).astype(np.float32)
    y = rng.integers(0, n_classes, 2000)
    y[:n_classes] = np.arange(n_classes)
    assert all(len(np.unique(row)) == n_classes for row in scores)  # no ties
    for average in ("none", "macro"):
        tm = classification.MulticlassAccuracy(num_classes=n_classes, top_k=k, average=average)
        expected = tm(torch.from_numpy(scores), torch.from_numpy(y)).numpy()
        ours = fasttopk.TopKAccuracy(k=k, labels=np.arange(n_classes), average=None if average == "none" else "macro")
        ours.update(y[:1000], scores[:1000]).update(y[1000:], scores[1000:])
        np.testing.assert_allclose(ours.result(), expected, rtol=1e-6)
        if average == "none":
            np.testing.assert_allclose(fasttopk.top_k_accuracy_per_class(y, scores, k=k), expected, rtol=1e-6)
