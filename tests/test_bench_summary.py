"""The benchmark's publishing side on a synthetic run: the README summary, the refusal rules and
the chart's per-round speed-ups; then small end-to-end runs of benchmarks.scaling and
benchmarks.axis, which check their structure and agreement checks, never their timings (the
benchmark itself is `make bench`, never a test)."""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

import fasttopk

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import chart, publish, summary


def _row(kernel, shape, threads, ft_ms, peer_ms, torch_ms=None, other=None, other_ms=None, k=None,
         dtype="float32", check="ok"):
    contenders = {
        "fasttopk": {"times_s": [ft_ms / 1e3] * 3},
        "peer-x": {"times_s": [peer_ms / 1e3, 2 * peer_ms / 1e3, peer_ms / 1e3]},
    }
    row = {
        "kernel": kernel, "shape": list(shape), "k": k, "threads": threads, "dtype": dtype,
        "check": check, "fasttopk_ms": ft_ms, "peer": "peer-x", "peer_ms": peer_ms,
        "speedup_vs_peer": peer_ms / ft_ms, "torch": "torch-x" if torch_ms else None,
        "speedup_vs_torch": torch_ms / ft_ms if torch_ms else None,
        "other": other, "speedup_vs_other": other_ms / ft_ms if other_ms else None,
        "contenders": contenders,
    }
    if torch_ms:
        contenders["torch-x"] = {"times_s": [torch_ms / 1e3] * 3}
    return row


def _meta(rows=(), **extra):
    meta = {
        "complete": True, "loaded": False, "loadavg_start": [0.1, 0.1, 0.1],
        "thread_counts": [1, 2], "date": "2026-01-01T00:00:00+00:00", "rows": list(rows),
        "design_shapes": [[100000, 10], [10000, 1000]], "design_ks": [1, 5, 50],
        "machine": {"cpu_model": "Test CPU", "cpu_count": 2, "mem_total_gb": 8,
                    "simd_arch": "avx2", "platform": "Linux"},
        "versions": {"python": "3.11", "numpy": "2.0", "jax": "0.10", "fasttopk_git_commit": "abc"},
        "bandwidth": {"single_thread_gbps": 10.0, "all_threads_gbps": 15.0},
    }
    meta.update(extra)
    return meta


def test_summary_takes_the_median_over_design_rows_only():
    rows = [
        _row("argmax", (100000, 10), 1, 1.0, 2.0, torch_ms=4.0, other="jnp.argmax", other_ms=3.0),
        _row("argmax", (10000, 1000), 1, 1.0, 4.0, torch_ms=8.0, other="jnp.argmax", other_ms=1.0),
        _row("argmax", (10000, 1000), 2, 1.0, 6.0),
        # outside the summary: not a DESIGN shape, half precision, a mismatch, a large k
        _row("argmax", (8, 128000), 1, 1.0, 100.0),
        _row("argmax", (100000, 10), 1, 1.0, 100.0, dtype="float16"),
        _row("topk", (100000, 10), 1, 1.0, 100.0, check="MISMATCH: x"),
        _row("topk", (10000, 1000), 1, 1.0, 100.0, k=1024),
        _row("softmax_out", (10000, 1000), 1, 1.0, 1.5),
    ]
    table = summary.summary_table(_meta(rows))
    lines = {tuple(c.strip() for c in line.strip("|").split("|")[:2]): line
             for line in table.splitlines()[2:]}
    assert "| 3.00× (2.00×–4.00×) | 6.00× |" in lines[("argmax", "`peer-x`")]
    assert "6.00× (4.00×–8.00×)" in lines[("argmax", "`torch-x`")]
    assert "2.00× (1.00×–3.00×) | — |" in lines[("argmax", "`jnp.argmax`")]
    assert not any(k[0] in ("topk", "softmax_out") for k in lines)


def test_readme_block_names_the_machine_and_links_the_full_table_and_chart():
    block = summary.readme_block(_meta([_row("argmax", (100000, 10), 1, 1.0, 2.0)]))
    assert "higher is better" in block
    assert "Test CPU" in block and "avx2" in block
    assert "(benchmarks/results/latest.md)" in block and "(benchmarks/results/latest.png)" in block
    assert "JAX keeps its own threads" in block


@pytest.mark.parametrize("change, reason", [
    ({"complete": False}, "not a complete run"),
    ({"loaded": True}, "loaded"),
    ({"rows": [_row("argmax", (100000, 10), 1, 1.0, 2.0, check="MISMATCH: y")]}, "disagree"),
])
def test_publish_refuses_partial_loaded_or_mismatched_runs(change, reason):
    assert reason in publish.refusal(_meta(**change))
    assert publish.refusal(_meta([_row("argmax", (100000, 10), 1, 1.0, 2.0)])) is None


def test_chart_pairs_runs_of_the_same_round():
    row = _row("argmax", (100000, 10), 1, 1.0, 2.0)
    assert chart.round_speedups(row, "peer") == pytest.approx([2.0, 4.0, 2.0])
    assert chart.round_speedups(row, "torch") == []


def test_thread_scaling_run_writes_a_row_per_kernel_and_thread_count(tmp_path, monkeypatch):
    """benchmarks.scaling end to end on a small shape: every kernel's row, a time per thread
    count, and the read bandwidth measured at each count."""
    from benchmarks import machine, scaling

    monkeypatch.setattr(machine, "OUT_DIR", str(tmp_path))
    scaling.main(["--threads", "1,2", "--shapes", "300x40", "--bandwidth-mib", "16", "--out", "s"])
    saved = json.loads((tmp_path / "s.json").read_text())
    assert sorted(saved["meta"]["read_bandwidth_gbps"]) == ["1", "2"]
    kinds = [(r["kernel"], r["k"]) for r in saved["rows"]]
    assert kinds == [("argmax", None), ("softmax", None), ("log_softmax", None), ("logsumexp", None),
                     ("topk", 1), ("topk", 5), ("accuracy", 1), ("accuracy", 5)]
    assert all(sorted(r["ms"]) == ["1", "2"] and min(r["ms"].values()) > 0 for r in saved["rows"])
    table = (tmp_path / "s.md").read_text()
    assert table.count("| 300×40 |") == len(kinds)


def test_readme_thread_table_is_the_published_scaling_run():
    """The README's 16-core table is benchmarks.scaling's view of benchmarks/results/scaling.json."""
    from benchmarks import scaling

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "benchmarks", "results", "scaling.json")) as f:
        table = scaling.readme_table(json.load(f))
    with open(os.path.join(root, "README.md")) as f:
        assert table in f.read()


def test_axis_run_checks_every_contender_and_writes_a_row_per_case(tmp_path, monkeypatch):
    """benchmarks.axis end to end on its quick shapes: argmax and topk k = 1, 5, 50 along axis
    0, every contender's indices equal to fasttopk's, a time for each."""
    from benchmarks import axis, machine

    monkeypatch.setattr(machine, "OUT_DIR", str(tmp_path))
    axis.main(["--quick", "--out", "a"])
    saved = json.loads((tmp_path / "a.json").read_text())
    kinds = [(r["kernel"], r["k"], tuple(r["shape"])) for r in saved["rows"]]
    assert kinds == [(kernel, k, s) for s in axis.QUICK_SHAPES
                     for kernel, k in [("argmax", None), ("topk", 1), ("topk", 5), ("topk", 50)]]
    for row in saved["rows"]:
        assert row["disagree"] == []
        assert {"fasttopk", "x.max()"} <= set(row["ms"]) and min(row["ms"].values()) > 0
    assert (tmp_path / "a.md").read_text() == axis.markdown(saved["rows"], saved["meta"])


def test_axis_run_reports_a_disagreement():
    """The agreement check can fail: a contender whose indices differ is named."""
    from benchmarks import axis

    x = np.random.default_rng(0).standard_normal((50, 6)).astype(np.float32)
    good = fasttopk.topk(x, 3, axis=0)
    bad = (good.values, good.indices[::-1])
    assert axis._agree({"fasttopk": (good, 0.0), "np.argpartition+argsort": (bad, 0.0)}, x) == [
        "np.argpartition+argsort"]
    tied = np.zeros((50, 6), np.float32)  # every row ties: any 3 rows are right, in any order
    ours = fasttopk.topk(tied, 3, axis=0)
    other = (ours.values, ours.indices[::-1])
    assert axis._agree({"fasttopk": (ours, 0.0), "torch.topk": (other, 0.0)}, tied) == []


def test_readme_axis_table_is_the_published_axis_run():
    """The README's axis-0 table is benchmarks.axis's view of benchmarks/results/axis.json."""
    from benchmarks import axis

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "benchmarks", "results", "axis.json")) as f:
        saved = json.load(f)
    with open(os.path.join(root, "README.md")) as f:
        assert axis.markdown(saved["rows"], saved["meta"]) in f.read()
