"""PyTorch tensors in, torch tensors out: parity with torch itself (topk, argmax, softmax) in
float32/float64/float16/bfloat16, requires_grad, non-contiguous tensors, devices other than the
CPU, zero copy (data pointers, shared output memory, peak memory), result types."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import fasttopk

from conftest import stable_topk_reference
from interop_helpers import HALF, core_spy, ulp_distance

torch = pytest.importorskip("torch")

HALF_DTYPES = [pytest.param(torch.float16, id="float16"), pytest.param(torch.bfloat16, id="bfloat16")]


def tie_free(shape, dtype=torch.float32, seed=0, *, everywhere=False):
    """Distinct values in every row (a permutation of a grid of multiples of 1/8, exact in
    every dtype for rows up to 256 long), so any tie rule agrees; `everywhere`: distinct in
    the whole tensor (float32 and float64 only), so that its columns are tie-free too."""
    g = torch.Generator().manual_seed(seed)
    n_rows, n = int(np.prod(shape[:-1])), shape[-1]
    if everywhere:
        rows = torch.randperm(n_rows * n, generator=g).reshape(n_rows, n)
    else:
        rows = torch.stack([torch.randperm(n, generator=g) for _ in range(n_rows)])
    return ((rows.to(torch.float64) - n / 2) / 8).reshape(shape).to(dtype)


def widened(t) -> np.ndarray:
    """The exact float64 values of any float tensor (half precision widens exactly)."""
    return t.detach().to(torch.float64).numpy()


# --- float32 / float64: parity with torch ---------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("k", [1, 5, 50, 257])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_equals_torch_topk(dtype, k, largest):
    t = tie_free((40, 257), dtype)
    ours = fasttopk.topk(t, k, largest=largest)
    theirs = torch.topk(t, k, largest=largest)
    assert isinstance(ours, fasttopk.TopK)
    assert isinstance(ours.values, torch.Tensor) and isinstance(ours.indices, torch.Tensor)
    assert ours.values.dtype == dtype and ours.indices.dtype == torch.int64
    assert torch.equal(ours.values, theirs.values)  # bit-equal
    assert torch.equal(ours.indices, theirs.indices)


def test_topk_ties_follow_our_rule_values_equal_torch():
    g = torch.Generator().manual_seed(1)
    t = torch.randint(-3, 4, (64, 100), generator=g).to(torch.float32)
    t[::5, 7] = float("inf")
    ours = fasttopk.topk(t, 10)
    assert torch.equal(ours.values, torch.topk(t, 10).values)
    np.testing.assert_array_equal(ours.indices.numpy(), stable_topk_reference(t.numpy(), 10))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_argmax_argmin_equal_torch(dtype):
    g = torch.Generator().manual_seed(2)
    t = torch.randint(-5, 6, (200, 33), generator=g).to(dtype)  # ties: first occurrence in both
    assert torch.equal(fasttopk.argmax(t), torch.argmax(t, dim=-1))
    assert torch.equal(fasttopk.argmin(t), torch.argmin(t, dim=-1))
    assert torch.equal(fasttopk.argmax(t, axis=0), torch.argmax(t, dim=0))
    one = fasttopk.argmax(t[0])
    assert isinstance(one, torch.Tensor) and one.shape == () and one == torch.argmax(t[0])


@pytest.mark.parametrize("dtype, rtol", [(torch.float32, 2e-6), (torch.float64, 1e-14)])
def test_softmax_close_to_torch(dtype, rtol):
    t = (torch.randn(100, 300, generator=torch.Generator().manual_seed(3)) * 10).to(dtype)
    ours, theirs = fasttopk.softmax(t), torch.softmax(t, dim=-1)
    assert isinstance(ours, torch.Tensor) and ours.dtype == dtype
    torch.testing.assert_close(ours, theirs, rtol=rtol, atol=1e-30)
    torch.testing.assert_close(fasttopk.log_softmax(t), torch.log_softmax(t, dim=-1), rtol=rtol, atol=rtol)
    torch.testing.assert_close(fasttopk.softmax(t, axis=0), torch.softmax(t, dim=0), rtol=rtol, atol=1e-30)


# --- float16 / bfloat16 -------------------------------------------------------------------------


@HALF
@pytest.mark.parametrize("dtype", HALF_DTYPES)
@pytest.mark.parametrize("k", [1, 5, 50])
@pytest.mark.parametrize("largest", [True, False])
def test_half_topk_values_equal_torch(dtype, k, largest):
    t = (torch.randn(64, 1000, generator=torch.Generator().manual_seed(4)) * 4).to(dtype)
    ours = fasttopk.topk(t, k, largest=largest)
    assert ours.values.dtype == dtype
    assert torch.equal(ours.values, torch.topk(t, k, largest=largest).values)
    # half precision has ties: indices follow our rule (lower index first)
    np.testing.assert_array_equal(ours.indices.numpy(), stable_topk_reference(widened(t), k, largest))
    tf = tie_free((16, 200), dtype)  # 200 distinct multiples of 1/8: exact in both dtypes
    assert torch.equal(fasttopk.topk(tf, k).indices, torch.topk(tf, k).indices)


@HALF
@pytest.mark.parametrize("dtype", HALF_DTYPES)
def test_half_argmax_equals_torch(dtype):
    t = torch.randn(300, 129, generator=torch.Generator().manual_seed(5)).to(dtype)
    assert torch.equal(fasttopk.argmax(t), torch.argmax(t, dim=-1))
    assert torch.equal(fasttopk.argmin(t), torch.argmin(t, dim=-1))


@HALF
@pytest.mark.parametrize("dtype", HALF_DTYPES)
@pytest.mark.parametrize("log", [False, True])
def test_half_softmax_within_one_ulp_of_torch(dtype, log):
    t = (torch.randn(64, 1000, generator=torch.Generator().manual_seed(6)) * 5).to(dtype)
    ours = (fasttopk.log_softmax if log else fasttopk.softmax)(t)
    theirs = (torch.log_softmax if log else torch.softmax)(t, dim=-1)
    exact = (torch.log_softmax if log else torch.softmax)(t.double(), dim=-1).to(dtype)  # rounded once
    assert isinstance(ours, torch.Tensor) and ours.dtype == dtype

    def ulps(a, b):
        return ulp_distance(a.view(torch.int16).numpy(), b.view(torch.int16).numpy())

    assert ulps(ours, exact).max() <= 1
    if log:
        # torch's half log_softmax loses up to 0.25 near 0 (here: -0.0019 given as 0.0); ours
        # stays within an ulp of the exact answer, so it is never further from it than torch
        assert (ulps(ours, exact) <= np.maximum(ulps(theirs, exact), 1)).all()
    else:
        assert ulps(ours, theirs).max() <= 1


# --- inputs: requires_grad, layouts, devices ---------------------------------------------------


def test_requires_grad_is_read_without_copy(monkeypatch):
    t = tie_free((20, 64)).requires_grad_()
    with core_spy(monkeypatch) as spy:
        ours = fasttopk.topk(t, 5)
    assert spy.calls[0][1][0] == t.data_ptr()
    assert torch.equal(ours.values, torch.topk(t.detach(), 5).values)
    assert not ours.values.requires_grad and t.grad is None
    assert torch.equal(fasttopk.argmax(t), torch.argmax(t.detach(), -1))
    torch.testing.assert_close(fasttopk.softmax(t), torch.softmax(t.detach(), -1))


@pytest.mark.parametrize("view", ["transpose", "column_step", "row_step", "expanded", "narrow"])
def test_non_contiguous_tensors(view):
    base = tie_free((60, 90), everywhere=True)
    t = {
        "transpose": base.T,
        "column_step": base[:, ::3],
        "row_step": base[::4],
        "expanded": base[0].expand(7, 90),
        "narrow": base[5:40, 10:70],
    }[view]
    before = base.clone()
    assert torch.equal(fasttopk.topk(t, 4).values, torch.topk(t, 4).values)
    assert torch.equal(fasttopk.topk(t, 4).indices, torch.topk(t, 4).indices)
    assert torch.equal(fasttopk.argmax(t), torch.argmax(t, -1))
    torch.testing.assert_close(fasttopk.softmax(t), torch.softmax(t, -1))
    assert torch.equal(base, before)  # the caller's tensor is never written


def test_row_strided_tensor_read_in_place(monkeypatch):
    base = tie_free((60, 90))
    t = base[::4]  # rows apart, each row contiguous: the core reads it where it is
    with core_spy(monkeypatch) as spy:
        fasttopk.argmax(t)
    assert spy.calls[-1][1][0] == t.data_ptr()


def test_tensor_off_the_cpu_is_refused():
    t = torch.empty((3, 4), device="meta")
    with pytest.raises(TypeError, match="move it there"):
        fasttopk.topk(t, 2)
    with pytest.raises(TypeError, match="CPU"):
        fasttopk.softmax(t)


def test_sparse_tensor_is_refused():
    t = torch.eye(4).to_sparse()
    with pytest.raises(TypeError, match="to_dense"):
        fasttopk.argmax(t)


def test_parameter_and_integer_tensors():
    p = torch.nn.Parameter(tie_free((8, 16)))
    assert torch.equal(fasttopk.argtopk(p, 3), torch.topk(p.detach(), 3).indices)
    ints = torch.tensor([[3, 1, 2], [0, 5, 5]], dtype=torch.int32)
    result = fasttopk.topk(ints, 2)
    assert result.values.dtype == torch.int32
    assert result.values.tolist() == [[3, 2], [5, 5]] and result.indices.tolist() == [[0, 2], [1, 2]]
    assert fasttopk.softmax(ints).dtype == torch.float64  # NumPy/SciPy's rule for integers


# --- outputs: types, shared memory, out= --------------------------------------------------------


def test_outputs_wrap_our_buffers(monkeypatch):
    t = tie_free((30, 100))
    with core_spy(monkeypatch) as spy:
        values, indices = fasttopk.topk(t, 5)
    _, pointers = spy.calls[-1]  # (x, values, indices) as the core saw them
    assert pointers == [t.data_ptr(), values.data_ptr(), indices.data_ptr()]
    with core_spy(monkeypatch) as spy:
        probabilities = fasttopk.softmax(t)
    assert spy.calls[-1][1] == [t.data_ptr(), probabilities.data_ptr()]


@HALF
def test_bfloat16_read_and_written_in_place(monkeypatch):
    t = tie_free((30, 100), torch.bfloat16)
    with core_spy(monkeypatch) as spy:
        values, _ = fasttopk.topk(t, 5)
        probabilities = fasttopk.softmax(t)
    assert spy.calls[0][1][:2] == [t.data_ptr(), values.data_ptr()]
    assert spy.calls[1][1] == [t.data_ptr(), probabilities.data_ptr()]


@pytest.mark.parametrize(
    "dtype", [torch.float32, *(pytest.param(d, marks=HALF) for d in (torch.float16, torch.bfloat16))]
)
def test_peak_memory_is_the_outputs(dtype):
    t = torch.randn(2048, 2048).to(dtype)  # torch's memory: not traced; NumPy's is
    tracemalloc.start()
    try:
        fasttopk.topk(t, 5)
        fasttopk.argmax(t)
        _, peak_small = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        fasttopk.softmax(t)
        _, peak_softmax = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_small < 2048 * 5 * 16 + 65536  # values and indices; no copy of t
    assert peak_softmax < t.numel() * t.element_size() + 65536  # the result only


def test_out_tensors_are_filled_and_returned():
    t = tie_free((10, 50))
    values, indices = torch.empty(10, 3), torch.empty(10, 3, dtype=torch.int64)
    result = fasttopk.topk(t, 3, out=(values, indices))
    assert isinstance(result, fasttopk.TopK)
    assert result.values is values and result.indices is indices
    expected = torch.topk(t, 3)
    assert torch.equal(values, expected.values) and torch.equal(indices, expected.indices)
    out = torch.empty(10, dtype=torch.int64)
    assert fasttopk.argmax(t, out=out) is out and torch.equal(out, torch.argmax(t, -1))
    probabilities = torch.empty(10, 50)
    assert fasttopk.softmax(t, out=probabilities) is probabilities
    torch.testing.assert_close(probabilities, torch.softmax(t, -1))


def test_keepdims_matches_torch():
    t = tie_free((4, 5, 6))
    for axis in (0, 1, -1):
        assert torch.equal(fasttopk.argmax(t, axis=axis, keepdims=True), torch.argmax(t, dim=axis, keepdim=True))


def test_metrics_take_tensors():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    g = torch.Generator().manual_seed(7)
    scores = torch.randn(500, 10, generator=g, requires_grad=True)
    labels = torch.randint(0, 10, (500,), generator=g)
    expected = sklearn_metrics.top_k_accuracy_score(labels.numpy(), scores.detach().numpy(), k=3)
    assert fasttopk.top_k_accuracy_score(labels, scores, k=3) == expected


@HALF
def test_metrics_take_bfloat16_tensors():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    g = torch.Generator().manual_seed(8)
    scores = torch.randn(500, 10, generator=g).to(torch.bfloat16)
    labels = torch.randint(0, 10, (500,), generator=g)
    expected = sklearn_metrics.top_k_accuracy_score(labels.numpy(), widened(scores), k=3)
    assert fasttopk.top_k_accuracy_score(labels, scores, k=3) == expected


@HALF
def test_bfloat16_without_ml_dtypes(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ml_dtypes", None)  # as if not installed: raw bfloat16 bits
    t = tie_free((20, 100), torch.bfloat16)
    ours = fasttopk.topk(t, 5)
    assert ours.values.dtype == torch.bfloat16
    assert torch.equal(ours.values, torch.topk(t, 5).values)
    assert torch.equal(ours.indices, torch.topk(t, 5).indices)
    assert torch.equal(fasttopk.argmax(t), torch.argmax(t, -1))
    p = fasttopk.softmax(t)
    assert p.dtype == torch.bfloat16
    exact = torch.softmax(t.double(), -1).to(torch.bfloat16)
    assert ulp_distance(p.view(torch.int16).numpy(), exact.view(torch.int16).numpy()).max() <= 1
