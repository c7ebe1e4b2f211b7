"""TopKAccuracy: top-k accuracy accumulated over batches, overall ("micro") or per class.

Each batch is checked and encoded as the one-shot metrics check theirs (``_param_validation``,
``_metric_inputs``, ``_labels``) and ranked in one pass of the core (``_ranking_metrics``);
only a few numbers per k (per class and k with ``average``) are kept.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._dask_dispatch import dask_metrics, is_dask
from ._labels import TrueLabels, validated_labels
from ._metric_inputs import (
    check_consistent_length,
    check_sample_weight,
    check_y_score,
    check_y_true,
    column_or_1d,
    nonfinite,
    num_samples,
    raise_if_nonfinite,
)
from ._param_validation import ARRAY_LIKE, ARRAY_LIKE_OR_NONE, BOOLEAN, K_VALUES, k_values, validate_params
from ._ranking_metrics import binary_hits_k1, class_sums, per_class_accuracy, ranks, warn_empty_classes, warn_k

__all__ = ["TopKAccuracy"]

_AVERAGES = ("micro", "macro", None)
_INIT_PARAMS = {"k": K_VALUES, "normalize": BOOLEAN, "labels": ARRAY_LIKE_OR_NONE}
_UPDATE_PARAMS = {"y_true": ARRAY_LIKE, "y_score": ARRAY_LIKE, "sample_weight": ARRAY_LIKE_OR_NONE}


class TopKAccuracy:
    """Top-k accuracy accumulated over batches, for evaluation loops.

    ``update(y_true, y_score, sample_weight=None)`` adds a batch (one SIMD pass, nothing kept
    but a few numbers per k); ``result()`` gives the score; ``merge(other)`` adds another
    accumulator's batches (e.g. from another worker); ``reset()`` starts over.

    ``result()`` equals ``top_k_accuracy_score`` on the concatenated batches with
    ``labels=<the classes below>``: exactly for unweighted input, to float rounding with
    weights (a batch without weights counts each sample with weight 1). It is a ``float``
    (or a float64 array when `k` is a sequence).

    Classes. A stream cannot infer the classes from y_true the way the one-shot function does
    (it sees one batch at a time), so they are fixed up front:

    - ``labels=None``: the classes are the integers ``0 .. n_classes-1``, where n_classes is
      the column count of the first batch's 2-D `y_score` (at least 3), or 2 for 1-D (or one
      column) binary scores. y_true must hold integer values (ints, bools or integral floats)
      in that range; other labels raise ValueError. Note the one-shot function with
      ``labels=None`` would instead raise if some class never occurs in y_true.
    - ``labels=[...]``: the sorted, unique classes (any dtype scikit-learn takes): 2 labels for
      binary 1-D scores, 3 or more for multiclass scores with one column per label.

    Two-column scores are rejected, as scikit-learn rejects them; pass the greater class's
    column as 1-D binary scores. NaN/inf scores, unknown labels and shape mismatches raise the
    one-shot function's errors, and a batch that raises leaves the state unchanged. Empty
    batches are accepted. ``k >= n_classes`` warns ``UndefinedMetricWarning`` once, at the
    first batch after construction or ``reset()``.

    Parameters
    ----------
    k : int or sequence of int, default=2
        Number of most likely classes considered; a sequence gives one score per k.
    normalize : bool, default=True
        True: the fraction of hits; False: the (weighted) number of hits.
    labels : array-like of shape (n_classes,), default=None
        The sorted classes indexing the columns of `y_score` (see above).
    average : {"micro", "macro", None}, default="micro"
        "micro": the share of all samples that are hits (top_k_accuracy_score's value).
        None: the per-class accuracy of every class, in label order, as
        :func:`top_k_accuracy_per_class` gives it (NaN and an UndefinedMetricWarning for a
        class without samples); with ``normalize=False`` the per-class (weighted) hit counts.
        "macro": the unweighted mean of the per-class accuracies of the classes that have
        samples (classes without any are left out, with an UndefinedMetricWarning); needs
        ``normalize=True``. On tie-free scores these equal torchmetrics'
        ``MulticlassAccuracy(top_k=k, average="none" | "macro")``.

    Attributes
    ----------
    n_samples : int
        Samples seen since construction or the last reset.
    n_classes : int or None
        The class count, from `labels` or the first batch (None before it).

    See Also
    --------
    top_k_accuracy_score, top_k_accuracy_per_class

    Examples
    --------
    >>> import numpy as np, fasttopk
    >>> acc = fasttopk.TopKAccuracy(k=1)
    >>> acc = acc.update([0, 1], [[0.6, 0.3, 0.1], [0.5, 0.2, 0.3]])
    >>> acc = acc.update([2, 2], [[0.2, 0.3, 0.5], [0.4, 0.5, 0.1]])
    >>> acc.result()
    0.5
    >>> acc = fasttopk.TopKAccuracy(k=[1, 2], labels=[0, 1, 2], average=None)
    >>> acc = acc.update([0, 1], [[0.6, 0.3, 0.1], [0.5, 0.2, 0.3]])
    >>> acc = acc.update([2, 2], [[0.2, 0.3, 0.5], [0.4, 0.5, 0.1]])
    >>> acc.result()
    array([[1. , 0. , 0.5],
           [1. , 0. , 0.5]])
    """

    def __init__(
        self,
        k: int | Sequence[int] = 2,
        *,
        normalize: bool = True,
        labels: ArrayLike | None = None,
        average: str | None = "micro",
    ) -> None:
        if average not in _AVERAGES:
            raise ValueError(f"average must be 'micro', 'macro' or None, got {average!r}")
        if average == "macro" and not normalize:
            raise ValueError("average='macro' needs normalize=True (a mean of per-class shares)")
        self.average = average
        validate_params("TopKAccuracy", _INIT_PARAMS, k=k, normalize=normalize, labels=labels)
        self._ks, self._scalar = k_values(k)
        self.k = k
        self.normalize = normalize
        self.labels = labels
        self._classes: NDArray[Any] | None = None
        if labels is not None:
            self._classes = validated_labels(labels)
            if len(self._classes) < 2:
                raise ValueError(f"labels must hold at least 2 classes, got {len(self._classes)}.")
        self.reset()

    # state: counts are exact Python ints; weighted sums hold ints until float weights come.
    def reset(self) -> TopKAccuracy:
        """Forgets every batch (and, with labels=None, the class count taken from them).

        Returns
        -------
        TopKAccuracy
            self.
        """
        n = None if self._classes is None else len(self._classes)
        self._n_classes = n
        self._binary = None if n is None else n == 2
        self._warned = False
        self._count = 0
        self._weight: Any = 0  # total weight (1 per sample of an unweighted batch)
        self._weighted = False
        nk = len(self._ks)
        self._hits = [0] * nk  # micro, multiclass: per k
        self._whits: list[Any] = [0] * nk
        # micro, binary, k == 1: hits at either threshold, and the score range that picks one
        self._bin_hits = [0, 0]  # threshold 0.5, threshold 0
        self._bin_whits: list[Any] = [0, 0]
        self._min = math.inf
        self._max = -math.inf
        # average != "micro", per class from the first batch on: sample counts, weights, hits
        # per k (binary: hits at the thresholds 0.5 and 0), and their weighted sums
        self._class_count: Any = None
        self._class_weight: Any = None
        self._class_hits: Any = None
        self._class_whits: Any = None
        return self

    @property
    def n_samples(self) -> int:
        """Samples seen since construction or the last reset."""
        return self._count

    @property
    def n_classes(self) -> int | None:
        """The class count, from `labels` or the first batch (None before it)."""
        return self._n_classes

    @property
    def k_checked(self) -> bool:
        """Whether ``k >= n_classes`` was checked (it warns once, at the first batch)."""
        return self._warned

    def skip_k_check(self) -> TopKAccuracy:
        """Marks ``k >= n_classes`` checked: for an accumulator of one part of a batch (a Dask
        block), whose caller checks once for the whole batch.

        Returns
        -------
        TopKAccuracy
            self.
        """
        self._warned = True
        return self

    def _layout(self, ys: NDArray[Any]) -> tuple[bool, int]:
        """(binary, n_classes) this batch's scores imply, checked against the state."""
        if ys.ndim == 1 or (ys.ndim == 2 and ys.shape[1] == 1):
            binary, n = True, 2
        else:
            n = ys.shape[1]
            if n == 2:
                raise ValueError(
                    "y_score has 2 columns: scikit-learn's top_k_accuracy_score rejects 2-d "
                    "scores for binary targets; pass the scores of the greater label as a 1-D "
                    "array (e.g. y_score[:, 1])."
                )
            binary = False
        if self._n_classes is not None:
            if self._binary and not binary:
                raise ValueError(
                    f"y_score has shape {ys.shape}, expected 1-D binary scores "
                    f"(n_classes is 2, from {self._origin()})."
                )
            if not self._binary and (binary or n != self._n_classes):
                raise ValueError(
                    f"y_score has shape {ys.shape}, expected (n_samples, {self._n_classes}) "
                    f"(from {self._origin()})."
                )
        return binary, n

    def _origin(self) -> str:
        return "labels" if self._classes is not None else "the first batch"

    def _codes(self, y: NDArray[Any], n_classes: int) -> NDArray[Any]:
        yt = TrueLabels(y)
        if y.shape[0] == 0:
            return np.empty(0, dtype=np.int64)
        if self._classes is not None:
            yt.read_integers()  # integer labels: the O(n) table, no sort
            return yt.encode_with(self._classes)
        if y.dtype.kind == "f":
            if yt.type_of_target() == "continuous":
                raise ValueError("y type must be 'binary' or 'multiclass', got 'continuous' instead.")
        else:
            yt.read_integers()
        if yt.ints is None:
            raise ValueError(
                f"y_true holds {y.dtype} labels: TopKAccuracy needs labels= unless y_true "
                "holds the integers 0..n_classes-1."
            )
        lo, hi = int(yt.ints.min()), int(yt.ints.max())
        if lo < 0 or hi >= n_classes:
            raise ValueError(
                f"y_true holds labels outside 0..{n_classes - 1} (found {lo}..{hi}); pass "
                "labels= to name the classes that index the columns of y_score."
            )
        return yt.ints

    def _batch_hits(
        self, y_true: object, y_score: object, sample_weight: object
    ) -> tuple[bool, int, NDArray[np.int64], Any, list[NDArray[np.bool_]], float, float]:
        """Checks a batch, in the one-shot metric's order, and finds its hits; the state is
        not touched. (binary, n_classes, codes, weights, hits, min, max score): the hits per
        k, or for binary scores at the thresholds 0.5 and 0 (the range picks one later)."""
        validate_params(
            "TopKAccuracy.update", _UPDATE_PARAMS,
            y_true=y_true, y_score=y_score, sample_weight=sample_weight,
        )
        y = check_y_true(y_true, min_samples=0)
        checked = check_y_score(y_score, min_samples=0)
        num_samples(checked)  # a 0-d y_score: TypeError, as scikit-learn
        try:
            binary, n_classes = self._layout(checked)
            ys = column_or_1d(checked) if binary else checked
            w = check_sample_weight(sample_weight)
            check_consistent_length(y, ys, w)
            codes = np.asarray(self._codes(y, n_classes), dtype=np.int64)
        except Exception:
            msg = nonfinite(checked)
            if msg is not None:
                raise ValueError(msg) from None
            raise
        lo, hi = math.inf, -math.inf
        if binary:
            raise_if_nonfinite(ys)
            if y.shape[0]:
                hits = [binary_hits_k1(ys, codes, 0.5), binary_hits_k1(ys, codes, 0)]
                lo, hi = float(ys.min()), float(ys.max())
            else:
                hits = [np.zeros(0, bool)] * 2
        else:
            true_ranks = ranks(ys, codes) if y.shape[0] else np.empty(0, np.int64)
            hits = [true_ranks < min(int(kk), n_classes) for kk in self._ks]
        return binary, n_classes, codes, w, hits, lo, hi

    def update(
        self, y_true: ArrayLike, y_score: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> TopKAccuracy:
        """Adds one batch; a batch that raises leaves the state unchanged.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
            Scores, as for :func:`top_k_accuracy_score`.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        TopKAccuracy
            self.
        """
        if self.average == "micro" and is_dask(y_true, y_score, sample_weight):
            merged: TopKAccuracy = dask_metrics().update(self, y_true, y_score, sample_weight)
            return merged
        batch = self._batch_hits(y_true, y_score, sample_weight)
        binary, n_classes, codes, w, hits, lo, hi = batch
        n = codes.shape[0]
        if self.average == "micro":
            counts = [int(np.count_nonzero(h)) for h in hits]
            if w is None:
                whits: list[Any] = list(counts)
                wsum: Any = n
            else:
                whits = [np.dot(h, w).item() for h in hits]
                wsum = np.sum(w).item()
        else:
            count, class_hits = class_sums(codes, hits, None, n_classes)
            weight, class_whits = (
                (count, class_hits) if w is None else class_sums(codes, hits, w, n_classes)
            )
            wsum = weight.sum().item()
        # commit (nothing above touched the state)
        if self._n_classes is None:
            self._n_classes, self._binary = n_classes, binary
        if not self._warned:
            self._warned = True
            warn_k(self._ks, self._n_classes)
        self._count += n
        self._weight += wsum
        self._weighted = self._weighted or w is not None
        if binary or self.average != "micro":
            self._min, self._max = min(self._min, lo), max(self._max, hi)
        if self.average != "micro":
            self._add_class_sums(count, weight, class_hits, class_whits)
        elif binary:
            for i in range(2):
                self._bin_hits[i] += counts[i]
                self._bin_whits[i] += whits[i]
        else:
            for i in range(len(self._ks)):
                self._hits[i] += counts[i]
                self._whits[i] += whits[i]
        return self

    def _add_class_sums(self, count: Any, weight: Any, hits: Any, whits: Any) -> None:
        if self._class_count is None:
            self._class_count, self._class_weight = count.copy(), weight.copy()
            self._class_hits, self._class_whits = hits.copy(), whits.copy()
            return
        # int64 + float64 promotes where weights arrive; counts stay exact ints
        self._class_count = self._class_count + count
        self._class_weight = self._class_weight + weight
        self._class_hits = self._class_hits + hits
        self._class_whits = self._class_whits + whits

    def merge(self, other: TopKAccuracy) -> TopKAccuracy:
        """Adds the batches another accumulator (same k, normalize, labels, average) has seen.

        Parameters
        ----------
        other : TopKAccuracy
            Unchanged.

        Returns
        -------
        TopKAccuracy
            self.
        """
        if isinstance(other, TopKAccuracy) and other.average != self.average:
            raise ValueError(f"cannot merge: average differs ({self.average!r} vs {other.average!r})")
        if self.average != "micro" and not isinstance(other, TopKAccuracy):
            raise TypeError(f"other must be a TopKAccuracy with average={self.average!r}")
        if not isinstance(other, TopKAccuracy):
            raise TypeError(f"other must be a TopKAccuracy, got {type(other).__name__}")
        had_samples = other._class_count is not None if self.average != "micro" else False
        same_labels = (self._classes is None and other._classes is None) or (
            self._classes is not None
            and other._classes is not None
            and self._classes.shape == other._classes.shape
            and self._classes.dtype == other._classes.dtype
            and bool(np.all(self._classes == other._classes))
        )
        if [int(a) for a in self._ks] != [int(b) for b in other._ks] or (
            self._scalar != other._scalar
        ):
            raise ValueError(f"cannot merge: k differs ({self.k!r} vs {other.k!r})")
        if bool(self.normalize) != bool(other.normalize):
            raise ValueError("cannot merge: normalize differs")
        if not same_labels:
            raise ValueError("cannot merge: labels differ")
        if (
            self._n_classes is not None
            and other._n_classes is not None
            and (self._n_classes != other._n_classes or self._binary != other._binary)
        ):
            raise ValueError(
                f"cannot merge: n_classes differs ({self._n_classes} vs {other._n_classes})"
            )
        if other._count == 0 and other._n_classes is None:
            return self
        if self._n_classes is None:
            self._n_classes, self._binary = other._n_classes, other._binary
        self._warned = self._warned or other._warned
        self._count += other._count
        self._weight += other._weight
        self._weighted = self._weighted or other._weighted
        self._min, self._max = min(self._min, other._min), max(self._max, other._max)
        for i in range(len(self._ks)):
            self._hits[i] += other._hits[i]
            self._whits[i] += other._whits[i]
        for i in range(2):
            self._bin_hits[i] += other._bin_hits[i]
            self._bin_whits[i] += other._bin_whits[i]
        if had_samples:
            self._add_class_sums(
                other._class_count, other._class_weight, other._class_hits, other._class_whits
            )
        return self

    def result(self) -> Any:
        """The score of every batch so far.

        Returns
        -------
        float or ndarray of float64
            With ``average="micro"``: a float, or an array of shape (len(k),) when `k` is a
            sequence. With ``average=None``: an array of shape (n_classes,) (or (len(k),
            n_classes)); ``"macro"``: as "micro".

        Raises
        ------
        ValueError
            Before the first sample (scikit-learn rejects empty input).
        ZeroDivisionError
            When normalizing weights that sum to zero (as np.average).
        """
        if self._count == 0:
            raise ValueError("TopKAccuracy has no samples: call update() with a non-empty batch first.")
        if self.average != "micro":
            return self._per_class_result()
        out = []
        for i, kk in enumerate(self._ks):
            if self._binary:
                if kk == 1:
                    t = 0 if (self._min >= 0 and self._max <= 1) else 1
                    hits, whits = self._bin_hits[t], self._bin_whits[t]
                else:
                    hits, whits = self._count, self._weight
            else:
                hits, whits = self._hits[i], self._whits[i]
            if not self._weighted:
                out.append(hits / self._count if self.normalize else float(hits))
            elif self.normalize:
                if self._weight == 0:
                    raise ZeroDivisionError("Weights sum to zero, can't be normalized")
                out.append(float(whits / self._weight))
            else:
                out.append(float(whits))
        if self._scalar:
            return out[0]
        return np.asarray(out, dtype=np.float64)

    def _per_class_result(self) -> Any:
        support = self._class_weight if self._weighted else self._class_count
        hits_by_row = self._class_whits if self._weighted else self._class_hits
        per_k = []
        for i, kk in enumerate(self._ks):
            if self._binary:
                if kk == 1:
                    per_k.append(hits_by_row[0 if (self._min >= 0 and self._max <= 1) else 1])
                else:
                    per_k.append(support)
            else:
                per_k.append(hits_by_row[i])
        hits = np.stack(per_k).astype(np.float64)
        if not self.normalize:
            out = hits
        elif self.average is None:
            out = per_class_accuracy(hits, support, stacklevel=3)
        else:  # macro: over the classes that have samples
            empty = np.asarray(support) == 0
            if empty.any():
                warn_empty_classes(empty, 3, "they are left out of the macro average.")
            keep = ~empty
            with np.errstate(invalid="ignore"):  # no class with samples: NaN
                out = np.mean(hits[:, keep] / np.asarray(support, dtype=np.float64)[keep], axis=1)
            return float(out[0]) if self._scalar else out
        return out[0] if self._scalar else out

    def __repr__(self) -> str:
        return (
            f"TopKAccuracy(k={self.k!r}, normalize={self.normalize!r}, "
            f"average={self.average!r}, labels={self.labels!r}) # {self._count} samples"
        )
