"""Inputs from other libraries without torch: JAX CPU arrays, ml_dtypes bfloat16 arrays, any
DLPack producer, objects with __array__; arrays on another device refused; torch and JAX never
imported by fasttopk itself."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.special

import fasttopk

from conftest import stable_topk_reference
from interop_helpers import HALF, core_spy, data_pointer, ulp_distance


class DLPackOnly:
    """A DLPack producer that is nothing else (no __array__): a NumPy array behind it."""

    def __init__(self, array, device=(1, 0)):
        self._array, self._device = array, device

    def __dlpack__(self, **kwargs):
        return self._array.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._device

    # array-like to scikit-learn's parameter checks, as CuPy arrays are
    shape = property(lambda self: self._array.shape)

    def __len__(self):
        return len(self._array)


class ArrayOnly:
    def __init__(self, array):
        self._array = array

    def __array__(self, dtype=None, copy=None):
        return self._array if dtype is None else self._array.astype(dtype)


# --- generic producers ---------------------------------------------------------------------------


def test_dlpack_producer_read_in_place(monkeypatch, rng):
    x = rng.standard_normal((50, 70)).astype(np.float32)
    with core_spy(monkeypatch) as spy:
        result = fasttopk.topk(DLPackOnly(x), 5)
    assert spy.calls[-1][1][0] == data_pointer(x)
    assert type(result.values) is np.ndarray  # not torch/JAX: NumPy results
    np.testing.assert_array_equal(result.indices, stable_topk_reference(x, 5))
    np.testing.assert_array_equal(fasttopk.argmax(DLPackOnly(x)), np.argmax(x, axis=-1))
    np.testing.assert_allclose(fasttopk.softmax(DLPackOnly(x)), scipy.special.softmax(x, axis=-1), rtol=2e-6)


def test_array_interface_objects_and_lists(rng):
    x = rng.standard_normal((20, 30))
    np.testing.assert_array_equal(fasttopk.argtopk(ArrayOnly(x), 4), stable_topk_reference(x, 4))
    np.testing.assert_array_equal(fasttopk.argmax(x.tolist()), np.argmax(x, axis=-1))


@pytest.mark.parametrize(
    "device, name", [((2, 0), "cuda"), ((10, 1), "rocm"), ((8, 0), "metal"), ((99, 0), "DLPack type 99")]
)
@pytest.mark.parametrize("function", ["topk", "argmax", "softmax", "top_k_accuracy_score"])
def test_array_on_another_device_is_refused(device, name, function):
    gpu_array = DLPackOnly(np.zeros((4, 5), np.float32), device=device)
    call = {
        "topk": lambda: fasttopk.topk(gpu_array, 2),
        "argmax": lambda: fasttopk.argmax(gpu_array),
        "softmax": lambda: fasttopk.softmax(gpu_array),
        "top_k_accuracy_score": lambda: fasttopk.top_k_accuracy_score([0, 1, 2, 3], gpu_array),
    }[function]
    with pytest.raises(TypeError, match=f"on the {name}.*move it there"):
        call()


def test_torch_and_jax_are_not_imported():
    code = textwrap.dedent("""
        import sys
        import numpy as np
        import fasttopk
        x = np.random.default_rng(0).standard_normal((10, 20))
        fasttopk.topk(x, 3); fasttopk.argmax(x.tolist()); fasttopk.softmax(x, axis=(0, 1))
        fasttopk.top_k_accuracy_score(np.arange(10), x, labels=np.arange(20))
        print(sorted(m for m in ("torch", "jax", "jaxlib", "ml_dtypes") if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# --- ml_dtypes bfloat16 NumPy arrays -------------------------------------------------------------


@HALF
@pytest.mark.parametrize("largest", [True, False])
def test_ml_dtypes_bfloat16_topk_argmax(rng, largest):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    x32 = (rng.standard_normal((100, 300)) * 4).astype(np.float32)
    x32[::9, 4] = np.nan
    x = x32.astype(ml_dtypes.bfloat16)
    exact = x.astype(np.float32)  # bfloat16 widens exactly
    values, indices = fasttopk.topk(x, 7, largest=largest)
    assert values.dtype == x.dtype and indices.dtype == np.int64
    np.testing.assert_array_equal(indices, stable_topk_reference(exact, 7, largest))
    assert values.tobytes() == np.take_along_axis(x, indices, -1).tobytes()
    np.testing.assert_array_equal(fasttopk.argmax(x), np.argmax(exact, axis=-1))
    np.testing.assert_array_equal(fasttopk.argmin(x, axis=0), np.argmin(exact, axis=0))


@HALF
@pytest.mark.parametrize("log", [False, True])
def test_ml_dtypes_bfloat16_softmax_rounded_once(rng, log):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    x = (rng.standard_normal((50, 1000)) * 5).astype(ml_dtypes.bfloat16)
    ours = (fasttopk.log_softmax if log else fasttopk.softmax)(x)
    exact = (scipy.special.log_softmax if log else scipy.special.softmax)(x.astype(np.float64), axis=-1)
    assert ours.dtype == x.dtype
    assert ulp_distance(ours.view(np.int16), exact.astype(x.dtype).view(np.int16)).max() <= 1


@HALF
def test_ml_dtypes_bfloat16_read_in_place(monkeypatch):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    x = np.arange(64 * 50, dtype=np.float32).reshape(64, 50).astype(ml_dtypes.bfloat16)[::2]
    with core_spy(monkeypatch) as spy:
        fasttopk.topk(x, 3)
        fasttopk.argmax(x)
    assert all(pointers[0] == data_pointer(x) for _, pointers in spy.calls)


# --- JAX: in a child process ----------------------------------------------------------------------


def test_jax_arrays_in_a_child_process():
    """tests/test_interop_jax.py, run by a child pytest: JAX starts threads at import, and a
    later os.fork() in this process (tests/test_threads.py) must not inherit them."""
    import importlib.util
    import os

    if importlib.util.find_spec("jax") is None:  # found, not imported: that happens in the child
        pytest.skip("jax is not installed")
    env = dict(os.environ, FASTTOPK_JAX_CHILD="1")
    test_file = os.path.join(os.path.dirname(__file__), "test_interop_jax.py")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_file],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout, result.stdout[-2000:]
