"""Cases for topk_softmax and logsumexp, with their references: topk's order rule on the
logits (np.argsort(kind="stable")) and SciPy's softmax/log_softmax/logsumexp of x / T at those
indices, compared within a tolerance (the kernels sum in another order than SciPy)."""
from __future__ import annotations

import warnings

import numpy as np
import scipy.special

import fasttopk

from .array_cases import (
    TYPE,
    VALUE,
    _first_diff,
    make_axis,
    make_flag,
    make_x,
    stable_topk,
    within_tolerance,
    x_error,
)
from .arrays import pick
from .case import Case, Err, Ok, errors


def _core_logits(x: np.ndarray) -> np.ndarray:
    """The logits as the kernels read them: half precision in float32, integers and bool in
    float64 (so huge integers that round together tie, by column, as topk's rule says)."""
    if x.dtype.kind == "f" and x.dtype.itemsize == 2:
        return x.astype(np.float32)
    if x.dtype.kind != "f":
        return x.astype(np.float64)
    return x


def _result_dtype(x: np.ndarray) -> np.dtype:
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)


def _scipy(fn, *args, **kwargs):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


def _tolerance(dtype: np.dtype, log: bool, n: int) -> tuple:
    eps = float(np.finfo(dtype).eps) if dtype.kind == "f" else float(np.finfo(np.float64).eps)
    rtol = max(64.0, 4 * np.sqrt(n)) * eps
    # Probabilities that underflow on one side only; log-probabilities near 0 carry SciPy's
    # own rounding of 1 + t as an absolute error (see compare_softmax).
    atol = 2 * eps * (8 + np.log2(max(n, 2))) if log else 4 * float(np.finfo(dtype).tiny)
    return rtol, atol


def make_temperature(rng):
    r = rng.random()
    if r < 0.5:
        return 1.0, None
    if r < 0.9:
        return pick(rng, [0.5, 2.0, 7.3, 1e-3, 1e3, np.float32(0.7), 3]), None
    if r < 0.97:
        return pick(rng, [0.0, -1.0, float("nan"), float("inf"), 1e-300]), Err(VALUE, ("temperature",))
    return pick(rng, ["1", None, True, [1.0], 1j]), Err(TYPE, ("temperature",))


def topk_softmax_case(rng) -> Case:
    made = make_x(rng, min_ndim=0 if rng.random() < 0.05 else 1)
    x = made.canon
    axis, axis_err = make_axis(rng, x.ndim, allow_none=False)
    temperature, t_err = make_temperature(rng)
    log, log_err = make_flag(rng, "log")
    sort, sorted_err = make_flag(rng, "sorted")
    n = x.shape[int(axis) % x.ndim] if x.ndim and axis_err is None else 0
    r = rng.random()
    if r < 0.93:
        k = min(int(pick(rng, [0, 1, 1, 2, 3, 5, n, max(n - 1, 0)])), n)
        k_err = None
    else:
        k, k_err = pick(rng, [n + 1, -1]), Err(VALUE, ("k",))
    if axis_err is not None:
        k_err = None
    dims_err = Err(VALUE, ("x", "dimension")) if x.ndim == 0 else None
    x_err = x_error(made)
    if x_err is None and isinstance(temperature, float) and temperature == 1e-300:
        if _core_logits(x).dtype == np.float64:
            t_err = None  # valid in float64, 0 in float32
    err = errors(x_err, dims_err, axis_err, t_err, log_err, sorted_err, k_err)
    recipe = (f"{made.recipe}; fasttopk.topk_softmax(x, {k!r}, axis={axis!r}, "
              f"temperature={temperature!r}, log={log!r}, sorted={sort!r})")

    def call():
        return fasttopk.topk_softmax(made.arg, k, axis=axis, temperature=temperature, log=log, sorted=sort)

    if err is not None:
        return Case("topk_softmax", recipe, call, err, made.guard)
    ax = int(axis) % x.ndim
    z = _core_logits(x)
    want_idx = stable_topk(z, int(k), True, ax)
    with np.errstate(all="ignore"):
        scaled = z / z.dtype.type(float(temperature))
    if scaled.size:
        probs = _scipy(scipy.special.log_softmax if log else scipy.special.softmax, scaled, axis=ax)
    else:
        probs = scaled  # k = 0: nothing to compare (SciPy raises on an empty array)
    dtype = _result_dtype(x)
    rtol, atol = _tolerance(dtype, bool(log), n)

    def check(result):
        values, idx = result
        if idx.dtype != np.int64 or idx.shape != want_idx.shape:
            return f"indices {idx.dtype}{idx.shape}, expected int64{want_idx.shape}"
        if values.dtype != dtype or values.shape != want_idx.shape:
            return f"values {values.dtype}{values.shape}, expected {dtype}{want_idx.shape}"
        if bool(sort):
            if not np.array_equal(idx, want_idx):
                return f"indices differ from topk's rule on the logits: {_first_diff(idx, want_idx)}"
        elif not np.array_equal(np.sort(idx, axis=ax), np.sort(want_idx, axis=ax)):
            return "sorted=False gave another set of indices"
        return within_tolerance(values, np.take_along_axis(probs, idx, axis=ax), rtol, atol)

    return Case("topk_softmax", recipe, call, Ok(check), made.guard)


def _lse_axis(rng, ndim: int):
    """An int axis (make_axis's, errors included), None, or a valid tuple of distinct axes."""
    if ndim == 0 or rng.random() < 0.8:
        return make_axis(rng, ndim, allow_none=True, tuples_ok=True)
    picked = [int(a) for a in rng.permutation(ndim)[: int(rng.integers(1, ndim + 1))]]
    return tuple(a - ndim if rng.random() < 0.3 else a for a in picked), None


def logsumexp_case(rng) -> Case:
    made = make_x(rng)
    x = made.canon
    axis, axis_err = _lse_axis(rng, x.ndim)
    keepdims, keep_err = make_flag(rng, "keepdims")
    err = errors(x_error(made), axis_err, keep_err)
    recipe = f"{made.recipe}; fasttopk.logsumexp(x, axis={axis!r}, keepdims={keepdims!r})"

    def call():
        return fasttopk.logsumexp(made.arg, axis=axis, keepdims=keepdims)

    if err is not None:
        return Case("logsumexp", recipe, call, err, made.guard)
    z = np.atleast_1d(_core_logits(x))
    ax = axis if axis is None or isinstance(axis, tuple) else int(axis)
    axes = range(z.ndim) if ax is None else (ax if isinstance(ax, tuple) else (ax,))
    n = int(np.prod([z.shape[a] for a in axes], dtype=np.int64))
    kd = bool(keepdims)
    with np.errstate(all="ignore"):
        if n == 0:  # SciPy raises on an empty reduction; fasttopk gives log(0) = -inf, documented
            want = np.asarray(np.log(np.sum(np.exp(z.astype(np.float64)), axis=ax, keepdims=kd)))
        else:  # SciPy's expression, in long double (its tuple-axis path fails on some shapes)
            z64 = z.astype(np.float64).astype(np.longdouble)
            shift = np.amax(z64, axis=ax, keepdims=True)
            shift = np.where(np.isfinite(shift), shift, 0.0)
            total = np.sum(np.exp(z64 - shift), axis=ax, keepdims=True)
            wide = np.log(total) + shift
            if not kd:
                wide = np.squeeze(wide, axis=ax) if ax is not None else wide.reshape(())
            want = np.asarray(wide.astype(np.float64))
    dtype = _result_dtype(x)
    eps = float(np.finfo(dtype).eps)
    # max + log(sum): the log carries the sum's error (relative) as an absolute error.
    rtol, atol = 8 * eps, 2 * eps * (8 + np.log2(max(n, 2)))

    def check(result):
        got = np.asarray(result)
        if got.dtype != dtype or got.shape != want.shape:
            return f"result {got.dtype}{got.shape}, expected {dtype}{want.shape}"
        if want.ndim == 0 and isinstance(result, np.ndarray):
            return "a 0-d array where SciPy gives a scalar"
        return within_tolerance(got, want, rtol, atol)

    return Case("logsumexp", recipe, call, Ok(check), made.guard)
