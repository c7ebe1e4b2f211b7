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

// NaN lanes. Not `x != x`: xsimd 8.1 compiles != to an ORDERED not-equal on AVX and AVX-512
// (false when either side is NaN) but to an unordered one on SSE2.
template <class T, class A>
inline xsimd::batch_bool<T, A> is_nan(batch<T, A> x) {
    if constexpr (std::is_floating_point_v<T>) return xsimd::isnan(x);
    else return x != x;  // all false
}

// A heap array owned by one kernel call. Our own type rather than std::unique_ptr<T[]>, whose
// instantiations on plain T would be shared (and folded) across the ISA translation units.
template <class T>
class Scratch {
   public:
    explicit Scratch(index_t n) : data_(n > 0 ? new T[n] : nullptr) {}
    ~Scratch() { delete[] data_; }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    Scratch& operator=(Scratch&& other) noexcept {
        std::swap(data_, other.data_);
        return *this;
    }
    T* get() const { return data_; }

   private:
    T* data_;
};

// A row-pointer aid: how many elements of a row a loop of `step` can cover.
inline index_t whole_steps(index_t n, index_t step) { return n - n % step; }

// Bit i set when lane i of the mask is true. xsimd 8.1 has no batch_bool::mask(), so each x86
// register kind gets its native movemask (AVX-512 masks already are bit masks); other
// architectures go through memory.
#if defined(__SSE2__)
inline std::uint64_t sign_bits(__m128 r) { return unsigned(_mm_movemask_ps(r)); }
inline std::uint64_t sign_bits(__m128d r) { return unsigned(_mm_movemask_pd(r)); }
#endif
#if defined(__AVX__)
inline std::uint64_t sign_bits(__m256 r) { return unsigned(_mm256_movemask_ps(r)); }
inline std::uint64_t sign_bits(__m256d r) { return unsigned(_mm256_movemask_pd(r)); }
#endif

template <class T, class A>
inline std::uint64_t mask_bits(const xsimd::batch_bool<T, A>& b) {
    using R = typename xsimd::batch_bool<T, A>::register_type;
    const R r = b;
    if constexpr (std::is_integral_v<R>) {
        return std::uint64_t(r);
#if defined(__AVX__)
    } else if constexpr (std::is_same_v<R, __m256> || std::is_same_v<R, __m256d>) {
        return sign_bits(r);
    } else if constexpr (std::is_same_v<R, __m256i>) {
        if constexpr (sizeof(T) == 4) return sign_bits(_mm256_castsi256_ps(r));
        else return sign_bits(_mm256_castsi256_pd(r));
#endif
#if defined(__SSE2__)
    } else if constexpr (std::is_same_v<R, __m128> || std::is_same_v<R, __m128d>) {
        return sign_bits(r);
    } else if constexpr (std::is_same_v<R, __m128i>) {
        if constexpr (sizeof(T) == 4) return sign_bits(_mm_castsi128_ps(r));
        else return sign_bits(_mm_castsi128_pd(r));
#endif
    } else {
        constexpr std::size_t n = xsimd::batch_bool<T, A>::size;
        alignas(64) bool lanes[n];
        b.store_aligned(lanes);
        std::uint64_t bits = 0;
        for (std::size_t i = 0; i < n; ++i) bits |= std::uint64_t(lanes[i]) << i;
        return bits;
    }
}

// Partial batches: the first n < width lanes of p, the others `fill`; and the first n lanes of
// v stored to p. AVX-512's masked loads and stores never touch memory past p + n; elsewhere a
// small copy does the same.
template <class T, class A>
constexpr bool has_masked_load = std::is_integral_v<typename xsimd::batch_bool<T, A>::register_type>;

template <class T, class A>
inline batch<T, A> load_partial(const T* p, index_t n, T fill) {
#if defined(__AVX512F__)
    using R = typename batch<T, A>::register_type;
    if constexpr (std::is_same_v<R, __m512>) {
        return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), __mmask16((1u << n) - 1), p);
    } else if constexpr (std::is_same_v<R, __m512d>) {
        return _mm512_mask_loadu_pd(_mm512_set1_pd(fill), __mmask8((1u << n) - 1), p);
    } else if constexpr (std::is_same_v<R, __m512i> && sizeof(T) == 4) {
        return _mm512_mask_loadu_epi32(_mm512_set1_epi32(fill), __mmask16((1u << n) - 1), p);
    } else if constexpr (std::is_same_v<R, __m512i>) {
        return _mm512_mask_loadu_epi64(_mm512_set1_epi64(fill), __mmask8((1u << n) - 1), p);
    }
#endif
    alignas(64) T lanes[batch<T, A>::size];
    for (index_t i = 0; i < index_t(batch<T, A>::size); ++i) lanes[i] = i < n ? p[i] : fill;
    return batch<T, A>::load_aligned(lanes);
}

template <class T, class A>
inline void store_partial(T* p, index_t n, batch<T, A> v) {
#if defined(__AVX512F__)
    using R = typename batch<T, A>::register_type;
    if constexpr (std::is_same_v<R, __m512>) {
        _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), v);
        return;
    } else if constexpr (std::is_same_v<R, __m512d>) {
        _mm512_mask_storeu_pd(p, __mmask8((1u << n) - 1), v);
        return;
    }
#endif
    alignas(64) T lanes[batch<T, A>::size];
    v.store_aligned(lanes);
    for (index_t i = 0; i < n; ++i) p[i] = lanes[i];
}

// The largest (smallest) lane, by a pairwise tree: a short dependency chain. Lanes holding
// NaN may or may not win: callers do not depend on it.
template <bool Smallest, class T, class A>
inline T reduce_extreme(batch<T, A> v) {
    constexpr index_t width = batch<T, A>::size;
    alignas(64) T lanes[width];
    v.store_aligned(lanes);
    for (index_t half = width / 2; half >= 1; half /= 2) {
        for (index_t i = 0; i < half; ++i) {
            const bool other = Smallest ? lanes[i + half] < lanes[i] : lanes[i + half] > lanes[i];
            lanes[i] = other ? lanes[i + half] : lanes[i];
        }
    }
    return lanes[0];
}

inline int lowest_bit(std::uint64_t bits) { return __builtin_ctzll(bits); }
inline index_t bit_count(std::uint64_t bits) { return __builtin_popcountll(bits); }

// Asks for a short row ahead of its use, so that its fetch from memory overlaps the work on
// the current row (the hardware prefetcher does not cross into the next row soon enough).
// Long rows are left to the hardware prefetcher.
template <class T>
inline void prefetch_row(const T* row, index_t n) {
    constexpr index_t line = 64;
    const index_t bytes = n * index_t(sizeof(T));
    if (bytes > 16 * 1024) return;
    const char* p = reinterpret_cast<const char*>(row);
    for (index_t off = 0; off < bytes; off += line) __builtin_prefetch(p + off);
}

// How many leading rows r of x can have [row(r) + c0, row(r) + c0 + span) read whole though the
// span runs past the last column: as long as it ends within the last row, it lies in memory the
// view spans (between its first and last element), so a register whose last lanes are outside
// the columns is loaded whole rather than lane by lane. Those lanes are never output.
template <class T>
index_t rows_readable_whole(Rows<const T> x, index_t c0, index_t span) {
    if (x.row_stride <= 0 || x.n_rows < 1) return 0;
    const index_t end = (x.n_rows - 1) * x.row_stride + x.n_cols;  // one past the last element
    if (end < c0 + span) return 0;
    return std::min(x.n_rows, (end - c0 - span) / x.row_stride + 1);
}

// The registers of the short-row kernels (argmax, topk k = 1, rank; the tile kernels on double
// rows, see short_tile_arch) on rows of up to 64 elements: on AVX-512 CPUs, AVX2's. A row of
// 8..15 floats fills an AVX2 batch but not an AVX-512 one. Intel Xeon (AVX-512 FP16), one
// thread, 100000×10 / ×32: argmax 0.85 / 1.36 ms with AVX-512 registers, 0.48 / 0.75 with
// AVX2's; top_k_accuracy_score k=5 1.38 / 1.21 against 0.58 / 1.09.
template <class A>
struct short_rows_isa {
    using type = A;
};
#if XSIMD_WITH_AVX512BW && XSIMD_WITH_FMA3_AVX2
template <>
struct short_rows_isa<xsimd::avx512bw> {
    using type = xsimd::fma3<xsimd::avx2>;
};
#endif
template <class A>
using short_rows_arch = typename short_rows_isa<A>::type;

// The tile kernels of float rows (softmax, log_softmax, logsumexp, topk with k >= 2) keep
// AVX-512's registers: their vertical arithmetic (exp, or k rounds of max and strike) takes half
// the instructions, and the 16-row tiles are transposed as two AVX2 tiles (transpose.hpp).
// Double rows take short_rows_arch.
template <class A, class V>
using short_tile_arch = std::conditional_t<std::is_same_v<V, float>, A, short_rows_arch<A>>;

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
