// Row-wise softmax and log_softmax, arithmetic laid out as scipy.special does it so that
// results agree to rounding, non-finite input included:
//   softmax:      m = max(x) (NaN if any);  e = exp(x - m);  out = e / sum(e)
//   log_softmax:  m = max(x), 0 if not finite;  out = (x - m) - log(sum(exp(x - m)))
// Three passes over a row that stays in cache between them; out may alias x exactly.
#pragma once
#include <cmath>

#include "fasttopk/simd.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

template <class A, class T>
void softmax_row(const T* x, index_t n, bool log, T* out) {
    using B = batch<T, A>;
    constexpr index_t width = B::size;
    const index_t simd_end = whole_steps(n, width);

    // Pass 1: the maximum, with NaN tracked apart because min/max instructions drop it.
    T m = -std::numeric_limits<T>::infinity();
    bool has_nan = false;
    {
        B vmax(m);
        auto nan_seen = (vmax != vmax);
        index_t j = 0;
        for (; j < simd_end; j += width) {
            B v = load<T, A>(x + j);
            vmax = xsimd::max(vmax, v);
            nan_seen = nan_seen | (v != v);
        }
        has_nan = xsimd::any(nan_seen);
        alignas(64) T lanes[width];
        vmax.store_aligned(lanes);
        for (index_t i = 0; i < width; ++i) m = std::max(m, lanes[i]);
        for (; j < n; ++j) {
            if (x[j] != x[j]) has_nan = true;
            m = std::max(m, x[j]);
        }
    }
    if (has_nan) m = std::numeric_limits<T>::quiet_NaN();
    if (log && !std::isfinite(m)) m = T(0);

    // Pass 2: exp(x - m), summed in two accumulators (and stored, for softmax).
    const B shift(m);
    B sum0(T(0)), sum1(T(0));
    index_t j = 0;
    const index_t pair_end = whole_steps(n, 2 * width);
    for (; j < pair_end; j += 2 * width) {
        B e0 = xsimd::exp(load<T, A>(x + j) - shift);
        B e1 = xsimd::exp(load<T, A>(x + j + width) - shift);
        if (!log) {
            e0.store_unaligned(out + j);
            e1.store_unaligned(out + j + width);
        }
        sum0 = sum0 + e0;
        sum1 = sum1 + e1;
    }
    T sum = xsimd::hadd(sum0 + sum1);
    for (; j < n; ++j) {
        T e = std::exp(x[j] - m);
        if (!log) out[j] = e;
        sum += e;
    }

    // Pass 3: normalise.
    if (!log) {
        const B scale(T(1) / sum);
        j = 0;
        for (; j < simd_end; j += width) (load<T, A>(out + j) * scale).store_unaligned(out + j);
        for (; j < n; ++j) out[j] = out[j] * (T(1) / sum);
    } else {
        const T log_sum = std::log(sum);
        const B lsum(log_sum);
        j = 0;
        for (; j < simd_end; j += width) ((load<T, A>(x + j) - shift) - lsum).store_unaligned(out + j);
        for (; j < n; ++j) out[j] = (x[j] - m) - log_sum;
    }
}

template <class A, class T>
void softmax_rows(Rows<const T> x, bool log, Rows<T> out) {
    for (index_t r = 0; r < x.n_rows; ++r) softmax_row<A>(x.row(r), x.n_cols, log, out.row(r));
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
