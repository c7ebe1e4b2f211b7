"""Argument checking and layout for the array functions; the work is done in fasttopk._core.

Rules kept here: which dtypes are accepted and how they reach the core (exactly), how an
`axis` becomes rows, and when a copy is made. Order and NaN rules live in the C++ core
(src/fasttopk/order.hpp for top-k, argmax.hpp for argmax).
"""
from __future__ import annotations

import functools
import warnings
from typing import NamedTuple, Optional

import numpy as np

from . import _conventions, _core, _interop
from ._dask_dispatch import dask_api, is_dask

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

_NATIVE = (
    np.dtype(np.float32),
    np.dtype(np.float64),
    np.dtype(np.int32),
    np.dtype(np.int64),
    np.dtype(np.float16),
)
# bfloat16 bits with no ml_dtypes to name them (a torch bfloat16 tensor viewed by _interop): a
# one-field structured dtype that no user array has by accident. The core reads any 2-byte
# void dtype as bfloat16; the Python layer lets through only this one and ml_dtypes.bfloat16.
BFLOAT16_BITS = np.dtype([("bfloat16", "<u2")])
_INT64_SIGN = np.int64(np.iinfo(np.int64).min)

# Pick the kernel table now, so that a bad FASTTOPK_ARCH fails `import fasttopk` with its message
# instead of the first call.
try:
    _core.simd_arch()
except ValueError as exc:
    raise ImportError(f"fasttopk: {exc}") from exc


class TopK(NamedTuple):
    """The result of :func:`topk`, like ``torch.topk``'s: values and their int64 indices, as
    arrays of the input's library (torch tensors for a tensor, JAX arrays for a JAX array,
    NumPy arrays otherwise)."""

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
    started = _core.get_num_threads()
    if started < n:  # thread or address-space limits: the pool runs with what it could start
        warnings.warn(
            f"fasttopk: only {started} of the {n} threads asked for could start",
            RuntimeWarning,
            stacklevel=2,
        )


def get_num_threads() -> int:
    """The number of threads large inputs are split over."""
    return _core.get_num_threads()


# --- input checking ---------------------------------------------------------------------------


def _is_bfloat16(dtype: np.dtype) -> bool:
    return dtype == BFLOAT16_BITS or (dtype.kind == "V" and dtype.itemsize == 2 and dtype.name == "bfloat16")


def _bfloat16_to_float32(arr: np.ndarray) -> np.ndarray:
    """A float32 copy of bfloat16 data (either spelling), exact: bfloat16 is float32's top half."""
    return (arr.view(np.uint16).astype(np.uint32) << 16).view(np.float32)


def _is_core_dtype(dtype: np.dtype) -> bool:
    """Whether the kernels read this dtype as it is (half precision included)."""
    return dtype in _NATIVE or _is_bfloat16(dtype)


def _is_float_dtype(dtype: np.dtype) -> bool:
    return dtype.kind == "f" or _is_bfloat16(dtype)

def _refuse_masked(value, name: str) -> None:
    """A mask would be dropped silently by np.asarray: refuse masked arrays instead."""
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(
            f"{name} is a masked array: its mask would be ignored; pass "
            f"{name}.filled(...) or {name}.compressed() instead"
        )


def _check_flag(value, name: str) -> bool:
    """`largest`/`sorted`: a bool (NumPy's too), never a truthy stand-in such as "no"."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def _aligned(arr: np.ndarray) -> np.ndarray:
    """`arr`, or an aligned copy of it: the core loads whole elements, and an unaligned load
    is undefined behaviour. Every array the core reads passes here (through _rows) once."""
    return arr if arr.flags.aligned else arr.copy()


def _has_internal_overlap(arr: np.ndarray) -> bool:
    """Whether two elements of `arr` share memory (zero or interleaved strides)."""
    dims = sorted((abs(s), n) for s, n in zip(arr.strides, arr.shape) if n > 1)
    if not dims or arr.size == 0:
        return False
    if dims[0][0] < arr.itemsize:
        return True  # neighbours along the smallest stride share bytes (a zero stride too)
    extent = arr.itemsize  # bytes spanned by the smaller dimensions so far
    for stride, n in dims:
        if stride < extent:
            break
        extent += stride * (n - 1)
    else:
        return False  # each stride clears everything below it: no overlap
    if arr.size > 1 << 24:
        return True  # interleaved strides that large: counted as overlapping, not listed
    # Interleaved strides (rare, from as_strided): list the element offsets and look.
    offsets = np.zeros(1, dtype=np.int64)
    for stride, n in dims:
        offsets = (offsets[:, None] + np.arange(n, dtype=np.int64) * stride).reshape(-1)
    offsets.sort()
    return bool(np.any(np.diff(offsets) < arr.itemsize))


def _overlaps(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether `a` and `b` may share memory; a problem too costly to solve counts as shared
    (the caller then stages through a temporary, as NumPy does)."""
    if not np.may_share_memory(a, b):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=10_000))
    except getattr(np, "exceptions", np).TooHardError:
        return True


def _as_real_array(x, name: str) -> np.ndarray:
    """`x` as an ndarray of a real dtype, without a copy when it already is one. Subclasses
    (np.matrix, memmap) become base ndarrays, so that reshapes and reductions act as on x."""
    _refuse_masked(x, name)
    x = _interop.as_numpy(x, name)  # torch/JAX/DLPack arrays read in place; GPU ones refused
    arr = x if type(x) is np.ndarray else np.asarray(x)
    kind = arr.dtype.kind
    if _is_bfloat16(arr.dtype):
        return arr
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
    if _is_core_dtype(dtype):
        return dtype
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
    return _aligned(np.ascontiguousarray(moved)).reshape(n_rows, moved.shape[-1])


def _direct_rows(x, axis) -> Optional[np.ndarray]:
    """The fast path of every array function: `x` itself (or its one-row view) when it is
    already what the core reads, a 1-D or 2-D ndarray of a core dtype with a contiguous last
    axis, reduced along that axis; None sends the call through the general checks."""
    if type(x) is not np.ndarray or type(axis) is not int or not _is_core_dtype(x.dtype):
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
    """Checks `out`; returns it as a base ndarray (the array to write into)."""
    _refuse_masked(out, name)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != tuple(shape):
        raise ValueError(f"{name} has shape {out.shape}, expected {tuple(shape)}")
    if out.dtype != dtype:
        raise TypeError(f"{name} has dtype {out.dtype}, expected {dtype}")
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only")
    if _has_internal_overlap(out):
        raise ValueError(f"{name} overlaps itself (several elements share memory)")
    return out if type(out) is np.ndarray else out.view(np.ndarray)


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
        dest = _check_out(out, result_shape, np.dtype(np.int64))
        if n_results == 0:
            return out
        flat = dest.reshape(-1) if dest.flags.c_contiguous else None
        # Written in place unless out overlaps what the core reads (then staged, as NumPy).
        if flat is not None and dest.dtype.isnative and dest.flags.aligned and not _overlaps(
            flat, source
        ):
            reduce(source, find_min, flat)
            return out
        tmp = np.empty(n_results, dtype=np.int64)
        reduce(source, find_min, tmp)
        dest[...] = tmp.reshape(result_shape)
        return out
    result = np.empty(n_results, dtype=np.int64)
    if n_results:
        reduce(source, find_min, result)
    if not result_shape:  # axis=None, or a 1-D x: a NumPy scalar, as np.argmax gives
        return np.int64(result[0])
    return result.reshape(result_shape)


def _arg_extreme(public, x, axis, out, keepdims: bool, classes, find_min: bool):
    """argmax/argmin: `public` is the function itself, for the forms that call it again
    (Dask, class labels, torch/JAX inputs, keepdims); then the kernel on NumPy input."""
    name = public.__name__
    if is_dask(x):
        if classes is not None:
            raise TypeError("classes= is not supported for Dask arrays yet: map the indices with map_blocks")
        return getattr(dask_api(), name)(x, axis, out=out, keepdims=keepdims)
    if classes is not None:
        from ._classes import arg_labels

        return arg_labels(functools.partial(public, keepdims=keepdims), x, axis, out, classes)
    if type(x) is not np.ndarray and _interop.library_of(x):  # torch/JAX: results in kind
        return _interop.call_in_library(public, x, axis, out=out, keepdims=keepdims)
    if keepdims:
        return _conventions.keep_reduced_axis(public, _as_real_array(x, "x"), axis, out, _check_out)
    rows = _direct_rows(x, axis) if out is None else None
    if rows is not None:
        result = np.empty(rows.shape[0], dtype=np.int64)
        _core.arg_reduce(rows, find_min, result)
        return result if x.ndim == 2 else result[0]
    return _arg_reduce(x, axis, out, find_min, name)


def argmax(
    x, axis: Optional[int] = -1, *, out: Optional[np.ndarray] = None, keepdims: bool = False, classes=None
):
    """Index of the largest value along `axis`, exactly as ``np.argmax``: the first occurrence,
    or the first NaN if there is one. `axis=None` searches the flattened array. int64;
    `keepdims` keeps the reduced axis with length one, as in NumPy.
    With `classes` (1-D, one label per position along `axis`), the labels of those indices."""
    return _arg_extreme(argmax, x, axis, out, keepdims, classes, find_min=False)


def argmin(
    x, axis: Optional[int] = -1, *, out: Optional[np.ndarray] = None, keepdims: bool = False, classes=None
):
    """Index of the smallest value along `axis`, exactly as ``np.argmin``. int64; `keepdims`
    as in NumPy.
    With `classes` (1-D, one label per position along `axis`), the labels of those indices."""
    return _arg_extreme(argmin, x, axis, out, keepdims, classes, find_min=True)


# --- softmax / log_softmax ------------------------------------------------------------------


def _softmax(x, axis, out, log: bool):
    if isinstance(axis, tuple):  # SciPy: normalised over several axes jointly
        over = lambda a, ax: _softmax(a, ax, None, log)  # noqa: E731
        return _conventions.over_axes(over, _as_real_array(x, "x"), axis, out, _check_out)
    rows = _direct_rows(x, axis) if out is None else None
    if rows is not None and _is_float_dtype(rows.dtype):
        result = np.empty(rows.shape, dtype=rows.dtype)
        _core.softmax(rows, log, result)
        return result if x.ndim == 2 else result[0]
    arr = _as_real_array(x, "x")
    # Floats keep their dtype (half precision is computed in float32 and rounded once, in the
    # kernel); integers and bools give float64, as in SciPy.
    result_dtype = arr.dtype if _is_float_dtype(arr.dtype) else np.dtype(np.float64)
    core_dtype = result_dtype
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
        out_base = _check_out(out, shape, result_dtype)
    if src.size == 0:
        return out if out is not None else np.empty(shape, dtype=result_dtype)
    rows = _rows(src if src.dtype == core_dtype else src.astype(core_dtype), axis_)
    if out is not None and result_dtype == core_dtype:
        if axis is not None:
            dest = _writable_rows(out_base, axis_)
        else:  # flattened: a view of out only when out is C-contiguous
            dest = (_writable_rows(out_base.reshape(src.shape), axis_)
                    if out_base.flags.c_contiguous else None)
        # Exact aliasing (out is x) is safe: each pass reads an element before writing it.
        if dest is not None and (_same_view(dest, rows) or not _overlaps(dest, rows)):
            _core.softmax(rows, log, dest)
            return out
    dest = np.empty(rows.shape, dtype=core_dtype)
    _core.softmax(rows, log, dest)
    moved_shape = tuple(np.delete(np.array(src.shape), axis_)) + (src.shape[axis_],)
    result = np.moveaxis(dest.reshape(moved_shape), -1, axis_).reshape(shape)
    if result.dtype != result_dtype:
        result = result.astype(result_dtype)
    if out is not None:
        out_base[...] = result
        return out
    return result


def _same_view(a: np.ndarray, b: np.ndarray) -> bool:
    return (
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        and a.shape == b.shape
        and a.strides == b.strides
    )


def softmax(x, axis=-1, *, out: Optional[np.ndarray] = None) -> np.ndarray:
    """``scipy.special.softmax`` along `axis` (default: the last, where SciPy's is None); a
    tuple `axis` normalises over those axes jointly. Floats keep their dtype; integers give
    float64; a 0-d input gives a NumPy scalar. `out` may be `x` itself (in place)."""
    if is_dask(x):
        return dask_api().softmax(x, axis, out=out)
    if type(x) is not np.ndarray and _interop.library_of(x):  # torch/JAX: results in kind
        return _interop.call_in_library(softmax, x, axis, out=out)
    return _conventions.scalar_if_0d(_softmax(x, axis, out, log=False), out)


def log_softmax(x, axis=-1, *, out: Optional[np.ndarray] = None) -> np.ndarray:
    """``scipy.special.log_softmax`` along `axis` (default: the last); conventions as softmax."""
    if is_dask(x):
        return dask_api().log_softmax(x, axis, out=out)
    if type(x) is not np.ndarray and _interop.library_of(x):  # torch/JAX: results in kind
        return _interop.call_in_library(log_softmax, x, axis, out=out)
    return _conventions.scalar_if_0d(_softmax(x, axis, out, log=True), out)


# --- topk / argtopk -------------------------------------------------------------------------


def _check_k(k, n: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an integer, got {type(k).__name__}")
    k = int(k)
    if not 0 <= k <= n:
        raise ValueError(f"k must lie in [0, {n}] (the length of the axis), got {k}")
    return k


def _topk(x, k, axis, largest, sorted):
    largest = _check_flag(largest, "largest")
    sorted = _check_flag(sorted, "sorted")
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


def topk(
    x, k: int, *, axis: int = -1, largest: bool = True, sorted: bool = True, out=None, classes=None
) -> TopK:
    """The `k` largest (or smallest) values along `axis` and their indices, like ``torch.topk``.

    Order: descending for largest=True (ascending otherwise); equal values in ascending index
    order; NaN above +inf (first when largest, last otherwise); -0.0 equal to +0.0. With
    sorted=False the same set comes back in an unspecified order. `out=(values, indices)`
    (torch's convention): two arrays of the result's shapes and dtypes, filled and returned.
    With `classes` (1-D, one label per position along `axis`) the result also has ``.labels``,
    the labels of ``indices``, and still unpacks as ``values, indices``."""
    if is_dask(x):
        if out is not None:
            raise TypeError("out= is not supported for Dask arrays: the result is a new Dask array")
        if classes is not None:
            raise TypeError("classes= is not supported for Dask arrays yet: map the indices with map_blocks")
        return dask_api().topk(x, k, axis=axis, largest=largest, sorted=sorted)
    if type(x) is not np.ndarray and _interop.library_of(x):  # torch/JAX: results in kind
        result = _interop.call_in_library(topk, x, k, axis=axis, largest=largest, sorted=sorted, out=out)
    else:
        values, indices = _topk(x, k, axis, largest, sorted)
        if out is not None:
            values, indices = _conventions.topk_into(out, values, indices, _check_out)
        result = TopK(values, indices)
    if classes is not None:
        from ._classes import topk_labels

        return topk_labels(result, x, axis, classes)
    return result


def argtopk(
    x, k: int, *, axis: int = -1, largest: bool = True, sorted: bool = True, classes=None
) -> np.ndarray:
    """The int64 indices of :func:`topk`; with `classes`, their labels instead."""
    if is_dask(x):
        if classes is not None:
            raise TypeError("classes= is not supported for Dask arrays yet: map the indices with map_blocks")
        return dask_api().argtopk(x, k, axis=axis, largest=largest, sorted=sorted)
    if type(x) is not np.ndarray and _interop.library_of(x):  # torch/JAX: results in kind
        indices = _interop.call_in_library(argtopk, x, k, axis=axis, largest=largest, sorted=sorted)
    else:
        indices = _topk(x, k, axis, largest, sorted)[1]
    if classes is not None:
        from ._classes import argtopk_labels

        return argtopk_labels(indices, x, axis, classes)
    return indices
