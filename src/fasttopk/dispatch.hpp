// Picks the kernel table for the CPU at hand: the best ISA it has, or a lower one named by
// FASTTOPK_ARCH. Generic code: include it from translation units built without ISA flags.
#pragma once
#include <cassert>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "fasttopk/kernels.hpp"

namespace fasttopk {

// The tables this build has that this CPU (and its OS) can run, best last. GCC's and clang's
// __builtin_cpu_supports, not xsimd 8.1's available_architectures(): that one reads SSE2 from
// the wrong register (ECX bit 26, XSAVE) and AVX from the wrong leaf, and never asks the OS
// whether it saves AVX state; under an SSE4.2 CPU it reports no SSE2 at all.
inline std::vector<const KernelTable*> usable_kernel_tables() {
    std::vector<const KernelTable*> usable;
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
#endif
#if defined(FASTTOPK_HAVE_SSE2)
    usable.push_back(&kernel_table_sse2());  // part of x86-64 itself
#endif
#if defined(FASTTOPK_HAVE_AVX2)
    // The avx2 build also converts float16 with F16C, which every AVX2 CPU has; checked anyway.
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
        usable.push_back(&kernel_table_avx2());
#endif
#if defined(FASTTOPK_HAVE_AVX512)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512cd"))
        usable.push_back(&kernel_table_avx512());
#endif
#if defined(FASTTOPK_HAVE_NEON64)
    usable.push_back(&kernel_table_neon64());  // part of AArch64 itself
#endif
    return usable;
}

// `requested` is an ISA name, or empty for the best one. Throws std::invalid_argument for a
// name this build or this CPU lacks.
inline const KernelTable& kernel_table_for(const std::string& requested) {
    const auto usable = usable_kernel_tables();
    if (usable.empty()) throw std::runtime_error("fasttopk: this CPU has none of the ISAs the build has");
    if (requested.empty()) return *usable.back();
    std::string names;
    for (const KernelTable* table : usable) {
        if (requested == table->name) return *table;
        names += names.empty() ? "" : ", ";
        names += table->name;
    }
    throw std::invalid_argument("FASTTOPK_ARCH=" + requested +
                                " is not available on this CPU and build; choose one of: " + names);
}

// The table in use: chosen once, from FASTTOPK_ARCH if set.
inline const KernelTable& active_kernels() {
    static const KernelTable& table = [] () -> const KernelTable& {
        const char* env = std::getenv("FASTTOPK_ARCH");
        return kernel_table_for(env ? std::string(env) : std::string());
    }();
    return table;
}

}  // namespace fasttopk
