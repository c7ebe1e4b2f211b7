"""Inputs and outputs the core must never see as they are (issue 7 items 4, 5, 6, 8): `out`
overlapping the input or itself, array subclasses (np.matrix, masked arrays), unaligned
buffers, and non-bool `largest`/`sorted`. A spy on fasttopk._core checks what reaches it."""
from __future__ import annotations

import mmap

import numpy as np
import pytest
import scipy.special
from numpy.lib.stride_tricks import as_strided

import fasttopk
import fasttopk._argreduce
import fasttopk._ranking_metrics
import fasttopk._selection
import fasttopk._softmax

from conftest import stable_topk_reference


class CoreSpy:
    """Stands in for fasttopk._core: records every ndarray argument, then calls the real one."""

    def __init__(self, core):
        self._core = core
        self.calls = []  # (function name, [ndarray arguments])

    def __getattr__(self, name):
        target = getattr(self._core, name)
        if not callable(target):
            return target

        def spied(*args):
            arrays = [a for a in args if isinstance(a, np.ndarray)]
            self.calls.append((name, arrays))
            return target(*args)

        return spied

    def arrays(self):
        return [a for _, arrays in self.calls for a in arrays]


@pytest.fixture
def spy(monkeypatch):
    s = CoreSpy(fasttopk._selection._core)
    for module in (fasttopk._argreduce, fasttopk._selection, fasttopk._softmax, fasttopk._ranking_metrics):
        monkeypatch.setattr(module, "_core", s)  # the modules that call the kernels
    return s


@pytest.fixture(params=[1, 4])
def threads(request):
    before = fasttopk.get_num_threads()
    fasttopk.set_num_threads(request.param)
    yield request.param
    fasttopk.set_num_threads(before)


def unaligned(a: np.ndarray) -> np.ndarray:
    """A copy of `a` (C order) at an odd address: the view np.frombuffer(offset=1) gives."""
    buf = bytearray(a.nbytes + 1)
    view = np.frombuffer(buf, dtype=a.dtype, offset=1, count=a.size).reshape(a.shape)
    view[...] = a
    assert not view.flags.aligned or a.itemsize == 1
    return view


# --- item 6: unaligned buffers ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int32])
@pytest.mark.parametrize("shape", [(1000,), (300, 257), (3, 40_000)])
def test_unaligned_input_is_copied_before_the_core(spy, rng, dtype, shape):
    x = (rng.standard_normal(shape) * 50).astype(dtype)
    u = unaligned(x)
    before = u.tobytes()
    assert np.array_equal(fasttopk.argmax(u), np.argmax(x, axis=-1))
    assert np.array_equal(fasttopk.argmin(u, axis=0), np.argmin(x, axis=0))
    assert fasttopk.argmax(u, axis=None) == np.argmax(x)
    _values, indices = fasttopk.topk(u, 3, largest=False)
    assert np.array_equal(indices, stable_topk_reference(x, 3, largest=False))
    if x.dtype.kind == "f":
        np.testing.assert_array_equal(fasttopk.softmax(u), fasttopk.softmax(x))
        np.testing.assert_array_equal(fasttopk.log_softmax(u, axis=0), fasttopk.log_softmax(x, axis=0))
    assert u.tobytes() == before
    assert spy.calls and all(a.flags.aligned for a in spy.arrays())


def test_unaligned_metric_inputs(spy, rng):
    scores = rng.standard_normal((500, 7))
    y = rng.integers(0, 7, 500).astype(np.int64)
    want = fasttopk.top_k_accuracy_score(y, scores, k=3)
    want_rank = fasttopk.true_label_rank(y, scores)
    u_scores, u_y, u_w = unaligned(scores), unaligned(y), unaligned(np.ones(500))
    assert fasttopk.top_k_accuracy_score(u_y, u_scores, k=3, sample_weight=u_w) == want
    assert fasttopk.top_k_accuracy_score(u_y, u_scores, k=3, labels=unaligned(np.arange(7))) == want
    assert np.array_equal(fasttopk.true_label_rank(u_y, u_scores), want_rank)
    acc = fasttopk.TopKAccuracy(k=3).update(u_y, u_scores)
    assert acc.result() == want
    assert all(a.flags.aligned for a in spy.arrays())


def test_unaligned_out_is_staged(spy, rng):
    x = rng.standard_normal((200, 400))
    out = unaligned(np.zeros(200, dtype=np.int64))
    assert fasttopk.argmax(x, out=out) is out
    assert np.array_equal(out, np.argmax(x, axis=1))
    sm = unaligned(np.zeros_like(x))
    assert fasttopk.softmax(x, out=sm) is sm
    np.testing.assert_array_equal(sm, fasttopk.softmax(x))
    assert all(a.flags.aligned for a in spy.arrays())


# --- item 4: out overlapping the input or itself ------------------------------------------------


@pytest.mark.parametrize("find", [fasttopk.argmax, fasttopk.argmin])
def test_argmax_out_inside_the_input(threads, rng, find):
    """argmax(x, axis=1, out=x[256]) on int64 x: the answer NumPy gives on a copy of x."""
    x = rng.integers(0, 1000, size=(512, 512)).astype(np.int64)
    ref_fn = np.argmax if find is fasttopk.argmax else np.argmin
    want = ref_fn(x, axis=1)
    result = find(x, axis=1, out=x[256])
    assert np.array_equal(x[256], want)
    assert result.base is x or result is x[256] or np.shares_memory(result, x)
    y = rng.integers(0, 1000, size=(300, 300)).astype(np.int64)
    want0 = ref_fn(y, axis=0)
    find(y, axis=0, out=y[:, 7])  # down the columns, out a column of the input
    assert np.array_equal(y[:, 7], want0)


@pytest.mark.parametrize("log", [False, True])
def test_softmax_out_partly_overlapping_the_input(threads, rng, log):
    fn = fasttopk.log_softmax if log else fasttopk.softmax
    ref = scipy.special.log_softmax if log else scipy.special.softmax
    buf = rng.standard_normal((401, 300)).astype(np.float32)
    x, out = buf[1:], buf[:-1]  # out is x moved up one row
    want = ref(x.astype(np.float64), axis=-1)
    assert fn(x, out=out) is out
    np.testing.assert_allclose(buf[:-1], want, rtol=2e-5, atol=1e-6)
    sq = rng.standard_normal((300, 300))
    want_t = ref(sq, axis=-1).T
    fn(sq, out=sq.T)  # the same memory, transposed
    np.testing.assert_allclose(sq, want_t, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("log", [False, True])
def test_softmax_in_place_needs_no_temporary(spy, rng, log):
    fn = fasttopk.log_softmax if log else fasttopk.softmax
    x = rng.standard_normal((300, 300)).astype(np.float32)
    want = fn(x.copy())
    assert fn(x, out=x) is x
    np.testing.assert_array_equal(x, want)
    (name, arrays), = spy.calls[-1:]
    assert name == "softmax" and all(np.shares_memory(a, x) for a in arrays)


def test_out_overlapping_itself_is_refused(rng):
    x = rng.standard_normal((400, 300)).astype(np.float32)
    base = np.zeros(300, np.float32)
    zero_stride = as_strided(base, shape=(400, 300), strides=(0, 4))
    for fn in (fasttopk.softmax, fasttopk.log_softmax):
        with pytest.raises(ValueError, match="out"):
            fn(x, out=zero_stride)
    assert not base.any()
    idx = np.zeros(9, np.int64)
    crossed = as_strided(idx, shape=(3, 3), strides=(16, 8))  # rows overlap by one element
    with pytest.raises(ValueError, match="out"):
        fasttopk.argmax(rng.standard_normal((3, 3, 5)), out=crossed)
    with pytest.raises(ValueError, match="out"):
        fasttopk.argmin(x, out=as_strided(idx, shape=(400,), strides=(0,)))
    assert not idx.any()


def test_interleaved_but_disjoint_out_is_accepted(rng):
    x = rng.standard_normal((2, 3, 50))
    store = np.full(8, -1, np.int64)
    out = as_strided(store, shape=(2, 3), strides=(24, 16))  # offsets 0,16,32,24,40,56
    fasttopk.argmax(x, out=out)
    assert np.array_equal(out, np.argmax(x, axis=-1))


# --- item 5: subclasses -----------------------------------------------------------------------


# np.matrix itself warns that it is not recommended: these tests make one on purpose.
MATRIX_WARNING = "ignore:the matrix subclass is not the recommended way:PendingDeprecationWarning"


@pytest.mark.filterwarnings(MATRIX_WARNING)
def test_matrix_is_reduced_as_its_base_array():
    m = np.matrix([[1, 5, 2], [9, 0, 3]])
    a = np.asarray(m)
    assert fasttopk.argmax(m, axis=None) == np.argmax(a) == 3
    assert fasttopk.argmin(m, axis=None) == np.argmin(a)
    for axis in (0, 1, -1):
        r = fasttopk.argmax(m, axis=axis)
        assert type(r) is np.ndarray and np.array_equal(r, np.argmax(a, axis=axis))
    assert type(fasttopk.softmax(m.astype(float))) is np.ndarray
    np.testing.assert_allclose(fasttopk.softmax(m, axis=None), scipy.special.softmax(a, axis=None))
    assert np.array_equal(fasttopk.argtopk(m, 2), stable_topk_reference(a, 2))


@pytest.mark.filterwarnings(MATRIX_WARNING)
def test_matrix_out():
    x = np.arange(12.0).reshape(3, 4)
    out = np.matrix(np.zeros((3, 4)))
    assert fasttopk.softmax(x, out=out) is out
    np.testing.assert_allclose(np.asarray(out), scipy.special.softmax(x, axis=-1))


def test_memmap_is_read(tmp_path, rng):
    x = rng.standard_normal((100, 64)).astype(np.float32)
    mm = np.memmap(tmp_path / "x.bin", dtype=np.float32, mode="w+", shape=x.shape)
    mm[...] = x
    assert np.array_equal(fasttopk.argmax(mm), np.argmax(x, axis=1))
    assert type(fasttopk.softmax(mm)) is np.ndarray


MASKED = np.ma.array([[1.0, 9.0, 2.0], [3.0, 1.0, 2.0], [0.0, 1.0, 5.0]],
                     mask=[[0, 1, 0], [0, 0, 0], [0, 0, 0]])


@pytest.mark.parametrize("call", [
    lambda m: fasttopk.argmax(m), lambda m: fasttopk.argmin(m, axis=None),
    lambda m: fasttopk.softmax(m), lambda m: fasttopk.log_softmax(m),
    lambda m: fasttopk.topk(m, 1), lambda m: fasttopk.argtopk(m, 0),
])
def test_masked_x_is_refused(call):
    with pytest.raises(TypeError, match="x is a masked array"):
        call(MASKED)


def test_masked_out_is_refused():
    x = np.ones((2, 3))
    with pytest.raises(TypeError, match="out"):
        fasttopk.softmax(x, out=np.ma.zeros((2, 3)))
    with pytest.raises(TypeError, match="out"):
        fasttopk.argmax(x, out=np.ma.zeros(2, dtype=np.int64))


def test_masked_metric_arguments_are_refused():
    y, s = np.array([0, 1, 2]), MASKED.data
    cases = {
        "y_score": lambda f: f(y, MASKED),
        "y_true": lambda f: f(np.ma.array(y, mask=[0, 1, 0]), s),
        "labels": lambda f: f(y, s, labels=np.ma.array([0, 1, 2])),
    }
    for name, call in cases.items():
        for f in (fasttopk.top_k_accuracy_score, fasttopk.true_label_rank):
            with pytest.raises(TypeError, match=name):
                call(f)
    with pytest.raises(TypeError, match="sample_weight"):
        fasttopk.top_k_accuracy_score(y, s, sample_weight=np.ma.array([1.0, 1.0, 1.0]))
    acc = fasttopk.TopKAccuracy(k=1)
    with pytest.raises(TypeError, match="y_score"):
        acc.update(y, MASKED)
    with pytest.raises(TypeError, match="labels"):
        fasttopk.TopKAccuracy(labels=np.ma.array([0, 1, 2]))


# --- item 8: largest / sorted -----------------------------------------------------------------

NOT_BOOLS = ["no", "", None, 0, 1, 1.0, np.array([True, False]), np.array(True), [True]]


@pytest.mark.parametrize("name", ["largest", "sorted"])
@pytest.mark.parametrize("value", NOT_BOOLS, ids=repr)
@pytest.mark.parametrize("x", [np.ones((4, 6), np.float32), np.ones(6, np.int8),
                               np.ones((3, 2, 5))], ids=["direct", "int8", "3d"])
@pytest.mark.parametrize("k", [0, 1, 2])
def test_flags_must_be_bools(name, value, x, k):
    for fn in (fasttopk.topk, fasttopk.argtopk):
        with pytest.raises(TypeError, match=name):
            fn(x, k, **{name: value})


def test_numpy_bools_are_bools(rng):
    x = rng.standard_normal((5, 9)).astype(np.float32)
    for largest in (np.True_, np.False_):
        got = fasttopk.argtopk(x, 3, largest=largest, sorted=np.True_)
        assert np.array_equal(got, stable_topk_reference(x, 3, largest=bool(largest)))


def test_one_dimensional_result_is_a_numpy_scalar():
    """argmax of a 1-D array is a NumPy int64 scalar on every path (as np.argmax), not a 0-d
    array on the converting path."""
    for x in (np.array([1, 3, 2], np.int8), np.array([1.0, 3.0, 2.0]), unaligned(np.arange(5.0))):
        r = fasttopk.argmax(x)
        assert type(r) is np.int64 and r == np.argmax(x)


def test_anonymous_mmap_buffer_at_odd_offset(spy):
    """A buffer owned by something else (mmap), viewed at offset 3: still copied once."""
    m = mmap.mmap(-1, 8 * 64 + 3)
    a = np.frombuffer(m, dtype=np.float64, offset=3, count=64)
    a[...] = np.arange(64.0)[::-1]
    assert fasttopk.argmax(a) == 0 and fasttopk.argmin(a) == 63
    assert all(arr.flags.aligned for arr in spy.arrays())
    del a
    m.close()
