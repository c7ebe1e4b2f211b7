// argmax/argmin of short float rows (n_classes <= short_arg_row_max). Rows of a batch or more:
// one row at a time in whole batches (row_first_extreme below). Narrower rows, and any chunk
// of rows holding a NaN, a tile of rows at a time:
// the rows are turned into column registers (transpose.hpp), one row per lane, and scanned
// down the columns as arg_extreme_columns scans a matrix: strictly better wins (the first
// extreme among ties), and the first NaN wins and stays (NumPy's rule). No per-row horizontal
// reduction, no partial loads. Included at the end of argmax.hpp.
#pragma once
#include "fasttopk/argmax.hpp"
#include "fasttopk/transpose.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

// Every lane the largest (smallest) lane of v, by butterfly swaps: no trip through memory.
// Lanes holding NaN may or may not win: callers make sure there are none.
template <bool FindMin, class A, class V>
inline batch<V, A> broadcast_extreme(batch<V, A> v) {
    using B = batch<V, A>;
    using R [[maybe_unused]] = typename B::register_type;
    auto pick = [](B a, B b) { return FindMin ? xsimd::min(a, b) : xsimd::max(a, b); };
#if defined(__AVX__)
    if constexpr (std::is_same_v<R, __m256>) {
        v = pick(v, B(_mm256_permute2f128_ps(v, v, 1)));
        v = pick(v, B(_mm256_shuffle_ps(v, v, _MM_SHUFFLE(1, 0, 3, 2))));
        return pick(v, B(_mm256_shuffle_ps(v, v, _MM_SHUFFLE(2, 3, 0, 1))));
    } else if constexpr (std::is_same_v<R, __m256d>) {
        v = pick(v, B(_mm256_permute2f128_pd(v, v, 1)));
        return pick(v, B(_mm256_shuffle_pd(v, v, 0x5)));
    }
#endif
#if defined(__SSE2__)
    if constexpr (std::is_same_v<R, __m128>) {
        v = pick(v, B(_mm_shuffle_ps(v, v, _MM_SHUFFLE(1, 0, 3, 2))));
        return pick(v, B(_mm_shuffle_ps(v, v, _MM_SHUFFLE(2, 3, 0, 1))));
    } else if constexpr (std::is_same_v<R, __m128d>) {
        return pick(v, B(_mm_shuffle_pd(v, v, 0x1)));
    }
#endif
    return B(reduce_extreme<FindMin, V, A>(v));
}

// The first column of row[0, n) holding its largest (smallest) value, n >= width, the row
// free of NaN: the extreme of its whole batches (the last one ending at n), then the equal
// lanes' mask bits gathered into one word (a lane read twice sets the same bit), the lowest
// one. `nan_seen` gathers the NaN lanes, so that the caller can tell whether a NaN was met (an
// OR: a running sum instead was a dependency chain that tripled the time of 10-wide rows).
template <bool FindMin, index_t Batches, class A, class T, class V = value_t<T>>
inline index_t row_first_extreme(const T* row, index_t n, xsimd::batch_bool<V, A>& nan_seen) {
    using B = batch<V, A>;
    constexpr index_t width = B::size;
    const index_t batches = Batches > 0 ? Batches : (n + width - 1) / width;
    B v[Batches > 0 ? Batches : short_arg_row_max];  // sized exactly: kept in registers
    B e = v[0] = load_values<A>(row);
    for (index_t q = 1; q < batches; ++q) {
        v[q] = load_values<A>(row + std::min(q * width, n - width));
        e = FindMin ? xsimd::min(e, v[q]) : xsimd::max(e, v[q]);
    }
    const B wanted = broadcast_extreme<FindMin, A>(e);
    std::uint64_t equal = 0;
    for (index_t q = 0; q < batches; ++q) {
        equal |= mask_bits(v[q] == wanted) << std::min(q * width, n - width);
        nan_seen = nan_seen | is_nan(v[q]);
    }
    return lowest_bit(equal | (std::uint64_t(1) << 63));  // (never 0 without a NaN)
}

// Rows of width .. short_arg_row_max: row by row, in chunks; a chunk holding a NaN is done
// again by `careful(chunk, out)`, which gives NaN its place.
template <bool FindMin, index_t Batches, class A, class T, class Careful>
void rows_first_extreme(Rows<const T> x, index_t* out, Careful&& careful) {
    using V = value_t<T>;
    constexpr index_t chunk = 256;
    for (index_t r0 = 0; r0 < x.n_rows; r0 += chunk) {
        const index_t r1 = std::min(x.n_rows, r0 + chunk);
        xsimd::batch_bool<V, A> nan_seen(false);
        for (index_t r = r0; r < r1; ++r) out[r] = row_first_extreme<FindMin, Batches, A>(x.row(r), x.n_cols, nan_seen);
        if (xsimd::any(nan_seen)) careful(x.slice(r0, r1), out + r0);
    }
}

template <bool FindMin, class A, class T, class Careful>
void short_rows_first_extreme(Rows<const T> x, index_t* out, Careful&& careful) {
    constexpr index_t width = batch<value_t<T>, A>::size;
    switch ((x.n_cols + width - 1) / width) {  // the batch count known to the compiler, for the usual few
        case 1: return rows_first_extreme<FindMin, 1, A>(x, out, careful);
        case 2: return rows_first_extreme<FindMin, 2, A>(x, out, careful);
        case 3: return rows_first_extreme<FindMin, 3, A>(x, out, careful);
        case 4: return rows_first_extreme<FindMin, 4, A>(x, out, careful);
        default: return rows_first_extreme<FindMin, 0, A>(x, out, careful);
    }
}

template <bool FindMin, class A, class T>
void arg_extreme_tiles(Rows<const T> x, index_t* out);

template <bool FindMin, class A, class T>
void arg_extreme_short_rows(Rows<const T> x, index_t* out) {
    if (x.n_cols >= index_t(batch<value_t<T>, A>::size)) {
        short_rows_first_extreme<FindMin, A>(x, out, [](Rows<const T> rows, index_t* o) { arg_extreme_tiles<FindMin, A>(rows, o); });
        return;
    }
    arg_extreme_tiles<FindMin, A>(x, out);
}

template <bool FindMin, class A, class T>
void arg_extreme_tiles(Rows<const T> x, index_t* out) {
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
