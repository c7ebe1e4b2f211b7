// Row-wise softmax and log_softmax, arithmetic laid out as scipy.special does it so that
// results agree to rounding, non-finite input included:
//   softmax:      m = max(x);                      out = exp(x - m) / sum(exp(x - m))
//   log_softmax:  m = max(x), 0 if not finite;     out = (x - m) - log(sum(exp(x - m)))
// A NaN anywhere makes the sum NaN and so every output NaN, as in SciPy, whatever max() made
// of it; so the max pass needs no NaN test. Three passes over a row that stays in cache between
// them; the last partial batch is padded with -inf (exp gives 0) rather than done in scalar
// code. out may alias x exactly.
#pragma once
#include <cmath>

#include "fasttopk/simd.hpp"

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
// built directly and the overflow test is dropped, since x <= 0 cannot overflow.
template <class A>
inline batch<float, A> exp_nonpositive(batch<float, A> x) {
    using F = batch<float, A>;
    using I = batch<std::int32_t, A>;
    const F log2e(1.44269504088896341f);
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<typename F::register_type, __m512>) {
        // AVX-512 multiplies by 2^k in one instruction (vscalefps), underflow to 0 included, so
        // the select goes too. x is first raised to -104, below which exp is 0 in float
        // (maxps returns its second operand when either is NaN: NaN stays NaN).
        const F xc = F(_mm512_max_ps(_mm512_set1_ps(-104.0f), x));
        const F k = F(_mm512_roundscale_ps(xc * log2e, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        return F(_mm512_scalef_ps(exp_reduced<A>(xc, k), k));
    }
#endif
    const F round_magic(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
    const F z = xsimd::fma(x, log2e, round_magic);
    const F k = z - round_magic;
    // z's low mantissa bits hold k; shifted into the exponent field they make 2^k.
    const I two_k = (xsimd::bitwise_cast<I>(z) << 23) + I(127 << 23);
    const F scaled = exp_reduced<A>(x, k) * xsimd::bitwise_cast<F>(two_k);
    return xsimd::select(x < F(-87.3365447505531f), F(0.0f), scaled);
}

// exp(x - m): the fast form when m is the row's maximum (so x - m <= 0 or NaN), the general
// one when log_softmax has replaced a non-finite maximum by 0, as SciPy does.
template <class A, class T>
inline batch<T, A> exp_shifted(batch<T, A> x, bool shift_is_max) {
    if constexpr (std::is_same_v<T, float>) {
        if (shift_is_max) return exp_nonpositive<A>(x);
    }
    return xsimd::exp(x);
}

template <class A, class T>
void softmax_row(const T* x, index_t n, bool log, T* out) {
    using B = batch<T, A>;
    constexpr index_t width = B::size;
    const index_t simd_end = whole_steps(n, width);
    const index_t rest = n - simd_end;
    const T minus_inf = -std::numeric_limits<T>::infinity();
    const B tail_x = load_partial<T, A>(x + simd_end, rest, minus_inf);  // exp(-inf - m) = 0

    // Pass 1: the maximum, in four accumulators.
    B m0(minus_inf), m1(minus_inf), m2(minus_inf), m3(tail_x);
    index_t j = 0;
    for (; j + 3 * width <= simd_end; j += 3 * width) {
        m0 = xsimd::max(m0, load<T, A>(x + j));
        m1 = xsimd::max(m1, load<T, A>(x + j + width));
        m2 = xsimd::max(m2, load<T, A>(x + j + 2 * width));
    }
    for (; j < simd_end; j += width) m0 = xsimd::max(m0, load<T, A>(x + j));
    T m = reduce_extreme<false, T, A>(xsimd::max(xsimd::max(m0, m1), xsimd::max(m2, m3)));
    const bool shift_is_max = !(log && !std::isfinite(m));
    if (!shift_is_max) m = T(0);

    // Pass 2: exp(x - m), summed in two accumulators (and stored, for softmax).
    const B shift(m);
    B sum0(T(0)), sum1(T(0));
    j = 0;
    for (; j + 2 * width <= simd_end; j += 2 * width) {
        const B e0 = exp_shifted<A>(load<T, A>(x + j) - shift, shift_is_max);
        const B e1 = exp_shifted<A>(load<T, A>(x + j + width) - shift, shift_is_max);
        if (!log) {
            e0.store_unaligned(out + j);
            e1.store_unaligned(out + j + width);
        }
        sum0 = sum0 + e0;
        sum1 = sum1 + e1;
    }
    for (; j < simd_end; j += width) {
        const B e = exp_shifted<A>(load<T, A>(x + j) - shift, shift_is_max);
        if (!log) e.store_unaligned(out + j);
        sum0 = sum0 + e;
    }
    const B tail_e = exp_shifted<A>(tail_x - shift, shift_is_max);
    const T sum = xsimd::hadd((sum0 + sum1) + tail_e);

    // Pass 3: normalise.
    if (!log) {
        const B scale(T(1) / sum);
        for (j = 0; j < simd_end; j += width) (load<T, A>(out + j) * scale).store_unaligned(out + j);
        store_partial<T, A>(out + simd_end, rest, tail_e * scale);
    } else {
        const B log_sum(std::log(sum));
        for (j = 0; j < simd_end; j += width) ((load<T, A>(x + j) - shift) - log_sum).store_unaligned(out + j);
        store_partial<T, A>(out + simd_end, rest, (tail_x - shift) - log_sum);
    }
}

template <class A, class T>
void softmax_rows(Rows<const T> x, bool log, Rows<T> out) {
    for (index_t r = 0; r < x.n_rows; ++r) {
        if (r + 1 < x.n_rows) prefetch_row(x.row(r + 1), x.n_cols);
        softmax_row<A>(x.row(r), x.n_cols, log, out.row(r));
    }
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
