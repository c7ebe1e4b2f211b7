"""The metrics on Dask arrays: one pass over the scores, per-chunk partial counts combined.

- ``top_k_accuracy_score`` returns a 0-d Dask array whose ``.compute()`` is the Python float
  (a float64 array of shape (len(k),) for a sequence of k) scikit-learn gives on the computed
  arrays: each row
  block feeds a :class:`TopKAccuracy`, the accumulators are merged in a tree
  (``TopKAccuracy.merge``), and the merged one gives the score. Exactly scikit-learn's value
  without weights; to float rounding with ``sample_weight`` (sums in another order).
- ``true_label_rank`` returns a lazy int64 Dask array chunked like ``y_score``'s rows.
- ``top_k_accuracy_per_class`` returns a lazy float64 Dask array: per block, weighted
  bincounts of hits and of samples per class, summed in a tree, divided at the end.
- ``TopKAccuracy.update`` with Dask arrays computes them (update is eager by nature: it
  changes the accumulator), one pass, and merges the result.

Classes (``labels=``). Given: checked eagerly, as in memory. ``labels=None``: found lazily, as
scikit-learn finds them (sorted unique values of y_true), by a tree of per-block uniques over
``y_true`` inside the same graph: an extra pass over y_true only (n_samples labels), never over
the scores. Errors that need the data (unknown labels, NaN scores, a class count that does not
match the columns, a continuous y_true) are raised by ``.compute()``, with scikit-learn's
messages where scikit-learn would raise first. Strings and other label dtypes work.

``y_score``'s class axis may be chunked; it is merged into whole rows (the rank of the true
class needs its whole row), with rows per block re-picked so that blocks stay near Dask's
``array.chunk-size``; the data is still read once.
"""
from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from typing import Any, Callable

import dask
import dask.array as da
import numpy as np
import numpy.typing as npt

from . import _labels, _metric_inputs, _param_validation, _ranking_metrics
from ._accumulator import TopKAccuracy
from ._dask import apply_worker_thread_budget, as_dask_array
from ._dask_dispatch import is_dask
from ._layout import is_bfloat16

__all__ = ["top_k_accuracy_per_class", "top_k_accuracy_score", "true_label_rank", "update"]

_SPLIT_EVERY = 8  # partial results merged per tree node


# --- inputs -----------------------------------------------------------------------------------


def _aligned(
    y_true: Any, y_score: Any, sample_weight: Any, min_samples: int = 1
) -> tuple[da.Array, da.Array, da.Array | None]:
    """Dask arrays with the same row chunks (y_score's): y and w 1-D, the scores with their
    class axis in one chunk. The shape checks are made now (they need no data)."""
    y = as_dask_array(y_true, "y_true")
    s = as_dask_array(y_score, "y_score")
    w = None if sample_weight is None else as_dask_array(sample_weight, "sample_weight")
    for arr in (y, s):
        if arr.ndim >= 3:
            raise ValueError(f"Found array with dim {arr.ndim}, while dim <= 2 is required.")
    _metric_inputs.num_samples(s)  # a 0-d y_score: scikit-learn's TypeError
    _metric_inputs.check_min_samples_features(y, min_samples)
    _metric_inputs.check_min_samples_features(s, min_samples)
    if (y.ndim == 2 and y.shape[1] != 1) or y.ndim == 0:
        raise ValueError(f"y should be a 1d array, got an array of shape {y.shape} instead.")
    if w is not None and (w.ndim == 0 or w.ndim > 2 or (w.ndim == 2 and w.shape[1] != 1)):
        raise ValueError(f"sample_weight should be a 1d array, got shape {w.shape}")
    y = y.reshape(-1)
    w = None if w is None else w.reshape(-1)
    _metric_inputs.check_consistent_length(y, s, w)
    if s.dtype.kind not in "biuf" and not is_bfloat16(s.dtype):
        raise TypeError(f"y_score must hold real numbers, got dtype {s.dtype}")
    # float16 and bfloat16 blocks go to the kernels as they are (read in place, widened in
    # registers); other dtypes are converted per block by the in-memory functions.
    if s.ndim == 2 and s.numblocks[1] > 1:
        # whole rows (a rank needs its row); rows per block re-picked so that a merged block
        # stays near Dask's array.chunk-size instead of n_rows_block x n_classes
        s = s.rechunk({0: "auto", 1: -1})
    rows = s.chunks[0]
    y = y.rechunk((rows,))
    w = None if w is None else w.rechunk((rows,))
    return y, s, w


def _row_blocks(y: da.Array, s: da.Array, w: da.Array | None) -> list[tuple[Any, Any, Any]]:
    """(y, scores, weights) delayed blocks, one triple per row block."""
    yb = y.to_delayed().ravel()
    sb = s.to_delayed().ravel()
    wb = [None] * len(yb) if w is None else w.to_delayed().ravel()
    return list(zip(yb, sb, wb))


def _n_score_classes(s: da.Array) -> int:
    return int(s.shape[1]) if s.ndim == 2 else 2


def _block_uniques(y: Any) -> Any:
    return _labels.unique(np.asarray(y)) if len(y) else np.asarray(y)[:0]


def _inferred_classes(parts: Sequence[npt.NDArray[Any]], score_ndim: int, score_cols: int) -> Any:
    """scikit-learn's classes (sorted unique y_true) and its checks on them, in its order."""
    values = np.concatenate(parts) if len(parts) > 1 else parts[0]
    classes = _labels.unique(values)
    y_type = _labels.TrueLabels(classes).type_of_target()  # on the uniques: the same type as on y
    if y_type not in ("binary", "multiclass"):
        raise ValueError(f"y type must be 'binary' or 'multiclass', got '{y_type}' instead.")
    if y_type == "binary" and score_ndim == 2 and score_cols != 1:
        raise ValueError(
            "`y_true` is binary while y_score is 2d with"
            f" {score_cols} classes. If `y_true` does not contain all the"
            " labels, `labels` must be provided."
        )
    if y_type == "multiclass" and score_ndim != 2:
        raise ValueError(
            "`y_score` needs to be of shape `(n_samples, n_classes)`, since "
            "`y_true` contains multiple classes. Got "
            f"`y_score.shape=({score_cols},)`."
        )
    n_score = score_cols if score_ndim == 2 else 2
    if len(classes) != n_score:
        raise ValueError(
            f"Number of classes in 'y_true' ({len(classes)}) not equal "
            f"to the number of classes in 'y_score' ({n_score})."
            "You can provide a list of all known classes by assigning it "
            "to the `labels` parameter."
        )
    return classes


def _given_classes(labels: Any, n_score: int) -> Any:
    classes = _labels.validated_labels(labels)
    if len(classes) != n_score:
        raise ValueError(
            f"Number of given labels ({len(classes)}) not equal to the "
            f"number of classes in 'y_score' ({n_score})."
        )
    return classes


def _classes(y: da.Array, s: da.Array, labels: Any) -> Any:
    """The sorted classes: an ndarray when given, else a Delayed found from y_true."""
    if labels is None:
        uniques = [dask.delayed(_block_uniques)(b) for b in y.to_delayed().ravel()]
        while len(uniques) > _SPLIT_EVERY:
            uniques = [
                dask.delayed(_merged_uniques)(uniques[i : i + _SPLIT_EVERY])
                for i in range(0, len(uniques), _SPLIT_EVERY)
            ]
        return dask.delayed(_inferred_classes)(uniques, s.ndim, s.shape[-1])
    if is_dask(labels):
        return dask.delayed(_given_classes)(labels, _n_score_classes(s))
    return _given_classes(labels, _n_score_classes(s))


def _merged_uniques(parts: Sequence[npt.NDArray[Any]]) -> Any:
    return _labels.unique(np.concatenate(parts))


def _check_block_y_type(y: Any) -> None:
    """scikit-learn's type_of_target error for y_true, per block (labels given)."""
    if len(y):
        y_type = _labels.TrueLabels(np.asarray(y)).type_of_target()
        if y_type not in ("binary", "multiclass"):
            raise ValueError(f"y type must be 'binary' or 'multiclass', got '{y_type}' instead.")


def _tree(parts: list[Any], combine: Callable[[list[Any]], Any]) -> Any:
    while len(parts) > 1:
        parts = [
            dask.delayed(combine)(parts[i : i + _SPLIT_EVERY])
            for i in range(0, len(parts), _SPLIT_EVERY)
        ]
    return parts[0]


# --- top_k_accuracy_score and TopKAccuracy.update -------------------------------------------


def _block_accumulator(template: Any, y: Any, s: Any, w: Any, check_type: bool) -> Any:
    apply_worker_thread_budget()
    if check_type:
        _check_block_y_type(y)
    acc = copy.deepcopy(template)
    acc._warned = True  # the k >= n_classes warning is given once, by the caller
    return acc.update(y, s, w)


def _block_accumulator_with_classes(
    template_args: tuple[Any, bool], classes: Any, y: Any, s: Any, w: Any, check_type: bool
) -> Any:
    k, normalize = template_args
    template = TopKAccuracy(k, normalize=normalize, labels=classes)
    return _block_accumulator(template, y, s, w, check_type)


def _merged_accumulators(accs: list[Any]) -> Any:
    total = copy.deepcopy(accs[0])
    for acc in accs[1:]:
        total.merge(acc)
    return total


def _accuracy_result(acc: Any) -> Any:
    return acc.result()


def top_k_accuracy_score(
    y_true: Any, y_score: Any, *, k: Any = 2, normalize: bool = True, sample_weight: Any = None, labels: Any = None
) -> da.Array:
    """Lazy :func:`fasttopk.top_k_accuracy_score` of Dask arrays, in one pass.

    Each row block feeds a :class:`fasttopk.TopKAccuracy`; the accumulators are merged in a
    tree. Without `labels`, the classes are found lazily from `y_true` alone.

    Parameters
    ----------
    y_true : dask.array.Array or array_like of shape (n_samples,)
        True labels.
    y_score : dask.array.Array or array_like of shape (n_samples,) or (n_samples, n_classes)
        Scores; the class axis may be chunked (it is merged into whole rows).
    k : int or sequence of int, default 2
        Top-k of each sample counts as a hit; a sequence gives one score per k.
    normalize : bool, default True
        The fraction of hits (True) or their (weighted) count.
    sample_weight : dask.array.Array or array_like of shape (n_samples,), default None
        Weight of each sample.
    labels : array_like of shape (n_classes,), default None
        The classes, in the order of `y_score`'s columns; None: the sorted unique `y_true`.

    Returns
    -------
    dask.array.Array
        0-d float64 (shape ``(len(k),)`` for a sequence of k); its ``.compute()`` is
        scikit-learn's value on the computed arrays: exactly without weights, to float
        rounding with `sample_weight` (sums in another order).

    Raises
    ------
    ValueError, TypeError
        scikit-learn's errors: those that need no data at once, the others (unknown labels,
        NaN scores, a class count that does not match) from ``.compute()``.

    See Also
    --------
    fasttopk.top_k_accuracy_score : the in-memory function.
    sklearn.metrics.top_k_accuracy_score : the reference.

    Examples
    --------
    >>> import dask.array as da
    >>> import fasttopk
    >>> y_true = da.from_array([0, 1, 2, 2], chunks=2)
    >>> y_score = da.from_array([[0.5, 0.2, 0.2], [0.3, 0.4, 0.2], [0.2, 0.4, 0.3],
    ...                          [0.7, 0.2, 0.1]], chunks=2)
    >>> fasttopk.top_k_accuracy_score(y_true, y_score, k=2).compute(scheduler="synchronous")
    0.75
    """
    caller = "top_k_accuracy_score"
    _param_validation.check_arraylike(caller, "y_true", y_true, allow_none=False)
    _param_validation.check_arraylike(caller, "y_score", y_score, allow_none=False)
    ks, scalar = _param_validation.parse_k(caller, k)
    _param_validation.check_bool(caller, "normalize", normalize)
    _param_validation.check_arraylike(caller, "sample_weight", sample_weight, allow_none=True)
    _param_validation.check_arraylike(caller, "labels", labels, allow_none=True)
    y, s, w = _aligned(y_true, y_score, sample_weight)
    classes = _classes(y, s, labels)
    _ranking_metrics.warn_k(ks, _n_score_classes(s))
    parts = [
        dask.delayed(_block_accumulator_with_classes)((k, normalize), classes, yb, sb, wb,
                                                       labels is not None)
        for yb, sb, wb in _row_blocks(y, s, w)
    ]
    result = dask.delayed(_accuracy_result)(_tree(parts, _merged_accumulators))
    # A Dask array, not the Delayed itself: dask.compute(delayed, array, delayed) returns its
    # results out of order in dask 2026.8; arrays mixed with arrays do not.
    return da.from_delayed(result, () if scalar else (len(ks),), dtype=np.float64)


def update(acc: Any, y_true: Any, y_score: Any, sample_weight: Any = None) -> Any:
    """``TopKAccuracy.update`` with Dask arrays, computed now.

    An update changes the accumulator, so it cannot be lazy: the batch's accumulator is
    computed (one pass over the blocks, on the current scheduler) and merged.

    Parameters
    ----------
    acc : fasttopk.TopKAccuracy
        The accumulator to update; unchanged if the computation raises.
    y_true : dask.array.Array or array_like of shape (n_samples,)
        True labels of the batch.
    y_score : dask.array.Array or array_like of shape (n_samples,) or (n_samples, n_classes)
        Scores of the batch.
    sample_weight : dask.array.Array or array_like of shape (n_samples,), default None
        Weight of each sample.

    Returns
    -------
    fasttopk.TopKAccuracy
        `acc`, updated.

    See Also
    --------
    fasttopk.TopKAccuracy.update : the in-memory update.

    Examples
    --------
    >>> import dask
    >>> import dask.array as da
    >>> import fasttopk
    >>> acc = fasttopk.TopKAccuracy(k=1, labels=[0, 1, 2])
    >>> with dask.config.set(scheduler="synchronous"):
    ...     _ = acc.update(da.from_array([0, 2], chunks=1),
    ...                    da.from_array([[0.6, 0.3, 0.1], [0.5, 0.1, 0.4]], chunks=1))
    >>> acc.result()
    0.5
    """
    caller = "TopKAccuracy.update"
    _param_validation.check_arraylike(caller, "y_true", y_true, allow_none=False)
    _param_validation.check_arraylike(caller, "y_score", y_score, allow_none=False)
    _param_validation.check_arraylike(caller, "sample_weight", sample_weight, allow_none=True)
    y, s, w = _aligned(y_true, y_score, sample_weight, min_samples=0)
    template = copy.deepcopy(acc).reset()
    parts = [
        dask.delayed(_block_accumulator)(template, yb, sb, wb, False)
        for yb, sb, wb in _row_blocks(y, s, w)
    ]
    if not parts:
        return acc
    (batch,) = dask.compute(_tree(parts, _merged_accumulators))
    if not acc._warned and batch._n_classes is not None:
        _ranking_metrics.warn_k(acc._ks, batch._n_classes)
    return acc.merge(batch)


# --- true_label_rank ------------------------------------------------------------------------


def _block_codes(y: Any, classes: Any) -> Any:
    yt = _labels.TrueLabels(np.asarray(y))
    yt.read_integers()
    return yt.encode_with(classes)


def _block_ranks(y: Any, s: npt.NDArray[Any], classes: Any, threshold: float | None) -> Any:
    apply_worker_thread_budget()
    if len(y) == 0:
        return np.empty(0, dtype=np.int64)
    if s.ndim == 1:  # binary: the thresholded prediction, threshold from all the scores
        _metric_inputs.raise_if_nonfinite(s)
        assert threshold is not None  # true_label_rank passes one for 1-D scores
        return (~_ranking_metrics.binary_hits_k1(s, _block_codes(y, classes), threshold)).astype(np.int64)
    return _ranking_metrics.true_label_rank(y, s, labels=classes)


def _binary_threshold(s: da.Array) -> Any:
    """scikit-learn's threshold for 1-D binary scores, lazily from all of them."""
    return dask.delayed(_ranking_metrics.binary_threshold)(da.stack([s.min(), s.max()]))


def true_label_rank(y_true: Any, y_score: Any, *, labels: Any = None) -> da.Array:
    """Lazy :func:`fasttopk.true_label_rank` of Dask arrays: int64, chunked like the rows.

    Parameters
    ----------
    y_true : dask.array.Array or array_like of shape (n_samples,)
        True labels.
    y_score : dask.array.Array or array_like of shape (n_samples,) or (n_samples, n_classes)
        Scores.
    labels : array_like of shape (n_classes,), default None
        The classes, in the order of `y_score`'s columns; None: the sorted unique `y_true`.

    Returns
    -------
    dask.array.Array
        Lazy int64 ranks of shape (n_samples,): 0 when the true class is ranked first, in
        scikit-learn's order (among equal scores the higher class index first).

    See Also
    --------
    fasttopk.true_label_rank : the in-memory function.

    Examples
    --------
    >>> import dask.array as da
    >>> import fasttopk
    >>> y_score = da.from_array([[0.5, 0.2, 0.3], [0.3, 0.3, 0.4]], chunks=1)
    >>> fasttopk.true_label_rank([1, 0], y_score, labels=[0, 1, 2]).compute(scheduler="synchronous")
    array([2, 2])
    """
    caller = "true_label_rank"
    _param_validation.check_arraylike(caller, "y_true", y_true, allow_none=False)
    _param_validation.check_arraylike(caller, "y_score", y_score, allow_none=False)
    _param_validation.check_arraylike(caller, "labels", labels, allow_none=True)
    y, s, _ = _aligned(y_true, y_score, None)
    classes = _classes(y, s, labels)
    threshold = _binary_threshold(s) if s.ndim == 1 else None
    score_index = "ij" if s.ndim == 2 else "i"
    return da.blockwise(
        _block_ranks, "i", y, "i", s, score_index, classes, None, threshold, None,
        dtype=np.int64, concatenate=True, meta=np.empty(0, np.int64),
    )


# --- top_k_accuracy_per_class -------------------------------------------------------------


def _block_class_counts(y: Any, s: npt.NDArray[Any], w: Any, classes: Any, ks: Sequence[int]) -> dict[str, Any]:
    """Per class: samples (weighted) and hits (weighted) for each k; binary scores count the
    hits at both thresholds and the score range that picks one at the end."""
    apply_worker_thread_budget()
    n_classes = len(classes)
    y = np.asarray(y)
    if len(y) == 0:
        zeros = np.zeros(n_classes)
        return {"support": zeros, "hits": [zeros] * len(ks), "binary": [zeros] * 2,
                "range": (np.inf, -np.inf)}
    _check_block_y_type(y)
    codes = _block_codes(y, classes)
    weights = None if w is None else np.asarray(w, dtype=np.float64)

    def per_class(mask: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[np.float64]:
        if mask is None:
            return np.bincount(codes, weights=weights, minlength=n_classes).astype(np.float64)
        sub = None if weights is None else weights[mask]
        return np.bincount(codes[mask], weights=sub, minlength=n_classes).astype(np.float64)

    counts: dict[str, Any] = {"support": per_class(), "range": (np.inf, -np.inf)}
    if s.ndim == 1:
        _metric_inputs.raise_if_nonfinite(s)
        counts["binary"] = [per_class(_ranking_metrics.binary_hits_k1(s, codes, t)) for t in (0.5, 0)]
        counts["range"] = (float(s.min()), float(s.max()))
        counts["hits"] = [counts["support"]] * len(ks)  # k >= 2: every binary sample hits
    else:
        ranks = _ranking_metrics.ranks(s, codes)
        counts["hits"] = [per_class(ranks < min(int(kk), n_classes)) for kk in ks]
        counts["binary"] = [np.zeros(n_classes)] * 2
    return counts


def _summed_counts(parts: list[dict[str, Any]]) -> dict[str, Any]:
    total = {
        "support": sum(p["support"] for p in parts),
        "hits": [sum(p["hits"][i] for p in parts) for i in range(len(parts[0]["hits"]))],
        "binary": [sum(p["binary"][i] for p in parts) for i in range(2)],
        "range": (min(p["range"][0] for p in parts), max(p["range"][1] for p in parts)),
    }
    return total


def _per_class_result(
    counts: dict[str, Any], ks: Sequence[int], scalar: bool, binary: bool
) -> npt.NDArray[np.float64]:
    support = counts["support"]
    rows = []
    for i, kk in enumerate(ks):
        hits = counts["hits"][i]
        if binary and kk == 1:
            lo, hi = counts["range"]
            hits = counts["binary"][0 if (lo >= 0 and hi <= 1) else 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            rows.append(np.where(support > 0, hits / np.where(support > 0, support, 1), np.nan))
    if np.any(support == 0):
        warnings.warn(
            "Some classes have no true samples: their top-k accuracy is NaN.",
            _param_validation.undefined_metric_warning(),
            stacklevel=2,
        )
    return rows[0] if scalar else np.stack(rows)


def top_k_accuracy_per_class(
    y_true: Any, y_score: Any, *, k: Any = 2, sample_weight: Any = None, labels: Any = None
) -> da.Array:
    """Lazy :func:`fasttopk.top_k_accuracy_per_class` of Dask arrays, in one pass.

    Per block, weighted bincounts of hits and of samples per class, summed in a tree and
    divided at the end.

    Parameters
    ----------
    y_true : dask.array.Array or array_like of shape (n_samples,)
        True labels.
    y_score : dask.array.Array or array_like of shape (n_samples,) or (n_samples, n_classes)
        Scores.
    k : int or sequence of int, default 2
        Top-k of each sample counts as a hit; a sequence gives one row per k.
    sample_weight : dask.array.Array or array_like of shape (n_samples,), default None
        Weight of each sample.
    labels : array_like of shape (n_classes,), default None
        The classes, in the order of `y_score`'s columns; None: the sorted unique `y_true`.

    Returns
    -------
    dask.array.Array
        Lazy float64 top-k recall of each class, in label order, of shape (n_classes,)
        (``(len(k), n_classes)`` for a sequence of k); NaN for a class without samples,
        with an UndefinedMetricWarning where the final task runs.

    See Also
    --------
    fasttopk.top_k_accuracy_per_class : the in-memory function.

    Examples
    --------
    >>> import dask.array as da
    >>> import fasttopk
    >>> y_score = da.from_array([[0.5, 0.2, 0.3], [0.3, 0.3, 0.4], [0.1, 0.1, 0.8]], chunks=1)
    >>> result = fasttopk.top_k_accuracy_per_class([0, 0, 2], y_score, k=1, labels=[0, 1, 2])
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # class 1 has no samples: NaN and a warning
    ...     result.compute(scheduler="synchronous")
    array([0.5, nan, 1. ])
    """
    caller = "top_k_accuracy_per_class"
    _param_validation.check_arraylike(caller, "y_true", y_true, allow_none=False)
    _param_validation.check_arraylike(caller, "y_score", y_score, allow_none=False)
    ks, scalar = _param_validation.parse_k(caller, k)
    _param_validation.check_arraylike(caller, "sample_weight", sample_weight, allow_none=True)
    _param_validation.check_arraylike(caller, "labels", labels, allow_none=True)
    y, s, w = _aligned(y_true, y_score, sample_weight)
    classes = _classes(y, s, labels)
    _ranking_metrics.warn_k(ks, _n_score_classes(s))
    parts = [
        dask.delayed(_block_class_counts)(yb, sb, wb, classes, ks)
        for yb, sb, wb in _row_blocks(y, s, w)
    ]
    result = dask.delayed(_per_class_result)(_tree(parts, _summed_counts), ks, scalar, s.ndim == 1)
    n_classes = _n_score_classes(s)
    shape = (n_classes,) if scalar else (len(ks), n_classes)
    return da.from_delayed(result, shape, dtype=np.float64)
