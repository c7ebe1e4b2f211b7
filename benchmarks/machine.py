"""The machine, the library versions and the thread settings a benchmark run records.

Split from run.py: what the run is measured on, apart from the loop that measures it.
"""
from __future__ import annotations

import os
import platform
import subprocess

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "build", "bench")  # where runs are written (untracked)


# --- machine ----------------------------------------------------------------------------------


def _cpuinfo():
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break  # the first processor is enough
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.strip()
    except OSError:
        pass
    return fields


def cpu_model():
    return _cpuinfo().get("model name") or platform.processor() or platform.machine()


def _mem_total_gb():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def git_commit():
    try:
        out = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info():
    import fasttopk

    info = {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_family_model_stepping": "/".join(
            _cpuinfo().get(k, "?") for k in ("cpu family", "model", "stepping")),
        "cpu_vendor": _cpuinfo().get("vendor_id"),
        "cpu_simd_flags": sorted(f for f in _cpuinfo().get("flags", "").split()
                                 if f.startswith(("avx", "sse", "fma", "asimd", "sve"))),
        "mem_total_gb": _mem_total_gb(),
        "platform": platform.platform(),
        "simd_arch": fasttopk.simd_arch(),
    }
    try:
        from fasttopk import _core

        info["fasttopk_available_archs"] = list(_core.available_archs())
    except (ImportError, AttributeError):
        pass
    try:
        from numpy._core._multiarray_umath import __cpu_baseline__, __cpu_features__

        info["numpy_cpu_baseline"] = list(__cpu_baseline__)
        info["numpy_avx512_skx"] = bool(__cpu_features__.get("AVX512_SKX"))
    except ImportError:
        pass
    return info


def versions():
    import scipy
    import sklearn

    import fasttopk

    from .cases import torch

    v = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "fasttopk": getattr(fasttopk, "__version__", None),
        "fasttopk_git_commit": git_commit(),
    }
    if torch is not None:
        try:
            v["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        except AttributeError:
            pass
    try:
        import threadpoolctl

        v["threadpoolctl"] = threadpoolctl.__version__
    except ImportError:
        v["threadpoolctl"] = None
    return v


# --- threads ----------------------------------------------------------------------------------


def _pin_process(cpus) -> None:
    """Every thread of this process on `cpus` (on Linux, affinity is per thread; threads started
    later inherit their creator's)."""
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass  # a thread that ended meanwhile


class thread_setting:
    """fasttopk and torch use `n` threads; BLAS/OpenMP pools (threadpoolctl) are capped at `n`;
    and with fewer threads than the process may use, every thread of the process is pinned to
    the first `n` of its CPUs. JAX has no thread setting that can change after import (and
    XLA's flags leave its Eigen pool busy on this jax), so pinning is what holds JAX, and any
    helper thread of any contender, to `n` cores."""

    def __init__(self, n):
        self.n = n
        self._limits = None
        self._cpus = None

    def __enter__(self):
        import fasttopk

        from .cases import torch

        try:
            from threadpoolctl import threadpool_limits

            self._limits = threadpool_limits(limits=self.n)
        except ImportError:
            self._limits = None
        fasttopk.set_num_threads(self.n)
        if torch is not None:
            torch.set_num_threads(self.n)
        if hasattr(os, "sched_setaffinity") and os.path.isdir("/proc/self/task"):
            cpus = os.sched_getaffinity(0)
            if self.n < len(cpus):
                self._cpus = cpus
                _pin_process(set(sorted(cpus)[: self.n]))
        return self

    def __exit__(self, *exc):
        if self._cpus is not None:
            _pin_process(self._cpus)
        if self._limits is not None:
            self._limits.restore_original_limits()
        return False


def loadavg():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None
