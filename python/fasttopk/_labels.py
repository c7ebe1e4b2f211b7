"""Label encoding and ``type_of_target`` for the metrics, with scikit-learn's results and errors
(``sklearn.utils._encode._unique`` / ``_encode`` and ``sklearn.utils.multiclass.type_of_target``,
for the 1-D targets the metrics take).

Integer labels whose range is O(n) take a fast path: the classes present marked in a table by
one native pass and encoded through a lookup table, O(n) and no sort, giving the same classes
and codes as scikit-learn's np.unique/searchsorted.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _core
from ._layout import aligned
from ._metric_inputs import check_labels

__all__ = ["TrueLabels", "encode", "unique", "validated_labels"]

_INT64_MAX = np.iinfo(np.int64).max


def _is_scalar_nan(x: object) -> bool:
    return (
        not isinstance(x, numbers.Integral) and isinstance(x, numbers.Real) and math.isnan(x)
    )


def unique(values: NDArray[Any]) -> NDArray[Any]:
    """scikit-learn's ``_unique``: the sorted classes; None and NaN last in object arrays."""
    if values.dtype == object:
        try:
            uniques_set = set(values)
            missing = {v for v in uniques_set if v is None or _is_scalar_nan(v)}
            uniques = sorted(uniques_set - missing)
            if None in missing:
                uniques.append(None)
            if any(v is not None for v in missing):
                uniques.append(np.nan)
            return np.array(uniques, dtype=values.dtype)
        except TypeError:
            types = sorted(t.__qualname__ for t in set(type(v) for v in values))
            raise TypeError(
                "Encoders require their input argument must be uniformly "
                f"strings or numbers. Got {types}"
            ) from None
    found = np.unique(values)
    if found.size and _is_scalar_nan(found[-1]):
        found = found[: np.searchsorted(found, np.nan) + 1]
    return found


def _is_numeric(dtype: np.dtype[Any]) -> bool:
    return dtype.kind in "iufc"  # the array API's "numeric": bool is not


def encode(
    values: NDArray[Any], uniques: NDArray[Any], check_unknown: bool = True
) -> NDArray[Any]:
    """scikit-learn's ``_encode(values, uniques=uniques)``: the position of each value in the
    sorted `uniques`; ValueError for a value not among them."""
    if not _is_numeric(values.dtype):
        if values.dtype.kind == uniques.dtype.kind and values.dtype.kind in "Ub":
            return np.searchsorted(uniques, values)  # == the dict lookup, without the loop
        table = {val: i for i, val in enumerate(uniques)}
        nan_index = next((i for i, val in enumerate(uniques) if _is_scalar_nan(val)), None)

        def lookup(v: object) -> int:
            try:
                return table[v]
            except KeyError:
                if nan_index is not None and _is_scalar_nan(v):
                    return nan_index
                raise

        try:
            return np.asarray([lookup(v) for v in values])
        except KeyError as e:
            raise ValueError(f"y contains previously unseen labels: {e}") from None
    if not check_unknown:
        return np.searchsorted(uniques, values)
    # _check_unknown, numeric branch (kept for its errors on odd label dtypes)
    diff = np.setdiff1d(np.unique(values), uniques, assume_unique=True)
    if np.any(np.isnan(uniques)):
        diff = diff[~np.isnan(diff)]
    if len(diff):
        raise ValueError(f"y contains previously unseen labels: {list(diff)}")
    return np.searchsorted(uniques, values)


def _lut_limit(n: int) -> int:
    return 2 * n + 65536  # a range this small is tabulated (O(n) memory), never sorted


class TrueLabels:
    """A checked 1-D y_true, with what type_of_target and the encoders need, computed once.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        The labels, as :func:`fasttopk._metric_inputs.check_y_true` returns them.

    Attributes
    ----------
    y : ndarray
        The labels.
    ints : ndarray of int64 or None
        Their exact int64 values, once known to be integer-valued (ints, bools, uint below
        2**63, or integer-valued floats after :meth:`type_of_target`).
    """

    def __init__(self, y: NDArray[Any]) -> None:
        self.y = y
        self.ints: NDArray[np.int64] | None = None
        self._bounds: tuple[int, int] | bool | None = False  # False: not yet
        self._range: tuple[int, int, NDArray[np.bool_]] | bool | None = False
        self._uniques: NDArray[Any] | None = None
        self._np_uniques: NDArray[Any] | None = None

    def read_integers(self) -> None:
        """Sets :attr:`ints` when y has an integer dtype (bool, int, uint below 2**63)."""
        y = self.y
        kind = y.dtype.kind
        if kind in "ib":
            self.ints = y.astype(np.int64, copy=False)
        elif kind == "u":
            if y.dtype.itemsize < 8 or y.max() <= _INT64_MAX:
                self.ints = y.astype(np.int64, copy=False)

    def type_of_target(self) -> str:
        """scikit-learn's ``type_of_target`` of a 1-D y: 'binary', 'multiclass', 'continuous'
        or 'unknown' (with its errors for bytes and sequences of sequences)."""
        y = self.y
        first = y[0]
        if isinstance(first, bytes):
            raise TypeError(
                "Support for labels represented as bytes is not supported. Convert "
                "the labels to a string or integer format."
            )
        if (
            not hasattr(first, "__array__")
            and isinstance(first, Sequence)
            and not isinstance(first, str)
        ):
            raise ValueError(
                "You appear to be using a legacy multi-label data"
                " representation. Sequence of sequences are no"
                " longer supported; use a binary array or sparse"
                " matrix instead - the MultiLabelBinarizer"
                " transformer can convert to this format."
            )
        if y.dtype == object and not isinstance(y.flat[0], str):
            return "unknown"
        if y.dtype.kind == "f":
            with np.errstate(invalid="ignore", over="ignore"):
                integral = y.astype(np.int64)
                if np.any(y != integral.astype(y.dtype)):
                    return "continuous"
            self.ints = integral
        else:
            self.read_integers()
        return "multiclass" if self._more_than_two_unique() else "binary"

    def _more_than_two_unique(self) -> bool:
        """n_unique() > 2, for integers without counting every class: from the table of
        classes present when the range is small (n_unique needs it next), else a third value
        exists exactly when some value lies strictly between the smallest and the largest
        (looked for in a prefix first, where it usually is)."""
        bounds = self.int_bounds()
        if bounds is None or self.ints is None:
            return self.n_unique() > 2
        lo, hi = bounds
        if hi - lo < 2:
            return False
        if self.int_range() is not None:
            return self.n_unique() > 2
        ints = self.ints
        for part in (ints[:4096], ints):
            if np.any((part > lo) & (part < hi)):
                return True
        return False

    def int_bounds(self) -> tuple[int, int] | None:
        """(min, max) of the integer values; None when y is not integer-valued or is empty."""
        if self._bounds is False:
            ints = self.ints
            self._bounds = (int(ints.min()), int(ints.max())) if ints is not None and ints.size else None
        return self._bounds  # type: ignore[return-value]

    def int_range(self) -> tuple[int, int, NDArray[np.bool_]] | None:
        """(lo, hi, present) of the integer values when their range is small, else None:
        present[v - lo] tells whether v occurs."""
        if self._range is False:
            self._range = None
            bounds = self.int_bounds()
            if bounds is not None and self.ints is not None:
                lo, hi = bounds
                ints = self.ints
                if hi - lo < _lut_limit(ints.shape[0]):
                    present = np.zeros(hi - lo + 1, dtype=np.bool_)
                    _core.mark_present_labels(aligned(np.ascontiguousarray(ints)), lo, present)
                    self._range = (lo, hi, present)
        return self._range  # type: ignore[return-value]

    def uniques(self) -> NDArray[Any]:
        """scikit-learn's _unique(y): sorted classes (Python's sort for object arrays)."""
        if self._uniques is None:
            if self.y.dtype == object or self._np_uniques is None:
                self._uniques = unique(self.y)
            else:
                self._uniques = self._np_uniques
        return self._uniques

    def n_unique(self) -> int:
        """The number of distinct labels."""
        rng = self.int_range()
        if rng is not None:
            return int(np.count_nonzero(rng[2]))
        if self._np_uniques is None:
            self._np_uniques = np.unique(self.y)  # type_of_target's count (and its errors)
        return int(self._np_uniques.shape[0])

    def encode_self(self) -> NDArray[Any]:
        """Codes against the classes of y itself (labels=None)."""
        rng = self.int_range()
        if rng is not None and self.ints is not None:
            lo, _, present = rng
            if lo == 0 and np.all(present):  # classes are exactly 0..C-1: as they are
                return self.ints
            lut = np.cumsum(present) - 1
            return lut[self.ints - lo]
        return encode(self.y, self.uniques(), check_unknown=False)

    def encode_with(self, classes: NDArray[Any]) -> NDArray[Any]:
        """Codes against validated (unique, sorted) classes; raises if y has other labels."""
        y = self.y
        fast = (
            self.ints is not None
            and y.dtype.kind in "iub"
            and classes.size > 0
            and (
                classes.dtype.kind == "i"
                or (classes.dtype.kind == "u" and classes[-1] <= _INT64_MAX)
            )
        )
        if fast and self.ints is not None:
            c = classes.astype(np.int64)
            clo, chi = int(c[0]), int(c[-1])
            if chi - clo < _lut_limit(y.shape[0]) + c.shape[0]:
                lo, hi = self.int_bounds() or (clo, chi)
                if lo < clo or hi > chi:
                    raise ValueError("'y_true' contains labels not in parameter 'labels'.")
                if clo == 0 and chi == c.shape[0] - 1:  # classes 0..C-1: as they are
                    return self.ints
                lut = np.full(chi - clo + 1, -1, dtype=np.int64)
                lut[c - clo] = np.arange(c.shape[0])
                codes = lut[self.ints - clo]
                if codes.min() < 0:
                    raise ValueError("'y_true' contains labels not in parameter 'labels'.")
                return codes
        if len(np.setdiff1d(y, classes)):
            raise ValueError("'y_true' contains labels not in parameter 'labels'.")
        return encode(y, classes)


def validated_labels(labels: object) -> NDArray[Any]:
    """The `labels` argument of the metrics as the classes: 1-D, unique and sorted (else
    scikit-learn's ValueError)."""
    lab = check_labels(labels)
    if lab.dtype.kind in "iufbU" and lab.shape[0] > 0 and bool(np.all(lab[1:] > lab[:-1])):
        return lab  # strictly increasing: unique and ordered, unique(lab) equals it (O(C))
    classes = unique(lab)
    if len(classes) != len(lab):
        raise ValueError("Parameter 'labels' must be unique.")
    if not np.array_equal(classes, lab):
        raise ValueError("Parameter 'labels' must be ordered.")
    return classes
