// Fills a KernelTable with every kernel instantiated for one ISA. Included once, by the
// ISA's own translation unit.
#pragma once
#include "fasttopk/argmax.hpp"
#include "fasttopk/columns.hpp"
#include "fasttopk/fused.hpp"
#include "fasttopk/rank.hpp"
#include "fasttopk/select.hpp"
#include "fasttopk/softmax.hpp"
#include "fasttopk/topk_columns.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

template <class A, class T>
TypedKernels<T> typed_kernels() {
    TypedKernels<T> k;
    k.arg_reduce = &arg_reduce_rows<A, T>;
    k.arg_reduce_columns = &arg_reduce_columns<A, T>;
    if constexpr (std::is_floating_point_v<value_t<T>>) k.softmax = &softmax_rows<A, T>;
    k.topk = &topk_rows<A, T>;
    k.topk_columns = &topk_columns<A, T>;
    k.true_label_rank = &true_label_rank_rows<A, T>;
    k.true_label_rank_columns = &true_label_rank_columns<A, T>;
    if constexpr (std::is_floating_point_v<value_t<T>>) {
        k.topk_softmax = &topk_softmax_rows<A, T>;
        k.logsumexp = &logsumexp_rows<A, T>;
        k.softmax_columns = &softmax_columns<A, T>;
        k.logsumexp_columns = &logsumexp_columns<A, T>;
    }
    return k;
}

template <class A>
KernelTable make_kernel_table(const char* name) {
    KernelTable table;
    table.name = name;
    table.f32 = typed_kernels<A, float>();
    table.f64 = typed_kernels<A, double>();
    table.i32 = typed_kernels<A, std::int32_t>();
    table.i64 = typed_kernels<A, std::int64_t>();
    table.f16 = typed_kernels<A, float16_t>();
    table.bf16 = typed_kernels<A, bfloat16_t>();
    return table;
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
