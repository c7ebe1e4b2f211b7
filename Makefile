# `make test` and `make bench` do all set-up on a fresh Debian machine (as root): the system
# headers and tools with apt-get when missing, a venv, the package with its extras.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.fasttopk-installed
SOURCES := $(shell find src python -type f) CMakeLists.txt pyproject.toml
# PyTorch is an optional peer in the benchmark; this pin is the CPU build this project measures.
TORCH  ?= torch==2.13.0
CMAKE  ?= cmake
JOBS   ?= 2
MACHINE := $(shell uname -m)

# Build trees of `make test`, apart from pip's (build/<wheel tag>).
CPP_BUILD     := build/cpp-tests
CROSS_BUILD   := build/cpp-tests-aarch64
CROSS_HEADERS := build/cross-headers
SAN_BUILD     := build/sanitize
CPP_TEST_BIN  := tests/cpp/fasttopk_cpp_tests
# GCC leaves float-cast-overflow out of -fsanitize=undefined: named on its own.
SAN_FLAGS     := -g -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer
CPP_TEST_OPTS := -DFASTTOPK_BUILD_CPP_TESTS=ON -DCMAKE_BUILD_TYPE=Release
# Configuring again is cheap (seconds) and keeps each tree's options as written here.
CONFIGURE     := $(CMAKE) --log-level=WARNING

.PHONY: test test-static test-python test-cpp test-cpp-aarch64 test-sanitize test-wheel wheel bench bench-publish install system-deps test-deps clean

system-deps:
	@if [ ! -f /usr/include/xsimd/xsimd.hpp ] || [ ! -f /usr/include/xtensor/xtensor.hpp ]; then \
	  echo "installing libxsimd-dev libxtensor-dev"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxsimd-dev libxtensor-dev; \
	fi

# For `make test`: doctest (the C++ tests), cmake; on x86-64 the aarch64 cross compiler and
# qemu's user-mode emulators (qemu-user): qemu-aarch64 runs the neon64 kernels' tests, and
# qemu-x86_64 loads the module on CPUs without AVX / AVX-512 (tests/test_isa_emulated.py).
test-deps: system-deps
	@missing=""; \
	[ -f /usr/include/doctest/doctest.h ] || missing="$$missing doctest-dev"; \
	command -v $(CMAKE) >/dev/null || missing="$$missing cmake"; \
	if [ "$(MACHINE)" = x86_64 ]; then \
	  command -v aarch64-linux-gnu-g++ >/dev/null || missing="$$missing g++-aarch64-linux-gnu"; \
	  { command -v qemu-aarch64 >/dev/null && command -v qemu-x86_64 >/dev/null; } || missing="$$missing qemu-user"; \
	fi; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# The editable install keeps its CMake tree in build/<wheel tag> (git-ignored), so a change to one
# source file rebuilds only that file; pip's own builds (pip install ., a read-only checkout)
# take a temporary directory instead (pyproject.toml sets no build-dir).
$(STAMP): $(PY) $(SOURCES) | system-deps
	$(PIP) install -q "scikit-build-core>=0.11" "pybind11>=2.12" "numpy>=1.22"
	$(PIP) install -q --no-build-isolation -Cbuild-dir="build/{wheel_tag}" -e ".[test,bench]"
	touch $@

install: $(STAMP)

# Everything CI runs (.ci/run). Times on the 2-core development machine are in the README.
test: test-cpp test-cpp-aarch64 test-python test-sanitize test-wheel

# Lint and types, once (they do not depend on the ISA): ruff (pyproject's [tool.ruff]) over
# the Python code; tests/test_typing.py runs mypy --strict over the package and a user's script.
# The docstrings' >>> examples (tests/test_doctests.py) run with the suite, under the best ISA.
test-static: install
	$(PY) -m ruff check python tests benchmarks examples/make_notebook.py
	$(PY) -m pytest -q tests/test_typing.py

# The suite runs once per ISA this machine has (FASTTOPK_ARCH), so every kernel is checked; the
# modules that test no kernel arithmetic run under the best ISA only (tests/conftest.py).
test-python: install test-deps test-static
	@set -e; for arch in $$($(PY) -c "import fasttopk._core as c; print(*c.available_archs())"); do \
	  echo "=== pytest under FASTTOPK_ARCH=$$arch ==="; \
	  FASTTOPK_ARCH=$$arch $(PY) -m pytest -q tests --ignore=tests/test_typing.py; \
	done

# The C++ kernels on their own (tests/cpp): every kernel, dtype and ISA this CPU has, in one
# process, against scalar references.
test-cpp: test-deps
	$(CONFIGURE) -S . -B $(CPP_BUILD) -DFASTTOPK_BUILD_PYTHON_MODULE=OFF $(CPP_TEST_OPTS)
	$(CMAKE) --build $(CPP_BUILD) -j$(JOBS)
	$(CPP_BUILD)/$(CPP_TEST_BIN)

# The same tests cross-compiled for aarch64 (the neon64 kernels) and run under qemu-aarch64.
# The cross compiler sees only the header-only libraries, through a directory of links: the
# build machine's /usr/include would give it x86-64's glibc headers. On aarch64 itself,
# test-cpp already runs neon64.
test-cpp-aarch64: test-deps
ifeq ($(MACHINE),x86_64)
	@mkdir -p $(CROSS_HEADERS); for lib in xsimd xtensor xtl doctest; do ln -sfn /usr/include/$$lib $(CROSS_HEADERS)/$$lib; done
	$(CONFIGURE) -S . -B $(CROSS_BUILD) -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
	    -DFASTTOPK_HEADERS_DIR=$(CURDIR)/$(CROSS_HEADERS) -DFASTTOPK_BUILD_PYTHON_MODULE=OFF $(CPP_TEST_OPTS)
	$(CMAKE) --build $(CROSS_BUILD) -j$(JOBS)
	qemu-aarch64 -L /usr/aarch64-linux-gnu $(CROSS_BUILD)/$(CPP_TEST_BIN)
else
	@echo "test-cpp-aarch64: native $(MACHINE), covered by test-cpp"
endif

# ASan + UBSan: the C++ tests and the pytest suite on a sanitized build of the module, under
# every ISA; any report fails the run (tests/sanitize/run.sh).
test-sanitize: install test-deps
	$(CONFIGURE) -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFASTTOPK_BUILD_CPP_TESTS=ON -DFASTTOPK_OPTIMIZATION=-O1 \
	    "-DCMAKE_CXX_FLAGS=$(SAN_FLAGS)" -DCMAKE_INTERPROCEDURAL_OPTIMIZATION=OFF \
	    -DPython_EXECUTABLE=$(CURDIR)/$(PY) -Dpybind11_DIR=$$($(PY) -m pybind11 --cmakedir)
	$(CMAKE) --build $(SAN_BUILD) -j$(JOBS)
	tests/sanitize/run.sh $(SAN_BUILD) $(PY)

# Portable wheels in dist/ (tools/wheel.sh): manylinux, glibc 2.28 or newer, no headers needed on
# the target. WHEEL_ARCHS="x86_64 aarch64" by default.
wheel: system-deps
	bash tools/wheel.sh

# The x86-64 wheel (another compiler: zig's clang, libc++) installed into a fresh venv of its
# own, and the suite run against it under the best ISA, then the fuzz test under each other ISA
# the CPU has (test-python covers every ISA fully on the editable build).
WHEEL_VENV := build/wheel-test/venv
WHEEL_PY   := $(WHEEL_VENV)/bin/python
test-wheel: system-deps
	WHEEL_ARCHS=x86_64 bash tools/wheel.sh
	rm -rf $(WHEEL_VENV) && python3 -m venv $(WHEEL_VENV)
	$(WHEEL_PY) -m pip install -q --upgrade pip
	$(WHEEL_PY) -m pip install -q "$$(ls dist/fasttopk-*x86_64*.whl | head -n 1)[test]"
	cd build/wheel-test && ./venv/bin/python -c "import fasttopk, sys; f = fasttopk.__file__; print('testing', f); sys.exit('not the wheel' if 'wheel-test' not in f else 0)"
	$(WHEEL_PY) -m pytest -q -p no:cacheprovider tests
	@set -e; archs=$$($(WHEEL_PY) -c "import fasttopk._core as c; print(*c.available_archs()[:-1])"); \
	for arch in $$archs; do \
	  echo "=== wheel: fuzz test under FASTTOPK_ARCH=$$arch ==="; \
	  FASTTOPK_ARCH=$$arch $(WHEEL_PY) -m pytest -q -p no:cacheprovider tests/test_fuzz.py; \
	done

# `make bench` writes build/bench/ and changes no tracked file; `make bench-publish` copies a
# complete run that was not flagged as loaded into benchmarks/results/ and the README summary.
# torchmetrics is installed beside the pinned torch, never pulling another torch (a CUDA build,
# GBs): pip resolves both at once; if that fails, torchmetrics without its dependencies.
# BENCH_ARGS passes options (e.g. BENCH_ARGS="--quick" or "--kernels topk --shapes 1000x32000";
# `.venv/bin/python -m benchmarks.run --help`); BENCH_PUBLISH_ARGS="--dry-run" prints the README
# block without writing anything.
bench: install
	-$(PIP) install -q "$(TORCH)" || echo "PyTorch not installed: its columns stay empty"
	-$(PIP) install -q "$(TORCH)" torchmetrics || $(PIP) install -q --no-deps torchmetrics lightning-utilities \
	  || echo "torchmetrics not installed: its column stays empty"
	$(PY) -m benchmarks.run $(BENCH_ARGS)

bench-publish: install
	$(PY) -m benchmarks.publish $(BENCH_PUBLISH_ARGS)

# Thread scaling (issue 12, item 5): every kernel at 1, 2, 4, ... threads up to the CPU count,
# into build/bench/scaling.{json,md}; benchmarks/results/scaling.* is a 16-core run of it.
.PHONY: bench-scaling
bench-scaling: install
	$(PY) -m benchmarks.scaling $(BENCH_SCALING_ARGS)

# topk and argmax along axis 0 (issue 12, item 4), one thread: build/bench/axis.{json,md}.
.PHONY: bench-axis
bench-axis: install
	$(PY) -m benchmarks.axis $(BENCH_AXIS_ARGS)

clean:
	rm -rf build $(VENV)

# --- Dask (issue 11): `make bench-dask` -------------------------------------------------------
# Top-1/top-5 and per-class accuracy over a float16 score file larger than the workers' memory
# (2 workers x 3 GB, 20 GB on disk in $(DASK_BENCH_DIR), written on the first run and reused),
# against Dask + scikit-learn per chunk. DASK_BENCH_ARGS="--size-gb 2" for a smaller run.
DASK_BENCH_DIR  ?= /var/tmp/fasttopk-dask-bench
DASK_BENCH_ARGS ?=

.PHONY: bench-dask
bench-dask: install  # dask, distributed and scikit-learn come with the test extra
	FASTTOPK_BENCH_DIR=$(DASK_BENCH_DIR) nice $(PY) -m benchmarks.dask_bench $(DASK_BENCH_ARGS)
