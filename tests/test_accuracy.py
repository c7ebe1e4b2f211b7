"""top_k_accuracy_score against scikit-learn itself: values, return types, labels and k sequences."""
from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fasttopk import _ranking_metrics, top_k_accuracy_score

from accuracy_helpers import (
    LAYOUTS,
    S4,
    SCORE_DTYPES,
    SETTINGS,
    check_parity,
    label_names,
    layout,
    make_scores,
    sk_score,
)

# --- hypothesis: multiclass -----------------------------------------------------------------------


@settings(max_examples=600, **SETTINGS)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_classes=st.sampled_from([1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 70]),
    extra=st.integers(0, 20),
    cover=st.sampled_from([True, True, True, False]),
    label_kind=st.sampled_from(["int", "int", "offset", "float", "str", "uint8"]),
    labels_mode=st.sampled_from(
        [None, None, None, "exact", "superset", "permuted", "duplicate", "subset"]
    ),
    score_kind=st.sampled_from(["ties", "ties", "signed_zero", "normal"]),
    dtype=st.sampled_from(SCORE_DTYPES),
    how=st.sampled_from(LAYOUTS),
    weights=st.sampled_from([None, None, "float", "int", "zero"]),
    k=st.one_of(st.integers(1, 72), st.lists(st.integers(1, 20), min_size=1, max_size=3)),
    normalize=st.booleans(),
    as_list=st.booleans(),
)
def test_multiclass_parity(
    seed, n_classes, extra, cover, label_kind, labels_mode, score_kind, dtype, how, weights,
    k, normalize, as_list,
):
    rng = np.random.default_rng(seed)
    n_super = n_classes + (3 if labels_mode == "superset" else 0)
    names = label_names(label_kind, n_super)
    present = names[:n_classes] if labels_mode != "superset" else names[rng.permutation(n_super)[:n_classes]]
    idx = rng.integers(0, n_classes, size=extra)
    if cover or extra == 0:
        idx = rng.permutation(np.concatenate([np.arange(n_classes), idx]))
    y_true = present[idx]
    n = y_true.shape[0]
    labels = None
    n_cols = n_classes
    if labels_mode == "exact":
        labels = np.sort(present)
    elif labels_mode == "superset":
        labels, n_cols = names, n_super
    elif labels_mode == "permuted":
        labels = present[rng.permutation(n_classes)]
    elif labels_mode == "duplicate":
        labels = np.sort(np.concatenate([present, present[:1]]))
        n_cols = labels.shape[0]
    elif labels_mode == "subset":
        labels = np.sort(present)[: max(1, n_classes - 1)]
        n_cols = labels.shape[0]
    y_score = layout(make_scores(rng, n, n_cols, score_kind, dtype), how)
    sample_weight = None
    if weights == "float":
        sample_weight = rng.random(n)
    elif weights == "int":
        sample_weight = rng.integers(0, 4, n)
    elif weights == "zero":
        sample_weight = np.zeros(n)
    if as_list:
        y_true = y_true.tolist()
        labels = labels.tolist() if labels is not None else None
    check_parity(
        y_true, y_score, k=k, normalize=normalize, sample_weight=sample_weight, labels=labels
    )


# --- hypothesis: binary ---------------------------------------------------------------------------


@settings(max_examples=400, **SETTINGS)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    pair=st.sampled_from(
        [(0, 1), (3, 7), (-1, 1), ("neg", "pos"), (False, True), (0.0, 2.0), (1, 2)]
    ),
    one_class=st.sampled_from([False, False, False, True]),
    scale=st.sampled_from(["unit", "unit", "logit", "ties", "edge"]),
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.float16, bool]),
    shape=st.sampled_from(["1d", "1d", "column", "two_columns"]),
    labels_mode=st.sampled_from([None, None, "pair", "triple", "reversed"]),
    weights=st.sampled_from([None, "float", "int"]),
    k=st.one_of(st.integers(1, 3), st.lists(st.integers(1, 3), min_size=1, max_size=3)),
    normalize=st.booleans(),
)
def test_binary_parity(
    seed, n, pair, one_class, scale, dtype, shape, labels_mode, weights, k, normalize
):
    rng = np.random.default_rng(seed)
    values = np.array(pair)
    idx = rng.integers(0, 1 if one_class else 2, size=n)
    if not one_class and n >= 2:
        idx[:2] = [0, 1]
    y_true = values[idx]
    if scale == "unit":
        s = rng.random(n)
    elif scale == "logit":
        s = rng.standard_normal(n) * 3
    elif scale == "ties":
        s = rng.integers(0, 3, n) * 0.5
    else:  # exactly on the thresholds
        s = rng.choice([0.0, 0.5, 1.0], n)
    s = s.astype(dtype)
    if shape == "column":
        s = s.reshape(-1, 1)
    elif shape == "two_columns":
        s = np.stack([1 - s.astype(np.float64), s.astype(np.float64)], axis=1)
    labels = None
    if labels_mode == "pair":
        labels = np.sort(values)
    elif labels_mode == "triple":
        labels = np.sort(np.concatenate([values, values[:1]]))  # not unique, len 3
        if values.dtype.kind in "iu":
            labels = np.array(sorted(set(values.tolist()) | {99}))
    elif labels_mode == "reversed":
        labels = np.sort(values)[::-1]
    sample_weight = None
    if weights == "float":
        sample_weight = rng.random(n)
    elif weights == "int":
        sample_weight = rng.integers(1, 4, n)
    check_parity(y_true, s, k=k, normalize=normalize, sample_weight=sample_weight, labels=labels)


# --- return types and many classes ------------------------------------------------------------


def test_return_types():
    y, s = [0, 1, 2, 1], np.array(S4, dtype=np.float32)
    for kwargs in (
        {}, dict(normalize=False), dict(sample_weight=[1, 2, 3, 4]),
        dict(sample_weight=[1, 2, 3, 4], normalize=False),
    ):
        ours = top_k_accuracy_score(y, s, k=1, **kwargs)
        theirs = sk_score(y, s, k=1, **kwargs)
        assert type(ours) is type(theirs) is float
        assert ours == theirs
    seq = top_k_accuracy_score(y, s, k=(1, 2))
    assert type(seq) is np.ndarray and seq.dtype == np.float64 and seq.shape == (2,)


def test_many_classes_against_sklearn():
    rng = np.random.default_rng(4)
    for c, dtype in ((1000, np.float32), (257, np.float64), (130, np.int32), (100, np.int64)):
        s = rng.integers(0, 20, size=(1500, c)).astype(dtype)
        y = rng.permutation(np.arange(1500) % c)
        for k in (1, 5, 50):
            assert top_k_accuracy_score(y, s, k=k) == sk_score(y, s, k=k)


# --- k sequences ------------------------------------------------------------------------------------


def test_k_sequence_one_pass(monkeypatch):
    rng = np.random.default_rng(1)
    s = rng.integers(0, 4, size=(500, 20)).astype(np.float32)
    y = rng.permutation(np.arange(500) % 20)
    calls = []
    real = _ranking_metrics._core.true_label_rank

    def counting(*a):
        calls.append(1)
        return real(*a)

    monkeypatch.setattr(_ranking_metrics._core, "true_label_rank", counting)
    ks = [1, 5, 3, 20, 1, 25]
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        got = top_k_accuracy_score(y, s, k=ks)
    assert len(calls) == 1
    monkeypatch.undo()
    want = [top_k_accuracy_score(y, s, k=k) if k < 20 else 1.0 for k in ks]
    assert got.tolist() == want
    assert [str(w.message)[:9] for w in rec] == ["'k' (20) ", "'k' (25) "]
    np.testing.assert_array_equal(
        top_k_accuracy_score(y, s, k=np.array([2, 4]), normalize=False, sample_weight=np.ones(500)),
        [sk_score(y, s, k=2, normalize=False, sample_weight=np.ones(500)),
         sk_score(y, s, k=4, normalize=False, sample_weight=np.ones(500))],
    )
    assert top_k_accuracy_score(y, s, k=range(1, 3)).shape == (2,)


# --- the integer fast path gives the same classes as scikit-learn's sort ------------------------


@settings(max_examples=100, **SETTINGS)
@given(
    values=st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=6, unique=True),
    seed=st.integers(0, 2**32 - 1),
    dtype=st.sampled_from([np.int64, np.int32, np.int16, np.uint32, np.float64]),
    with_labels=st.booleans(),
)
def test_integer_labels_fast_path(values, seed, dtype, with_labels):
    rng = np.random.default_rng(seed)
    values = np.array(values)
    if np.dtype(dtype).kind == "u":
        values = np.abs(values)
    if np.dtype(dtype).itemsize < 8 or dtype is np.float64:
        values = values % 30000 - (0 if np.dtype(dtype).kind == "u" else 15000)
    values = np.unique(values).astype(dtype)
    c = values.shape[0]
    y = values[rng.permutation(np.concatenate([np.arange(c), rng.integers(0, c, 10)]))]
    s = rng.integers(0, 3, size=(y.shape[0], c)).astype(np.float64)
    labels = np.sort(values) if with_labels else None
    for k in (1, 2):
        check_parity(y, s, k=k, labels=labels)
