"""softmax and log_softmax (``scipy.special``'s), checked here and done in fasttopk._core.

Rules kept here: the result dtype (floats keep theirs, integers and bools give float64, as
SciPy), how `axis` (an int, None or a tuple) becomes rows, and when `out` is written in place.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _conventions, _core, _interop
from ._dask_dispatch import dask_api, is_dask
from ._layout import (
    Panels,
    direct_rows,
    float_result_dtype,
    is_float_dtype,
    overlaps,
    panel_view,
    reduction_view,
    restore_panels,
    same_view,
    writable_rows,
)
from ._validation import as_real_array, check_out, normalize_axis

__all__ = ["log_softmax", "softmax"]


def _softmax(x: Any, axis: Any, out: Any, log: bool) -> Any:
    if isinstance(axis, tuple):  # SciPy: normalised over several axes jointly
        def over(a: NDArray[Any], ax: Any) -> Any:
            return _softmax(a, ax, None, log)

        return _conventions.over_axes(over, as_real_array(x, "x"), axis, out, check_out)
    fast = direct_rows(x, axis) if out is None else None
    if fast is not None and is_float_dtype(fast.dtype):
        result = np.empty(fast.shape, dtype=fast.dtype)
        _core.softmax(fast, log, result)
        return result if x.ndim == 2 else result[0]
    arr = as_real_array(x, "x")
    result_dtype = float_result_dtype(arr.dtype)
    core_dtype = result_dtype
    shape = arr.shape
    if arr.ndim == 0 and axis is not None:
        normalize_axis(axis, 1)  # like SciPy: a 0-d array is one element along axis 0 (or -1)
        axis = None
    if axis is None:
        src = arr.reshape(1, -1) if arr.size else arr.reshape(0, 0)
        axis_ = 1
    else:
        axis_ = normalize_axis(axis, arr.ndim)
        src = arr
    # SciPy's rule: an empty softmax axis is an error, even when no row would be reduced.
    if src.shape[axis_] == 0:
        raise ValueError("x: softmax of an empty axis is undefined (zero-size array)")
    if out is not None:
        out_base = check_out(out, shape, result_dtype)
    if src.size == 0:
        return out if out is not None else np.empty(shape, dtype=result_dtype)
    source = reduction_view(src if src.dtype == core_dtype else src.astype(core_dtype), axis_)
    if isinstance(source, Panels):
        return _softmax_panels(source, src.shape, log, out_base if out is not None else None, out)
    if out is not None and result_dtype == core_dtype:
        if axis is not None:
            dest = writable_rows(out_base, axis_)
        else:  # flattened: a view of out only when out is C-contiguous
            dest = (
                writable_rows(out_base.reshape(src.shape), axis_)
                if out_base.flags.c_contiguous
                else None
            )
        # Exact aliasing (out is x) is safe: each pass reads an element before writing it.
        if dest is not None and (same_view(dest, source) or not overlaps(dest, source)):
            _core.softmax(source, log, dest)
            return out
    dest = np.empty(source.shape, dtype=core_dtype)
    _core.softmax(source, log, dest)
    moved_shape = (*np.delete(np.array(src.shape), axis_), src.shape[axis_])
    result = np.moveaxis(dest.reshape(moved_shape), -1, axis_).reshape(shape)
    if result.dtype != result_dtype:
        result = result.astype(result_dtype)
    if out is not None:
        out_base[...] = result
        return out
    return result


def _softmax_panels(
    source: Panels, shape: tuple[int, ...], log: bool, out_base: Any, out: Any
) -> Any:
    """softmax along a non-last axis, read in place (and written in place into a suitable
    `out`, exactly `x` included) by the column kernels."""
    view = source.view
    if out_base is not None:
        dest = panel_view(out_base, source.order, view.shape)
        if dest is not None and (same_view(dest, view) or not overlaps(dest, view)):
            _core.softmax_panels(view, log, dest)
            return out
    result = np.empty(view.shape, dtype=view.dtype)
    _core.softmax_panels(view, log, result)
    restored = restore_panels(result, shape, source.order)
    if out_base is not None:
        out_base[...] = restored
        return out
    return restored


def softmax(
    x: ArrayLike, axis: int | tuple[int, ...] | None = -1, *, out: NDArray[Any] | None = None
) -> Any:
    """``scipy.special.softmax`` along `axis`: ``exp(x) / sum(exp(x))``, computed stably.

    Parameters
    ----------
    x : array-like
        Real numbers: NumPy arrays, lists, torch/JAX CPU tensors. float32, float64, float16
        and bfloat16 are read in place when `axis` is contiguous or the axes after it form
        one contiguous block (half precision is computed in float32 and rounded once).
    axis : int, tuple of ints or None, default=-1
        The axis to normalise over (the last, where SciPy's default is None); a tuple
        normalises over those axes jointly, None over the whole array.
    out : ndarray, optional
        Receives the result (the input's shape and result dtype); may be `x` itself, for an
        in-place softmax.

    Returns
    -------
    ndarray or NumPy scalar
        The input's float dtype (float64 for integers and bools); a NumPy scalar for 0-d
        input, as SciPy; in the input's library for torch and JAX inputs.

    Notes
    -----
    As SciPy: a row holding NaN or +inf, or only -inf, gives NaN.

    See Also
    --------
    log_softmax, topk_softmax, logsumexp, scipy.special.softmax

    Examples
    --------
    >>> import numpy as np, fasttopk
    >>> fasttopk.softmax(np.array([[0.0, np.log(3.0)], [1.0, 1.0]]))
    array([[0.25, 0.75],
           [0.5 , 0.5 ]])
    >>> x = np.array([1.0, 1.0, 2.0, 2.0])
    >>> fasttopk.softmax(x, out=x) is x
    True
    """
    if is_dask(x):
        return dask_api().softmax(x, axis, out=out)
    if type(x) is not np.ndarray and _interop.library_of(x):  # torch/JAX: results in kind
        return _interop.call_in_library(softmax, x, axis, out=out)
    return _conventions.scalar_if_0d(_softmax(x, axis, out, log=False), out)


def log_softmax(
    x: ArrayLike, axis: int | tuple[int, ...] | None = -1, *, out: NDArray[Any] | None = None
) -> Any:
    """``scipy.special.log_softmax`` along `axis`: ``x - logsumexp(x)``, computed stably.

    Parameters
    ----------
    x : array-like
        Real numbers, as for :func:`softmax`.
    axis : int, tuple of ints or None, default=-1
        The axis to normalise over; a tuple normalises over those axes jointly, None over the
        whole array.
    out : ndarray, optional
        Receives the result; may be `x` itself.

    Returns
    -------
    ndarray or NumPy scalar
        As :func:`softmax`.

    See Also
    --------
    softmax, logsumexp, scipy.special.log_softmax

    Examples
    --------
    >>> import numpy as np, fasttopk
    >>> fasttopk.log_softmax(np.array([[0.0, 0.0], [1000.0, -np.inf]]))
    array([[-0.69314718, -0.69314718],
           [ 0.        ,        -inf]])
    """
    if is_dask(x):
        return dask_api().log_softmax(x, axis, out=out)
    if type(x) is not np.ndarray and _interop.library_of(x):  # torch/JAX: results in kind
        return _interop.call_in_library(log_softmax, x, axis, out=out)
    return _conventions.scalar_if_0d(_softmax(x, axis, out, log=True), out)
