# `make test` and `make bench` do all set-up on a fresh Debian machine (as root): the system
# headers (xsimd, xtensor) with apt-get when missing, a venv, the package with its extras.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.fasttopk-installed
SOURCES := $(shell find src python -type f) CMakeLists.txt pyproject.toml
# PyTorch is an optional peer in the benchmark; this pin is the CPU build this project measures.
TORCH  ?= torch==2.13.0

.PHONY: test bench install system-deps test-deps clean

system-deps:
	@if [ ! -f /usr/include/xsimd/xsimd.hpp ] || [ ! -f /usr/include/xtensor/xtensor.hpp ]; then \
	  echo "installing libxsimd-dev libxtensor-dev"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxsimd-dev libxtensor-dev; \
	fi

# qemu's user-mode emulator lets the suite load the module on CPUs without AVX / AVX-512
# (tests/test_isa_emulated.py); x86-64 only.
test-deps:
	@if [ "$$(uname -m)" = x86_64 ] && ! command -v qemu-x86_64 >/dev/null; then \
	  echo "installing qemu-user"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user) \
	    || echo "qemu-user not installed: tests/test_isa_emulated.py will be skipped"; \
	fi

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(STAMP): $(PY) $(SOURCES) | system-deps
	$(PIP) install -q "scikit-build-core>=0.10" "pybind11>=2.12" "numpy>=1.22"
	$(PIP) install -q --no-build-isolation -e ".[test,bench]"
	touch $@

install: $(STAMP)

# The suite runs once per ISA this machine has (FASTTOPK_ARCH), so every kernel is checked.
test: install test-deps
	@set -e; for arch in $$($(PY) -c "import fasttopk._core as c; print(*c.available_archs())"); do \
	  echo "=== pytest under FASTTOPK_ARCH=$$arch ==="; \
	  FASTTOPK_ARCH=$$arch $(PY) -m pytest -q tests; \
	done

bench: install
	-$(PIP) install -q "$(TORCH)" || echo "PyTorch not installed: its columns stay empty"
	$(PY) -m benchmarks.run

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
