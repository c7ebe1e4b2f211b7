"""Recognises Dask arrays without importing Dask, so that ``import fasttopk`` never does.

Each public function starts with one line: ``if is_dask(x): return dask_api().<name>(...)``.
A Dask array's class lives in the ``dask.array`` package; an object can only be one if Dask is
already imported, so the check costs a dict lookup for everything else.
"""
from __future__ import annotations

import sys
from types import ModuleType


def is_dask(*objs: object) -> bool:
    """Whether any of the objects is a Dask collection, without importing Dask.

    Parameters
    ----------
    *objs : object
        The arguments of a public function (scores, labels, weights...).

    Returns
    -------
    bool
        True when one of them is a Dask array, dataframe or series (their classes live in
        ``dask.*`` or ``dask_expr``); always False while Dask is not imported.

    See Also
    --------
    dask_api, dask_metrics : the modules a True answer sends the call to.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from fasttopk._dask_dispatch import is_dask
    >>> is_dask(np.zeros(3))
    False
    >>> is_dask(np.zeros(3), da.zeros(3))
    True
    """
    if "dask" not in sys.modules:
        return False
    for obj in objs:
        module = type(obj).__module__
        if module.startswith("dask.") or module.startswith("dask_expr"):
            return True
    return False


def dask_api() -> ModuleType:
    """fasttopk's Dask versions of the array functions (imports Dask).

    Returns
    -------
    module
        ``fasttopk._dask``: lazy ``topk``, ``argmax``, ``softmax``... of Dask arrays.

    See Also
    --------
    is_dask : decides when the public functions call into it.

    Examples
    --------
    >>> from fasttopk._dask_dispatch import dask_api
    >>> dask_api().__name__
    'fasttopk._dask'
    """
    from . import _dask

    return _dask


def dask_metrics() -> ModuleType:
    """fasttopk's Dask versions of the metrics (imports Dask).

    Returns
    -------
    module
        ``fasttopk._dask_metrics``: lazy ``top_k_accuracy_score``, ``true_label_rank``...

    See Also
    --------
    is_dask : decides when the public functions call into it.

    Examples
    --------
    >>> from fasttopk._dask_dispatch import dask_metrics
    >>> dask_metrics().__name__
    'fasttopk._dask_metrics'
    """
    from . import _dask_metrics

    return _dask_metrics
