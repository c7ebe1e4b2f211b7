"""The example notebook runs from top to bottom (each of its cells checks its own results
against NumPy, SciPy and scikit-learn), and the copy in the repository is current: the cells of
examples/make_notebook.py, with the outputs a fresh run gives. About 10 s."""
from __future__ import annotations

import os
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))
import make_notebook  # noqa: E402


def text_outputs(cell):
    """The cell's printed text (stream chunks joined: their splitting varies), results, display
    kinds and errors."""
    outputs = cell.get("outputs", [])
    out = ["".join(o["text"] for o in outputs if o["output_type"] == "stream" and o["name"] == "stdout")]
    for o in cell.get("outputs", []):
        if o["output_type"] == "stream":
            continue
        elif o["output_type"] == "execute_result":
            out.append(o["data"].get("text/plain", ""))
        elif o["output_type"] == "display_data":
            out.append(sorted(o["data"]))
        elif o["output_type"] == "error":
            out.append(f"error: {o['ename']}: {o['evalue']}")
    return out


@pytest.fixture(scope="module")
def executed():
    return make_notebook.execute(make_notebook.build(), timeout=240)


def test_notebook_runs_and_its_checks_pass(executed):
    code = [c for c in executed.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o["output_type"] == "error"]
    assert not errors, errors
    assert "all checks passed" in "".join(text_outputs(code[-1])[0])
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs), "the plot is missing"


def test_stored_notebook_is_current(executed):
    stored = nbformat.read(make_notebook.NOTEBOOK, as_version=4)
    assert [c.source for c in stored.cells] == [c.source for c in executed.cells], (
        "examples/topk_predictions.ipynb is stale: run python examples/make_notebook.py"
    )
    for mine, fresh in zip(stored.cells[2:], executed.cells[2:]):  # the first prints the ISA
        if mine.cell_type == "code":
            assert text_outputs(mine) == text_outputs(fresh), mine.source[:80]
    assert all(not o.get("output_type") == "error" for c in stored.cells for o in c.get("outputs", []))


def test_readme_named_predictions_example_runs():
    """The README's second example (named predictions), after its first (which makes the data)."""
    import re

    import numpy as np

    import fasttopk

    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    scope: dict = {}
    for code in blocks[:2]:
        exec(compile(code, "README.md", "exec"), scope)
    top3, names, logits = scope["top3"], scope["names"], scope["logits"]
    np.testing.assert_array_equal(top3.labels, names[scope["idx"]])
    np.testing.assert_array_equal(top3.indices, fasttopk.topk(logits, 3).indices)
    assert scope["per_class"].average is None


def test_docstring_examples():
    """The Examples sections of the public functions and classes print what they show."""
    import doctest
    import warnings

    from fasttopk import (
        _accumulator,
        _argreduce,
        _classes,
        _fused,
        _ranking_metrics,
        _runtime,
        _selection,
        _softmax,
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        modules = (_argreduce, _selection, _softmax, _runtime, _classes, _fused, _ranking_metrics, _accumulator)
        for module in modules:
            result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
            assert result.attempted > 0 and result.failed == 0, module.__name__
