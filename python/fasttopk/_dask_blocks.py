"""The machinery every Dask function shares: arrays and blocks, axes, and the tree of winners.

- Each task's first call, :func:`apply_worker_thread_budget`, gives fasttopk's pool one thread
  in a ``distributed`` worker (the worker's task threads are the budget).
- :func:`as_dask_array` takes the arguments; :func:`probe_array` is the tiny in-memory array
  on which the in-memory function checks them eagerly (its errors and result dtypes, nothing
  computed).
- The class axis is moved last (:func:`axis_last`) and back (:func:`restore_axis`); a block
  knows where it starts along it (:func:`block_offset`).
- :func:`topk_records` is the tree reduction (``da.reduction``, ``split_every``) of each
  block's top k as (value, global index) records (:func:`record_dtype`, :func:`pack`):
  merging concatenates candidates in block order and runs the same kernel on them again, so
  candidates of equal value sit in ascending global-index order and the kernel's own tie rule
  (lower index first, NaN first, -0.0 == +0.0) is the global one. topk and topk_softmax
  (``_dask_selection``, ``_dask_softmax``) select through it; argmax/argmin's tree carries the
  same records.
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

from . import _api

__all__ = [
    "apply_worker_thread_budget",
    "as_dask_array",
    "axis_last",
    "block_offset",
    "identity",
    "pack",
    "probe_array",
    "record_dtype",
    "refuse_out",
    "restore_axis",
    "topk_records",
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
    >>> from fasttopk._dask_blocks import apply_worker_thread_budget
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


# --- arguments, blocks and axes ---------------------------------------------------------------


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
    >>> from fasttopk._dask_blocks import as_dask_array
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


def refuse_out(out: object) -> None:
    """``out=`` with a Dask array: refused, the result is a new lazy array."""
    if out is not None:
        raise TypeError("out= is not supported for Dask arrays: the result is a new lazy array")


def probe_array(x: da.Array, full: Collection[int] = (), small: Collection[int] = ()) -> npt.NDArray[Any]:
    """A tiny ndarray of x's dtype on which the in-memory function raises the same errors: x's
    length along the axes in `full` (k is checked against it), at most 2 along `small`, at most
    1 elsewhere (0 stays 0)."""
    if any(np.isnan(n) for n in x.shape):
        raise ValueError("x has unknown chunk sizes: call x.compute_chunk_sizes() first")
    shape = [
        n if i in full else min(2 if i in small else 1, n) for i, n in enumerate(x.shape)
    ]
    return np.zeros(shape, dtype=x.dtype)


def record_dtype(value_dtype: npt.DTypeLike) -> np.dtype[np.void]:
    """The (value, global index) record of a block's winner."""
    return np.dtype([("value", value_dtype), ("index", np.int64)])


def pack(values: npt.NDArray[Any], indices: npt.NDArray[np.int64], record: np.dtype[np.void]) -> npt.NDArray[np.void]:
    """Values and their indices as one array of `record`s."""
    out = np.empty(values.shape, dtype=record)
    out["value"] = values
    out["index"] = indices
    return out


def block_offset(block_info: Any) -> int:
    """Where this block starts along the last (class) axis of the whole array."""
    return int(block_info[0]["array-location"][-1][0])


def axis_last(x: da.Array, axis: int) -> da.Array:
    """`x` with `axis` (normalised) moved last."""
    return x if axis == x.ndim - 1 else da.moveaxis(x, axis, -1)


def restore_axis(r: da.Array, axis: int) -> da.Array:
    """A result computed with the class axis last, that axis moved back to `axis`."""
    return r if axis == r.ndim - 1 else da.moveaxis(r, -1, axis)


def identity(block: npt.NDArray[Any], axis: object = None, keepdims: bool = True) -> npt.NDArray[Any]:
    """``da.reduction``'s chunk step where the blocks already hold their candidates."""
    return block


# --- the tree of each block's top k -----------------------------------------------------------


def _topk_block(
    block: npt.NDArray[Any], k: int, largest: bool, sorted: bool, record: np.dtype[np.void], global_index: bool,
    block_info: Any = None,
) -> npt.NDArray[np.void]:
    apply_worker_thread_budget()
    kk = min(k, block.shape[-1])
    values, indices = _api.topk(block, kk, axis=-1, largest=largest, sorted=sorted)
    if global_index:
        indices = indices + block_offset(block_info)
    return pack(values, indices, record)


def _topk_merge(
    candidates: npt.NDArray[np.void], axis: object = None, keepdims: bool = True, *, k: int, largest: bool
) -> npt.NDArray[np.void]:
    apply_worker_thread_budget()
    kk = min(k, candidates.shape[-1])
    positions = _api.argtopk(candidates["value"], kk, axis=-1, largest=largest, sorted=True)
    return np.take_along_axis(candidates, positions, axis=-1)


def topk_records(x: da.Array, k: int, largest: bool, sorted: bool) -> da.Array:
    """(…, k) records (value, global index) of the top k along the last axis of x."""
    record = record_dtype(_api.topk(np.zeros((1, 1), x.dtype), 1).values.dtype)
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
        candidates, chunk=identity, combine=merge, aggregate=merge, axis=x.ndim - 1,
        keepdims=True, dtype=record, concatenate=True, output_size=k,
        meta=np.empty((0,) * x.ndim, record),
    )
