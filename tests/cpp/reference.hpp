// Plain scalar references for every kernel, written from the order rules of DESIGN.md and not
// from the kernels' code: a sort with the rule as comparator, NumPy's argmax loop, SciPy's
// softmax formulas in a wider type, scikit-learn's rank by counting.
#pragma once
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "catalogue.hpp"

namespace fasttopk_test {

// topk's order: a ranks before b. largest: descending, NaN above +inf; smallest: ascending,
// NaN last. -0.0 == +0.0; equal values rank by ascending index.
template <class T>
bool ranks_before(T a, index_t ia, T b, index_t ib, bool largest) {
    const bool a_nan = is_nan(a), b_nan = is_nan(b);
    if (a_nan || b_nan) {
        if (a_nan && b_nan) return ia < ib;
        return largest ? a_nan : b_nan;
    }
    if (a == b) return ia < ib;
    return largest ? a > b : a < b;
}

// Every index of the row, best first.
template <class T>
std::vector<index_t> reference_order(const std::vector<T>& row, bool largest) {
    std::vector<index_t> order(row.size());
    std::iota(order.begin(), order.end(), index_t(0));
    std::sort(order.begin(), order.end(), [&](index_t i, index_t j) {
        return ranks_before(row[std::size_t(i)], i, row[std::size_t(j)], j, largest);
    });
    return order;
}

// NumPy's argmax / argmin: the first NaN if there is one, else the first extreme.
template <class T, class At>
index_t reference_arg_extreme(index_t n, bool find_min, At at) {
    for (index_t j = 0; j < n; ++j)
        if (is_nan(at(j))) return j;
    index_t best = 0;
    for (index_t j = 1; j < n; ++j)
        if (find_min ? at(j) < at(best) : at(j) > at(best)) best = j;
    return best;
}

// scikit-learn's rank of column t: #{j : s_j > s_t} + #{j > t : s_j == s_t}.
template <class T>
index_t reference_rank(const std::vector<T>& row, index_t t) {
    index_t rank = 0;
    for (index_t j = 0; j < index_t(row.size()); ++j) {
        const T s_j = row[std::size_t(j)], s_t = row[std::size_t(t)];
        rank += (s_j > s_t) || (j > t && s_j == s_t);
    }
    return rank;
}

// SciPy's softmax / log_softmax of one row in a wider type (double for float32; long double
// for float64: 64 bits of mantissa on x86-64, 113 on aarch64), and for each element the scale
// its rounding error is relative to:
//   softmax:     m = max(x); out = exp(x - m) / sum(exp(x - m))        scale = |out|
//   log_softmax: m = max(x), 0 if not finite; t = x - m; out = t - log(sum(exp(t)))
//                                                                scale = |t| + |log sum| + 1
// (log's absolute error is the sum's relative error: SciPy's log(sum), not log1p, is no better
// near 0), plus |x - m|, the size of the exponent whose rounding in T the kernel cannot avoid.
// Kept in double: far finer than the tolerances, and cheap to compare where long double is
// emulated in software (aarch64, under qemu).
struct SoftmaxReference {
    std::vector<double> out;
    std::vector<double> scale;
    std::vector<double> shifted;  // |x - m|
};

template <class T>
SoftmaxReference reference_softmax(const std::vector<T>& x, bool log) {
    using W = std::conditional_t<std::is_same_v<T, float>, double, long double>;
    const std::size_t n = x.size();
    SoftmaxReference ref{std::vector<double>(n), std::vector<double>(n), std::vector<double>(n)};
    W m = -INFINITY;
    bool any_nan = false;
    for (T v : x) {
        any_nan |= std::isnan(v);
        m = std::max<W>(m, v);
    }
    if (any_nan) {  // NumPy's max is NaN, and so is every output
        std::fill(ref.out.begin(), ref.out.end(), NAN);
        return ref;
    }
    if (log && !std::isfinite(m)) m = 0;
    std::vector<W> e(n);
    W sum = 0;
    for (std::size_t j = 0; j < n; ++j) sum += e[j] = std::exp(W(x[j]) - m);  // inf - inf: NaN
    const W log_sum = std::log(sum);
    for (std::size_t j = 0; j < n; ++j) {
        const W t = W(x[j]) - m;
        ref.out[j] = double(log ? t - log_sum : e[j] / sum);
        ref.scale[j] = double(log ? std::fabs(t) + std::fabs(log_sum) + 1 : std::fabs(e[j] / sum));
        ref.shifted[j] = double(std::fabs(t));
    }
    return ref;
}

}  // namespace fasttopk_test
