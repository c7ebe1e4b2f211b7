"""Class labels for chosen indices: the ``classes=`` argument of argmax, argmin, topk, argtopk
and topk_softmax (what Keras's ``predict_classes`` / ``decode_predictions`` gave).

The labels are looked up after the kernels ran, by one fancy index into the 1-D `classes`
array: ``classes[indices]``; nothing of size n_samples x n_classes is made.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._selection import TopK

__all__ = ["LabeledTopK", "arg_labels", "argtopk_labels", "check_classes", "topk_labels"]


class LabeledTopK(TopK):
    """A :class:`TopK` with the class labels of its indices in ``.labels`` (same shape as
    ``indices``). Still a 2-tuple: ``values, indices = result`` unpacks as before.

    Parameters
    ----------
    values, indices : array
        As in :class:`TopK`.
    labels : ndarray
        ``classes[indices]``.

    See Also
    --------
    topk, topk_softmax

    Examples
    --------
    >>> import fasttopk
    >>> result = fasttopk.topk([[0.2, 0.5, 0.3]], 2, classes=["cat", "dog", "owl"])
    >>> result.labels
    array([['dog', 'owl']], dtype='<U3')
    >>> values, indices = result
    >>> indices
    array([[1, 2]])
    """

    labels: Any

    def __new__(cls, values: Any, indices: Any, labels: Any) -> LabeledTopK:
        self = super().__new__(cls, values, indices)
        self.labels = labels
        return self

    def __getnewargs__(self) -> tuple[Any, Any, Any]:
        return (self.values, self.indices, self.labels)  # pickle and copy keep the labels

    def _replace(self, **fields: Any) -> LabeledTopK:
        labels = fields.pop("labels", self.labels)
        values = fields.get("values", self.values)
        return LabeledTopK(values, fields.get("indices", self.indices), labels)

    def __repr__(self) -> str:
        return f"TopK(values={self.values!r}, indices={self.indices!r}, labels={self.labels!r})"


def check_classes(
    classes: ArrayLike, n: int, what: str = "the length of the reduced axis"
) -> NDArray[Any]:
    """`classes` as a 1-D array of length `n`; ValueError naming `classes` otherwise."""
    if isinstance(classes, (str, bytes)) or (
        np.ndim(classes) == 0 and not hasattr(classes, "__len__")
    ):
        raise ValueError(
            f"classes must be a 1-D array-like of labels, got {type(classes).__name__}"
        )
    arr = np.asarray(classes) if not isinstance(classes, np.ndarray) else classes
    if arr.ndim != 1 and isinstance(classes, (list, tuple)):
        # labels that NumPy would read as rows (tuples, lists): one object each
        arr = np.empty(len(classes), dtype=object)
        for i, c in enumerate(classes):
            arr[i] = c
    if arr.ndim != 1:
        raise ValueError(f"classes must be 1-D, got an array of shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"classes has {arr.shape[0]} labels, expected {n} ({what})")
    return arr


def _axis_length(x: Any, axis: int | None) -> int:
    shape = np.shape(x)
    if axis is None:
        return int(np.prod(shape, dtype=np.int64))
    if not shape:
        return 1  # a 0-d array is one element along axis 0 or -1
    return int(shape[int(axis) % len(shape)])


def arg_labels(
    fn: Callable[..., Any], x: Any, axis: int | None, out: Any, classes: ArrayLike
) -> Any:
    """argmax/argmin (`fn`) with `classes`: the labels of the chosen indices (`out`, if
    given, receives the indices)."""
    indices = fn(x, axis, out=out)
    what = "the number of elements" if axis is None else f"the length of axis {axis}"
    return check_classes(classes, _axis_length(x, axis), what)[np.asarray(indices)]


def topk_labels(result: TopK, x: Any, axis: int, classes: ArrayLike) -> LabeledTopK:
    """A TopK (values, indices) with the labels of its indices."""
    values, indices = result
    names = check_classes(classes, _axis_length(x, axis), f"the length of axis {axis}")
    return LabeledTopK(values, indices, names[np.asarray(indices)])


def argtopk_labels(indices: Any, x: Any, axis: int, classes: ArrayLike) -> NDArray[Any]:
    """The labels of argtopk's `indices`."""
    names = check_classes(classes, _axis_length(x, axis), f"the length of axis {axis}")
    labels: NDArray[Any] = names[np.asarray(indices)]
    return labels
