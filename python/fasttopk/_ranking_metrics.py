"""scikit-learn's ``top_k_accuracy_score``, the per-sample ranks behind it and the per-class
top-k accuracy, on one SIMD pass of the core (``fasttopk._core.true_label_rank``).

Parity rules kept here (scikit-learn 1.9 is the reference; it is not imported except for its
warning and error classes, and only when a warning or a parameter error is raised):

- the same checks in the same order, so the same exception class and message come first:
  parameter validation (``_param_validation``), ``check_array``/``column_or_1d`` on
  ``y_true``, ``type_of_target``, ``check_array`` on ``y_score`` (``_metric_inputs``), the
  shape checks, ``check_consistent_length``, the class checks (``_labels``), the
  ``UndefinedMetricWarning`` for ``k >= n_classes``, then the score. The NaN/inf check on
  ``y_score`` is folded into the rank pass; when a later check fails first, the scores are
  checked for NaN/inf before that error is raised.
- the same hits (rank < k with scikit-learn's tie rule: among equal scores the higher class
  index ranks first; binary 1-D scores with k == 1 use the threshold 0.5 when every score lies
  in [0, 1], else 0; k >= 2 is a hit for binary input), reduced with the very expressions
  scikit-learn uses (``np.average``, ``np.sum``, ``np.dot``), so the value is bit for bit the
  same and the return type is ``float``.

Memory: y_score is read in place when it is float32/float64/int32/int64 (or half precision)
with a contiguous last axis (any row stride); other dtypes or layouts are converted once.
Everything else is O(n_samples + n_classes).
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from ._dask_dispatch import dask_metrics, is_dask
from ._labels import TrueLabels, validated_labels
from ._layout import Panels, aligned, reduction_view, to_core
from ._metric_inputs import (
    check_consistent_length,
    check_sample_weight,
    check_y_score,
    check_y_true,
    column_or_1d,
    nonfinite,
    raise_if_nonfinite,
)
from ._param_validation import (
    ARRAY_LIKE,
    ARRAY_LIKE_OR_NONE,
    BOOLEAN,
    K_VALUES,
    k_values,
    undefined_metric_warning,
    validate_params,
)
from ._validation import as_real_array

__all__ = [
    "Prepared",
    "binary_hits_k1",
    "binary_threshold",
    "class_sums",
    "per_class_accuracy",
    "prepare",
    "ranks",
    "top_k_accuracy_per_class",
    "top_k_accuracy_score",
    "true_label_rank",
    "warn_empty_classes",
    "warn_k",
]


class Prepared(NamedTuple):
    """The checked inputs of a one-shot metric."""

    binary: bool  # 1-D scores, threshold rule
    scores: NDArray[Any]  # binary: 1-D; multiclass: 2-D
    codes: NDArray[Any]  # int codes of y_true (int64 for multiclass)
    n_classes: int


def prepare(y_true: object, y_score: object, labels: Any, sample_weight: object) -> Prepared:
    """Every check of top_k_accuracy_score, in its order, up to (not including) the warning.
    The NaN/inf check of y_score is not made here on success (the caller's pass makes it)."""
    yt = TrueLabels(check_y_true(y_true))
    y_type = yt.type_of_target()
    if y_type == "binary" and labels is not None and len(labels) > 2:
        y_type = "multiclass"
    if y_type not in {"binary", "multiclass"}:
        raise ValueError(f"y type must be 'binary' or 'multiclass', got '{y_type}' instead.")
    checked = check_y_score(y_score)
    try:
        ys = checked
        if y_type == "binary":
            if ys.ndim == 2 and ys.shape[1] != 1:
                raise ValueError(
                    "`y_true` is binary while y_score is 2d with"
                    f" {ys.shape[1]} classes. If `y_true` does not contain all the"
                    " labels, `labels` must be provided."
                )
            ys = column_or_1d(ys)
        elif ys.ndim != 2:
            raise ValueError(
                "`y_score` needs to be of shape `(n_samples, n_classes)`, since "
                "`y_true` contains multiple classes. Got "
                f"`y_score.shape={ys.shape}`."
            )
        check_consistent_length(yt.y, ys, sample_weight)
        y_score_n_classes = ys.shape[1] if ys.ndim == 2 else 2
        if labels is None:
            n_classes = yt.n_unique()
            if n_classes != y_score_n_classes:
                raise ValueError(
                    f"Number of classes in 'y_true' ({n_classes}) not equal "
                    f"to the number of classes in 'y_score' ({y_score_n_classes})."
                    "You can provide a list of all known classes by assigning it "
                    "to the `labels` parameter."
                )
            codes = yt.encode_self()
        else:
            classes = validated_labels(labels)
            n_classes = len(classes)
            if n_classes != y_score_n_classes:
                raise ValueError(
                    f"Number of given labels ({n_classes}) not equal to the "
                    f"number of classes in 'y_score' ({y_score_n_classes})."
                )
            codes = yt.encode_with(classes)
    except Exception:
        msg = nonfinite(checked)  # scikit-learn checks y_score for NaN/inf before these
        if msg is not None:
            raise ValueError(msg) from None
        raise
    return Prepared(y_type == "binary", ys, codes, n_classes)


# --- the computation ---------------------------------------------------------------------------


def ranks(scores: NDArray[Any], codes: NDArray[Any]) -> NDArray[np.int64]:
    """One pass of the core: each sample's rank of its true class; raises on NaN/inf."""
    core = to_core(as_real_array(scores, "y_score"))
    source = reduction_view(core, 1)
    codes = aligned(np.ascontiguousarray(codes, dtype=np.int64))
    result = np.empty(core.shape[0], dtype=np.int64)
    if isinstance(source, Panels):  # a Fortran y_score: classes down the columns, in place
        finite = _core.true_label_rank_columns(source.view[0], codes, result)
    else:
        finite = _core.true_label_rank(source, codes, result)
    if not finite:
        raise_if_nonfinite(scores)
        raise ValueError("Input contains NaN.")  # not reached: the core and NumPy agree
    return result


def binary_hits_k1(
    scores: NDArray[Any], codes: NDArray[Any], threshold: float
) -> NDArray[np.bool_]:
    """Hits of binary 1-D scores for k == 1: the thresholded prediction equals the code."""
    y_pred = (scores > threshold).astype(np.int64)
    return y_pred == codes  # type: ignore[no-any-return]


def binary_threshold(scores: NDArray[Any]) -> float:
    """scikit-learn's threshold for binary scores: 0.5 when all lie in [0, 1], else 0."""
    return 0.5 if scores.min() >= 0 and scores.max() <= 1 else 0


def warn_k(ks: Sequence[Any], n_classes: int) -> None:
    """scikit-learn's UndefinedMetricWarning for each ``k >= n_classes``."""
    for k in ks:
        if k >= n_classes:
            warnings.warn(
                (
                    f"'k' ({k}) greater than or equal to 'n_classes' ({n_classes}) "
                    "will result in a perfect score and is therefore meaningless."
                ),
                undefined_metric_warning(),
                stacklevel=3,
            )


def _rank_pass(prep: Prepared) -> NDArray[np.int64] | None:
    """The ranks of multiclass input (None for binary, whose scores are checked instead)."""
    if prep.binary:
        raise_if_nonfinite(prep.scores)
        return None
    return ranks(prep.scores, prep.codes)


def _hits(prep: Prepared, true_ranks: NDArray[np.int64] | None, ks: Sequence[Any]) -> list[Any]:
    """Per k, a bool array of the hits (scikit-learn's rules, the binary one included)."""
    hits = []
    binary_k1 = None
    for kk in ks:
        if true_ranks is not None:
            hits.append(true_ranks < min(int(kk), prep.n_classes))
        elif kk == 1:
            if binary_k1 is None:
                threshold = binary_threshold(prep.scores)
                binary_k1 = binary_hits_k1(prep.scores, prep.codes, threshold)
            hits.append(binary_k1)
        else:
            hits.append(np.ones(prep.scores.shape[0], dtype=np.bool_))
    return hits


def _reduce(hits: NDArray[np.bool_], normalize: bool, sample_weight: Any) -> float:
    # scikit-learn's own expressions, for the same value to the last bit.
    if normalize and sample_weight is None and hits.size:
        # np.average's value: the float64 sum of 0/1 (an exact integer) over n; one pass.
        return int(np.count_nonzero(hits)) / int(hits.shape[0])
    if normalize:
        return float(np.average(hits, weights=sample_weight))
    elif sample_weight is None:
        return float(np.sum(hits))
    else:
        return float(np.dot(hits, sample_weight))


_SCORE_PARAMS = {
    "y_true": ARRAY_LIKE,
    "y_score": ARRAY_LIKE,
    "k": K_VALUES,
    "normalize": BOOLEAN,
    "sample_weight": ARRAY_LIKE_OR_NONE,
    "labels": ARRAY_LIKE_OR_NONE,
}


def top_k_accuracy_score(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    k: int | Sequence[int] = 2,
    normalize: bool = True,
    sample_weight: ArrayLike | None = None,
    labels: ArrayLike | None = None,
) -> Any:
    """Top-k accuracy: the share (or number) of samples whose true label is among the `k`
    highest-scored classes.

    A drop-in for ``sklearn.metrics.top_k_accuracy_score``: the same value, type (``float``),
    exceptions, messages and ``UndefinedMetricWarning``; one SIMD pass over `y_score`, read in
    place, O(n_samples) extra memory.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels (integers, floats with integer values, strings, bools).
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Scores. Binary `y_true` takes 1-D scores (of the greater label); multiclass takes one
        column per class, in the order of `labels`, or of the sorted labels of `y_true`.
    k : int or sequence of int, default=2
        Number of most likely classes considered. A sequence (``k=[1, 5]``) gives a NumPy
        float64 array of scores in that order from a single pass over `y_score`.
    normalize : bool, default=True
        True: the fraction of hits; False: the (weighted) number of hits.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    labels : array-like of shape (n_classes,), default=None
        The classes, sorted, that index the columns of `y_score`; needed when `y_true` lacks
        some class. Integer labels 0..C-1 are used as they are (an O(n) check, no sort);
        other labels are encoded by scikit-learn's rules.

    Returns
    -------
    float or ndarray of float64
        The score; an array of shape (len(k),) when `k` is a sequence.

    Notes
    -----
    Among equal scores the higher class index ranks first (scikit-learn's rule). Binary input
    with k == 1 predicts the greater label where the score exceeds 0.5 (all scores in [0, 1])
    or 0 (otherwise); k >= 2 counts every binary sample as a hit. NaN or infinite scores raise
    ValueError. float32/float64/int32/int64 scores with a contiguous last axis are read in
    place; other dtypes and layouts are converted once.

    See Also
    --------
    true_label_rank, top_k_accuracy_per_class, TopKAccuracy,
    sklearn.metrics.top_k_accuracy_score

    Examples
    --------
    >>> import numpy as np, fasttopk
    >>> y_true = np.array([0, 1, 2, 2])
    >>> y_score = np.array([[0.5, 0.2, 0.2], [0.3, 0.4, 0.2], [0.2, 0.4, 0.3], [0.7, 0.2, 0.1]])
    >>> fasttopk.top_k_accuracy_score(y_true, y_score, k=2)
    0.75
    >>> fasttopk.top_k_accuracy_score(y_true, y_score, k=[1, 2], normalize=False)
    array([2., 3.])
    """
    if is_dask(y_true, y_score, sample_weight, labels):
        return dask_metrics().top_k_accuracy_score(
            y_true, y_score, k=k, normalize=normalize, sample_weight=sample_weight, labels=labels)
    validate_params(
        "top_k_accuracy_score", _SCORE_PARAMS, y_true=y_true, y_score=y_score, k=k,
        normalize=normalize, sample_weight=sample_weight, labels=labels,
    )
    ks, scalar = k_values(k)
    prep = prepare(y_true, y_score, labels, sample_weight)
    true_ranks = _rank_pass(prep)
    warn_k(ks, prep.n_classes)
    weights = sample_weight
    if weights is not None and not scalar:
        weights = np.asanyarray(weights)  # converted once for all k (np.average would anyway)
    results = [_reduce(hits, normalize, weights) for hits in _hits(prep, true_ranks, ks)]
    if scalar:
        return results[0]
    return np.asarray(results, dtype=np.float64)


_RANK_PARAMS = {"y_true": ARRAY_LIKE, "y_score": ARRAY_LIKE, "labels": ARRAY_LIKE_OR_NONE}


def true_label_rank(
    y_true: ArrayLike, y_score: ArrayLike, *, labels: ArrayLike | None = None
) -> Any:
    """Each sample's rank of its true class: 0 when it scores highest.

    The ranking is scikit-learn's (among equal scores the higher class index ranks first), so
    ``true_label_rank(y, s) < k`` are exactly the hits of ``top_k_accuracy_score(y, s, k=k)``:
    rank(t) = #{j: s_j > s_t} + #{j > t: s_j == s_t}.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, encoded and checked as in :func:`top_k_accuracy_score` (same errors).
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Scores, as in :func:`top_k_accuracy_score`.
    labels : array-like of shape (n_classes,), default=None
        The sorted classes indexing the columns of `y_score`.

    Returns
    -------
    ndarray of int64, shape (n_samples,)
        The ranks. For binary input (1-D scores): 0 where the thresholded prediction (see
        :func:`top_k_accuracy_score`) is right, else 1.

    See Also
    --------
    top_k_accuracy_score, top_k_accuracy_per_class

    Examples
    --------
    >>> import numpy as np, fasttopk
    >>> y_score = np.array([[0.5, 0.2, 0.3], [0.3, 0.4, 0.3], [0.4, 0.2, 0.4], [0.1, 0.8, 0.1]])
    >>> fasttopk.true_label_rank([0, 2, 0, 1], y_score)
    array([0, 1, 1, 0])
    >>> fasttopk.true_label_rank(["a", "c", "a", "b"], y_score, labels=["a", "b", "c"])
    array([0, 1, 1, 0])
    """
    if is_dask(y_true, y_score, labels):
        return dask_metrics().true_label_rank(y_true, y_score, labels=labels)
    validate_params("true_label_rank", _RANK_PARAMS, y_true=y_true, y_score=y_score, labels=labels)
    prep = prepare(y_true, y_score, labels, None)
    if prep.binary:
        raise_if_nonfinite(prep.scores)
        hits = binary_hits_k1(prep.scores, prep.codes, binary_threshold(prep.scores))
        return (~hits).astype(np.int64)
    return ranks(prep.scores, prep.codes)


# --- per class ---------------------------------------------------------------------------------


def class_sums(
    codes: NDArray[np.int64], hits: Sequence[NDArray[np.bool_]], weights: Any, n_classes: int
) -> tuple[NDArray[Any], NDArray[Any]]:
    """(support, hits): per class, the number (weight) of samples and, per entry of `hits`,
    the number (weight) of those that are hits. Unweighted sums stay int64 (exact)."""
    if weights is None:
        support = np.bincount(codes, minlength=n_classes)
        per_class = [np.bincount(codes[h], minlength=n_classes) for h in hits]
    else:
        support = np.bincount(codes, weights=weights, minlength=n_classes)
        per_class = [np.bincount(codes[h], weights=weights[h], minlength=n_classes) for h in hits]
    return support, np.stack(per_class) if per_class else np.zeros((0, n_classes))


def warn_empty_classes(empty: NDArray[np.bool_], stacklevel: int, what: str) -> None:
    """The UndefinedMetricWarning naming the classes without samples (their positions)."""
    positions = np.flatnonzero(empty)
    shown = ", ".join(str(int(p)) for p in positions[:10])
    if len(positions) > 10:
        shown += ", ..."
    warnings.warn(
        f"{len(positions)} class(es) have no samples in y_true (or only zero weights), at "
        f"positions {shown} in label order: {what}",
        undefined_metric_warning(),
        stacklevel=stacklevel,
    )


def per_class_accuracy(hits: Any, support: Any, stacklevel: int) -> NDArray[np.float64]:
    """hits / support, NaN (and an UndefinedMetricWarning) where the support is 0."""
    empty = support == 0
    if empty.any():
        warn_empty_classes(empty, stacklevel + 1, "their per-class accuracy is NaN.")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.asarray(hits, dtype=np.float64) / np.asarray(support, dtype=np.float64)
    out[..., empty] = np.nan
    return out


_PER_CLASS_PARAMS = {
    "y_true": ARRAY_LIKE,
    "y_score": ARRAY_LIKE,
    "k": K_VALUES,
    "sample_weight": ARRAY_LIKE_OR_NONE,
    "labels": ARRAY_LIKE_OR_NONE,
}


def top_k_accuracy_per_class(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    k: int | Sequence[int] = 2,
    sample_weight: ArrayLike | None = None,
    labels: ArrayLike | None = None,
) -> Any:
    """Top-k accuracy of each true class: among the samples of class c, the share whose true
    label is among the `k` highest-scored classes (the top-k recall of c).

    The hits are those of :func:`top_k_accuracy_score` (scikit-learn's, its tie rule
    included), from one SIMD pass over `y_score` and a bincount per k; the inputs are checked
    as there, with the same errors. O(n_samples + n_classes) extra memory.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Scores, one column per class in the order of `labels` (or of the sorted labels of
        `y_true`); 1-D for binary targets, as in scikit-learn.
    k : int or sequence of int, default=2
        Number of most likely classes considered; a sequence gives one row per k, from one
        pass.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights: each class's accuracy is then its weighted share of hits.
    labels : array-like of shape (n_classes,), default=None
        The sorted classes indexing the columns of `y_score`.

    Returns
    -------
    ndarray of float64
        Shape (n_classes,), in label order; (len(k), n_classes) when `k` is a sequence. A class
        without samples in `y_true` (or whose weights sum to 0) gets NaN and an
        ``UndefinedMetricWarning``.

    Notes
    -----
    Among equal scores the higher class index ranks first (scikit-learn's rule), so on scores
    with ties a class may differ from other libraries' values; on tie-free scores the result
    equals torchmetrics' ``MulticlassAccuracy(top_k=k, average="none")``. The support-weighted
    mean of the result is ``top_k_accuracy_score(..., k=k)``.

    See Also
    --------
    top_k_accuracy_score, TopKAccuracy, true_label_rank

    Examples
    --------
    >>> import numpy as np, fasttopk
    >>> y_true = np.array([0, 1, 2, 2])
    >>> y_score = np.array([[0.5, 0.2, 0.3], [0.3, 0.4, 0.3], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    >>> fasttopk.top_k_accuracy_per_class(y_true, y_score, k=1)
    array([1. , 1. , 0.5])
    >>> fasttopk.top_k_accuracy_per_class(y_true, y_score, k=[1, 2])
    array([[1. , 1. , 0.5],
           [1. , 1. , 1. ]])
    """
    if is_dask(y_true, y_score, sample_weight, labels):
        return dask_metrics().top_k_accuracy_per_class(
            y_true, y_score, k=k, sample_weight=sample_weight, labels=labels
        )
    validate_params(
        "top_k_accuracy_per_class", _PER_CLASS_PARAMS, y_true=y_true, y_score=y_score, k=k,
        sample_weight=sample_weight, labels=labels,
    )
    ks, scalar = k_values(k)
    prep = prepare(y_true, y_score, labels, sample_weight)
    weights = check_sample_weight(sample_weight)
    true_ranks = _rank_pass(prep)
    warn_k(ks, prep.n_classes)
    codes = np.asarray(prep.codes, dtype=np.int64)
    support, per_class = class_sums(codes, _hits(prep, true_ranks, ks), weights, prep.n_classes)
    result = per_class_accuracy(per_class, support, stacklevel=2)
    return result[0] if scalar else result
