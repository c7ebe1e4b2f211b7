// topk of short float rows (n_classes <= short_topk_row_max) for small k, a tile of rows at a
// time: the rows become column registers (transpose.hpp), one row per lane, and their values
// order keys (order.hpp: the one order rule, NaN and -0.0 included). Then k rounds, all
// vertical: the largest key of each lane, the first column holding it (the lower index wins a
// tie), that column's key struck out. No per-row set-up, no horizontal reduction, no branch
// on the data. Values are copied from the row, as the general selector does. Included at the
// end of select.hpp.
#pragma once
#include "fasttopk/select.hpp"
#include "fasttopk/transpose.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

template <class A, class T>
void topk_short_rows(Rows<const T> x, index_t k, bool largest, Rows<T> values, Rows<index_t> indices) {
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
            KB best = keys[0];
            for (index_t j = 1; j < n; ++j) best = xsimd::max(best, keys[j]);
            KB at = KB(K(n));  // the first column holding `best`: scanned from the last
            for (index_t j = n - 1; j >= 0; --j) at = xsimd::select(keys[j] == best, KB(K(j)), at);
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

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
