"""The softmax family on Dask arrays: lazy softmax, log_softmax, logsumexp and topk_softmax.

With the normalised axes in one chunk each block runs the in-memory function. Chunked, they
are a two-step combine: each block's maximum and sum of exp(x - maximum) (float64, NumPy on
the block: the kernels give a log-sum-exp, whose rounding at large |x| would spoil
exp(x - lse)), combined in a tree that rescales the sums by exp(m_block - m_global); then one
more pass writes SciPy's formulas (±inf and NaN rows as SciPy treats them). Equal to the
in-memory values to float rounding. topk_softmax's winners are topk's tree of records
(``_dask_blocks.topk_records``) on the logits themselves, their probabilities the same
two-step log-sum-exp of x / temperature.

Arguments are checked eagerly (nothing is computed) by calling the in-memory function on a
tiny probe array of the same dtype, so errors and result dtypes are the in-memory ones.
``out=`` is refused: a Dask result is a new lazy array.
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
    pack,
    probe_array,
    record_dtype,
    refuse_out,
    restore_axis,
    topk_records,
)

__all__ = ["log_softmax", "logsumexp", "softmax", "topk_softmax"]


# --- log-sum-exp and the softmax family ----------------------------------------------------


_STATS = np.dtype([("max", np.float64), ("sum", np.float64)])


def _shift(maximum: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """SciPy's shift: the maximum where it is finite, else 0."""
    return np.where(np.isfinite(maximum), maximum, 0.0)


def _drop(out: npt.NDArray[np.void], axis: tuple[int, ...], keepdims: bool) -> npt.NDArray[np.void]:
    return out if keepdims else out.reshape([n for i, n in enumerate(out.shape) if i not in axis])


def _stats_block(
    block: npt.ArrayLike, axis: tuple[int, ...], keepdims: bool = True, scale: float = 1.0
) -> npt.NDArray[np.void]:
    """(max, sum of exp(x - shift)) of a block over `axis`, in float64. Kept apart rather
    than folded into one log-sum-exp, so that exp(x - max) stays exact for large |x|."""
    apply_worker_thread_budget()
    a = np.asarray(block, dtype=np.float64)
    if scale != 1.0:
        a = a / scale
    shape = tuple(1 if i in axis else n for i, n in enumerate(a.shape))
    out = np.empty(shape, dtype=_STATS)
    if any(a.shape[i] == 0 for i in axis):
        out["max"], out["sum"] = -np.inf, 0.0
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            out["max"] = np.max(a, axis=axis, keepdims=True)
            out["sum"] = np.sum(np.exp(a - _shift(out["max"])), axis=axis, keepdims=True)
    return _drop(out, axis, keepdims)


def _stats_combine(
    stats: npt.NDArray[np.void], axis: tuple[int, ...], keepdims: bool = True
) -> npt.NDArray[np.void]:
    """Blocks' stats into their union's: the sums rescaled by exp(shift_block - shift)."""
    apply_worker_thread_budget()
    block_max, block_sum = stats["max"], stats["sum"]
    out = np.empty(tuple(1 if i in axis else n for i, n in enumerate(stats.shape)), _STATS)
    with np.errstate(invalid="ignore", over="ignore"):
        out["max"] = np.max(block_max, axis=axis, keepdims=True)
        rescaled = block_sum * np.exp(_shift(block_max) - _shift(out["max"]))
        # an all -inf block adds nothing (even where exp(0 - shift) overflows)
        out["sum"] = np.sum(np.where(block_max == -np.inf, 0.0, rescaled), axis=axis, keepdims=True)
    return _drop(out, axis, keepdims)


def _stats(x: da.Array, axes: tuple[int, ...], keepdims: bool, scale: float = 1.0) -> da.Array:
    """The float64 (max, sum) of x over `axes`, one pass: per block, then a tree."""
    return da.reduction(
        x, chunk=partial(_stats_block, scale=scale), combine=_stats_combine,
        aggregate=_stats_combine, axis=axes, keepdims=keepdims, dtype=_STATS,
        concatenate=True, meta=np.empty((0,) * (x.ndim if keepdims else x.ndim - len(axes)), _STATS),
    )


def _logsumexp_of_stats(stats: npt.NDArray[np.void], dtype: npt.DTypeLike) -> npt.NDArray[Any]:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: npt.NDArray[np.float64] = np.log(stats["sum"]) + _shift(stats["max"])
    return out.astype(dtype, copy=False)


def _from_stats(
    block: npt.ArrayLike, stats: npt.NDArray[np.void], log: bool, dtype: npt.DTypeLike, scale: float = 1.0
) -> npt.NDArray[Any]:
    """SciPy's formulas given the stats of the whole row: log_softmax (x - shift) - log(sum);
    softmax exp(x - shift) / sum, NaN in a row whose maximum is not finite."""
    apply_worker_thread_budget()
    a = np.asarray(block, dtype=np.float64)
    if scale != 1.0:
        a = a / scale
    maximum: npt.NDArray[np.float64] = stats["max"]
    total: npt.NDArray[np.float64] = stats["sum"]
    out: npt.NDArray[np.float64]
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        if log:
            out = (a - _shift(maximum)) - np.log(total)
        else:
            out = np.where(np.isfinite(maximum), np.exp(a - _shift(maximum)) / total, np.nan)
    return out.astype(dtype, copy=False)


def _softmax(x: Any, axis: int | tuple[int, ...] | None, out: object, log: bool) -> da.Array:
    refuse_out(out)
    x = as_dask_array(x)
    in_memory = _api.log_softmax if log else _api.softmax
    if x.ndim == 0:
        dtype = in_memory(np.zeros((), x.dtype), axis=axis).dtype
        return x.map_blocks(in_memory, axis=axis, dtype=dtype, meta=np.empty((), dtype))
    axes = _validation.normalize_axes(axis, x.ndim)
    dtype = in_memory(probe_array(x, small=axes), axis=axis).dtype
    if x.size == 0:
        return da.zeros(x.shape, dtype=dtype, chunks=x.chunks)
    if all(x.numblocks[i] == 1 for i in axes):
        return x.map_blocks(in_memory, axis=axis, dtype=dtype, meta=np.empty((0,) * x.ndim, dtype))
    stats = _stats(x, axes, keepdims=True)
    return da.map_blocks(_from_stats, x, stats, log, dtype, dtype=dtype,
                         meta=np.empty((0,) * x.ndim, dtype))


def softmax(x: Any, axis: int | tuple[int, ...] | None = -1, *, out: None = None) -> da.Array:
    """Lazy :func:`fasttopk.softmax` of a Dask array; a chunked axis takes a two-step combine.

    With the normalised axes in one chunk each block runs the kernel; chunked, each block's
    float64 (maximum, sum of exp) is combined in a tree, then a second pass writes SciPy's
    formula. Equal to the in-memory values to float rounding.

    Parameters
    ----------
    x : dask.array.Array
        Scores.
    axis : int, tuple of int or None, default -1
        The axis (axes, jointly; None: all) to normalise over.
    out : None
        Refused: a Dask result is a new lazy array.

    Returns
    -------
    dask.array.Array
        Lazy probabilities of `x`'s shape; float dtypes kept, integers as float64.

    See Also
    --------
    log_softmax : its logarithm; fasttopk.softmax : the in-memory function.

    Examples
    --------
    >>> import dask.array as da
    >>> import fasttopk
    >>> x = da.from_array([[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]], chunks=(1, 2))
    >>> fasttopk.softmax(x).compute(scheduler="synchronous")
    array([[0.25, 0.25, 0.25, 0.25],
           [0.25, 0.25, 0.25, 0.25]])
    """
    return _softmax(x, axis, out, log=False)


def log_softmax(x: Any, axis: int | tuple[int, ...] | None = -1, *, out: None = None) -> da.Array:
    """Lazy :func:`fasttopk.log_softmax` of a Dask array: SciPy's (x - max) - log(sum).

    Parameters
    ----------
    x : dask.array.Array
        Scores.
    axis : int, tuple of int or None, default -1
        The axis (axes, jointly; None: all) to normalise over.
    out : None
        Refused: a Dask result is a new lazy array.

    Returns
    -------
    dask.array.Array
        Lazy log-probabilities of `x`'s shape.

    See Also
    --------
    softmax : the probabilities; fasttopk.log_softmax : the in-memory function.

    Examples
    --------
    >>> import dask.array as da
    >>> import fasttopk
    >>> x = da.from_array([[0.0, 0.0], [2.0, 2.0]], chunks=1)
    >>> fasttopk.log_softmax(x).compute(scheduler="synchronous").round(4)
    array([[-0.6931, -0.6931],
           [-0.6931, -0.6931]])
    """
    return _softmax(x, axis, out, log=True)


def logsumexp(x: Any, axis: int | tuple[int, ...] | None = -1, *, keepdims: bool = False) -> da.Array:
    """Lazy :func:`fasttopk.logsumexp` (scipy.special.logsumexp's value) of a Dask array.

    One pass: each block's float64 (maximum, sum of exp) combined in a tree.

    Parameters
    ----------
    x : dask.array.Array
        Scores.
    axis : int, tuple of int or None, default -1
        The axis (axes; None: all) to reduce.
    keepdims : bool, default False
        Keep the reduced axes with length one.

    Returns
    -------
    dask.array.Array
        Lazy log(sum(exp(x))) over `axis`, in the in-memory function's dtype.

    See Also
    --------
    fasttopk.logsumexp : the in-memory function; scipy.special.logsumexp : the reference.

    Examples
    --------
    >>> import dask.array as da
    >>> import fasttopk
    >>> x = da.from_array([[0.0, 0.0, 0.0, 0.0]], chunks=(1, 2))
    >>> float(fasttopk.logsumexp(x).compute(scheduler="synchronous")[0].round(6))
    1.386294
    """
    import fasttopk

    x = as_dask_array(x)
    if x.ndim == 0:
        probe = np.asarray(fasttopk.logsumexp(np.zeros((), x.dtype), axis=axis, keepdims=keepdims))
        return logsumexp(x.reshape(1), 0, keepdims=False).astype(probe.dtype).reshape(probe.shape)
    axes = _validation.normalize_axes(axis, x.ndim)
    probe = np.asarray(fasttopk.logsumexp(probe_array(x, small=axes), axis=axis, keepdims=keepdims))
    if x.size == 0:  # no data to read: the in-memory answer on the (empty) array itself
        return da.from_array(np.asarray(fasttopk.logsumexp(
            np.zeros(x.shape, x.dtype), axis=axis, keepdims=keepdims)))
    stats = _stats(x, axes, keepdims=keepdims)
    return stats.map_blocks(_logsumexp_of_stats, probe.dtype, dtype=probe.dtype,
                            meta=np.empty((0,) * stats.ndim, probe.dtype))


# --- topk_softmax -----------------------------------------------------------------------------


def _topk_softmax_block(
    block: npt.NDArray[Any], k: int, temperature: float, log: bool, sorted: bool, record: np.dtype[np.void]
) -> npt.NDArray[np.void]:
    import fasttopk

    apply_worker_thread_budget()
    values, indices = fasttopk.topk_softmax(
        block, k, axis=-1, temperature=temperature, log=log, sorted=sorted
    )
    return pack(values, indices, record)


def topk_softmax(
    x: Any, k: int, *, axis: int = -1, temperature: float = 1.0, log: bool = False, sorted: bool = True
) -> Any:
    """Lazy :func:`fasttopk.topk_softmax` of a Dask array.

    With the class axis in one chunk, each block runs the fused kernel. Chunked, the winners
    are topk's tree on the logits themselves (the same selection and ties as the fused
    kernel) and their probabilities come from the two-step log-sum-exp of x / temperature:
    exp(v / T - lse), or v / T - lse with log=True.

    Parameters
    ----------
    x : dask.array.Array
        Logits.
    k : int
        How many of the largest probabilities to keep along `axis`.
    axis : int, default -1
        The class axis.
    temperature : float, default 1.0
        Divides the logits before the softmax; finite and > 0.
    log : bool, default False
        Log-probabilities instead of probabilities.
    sorted : bool, default True
        Whether the k are in descending order.

    Returns
    -------
    TopK
        ``(values, indices)``: lazy Dask arrays with `k` along `axis`.

    See Also
    --------
    fasttopk.topk_softmax : the in-memory function.

    Examples
    --------
    >>> import dask.array as da
    >>> import fasttopk
    >>> x = da.from_array([[0.0, 0.0, 0.0, 0.0]], chunks=(1, 2))
    >>> values, indices = fasttopk.topk_softmax(x, 2)
    >>> values.compute(scheduler="synchronous"), indices.compute(scheduler="synchronous")
    (array([[0.25, 0.25]]), array([[0, 1]]))
    """
    import fasttopk

    x = as_dask_array(x)
    if x.ndim == 0:
        raise ValueError("x must have at least one dimension")
    axis_ = _validation.normalize_axis(axis, x.ndim)
    probe = fasttopk.topk_softmax(
        probe_array(x, full=(axis_,)), k, axis=axis_, temperature=temperature, log=log, sorted=sorted
    )
    dtype = probe.values.dtype
    k = int(k)
    moved = axis_last(x, axis_)
    if k == 0 or x.size == 0:
        chunks = (*moved.chunks[:-1], (k,))
        shape = (*moved.shape[:-1], k)
        values = da.zeros(shape, dtype=dtype, chunks=chunks)
        indices = da.zeros(shape, dtype=np.int64, chunks=chunks)
    elif moved.numblocks[-1] == 1:
        record = record_dtype(dtype)
        records = moved.map_blocks(
            _topk_softmax_block, k, temperature, bool(log), bool(sorted), record,
            chunks=(*moved.chunks[:-1], (k,)), dtype=record,
            meta=np.empty((0,) * moved.ndim, record),
        )
        values, indices = records["value"], records["index"]
    else:
        records = topk_records(moved, k, True, True)
        stats = _stats(moved, (moved.ndim - 1,), keepdims=True, scale=float(temperature))
        values = da.map_blocks(_from_stats, records["value"], stats, bool(log), dtype,
                               float(temperature), dtype=dtype)
        indices = records["index"]
    return _api.TopK(restore_axis(values, axis_), restore_axis(indices, axis_))
