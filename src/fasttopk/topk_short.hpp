// topk of short float rows (n_classes <= short_topk_row_max) for small k, a tile of rows at a
// time: the rows become column registers (transpose.hpp), one row per lane, and their values
// order keys (order.hpp: the one order rule, NaN and -0.0 included). Then k rounds, all
// vertical: the largest key of each lane, the first column holding it (the lower index wins a
// tie), that column's key struck out. No per-row set-up, no horizontal reduction, no branch
// on the data. Values are copied from the row, as the general selector does. Included at the
// end of select.hpp.
#pragma once
#include "fasttopk/argmax.hpp"
#include "fasttopk/select.hpp"
#include "fasttopk/transpose.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

static_assert(short_topk_row_max <= short_tile_row_max, "a tile holds the row");

template <class A, class T>
void topk_tiles(Rows<const T> x, index_t k, bool largest, Rows<T> values, Rows<index_t> indices);

// k = 1 on rows of a batch or more: argmax/argmin row by row (argmax_short.hpp), which agrees
// with the order rule on rows free of NaN (-0.0 and +0.0 are equal either way); a chunk holding
// a NaN goes through the tiles.
template <class A, class T>
void top1_short_rows(Rows<const T> x, bool largest, Rows<T> values, Rows<index_t> indices) {
    constexpr index_t chunk = 256;
    index_t at[chunk];
    for (index_t r0 = 0; r0 < x.n_rows; r0 += chunk) {
        const index_t r1 = std::min(x.n_rows, r0 + chunk);
        bool careful = false;
        auto mark = [&careful](Rows<const T>, index_t*) { careful = true; };
        const Rows<const T> part = x.slice(r0, r1);
        if (largest) short_rows_first_extreme<false, A>(part, at, mark);
        else short_rows_first_extreme<true, A>(part, at, mark);
        if (careful) {
            topk_tiles<A>(part, 1, largest, values.slice(r0, r1), indices.slice(r0, r1));
            continue;
        }
        for (index_t r = r0; r < r1; ++r) {
            const index_t j = at[r - r0];
            indices.row(r)[0] = j;
            values.row(r)[0] = x.row(r)[j];
        }
    }
}

// A is the CPU's ISA; each way takes its own registers (simd.hpp).
template <class A, class T>
void topk_short_rows(Rows<const T> x, index_t k, bool largest, Rows<T> values, Rows<index_t> indices) {
    using S = short_rows_arch<A>;
    const index_t n = x.n_cols;
    if (k == 1 && n >= index_t(batch<value_t<T>, S>::size) && n <= short_arg_row_max)
        return top1_short_rows<S>(x, largest, values, indices);
    topk_tiles<short_tile_arch<A, value_t<T>>>(x, k, largest, values, indices);
}

template <class A, class T>
void topk_tiles(Rows<const T> x, index_t k, bool largest, Rows<T> values, Rows<index_t> indices) {
    using V = value_t<T>;
    using K = key_t<V>;
    using B = batch<V, A>;
    using KB = batch<K, A>;
    static_assert(sizeof(K) == sizeof(V), "keys and values share the lanes");
    constexpr index_t width = B::size;
    // No float's key is the lowest integer (that would be a NaN pattern, and NaN is made
    // canonical first), whichever way `flip` turns them: a struck-out column never wins again.
    constexpr K struck = std::numeric_limits<K>::min();
    const index_t n = x.n_cols;
    const K flip = largest ? K(0) : K(-1);
    B columns[short_topk_row_max];
    KB keys[short_topk_row_max];
    alignas(64) K winners[short_topk_k_max][width];
    for (index_t r0 = 0; r0 < x.n_rows; r0 += width) {
        const index_t rows_here = std::min(width, x.n_rows - r0);
        load_tile_columns<A>(x, r0, rows_here, columns);
        for (index_t j = 0; j < n; ++j) keys[j] = order_keys<A, V>(columns[j], flip);
        for (index_t r = 0; r < k; ++r) {
            // Four independent chains each (a single one is a dependency chain n long).
            KB m0(struck), m1(struck), m2(struck), m3(struck);
            index_t j = 0;
            for (; j + 4 <= n; j += 4) {
                m0 = xsimd::max(m0, keys[j]);
                m1 = xsimd::max(m1, keys[j + 1]);
                m2 = xsimd::max(m2, keys[j + 2]);
                m3 = xsimd::max(m3, keys[j + 3]);
            }
            for (; j < n; ++j) m0 = xsimd::max(m0, keys[j]);
            const KB best = xsimd::max(xsimd::max(m0, m1), xsimd::max(m2, m3));
            // The first column holding `best`: each chain the first of its columns, scanned
            // from the last; then the least of the four.
            KB a0 = KB(K(n)), a1 = a0, a2 = a0, a3 = a0;
            j = n - 1;
            for (; j >= 0 && (j + 1) % 4 != 0; --j) a0 = xsimd::select(keys[j] == best, KB(K(j)), a0);
            for (; j >= 3; j -= 4) {
                a0 = xsimd::select(keys[j] == best, KB(K(j)), a0);
                a1 = xsimd::select(keys[j - 1] == best, KB(K(j - 1)), a1);
                a2 = xsimd::select(keys[j - 2] == best, KB(K(j - 2)), a2);
                a3 = xsimd::select(keys[j - 3] == best, KB(K(j - 3)), a3);
            }
            const KB at = xsimd::min(xsimd::min(a0, a1), xsimd::min(a2, a3));
            if (r + 1 < k)
                for (index_t j = 0; j < n; ++j) keys[j] = xsimd::select(KB(K(j)) == at, KB(struck), keys[j]);
            at.store_aligned(winners[r]);
        }
        for (index_t i = 0; i < rows_here; ++i) {
            const T* row = x.row(r0 + i);
            T* values_out = values.row(r0 + i);
            index_t* indices_out = indices.row(r0 + i);
            for (index_t r = 0; r < k; ++r) {
                const index_t j = index_t(winners[r][i]);
                indices_out[r] = j;
                values_out[r] = row[j];
            }
        }
    }
}

// acc + 1 in the lanes where m holds. On SSE2/AVX2 an integer mask is a register of all-ones
// (-1) lanes: one subtraction, not a select of 1 and 0 and an add.
template <class A, class K>
inline batch<K, A> count_where(batch<K, A> acc, xsimd::batch_bool<K, A> m) {
    if constexpr (std::is_base_of_v<xsimd::sse2, A>)
        return acc - batch<K, A>(typename batch<K, A>::register_type(m));
    else
        return xsimd::select(m, acc + batch<K, A>(K(1)), acc);
}

// Rows of up to rank_sort_row_max elements, k beyond the tiles' reach: each element's place in
// the order is counted outright,
//   place(i) = #{j : key_j > key_i} + #{j < i : key_j == key_i}
// (the order rule: larger key first, the lower index first among equals), a batch of i at a
// time against every j broadcast: n^2 / width compares, no branch on the data. The places are
// a permutation of 0..n-1, so putting i at place(i) sorts the row; the first k are the answer.
template <class A, class T>
void topk_rank_sort(Rows<const T> x, index_t k, bool largest, Rows<T> values, Rows<index_t> indices) {
    using V = value_t<T>;
    using K = key_t<V>;
    using KB = batch<K, A>;
    static_assert(sizeof(K) == 4, "lane indices are 32-bit");
    constexpr index_t width = KB::size;
    const index_t n = x.n_cols;
    const K flip = largest ? K(0) : K(-1);
    alignas(64) K keys[rank_sort_row_max + width] = {};
    alignas(64) K places[rank_sort_row_max + width];
    alignas(64) K lane_index[width];
    for (index_t i = 0; i < width; ++i) lane_index[i] = K(i);
    const KB iota = KB::load_aligned(lane_index), zero(K(0));
    index_t at[rank_sort_row_max];
    for (index_t r = 0; r < x.n_rows; ++r) {
        const T* row = x.row(r);
        for (index_t j = 0; j < n; ++j) keys[j] = order_key<V>(to_value(row[j]), flip);
        for (index_t i0 = 0; i0 < n; i0 += width) {
            const KB key_i = KB::load_aligned(keys + i0);
            // Every j before the batch precedes every lane: it counts when key_j >= key_i, i.e.
            // place = i0 - #{j < i0 : key_i > key_j}. Two chains, each half the length.
            KB smaller0 = zero, smaller1 = zero, smaller2 = zero, smaller3 = zero;
            index_t j = 0;
            for (; j + 4 <= i0; j += 4) {
                smaller0 = count_where(smaller0, key_i > KB(keys[j]));
                smaller1 = count_where(smaller1, key_i > KB(keys[j + 1]));
                smaller2 = count_where(smaller2, key_i > KB(keys[j + 2]));
                smaller3 = count_where(smaller3, key_i > KB(keys[j + 3]));
            }
            for (; j < i0; ++j) smaller0 = count_where(smaller0, key_i > KB(keys[j]));
            // Inside the batch: key_j > key_i, or equal with j before the lane's i.
            const index_t batch_end = std::min(n, i0 + width);
            KB larger0 = zero, larger1 = zero, larger2 = zero, larger3 = zero;
            for (; j < batch_end; ++j) {
                const KB key_j(keys[j]);
                const auto ahead = (key_j > key_i) | ((key_j == key_i) & (iota > KB(K(j - i0))));
                larger0 = count_where(larger0, ahead);
            }
            // After the batch: key_j > key_i.
            for (; j + 4 <= n; j += 4) {
                larger0 = count_where(larger0, KB(keys[j]) > key_i);
                larger1 = count_where(larger1, KB(keys[j + 1]) > key_i);
                larger2 = count_where(larger2, KB(keys[j + 2]) > key_i);
                larger3 = count_where(larger3, KB(keys[j + 3]) > key_i);
            }
            for (; j < n; ++j) larger0 = count_where(larger0, KB(keys[j]) > key_i);
            const KB place = KB(K(i0)) - ((smaller0 + smaller1) + (smaller2 + smaller3))
                             + ((larger0 + larger1) + (larger2 + larger3));
            place.store_aligned(places + i0);
        }
        for (index_t i = 0; i < n; ++i) at[places[i]] = i;
        T* values_out = values.row(r);
        index_t* indices_out = indices.row(r);
        for (index_t p = 0; p < k; ++p) {
            const index_t j = at[p];
            indices_out[p] = j;
            values_out[p] = row[j];
        }
    }
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
