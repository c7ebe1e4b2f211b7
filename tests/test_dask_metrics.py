"""The metrics on Dask arrays, on the threaded scheduler: top_k_accuracy_score and
true_label_rank equal scikit-learn / the in-memory answer on the computed arrays, lazily;
TopKAccuracy.update takes Dask batches; per-class top-k accuracy against a NumPy reference.
The distributed-cluster versions are in test_dask_cluster.py."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import fasttopk

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
sklearn_metrics = pytest.importorskip("sklearn.metrics")

from fasttopk import _dask_metrics  # noqa: E402

from _dask_cases import CHUNKINGS, forbid_compute  # noqa: E402

N, C = 103, 7
NAMES = np.array(["ant", "bee", "cat", "dog", "eel", "fox", "gnu"])


@pytest.fixture
def no_compute():
    with dask.config.set(scheduler=forbid_compute):
        yield


def compute(*lazy):
    return dask.compute(*lazy, scheduler="threads")


def data(rng, n=N, c=C):
    """Scores with many ties (scikit-learn's tie rule matters), labels, weights."""
    scores = rng.integers(0, 4, (n, c)).astype(np.float32)
    scores[::7] = 1.0  # rows of equal scores
    return rng.integers(0, c, n), scores, rng.random(n)


def sk_score(y, s, k, **kw):
    if isinstance(k, list):
        return np.array([sklearn_metrics.top_k_accuracy_score(y, s, k=kk, **kw) for kk in k])
    return sklearn_metrics.top_k_accuracy_score(y, s, k=k, **kw)


def per_class_reference(y, s, k, labels, w=None):
    """Top-k recall of each class from scikit-learn's ranks, by hand."""
    codes = np.searchsorted(labels, y)
    ranks = np.array([np.sum(r > r[t]) + np.sum(r[t + 1 :] == r[t]) for r, t in zip(s, codes)])
    w = np.ones(len(y)) if w is None else w
    out = np.full(len(labels), np.nan)
    for c in range(len(labels)):
        mask = codes == c
        if mask.any():
            out[c] = np.sum(w[mask] * (ranks[mask] < k)) / np.sum(w[mask])
    return out


@pytest.mark.parametrize("chunking", list(CHUNKINGS))
def test_top_k_accuracy_equals_scikit_learn(rng, chunking, no_compute):
    y, s, w = data(rng)
    ds = da.from_array(s, chunks={"uneven": ((30, 3, 50, 20), (1, 6))}.get(chunking, CHUNKINGS[chunking]))
    dy = da.from_array(y, chunks=13)  # not aligned with the score blocks
    dw = da.from_array(w, chunks=40)
    cases = []
    for k in (1, 2, 5, [1, 3, 5]):
        for normalize in (True, False):
            cases.append((fasttopk.top_k_accuracy_score(dy, ds, k=k, normalize=normalize),
                          sk_score(y, s, k, normalize=normalize), True))
            cases.append((fasttopk.top_k_accuracy_score(dy, ds, k=k, normalize=normalize, sample_weight=dw),
                          sk_score(y, s, k, normalize=normalize, sample_weight=w), False))
    cases.append((fasttopk.top_k_accuracy_score(NAMES[y], ds, k=3),  # NumPy y_true, Dask scores
                  sk_score(NAMES[y], s, 3), True))
    cases.append((fasttopk.top_k_accuracy_score(dy, ds, k=2, labels=np.arange(C)), sk_score(y, s, 2), True))
    cases.append((fasttopk.top_k_accuracy_score(y, s, k=2, labels=da.from_array(np.arange(C))),
                  sk_score(y, s, 2), True))  # only the labels lazy
    results = compute(*[c[0] for c in cases])
    for (lazy, ref, exact), got in zip(cases, results):
        assert isinstance(lazy, da.Array) and lazy.shape == np.shape(ref)
        assert type(got) is type(ref)
        if exact:  # without weights: scikit-learn's value to the last bit
            assert np.array_equal(got, ref)
        else:
            np.testing.assert_allclose(got, ref, rtol=1e-13)


@pytest.mark.parametrize("chunking", ["rows", "both"])
def test_true_label_rank_equals_in_memory(rng, chunking, no_compute):
    y, s, _ = data(rng)
    lazy = fasttopk.true_label_rank(da.from_array(y, chunks=10), da.from_array(s, chunks=CHUNKINGS[chunking]))
    labelled = fasttopk.true_label_rank(da.from_array(NAMES[y], chunks=50), da.from_array(s, chunks=(20, 3)))
    assert isinstance(lazy, da.Array)
    got, got_named = compute(lazy, labelled)
    ref = fasttopk.true_label_rank(y, s)
    assert got.dtype == np.int64 and np.array_equal(got, ref)
    assert np.array_equal(got_named, ref)


def test_binary_scores_use_the_global_threshold(rng):
    y = rng.integers(0, 2, N)
    inside = rng.random(N)  # all in [0, 1]: threshold 0.5
    outside = inside.copy()
    outside[-1] = 1.5  # one score outside [0, 1], in the last block only: threshold 0
    for s in (inside, outside):
        ds, dy = da.from_array(s, chunks=20), da.from_array(y, chunks=20)
        acc = fasttopk.top_k_accuracy_score(dy, ds, k=1)
        ranks = fasttopk.true_label_rank(dy, ds)
        per_class = _dask_metrics.top_k_accuracy_per_class(dy, ds, k=1)
        acc, ranks, per_class = compute(acc, ranks, per_class)
        assert acc == sk_score(y, s, 1)
        assert np.array_equal(ranks, fasttopk.true_label_rank(y, s))
        ref = [np.mean(ranks[y == c] == 0) for c in (0, 1)]
        np.testing.assert_array_equal(per_class, ref)


def test_labels_none_errors_come_at_compute(rng, no_compute):
    y, s, _ = data(rng)
    y6 = np.where(y == 6, 5, y)  # class 6 never occurs: 6 classes in y_true, 7 score columns
    lazy = fasttopk.top_k_accuracy_score(da.from_array(y6, chunks=20), da.from_array(s, chunks=20))
    with pytest.raises(ValueError) as in_memory:
        sklearn_metrics.top_k_accuracy_score(y6, s)
    with pytest.raises(ValueError, match="Number of classes in 'y_true'") as lazily:
        compute(lazy)
    assert str(lazily.value) == str(in_memory.value)
    bad = s.copy()
    bad[90, 2] = np.nan
    lazy = fasttopk.top_k_accuracy_score(da.from_array(y, chunks=20), da.from_array(bad, chunks=20))
    with pytest.raises(ValueError, match="NaN"):
        compute(lazy)
    continuous = da.from_array(y + 0.5, chunks=20)
    with pytest.raises(ValueError, match="continuous"):
        compute(fasttopk.top_k_accuracy_score(continuous, da.from_array(s, chunks=20), labels=np.arange(C)))


def test_eager_errors_and_warning(rng):
    y, s, _ = data(rng)
    dy, ds = da.from_array(y, chunks=20), da.from_array(s, chunks=20)
    with pytest.raises(ValueError, match="Number of given labels"):
        fasttopk.top_k_accuracy_score(dy, ds, labels=np.arange(5))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        fasttopk.top_k_accuracy_score(dy[:-1], ds)
    with pytest.raises(ValueError, match="must be"):
        fasttopk.top_k_accuracy_score(dy, ds, k=0)
    with pytest.warns(UserWarning, match="greater than or equal to 'n_classes'"):
        lazy = fasttopk.top_k_accuracy_score(dy, ds, k=C)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning from the tasks
        assert compute(lazy)[0] == 1.0


def test_topkaccuracy_update_with_dask_batches(rng):
    y, s, w = data(rng)
    acc = fasttopk.TopKAccuracy(k=[1, 3])
    acc.update(
        da.from_array(y[:60], chunks=17), da.from_array(s[:60], chunks=(25, 4)), da.from_array(w[:60], chunks=60)
    )
    acc.update(y[60:], s[60:], w[60:])  # and an in-memory batch
    np.testing.assert_allclose(acc.result(), sk_score(y, s, [1, 3], sample_weight=w), rtol=1e-13)
    assert acc.n_samples == N
    named = fasttopk.TopKAccuracy(k=2, labels=NAMES)
    named.update(da.from_array(NAMES[y], chunks=30), da.from_array(s, chunks=30))
    assert named.result() == sk_score(NAMES[y], s, 2)
    before = named.n_samples
    bad = s.copy()
    bad[5, 5] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        named.update(da.from_array(NAMES[y], chunks=30), da.from_array(bad, chunks=30))
    assert named.n_samples == before  # a failing batch leaves the state unchanged


@pytest.mark.parametrize("weighted", [False, True])
def test_per_class_accuracy_against_numpy(rng, weighted, no_compute):
    y, s, w = data(rng)
    y = np.where(y == 4, 3, y)  # class 4 has no samples: NaN
    weights = w if weighted else None
    dw = da.from_array(w, chunks=33) if weighted else None
    lazy = _dask_metrics.top_k_accuracy_per_class(
        da.from_array(y, chunks=25), da.from_array(s, chunks=(20, 3)), k=[1, 3],
        sample_weight=dw, labels=np.arange(C))
    named = _dask_metrics.top_k_accuracy_per_class(
        da.from_array(NAMES[y], chunks=25), da.from_array(s, chunks=30), k=2, sample_weight=dw,
        labels=NAMES)
    with pytest.warns(UserWarning, match="no true samples"):
        got, got_named = compute(lazy, named)
    ref = np.stack([per_class_reference(y, s, kk, np.arange(C), weights) for kk in (1, 3)])
    assert got.shape == (2, C) and np.isnan(got[:, 4]).all()
    np.testing.assert_allclose(got, ref, rtol=1e-13)
    np.testing.assert_allclose(got_named, per_class_reference(NAMES[y], s, 2, NAMES, weights), rtol=1e-13)
    if hasattr(fasttopk, "top_k_accuracy_per_class"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            in_memory = fasttopk.top_k_accuracy_per_class(y, s, k=[1, 3], sample_weight=weights,
                                                          labels=np.arange(C))
        np.testing.assert_allclose(got, in_memory, rtol=1e-13)


@pytest.mark.skipif(not hasattr(fasttopk, "top_k_accuracy_per_class"),
                    reason="fasttopk.top_k_accuracy_per_class not merged yet")
def test_public_per_class_takes_dask_arrays(rng, no_compute):
    y, s, _ = data(rng)
    lazy = fasttopk.top_k_accuracy_per_class(da.from_array(y, chunks=25), da.from_array(s, chunks=30), k=2)
    (got,) = compute(lazy)
    np.testing.assert_allclose(got, fasttopk.top_k_accuracy_per_class(y, s, k=2), rtol=1e-13)


def test_float16_scores_are_read_as_they_are(rng):
    # The kernels read half precision in place: no widened copy of a block appears in the graph.
    y, s, _ = data(rng)
    s16 = (s / 3).astype(np.float16)
    ds = da.from_array(s16, chunks=(20, 4))
    dy = da.from_array(y, chunks=20)
    acc = fasttopk.top_k_accuracy_score(dy, ds, k=[1, 3], labels=np.arange(C))
    per_class = _dask_metrics.top_k_accuracy_per_class(dy, ds, k=2, labels=np.arange(C))
    graph = dict(dask.base.collections_to_expr([acc, per_class]).__dask_graph__())
    assert not {key for key in graph if "astype" in str(key)}
    got_acc, got_per_class = compute(acc, per_class)
    assert np.array_equal(got_acc, sk_score(y, s16, [1, 3]))
    np.testing.assert_array_equal(got_per_class, per_class_reference(y, s16.astype(np.float32), 2, np.arange(C)))
