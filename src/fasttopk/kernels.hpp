// The dispatch table: one entry per kernel and dtype, filled once per ISA by src/isa/<isa>.cpp.
// Only plain data lives here so that every translation unit may include it.
#pragma once
#include <cstdint>
#include <type_traits>
#include "fasttopk/arrays.hpp"

namespace fasttopk {

template <class T>
struct TypedKernels {
    // out[r] = index of the first maximum (minimum) of row r; the first NaN if the row has one.
    void (*arg_reduce)(Rows<const T> x, bool find_min, index_t* out) = nullptr;
    // out[c] = the same down column c (a reduction along axis 0, rows read where they lie).
    void (*arg_reduce_columns)(Rows<const T> x, bool find_min, index_t* out) = nullptr;
    // softmax or log_softmax of every row, written to out (which may alias x exactly).
    void (*softmax)(Rows<const T> x, bool log, Rows<T> out) = nullptr;
    // The k best of every row in the order of select.hpp; k <= n_cols.
    void (*topk)(Rows<const T> x, index_t k, bool largest, bool sorted, Rows<T> values,
                 Rows<index_t> indices) = nullptr;
    // ranks[r] = scikit-learn's rank of column labels[r] in row r (0 = first).
    // Returns false if the rows hold NaN or +-inf (then ranks are unspecified).
    bool (*true_label_rank)(Rows<const T> scores, const index_t* labels, index_t* ranks) = nullptr;
    // The k largest of softmax(x / temperature) (log_softmax with log) of every row, selected on
    // the logits in topk's order, without the softmax in memory (fused.hpp). Floats only.
    void (*topk_softmax)(Rows<const T> x, index_t k, value_t<T> temperature, bool log, bool sorted, Rows<T> values,
                         Rows<index_t> indices) = nullptr;
    // out[r] = log(sum(exp(row r))), as scipy.special.logsumexp. Floats only.
    void (*logsumexp)(Rows<const T> x, T* out) = nullptr;
    // The same three down the columns (along axis 0, read in place; columns.hpp): softmax of
    // every column into out (which may alias x), out[c] = logsumexp of column c (floats only),
    // and ranks[c] = the rank of row labels[c] in column c (false on NaN or +-inf).
    void (*softmax_columns)(Rows<const T> x, bool log, Rows<T> out) = nullptr;
    void (*logsumexp_columns)(Rows<const T> x, T* out) = nullptr;
    bool (*true_label_rank_columns)(Rows<const T> scores, const index_t* labels, index_t* ranks) = nullptr;
    // The k best of every column in topk's order, always sorted, into k rows of values and
    // indices (topk along axis 0, read in place; topk_columns.hpp). k <= n_rows.
    void (*topk_columns)(Rows<const T> x, index_t k, bool largest, Rows<T> values, Rows<index_t> indices) = nullptr;
};

struct KernelTable {
    const char* name = nullptr;
    TypedKernels<float> f32;
    TypedKernels<double> f64;
    TypedKernels<std::int32_t> i32;
    TypedKernels<std::int64_t> i64;
    TypedKernels<float16_t> f16;   // read as float, results rounded once
    TypedKernels<bfloat16_t> bf16;

    template <class T>
    const TypedKernels<T>& of() const {
        if constexpr (std::is_same_v<T, float>) return f32;
        else if constexpr (std::is_same_v<T, double>) return f64;
        else if constexpr (std::is_same_v<T, std::int32_t>) return i32;
        else if constexpr (std::is_same_v<T, std::int64_t>) return i64;
        else if constexpr (std::is_same_v<T, float16_t>) return f16;
        else return bf16;
    }
};

// One per ISA the build has; defined in src/isa/<isa>.cpp. Functions, not global objects: a
// global's initialiser would run at load time, in code built with that ISA's flags, on any CPU
// (an AVX-512 store there kills the import on an SSE-only machine). Call one only when the CPU
// has its ISA.
const KernelTable& kernel_table_sse2();
const KernelTable& kernel_table_avx2();
const KernelTable& kernel_table_avx512();
const KernelTable& kernel_table_neon64();

}  // namespace fasttopk
