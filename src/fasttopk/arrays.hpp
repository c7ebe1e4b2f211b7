// Views over the caller's memory: a batch of rows whose elements are contiguous within a row
// and whose rows lie `row_stride` elements apart. The core reads and writes through these only.
#pragma once
#include <cstdint>

namespace fasttopk {

using index_t = std::int64_t;

template <class T>
struct Rows {
    T* data = nullptr;
    index_t n_rows = 0;
    index_t n_cols = 0;
    index_t row_stride = 0;  // in elements, not bytes

    T* row(index_t r) const { return data + r * row_stride; }
    Rows slice(index_t begin, index_t end) const {
        return Rows{data + begin * row_stride, end - begin, n_cols, row_stride};
    }
};

}  // namespace fasttopk
