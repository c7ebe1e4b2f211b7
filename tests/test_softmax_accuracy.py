"""softmax/log_softmax accuracy at every row length and agreement between ISAs (issue 7, items 3,
7 and 9), and argmax down the columns of very tall matrices (item 10)."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.special

import fasttopk as ftk
from fasttopk import _core


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in units in the last place between finite floats of one dtype."""
    itype = np.int32 if a.dtype == np.float32 else np.int64
    ia = a.view(itype).astype(np.int64)
    ib = b.view(itype).astype(np.int64)
    # Map the sign-magnitude bit patterns onto a monotone integer line.
    ia = np.where(ia < 0, np.iinfo(itype).min - ia, ia)
    ib = np.where(ib < 0, np.iinfo(itype).min - ib, ib)
    return np.abs(ia - ib)


@pytest.mark.parametrize("n", [10**5, 10**6, 10**7])
def test_float32_long_rows_as_accurate_as_scipy(n):
    # The sum of exponentials used to drift lane by lane in float32: 3e-5..9e-5 relative error
    # at 10^7 elements. It must stay within a few ulp of SciPy's float32 answer at any length.
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    exact = scipy.special.softmax(x.astype(np.float64))
    ours = ftk.softmax(x)
    scipy32 = scipy.special.softmax(x)
    ours_err = np.max(np.abs(ours - exact) / exact)
    scipy_err = np.max(np.abs(scipy32 - exact) / exact)
    assert ours_err <= max(2 * scipy_err, 4 * np.finfo(np.float32).eps)
    assert abs(ours.astype(np.float64).sum() - 1.0) < 1e-6
    log_exact = scipy.special.log_softmax(x.astype(np.float64))
    log_err = np.max(np.abs(ftk.log_softmax(x) - log_exact))
    assert log_err <= 4 * np.finfo(np.float32).eps * np.max(np.abs(log_exact))


def test_log_softmax_near_zero_no_less_accurate_than_scipy():
    # One dominant logit: its log-probability is -log(1 + tiny), near 0, where a float32
    # log(sum) loses most of its digits.
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((200, 1000)) - 12).astype(np.float32)
    x[:, 3] = 0.0
    exact = scipy.special.log_softmax(x.astype(np.float64), axis=-1)[:, 3]
    ours = ftk.log_softmax(x)[:, 3].astype(np.float64)
    scipy32 = scipy.special.log_softmax(x, axis=-1)[:, 3].astype(np.float64)
    ours_err = np.abs(ours - exact) / np.abs(exact)
    scipy_err = np.abs(scipy32 - exact) / np.abs(exact)
    assert np.max(ours_err) <= np.max(scipy_err)
    assert np.max(ours_err) < 1e-3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_denormal_outputs_match_scipy(dtype):
    if dtype == np.float32:
        row = [0.0, -87.5, -90.0, -95.0, -100.0, -103.5, -103.9, -104.0, -110.0, -np.inf]
    else:
        row = [0.0, -700.0, -708.5, -740.0, -744.4, -745.0, -746.0, -800.0, -np.inf, 3.25]
    x = np.array([row, row[::-1]], dtype=dtype)
    got, want = ftk.softmax(x), scipy.special.softmax(x, axis=-1)
    np.testing.assert_array_equal(got == 0, want == 0)  # nothing flushed to zero, nothing more
    # NumPy's float64 exp is libm's on most CPUs, and its own SIMD code on AVX-512 ones (NumPy
    # 2.5 on an Intel Xeon: 4% of arguments differ from libm by 1 ulp); ours agrees with the
    # former bit for bit here, and with either within one ulp.
    args = (x - x.max(axis=1, keepdims=True)).ravel()
    numpy_exp_is_libm = all(float(np.exp(a)) == math.exp(a) for a in args.astype(np.float64) if a > -np.inf)
    exact = dtype == np.float32 or numpy_exp_is_libm
    assert ulp_distance(got, want).max() <= (0 if exact else 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 3, 7, 9, 15, 17, 31, 33, 1023, 1025, 4099])
def test_non_finite_rows_every_tail_length(dtype, n):
    # -inf padding and -inf/+inf scores go through exp on every tail length: no undefined
    # behaviour (the sanitizer build runs this) and SciPy's answers.
    rng = np.random.default_rng(n)
    x = rng.standard_normal((6, n)).astype(dtype)
    x[0, 0] = -np.inf
    x[1, :] = -np.inf
    x[2, -1] = np.inf
    x[3, n // 2] = np.nan
    x[4, :] = np.inf
    eps = np.finfo(dtype).eps
    with np.errstate(all="ignore"):
        for fn, ref in ((ftk.softmax, scipy.special.softmax), (ftk.log_softmax, scipy.special.log_softmax)):
            # Against the float64 answer: near 0, log_softmax is more accurate than SciPy's float32.
            expected = ref(x.astype(np.float64), axis=-1).astype(dtype)
            np.testing.assert_allclose(fn(x), expected, rtol=4 * eps, atol=4 * eps)


_ISA_SCRIPT = """
import json, sys
import numpy as np
import fasttopk as ftk
rng = np.random.default_rng(3)
out = {}
for dtype in ("float32", "float64"):
    for shape in [(500, 10), (200, 100), (20, 1000), (2, 1030), (2, 40009)]:
        x = (rng.standard_normal(shape) * 25).astype(dtype)
        x[0, :3] = [-np.inf, 0.0, -120.0]
        key = f"{dtype}{shape}"
        out["softmax" + key] = ftk.softmax(x).tobytes().hex()
        out["log_softmax" + key] = ftk.log_softmax(x).tobytes().hex()
        out["argmax" + key] = ftk.argmax(x).tobytes().hex()
        out["topk" + key] = ftk.topk(x, 5).indices.tobytes().hex()
json.dump(out, sys.stdout)
"""


def _results_under(arch: str) -> dict:
    env = dict(os.environ, FASTTOPK_ARCH=arch)
    done = subprocess.run(
        [sys.executable, "-c", _ISA_SCRIPT], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout)


def test_results_agree_across_isas():
    """Index results are bit-identical on every ISA; softmax and log_softmax too on the ISAs
    with FMA (avx2, avx512, neon64), and within 2 ulp on sse2, which rounds fma twice."""
    archs = _core.available_archs()
    if len(archs) < 2:
        pytest.skip("one ISA on this machine")
    results = {arch: _results_under(arch) for arch in archs}
    reference_arch = archs[-1]
    reference = results[reference_arch]
    for arch, got in results.items():
        for key, hex_bytes in got.items():
            if key.startswith(("argmax", "topk")) or arch != "sse2":
                assert hex_bytes == reference[key], (arch, reference_arch, key)
            else:
                dtype = np.float32 if key.split("(")[0].endswith("float32") else np.float64
                a = np.frombuffer(bytes.fromhex(hex_bytes), dtype=dtype)
                b = np.frombuffer(bytes.fromhex(reference[key]), dtype=dtype)
                finite = np.isfinite(a) & np.isfinite(b)
                np.testing.assert_array_equal(np.isfinite(a), np.isfinite(b))
                assert np.max(ulp_distance(a[finite], b[finite]), initial=0) <= 2, (arch, key)


@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_argmax_axis0_taller_than_a_row_block(dtype):
    # Rows go down the columns in blocks of 2^22 whose winners are merged: the extreme, ties and
    # NaN each placed across block boundaries.
    n_rows = (1 << 22) + 100
    x = np.zeros((n_rows, 16), dtype=dtype)
    x[5, 0] = 3
    x[n_rows - 1, 0] = 3  # a tie in a later block: the first wins
    x[(1 << 22) + 1, 1] = 7  # the extreme only in the second block
    x[(1 << 22) - 1, 2] = -1
    x[(1 << 22) + 50, 2] = -1  # argmin tie across the boundary
    if dtype == np.float32:
        x[(1 << 22) + 2, 3] = np.nan  # NaN only in the later block
        x[10, 4] = np.inf
        x[(1 << 22) + 3, 4] = np.nan
    for fn, ref in ((ftk.argmax, np.argmax), (ftk.argmin, np.argmin)):
        np.testing.assert_array_equal(fn(x, axis=0), ref(x, axis=0))


@pytest.mark.skipif(os.environ.get("FASTTOPK_HUGE_TESTS") != "1", reason="needs ~18 GB; FASTTOPK_HUGE_TESTS=1")
def test_row_of_2_31_plus_17_elements():
    n = (1 << 31) + 17
    x = np.empty(n, dtype=np.float32)
    rng = np.random.default_rng(0)
    step = 1 << 26
    for start in range(0, n, step):
        x[start : start + step] = rng.standard_normal(min(step, n - start), dtype=np.float32)
    x[n - 3] = 9.5
    x[n - 2] = 9.5
    assert ftk.argmax(x) == n - 3
    top = ftk.topk(x, 3)
    assert list(top.indices) == [n - 3, n - 2, int(np.argmax(x[: n - 3]))]
    s = ftk.softmax(x, out=x)
    total = float(np.sum(s, dtype=np.float64))
    assert abs(total - 1.0) < 1e-5, total
