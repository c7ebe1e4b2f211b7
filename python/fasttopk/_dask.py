"""The array functions on Dask arrays: lazy results built from the kernels chunk by chunk.

This is the module ``_dask_dispatch.dask_api()`` returns: each public function, given a Dask
array, calls its namesake here. They live in three modules:

- ``_dask_selection``: topk, argtopk, argmax, argmin. A chunked class axis takes a tree
  reduction of each block's winners as (value, global index) records, with the kernel's own
  tie rule: the indices and values equal the in-memory answer exactly.
- ``_dask_softmax``: softmax, log_softmax, logsumexp, topk_softmax. A chunked axis takes a
  two-step combine of each block's float64 (maximum, sum of exp), then SciPy's formulas: equal
  to the in-memory values to float rounding.
- ``_dask_blocks``: what they share (the worker's thread budget, arguments as Dask arrays,
  the probe that checks them eagerly, axis moves, the tree of each block's top k).

Rows may be chunked any way. Arguments are checked eagerly (nothing is computed), with the
in-memory errors and result dtypes; ``out=`` is refused: a Dask result is a new lazy array.
"""
from __future__ import annotations

from ._dask_blocks import apply_worker_thread_budget
from ._dask_selection import argmax, argmin, argtopk, topk
from ._dask_softmax import log_softmax, logsumexp, softmax, topk_softmax

__all__ = [
    "apply_worker_thread_budget", "argmax", "argmin", "argtopk", "log_softmax", "logsumexp",
    "softmax", "topk", "topk_softmax",
]
