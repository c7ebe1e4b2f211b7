"""Every Dask function on a real distributed cluster: two worker processes, one thread each
(so every task and its arguments are pickled to another process and back). One cluster for
the whole file (module fixture, ~3 s to start here).

Like every module that tests no kernel arithmetic, it runs once, under the best ISA
(conftest.ISA_INDEPENDENT_MODULES); the workers inherit FASTTOPK_ARCH."""
from __future__ import annotations

import logging

import numpy as np
import pytest

import fasttopk

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
sklearn_metrics = pytest.importorskip("sklearn.metrics")

from fasttopk import _dask_metrics  # noqa: E402

from _dask_cases import CHUNKINGS, array_cases, check_case, hard_scores, softmax_scores  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        # ":0": any free port for the scheduler's HTTP server (it binds one even without a
        # dashboard; the default 8787 may be another cluster's, and Dask then warns)
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0",
        silence_logs=logging.ERROR,
    ) as cluster, distributed.Client(cluster, set_as_default=False) as c:
        yield c


def run(client, lazy):
    return client.gather(client.compute(lazy))


def test_array_functions_on_the_cluster(client, rng):
    # fewer cases than test_dask.py (each task costs ~1.5 ms on this cluster): one chunking
    # with the class axis whole (per-block kernels), one with both axes unevenly chunked (trees)
    cases = []
    for chunks in (CHUNKINGS["rows"], CHUNKINGS["uneven"]):
        x = hard_scores(rng)
        cases += array_cases(x, da.from_array(x, chunks=chunks), ks=(1, 5), axes=(-1, None))
        s = softmax_scores(rng)
        cases += [c for c in array_cases(s, da.from_array(s, chunks=chunks), axes=(-1, 0))
                  if "softmax" in c[0]]
    for (name, _, ref, exact), got in zip(cases, run(client, [c[1] for c in cases])):
        check_case(name, got, ref, exact)


def test_topk_softmax_and_logsumexp_on_the_cluster(client, rng):
    if not hasattr(fasttopk, "topk_softmax") or not hasattr(fasttopk, "logsumexp"):
        pytest.skip("fasttopk.topk_softmax / fasttopk.logsumexp not merged yet")
    x = softmax_scores(rng, finite=False)
    lazy, refs = [], []
    for chunks in CHUNKINGS.values():
        d = da.from_array(x, chunks=chunks)
        for log in (False, True):
            t = fasttopk.topk_softmax(d, 3, temperature=0.5, log=log)
            lazy += [t.values, t.indices]
            r = fasttopk.topk_softmax(x, 3, temperature=0.5, log=log)
            refs += [(r.values, 1e-6), (r.indices, True)]
        lazy.append(fasttopk.logsumexp(d))
        refs.append((fasttopk.logsumexp(x), 1e-6))
    for i, (got, (ref, exact)) in enumerate(zip(run(client, lazy), refs)):
        check_case(f"case {i}", got, ref, exact)


def test_metrics_on_the_cluster(client, rng):
    names = np.array(["ant", "bee", "cat", "dog", "eel", "fox", "gnu"])
    n, c = 211, 7
    scores = rng.integers(0, 4, (n, c)).astype(np.float32)
    y = rng.integers(0, c, n)
    w = rng.random(n)
    ds = da.from_array(scores, chunks=(50, 3))
    dy = da.from_array(y, chunks=40)
    dnames = da.from_array(names[y], chunks=60)
    lazy = [
        fasttopk.top_k_accuracy_score(dy, ds, k=[1, 2, 5]),
        fasttopk.top_k_accuracy_score(dnames, ds, k=2),  # labels found lazily, strings
        fasttopk.top_k_accuracy_score(dy, ds, k=3, sample_weight=da.from_array(w, chunks=70),
                                      labels=np.arange(c)),
        fasttopk.true_label_rank(dnames, ds),
        _dask_metrics.top_k_accuracy_per_class(dy, ds, k=2),
    ]
    acc, named, weighted, ranks, per_class = run(client, lazy)
    sk = sklearn_metrics.top_k_accuracy_score
    assert np.array_equal(acc, [sk(y, scores, k=k) for k in (1, 2, 5)])
    assert named == sk(names[y], scores, k=2) and type(named) is float
    np.testing.assert_allclose(weighted, sk(y, scores, k=3, sample_weight=w), rtol=1e-13)
    assert np.array_equal(ranks, fasttopk.true_label_rank(y, scores))
    ref = np.array([np.mean(ranks[y == k] < 2) for k in range(c)])
    assert np.array_equal(per_class, ref)
    with pytest.raises(ValueError, match="Number of classes in 'y_true'"):
        run(client, fasttopk.top_k_accuracy_score(da.from_array(y % 6, chunks=40), ds))


def test_topkaccuracy_update_on_the_cluster(client, rng):
    scores = rng.standard_normal((150, 12)).astype(np.float32)
    y = rng.integers(0, 12, 150)
    acc = fasttopk.TopKAccuracy(k=5)
    with client.as_current():  # update() computes on the current scheduler
        acc.update(da.from_array(y, chunks=33), da.from_array(scores, chunks=(40, 5)))
    assert acc.result() == sklearn_metrics.top_k_accuracy_score(y, scores, k=5)


def test_each_worker_uses_its_thread_budget(client, rng):
    own = fasttopk.get_num_threads()
    x = rng.standard_normal((4000, 64)).astype(np.float32)
    workers = list(client.scheduler_info()["workers"])
    assert len(workers) == 2
    for address in workers:  # a fasttopk task on each worker
        lazy = fasttopk.argmax(da.from_array(x, chunks=(1000, 64)))
        assert np.array_equal(client.compute(lazy, workers=[address]).result(), fasttopk.argmax(x))
    # one fasttopk thread per worker task thread (threads_per_worker=1): no pool of the
    # machine's size beside each task
    assert set(client.run(fasttopk.get_num_threads).values()) == {1}
    assert fasttopk.get_num_threads() == own  # the client's own process is left alone
