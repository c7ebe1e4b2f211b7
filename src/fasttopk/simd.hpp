// Common to every kernel header. Kernel headers are included only by the per-ISA translation
// units (src/isa/*.cpp), each of which names its own namespace first: every inline function and
// every std:: template instantiated on our types then gets a distinct symbol per ISA, so the
// linker can never fold an AVX-512 copy into the code path an SSE2-only CPU runs.
#pragma once
#ifndef FASTTOPK_ISA_NAMESPACE
#error "kernel headers are for src/isa/*.cpp, which define FASTTOPK_ISA_NAMESPACE"
#endif
#include <cassert>  // xsimd 8.1 uses assert without including it
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "fasttopk/arrays.hpp"
#include "fasttopk/kernels.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

template <class T, class A>
using batch = xsimd::batch<T, A>;

template <class T, class A>
inline batch<T, A> load(const T* p) {
    return batch<T, A>::load_unaligned(p);
}

// A row-pointer aid: how many elements of a row a loop of `step` can cover.
inline index_t whole_steps(index_t n, index_t step) { return n - n % step; }

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
