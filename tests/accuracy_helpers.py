"""Helpers shared by the test_accuracy*.py modules: scikit-learn's top_k_accuracy_score as the reference.

Parity is checked as an *outcome*: either the same value (bit for bit), the same return type
and the same warnings (class and message), or the same exception class and message.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event

from fasttopk import top_k_accuracy_score

sklearn_metrics = pytest.importorskip("sklearn.metrics")
from sklearn.exceptions import UndefinedMetricWarning as UndefinedMetricWarning  # noqa: E402  (re-exported)

sk_score = sklearn_metrics.top_k_accuracy_score

SETTINGS = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_IGNORED_WARNINGS = (RuntimeWarning, DeprecationWarning, FutureWarning)


# --- outcome helpers ---------------------------------------------------------------------------


def outcome(fn, *args, **kwargs):
    """('ok', type, value, warnings) or ('raise', type, message, warnings)."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        try:
            value = fn(*args, **kwargs)
            result = ["ok", type(value), value]
        except Exception as e:
            result = ["raise", type(e), str(e)]
    ws = [
        (w.category, str(w.message))
        for w in rec
        if not issubclass(w.category, _IGNORED_WARNINGS)
    ]
    return [*result, ws]


def same_value(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=True)
        )
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def assert_same_outcome(ours, theirs):
    assert ours[0] == theirs[0], f"ours={ours!r}\nsklearn={theirs!r}"
    assert ours[1] is theirs[1], f"ours={ours!r}\nsklearn={theirs!r}"
    if ours[0] == "ok":
        assert same_value(ours[2], theirs[2]), f"ours={ours!r}\nsklearn={theirs!r}"
    else:
        assert ours[2] == theirs[2], f"ours={ours!r}\nsklearn={theirs!r}"
    assert ours[3] == theirs[3], f"ours={ours!r}\nsklearn={theirs!r}"


def sk_sequence(y_true, y_score, ks, **kwargs):
    """What k=[...] must give: the individual scikit-learn calls as one outcome (every call's
    warnings, then the first error if any, else the array of values)."""
    values, ws, error = [], [], None
    for k in ks:
        o = outcome(sk_score, y_true, y_score, k=k, **kwargs)
        ws += o[3]
        if o[0] == "raise":
            error = error or o
        else:
            values.append(o[2])
    if error is not None:
        return ["raise", error[1], error[2], ws]
    return ["ok", np.ndarray, np.asarray(values, dtype=np.float64), ws]


def snapshot(*objs):
    return [np.array(o, copy=True) if isinstance(o, np.ndarray) else None for o in objs]


def assert_unchanged(objs, snaps):
    for o, s in zip(objs, snaps):
        if s is not None and s.dtype.kind == "O":
            assert repr(o.tolist()) == repr(s.tolist())
        elif s is not None:
            assert o.dtype == s.dtype and np.array_equal(o, s, equal_nan=s.dtype.kind in "fc")


def check_parity(y_true, y_score, **kwargs):
    """Ours vs scikit-learn (on its own copies), and the inputs left untouched."""
    objs = (y_true, y_score, kwargs.get("sample_weight"), kwargs.get("labels"))
    snaps = snapshot(*objs)
    k = kwargs.get("k", 2)
    copies = {key: (v.copy() if isinstance(v, np.ndarray) else v) for key, v in kwargs.items()}
    yt_c = y_true.copy() if isinstance(y_true, np.ndarray) else y_true
    ys_c = y_score.copy() if isinstance(y_score, np.ndarray) else y_score
    ours = outcome(top_k_accuracy_score, y_true, y_score, **kwargs)
    if isinstance(k, (list, tuple)):
        copies.pop("k")
        theirs = sk_sequence(yt_c, ys_c, k, **copies)
    else:
        theirs = outcome(sk_score, yt_c, ys_c, **copies)
    assert_same_outcome(ours, theirs)
    assert_unchanged(objs, snaps)
    try:
        event(f"{ours[0]} {ours[1].__name__}" + (" +warning" if ours[3] else ""))
    except Exception:  # outside a hypothesis test
        pass
    return ours


# --- layouts and dtypes --------------------------------------------------------------------------


def layout(a: np.ndarray, how: str) -> np.ndarray:
    """The same values in another memory layout."""
    if how == "C":
        return np.ascontiguousarray(a)
    if how == "F":
        return np.asfortranarray(a)
    if how == "rows":  # every other row of a bigger array (row stride 2x)
        big = np.zeros((2 * a.shape[0], *a.shape[1:]), dtype=a.dtype)
        big[::2] = a
        return big[::2]
    if how == "padded":  # a column slice: contiguous rows, row stride > n_classes
        big = np.zeros((a.shape[0], a.shape[1] + 3), dtype=a.dtype)
        big[:, 1 : a.shape[1] + 1] = a
        return big[:, 1 : a.shape[1] + 1]
    if how == "flipped":  # negative row stride
        return np.ascontiguousarray(a[::-1])[::-1]
    if how == "reversed":  # negative column stride
        return np.ascontiguousarray(a[:, ::-1])[:, ::-1]
    if how == "readonly":
        b = np.array(a, copy=True)
        b.flags.writeable = False
        return b
    raise AssertionError(how)


LAYOUTS = ["C", "F", "rows", "padded", "flipped", "reversed", "readonly"]
SCORE_DTYPES = [np.float64, np.float32, np.int64, np.int32]


def make_scores(rng, n, c, kind, dtype):
    if kind == "ties":  # integer-valued: heavy ties
        s = rng.integers(0, 3, size=(n, c))
    elif kind == "signed_zero":
        s = rng.integers(-1, 2, size=(n, c)) * 0.0 * rng.choice([-1.0, 1.0], size=(n, c))
        s = s + rng.integers(0, 2, size=(n, c))
    else:
        s = rng.standard_normal((n, c)) * 4
        if np.dtype(dtype).kind == "i":
            s = np.round(s)
    return s.astype(dtype)


def label_names(kind: str, n: int):
    """n distinct labels of the given kind, sorted as scikit-learn sorts them."""
    if kind == "int":
        return np.arange(n)
    if kind == "offset":
        return np.arange(n) * 3 - 5
    if kind == "float":
        return np.arange(n) * 2.0 - 1.0
    if kind == "str":
        return np.array(sorted(f"{chr(97 + (i * 7) % 26)}{i}" for i in range(n)))
    if kind == "uint8":
        return (np.arange(n) * 2 + 1).astype(np.uint8)
    raise AssertionError(kind)


# --- small cases shared by the test modules --------------------------------------------------------

Y3 = [0, 1, 2]
S3 = np.eye(3)
S4 = [[1, 2, 3], [3, 2, 1], [1, 1, 1], [0, 0, 0]]
NAN3 = np.eye(3)
NAN3[1, 1] = np.nan
INF3 = np.eye(3)
INF3[1, 1] = np.inf
