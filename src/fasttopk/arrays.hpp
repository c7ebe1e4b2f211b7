// Views over the caller's memory: a batch of rows whose elements are contiguous within a row
// and whose rows lie `row_stride` elements apart. The core reads and writes through these only.
#pragma once
#include <cstdint>
#include <type_traits>

namespace fasttopk {

using index_t = std::int64_t;

// Half-precision storage: the kernels read these as float (widened in registers, exactly) and
// write float results back rounded once to nearest even. Plain bits, no arithmetic.
struct float16_t {
    std::uint16_t bits;
};
struct bfloat16_t {  // the top half of a float32
    std::uint16_t bits;
};

// The type a kernel computes in for storage type T.
template <class T>
struct value_of {
    using type = T;
};
template <>
struct value_of<float16_t> {
    using type = float;
};
template <>
struct value_of<bfloat16_t> {
    using type = float;
};
template <class T>
using value_t = typename value_of<T>::type;
template <class T>
constexpr bool is_half_v = !std::is_same_v<value_t<T>, T>;

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

// An array reduced along a middle axis, viewed as (n_outer, n, n_inner) with the inner axis
// contiguous: n_outer panels of n rows of n_inner columns. Strides in elements, any sign.
template <class T>
struct Panels {
    T* data = nullptr;
    index_t n_outer = 0;
    index_t n = 0;
    index_t n_inner = 0;
    index_t outer_stride = 0;
    index_t row_stride = 0;

    // Columns [c0, c1) of panel o, as rows.
    Rows<T> columns(index_t o, index_t c0, index_t c1) const {
        return Rows<T>{data + o * outer_stride + c0, n, c1 - c0, row_stride};
    }
};

}  // namespace fasttopk
