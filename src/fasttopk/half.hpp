// float16 and bfloat16 read as float: exact widening loads and once-rounded narrowing stores,
// per ISA. F16C (AVX2 build) and AVX-512 convert float16 in one instruction; SSE2 widens with
// integer bit operations and a multiply by 2^112 (exact, denormals included); bfloat16 is the
// top half of a float32 everywhere, so widening is a 16-bit shift. Other ISAs go through
// scalar conversions. Rounding to half is round-to-nearest-even, NaN stays NaN.
#pragma once
#include "fasttopk/simd.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

inline float bits_to_float(std::uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}
inline std::uint32_t float_to_bits(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

// float16 -> float, exact: the exponent and mantissa shifted into place and rescaled by 2^112
// (which also normalises denormals); infinities and NaN get the full exponent.
inline float half_to_float(std::uint16_t h) {
    const std::uint32_t exp_mant = h & 0x7fffu;
    float f = bits_to_float(exp_mant << 13) * bits_to_float(0x77800000u);  // * 2^112
    std::uint32_t u = float_to_bits(f);
    if (exp_mant > 0x7bffu) u |= 0x7f800000u;
    return bits_to_float(u | (std::uint32_t(h & 0x8000u) << 16));
}

// float -> float16, round to nearest even (F. Giesen's float_to_half_fast3_rtne).
inline std::uint16_t float_to_half(float value) {
    std::uint32_t u = float_to_bits(value);
    const std::uint32_t sign = u & 0x80000000u;
    u ^= sign;
    std::uint32_t h;
    if (u >= 0x47800000u) {  // >= 65536, inf or NaN
        h = u > 0x7f800000u ? 0x7e00u : 0x7c00u;
    } else if (u < 0x38800000u) {  // a float16 denormal or zero: the FPU rounds at the magic
        h = float_to_bits(bits_to_float(u) + 0.5f) - 0x3f000000u;
    } else {
        const std::uint32_t mant_odd = (u >> 13) & 1u;
        u += 0xc8000fffu + mant_odd;  // rebias the exponent, round half to even
        h = u >> 13;
    }
    return std::uint16_t(h | (sign >> 16));
}

inline float bf16_to_float(std::uint16_t b) { return bits_to_float(std::uint32_t(b) << 16); }

inline std::uint16_t float_to_bf16(float value) {
    const std::uint32_t u = float_to_bits(value);
    if ((u & 0x7fffffffu) > 0x7f800000u) return std::uint16_t((u >> 16) | 0x40u);  // NaN: quiet, sign kept
    return std::uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// Scalar element access: the value a kernel computes with, and a result back into storage.
template <class T>
inline value_t<T> to_value(T x) {
    if constexpr (std::is_same_v<T, float16_t>) return half_to_float(x.bits);
    else if constexpr (std::is_same_v<T, bfloat16_t>) return bf16_to_float(x.bits);
    else return x;
}
template <class T>
inline T from_value(value_t<T> v) {
    if constexpr (std::is_same_v<T, float16_t>) return float16_t{float_to_half(v)};
    else if constexpr (std::is_same_v<T, bfloat16_t>) return bfloat16_t{float_to_bf16(v)};
    else return v;
}

// A batch of values from batch::size consecutive elements of storage type T.
template <class A, class T>
inline batch<value_t<T>, A> load_values(const T* p) {
    using F = batch<value_t<T>, A>;
    if constexpr (!is_half_v<T>) {
        return F::load_unaligned(p);
    } else {
        using R = typename F::register_type;
        constexpr bool bf16 = std::is_same_v<T, bfloat16_t>;
#if defined(__AVX512F__)
        if constexpr (std::is_same_v<R, __m512>) {
            const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
            if constexpr (bf16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
            else return _mm512_cvtph_ps(h);
        }
#endif
#if defined(__AVX2__)
        if constexpr (std::is_same_v<R, __m256>) {
            const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
            if constexpr (bf16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
#if defined(__F16C__)
            else return _mm256_cvtph_ps(h);
#endif
        }
#endif
#if defined(__SSE2__)
        if constexpr (std::is_same_v<R, __m128>) {
            const __m128i h = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
            if constexpr (bf16) {
                return _mm_castsi128_ps(_mm_unpacklo_epi16(_mm_setzero_si128(), h));
            } else {  // half_to_float in four lanes
                const __m128i lanes = _mm_unpacklo_epi16(h, _mm_setzero_si128());
                const __m128i exp_mant = _mm_and_si128(lanes, _mm_set1_epi32(0x7fff));
                const __m128i sign = _mm_slli_epi32(_mm_xor_si128(lanes, exp_mant), 16);
                const __m128 scaled = _mm_mul_ps(_mm_castsi128_ps(_mm_slli_epi32(exp_mant, 13)),
                                                 _mm_castsi128_ps(_mm_set1_epi32(0x77800000)));
                const __m128i inf_nan = _mm_and_si128(_mm_cmpgt_epi32(exp_mant, _mm_set1_epi32(0x7bff)),
                                                      _mm_set1_epi32(0x7f800000));
                return _mm_castsi128_ps(_mm_or_si128(_mm_or_si128(_mm_castps_si128(scaled), inf_nan), sign));
            }
        }
#endif
        alignas(64) float lanes[F::size];
        for (std::size_t i = 0; i < F::size; ++i) lanes[i] = to_value(p[i]);
        return F::load_aligned(lanes);
    }
}

// The first n < batch::size elements, the other lanes `fill`.
template <class A, class T>
inline batch<value_t<T>, A> load_values_partial(const T* p, index_t n, value_t<T> fill) {
    if constexpr (!is_half_v<T>) {
        return load_partial<T, A>(p, n, fill);
    } else {
        constexpr index_t width = batch<float, A>::size;
        T lanes[width];
        for (index_t i = 0; i < width; ++i) lanes[i] = i < n ? p[i] : from_value<T>(fill);
        return load_values<A>(lanes);
    }
}

// Stores batch::size results, rounded once to T.
template <class A, class T>
inline void store_values(T* p, batch<value_t<T>, A> v) {
    using F = batch<value_t<T>, A>;
    if constexpr (!is_half_v<T>) {
        v.store_unaligned(p);
    } else {
        using R = typename F::register_type;
        constexpr bool f16 = std::is_same_v<T, float16_t>;
#if defined(__AVX512F__)
        if constexpr (f16 && std::is_same_v<R, __m512>) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
            return;
        }
#endif
#if defined(__F16C__)
        if constexpr (f16 && std::is_same_v<R, __m256>) {
            _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
            return;
        }
#endif
#if defined(__AVX2__)
        if constexpr (!f16 && (std::is_same_v<R, __m256> || std::is_same_v<R, __m512>)) {
            // bfloat16: round the float bits to nearest even at bit 16 (NaN: quiet, sign kept),
            // then narrow each 32-bit lane to its top 16 bits.
            using I = batch<std::int32_t, A>;
            using U = batch<std::uint32_t, A>;
            const I bits = xsimd::bitwise_cast<I>(v);
            const I rounded = xsimd::bitwise_cast<I>(xsimd::bitwise_cast<U>(bits + I(0x7fff) + ((bits >> 16) & I(1))) >> 16);
            const I quiet_nan = xsimd::bitwise_cast<I>(xsimd::bitwise_cast<U>(bits) >> 16) | I(0x40);
            const I halves = xsimd::select((bits & I(0x7fffffff)) > I(0x7f800000), quiet_nan, rounded);
#if defined(__AVX512F__)
            if constexpr (std::is_same_v<R, __m512>) {
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtepi32_epi16(halves));
                return;
            }
#endif
            if constexpr (std::is_same_v<R, __m256>) {
                // packus works within 128-bit lanes: keep the two low quarters.
                const __m256i packed = _mm256_packus_epi32(halves, halves);
                _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                                 _mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, 0x08)));
                return;
            }
        }
#endif
        alignas(64) float lanes[F::size];
        v.store_aligned(lanes);
        for (std::size_t i = 0; i < F::size; ++i) p[i] = from_value<T>(lanes[i]);
    }
}

template <class A, class T>
inline void store_values_partial(T* p, index_t n, batch<value_t<T>, A> v) {
    if constexpr (!is_half_v<T>) {
        store_partial<T, A>(p, n, v);
    } else {
        alignas(64) float lanes[batch<float, A>::size];
        v.store_aligned(lanes);
        for (index_t i = 0; i < n; ++i) p[i] = from_value<T>(lanes[i]);
    }
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
