# The header-only dependencies: xsimd (the SIMD kernels) and xtensor with its xtl (the array
# views in api.hpp). Either from FASTTOPK_HEADERS_DIR (a directory holding only them, for cross
# and wheel builds) or from find_package. When they are missing the configure step stops with a
# message that names the packages to install, instead of CMake's own "Could not find a package
# configuration file" that names neither the Debian nor the conda-forge package.
#
# fasttopk_find_headers() defines the targets `xsimd` and `xtensor`.

set(FASTTOPK_HEADERS_HINT
    "Install the header-only libraries xsimd and xtensor (with xtl):\n"
    "  Debian/Ubuntu:  apt-get install libxsimd-dev libxtensor-dev\n"
    "  conda-forge:    conda install -c conda-forge xsimd xtensor\n"
    "or point CMake at them: -DCMAKE_PREFIX_PATH=<prefix> (pip: -Ccmake.define.CMAKE_PREFIX_PATH=<prefix>).\n"
    "Wheels from `make wheel` (or PyPI) need none of this on the target.")

function(fasttopk_missing_headers what)
  string(JOIN "" hint ${FASTTOPK_HEADERS_HINT})
  message(FATAL_ERROR "fasttopk: ${what}.\n${hint}")
endfunction()

macro(fasttopk_find_headers)
  if(FASTTOPK_HEADERS_DIR)
    foreach(header xsimd/xsimd.hpp xtensor/xadapt.hpp xtl/xtl_config.hpp)
      if(NOT EXISTS "${FASTTOPK_HEADERS_DIR}/${header}")
        fasttopk_missing_headers("${header} is not in FASTTOPK_HEADERS_DIR (${FASTTOPK_HEADERS_DIR})")
      endif()
    endforeach()
    add_library(xsimd INTERFACE)
    target_include_directories(xsimd SYSTEM INTERFACE ${FASTTOPK_HEADERS_DIR})
    add_library(xtensor INTERFACE)
    target_include_directories(xtensor SYSTEM INTERFACE ${FASTTOPK_HEADERS_DIR})
  else()
    # QUIET: the message below replaces CMake's; xtensor's own config finds xtl (REQUIRED there).
    find_package(xsimd QUIET)
    if(NOT xsimd_FOUND)
      fasttopk_missing_headers("the xsimd headers were not found")
    endif()
    find_package(xtensor QUIET)
    if(NOT xtensor_FOUND)
      fasttopk_missing_headers("the xtensor headers (or xtl, which it needs) were not found")
    endif()
  endif()
endmacro()
