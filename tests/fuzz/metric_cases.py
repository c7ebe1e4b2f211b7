"""Cases for top_k_accuracy_score, true_label_rank and TopKAccuracy against
sklearn.metrics.top_k_accuracy_score: the same value (bit for bit), the same exception class,
the same UndefinedMetricWarning."""
from __future__ import annotations

import copy
import warnings

import numpy as np
from sklearn.metrics import top_k_accuracy_score as sk_score

import fasttopk

from .arrays import arrange, pick
from .case import Case, Err, Ok

LETTERS = np.array(list("abcdefghijkl"))


def _classes(rng, kind: str, n_classes: int) -> np.ndarray:
    if kind == "int":
        return np.arange(n_classes)
    if kind == "shifted":
        return np.arange(n_classes) * 10 - 5
    if kind == "str":
        return LETTERS[:n_classes]
    if kind == "float":
        return np.arange(n_classes).astype(np.float64)
    return np.array([False, True])


def _scores(rng, n, cols, binary_1d):
    shape = (n,) if binary_1d else (n, cols)
    mode = pick(rng, ["normal", "proba", "ties", "ints", "special"])
    if mode == "proba":
        v = rng.random(shape)
    elif mode == "ties":
        v = np.round(rng.standard_normal(shape), 0)
    elif mode == "ints":
        v = rng.integers(-3, 3, shape)
    else:
        v = rng.standard_normal(shape)
    if mode == "special" and v.size:
        v.flat[int(rng.integers(v.size))] = pick(rng, [np.nan, np.inf, -np.inf, -0.0])
    dtype = pick(rng, [np.float64, np.float64, np.float32, np.float16, np.int32, np.int64,
                       np.uint8, np.bool_]) if mode != "special" else pick(rng, [np.float32, np.float64])
    if mode == "ints" and np.dtype(dtype).kind == "u":
        v = v + 3
    with np.errstate(all="ignore"):
        return np.asarray(v).astype(dtype)


def metric_inputs(rng):
    """(y_true Made, y_score Made, labels, n_classes, recipe) for one call."""
    n = int(pick(rng, [1, 2, 3, 5, 20, 20, 60, 60, 300, 2000])) if rng.random() < 0.97 else 0
    kind = pick(rng, ["int", "int", "shifted", "str", "float", "bool"])
    n_classes = 2 if kind == "bool" else int(pick(rng, [2, 3, 3, 4, 5, 8, 10]))
    classes = _classes(rng, kind, n_classes)
    present = classes if rng.random() < 0.8 else classes[: max(1, n_classes - 1)]
    y = rng.choice(present, n) if n else np.array([], dtype=classes.dtype)
    if kind == "float" and rng.random() < 0.05 and n:
        y = y + 0.5  # continuous: refused
    cols = n_classes if rng.random() < 0.95 else n_classes + pick(rng, [-1, 1])
    binary_1d = n_classes == 2 and rng.random() < 0.8
    s = _scores(rng, n, cols, binary_1d)
    if n_classes == 2 and not binary_1d and rng.random() < 0.5:
        s = s[:, :1]  # one column: accepted as 1-D by scikit-learn
    labels, lab_recipe = None, "None"
    r = rng.random()
    if r < 0.3:
        labels, lab_recipe = classes.copy(), "classes"
    elif r < 0.32:
        labels, lab_recipe = classes[::-1].copy(), "classes reversed"
    elif r < 0.34:
        labels, lab_recipe = np.concatenate([classes, classes[:1]]), "classes + a duplicate"
    elif r < 0.36:
        labels, lab_recipe = classes[1:].copy(), "classes minus the first"
    elif r < 0.4:
        labels, lab_recipe = list(classes.tolist()), "list(classes)"
    yt = arrange(rng, y, allow_subclass=False)
    ys = arrange(rng, s, allow_subclass=rng.random() < 0.5)
    recipe = (f"y_true: {n} {kind} labels of {n_classes} classes, x = {yt.recipe}; "
              f"y_score: {ys.recipe}; labels={lab_recipe}")
    return yt, ys, labels, n_classes, recipe


def _sk(*args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = sk_score(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    return value, any(type(w.message).__name__ == "UndefinedMetricWarning" for w in caught)


def _sk_or_error(*args, **kwargs):
    try:
        return _sk(*args, **kwargs), None
    except Exception as exc:  # the class is the expectation
        return None, Err((type(exc),), (), exact=True)


def score_case(rng) -> Case:
    yt, ys, labels, n_classes, recipe = metric_inputs(rng)
    n = len(yt.canon)
    r = rng.random()
    if r < 0.85:
        k = int(pick(rng, [1, 1, 2, 3, n_classes, n_classes + 1]))
    elif r < 0.93:
        k = pick(rng, [[1, 2], (1, n_classes), np.array([2, 1])])
    else:
        k = pick(rng, [0, -1, 2.0, True, np.int64(2), "2", [], [0, 1]])
    normalize = pick(rng, [True, False, np.True_, np.False_]) if rng.random() < 0.95 else pick(rng, [1, "yes", None])
    w = None
    if rng.random() < 0.3:
        w = pick(rng, [rng.random(n), rng.integers(0, 3, n), rng.random(n), -rng.random(n),
                       rng.random(n).astype(np.float32), np.zeros(n)])
        if rng.random() < 0.1:
            w = pick(rng, [rng.random(n + 1), rng.random((n, 2)), np.array(["a"] * n)])
    kwargs = dict(k=k, normalize=normalize, sample_weight=w, labels=labels)
    recipe += f"; k={k!r}, normalize={normalize!r}, sample_weight={'None' if w is None else np.shape(w)}"
    call = lambda: fasttopk.top_k_accuracy_score(yt.arg, ys.arg, **kwargs)  # noqa: E731
    guard = yt.guard + ys.guard + [a for a in (w, labels) if isinstance(a, np.ndarray)]
    seq = isinstance(k, (list, tuple, np.ndarray))
    if seq and len(k) and all(isinstance(v, (int, np.integer)) and v >= 1 for v in k):
        refs = [_sk_or_error(yt.arg, ys.arg, **dict(kwargs, k=int(v))) for v in k]
        err = next((e for _, e in refs if e is not None), None)
        if err is not None:
            return Case("top_k_accuracy_score", recipe, call, err, guard)
        want = np.array([v for (v, _), _ in refs], dtype=np.float64)
        warns = any(wn for (_, wn), _ in refs)

        def check_seq(result):
            if not isinstance(result, np.ndarray) or result.dtype != np.float64:
                return f"a sequence k gave {type(result).__name__}, expected a float64 array"
            return None if result.tobytes() == want.tobytes() else f"{result} != {want}"

        return Case("top_k_accuracy_score", recipe, call, Ok(check_seq), guard, warns=warns)
    if seq:
        kwargs_sk = dict(kwargs, k=k)
    else:
        kwargs_sk = kwargs
    got_ref, err = _sk_or_error(yt.arg, ys.arg, **kwargs_sk)
    if err is not None:
        return Case("top_k_accuracy_score", recipe, call, err, guard)
    want, warns = got_ref

    def check(result):
        if type(result) is not float:
            return f"type {type(result).__name__}, scikit-learn gives float"
        same = result == want or (np.isnan(result) and np.isnan(want))
        return None if same else f"{result!r} != scikit-learn's {want!r}"

    return Case("top_k_accuracy_score", recipe, call, Ok(check), guard, warns=warns)


def rank_case(rng) -> Case:
    """true_label_rank: the errors of top_k_accuracy_score; the hits (rank < k) counted equal
    scikit-learn's unnormalized score for every k."""
    yt, ys, labels, n_classes, recipe = metric_inputs(rng)
    call = lambda: fasttopk.true_label_rank(yt.arg, ys.arg, labels=labels)  # noqa: E731
    guard = yt.guard + ys.guard
    _ref, err = _sk_or_error(yt.arg, ys.arg, k=1, normalize=False, labels=labels)
    if err is not None:
        return Case("true_label_rank", recipe, call, err, guard)
    ks = sorted({1, 2, n_classes})
    counts = [_sk(yt.arg, ys.arg, k=kk, normalize=False, labels=labels)[0] for kk in ks]

    def check(result):
        if not isinstance(result, np.ndarray) or result.dtype != np.int64 or result.shape != (len(yt.canon),):
            return f"got {getattr(result, 'dtype', type(result))}{np.shape(result)}"
        got = [float(np.count_nonzero(result < kk)) for kk in ks]
        return None if got == counts else f"hits for k={ks}: {got}, scikit-learn: {counts}"

    return Case("true_label_rank", recipe, call, Ok(check), guard)


def stream_case(rng) -> Case:
    """TopKAccuracy over batches (one may hold a NaN: refused, state unchanged) against
    scikit-learn on the accepted batches concatenated."""
    n_classes = int(pick(rng, [3, 4, 7, 10]))
    named = rng.random() < 0.4
    classes = np.arange(n_classes) * 3 + 1 if named else np.arange(n_classes)
    k = pick(rng, [1, 2, 3, n_classes, [1, 2]])
    normalize = bool(rng.random() < 0.7)
    weighted = rng.random() < 0.3
    batches, poisoned = [], int(rng.integers(1, 6))  # maybe none
    for b in range(int(rng.integers(1, 5))):
        n = int(rng.integers(1 if b == 0 else 0, 80))
        s = np.round(rng.standard_normal((n, n_classes)), 1).astype(pick(rng, [np.float32, np.float64]))
        if b == poisoned and n:
            s[int(rng.integers(n)), 0] = np.nan
        y = rng.choice(classes, n)
        w = rng.random(n) if weighted else None
        batches.append((arrange(rng, y, allow_subclass=False),
                        arrange(rng, s, allow_list=n > 0, allow_subclass=False), w))
    labels = classes if named else None
    recipe = (f"TopKAccuracy(k={k!r}, normalize={normalize}, labels={'classes' if named else None}); "
              f"{len(batches)} batches of {n_classes} classes, weighted={weighted}, NaN in batch {poisoned}")

    def call():
        acc = fasttopk.TopKAccuracy(k=k, normalize=normalize, labels=labels)
        refused = []
        for i, (y, s, w) in enumerate(batches):
            try:
                acc.update(y.arg, s.arg, sample_weight=w)
            except ValueError:
                refused.append(i)
        return acc, refused

    accepted = [i for i, (y, s, w) in enumerate(batches) if not np.isnan(s.canon).any()]
    y_all = np.concatenate([batches[i][0].canon for i in accepted])
    s_all = np.concatenate([batches[i][1].canon for i in accepted]).astype(np.float64)
    w_all = np.concatenate([batches[i][2] for i in accepted]) if weighted else None
    ks = k if isinstance(k, list) else [k]
    want = [_sk(y_all, s_all, k=kk, normalize=normalize, sample_weight=w_all,
                labels=classes)[0] for kk in ks]

    def check(outcome):
        acc, refused = outcome
        if refused != [i for i in range(len(batches)) if i not in accepted]:
            return f"refused batches {refused}, expected the NaN batch only"
        got = acc.result()
        got = list(np.atleast_1d(got))
        if weighted:
            ok = np.allclose(got, want, rtol=1e-12, atol=0)
        else:
            ok = got == want
        return None if ok else f"result {got} != scikit-learn's {want}"

    guard = [a for y, s, _ in batches for a in y.guard + s.guard]
    return Case("TopKAccuracy", recipe, call, Ok(check), guard)


def masked_case(rng) -> Case:
    """A masked array anywhere in a metric: a TypeError naming it (its mask would be lost)."""
    y = rng.integers(0, 3, 12)
    s = rng.standard_normal((12, 3))
    which = pick(rng, ["y_true", "y_score", "sample_weight", "labels"])
    args = {"y_true": y, "y_score": s, "sample_weight": None, "labels": None}
    base = {"y_true": y, "y_score": s, "sample_weight": np.ones(12), "labels": np.arange(3)}[which]
    args[which] = np.ma.array(base, mask=np.zeros(base.shape, bool))
    call = lambda: fasttopk.top_k_accuracy_score(  # noqa: E731
        args["y_true"], args["y_score"], k=2, sample_weight=args["sample_weight"],
        labels=args["labels"])
    return Case("top_k_accuracy_score", f"{which} = np.ma.array(...)", call,
                Err((TypeError,), (which,)))
