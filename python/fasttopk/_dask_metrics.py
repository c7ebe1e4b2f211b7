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
from typing import Any

import dask
import dask.array as da
import numpy as np
import numpy.typing as npt

from . import _metric_inputs, _param_validation, _ranking_metrics
from ._accumulator import TopKAccuracy
from ._dask_blocks import apply_worker_thread_budget
from ._dask_metric_inputs import (
    aligned,
    block_codes,
    check_block_y_type,
    find_classes,
    n_score_classes,
    row_blocks,
    tree,
)

__all__ = ["top_k_accuracy_per_class", "top_k_accuracy_score", "true_label_rank", "update"]


# --- top_k_accuracy_score and TopKAccuracy.update -------------------------------------------


def _block_accumulator(template: Any, y: Any, s: Any, w: Any, check_type: bool) -> Any:
    apply_worker_thread_budget()
    if check_type:
        check_block_y_type(y)
    acc = copy.deepcopy(template).skip_k_check()  # the k >= n_classes warning: once, by the caller
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
    y, s, w = aligned(y_true, y_score, sample_weight)
    classes = find_classes(y, s, labels)
    _ranking_metrics.warn_k(ks, n_score_classes(s))
    parts = [
        dask.delayed(_block_accumulator_with_classes)((k, normalize), classes, yb, sb, wb,
                                                       labels is not None)
        for yb, sb, wb in row_blocks(y, s, w)
    ]
    result = dask.delayed(_accuracy_result)(tree(parts, _merged_accumulators))
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
    y, s, w = aligned(y_true, y_score, sample_weight, min_samples=0)
    template = copy.deepcopy(acc).reset()
    parts = [
        dask.delayed(_block_accumulator)(template, yb, sb, wb, False)
        for yb, sb, wb in row_blocks(y, s, w)
    ]
    if not parts:
        return acc
    (batch,) = dask.compute(tree(parts, _merged_accumulators))
    if not acc.k_checked and batch.n_classes is not None:
        _ranking_metrics.warn_k(_param_validation.k_values(acc.k)[0], batch.n_classes)
    return acc.merge(batch)


# --- true_label_rank ------------------------------------------------------------------------


def _block_ranks(y: Any, s: npt.NDArray[Any], classes: Any, threshold: float | None) -> Any:
    apply_worker_thread_budget()
    if len(y) == 0:
        return np.empty(0, dtype=np.int64)
    if s.ndim == 1:  # binary: the thresholded prediction, threshold from all the scores
        _metric_inputs.raise_if_nonfinite(s)
        assert threshold is not None  # true_label_rank passes one for 1-D scores
        return (~_ranking_metrics.binary_hits_k1(s, block_codes(y, classes), threshold)).astype(np.int64)
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
    y, s, _ = aligned(y_true, y_score, None)
    classes = find_classes(y, s, labels)
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
    check_block_y_type(y)
    codes = block_codes(y, classes)
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
    y, s, w = aligned(y_true, y_score, sample_weight)
    classes = find_classes(y, s, labels)
    _ranking_metrics.warn_k(ks, n_score_classes(s))
    parts = [
        dask.delayed(_block_class_counts)(yb, sb, wb, classes, ks)
        for yb, sb, wb in row_blocks(y, s, w)
    ]
    result = dask.delayed(_per_class_result)(tree(parts, _summed_counts), ks, scalar, s.ndim == 1)
    n_classes = n_score_classes(s)
    shape = (n_classes,) if scalar else (len(ks), n_classes)
    return da.from_delayed(result, shape, dtype=np.float64)
