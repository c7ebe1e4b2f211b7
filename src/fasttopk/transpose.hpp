// Tiles of short rows as column registers: `width` rows (one per lane) of n elements become n
// registers, register j holding element j of every row, so that the short-row kernels reduce
// vertically. Blocks of width x width are transposed in registers (rows narrower than a
// register go through memory); AVX-512 float tiles are two AVX2 tiles, joined per column.
#pragma once
#include "fasttopk/half.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

// The longest rows a tile takes (the short-row kernels' limits are at most this).
constexpr index_t short_tile_row_max = 128;

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
    // Elsewhere (AVX-512 doubles, NEON) through memory: correct, if slower than shuffles.
    alignas(64) T block[width * width];
    for (index_t i = 0; i < width; ++i) regs[i].store_aligned(block + i * width);
    for (index_t i = 0; i < width; ++i) {
        alignas(64) T column[width];
        for (index_t j = 0; j < width; ++j) column[j] = block[j * width + i];
        regs[i] = B::load_aligned(column);
    }
}

// Where the width x width blocks covering a row of n >= width elements start: every whole
// block, then, if n is not a multiple of width, one ending at column n (its first columns
// repeat the previous block's, with the same values).
inline index_t tile_block_count(index_t n, index_t width) { return (n + width - 1) / width; }
inline index_t tile_block_start(index_t b, index_t n, index_t width) { return (b + 1) * width <= n ? b * width : n - width; }

// Rows r0 .. r0 + rows_here of x (rows_here <= width) into x.n_cols column registers. Lanes
// past rows_here hold 0 (whose exp is a plain 1: no denormals).
template <class A, class T>
inline void load_tile_columns(Rows<const T> x, index_t r0, index_t rows_here, batch<value_t<T>, A>* columns) {
    using V = value_t<T>;
    using B = batch<V, A>;
    constexpr index_t width = B::size;
    const index_t n = x.n_cols;
#if defined(__AVX512F__) && XSIMD_WITH_FMA3_AVX2
    if constexpr (std::is_same_v<typename B::register_type, __m512>) {
        // 16 rows as two tiles of 8, each transposed by AVX2's shuffles (rows of 8.. elements in
        // registers, not through memory as a 16 x 16 block would go), halves joined per column.
        // The halves lie end to end, n registers apart: two arrays of 4 KB would put every low[j]
        // 4096 bytes from high[j], where loads can falsely wait on stores (4K aliasing).
        using H = xsimd::fma3<xsimd::avx2>;
        batch<float, H> halves[2 * short_tile_row_max];
        batch<float, H>* const low = halves;
        batch<float, H>* const high = halves + n;
        load_tile_columns<H>(x, r0, std::min<index_t>(rows_here, 8), low);
        load_tile_columns<H>(x, r0 + 8, std::max<index_t>(rows_here - 8, 0), high);
        for (index_t j = 0; j < n; ++j)
            columns[j] = _mm512_insertf32x8(_mm512_castps256_ps512(low[j]), high[j], 1);
        return;
    }
#endif
    if (n < width) {
        alignas(64) V tile[width * width];
        for (index_t i = 0; i < rows_here; ++i) {
            const T* src = x.row(r0 + i);
            for (index_t j = 0; j < n; ++j) tile[j * width + i] = to_value(src[j]);
        }
        for (index_t i = rows_here; i < width; ++i)
            for (index_t j = 0; j < n; ++j) tile[j * width + i] = V(0);
        for (index_t j = 0; j < n; ++j) columns[j] = B::load_aligned(tile + j * width);
        return;
    }
    for (index_t b = 0; b < tile_block_count(n, width); ++b) {
        const index_t c0 = tile_block_start(b, n, width);
        B block[width];
        for (index_t i = 0; i < rows_here; ++i) block[i] = load_values<A>(x.row(r0 + i) + c0);
        for (index_t i = rows_here; i < width; ++i) block[i] = B(V(0));
        transpose_square<V, A>(block);
        for (index_t j = 0; j < width; ++j) columns[c0 + j] = block[j];
    }
}

// A tile's worth (width) of int64 column numbers (below 2^24, exact in V) as one batch of V,
// and back: a few register moves on x86, through memory elsewhere.
template <class V, class A>
inline batch<V, A> indices_as_values(const index_t* p) {
    using B = batch<V, A>;
    using R [[maybe_unused]] = typename B::register_type;
#if defined(__AVX2__)
    if constexpr (std::is_same_v<R, __m256>) {
        const __m256i pick = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);  // the low halves
        const __m256i lo = _mm256_permutevar8x32_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), pick);
        const __m256i hi = _mm256_permutevar8x32_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 4)), pick);
        return _mm256_cvtepi32_ps(_mm256_blend_epi32(lo, hi, 0xF0));
    }
#endif
#if defined(__SSE2__)
    if constexpr (std::is_same_v<R, __m128>) {
        const __m128 a = _mm_castsi128_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        const __m128 b = _mm_castsi128_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2)));
        return _mm_cvtepi32_ps(_mm_castps_si128(_mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))));
    }
#endif
    constexpr index_t width = B::size;
    alignas(64) V lanes[width];
    for (index_t i = 0; i < width; ++i) lanes[i] = V(p[i]);
    return B::load_aligned(lanes);
}

template <class V, class A>
inline void store_values_as_indices(batch<V, A> v, index_t* p) {
    using B = batch<V, A>;
    using R [[maybe_unused]] = typename B::register_type;
#if defined(__AVX2__)
    if constexpr (std::is_same_v<R, __m256>) {
        const __m256i i32 = _mm256_cvttps_epi32(v);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm256_cvtepi32_epi64(_mm256_castsi256_si128(i32)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + 4), _mm256_cvtepi32_epi64(_mm256_extracti128_si256(i32, 1)));
        return;
    }
#endif
#if defined(__SSE2__)
    if constexpr (std::is_same_v<R, __m128>) {  // non-negative: zero-extended
        const __m128i i32 = _mm_cvttps_epi32(v);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm_unpacklo_epi32(i32, _mm_setzero_si128()));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(p + 2), _mm_unpackhi_epi32(i32, _mm_setzero_si128()));
        return;
    }
#endif
    constexpr index_t width = B::size;
    alignas(64) V lanes[width];
    v.store_aligned(lanes);
    for (index_t i = 0; i < width; ++i) p[i] = index_t(lanes[i]);
}

// The inverse: n column registers into rows r0 .. r0 + rows_here of out.
template <class A, class T>
inline void store_tile_columns(const batch<value_t<T>, A>* columns, Rows<T> out, index_t r0, index_t rows_here) {
    using V = value_t<T>;
    using B = batch<V, A>;
    constexpr index_t width = B::size;
    const index_t n = out.n_cols;
#if defined(__AVX512F__) && XSIMD_WITH_FMA3_AVX2
    if constexpr (std::is_same_v<typename B::register_type, __m512>) {  // as load_tile_columns
        using H = xsimd::fma3<xsimd::avx2>;
        batch<float, H> halves[2 * short_tile_row_max];
        batch<float, H>* const low = halves;
        batch<float, H>* const high = halves + n;
        for (index_t j = 0; j < n; ++j) {
            low[j] = _mm512_castps512_ps256(columns[j]);
            high[j] = _mm512_extractf32x8_ps(columns[j], 1);
        }
        store_tile_columns<H>(low, out, r0, std::min<index_t>(rows_here, 8));
        if (rows_here > 8) store_tile_columns<H>(high, out, r0 + 8, rows_here - 8);
        return;
    }
#endif
    if (n < width) {
        alignas(64) V tile[width * width];
        for (index_t j = 0; j < n; ++j) columns[j].store_aligned(tile + j * width);
        for (index_t i = 0; i < rows_here; ++i) {
            T* dst = out.row(r0 + i);
            for (index_t j = 0; j < n; ++j) dst[j] = from_value<T>(tile[j * width + i]);
        }
        return;
    }
    for (index_t b = 0; b < tile_block_count(n, width); ++b) {
        const index_t c0 = tile_block_start(b, n, width);
        B block[width];
        for (index_t j = 0; j < width; ++j) block[j] = columns[c0 + j];
        transpose_square<V, A>(block);
        for (index_t i = 0; i < rows_here; ++i) store_values<A>(out.row(r0 + i) + c0, block[i]);
    }
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
