"""fasttopk: row-wise top-k, argmax, softmax and top-k accuracy on a SIMD C++ core."""
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

__all__ = [
    "TopK",
    "argmax",
    "argmin",
    "argtopk",
    "get_num_threads",
    "log_softmax",
    "set_num_threads",
    "simd_arch",
    "softmax",
    "topk",
]
__version__ = "0.1.0"
