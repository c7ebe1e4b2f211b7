"""Argument checks of the array functions (topk, argmax, softmax, logsumexp, topk_softmax...),
each decided here once: what counts as a real-valued input, `k`, `axis`, the bool flags and
`out=`. The metrics check their own arguments by scikit-learn's rules (``_param_validation``,
``_metric_inputs``) but read scores through :func:`as_real_array` too.

Each check raises a TypeError for the wrong kind of value and a ValueError for a value out of
range, with a message that names the argument (NumPy's AxisError for an axis out of range).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _interop
from ._layout import has_internal_overlap, is_bfloat16

__all__ = [
    "as_real_array",
    "check_flag",
    "check_k",
    "check_out",
    "normalize_axes",
    "normalize_axis",
    "refuse_dask_classes",
    "refuse_masked",
]


def refuse_masked(value: object, name: str) -> None:
    """A mask would be dropped silently by np.asarray: refuse masked arrays instead."""
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(
            f"{name} is a masked array: its mask would be ignored; pass "
            f"{name}.filled(...) or {name}.compressed() instead"
        )


def refuse_dask_classes(classes: object) -> None:
    """`classes=` with a Dask array: not supported yet (the labels would need map_blocks)."""
    if classes is not None:
        raise TypeError(
            "classes= is not supported for Dask arrays yet: map the indices with map_blocks"
        )


def check_flag(value: object, name: str) -> bool:
    """`largest`, `sorted`, `keepdims`: a bool (NumPy's too), never a truthy stand-in such as
    "no"."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def as_real_array(x: object, name: str) -> NDArray[Any]:
    """`x` as an ndarray of a real dtype, without a copy when it already is one. Subclasses
    (np.matrix, memmap) become base ndarrays, so that reshapes and reductions act as on x."""
    refuse_masked(x, name)
    x = _interop.as_numpy(x, name)  # torch/JAX/DLPack arrays read in place; GPU ones refused
    arr: NDArray[Any] = x if type(x) is np.ndarray else np.asarray(x)
    kind = arr.dtype.kind
    if is_bfloat16(arr.dtype):
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


def normalize_axis(axis: object, ndim: int, name: str = "axis") -> int:
    """`axis` as an index in ``range(ndim)``; negative values count from the end."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(axis).__name__}")
    axis = int(axis)
    if not -ndim <= axis < ndim:
        if hasattr(np, "exceptions"):
            raise np.exceptions.AxisError(axis, ndim, msg_prefix=name)
        raise ValueError(f"{name} {axis} is out of bounds for an array of dimension {ndim}")
    return axis % ndim


def normalize_axes(axis: object, ndim: int) -> tuple[int, ...]:
    """`axis` (None, an int or a tuple of ints) as a sorted tuple of distinct axes; None is
    every axis."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, tuple):
        axes = tuple(normalize_axis(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"duplicate value in 'axis': {axis}")
        return tuple(sorted(axes))
    return (normalize_axis(axis, ndim),)


def check_k(k: object, n: int) -> int:
    """`k` of topk/argtopk/topk_softmax: an integer in ``[0, n]``, `n` the length of the axis."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an integer, got {type(k).__name__}")
    k = int(k)
    if not 0 <= k <= n:
        raise ValueError(f"k must lie in [0, {n}] (the length of the axis), got {k}")
    return k


def check_out(
    out: object, shape: tuple[int, ...], dtype: np.dtype[Any], name: str = "out"
) -> NDArray[Any]:
    """Checks an `out=` array: an ndarray of `shape` and `dtype`, writeable, no two elements
    in the same memory. Returns it as a base ndarray (the array to write into)."""
    refuse_masked(out, name)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != tuple(shape):
        raise ValueError(f"{name} has shape {out.shape}, expected {tuple(shape)}")
    if out.dtype != dtype:
        raise TypeError(f"{name} has dtype {out.dtype}, expected {dtype}")
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only")
    if has_internal_overlap(out):
        raise ValueError(f"{name} overlaps itself (several elements share memory)")
    return out if type(out) is np.ndarray else out.view(np.ndarray)
