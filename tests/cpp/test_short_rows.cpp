// The short-row softmax, argmax/argmin and logsumexp (n_classes <= 64, softmax_short.hpp and
// argmax_short.hpp), which work on a tile of rows at a time: a row's result must not depend on
// which rows share its tile, where in the tile it lies, or the strides of input and output;
// softmax must agree across the ISAs with FMA. (Against the references: test_topk_softmax.cpp
// and test_argmax_rank.cpp, on every length 1..70.)
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "harness.hpp"
#include "reference.hpp"

namespace fasttopk_test {
namespace {

// The same bits, except that any NaN equals any NaN: which operand's NaN an operation passes on
// depends on the compiler's choice of operand order, which NumPy does not fix either.
template <class T>
bool same_row_bits(const T* a, const T* b, index_t n) {
    for (index_t j = 0; j < n; ++j) {
        if (std::isnan(a[j]) && std::isnan(b[j])) continue;
        if (std::memcmp(a + j, b + j, sizeof(T)) != 0) return false;
    }
    return true;
}

TEST_CASE_TEMPLATE("short-row softmax: each row as if alone, in any tile position and stride", T, float, double) {
    for (index_t n = 1; n <= 70; ++n) {
        // The hostile rows twice over (NaN, +-inf, all -inf, ties...): several tiles, a partial last
        // one, and rows whose shift is not finite next to rows whose shift is (log_softmax).
        auto rows = hostile_rows<T>(n, 11);
        const auto more = hostile_rows<T>(n, 12);
        rows.insert(rows.end(), more.rbegin(), more.rend());
        const Matrix<T> x = as_matrix(rows, n);
        for (const bool log : {false, true}) {
            const char* kind = log ? "log_softmax" : "softmax";
            std::vector<Matrix<T>> results;
            for (const KernelTable* table : tested_tables()) {
                const auto softmax = table->of<T>().softmax;
                Matrix<T> all(x.n_rows(), n, 7);  // another stride than x's
                softmax(x.const_rows(), log, all.rows());
                CHECK_MESSAGE(all.gaps_untouched(), where<T>(table, "all", n, std::string(kind) + ": wrote past out"));
                // Starting one row later moves every row to another lane of another tile.
                Matrix<T> shifted(x.n_rows() - 1, n, 1);
                softmax(x.const_rows().slice(1, x.n_rows()), log, shifted.rows());
                for (index_t r = 0; r < x.n_rows(); ++r) {
                    Matrix<T> alone(1, n, 0);
                    softmax(x.const_rows().slice(r, r + 1), log, alone.rows());
                    const std::string name = rows[std::size_t(r)].name;
                    CHECK_MESSAGE(same_row_bits(alone.row(0), all.row(r), n),
                                  where<T>(table, name, n, kind) << ": alone " << show_row(alone.row(0), n) << ", in a tile "
                                                                 << show_row(all.row(r), n));
                    if (r > 0)
                        CHECK_MESSAGE(same_row_bits(shifted.row(r - 1), all.row(r), n),
                                      where<T>(table, name, n, kind) << ": depends on the row's place in its tile");
                }
                // FMA ISAs compute the same exp bits and add in the same order: the same results.
                if (std::string(table->name) != "sse2") {
                    if (!results.empty())
                        for (index_t r = 0; r < x.n_rows(); ++r)
                            CHECK_MESSAGE(same_row_bits(all.row(r), results.front().row(r), n),
                                          where<T>(table, rows[std::size_t(r)].name, n, std::string(kind) + ": differs across ISAs"));
                    results.push_back(std::move(all));
                }
            }
        }
    }
}

TEST_CASE_TEMPLATE("short-row argmax/argmin: the reference's index in any tile position and stride", T, float, double) {
    for (index_t n = 1; n <= 70; ++n) {
        auto rows = hostile_rows<T>(n, 21);
        const auto more = hostile_rows<T>(n, 22);
        rows.insert(rows.end(), more.rbegin(), more.rend());
        Matrix<T> x(index_t(rows.size()), n, 5);
        for (index_t r = 0; r < x.n_rows(); ++r)
            for (index_t j = 0; j < n; ++j) x.at(r, j) = rows[std::size_t(r)].values[std::size_t(j)];
        for (const bool find_min : {false, true}) {
            for (const KernelTable* table : tested_tables()) {
                for (const index_t first : {index_t(0), index_t(1), index_t(3)}) {  // rows move between lanes
                    std::vector<index_t> got(std::size_t(x.n_rows() - first), -1);
                    table->of<T>().arg_reduce(x.const_rows().slice(first, x.n_rows()), find_min, got.data());
                    for (index_t r = first; r < x.n_rows(); ++r) {
                        const auto& row = rows[std::size_t(r)].values;
                        const index_t expected =
                            reference_arg_extreme<T>(n, find_min, [&](index_t j) { return row[std::size_t(j)]; });
                        CHECK_MESSAGE(got[std::size_t(r - first)] == expected,
                                      where<T>(table, rows[std::size_t(r)].name, n, find_min ? "argmin" : "argmax")
                                          << " from row " << first << ": got " << got[std::size_t(r - first)]
                                          << ", expected " << expected << " in " << show_row(row.data(), n));
                    }
                }
            }
        }
    }
}

// Rows of up to 64 wide whose sum has many terms of one size and a few far smaller ones: the
// outputs must stay within rounding of the long-double reference whatever the summation order.
TEST_CASE("short-row softmax: float32 sum of many equal terms") {
    for (index_t n = 2; n <= 64; ++n) {
        std::vector<float> row(std::size_t(n), 0.0f);
        for (index_t j = 0; j < n; j += 3) row[std::size_t(j)] = -20.0f;  // exp(-20): far below 1
        const Matrix<float> x = as_matrix(std::vector<NamedRow<float>>{{"equal_terms", row}}, n);
        const SoftmaxReference ref = reference_softmax(row, false);
        for (const KernelTable* table : tested_tables()) {
            Matrix<float> out(1, n);
            table->f32.softmax(x.const_rows(), false, out.rows());
            for (index_t j = 0; j < n; ++j) {
                const double want = ref.out[std::size_t(j)], have = out.at(0, j);
                CHECK_MESSAGE(std::fabs(have - want) <= 4 * 1.2e-7 * want,
                              where<float>(table, "equal_terms", n, "softmax") << " at " << j << ": " << have << " vs " << want);
            }
        }
    }
}

// logsumexp as scipy.special.logsumexp defines it, in long double: NaN with a NaN (and with
// +inf), +inf with +inf, -inf for an all -inf row.
template <class T>
long double reference_logsumexp(const std::vector<T>& row) {
    bool nan = false, pos_inf = false;
    long double m = -std::numeric_limits<long double>::infinity();
    for (const T v : row) {
        nan |= std::isnan(v);
        pos_inf |= v == std::numeric_limits<T>::infinity();
        if (!std::isnan(v)) m = std::max(m, (long double)v);
    }
    if (nan) return std::numeric_limits<long double>::quiet_NaN();
    if (pos_inf) return std::numeric_limits<long double>::infinity();
    if (m == -std::numeric_limits<long double>::infinity()) return m;
    long double sum = 0;
    for (const T v : row) sum += std::exp((long double)v - m);
    return m + std::log(sum);
}

// The tile kernel (rows up to 64) and the long-row scanner beyond: within a few ulp of the
// reference (terms below exp(-87) of the maximum are dropped: far below rounding), the same
// bits for a row alone as in a tile.
TEST_CASE_TEMPLATE("logsumexp: SciPy's value within rounding, each row as if alone", T, float, double) {
    for (index_t n = 1; n <= 70; ++n) {
        auto rows = hostile_rows<T>(n, 31);
        const auto more = hostile_rows<T>(n, 32);
        rows.insert(rows.end(), more.rbegin(), more.rend());
        const Matrix<T> x = as_matrix(rows, n);
        for (const KernelTable* table : tested_tables()) {
            std::vector<T> all(std::size_t(x.n_rows()), T(7));
            table->of<T>().logsumexp(x.const_rows(), all.data());
            for (index_t r = 0; r < x.n_rows(); ++r) {
                const std::string name = rows[std::size_t(r)].name;
                const long double want = reference_logsumexp(rows[std::size_t(r)].values);
                const T have = all[std::size_t(r)];
                bool ok;
                if (std::isnan(want)) ok = std::isnan(have);
                else if (std::isinf(want)) ok = have == T(want);
                else ok = std::fabs((long double)have - want) <= 8 * std::numeric_limits<T>::epsilon() * std::max(1.0L, std::fabs(want));
                CHECK_MESSAGE(ok, where<T>(table, name, n, "logsumexp") << ": got " << have << ", expected " << double(want)
                                                                         << " in " << show_row(rows[std::size_t(r)].values.data(), n));
                T alone = T(7);
                table->of<T>().logsumexp(x.const_rows().slice(r, r + 1), &alone);
                CHECK_MESSAGE(same_row_bits(&alone, &have, 1), where<T>(table, name, n, "logsumexp: depends on its tile"));
            }
        }
    }
}

}  // namespace
}  // namespace fasttopk_test
