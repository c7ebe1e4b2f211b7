"""Cases for top_k_accuracy_per_class against scikit-learn: the input errors of
top_k_accuracy_score (same class) and, per class c, top_k_accuracy_score on the samples of c
with the same labels (NaN and an UndefinedMetricWarning for a class without samples or
weight)."""
from __future__ import annotations

import numpy as np

import fasttopk

from .arrays import pick
from .case import Case, Ok
from .metric_cases import _sk, _sk_or_error, metric_inputs


def _per_class_reference(y_arg, s_arg, y, k, w, labels):
    """(values in label order, whether some class is undefined) from scikit-learn on the
    whole set, the samples of one class at a time selected by their weights (so that the binary
    threshold, which scikit-learn takes from the range of all scores, stays the same)."""
    classes = np.unique(y) if labels is None else np.asarray(labels)
    base = np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)
    values, undefined = [], False
    for c in classes:
        wc = base * (y == c)
        total = wc.sum()
        if total == 0:
            values.append(np.nan)
            undefined = True
            continue
        hits, _ = _sk(y_arg, s_arg, k=k, normalize=False, sample_weight=wc, labels=labels)
        values.append(hits / total)
    return np.array(values, dtype=np.float64), undefined


def per_class_case(rng) -> Case:
    yt, ys, labels, n_classes, recipe = metric_inputs(rng)
    n = len(yt.canon)
    seq = rng.random() < 0.2
    k = [1, 2] if seq else int(pick(rng, [1, 1, 2, 3, n_classes]))
    w = None
    if rng.random() < 0.3:
        w = pick(rng, [rng.random(n), rng.integers(0, 3, n), np.zeros(n)])
    recipe += f"; k={k!r}, sample_weight={'None' if w is None else 'weights'}"

    def call():
        return fasttopk.top_k_accuracy_per_class(yt.arg, ys.arg, k=k, sample_weight=w, labels=labels)

    guard = yt.guard + ys.guard + [a for a in (w, labels) if isinstance(a, np.ndarray)]
    ks = k if seq else [k]
    refs = [_sk_or_error(yt.arg, ys.arg, k=kk, sample_weight=w, labels=labels) for kk in ks]
    err = next((e for _, e in refs if e is not None), None)
    if err is not None and err.classes != (ZeroDivisionError,):  # (weights summing to 0: NaN here)
        return Case("top_k_accuracy_per_class", recipe, call, err, guard)
    rows = [_per_class_reference(yt.arg, ys.arg, np.asarray(yt.canon), kk, w, labels) for kk in ks]
    want = np.stack([v for v, _ in rows]) if seq else rows[0][0]
    # scikit-learn's own warning on the whole set (k >= n_classes), or a class undefined
    warns = any(u for _, u in rows) or any(r is not None and r[1] for r, _ in refs)

    def check(result):
        if not isinstance(result, np.ndarray) or result.dtype != np.float64 or result.shape != want.shape:
            return f"{type(result).__name__} {getattr(result, 'shape', '')}, expected float64 {want.shape}"
        if not np.array_equal(np.isnan(result), np.isnan(want)):
            return f"NaN classes differ: {result} vs scikit-learn's {want}"
        fin = ~np.isnan(want)
        if not np.allclose(result[fin], want[fin], rtol=1e-12, atol=1e-12):
            return f"{result} != scikit-learn's per-class {want}"
        return None

    return Case("top_k_accuracy_per_class", recipe, call, Ok(check), guard, warns=warns)
