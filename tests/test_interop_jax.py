"""JAX CPU arrays in, JAX arrays out: parity with jax.lax.top_k / jnp.argmax / jax.nn.softmax,
bfloat16, zero copy. JAX starts threads when imported, so these run only in a child process
started by tests/test_interop.py (FASTTOPK_JAX_CHILD=1), never in the main test process."""
from __future__ import annotations

import os

import numpy as np
import pytest
import scipy.special

import fasttopk

from conftest import stable_topk_reference
from interop_helpers import HALF, core_spy, ulp_distance

pytestmark = pytest.mark.skipif(os.environ.get("FASTTOPK_JAX_CHILD") != "1",
                                reason="run by test_interop.py in a child process")


@pytest.fixture
def jnp():
    pytest.importorskip("jax")
    import jax.numpy

    return jax.numpy


def test_jax_float32_parity_and_types(jnp, rng):
    import jax

    x_np = rng.permuted(np.tile(np.arange(200, dtype=np.float32) / 8, (30, 1)), axis=1)  # tie-free rows
    x = jnp.asarray(x_np)
    values, indices = fasttopk.topk(x, 5)
    jax_values, jax_indices = jax.lax.top_k(x, 5)
    assert isinstance(values, jax.Array) and isinstance(indices, jax.Array)
    np.testing.assert_array_equal(np.asarray(values), np.asarray(jax_values))
    np.testing.assert_array_equal(np.asarray(indices), np.asarray(jax_indices))
    assert indices.dtype == jnp.argmax(x, axis=-1).dtype  # JAX's index dtype (int32 unless x64)
    am = fasttopk.argmax(x)
    assert isinstance(am, jax.Array)
    np.testing.assert_array_equal(np.asarray(am), np.asarray(jnp.argmax(x, axis=-1)))
    p = fasttopk.softmax(x)
    assert isinstance(p, jax.Array) and p.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(p), np.asarray(jax.nn.softmax(x, axis=-1)), rtol=1e-5, atol=1e-12)


def test_jax_read_in_place(jnp, monkeypatch, rng):
    x = jnp.asarray(rng.standard_normal((40, 64)).astype(np.float32))
    with core_spy(monkeypatch) as spy:
        fasttopk.topk(x, 3)
        fasttopk.softmax(x)
    assert all(pointers[0] == x.unsafe_buffer_pointer() for _, pointers in spy.calls)


@HALF
def test_jax_bfloat16(jnp, rng, monkeypatch):
    import jax

    x = jnp.asarray((rng.standard_normal((40, 300)) * 3).astype(np.float32)).astype(jnp.bfloat16)
    with core_spy(monkeypatch) as spy:
        values, indices = fasttopk.topk(x, 6)
    assert spy.calls[-1][1][0] == x.unsafe_buffer_pointer()
    assert isinstance(values, jax.Array) and values.dtype == jnp.bfloat16
    exact = np.asarray(x.astype(jnp.float32))
    np.testing.assert_array_equal(np.asarray(indices), stable_topk_reference(exact, 6))
    np.testing.assert_array_equal(np.asarray(values), np.asarray(jax.lax.top_k(x, 6)[0]))
    np.testing.assert_array_equal(np.asarray(fasttopk.argmax(x)), np.argmax(exact, axis=-1))
    p = fasttopk.softmax(x)
    assert p.dtype == jnp.bfloat16
    exact_p = scipy.special.softmax(exact.astype(np.float64), axis=-1).astype(np.asarray(x).dtype)
    assert ulp_distance(np.asarray(p).view(np.int16), exact_p.view(np.int16)).max() <= 1
