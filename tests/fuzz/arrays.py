"""Hostile arrays: every accepted dtype (also byte-swapped), rejected dtypes, shapes from 0-d to
4-D, layouts (Fortran, strided, negative and zero strides, odd addresses, read-only, lists,
np.matrix) and values (NaN, +-inf, -0.0, denormals, ties, extremes).

`hostile(rng, ...)` returns a `Made`: the array as passed (`arg`), the same values as a plain
native C array (`canon`, what the references see) and a text recipe for the reproducer."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FLOATS = [np.dtype(t) for t in (np.float16, np.float32, np.float64)]
INTS = [np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64,
                              np.uint8, np.uint16, np.uint32, np.uint64)]
ACCEPTED = FLOATS + INTS + [np.dtype(np.bool_)]
REJECTED = [np.dtype(t) for t in (np.complex64, np.complex128, object, "U3", "S3",
                                  "datetime64[s]", "timedelta64[ms]")]
if np.dtype(np.longdouble).itemsize > 8:
    REJECTED.append(np.dtype(np.longdouble))

DIM_SIZES = [0, 1, 1, 2, 2, 3, 4, 5, 7, 8, 13, 16, 17, 31, 33, 64, 100, 257]


@dataclass
class Made:
    arg: object  # what the function under test receives
    canon: np.ndarray  # the same values, native byte order, C order, own memory
    recipe: str
    guard: list = field(default_factory=list)  # buffers that must not change


def pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def random_shape(rng, *, min_ndim=0, max_ndim=4, large=False) -> tuple:
    if large:  # enough elements for the threaded path (> 2**16)
        n = pick(rng, [2, 3, 50, 300, 1000, 5000])
        return (n, int(rng.integers(70_000, 200_000)) // n + 1)
    ndim = int(rng.choice(np.arange(min_ndim, max_ndim + 1)))
    shape = tuple(pick(rng, DIM_SIZES) for _ in range(ndim))
    while int(np.prod(shape)) > 100_000:
        shape = tuple(max(1, s // 4) for s in shape)
    return shape


def random_values(rng, shape, dtype: np.dtype) -> np.ndarray:
    """Native C-ordered values of `dtype` with the hard cases of its kind."""
    size = int(np.prod(shape))
    if dtype.kind == "b":
        return (rng.random(size) < pick(rng, [0.0, 0.1, 0.5, 1.0])).reshape(shape)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        mode = pick(rng, ["full", "ties", "small"])
        if mode == "full":
            v = rng.integers(info.min, info.max, size=size, dtype=dtype, endpoint=True)
        elif mode == "ties":
            pool = np.array(sorted({info.min, info.min + 1, 0, 1, info.max - 1, info.max}),
                            dtype=dtype)
            v = rng.choice(pool, size=size)
        else:
            v = rng.integers(max(info.min, -3), 4, size=size).astype(dtype)
        return v.reshape(shape)
    info = np.finfo(dtype)
    mode = pick(rng, ["normal", "normal", "ties", "special", "extreme", "constant"])
    with np.errstate(over="ignore", invalid="ignore"):
        if mode == "normal":
            v = rng.standard_normal(size) * 10.0 ** rng.uniform(-3, 3)
        elif mode == "ties":
            v = rng.choice([-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0], size=size)
        elif mode == "constant":
            v = np.full(size, pick(rng, [0.0, -0.0, 1.0, -7.5, float(info.max)]))
        else:
            specials = [np.nan, np.inf, -np.inf, -0.0, 0.0, float(info.smallest_subnormal),
                        -float(info.smallest_subnormal), float(info.tiny), float(info.max),
                        -float(info.max), float(info.eps)]
            v = rng.standard_normal(size) * (1.0 if mode == "special" else float(info.max) / 4)
            hits = rng.random(size) < pick(rng, [0.01, 0.1, 0.5])
            v[hits] = rng.choice(specials, size=int(hits.sum()))
        v = v.astype(dtype)
    return v.reshape(shape)


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _layout(rng, values: np.ndarray, allow_list: bool, allow_subclass: bool):
    """One layout of `values`: (array as passed, recipe)."""
    shape, nd = values.shape, values.ndim
    choices = ["C", "C", "F", "sliced", "reversed", "transposed", "broadcast", "unaligned",
               "readonly", "byteswapped"]
    if allow_list and values.size <= 200 and values.dtype in (np.float64, np.int64, np.bool_):
        choices.append("list")
    if allow_subclass and nd == 2:
        choices.append("matrix")
    how = pick(rng, choices) if nd else pick(rng, ["C", "readonly", "byteswapped"])
    if how == "F":
        return np.asfortranarray(values), "np.asfortranarray(v)"
    if how == "sliced":
        axis = int(rng.integers(nd))
        big = np.repeat(values, 2, axis=axis)  # every other element is the value
        idx = [slice(None)] * nd
        idx[axis] = slice(None, None, 2)
        return big[tuple(idx)], f"np.repeat(v, 2, axis={axis})[..., ::2 on axis {axis}]"
    if how == "reversed":
        axis = int(rng.integers(nd))
        stored = np.ascontiguousarray(np.flip(values, axis))
        return np.flip(stored, axis), f"np.flip(np.ascontiguousarray(np.flip(v, {axis})), {axis})"
    if how == "transposed":
        stored = np.ascontiguousarray(values.T)
        return stored.T, "np.ascontiguousarray(v.T).T"
    if how == "broadcast":
        axis = int(rng.integers(nd))
        idx = [slice(None)] * nd
        idx[axis] = slice(0, 1)
        return np.broadcast_to(values[tuple(idx)], shape), f"np.broadcast_to(v[0:1 on axis {axis}], {shape})"
    if how == "unaligned":
        buf = bytearray(values.nbytes + 1)
        view = np.frombuffer(buf, values.dtype, offset=1, count=values.size).reshape(shape)
        view[...] = values
        return view, "np.frombuffer(bytearray, offset=1) (unaligned) holding v"
    if how == "readonly":
        ro = values.copy()
        ro.flags.writeable = False
        return ro, "v (read-only)"
    if how == "byteswapped":
        return values.astype(values.dtype.newbyteorder()), "v.astype(v.dtype.newbyteorder())"
    if how == "list":
        return values.tolist(), "v.tolist()"
    if how == "matrix":
        return np.asmatrix(values), "np.asmatrix(v)"
    return values, "v"


def hostile(rng, shape=None, dtype=None, *, allow_list=True, allow_subclass=True,
            large=False, min_ndim=0) -> Made:
    if shape is None:
        shape = random_shape(rng, large=large, min_ndim=min_ndim)
    if dtype is None:
        dtype = pick(rng, ACCEPTED)
    values = random_values(rng, shape, np.dtype(dtype))
    return arrange(rng, values, allow_list=allow_list, allow_subclass=allow_subclass)


def arrange(rng, values: np.ndarray, *, allow_list=True, allow_subclass=True) -> Made:
    """`values` in a random hostile layout."""
    shape = values.shape
    arg, how = _layout(rng, values, allow_list, allow_subclass)
    canon = np.array(np.asarray(arg), order="C")
    if not canon.dtype.isnative:
        canon = canon.astype(canon.dtype.newbyteorder("="))
    guard = [_root(arg)] if isinstance(arg, np.ndarray) else []
    recipe = f"v = {values.dtype} values of shape {shape} (seeded); x = {how}"
    return Made(arg, canon, recipe, guard)


def rejected(rng) -> Made:
    """An array of a dtype every function must refuse with a TypeError."""
    dtype = pick(rng, REJECTED)
    shape = random_shape(rng, min_ndim=1, max_ndim=2)
    if dtype.kind == "c":
        v = (rng.standard_normal(shape) + 1j).astype(dtype)
    elif dtype.kind == "O":
        v = np.empty(shape, dtype=object)
        v[...] = 1.5
    elif dtype.kind in "US":
        v = np.full(shape, "ab", dtype=dtype)
    elif dtype.kind in "mM":
        v = np.zeros(shape, dtype=dtype)
    else:
        v = np.ones(shape, dtype=dtype)
    return Made(v, v, f"x = np.ones/zeros({shape}, dtype={dtype})", [v])


def masked(rng) -> Made:
    v = random_values(rng, random_shape(rng, min_ndim=1, max_ndim=2), np.dtype(np.float64))
    m = np.ma.array(v, mask=rng.random(v.shape) < 0.3)
    return Made(m, v, "x = np.ma.array(v, mask=random)", [])


def snapshot(arrays) -> list:
    return [bytes(a.tobytes()) for a in arrays]
