// Fused softmax + top-k and logsumexp: the softmax of a row is never materialised.
//
// Per row of v = x / temperature:
//  1. One pass for the maximum and the sum of exponentials, online: the row is read in blocks
//     of a few batches; a block's lane-wise maximum is compared with the running one (one
//     compare per block), and only when it grows is the running sum rescaled, exp(old - new).
//     Each block's exponentials are summed in T and added to a double, so a row of 10^7
//     elements loses no more than a few ulp (SciPy sums pairwise in T).
//  2. The top-k selection of select.hpp on the logits themselves, on the row still in cache:
//     softmax is monotonic and v = x / T (T > 0) keeps the order, so topk's order, tie and NaN
//     rules apply as they are.
//  3. exp (or the log form) only for the k winners, from the values in (1).
// Non-finite rows come out as SciPy's softmax, log_softmax and logsumexp make them; see ExpSum.
#pragma once
#include <cmath>

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

template <class A, class T>
class ExpSumScanner {
    using B = batch<T, A>;
    static constexpr index_t width = B::size;
    static constexpr index_t block = 16;  // batches per block: one max check, one hadd each

    const bool scaled_;
    const B divisor_;
    T max_ = -std::numeric_limits<T>::infinity();  // of the blocks so far, NaN ignored
    T shift_ = T(0);
    double sum_ = 0.0;

    B scale(B v) const { return scaled_ ? v / divisor_ : v; }

    // Adds the blocks' exponentials; false when a +inf was met (the row's answer is then fixed).
    bool consume(const T* p, index_t n_batches) {
        B top = load<T, A>(p);
        for (index_t b = 1; b < n_batches; ++b) top = xsimd::max(top, load<T, A>(p + b * width));
        top = scale(top);  // max(x) / T == max(x / T): rounding is monotonic
        if (xsimd::any(top > B(max_))) {  // rare after the first blocks; NaN lanes never pass
            const T m = reduce_extreme<false, T, A>(
                xsimd::select(is_nan(top), B(-std::numeric_limits<T>::infinity()), top));
            if (m == std::numeric_limits<T>::infinity()) return false;
            if (sum_ != 0.0) sum_ *= std::exp(double(shift_) - double(m));  // 0 or NaN stays
            max_ = shift_ = m;
        }
        const B shift(shift_);
        B acc0 = exp_shifted<A>(scale(load<T, A>(p)) - shift, true), acc1(T(0));
        index_t b = 1;
        for (; b + 2 <= n_batches; b += 2) {
            acc0 = acc0 + exp_shifted<A>(scale(load<T, A>(p + b * width)) - shift, true);
            acc1 = acc1 + exp_shifted<A>(scale(load<T, A>(p + (b + 1) * width)) - shift, true);
        }
        if (b < n_batches) acc0 = acc0 + exp_shifted<A>(scale(load<T, A>(p + b * width)) - shift, true);
        sum_ += double(xsimd::hadd(acc0 + acc1));
        return true;
    }

   public:
    explicit ExpSumScanner(T temperature) : scaled_(temperature != T(1)), divisor_(temperature) {}

    ExpSum<T> run(const T* x, index_t n) {
        const index_t simd_end = whole_steps(n, width);
        index_t j = 0;
        bool finite_max = true;
        for (; finite_max && j + block * width <= simd_end; j += block * width) finite_max = consume(x + j, block);
        if (finite_max && j < simd_end) finite_max = consume(x + j, (simd_end - j) / width);
        if (finite_max && simd_end < n) {
            // The last partial batch, padded with -inf: exp gives 0 and the max ignores it.
            alignas(64) T tail[width];
            for (index_t i = 0; i < width; ++i)
                tail[i] = simd_end + i < n ? x[simd_end + i] : -std::numeric_limits<T>::infinity();
            finite_max = consume(tail, 1);
        }
        if (finite_max) return ExpSum<T>{shift_, sum_};
        // A +inf (x / T may overflow to it): only a NaN anywhere changes the answer.
        bool has_nan = false;
        for (index_t i = 0; i < n; ++i) has_nan |= std::isnan(x[i]);
        return ExpSum<T>{std::numeric_limits<T>::infinity(),
                         has_nan ? std::numeric_limits<double>::quiet_NaN() : 1.0};
    }
};

template <class A, class T>
ExpSum<T> exp_sum_row(const T* x, index_t n, T temperature) {
    return ExpSumScanner<A, T>(temperature).run(x, n);
}

template <class A, class T>
void logsumexp_rows(Rows<const T> x, T* out) {
    for (index_t r = 0; r < x.n_rows; ++r) {
        if (r + 1 < x.n_rows) prefetch_row(x.row(r + 1), x.n_cols);
        const ExpSum<T> s = exp_sum_row<A>(x.row(r), x.n_cols, T(1));
        out[r] = T(double(s.shift) + std::log(s.sum));
    }
}

// The selected logits, in place, to softmax (or log_softmax) values with the row's ExpSum:
// SciPy's expressions, (v - shift) in T as SciPy computes it, the rest in double and rounded
// once.
template <class T>
void logits_to_probabilities(T* values, index_t k, const ExpSum<T>& s, T temperature, bool log) {
    const bool scaled = temperature != T(1);
    if (log) {
        const T log_sum = T(std::log(s.sum));
        for (index_t i = 0; i < k; ++i) {
            const T v = scaled ? values[i] / temperature : values[i];
            values[i] = (v - s.shift) - log_sum;
        }
    } else if (s.softmax_defined()) {
        for (index_t i = 0; i < k; ++i) {
            const T v = scaled ? values[i] / temperature : values[i];
            values[i] = T(std::exp(double(v - s.shift)) / s.sum);
        }
    } else {
        for (index_t i = 0; i < k; ++i) values[i] = std::numeric_limits<T>::quiet_NaN();
    }
}

template <class A, class T>
void topk_softmax_rows(Rows<const T> x, index_t k, T temperature, bool log, bool sorted, Rows<T> values,
                       Rows<index_t> indices) {
    if (k == 0) return;
    for (index_t r = 0; r < x.n_rows; ++r) {
        if (r + 1 < x.n_rows) prefetch_row(x.row(r + 1), x.n_cols);
        const ExpSum<T> s = exp_sum_row<A>(x.row(r), x.n_cols, temperature);
        // Row by row, so that the selection reads the row from cache.
        topk_rows<A, T>(x.slice(r, r + 1), k, true, sorted, values.slice(r, r + 1), indices.slice(r, r + 1));
        logits_to_probabilities(values.row(r), k, s, temperature, log);
    }
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
