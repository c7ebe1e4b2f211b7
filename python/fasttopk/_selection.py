"""topk and argtopk: the selections, checked here and done in fasttopk._core (argmax and
argmin live in _argreduce).

Rules kept here: how an `axis` becomes rows, when a copy is made, and which form of the input
(Dask, torch/JAX, class labels) is routed where. The order and NaN rule lives in the C++ core
(src/fasttopk/order.hpp).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _conventions, _core, _interop
from ._dask_dispatch import dask_api, is_dask
from ._layout import (
    Panels,
    direct_columns,
    direct_rows,
    from_core,
    reduction_view,
    restore_axis,
    restore_panels,
    to_core,
)
from ._validation import (
    as_real_array,
    check_flag,
    check_k,
    check_out,
    normalize_axis,
    refuse_dask_classes,
)

if TYPE_CHECKING:  # (_classes imports TopK from here)
    from ._classes import LabeledTopK

__all__ = ["TopK", "argtopk", "topk"]


class TopK(NamedTuple):
    """The result of :func:`topk` and :func:`topk_softmax`, like ``torch.topk``'s.

    Attributes
    ----------
    values : array
        The selected values, with `k` along the reduced axis.
    indices : array
        Their int64 indices along that axis.

    Both are arrays of the input's library: torch tensors for a tensor, JAX arrays for a JAX
    array, NumPy arrays otherwise.

    See Also
    --------
    topk, topk_softmax

    Examples
    --------
    >>> import fasttopk
    >>> values, indices = fasttopk.topk([[1.0, 3.0, 2.0]], 2)
    >>> values
    array([[3., 2.]])
    >>> fasttopk.topk([[1.0, 3.0, 2.0]], 1).indices
    array([[1]])
    """

    values: Any
    indices: Any


# --- topk / argtopk -------------------------------------------------------------------------


def _topk(
    x: object, k: object, axis: object, largest: object, sorted: object, out: object = None
) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """The values and indices of topk; on the fast path written into `out`'s arrays when
    they qualify (:func:`_conventions.topk_out_in_place`), which the caller's copy then skips."""
    largest = check_flag(largest, "largest")
    sorted = check_flag(sorted, "sorted")
    fast = direct_rows(x, axis)
    if fast is not None and type(k) is int and 0 < k <= fast.shape[1]:
        into = _conventions.topk_out_in_place(out, fast, k) if out is not None and fast is x else None
        values, indices = into or (
            np.empty((fast.shape[0], k), dtype=fast.dtype),
            np.empty((fast.shape[0], k), dtype=np.int64),
        )
        _core.topk(fast, k, largest, sorted, values, indices)
        return (values, indices) if fast is x else (values[0], indices[0])
    panel = direct_columns(x, axis)
    if panel is not None and type(k) is int and 0 < k <= panel.shape[1]:
        values, indices = _topk_of_panels(panel, k, largest)
        return values[0], indices[0]
    arr = as_real_array(x, "x")
    if arr.ndim == 0:
        raise ValueError("x must have at least one dimension")
    axis_ = normalize_axis(axis, arr.ndim)
    k = check_k(k, arr.shape[axis_])
    core = to_core(arr)
    source = reduction_view(core, axis_)
    if isinstance(source, Panels):  # along a non-last axis, read in place
        return _topk_panels(source, k, largest, arr.shape, axis_, arr.dtype)
    values = np.empty((source.shape[0], k), dtype=core.dtype)
    indices = np.empty((source.shape[0], k), dtype=np.int64)
    if values.size:
        _core.topk(source, k, largest, sorted, values, indices)
    values = restore_axis(values, arr.shape, axis_)
    indices = restore_axis(indices, arr.shape, axis_)
    return from_core(values, arr.dtype), indices


def _topk_of_panels(
    view: NDArray[Any], k: int, largest: bool
) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """The core's topk down the middle axis of a (n_outer, n, n_inner) view: values (in the
    view's dtype) and indices of shape (n_outer, k, n_inner)."""
    n_outer, _, n_inner = view.shape
    values = np.empty((n_outer, k, n_inner), dtype=view.dtype)
    indices = np.empty((n_outer, k, n_inner), dtype=np.int64)
    if k:
        _core.topk_panels(view, k, largest, values, indices)
    return values, indices


def _topk_panels(
    source: Panels,
    k: int,
    largest: bool,
    shape: tuple[int, ...],
    axis: int,
    dtype: np.dtype[Any],
) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """topk along the middle axis of `source`'s panels, read where it lies (always sorted)."""
    values, indices = _topk_of_panels(source.view, k, largest)
    result_shape = (*shape[:axis], k, *shape[axis + 1:])
    return (
        from_core(restore_panels(values, result_shape, source.order), dtype),
        restore_panels(indices, result_shape, source.order),
    )


@overload
def topk(
    x: ArrayLike,
    k: int,
    *,
    axis: int = ...,
    largest: bool = ...,
    sorted: bool = ...,
    out: tuple[NDArray[Any], NDArray[np.int64]] | None = ...,
    classes: None = ...,
) -> TopK: ...


@overload
def topk(
    x: ArrayLike,
    k: int,
    *,
    axis: int = ...,
    largest: bool = ...,
    sorted: bool = ...,
    out: tuple[NDArray[Any], NDArray[np.int64]] | None = ...,
    classes: ArrayLike,
) -> LabeledTopK: ...


def topk(
    x: ArrayLike,
    k: int,
    *,
    axis: int = -1,
    largest: bool = True,
    sorted: bool = True,
    out: tuple[NDArray[Any], NDArray[np.int64]] | None = None,
    classes: ArrayLike | None = None,
) -> TopK:
    """The `k` largest (or smallest) values along `axis` and their indices, like ``torch.topk``.

    Parameters
    ----------
    x : array-like
        Real numbers, at least 1-D: NumPy arrays, lists, torch/JAX CPU tensors. float32,
        float64, int32, int64, float16 and bfloat16 are read in place when `axis` is
        contiguous, or when the axes after it form one contiguous block (axis 0 of a
        row-major matrix: down the columns, no transposed copy); other integer dtypes and
        bools are converted exactly, once.
    k : int
        How many values per row, ``0 <= k <= x.shape[axis]``.
    axis : int, default=-1
        The axis to select along; every other axis is a batch axis.
    largest : bool, default=True
        The largest values (descending); False: the smallest (ascending).
    sorted : bool, default=True
        Return the values in order; False returns the same set in an unspecified order.
    out : tuple of two ndarrays, optional
        ``(values, indices)``, torch's convention: arrays of the result's shapes and dtypes,
        filled and returned. Along the last axis of a 2-D array, C-contiguous ones apart from
        `x` are written by the kernel directly, with no temporary.
    classes : array-like of shape (x.shape[axis],), optional
        One label per position along `axis`: the result also has ``.labels``, the labels of
        ``indices``, and still unpacks as ``values, indices``.

    Returns
    -------
    TopK
        ``(values, indices)``: values of the input's dtype and int64 indices, both with `k`
        along `axis`, in the input's library for torch and JAX inputs.

    Notes
    -----
    Order: descending for ``largest=True`` (ascending otherwise); equal values in ascending
    index order; NaN above +inf (first when largest, last otherwise); -0.0 equal to +0.0.

    See Also
    --------
    argtopk, topk_softmax, argmax, torch.topk

    Examples
    --------
    >>> import numpy as np, fasttopk
    >>> x = np.array([[0.1, 0.7, 0.2], [5.0, np.nan, 5.0]])
    >>> fasttopk.topk(x, 2)
    TopK(values=array([[0.7, 0.2],
           [nan, 5. ]]), indices=array([[1, 2],
           [1, 0]]))
    >>> fasttopk.topk(x, 1, largest=False).indices
    array([[0],
           [0]])
    >>> fasttopk.topk(x, 1, classes=["cat", "dog", "owl"]).labels
    array([['dog'],
           ['dog']], dtype='<U3')
    """
    if is_dask(x):
        if out is not None:
            raise TypeError("out= is not supported for Dask arrays: the result is a new Dask array")
        refuse_dask_classes(classes)
        lazy: TopK = dask_api().topk(x, k, axis=axis, largest=largest, sorted=sorted)
        return lazy
    result: TopK
    if type(x) is not np.ndarray and _interop.library_of(x):  # torch/JAX: results in kind
        result = _interop.call_in_library(
            topk, x, k, axis=axis, largest=largest, sorted=sorted, out=out
        )
    else:
        values, indices = _topk(x, k, axis, largest, sorted, out)
        if out is not None:
            values, indices = _conventions.topk_into(out, values, indices, check_out)
        result = TopK(values, indices)
    if classes is not None:
        from ._classes import topk_labels

        return topk_labels(result, x, axis, classes)
    return result


def argtopk(
    x: ArrayLike,
    k: int,
    *,
    axis: int = -1,
    largest: bool = True,
    sorted: bool = True,
    classes: ArrayLike | None = None,
) -> Any:
    """The int64 indices of :func:`topk`; with `classes`, their labels instead.

    Parameters
    ----------
    x : array-like
        Real numbers, at least 1-D, as for :func:`topk`.
    k : int
        How many indices per row, ``0 <= k <= x.shape[axis]``.
    axis : int, default=-1
        The axis to select along.
    largest : bool, default=True
        The indices of the largest values; False: of the smallest.
    sorted : bool, default=True
        In the order of the values; False: the same set in an unspecified order.
    classes : array-like of shape (x.shape[axis],), optional
        One label per position along `axis`: their labels are returned instead.

    Returns
    -------
    ndarray of int64, or array of labels
        `k` along `axis`, in the input's library for torch and JAX inputs.

    See Also
    --------
    topk, argmax

    Examples
    --------
    >>> import fasttopk
    >>> fasttopk.argtopk([[0.1, 0.7, 0.2, 0.9]], 3)
    array([[3, 1, 2]])
    >>> fasttopk.argtopk([[0.1, 0.7, 0.2, 0.9]], 2, classes=["a", "b", "c", "d"])
    array([['d', 'b']], dtype='<U1')
    """
    if is_dask(x):
        refuse_dask_classes(classes)
        return dask_api().argtopk(x, k, axis=axis, largest=largest, sorted=sorted)
    if type(x) is not np.ndarray and _interop.library_of(x):  # torch/JAX: results in kind
        indices = _interop.call_in_library(
            argtopk, x, k, axis=axis, largest=largest, sorted=sorted
        )
    else:
        indices = _topk(x, k, axis, largest, sorted)[1]
    if classes is not None:
        from ._classes import argtopk_labels

        return argtopk_labels(indices, x, axis, classes)
    return indices
