"""Selection on Dask arrays: lazy topk, argtopk, argmax and argmin.

Rows may be chunked any way; every block then runs the in-memory function on its rows. A
chunked class axis takes a tree reduction (``da.reduction``, ``split_every``) of each block's
winners, carried as (value, global index) records: topk's through
``_dask_blocks.topk_records``, argmax/argmin's here. Merging runs the same kernel on the
candidates in block order, so the kernel's own tie rule (lower index first, NaN first,
-0.0 == +0.0; NumPy's first extreme / first NaN for argmax) is the global one, and the indices
and values equal the in-memory answer exactly.

Arguments are checked eagerly (nothing is computed) by calling the in-memory function on a
tiny probe array of the same dtype and axis length, so errors and result dtypes are the
in-memory ones. ``out=`` is refused: a Dask result is a new lazy array.
"""
from __future__ import annotations

from functools import partial
from typing import Any

import dask.array as da
import numpy as np
import numpy.typing as npt

from . import _api, _validation
from ._dask_blocks import (
    apply_worker_thread_budget,
    as_dask_array,
    axis_last,
    block_offset,
    identity,
    pack,
    probe_array,
    record_dtype,
    refuse_out,
    restore_axis,
    topk_records,
)

__all__ = ["argmax", "argmin", "argtopk", "topk"]


# --- top-k --------------------------------------------------------------------------------------


def _topk(x: Any, k: Any, axis: Any, largest: Any, sorted: Any) -> tuple[da.Array, da.Array]:
    x = as_dask_array(x)
    if x.ndim == 0:
        raise ValueError("x must have at least one dimension")
    axis_ = _validation.normalize_axis(axis, x.ndim)
    probe = _api.topk(probe_array(x, full=(axis_,)), k, axis=axis_, largest=largest, sorted=sorted)
    k = int(k)
    moved = axis_last(x, axis_)
    if k == 0 or x.size == 0:
        shape = (*moved.shape[:-1], k)
        chunks = (*moved.chunks[:-1], (k,))
        values = da.zeros(shape, dtype=probe.values.dtype, chunks=chunks)
        indices = da.zeros(shape, dtype=np.int64, chunks=chunks)
    else:
        records = topk_records(moved, k, bool(largest), bool(sorted))
        values, indices = records["value"], records["index"]
    return restore_axis(values, axis_), restore_axis(indices, axis_)


def topk(x: Any, k: int, *, axis: int = -1, largest: bool = True, sorted: bool = True) -> Any:
    """Lazy :func:`fasttopk.topk` of a Dask array.

    Rows may be chunked any way; a chunked class axis takes a tree reduction of each block's
    winners, with the in-memory tie rule (see the module docstring).

    Parameters
    ----------
    x : dask.array.Array
        Scores; any leading dimensions are batch dimensions. Its chunk sizes must be known.
    k : int
        How many to keep along `axis`, ``0 <= k <= x.shape[axis]``.
    axis : int, default -1
        The axis to select along.
    largest : bool, default True
        The k largest (descending, NaN first) or, with False, the k smallest (ascending).
    sorted : bool, default True
        Whether the k are in order; False returns the same set in any order.

    Returns
    -------
    TopK
        ``(values, indices)``: lazy Dask arrays, `x`'s shape with `k` along `axis`; values
        in `x`'s dtype, indices int64.

    Raises
    ------
    ValueError, TypeError
        The in-memory function's errors for these arguments, at once (nothing is computed).

    See Also
    --------
    fasttopk.topk : the in-memory function, whose answers these equal exactly.

    Examples
    --------
    >>> import dask.array as da
    >>> import fasttopk
    >>> x = da.from_array([[0.1, 0.7, 0.2, 0.7], [0.9, 0.0, 0.3, 0.5]], chunks=(1, 2))
    >>> values, indices = fasttopk.topk(x, 2)
    >>> indices.compute(scheduler="synchronous")
    array([[1, 3],
           [0, 3]])
    """
    values, indices = _topk(x, k, axis, largest, sorted)
    return _api.TopK(values, indices)


def argtopk(x: Any, k: int, *, axis: int = -1, largest: bool = True, sorted: bool = True) -> da.Array:
    """Lazy :func:`fasttopk.argtopk` of a Dask array: the indices of :func:`topk`.

    Parameters
    ----------
    x : dask.array.Array
        Scores; any leading dimensions are batch dimensions.
    k : int
        How many to keep along `axis`.
    axis : int, default -1
        The axis to select along.
    largest : bool, default True
        The k largest or, with False, the k smallest.
    sorted : bool, default True
        Whether the k are in order.

    Returns
    -------
    dask.array.Array
        Lazy int64 indices, `x`'s shape with `k` along `axis`.

    See Also
    --------
    topk : the values as well; fasttopk.argtopk : the in-memory function.

    Examples
    --------
    >>> import dask.array as da
    >>> import fasttopk
    >>> x = da.from_array([[3, 1, 2], [1, 1, 0]], chunks=1)
    >>> fasttopk.argtopk(x, 1, largest=False).compute(scheduler="synchronous")
    array([[1],
           [2]])
    """
    return _topk(x, k, axis, largest, sorted)[1]


# --- argmax / argmin ----------------------------------------------------------------------------


def _arg_block(
    block: npt.NDArray[Any], find_min: bool, record: np.dtype[np.void] | None, global_index: bool,
    keep_axis: bool, block_info: Any = None,
) -> Any:
    apply_worker_thread_budget()
    if block.shape[-1] == 0:  # an empty block of a non-empty axis: no candidate
        return np.empty(block.shape, dtype=record)
    idx = (_api.argmin if find_min else _api.argmax)(block, axis=-1)
    if not keep_axis:
        return idx
    assert record is not None  # keep_axis: the callers pass the record dtype
    idx = np.asarray(idx)[..., None]
    values = np.take_along_axis(block, idx, axis=-1)
    return pack(values, idx + (block_offset(block_info) if global_index else 0), record)


def _arg_merge(
    candidates: npt.NDArray[np.void], axis: object = None, keepdims: bool = True, *, find_min: bool
) -> npt.NDArray[np.void]:
    apply_worker_thread_budget()
    pos = (_api.argmin if find_min else _api.argmax)(candidates["value"], axis=-1)
    best = np.take_along_axis(candidates, np.asarray(pos)[..., None], axis=-1)
    return best if keepdims else best[..., 0]


def _arg_reduce(x: Any, axis: int | None, out: object, find_min: bool, keepdims: bool = False) -> da.Array:
    refuse_out(out)
    x = as_dask_array(x)
    in_memory = _api.argmin if find_min else _api.argmax
    if keepdims:  # NumPy's keepdims: the reduced axis (all axes for axis=None) kept, length 1
        result = _arg_reduce(x, axis, None, find_min)
        if axis is None:
            return result.reshape((1,) * x.ndim)
        return da.expand_dims(result, _validation.normalize_axis(axis, x.ndim))
    if axis is None or x.ndim == 0:
        in_memory(probe_array(x, small=range(x.ndim)), axis=axis)  # the same errors
        return _arg_reduce(x.reshape(-1), 0, None, find_min)
    axis_ = _validation.normalize_axis(axis, x.ndim)
    in_memory(probe_array(x, small=(axis_,)), axis=axis_)
    moved = axis_last(x, axis_)
    if moved.numblocks[-1] == 1:
        return moved.map_blocks(
            _arg_block, find_min, None, False, False, drop_axis=moved.ndim - 1, dtype=np.int64,
            meta=np.empty((0,) * (moved.ndim - 1), np.int64),
        )
    record = record_dtype(moved.dtype)
    candidates = moved.map_blocks(
        _arg_block, find_min, record, True, True,
        chunks=(*moved.chunks[:-1], (1,) * moved.numblocks[-1]), dtype=record,
        meta=np.empty((0,) * moved.ndim, record),
    )
    merge = partial(_arg_merge, find_min=find_min)
    best = da.reduction(
        candidates, chunk=identity, combine=merge, aggregate=merge, axis=moved.ndim - 1,
        keepdims=False, dtype=record, concatenate=True,
        meta=np.empty((0,) * (moved.ndim - 1), record),
    )
    return best.map_blocks(_index_of, dtype=np.int64, meta=np.empty((0,) * best.ndim, np.int64))


def _index_of(best: npt.NDArray[np.void]) -> Any:
    index = best["index"]
    return index[()] if index.ndim == 0 else index  # a NumPy scalar, as np.argmax gives


def argmax(x: Any, axis: int | None = -1, *, out: None = None, keepdims: bool = False) -> da.Array:
    """Lazy :func:`fasttopk.argmax` of a Dask array: NumPy's first maximum or first NaN.

    A chunked `axis` takes a tree reduction of each block's (value, global index) winner.

    Parameters
    ----------
    x : dask.array.Array
        Scores of any real dtype.
    axis : int or None, default -1
        The axis to reduce; None reduces the flattened array (NumPy's flat index).
    out : None
        Refused: a Dask result is a new lazy array.
    keepdims : bool, default False
        Keep the reduced axis (every axis for None) with length one, as NumPy does.

    Returns
    -------
    dask.array.Array
        Lazy int64 indices; 0-d for ``axis=None``.

    Raises
    ------
    TypeError
        `out` is given.

    See Also
    --------
    fasttopk.argmax : the in-memory function; numpy.argmax : whose answers both equal.

    Examples
    --------
    >>> import dask.array as da
    >>> import fasttopk
    >>> x = da.from_array([[1.0, 4.0, 4.0, 2.0], [5.0, 0.0, 6.0, 6.0]], chunks=(2, 2))
    >>> fasttopk.argmax(x).compute(scheduler="synchronous")
    array([1, 2])
    """
    return _arg_reduce(x, axis, out, False, keepdims)


def argmin(x: Any, axis: int | None = -1, *, out: None = None, keepdims: bool = False) -> da.Array:
    """Lazy :func:`fasttopk.argmin` of a Dask array: NumPy's first minimum or first NaN.

    Parameters
    ----------
    x : dask.array.Array
        Scores of any real dtype.
    axis : int or None, default -1
        The axis to reduce; None reduces the flattened array.
    out : None
        Refused: a Dask result is a new lazy array.
    keepdims : bool, default False
        Keep the reduced axis with length one.

    Returns
    -------
    dask.array.Array
        Lazy int64 indices.

    See Also
    --------
    argmax : the same for the maximum; fasttopk.argmin : the in-memory function.

    Examples
    --------
    >>> import dask.array as da
    >>> import fasttopk
    >>> x = da.from_array([[1.0, 0.0, 0.0], [5.0, 2.0, 6.0]], chunks=(1, 2))
    >>> fasttopk.argmin(x, axis=None).compute(scheduler="synchronous")
    np.int64(1)
    """
    return _arg_reduce(x, axis, out, True, keepdims)
