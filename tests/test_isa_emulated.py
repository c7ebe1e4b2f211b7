"""The build runs on CPUs older than this one: the whole module is loaded under an emulated
CPU without AVX (qemu's Nehalem: SSE4.2) and one without AVX-512 (Haswell). An instruction of
a higher ISA anywhere on the load or call path (a static initialiser compiled with AVX-512
flags, a wrong CPU feature test) would kill it with SIGILL. Skipped where qemu-x86_64 is absent
(`make test` installs it)."""
import os
import platform
import shutil
import subprocess
import sys

import pytest

QEMU = shutil.which("qemu-x86_64")

SMOKE = r"""
import numpy as np, scipy.special, fasttopk as f
rng = np.random.default_rng(0)
for dt in (np.float32, np.float64, np.int32, np.int64):
    x = rng.integers(-5, 5, (64, 700)).astype(dt)
    assert (f.argmax(x) == np.argmax(x, 1)).all()
    assert (f.argmin(x) == np.argmin(x, 1)).all()
    assert (f.argmax(x, axis=0) == np.argmax(x, 0)).all()
    assert (f.argtopk(x, 7) == np.argsort(-x, 1, kind="stable")[:, :7]).all()
    assert (f.argtopk(x, 400, largest=False) == np.argsort(x, 1, kind="stable")[:, :400]).all()
y = rng.standard_normal((64, 700)).astype(np.float32)
y[3, 5] = np.nan
assert np.allclose(f.softmax(y), scipy.special.softmax(y, axis=1), rtol=1e-5, atol=1e-30, equal_nan=True)
t = rng.integers(0, 700, 64)
y[3, 5] = 0
ranks = f.true_label_rank(t, y, labels=np.arange(700))
order = np.argsort(y, axis=1, kind="stable")[:, ::-1]
assert (ranks == np.argmax(order == t[:, None], axis=1)).all()
print(f.simd_arch())
"""


@pytest.mark.skipif(QEMU is None or platform.machine() != "x86_64", reason="needs qemu-x86_64 on x86-64")
@pytest.mark.skipif(os.environ.get("FASTTOPK_ARCH", "sse2") != "sse2",
                    reason="ISA-independent: run once, in the sse2 pass")
@pytest.mark.parametrize("cpu, expected", [("Nehalem", "sse2"), ("Haswell", "avx2")])
def test_runs_under_an_older_cpu(cpu, expected):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENBLAS_", "FASTTOPK_ARCH"))}
    done = subprocess.run([QEMU, "-cpu", cpu, sys.executable, "-c", SMOKE], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == expected
