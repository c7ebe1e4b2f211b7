"""scikit-learn's input checks for the metrics (``sklearn.utils.validation``: ``check_array``,
``column_or_1d``, ``_num_samples``, ``check_consistent_length``) on y_true, y_score, labels and
sample_weight: the same exception classes and messages, in the same order.

One difference on purpose: the NaN/inf check of a float `y_score` is not made here. The rank
pass of the core makes it for free; a caller whose later check fails first looks for NaN/inf
(:func:`nonfinite`) before raising, so the error scikit-learn gives first is raised here too.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _interop
from ._layout import bfloat16_to_float32, is_bfloat16

__all__ = [
    "check_consistent_length",
    "check_labels",
    "check_min_samples_features",
    "check_sample_weight",
    "check_y_score",
    "check_y_true",
    "column_or_1d",
    "nonfinite",
    "num_samples",
    "raise_if_nonfinite",
]

_CHUNK = 1 << 20  # elements per chunk on the (error-only) element-wise NaN/inf scan


def num_samples(x: Any) -> int:
    """scikit-learn's ``_num_samples``: the length of the first axis, with its errors."""
    if type(x) is np.ndarray and x.ndim:  # the usual case, without the probes below
        return int(x.shape[0])
    message = f"Expected sequence or array-like, got {type(x)}"
    if hasattr(x, "fit") and callable(x.fit):
        raise TypeError(message)
    if hasattr(x, "shape") and x.shape is not None:
        if len(x.shape) == 0:
            raise TypeError(
                "Input should have at least 1 dimension i.e. satisfy "
                f"`len(x.shape) > 0`, got scalar `{x!r}` instead."
            )
        if isinstance(x.shape[0], numbers.Integral):
            return int(x.shape[0])
    if not hasattr(x, "__len__") and not hasattr(x, "shape"):
        if hasattr(x, "__array__"):
            x = np.asarray(x)
        else:
            raise TypeError(message)
    try:
        return len(x)
    except TypeError as type_error:
        raise TypeError(message) from type_error


def _asarray(x: object, numeric: bool) -> NDArray[Any]:
    x = _interop.as_numpy(x, "y_score" if numeric else "y_true")  # torch/JAX read in place
    if isinstance(x, np.matrix):
        raise TypeError(
            "np.matrix is not supported. Please convert to a numpy array with "
            "np.asarray. For more information see: "
            "https://numpy.org/doc/stable/reference/generated/numpy.matrix.html"
        )
    dtype_orig = getattr(x, "dtype", None)
    if numeric and getattr(dtype_orig, "kind", None) == "O":
        arr = np.asarray(x, dtype=np.float64)  # dtype="numeric": object arrays become float64
    else:
        arr = np.asarray(x)
    if arr.dtype.kind == "c":
        raise ValueError(f"Complex data not supported\n{arr}\n")
    return arr


def nonfinite(arr: NDArray[Any]) -> str | None:
    """None if `arr` holds no NaN/inf, else scikit-learn's message for it. O(1) extra memory
    when finite (one sum); chunked element-wise scan otherwise."""
    if is_bfloat16(arr.dtype):  # NumPy has no arithmetic for it (without ml_dtypes)
        arr = bfloat16_to_float32(arr)  # only on error paths: the kernel checks finiteness
    kind = arr.dtype.kind
    if kind == "O":
        if np.any(arr != arr):  # _object_dtype_isnan
            return "Input contains NaN"
        return None
    if kind != "f" or arr.size == 0:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(arr)):
            return None
    flat = arr.reshape(-1) if arr.ndim <= 1 else None
    has_nan = has_inf = False
    if flat is not None:
        chunks = (flat[i : i + _CHUNK] for i in range(0, flat.shape[0], _CHUNK))
    else:
        rows = arr.reshape(arr.shape[0], -1) if arr.ndim == 2 else arr.reshape(-1, arr.shape[-1])
        step = max(1, _CHUNK // max(1, rows.shape[1]))
        chunks = (rows[i : i + step] for i in range(0, rows.shape[0], step))
    for chunk in chunks:
        has_nan = has_nan or bool(np.isnan(chunk).any())
        has_inf = has_inf or bool(np.isinf(chunk).any())
        if has_nan:
            break
    if has_nan:
        return "Input contains NaN."
    if has_inf:
        return f"Input contains infinity or a value too large for {arr.dtype!r}."
    return None


def raise_if_nonfinite(arr: NDArray[Any]) -> None:
    """scikit-learn's ValueError when `arr` holds NaN or inf."""
    msg = nonfinite(arr)
    if msg is not None:
        raise ValueError(msg)


def check_min_samples_features(arr: Any, min_samples: int) -> None:
    """check_array's ``ensure_min_samples`` and ``ensure_min_features=1``."""
    if min_samples > 0:
        n = num_samples(arr)
        if n < min_samples:
            raise ValueError(
                f"Found array with {n} sample(s) (shape={arr.shape}) while a minimum of "
                f"{min_samples} is required."
            )
    if arr.ndim == 2 and arr.shape[1] < 1:
        raise ValueError(
            f"Found array with {arr.shape[1]} feature(s) (shape={arr.shape}) while a minimum "
            "of 1 is required."
        )


def column_or_1d(arr: NDArray[Any]) -> NDArray[Any]:
    """scikit-learn's ``column_or_1d``: a 1-D array or one column, as a contiguous 1-D array."""
    if arr.ndim == 1:
        return np.ascontiguousarray(arr)
    if arr.ndim == 2 and arr.shape[1] == 1:
        return np.ascontiguousarray(arr.reshape(-1))
    raise ValueError(f"y should be a 1d array, got an array of shape {arr.shape} instead.")


def check_y_true(y_true: object, min_samples: int = 1) -> NDArray[Any]:
    """check_array(y_true, ensure_2d=False, dtype=None) then column_or_1d."""
    arr = _asarray(y_true, numeric=False)
    if arr.ndim >= 3:
        raise ValueError(f"Found array with dim {arr.ndim}, while dim <= 2 is required.")
    raise_if_nonfinite(arr)
    check_min_samples_features(arr, min_samples)
    return column_or_1d(arr)


def check_y_score(y_score: object, min_samples: int = 1) -> NDArray[Any]:
    """check_array(y_score, ensure_2d=False) except the NaN/inf check of float arrays, which
    the caller makes later (in the rank pass, or before raising any later error)."""
    arr = _asarray(y_score, numeric=True)
    if is_bfloat16(arr.dtype) and arr.ndim < 2:
        # 1-D (binary) scores are compared in NumPy; 2-D ones go to the core as they are
        arr = bfloat16_to_float32(arr)
    if arr.dtype.kind in "USV" and not is_bfloat16(arr.dtype):
        raise ValueError(
            "dtype='numeric' is not compatible with arrays of bytes/strings."
            "Convert your data to numeric values explicitly instead."
        )
    if arr.ndim >= 3:
        raise ValueError(f"Found array with dim {arr.ndim}, while dim <= 2 is required.")
    if arr.ndim == 0 or arr.dtype.kind == "O":
        raise_if_nonfinite(arr)
    check_min_samples_features(arr, min_samples)
    if arr.dtype.kind == "O":
        # A list holding Python objects (None, Decimal, ...): scikit-learn keeps the object
        # dtype and sorts the objects, which fails with a TypeError for None; the core needs
        # numbers.
        if any(v is None for v in arr.flat):
            raise TypeError("'<' not supported between instances of 'NoneType' and a number "
                            "(y_score holds None)")
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as e:
            raise TypeError(f"y_score: could not read the scores as numbers ({e})") from e
        raise_if_nonfinite(arr)
    if arr.dtype.kind == "M" or arr.dtype.kind == "m":
        raise TypeError(f"y_score must hold real numbers, got dtype {arr.dtype}")
    return arr


def check_labels(labels: object) -> NDArray[Any]:
    """column_or_1d(labels): check_array(ensure_2d=False, dtype=None, ensure_all_finite=False,
    ensure_min_samples=0) and the 1-D check."""
    arr = _asarray(labels, numeric=False)
    if arr.ndim >= 3:
        raise ValueError(f"Found array with dim {arr.ndim}, while dim <= 2 is required.")
    check_min_samples_features(arr, 0)
    return column_or_1d(arr)


def check_sample_weight(sample_weight: object) -> NDArray[Any] | None:
    """`sample_weight` as a 1-D numeric array (or None): a column is taken as 1-D, bools as
    int64 (np.dot of two bool arrays would be a logical OR)."""
    if sample_weight is None:
        return None
    w = check_labels(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold numbers, got dtype {w.dtype}")
    return w.astype(np.int64) if w.dtype.kind == "b" else w


def check_consistent_length(*arrays: Any) -> None:
    """scikit-learn's ``check_consistent_length`` (None entries are skipped)."""
    lengths = [num_samples(x) for x in arrays if x is not None]
    if len(set(lengths)) > 1:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"{[int(n) for n in lengths]!r}"
        )
