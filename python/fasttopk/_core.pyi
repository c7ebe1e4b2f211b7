"""Types of ``fasttopk._core``, the pybind11 module built from src/bindings.cpp.

The core only converts: the Python layer (fasttopk's public functions) has already checked
the arguments, made the class axis contiguous and allocated every output. Every array here is
2-D with a contiguous last axis unless its line says 1-D; results are written into the arrays
passed in. tests/test_typing.py checks that this file names exactly what the module exports.
"""

from typing import Any

import numpy as np
import numpy.typing as npt

# bindings.cpp accepts float16, bfloat16 (a 2-byte void dtype), float32, float64, int32 and
# int64 scores and checks the dtype itself, so the stub takes any NumPy array.
_Array = npt.NDArray[Any]
_Int64Array = npt.NDArray[np.int64]

half_precision: bool
"""True: the kernels read float16 and bfloat16 as they are (widened in registers)."""

def simd_arch() -> str:
    """The ISA in use ("sse2", "avx2", "avx512", "neon64"): mirrors ``fasttopk.simd_arch``."""

def available_archs() -> list[str]:
    """The ISAs this build has that this CPU can run, best last (what FASTTOPK_ARCH may name)."""

def set_num_threads(n: int) -> None:
    """Resizes the thread pool: mirrors ``fasttopk.set_num_threads`` (unchecked here)."""

def get_num_threads() -> int:
    """The thread pool's size: mirrors ``fasttopk.get_num_threads``."""

def arg_reduce(x: _Array, find_min: bool, out: _Int64Array) -> None:
    """Row-wise argmax (argmin with find_min) into the 1-D `out`: mirrors ``fasttopk.argmax``."""

def arg_reduce_columns(x: _Array, find_min: bool, out: _Int64Array) -> None:
    """argmax/argmin down each column (axis 0) into the 1-D `out` of length n_cols: mirrors
    ``fasttopk.argmax(x, axis=0)``."""

def softmax(x: _Array, log: bool, out: _Array) -> None:
    """Row-wise softmax (log_softmax with log) into `out` of x's shape and dtype, which may be
    `x` itself: mirrors ``fasttopk.softmax`` / ``fasttopk.log_softmax``."""

def topk(
    x: _Array, k: int, largest: bool, sorted: bool, values: _Array, indices: _Int64Array
) -> None:
    """The k best of every row into `values` (x's dtype) and `indices`, both (n_rows, k):
    mirrors ``fasttopk.topk``."""

def true_label_rank(scores: _Array, labels: _Int64Array, ranks: _Int64Array) -> bool:
    """scikit-learn's rank of column labels[r] in row r into the 1-D `ranks`; False when the
    scores hold NaN or infinity (ranks then unspecified): mirrors ``fasttopk.true_label_rank``."""

def mark_present_labels(labels: _Int64Array, lo: int, present: npt.NDArray[np.bool_]) -> None:
    """Sets ``present[v - lo]`` for every label v with ``0 <= v - lo < len(present)``: the
    classes that occur (``np.bincount(labels - lo) > 0`` without the counting)."""

def topk_softmax(
    x: _Array,
    k: int,
    temperature: float,
    log: bool,
    sorted: bool,
    values: _Array,
    indices: _Int64Array,
) -> None:
    """The k largest of softmax(x / temperature) of every row, fused: mirrors
    ``fasttopk.topk_softmax``."""

def logsumexp(x: _Array, out: _Array) -> None:
    """log(sum(exp(row))) of every row into the 1-D `out` of x's dtype: mirrors
    ``fasttopk.logsumexp``."""

def softmax_panels(x: _Array, log: bool, out: _Array) -> None:
    """softmax (log_softmax with log) along the middle axis of the 3-D (outer, n, inner) `x`,
    whose inner axis is contiguous, into `out` of the same shape and dtype (which may be `x`
    itself): ``fasttopk.softmax`` along a non-last axis, read in place."""

def topk_panels(x: _Array, k: int, largest: bool, values: _Array, indices: _Array) -> None:
    """The k largest (smallest) along the middle axis of the 3-D (outer, n, inner) `x` (inner
    contiguous) into `values` (x's dtype) and int64 `indices`, both (outer, k, inner), always
    sorted: ``fasttopk.topk`` along a non-last axis, read in place."""

def logsumexp_panels(x: _Array, out: _Array) -> None:
    """logsumexp along the middle axis of the 3-D (outer, n, inner) `x` (inner contiguous)
    into the 1-D `out` of length outer * inner, in (outer, inner) order."""

def true_label_rank_columns(scores: _Array, labels: _Int64Array, ranks: _Int64Array) -> bool:
    """:func:`true_label_rank` down the columns: `scores` is (n_classes, n_samples) with
    contiguous rows (a Fortran y_score transposed), labels[c] the true row of column c."""
