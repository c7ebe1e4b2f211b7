"""Argument checking and layout for the array functions; the work is done in fasttopk._core.

Rules kept here: which dtypes are accepted and how they reach the core (exactly), how an
`axis` becomes rows, and when a copy is made. Order and NaN rules live in the C++ core
(src/fasttopk/order.hpp for top-k, argmax.hpp for argmax).
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

from . import _core

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

_NATIVE = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int32), np.dtype(np.int64))
_INT64_SIGN = np.int64(np.iinfo(np.int64).min)

# Pick the kernel table now, so that a bad FASTTOPK_ARCH fails `import fasttopk` with its message
# instead of the first call.
try:
    _core.simd_arch()
except ValueError as exc:
    raise ImportError(f"fasttopk: {exc}") from exc


class TopK(NamedTuple):
    """The result of :func:`topk`, like ``torch.topk``'s: values and their int64 indices."""

    values: np.ndarray
    indices: np.ndarray


def simd_arch() -> str:
    """The instruction set the kernels run with: 'sse2', 'avx2', 'avx512' or 'neon64'."""
    return _core.simd_arch()


def set_num_threads(n: int) -> None:
    """Use `n` threads for large inputs (default: all cores, or FASTTOPK_NUM_THREADS)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an integer, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    _core.set_num_threads(int(n))


def get_num_threads() -> int:
    """The number of threads large inputs are split over."""
    return _core.get_num_threads()


# --- input checking ---------------------------------------------------------------------------


def _as_real_array(x, name: str) -> np.ndarray:
    """`x` as an ndarray of a real dtype, without a copy when it already is one."""
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    kind = arr.dtype.kind
    if kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers (bool, integer or float), got dtype {arr.dtype}"
        )
    if kind == "f" and arr.dtype.itemsize > 8:
        raise TypeError(f"{name}: dtype {arr.dtype} cannot be converted to float64 exactly")
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


def _core_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype the core computes in for order-based kernels; every mapping is exact."""
    if dtype in _NATIVE:
        return dtype
    if dtype.kind == "f":  # float16
        return np.dtype(np.float32)
    if dtype.kind == "b" or dtype.itemsize < 4 or (dtype.kind == "i" and dtype.itemsize == 4):
        return np.dtype(np.int32)
    return np.dtype(np.int64)  # uint32, uint64 (the latter through an order-preserving shift)


def _to_core(arr: np.ndarray) -> np.ndarray:
    """Converts to the core dtype (a copy) when needed, preserving order exactly."""
    target = _core_dtype(arr.dtype)
    if arr.dtype == target:
        return arr
    if arr.dtype == np.uint64:
        return arr.view(np.int64) ^ _INT64_SIGN  # order-preserving, exact, invertible
    return arr.astype(target)


def _from_core(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if values.dtype == dtype:
        return values
    if dtype == np.uint64:
        return (values ^ _INT64_SIGN).view(np.uint64)
    return values.astype(dtype)


def _normalize_axis(axis, ndim: int, name: str = "axis") -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(axis).__name__}")
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim, msg_prefix=name) if hasattr(
            np, "exceptions"
        ) else ValueError(f"{name} {axis} is out of bounds for an array of dimension {ndim}")
    return axis % ndim


def _row_view(arr: np.ndarray, axis: int) -> Optional[np.ndarray]:
    """A 2-D (rows, n) view with `axis` last and a contiguous last axis, or None when the layout
    forbids one."""
    moved = np.moveaxis(arr, axis, -1) if axis != arr.ndim - 1 else arr
    n = moved.shape[-1]
    n_rows = int(np.prod(moved.shape[:-1], dtype=np.int64))
    if (n <= 1 or moved.strides[-1] == moved.itemsize) and moved.flags.aligned:
        rows = moved.view()
        try:
            rows.shape = (n_rows, n)  # refuses (AttributeError) when it would need a copy
        except AttributeError:
            return None
        return rows
    return None


def _rows(arr: np.ndarray, axis: int) -> np.ndarray:
    """A 2-D (rows, n) view with `axis` last and a contiguous last axis; a copy only if the
    layout forbids a view."""
    rows = _row_view(arr, axis)
    if rows is not None:
        return rows
    moved = np.moveaxis(arr, axis, -1) if axis != arr.ndim - 1 else arr
    n_rows = int(np.prod(moved.shape[:-1], dtype=np.int64))
    return np.ascontiguousarray(moved).reshape(n_rows, moved.shape[-1])


def _direct_rows(x, axis) -> Optional[np.ndarray]:
    """The fast path of every array function: `x` itself (or its one-row view) when it is
    already what the core reads, a 1-D or 2-D ndarray of a core dtype with a contiguous last
    axis, reduced along that axis; None sends the call through the general checks."""
    if type(x) is not np.ndarray or type(axis) is not int or x.dtype not in _NATIVE:
        return None
    if x.ndim == 2 and (axis == -1 or axis == 1):
        rows = x
    elif x.ndim == 1 and (axis == -1 or axis == 0):
        rows = x.reshape(1, -1)
    else:
        return None
    if rows.shape[0] == 0 or rows.shape[1] < 2 or rows.strides[1] != rows.itemsize or not rows.flags.aligned:
        return None
    return rows


def _check_out(out, shape, dtype: np.dtype, name: str = "out") -> np.ndarray:
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != tuple(shape):
        raise ValueError(f"{name} has shape {out.shape}, expected {tuple(shape)}")
    if out.dtype != dtype:
        raise TypeError(f"{name} has dtype {out.dtype}, expected {dtype}")
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only")
    return out


def _writable_rows(out: np.ndarray, axis: int) -> Optional[np.ndarray]:
    """A 2-D view the core can write into directly, or None when `out` needs a staging copy."""
    if not out.dtype.isnative or not out.flags.aligned:
        return None
    return _row_view(out, axis)  # never a copy: that could not be written back


# --- argmax / argmin ------------------------------------------------------------------------


def _arg_reduce(x, axis, out, find_min: bool, fname: str):
    arr = _as_real_array(x, "x")
    if arr.ndim == 0 and axis is not None:
        _normalize_axis(axis, 1)  # like NumPy: a 0-d array is one element along axis 0 (or -1)
        axis = None
    if axis is None:
        arr = arr.reshape(-1)
        axis_ = 0
        result_shape = ()
    else:
        axis_ = _normalize_axis(axis, arr.ndim)
        result_shape = arr.shape[:axis_] + arr.shape[axis_ + 1 :]
    # NumPy's rule: an empty reduction axis is an error, even when no row would be reduced.
    if arr.shape[axis_] == 0:
        raise ValueError(f"attempt to get {fname} of an empty sequence (x has an empty axis {axis})")
    core = _to_core(arr)
    if core.ndim == 2 and axis_ == 0 and core.shape[1] > 1 and core.strides[1] == core.itemsize and core.flags.aligned:
        # Down the columns of a row-major matrix: read in place, not through a transposed copy.
        source, reduce, n_results = core, _core.arg_reduce_columns, core.shape[1]
    else:
        source = _rows(core, axis_)
        reduce, n_results = _core.arg_reduce, source.shape[0]
    if out is not None:
        _check_out(out, result_shape, np.dtype(np.int64))
        if n_results == 0:
            return out
        flat = out.reshape(-1) if out.flags.c_contiguous else None
        if flat is not None and out.dtype.isnative and out.flags.aligned:
            reduce(source, find_min, flat)
            return out
        tmp = np.empty(n_results, dtype=np.int64)
        reduce(source, find_min, tmp)
        out[...] = tmp.reshape(result_shape)
        return out
    result = np.empty(n_results, dtype=np.int64)
    if n_results:
        reduce(source, find_min, result)
    if axis is None:
        return np.int64(result[0])
    return result.reshape(result_shape)


def argmax(x, axis: Optional[int] = -1, *, out: Optional[np.ndarray] = None, classes=None):
    """Index of the largest value along `axis`, exactly as ``np.argmax``: the first occurrence,
    or the first NaN if there is one. `axis=None` searches the flattened array. int64.
    With `classes` (1-D, one label per position along `axis`), the labels of those indices."""
    if classes is not None:
        from ._classes import arg_labels

        return arg_labels(argmax, x, axis, out, classes)
    rows = _direct_rows(x, axis) if out is None else None
    if rows is not None:
        result = np.empty(rows.shape[0], dtype=np.int64)
        _core.arg_reduce(rows, False, result)
        return result if x.ndim == 2 else result[0]
    return _arg_reduce(x, axis, out, False, "argmax")


def argmin(x, axis: Optional[int] = -1, *, out: Optional[np.ndarray] = None, classes=None):
    """Index of the smallest value along `axis`, exactly as ``np.argmin``. int64.
    With `classes` (1-D, one label per position along `axis`), the labels of those indices."""
    if classes is not None:
        from ._classes import arg_labels

        return arg_labels(argmin, x, axis, out, classes)
    rows = _direct_rows(x, axis) if out is None else None
    if rows is not None:
        result = np.empty(rows.shape[0], dtype=np.int64)
        _core.arg_reduce(rows, True, result)
        return result if x.ndim == 2 else result[0]
    return _arg_reduce(x, axis, out, True, "argmin")


# --- softmax / log_softmax ------------------------------------------------------------------


def _softmax(x, axis, out, log: bool):
    rows = _direct_rows(x, axis) if out is None else None
    if rows is not None and rows.dtype.kind == "f":
        result = np.empty(rows.shape, dtype=rows.dtype)
        _core.softmax(rows, log, result)
        return result if x.ndim == 2 else result[0]
    arr = _as_real_array(x, "x")
    result_dtype = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float64)
    core_dtype = np.dtype(np.float64) if result_dtype == np.float64 else np.dtype(np.float32)
    shape = arr.shape
    if arr.ndim == 0 and axis is not None:
        _normalize_axis(axis, 1)  # like SciPy: a 0-d array is one element along axis 0 (or -1)
        axis = None
    if axis is None:
        src = arr.reshape(1, -1) if arr.size else arr.reshape(0, 0)
        axis_ = 1
    else:
        axis_ = _normalize_axis(axis, arr.ndim)
        src = arr
    # SciPy's rule: an empty softmax axis is an error, even when no row would be reduced.
    if src.shape[axis_] == 0:
        raise ValueError("x: softmax of an empty axis is undefined (zero-size array)")
    if out is not None:
        _check_out(out, shape, result_dtype)
    if src.size == 0:
        return out if out is not None else np.empty(shape, dtype=result_dtype)
    rows = _rows(src if src.dtype == core_dtype else src.astype(core_dtype), axis_)
    if out is not None and result_dtype == core_dtype:
        if axis is not None:
            dest = _writable_rows(out, axis_)
        else:  # flattened: a view of out only when out is C-contiguous
            dest = _writable_rows(out.reshape(src.shape), axis_) if out.flags.c_contiguous else None
        # Exact aliasing (out is x) is safe: each pass reads an element before writing it.
        if dest is not None and (not np.shares_memory(dest, rows) or _same_view(dest, rows)):
            _core.softmax(rows, log, dest)
            return out
    dest = np.empty(rows.shape, dtype=core_dtype)
    _core.softmax(rows, log, dest)
    moved_shape = tuple(np.delete(np.array(src.shape), axis_)) + (src.shape[axis_],)
    result = np.moveaxis(dest.reshape(moved_shape), -1, axis_).reshape(shape)
    if result.dtype != result_dtype:
        result = result.astype(result_dtype)
    if out is not None:
        out[...] = result
        return out
    return result


def _same_view(a: np.ndarray, b: np.ndarray) -> bool:
    return (
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        and a.shape == b.shape
        and a.strides == b.strides
    )


def softmax(x, axis: Optional[int] = -1, *, out: Optional[np.ndarray] = None) -> np.ndarray:
    """``scipy.special.softmax`` along `axis` (default: the last). Floats keep their dtype;
    integers give float64. `out` may be `x` itself (in place)."""
    return _softmax(x, axis, out, log=False)


def log_softmax(x, axis: Optional[int] = -1, *, out: Optional[np.ndarray] = None) -> np.ndarray:
    """``scipy.special.log_softmax`` along `axis` (default: the last)."""
    return _softmax(x, axis, out, log=True)


# --- topk / argtopk -------------------------------------------------------------------------


def _check_k(k, n: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an integer, got {type(k).__name__}")
    k = int(k)
    if not 0 <= k <= n:
        raise ValueError(f"k must lie in [0, {n}] (the length of the axis), got {k}")
    return k


def _topk(x, k, axis, largest, sorted):
    rows = _direct_rows(x, axis)
    if rows is not None and type(k) is int and 0 < k <= rows.shape[1]:
        values = np.empty((rows.shape[0], k), dtype=rows.dtype)
        indices = np.empty((rows.shape[0], k), dtype=np.int64)
        _core.topk(rows, k, bool(largest), bool(sorted), values, indices)
        return (values, indices) if x.ndim == 2 else (values[0], indices[0])
    arr = _as_real_array(x, "x")
    if arr.ndim == 0:
        raise ValueError("x must have at least one dimension")
    axis_ = _normalize_axis(axis, arr.ndim)
    n = arr.shape[axis_]
    k = _check_k(k, n)
    core = _to_core(arr)
    rows = _rows(core, axis_)
    values = np.empty((rows.shape[0], k), dtype=core.dtype)
    indices = np.empty((rows.shape[0], k), dtype=np.int64)
    if values.size:
        _core.topk(rows, k, bool(largest), bool(sorted), values, indices)
    lead = arr.shape[:axis_] + arr.shape[axis_ + 1 :]
    values = np.moveaxis(values.reshape(lead + (k,)), -1, axis_)
    indices = np.moveaxis(indices.reshape(lead + (k,)), -1, axis_)
    return _from_core(values, arr.dtype), indices


def topk(x, k: int, *, axis: int = -1, largest: bool = True, sorted: bool = True, classes=None) -> TopK:
    """The `k` largest (or smallest) values along `axis` and their indices, like ``torch.topk``.

    Order: descending for largest=True (ascending otherwise); equal values in ascending index
    order; NaN above +inf (first when largest, last otherwise); -0.0 equal to +0.0. With
    sorted=False the same set comes back in an unspecified order. With `classes` (1-D, one
    label per position along `axis`) the result also has ``.labels``, the labels of
    ``indices``, and still unpacks as ``values, indices``."""
    values, indices = _topk(x, k, axis, largest, sorted)
    if classes is not None:
        from ._classes import topk_labels

        return topk_labels((values, indices), x, axis, classes)
    return TopK(values, indices)


def argtopk(
    x, k: int, *, axis: int = -1, largest: bool = True, sorted: bool = True, classes=None
) -> np.ndarray:
    """The int64 indices of :func:`topk`; with `classes`, their labels instead."""
    indices = _topk(x, k, axis, largest, sorted)[1]
    if classes is not None:
        from ._classes import argtopk_labels

        return argtopk_labels(indices, x, axis, classes)
    return indices
