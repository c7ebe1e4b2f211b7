// Row-wise softmax and log_softmax, arithmetic laid out as scipy.special does it so that
// results agree to rounding, non-finite input included:
//   softmax:      m = max(x);                      out = exp(x - m) / sum(exp(x - m))
//   log_softmax:  m = max(x), 0 if not finite;     out = (x - m) - log(sum(exp(x - m)))
// A NaN anywhere makes the sum NaN and so every output NaN, as in SciPy, whatever max() made
// of it; so the max pass needs no NaN test. Three passes over a row that stays in cache between
// them; the last partial batch is padded with -inf (exp gives 0) rather than done in scalar
// code. out may alias x exactly. The sum of exponentials is formed in the same order on every
// ISA and in double across blocks (LaneSums), and log(sum) is taken in double.
#pragma once
#include <cmath>

#include "fasttopk/half.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

// exp(k ln2 + r) / 2^k for |r| <= ln2 / 2, given k = round(x / ln2): Cody-Waite reduction and
// the degree-5 polynomial of xsimd::exp (same accuracy, about 1 ulp).
template <class A>
inline batch<float, A> exp_reduced(batch<float, A> x, batch<float, A> k) {
    using F = batch<float, A>;
    F r = xsimd::fnma(k, F(0.693359375f), x);
    r = xsimd::fnma(k, F(-2.12194440e-4f), r);
    F p = F(1.3997796e-03f);
    p = xsimd::fma(p, r, F(8.3955629e-03f));
    p = xsimd::fma(p, r, F(4.1665401e-02f));
    p = xsimd::fma(p, r, F(1.6666277e-01f));
    p = xsimd::fma(p, r, F(5.0000000e-01f));
    return xsimd::fma(p, r * r, r) + F(1.0f);
}

// exp for float batches whose lanes are <= 0 or NaN (x - max(x)): as xsimd::exp, but 2^k is
// built directly and the overflow test is dropped, since x <= 0 cannot overflow. Every ISA
// computes the same bits (those with FMA; SSE2 emulates fma with two roundings): k = round(x *
// log2e) from the rounded product, and the result p * 2^k is rounded once, into the denormals
// too, as SciPy's exp does. exp is 0 in float below -104 (k < -150).
template <class A>
inline batch<float, A> exp_nonpositive(batch<float, A> x) {
    using F = batch<float, A>;
    using I = batch<std::int32_t, A>;
    const F log2e(1.44269504088896341f);
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<typename F::register_type, __m512>) {
        // Lanes below -104 (-inf padding, masked logits) are computed on 0 and zeroed: scaling
        // them to 0 would underflow, which Intel cores resolve with a microcode assist.
        const auto below = x < F(-104.0f);
        const F xc = xsimd::select(below, F(0.0f), x);
        // One instruction multiplies by 2^k, rounding once, underflow to 0 included.
        const F k = F(_mm512_roundscale_ps(xc * log2e, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        return xsimd::select(below, F(0.0f), F(_mm512_scalef_ps(exp_reduced<A>(xc, k), k)));
    }
#endif
    // Clamped where k = -254 (NaN stays NaN: maxps returns its second operand, NEON's max
    // too): there 2^k1 = 2^k2 = 0 below, so -inf lanes give 0 by a multiplication by 0 and not
    // by an underflow (a microcode assist on Intel). Results below 2^-150 round to 0 either way.
    const F xc = xsimd::max(F(-176.059f), x);  // -254 ln 2, rounded up
    const F round_magic(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
    const F z = xc * log2e + round_magic;  // not fused: the product is rounded first, as above
    const F k = z - round_magic;
    // z's low mantissa bits hold k in [-254, 0]. 2^k may be denormal, so it is applied in two
    // factors 2^k1 * 2^k2 (k1 = floor(k / 2)), normal or 0 (k1 = -127): p * 2^k1 is exact, the
    // second product rounds once.
    const I k_int = xsimd::bitwise_cast<I>(z) - I(0x4B400000);
    const I k1 = k_int >> 1;
    const I k2 = k_int - k1;
    const F two_k1 = xsimd::bitwise_cast<F>((k1 + I(127)) << 23);
    const F two_k2 = xsimd::bitwise_cast<F>((k2 + I(127)) << 23);
    return (exp_reduced<A>(xc, k) * two_k1) * two_k2;
}

// exp_nonpositive for lanes known to lie in [-87, 0] (or NaN), whose results are normal: one
// exact scaling by 2^k instead of two, the same bits.
template <class A>
inline batch<float, A> exp_nonpositive_normal(batch<float, A> x) {
    using F = batch<float, A>;
    using I = batch<std::int32_t, A>;
    const F round_magic(12582912.0f);
    const F z = x * F(1.44269504088896341f) + round_magic;
    const F k = z - round_magic;
    const I k_int = xsimd::bitwise_cast<I>(z) - I(0x4B400000);  // in [-126, 0]
    return exp_reduced<A>(x, k) * xsimd::bitwise_cast<F>((k_int + I(127)) << 23);
}

// exp for double batches: k = round(x / ln2) and r = x - k ln2 (Cody-Waite) outside, xsimd's
// exp on the small r, and 2^k applied in two normal factors so that results in the denormal
// range round once, as SciPy's exp gives them (xsimd::exp<double> flushes them to 0). x is
// first clamped to where exp is already 0 or inf (NaN stays NaN): xsimd converts its argument
// to an integer inside, and +-inf there would be undefined behaviour.
template <class A>
inline batch<double, A> exp_double(batch<double, A> x) {
    using F = batch<double, A>;
    using I = batch<std::int64_t, A>;
    const F xc = xsimd::min(F(710.0), xsimd::max(F(-746.0), x));
    // NaN lanes go through as 0 and come back at the end: xsimd::exp (and, on SSE2, floor)
    // convert to int64 inside, which is undefined for NaN. So do the lanes below -746, where
    // exp is 0: scaling them to 0 would underflow (a microcode assist on Intel).
    const auto nan = xsimd::isnan(xc);
    const auto below = x < F(-746.0);
    const F xs = xsimd::select(nan || below, F(0.0), xc);
    const F k = xsimd::nearbyint(xs * F(1.4426950408889634));
    F r = xsimd::fnma(k, F(6.93145751953125e-1), xs);
    r = xsimd::fnma(k, F(1.42860682030941723212e-6), r);
    // floor(k / 2) for an integer k, rounding instead of xsimd::floor (SSE2: through int64)
    const F k1 = xsimd::nearbyint(k * F(0.5) - F(0.25));
    const F k2 = k - k1;  // k1, k2 in [-538, 512]: 2^k1 and 2^k2 are normal
    // Adding 1.5 * 2^52 leaves an integer in the low mantissa bits; shifted into the exponent
    // field (with its bias) it makes 2^k1.
    const F magic(6755399441055744.0);
    const I magic_bits = xsimd::bitwise_cast<I>(magic);
    const F two_k1 = xsimd::bitwise_cast<F>((xsimd::bitwise_cast<I>(k1 + F(1023.0) + magic) - magic_bits) << 52);
    const F two_k2 = xsimd::bitwise_cast<F>((xsimd::bitwise_cast<I>(k2 + F(1023.0) + magic) - magic_bits) << 52);
    return xsimd::select(below, F(0.0), xsimd::select(nan, xc, (xsimd::exp(r) * two_k1) * two_k2));
}

// exp(d) where d = x - shift: the fast form when the shift is the row's maximum (so d <= 0 or
// NaN), the general one when log_softmax has replaced a non-finite maximum by 0, as SciPy does
// (clamped first: +-inf must not reach xsimd::exp's integer conversion).
template <class A, class T>
inline batch<T, A> exp_shifted(batch<T, A> d, bool shift_is_max) {
    using B = batch<T, A>;
    if constexpr (std::is_same_v<T, float>) {
        if (shift_is_max) return exp_nonpositive<A>(d);
        // Clamped, and NaN kept out of xsimd::exp (an int32 conversion inside) and put back.
        const B clamped = xsimd::min(B(89.0f), xsimd::max(B(-104.0f), d));
        const auto nan = xsimd::isnan(clamped);
        return xsimd::select(nan, clamped, xsimd::exp(xsimd::select(nan, B(0.0f), clamped)));
    } else {
        return exp_double<A>(d);
    }
}

// The sum of a row's exponentials is added in the same order on every ISA, so that softmax
// agrees bit for bit across them (where exp does) and stays accurate on rows of any length:
//  - element j goes to virtual lane j % sum_lanes; registers hold consecutive runs of lanes
//    (2 on AVX-512, 4 on AVX2, 8 on SSE2 and NEON, for float);
//  - every sum_block elements the lanes are folded by halving (lane i += lane i + half) and the
//    block's sum is added to a compensated double: a partial sum in T never spans more than 32
//    terms, and the blocks add up without drift.
template <class T>
constexpr index_t sum_lanes = 128 / index_t(sizeof(T));  // 32 floats, 16 doubles
template <class T>
constexpr index_t sum_block = 32 * sum_lanes<T>;

// A running double sum with Neumaier's compensation: block sums of a long row add up with an
// error that does not grow with the number of blocks (once per block, so it costs nothing).
struct CompensatedSum {
    double sum = 0.0, carry = 0.0;
    void add(double v) {
        const double t = sum + v;
        carry += std::fabs(sum) >= std::fabs(v) ? (sum - t) + v : (v - t) + sum;
        sum = t;
    }
    // An infinite (or NaN) sum stands as it is: its carry is inf - inf.
    double value() const { return std::isfinite(sum) ? sum + carry : sum; }
};

template <class A, class T>
struct LaneSums {
    using B = batch<T, A>;
    static constexpr index_t width = B::size;
    static constexpr index_t n_regs = sum_lanes<T> / width;
    static_assert(n_regs >= 1 && sum_lanes<T> % width == 0, "sum_lanes must be whole registers");
    B acc[n_regs];

    LaneSums() { clear(); }
    void clear() {
        for (index_t r = 0; r < n_regs; ++r) acc[r] = B(T(0));
    }
    // The halving fold of all sum_lanes lanes, then cleared.
    double fold() {
        for (index_t half = n_regs / 2; half >= 1; half /= 2)
            for (index_t r = 0; r < half; ++r) acc[r] = acc[r] + acc[r + half];
        alignas(64) T lanes[width];
        acc[0].store_aligned(lanes);
        for (index_t half = width / 2; half >= 1; half /= 2)
            for (index_t i = 0; i < half; ++i) lanes[i] = lanes[i] + lanes[i + half];
        clear();
        return double(lanes[0]);
    }
};

// Log: log_softmax. Its answer near 0 (a dominant logit) is -log(1 + t) for a small t, so the
// elements equal to the shift, whose exp is exactly 1, are counted apart and the sum keeps only
// the small terms: log(sum) = log1p((count - 1) + rest) then has t's full precision.
// T is the storage type; the arithmetic is in V = value_t<T> (float for float16/bfloat16, whose
// results are rounded once, at the end). `staged` (half precision only) holds the row's
// exponentials in float between passes 2 and 3, so that nothing is rounded twice.
template <bool Log, class A, class T, class V = value_t<T>>
void softmax_row(const T* x, index_t n, T* out, V* staged) {
    using B = batch<V, A>;
    constexpr index_t width = B::size;
    constexpr index_t group = sum_lanes<V>;
    // Where pass 2 keeps exp(x - m) for pass 3: the output itself, unless it is half precision.
    V* exps = nullptr;
    if constexpr (!Log) {
        if constexpr (is_half_v<T>) exps = staged;
        else exps = out;
    }
    const index_t simd_end = whole_steps(n, width);
    const index_t rest = n - simd_end;
    const V minus_inf = -std::numeric_limits<V>::infinity();
    const B tail_x = load_values_partial<A>(x + simd_end, rest, minus_inf);  // exp(-inf - m) = 0

    // Pass 1: the maximum, in four accumulators.
    B m0(minus_inf), m1(minus_inf), m2(minus_inf), m3(tail_x);
    index_t j = 0;
    for (; j + 3 * width <= simd_end; j += 3 * width) {
        m0 = xsimd::max(m0, load_values<A>(x + j));
        m1 = xsimd::max(m1, load_values<A>(x + j + width));
        m2 = xsimd::max(m2, load_values<A>(x + j + 2 * width));
    }
    for (; j < simd_end; j += width) m0 = xsimd::max(m0, load_values<A>(x + j));
    V m = reduce_extreme<false, V, A>(xsimd::max(xsimd::max(m0, m1), xsimd::max(m2, m3)));
    const bool shift_is_max = !(Log && !std::isfinite(m));
    if (!shift_is_max) m = V(0);

    // Pass 2: exp(x - m), summed block by block in the ISA-independent order of LaneSums
    // (and stored, for softmax).
    const B shift(m);
    LaneSums<A, V> sums, at_shift;  // at_shift: how many elements equal the shift (Log only)
    CompensatedSum total;
    double count_at_shift = 0.0;
    // e = exp(d) into lane register r (count apart, for Log, when d == 0).
    auto add = [&](index_t r, B d, B e) {
        if constexpr (Log) {
            const auto is_shift = d == B(V(0));
            at_shift.acc[r] = at_shift.acc[r] + xsimd::select(is_shift, B(V(1)), B(V(0)));
            e = xsimd::select(is_shift, B(V(0)), e);
        }
        sums.acc[r] = sums.acc[r] + e;
    };
    B tail_e(V(0));
    for (index_t block = 0; block < n; block += sum_block<V>) {
        const index_t block_full_end = std::min(simd_end, block + sum_block<V>);
        j = block;
        for (; j + group <= block_full_end; j += group) {
            for (index_t r = 0; r < LaneSums<A, V>::n_regs; ++r) {
                const B d = load_values<A>(x + j + r * width) - shift;
                const B e = exp_shifted<A>(d, shift_is_max);
                if constexpr (!Log) e.store_unaligned(exps + j + r * width);
                add(r, d, e);
            }
        }
        index_t r = 0;
        for (; j < block_full_end; j += width, ++r) {
            const B d = load_values<A>(x + j) - shift;
            const B e = exp_shifted<A>(d, shift_is_max);
            if constexpr (!Log) e.store_unaligned(exps + j);
            add(r, d, e);
        }
        if (rest > 0 && block + sum_block<V> >= n) {  // the row's last, partial batch
            tail_e = exp_shifted<A>(tail_x - shift, shift_is_max);
            add(r, tail_x - shift, tail_e);
        }
        total.add(sums.fold());
        if constexpr (Log) count_at_shift += at_shift.fold();
    }

    // Pass 3: normalise.
    if constexpr (!Log) {
        const B scale(V(1.0 / total.value()));
        for (j = 0; j < simd_end; j += width) store_values<A>(out + j, B::load_unaligned(exps + j) * scale);
        store_values_partial<A>(out + simd_end, rest, tail_e * scale);
    } else {
        const double log_total =
            count_at_shift >= 1.0 ? std::log1p((count_at_shift - 1.0) + total.value()) : std::log(total.value());
        const B log_sum = B(V(log_total));
        for (j = 0; j < simd_end; j += width) store_values<A>(out + j, (load_values<A>(x + j) - shift) - log_sum);
        store_values_partial<A>(out + simd_end, rest, (tail_x - shift) - log_sum);
    }
}

// Rows of up to short_row_max elements: several rows at a time (softmax_short.hpp).
template <class A, class T>
void softmax_short_rows(Rows<const T> x, bool log, Rows<T> out);
constexpr index_t softmax_short_row_max = 64;

template <class A, class T>
void softmax_rows(Rows<const T> x, bool log, Rows<T> out) {
    if (x.n_cols >= 1 && x.n_cols <= softmax_short_row_max) return softmax_short_rows<short_tile_arch<A, value_t<T>>>(x, log, out);
    // Half precision: one row of float exponentials, reused for every row of this range.
    Scratch<value_t<T>> staged(is_half_v<T> && !log ? x.n_cols : 0);
    for (index_t r = 0; r < x.n_rows; ++r) {
        if (r + 1 < x.n_rows) prefetch_row(x.row(r + 1), x.n_cols);
        if (log) softmax_row<true, A>(x.row(r), x.n_cols, out.row(r), staged.get());
        else softmax_row<false, A>(x.row(r), x.n_cols, out.row(r), staged.get());
    }
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE

#include "fasttopk/softmax_short.hpp"
