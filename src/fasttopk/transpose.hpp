// In-register transpose of a square block: `width` registers of `width` lanes, register i
// lane j <-> register j lane i. The short-row kernels use it to turn `width` rows into column
// registers (one row per lane) and back.
#pragma once
#include "fasttopk/simd.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

template <class T, class A>
inline void transpose_square(batch<T, A>* regs) {
    using B = batch<T, A>;
    using R [[maybe_unused]] = typename B::register_type;
    constexpr index_t width = B::size;
#if defined(__AVX__)
    if constexpr (std::is_same_v<R, __m256>) {  // 8 x 8 floats: unpack, shuffle, swap halves
        __m256 t[8], u[8];
        for (int i = 0; i < 4; ++i) {
            t[2 * i] = _mm256_unpacklo_ps(regs[2 * i], regs[2 * i + 1]);
            t[2 * i + 1] = _mm256_unpackhi_ps(regs[2 * i], regs[2 * i + 1]);
        }
        for (int i = 0; i < 2; ++i) {
            u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
            u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
            u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
            u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
        }
        for (int i = 0; i < 4; ++i) {
            regs[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
            regs[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
        }
        return;
    } else if constexpr (std::is_same_v<R, __m256d>) {  // 4 x 4 doubles
        const __m256d t0 = _mm256_unpacklo_pd(regs[0], regs[1]), t1 = _mm256_unpackhi_pd(regs[0], regs[1]);
        const __m256d t2 = _mm256_unpacklo_pd(regs[2], regs[3]), t3 = _mm256_unpackhi_pd(regs[2], regs[3]);
        regs[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
        regs[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
        regs[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
        regs[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
        return;
    }
#endif
#if defined(__SSE2__)
    if constexpr (std::is_same_v<R, __m128>) {  // 4 x 4 floats
        __m128 r0 = regs[0], r1 = regs[1], r2 = regs[2], r3 = regs[3];
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        regs[0] = r0, regs[1] = r1, regs[2] = r2, regs[3] = r3;
        return;
    } else if constexpr (std::is_same_v<R, __m128d>) {  // 2 x 2 doubles
        const __m128d lo = _mm_unpacklo_pd(regs[0], regs[1]), hi = _mm_unpackhi_pd(regs[0], regs[1]);
        regs[0] = lo, regs[1] = hi;
        return;
    }
#endif
    // Elsewhere (AVX-512, NEON) through memory: correct, if slower than shuffles.
    alignas(64) T block[width * width];
    for (index_t i = 0; i < width; ++i) regs[i].store_aligned(block + i * width);
    for (index_t i = 0; i < width; ++i) {
        alignas(64) T column[width];
        for (index_t j = 0; j < width; ++j) column[j] = block[j * width + i];
        regs[i] = B::load_aligned(column);
    }
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
