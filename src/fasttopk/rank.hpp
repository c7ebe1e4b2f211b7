// scikit-learn's rank of the true class, without sorting:
//   rank(t) = #{j : s_j > s_t} + #{j > t : s_j == s_t}
// (scikit-learn's stable ascending argsort, reversed, puts the higher index first among equal
// scores). One pass per row, which also checks that every score is finite.
#pragma once
#include "fasttopk/half.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

// Counts x[j] > s (or >= s when OrEqual) over [begin, end); folds x - x into `finite_probe`,
// which turns NaN at the first NaN or infinity.
template <bool OrEqual, class A, class T, class V = value_t<T>>
index_t count_above(const T* x, index_t begin, index_t end, V s, V& finite_probe) {
    using B = batch<V, A>;
    constexpr index_t width = B::size;
    const B target(s), one(V(1)), zero(V(0));
    B counts(V(0));
    B probe(V(0));
    index_t j = begin;
    // Float lanes count exactly up to 2^digits; flush before that.
    constexpr index_t flush_every = std::is_floating_point_v<V> ? (index_t(1) << 20) * width : index_t(1) << 40;
    index_t total = 0;
    const index_t simd_end = begin + whole_steps(end - begin, width);
    while (j < simd_end) {
        const index_t stop = std::min(simd_end, j + flush_every);
        for (; j < stop; j += width) {
            B v = load_values<A>(x + j);
            auto hit = OrEqual ? (v >= target) : (v > target);
            counts = counts + xsimd::select(hit, one, zero);
            if constexpr (std::is_floating_point_v<V>) probe = probe + (v - v);
        }
        total += index_t(xsimd::hadd(counts));
        counts = B(V(0));
    }
    if constexpr (std::is_floating_point_v<V>) finite_probe += xsimd::hadd(probe);
    for (; j < end; ++j) {
        const V v = to_value(x[j]);
        total += OrEqual ? (v >= s) : (v > s);
        if constexpr (std::is_floating_point_v<V>) finite_probe += v - v;
    }
    return total;
}

template <class A, class T>
bool true_label_rank_rows(Rows<const T> scores, const index_t* labels, index_t* ranks) {
    using V = value_t<T>;
    V finite_probe = V(0);
    for (index_t r = 0; r < scores.n_rows; ++r) {
        const T* row = scores.row(r);
        const index_t t = labels[r];
        const V s = to_value(row[t]);
        if constexpr (has_masked_load<V, A>) {  // short rows: one masked batch, bit counts
            if (scores.n_cols < batch<V, A>::size) {
                const auto v = load_values_partial<A>(row, scores.n_cols, V(0));
                const batch<V, A> target(s);
                const std::uint64_t valid = (std::uint64_t(1) << scores.n_cols) - 1;
                const std::uint64_t after_t = ~((std::uint64_t(2) << t) - 1);
                ranks[r] = bit_count((mask_bits(v > target) | (mask_bits(v == target) & after_t)) & valid);
                if constexpr (std::is_floating_point_v<V>) {
                    if (mask_bits(is_nan(v - v)) & valid) finite_probe = std::numeric_limits<V>::quiet_NaN();
                }
                continue;
            }
        }
        if (scores.n_cols < batch<V, A>::size) {  // short rows: one branch-free scalar loop
            index_t rank = 0;
            for (index_t j = 0; j < scores.n_cols; ++j) {
                const V v = to_value(row[j]);
                rank += (v > s) | ((v == s) & (j > t));
                if constexpr (std::is_floating_point_v<V>) finite_probe += v - v;
            }
            ranks[r] = rank;
            continue;
        }
        ranks[r] = count_above<false, A>(row, 0, t + 1, s, finite_probe) +
                   count_above<true, A>(row, t + 1, scores.n_cols, s, finite_probe);
    }
    if constexpr (std::is_floating_point_v<V>) return finite_probe == finite_probe;
    return true;
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
