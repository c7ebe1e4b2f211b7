"""Every error and warning branch of scikit-learn's top_k_accuracy_score: classes, messages, order."""
from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from fasttopk import (
    TopKAccuracy,
    _param_validation,
    top_k_accuracy_score,
    true_label_rank,
)

from accuracy_helpers import (
    INF3,
    NAN3,
    S3,
    S4,
    Y3,
    UndefinedMetricWarning,
    check_parity,
    layout,
)

# --- every error and warning branch of scikit-learn's function ------------------------------------

Y4 = [0, 1, 2, 1]
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


# --- k sequences ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", [[], [0], [1, 0], [1, 2.0], [1, None], np.array([1.0, 2.0]), np.zeros((1, 1), int), ["1"]]
)
def test_k_sequence_invalid(bad):
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="The 'k' parameter of top_k_accuracy_score must be an int"):
        top_k_accuracy_score(Y3, S3, k=bad)
    with pytest.raises(InvalidParameterError, match="'k' parameter of TopKAccuracy"):
        TopKAccuracy(k=bad)


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
