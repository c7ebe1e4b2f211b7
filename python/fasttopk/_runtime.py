"""The core's run-time settings: the instruction set picked at import and the thread count.

Importing this module picks the kernel table, so that a bad ``FASTTOPK_ARCH`` fails
``import fasttopk`` with its message instead of the first call.
"""
from __future__ import annotations

import warnings

import numpy as np

from . import _core

__all__ = ["get_num_threads", "set_num_threads", "simd_arch"]

try:
    _core.simd_arch()
except ValueError as exc:
    raise ImportError(f"fasttopk: {exc}") from exc


def simd_arch() -> str:
    """The instruction set the kernels run with.

    The best one the CPU has is picked at import; the environment variable ``FASTTOPK_ARCH``
    (``sse2``, ``avx2``, ``avx512``) forces a lower one.

    Returns
    -------
    str
        ``'sse2'``, ``'avx2'``, ``'avx512'`` or ``'neon64'``.

    See Also
    --------
    get_num_threads, set_num_threads

    Examples
    --------
    >>> import fasttopk
    >>> fasttopk.simd_arch() in ("sse2", "avx2", "avx512", "neon64")
    True
    """
    return str(_core.simd_arch())


def set_num_threads(n: int) -> None:
    """Use `n` threads for large inputs.

    The default is the number of CPUs this process may run on (affinity, cgroup quota), or
    the environment variable ``FASTTOPK_NUM_THREADS``; threadpoolctl's ``threadpool_limits``
    changes it too. Results do not depend on the thread count.

    Parameters
    ----------
    n : int
        The number of threads, at least 1. When fewer threads can start (thread or
        address-space limits), the pool runs with those and a RuntimeWarning says so.

    Returns
    -------
    None

    See Also
    --------
    get_num_threads

    Examples
    --------
    >>> import fasttopk
    >>> before = fasttopk.get_num_threads()
    >>> fasttopk.set_num_threads(1)
    >>> fasttopk.get_num_threads()
    1
    >>> fasttopk.set_num_threads(before)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an integer, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    _core.set_num_threads(int(n))
    started = _core.get_num_threads()
    if started < n:  # thread or address-space limits: the pool runs with what it could start
        warnings.warn(
            f"fasttopk: only {started} of the {n} threads asked for could start",
            RuntimeWarning,
            stacklevel=2,
        )


def get_num_threads() -> int:
    """The number of threads large inputs are split over.

    Returns
    -------
    int
        At least 1.

    See Also
    --------
    set_num_threads

    Examples
    --------
    >>> import fasttopk
    >>> fasttopk.get_num_threads() >= 1
    True
    """
    return int(_core.get_num_threads())
