"""NumPy, SciPy and torch calling conventions layered over the row-wise functions of _api:
``keepdims`` on argmax/argmin (NumPy), ``out=(values, indices)`` on topk (torch), a tuple
``axis`` on softmax/log_softmax (SciPy), and NumPy scalars for 0-d softmax results (SciPy).

Each takes the result of the plain computation and reshapes or writes it; none of them copies
more than the result itself.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np

_INT64 = np.dtype(np.int64)


def _axis_error(axis: int, ndim: int, name: str) -> Exception:
    if hasattr(np, "exceptions"):
        return np.exceptions.AxisError(axis, ndim, msg_prefix=name)
    return ValueError(f"{name} {axis} is out of bounds for an array of dimension {ndim}")


def normalize_axes(axes: Sequence, ndim: int, name: str = "axis") -> tuple:
    """A tuple axis as non-negative ints, checked like NumPy (range, repeats)."""
    result = []
    for axis in axes:
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"{name} must be an integer or a tuple of integers, got {type(axis).__name__} in it")
        axis = int(axis)
        if not -ndim <= axis < ndim:
            raise _axis_error(axis, ndim, name)
        result.append(axis % ndim)
    if len(set(result)) != len(result):
        raise ValueError(f"{name}: repeated axis in {tuple(axes)}")
    return tuple(result)


def keep_reduced_axis(reduce: Callable, arr: np.ndarray, axis, out: Optional[np.ndarray],
                      check_out: Callable) -> np.ndarray:
    """NumPy's keepdims=True: ``reduce(arr, axis)`` with the reduced axis (every axis for
    axis=None) kept with length one; written to `out` (checked) when given."""
    result = np.asarray(reduce(arr, axis))  # also raises NumPy's errors for a bad axis
    if axis is None or arr.ndim == 0:
        shape = (1,) * arr.ndim
    else:
        (axis_,) = normalize_axes((axis,), arr.ndim)
        shape = arr.shape[:axis_] + (1,) + arr.shape[axis_ + 1 :]
    result = result.reshape(shape)
    if out is None:
        return result if shape else result[()]  # NumPy: a 0-d input still gives a scalar
    check_out(out, shape, _INT64)
    out[...] = result
    return out


def topk_into(out, values: np.ndarray, indices: np.ndarray, check_out: Callable):
    """torch's ``topk(..., out=(values, indices))``: both checked, both written, returned."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(
            f"out must be a tuple (values, indices) of two numpy.ndarrays, got {type(out).__name__}"
            + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
        )
    values_out, indices_out = out
    check_out(values_out, values.shape, values.dtype, "out[0] (values)")
    check_out(indices_out, indices.shape, _INT64, "out[1] (indices)")
    if values.size and np.shares_memory(values_out, indices_out):
        raise ValueError("out: the values and indices arrays overlap in memory")
    values_out[...] = values
    indices_out[...] = indices
    return values_out, indices_out


def over_axes(normalize: Callable, arr: np.ndarray, axes, out: Optional[np.ndarray],
              check_out: Callable) -> np.ndarray:
    """SciPy's tuple axis on softmax/log_softmax: `normalize` (a function of an array and an
    int axis) applied jointly over `axes`: they are moved last, flattened into one axis,
    normalised, and moved back."""
    axes_ = normalize_axes(axes, arr.ndim)
    if arr.ndim == 0:  # axis=(): each element alone
        result = np.asarray(normalize(arr.reshape(1), -1)).reshape(())
    else:
        last = tuple(range(arr.ndim - len(axes_), arr.ndim))
        moved = np.moveaxis(arr, axes_, last)
        kept = moved.shape[: arr.ndim - len(axes_)]
        flat = moved.reshape(kept + (int(np.prod(moved.shape[len(kept):], dtype=np.int64)),))
        result = np.moveaxis(normalize(flat, -1).reshape(moved.shape), last, axes_)
    if out is None:
        return result
    check_out(out, arr.shape, result.dtype)
    out[...] = result
    return out


def scalar_if_0d(result, out):
    """SciPy returns a NumPy scalar, not a 0-d array, for a 0-d input."""
    if out is None and isinstance(result, np.ndarray) and result.ndim == 0:
        return result[()]
    return result
