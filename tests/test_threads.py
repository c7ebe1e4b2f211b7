"""Threads and run-time configuration: results do not depend on the thread count, concurrent
calls are correct, simd_arch / FASTTOPK_ARCH / FASTTOPK_NUM_THREADS behave."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.special

import fasttopk

from conftest import stable_topk_reference


@pytest.fixture(autouse=True)
def restore_thread_count():
    original = fasttopk.get_num_threads()
    yield
    fasttopk.set_num_threads(original)


def run_all(x):
    """Every kernel on x (rows long enough, and enough of them, to go parallel)."""
    out = {
        "argmax": fasttopk.argmax(x),
        "argmin": fasttopk.argmin(x),
        "argmax0": fasttopk.argmax(x, axis=0),
        "topk5": fasttopk.topk(x, 5),
        "topk5_small": fasttopk.topk(x, 5, largest=False),
        "topk_unsorted": fasttopk.argtopk(x, min(40, x.shape[-1]), sorted=False),
        "topk_large_k": fasttopk.argtopk(x, x.shape[-1] - 3),
    }
    if x.dtype.kind == "f":
        out["softmax"] = fasttopk.softmax(x)
        out["log_softmax"] = fasttopk.log_softmax(x)
    return out


def assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        u, v = a[key], b[key]
        if isinstance(u, tuple):
            for p, q in zip(u, v):
                np.testing.assert_array_equal(p, q, err_msg=key)
        elif key == "topk_unsorted":
            np.testing.assert_array_equal(np.sort(u, axis=-1), np.sort(v, axis=-1), err_msg=key)
        else:
            # bitwise: the same rows give the same result whichever thread computes them
            assert u.dtype == v.dtype and u.tobytes() == v.tobytes(), key


def make_input(dtype, rng, shape=(700, 300)):
    if np.dtype(dtype).kind == "f":
        x = (rng.standard_normal(shape) * 10).astype(dtype)
        x[::7, ::5] = 3.0  # ties
        x[::11, 3] = -np.inf
        return x
    return rng.integers(-50, 50, size=shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.uint8])
def test_results_do_not_depend_on_thread_count(dtype, rng):
    x = make_input(dtype, rng)
    assert x.size > 65536
    fasttopk.set_num_threads(1)
    assert fasttopk.get_num_threads() == 1
    expected = run_all(x)
    # and they are right
    np.testing.assert_array_equal(expected["argmax"], np.argmax(x, axis=-1))
    np.testing.assert_array_equal(expected["topk5"][1], stable_topk_reference(x, 5))
    for n in [2, 3, 4, 7]:
        fasttopk.set_num_threads(n)
        assert fasttopk.get_num_threads() == n
        assert_same(run_all(x), expected)


def test_many_short_rows_and_few_long_rows(rng):
    """Both ways of being large: 100000 x 10 and 2 x 100000."""
    for shape in [(100_000, 10), (2, 100_000), (3, 40_000)]:
        x = make_input(np.float32, rng, shape)
        fasttopk.set_num_threads(1)
        expected = run_all(x)
        fasttopk.set_num_threads(4)
        assert_same(run_all(x), expected)
        np.testing.assert_array_equal(expected["argmin"], np.argmin(x, axis=-1))


def test_get_num_threads_default_is_positive():
    assert fasttopk.get_num_threads() >= 1
    assert isinstance(fasttopk.get_num_threads(), int)


def test_numpy_integer_thread_count():
    fasttopk.set_num_threads(np.int64(3))
    assert fasttopk.get_num_threads() == 3


def test_concurrent_calls_from_python_threads(rng):
    xs = [make_input(np.float32, rng, (400, 200)), make_input(np.float64, rng, (300, 300)),
          make_input(np.int32, rng, (500, 150)), make_input(np.float32, rng, (50, 5000))]
    fasttopk.set_num_threads(1)
    expected = [run_all(x) for x in xs]
    fasttopk.set_num_threads(2)

    def work(i):
        for _ in range(5):
            assert_same(run_all(xs[i % len(xs)]), expected[i % len(xs)])
        return True

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert all(pool.map(work, range(12)))


def test_set_num_threads_while_other_threads_compute(rng):
    """Calls in flight keep their pool while the count changes under them."""
    x = make_input(np.float32, rng, (600, 300))
    fasttopk.set_num_threads(1)
    expected = run_all(x)
    stop = threading.Event()
    errors = []

    def compute():
        try:
            while not stop.is_set():
                assert_same(run_all(x), expected)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=compute) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(30):
            fasttopk.set_num_threads(1 + i % 4)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors[0]


def test_two_python_threads_on_one_large_softmax(rng):
    """Two Python threads run the same large softmax at once (each splitting rows over the
    pool, or falling back to its own thread when the pool is busy): both results are right."""
    x = make_input(np.float32, rng, (2000, 500))
    want = scipy.special.softmax(x, axis=-1)
    results = [None, None]

    def work(i):
        results[i] = fasttopk.softmax(x)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for r in results:
        np.testing.assert_allclose(r, want, rtol=1e-5, atol=1e-30)


# --- ISA and environment ------------------------------------------------------------------


def test_simd_arch():
    arch = fasttopk.simd_arch()
    assert arch in ("sse2", "avx2", "avx512", "neon64")
    forced = os.environ.get("FASTTOPK_ARCH")
    if forced:
        assert arch == forced
    assert arch in fasttopk._core.available_archs()


def _run_python(code, **env):
    full = dict(os.environ)
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True,
                          timeout=60)


def test_fasttopk_arch_selects_each_available_isa():
    for arch in fasttopk._core.available_archs():
        proc = _run_python("import fasttopk, numpy as np; print(fasttopk.simd_arch(), "
                           "fasttopk.argmax(np.arange(300.0)))", FASTTOPK_ARCH=arch)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split() == [arch, "299"]


def test_fasttopk_num_threads_env():
    proc = _run_python("import fasttopk; print(fasttopk.get_num_threads())", FASTTOPK_NUM_THREADS="3")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "3"


_FORK_WITH_A_RUNNING_POOL = """
import os, warnings
import numpy as np
import fasttopk
# Forking a threaded process is the point here (Python 3.12 warns of it).
warnings.simplefilter("ignore", DeprecationWarning)
x = np.random.default_rng(5).standard_normal((4000, 500), dtype=np.float32)
fasttopk.set_num_threads(3)
fasttopk.argmax(x)  # the parent's pool is running
pid = os.fork()
if pid == 0:
    ok = np.array_equal(fasttopk.argmax(x), np.argmax(x, axis=1)) and np.array_equal(
        fasttopk.argtopk(x, 3), np.argsort(-x, axis=1, kind="stable")[:, :3]
    ) and fasttopk.get_num_threads() == 3
    os._exit(0 if ok else 1)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_forked_child_gets_working_threads():
    """A child made by fork() (multiprocessing, Dask workers) has none of the parent's threads;
    the core must start its own and still give the right answers. Parent and child run in a
    subprocess with a timeout, so that a deadlock after the fork fails instead of hanging."""
    proc = _run_python(_FORK_WITH_A_RUNNING_POOL)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0"
