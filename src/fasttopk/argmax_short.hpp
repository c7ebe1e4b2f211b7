// argmax/argmin of short float rows (n_classes <= short_arg_row_max), a tile of rows at a time:
// the rows are turned into column registers (transpose.hpp), one row per lane, and scanned
// down the columns as arg_extreme_columns scans a matrix: strictly better wins (the first
// extreme among ties), and the first NaN wins and stays (NumPy's rule). No per-row horizontal
// reduction, no partial loads. Included at the end of argmax.hpp.
#pragma once
#include "fasttopk/argmax.hpp"
#include "fasttopk/transpose.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

template <bool FindMin, class A, class T>
void arg_extreme_short_rows(Rows<const T> x, index_t* out) {
    using V = value_t<T>;
    using B = batch<V, A>;
    constexpr index_t width = B::size;
    const index_t n = x.n_cols;
    B columns[short_arg_row_max];
    for (index_t r0 = 0; r0 < x.n_rows; r0 += width) {
        const index_t rows_here = std::min(width, x.n_rows - r0);
        load_tile_columns<A>(x, r0, rows_here, columns);
        B best = columns[0];
        B at(V(0));  // column numbers, exact in V up to 64
        auto nan_seen = is_nan(best);
        for (index_t j = 1; j < n; ++j) {
            const B v = columns[j];
            const auto v_nan = is_nan(v);
            const auto wins = ((FindMin ? (v < best) : (v > best)) | v_nan) & !nan_seen;
            best = xsimd::select(wins, v, best);
            at = xsimd::select(wins, B(V(j)), at);
            nan_seen = nan_seen | v_nan;
        }
        alignas(64) V at_lanes[width];
        at.store_aligned(at_lanes);
        for (index_t i = 0; i < rows_here; ++i) out[r0 + i] = index_t(at_lanes[i]);
    }
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
