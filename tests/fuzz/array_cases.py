"""Cases for topk/argtopk, argmax/argmin and softmax/log_softmax, with their references:
np.argsort(kind="stable") with DESIGN.md's order rule, np.argmax/np.argmin, and
scipy.special.softmax/log_softmax's expressions with x - max in float64 and the rest in long
double (compared within a tolerance: the float32 kernels may differ between ISAs by ~100 ulp,
issue 7 item 9)."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

import fasttopk

from .arrays import Made, hostile, masked, pick, rejected
from .case import AxisError, Case, Err, Ok, errors

TYPE = (TypeError,)
VALUE = (ValueError,)
AXIS = (AxisError, ValueError)


def make_x(rng, *, min_ndim=0) -> Made:
    r = rng.random()
    if r < 0.01:  # not an array at all
        bad = pick(rng, [None, "abc", {"a": 1}, [[1.0, "a"]], [1 + 1j], object()])
        return Made(bad, np.empty(1, dtype=object), f"x = {bad!r}")
    if r < 0.04:
        return rejected(rng)
    if r < 0.06:
        return masked(rng)
    return hostile(rng, large=rng.random() < 0.05, min_ndim=min_ndim)


def x_error(made: Made):
    if isinstance(made.arg, np.ma.MaskedArray):
        return Err(TYPE, ("x",))
    if made.canon.dtype.kind not in "biuf" or made.canon.dtype.itemsize > 8:
        return Err(TYPE, ("x",))
    return None


def make_axis(rng, ndim: int, allow_none: bool, tuples_ok: bool = False):
    """(value, recipe, error or None); ndim 0 takes -1/0 (one element). `tuples_ok`: a tuple
    is a valid axis (softmax), so it is not among the wrong types."""
    span = max(ndim, 1)
    r = rng.random()
    if r < 0.8:
        return int(rng.integers(-span, span)), None
    if r < 0.86:
        return np.int64(rng.integers(-span, span)), None
    if r < 0.93:
        return (None, None) if allow_none else (None, Err(TYPE, ("axis",)))
    if r < 0.97:
        return pick(rng, [span, -span - 1, 99, -(2**40)]), Err(AXIS, ("axis",))
    return pick(rng, [1.0, "0", True] + ([] if tuples_ok else [(0,)])), Err(TYPE, ("axis",))


def _axis_norm(axis, ndim):
    return None if axis is None else int(axis) % max(ndim, 1)


def make_softmax_axis(rng, ndim: int):
    """As make_axis, and SciPy's tuple axes: several axes normalised jointly; an empty tuple
    normalises each element alone; a repeated axis is a ValueError, one out of range an
    AxisError (a 0-d array has no axis 0 in a tuple)."""
    if rng.random() >= 0.15:
        return make_axis(rng, ndim, allow_none=True, tuples_ok=True)
    if ndim == 0:
        return (0,), Err(AXIS, ("axis",))
    picked = [int(a) for a in rng.permutation(ndim)[: int(rng.integers(0, ndim + 1))]]
    axes = tuple(a - ndim if rng.random() < 0.3 else a for a in picked)
    r = rng.random()
    if r < 0.1 and axes:
        return (*axes, axes[0]), Err(VALUE, ("axis",))
    if r < 0.2:
        return (*axes, ndim), Err(AXIS, ("axis",))
    return axes, None


def _softmax_axes(axis, ndim):
    """The normalised axes a softmax reduces over together (None: all of them)."""
    if axis is None or ndim == 0:
        return None
    if isinstance(axis, tuple):
        return tuple(a % ndim for a in axis)
    return (int(axis) % ndim,)


# --- argmax / argmin ------------------------------------------------------------------------


def argmax_case(rng) -> Case:
    find_min = rng.random() < 0.5
    name = "argmin" if find_min else "argmax"
    fn = fasttopk.argmin if find_min else fasttopk.argmax
    ref_fn = np.argmin if find_min else np.argmax
    if rng.random() < 0.06:
        return _argmax_out_in_x(rng, name, fn, ref_fn)
    made = make_x(rng)
    x = made.canon
    axis, axis_err = make_axis(rng, x.ndim, allow_none=True)
    err = errors(x_error(made), axis_err)
    if err is None:
        ax = _axis_norm(axis, x.ndim)
        empty = x.size == 0 if ax is None or x.ndim == 0 else x.shape[ax] == 0
        if empty:
            err = Err(VALUE, ("x", "empty"))
    kwargs, out, out_recipe, out_err = {"axis": axis}, None, "", None
    if rng.random() < 0.25:
        shape = () if err or axis is None or x.ndim == 0 else np.delete(x.shape, _axis_norm(axis, x.ndim))
        out, out_recipe, out_err = _make_out(rng, tuple(int(s) for s in shape), np.dtype(np.int64))
        kwargs["out"] = out
        err = errors(err, out_err)
    recipe = f"{made.recipe}; fasttopk.{name}(x, axis={axis!r}{out_recipe})"
    if err is not None:
        return Case(name, recipe, lambda: fn(made.arg, **kwargs), err, made.guard)
    want = ref_fn(x, axis=None if axis is None else int(axis))

    def check(result):
        got = out if out is not None else result
        if out is not None and result is not out:
            return "did not return out"
        if isinstance(want, np.ndarray) != isinstance(got, np.ndarray) and out is None:
            return f"type {type(got).__name__}, NumPy gives {type(want).__name__}"
        got = np.asarray(got)
        if got.dtype != np.int64 or got.shape != np.shape(want):
            return f"dtype/shape {got.dtype}{got.shape}, expected int64{np.shape(want)}"
        if not np.array_equal(got, want):
            return f"differs from np.{name} at {np.argwhere(got != want)[:3].tolist()}"
        return None

    return Case(name, recipe, lambda: fn(made.arg, **kwargs), Ok(check), made.guard)


def _argmax_out_in_x(rng, name, fn, ref_fn) -> Case:
    """out is a row or column of x itself (int64): the answer of NumPy on a copy of x."""
    m = int(rng.integers(2, 300))
    x = rng.integers(-5, 5 if rng.random() < 0.5 else 10**6, size=(m, m)).astype(np.int64)
    axis, row, col = int(rng.integers(2)), int(rng.integers(m)), rng.random() < 0.5
    expected = x.copy()
    want = ref_fn(x, axis=axis)
    if col:
        out, expected[:, row] = x[:, row], want
    else:
        out, expected[row] = x[row], want
    where = f"x[:, {row}]" if col else f"x[{row}]"
    recipe = f"x = int64 ({m}, {m}); fasttopk.{name}(x, axis={axis}, out={where})"
    return Case(name, recipe, lambda: fn(x, axis=axis, out=out),
                Ok(lambda r: None if r is out else "did not return out"),
                after=[(x, expected.tobytes())])


def _make_out(rng, shape, dtype):
    """(out, recipe, error or None): right, strided, wrong shape/dtype, read-only, overlapping
    itself, not an array."""
    kind = pick(rng, ["right", "right", "strided", "shape", "dtype", "readonly", "self",
                      "list", "masked"])
    if kind == "right":
        return np.full(shape, 7, dtype=dtype), ", out=<right>", None
    if kind == "strided" and len(shape):
        big = np.zeros((*shape[:-1], shape[-1] * 2), dtype=dtype)
        return big[..., ::2], ", out=<strided>", None
    if kind == "shape" or kind == "strided":
        return np.zeros((*shape, 2), dtype=dtype), ", out=<wrong shape>", Err(VALUE, ("out",))
    if kind == "dtype":
        other = np.int32 if dtype == np.int64 else np.float16 if dtype != np.float16 else np.float64
        return np.zeros(shape, dtype=other), ", out=<wrong dtype>", Err(TYPE, ("out",))
    if kind == "readonly":
        out = np.zeros(shape, dtype=dtype)
        out.flags.writeable = False
        return out, ", out=<read-only>", Err(VALUE, ("out",))
    if kind == "self" and int(np.prod(shape)) > 1:
        out = as_strided(np.zeros(1, dtype=dtype), shape=shape, strides=(0,) * len(shape))
        return out, ", out=<zero strides>", Err(VALUE, ("out",))
    if kind == "masked":
        return np.ma.zeros(shape, dtype=dtype), ", out=<masked>", Err(TYPE, ("out",))
    return [0] * (shape[0] if shape else 1), ", out=<list>", Err(TYPE, ("out",))


# --- softmax / log_softmax ------------------------------------------------------------------


def softmax_case(rng) -> Case:
    log = rng.random() < 0.5
    name = "log_softmax" if log else "softmax"
    fn = fasttopk.log_softmax if log else fasttopk.softmax
    if rng.random() < 0.06:
        return _softmax_in_place(rng, name, fn, log)
    made = make_x(rng)
    x = made.canon
    axis, axis_err = make_softmax_axis(rng, x.ndim)
    err = errors(x_error(made), axis_err)
    if err is None:
        axes = _softmax_axes(axis, x.ndim)
        empty = x.size == 0 if axes is None else any(x.shape[a] == 0 for a in axes)
        if empty:
            err = Err(VALUE, ("x", "empty"))
    result_dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    kwargs, out, out_recipe = {"axis": axis}, None, ""
    if rng.random() < 0.25:
        out, out_recipe, out_err = _make_out(rng, x.shape, result_dtype)
        kwargs["out"] = out
        err = errors(err, out_err)
    recipe = f"{made.recipe}; fasttopk.{name}(x, axis={axis!r}{out_recipe})"
    if err is not None:
        return Case(name, recipe, lambda: fn(made.arg, **kwargs), err, made.guard)
    want = _softmax_reference(x, axis, log)

    def check(result):
        got = out if out is not None else result
        if out is not None and result is not out:
            return "did not return out"
        if not isinstance(got, np.ndarray) and x.ndim:
            return f"type {type(got).__name__}"
        got = np.asarray(got)
        if got.dtype != result_dtype or got.shape != x.shape:
            return f"dtype/shape {got.dtype}{got.shape}, expected {result_dtype}{x.shape}"
        return compare_softmax(got, want, log, x, axis)

    return Case(name, recipe, lambda: fn(made.arg, **kwargs), Ok(check), made.guard)


def _softmax_reference(x, axis, log):
    """SciPy's softmax/log_softmax expressions with x - max in float64, as SciPy and the
    kernels round it, and the exponentials, their sum and the rest in long double. SciPy's own
    float64 sum can exceed the bound: NumPy sums a reduction that is not along the contiguous
    axis naively (1e-13 relative was seen at n = 8738 on a C-ordered int8 array, 2e-16 on the
    same values in Fortran order)."""
    axis = axis if axis is None or isinstance(axis, tuple) else int(axis)
    with np.errstate(all="ignore"):
        x64 = x.astype(np.float64)  # the input as the kernels read it
        shift = np.amax(x64, axis=axis, keepdims=True)
        if log:
            shift = np.where(np.isfinite(shift), shift, 0.0)
        d = (x64 - shift).astype(np.longdouble)
        e = np.exp(d)
        total = np.sum(e, axis=axis, keepdims=True)
        return (d - np.log(total) if log else e / total).astype(np.float64)


def within_tolerance(got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> str | None:
    """NaN exactly where the reference (rounded to got's dtype) has NaN, the same infinities,
    the rest within rtol * |want| + atol; None when so, else why not."""
    with np.errstate(all="ignore"):
        w = want.astype(got.dtype).astype(np.float64)
        g = got.astype(np.float64)
    nan_g, nan_w = np.isnan(g), np.isnan(w)
    if not np.array_equal(nan_g, nan_w):
        return f"NaN where SciPy has none (or not where it has): {np.argwhere(nan_g != nan_w)[:3].tolist()}"
    inf_w = np.isinf(w)
    if not np.array_equal(g[inf_w], w[inf_w]) or np.isinf(g[~inf_w]).any():
        return "an infinity differs from SciPy's"
    fin = ~(nan_w | inf_w)
    err = np.abs(g[fin] - w[fin])
    bound = rtol * np.abs(w[fin]) + atol
    if err.size and (err > bound).any():
        i = int(np.argmax(err / bound))
        return f"off by {err[i]:.3g} (allowed {bound[i]:.3g}) where SciPy gives {w[fin][i]:.9g}"
    return None


def compare_softmax(got, want, log, x, axis):
    finfo = np.finfo(got.dtype)
    axes = _softmax_axes(axis, x.ndim)
    n = x.size if axes is None else int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    eps = float(finfo.eps)
    rtol = 3 * eps if got.dtype == np.float16 else max(256.0, 4 * np.sqrt(n)) * eps
    # log_softmax near 0 is -log(1 + t): SciPy takes log of the rounded 1 + t (its sum's error,
    # up to ~log2(n) eps, becomes an absolute error), fasttopk log1p of t; the bound allows for
    # SciPy's side too (30 eps seen at n = 5000, where fasttopk matched an exact fsum reference).
    atol = float(finfo.tiny) * 4 if not log else 2 * eps * (8 + np.log2(max(n, 2)))
    why = within_tolerance(got, want, rtol, atol)
    return None if why is None else f"{why}; row length {n}"


def _softmax_in_place(rng, name, fn, log) -> Case:
    """out is x itself, or x shifted by a row inside one buffer: SciPy's answer on a copy."""
    dtype = pick(rng, [np.float32, np.float64])
    rows, n = int(rng.integers(1, 200)), int(rng.integers(1, 600))
    buf = (rng.standard_normal((rows + 1, n)) * 5).astype(dtype)
    shifted = rng.random() < 0.5
    x, out = (buf[1:], buf[:-1]) if shifted else (buf[1:], buf[1:])
    want = _softmax_reference(x.copy(), -1, log)
    recipe = (f"buf = {np.dtype(dtype)} ({rows + 1}, {n}); x = buf[1:]; "
              f"fasttopk.{name}(x, out={'buf[:-1]' if shifted else 'x'})")

    def check(result):
        if result is not out:
            return "did not return out"
        return compare_softmax(out, want, log, want, -1)

    return Case(name, recipe, lambda: fn(x, out=out), Ok(check))


# --- topk / argtopk -------------------------------------------------------------------------


def stable_topk(x, k, largest, axis):
    """The indices DESIGN.md's order rule gives, from np.argsort(kind="stable") alone."""
    moved = np.moveaxis(x, axis, -1)
    n = moved.shape[-1]
    if largest:
        order = n - 1 - np.flip(np.argsort(np.flip(moved, -1), axis=-1, kind="stable"), -1)
    else:
        order = np.argsort(moved, axis=-1, kind="stable")
    return np.moveaxis(order[..., :k].astype(np.int64), -1, axis)


def make_flag(rng, name):
    r = rng.random()
    if r < 0.95:
        return pick(rng, [True, False, np.True_, np.False_]), None
    return pick(rng, ["no", None, 0, 1, 1.0, np.array([True, False])]), Err(TYPE, (name,))


def topk_case(rng) -> Case:
    indices_only = rng.random() < 0.3
    name = "argtopk" if indices_only else "topk"
    fn = fasttopk.argtopk if indices_only else fasttopk.topk
    made = make_x(rng, min_ndim=0 if rng.random() < 0.05 else 1)
    x = made.canon
    axis, axis_err = make_axis(rng, x.ndim, allow_none=False)
    largest, largest_err = make_flag(rng, "largest")
    sort, sorted_err = make_flag(rng, "sorted")
    n = x.shape[int(axis) % x.ndim] if x.ndim and axis_err is None else 0
    r = rng.random()
    if r < 0.9:
        k = int(pick(rng, [0, 1, 1, 2, 3, 5, n, max(n - 1, 0)]))
        k = min(k, n) if r < 0.87 else k
        k_err = None if 0 <= k <= n else Err(VALUE, ("k",))
    elif r < 0.94:
        k, k_err = np.int32(min(2, n)), None
    elif r < 0.97:
        k, k_err = pick(rng, [n + 1, -1, 2**63 - 1]), Err(VALUE, ("k",))
    else:
        k, k_err = pick(rng, [1.0, "1", None, True, [1]]), Err(TYPE, ("k",))
    if axis_err is not None:
        k_err = None  # k cannot be judged against an axis that does not exist
    dims_err = Err(VALUE, ("x", "dimension")) if x.ndim == 0 else None
    err = errors(x_error(made), dims_err, axis_err, largest_err, sorted_err, k_err)
    recipe = (f"{made.recipe}; fasttopk.{name}(x, {k!r}, axis={axis!r}, largest={largest!r}, "
              f"sorted={sort!r})")
    call = lambda: fn(made.arg, k, axis=axis, largest=largest, sorted=sort)  # noqa: E731
    if err is not None:
        return Case(name, recipe, call, err, made.guard)
    ax = int(axis) % x.ndim
    want = stable_topk(x, int(k), bool(largest), ax)

    def check(result):
        idx = result if indices_only else result[1]
        if not isinstance(idx, np.ndarray) or idx.dtype != np.int64 or idx.shape != want.shape:
            return f"indices {getattr(idx, 'dtype', type(idx))}{np.shape(idx)}, expected int64{want.shape}"
        if bool(sort):
            if not np.array_equal(idx, want):
                return f"indices differ from the stable-argsort reference: {_first_diff(idx, want)}"
        elif not np.array_equal(np.sort(idx, axis=ax), np.sort(want, axis=ax)):
            return "sorted=False gave another set of indices"
        if indices_only:
            return None
        values = result[0]
        expect_v = np.take_along_axis(x, idx, axis=ax)
        if values.dtype != x.dtype or values.shape != expect_v.shape:
            return f"values {values.dtype}{values.shape}, expected {x.dtype}{expect_v.shape}"
        if not _same_values(values, expect_v):
            return "values are not the input's values at the indices"
        return None

    return Case(name, recipe, call, Ok(check), made.guard)


def _same_values(a, b) -> bool:
    if a.dtype.kind == "f":
        nan = np.isnan(a)
        return np.array_equal(nan, np.isnan(b)) and a[~nan].tobytes() == b[~nan].tobytes()
    return a.tobytes() == b.tobytes()


def _first_diff(a, b) -> str:
    where = np.argwhere(a != b)
    return f"first at {where[0].tolist()}: got {a[tuple(where[0])]}, want {b[tuple(where[0])]}" if where.size else ""
