# The kernels, compiled once per ISA of the target processor: one object library per ISA, each
# built with exactly that ISA's flags, so that nothing built for AVX-512 can leak into code that
# runs on an SSE2-only CPU (no -march=native). Shared by the Python module and the C++ tests, so
# both test and ship the same compilation.
#
# fasttopk_add_isa_objects() defines the targets fasttopk_<isa> and sets, in the caller's scope,
#   FASTTOPK_ISA_OBJECTS  the object files of every ISA (for add_executable / add_library)
#   FASTTOPK_ISA_DEFINES  FASTTOPK_HAVE_<ISA>=1 for each ISA (for code that includes dispatch.hpp)
# It needs the target `xsimd` (find_package(xsimd) or a header-only stand-in).

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64")
  set(FASTTOPK_ISAS sse2 avx2 avx512)
  set(FASTTOPK_FLAGS_sse2 -msse2)
  set(FASTTOPK_FLAGS_avx2 -mavx2 -mfma -mf16c)
  set(FASTTOPK_FLAGS_avx512 -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512cd -mavx2 -mfma -mf16c)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(FASTTOPK_ISAS neon64)
  set(FASTTOPK_FLAGS_neon64 "")
else()
  message(FATAL_ERROR "fasttopk: unsupported processor ${CMAKE_SYSTEM_PROCESSOR}")
endif()

# The optimisation level of the kernels and the module: -O3 in everything that ships and in
# the C++ tests; the sanitizer build takes -O1, which compiles an instrumented kernel table in
# a third of the time (CI time) and checks the same source-level operations.
set(FASTTOPK_OPTIMIZATION -O3 CACHE STRING "Optimisation flag of the kernels and the module")

function(fasttopk_add_isa_objects)
  set(objects)
  set(defines)
  foreach(isa IN LISTS FASTTOPK_ISAS)
    add_library(fasttopk_${isa} OBJECT ${PROJECT_SOURCE_DIR}/src/isa/${isa}.cpp)
    target_include_directories(fasttopk_${isa} PRIVATE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(fasttopk_${isa} PRIVATE xsimd)
    target_compile_options(fasttopk_${isa} PRIVATE ${FASTTOPK_FLAGS_${isa}} ${FASTTOPK_OPTIMIZATION} -fno-math-errno)
    string(TOUPPER ${isa} isa_upper)
    list(APPEND objects $<TARGET_OBJECTS:fasttopk_${isa}>)
    list(APPEND defines FASTTOPK_HAVE_${isa_upper}=1)
  endforeach()
  set(FASTTOPK_ISA_OBJECTS ${objects} PARENT_SCOPE)
  set(FASTTOPK_ISA_DEFINES ${defines} PARENT_SCOPE)
endfunction()
