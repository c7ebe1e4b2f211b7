// Fused softmax + top-k and logsumexp: the softmax of a row is never materialised.
//
// Per row of v = x / temperature:
//  1. One pass for the maximum and the sum of exponentials, online: the row is read in blocks
//     of a few batches; a block's lane-wise maximum is compared with the running one (one
//     compare per block), and only when it grows is the running sum rescaled, exp(old - new).
//     The exponentials are summed lane-wise in T over 8 blocks at a time, then added to a
//     double, so a row of 10^7 elements loses no more than a few ulp (SciPy sums pairwise in T).
//  2. The top-k selection of select.hpp on the logits themselves, on the row still in cache:
//     softmax is monotonic and v = x / T (T > 0) keeps the order, so topk's order, tie and NaN
//     rules apply as they are. Pass 1 already has each block's lane-wise maxima: distinct
//     elements of the row, so the k-th largest of them bounds the row's k-th largest from
//     below, and tightly (about 4k of them are kept). The selection then only filters.
//  3. exp (or the log form) only for the k winners, from the values in (1).
// Non-finite rows come out as SciPy's softmax, log_softmax and logsumexp make them; see ExpSum.
#pragma once
#include <cmath>

#include "fasttopk/half.hpp"
#include "fasttopk/select.hpp"
#include "fasttopk/softmax.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

// What softmax, log_softmax and logsumexp need of a row v:
//   shift = max(v) when it is finite; 0 when every v is -inf or NaN; +inf when some v is +inf;
//   sum   = sum of exp(v - shift), NaN when v holds a NaN; with shift = +inf, 1 (or NaN).
// Then logsumexp(v) = shift + log(sum) and log_softmax(v) = (v - shift) - log(sum) in every
// case SciPy distinguishes (all -inf: 0 + log 0 = -inf and (-inf - 0) - (-inf) = NaN).
template <class T>
struct ExpSum {
    T shift;
    double sum;
    // softmax is a number only here; elsewhere SciPy's is NaN throughout (NaN, +inf or every
    // element -inf). A finite maximum contributes exp(0) = 1, so a row with one has sum >= 1.
    bool softmax_defined() const { return std::isfinite(shift) && sum >= 1.0; }
};

// exp(d) for d <= 0, -inf or NaN, as a term of a sum that is >= 1 (it holds exp(0) for the
// row's maximum): terms below exp(-87) (~1.6e-38, normal) are 0 here where SciPy's exp gives
// denormals; a row of 10^9 of them moves the sum by less than 1e-28 of it. That saves
// exp_nonpositive's two-factor scaling (one normal 2^k does) and the clamp to -104: about a
// fifth of the row's pass. -inf gives exactly 0 (an all -inf row sums to 0) and NaN stays NaN.
template <class A, class V>
inline batch<V, A> exp_term_of_sum(batch<V, A> d) {
    if constexpr (std::is_same_v<V, float>) {
        using F = batch<float, A>;
        using I = batch<std::int32_t, A>;
        // maxps returns its second operand when either is NaN: NaN stays NaN.
        const F dc = xsimd::max(F(-87.0f), d);
        const F round_magic(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
        const F z = xsimd::fma(dc, F(1.44269504088896341f), round_magic);
        const F k = z - round_magic;  // in [-126, 0]: 2^k is normal
        const F two_k = xsimd::bitwise_cast<F>((xsimd::bitwise_cast<I>(z) - I(0x4B400000 - 127)) << 23);
        const F e = exp_reduced<A>(dc, k) * two_k;
        return xsimd::select(d < F(-87.0f), F(0.0f), e);
    } else {
        return exp_shifted<A>(d, true);
    }
}

// Scaled: v = x / temperature (a compile-time choice: a branch per batch costs ~9% here).
// T is the storage type; the arithmetic is in V = value_t<T> (float for float16/bfloat16).
template <class A, class T, bool Scaled, class V = value_t<T>>
class ExpSumScanner {
    using B = batch<V, A>;
    static constexpr index_t width = B::size;
    static constexpr index_t block = 16;  // batches per block: one max check, one hadd each

    const B divisor_;
    key_t<V>* champions_;  // order keys of each block's lane maxima (of x), or null
    index_t n_champions_ = 0;
    V max_ = -std::numeric_limits<V>::infinity();  // of the blocks so far, NaN ignored
    V shift_ = V(0);
    double sum_ = 0.0;
    // exp(v - shift) summed lane-wise in T over a few blocks, then flushed into sum_: the lanes
    // stay short sums (accuracy) and no block waits on a horizontal add (speed).
    static constexpr int blocks_per_flush = 8;
    B acc0_ = B(V(0)), acc1_ = B(V(0));
    int unflushed_ = 0;

    void flush() {
        sum_ += double(xsimd::hadd(acc0_ + acc1_));
        acc0_ = acc1_ = B(V(0));
        unflushed_ = 0;
    }

    B scale(B v) const {
        if constexpr (Scaled) return v / divisor_;
        else return v;
    }

    // Adds the blocks' exponentials; false when a +inf was met (the row's answer is then fixed).
    bool consume(const T* p, index_t n_batches) {
        B top = load_values<A>(p);
        for (index_t b = 1; b < n_batches; ++b) top = xsimd::max(top, load_values<A>(p + b * width));
        if (champions_ && p_is_row_) {  // (max returns one of its operands: row elements)
            order_keys<A, V>(top, key_t<V>(0)).store_unaligned(champions_ + n_champions_);
            n_champions_ += width;
        }
        top = scale(top);  // max(x) / T == max(x / T): rounding is monotonic
        if (xsimd::any(top > B(max_))) {  // rare after the first blocks; NaN lanes never pass
            const V m = reduce_extreme<false, V, A>(
                xsimd::select(is_nan(top), B(-std::numeric_limits<V>::infinity()), top));
            if (m == std::numeric_limits<V>::infinity()) return false;
            if (max_ != -std::numeric_limits<V>::infinity()) {  // rescale what is summed so far
                const double factor = std::exp(double(shift_) - double(m));  // < 1
                sum_ *= factor;
                acc0_ = acc0_ * B(V(factor));
                acc1_ = acc1_ * B(V(factor));
            }  // else all so far is exp(-inf - 0) = 0, or NaN: the same for any shift
            max_ = shift_ = m;
        }
        const B shift(shift_);
        index_t b = 0;
        for (; b + 2 <= n_batches; b += 2) {
            acc0_ = acc0_ + exp_term_of_sum<A>(scale(load_values<A>(p + b * width)) - shift);
            acc1_ = acc1_ + exp_term_of_sum<A>(scale(load_values<A>(p + (b + 1) * width)) - shift);
        }
        if (b < n_batches) acc0_ = acc0_ + exp_term_of_sum<A>(scale(load_values<A>(p + b * width)) - shift);
        if (++unflushed_ == blocks_per_flush) flush();
        return true;
    }

    bool p_is_row_ = true;  // false for the padded tail, whose padding is no element

   public:
    // `champions`, if given, holds n / block + width keys (see champion_capacity).
    explicit ExpSumScanner(V temperature, key_t<V>* champions = nullptr)
        : divisor_(temperature), champions_(champions) {}

    static index_t champion_capacity(index_t n) { return n / block + width; }
    index_t n_champions() const { return n_champions_; }

    ExpSum<V> run(const T* x, index_t n) {
        const index_t simd_end = whole_steps(n, width);
        index_t j = 0;
        bool finite_max = true;
        for (; finite_max && j + block * width <= simd_end; j += block * width) finite_max = consume(x + j, block);
        if (finite_max && j < simd_end) finite_max = consume(x + j, (simd_end - j) / width);
        if (finite_max && simd_end < n) {
            // The last partial batch, padded with -inf: exp gives 0 and the max ignores it.
            alignas(64) T tail[width];
            for (index_t i = 0; i < width; ++i)
                tail[i] = simd_end + i < n ? x[simd_end + i] : from_value<T>(-std::numeric_limits<V>::infinity());
            p_is_row_ = false;
            finite_max = consume(tail, 1);
        }
        flush();
        if (finite_max) return ExpSum<V>{shift_, sum_};
        // A +inf (x / T may overflow to it): only a NaN anywhere changes the answer.
        bool has_nan = false;
        for (index_t i = 0; i < n; ++i) has_nan |= std::isnan(to_value(x[i]));
        return ExpSum<V>{std::numeric_limits<V>::infinity(),
                         has_nan ? std::numeric_limits<double>::quiet_NaN() : 1.0};
    }
};

// The row's ExpSum of x / temperature, and the keys of its block maxima in `champions`
// (capacity: champion_capacity(n)), their number in n_champions.
template <class A, class T, class V = value_t<T>>
ExpSum<V> exp_sum_row(const T* x, index_t n, V temperature, key_t<V>* champions, index_t& n_champions) {
    if (temperature == V(1)) {
        ExpSumScanner<A, T, false> scanner(temperature, champions);
        const ExpSum<V> s = scanner.run(x, n);
        n_champions = scanner.n_champions();
        return s;
    }
    ExpSumScanner<A, T, true> scanner(temperature, champions);
    const ExpSum<V> s = scanner.run(x, n);
    n_champions = scanner.n_champions();
    return s;
}

// logsumexp of rows of up to short_row_max elements, a tile of rows (one per lane) at a time as
// column registers (transpose.hpp), ExpSum's rules lane by lane: the maximum ignoring NaN, the
// shift that maximum where finite and 0 elsewhere, exp_term_of_sum summed down the columns (a
// NaN makes the sum NaN; an all -inf row sums to 0, whose log is -inf), then shift + log(sum)
// in double, vectorised. A row holding +inf (rare) is answered apart: +inf, or NaN with a NaN.
template <class A, class T>
void logsumexp_short_rows(Rows<const T> x, T* out) {
    using V = value_t<T>;
    using B = batch<V, A>;
    using D = batch<double, A>;
    constexpr index_t width = B::size;
    constexpr V inf = std::numeric_limits<V>::infinity();
    const index_t n = x.n_cols;
    B columns[short_row_max];
    for (index_t r0 = 0; r0 < x.n_rows; r0 += width) {
        const index_t rows_here = std::min(width, x.n_rows - r0);
        load_tile_columns<A>(x, r0, rows_here, columns);
        B m(-inf);
        for (index_t j = 0; j < n; ++j) m = xsimd::select(columns[j] > m, columns[j], m);  // NaN never wins
        const auto finite_max = xsimd::isfinite(m);
        const B shift = xsimd::select(finite_max, m, B(V(0)));
        B sum(V(0));
        for (index_t j = 0; j < n; ++j) sum = sum + exp_term_of_sum<A>(columns[j] - shift);
        alignas(64) V shift_lanes[width], sum_lanes[width], max_lanes[width];
        alignas(64) double result[width];
        shift.store_aligned(shift_lanes);
        sum.store_aligned(sum_lanes);
        m.store_aligned(max_lanes);
        for (index_t i = 0; i < width; i += index_t(D::size)) {
            const D s = D::load_unaligned(sum_lanes + i), sh = D::load_unaligned(shift_lanes + i);
            (sh + xsimd::log(s)).store_unaligned(result + i);
        }
        const bool some_inf = xsimd::any(m == B(inf));
        for (index_t i = 0; i < rows_here; ++i) {
            double r = result[i];
            if (some_inf && max_lanes[i] == inf) {
                // (A flag, not r = NaN in the loop: GCC -O3 turns that into a max reduction,
                // which drops the NaN.)
                const T* row = x.row(r0 + i);
                bool has_nan = false;
                for (index_t j = 0; j < n; ++j) has_nan |= std::isnan(to_value(row[j]));
                r = has_nan ? std::numeric_limits<double>::quiet_NaN() : double(inf);
            }
            out[r0 + i] = from_value<T>(V(r));
        }
    }
}

template <class A, class T>
void logsumexp_rows(Rows<const T> x, T* out) {
    if (x.n_cols >= 1 && x.n_cols <= short_row_max) return logsumexp_short_rows<short_tile_arch<A, value_t<T>>>(x, out);
    for (index_t r = 0; r < x.n_rows; ++r) {
        if (r + 1 < x.n_rows) prefetch_row(x.row(r + 1), x.n_cols);
        const ExpSum<value_t<T>> s = ExpSumScanner<A, T, false>(value_t<T>(1)).run(x.row(r), x.n_cols);
        out[r] = from_value<T>(value_t<T>(double(s.shift) + std::log(s.sum)));
    }
}

// The selected logits, in place, to softmax (or log_softmax) values with the row's ExpSum:
// SciPy's expressions, (v - shift) in T as SciPy computes it, the rest in double and rounded
// once (half precision: computed in float, rounded once to storage).
template <class T, class V = value_t<T>>
void logits_to_probabilities(T* values, index_t k, const ExpSum<V>& s, V temperature, bool log) {
    const bool scaled = temperature != V(1);
    if (log) {
        const V log_sum = V(std::log(s.sum));
        for (index_t i = 0; i < k; ++i) {
            const V v = scaled ? to_value(values[i]) / temperature : to_value(values[i]);
            values[i] = from_value<T>((v - s.shift) - log_sum);
        }
    } else if (s.softmax_defined()) {
        for (index_t i = 0; i < k; ++i) {
            const V v = scaled ? to_value(values[i]) / temperature : to_value(values[i]);
            values[i] = from_value<T>(V(std::exp(double(v - s.shift)) / s.sum));
        }
    } else {
        for (index_t i = 0; i < k; ++i) values[i] = from_value<T>(std::numeric_limits<V>::quiet_NaN());
    }
}

// select.hpp's selector, run with a lower bound found beforehand: the key of one of at least
// k distinct elements of the row. Only the filter pass and the final ordering remain.
template <class A, class T, class Item>
struct BoundedTopKSelector : TopKRowSelector<A, T, Item> {
    using Base = TopKRowSelector<A, T, Item>;
    using V = value_t<T>;
    using K = key_t<V>;
    using P = Packed<K, Item>;
    static constexpr index_t width = Base::width;
    using Base::Base;

    void run(const T* row, index_t n, K bound, bool sorted, T* values_out, index_t* indices_out) {
        if (n <= this->capacity) return Base::run(row, n, sorted, values_out, indices_out);
        const index_t size = filter(row, n, bound);
        if (size <= Base::short_row) return this->place_by_rank(row, size, values_out, indices_out);
        Item* buf = this->buffer.get();
        if (!this->spare.get()) this->spare = Scratch<Item>(this->capacity);
        select_largest(buf, size, this->k, this->spare.get());
        if (sorted) sort_descending(buf, this->k, this->spare.get());
        for (index_t i = 0; i < this->k; ++i) {
            const index_t j = P::index(buf[i]);
            indices_out[i] = j;
            values_out[i] = row[j];
        }
    }

    // The survivors of the bound (at least k), cut back to k whenever k + slack have gathered.
    index_t filter(const T* row, index_t n, K bound) {
        index_t size = 0, j = 0;
        Beats<A, V> beats(bound, true, true);
        for (bool cut = true; cut;) {
            if (beats.mode() == BeatMode::nothing) return size;
            cut = beats.with_mode([&](auto mode) {
                return this->template scan_blocks<decltype(mode)::value>(row, n, j, size, beats);
            });
        }
        for (; j + width <= n; j += width) size = this->take(row, j, mask_bits(beats(load_values<A>(row + j))), size);
        if (j < n) {  // the row's last `width` lanes, those not seen yet
            const index_t base = n - width;
            const std::uint64_t unseen = ~((std::uint64_t(1) << (j - base)) - 1);
            size = this->take(row, base, mask_bits(beats(load_values<A>(row + base))) & unseen, size);
        }
        return size;
    }
};

// The k-th largest of keys[0, count): first folded pairwise (max of two distinct elements is
// one of them) while 4k or more remain, so the bound stays tight and the selection small.
template <class K>
K kth_largest_champion(K* keys, index_t count, index_t k) {
    while (count % 2 == 0 && count / 2 >= 4 * k) {
        const index_t half = count / 2;
        for (index_t i = 0; i < half; ++i) keys[i] = std::max(keys[i], keys[i + half]);
        count = half;
    }
    std::nth_element(keys, keys + (k - 1), keys + count, KeyFirst<K>{});
    return keys[k - 1];
}

template <class A, class T, class Item, class V = value_t<T>>
void topk_softmax_rows_with(Rows<const T> x, index_t k, V temperature, bool log, bool sorted, Rows<T> values,
                            Rows<index_t> indices) {
    BoundedTopKSelector<A, T, Item> selector(x.n_cols, k, true, true);
    Scratch<key_t<V>> champions(ExpSumScanner<A, T, false>::champion_capacity(x.n_cols));
    for (index_t r = 0; r < x.n_rows; ++r) {
        if (r + 1 < x.n_rows) prefetch_row(x.row(r + 1), x.n_cols);
        const T* row = x.row(r);
        index_t n_champions = 0;
        const ExpSum<V> s = exp_sum_row<A>(row, x.n_cols, temperature, champions.get(), n_champions);
        // Row by row, so that the selection reads the row from cache.
        if (n_champions >= 2 * k)
            selector.run(row, x.n_cols, kth_largest_champion(champions.get(), n_champions, k), sorted,
                         values.row(r), indices.row(r));
        else
            selector.Base::run(row, x.n_cols, sorted, values.row(r), indices.row(r));
        logits_to_probabilities(values.row(r), k, s, temperature, log);
    }
}

template <class A, class T>
void topk_softmax_rows(Rows<const T> x, index_t k, value_t<T> temperature, bool log, bool sorted, Rows<T> values,
                       Rows<index_t> indices) {
    if (k == 0) return;
    if (sizeof(key_t<value_t<T>>) == 4 && x.n_cols <= index_t(0xffffffff))
        topk_softmax_rows_with<A, T, std::uint64_t>(x, k, temperature, log, sorted, values, indices);
    else
        topk_softmax_rows_with<A, T, unsigned __int128>(x, k, temperature, log, sorted, values, indices);
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
