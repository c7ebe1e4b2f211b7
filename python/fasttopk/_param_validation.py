"""scikit-learn's parameter validation (``sklearn.utils._param_validation.validate_params``)
for the metrics: the same constraints, checked in the same order, with the same
``InvalidParameterError`` and message, so that a wrong argument fails here as it fails there.

scikit-learn is not imported for this: its warning and error classes are resolved lazily, the
first time one is raised (:func:`sklearn_class`), and stand-ins of the same name are used when
it is not installed. ``import fasttopk`` never imports scikit-learn.
"""
from __future__ import annotations

import importlib.util
import numbers
import sys
from collections.abc import Mapping
from typing import Any, cast

import numpy as np

from ._validation import refuse_masked

__all__ = [
    "ARRAY_LIKE",
    "ARRAY_LIKE_OR_NONE",
    "BOOLEAN",
    "K_VALUES",
    "check_arraylike",
    "check_bool",
    "k_values",
    "parse_k",
    "sklearn_class",
    "undefined_metric_warning",
    "validate_params",
]

# Constraint names of validate_params, as scikit-learn spells its constraints.
ARRAY_LIKE = "array-like"
ARRAY_LIKE_OR_NONE = "array-like or None"
BOOLEAN = "boolean"
K_VALUES = "int >= 1 or a non-empty sequence of them"


class _LocalUndefinedMetricWarning(UserWarning):
    """Warning used when a metric is undefined or meaningless (scikit-learn's class is used
    instead whenever scikit-learn can be imported)."""


_LocalUndefinedMetricWarning.__name__ = "UndefinedMetricWarning"
_LocalUndefinedMetricWarning.__qualname__ = "UndefinedMetricWarning"


class _LocalInvalidParameterError(ValueError, TypeError):
    """A parameter of the wrong type or value (scikit-learn's class is used instead whenever
    scikit-learn can be imported); both a ValueError and a TypeError, as scikit-learn's."""


_LocalInvalidParameterError.__name__ = "InvalidParameterError"
_LocalInvalidParameterError.__qualname__ = "InvalidParameterError"

_resolved: dict[str, type[Exception]] = {}


def _import_sklearn_class(name: str) -> type[Exception] | None:
    try:
        if importlib.util.find_spec("sklearn") is None:
            return None
        cls: type[Exception]
        if name == "UndefinedMetricWarning":
            from sklearn.exceptions import UndefinedMetricWarning

            cls = UndefinedMetricWarning
        else:
            from sklearn.utils._param_validation import InvalidParameterError

            cls = InvalidParameterError
        return cls
    except Exception:  # a broken or partial install: fall back
        return None


def sklearn_class(name: str) -> type[Exception]:
    """scikit-learn's ``UndefinedMetricWarning`` or ``InvalidParameterError`` when
    scikit-learn is importable, else the local stand-in. The import (slow) happens only the
    first time a warning or a parameter error is raised."""
    if name not in _resolved:
        cls = _import_sklearn_class(name)
        if cls is None:
            cls = (
                _LocalUndefinedMetricWarning
                if name == "UndefinedMetricWarning"
                else _LocalInvalidParameterError
            )
        _resolved[name] = cls
    return _resolved[name]


def undefined_metric_warning() -> type[Warning]:
    """scikit-learn's ``UndefinedMetricWarning`` (or the local stand-in)."""
    return cast("type[Warning]", sklearn_class("UndefinedMetricWarning"))


def __getattr__(name: str) -> Any:
    # `fasttopk._param_validation.UndefinedMetricWarning` / `.InvalidParameterError`: resolved
    # on first access, so that importing fasttopk never imports scikit-learn.
    if name in ("UndefinedMetricWarning", "InvalidParameterError"):
        return sklearn_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _is_sparse(x: object) -> bool:
    sparse = sys.modules.get("scipy.sparse")  # an object can only be sparse if scipy is loaded
    return sparse is not None and bool(sparse.issparse(x))


def _is_arraylike_not_scalar(x: object) -> bool:
    if _is_sparse(x):
        return False
    arraylike = hasattr(x, "__len__") or hasattr(x, "shape") or hasattr(x, "__array__")
    return arraylike and not np.isscalar(x)


def _invalid(caller: str, name: str, expected: str, value: object) -> Exception:
    return sklearn_class("InvalidParameterError")(
        f"The {name!r} parameter of {caller} must be {expected}. Got {value!r} instead."
    )


def check_arraylike(caller: str, name: str, value: object, allow_none: bool) -> None:
    """scikit-learn's "array-like" constraint (sparse matrices excluded); masked arrays are
    refused, as scikit-learn would drop their mask silently."""
    if (allow_none and value is None) or type(value) is np.ndarray:  # not masked, not scalar
        return
    refuse_masked(value, name)
    if not _is_arraylike_not_scalar(value):
        expected = "an array-like or None" if allow_none else "an array-like"
        raise _invalid(caller, name, expected, value)


def _is_valid_k(k: object) -> bool:
    # Interval(Integral, 1, None, closed="left"): any Integral (bool and NumPy ints included).
    return isinstance(k, numbers.Integral) and k >= 1  # type: ignore[operator]


def parse_k(caller: str, k: object) -> tuple[list[Any], bool]:
    """(list of k, is_scalar). An int as scikit-learn takes it, or a non-empty 1-D sequence of
    them (list, tuple, range, 1-D array): several scores from one pass."""
    if _is_valid_k(k):
        return [k], True
    sequence: list[Any] | None = None
    if isinstance(k, (list, tuple, range)) or (isinstance(k, np.ndarray) and k.ndim == 1):
        sequence = list(k)
    if sequence and all(_is_valid_k(v) for v in sequence):
        return sequence, False
    if sequence is not None:
        raise _invalid(
            caller, "k", "an int in the range [1, inf) or a non-empty sequence of such ints", k
        )
    raise _invalid(caller, "k", "an int in the range [1, inf)", k)


def k_values(k: object) -> tuple[list[Any], bool]:
    """(list of k, is_scalar) of a `k` that :func:`validate_params` has accepted."""
    return parse_k("", k)


def check_bool(caller: str, name: str, value: object) -> None:
    """scikit-learn's "boolean" constraint: a bool or a NumPy bool."""
    if not isinstance(value, (bool, np.bool_)):
        expected = f"an instance of 'bool' or an instance of 'numpy.{np.bool_.__qualname__}'"
        raise _invalid(caller, name, expected, value)


def validate_params(caller: str, constraints: Mapping[str, str], **values: object) -> None:
    """Checks each argument in `values` against its constraint, in the order of
    `constraints` (a function's signature order, as scikit-learn's decorator), raising
    scikit-learn's ``InvalidParameterError`` for the first that fails. `caller` names the
    function in the message."""
    for name, constraint in constraints.items():
        value = values[name]
        if constraint == ARRAY_LIKE:
            check_arraylike(caller, name, value, allow_none=False)
        elif constraint == ARRAY_LIKE_OR_NONE:
            check_arraylike(caller, name, value, allow_none=True)
        elif constraint == BOOLEAN:
            check_bool(caller, name, value)
        elif constraint == K_VALUES:
            parse_k(caller, value)
        else:
            raise AssertionError(f"unknown constraint {constraint!r} for {name}")
