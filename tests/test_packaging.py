"""What a user installing fasttopk meets: the source build's message when the xsimd/xtensor
headers are missing, the version written once, the LICENSE in what is installed, and an sdist
that holds the sources but not the benchmark results or build outputs.

The CMake and sdist tests read the source tree next to this file, so they also run when the
suite tests an installed wheel (`make test-wheel`)."""
from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import fasttopk

ROOT = Path(__file__).resolve().parent.parent
PACKAGES_NAMED = ["libxsimd-dev", "libxtensor-dev", "conda-forge", "xsimd xtensor"]


def _configure(tmp_path, *options) -> subprocess.CompletedProcess:
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.skip("cmake is not installed (make test-deps installs it)")
    return subprocess.run(
        [cmake, "-S", str(ROOT), "-B", str(tmp_path / "build"),
         "-DFASTTOPK_BUILD_PYTHON_MODULE=OFF", *options],
        capture_output=True, text=True, timeout=300)


def _one_line(text: str) -> str:
    return " ".join(text.split())  # CMake wraps its messages


@pytest.mark.parametrize("hide", ["headers-dir", "find-package-xsimd", "find-package-xtl"])
def test_cmake_names_the_packages_to_install_when_headers_are_missing(tmp_path, hide):
    if hide == "headers-dir":  # the wheel and cross builds' way: a directory without them
        empty = tmp_path / "no-headers"
        empty.mkdir()
        option = f"-DFASTTOPK_HEADERS_DIR={empty}"
    else:  # as if the package (or xtensor's own dependency, xtl) were not installed
        option = f"-DCMAKE_DISABLE_FIND_PACKAGE_{hide.rsplit('-', 1)[1]}=ON"
    result = _configure(tmp_path, option)
    assert result.returncode != 0
    message = _one_line(result.stderr)
    for name in PACKAGES_NAMED:
        assert name in message, (name, result.stderr[-2000:])


def test_cmake_configures_with_the_headers(tmp_path):
    """The check is not a blanket refusal: the same configure passes with the headers found."""
    if not Path("/usr/include/xsimd/xsimd.hpp").exists():
        pytest.skip("the xsimd headers are not installed here")
    result = _configure(tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]


def test_version_is_written_once():
    """pyproject.toml takes the version from __init__.py; the installed metadata agrees."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^version\s*=', pyproject, re.MULTILINE) is None
    assert re.search(r'^dynamic\s*=\s*\[[^\]]*"version"', pyproject, re.MULTILINE)
    assert importlib.metadata.version("fasttopk") == fasttopk.__version__


def test_installed_distribution_carries_the_license():
    dist = importlib.metadata.distribution("fasttopk")
    assert dist.metadata["License-Expression"] == "BSD-3-Clause"
    files = [str(f) for f in dist.files or []]
    license_files = [f for f in files if f.endswith("licenses/LICENSE")]
    assert license_files, files
    text = dist.locate_file(license_files[0]).read_text()
    assert "BSD 3-Clause" in text and "the fasttopk developers" in text
    urls = dist.metadata.get_all("Project-URL") or []
    assert any(u.startswith("Source, https://github.com/fasttopk/fasttopk") for u in urls), urls


def test_sdist_holds_the_sources_and_license_but_not_results_or_build_outputs(tmp_path):
    pytest.importorskip("scikit_build_core", reason="builds the sdist (the editable venv has it)")
    code = ("import sys; from scikit_build_core.build import build_sdist; "
            "print(build_sdist(sys.argv[1]))")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    sdist = tmp_path / result.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as tar:
        names = [n.split("/", 1)[1] for n in tar.getnames() if "/" in n]
    for wanted in ["LICENSE", "README.md", "pyproject.toml", "CMakeLists.txt",
                   "cmake/fasttopk_headers.cmake", "src/bindings.cpp",
                   "python/fasttopk/__init__.py", "tools/wheel.sh"]:
        assert wanted in names, wanted
    for unwanted in ["benchmarks/results/", "build/", "dist/", ".venv/", ".git/"]:
        assert not [n for n in names if n.startswith(unwanted)], unwanted
    assert not [n for n in names if n.endswith((".so", ".o", ".whl"))]
