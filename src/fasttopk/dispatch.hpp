// Picks the kernel table for the CPU at hand: the best ISA it has, or a lower one named by
// FASTTOPK_ARCH. Generic code: include it from translation units built without ISA flags.
#pragma once
#include <cassert>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>
#include <xsimd/config/xsimd_config.hpp>
#include <xsimd/config/xsimd_cpuid.hpp>

#include "fasttopk/kernels.hpp"

namespace fasttopk {

// The tables this build has that this CPU can run, best last.
inline std::vector<const KernelTable*> usable_kernel_tables() {
    std::vector<const KernelTable*> usable;
    const auto cpu = xsimd::available_architectures();
#if defined(FASTTOPK_HAVE_SSE2)
    if (cpu.sse2) usable.push_back(&kernel_table_sse2);
#endif
#if defined(FASTTOPK_HAVE_AVX2)
    if (cpu.avx2 && cpu.fma3_avx2) usable.push_back(&kernel_table_avx2);
#endif
#if defined(FASTTOPK_HAVE_AVX512)
    if (cpu.avx512f && cpu.avx512bw && cpu.avx512dq && cpu.avx512cd && cpu.avx512bw)
        usable.push_back(&kernel_table_avx512);
#endif
#if defined(FASTTOPK_HAVE_NEON64)
    usable.push_back(&kernel_table_neon64);
#endif
    (void)cpu;
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
