"""The array functions in one namespace, for ``fasttopk`` and the Dask layer (``_dask``).

Each lives in the module of its concern: ``_argreduce`` (argmax, argmin), ``_selection`` (topk,
argtopk), ``_softmax`` (softmax, log_softmax), ``_runtime`` (ISA and threads); their shared argument
checks in ``_validation`` and array layout in ``_layout``.
"""
from __future__ import annotations

from ._argreduce import argmax, argmin
from ._runtime import get_num_threads, set_num_threads, simd_arch
from ._selection import TopK, argtopk, topk
from ._softmax import log_softmax, softmax

__all__ = [
    "TopK",
    "argmax",
    "argmin",
    "argtopk",
    "get_num_threads",
    "log_softmax",
    "set_num_threads",
    "simd_arch",
    "softmax",
    "topk",
]
