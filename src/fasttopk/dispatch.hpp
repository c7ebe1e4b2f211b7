// Picks the kernel table for the CPU at hand: the best ISA it has, or a lower one named by
// FASTTOPK_ARCH. Generic code: include it from translation units built without ISA flags.
#pragma once
#include <cassert>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "fasttopk/kernels.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif

namespace fasttopk {

#if defined(__x86_64__) || defined(_M_X64)
// What this x86-64 CPU and its OS can run, read with CPUID and XGETBV ourselves: xsimd 8.1's
// available_architectures() reads SSE2 from the wrong register (ECX bit 26, XSAVE) and AVX from
// the wrong leaf and never asks the OS whether it saves AVX state; __builtin_cpu_supports is
// GCC's, and clang-based toolchains without GCC's runtime (zig, used for portable wheels)
// answer 0 for every feature.
struct X86Features {
    bool avx2 = false;    // with FMA and F16C, and the OS saving YMM state
    bool avx512 = false;  // F, BW, DQ, VL, CD, and the OS saving ZMM and mask state
};

inline X86Features x86_features() {
    X86Features f;
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    const bool fma = c & (1u << 12), osxsave = c & (1u << 27), f16c = c & (1u << 29);
    if (!osxsave) return f;
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    const bool os_ymm = (xcr0_lo & 0x6u) == 0x6u;     // SSE and AVX state
    const bool os_zmm = (xcr0_lo & 0xe6u) == 0xe6u;   // and opmask, ZMM_Hi256, Hi16_ZMM
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
    f.avx2 = os_ymm && fma && f16c && (b & (1u << 5));
    const unsigned avx512_bits = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);  // F DQ CD BW VL
    f.avx512 = f.avx2 && os_zmm && (b & avx512_bits) == avx512_bits;
    return f;
}
#endif

// The tables this build has that this CPU (and its OS) can run, best last.
inline std::vector<const KernelTable*> usable_kernel_tables() {
    std::vector<const KernelTable*> usable;
#if defined(__x86_64__) || defined(_M_X64)
    const X86Features cpu = x86_features();
#endif
#if defined(FASTTOPK_HAVE_SSE2)
    usable.push_back(&kernel_table_sse2());  // part of x86-64 itself
#endif
#if defined(FASTTOPK_HAVE_AVX2)
    if (cpu.avx2) usable.push_back(&kernel_table_avx2());
#endif
#if defined(FASTTOPK_HAVE_AVX512)
    if (cpu.avx512) usable.push_back(&kernel_table_avx512());
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
