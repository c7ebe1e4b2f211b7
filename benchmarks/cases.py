"""What is timed: for each kernel, fasttopk and its peers on the same array, and the check that
they compute the same thing (run on the warm-up results, before any timing).

Peers by role: "peer", the idiomatic NumPy/SciPy/scikit-learn call (the agreement check is
against it); "torch"; "other", JAX (1-thread rows) or torchmetrics (accuracy) when installed.
Every row also times the floor, ``x.max()``: one read of the scores with NumPy, as issue 12
states its bars (a whole-array reduction: ``np.max(x, axis=1)`` pays NumPy's per-row overhead
on short rows, 25x slower than one read at 100000x10, and would be no floor there).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import scipy.special
import sklearn.metrics

import fasttopk

from . import optional_peers
from .optional_peers import jax_contender, torchmetrics_contender
from .timing import Contender

try:  # PyTorch is an optional peer
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

KERNELS = ("argmax", "softmax", "log_softmax", "logsumexp", "topk", "accuracy", "topk_softmax")
MAIN_PEER = {
    "argmax": "np.argmax",
    "softmax": "scipy.special.softmax",
    "log_softmax": "scipy.special.log_softmax",
    "logsumexp": "scipy.special.logsumexp",
    "topk": "np.argpartition+argsort",
    "accuracy": "sklearn top_k_accuracy_score",
    "topk_softmax": "fasttopk softmax+topk",
}
TORCH_PEER = {
    "argmax": "torch.argmax",
    "softmax": "torch.softmax",
    "log_softmax": "torch.log_softmax",
    "logsumexp": "torch.logsumexp",
    "topk": "torch.topk",
    "accuracy": "torch topk(dim=1)+compare",
    "topk_softmax": "torch.softmax+topk",
}
# topk_softmax rows: the language-model shapes only, and the k of a sampler's top-k.
TOPK_SOFTMAX_SHAPES = ((64, 128000), (1000, 32000))
TOPK_SOFTMAX_KS = (5, 50)
FLOOR = "x.max()"
FLOOR_HALF = "x.view(int16).max()"
# Issue 12's large-k rows (float32): k = n/2, and k = 256, 1024 on a vocabulary shape.
LARGE_K = {(1000, 32000): (256, 1024, 16000), (8, 128000): (64000,)}
# XLA's CPU top_k in float16/bfloat16 takes about 10 s on 64×128000 (k = 5; torch: 70 ms):
# JAX is timed on half-precision topk at this one shape and k, one thread, to keep the run's
# length.
JAX_HALF_TOPK = {((64, 128000), 5)}
# The cost of a fresh output (first-touch page faults): softmax into a reused out= array.
SOFTMAX_OUT_SHAPES = ((10000, 1000),)


@dataclass
class Case:
    kernel: str
    k: int | None
    contenders: list[Contender]
    # (results by contender name) -> (errors: fasttopk disagrees with the main peer,
    #                                 notes: a torch disagreement, informational)
    check: Callable[[dict[str, Any]], tuple[list[str], list[str]]]
    bytes_read: int
    bytes_written: int


def numpy_topk(x: np.ndarray, k: int):
    """NumPy's top-k done well, sorted: `np.argpartition(x, -k)` (no negated copy of the
    matrix, 1.5x faster than partitioning -x), then a sort of the k winners only."""
    part = np.argpartition(x, -k, axis=1)[:, -k:]
    vals = np.take_along_axis(x, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    return np.take_along_axis(vals, order, axis=1), np.take_along_axis(part, order, axis=1)


def torch_tensor(x: np.ndarray):
    """x as a torch tensor of the same dtype, sharing its memory (bfloat16 through int16)."""
    if torch is None:
        return None
    if x.dtype.name == "bfloat16":
        return torch.from_numpy(x.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(x)


def torch_topk_accuracy(t, y_t, k: int) -> float:
    """What torch users write for top-k accuracy: topk along the classes, then compare."""
    return (torch.topk(t, k, dim=1).indices == y_t[:, None]).any(dim=1).double().mean().item()


def has_accuracy() -> bool:
    return callable(getattr(fasttopk, "top_k_accuracy_score", None))


def _floor(x):
    if x.itemsize == 2:
        # NumPy reduces float16/bfloat16 through scalar conversions (about 100x slower than a
        # read): the same bytes read as int16 are the one-read floor.
        bits = x.view(np.int16)
        return Contender(FLOOR_HALF, "floor", lambda: bits.max())
    return Contender(FLOOR, "floor", lambda: x.max())


def _with_others(cs: list[Contender], *others: Contender | None) -> list[Contender]:
    """cs, then the optional peers that are installed (and wanted), then the floor last."""
    floor = cs.pop()
    return cs + [o for o in others if o is not None] + [floor]


def _other_name(res) -> str | None:
    names = [n for n in res if n in set(optional_peers.JAX_PEER.values())
             | set(optional_peers.TORCHMETRICS_PEER.values())]
    return names[0] if names else None


def _torch_np(r):
    if torch is None or not isinstance(r, torch.Tensor):
        return np.asarray(r)
    if r.dtype == torch.bfloat16:
        import ml_dtypes

        return r.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return r.numpy()


def _argmax_case(x, t, jx) -> Case:
    cs = [
        Contender("fasttopk", "fasttopk", lambda: fasttopk.argmax(x, axis=1)),
        Contender("np.argmax", "peer", lambda: np.argmax(x, axis=1)),
    ]
    if t is not None:
        cs.append(Contender("torch.argmax", "torch", lambda: torch.argmax(t, dim=1), traced=False))
    cs.append(_floor(x))
    cs = _with_others(cs, jax_contender("argmax", jx))

    def check(res):
        errors, notes = [], []
        ref = res["np.argmax"]
        got = res["fasttopk"]
        if got.dtype != np.int64 or not np.array_equal(got, ref):
            errors.append(f"fasttopk.argmax differs from np.argmax in {np.sum(got != ref)} rows")
        if "torch.argmax" in res and not np.array_equal(_torch_np(res["torch.argmax"]), ref):
            notes.append("torch.argmax differs from np.argmax")
        other = _other_name(res)
        if other and not np.array_equal(optional_peers.to_numpy(res[other]), ref):
            notes.append(f"{other} differs from np.argmax")
        return errors, notes

    n = x.shape[0]
    return Case("argmax", None, cs, check, x.nbytes, n * 8)


def _half_softmax_case(x, t, log: bool, jx) -> Case:
    """float16/bfloat16: NumPy users widen to float32 for SciPy (SciPy in half precision sums
    128000 terms in half precision); fasttopk must equal that float32 answer rounded once,
    within one unit of the half dtype's last place, and torch on the same dtype is timed."""
    kernel = "log_softmax" if log else "softmax"
    ft = fasttopk.log_softmax if log else fasttopk.softmax
    sp = scipy.special.log_softmax if log else scipy.special.softmax
    peer = MAIN_PEER[kernel] + " (float32)"
    cs = [
        Contender("fasttopk", "fasttopk", lambda: ft(x, axis=1)),
        Contender(peer, "peer", lambda: sp(x.astype(np.float32), axis=1).astype(x.dtype)),
    ]
    if t is not None:
        tf = torch.log_softmax if log else torch.softmax
        cs.append(Contender(TORCH_PEER[kernel], "torch", lambda: tf(t, dim=1), traced=False))
    cs.append(_floor(x))
    cs = _with_others(cs, jax_contender(kernel, jx))
    eps = 2.0**-10 if x.dtype == np.float16 else 2.0**-7

    def check(res):
        errors, notes = [], []
        got = res["fasttopk"].astype(np.float64)
        ref = res[peer].astype(np.float64)
        if res["fasttopk"].dtype != x.dtype:
            errors.append(f"fasttopk.{kernel} returned {res['fasttopk'].dtype}")
        elif not np.allclose(got, ref, rtol=eps, atol=1e-7 if not log else eps):
            errors.append(f"fasttopk.{kernel} differs from {peer} by more than one {x.dtype} ulp")
        tn = TORCH_PEER[kernel]
        if tn in res:
            tr = res[tn].float().numpy().astype(np.float64)
            if not np.allclose(tr, ref, rtol=eps, atol=1e-7 if not log else eps):
                notes.append(f"{tn} differs from {peer} by more than one {x.dtype} ulp")
        other = _other_name(res)
        if other:
            jr = optional_peers.to_numpy(res[other]).astype(np.float64)
            if not np.allclose(jr, ref, rtol=eps, atol=1e-7 if not log else eps):
                notes.append(f"{other} differs from {peer} by more than one {x.dtype} ulp")
        return errors, notes

    return Case(kernel, None, cs, check, x.nbytes, x.nbytes)


def _softmax_case(x, t, log: bool, jx) -> Case:
    kernel = "log_softmax" if log else "softmax"
    ft = fasttopk.log_softmax if log else fasttopk.softmax
    sp = scipy.special.log_softmax if log else scipy.special.softmax
    peer = MAIN_PEER[kernel]
    cs = [
        Contender("fasttopk", "fasttopk", lambda: ft(x, axis=1)),
        Contender(peer, "peer", lambda: sp(x, axis=1)),
    ]
    if t is not None:
        tf = torch.log_softmax if log else torch.softmax
        cs.append(Contender(TORCH_PEER[kernel], "torch", lambda: tf(t, dim=1), traced=False))
    cs.append(_floor(x))
    cs = _with_others(cs, jax_contender(kernel, jx))
    # float32 results: agreement within float rounding (a different exp/log and summation order)
    rtol, atol = (1e-5, 1e-5) if log else (1e-4, 1e-9)

    def check(res):
        errors, notes = [], []
        ref = res[peer]
        got = res["fasttopk"]
        if got.shape != ref.shape or got.dtype != ref.dtype:
            errors.append(f"fasttopk.{kernel}: {got.dtype}{got.shape} vs {ref.dtype}{ref.shape}")
        elif not np.allclose(got, ref, rtol=rtol, atol=atol):
            rel = np.max(np.abs(got.astype(np.float64) - ref) / (np.abs(ref) + atol))
            errors.append(f"fasttopk.{kernel} differs from {peer}: max rel. error {rel:.3g}")
        tn = TORCH_PEER[kernel]
        if tn in res and not np.allclose(_torch_np(res[tn]), ref, rtol=rtol, atol=atol):
            notes.append(f"{tn} differs from {peer} beyond rtol={rtol}")
        other = _other_name(res)
        if other and not np.allclose(optional_peers.to_numpy(res[other]), ref, rtol=rtol, atol=atol):
            notes.append(f"{other} differs from {peer} beyond rtol={rtol}")
        return errors, notes

    return Case(kernel, None, cs, check, x.nbytes, x.nbytes)


def _softmax_out_case(x) -> Case:
    """fasttopk.softmax into a reused out= array against the same call with a fresh output: the
    ratio is the cost of first-touch page faults on a fresh output (NumPy maps a large array
    anew on each call, and the kernel's first writes fault its pages in)."""
    out = np.empty_like(x)
    fresh = "fasttopk (fresh output)"
    cs = [
        # named "fasttopk" as in every row; the kernel's name, softmax_out, says out=
        Contender("fasttopk", "fasttopk", lambda: fasttopk.softmax(x, axis=1, out=out)),
        Contender(fresh, "peer", lambda: fasttopk.softmax(x, axis=1)),
        _floor(x),
    ]

    def check(res):
        if not np.array_equal(res["fasttopk"], res[fresh]):
            return ["fasttopk.softmax with out= differs from a fresh output"], []
        return [], []

    return Case("softmax_out", None, cs, check, x.nbytes, x.nbytes)


def _logsumexp_case(x, t, jx) -> Case:
    peer = MAIN_PEER["logsumexp"]
    cs = [
        Contender("fasttopk", "fasttopk", lambda: fasttopk.logsumexp(x, axis=1)),
        Contender(peer, "peer", lambda: scipy.special.logsumexp(x, axis=1)),
    ]
    if t is not None:
        cs.append(Contender(TORCH_PEER["logsumexp"], "torch", lambda: torch.logsumexp(t, dim=1), traced=False))
    cs.append(_floor(x))
    cs = _with_others(cs, jax_contender("logsumexp", jx))
    rtol, atol = 1e-5, 1e-5

    def check(res):
        errors, notes = [], []
        ref = np.asarray(res[peer], dtype=np.float64)
        got = res["fasttopk"]
        if got.shape != ref.shape or not np.allclose(got, ref, rtol=rtol, atol=atol):
            errors.append(f"fasttopk.logsumexp differs from {peer} beyond rtol={rtol}")
        tn = TORCH_PEER["logsumexp"]
        if tn in res and not np.allclose(_torch_np(res[tn]), ref, rtol=rtol, atol=atol):
            notes.append(f"{tn} differs from {peer} beyond rtol={rtol}")
        other = _other_name(res)
        if other and not np.allclose(optional_peers.to_numpy(res[other]), ref, rtol=rtol, atol=atol):
            notes.append(f"{other} differs from {peer} beyond rtol={rtol}")
        return errors, notes

    return Case("logsumexp", None, cs, check, x.nbytes, x.shape[0] * x.itemsize)


def _same_topk(x, values, indices, ref_values, ref_indices) -> str | None:
    """None when (values, indices) is a sorted top-k of x as the reference says: the same values
    in the same order, and distinct indices that point at them. Indices may differ from the
    reference only between equal values, inside the k or across its boundary (half precision
    has many ties); the order among ties is tested against a stable argsort in the suite."""
    if values.shape != ref_values.shape or indices.shape != ref_indices.shape:
        return f"shape {values.shape} vs {ref_values.shape}"
    if not np.array_equal(values, ref_values):
        return f"values differ in {np.sum(np.any(values != ref_values, axis=1))} rows"
    if not np.array_equal(np.take_along_axis(x, indices, axis=1), values):
        return "indices do not point at the values"
    if indices.shape[1] > 1:
        ordered = np.sort(indices, axis=1)
        repeated = np.any(ordered[:, 1:] == ordered[:, :-1], axis=1)
        if repeated.any():
            return f"an index repeats in {int(repeated.sum())} rows"
    return None


def _widened_numpy_topk(x: np.ndarray, k: int):
    """NumPy's top-k of half-precision x on a float32 copy, values back in x's dtype (exact):
    what NumPy users do, as for softmax; NumPy partitions bfloat16 (ml_dtypes) through generic
    comparisons, about 10 s for 1000×32000."""
    values, indices = numpy_topk(x.astype(np.float32), k)
    return values.astype(x.dtype), indices


def _topk_case(x, t, k, jx) -> Case:
    half = x.itemsize == 2
    peer = MAIN_PEER["topk"] + (" (float32)" if half else "")
    cs = [
        Contender("fasttopk", "fasttopk", lambda: fasttopk.topk(x, k)),
        Contender(peer, "peer", (lambda: _widened_numpy_topk(x, k)) if half else (lambda: numpy_topk(x, k))),
    ]
    if t is not None:
        cs.append(Contender("torch.topk", "torch", lambda: torch.topk(t, k, dim=1), traced=False))
    cs.append(_floor(x))
    cs = _with_others(cs, jax_contender("topk", jx, k))

    def check(res):
        errors, notes = [], []
        ref_v, ref_i = res[peer]
        v, i = res["fasttopk"]
        if i.dtype != np.int64 or v.dtype != x.dtype:
            errors.append(f"fasttopk.topk dtypes {v.dtype}/{i.dtype}")
        problem = _same_topk(x, v, i, ref_v, ref_i)
        if problem:
            errors.append(f"fasttopk.topk: {problem}")
        if "torch.topk" in res:
            tv, ti = res["torch.topk"]
            problem = _same_topk(x, _torch_np(tv), _torch_np(ti), ref_v, ref_i)
            if problem:
                notes.append(f"torch.topk: {problem}")
        other = _other_name(res)
        if other:
            jv, ji = optional_peers.to_numpy(res[other])
            problem = _same_topk(x, jv, ji.astype(np.int64), ref_v, ref_i)
            if problem:
                notes.append(f"{other}: {problem}")
        return errors, notes

    n = x.shape[0]
    return Case("topk", k, cs, check, x.nbytes, n * k * (x.itemsize + 8))


def _accuracy_case(x, y_true, k) -> Case:
    peer = MAIN_PEER["accuracy"]
    labels = np.arange(x.shape[1])
    ft = fasttopk.top_k_accuracy_score
    sk = sklearn.metrics.top_k_accuracy_score
    cs = [
        Contender("fasttopk", "fasttopk", lambda: ft(y_true, x, k=k, labels=labels)),
        Contender(peer, "peer", lambda: sk(y_true, x, k=k, labels=labels)),
    ]
    t = torch_tensor(x)
    if t is not None:
        y_t = torch.from_numpy(y_true)
        cs.append(Contender(TORCH_PEER["accuracy"], "torch", lambda: torch_topk_accuracy(t, y_t, k), traced=False))
    cs.append(_floor(x))
    if t is not None:
        cs = _with_others(cs, torchmetrics_contender(t, y_t, x.shape[1], k))

    def check(res):
        got, ref = res["fasttopk"], res[peer]
        if not got == ref:
            return [f"fasttopk.top_k_accuracy_score = {got!r}, scikit-learn = {ref!r}"], []
        notes = []
        if type(got) is not type(ref):
            notes.append(f"result type {type(got).__name__}, scikit-learn's {type(ref).__name__}")
        tn = TORCH_PEER["accuracy"]
        if tn in res and abs(res[tn] - ref) > 1e-12:  # ties break differently in torch.topk
            notes.append(f"{tn} gives {res[tn]!r}, scikit-learn {ref!r}")
        other = _other_name(res)
        if other and abs(res[other] - ref) > 1e-6:  # float32 arithmetic, its own tie rule
            notes.append(f"{other} gives {res[other]!r}, scikit-learn {ref!r}")
        return [], notes

    return Case("accuracy", k, cs, check, x.nbytes + y_true.nbytes, 0)


def _topk_softmax_case(x, t, k, jx) -> Case:
    """The fused kernel against the two-step way: softmax (a full-size temporary), then topk."""
    peer = MAIN_PEER["topk_softmax"]
    cs = [
        Contender("fasttopk", "fasttopk", lambda: fasttopk.topk_softmax(x, k)),
        Contender(peer, "peer", lambda: fasttopk.topk(fasttopk.softmax(x), k)),
    ]
    if t is not None:
        tn = TORCH_PEER["topk_softmax"]
        cs.append(Contender(tn, "torch", lambda: torch.topk(torch.softmax(t, dim=1), k, dim=1), traced=False))
    cs.append(_floor(x))
    cs = _with_others(cs, jax_contender("topk_softmax", jx, k))

    def check(res):
        errors, notes = [], []
        ref_v, ref_i = res[peer]
        v, i = res["fasttopk"]
        if v.dtype != x.dtype or i.dtype != np.int64 or v.shape != ref_v.shape:
            errors.append(f"fasttopk.topk_softmax: {v.dtype}{v.shape}/{i.dtype} vs {ref_v.dtype}{ref_v.shape}")
        elif not np.allclose(v, ref_v, rtol=1e-5, atol=1e-12):
            errors.append("fasttopk.topk_softmax values differ from softmax+topk beyond rtol=1e-5")
        elif not np.array_equal(i, ref_i):
            # allowed only where probabilities round to equal values (the fused kernel orders
            # those by logit, topk on the probabilities by index)
            differ = np.any(i != ref_i, axis=1)
            rv = ref_v[differ]
            tied = np.any(rv[:, 1:] == rv[:, :-1], axis=1) if rv.shape[1] > 1 else np.zeros(len(rv), bool)
            if not tied.all():
                errors.append(f"fasttopk.topk_softmax indices differ in {int((~tied).sum())} rows without ties")
        tn = TORCH_PEER["topk_softmax"]
        if tn in res and not np.allclose(_torch_np(res[tn][0]), ref_v, rtol=1e-4, atol=1e-9):
            notes.append(f"{tn} values differ from {peer} beyond rtol=1e-4")
        other = _other_name(res)
        if other and not np.allclose(optional_peers.to_numpy(res[other])[0], ref_v, rtol=1e-4, atol=1e-9):
            notes.append(f"{other} values differ from {peer} beyond rtol=1e-4")
        return errors, notes

    n = x.shape[0]
    return Case("topk_softmax", k, cs, check, x.nbytes, n * k * (x.itemsize + 8))


def build_cases(kernel: str, x: np.ndarray, y_true: np.ndarray, ks: list[int], threads: int = 1,
                large_k: bool = False) -> list[Case]:
    """The rows of `kernel` on `x` (n_rows x n_classes; float32, or float16/bfloat16 for the
    half-precision rows, where torch runs on the same dtype); k > n_classes is skipped. JAX is
    held to `threads` cores by pinning (machine.thread_setting); `large_k` adds LARGE_K's rows
    and, for softmax, the out= row."""
    t = torch_tensor(x)  # zero copy
    n_classes = x.shape[1]
    wants_jax = kernel in optional_peers.JAX_PEER
    jx = optional_peers.jax_array(x) if wants_jax else None  # one copy for all the k
    f32 = x.dtype == np.float32
    if kernel == "argmax":
        return [_argmax_case(x, t, jx)]
    if kernel in ("softmax", "log_softmax"):
        if not f32:
            return [_half_softmax_case(x, t, kernel == "log_softmax", jx)]
        extra = ([_softmax_out_case(x)] if kernel == "softmax" and large_k
                 and tuple(x.shape) in SOFTMAX_OUT_SHAPES else [])
        return [_softmax_case(x, t, kernel == "log_softmax", jx), *extra]
    if kernel == "logsumexp":
        return [_logsumexp_case(x, t, jx)] if f32 else []
    if kernel == "topk":
        more = LARGE_K.get(tuple(x.shape), ()) if large_k and f32 else ()
        def jax_for(k):
            return jx if f32 or ((tuple(x.shape), k) in JAX_HALF_TOPK and threads == 1) else None

        return [_topk_case(x, t, k, jax_for(k))
                for k in list(ks) + [k for k in more if k not in ks] if k <= n_classes]
    if kernel == "accuracy":
        if not has_accuracy():
            return []
        return [_accuracy_case(x, y_true, k) for k in ks if k <= n_classes]
    if kernel == "topk_softmax":
        if tuple(x.shape) not in TOPK_SOFTMAX_SHAPES:
            return []
        return [_topk_softmax_case(x, t, k, jx) for k in ks if k in TOPK_SOFTMAX_KS]
    raise ValueError(f"unknown kernel {kernel!r}; expected one of {', '.join(KERNELS)}")
