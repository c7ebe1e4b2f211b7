"""Array layout shared by the array functions and the metrics: which dtypes the core reads as
they are (and the exact mapping of the others), the bfloat16 marker dtype, alignment, memory
overlap, and the views the kernels take: 2-D rows (the reduced axis moved last, contiguous),
or, for a reduction along a non-last axis, 3-D panels read in place (:func:`reduction_view`).

Nothing here checks user arguments (that is ``_validation``); these helpers take arrays that
are already checked and say how they reach the core with the fewest copies.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BFLOAT16_BITS",
    "Panels",
    "aligned",
    "bfloat16_to_float32",
    "core_dtype",
    "direct_columns",
    "direct_rows",
    "float_result_dtype",
    "from_core",
    "has_internal_overlap",
    "is_bfloat16",
    "is_core_dtype",
    "is_float_dtype",
    "overlaps",
    "panel_view",
    "reduction_view",
    "restore_axis",
    "restore_panels",
    "row_view",
    "rows",
    "same_view",
    "to_core",
    "writable_rows",
]

# The dtypes the kernels read as they are (bfloat16 besides, see below).
_NATIVE_DTYPES = (
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


def is_bfloat16(dtype: np.dtype[Any]) -> bool:
    """Whether `dtype` is bfloat16: ml_dtypes' or the :data:`BFLOAT16_BITS` marker."""
    return dtype == BFLOAT16_BITS or (
        dtype.kind == "V" and dtype.itemsize == 2 and dtype.name == "bfloat16"
    )


def bfloat16_to_float32(arr: NDArray[Any]) -> NDArray[np.float32]:
    """A float32 copy of bfloat16 data (either spelling), exact: bfloat16 is float32's top half."""
    return (arr.view(np.uint16).astype(np.uint32) << 16).view(np.float32)


def is_core_dtype(dtype: np.dtype[Any]) -> bool:
    """Whether the kernels read this dtype as it is (half precision included)."""
    return dtype in _NATIVE_DTYPES or is_bfloat16(dtype)


def is_float_dtype(dtype: np.dtype[Any]) -> bool:
    """Whether `dtype` is a floating-point dtype, bfloat16 included."""
    return dtype.kind == "f" or is_bfloat16(dtype)


def core_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """The dtype the core computes in for order-based kernels; every mapping is exact."""
    if is_core_dtype(dtype):
        return dtype
    if dtype.kind == "b" or dtype.itemsize < 4 or (dtype.kind == "i" and dtype.itemsize == 4):
        return np.dtype(np.int32)
    return np.dtype(np.int64)  # uint32, uint64 (the latter through an order-preserving shift)


def float_result_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """The dtype of softmax, log_softmax, logsumexp and topk_softmax results, which the core
    also computes in: floats keep theirs (float16 and bfloat16 are widened to float32 in
    registers and rounded once), integers and bools give float64, as SciPy."""
    return dtype if is_float_dtype(dtype) else np.dtype(np.float64)


def to_core(arr: NDArray[Any]) -> NDArray[Any]:
    """`arr` in its core dtype (a copy when that differs), preserving order exactly."""
    target = core_dtype(arr.dtype)
    if arr.dtype == target:
        return arr
    if arr.dtype == np.uint64:
        return arr.view(np.int64) ^ _INT64_SIGN  # order-preserving, exact, invertible
    return arr.astype(target)


def from_core(values: NDArray[Any], dtype: np.dtype[Any]) -> NDArray[Any]:
    """Values the core selected (in :func:`core_dtype`) back in the input's `dtype`."""
    if values.dtype == dtype:
        return values
    if dtype == np.uint64:
        return (values ^ _INT64_SIGN).view(np.uint64)
    return values.astype(dtype)


def aligned(arr: NDArray[Any]) -> NDArray[Any]:
    """`arr`, or an aligned copy of it: the core loads whole elements, and an unaligned load
    is undefined behaviour. Every array the core reads passes here (through rows) once."""
    return arr if arr.flags.aligned else arr.copy(order="K")  # the same layout: the same kernel


def has_internal_overlap(arr: NDArray[Any]) -> bool:
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


def overlaps(a: NDArray[Any], b: NDArray[Any]) -> bool:
    """Whether `a` and `b` may share memory; a problem too costly to solve counts as shared
    (the caller then stages through a temporary, as NumPy does)."""
    if not np.may_share_memory(a, b):
        return False
    too_hard = getattr(np, "exceptions", np).TooHardError
    shares_memory: Any = np.shares_memory  # (NumPy's stubs allow no max_work but -1 and 0)
    try:
        return bool(shares_memory(a, b, max_work=10_000))
    except too_hard:
        return True


def same_view(a: NDArray[Any], b: NDArray[Any]) -> bool:
    """Whether `a` and `b` are the same elements in the same layout (exact aliasing)."""
    return bool(
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        and a.shape == b.shape
        and a.strides == b.strides
    )


# NumPy 2.1 added reshape(copy=False), which refuses where a view cannot be had; NumPy 2.5
# deprecates setting .shape, the way to ask that of older NumPy.
_RESHAPE_TAKES_COPY = np.lib.NumpyVersion(np.__version__) >= "2.1.0"


def reshaped_view(arr: NDArray[Any], shape: tuple[int, ...]) -> NDArray[Any] | None:
    """`arr` reshaped to `shape` without a copy, or None when that would need one."""
    if _RESHAPE_TAKES_COPY:
        try:
            return np.reshape(arr, shape, copy=False)
        except ValueError:
            return None
    view = arr.view()
    try:
        view.shape = shape  # refuses (AttributeError) when it would need a copy
    except AttributeError:
        return None
    return view


def row_view(arr: NDArray[Any], axis: int) -> NDArray[Any] | None:
    """A 2-D (rows, n) view with `axis` last and a contiguous last axis, or None when the layout
    forbids one."""
    moved = np.moveaxis(arr, axis, -1) if axis != arr.ndim - 1 else arr
    n = moved.shape[-1]
    n_rows = math.prod(moved.shape[:-1])
    if (n <= 1 or moved.strides[-1] == moved.itemsize) and moved.flags.aligned:
        return reshaped_view(moved, (n_rows, n))
    return None


def rows(arr: NDArray[Any], axis: int) -> NDArray[Any]:
    """A 2-D (rows, n) view with `axis` last and a contiguous last axis; a copy only if the
    layout forbids a view."""
    view = row_view(arr, axis)
    if view is not None:
        return view
    moved = np.moveaxis(arr, axis, -1) if axis != arr.ndim - 1 else arr
    n_rows = math.prod(moved.shape[:-1])
    return aligned(np.ascontiguousarray(moved)).reshape(n_rows, moved.shape[-1])


def restore_axis(per_row: NDArray[Any], shape: tuple[int, ...], axis: int) -> NDArray[Any]:
    """The (rows, k) result of a kernel on :func:`rows` (arr, axis) put back in the input's
    layout: `shape` with `axis` of length k (a view, the axis moved back)."""
    lead = shape[:axis] + shape[axis + 1 :]
    return np.moveaxis(per_row.reshape((*lead, per_row.shape[-1])), -1, axis)


def direct_rows(x: object, axis: object) -> NDArray[Any] | None:
    """The fast path of every array function: `x` itself (or its one-row view) when it is
    already what the core reads, a 1-D or 2-D ndarray of a core dtype with a contiguous last
    axis, reduced along that axis; None sends the call through the general checks."""
    if type(x) is not np.ndarray or type(axis) is not int or not is_core_dtype(x.dtype):
        return None
    if x.ndim == 2 and (axis == -1 or axis == 1):
        view = x
    elif x.ndim == 1 and (axis == -1 or axis == 0):
        view = x.reshape(1, -1)
    else:
        return None
    if (
        view.shape[0] == 0
        or view.shape[1] < 2
        or view.strides[1] != view.itemsize
        or not view.flags.aligned
    ):
        return None
    return view


def direct_columns(x: object, axis: object) -> NDArray[Any] | None:
    """The fast path of topk along axis 0 of a 2-D ndarray of a core dtype with contiguous rows:
    `x` as one (1, n, C) panel (:class:`Panels`' view, without the general layout search), or
    None."""
    if type(x) is not np.ndarray or type(axis) is not int or x.ndim != 2 or axis not in (0, -2):
        return None
    if not is_core_dtype(x.dtype) or not x.flags.aligned:
        return None
    if x.shape[0] == 0 or x.shape[1] < 2 or x.strides[1] != x.itemsize or x.strides[0] % x.itemsize:
        return None
    return x[np.newaxis]


def writable_rows(out: NDArray[Any], axis: int) -> NDArray[Any] | None:
    """A 2-D view the core can write into directly, or None when `out` needs a staging copy."""
    if not out.dtype.isnative or not out.flags.aligned:
        return None
    return row_view(out, axis)  # never a copy: that could not be written back


class Panels(NamedTuple):
    """An array to be reduced along a non-last axis, read in place by the column kernels:
    `view` is (outer, n, inner) with the reduced axis in the middle and the inner axis
    contiguous; `order` the input's axes in that view's order (outer ones, the reduced one,
    inner ones), from which :func:`panel_view` and :func:`restore_panels` work."""

    view: NDArray[Any]
    order: tuple[int, ...]


def _panels(arr: NDArray[Any], axis: int) -> Panels | None:
    """`arr` as :class:`Panels` for a reduction along `axis`, or None when no such view exists:
    the axes whose strides are smaller than the reduced axis's must make one contiguous block
    of at least two elements (the columns), those with larger strides one axis (the panels)."""
    if not arr.flags.aligned or arr.size == 0:
        return None
    step = abs(arr.strides[axis])
    others = sorted(
        (a for a in range(arr.ndim) if a != axis and arr.shape[a] > 1),
        key=lambda a: -abs(arr.strides[a]),
    )
    ones = [a for a in range(arr.ndim) if a != axis and arr.shape[a] == 1]
    inner = [a for a in others if abs(arr.strides[a]) < step]
    outer = [a for a in others if abs(arr.strides[a]) >= step]
    order = (*outer, *ones, axis, *inner)
    n_inner = int(np.prod([arr.shape[a] for a in inner], dtype=np.int64))
    n_outer = int(np.prod([arr.shape[a] for a in outer], dtype=np.int64))
    if n_inner < 2:
        return None
    view = panel_view(arr, order, (n_outer, arr.shape[axis], n_inner))
    return None if view is None else Panels(view, order)


def panel_view(
    arr: NDArray[Any], order: tuple[int, ...], shape: tuple[int, int, int]
) -> NDArray[Any] | None:
    """`arr` with its axes in `order`, as a 3-D view of `shape` whose last axis is contiguous
    (the layout the column kernels read and write), or None when the layout forbids one."""
    if not arr.flags.aligned or not arr.dtype.isnative:
        return None
    view = reshaped_view(arr.transpose(order), shape)
    if view is None:
        return None
    if view.strides[2] != view.itemsize or any(s % view.itemsize for s in view.strides):
        return None
    return view


def restore_panels(
    per_panel: NDArray[Any], shape: tuple[int, ...], order: tuple[int, ...]
) -> NDArray[Any]:
    """A kernel's result on :class:`Panels` put back in the input's axis order (a view):
    `per_panel` is (outer, n, inner) for softmax (`shape` the input's), (outer, inner) for a
    reduction (`shape` the input's without the reduced axis, `order` without it too)."""
    kept = sorted(order)
    return per_panel.reshape([shape[kept.index(a)] for a in order]).transpose(
        np.argsort(order)
    )


def reduction_view(arr: NDArray[Any], axis: int) -> NDArray[Any] | Panels:
    """What the core reads for a reduction of `arr` along `axis`, with the fewest copies, decided
    here only: a (rows, n) view when the reduced axis is contiguous (or can be made last without
    a copy); else :class:`Panels`, read in place by the column kernels, when the axes after it
    form a contiguous block; else the (rows, n) copy of :func:`rows`. Unaligned data is copied
    first in its own layout, so that it meets the kernel its aligned twin meets (the same bits)."""
    arr = aligned(arr)
    view = row_view(arr, axis)
    if view is not None:
        return view
    panels = _panels(arr, axis)
    if panels is not None:
        return panels
    return rows(arr, axis)
