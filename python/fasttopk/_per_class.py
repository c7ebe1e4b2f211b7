"""Per-class top-k accuracy (the top-k recall of each true class) and TopKAccuracy's
``average=`` option, on the one rank pass of ``_metrics`` (``fasttopk._core.true_label_rank``)
and weighted bincounts: O(n_samples + n_classes) extra memory.

The hits are scikit-learn's (its tie rule: among equal scores the higher class index ranks
first; binary 1-D scores use its threshold rule), so ``top_k_accuracy_per_class`` weighted by
the class supports averages back to ``top_k_accuracy_score``. On scores without ties the
per-class values equal torchmetrics' ``MulticlassAccuracy(top_k=k, average="none")``.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from . import _metrics
from ._dask_dispatch import dask_metrics, is_dask
from ._metrics import (
    _binary_hits_k1,
    _binary_threshold,
    _check_arraylike,
    _check_bool,
    _check_consistent_length,
    _check_labels,
    _check_y_score,
    _check_y_true,
    _column_or_1d,
    _nonfinite,
    _num_samples,
    _parse_k,
    _prepare,
    _raise_if_nonfinite,
    _ranks,
    _sklearn_class,
    _warn_k,
)

__all__ = ["TopKAccuracy", "top_k_accuracy_per_class"]

_AVERAGES = ("micro", "macro", None)


def _check_weights(sample_weight):
    """sample_weight as a 1-D numeric array (or None)."""
    if sample_weight is None:
        return None
    w = _check_labels(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold numbers, got dtype {w.dtype}")
    return w.astype(np.int64) if w.dtype.kind == "b" else w


def _class_sums(codes: np.ndarray, hits, weights, n_classes: int):
    """(support, hits): per class, the number (weight) of samples and, per entry of `hits`,
    the number (weight) of those that are hits. Unweighted sums stay int64 (exact)."""
    if weights is None:
        support = np.bincount(codes, minlength=n_classes)
        per_class = [np.bincount(codes[h], minlength=n_classes) for h in hits]
    else:
        support = np.bincount(codes, weights=weights, minlength=n_classes)
        per_class = [np.bincount(codes[h], weights=weights[h], minlength=n_classes) for h in hits]
    return support, np.stack(per_class) if per_class else np.zeros((0, n_classes))


def _warn_empty(empty: np.ndarray, stacklevel: int, what: str) -> None:
    positions = np.flatnonzero(empty)
    shown = ", ".join(str(int(p)) for p in positions[:10]) + (", ..." if len(positions) > 10 else "")
    warnings.warn(
        f"{len(positions)} class(es) have no samples in y_true (or only zero weights), at "
        f"positions {shown} in label order: {what}",
        _sklearn_class("UndefinedMetricWarning"),
        stacklevel=stacklevel,
    )


def _recall(hits: np.ndarray, support: np.ndarray, stacklevel: int) -> np.ndarray:
    """hits / support, NaN (and an UndefinedMetricWarning) where the support is 0."""
    empty = support == 0
    if empty.any():
        _warn_empty(empty, stacklevel + 1, "their per-class accuracy is NaN.")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.asarray(hits, dtype=np.float64) / np.asarray(support, dtype=np.float64)
    out[..., empty] = np.nan
    return out


def top_k_accuracy_per_class(y_true, y_score, *, k=2, sample_weight=None, labels=None):
    """Top-k accuracy of each true class: among the samples of class c, the share whose true
    label is among the `k` highest-scored classes (the top-k recall of c).

    The hits are those of :func:`top_k_accuracy_score` (scikit-learn's, its tie rule
    included), from one SIMD pass over `y_score` and a bincount per k; the inputs are checked
    as there, with the same errors.

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
    caller = "top_k_accuracy_per_class"
    _check_arraylike(caller, "y_true", y_true, allow_none=False)
    _check_arraylike(caller, "y_score", y_score, allow_none=False)
    ks, scalar = _parse_k(caller, k)
    _check_arraylike(caller, "sample_weight", sample_weight, allow_none=True)
    _check_arraylike(caller, "labels", labels, allow_none=True)

    prep = _prepare(y_true, y_score, labels, sample_weight)
    weights = _check_weights(sample_weight)
    if prep.binary:
        _raise_if_nonfinite(prep.scores)
        ranks = None
    else:
        ranks = _ranks(prep.scores, prep.codes)
    _warn_k(ks, prep.n_classes)
    codes = np.asarray(prep.codes, dtype=np.int64)
    hits = []
    for kk in ks:
        if not prep.binary:
            hits.append(ranks < min(int(kk), prep.n_classes))
        elif kk == 1:
            hits.append(_binary_hits_k1(prep.scores, codes, _binary_threshold(prep.scores)))
        else:
            hits.append(np.ones(codes.shape[0], dtype=bool))
    support, per_class = _class_sums(codes, hits, weights, prep.n_classes)
    result = _recall(per_class, support, stacklevel=2)
    return result[0] if scalar else result


class TopKAccuracy(_metrics.TopKAccuracy):
    __doc__ = (
        (_metrics.TopKAccuracy.__doc__ or "").rstrip()
        + """
    average : {"micro", "macro", None}, default="micro"
        "micro": the share of all samples that are hits (top_k_accuracy_score's value).
        None: the per-class accuracy of every class, in label order, as
        :func:`top_k_accuracy_per_class` gives it (NaN and an UndefinedMetricWarning for a
        class without samples); with ``normalize=False`` the per-class (weighted) hit counts.
        "macro": the unweighted mean of the per-class accuracies of the classes that have
        samples (classes without any are left out, with an UndefinedMetricWarning); needs
        ``normalize=True``. On tie-free scores these equal torchmetrics'
        ``MulticlassAccuracy(top_k=k, average="none" | "macro")``.

    Examples
    --------
    >>> import numpy as np, fasttopk
    >>> acc = fasttopk.TopKAccuracy(k=[1, 2], labels=[0, 1, 2], average=None)
    >>> acc = acc.update([0, 1], [[0.6, 0.3, 0.1], [0.5, 0.2, 0.3]])
    >>> acc = acc.update([2, 2], [[0.2, 0.3, 0.5], [0.4, 0.5, 0.1]])
    >>> acc.result()
    array([[1. , 0. , 0.5],
           [1. , 0. , 0.5]])
    """
    )

    def __init__(self, k=2, *, normalize=True, labels=None, average="micro"):
        if average not in _AVERAGES:
            raise ValueError(f"average must be 'micro', 'macro' or None, got {average!r}")
        if average == "macro" and not normalize:
            raise ValueError("average='macro' needs normalize=True (a mean of per-class shares)")
        self.average = average
        super().__init__(k, normalize=normalize, labels=labels)

    def reset(self) -> "TopKAccuracy":
        super().reset()
        # per class, from the first batch on: sample counts, weights, hits per k (binary:
        # hits at the thresholds 0.5 and 0), and their weighted sums
        self._class_count = None
        self._class_weight = None
        self._class_hits = None
        self._class_whits = None
        return self

    def update(self, y_true, y_score, sample_weight=None) -> "TopKAccuracy":
        """Adds one batch. Returns self."""
        if self.average == "micro":
            return super().update(y_true, y_score, sample_weight)
        # The checks of the base class's update, in its order; the state is touched only at the
        # end, so a batch that raises leaves it unchanged.
        caller = "TopKAccuracy.update"
        _check_arraylike(caller, "y_true", y_true, allow_none=False)
        _check_arraylike(caller, "y_score", y_score, allow_none=False)
        _check_arraylike(caller, "sample_weight", sample_weight, allow_none=True)
        y = _check_y_true(y_true, min_samples=0)
        checked = _check_y_score(y_score, min_samples=0)
        _num_samples(checked)
        try:
            binary, n_classes = self._layout(checked)
            ys = _column_or_1d(checked) if binary else checked
            w = _check_weights(sample_weight)
            _check_consistent_length(y, ys, w)
            codes = np.asarray(self._codes(y, n_classes), dtype=np.int64)
        except Exception:
            msg = _nonfinite(checked)
            if msg is not None:
                raise ValueError(msg) from None
            raise
        n = y.shape[0]
        lo, hi = math.inf, -math.inf
        if binary:
            _raise_if_nonfinite(ys)
            if n:
                hits = [_binary_hits_k1(ys, codes, 0.5), _binary_hits_k1(ys, codes, 0)]
                lo, hi = float(ys.min()), float(ys.max())
            else:
                hits = [np.zeros(0, bool)] * 2
        else:
            ranks = _ranks(ys, codes) if n else np.empty(0, np.int64)
            hits = [ranks < min(int(kk), n_classes) for kk in self._ks]
        count, class_hits = _class_sums(codes, hits, None, n_classes)
        weight, class_whits = (count, class_hits) if w is None else _class_sums(codes, hits, w, n_classes)
        # commit
        if self._n_classes is None:
            self._n_classes, self._binary = n_classes, binary
        if not self._warned:
            self._warned = True
            _warn_k(self._ks, self._n_classes)
        self._count += n
        self._weight += weight.sum().item()
        self._weighted = self._weighted or w is not None
        self._min, self._max = min(self._min, lo), max(self._max, hi)
        self._add_class_sums(count, weight, class_hits, class_whits)
        return self

    def _add_class_sums(self, count, weight, hits, whits) -> None:
        if self._class_count is None:
            self._class_count, self._class_weight = count.copy(), weight.copy()
            self._class_hits, self._class_whits = hits.copy(), whits.copy()
            return
        # int64 + float64 promotes where weights arrive; counts stay exact ints
        self._class_count = self._class_count + count
        self._class_weight = self._class_weight + weight
        self._class_hits = self._class_hits + hits
        self._class_whits = self._class_whits + whits

    def merge(self, other: "TopKAccuracy") -> "TopKAccuracy":
        """Adds the batches another accumulator (same k, normalize, labels, average) has seen.
        Returns self; `other` is unchanged."""
        if isinstance(other, TopKAccuracy) and other.average != self.average:
            raise ValueError(f"cannot merge: average differs ({self.average!r} vs {other.average!r})")
        if self.average != "micro" and not isinstance(other, TopKAccuracy):
            raise TypeError(f"other must be a TopKAccuracy with average={self.average!r}")
        had_samples = other._class_count is not None if self.average != "micro" else False
        super().merge(other)
        if had_samples:
            self._add_class_sums(other._class_count, other._class_weight, other._class_hits, other._class_whits)
        return self

    def result(self):
        """The score of every batch so far (see the class docstring for `average`)."""
        if self.average == "micro":
            return super().result()
        if self._count == 0:
            raise ValueError(
                "TopKAccuracy has no samples: call update() with a non-empty batch first."
            )
        support = self._class_weight if self._weighted else self._class_count
        hits_by_row = self._class_whits if self._weighted else self._class_hits
        rows = []
        for i, kk in enumerate(self._ks):
            if self._binary:
                if kk == 1:
                    rows.append(hits_by_row[0 if (self._min >= 0 and self._max <= 1) else 1])
                else:
                    rows.append(support)
            else:
                rows.append(hits_by_row[i])
        hits = np.stack(rows).astype(np.float64)
        if not self.normalize:
            out = hits
        elif self.average is None:
            out = _recall(hits, support, stacklevel=2)
        else:  # macro: over the classes that have samples
            empty = np.asarray(support) == 0
            if empty.any():
                _warn_empty(empty, 2, "they are left out of the macro average.")
            keep = ~empty
            with np.errstate(invalid="ignore"):  # no class with samples: NaN
                out = np.mean(hits[:, keep] / np.asarray(support, dtype=np.float64)[keep], axis=1)
            return float(out[0]) if self._scalar else out
        return out[0] if self._scalar else out

    def __repr__(self) -> str:
        return super().__repr__().replace(
            ", labels=", f", average={self.average!r}, labels=", 1
        )
