// Row-wise argmax / argmin with NumPy's answer: the first extreme; if the row holds a NaN,
// the first NaN. -0.0 and +0.0 are equal (plain IEEE comparisons).
//
// Per row, lanes keep their running extreme and its column (strictly better replaces, so each
// lane keeps its first occurrence). A block of `unroll` batches is first reduced with min/max
// alone; lanes are updated only when the block beats them, which after the first few blocks is
// rare. A NaN shows up as a NaN in the block's sum (x + y is NaN if either is); such blocks (and
// inf - inf, which is harmless) take the exact scalar path.
#pragma once
#include "fasttopk/simd.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

template <bool FindMin, class V>
inline bool better(V a, V b) {
    if constexpr (FindMin) return a < b;
    else return a > b;
}

template <bool FindMin, class A, class T>
inline batch<T, A> extreme(batch<T, A> a, batch<T, A> b) {
    if constexpr (FindMin) return xsimd::min(a, b);
    else return xsimd::max(a, b);
}

template <bool FindMin, class A, class T>
index_t arg_extreme_row(const T* row, index_t n) {
    using B = batch<T, A>;
    constexpr index_t width = B::size;
    constexpr index_t unroll = 4;
    constexpr index_t block = width * unroll;
    constexpr bool is_float = std::is_floating_point_v<T>;
    // Lane positions ride in a batch of T itself: exact for every row a float can index.
    constexpr index_t max_exact = is_float ? (index_t(1) << std::numeric_limits<T>::digits)
                                           : index_t(std::numeric_limits<T>::max());

    T best = row[0];
    index_t best_at = 0;
    if constexpr (is_float) {
        if (best != best) return 0;
    }
    index_t j = 0;
    if (n >= 2 * block && n <= max_exact) {
        alignas(64) T lane_pos[width];
        for (index_t i = 0; i < width; ++i) lane_pos[i] = T(i);
        B ext = load<T, A>(row);
        B at = B::load_aligned(lane_pos);
        const B step = B(T(width));
        const index_t block_end = whole_steps(n, block);
        for (; j < block_end; j += block) {
            B v[unroll];
            for (index_t u = 0; u < unroll; ++u) v[u] = load<T, A>(row + j + u * width);
            if constexpr (is_float) {
                B sum = (v[0] + v[1]) + (v[2] + v[3]);
                if (xsimd::any(sum != sum)) {
                    for (index_t i = 0; i < block; ++i) {
                        if (row[j + i] != row[j + i]) return j + i;
                    }
                }
            }
            B block_ext = extreme<FindMin, A>(extreme<FindMin, A>(v[0], v[1]),
                                              extreme<FindMin, A>(v[2], v[3]));
            if (xsimd::any(FindMin ? (block_ext < ext) : (block_ext > ext))) {
                B pos = B(T(j)) + B::load_aligned(lane_pos);
                for (index_t u = 0; u < unroll; ++u) {
                    auto wins = FindMin ? (v[u] < ext) : (v[u] > ext);
                    ext = xsimd::select(wins, v[u], ext);
                    at = xsimd::select(wins, pos, at);
                    pos = pos + step;
                }
            }
        }
        alignas(64) T lane_ext[width];
        alignas(64) T lane_at[width];
        ext.store_aligned(lane_ext);
        at.store_aligned(lane_at);
        best = lane_ext[0];
        best_at = index_t(lane_at[0]);
        for (index_t i = 1; i < width; ++i) {
            index_t a = index_t(lane_at[i]);
            if (better<FindMin>(lane_ext[i], best) || (lane_ext[i] == best && a < best_at)) {
                best = lane_ext[i];
                best_at = a;
            }
        }
    }
    for (; j < n; ++j) {
        T v = row[j];
        if constexpr (is_float) {
            if (v != v) return j;
        }
        if (better<FindMin>(v, best)) {
            best = v;
            best_at = j;
        }
    }
    return best_at;
}

template <class A, class T>
void arg_reduce_rows(Rows<const T> x, bool find_min, index_t* out) {
    for (index_t r = 0; r < x.n_rows; ++r) {
        out[r] = find_min ? arg_extreme_row<true, A>(x.row(r), x.n_cols)
                          : arg_extreme_row<false, A>(x.row(r), x.n_cols);
    }
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
