// Reductions down the columns of a row-major block, read where it lies (no transposed copy):
// softmax / log_softmax, logsumexp and scikit-learn's true-label rank along axis 0. Lanes are
// columns; each keeps its own running values down the rows, as arg_reduce_columns does.
//
// The block is a Rows view: n rows of C columns (contiguous), rows row_stride apart. The Python
// layer views an array reduced along a non-last axis as panels (outer, n, inner) and the
// generic API (api.hpp) hands each panel's column groups to these kernels.
//
// Columns go in blocks of a few registers (256, 128 or 64 bytes of values, the most whose n rows
// fit in about half an L2) so that passes 2 and 3 re-read the block from cache. Taller columns
// (softmax, logsumexp) take each pass row after row over all the columns instead, with the
// per-lane state in memory (columns_by_rows): a pass down a narrow block would fetch a page per
// row. Columns past the last whole register are loaded partially.
//
// The arithmetic and the non-finite rules are those of the row kernels (softmax.hpp,
// softmax_short.hpp's tile, fused.hpp's ExpSum): the sums are sequential per lane, row after
// row, the order NumPy's sum along a non-last axis of a C-contiguous array has, and so the order
// scipy.special.softmax and logsumexp sum in there.
#pragma once
#include <cmath>
#include <type_traits>

#include "fasttopk/softmax.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

template <int N>
using regs_tag = std::integral_constant<int, N>;

constexpr index_t column_block_budget = 160 * 1024;  // bytes of x a block keeps in cache between passes

// Whether the passes of a kernel go block by block (each block's rows stay in cache from one
// pass to the next) or row after row over all the columns: taller blocks would be re-read from
// memory anyway, and a pass down a narrow block fetches a page per row (a TLB miss each), while
// a pass over whole rows reads memory in order. Row after row once a block of one register
// (64 bytes at least) of n rows outgrows the budget.
template <class A, class V>
bool columns_by_rows(index_t n_rows, index_t item) {
    return n_rows * index_t(batch<V, A>::size) * item > column_block_budget && n_rows * 64 > column_block_budget;
}

// Calls fn(regs_tag<R>, bool_constant<Full>, c0, lanes) for blocks of R registers of columns
// [c0, c0 + R * width) across the block, then single registers, then (Full false) the last
// `lanes` < width columns. `item` is the bytes of one stored element; 0 for a single pass,
// which keeps nothing in cache and takes the middle size (registers, not cache, bound it).
template <class A, class V, class Fn>
void for_column_blocks(index_t n_rows, index_t n_cols, index_t item, Fn&& fn) {
    constexpr index_t width = batch<V, A>::size;
    constexpr int big = std::max<int>(1, int(256 / (sizeof(V) * width)));
    constexpr int mid = std::max(1, big / 2), small = std::max(1, big / 4);
    auto run = [&](auto tag) {
        constexpr int R = decltype(tag)::value;
        index_t c = 0;
        for (; c + R * width <= n_cols; c += R * width) fn(tag, std::true_type{}, c, width);
        if constexpr (R > 1)
            for (; c + width <= n_cols; c += width) fn(regs_tag<1>{}, std::true_type{}, c, width);
        if (c < n_cols) fn(regs_tag<1>{}, std::false_type{}, c, n_cols - c);
    };
    if (item == 0) run(regs_tag<mid>{});
    else if (n_rows * big * width * item <= column_block_budget) run(regs_tag<big>{});
    else if (n_rows * mid * width * item <= column_block_budget) run(regs_tag<mid>{});
    else run(regs_tag<small>{});
}

// Register i of a block at column c0 of `row`: whole, or its first `lanes` and `fill` after.
template <bool Full, class A, class T, class V = value_t<T>>
inline batch<V, A> load_lanes(const T* row, index_t c, index_t lanes, V fill) {
    if constexpr (Full) return load_values<A>(row + c);
    else return load_values_partial<A>(row + c, lanes, fill);
}
template <bool Full, class A, class T, class V = value_t<T>>
inline void store_lanes(T* row, index_t c, index_t lanes, batch<V, A> v) {
    if constexpr (Full) store_values<A>(row + c, v);
    else store_values_partial<A>(row + c, lanes, v);
}

// A per-lane sum with Neumaier's compensation: a column may be 10^5 rows and more, whose plain
// sequential sum (SciPy's) drifts by sqrt(n) ulp; this one stays within a few. Once the sum is
// not finite (+inf, NaN) it is the answer as it is.
template <class B>
struct CompensatedLanes {
    B sum, carry;
    CompensatedLanes() : sum(0), carry(0) {}
    void add(B e) {
        const B t = sum + e;
        carry = carry + xsimd::select(xsimd::abs(sum) >= xsimd::abs(e), (sum - t) + e, (e - t) + sum);
        sum = t;
    }
    B value() const { return xsimd::select(xsimd::isfinite(sum), sum + carry, sum); }
};

// Rows between flushes of the per-lane counts kept in V (exact only up to 2^digits in float).
constexpr index_t column_count_flush = index_t(1) << 20;

// The registers of columns the passes below work on, and where their per-register state lives
// (Array<U, K>: K entries of U per register), so that each kernel's arithmetic is written once:
//  - ColumnBlock: R registers at column c0 (when not Full, the first `lanes` of one). R is a
//    compile-time constant, so the loops unroll and the state stays in registers.
//  - AllColumns: every column, a register count known at run time, the state in Scratch; the
//    last register holds the `tail` columns past the whole ones.
// group(i) is the registers one test of the maxima's finiteness covers (which exp a lane takes
// depends on it): the whole block, a loop-invariant branch; or each register, so that one
// non-finite column of many does not send every column to the general exp.
template <int R, bool Full, class Arch, class Value>
struct ColumnBlock {
    using A = Arch;
    using V = Value;
    static constexpr index_t width = batch<V, A>::size;
    template <class U, index_t K = 1>
    struct Array {
        U at[R * K];
        explicit Array(const ColumnBlock&) {}
        U& operator[](index_t i) { return at[i]; }
    };
    index_t c0, lanes;
    static constexpr index_t regs() { return R; }
    static constexpr index_t group(index_t) { return 0; }
    index_t column(index_t i) const { return c0 + i * width; }
    index_t lanes_in(index_t) const { return Full ? width : lanes; }
    template <class T>
    batch<V, A> load(const T* row, index_t i, V fill) const { return load_lanes<Full, A>(row, column(i), lanes, fill); }
    template <class T>
    void store(T* row, index_t i, batch<V, A> v) const { store_lanes<Full, A>(row, column(i), lanes, v); }
};

template <class Arch, class Value>
struct AllColumns {
    using A = Arch;
    using V = Value;
    static constexpr index_t width = batch<V, A>::size;
    template <class U, index_t K = 1>
    struct Array {
        Scratch<U> own;
        explicit Array(const AllColumns& cols) : own(cols.regs() * K) {}
        U& operator[](index_t i) { return own.get()[i]; }
    };
    index_t whole, tail;
    explicit AllColumns(index_t n_cols) : whole(n_cols / width), tail(n_cols % width) {}
    index_t regs() const { return whole + (tail > 0); }
    static index_t group(index_t i) { return i; }
    static index_t column(index_t i) { return i * width; }
    index_t lanes_in(index_t i) const { return i < whole ? width : tail; }
    template <class T>
    batch<V, A> load(const T* row, index_t i, V fill) const {
        return i < whole ? load_values<A>(row + i * width) : load_values_partial<A>(row + i * width, tail, fill);
    }
    template <class T>
    void store(T* row, index_t i, batch<V, A> v) const {
        if (i < whole) store_values<A>(row + i * width, v);
        else store_values_partial<A>(row + i * width, tail, v);
    }
};

template <class Cols, class U, index_t K = 1>
using column_array = typename Cols::template Array<U, K>;

// softmax (log_softmax with Log) of the columns `cols` covers, as softmax_row does per row:
// pass 1 the maximum, pass 2 the sum of exp(x - shift) (for softmax stored in out, unless it is
// half precision), pass 3 the output.
template <bool Log, class Cols, class T>
void softmax_column_passes(Rows<const T> x, Rows<T> out, const Cols& cols) {
    using A = typename Cols::A;
    using V = value_t<T>;
    using B = batch<V, A>;
    constexpr index_t width = B::size;
    const index_t n = x.n_rows;
    auto at = [&](index_t r, index_t i) { return cols.load(x.row(r), i, V(0)); };

    // Pass 1. NaN lanes may or may not win; the sum turns NaN either way, as SciPy's.
    column_array<Cols, B> m(cols);
    for (index_t i = 0; i < cols.regs(); ++i) m[i] = at(0, i);
    for (index_t r = 1; r < n; ++r)
        for (index_t i = 0; i < cols.regs(); ++i) m[i] = xsimd::max(m[i], at(r, i));

    // Pass 2. log_softmax shifts by the maximum only where it is finite (by 0 elsewhere) and
    // counts the elements equal to the shift apart (see softmax_row).
    column_array<Cols, B> shift(cols), norm(cols);  // norm: pass 3's 1 / sum, or log(sum) for Log
    column_array<Cols, CompensatedLanes<B>> total(cols);
    for (index_t i = 0; i < cols.regs(); ++i) shift[i] = Log ? xsimd::select(xsimd::isfinite(m[i]), m[i], B(V(0))) : m[i];
    constexpr bool store_exps = !Log && !is_half_v<T>;
    if constexpr (!Log) {
        for (index_t r = 0; r < n; ++r) {
            for (index_t i = 0; i < cols.regs(); ++i) {
                const B e = exp_shifted<A>(at(r, i) - shift[i], true);
                total[i].add(e);
                if constexpr (store_exps) cols.store(out.row(r), i, e);
            }
        }
    } else {
        column_array<Cols, bool> finite_max(cols);  // per cols.group
        for (index_t i = 0; i < cols.regs(); ++i) finite_max[i] = true;
        for (index_t i = 0; i < cols.regs(); ++i)
            finite_max[cols.group(i)] = finite_max[cols.group(i)] && xsimd::all(xsimd::isfinite(m[i]));
        column_array<Cols, double, width> counts(cols);
        for (index_t k = 0; k < cols.regs() * width; ++k) counts[k] = 0.0;
        column_array<Cols, B> count(cols);
        for (index_t r0 = 0; r0 < n; r0 += column_count_flush) {
            const index_t r1 = std::min(n, r0 + column_count_flush);
            for (index_t i = 0; i < cols.regs(); ++i) count[i] = B(V(0));
            for (index_t r = r0; r < r1; ++r) {
                for (index_t i = 0; i < cols.regs(); ++i) {
                    const B d = at(r, i) - shift[i];
                    B e = exp_shifted<A>(d, true);
                    if (!finite_max[cols.group(i)]) e = xsimd::select(xsimd::isfinite(m[i]), e, exp_shifted<A>(d, false));
                    const auto is_shift = d == B(V(0));
                    count[i] = count[i] + xsimd::select(is_shift, B(V(1)), B(V(0)));
                    total[i].add(xsimd::select(is_shift, B(V(0)), e));
                }
            }
            for (index_t i = 0; i < cols.regs(); ++i) {
                alignas(64) V lanes_of[width];
                count[i].store_aligned(lanes_of);
                for (index_t k = 0; k < width; ++k) counts[i * width + k] += double(lanes_of[k]);
            }
        }
        // log(sum) in double: log1p((count - 1) + rest) where some element equals the shift,
        // log(rest) elsewhere (rest is then 0, inf or NaN).
        for (index_t i = 0; i < cols.regs(); ++i) {
            alignas(64) V rest[width], log_sum[width];
            total[i].value().store_aligned(rest);
            for (index_t k = 0; k < width; ++k) {
                const double c = counts[i * width + k], s = double(rest[k]);
                log_sum[k] = V(c >= 1.0 ? std::log1p((c - 1.0) + s) : std::log(s));
            }
            norm[i] = B::load_aligned(log_sum);
        }
    }

    // Pass 3. Every element of a column is read before it is written, so out may alias x.
    if constexpr (!Log) {
        for (index_t i = 0; i < cols.regs(); ++i) norm[i] = B(V(1)) / total[i].value();
        for (index_t r = 0; r < n; ++r) {
            for (index_t i = 0; i < cols.regs(); ++i) {
                B e;
                if constexpr (store_exps) e = cols.load(out.row(r), i, V(0));
                else e = exp_shifted<A>(at(r, i) - shift[i], true);
                cols.store(out.row(r), i, e * norm[i]);
            }
        }
    } else {
        for (index_t r = 0; r < n; ++r)
            for (index_t i = 0; i < cols.regs(); ++i) cols.store(out.row(r), i, (at(r, i) - shift[i]) - norm[i]);
    }
}

// softmax or log_softmax of every column of x (along axis 0), into out (which may alias x).
template <class A, class T>
void softmax_columns(Rows<const T> x, bool log, Rows<T> out) {
    using V = value_t<T>;
    if (x.n_rows < 1) return;
    if (columns_by_rows<A, V>(x.n_rows, sizeof(T))) {
        const AllColumns<A, V> cols(x.n_cols);
        if (log) softmax_column_passes<true>(x, out, cols);
        else softmax_column_passes<false>(x, out, cols);
        return;
    }
    for_column_blocks<A, V>(x.n_rows, x.n_cols, sizeof(T), [&](auto regs, auto full, index_t c0, index_t lanes) {
        const ColumnBlock<decltype(regs)::value, decltype(full)::value, A, V> cols{c0, lanes};
        if (log) softmax_column_passes<true>(x, out, cols);
        else softmax_column_passes<false>(x, out, cols);
    });
}

// logsumexp of the columns `cols` covers, into out[column], as ExpSum (fused.hpp) makes it:
// shift = max when finite, 0 when every element is -inf or NaN; a +inf gives +inf (NaN with a
// NaN) through exp(inf).
template <class Cols, class T>
void logsumexp_column_passes(Rows<const T> x, T* out, const Cols& cols) {
    using A = typename Cols::A;
    using V = value_t<T>;
    using B = batch<V, A>;
    constexpr index_t width = B::size;
    const V minus_inf = -std::numeric_limits<V>::infinity();
    auto at = [&](index_t r, index_t i) { return cols.load(x.row(r), i, minus_inf); };
    column_array<Cols, B> m(cols);
    column_array<Cols, CompensatedLanes<B>> sum(cols);
    column_array<Cols, bool> finite_max(cols);  // per cols.group
    for (index_t i = 0; i < cols.regs(); ++i) m[i] = B(minus_inf);
    for (index_t r = 0; r < x.n_rows; ++r) {
        for (index_t i = 0; i < cols.regs(); ++i) {
            const B v = at(r, i);
            m[i] = xsimd::select(v > m[i], v, m[i]);  // NaN never wins
        }
    }
    for (index_t i = 0; i < cols.regs(); ++i) finite_max[i] = true;
    for (index_t i = 0; i < cols.regs(); ++i) {
        const auto finite = xsimd::isfinite(m[i]);
        finite_max[cols.group(i)] = finite_max[cols.group(i)] && xsimd::all(finite);
        m[i] = xsimd::select(finite, m[i], B(V(0)));  // now the shift
    }
    for (index_t r = 0; r < x.n_rows; ++r) {
        for (index_t i = 0; i < cols.regs(); ++i) {
            const B d = at(r, i) - m[i];
            // A finite shift is the maximum: d <= 0 or NaN. Elsewhere d may be +inf.
            sum[i].add(finite_max[cols.group(i)] ? exp_shifted<A>(d, true) : exp_shifted<A>(d, false));
        }
    }
    for (index_t i = 0; i < cols.regs(); ++i) {
        alignas(64) V shift[width], total[width];
        m[i].store_aligned(shift);
        sum[i].value().store_aligned(total);
        for (index_t k = 0; k < cols.lanes_in(i); ++k)
            out[cols.column(i) + k] = from_value<T>(V(double(shift[k]) + std::log(double(total[k]))));
    }
}

// out[c] = logsumexp of column c (out has n_cols entries).
template <class A, class T>
void logsumexp_columns(Rows<const T> x, T* out) {
    using V = value_t<T>;
    if (x.n_rows < 1) return;
    if (columns_by_rows<A, V>(x.n_rows, sizeof(T))) return logsumexp_column_passes(x, out, AllColumns<A, V>(x.n_cols));
    for_column_blocks<A, V>(x.n_rows, x.n_cols, sizeof(T), [&](auto regs, auto full, index_t c0, index_t lanes) {
        logsumexp_column_passes(x, out, ColumnBlock<decltype(regs)::value, decltype(full)::value, A, V>{c0, lanes});
    });
}

// scikit-learn's rank of the true class (rank.hpp) of each column: scores is n_classes rows of
// n_samples columns (a Fortran y_score, transposed), labels[c] the true row of column c.
//   rank = #{j : s_j > s_t} + #{j > t : s_j == s_t}
// Counts ride in V lanes, flushed before they lose exactness. finite_probe turns NaN at a NaN or
// an infinity (x - x).
template <int R, bool Full, class A, class T, class V = value_t<T>>
void rank_column_block(Rows<const T> scores, const index_t* labels, index_t* ranks, index_t c0, index_t lanes,
                       V& finite_probe) {
    using B = batch<V, A>;
    constexpr index_t width = B::size;
    const index_t here = Full ? R * width : lanes;
    alignas(64) V target_lanes[R * width] = {};
    index_t label_lanes[R * width] = {};
    for (index_t k = 0; k < here; ++k) {
        label_lanes[k] = labels[c0 + k];
        target_lanes[k] = to_value(scores.row(label_lanes[k])[c0 + k]);
    }
    B target[R], label[R], count[R], probe(V(0));
    for (int i = 0; i < R; ++i) target[i] = B::load_aligned(target_lanes + i * width);
    index_t totals[R * width] = {};
    for (index_t r0 = 0; r0 < scores.n_rows; r0 += column_count_flush) {
        const index_t r1 = std::min(scores.n_rows, r0 + column_count_flush);
        for (int i = 0; i < R; ++i) {
            count[i] = B(V(0));
            alignas(64) V shifted[width];
            // t - r0 as V: exact, or rounded (monotonically) far outside [0, column_count_flush),
            // which keeps its comparisons with the row numbers r - r0 right.
            for (index_t k = 0; k < width; ++k) shifted[k] = V(label_lanes[i * width + k] - r0);
            label[i] = B::load_aligned(shifted);
        }
        for (index_t r = r0; r < r1; ++r) {
            const B row_number(V(r - r0));
            for (int i = 0; i < R; ++i) {
                const B v = load_lanes<Full, A>(scores.row(r), c0 + i * width, lanes, V(0));
                const auto hit = (v > target[i]) | ((v == target[i]) & (row_number > label[i]));
                count[i] = count[i] + xsimd::select(hit, B(V(1)), B(V(0)));
                if constexpr (std::is_floating_point_v<V>) probe = probe + (v - v);
            }
        }
        for (int i = 0; i < R; ++i) {
            alignas(64) V lanes_of[width];
            count[i].store_aligned(lanes_of);
            for (index_t k = 0; k < width; ++k) totals[i * width + k] += index_t(lanes_of[k]);
        }
    }
    for (index_t k = 0; k < here; ++k) ranks[c0 + k] = totals[k];
    if constexpr (std::is_floating_point_v<V>) {
        alignas(64) V probe_lanes[width];
        probe.store_aligned(probe_lanes);
        for (index_t k = 0; k < width; ++k) finite_probe += probe_lanes[k];
    }
}

// ranks[c] = scikit-learn's rank of row labels[c] in column c. Returns false if the scores
// hold NaN or +-inf (then ranks are unspecified).
template <class A, class T>
bool true_label_rank_columns(Rows<const T> scores, const index_t* labels, index_t* ranks) {
    using V = value_t<T>;
    V finite_probe = V(0);
    if (scores.n_rows < 1) return true;
    for_column_blocks<A, V>(scores.n_rows, scores.n_cols, 0, [&](auto regs, auto full, index_t c0, index_t lanes) {
        rank_column_block<decltype(regs)::value, decltype(full)::value, A>(scores, labels, ranks, c0, lanes,
                                                                           finite_probe);
    });
    if constexpr (std::is_floating_point_v<V>) return finite_probe == finite_probe;
    return true;
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
