// Row-wise argmax / argmin with NumPy's answer: the first extreme; if the row holds a NaN,
// the first NaN. -0.0 and +0.0 are equal (plain IEEE comparisons).
//
// Two passes:
//  1. the extreme value, in four min/max accumulators, span by span, remembering the first
//     span that holds it; a NaN shows up in a running sum (x + y is NaN if either is), and only
//     then is the row searched for its first NaN (a sum that is NaN from inf - inf finds none,
//     and the row goes on as usual);
//  2. the first column of that span equal to that value, a batch at a time through the mask
//     bits; the span is still in cache.
// The row's last partial batch is reloaded to end at the row's end: re-reading a few elements
// changes neither an extreme nor a first match.
#pragma once
#include "fasttopk/half.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

template <bool FindMin, class A, class T>
inline batch<T, A> extreme(batch<T, A> a, batch<T, A> b) {
    if constexpr (FindMin) return xsimd::min(a, b);
    else return xsimd::max(a, b);
}

template <bool FindMin, class T>
index_t arg_extreme_scalar(const T* row, index_t n) {
    using V = value_t<T>;
    V best = to_value(row[0]);
    index_t best_at = 0;
    for (index_t j = 0; j < n; ++j) {
        const V v = to_value(row[j]);
        if constexpr (std::is_floating_point_v<V>) {
            if (v != v) return j;
        }
        if (FindMin ? (v < best) : (v > best)) {
            best = v;
            best_at = j;
        }
    }
    return best_at;
}

// The extreme of row[begin, end), end - begin >= width, in four accumulators; adds the
// elements into `sum` (NaN test) when the values are floats.
template <bool FindMin, class A, class T, class V = value_t<T>>
V span_extreme(const T* row, index_t begin, index_t end, batch<V, A>& sum) {
    using B = batch<V, A>;
    constexpr index_t width = B::size;
    constexpr bool is_float = std::is_floating_point_v<V>;
    const index_t last = end - width;  // the last, partial batch seeds the fourth accumulator
    B e0 = load_values<A>(row + begin), e1 = e0, e2 = e0, e3 = load_values<A>(row + last);
    B s0(V(0)), s1(V(0)), s2(V(0)), s3 = is_float ? e3 : B(V(0));
    index_t j = begin;
    constexpr index_t ahead = 4096 / sizeof(T);  // software prefetch distance: 4 KB
    for (; j + 3 * width <= end; j += 3 * width) {
        __builtin_prefetch(row + j + ahead);
        __builtin_prefetch(row + j + ahead + 3 * width - 1);
        const B v0 = load_values<A>(row + j), v1 = load_values<A>(row + j + width), v2 = load_values<A>(row + j + 2 * width);
        e0 = extreme<FindMin, A>(e0, v0);
        e1 = extreme<FindMin, A>(e1, v1);
        e2 = extreme<FindMin, A>(e2, v2);
        if constexpr (is_float) {
            s0 = s0 + v0;
            s1 = s1 + v1;
            s2 = s2 + v2;
        }
    }
    for (; j + width <= end; j += width) {
        const B v = load_values<A>(row + j);
        e0 = extreme<FindMin, A>(e0, v);
        if constexpr (is_float) s0 = s0 + v;
    }
    if constexpr (is_float) sum = sum + ((s0 + s1) + (s2 + s3));
    return reduce_extreme<FindMin, V, A>(extreme<FindMin, A>(extreme<FindMin, A>(e0, e1), extreme<FindMin, A>(e2, e3)));
}

template <bool FindMin, class A, class T>
index_t arg_extreme_row(const T* row, index_t n) {
    using V = value_t<T>;
    using B = batch<V, A>;
    constexpr index_t width = B::size;
    // Long rows go in spans: pass 2 then scans only the first span holding the extreme, which
    // is still in cache, instead of re-reading the row.
    constexpr index_t span = 4096;
    if (n < width) return arg_extreme_scalar<FindMin>(row, n);

    // Pass 1.
    B sum(V(0));
    V best{};
    index_t best_begin = 0, best_end = 0;
    for (index_t begin = 0; begin < n;) {
        const index_t end = n - begin < 2 * span ? n : begin + span;
        const V ext = span_extreme<FindMin, A>(row, begin, end, sum);
        if (begin == 0 || (FindMin ? ext < best : ext > best)) {
            best = ext;
            best_begin = begin;
            best_end = end;
        }
        begin = end;
    }
    if constexpr (std::is_floating_point_v<V>) {
        if (xsimd::any(is_nan(sum))) {
            for (index_t i = 0; i < n; ++i)
                if (std::isnan(to_value(row[i]))) return i;
        }
    }

    // Pass 2.
    const B wanted(best);
    index_t j = best_begin;
    for (; j + width <= best_end; j += width) {
        if (const auto bits = mask_bits(load_values<A>(row + j) == wanted)) return j + lowest_bit(bits);
    }
    return best_end - width + lowest_bit(mask_bits(load_values<A>(row + best_end - width) == wanted));
}

// Float rows of up to short_arg_row_max elements: a tile of rows at a time (argmax_short.hpp).
constexpr index_t short_arg_row_max = 64;
template <bool FindMin, class A, class T>
void arg_extreme_short_rows(Rows<const T> x, index_t* out);

template <class A, class T>
void arg_reduce_rows(Rows<const T> x, bool find_min, index_t* out) {
    if constexpr (std::is_floating_point_v<value_t<T>>) {
        if (x.n_cols >= 1 && x.n_cols <= short_arg_row_max) {
            if (find_min) arg_extreme_short_rows<true, short_rows_arch<A>>(x, out);
            else arg_extreme_short_rows<false, short_rows_arch<A>>(x, out);
            return;
        }
    }
    for (index_t r = 0; r < x.n_rows; ++r) {
        if (r + 1 < x.n_rows) prefetch_row(x.row(r + 1), x.n_cols);
        out[r] = find_min ? arg_extreme_row<true, A>(x.row(r), x.n_cols)
                          : arg_extreme_row<false, A>(x.row(r), x.n_cols);
    }
}

// Down the columns (a reduction along axis 0 of a row-major matrix, read in place): lanes are
// columns, and each keeps its running extreme and the first row holding it. A NaN wins once and
// stays (nothing compares greater than NaN), which gives NumPy's first NaN. Row numbers ride
// in a batch of T, exact only up to 2^digits (float: 2^24; int32 would wrap at 2^31), so tall
// matrices go in blocks of column_block_rows rows whose winners are merged into int64 row
// numbers per column: a later block wins only if strictly better, or with the first NaN.
constexpr index_t column_block_rows = index_t(1) << 22;

template <bool FindMin, class V>
inline bool column_wins(V v, V best) {
    if constexpr (std::is_floating_point_v<V>) {
        if (best != best) return false;
        if (v != v) return true;
    }
    return FindMin ? v < best : v > best;
}

// Row after row, as the rows lie (a pass down a narrow strip instead would fetch a page per
// row, one TLB miss each): each register of columns keeps its running extreme and row in
// memory, which for a row of up to a few thousand columns stays in L1.
template <bool FindMin, class A, class T>
void arg_extreme_columns(Rows<const T> x, index_t* out) {
    using V = value_t<T>;
    using B = batch<V, A>;
    constexpr index_t width = B::size;
    const index_t whole = x.n_cols / width, regs = (x.n_cols + width - 1) / width, tail = x.n_cols - whole * width;
    Scratch<B> best(regs), at(regs);
    Scratch<V> best_values(regs * width);  // the winners of the blocks so far
    B* best_of = best.get();
    B* at_of = at.get();
    for (index_t r0 = 0; r0 < x.n_rows; r0 += column_block_rows) {
        const index_t r1 = std::min(x.n_rows, r0 + column_block_rows);
        const index_t tail_whole_until = tail ? rows_readable_whole(x, 0, regs * width) : r1;
        auto load = [&](index_t r, index_t g) {
            const T* p = x.row(r) + g * width;
            return g < whole || r < tail_whole_until ? load_values<A>(p) : load_values_partial<A>(p, tail, V(0));
        };
        for (index_t g = 0; g < regs; ++g) {
            best_of[g] = load(r0, g);
            at_of[g] = B(V(0));  // the row within this block
        }
        for (index_t r = r0 + 1; r < r1; ++r) {
            const B row_number(V(r - r0));
            for (index_t g = 0; g < regs; ++g) {
                const B v = load(r, g), b = best_of[g];
                auto wins = FindMin ? (v < b) : (v > b);
                if constexpr (std::is_floating_point_v<V>) wins = wins | (is_nan(v) & !is_nan(b));
                best_of[g] = xsimd::select(wins, v, b);
                at_of[g] = xsimd::select(wins, row_number, at_of[g]);
            }
        }
        for (index_t g = 0; g < regs; ++g) {
            alignas(64) V block_values[width], block_rows[width];
            best_of[g].store_aligned(block_values);
            at_of[g].store_aligned(block_rows);
            V* merged = best_values.get() + g * width;
            for (index_t i = 0; i < std::min(width, x.n_cols - g * width); ++i) {
                if (r0 == 0 || column_wins<FindMin>(block_values[i], merged[i])) {
                    merged[i] = block_values[i];
                    out[g * width + i] = r0 + index_t(block_rows[i]);
                }
            }
        }
    }
}

template <class A, class T>
void arg_reduce_columns(Rows<const T> x, bool find_min, index_t* out) {
    if (find_min) arg_extreme_columns<true, A>(x, out);
    else arg_extreme_columns<false, A>(x, out);
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE

#include "fasttopk/argmax_short.hpp"
