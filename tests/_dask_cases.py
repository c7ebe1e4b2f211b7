"""Shared data and checks for the Dask tests (test_dask*.py): hard-valued score matrices, the
chunkings every function is run with, and one list of (name, lazy result, expected) cases
that the threaded-scheduler tests and the distributed-cluster tests both compute."""
from __future__ import annotations

import numpy as np

import fasttopk

N_ROWS, N_CLASSES = 23, 17

# rows only, classes only, both, and uneven blocks on both axes (a 1-wide class block too)
CHUNKINGS = {
    "rows": (5, -1),
    "classes": (-1, 4),
    "both": (5, 4),
    "uneven": ((3, 1, 9, 10), (1, 6, 2, 8)),
}


class ComputeForbidden(AssertionError):
    pass


def forbid_compute(*args, **kwargs):
    """A Dask scheduler that fails: set it while building graphs to prove nothing runs."""
    raise ComputeForbidden("a Dask graph was computed before .compute()")


def hard_scores(rng, dtype=np.float32, finite=False) -> np.ndarray:
    """Few distinct values (ties everywhere, also across block boundaries), -0.0 beside +0.0,
    and unless `finite`, NaN and ±inf in some rows; row 0 is all ties, row 1 one NaN late."""
    x = rng.choice(np.array([-2.0, -0.5, 0.0, 1.0, 3.0]), size=(N_ROWS, N_CLASSES))
    x[rng.random(x.shape) < 0.15] = -0.0
    x[0] = 1.0
    x[2, [3, 4, 5, 12]] = 3.0  # equal maxima on both sides of the class-block edge at 4
    if not finite:
        x[1, 15] = np.nan
        x[3, [2, 9]] = np.inf
        x[4, :] = -np.inf
        x[5, [0, 16]] = np.nan
        x[6, 8] = -np.inf
    return x.astype(dtype)


def softmax_scores(rng, dtype=np.float32, finite=False) -> np.ndarray:
    """Spread values (softmax of few distinct values is dull) with the same hard rows."""
    x = (rng.standard_normal((N_ROWS, N_CLASSES)) * 4).astype(np.float64)
    x[0] = 1.0
    if not finite:
        x[1, 15] = np.nan
        x[3, [2, 9]] = np.inf
        x[4, :] = -np.inf
        x[6, 8] = -np.inf
    return x.astype(dtype)


def bits(a) -> np.ndarray:
    """Values compared bit for bit (NaN == NaN, -0.0 != +0.0)."""
    a = np.asarray(a)
    return a.view(f"u{a.dtype.itemsize}") if a.dtype.kind == "f" else a


def array_cases(x: np.ndarray, d, ks=(1, 3, 5, N_CLASSES), axes=(-1, 0, None)):
    """(name, lazy Dask result, in-memory answer, exact) for every array function on x and
    its Dask copy d: exact ones (True) compare bit for bit, the others to float rounding of
    the precision the in-memory kernel computes in (`exact` is then that epsilon)."""
    eps = compute_eps(x.dtype)
    cases = []
    for k in ks:
        for largest in (True, False):
            lazy, ref = fasttopk.topk(d, k, largest=largest), fasttopk.topk(x, k, largest=largest)
            cases.append((f"topk k={k} largest={largest} values", lazy.values, ref.values, True))
            cases.append((f"topk k={k} largest={largest} indices", lazy.indices, ref.indices, True))
        cases.append((f"argtopk k={k}", fasttopk.argtopk(d, k), fasttopk.argtopk(x, k), True))
    for axis in axes:
        cases.append((f"argmax axis={axis}", fasttopk.argmax(d, axis), fasttopk.argmax(x, axis), True))
        cases.append((f"argmin axis={axis}", fasttopk.argmin(d, axis), fasttopk.argmin(x, axis), True))
    for axis in [a for a in axes if a is not None]:
        cases.append((f"softmax axis={axis}", fasttopk.softmax(d, axis), fasttopk.softmax(x, axis), eps))
        cases.append((f"log_softmax axis={axis}", fasttopk.log_softmax(d, axis),
                      fasttopk.log_softmax(x, axis), eps))
    return cases


def compute_eps(dtype) -> float:
    """The rounding of the in-memory softmax: float64 for float64, else float32 (float16
    results rounded once more to float16)."""
    dtype = np.dtype(dtype)
    if dtype == np.float64:
        return float(np.finfo(np.float64).eps)
    return float(np.finfo(np.float16 if dtype == np.float16 else np.float32).eps)


def check_case(name, got, ref, exact) -> None:
    got = np.asarray(got)
    ref = np.asarray(ref)
    assert got.shape == ref.shape, name
    assert got.dtype == ref.dtype, name
    if exact is True:
        assert np.array_equal(bits(got), bits(ref)), name
    else:
        eps = float(exact)
        rtol = 16 * eps
        # log-probabilities near 0 come from x - lse: an absolute error of the inputs' scale
        finite = np.abs(ref[np.isfinite(ref)])
        atol = 16 * eps * (1 + (finite.max() if "log" in name and finite.size else 0))
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=max(atol, 1e-30), err_msg=name)
