// arg_reduce, arg_reduce_columns and true_label_rank on the hostile rows, every dtype, every
// ISA: exactly the scalar reference, and bit-identical across ISAs.
#include <doctest/doctest.h>

#include "harness.hpp"
#include "reference.hpp"

namespace fasttopk_test {
namespace {

TEST_CASE_TEMPLATE("arg_reduce: NumPy's first extreme, or the first NaN", T, float, double, std::int32_t, std::int64_t) {
    for (const index_t n : test_lengths()) {
        const auto rows = hostile_rows<T>(n, 1);
        const Matrix<T> x = as_matrix(rows, n);
        for (const bool find_min : {false, true}) {
            std::vector<Matrix<index_t>> results;
            for (const KernelTable* table : tested_tables()) {
                Matrix<index_t> out(1, x.n_rows());
                table->of<T>().arg_reduce(x.const_rows(), find_min, out.row(0));
                for (index_t r = 0; r < x.n_rows(); ++r) {
                    const auto& row = rows[std::size_t(r)].values;
                    const index_t expected = reference_arg_extreme<T>(n, find_min, [&](index_t j) { return row[std::size_t(j)]; });
                    CHECK_MESSAGE(out.at(0, r) == expected,
                                  where<T>(table, rows[std::size_t(r)].name, n, find_min ? "argmin" : "argmax")
                                      << ": got " << out.at(0, r) << ", expected " << expected << " in "
                                      << show_row(row.data(), n));
                }
                CHECK_MESSAGE(out.gaps_untouched(), where<T>(table, "all", n, "wrote past out"));
                if (!results.empty()) CHECK_MESSAGE(out == results.front(), where<T>(table, "all", n, "differs across ISAs"));
                results.push_back(std::move(out));
            }
        }
    }
}

// Down the columns: column p of an n x P matrix is hostile row p; subsets of columns cover
// the vector body and the scalar remainder of every width.
TEST_CASE_TEMPLATE("arg_reduce_columns: NumPy's argmax along axis 0", T, float, double, std::int32_t, std::int64_t) {
    for (const index_t n : test_lengths()) {
        const auto rows = hostile_rows<T>(n, 2);
        const index_t patterns = index_t(rows.size());
        for (const index_t n_cols : {index_t(1), index_t(2), index_t(3), index_t(4), index_t(5), index_t(7),
                                     index_t(8), index_t(9), index_t(15), index_t(16), index_t(17), patterns}) {
            if (n_cols > patterns) continue;
            Matrix<T> x(n, n_cols);
            for (index_t r = 0; r < n; ++r)
                for (index_t c = 0; c < n_cols; ++c) x.at(r, c) = rows[std::size_t(c)].values[std::size_t(r)];
            for (const bool find_min : {false, true}) {
                std::vector<Matrix<index_t>> results;
                for (const KernelTable* table : tested_tables()) {
                    Matrix<index_t> out(1, n_cols);
                    table->of<T>().arg_reduce_columns(x.const_rows(), find_min, out.row(0));
                    for (index_t c = 0; c < n_cols; ++c) {
                        const auto& column = rows[std::size_t(c)].values;
                        const index_t expected = reference_arg_extreme<T>(n, find_min, [&](index_t j) { return column[std::size_t(j)]; });
                        CHECK_MESSAGE(out.at(0, c) == expected,
                                      where<T>(table, rows[std::size_t(c)].name, n,
                                               std::string(find_min ? "argmin" : "argmax") + " down column " +
                                                   std::to_string(c) + " of " + std::to_string(n_cols))
                                          << ": got " << out.at(0, c) << ", expected " << expected << " in "
                                          << show_row(column.data(), n));
                    }
                    CHECK_MESSAGE(out.gaps_untouched(), where<T>(table, "all", n, "wrote past out"));
                    if (!results.empty()) CHECK_MESSAGE(out == results.front(), where<T>(table, "all", n, "differs across ISAs"));
                    results.push_back(std::move(out));
                }
            }
        }
    }
}

// Labels that visit every column of short rows, and the ends, middle and neighbours of long ones.
std::vector<index_t> label_offsets(index_t n) {
    std::vector<index_t> offsets;
    if (n <= 70) {
        for (index_t t = 0; t < n; ++t) offsets.push_back(t);
    } else {
        for (index_t t : {index_t(0), index_t(1), index_t(2), n / 2 - 1, n / 2, n - 3, n - 2, n - 1}) offsets.push_back(t);
    }
    return offsets;
}

template <class T>
bool row_is_finite(const std::vector<T>& row) {
    for (T v : row)
        if (!is_finite(v)) return false;
    return true;
}

// Rows padded apart, and rows back to back (pad 0: the span kernel of rows narrower than a register).
TEST_CASE_TEMPLATE("true_label_rank: scikit-learn's rank, false on NaN or inf", T, float, double, std::int32_t, std::int64_t) {
    for (const index_t n : test_lengths())
    for (const index_t pad : {index_t(3), index_t(0)}) {
        const auto all_rows = hostile_rows<T>(n, 3);
        std::vector<NamedRow<T>> finite, non_finite;
        for (const auto& row : all_rows) (row_is_finite(row.values) ? finite : non_finite).push_back(row);
        const Matrix<T> x = as_matrix(finite, n, pad);
        for (const index_t offset : label_offsets(n)) {
            std::vector<index_t> labels(finite.size());
            for (std::size_t r = 0; r < labels.size(); ++r) labels[r] = (offset + index_t(r)) % n;
            std::vector<Matrix<index_t>> results;
            for (const KernelTable* table : tested_tables()) {
                Matrix<index_t> ranks(1, x.n_rows());
                const bool ok = table->of<T>().true_label_rank(x.const_rows(), labels.data(), ranks.row(0));
                CHECK_MESSAGE(ok, where<T>(table, "finite rows", n, "reported a non-finite score"));
                for (index_t r = 0; r < x.n_rows(); ++r) {
                    const auto& row = finite[std::size_t(r)].values;
                    const index_t expected = reference_rank(row, labels[std::size_t(r)]);
                    CHECK_MESSAGE(ranks.at(0, r) == expected,
                                  where<T>(table, finite[std::size_t(r)].name, n, "label " + std::to_string(labels[std::size_t(r)]))
                                      << ": got rank " << ranks.at(0, r) << ", expected " << expected << " in "
                                      << show_row(row.data(), n));
                }
                CHECK_MESSAGE(ranks.gaps_untouched(), where<T>(table, "all", n, "wrote past ranks"));
                if (!results.empty()) CHECK_MESSAGE(ranks == results.front(), where<T>(table, "all", n, "differs across ISAs"));
                results.push_back(std::move(ranks));
            }
        }
        // A NaN or an infinity anywhere in the batch: false, whichever row and label.
        for (const auto& bad : non_finite) {
            std::vector<NamedRow<T>> batch = finite;
            batch.insert(batch.begin() + std::ptrdiff_t(batch.size() / 2), bad);
            const Matrix<T> mixed = as_matrix(batch, n, pad);
            const Matrix<T> alone = as_matrix(std::vector<NamedRow<T>>{bad}, n, pad);
            const std::vector<index_t> labels(batch.size(), n - 1);
            for (const KernelTable* table : tested_tables()) {
                Matrix<index_t> ranks(1, mixed.n_rows());
                CHECK_MESSAGE(!table->of<T>().true_label_rank(mixed.const_rows(), labels.data(), ranks.row(0)),
                              where<T>(table, bad.name, n, "among finite rows: not reported non-finite"));
                CHECK_MESSAGE(!table->of<T>().true_label_rank(alone.const_rows(), labels.data(), ranks.row(0)),
                              where<T>(table, bad.name, n, "alone: not reported non-finite"));
                CHECK_MESSAGE(ranks.gaps_untouched(), where<T>(table, bad.name, n, "wrote past ranks"));
            }
        }
    }
}

}  // namespace
}  // namespace fasttopk_test
