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
from functools import partial

import dask.array as da
import numpy as np

from . import _api, _validation

__all__ = [
    "apply_worker_thread_budget", "argmax", "argmin", "argtopk", "log_softmax", "logsumexp",
    "softmax", "topk", "topk_softmax",
]


# --- each distributed worker's thread budget --------------------------------------------------

_budget_applied_pid = None


def apply_worker_thread_budget() -> None:
    """Called at the start of every task. In a ``distributed`` worker process, the first task
    sets fasttopk's pool to one thread (once per process): the worker's ``nthreads`` task
    threads are its thread budget, each task runs its kernel on its own thread, so T tasks
    never start T pools of the machine's size. This is Dask's own convention for native
    libraries (its nanny sets OMP_NUM_THREADS=1). FASTTOPK_NUM_THREADS in the worker's
    environment, or a later ``client.run(fasttopk.set_num_threads, n)``, overrides it."""
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


def as_dask_array(x, name: str = "x") -> da.Array:
    if isinstance(x, da.Array):
        return x
    if type(x).__module__.startswith(("dask.", "dask_expr")):
        raise TypeError(
            f"{name}: fasttopk takes Dask arrays, got a {type(x).__name__}; convert it to one "
            "(e.g. .to_dask_array(lengths=True), da.from_delayed)"
        )
    return da.from_array(np.asarray(x))


def _refuse_out(out) -> None:
    if out is not None:
        raise TypeError("out= is not supported for Dask arrays: the result is a new lazy array")


def _probe(x: da.Array, full=(), small=()):
    """A tiny ndarray of x's dtype on which the in-memory function raises the same errors: x's
    length along the axes in `full` (k is checked against it), at most 2 along `small`, at most
    1 elsewhere (0 stays 0)."""
    if any(np.isnan(n) for n in x.shape):
        raise ValueError("x has unknown chunk sizes: call x.compute_chunk_sizes() first")
    shape = [
        n if i in full else min(2 if i in small else 1, n) for i, n in enumerate(x.shape)
    ]
    return np.zeros(shape, dtype=x.dtype)


def _record_dtype(value_dtype) -> np.dtype:
    return np.dtype([("value", value_dtype), ("index", np.int64)])


def _pack(values, indices, record) -> np.ndarray:
    out = np.empty(values.shape, dtype=record)
    out["value"] = values
    out["index"] = indices
    return out


def _offset(block_info) -> int:
    """Where this block starts along the last (class) axis of the whole array."""
    return block_info[0]["array-location"][-1][0]


def _axis_last(x: da.Array, axis: int) -> da.Array:
    return x if axis == x.ndim - 1 else da.moveaxis(x, axis, -1)


def _restore_axis(r: da.Array, axis: int) -> da.Array:
    return r if axis == r.ndim - 1 else da.moveaxis(r, -1, axis)


def _identity(block, axis=None, keepdims=True):
    return block


# --- top-k --------------------------------------------------------------------------------------


def _topk_block(block, k, largest, sorted, record, global_index, block_info=None):
    apply_worker_thread_budget()
    kk = min(k, block.shape[-1])
    values, indices = _api.topk(block, kk, axis=-1, largest=largest, sorted=sorted)
    if global_index:
        indices = indices + _offset(block_info)
    return _pack(values, indices, record)


def _topk_merge(candidates, axis=None, keepdims=True, *, k, largest):
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
            chunks=lead_chunks + ((k,),), dtype=record, meta=np.empty((0,) * x.ndim, record),
        )
    candidates = x.map_blocks(
        _topk_block, k, largest, True, record, True,
        chunks=lead_chunks + (tuple(min(k, c) for c in x.chunks[-1]),),
        dtype=record, meta=np.empty((0,) * x.ndim, record),
    )
    merge = partial(_topk_merge, k=k, largest=largest)
    return da.reduction(
        candidates, chunk=_identity, combine=merge, aggregate=merge, axis=x.ndim - 1,
        keepdims=True, dtype=record, concatenate=True, output_size=k,
        meta=np.empty((0,) * x.ndim, record),
    )


def _topk(x, k, axis, largest, sorted):
    x = as_dask_array(x)
    if x.ndim == 0:
        raise ValueError("x must have at least one dimension")
    axis_ = _validation.normalize_axis(axis, x.ndim)
    probe = _api.topk(_probe(x, full=(axis_,)), k, axis=axis_, largest=largest, sorted=sorted)
    k = int(k)
    moved = _axis_last(x, axis_)
    if k == 0 or x.size == 0:
        shape = moved.shape[:-1] + (k,)
        chunks = moved.chunks[:-1] + ((k,),)
        values = da.zeros(shape, dtype=probe.values.dtype, chunks=chunks)
        indices = da.zeros(shape, dtype=np.int64, chunks=chunks)
    else:
        records = _topk_records(moved, k, bool(largest), bool(sorted))
        values, indices = records["value"], records["index"]
    return _restore_axis(values, axis_), _restore_axis(indices, axis_)


def topk(x, k, *, axis=-1, largest=True, sorted=True):
    """Lazy :func:`fasttopk.topk` of a Dask array (see the module docstring)."""
    values, indices = _topk(x, k, axis, largest, sorted)
    return _api.TopK(values, indices)


def argtopk(x, k, *, axis=-1, largest=True, sorted=True):
    return _topk(x, k, axis, largest, sorted)[1]


# --- argmax / argmin ----------------------------------------------------------------------------


def _arg_block(block, find_min, record, global_index, keep_axis, block_info=None):
    apply_worker_thread_budget()
    if block.shape[-1] == 0:  # an empty block of a non-empty axis: no candidate
        return np.empty(block.shape, dtype=record)
    idx = (_api.argmin if find_min else _api.argmax)(block, axis=-1)
    if not keep_axis:
        return idx
    idx = np.asarray(idx)[..., None]
    values = np.take_along_axis(block, idx, axis=-1)
    return _pack(values, idx + (_offset(block_info) if global_index else 0), record)


def _arg_merge(candidates, axis=None, keepdims=True, *, find_min):
    apply_worker_thread_budget()
    pos = (_api.argmin if find_min else _api.argmax)(candidates["value"], axis=-1)
    best = np.take_along_axis(candidates, np.asarray(pos)[..., None], axis=-1)
    return best if keepdims else best[..., 0]


def _arg_reduce(x, axis, out, find_min: bool, keepdims: bool = False):
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
        chunks=moved.chunks[:-1] + ((1,) * moved.numblocks[-1],), dtype=record,
        meta=np.empty((0,) * moved.ndim, record),
    )
    merge = partial(_arg_merge, find_min=find_min)
    best = da.reduction(
        candidates, chunk=_identity, combine=merge, aggregate=merge, axis=moved.ndim - 1,
        keepdims=False, dtype=record, concatenate=True,
        meta=np.empty((0,) * (moved.ndim - 1), record),
    )
    return best.map_blocks(_index_of, dtype=np.int64, meta=np.empty((0,) * best.ndim, np.int64))


def _index_of(best):
    index = best["index"]
    return index[()] if index.ndim == 0 else index  # a NumPy scalar, as np.argmax gives


def argmax(x, axis=-1, *, out=None, keepdims=False):
    """Lazy :func:`fasttopk.argmax` of a Dask array: NumPy's first maximum or first NaN."""
    return _arg_reduce(x, axis, out, False, keepdims)


def argmin(x, axis=-1, *, out=None, keepdims=False):
    return _arg_reduce(x, axis, out, True, keepdims)


# --- log-sum-exp and the softmax family ----------------------------------------------------


_STATS = np.dtype([("max", np.float64), ("sum", np.float64)])


def _shift(maximum):
    """SciPy's shift: the maximum where it is finite, else 0."""
    return np.where(np.isfinite(maximum), maximum, 0.0)


def _drop(out, axis, keepdims):
    return out if keepdims else out.reshape([n for i, n in enumerate(out.shape) if i not in axis])


def _stats_block(block, axis, keepdims=True, scale=1.0):
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


def _stats_combine(stats, axis, keepdims=True):
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


def _stats(x: da.Array, axes: tuple, keepdims: bool, scale: float = 1.0) -> da.Array:
    """The float64 (max, sum) of x over `axes`, one pass: per block, then a tree."""
    return da.reduction(
        x, chunk=partial(_stats_block, scale=scale), combine=_stats_combine,
        aggregate=_stats_combine, axis=axes, keepdims=keepdims, dtype=_STATS,
        concatenate=True, meta=np.empty((0,) * (x.ndim if keepdims else x.ndim - len(axes)), _STATS),
    )


def _logsumexp_of_stats(stats, dtype):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(stats["sum"]) + _shift(stats["max"])
    return out.astype(dtype, copy=False)


def _axes(axis, ndim: int) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, tuple):
        axes = tuple(_validation.normalize_axis(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"axis {axis} has repeated axes")
        return axes
    return (_validation.normalize_axis(axis, ndim),)


def _from_stats(block, stats, log, dtype, scale=1.0):
    """SciPy's formulas given the stats of the whole row: log_softmax (x - shift) - log(sum);
    softmax exp(x - shift) / sum, NaN in a row whose maximum is not finite."""
    apply_worker_thread_budget()
    a = np.asarray(block, dtype=np.float64)
    if scale != 1.0:
        a = a / scale
    maximum, total = stats["max"], stats["sum"]
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        if log:
            out = (a - _shift(maximum)) - np.log(total)
        else:
            out = np.where(np.isfinite(maximum), np.exp(a - _shift(maximum)) / total, np.nan)
    return out.astype(dtype, copy=False)


def _softmax(x, axis, out, log: bool):
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


def softmax(x, axis=-1, *, out=None):
    """Lazy :func:`fasttopk.softmax` of a Dask array; a chunked axis takes a two-step combine."""
    return _softmax(x, axis, out, log=False)


def log_softmax(x, axis=-1, *, out=None):
    return _softmax(x, axis, out, log=True)


def logsumexp(x, axis=-1, *, keepdims=False):
    """Lazy ``fasttopk.logsumexp`` (scipy.special.logsumexp's value) of a Dask array."""
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


def _topk_softmax_block(block, k, temperature, log, sorted, record):
    import fasttopk

    apply_worker_thread_budget()
    values, indices = fasttopk.topk_softmax(
        block, k, axis=-1, temperature=temperature, log=log, sorted=sorted
    )
    return _pack(values, indices, record)


def topk_softmax(x, k, *, axis=-1, temperature=1.0, log=False, sorted=True):
    """Lazy ``fasttopk.topk_softmax`` of a Dask array. With the class axis in one chunk, each
    block runs the fused kernel. Chunked, the winners are topk's tree on the logits themselves
    (the same selection and ties as the fused kernel) and their probabilities come from the
    two-step log-sum-exp of x / temperature: exp(v / T - lse), or v / T - lse with log=True."""
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
        chunks = moved.chunks[:-1] + ((k,),)
        shape = moved.shape[:-1] + (k,)
        values = da.zeros(shape, dtype=dtype, chunks=chunks)
        indices = da.zeros(shape, dtype=np.int64, chunks=chunks)
    elif moved.numblocks[-1] == 1:
        record = _record_dtype(dtype)
        records = moved.map_blocks(
            _topk_softmax_block, k, temperature, bool(log), bool(sorted), record,
            chunks=moved.chunks[:-1] + ((k,),), dtype=record,
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
