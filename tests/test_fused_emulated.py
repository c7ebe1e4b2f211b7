"""topk_softmax and logsumexp under emulated older CPUs (qemu's Nehalem: SSE4.2, and Haswell:
AVX2 without AVX-512), as tests/test_isa_emulated.py does for the other kernels: an instruction
of a higher ISA on their path would kill the process with SIGILL. Run once, in the sse2 pass."""
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
for dt in (np.float32, np.float64):
    x = rng.standard_normal((64, 3000)).astype(dt)
    x[5, 7] = np.nan
    v, i = f.topk_softmax(x, 5, temperature=0.5)
    ref = scipy.special.softmax(x / dt(0.5), axis=1)
    assert (i[6:] == np.argsort(-ref[6:], 1, kind="stable")[:, :5]).all()
    assert np.allclose(v, np.take_along_axis(ref, i, 1), rtol=1e-5, atol=1e-30, equal_nan=True)
    assert np.allclose(f.logsumexp(x), scipy.special.logsumexp(x, axis=1), rtol=1e-5, equal_nan=True)
print(f.simd_arch())
"""


@pytest.mark.skipif(QEMU is None or platform.machine() != "x86_64", reason="needs qemu-x86_64 on x86-64")
@pytest.mark.skipif(os.environ.get("FASTTOPK_ARCH", "sse2") != "sse2",
                    reason="ISA-independent: run once, in the sse2 pass")
@pytest.mark.parametrize("cpu, expected", [("Nehalem", "sse2"), ("Haswell", "avx2")])
def test_fused_kernels_run_under_an_older_cpu(cpu, expected):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENBLAS_", "FASTTOPK_ARCH"))}
    done = subprocess.run([QEMU, "-cpu", cpu, sys.executable, "-c", SMOKE], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == expected
