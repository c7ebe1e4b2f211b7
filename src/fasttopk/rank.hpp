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

// Float rows of width .. short_rank_row_max scores, one row at a time in whole batches (the
// last one ending at the row's end): two compares per batch with the true score s, their mask
// bits gathered into one 64-bit word per kind (a lane read twice sets the same bit twice), then
// rank = popcount((v > s) | ((v >= s) after the true column)). The finiteness check ORs the
// lanes where v - v is NaN (NaN or infinity): an OR, not a running sum, whose add latency made
// a dependency chain across the rows.
constexpr index_t short_rank_row_max = 64;

template <index_t Batches, class A, class T>
bool true_label_rank_batched_rows(Rows<const T> scores, const index_t* labels, index_t* ranks) {
    using V = value_t<T>;
    using B = batch<V, A>;
    constexpr index_t width = B::size;
    const index_t n = scores.n_cols;
    const index_t batches = Batches > 0 ? Batches : (n + width - 1) / width;
    xsimd::batch_bool<V, A> not_finite(false);
    for (index_t r = 0; r < scores.n_rows; ++r) {
        const T* row = scores.row(r);
        const index_t t = labels[r];
        const B s(to_value(row[t]));
        std::uint64_t above = 0, at_least = 0;
        for (index_t q = 0; q < batches; ++q) {
            const index_t start = std::min(q * width, n - width);
            const B v = load_values<A>(row + start);
            above |= mask_bits(v > s) << start;
            at_least |= mask_bits(v >= s) << start;
            not_finite = not_finite | is_nan(v - v);
        }
        const std::uint64_t after_t = ~((std::uint64_t(2) << t) - 1);  // t = 63: none
        ranks[r] = bit_count(above | (at_least & after_t));
    }
    return !xsimd::any(not_finite);
}

// Rows narrower than a batch: a tile of rows (one per lane) as column registers (transpose.hpp
// through memory), the true score picked per lane by a select per column, then one compare and
// one count per column.
template <class A, class T>
bool true_label_rank_narrow_rows(Rows<const T> scores, const index_t* labels, index_t* ranks) {
    using V = value_t<T>;
    using B = batch<V, A>;
    constexpr index_t width = B::size;
    const index_t n = scores.n_cols;
    B columns[width];
    xsimd::batch_bool<V, A> not_finite(false);
    const B one(V(1)), zero(V(0));
    for (index_t r0 = 0; r0 < scores.n_rows; r0 += width) {
        const index_t rows_here = std::min(width, scores.n_rows - r0);
        alignas(64) index_t tile_labels[width] = {};  // missing rows: label 0 of a zero row
        std::copy(labels + r0, labels + r0 + rows_here, tile_labels);
        const B label = indices_as_values<V, A>(tile_labels);
        load_tile_columns<A>(scores, r0, rows_here, columns);
        B target = columns[0];
        for (index_t j = 1; j < n; ++j) target = xsimd::select(label == B(V(j)), columns[j], target);
        B rank(V(0));
        for (index_t j = 0; j < n; ++j) {
            const B v = columns[j];
            const auto beats = (v > target) | ((v == target) & (B(V(j)) > label));
            rank = rank + xsimd::select(beats, one, zero);
            not_finite = not_finite | is_nan(v - v);
        }
        alignas(64) index_t tile_ranks[width];
        store_values_as_indices<V, A>(rank, tile_ranks);
        std::copy(tile_ranks, tile_ranks + rows_here, ranks + r0);
    }
    return !xsimd::any(not_finite);
}

// Float rows narrower than a register (2..width-1 scores) lying back to back (row stride n), on
// AVX2 and AVX-512: a block of `width` rows is n whole registers, read as one span. Element p of
// the block belongs to row p / n, column p % n; each register's rows' true scores and labels
// are spread to its lanes by one permute each (index patterns made once per call), then
//   beats = (v > s) | ((v == s) & (column > label))
// is one mask per register, its bits laid end to end: row i's rank is the popcount of bits
// [i n, i n + n). No transpose and no per-row load: AMD EPYC (AVX2), one thread, 100000 rows of
// 2 / 5 / 7, 0.48 / 0.60 / 0.73 ms through the narrow tiles, 0.16 / 0.19 / 0.23 ms here. (At
// 8..16 columns it lost to the batched rows: the per-row scalar work, a target, a label, a bit
// field, outweighs the batches it saves.) Returns the rows done: whole blocks only.
template <class A>
constexpr bool has_lane_permute() {
    using R [[maybe_unused]] = typename batch<float, A>::register_type;
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<R, __m512>) return true;
#endif
#if defined(__AVX2__)
    if constexpr (std::is_same_v<R, __m256>) return true;
#endif
    return false;
}

// Lane i of the result is v's lane at[i].
template <class A>
inline batch<float, A> permute_lanes(batch<float, A> v, batch<std::int32_t, A> at) {
    using R [[maybe_unused]] = typename batch<float, A>::register_type;
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<R, __m512>) return _mm512_permutexvar_ps(at, v);
#endif
#if defined(__AVX2__)
    if constexpr (std::is_same_v<R, __m256>) return _mm256_permutevar8x32_ps(v, at);
#endif
    static_assert(has_lane_permute<A>(), "permute_lanes: AVX2 or AVX-512 only");
    return v;
}

template <class A>
index_t true_label_rank_span_rows(Rows<const float> scores, const index_t* labels, index_t* ranks, bool& finite) {
    using B = batch<float, A>;
    using I = batch<std::int32_t, A>;
    constexpr index_t width = B::size;
    const index_t n = scores.n_cols;
    // Per register q of a block: the row (0..width-1) and column of each lane.
    alignas(64) std::int32_t lane_row[width][width];
    alignas(64) float lane_column[width][width];
    for (index_t q = 0; q < n; ++q)
        for (index_t i = 0; i < width; ++i) {
            lane_row[q][i] = std::int32_t((q * width + i) / n);
            lane_column[q][i] = float((q * width + i) % n);
        }
    constexpr index_t words = width * width / 64 + 1;  // + 1: a row's bits may end a word
    const std::uint64_t row_bits = (std::uint64_t(1) << n) - 1;
    xsimd::batch_bool<float, A> not_finite(false);
    const index_t blocks = scores.n_rows / width;
    for (index_t b = 0; b < blocks; ++b) {
        const index_t r0 = b * width;
        const float* span = scores.row(r0);
        alignas(64) float target[width];
        for (index_t i = 0; i < width; ++i) target[i] = span[i * n + labels[r0 + i]];
        const B targets = B::load_aligned(target), block_labels = indices_as_values<float, A>(labels + r0);
        std::uint64_t bits[words] = {};
        for (index_t q = 0; q < n; ++q) {
            const B v = B::load_unaligned(span + q * width);
            const I rows_here = I::load_aligned(lane_row[q]);
            const B s = permute_lanes<A>(targets, rows_here);
            const B t = permute_lanes<A>(block_labels, rows_here);
            const auto beats = (v > s) | ((v == s) & (B::load_aligned(lane_column[q]) > t));
            bits[q * width / 64] |= mask_bits(beats) << (q * width % 64);
            not_finite = not_finite | is_nan(v - v);
        }
        for (index_t i = 0; i < width; ++i) {
            const index_t at = i * n, word = at / 64, shift = at % 64;
            std::uint64_t row = bits[word] >> shift;
            if (shift + n > 64) row |= bits[word + 1] << (64 - shift);
            ranks[r0 + i] = bit_count(row & row_bits);
        }
    }
    if (xsimd::any(not_finite)) finite = false;
    return blocks * width;
}

template <class A, class T>
bool true_label_rank_short_rows(Rows<const T> scores, const index_t* labels, index_t* ranks) {
    constexpr index_t width = batch<value_t<T>, A>::size;
    const index_t n = scores.n_cols;
    if (n < width) {
        if constexpr (std::is_same_v<T, float> && has_lane_permute<A>()) {
            if (n >= 2 && scores.row_stride == n && scores.n_rows >= width) {
                bool finite = true;
                const index_t done = true_label_rank_span_rows<A>(scores, labels, ranks, finite);
                // The last rows (fewer than a block) through the tiles.
                const Rows<const T> rest = scores.slice(done, scores.n_rows);
                return true_label_rank_narrow_rows<A>(rest, labels + done, ranks + done) && finite;
            }
        }
        return true_label_rank_narrow_rows<A>(scores, labels, ranks);
    }
    switch ((n + width - 1) / width) {  // the batch count known to the compiler, for the usual few
        case 1: return true_label_rank_batched_rows<1, A>(scores, labels, ranks);
        case 2: return true_label_rank_batched_rows<2, A>(scores, labels, ranks);
        case 3: return true_label_rank_batched_rows<3, A>(scores, labels, ranks);
        case 4: return true_label_rank_batched_rows<4, A>(scores, labels, ranks);
        default: return true_label_rank_batched_rows<0, A>(scores, labels, ranks);
    }
}

template <class A, class T>
bool true_label_rank_rows(Rows<const T> scores, const index_t* labels, index_t* ranks) {
    using V = value_t<T>;
    if constexpr (std::is_floating_point_v<V>) {
        if (scores.n_cols >= 1 && scores.n_cols <= short_rank_row_max)
            return true_label_rank_short_rows<short_rows_arch<A>>(scores, labels, ranks);
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
