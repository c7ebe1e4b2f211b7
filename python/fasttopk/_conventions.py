"""NumPy, SciPy and torch calling conventions layered over the row-wise functions of _api:
``keepdims`` on argmax/argmin (NumPy), ``out=(values, indices)`` on topk (torch), a tuple
``axis`` on softmax/log_softmax (SciPy), and NumPy scalars for 0-d softmax results (SciPy).

Each takes the result of the plain computation and reshapes or writes it; none of them copies
more than the result itself.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

import numpy as np
import numpy.typing as npt

_INT64 = np.dtype(np.int64)

# _api's out= check: (out, shape, dtype[, name]) -> out as a base ndarray; raises otherwise.
CheckOut = Callable[..., object]


def _axis_error(axis: int, ndim: int, name: str) -> Exception:
    """NumPy's AxisError (numpy.exceptions since NumPy 1.25), a ValueError subclass."""
    if hasattr(np, "exceptions"):
        return np.exceptions.AxisError(axis, ndim, msg_prefix=name)
    return ValueError(f"{name} {axis} is out of bounds for an array of dimension {ndim}")


def normalize_axes(axes: Sequence[Any], ndim: int, name: str = "axis") -> tuple[int, ...]:
    """A tuple axis as non-negative ints, checked like NumPy (range, repeats).

    Parameters
    ----------
    axes : sequence of int
        Axes of an array of `ndim` dimensions; negative ones count from the end.
    ndim : int
        The array's number of dimensions.
    name : str, default "axis"
        The argument's name in error messages.

    Returns
    -------
    tuple of int
        The axes in ``range(ndim)``, in the order given.

    Raises
    ------
    TypeError
        An entry is not an integer (bools included, as NumPy refuses them).
    numpy.exceptions.AxisError
        An axis is out of range (a ValueError, as NumPy raises).
    ValueError
        An axis is named twice.

    See Also
    --------
    numpy.lib.array_utils.normalize_axis_tuple : NumPy's own version of this check.

    Examples
    --------
    >>> from fasttopk._conventions import normalize_axes
    >>> normalize_axes((0, -1), 3)
    (0, 2)
    >>> normalize_axes((1, -2), 3)
    Traceback (most recent call last):
    ValueError: axis: repeated axis in (1, -2)
    """
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


def keep_reduced_axis(
    reduce: Callable[[npt.NDArray[Any], int | None], object],
    arr: npt.NDArray[Any],
    axis: int | None,
    out: npt.NDArray[Any] | None,
    check_out: CheckOut,
) -> Any:
    """NumPy's ``keepdims=True`` for argmax/argmin.

    Parameters
    ----------
    reduce : callable
        ``reduce(arr, axis)``: the reduction without keepdims (fasttopk.argmax or argmin).
    arr : numpy.ndarray
        The input.
    axis : int or None
        The reduced axis; None reduces over every axis (of the flattened array).
    out : numpy.ndarray or None
        An int64 array of the kept shape to write the result into, checked by `check_out`.
    check_out : callable
        ``check_out(out, shape, dtype)``: raises when `out` does not fit.

    Returns
    -------
    numpy.ndarray or numpy.int64
        The reduction with the reduced axis (every axis for ``axis=None``) kept with length
        one: `out` itself when given; a NumPy scalar for a 0-d `arr`, as NumPy gives.

    See Also
    --------
    numpy.argmax : whose ``keepdims`` this mirrors.

    Examples
    --------
    >>> import numpy as np
    >>> from fasttopk._conventions import keep_reduced_axis
    >>> x = np.array([[1, 5, 2], [7, 0, 7]])
    >>> keep_reduced_axis(np.argmax, x, 1, None, None)
    array([[1],
           [0]])
    >>> keep_reduced_axis(np.argmax, x, None, None, None)
    array([[3]])
    """
    result = np.asarray(reduce(arr, axis))  # also raises NumPy's errors for a bad axis
    if axis is None or arr.ndim == 0:
        shape = (1,) * arr.ndim
    else:
        (axis_,) = normalize_axes((axis,), arr.ndim)
        shape = (*arr.shape[:axis_], 1, *arr.shape[axis_ + 1:])
    result = result.reshape(shape)
    if out is None:
        return result if shape else result[()]  # NumPy: a 0-d input still gives a scalar
    check_out(out, shape, _INT64)
    out[...] = result
    return out


def topk_into(
    out: object, values: npt.NDArray[Any], indices: npt.NDArray[np.int64], check_out: CheckOut
) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
    """torch's ``topk(..., out=(values, indices))``: both checked, both written, returned.

    Parameters
    ----------
    out : tuple of two numpy.ndarray
        ``(values, indices)`` arrays of the result's shape: the values' dtype, then int64.
    values, indices : numpy.ndarray
        The computed top-k values and indices.
    check_out : callable
        ``check_out(array, shape, dtype, name)``: raises when an array does not fit.

    Returns
    -------
    tuple of two numpy.ndarray
        ``out``'s two arrays, filled.

    Raises
    ------
    TypeError
        `out` is not a pair.
    ValueError
        The two arrays of `out` overlap in memory.

    See Also
    --------
    torch.topk : whose ``out=`` this mirrors.

    Examples
    --------
    >>> import numpy as np
    >>> from fasttopk._conventions import topk_into
    >>> v, i = np.empty(2), np.empty(2, dtype=np.int64)
    >>> _ = topk_into((v, i), np.array([3.0, 2.0]), np.array([4, 0]), lambda *args: None)
    >>> v, i
    (array([3., 2.]), array([4, 0]))
    """
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
    if values is not values_out:  # else written there already (topk_out_in_place)
        values_out[...] = values
        indices_out[...] = indices
    return values_out, indices_out


def topk_out_in_place(
    out: object, rows: npt.NDArray[Any], k: int
) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]] | None:
    """``out``'s two arrays when the kernel can write them directly (zero copy), else None.

    They qualify when they are plain, aligned, C-contiguous, writeable ndarrays of shape
    ``(rows.shape[0], k)``, of `rows`' dtype and of int64, apart from each other and from
    `rows`. Either way :func:`topk_into` then checks them; it copies only what was not
    written in place, and raises what does not fit.

    Parameters
    ----------
    out : object
        The caller's ``out=`` argument, ``(values, indices)``.
    rows : numpy.ndarray
        The 2-D input, read along its last axis.
    k : int
        The number of values per row.

    Returns
    -------
    tuple of two numpy.ndarray or None
        ``out``'s arrays, for the kernel to fill; None when they do not qualify.

    See Also
    --------
    topk_into : checks out, and copies what was not written in place.

    Examples
    --------
    >>> import numpy as np
    >>> from fasttopk._conventions import topk_out_in_place
    >>> x = np.zeros((3, 5), np.float32)
    >>> out = (np.empty((3, 2), np.float32), np.empty((3, 2), np.int64))
    >>> topk_out_in_place(out, x, 2) is not None
    True
    >>> topk_out_in_place((out[0], out[0]), x, 2) is None
    True
    """
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return None
    shape = (rows.shape[0], k)
    for array, dtype in zip(out, (rows.dtype, _INT64)):
        if (
            type(array) is not np.ndarray
            or array.shape != shape
            or array.dtype != dtype
            or not (array.flags.c_contiguous and array.flags.aligned and array.flags.writeable)
        ):
            return None
    values_out, indices_out = out
    if any(np.may_share_memory(a, b) for a, b in ((values_out, indices_out), (values_out, rows), (indices_out, rows))):
        return None
    return values_out, indices_out


def over_axes(
    normalize: Callable[[npt.NDArray[Any], int], npt.NDArray[Any]],
    arr: npt.NDArray[Any],
    axes: Sequence[Any],
    out: npt.NDArray[Any] | None,
    check_out: CheckOut,
) -> npt.NDArray[Any]:
    """SciPy's tuple axis on softmax/log_softmax.

    `normalize` is applied jointly over `axes`: they are moved last, flattened into one
    axis, normalised, and moved back. Copies the moved input once (a reshape of moved axes).

    Parameters
    ----------
    normalize : callable
        ``normalize(array, axis)`` of an int axis (softmax or log_softmax along one axis).
    arr : numpy.ndarray
        The input.
    axes : sequence of int
        The axes normalised together; ``()`` normalises each element alone.
    out : numpy.ndarray or None
        An array of `arr`'s shape and the result's dtype to write into, checked by `check_out`.
    check_out : callable
        ``check_out(out, shape, dtype)``: raises when `out` does not fit.

    Returns
    -------
    numpy.ndarray
        The result, of `arr`'s shape (`out` itself when given).

    See Also
    --------
    scipy.special.softmax : whose tuple ``axis`` this mirrors.

    Examples
    --------
    >>> import numpy as np
    >>> from fasttopk._conventions import over_axes
    >>> def share(a, axis):
    ...     return a / a.sum(axis=axis, keepdims=True)
    >>> over_axes(share, np.array([[1.0, 1.0], [3.0, 3.0]]), (0, 1), None, None)
    array([[0.125, 0.125],
           [0.375, 0.375]])
    """
    axes_ = normalize_axes(axes, arr.ndim)
    if arr.ndim == 0:  # axis=(): each element alone
        result = np.asarray(normalize(arr.reshape(1), -1)).reshape(())
    else:
        last = tuple(range(arr.ndim - len(axes_), arr.ndim))
        moved = np.moveaxis(arr, axes_, last)
        kept = moved.shape[: arr.ndim - len(axes_)]
        flat = moved.reshape((*kept, int(np.prod(moved.shape[len(kept):], dtype=np.int64))))
        result = np.moveaxis(normalize(flat, -1).reshape(moved.shape), last, axes_)
    if out is None:
        return result
    check_out(out, arr.shape, result.dtype)
    out[...] = result
    return out


def scalar_if_0d(result: Any, out: object) -> Any:
    """SciPy returns a NumPy scalar, not a 0-d array, for a 0-d input.

    Parameters
    ----------
    result : object
        A computed result: an array, or anything else (returned as it is).
    out : object
        The caller's ``out=``; when given, `result` is returned as it is.

    Returns
    -------
    object
        ``result[()]`` for a 0-d array without `out`, else `result`.

    See Also
    --------
    scipy.special.softmax : which returns NumPy scalars for 0-d input.

    Examples
    --------
    >>> import numpy as np
    >>> from fasttopk._conventions import scalar_if_0d
    >>> scalar_if_0d(np.array(1.0), None)
    np.float64(1.0)
    >>> scalar_if_0d(np.array([1.0]), None)
    array([1.])
    """
    if out is None and isinstance(result, np.ndarray) and result.ndim == 0:
        return result[()]
    return result
