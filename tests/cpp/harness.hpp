// What every kernel test needs: the kernel tables under test, matrices laid out as hostile as
// the kernels allow (rows not vector-aligned, a row stride wider than the row, sentinels in
// the gaps to catch stray writes), and failure messages that name the case.
#pragma once
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "catalogue.hpp"
#include "fasttopk/kernels.hpp"

namespace fasttopk_test {

using fasttopk::KernelTable;
using fasttopk::Rows;

// The kernel tables of this build that this CPU runs (dispatch.hpp), all of them, or the ones
// named in FASTTOPK_ARCH (comma-separated). Defined in main.cpp.
const std::vector<const KernelTable*>& tested_tables();

template <class T>
bool same_bits(T a, T b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

template <class T>
T sentinel() {
    if constexpr (std::is_floating_point_v<T>) return T(-12345.25);
    else return T(-7);
}

// n_rows x n_cols, rows `pad` elements apart beyond n_cols, the first one element past an
// allocation's start (so no row is reliably vector-aligned); everything else holds sentinels.
template <class T>
class Matrix {
   public:
    Matrix(index_t n_rows, index_t n_cols, index_t pad = 3)
        : n_rows_(n_rows), n_cols_(n_cols), stride_(n_cols + pad),
          storage_(std::size_t(n_rows * stride_ + 2), sentinel<T>()) {}

    T* row(index_t r) { return storage_.data() + 1 + r * stride_; }
    const T* row(index_t r) const { return storage_.data() + 1 + r * stride_; }
    T& at(index_t r, index_t c) { return row(r)[c]; }
    const T& at(index_t r, index_t c) const { return row(r)[c]; }
    Rows<T> rows() { return Rows<T>{row(0), n_rows_, n_cols_, stride_}; }
    Rows<const T> const_rows() const { return Rows<const T>{row(0), n_rows_, n_cols_, stride_}; }
    index_t n_rows() const { return n_rows_; }
    index_t n_cols() const { return n_cols_; }

    // True when nothing outside the n_rows x n_cols elements was written.
    bool gaps_untouched() const {
        auto untouched = [&](std::size_t begin, std::size_t end) {
            for (std::size_t i = begin; i < end; ++i)
                if (!same_bits(storage_[i], sentinel<T>())) return false;
            return true;
        };
        if (!untouched(0, 1)) return false;
        for (index_t r = 0; r < n_rows_; ++r) {
            const std::size_t row_end = std::size_t(1 + r * stride_ + n_cols_);
            if (!untouched(row_end, row_end + std::size_t(stride_ - n_cols_))) return false;
        }
        return untouched(std::size_t(1 + n_rows_ * stride_), storage_.size());
    }
    bool operator==(const Matrix& other) const {
        return storage_.size() == other.storage_.size() &&
               std::memcmp(storage_.data(), other.storage_.data(), storage_.size() * sizeof(T)) == 0;
    }

   private:
    index_t n_rows_, n_cols_, stride_;
    std::vector<T> storage_;
};

// The hostile rows of length n, as the rows of a matrix.
template <class T>
Matrix<T> as_matrix(const std::vector<NamedRow<T>>& rows, index_t n, index_t pad = 3) {
    Matrix<T> m(index_t(rows.size()), n, pad);
    for (index_t r = 0; r < m.n_rows(); ++r)
        for (index_t j = 0; j < n; ++j) m.at(r, j) = rows[std::size_t(r)].values[std::size_t(j)];
    return m;
}

template <class T>
std::string show(T value) {
    std::ostringstream s;
    s.precision(std::numeric_limits<T>::max_digits10);
    if constexpr (sizeof(T) == 1) s << int(value);
    else s << value;
    return s.str();
}

template <class T>
std::string show_row(const T* row, index_t n, index_t most = 24) {
    std::string s = "[";
    for (index_t j = 0; j < n && j < most; ++j) s += (j ? ", " : "") + show(row[j]);
    return s + (n > most ? ", ...]" : "]");
}

// "avx2 float32 'nan_first' n=17" and any further detail.
template <class T>
std::string where(const KernelTable* table, const std::string& pattern, index_t n, const std::string& detail = "") {
    std::ostringstream s;
    s << table->name << ' ' << dtype_name<T>() << " '" << pattern << "' n=" << n;
    if (!detail.empty()) s << ' ' << detail;
    return s.str();
}

}  // namespace fasttopk_test
