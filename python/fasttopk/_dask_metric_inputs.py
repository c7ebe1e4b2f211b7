"""The inputs of the Dask metrics: arrays aligned by rows, the classes, and the trees that
combine per-block results.

:func:`aligned` makes y_true, y_score and sample_weight Dask arrays with the same row chunks,
y_score's class axis in one chunk (a rank needs its whole row: rows per block are re-picked
so that blocks stay near Dask's ``array.chunk-size``); the shape checks need no data and are
made at once. :func:`find_classes` gives the classes: checked eagerly when given, else found
lazily as scikit-learn finds them (sorted unique values of y_true), by a tree of per-block
uniques over y_true only, with scikit-learn's checks and messages raised by ``.compute()``.
:func:`tree` combines per-block results 8 at a time.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

import dask
import dask.array as da
import numpy as np
import numpy.typing as npt

from . import _labels, _metric_inputs
from ._dask_blocks import as_dask_array
from ._dask_dispatch import is_dask
from ._layout import is_bfloat16

__all__ = [
    "aligned",
    "block_codes",
    "check_block_y_type",
    "find_classes",
    "n_score_classes",
    "row_blocks",
    "tree",
]

_SPLIT_EVERY = 8  # partial results merged per tree node


def aligned(
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


def row_blocks(y: da.Array, s: da.Array, w: da.Array | None) -> list[tuple[Any, Any, Any]]:
    """(y, scores, weights) delayed blocks, one triple per row block."""
    yb = y.to_delayed().ravel()
    sb = s.to_delayed().ravel()
    wb = [None] * len(yb) if w is None else w.to_delayed().ravel()
    return list(zip(yb, sb, wb))


def n_score_classes(s: da.Array) -> int:
    """The classes y_score's shape implies: its columns, or 2 for 1-D binary scores."""
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


def find_classes(y: da.Array, s: da.Array, labels: Any) -> Any:
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
        return dask.delayed(_given_classes)(labels, n_score_classes(s))
    return _given_classes(labels, n_score_classes(s))


def _merged_uniques(parts: Sequence[npt.NDArray[Any]]) -> Any:
    return _labels.unique(np.concatenate(parts))


def check_block_y_type(y: Any) -> None:
    """scikit-learn's type_of_target error for y_true, per block (labels given)."""
    if len(y):
        y_type = _labels.TrueLabels(np.asarray(y)).type_of_target()
        if y_type not in ("binary", "multiclass"):
            raise ValueError(f"y type must be 'binary' or 'multiclass', got '{y_type}' instead.")


def tree(parts: list[Any], combine: Callable[[list[Any]], Any]) -> Any:
    """One Delayed of per-block results (a non-empty list), `combine`d a few at a time."""
    while len(parts) > 1:
        parts = [
            dask.delayed(combine)(parts[i : i + _SPLIT_EVERY])
            for i in range(0, len(parts), _SPLIT_EVERY)
        ]
    return parts[0]


def block_codes(y: Any, classes: Any) -> Any:
    """A block of y_true as indices into the sorted `classes` (unknown labels raise)."""
    yt = _labels.TrueLabels(np.asarray(y))
    yt.read_integers()
    return yt.encode_with(classes)
