"""fasttopk is typed: py.typed ships, the _core stub matches the compiled module, and
``mypy --strict`` passes on the package and on a user's script (tests/typing/user_script.py)
and catches that script's mistakes.

mypy runs with pyproject.toml's [tool.mypy] (strict, the optional peers' imports ignored).
`make test` runs this file once, not under every ISA (it does not depend on the ISA).
"""
from __future__ import annotations

import ast
import importlib.resources
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fasttopk import _core

ROOT = Path(__file__).resolve().parent.parent
USER_SCRIPT = ROOT / "tests" / "typing" / "user_script.py"
STUB = Path(_core.__file__).with_name("_core.pyi")
if not STUB.exists():  # an editable install: the stub is in the source tree, the module is not
    STUB = ROOT / "python" / "fasttopk" / "_core.pyi"


def _stub_tree() -> ast.Module:
    return ast.parse(STUB.read_text(encoding="utf-8"))


def _stub_functions() -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in _stub_tree().body if isinstance(node, ast.FunctionDef)}


def _stub_public_names() -> set[str]:
    names = set(_stub_functions())
    for node in _stub_tree().body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


def _run_mypy(*args: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mypy", reason="mypy comes with the test extra")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )


def test_py_typed_and_the_stub_ship_with_the_package():
    package = importlib.resources.files("fasttopk")
    assert package.joinpath("py.typed").is_file()
    assert package.joinpath("_core.pyi").is_file()


def test_stub_names_exactly_what_core_exports():
    exported = {name for name in dir(_core) if not name.startswith("_")}
    assert _stub_public_names() == exported


@pytest.mark.parametrize("name", sorted(_stub_functions()))
def test_stub_signature_matches_the_binding(name):
    # pybind11 writes each function's signature as the first line of its docstring:
    # "topk(x: numpy.ndarray, k: typing.SupportsInt | ..., ...) -> None"
    doc_line = getattr(_core, name).__doc__.splitlines()[0]
    match = re.fullmatch(rf"{name}\((.*)\) -> (.+)", doc_line)
    assert match, doc_line
    bound_params = [p.split(":")[0].strip() for p in match.group(1).split(", ") if p]
    stub = _stub_functions()[name]
    assert [a.arg for a in stub.args.args] == bound_params
    assert stub.returns is not None
    assert ast.unparse(stub.returns) == match.group(2)


def test_user_script_runs():
    # the script type-checked below is valid code: it runs without an error or a warning
    subprocess.run([sys.executable, "-W", "error", str(USER_SCRIPT)], check=True, capture_output=True,
                   timeout=300)


def test_mypy_strict_passes_on_the_package_and_a_user_script():
    result = _run_mypy()  # [tool.mypy] files: the package and tests/typing/user_script.py
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_catches_a_users_mistakes(tmp_path):
    # Annotated public functions make mypy reject these; unannotated ones would let them pass.
    script = tmp_path / "mistakes.py"
    script.write_text(
        "import numpy as np\n"
        "import fasttopk\n"
        "x = np.zeros((2, 3))\n"
        'fasttopk.topk(x, "3")\n'  # line 4: k is an int
        "fasttopk.softmax(x, axis=1.5)\n"  # line 5: axis is an int or a tuple of ints
        'fasttopk.TopKAccuracy(k=2, normalize="yes")\n'  # line 6: normalize is a bool
        "fasttopk.set_num_threads(None)\n"  # line 7: an int
    )
    result = _run_mypy(str(script))
    assert result.returncode == 1, result.stdout + result.stderr
    # wrong argument types, not "untyped function" (which would pass any argument)
    wrong_type = r"mistakes\.py:(\d+): error: .*\[(?:arg-type|call-overload)\]"
    flagged = {int(m) for m in re.findall(wrong_type, result.stdout)}
    assert flagged == {4, 5, 6, 7}, result.stdout
