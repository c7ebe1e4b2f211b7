"""fasttopk's thread pool seen by threadpoolctl, so that ``threadpool_limits(1)`` (which
scikit-learn, joblib and Dask users call to avoid oversubscription) limits fasttopk too, and
``threadpool_info()`` lists it.

threadpoolctl finds controllers by the file names of the loaded shared libraries and calls them
through ctypes: the extension module exports ``fasttopk_get_num_threads`` and
``fasttopk_set_num_threads`` (end of src/bindings.cpp) for that. threadpoolctl stays optional:
the controller is registered at import only when threadpoolctl is installed (3.5 or newer, the
first with ``threadpoolctl.register``).
"""
from __future__ import annotations

import ctypes
import os
from typing import Any

from . import _core

SET_SYMBOL = "fasttopk_set_num_threads"
GET_SYMBOL = "fasttopk_get_num_threads"
# The extension's file name, e.g. "_core.cpython-311-x86_64-linux-gnu.so": threadpoolctl
# matches loaded libraries by such a prefix, then by our symbols (other packages also have a
# _core module; without our symbols they are skipped).
LIBRARY_PREFIX = os.path.basename(_core.__file__).split(".")[0] + "."


def _make_controller_class(threadpoolctl: Any) -> type:
    """threadpoolctl's controller of fasttopk's pool: a subclass of threadpoolctl's
    LibController, which only exists once threadpoolctl is imported."""

    class FasttopkController(threadpoolctl.LibController):  # type: ignore[misc]  # an Any base
        user_api = "fasttopk"
        internal_api = "fasttopk"
        filename_prefixes = (LIBRARY_PREFIX,)
        check_symbols = (GET_SYMBOL, SET_SYMBOL)

        def get_num_threads(self) -> int | None:
            get = getattr(self.dynlib, GET_SYMBOL, None)
            return None if get is None else int(get())

        def set_num_threads(self, num_threads: int) -> None:
            set_ = getattr(self.dynlib, SET_SYMBOL, None)
            if set_ is not None:
                set_.argtypes = [ctypes.c_int]
                set_(int(num_threads))

        def get_version(self) -> str | None:
            # Runs before threadpoolctl checks our symbols, possibly on another package's
            # _core module: only a library exporting them is fasttopk.
            if getattr(self.dynlib, GET_SYMBOL, None) is None:
                return None
            from . import __version__

            return __version__

    return FasttopkController


def register_with_threadpoolctl() -> bool:
    """Shows fasttopk's thread pool to threadpoolctl, when it is installed.

    ``import fasttopk`` calls this once, so that ``threadpool_limits(1)`` (which scikit-learn,
    joblib and Dask users call against oversubscription) limits fasttopk's pool too.

    Returns
    -------
    bool
        True when threadpoolctl (3.5 or newer, the first with ``threadpoolctl.register``) is
        installed and now controls the pool; False without it.

    See Also
    --------
    fasttopk.set_num_threads, fasttopk.get_num_threads : the pool's size, directly.
    threadpoolctl.threadpool_limits : limits fasttopk's pool with the others'.

    Examples
    --------
    >>> import fasttopk
    >>> from threadpoolctl import threadpool_info, threadpool_limits
    >>> [pool["user_api"] for pool in threadpool_info() if pool["user_api"] == "fasttopk"]
    ['fasttopk']
    >>> with threadpool_limits(limits=1, user_api="fasttopk"):
    ...     fasttopk.get_num_threads()
    1
    """
    try:
        import threadpoolctl
    except ImportError:
        return False
    if not hasattr(threadpoolctl, "register"):
        return False
    threadpoolctl.register(_make_controller_class(threadpoolctl))
    return True
