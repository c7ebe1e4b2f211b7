"""Bad input: a ValueError or TypeError whose message names the argument; never a crash, never
a change to the caller's arrays."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import fasttopk

# Every array function, called with the keyword arguments under test.
ARRAY_FUNCS = {
    "argmax": lambda x, **kw: fasttopk.argmax(x, **kw),
    "argmin": lambda x, **kw: fasttopk.argmin(x, **kw),
    "softmax": lambda x, **kw: fasttopk.softmax(x, **kw),
    "log_softmax": lambda x, **kw: fasttopk.log_softmax(x, **kw),
    "topk": lambda x, **kw: fasttopk.topk(x, 1, **kw),
    "argtopk": lambda x, **kw: fasttopk.argtopk(x, 1, **kw),
}
OUT_FUNCS = ["argmax", "argmin", "softmax", "log_softmax"]


def good_out(name, x, **kw):
    """A correct `out` for x under the function `name`."""
    if name in ("argmax", "argmin"):
        axis = kw.get("axis", -1)
        return np.empty(np.delete(np.array(x.shape), axis), dtype=np.int64)
    return np.empty(x.shape, dtype=x.dtype if x.dtype.kind == "f" else np.float64)


BAD_DTYPES = [
    np.array([[1 + 2j, 3 + 0j]]),
    np.array([[1 + 2j, 3 + 0j]], dtype=np.complex64),
    np.array([[1.0, "a"]], dtype=object),
    np.array([[1.0, 2.0]], dtype=object),  # object arrays are refused even when numeric
    np.array([["a", "b"]]),
    np.array([[b"a", b"b"]]),
    np.array([["2020-01-01", "2021-01-01"]], dtype="datetime64[D]"),
    np.array([[1, 2]], dtype="timedelta64[s]"),
    np.zeros((1, 2), dtype=[("a", np.float32), ("b", np.float32)]),
]
if np.dtype(np.longdouble).itemsize > 8:
    BAD_DTYPES.append(np.array([[1.0, 2.0]], dtype=np.longdouble))


@pytest.mark.parametrize("name", list(ARRAY_FUNCS))
@pytest.mark.parametrize("x", BAD_DTYPES, ids=lambda a: a.dtype.str)
def test_unsupported_dtype_names_x(name, x):
    with pytest.raises(TypeError, match="x"):
        ARRAY_FUNCS[name](x)


@pytest.mark.parametrize("name", list(ARRAY_FUNCS))
def test_non_array_x(name):
    for x in [None, "abc", [["a", 1.0]], {"a": 1}, [1 + 1j]]:
        with pytest.raises(TypeError, match="x"):
            ARRAY_FUNCS[name](x)


@pytest.mark.parametrize("name", list(ARRAY_FUNCS))
def test_ragged_list(name):
    with pytest.raises((ValueError, TypeError)):
        ARRAY_FUNCS[name]([[1.0, 2.0], [3.0]])


@pytest.mark.parametrize("name", list(ARRAY_FUNCS))
def test_axis_out_of_range(name):
    x = np.zeros((2, 3), dtype=np.float32)
    for axis in [2, -3, 100, -(2**40), 2**70]:
        with pytest.raises(ValueError, match="axis"):
            ARRAY_FUNCS[name](x, axis=axis)
    with pytest.raises(ValueError, match="axis"):
        ARRAY_FUNCS[name](np.zeros(4), axis=1)


def test_axis_error_is_numpys():
    with pytest.raises(np.exceptions.AxisError):
        fasttopk.argmax(np.zeros((2, 3)), axis=2)
    with pytest.raises(np.exceptions.AxisError):
        fasttopk.topk(np.zeros((2, 3)), 1, axis=-3)


@pytest.mark.parametrize("name", list(ARRAY_FUNCS))
def test_axis_not_an_integer(name):
    x = np.zeros((2, 3), dtype=np.float32)
    tuple_axis = [] if name in ("softmax", "log_softmax") else [(0, 1)]  # SciPy's tuple axis is valid there
    for axis in [1.0, 0.5, "0", True, [0], np.float64(1.0), *tuple_axis]:
        with pytest.raises(TypeError, match="axis"):
            ARRAY_FUNCS[name](x, axis=axis)


@pytest.mark.parametrize("name", list(ARRAY_FUNCS))
def test_numpy_integer_axis_accepted(name):
    x = np.arange(6, dtype=np.float64).reshape(2, 3)
    a = ARRAY_FUNCS[name](x, axis=np.int64(0))
    b = ARRAY_FUNCS[name](x, axis=0)
    for u, v in zip(a if isinstance(a, tuple) else [a], b if isinstance(b, tuple) else [b]):
        np.testing.assert_array_equal(u, v)


def test_topk_on_zero_dim_names_x():
    for fn in (fasttopk.topk, fasttopk.argtopk):
        with pytest.raises(ValueError, match="x"):
            fn(np.float32(3.0), 1)


@pytest.mark.parametrize("fn", [fasttopk.topk, fasttopk.argtopk])
def test_k_out_of_range(fn):
    x = np.zeros((2, 5), dtype=np.float32)
    for k in [-1, -100, 6, 2**63, 2**80]:
        with pytest.raises(ValueError, match="k"):
            fn(x, k)
    with pytest.raises(ValueError, match="k"):
        fn(x, 3, axis=0)  # the axis has length 2
    with pytest.raises(ValueError, match="k"):
        fn(np.zeros((3, 0)), 1)


@pytest.mark.parametrize("fn", [fasttopk.topk, fasttopk.argtopk])
def test_k_not_an_integer(fn):
    x = np.zeros((2, 5), dtype=np.float32)
    for k in [1.0, 2.5, float("nan"), True, False, "2", b"2", None, [1], np.float32(1), 1 + 0j]:
        with pytest.raises(TypeError, match="k"):
            fn(x, k)


@pytest.mark.parametrize("name", OUT_FUNCS)
def test_out_wrong_shape(name):
    x = np.zeros((4, 6), dtype=np.float32)
    good = good_out(name, x)
    for shape in [(*good.shape, 1), good.shape[::-1] if good.ndim else (1,), (good.size + 1,), ()]:
        if tuple(shape) == good.shape:
            continue
        with pytest.raises(ValueError, match="out"):
            ARRAY_FUNCS[name](x, out=np.empty(shape, dtype=good.dtype))


@pytest.mark.parametrize("name", OUT_FUNCS)
def test_out_wrong_dtype(name):
    x = np.zeros((4, 6), dtype=np.float32)
    good = good_out(name, x)
    for dtype in [np.float16, np.float64, np.int32, np.uint64, np.complex64, object]:
        if np.dtype(dtype) == good.dtype:
            continue
        with pytest.raises(TypeError, match="out"):
            ARRAY_FUNCS[name](x, out=np.empty(good.shape, dtype=dtype))


@pytest.mark.parametrize("name", OUT_FUNCS)
def test_out_read_only(name):
    x = np.ones((4, 6), dtype=np.float32)
    out = good_out(name, x)
    out[...] = 0
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out"):
        ARRAY_FUNCS[name](x, out=out)
    assert (out == 0).all()


@pytest.mark.parametrize("name", OUT_FUNCS)
def test_out_not_an_ndarray(name):
    x = np.ones((4, 6), dtype=np.float32)
    good = good_out(name, x)
    for out in [good.tolist(), 0, "out", memoryview(good)]:
        with pytest.raises(TypeError, match="out"):
            ARRAY_FUNCS[name](x, out=out)


@pytest.mark.parametrize("name", list(ARRAY_FUNCS))
def test_inputs_never_modified_on_error(name):
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    before = x.copy()
    with pytest.raises((ValueError, TypeError)):
        ARRAY_FUNCS[name](x, axis=5)
    np.testing.assert_array_equal(x, before)


def test_empty_axis_errors_name_x_or_empty():
    for fn in (fasttopk.argmax, fasttopk.argmin):
        with pytest.raises(ValueError, match="empty"):
            fn(np.empty((3, 0)))
    for fn in (fasttopk.softmax, fasttopk.log_softmax):
        with pytest.raises(ValueError, match="x"):
            fn(np.empty((3, 0)))


def test_set_num_threads_rejects_bad_values():
    original = fasttopk.get_num_threads()
    try:
        for n in [0, -1, -(2**40)]:
            with pytest.raises(ValueError, match="n"):
                fasttopk.set_num_threads(n)
        for n in [1.5, 2.0, "2", None, True]:
            with pytest.raises(TypeError, match="n"):
                fasttopk.set_num_threads(n)
        assert fasttopk.get_num_threads() == original
    finally:
        fasttopk.set_num_threads(original)


def test_bad_fasttopk_arch_fails_import_with_clear_message():
    env = dict(os.environ, FASTTOPK_ARCH="bogus")
    proc = subprocess.run([sys.executable, "-c", "import fasttopk"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "FASTTOPK_ARCH" in proc.stderr
    assert "bogus" in proc.stderr
    assert "Segmentation" not in proc.stderr


@pytest.mark.parametrize("bad", [-1, 4, 2**63 - 1])
def test_core_rank_refuses_labels_out_of_range(bad):
    # The bindings guard the kernels' indexing; the Python layer never sends such labels.
    from fasttopk import _core

    scores = np.zeros((3, 4), np.float32)
    labels = np.array([0, bad, 1], np.int64)
    with pytest.raises(ValueError, match="labels: out of range"):
        _core.true_label_rank(scores, labels, np.empty(3, np.int64))
    with pytest.raises(ValueError, match="labels: out of range"):  # classes down the columns
        _core.true_label_rank_columns(scores.T.copy(), labels, np.empty(3, np.int64))


def test_core_mark_present_labels_stays_in_its_table():
    # Labels outside [lo, lo + len(present)) are skipped, never written past the table.
    from fasttopk import _core

    labels = np.array([3, -(2**63), 7, 2**63 - 1, 5, 2, 3], np.int64)
    guarded = np.zeros(7, np.bool_)
    present = guarded[1:-1]  # 5 entries for 3..7, with a sentinel either side
    _core.mark_present_labels(labels, 3, present)
    np.testing.assert_array_equal(guarded, [0, 1, 0, 1, 0, 1, 0])
    empty = np.zeros(0, np.bool_)
    _core.mark_present_labels(labels, 0, empty)  # no room: nothing written
    _core.mark_present_labels(np.zeros(0, np.int64), 0, present)
    with pytest.raises(ValueError, match="labels"):
        _core.mark_present_labels(labels[::2], 0, present)
    with pytest.raises(TypeError, match="present"):
        _core.mark_present_labels(labels, 0, np.zeros(5, np.int64))
    with pytest.raises(ValueError, match="present"):
        _core.mark_present_labels(labels, 0, np.zeros(10, np.bool_)[::2])
    frozen = np.zeros(5, np.bool_)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="present"):
        _core.mark_present_labels(labels, 0, frozen)
    assert not frozen.any()


def test_core_int64_arguments_must_be_aligned():
    # An unaligned int64 load is undefined behaviour: the bindings refuse, the Python layer
    # always passes aligned copies.
    from fasttopk import _core

    raw = np.zeros(8 * 4 + 1, np.uint8)
    labels = raw[1:].view(np.int64)  # 4 labels, off by one byte
    assert not labels.flags.aligned
    with pytest.raises(ValueError, match="labels: expected an aligned"):
        _core.mark_present_labels(labels, 0, np.zeros(2, np.bool_))
    with pytest.raises(ValueError, match="labels: expected an aligned"):
        _core.true_label_rank(np.zeros((4, 2), np.float32), labels, np.empty(4, np.int64))
    with pytest.raises(ValueError, match="ranks: expected a writable aligned"):
        _core.true_label_rank(np.zeros((4, 2), np.float32), np.zeros(4, np.int64), labels)


def test_accuracy_with_unaligned_labels_matches_aligned():
    raw = np.zeros(8 * 6 + 1, np.uint8)
    y = raw[1:].view(np.int64)
    y[:] = [0, 1, 2, 2, 1, 0]
    scores = np.random.default_rng(0).standard_normal((6, 3))
    assert fasttopk.top_k_accuracy_score(y, scores, k=1) == fasttopk.top_k_accuracy_score(y.copy(), scores, k=1)
