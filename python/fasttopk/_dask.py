"""The array functions on Dask arrays: lazy results built from the kernels chunk by chunk.

Rows may be chunked any way; every block then runs the in-memory function on its rows. When
the class axis is chunked too (vocabulary-sharded logits):

- top-k and argmax/argmin are a tree reduction (``da.reduction``, ``split_every``) of each
  block's winners, carried as (value, global index) records. Merging concatenates candidates in
  block order and runs the same kernel on them again: candidates of equal value then sit in
  ascending global-index order, so the kernel's own tie rule (lower index first, NaN first,
  -0.0 == +0.0; NumPy's first extreme / first NaN for argmax) is the global one, and the
  indices and values equal the in-memory answer exactly.
- softmax, log_softmax, logsumexp and topk_softmax's probabilities are a two-step combine: each
  block's maximum and sum of exp(x - maximum) (float64, NumPy on the block: the kernels give a
  log-sum-exp, whose rounding at large |x| would spoil exp(x - lse)), combined in a tree that
  rescales the sums by exp(m_block - m_global); then one more pass writes SciPy's formulas
  (±inf and NaN rows as SciPy treats them). Equal to the in-memory values to float rounding.

Arguments are checked eagerly (nothing is computed) by calling the in-memory function on a
tiny probe array of the same dtype and axis length, so errors and result dtypes are the
in-memory ones. ``out=`` is refused: a Dask result is a new lazy array.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Collection
from functools import partial
from typing import Any

import dask.array as da
import numpy as np
import numpy.typing as npt

from . import _api, _validation

__all__ = [
    "apply_worker_thread_budget", "argmax", "argmin", "argtopk", "log_softmax", "logsumexp",
    "softmax", "topk", "topk_softmax",
]


# --- each distributed worker's thread budget --------------------------------------------------

_budget_applied_pid: int | None = None


def apply_worker_thread_budget() -> None:
    """Gives fasttopk's pool one thread in a Dask worker process; called by every task.

    In a ``distributed`` worker process, the first task sets fasttopk's pool to one thread
    (once per process): the worker's ``nthreads`` task threads are its thread budget, each
    task runs its kernel on its own thread, so T tasks never start T pools of the machine's
    size. This is Dask's own convention for native libraries (its nanny sets
    OMP_NUM_THREADS=1). FASTTOPK_NUM_THREADS in the worker's environment, or a later
    ``client.run(fasttopk.set_num_threads, n)``, overrides it. Outside a worker (local
    schedulers, the client) it changes nothing.

    See Also
    --------
    fasttopk.set_num_threads : the pool's size, set directly.

    Examples
    --------
    >>> import fasttopk
    >>> from fasttopk._dask import apply_worker_thread_budget
    >>> before = fasttopk.get_num_threads()
    >>> apply_worker_thread_budget()  # not in a worker: the pool keeps its size
    >>> fasttopk.get_num_threads() == before
    True
    """
    global _budget_applied_pid
    if _budget_applied_pid == os.getpid():
        return
    _budget_applied_pid = os.getpid()
    if "distributed" not in sys.modules or os.environ.get("FASTTOPK_NUM_THREADS"):
        return
    from distributed import get_worker

    try:
        get_worker()
    except ValueError:  # not inside a worker: local schedulers keep the process-wide setting
        return
    _api.set_num_threads(1)


# --- shared helpers ---------------------------------------------------------------------------


def as_dask_array(x: Any, name: str = "x") -> da.Array:
    """`x` as a Dask array: Dask arrays as they are, array-likes in one chunk.

    Parameters
    ----------
    x : dask.array.Array or array_like
        An argument of a public function.
    name : str, default "x"
        The argument's name in error messages.

    Returns
    -------
    dask.array.Array
        `x` itself, or ``da.from_array(np.asarray(x))``.

    Raises
    ------
    TypeError
        `x` is another Dask collection (a dataframe or series): the message says how to
        convert it.

    See Also
    --------
    dask.array.from_array : what wraps an in-memory array.

    Examples
    --------
    >>> from fasttopk._dask import as_dask_array
    >>> as_dask_array([1.0, 2.0]).chunks
    ((2,),)
    """
    if isinstance(x, da.Array):
        return x
    if type(x).__module__.startswith(("dask.", "dask_expr")):
        raise TypeError(
            f"{name}: fasttopk takes Dask arrays, got a {type(x).__name__}; convert it to one "
            "(e.g. .to_dask_array(lengths=True), da.from_delayed)"
        )
    return da.from_array(np.asarray(x))


def _refuse_out(out: object) -> None:
    if out is not None:
        raise TypeError("out= is not supported for Dask arrays: the result is a new lazy array")


def _probe(x: da.Array, full: Collection[int] = (), small: Collection[int] = ()) -> npt.NDArray[Any]:
    """A tiny ndarray of x's dtype on which the in-memory function raises the same errors: x's
    length along the axes in `full` (k is checked against it), at most 2 along `small`, at most
    1 elsewhere (0 stays 0)."""
    if any(np.isnan(n) for n in x.shape):
        raise ValueError("x has unknown chunk sizes: call x.compute_chunk_sizes() first")
    shape = [
        n if i in full else min(2 if i in small else 1, n) for i, n in enumerate(x.shape)
    ]
    return np.zeros(shape, dtype=x.dtype)


def _record_dtype(value_dtype: npt.DTypeLike) -> np.dtype[np.void]:
    return np.dtype([("value", value_dtype), ("index", np.int64)])


def _pack(values: npt.NDArray[Any], indices: npt.NDArray[np.int64], record: np.dtype[np.void]) -> npt.NDArray[np.void]:
    out = np.empty(values.shape, dtype=record)
    out["value"] = values
    out["index"] = indices
    return out


def _offset(block_info: Any) -> int:
    """Where this block starts along the last (class) axis of the whole array."""
    return int(block_info[0]["array-location"][-1][0])


def _axis_last(x: da.Array, axis: int) -> da.Array:
    return x if axis == x.ndim - 1 else da.moveaxis(x, axis, -1)


def _restore_axis(r: da.Array, axis: int) -> da.Array:
    return r if axis == r.ndim - 1 else da.moveaxis(r, -1, axis)


def _identity(block: npt.NDArray[Any], axis: object = None, keepdims: bool = True) -> npt.NDArray[Any]:
    return block


# --- top-k --------------------------------------------------------------------------------------


def _topk_block(
    block: npt.NDArray[Any], k: int, largest: bool, sorted: bool, record: np.dtype[np.void], global_index: bool,
    block_info: Any = None,
) -> npt.NDArray[np.void]:
    apply_worker_thread_budget()
    kk = min(k, block.shape[-1])
    values, indices = _api.topk(block, kk, axis=-1, largest=largest, sorted=sorted)
    if global_index:
        indices = indices + _offset(block_info)
    return _pack(values, indices, record)


def _topk_merge(
    candidates: npt.NDArray[np.void], axis: object = None, keepdims: bool = True, *, k: int, largest: bool
) -> npt.NDArray[np.void]:
    apply_worker_thread_budget()
    kk = min(k, candidates.shape[-1])
    positions = _api.argtopk(candidates["value"], kk, axis=-1, largest=largest, sorted=True)
    return np.take_along_axis(candidates, positions, axis=-1)


def _topk_records(x: da.Array, k: int, largest: bool, sorted: bool) -> da.Array:
    """(…, k) records (value, global index) of the top k along the last axis of x."""
    record = _record_dtype(_api.topk(np.zeros((1, 1), x.dtype), 1).values.dtype)
    lead_chunks = x.chunks[:-1]
    if x.numblocks[-1] == 1:
        return x.map_blocks(
            _topk_block, k, largest, sorted, record, False,
            chunks=(*lead_chunks, (k,)), dtype=record, meta=np.empty((0,) * x.ndim, record),
        )
    candidates = x.map_blocks(
        _topk_block, k, largest, True, record, True,
        chunks=(*lead_chunks, tuple(min(k, c) for c in x.chunks[-1])),
        dtype=record, meta=np.empty((0,) * x.ndim, record),
    )
    merge = partial(_topk_merge, k=k, largest=largest)
    return da.reduction(
        candidates, chunk=_identity, combine=merge, aggregate=merge, axis=x.ndim - 1,
        keepdims=True, dtype=record, concatenate=True, output_size=k,
        meta=np.empty((0,) * x.ndim, record),
    )


def _topk(x: Any, k: Any, axis: Any, largest: Any, sorted: Any) -> tuple[da.Array, da.Array]:
    x = as_dask_array(x)
    if x.ndim == 0:
        raise ValueError("x must have at least one dimension")
    axis_ = _validation.normalize_axis(axis, x.ndim)
    probe = _api.topk(_probe(x, full=(axis_,)), k, axis=axis_, largest=largest, sorted=sorted)
    k = int(k)
    moved = _axis_last(x, axis_)
    if k == 0 or x.size == 0:
        shape = (*moved.shape[:-1], k)
        chunks = (*moved.chunks[:-1], (k,))
        values = da.zeros(shape, dtype=probe.values.dtype, chunks=chunks)
        indices = da.zeros(shape, dtype=np.int64, chunks=chunks)
    else:
        records = _topk_records(moved, k, bool(largest), bool(sorted))
        values, indices = records["value"], records["index"]
    return _restore_axis(values, axis_), _restore_axis(indices, axis_)


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
    return _pack(values, idx + (_offset(block_info) if global_index else 0), record)


def _arg_merge(
    candidates: npt.NDArray[np.void], axis: object = None, keepdims: bool = True, *, find_min: bool
) -> npt.NDArray[np.void]:
    apply_worker_thread_budget()
    pos = (_api.argmin if find_min else _api.argmax)(candidates["value"], axis=-1)
    best = np.take_along_axis(candidates, np.asarray(pos)[..., None], axis=-1)
    return best if keepdims else best[..., 0]


def _arg_reduce(x: Any, axis: int | None, out: object, find_min: bool, keepdims: bool = False) -> da.Array:
    _refuse_out(out)
    x = as_dask_array(x)
    in_memory = _api.argmin if find_min else _api.argmax
    if keepdims:  # NumPy's keepdims: the reduced axis (all axes for axis=None) kept, length 1
        result = _arg_reduce(x, axis, None, find_min)
        if axis is None:
            return result.reshape((1,) * x.ndim)
        return da.expand_dims(result, _validation.normalize_axis(axis, x.ndim))
    if axis is None or x.ndim == 0:
        in_memory(_probe(x, small=range(x.ndim)), axis=axis)  # the same errors
        return _arg_reduce(x.reshape(-1), 0, None, find_min)
    axis_ = _validation.normalize_axis(axis, x.ndim)
    in_memory(_probe(x, small=(axis_,)), axis=axis_)
    moved = _axis_last(x, axis_)
    if moved.numblocks[-1] == 1:
        return moved.map_blocks(
            _arg_block, find_min, None, False, False, drop_axis=moved.ndim - 1, dtype=np.int64,
            meta=np.empty((0,) * (moved.ndim - 1), np.int64),
        )
    record = _record_dtype(moved.dtype)
    candidates = moved.map_blocks(
        _arg_block, find_min, record, True, True,
        chunks=(*moved.chunks[:-1], (1,) * moved.numblocks[-1]), dtype=record,
        meta=np.empty((0,) * moved.ndim, record),
    )
    merge = partial(_arg_merge, find_min=find_min)
    best = da.reduction(
        candidates, chunk=_identity, combine=merge, aggregate=merge, axis=moved.ndim - 1,
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


def _axes(axis: int | tuple[int, ...] | None, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, tuple):
        axes = tuple(_validation.normalize_axis(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"axis {axis} has repeated axes")
        return axes
    return (_validation.normalize_axis(axis, ndim),)


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
    _refuse_out(out)
    x = as_dask_array(x)
    in_memory = _api.log_softmax if log else _api.softmax
    if x.ndim == 0:
        dtype = in_memory(np.zeros((), x.dtype), axis=axis).dtype
        return x.map_blocks(in_memory, axis=axis, dtype=dtype, meta=np.empty((), dtype))
    axes = _axes(axis, x.ndim)
    dtype = in_memory(_probe(x, small=axes), axis=axis).dtype
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
    axes = _axes(axis, x.ndim)
    probe = np.asarray(fasttopk.logsumexp(_probe(x, small=axes), axis=axis, keepdims=keepdims))
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
    return _pack(values, indices, record)


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
        _probe(x, full=(axis_,)), k, axis=axis_, temperature=temperature, log=log, sorted=sorted
    )
    dtype = probe.values.dtype
    k = int(k)
    moved = _axis_last(x, axis_)
    if k == 0 or x.size == 0:
        chunks = (*moved.chunks[:-1], (k,))
        shape = (*moved.shape[:-1], k)
        values = da.zeros(shape, dtype=dtype, chunks=chunks)
        indices = da.zeros(shape, dtype=np.int64, chunks=chunks)
    elif moved.numblocks[-1] == 1:
        record = _record_dtype(dtype)
        records = moved.map_blocks(
            _topk_softmax_block, k, temperature, bool(log), bool(sorted), record,
            chunks=(*moved.chunks[:-1], (k,)), dtype=record,
            meta=np.empty((0,) * moved.ndim, record),
        )
        values, indices = records["value"], records["index"]
    else:
        records = _topk_records(moved, k, True, True)
        stats = _stats(moved, (moved.ndim - 1,), keepdims=True, scale=float(temperature))
        values = da.map_blocks(_from_stats, records["value"], stats, bool(log), dtype,
                               float(temperature), dtype=dtype)
        indices = records["index"]
    return _api.TopK(_restore_axis(values, axis_), _restore_axis(indices, axis_))
