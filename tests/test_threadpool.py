"""threadpoolctl sees fasttopk's pool, and the default thread count follows the CPU affinity.
Each test runs in a child process (fresh pool, no FASTTOPK_NUM_THREADS) with a timeout."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("threadpoolctl")


def run_child(code: str, prefix=(), timeout: float = 120) -> str:
    env = {k: v for k, v in os.environ.items() if k != "FASTTOPK_NUM_THREADS"}
    result = subprocess.run([*prefix, sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                            text=True, timeout=timeout, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_threadpool_limits_limits_fasttopk_and_restores():
    out = run_child("""
        import json
        import numpy as np
        import fasttopk, threadpoolctl
        fasttopk.set_num_threads(3)  # a known starting point, whatever the machine has
        x = np.random.default_rng(0).standard_normal((2000, 300))
        expected = fasttopk.argtopk(x, 5)
        with threadpoolctl.threadpool_limits(1):
            inside = fasttopk.get_num_threads()
            same = bool((fasttopk.argtopk(x, 5) == expected).all())
        with threadpoolctl.threadpool_limits(limits=2, user_api="fasttopk"):
            by_api = fasttopk.get_num_threads()
        print(json.dumps([inside, same, by_api, fasttopk.get_num_threads()]))
    """)
    assert json.loads(out) == [1, True, 2, 3]


def test_threadpool_info_lists_fasttopk():
    out = run_child("""
        import json
        import fasttopk, threadpoolctl
        fasttopk.set_num_threads(2)
        entries = [i for i in threadpoolctl.threadpool_info() if i["internal_api"] == "fasttopk"]
        for e in entries:
            e["filepath"] = e["filepath"] == fasttopk._core.__file__ or e["filepath"]
        print(json.dumps([entries, fasttopk.__version__]))
    """)
    entries, version = json.loads(out)
    assert len(entries) == 1
    assert entries[0] == {"user_api": "fasttopk", "internal_api": "fasttopk", "num_threads": 2,
                          "prefix": "_core.", "filepath": True, "version": version}


def test_controller_selects_and_limits_only_fasttopk():
    out = run_child("""
        import fasttopk, threadpoolctl
        fasttopk.set_num_threads(2)
        controller = threadpoolctl.ThreadpoolController().select(internal_api="fasttopk")
        with controller.limit(limits=1):
            print(fasttopk.get_num_threads(), end=" ")
        print(fasttopk.get_num_threads())
    """)
    assert out == "1 2"


def test_threadpoolctl_imported_after_fasttopk_and_absent():
    # registered whichever is imported first; without threadpoolctl fasttopk imports fine
    out = run_child("""
        import fasttopk
        import threadpoolctl
        print(any(i["internal_api"] == "fasttopk" for i in threadpoolctl.threadpool_info()))
    """)
    assert out == "True"
    out = run_child("""
        import sys
        sys.modules["threadpoolctl"] = None  # as if not installed
        import fasttopk
        from fasttopk._threadpool import register_with_threadpoolctl
        print(register_with_threadpoolctl(), fasttopk.argmax([[1, 3, 2]])[0])
    """)
    assert out == "False 1"


def test_c_entry_points_never_throw():
    out = run_child("""
        import ctypes, fasttopk
        lib = ctypes.CDLL(fasttopk._core.__file__)
        lib.fasttopk_set_num_threads(0)  # clamped to 1 instead of an exception through C
        a = fasttopk.get_num_threads()
        lib.fasttopk_set_num_threads(-5)
        lib.fasttopk_set_num_threads(3)
        print(a, lib.fasttopk_get_num_threads(), fasttopk.get_num_threads())
    """)
    assert out == "1 3 3"


@pytest.mark.skipif(shutil.which("taskset") is None, reason="taskset (util-linux) is not installed")
def test_affinity_sets_the_default_thread_count():
    code = "import fasttopk; print(fasttopk.get_num_threads())"
    assert run_child(code, prefix=("taskset", "-c", "0")) == "1"
    if len(os.sched_getaffinity(0)) >= 2:
        first_two = ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:2])
        assert run_child(code, prefix=("taskset", "-c", first_two)) == "2"
