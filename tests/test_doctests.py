"""Every ``>>>`` example in fasttopk's docstrings runs and prints exactly what it shows, and
the public API's docstrings have numpydoc's sections.

The examples are collected from the installed package (not the source tree), so the suite
checks them against a wheel too, and they run under each ISA the suite runs under. Examples
that import an optional library (torch, JAX, Dask...) are skipped when it is not installed.
"""
from __future__ import annotations

import doctest
import importlib
import inspect
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


# The public API, and the modules whose public functions are documented as if they were
# (the Dask versions of the public functions, the helpers every public function calls).
DOCUMENTED_MODULES = [
    "fasttopk._conventions", "fasttopk._dask", "fasttopk._dask_dispatch", "fasttopk._dask_metrics",
    "fasttopk._dask_selection", "fasttopk._dask_softmax", "fasttopk._interop", "fasttopk._threadpool",
]


def _documented_objects() -> list:
    """pytest params (object, kind) named by the object's dotted name."""
    found = [(f"fasttopk.{name}", getattr(fasttopk, name)) for name in fasttopk.__all__]
    for module_name in DOCUMENTED_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # Dask not installed
            continue
        found += [(f"{module_name}.{name}", obj) for name, obj in vars(module).items()
                  if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__ == module_name]
    params = []
    for qualname, obj in found:
        params.append(pytest.param(obj, "class" if inspect.isclass(obj) else "function", id=qualname))
        if inspect.isclass(obj):
            params += [pytest.param(member, "method", id=f"{qualname}.{name}") for name, member in vars(obj).items()
                       if not name.startswith("_") and inspect.isfunction(member)]
    return params


def _sections(doc: str) -> set[str]:
    return set(re.findall(r"^(\w[\w ]*)\n-{3,}$", doc, re.MULTILINE))


def _takes_arguments(fn) -> bool:
    return any(name not in ("self", "cls") for name in inspect.signature(fn).parameters)


@pytest.mark.parametrize("obj, kind", _documented_objects())
def test_public_docstrings_have_numpydoc_sections(obj, kind):
    sections = _sections(inspect.getdoc(obj) or "")
    if kind == "class":  # a namedtuple documents its fields as Attributes
        required = {"See Also", "Examples"} | (set() if sections & {"Attributes"} else {"Parameters"})
    elif kind == "method":  # its class has the examples
        required = {"Returns"} | ({"Parameters"} if _takes_arguments(obj) else set())
    else:
        required = {"See Also", "Examples"} | ({"Parameters"} if _takes_arguments(obj) else set())
        if inspect.signature(obj).return_annotation not in ("None", None):
            required.add("Returns")
    assert required <= sections, f"missing {sorted(required - sections)}"
