"""Peers that are timed only when installed: JAX (CPU) and torchmetrics.

JAX: every function is `jax.jit`-compiled and run once when its contender is built, so
compilation is outside the timing; the NumPy input is copied into a JAX array (jax.device_put)
outside the timing too; each timed call ends with `block_until_ready`, since JAX dispatches
asynchronously. XLA reads its thread settings once, when jax is imported, and cannot change
them afterwards in the process (and on jax 0.10, XLA_FLAGS' one-thread flags still leave its
Eigen pool busy): JAX keeps its default threads, and in rows with fewer threads than the machine
has, machine.thread_setting pins the whole process to that many cores, JAX's threads included.

torchmetrics: `MulticlassAccuracy(num_classes=C, top_k=k, average="micro")`, built outside the
timing; a timed call is reset, update on the whole batch, compute: the metric of one batch, with
torchmetrics' default argument validation (what its users get).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .timing import Contender

try:  # optional peers
    import jax
    import jax.numpy as jnp
    import jax.scipy.special
except ImportError:  # pragma: no cover - depends on the environment
    jax = None

try:
    import torchmetrics
    from torchmetrics.classification import MulticlassAccuracy
except ImportError:  # pragma: no cover - depends on the environment
    torchmetrics = None

JAX_PEER = {
    "argmax": "jnp.argmax",
    "softmax": "jax.nn.softmax",
    "log_softmax": "jax.nn.log_softmax",
    "logsumexp": "jax.scipy.special.logsumexp",
    "topk": "jax.lax.top_k",
    "topk_softmax": "jax softmax+top_k",
}
TORCHMETRICS_PEER = {"accuracy": "torchmetrics MulticlassAccuracy"}


def _jax_function(kernel: str, k: int | None) -> Callable[[Any], Any]:
    if kernel == "argmax":
        return lambda a: jnp.argmax(a, axis=1)
    if kernel == "softmax":
        return lambda a: jax.nn.softmax(a, axis=1)
    if kernel == "log_softmax":
        return lambda a: jax.nn.log_softmax(a, axis=1)
    if kernel == "logsumexp":
        return lambda a: jax.scipy.special.logsumexp(a, axis=1)
    if kernel == "topk":
        return lambda a: jax.lax.top_k(a, k)
    if kernel == "topk_softmax":
        return lambda a: jax.lax.top_k(jax.nn.softmax(a, axis=1), k)
    raise ValueError(kernel)


def jax_array(x: np.ndarray) -> Any:
    """x copied into a JAX array (outside the timing), or None without JAX."""
    return None if jax is None else jax.device_put(x)


def jax_contender(kernel: str, a: Any, k: int | None = None) -> Contender | None:
    """JAX's contender for `kernel` on the JAX array `a` (None: no JAX contender), compiled
    and run once here."""
    if a is None or kernel not in JAX_PEER:
        return None
    f = jax.jit(_jax_function(kernel, k))
    jax.block_until_ready(f(a))  # compile (and a first run): outside the timing
    return Contender(JAX_PEER[kernel], "other", lambda: jax.block_until_ready(f(a)), traced=False)


def torchmetrics_contender(t, y_t, n_classes: int, k: int) -> Contender | None:
    """torchmetrics' top-k accuracy of one batch (tensors t, y_t); None without torchmetrics."""
    if torchmetrics is None or t is None:
        return None
    metric = MulticlassAccuracy(num_classes=n_classes, top_k=k, average="micro")

    def batch_accuracy():
        metric.reset()
        metric.update(t, y_t)
        return metric.compute().item()

    return Contender(TORCHMETRICS_PEER["accuracy"], "other", batch_accuracy, traced=False)


def to_numpy(result: Any) -> Any:
    """A JAX result (array or tuple of arrays) as NumPy, for the agreement checks."""
    if isinstance(result, (tuple, list)):
        return tuple(np.asarray(r) for r in result)
    return np.asarray(result)


def versions() -> dict:
    return {
        "jax": jax.__version__ if jax is not None else None,
        "jaxlib": _jaxlib_version(),
        "torchmetrics": torchmetrics.__version__ if torchmetrics is not None else None,
    }


def _jaxlib_version() -> str | None:
    try:
        import jaxlib

        return jaxlib.__version__
    except (ImportError, AttributeError):
        return None
