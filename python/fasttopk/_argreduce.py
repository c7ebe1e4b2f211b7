"""argmax and argmin: the arg-reductions, checked here and done in fasttopk._core.

Rules kept here: how an `axis` becomes rows or is read down the columns, NumPy's empty-axis
error, when out= is written in place, and which form of the input (Dask, torch/JAX, class
labels, keepdims) is routed where. The order and NaN rule lives in the C++ core
(src/fasttopk/argmax.hpp).
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _conventions, _core, _interop
from ._dask_dispatch import dask_api, is_dask
from ._layout import direct_rows, overlaps, rows, to_core
from ._validation import as_real_array, check_out, normalize_axis, refuse_dask_classes

__all__ = ["argmax", "argmin"]


def _arg_reduce(
    x: object, axis: int | None, out: object, find_min: bool, fname: str
) -> Any:
    arr = as_real_array(x, "x")
    if arr.ndim == 0 and axis is not None:
        normalize_axis(axis, 1)  # like NumPy: a 0-d array is one element along axis 0 (or -1)
        axis = None
    result_shape: tuple[int, ...]
    if axis is None:
        arr = arr.reshape(-1)
        axis_ = 0
        result_shape = ()
    else:
        axis_ = normalize_axis(axis, arr.ndim)
        result_shape = arr.shape[:axis_] + arr.shape[axis_ + 1 :]
    # NumPy's rule: an empty reduction axis is an error, even when no row would be reduced.
    if arr.shape[axis_] == 0:
        raise ValueError(
            f"attempt to get {fname} of an empty sequence (x has an empty axis {axis})"
        )
    core = to_core(arr)
    if (
        core.ndim == 2
        and axis_ == 0
        and core.shape[1] > 1
        and core.strides[1] == core.itemsize
        and core.flags.aligned
    ):
        # Down the columns of a row-major matrix: read in place, not through a transposed copy.
        source, reduce, n_results = core, _core.arg_reduce_columns, core.shape[1]
    else:
        source = rows(core, axis_)
        reduce, n_results = _core.arg_reduce, source.shape[0]
    if out is not None:
        dest = check_out(out, result_shape, np.dtype(np.int64))
        if n_results == 0:
            return out
        flat = dest.reshape(-1) if dest.flags.c_contiguous else None
        # Written in place unless out overlaps what the core reads (then staged, as NumPy).
        if (
            flat is not None
            and dest.dtype.isnative
            and dest.flags.aligned
            and not overlaps(flat, source)
        ):
            reduce(source, find_min, flat)
            return out
        tmp = np.empty(n_results, dtype=np.int64)
        reduce(source, find_min, tmp)
        dest[...] = tmp.reshape(result_shape)
        return out
    result = np.empty(n_results, dtype=np.int64)
    if n_results:
        reduce(source, find_min, result)
    if not result_shape:  # axis=None, or a 1-D x: a NumPy scalar, as np.argmax gives
        return np.int64(result[0])
    return result.reshape(result_shape)


def _arg_extreme(
    public: Any,
    x: Any,
    axis: int | None,
    out: NDArray[np.int64] | None,
    keepdims: bool,
    classes: ArrayLike | None,
    find_min: bool,
) -> Any:
    """argmax/argmin: `public` is the function itself, for the forms that call it again
    (Dask, class labels, torch/JAX inputs, keepdims); then the kernel on NumPy input."""
    name = public.__name__
    if is_dask(x):
        refuse_dask_classes(classes)
        return getattr(dask_api(), name)(x, axis, out=out, keepdims=keepdims)
    if classes is not None:
        from ._classes import arg_labels

        return arg_labels(functools.partial(public, keepdims=keepdims), x, axis, out, classes)
    if type(x) is not np.ndarray and _interop.library_of(x):  # torch/JAX: results in kind
        return _interop.call_in_library(public, x, axis, out=out, keepdims=keepdims)
    if keepdims:
        return _conventions.keep_reduced_axis(public, as_real_array(x, "x"), axis, out, check_out)
    fast = direct_rows(x, axis) if out is None else None
    if fast is not None:
        result = np.empty(fast.shape[0], dtype=np.int64)
        _core.arg_reduce(fast, find_min, result)
        return result if x.ndim == 2 else result[0]
    return _arg_reduce(x, axis, out, find_min, name)


def argmax(
    x: ArrayLike,
    axis: int | None = -1,
    *,
    out: NDArray[np.int64] | None = None,
    keepdims: bool = False,
    classes: ArrayLike | None = None,
) -> Any:
    """Index of the largest value along `axis`, exactly as ``np.argmax``.

    The first occurrence of the maximum, or the first NaN if the row has one.

    Parameters
    ----------
    x : array-like
        Real numbers: NumPy arrays, lists, torch/JAX CPU tensors; float16 and bfloat16 are
        read as they are.
    axis : int or None, default=-1
        The axis to reduce (the last, where NumPy's default is None); None searches the
        flattened array.
    out : ndarray of int64, optional
        Receives the indices (the result's shape); returned.
    keepdims : bool, default=False
        Keep the reduced axis with length one, as in NumPy.
    classes : array-like of shape (x.shape[axis],), optional
        One label per position along `axis`: the labels of the indices are returned instead.

    Returns
    -------
    ndarray of int64, NumPy scalar, or array of labels
        The indices (a NumPy scalar for 1-D input or ``axis=None``), in the input's library
        for torch and JAX inputs; with `classes`, their labels.

    See Also
    --------
    argmin, topk, numpy.argmax

    Examples
    --------
    >>> import numpy as np, fasttopk
    >>> x = np.array([[1.0, 5.0, 5.0], [np.nan, 2.0, 7.0]])
    >>> fasttopk.argmax(x)
    array([1, 0])
    >>> fasttopk.argmax(x, classes=["cat", "dog", "owl"])
    array(['dog', 'cat'], dtype='<U3')
    """
    return _arg_extreme(argmax, x, axis, out, keepdims, classes, find_min=False)


def argmin(
    x: ArrayLike,
    axis: int | None = -1,
    *,
    out: NDArray[np.int64] | None = None,
    keepdims: bool = False,
    classes: ArrayLike | None = None,
) -> Any:
    """Index of the smallest value along `axis`, exactly as ``np.argmin``.

    The first occurrence of the minimum, or the first NaN if the row has one.

    Parameters
    ----------
    x : array-like
        Real numbers, as for :func:`argmax`.
    axis : int or None, default=-1
        The axis to reduce; None searches the flattened array.
    out : ndarray of int64, optional
        Receives the indices (the result's shape); returned.
    keepdims : bool, default=False
        Keep the reduced axis with length one, as in NumPy.
    classes : array-like of shape (x.shape[axis],), optional
        One label per position along `axis`: the labels of the indices are returned instead.

    Returns
    -------
    ndarray of int64, NumPy scalar, or array of labels
        As :func:`argmax`.

    See Also
    --------
    argmax, topk, numpy.argmin

    Examples
    --------
    >>> import numpy as np, fasttopk
    >>> fasttopk.argmin(np.array([[3, 1, 1], [0, 2, -4]]))
    array([1, 2])
    >>> fasttopk.argmin(np.array([[3, 1], [0, 2]]), axis=0, keepdims=True)
    array([[1, 0]])
    """
    return _arg_extreme(argmin, x, axis, out, keepdims, classes, find_min=True)
