"""Recognises Dask arrays without importing Dask, so that ``import fasttopk`` never does.

Each public function starts with one line: ``if is_dask(x): return dask_api().<name>(...)``.
A Dask array's class lives in the ``dask.array`` package; an object can only be one if Dask is
already imported, so the check costs a dict lookup for everything else.
"""
from __future__ import annotations

import sys


def is_dask(*objs) -> bool:
    """True when any of `objs` is a Dask collection (array, dataframe, series)."""
    if "dask" not in sys.modules:
        return False
    for obj in objs:
        module = type(obj).__module__
        if module.startswith("dask.") or module.startswith("dask_expr"):
            return True
    return False


def dask_api():
    """fasttopk's Dask versions of the array functions (imports Dask)."""
    from . import _dask

    return _dask


def dask_metrics():
    """fasttopk's Dask versions of the metrics (imports Dask)."""
    from . import _dask_metrics

    return _dask_metrics
