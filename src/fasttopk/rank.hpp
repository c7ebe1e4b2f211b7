// scikit-learn's rank of the true class, without sorting:
//   rank(t) = #{j : s_j > s_t} + #{j > t : s_j == s_t}
// (scikit-learn's stable ascending argsort, reversed, puts the higher index first among equal
// scores). One pass per row, which also checks that every score is finite.
#pragma once
#include "fasttopk/half.hpp"
#include "fasttopk/transpose.hpp"

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

// The largest V below s, for finite s: for j after the true column, v >= s is v > below(s).
template <class A, class V>
inline batch<V, A> just_below(batch<V, A> s) {
    using B = batch<V, A>;
    using I = batch<std::conditional_t<sizeof(V) == 4, std::int32_t, std::int64_t>, A>;
    const I bits = xsimd::bitwise_cast<I>(s);
    const B toward_zero = xsimd::bitwise_cast<B>(bits - I(1)), away_from_zero = xsimd::bitwise_cast<B>(bits + I(1));
    const B below_zero(-std::numeric_limits<V>::denorm_min());
    return xsimd::select(s > B(V(0)), toward_zero, xsimd::select(s < B(V(0)), away_from_zero, below_zero));
}

// Float rows of up to short_rank_row_max scores, a tile of rows (one per lane) at a time as
// column registers (transpose.hpp): per column one threshold (the true score up to the true
// column, just below it after), one compare, one count. No per-row set-up, no horizontal
// reduction. The finiteness check is a running sum of the scores; only when that is not
// finite (a NaN or infinity, or an overflow of huge scores) are they checked one by one.
constexpr index_t short_rank_row_max = 64;

template <class A, class T>
bool true_label_rank_short_rows(Rows<const T> scores, const index_t* labels, index_t* ranks) {
    using V = value_t<T>;
    using B = batch<V, A>;
    constexpr index_t width = B::size;
    const index_t n = scores.n_cols;
    B columns[short_rank_row_max];
    B sum(V(0));
    const B one(V(1)), zero(V(0));
    for (index_t r0 = 0; r0 < scores.n_rows; r0 += width) {
        const index_t rows_here = std::min(width, scores.n_rows - r0);
        alignas(64) V label_lanes[width], target_lanes[width];
        for (index_t i = 0; i < width; ++i) {
            const index_t t = i < rows_here ? labels[r0 + i] : 0;
            label_lanes[i] = V(t);  // < 64: exact
            target_lanes[i] = i < rows_here ? to_value(scores.row(r0 + i)[t]) : V(0);  // missing rows read as 0
        }
        load_tile_columns<A>(scores, r0, rows_here, columns);
        const B label = B::load_aligned(label_lanes), target = B::load_aligned(target_lanes);
        const B below = just_below<A>(target);
        B rank(V(0));
        for (index_t j = 0; j < n; ++j) {
            const B v = columns[j];
            const B threshold = xsimd::select(B(V(j)) > label, below, target);
            rank = rank + xsimd::select(v > threshold, one, zero);
            sum = sum + v;
        }
        alignas(64) V rank_lanes[width];
        rank.store_aligned(rank_lanes);
        for (index_t i = 0; i < rows_here; ++i) ranks[r0 + i] = index_t(rank_lanes[i]);
    }
    if (xsimd::all(xsimd::isfinite(sum))) return true;
    for (index_t r = 0; r < scores.n_rows; ++r)
        for (index_t j = 0; j < n; ++j)
            if (!std::isfinite(to_value(scores.row(r)[j]))) return false;
    return true;
}

template <class A, class T>
bool true_label_rank_rows(Rows<const T> scores, const index_t* labels, index_t* ranks) {
    using V = value_t<T>;
    if constexpr (std::is_floating_point_v<V>) {
        if (scores.n_cols >= 1 && scores.n_cols <= short_rank_row_max)
            return true_label_rank_short_rows<A>(scores, labels, ranks);
    }
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
