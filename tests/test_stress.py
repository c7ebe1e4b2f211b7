"""Thread, fork and signal stress: a fork from a threaded program, a thread start that fails,
signals during a parallel call, many concurrent callers. Each scenario runs in a child process
with a timeout, so that a hang fails the test instead of stalling the suite; each takes a few
seconds at most when the code is right."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and signals")

# Shared by every child: an input large enough to go parallel (> 2**16 elements), its expected
# answers computed by NumPy/SciPy, and a check of fasttopk against them.
PRELUDE = """
import os, sys, threading, time, signal
import numpy as np
import fasttopk

x = np.random.default_rng(7).standard_normal((1000, 300)).astype(np.float32)
want_argmax = np.argmax(x, axis=1)
want_top3 = np.argsort(-x, axis=1, kind="stable")[:, :3]

def right():
    return (np.array_equal(fasttopk.argmax(x), want_argmax)
            and np.array_equal(fasttopk.argtopk(x, 3), want_top3)
            and abs(float(fasttopk.softmax(x)[17].sum(dtype=np.float64)) - 1) < 1e-4)
"""


def run_child(body: str, timeout: float, env: dict | None = None,
              setup: str = "") -> subprocess.CompletedProcess:
    """Runs PRELUDE + setup + body in a fresh interpreter; a hang past `timeout` fails the
    test."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    code = PRELUDE + setup + textwrap.dedent(body)
    try:
        proc = subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"child hung (no exit within {timeout} s); output so far:\n"
                    f"{exc.stdout or ''}{exc.stderr or ''}")
    return proc


def assert_ok(proc: subprocess.CompletedProcess, expect_stdout: str = "ok"):
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.strip().splitlines()[-1] == expect_stdout, proc.stdout + proc.stderr


# --- fork -----------------------------------------------------------------------------------

FORK_BODY = """
n_forks, child_timeout, in_flight = {n_forks}, {child_timeout}, 4
small = np.random.default_rng(8).standard_normal((2, 33000)).astype(np.float32)
stop = threading.Event()

def churn(i):
    # Many short parallel calls (each takes the pool holder's lock with the GIL released),
    # every kernel now and then, and one thread resizing the pool.
    k = 0
    while not stop.is_set():
        k += 1
        fasttopk.argmax(small)
        if k % 16 == 0:
            fasttopk.argmax(x); fasttopk.topk(x, 5); fasttopk.softmax(x)
            if i == 0:
                fasttopk.set_num_threads(2 + k % 3)

threads = [threading.Thread(target=churn, args=(i,), daemon=True) for i in range(3)]
for t in threads:
    t.start()
hung = bad = 0
children = {{}}  # pid -> deadline

def reap(block):
    global hung, bad
    while children and (block or len(children) >= in_flight):
        for pid, deadline in list(children.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                bad += os.waitstatus_to_exitcode(status) != 0
            elif time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                hung += 1
            else:
                continue
            del children[pid]
        time.sleep(0.001)
        if not block and len(children) < in_flight:
            break

for i in range(n_forks):
    pid = os.fork()
    if pid == 0:
        # the child: a parallel call must work at once (the exit code reports it)
        os._exit(0 if right() else 3)
    children[pid] = time.monotonic() + child_timeout
    reap(block=False)
reap(block=True)
stop.set()
print(f"forks={{n_forks}} hung={{hung}} bad={{bad}}")
os._exit(0)  # the churn threads may still be inside a call
"""


def fork_scenario(n_forks: int, child_timeout: float = 5.0) -> str:
    return FORK_BODY.format(n_forks=n_forks, child_timeout=child_timeout)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_fork_while_threads_call_and_resize():
    """Issue 7 item 1: a child forked while other threads are inside calls or resizing the pool
    (whose lock it may inherit held) must still make a parallel call and exit."""
    proc = run_child(fork_scenario(int(os.environ.get("FASTTOPK_STRESS_FORKS", 300))),
                     timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = proc.stdout.strip().splitlines()[-1]
    assert report.endswith("hung=0 bad=0"), report


# --- failed thread start ----------------------------------------------------------------------

LIMITED = """
import resource
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # ~380 stacks of 8 MiB at most
"""


def _thread_start_outcome(proc):
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.strip().splitlines()[-1] in ("ok", "RuntimeError", "MemoryError"), (
        proc.stdout + proc.stderr)


# The first call may also meet a MemoryError: ~380 stacks of 8 MiB leave NumPy little address
# space. Shrinking the pool must give it back: the last call has to work.
FIRST_CALL_THEN_SHRINK = """
try:
    first = "ok" if right() else "wrong"
except (RuntimeError, MemoryError) as exc:
    first = type(exc).__name__
fasttopk.set_num_threads(2)
print(first if right() else "wrong after set_num_threads(2)")
"""


def test_set_num_threads_beyond_what_can_start():
    """Issue 7 item 2: set_num_threads(2000) under a 3 GiB address-space limit: the pool runs
    with the threads that started, or raises RuntimeError; never a hang."""
    proc = run_child(textwrap.dedent("""
    try:
        fasttopk.set_num_threads(2000)
    except RuntimeError:
        pass
    """) + FIRST_CALL_THEN_SHRINK, timeout=30, setup=LIMITED)
    _thread_start_outcome(proc)


def test_env_thread_count_beyond_what_can_start():
    """The same through FASTTOPK_NUM_THREADS=2000 and the first parallel call."""
    proc = run_child(FIRST_CALL_THEN_SHRINK, timeout=30, env={"FASTTOPK_NUM_THREADS": "2000"},
                     setup=LIMITED)
    _thread_start_outcome(proc)


# --- signals ----------------------------------------------------------------------------------


def test_sigint_during_parallel_calls():
    """Ctrl-C while the pool works: KeyboardInterrupt comes once the call returns, the result
    of every call is right, and the pool still works afterwards."""
    proc = run_child("""
    fasttopk.set_num_threads(4)
    big = np.random.default_rng(1).standard_normal((4000, 1000)).astype(np.float32)
    want = np.argmax(big, axis=1)
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
    calls = 0
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert np.array_equal(fasttopk.argmax(big), want)
            fasttopk.softmax(big)
            calls += 1
        print("no KeyboardInterrupt"); sys.exit(1)
    except KeyboardInterrupt:
        pass
    assert right()
    print("ok")
    """, timeout=60)
    assert_ok(proc)


def test_sigalrm_storm_during_parallel_calls():
    """A timer signal every millisecond (profilers do this) interrupts nothing: every call
    returns the right answer and the handler keeps running."""
    proc = run_child("""
    fasttopk.set_num_threads(3)
    ticks = [0]
    def on_alarm(signum, frame):
        ticks[0] += 1
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        assert right()
    signal.setitimer(signal.ITIMER_REAL, 0, 0)
    assert ticks[0] > 10, ticks
    print("ok")
    """, timeout=60)
    assert_ok(proc)


def test_signal_to_pool_threads_while_idle_and_busy():
    """SIGUSR1 with a Python handler, sent to the whole process many times while calls run:
    the kernel threads neither die nor lose work."""
    proc = run_child("""
    fasttopk.set_num_threads(4)
    got = [0]
    signal.signal(signal.SIGUSR1, lambda s, f: got.__setitem__(0, got[0] + 1))
    stop = threading.Event()
    def shoot():
        while not stop.is_set():
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(0.0005)
    t = threading.Thread(target=shoot); t.start()
    try:
        for _ in range(100):
            assert right()
    finally:
        stop.set(); t.join()
    assert got[0] > 0
    print("ok")
    """, timeout=60)
    assert_ok(proc)


# --- threads ----------------------------------------------------------------------------------


def test_many_concurrent_callers_match_single_threaded():
    """16 Python threads calling every kernel at once on shared inputs get exactly the answers
    of one thread with one worker."""
    proc = run_child("""
    from concurrent.futures import ThreadPoolExecutor
    rng = np.random.default_rng(3)
    xs = [x, rng.standard_normal((300, 400)), rng.integers(-9, 9, (600, 150)).astype(np.int32),
          rng.standard_normal((40, 4000)).astype(np.float32)]
    def all_of(a):
        r = [fasttopk.argmax(a), fasttopk.argmin(a, axis=0), *fasttopk.topk(a, 7),
             fasttopk.argtopk(a, 4, largest=False)]
        if a.dtype.kind == "f":
            r += [fasttopk.softmax(a), fasttopk.log_softmax(a)]
        return [v.tobytes() for v in r]
    fasttopk.set_num_threads(1)
    want = [all_of(a) for a in xs]
    fasttopk.set_num_threads(3)
    def work(i):
        return all(all_of(xs[(i + j) % 4]) == want[(i + j) % 4] for j in range(8))
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(work, range(32)))
    print("ok" if all(results) else f"wrong {results}")
    """, timeout=120)
    assert_ok(proc)


def test_set_num_threads_races_calls():
    """Threads resizing the pool (1..8) while others call: no hang, no wrong answer, and the
    count ends as last set."""
    proc = run_child("""
    stop = threading.Event()
    errors = []
    def call():
        try:
            while not stop.is_set():
                assert right()
        except BaseException as e:
            errors.append(repr(e))
    def resize(seed):
        r = np.random.default_rng(seed)
        while not stop.is_set():
            fasttopk.set_num_threads(int(r.integers(1, 9)))
            fasttopk.get_num_threads()
    ts = [threading.Thread(target=call) for _ in range(4)]
    ts += [threading.Thread(target=resize, args=(s,)) for s in range(2)]
    for t in ts: t.start()
    time.sleep(3)
    stop.set()
    for t in ts: t.join(30)
    fasttopk.set_num_threads(5)
    assert fasttopk.get_num_threads() == 5 and right()
    print("ok" if not errors and not any(t.is_alive() for t in ts) else f"errors {errors[:3]}")
    """, timeout=120)
    assert_ok(proc)
