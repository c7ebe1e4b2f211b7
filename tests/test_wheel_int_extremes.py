"""softmax/log_softmax on int64/uint64 rows at the ends of their range, as the wheel (zig's
clang) and the editable build (g++) must both compute them: integers become float64 first, as
SciPy converts them, so 2**63 - 2 and 2**63 - 1 are the same number (2**63) and tie.

Kept because one `make test-wheel` run reported 18 such answers "wrong": its reference had been
computed in long double (exact integers: 2**63 - 2 one below 2**63 - 1), while the wheel gave
SciPy's float64 answers. These rows pin the float64 contract, under the ISA of this run
(FASTTOPK_ARCH) and 1..4 threads, on row blocks large enough for the threaded path."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special

import fasttopk

I64, U64 = np.iinfo(np.int64), np.iinfo(np.uint64)
POOLS = {
    "int64": np.array([I64.min, I64.min + 1, -1, 0, 1, I64.max - 1, I64.max], dtype=np.int64),
    "uint64": np.array([0, 1, 2**63 - 1, 2**63, U64.max - 1, U64.max], dtype=np.uint64),
}


@pytest.fixture(autouse=True)
def _restore_threads():
    before = fasttopk.get_num_threads()
    yield
    fasttopk.set_num_threads(before)


@pytest.mark.parametrize("threads", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", ["int64", "uint64"])
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("shape", [(3, 5), (50, 1797), (2000, 37)])
def test_int_extremes_follow_scipy_on_float64(threads, dtype, log, shape):
    fasttopk.set_num_threads(threads)
    rng = np.random.default_rng([threads, shape[1], log])
    x = rng.choice(POOLS[dtype], size=shape)
    func = fasttopk.log_softmax if log else fasttopk.softmax
    reference = (scipy.special.log_softmax if log else scipy.special.softmax)
    want = reference(x.astype(np.float64), axis=-1)
    for axis, expected in [(-1, want), (0, reference(x.astype(np.float64), axis=0))]:
        got = func(x, axis=axis)
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


def test_top_ties_are_counted_as_float64_counts_them():
    """2**63 - 2 and 2**63 - 1 tie in float64: each of the four gets 1/4, not e^-1 weights."""
    x = np.array([I64.max, I64.max - 1, I64.max, I64.max - 1, 0, I64.min], dtype=np.int64)
    np.testing.assert_array_equal(fasttopk.softmax(x), [0.25, 0.25, 0.25, 0.25, 0.0, 0.0])
    np.testing.assert_allclose(fasttopk.log_softmax(x)[:4], -np.log(4.0), rtol=1e-15)
