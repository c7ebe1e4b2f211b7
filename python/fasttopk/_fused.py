"""topk_softmax (softmax and top-k fused, the softmax never in memory) and logsumexp.

Both run src/fasttopk/fused.hpp: one online pass per row for the maximum and the sum of
exponentials, then (topk_softmax) the top-k selection on the logits of the same row while it is
in cache, and exp only for the k winners.
"""
from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core, _interop
from ._dask_dispatch import dask_api, is_dask
from ._layout import (
    Panels,
    aligned,
    float_result_dtype,
    reduction_view,
    restore_axis,
    restore_panels,
    rows,
)
from ._selection import TopK
from ._validation import (
    as_real_array,
    check_flag,
    check_k,
    normalize_axes,
    normalize_axis,
    refuse_dask_classes,
)

if TYPE_CHECKING:
    from ._classes import LabeledTopK

__all__ = ["logsumexp", "topk_softmax"]


def _arithmetic_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """The dtype the kernel divides by the temperature in (float32 for half precision)."""
    return np.dtype(np.float32) if dtype.itemsize == 2 else dtype


def _check_temperature(temperature: object, core_dtype: np.dtype[Any]) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise TypeError(f"temperature must be a real number, got {type(temperature).__name__}")
    t = float(temperature)
    # In the input's precision, as ``x / temperature`` computes with a Python float.
    with np.errstate(over="ignore"):
        t_core = core_dtype.type(t)
    if not (math.isfinite(t) and t > 0 and np.isfinite(t_core) and t_core > 0):
        raise ValueError(
            f"temperature must be finite and > 0 (in {core_dtype}), got {temperature!r}"
        )
    return float(t_core)


@overload
def topk_softmax(
    x: ArrayLike,
    k: int,
    *,
    axis: int = ...,
    temperature: float = ...,
    log: bool = ...,
    sorted: bool = ...,
    classes: None = ...,
) -> TopK: ...


@overload
def topk_softmax(
    x: ArrayLike,
    k: int,
    *,
    axis: int = ...,
    temperature: float = ...,
    log: bool = ...,
    sorted: bool = ...,
    classes: ArrayLike,
) -> LabeledTopK: ...


def topk_softmax(
    x: ArrayLike,
    k: int,
    *,
    axis: int = -1,
    temperature: float = 1.0,
    log: bool = False,
    sorted: bool = True,
    classes: ArrayLike | None = None,
) -> TopK:
    """The `k` largest probabilities of ``softmax(x / temperature)`` along `axis`, and their
    indices, without computing the full softmax.

    Equal to ``topk(softmax(x / temperature, axis=axis), k, axis=axis)`` to float rounding, and
    ``log=True`` to the same with ``log_softmax``. Each row is read once for its maximum and
    sum of exponentials, once more (from cache) for the selection, which is made on the logits
    themselves: softmax is monotonic, so topk's rules hold on the logits. Only the `k` winners
    get an ``exp``. Nothing of the input's size is allocated.

    Parameters
    ----------
    x : array-like
        Logits: float32, float64, float16 and bfloat16 are read in place (any row stride;
        half precision is computed in float32 and rounded once); integers and bools are
        converted once, to float64.
    k : int
        How many classes per row, ``0 <= k <= x.shape[axis]``.
    axis : int, default=-1
        The class axis.
    temperature : float, default=1.0
        Divides the logits first; finite and > 0 in the input's precision (a float32 input
        divides by ``np.float32(temperature)``, as ``x / temperature`` does with a Python
        float).
    log : bool, default=False
        Return log-probabilities (``log_softmax``) instead of probabilities.
    sorted : bool, default=True
        Descending order; False returns the same set in an unspecified order.
    classes : array-like of shape (x.shape[axis],), optional
        One label per class (strings, ints, objects); the result then has ``.labels``.

    Returns
    -------
    TopK
        ``(values, indices)``: values of the input's float dtype (float64 for integer input),
        int64 indices, both with `k` along `axis`. With `classes`, also ``.labels``.

    Notes
    -----
    Order: by logit, descending; equal logits in ascending index order; NaN first. Indices
    therefore follow the logits even where the probabilities round to equal values (e.g. both
    underflow to 0), and ties that ``x / temperature`` would create by rounding are broken by
    `x`. Rows SciPy's softmax makes all NaN (a NaN, a +inf, every element -inf) give NaN
    values (log: SciPy's ``log_softmax`` values), with the indices of the logits' top-k.

    See Also
    --------
    topk, softmax, log_softmax, logsumexp

    Examples
    --------
    >>> import numpy as np, fasttopk
    >>> logits = np.array([[2.0, 1.0, 0.1, 3.0]])
    >>> p, i = fasttopk.topk_softmax(logits, 2)
    >>> i
    array([[3, 0]])
    >>> np.round(p, 4)
    array([[0.6418, 0.2361]])
    >>> fasttopk.topk_softmax(logits, 1, classes=["cat", "dog", "emu", "owl"]).labels
    array([['owl']], dtype='<U3')
    """
    if is_dask(x):
        refuse_dask_classes(classes)
        lazy: TopK = dask_api().topk_softmax(
            x, k, axis=axis, temperature=temperature, log=log, sorted=sorted
        )
        return lazy
    if type(x) is not np.ndarray and _interop.library_of(x):  # torch/JAX: results in kind
        result: TopK = _interop.call_in_library(
            topk_softmax, x, k, axis=axis, temperature=temperature, log=log, sorted=sorted
        )
        if classes is None:
            return result
        from ._classes import topk_labels

        return topk_labels(result, x, axis, classes)
    arr = as_real_array(x, "x")
    if arr.ndim == 0:
        raise ValueError("x must have at least one dimension")
    axis_ = normalize_axis(axis, arr.ndim)
    k = check_k(k, arr.shape[axis_])
    core_dtype = float_result_dtype(arr.dtype)
    t = _check_temperature(temperature, _arithmetic_dtype(core_dtype))
    log = check_flag(log, "log")
    sorted = check_flag(sorted, "sorted")
    if classes is not None:
        from ._classes import check_classes

        names = check_classes(classes, arr.shape[axis_], f"the length of axis {axis}")
    core = arr if arr.dtype == core_dtype else arr.astype(core_dtype)
    source = rows(core, axis_)
    values = np.empty((source.shape[0], k), dtype=core_dtype)
    indices = np.empty((source.shape[0], k), dtype=np.int64)
    if values.size:
        _core.topk_softmax(source, k, t, bool(log), bool(sorted), values, indices)
    values = restore_axis(values, arr.shape, axis_)
    indices = restore_axis(indices, arr.shape, axis_)
    if classes is not None:
        from ._classes import LabeledTopK

        return LabeledTopK(values, indices, names[indices])
    return TopK(values, indices)


def logsumexp(
    x: ArrayLike, axis: int | tuple[int, ...] | None = -1, *, keepdims: bool = False
) -> Any:
    """``log(sum(exp(x)))`` along `axis`, computed stably: ``scipy.special.logsumexp``'s value.

    One pass per row: the maximum and the sum of exponentials are kept together, the sum
    rescaled whenever the maximum grows, and accumulated in double precision.

    Parameters
    ----------
    x : array-like
        float32, float64, float16 and bfloat16 are read in place when the reduced axis is the
        last and contiguous (half precision computed in float32); integers and bools in float64.
    axis : int, tuple of ints or None, default=-1
        The axes to reduce (None: all of them). Several axes are moved last and flattened into
        one (a copy when the layout needs one).
    keepdims : bool, default=False
        Keep the reduced axes with length 1.

    Returns
    -------
    ndarray or NumPy scalar
        The input's float dtype (float64 for integers and bools); a NumPy scalar when every
        axis is reduced without `keepdims`, as SciPy.

    Notes
    -----
    As SciPy: a row holding NaN gives NaN; one holding +inf (and no NaN) gives +inf; one of
    only -inf, or an empty one, gives -inf.

    See Also
    --------
    softmax, log_softmax, topk_softmax, scipy.special.logsumexp

    Examples
    --------
    >>> import numpy as np, fasttopk
    >>> x = np.array([[0.0, 1.0, 2.0], [1000.0, 1000.0, -np.inf]])
    >>> fasttopk.logsumexp(x)
    array([   2.40760596, 1000.69314718])
    >>> float(fasttopk.logsumexp(x[0], axis=None))
    2.4076059644443806
    """
    if is_dask(x):
        return dask_api().logsumexp(x, axis, keepdims=keepdims)
    if type(x) is not np.ndarray and _interop.library_of(x):  # torch/JAX: results in kind
        return _interop.call_in_library(logsumexp, x, axis, keepdims=keepdims)
    arr = as_real_array(x, "x")
    keepdims = check_flag(keepdims, "keepdims")
    if arr.ndim == 0:
        arr = arr.reshape(1)  # as SciPy (np.atleast_1d): a 0-d input is one row of one
    axes = normalize_axes(axis, arr.ndim)
    core_dtype = float_result_dtype(arr.dtype)
    kept = [a for a in range(arr.ndim) if a not in axes]
    kept_shape = tuple(arr.shape[a] for a in kept)
    n = int(np.prod([arr.shape[a] for a in axes], dtype=np.int64))
    core = arr if arr.dtype == core_dtype else arr.astype(core_dtype)
    if len(axes) == 1:
        view = reduction_view(core, axes[0])
        if isinstance(view, Panels):  # along a non-last axis, read in place
            per_panel = np.empty(view.view.shape[0] * view.view.shape[2], dtype=core_dtype)
            _core.logsumexp_panels(view.view, per_panel)
            order = tuple(a for a in view.order if a != axes[0])
            result = restore_panels(per_panel, kept_shape, order)
            return _logsumexp_result(result, arr.shape, axes, keepdims)
        source = view
    else:
        moved = np.moveaxis(core, axes, tuple(range(arr.ndim - len(axes), arr.ndim)))
        n_rows = int(np.prod(kept_shape, dtype=np.int64))
        source = moved.reshape(n_rows, n)  # a view when the axes are already last and contiguous
        if (n > 1 and source.strides[1] != source.itemsize) or not source.flags.aligned:
            source = aligned(np.ascontiguousarray(source))  # (a contiguous one comes back as it is)
    out = np.empty(source.shape[0], dtype=core_dtype)
    if n == 0:
        out.fill(-np.inf)  # log(0); NumPy calls an empty array aligned wherever it points
    elif out.size:
        _core.logsumexp(source, out)
    return _logsumexp_result(out.reshape(kept_shape), arr.shape, axes, keepdims)


def _logsumexp_result(
    result: NDArray[Any], shape: tuple[int, ...], axes: Any, keepdims: bool
) -> Any:
    """The per-row results (in the kept axes' shape) as SciPy returns them."""
    if keepdims:
        return result.reshape(tuple(1 if a in axes else shape[a] for a in range(len(shape))))
    if result.ndim == 0:
        return result[()]
    return result
