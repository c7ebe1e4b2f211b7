// softmax and log_softmax of short rows (n_classes <= short_row_max), several rows per pass.
// Included at the end of softmax.hpp, whose exp helpers it uses.
//
// A row of 10 floats fills one AVX2 register and a quarter, so the long-row kernel spends most
// of its time on per-row set-up (a padded tail, lane folds, a division in double) and on exp
// of padding lanes. Here a tile of `width` rows (one per lane) is transposed into column
// registers (width x width blocks transposed in registers, see transpose.hpp; rows narrower
// than a register through memory): column j holds element j of every row. Every reduction is a
// vertical one (no horizontal folds), every exp lane is a real element (no padding lanes;
// rows missing from the last tile are zeros, whose exp is a plain 1), and the per-row set-up
// (reciprocal, log) is done once per tile for `width` rows at a time. Works for any row stride.
//
// The sum of a row's exponentials is formed in NumPy's pairwise order for a block (the one
// scipy.special.softmax gets from np.sum): 8 running sums over j % 8, combined as
// ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)), then the elements past the last whole 8
// added one by one; below 8 elements, one by one. Each lane is one row, so the order is the
// same on every ISA whatever its width, and softmax agrees bit for bit across the FMA ISAs.
#pragma once
#include <cmath>

#include "fasttopk/softmax.hpp"
#include "fasttopk/transpose.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

// Rows up to this long go through the tile kernel (its tile lives on the stack).
constexpr index_t short_row_max = softmax_short_row_max;
static_assert(short_row_max <= short_tile_row_max, "a tile holds the row");

// The sum of the n column registers e[0..n) in NumPy's pairwise order (see above).
template <class B>
inline B pairwise_column_sum(const B* e, index_t n) {
    if (n < 8) {
        B s = e[0];
        for (index_t j = 1; j < n; ++j) s = s + e[j];
        return s;
    }
    B acc[8];
    for (index_t j = 0; j < 8; ++j) acc[j] = e[j];
    const index_t whole_end = whole_steps(n, 8);
    for (index_t j = 8; j < whole_end; j += 8)
        for (index_t lane = 0; lane < 8; ++lane) acc[lane] = acc[lane] + e[j + lane];
    B s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (index_t j = whole_end; j < n; ++j) s = s + e[j];
    return s;
}

// One tile: `columns` holds n registers, column j = element j of each of the tile's rows; they
// are replaced by the outputs.
template <bool Log, class A, class V>
inline void softmax_tile(batch<V, A>* columns, index_t n) {
    using B = batch<V, A>;
    constexpr index_t width = B::size;
    // The maximum; NaN lanes may or may not win, the sum turns NaN either way (as SciPy's).
    // And the minimum: when no x - max(x) of the tile lies below -87, every exp is normal
    // (the usual case for logits) and takes one scaling instead of two.
    B m = columns[0], lowest = columns[0];
    for (index_t j = 1; j < n; ++j) {
        m = xsimd::max(m, columns[j]);
        lowest = xsimd::min(lowest, columns[j]);
    }
    const bool exps_normal = std::is_same_v<V, float> && xsimd::all(lowest - m >= B(V(-87)));
    // exp(x - shift) where shift = max(x): the exp of softmax.hpp, same bits either way.
    auto exp_below_max = [exps_normal](B d) {
        if constexpr (std::is_same_v<V, float>) {
            if (exps_normal) return exp_nonpositive_normal<A>(d);
        }
        return exp_shifted<A>(d, true);
    };

    if constexpr (!Log) {
        for (index_t j = 0; j < n; ++j) columns[j] = exp_below_max(columns[j] - m);
        const B scale = B(V(1)) / pairwise_column_sum(columns, n);
        for (index_t j = 0; j < n; ++j) columns[j] = columns[j] * scale;
    } else {
        // SciPy shifts by max(x) only where it is finite, by 0 elsewhere; the rows of a tile may
        // differ, and each lane must get the exp its own row would get alone (so that results do
        // not depend on the tile's other rows, nor on the ISA's width).
        const auto max_finite = xsimd::isfinite(m);
        const B shift = xsimd::select(max_finite, m, B(V(0)));
        const bool all_finite = xsimd::all(max_finite);
        // As in softmax.hpp: elements equal to the shift (exp exactly 1) are counted apart, so
        // that log(sum) = log1p((count - 1) + rest) keeps the small terms' precision.
        B at_shift(V(0));
        B exps[short_row_max];
        for (index_t j = 0; j < n; ++j) {
            const B d = columns[j] - shift;
            B e = exp_below_max(d);
            if (!all_finite) e = xsimd::select(max_finite, e, exp_shifted<A>(d, false));
            const auto is_shift = d == B(V(0));
            at_shift = at_shift + xsimd::select(is_shift, B(V(1)), B(V(0)));
            exps[j] = xsimd::select(is_shift, B(V(0)), e);
            columns[j] = d;
        }
        const B rest = pairwise_column_sum(exps, n);
        // log(sum) in double, vectorised: log1p((count - 1) + rest) where the shift is the row's
        // maximum (count >= 1); elsewhere count is 0 and rest is 0, inf or NaN, for which
        // log1p(rest - 1) = log(rest) exactly.
        if constexpr (std::is_same_v<V, float>) {
            // In float, as SciPy takes np.log of a float32 sum: xsimd's log1p is within an ulp.
            const B arg = xsimd::select(at_shift >= B(1.0f), (at_shift - B(1.0f)) + rest, rest - B(1.0f));
            const B log_sum = xsimd::select(xsimd::isnan(arg), arg, xsimd::log1p(arg));
            for (index_t j = 0; j < n; ++j) columns[j] = columns[j] - log_sum;
            return;
        }
        using D = batch<double, A>;
        alignas(64) V count_lanes[width], rest_lanes[width], log_lanes[width];
        at_shift.store_aligned(count_lanes);
        rest.store_aligned(rest_lanes);
        for (index_t i = 0; i < width; i += index_t(D::size)) {
            const D count = D::load_unaligned(count_lanes + i), total = D::load_unaligned(rest_lanes + i);
            const D arg = xsimd::select(count >= D(1.0), (count - D(1.0)) + total, total - D(1.0));
            // A NaN argument passes as it is (xsimd's log1p would set every payload bit).
            xsimd::select(xsimd::isnan(arg), arg, xsimd::log1p(arg)).store_unaligned(log_lanes + i);
        }
        const B log_sum = B::load_aligned(log_lanes);
        for (index_t j = 0; j < n; ++j) columns[j] = columns[j] - log_sum;
    }
}

// softmax (log_softmax with Log) of rows of 1..short_row_max elements.
template <bool Log, class A, class T>
void softmax_short_rows_impl(Rows<const T> x, Rows<T> out) {
    using B = batch<value_t<T>, A>;
    constexpr index_t width = B::size;
    B columns[short_row_max];
    for (index_t r0 = 0; r0 < x.n_rows; r0 += width) {
        const index_t rows_here = std::min(width, x.n_rows - r0);
        load_tile_columns<A>(x, r0, rows_here, columns);
        softmax_tile<Log, A>(columns, x.n_cols);
        // Every row of the tile has been read, so out may alias x.
        store_tile_columns<A>(columns, out, r0, rows_here);
    }
}

template <class A, class T>
void softmax_short_rows(Rows<const T> x, bool log, Rows<T> out) {
    if (log) softmax_short_rows_impl<true, A>(x, out);
    else softmax_short_rows_impl<false, A>(x, out);
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
