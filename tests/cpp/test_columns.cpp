// The column kernels (columns.hpp) on the hostile rows laid down the columns, every ISA:
// softmax / log_softmax and logsumexp within rounding of SciPy's formulas (a sequential sum of
// n positive terms: its relative error is below n eps), out aliasing x giving the same bits,
// true_label_rank_columns exactly scikit-learn's rank, with the finite check, and topk_columns
// exactly the reference order.
#include <doctest/doctest.h>

#include "harness.hpp"
#include "reference.hpp"

namespace fasttopk_test {
namespace {

std::vector<index_t> column_lengths() {
    return {1, 2, 3, 7, 8, 9, 16, 17, 31, 64, 70, 127, 129, 700, 1025, 1500};
}

// Column c of the n x n_cols matrix is hostile pattern c % patterns (so that wide matrices
// cover the big blocks of every ISA and the partial register at the end).
template <class T>
Matrix<T> columns_of(const std::vector<NamedRow<T>>& rows, index_t n, index_t n_cols) {
    Matrix<T> x(n, n_cols);
    for (index_t r = 0; r < n; ++r)
        for (index_t c = 0; c < n_cols; ++c) x.at(r, c) = rows[std::size_t(c) % rows.size()].values[std::size_t(r)];
    return x;
}

std::vector<index_t> widths(index_t patterns) { return {1, 3, 5, 8, 17, patterns, 64 + 7, 3 * 64 + 33}; }

// Columns tall enough that softmax and logsumexp take their passes row after row (columns.hpp's
// columns_by_rows) rather than block by block, on every ISA (SSE2's 16-byte registers from
// 10240 float rows), and fewer widths for them.
std::vector<index_t> lengths_with_tall() {
    auto lengths = column_lengths();
    lengths.push_back(6000);
    lengths.push_back(11000);
    return lengths;
}
std::vector<index_t> widths_for(index_t n, index_t patterns) {
    if (n > 1500) return {1, 9, patterns, 64 + 7};
    return widths(patterns);
}

template <class T>
bool close(double have, double want, double rel, double abs) {
    if (std::isnan(want)) return std::isnan(have);
    if (std::isinf(want) || have == want) return have == want;
    return std::isfinite(have) && std::fabs(have - want) <= rel * std::fabs(want) + abs;
}

TEST_CASE_TEMPLATE("softmax_columns: SciPy's softmax down every column, out may alias x", T, float, double) {
    constexpr double eps = std::numeric_limits<T>::epsilon();
    for (const index_t n : lengths_with_tall()) {
        const auto rows = hostile_rows<T>(n, 7);
        for (const index_t n_cols : widths_for(n, index_t(rows.size()))) {
            const Matrix<T> x = columns_of(rows, n, n_cols);
            for (const bool log : {false, true}) {
                std::vector<SoftmaxReference> refs;
                for (index_t c = 0; c < n_cols; ++c) refs.push_back(reference_softmax(rows[std::size_t(c) % rows.size()].values, log));
                for (const KernelTable* table : tested_tables()) {
                    Matrix<T> out(n, n_cols, 5);
                    table->of<T>().softmax_columns(x.const_rows(), log, out.rows());
                    const std::string what = std::string(log ? "log_softmax" : "softmax") + " columns=" + std::to_string(n_cols);
                    for (index_t c = 0; c < n_cols; ++c) {
                        const auto& ref = refs[std::size_t(c)];
                        for (index_t r = 0; r < n; ++r) {
                            const double want = T(ref.out[std::size_t(r)]);
                            const double tol = (1e-5 * (sizeof(T) == 4) + 1e-13 + (double(n) + ref.shifted[std::size_t(r)]) * eps) *
                                               ref.scale[std::size_t(r)];
                            const bool ok = close<T>(double(out.at(r, c)), want, 0.0, tol + 4.0 * std::numeric_limits<T>::min());
                            CHECK_MESSAGE(ok, where<T>(table, rows[std::size_t(c) % rows.size()].name, n, what)
                                                  << " at row " << r << " column " << c << ": got " << show(out.at(r, c))
                                                  << ", expected " << show(T(want)));
                            if (!ok) break;
                        }
                    }
                    CHECK_MESSAGE(out.gaps_untouched(), where<T>(table, "all", n, what + ": wrote past out"));
                    Matrix<T> in_place = x;
                    table->of<T>().softmax_columns(in_place.const_rows(), log, in_place.rows());
                    bool same = true;
                    for (index_t r = 0; r < n; ++r)
                        for (index_t c = 0; c < n_cols; ++c) same = same && same_bits(in_place.at(r, c), out.at(r, c));
                    CHECK_MESSAGE(same, where<T>(table, "all", n, what + ": in place differs"));
                    CHECK_MESSAGE(in_place.gaps_untouched(), where<T>(table, "all", n, what + ": in place wrote past x"));
                }
            }
        }
    }
}

// scipy.special.logsumexp of one column, in long double: NaN with a NaN, +inf with a +inf,
// -inf when every element is -inf.
template <class T>
long double reference_logsumexp(const std::vector<T>& x) {
    long double m = -INFINITY;
    bool nan = false;
    for (T v : x) {
        nan |= std::isnan(v);
        if (v > m) m = v;
    }
    if (nan) return NAN;
    if (!std::isfinite(m)) return m;
    long double sum = 0;
    for (T v : x) sum += std::exp((long double)v - m);
    return m + std::log(sum);
}

TEST_CASE_TEMPLATE("logsumexp_columns: SciPy's logsumexp down every column", T, float, double) {
    constexpr double eps = std::numeric_limits<T>::epsilon();
    for (const index_t n : lengths_with_tall()) {
        const auto rows = hostile_rows<T>(n, 8);
        for (const index_t n_cols : widths_for(n, index_t(rows.size()))) {
            const Matrix<T> x = columns_of(rows, n, n_cols);
            for (const KernelTable* table : tested_tables()) {
                Matrix<T> out(1, n_cols);
                table->of<T>().logsumexp_columns(x.const_rows(), out.row(0));
                for (index_t c = 0; c < n_cols; ++c) {
                    const auto& column = rows[std::size_t(c) % rows.size()];
                    const double want = double(T(reference_logsumexp(column.values)));
                    // The sum's relative error (n eps) is log's absolute error; the result rounds.
                    const bool ok = close<T>(double(out.at(0, c)), want, 4 * eps, (double(n) + 4) * eps);
                    CHECK_MESSAGE(ok, where<T>(table, column.name, n, "logsumexp column " + std::to_string(c))
                                          << ": got " << show(out.at(0, c)) << ", expected " << show(T(want)));
                }
                CHECK_MESSAGE(out.gaps_untouched(), where<T>(table, "all", n, "logsumexp wrote past out"));
            }
        }
    }
}

TEST_CASE_TEMPLATE("true_label_rank_columns: scikit-learn's rank down every column", T, float, double, std::int32_t,
                   std::int64_t) {
    for (const index_t n : column_lengths()) {
        const auto rows = hostile_rows<T>(n, 9);
        for (const index_t n_cols : widths(index_t(rows.size()))) {
            const Matrix<T> x = columns_of(rows, n, n_cols);
            std::vector<index_t> labels(static_cast<std::size_t>(n_cols));
            for (index_t c = 0; c < n_cols; ++c) labels[std::size_t(c)] = (c * 7919 + n / 2) % n;
            bool finite = true;
            for (index_t r = 0; r < n; ++r)
                for (index_t c = 0; c < n_cols; ++c) finite = finite && is_finite(x.at(r, c));
            for (const KernelTable* table : tested_tables()) {
                Matrix<index_t> ranks(1, n_cols);
                const bool got_finite = table->of<T>().true_label_rank_columns(x.const_rows(), labels.data(), ranks.row(0));
                CHECK_MESSAGE(got_finite == finite, where<T>(table, "all", n, "finite check"));
                if (!finite) continue;
                for (index_t c = 0; c < n_cols; ++c) {
                    const auto& column = rows[std::size_t(c) % rows.size()];
                    const index_t want = reference_rank(column.values, labels[std::size_t(c)]);
                    CHECK_MESSAGE(ranks.at(0, c) == want, where<T>(table, column.name, n, "rank column " + std::to_string(c))
                                                              << ": got " << ranks.at(0, c) << ", expected " << want);
                }
                CHECK_MESSAGE(ranks.gaps_untouched(), where<T>(table, "all", n, "rank wrote past ranks"));
            }
            // Finite columns only: the NaN/inf patterns left out, so the ranks are checked too.
            std::vector<NamedRow<T>> finite_rows;
            for (const auto& row : rows) {
                bool ok = true;
                for (T v : row.values) ok = ok && is_finite(v);
                if (ok) finite_rows.push_back(row);
            }
            if (finite_rows.empty() || finite) continue;
            const Matrix<T> y = columns_of(finite_rows, n, n_cols);
            for (const KernelTable* table : tested_tables()) {
                Matrix<index_t> ranks(1, n_cols);
                CHECK(table->of<T>().true_label_rank_columns(y.const_rows(), labels.data(), ranks.row(0)));
                for (index_t c = 0; c < n_cols; ++c) {
                    const auto& column = finite_rows[std::size_t(c) % finite_rows.size()];
                    const index_t want = reference_rank(column.values, labels[std::size_t(c)]);
                    CHECK_MESSAGE(ranks.at(0, c) == want, where<T>(table, column.name, n, "rank column " + std::to_string(c))
                                                              << ": got " << ranks.at(0, c) << ", expected " << want);
                }
            }
        }
    }
}

// topk down the columns: column c's indices, and values bit for bit, exactly the reference order
// of its pattern, whichever path k takes (inserting, or strips through the row kernel).
TEST_CASE_TEMPLATE("topk_columns: the reference order down every column, values bit for bit", T, float, double,
                   std::int32_t, std::int64_t) {
    for (const index_t n : column_lengths()) {
        const auto rows = hostile_rows<T>(n, 11);
        for (const index_t n_cols : {index_t(1), index_t(5), index_t(17), index_t(rows.size()), index_t(64 + 7)}) {
            const Matrix<T> x = columns_of(rows, n, n_cols);
            for (const bool largest : {true, false}) {
                std::vector<std::vector<index_t>> orders;
                for (const auto& row : rows) orders.push_back(reference_order(row.values, largest));
                for (const index_t k : test_ks(n)) {
                    const std::string what = "topk_columns k=" + std::to_string(k) + (largest ? " largest" : " smallest") +
                                             " columns=" + std::to_string(n_cols);
                    for (const KernelTable* table : tested_tables()) {
                        Matrix<T> values(k, n_cols, 2);
                        Matrix<index_t> indices(k, n_cols, 2);
                        table->of<T>().topk_columns(x.const_rows(), k, largest, values.rows(), indices.rows());
                        for (index_t c = 0; c < n_cols; ++c) {
                            const auto& column = rows[std::size_t(c) % rows.size()];
                            const auto& order = orders[std::size_t(c) % rows.size()];
                            index_t bad = -1;
                            for (index_t j = 0; j < k && bad < 0; ++j) {
                                const index_t at = indices.at(j, c);
                                if (at != order[std::size_t(j)] || !same_bits(values.at(j, c), column.values[std::size_t(at)]))
                                    bad = j;
                            }
                            CHECK_MESSAGE(bad < 0, where<T>(table, column.name, n, what)
                                                       << ": column " << c << " differs at place " << bad);
                        }
                        CHECK_MESSAGE(values.gaps_untouched(), where<T>(table, "all", n, what + ": wrote past values"));
                        CHECK_MESSAGE(indices.gaps_untouched(), where<T>(table, "all", n, what + ": wrote past indices"));
                    }
                }
            }
        }
    }
}

TEST_CASE("the column kernels are in every table") {
    for (const KernelTable* table : tested_tables()) {
        CHECK((table->f32.softmax_columns != nullptr && table->f64.logsumexp_columns != nullptr));
        CHECK((table->f16.softmax_columns != nullptr && table->bf16.logsumexp_columns != nullptr));
        CHECK((table->i32.softmax_columns == nullptr && table->i64.true_label_rank_columns != nullptr));
        CHECK((table->f32.topk_columns != nullptr && table->i64.topk_columns != nullptr));
        CHECK((table->f16.topk_columns != nullptr && table->bf16.topk_columns != nullptr));
    }
}

}  // namespace
}  // namespace fasttopk_test
