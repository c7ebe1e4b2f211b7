"""top_k_accuracy_score / true_label_rank / TopKAccuracy against scikit-learn itself.

Parity is checked as an *outcome*: either the same value (bit for bit), the same return type
and the same warnings (class and message), or the same exception class and message.
"""
from __future__ import annotations

import gc
import math
import os
import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import fasttopk
from fasttopk import (
    TopKAccuracy,
    _param_validation,
    _ranking_metrics,
    top_k_accuracy_score,
    true_label_rank,
)

sklearn_metrics = pytest.importorskip("sklearn.metrics")
from sklearn.exceptions import UndefinedMetricWarning  # noqa: E402

sk_score = sklearn_metrics.top_k_accuracy_score

SETTINGS = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_IGNORED_WARNINGS = (RuntimeWarning, DeprecationWarning, FutureWarning)


# --- outcome helpers ---------------------------------------------------------------------------


def outcome(fn, *args, **kwargs):
    """('ok', type, value, warnings) or ('raise', type, message, warnings)."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        try:
            value = fn(*args, **kwargs)
            result = ["ok", type(value), value]
        except Exception as e:
            result = ["raise", type(e), str(e)]
    ws = [
        (w.category, str(w.message))
        for w in rec
        if not issubclass(w.category, _IGNORED_WARNINGS)
    ]
    return [*result, ws]


def same_value(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=True)
        )
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def assert_same_outcome(ours, theirs):
    assert ours[0] == theirs[0], f"ours={ours!r}\nsklearn={theirs!r}"
    assert ours[1] is theirs[1], f"ours={ours!r}\nsklearn={theirs!r}"
    if ours[0] == "ok":
        assert same_value(ours[2], theirs[2]), f"ours={ours!r}\nsklearn={theirs!r}"
    else:
        assert ours[2] == theirs[2], f"ours={ours!r}\nsklearn={theirs!r}"
    assert ours[3] == theirs[3], f"ours={ours!r}\nsklearn={theirs!r}"


def sk_sequence(y_true, y_score, ks, **kwargs):
    """What k=[...] must give: the individual scikit-learn calls as one outcome (every call's
    warnings, then the first error if any, else the array of values)."""
    values, ws, error = [], [], None
    for k in ks:
        o = outcome(sk_score, y_true, y_score, k=k, **kwargs)
        ws += o[3]
        if o[0] == "raise":
            error = error or o
        else:
            values.append(o[2])
    if error is not None:
        return ["raise", error[1], error[2], ws]
    return ["ok", np.ndarray, np.asarray(values, dtype=np.float64), ws]


def snapshot(*objs):
    return [np.array(o, copy=True) if isinstance(o, np.ndarray) else None for o in objs]


def assert_unchanged(objs, snaps):
    for o, s in zip(objs, snaps):
        if s is not None and s.dtype.kind == "O":
            assert repr(o.tolist()) == repr(s.tolist())
        elif s is not None:
            assert o.dtype == s.dtype and np.array_equal(o, s, equal_nan=s.dtype.kind in "fc")


def check_parity(y_true, y_score, **kwargs):
    """Ours vs scikit-learn (on its own copies), and the inputs left untouched."""
    objs = (y_true, y_score, kwargs.get("sample_weight"), kwargs.get("labels"))
    snaps = snapshot(*objs)
    k = kwargs.get("k", 2)
    copies = {key: (v.copy() if isinstance(v, np.ndarray) else v) for key, v in kwargs.items()}
    yt_c = y_true.copy() if isinstance(y_true, np.ndarray) else y_true
    ys_c = y_score.copy() if isinstance(y_score, np.ndarray) else y_score
    ours = outcome(top_k_accuracy_score, y_true, y_score, **kwargs)
    if isinstance(k, (list, tuple)):
        copies.pop("k")
        theirs = sk_sequence(yt_c, ys_c, k, **copies)
    else:
        theirs = outcome(sk_score, yt_c, ys_c, **copies)
    assert_same_outcome(ours, theirs)
    assert_unchanged(objs, snaps)
    try:
        event(f"{ours[0]} {ours[1].__name__}" + (" +warning" if ours[3] else ""))
    except Exception:  # outside a hypothesis test
        pass
    return ours


# --- layouts and dtypes --------------------------------------------------------------------------


def layout(a: np.ndarray, how: str) -> np.ndarray:
    """The same values in another memory layout."""
    if how == "C":
        return np.ascontiguousarray(a)
    if how == "F":
        return np.asfortranarray(a)
    if how == "rows":  # every other row of a bigger array (row stride 2x)
        big = np.zeros((2 * a.shape[0], *a.shape[1:]), dtype=a.dtype)
        big[::2] = a
        return big[::2]
    if how == "padded":  # a column slice: contiguous rows, row stride > n_classes
        big = np.zeros((a.shape[0], a.shape[1] + 3), dtype=a.dtype)
        big[:, 1 : a.shape[1] + 1] = a
        return big[:, 1 : a.shape[1] + 1]
    if how == "flipped":  # negative row stride
        return np.ascontiguousarray(a[::-1])[::-1]
    if how == "reversed":  # negative column stride
        return np.ascontiguousarray(a[:, ::-1])[:, ::-1]
    if how == "readonly":
        b = np.array(a, copy=True)
        b.flags.writeable = False
        return b
    raise AssertionError(how)


LAYOUTS = ["C", "F", "rows", "padded", "flipped", "reversed", "readonly"]
SCORE_DTYPES = [np.float64, np.float32, np.int64, np.int32]


def make_scores(rng, n, c, kind, dtype):
    if kind == "ties":  # integer-valued: heavy ties
        s = rng.integers(0, 3, size=(n, c))
    elif kind == "signed_zero":
        s = rng.integers(-1, 2, size=(n, c)) * 0.0 * rng.choice([-1.0, 1.0], size=(n, c))
        s = s + rng.integers(0, 2, size=(n, c))
    else:
        s = rng.standard_normal((n, c)) * 4
        if np.dtype(dtype).kind == "i":
            s = np.round(s)
    return s.astype(dtype)


def label_names(kind: str, n: int):
    """n distinct labels of the given kind, sorted as scikit-learn sorts them."""
    if kind == "int":
        return np.arange(n)
    if kind == "offset":
        return np.arange(n) * 3 - 5
    if kind == "float":
        return np.arange(n) * 2.0 - 1.0
    if kind == "str":
        return np.array(sorted(f"{chr(97 + (i * 7) % 26)}{i}" for i in range(n)))
    if kind == "uint8":
        return (np.arange(n) * 2 + 1).astype(np.uint8)
    raise AssertionError(kind)


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


# --- every error and warning branch of scikit-learn's function ------------------------------------

Y3 = [0, 1, 2]
S3 = np.eye(3)
S4 = [[1, 2, 3], [3, 2, 1], [1, 1, 1], [0, 0, 0]]
Y4 = [0, 1, 2, 1]
NAN3 = np.eye(3)
NAN3[1, 1] = np.nan
INF3 = np.eye(3)
INF3[1, 1] = np.inf
NINF3 = np.eye(3)
NINF3[2, 0] = -np.inf


with warnings.catch_warnings():
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    M3_COLUMN = np.matrix([[0], [1], [2]])
    M3 = np.matrix(S3)


def _sparse(a):
    sparse = pytest.importorskip("scipy.sparse")
    return sparse.csr_matrix(np.asarray(a, dtype=float))


def _ragged():
    return np.array([[0, 1], [1], [2]], dtype=object)


BRANCH_CASES = {
    # validate_params
    "k_zero": (Y3, S3, dict(k=0)),
    "k_negative": (Y3, S3, dict(k=-3)),
    "k_float": (Y3, S3, dict(k=2.0)),
    "k_none": (Y3, S3, dict(k=None)),
    "k_0d_array": (Y3, S3, dict(k=np.array(2))),
    "k_string": (Y3, S3, dict(k="2")),
    "k_bool": (Y3, S3, dict(k=True)),
    "k_numpy_int": (Y3, S3, dict(k=np.int64(2))),
    "k_numpy_uint": (Y3, S3, dict(k=np.uint8(1))),
    "k_huge": (Y3, S3, dict(k=10**30)),
    "normalize_int": (Y3, S3, dict(normalize=1)),
    "normalize_none": (Y3, S3, dict(normalize=None)),
    "normalize_np_bool": (Y3, S3, dict(normalize=np.bool_(False))),
    "y_true_scalar": (1, S3, {}),
    "y_true_string": ("abc", S3, {}),
    "y_true_none": (None, S3, {}),
    "y_score_scalar": (Y3, 1.0, {}),
    "y_score_none": (Y3, None, {}),
    "sample_weight_scalar": (Y3, S3, dict(sample_weight=1.0)),
    "sample_weight_string": (Y3, S3, dict(sample_weight="abc")),
    "labels_scalar": (Y3, S3, dict(labels=3)),
    "labels_string": (Y3, S3, dict(labels="abc")),
    # check_array / column_or_1d on y_true
    "y_true_0d": (np.array(1), S3, {}),
    "y_true_nan": ([0, 1, np.nan], S3, {}),
    "y_true_inf": ([0, 1, np.inf], S3, {}),
    "y_true_inf_f32": (np.array([0, 1, np.inf], dtype=np.float32), S3, {}),
    "y_true_inf_f16": (np.array([0, 1, np.inf], dtype=np.float16), S3, {}),
    "y_true_object_nan": (np.array(["a", "b", np.nan], dtype=object), S3, {}),
    "y_true_2d": ([[0, 1], [1, 0], [2, 2]], S3, {}),
    "y_true_row": ([[0, 1, 2]], S3, {}),
    "y_true_column": ([[0], [1], [2]], S3, {}),
    "y_true_empty": ([], S3, {}),
    "y_true_empty_column": (np.zeros((0, 1)), S3, {}),
    "y_true_no_features": (np.zeros((3, 0)), S3, {}),
    "y_true_3d": (np.zeros((2, 2, 2)), S3, {}),
    "y_true_complex": ([0, 1j, 2], S3, {}),
    "y_true_matrix": (M3_COLUMN, S3, {}),
    "y_true_sparse": (_sparse([[0], [1], [2]]), S3, {}),
    # type_of_target
    "y_true_continuous": ([0.5, 1, 2], S3, {}),
    "y_true_too_large_for_int": ([1e30, 0, 1], S3, {}),
    "y_true_unknown_object": (np.array([1, 2, None], dtype=object), S3, {}),
    "y_true_mixed_object": (["a", "b", None], S3, {}),
    "y_true_mixed_object_2": (np.array([0.5, "b", 1], dtype=object), S3, {}),
    "y_true_bytes": ([b"a", b"b", b"c"], S3, {}),
    "y_true_legacy_multilabel": (_ragged(), S3, {}),
    "y_true_multiclass_1d_score": (Y3, [0.1, 0.2, 0.3], {}),
    "y_true_binary_2d_score": ([0, 1, 1], np.ones((3, 3)), {}),
    "y_true_binary_two_columns": ([0, 1, 1], np.ones((3, 2)), dict(labels=[0, 1])),
    "labels_long_binary_to_multiclass": ([0, 1, 1], [0.1, 0.2, 0.3], dict(labels=[0, 1, 2])),
    "labels_0d_binary": ([0, 1, 1, 1], [1, 2, 3, 4], dict(labels=np.array(3))),
    # check_array on y_score
    "y_score_0d": (Y3, np.array(1.0), {}),
    "y_score_0d_nan": (Y3, np.array(np.nan), {}),
    "y_score_nan": (Y3, NAN3, {}),
    "y_score_inf": (Y3, INF3, {}),
    "y_score_neg_inf": (Y3, NINF3, {}),
    "y_score_inf_f32": (Y3, INF3.astype(np.float32), {}),
    "y_score_inf_f16": (Y3, INF3.astype(np.float16), {}),
    "y_score_nan_and_inf": (Y3, np.array([[0.1, np.inf, np.nan]] * 3), {}),
    "y_score_nan_fortran": (Y3, np.asfortranarray(NAN3), {}),
    "y_score_nan_list": (Y3, NAN3.tolist(), {}),
    "y_score_object": (Y3, np.array([[1, 2, 3]] * 3, dtype=object), {}),
    "y_score_object_none": (Y3, np.array([[1, 2, None]] * 3, dtype=object), {}),
    "y_score_strings": (Y3, np.array([["a", "b", "c"]] * 3), {}),
    "y_score_bytes": (Y3, np.array([[b"a", b"b", b"c"]] * 3), {}),
    "y_score_complex": (Y3, np.array([[1j, 2, 3]] * 3), {}),
    "y_score_3d": (Y3, np.zeros((3, 3, 1)), {}),
    "y_score_no_samples": (Y3, np.zeros((0, 3)), {}),
    "y_score_no_features": (Y3, np.zeros((3, 0)), {}),
    "y_score_empty_1d": (Y3, np.zeros((0,)), {}),
    "y_score_ragged": (Y3, [[1, 2, 3], [1, 2], [1, 2, 3]], {}),
    "y_score_matrix": (Y3, M3, {}),
    "y_score_sparse": (Y3, _sparse(S3), {}),
    "weights_sparse": (Y3, S3, dict(sample_weight=_sparse([[1, 1, 1]]))),
    "y_score_decimal_objects": (Y3, [[1, 2, __import__("decimal").Decimal(3)]] * 3, dict(k=1)),
    "y_score_bool": (Y3, np.array([[True, False, True]] * 3), {}),
    "y_score_big_endian": (Y4, np.array(S4, dtype=">f8"), dict(k=1)),
    "y_score_uint64": (Y4, np.array(S4, dtype=np.uint64), dict(k=1)),
    "y_score_int8": (Y4, np.array(S4, dtype=np.int8), dict(k=1)),
    "y_score_float16": (Y4, np.array(S4, dtype=np.float16), dict(k=1)),
    "y_score_signed_zero": (Y4, [[-0.0, 0.0, 0], [3, 2, 1], [1, 1, 1], [0, 0, 0]], dict(k=1)),
    # NaN comes before every later error, as in scikit-learn's order
    "nan_then_length": (Y3, NAN3[:2], {}),
    "nan_then_labels_count": (Y3, NAN3, dict(labels=[0, 1, 2, 3])),
    "nan_then_classes": ([0, 1, 3], NAN3, {}),
    "nan_then_binary_2d": ([0, 1, 0], NAN3, {}),
    "nan_then_weights": (Y3, NAN3, dict(sample_weight=[1, 2])),
    "nan_then_labels_binary": (Y3, NAN3, dict(labels=[0, 1])),
    "nan_no_warning": (Y3, NAN3, dict(k=5)),
    "inf_binary": ([0, 1, 0], [0.2, np.inf, 0.3], dict(k=1)),
    "nan_binary_column": ([0, 1, 0], [[0.2], [np.nan], [0.3]], dict(k=1)),
    "nan_binary_before_classes": ([0, 0, 0], [0.2, np.nan, 0.3], {}),
    # shapes and lengths
    "length_mismatch": (Y3, [[0, 1, 2]] * 3 + [[1, 1, 1]], {}),
    "length_mismatch_weights": (Y3, S3, dict(sample_weight=[1, 2])),
    "length_mismatch_scores": (Y3, S3[:2], {}),
    "weights_0d": (Y3, S3, dict(sample_weight=np.array(2.0))),
    # classes and labels
    "classes_mismatch": ([0, 1, 1, 3], np.ones((4, 4)), {}),
    "binary_one_class": ([0, 0, 0], [0.1, 0.2, 0.3], {}),
    "binary_one_label": ([0, 0, 0], [0.1, 0.2, 0.3], dict(labels=[0])),
    "labels_not_unique": (Y3, S3, dict(labels=[0, 1, 1])),
    "labels_not_ordered": (Y3, S3, dict(labels=[2, 1, 0])),
    "labels_count": (Y3, S3, dict(labels=[0, 1, 2, 3])),
    "labels_empty": (Y3, S3, dict(labels=[])),
    "labels_missing_y": ([0, 1, 5], S3, dict(labels=[0, 1, 2])),
    "labels_missing_y_str": (["a", "b", "c"], S3, dict(labels=["a", "b", "d"])),
    "labels_str_vs_int": (["a", "b", "c"], S3, dict(labels=[0, 1, 2])),
    "labels_int_vs_str": (Y3, S3, dict(labels=["0", "1", "2"])),
    "labels_float_for_int": (Y4, S4, dict(labels=[0.0, 1.0, 2.0], k=1)),
    "labels_int_for_float": ([0.0, 1.0, 2.0, 1.0], S4, dict(labels=[0, 1, 2], k=1)),
    "labels_object_ints": (Y4, S4, dict(labels=np.array([0, 1, 2], dtype=object), k=1)),
    "labels_object_mixed": (Y4, S4, dict(labels=np.array(["a", 1, 2], dtype=object), k=1)),
    "labels_object_none": (Y4, S4, dict(labels=np.array([None, 1, 2], dtype=object), k=1)),
    "labels_list_mixed": (Y4, S4, dict(labels=["a", 1, 2], k=1)),
    "labels_nan": (Y3, S3, dict(labels=[0, 1, np.nan])),
    "labels_two_nan": (Y3, S3, dict(labels=[0, np.nan, np.nan])),
    "labels_column": (Y4, S4, dict(labels=[[0], [1], [2]], k=1)),
    "labels_row": (Y3, S3, dict(labels=[[0, 1, 2]])),
    "labels_3d": (Y4, S4, dict(labels=np.zeros((2, 2, 2)), k=1)),
    "labels_no_features": (Y4, S4, dict(labels=np.zeros((3, 0)), k=1)),
    "labels_complex": (Y4, S4, dict(labels=[0j, 1, 2], k=1)),
    "labels_superset_offset": (
        [10, 11, 12, 11], [[1, 2, 3, 4], [3, 2, 1, 4], [1, 1, 1, 1], [0, 0, 0, 0]],
        dict(labels=[-5, 10, 11, 12], k=2),
    ),
    "labels_superset_missing": (
        [10, 11, 12, 11], [[1, 2, 3, 4], [3, 2, 1, 4], [1, 1, 1, 1], [0, 0, 0, 0]],
        dict(labels=[-5, 10, 11, 13], k=2),
    ),
    "labels_uint64": (
        np.array(Y4, dtype=np.uint64), S4, dict(labels=np.array([0, 1, 2], dtype=np.uint64), k=1)
    ),
    "labels_bool_for_int": ([1, 0, 1], [0.1, 0.6, 0.7], dict(labels=[False, True], k=1)),
    "labels_int_for_bool": ([True, False, True], [[1, 2, 3], [3, 2, 1], [1, 1, 1]], dict(labels=[0, 1, 2], k=1)),
    "wide_int_range": ([-10, 11, 1 << 40, 11], S4, dict(k=1)),
    "wide_int_range_labels": ([-10, 11, 1 << 40, 11], S4, dict(labels=[-10, 11, 1 << 40], k=1)),
    "uint64_big": (np.array([0, 1, 2**64 - 1, 1], dtype=np.uint64), S4, dict(k=1)),
    "y_true_float16": (np.array(Y4, dtype=np.float16), S4, dict(k=1)),
    "y_true_strings_object": (np.array(["b", "a", "c", "a"], dtype=object), S4, dict(k=1)),
    "y_true_strings_object_labels": (
        np.array(["b", "a", "c", "a"], dtype=object), S4,
        dict(k=1, labels=np.array(["a", "b", "c"], dtype=object)),
    ),
    "y_true_str_labels_object": (
        np.array(["b", "a", "c", "a"]), S4, dict(k=1, labels=np.array(["a", "b", "c"], dtype=object))
    ),
    "y_true_object_mixed_types": (np.array(["a", "b", 1, "b"], dtype=object), S4, dict(k=1)),
    # the warning
    "warn_k_eq_classes": (Y3, S3, dict(k=3)),
    "warn_k_gt_classes": (Y3, S3, dict(k=7)),
    "warn_binary": ([0, 1, 0], [0.2, 0.7, 0.1], dict(k=2)),
    "warn_np_int_k": (Y3, S3, dict(k=np.int32(4))),
    "warn_bool_k_binary": ([0, 1, 0], [0.2, 0.7, 0.1], dict(k=True)),
    "warn_then_zero_weights": (Y3, S3, dict(k=3, sample_weight=[0, 0, 0])),
    # weights (np.average / np.dot behaviour)
    "zero_weights": (Y3, S3, dict(sample_weight=[0, 0, 0])),
    "zero_weights_count": (Y3, S3, dict(sample_weight=[0, 0, 0], normalize=False)),
    "weights_column": (Y3, S3, dict(sample_weight=[[1], [1], [1]])),
    "weights_column_count": (Y3, S3, dict(sample_weight=[[1], [1], [1]], normalize=False)),
    "weights_strings": (Y3, S3, dict(sample_weight=["a", "b", "c"])),
    "weights_nan": (Y3, S3, dict(sample_weight=[1, np.nan, 1])),
    "weights_negative": (Y4, S4, dict(sample_weight=[1, -1, 1, -1], k=1)),
    "weights_row": (Y4, S4, dict(sample_weight=[[1, 2, 3, 4]], k=1)),
    "weights_2x2": (Y4, S4, dict(sample_weight=[[1, 2], [3, 4]], k=1)),
    "weights_float32_count": (Y4, S4, dict(sample_weight=np.array([1, 2, 3, 4], np.float32), normalize=False, k=1)),
    "weights_bool_count": (Y4, S4, dict(sample_weight=np.array([1, 0, 1, 1], bool), normalize=False, k=1)),
    "weights_int_count": (Y4, S4, dict(sample_weight=[1, 2, 3, 4], normalize=False, k=1)),
    # binary threshold
    "binary_unit": ([0, 1, 0], [0.2, 0.6, 0.3], dict(k=1)),
    "binary_outside_unit": ([0, 1, 0], [0.2, 0.6, 1.3], dict(k=1, sample_weight=[1, 2, 3], normalize=False)),
    "binary_negative": ([0, 1, 0], [-0.2, 0.6, 0.3], dict(k=1)),
    "binary_bool_scores": ([0, 1, 0], [True, False, True], dict(k=1)),
    "binary_int_scores": ([3, 7, 3], [-1, 0, 5], dict(k=1)),
    "binary_bool_labels": ([True, False, True], [0.1, 0.6, 0.7], dict(k=1)),
    "binary_bool_labels_given": ([True, False, True], [0.1, 0.6, 0.7], dict(k=1, labels=[False, True])),
    # label kinds
    "str_labels": (["b", "a", "c", "a"], S4, dict(k=1)),
    "str_labels_given": (["b", "a", "c", "a"], S4, dict(k=1, labels=["a", "b", "c"])),
    "offset_labels": ([10, 11, 12, 11], S4, dict(k=1)),
    "offset_labels_given": ([10, 11, 12, 11], S4, dict(k=1, labels=[10, 11, 12])),
    "uint64_labels": (np.array(Y4, dtype=np.uint64), S4, dict(k=1)),
    "column_y_true_reversed_scores": (np.array([[0, 1, 2, 1]]).T, np.array(S4)[:, ::-1], dict(k=1)),
    "strided_scores": (np.array([[0, 1]]).T, np.array(S4)[::2], dict(k=1)),
}


@pytest.mark.parametrize("case", list(BRANCH_CASES), ids=list(BRANCH_CASES))
def test_branch_parity(case):
    y_true, y_score, kwargs = BRANCH_CASES[case]
    check_parity(y_true, y_score, **kwargs)


def test_error_classes_are_sklearns():
    with pytest.raises(ValueError) as ours:
        top_k_accuracy_score(Y3, S3, k=0)
    from sklearn.utils._param_validation import InvalidParameterError

    assert type(ours.value) is InvalidParameterError
    assert isinstance(ours.value, TypeError)
    with pytest.warns(UndefinedMetricWarning):
        top_k_accuracy_score(Y3, S3, k=3)
    assert _param_validation.UndefinedMetricWarning is UndefinedMetricWarning


def test_warning_points_at_caller():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        top_k_accuracy_score(Y3, S3, k=3)
    assert rec[0].filename == __file__


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


@pytest.mark.parametrize(
    "bad", [[], [0], [1, 0], [1, 2.0], [1, None], np.array([1.0, 2.0]), np.zeros((1, 1), int), ["1"]]
)
def test_k_sequence_invalid(bad):
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="The 'k' parameter of top_k_accuracy_score must be an int"):
        top_k_accuracy_score(Y3, S3, k=bad)
    with pytest.raises(InvalidParameterError, match="'k' parameter of TopKAccuracy"):
        TopKAccuracy(k=bad)


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


# --- NaN / inf ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("how", ["C", "F", "rows", "padded"])
@pytest.mark.parametrize("where", ["true", "other", "last"])
def test_nonfinite_scores(dtype, bad, how, where):
    rng = np.random.default_rng(0)
    n, c = 37, 19
    s = rng.random((n, c))
    y = np.arange(n) % c
    i = 20
    j = {"true": y[i], "other": (y[i] + 1) % c, "last": c - 1}[where]
    s[i, j] = bad
    s = layout(s.astype(dtype), how)
    ours = check_parity(y, s, k=3)
    assert ours[0] == "raise" and ours[1] is ValueError
    with pytest.raises(ValueError):
        true_label_rank(y, s)
    acc = TopKAccuracy(k=3)
    with pytest.raises(ValueError, match="Input contains"):
        acc.update(y, s)
    assert acc.n_samples == 0
    # binary 1-D scores
    yb = np.arange(n) % 2
    sb = rng.random(n).astype(dtype)
    sb[i] = bad
    check_parity(yb, sb, k=1)


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


def test_many_classes_against_sklearn():
    rng = np.random.default_rng(4)
    for c, dtype in ((1000, np.float32), (257, np.float64), (130, np.int32), (100, np.int64)):
        s = rng.integers(0, 20, size=(1500, c)).astype(dtype)
        y = rng.permutation(np.arange(1500) % c)
        for k in (1, 5, 50):
            assert top_k_accuracy_score(y, s, k=k) == sk_score(y, s, k=k)


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


# --- no scikit-learn at run time ----------------------------------------------------------------------


def _run(code: str) -> str:
    env = dict(os.environ)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_import_does_not_import_sklearn():
    _run("import sys, fasttopk; fasttopk.top_k_accuracy_score([0,1,2],[[1,2,3]]*3)\n"
         "assert 'sklearn' not in sys.modules, 'sklearn imported'")


def test_without_sklearn_local_classes():
    out = _run(
        "import sys, warnings\n"
        "sys.modules['sklearn'] = None\n"
        "import fasttopk\n"
        "from fasttopk import _param_validation\n"
        "with warnings.catch_warnings(record=True) as rec:\n"
        "    warnings.simplefilter('always')\n"
        "    v = fasttopk.top_k_accuracy_score([0,1,2], [[1,2,3]]*3, k=3)\n"
        "W = rec[0].category\n"
        "assert W is _param_validation.UndefinedMetricWarning and issubclass(W, UserWarning), W\n"
        "assert W.__name__ == 'UndefinedMetricWarning' and v == 1.0\n"
        "try:\n"
        "    fasttopk.top_k_accuracy_score([0,1,2], [[1,2,3]]*3, k=0)\n"
        "except ValueError as e:\n"
        "    assert isinstance(e, TypeError) and type(e).__name__ == 'InvalidParameterError'\n"
        "    print(e)\n"
    )
    assert "The 'k' parameter of top_k_accuracy_score must be an int in the range [1, inf). Got 0 instead." in out


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
