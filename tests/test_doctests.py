"""Every ``>>>`` example in fasttopk's docstrings runs and prints exactly what it shows.

The examples are collected from the installed package (not the source tree), so the suite
checks them against a wheel too, and they run under each ISA the suite runs under. Examples
that import an optional library (torch, JAX, Dask...) are skipped when it is not installed.
"""
from __future__ import annotations

import doctest
import importlib
import pkgutil
import re

import numpy as np
import pytest

import fasttopk

# NumPy 2 writes scalars as np.float64(0.5); the examples show what NumPy 2 users see.
NUMPY_2 = int(np.__version__.split(".")[0]) >= 2
IMPORTED = re.compile(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)", re.MULTILINE)


def _module_names() -> list[str]:
    names = ["fasttopk"]
    for info in pkgutil.iter_modules(fasttopk.__path__, "fasttopk."):
        if not info.name.endswith("._core"):  # the compiled core: its docstrings have no examples
            names.append(info.name)
    return sorted(names)


def _doctests() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = []
    for name in _module_names():
        try:
            module = importlib.import_module(name)
        except ImportError:  # the Dask modules without Dask: their tests skip on the import below
            continue
        found += [test for test in finder.find(module, name) if test.examples]
    return sorted(found, key=lambda test: test.name)


DOCTESTS = _doctests()


def test_the_examples_were_found():
    # The public functions carry examples: an import or finder mistake must not pass as "none".
    names = {test.name for test in DOCTESTS}
    assert "fasttopk._dask_dispatch.is_dask" in names or "fasttopk._interop.as_numpy" in names


@pytest.mark.skipif(not NUMPY_2, reason="the examples show NumPy 2's reprs")
@pytest.mark.parametrize("test", DOCTESTS, ids=[test.name for test in DOCTESTS])
def test_docstring_examples(test: doctest.DocTest) -> None:
    for module in sorted({m for example in test.examples for m in IMPORTED.findall(example.source)}):
        pytest.importorskip(module)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    result = runner.run(test, out=report.append, clear_globs=True)
    assert result.failed == 0, "".join(report)
