"""fasttopk: row-wise top-k, argmax, softmax and top-k accuracy on a SIMD C++ core.

Inputs: NumPy arrays, lists, PyTorch and JAX CPU arrays (read in place through DLPack), or
anything with ``__dlpack__`` / ``__array__``; float16 and bfloat16 included. Results come back
in the input's library: torch tensors for torch, JAX arrays for JAX, NumPy otherwise.
"""
from ._accumulator import TopKAccuracy
from ._api import (
    TopK,
    argmax,
    argmin,
    argtopk,
    get_num_threads,
    log_softmax,
    set_num_threads,
    simd_arch,
    softmax,
    topk,
)
from ._fused import logsumexp, topk_softmax
from ._ranking_metrics import (
    top_k_accuracy_per_class,
    top_k_accuracy_score,
    true_label_rank,
)

__all__ = [
    "TopK",
    "TopKAccuracy",
    "argmax",
    "argmin",
    "argtopk",
    "get_num_threads",
    "log_softmax",
    "logsumexp",
    "set_num_threads",
    "simd_arch",
    "softmax",
    "top_k_accuracy_per_class",
    "top_k_accuracy_score",
    "topk",
    "topk_softmax",
    "true_label_rank",
]
__version__ = "0.1.0"

# threadpoolctl (when installed) sees fasttopk's pool: threadpool_limits(1) limits it too.
from ._threadpool import register_with_threadpoolctl as _register_with_threadpoolctl

_register_with_threadpoolctl()
