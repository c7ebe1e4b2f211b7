// pybind11 module fasttopk._core: NumPy buffers in, kernels called with the GIL released.
// It only converts. The Python layer has already checked arguments, made the last axis
// contiguous, and allocated every output; what reaches here is 2-D.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <string>

#include "fasttopk/api.hpp"

namespace py = pybind11;
using fasttopk::index_t;
using fasttopk::Rows;

namespace {

// A 2-D NumPy array of T as a Rows view, through an xtensor adaptor over its buffer (no copy).
template <class T>
Rows<T> rows_view(const py::array& a, const char* name, bool writable) {
    if (a.ndim() != 2) throw py::value_error(std::string(name) + ": expected a 2-D array");
    if (writable && !a.writeable()) throw py::value_error(std::string(name) + ": array is read-only");
    const auto item = index_t(sizeof(T));
    const index_t n_rows = a.shape(0), n_cols = a.shape(1);
    if ((n_cols > 1 && a.strides(1) != item) || a.strides(0) % item != 0)
        throw py::value_error(std::string(name) + ": the last axis must be contiguous");
    T* data = static_cast<T*>(const_cast<void*>(a.data()));
    const std::array<std::size_t, 2> shape{std::size_t(n_rows), std::size_t(n_cols)};
    const std::array<std::ptrdiff_t, 2> strides{a.strides(0) / item, 1};
    // xtensor sizes an adaptor by its shape (it checks size == n_rows * n_cols), not by the
    // span its strides cover.
    auto view = xt::adapt(data, std::size_t(n_rows * n_cols), xt::no_ownership(), shape, strides);
    return fasttopk::rows_of(view);
}

// A 3-D NumPy array (outer, n, inner) with a contiguous inner axis as Panels (no copy); the
// outer and middle strides may be anything, negative included.
template <class T>
fasttopk::Panels<T> panels_view(const py::array& a, const char* name, bool writable) {
    if (a.ndim() != 3) throw py::value_error(std::string(name) + ": expected a 3-D array");
    if (writable && !a.writeable()) throw py::value_error(std::string(name) + ": array is read-only");
    const auto item = index_t(sizeof(T));
    if ((a.shape(2) > 1 && a.strides(2) != item) || a.strides(0) % item != 0 || a.strides(1) % item != 0)
        throw py::value_error(std::string(name) + ": the last axis must be contiguous");
    T* data = static_cast<T*>(const_cast<void*>(a.data()));
    if (reinterpret_cast<std::uintptr_t>(data) % alignof(T) != 0)
        throw py::value_error(std::string(name) + ": the data must be aligned to its element size");
    return fasttopk::Panels<T>{data, a.shape(0), a.shape(1), a.shape(2), a.strides(0) / item, a.strides(1) / item};
}

template <class T>
fasttopk::Panels<const T> as_const(fasttopk::Panels<T> p) {
    return fasttopk::Panels<const T>{p.data, p.n_outer, p.n, p.n_inner, p.outer_stride, p.row_stride};
}

index_t* int64_out(py::array a, index_t n, const char* name) {
    if (!py::isinstance<py::array_t<std::int64_t>>(a) || a.ndim() != 1 || a.shape(0) != n ||
        (n > 1 && a.strides(0) != 8) || !a.writeable() || reinterpret_cast<std::uintptr_t>(a.data()) % alignof(index_t) != 0)
        throw py::value_error(std::string(name) + ": expected a writable aligned contiguous int64 array of length " +
                              std::to_string(n));
    return static_cast<index_t*>(a.mutable_data());
}

const index_t* int64_in(const py::array& a, index_t n, const char* name) {
    if (!py::isinstance<py::array_t<std::int64_t>>(a) || a.ndim() != 1 || a.shape(0) != n ||
        (n > 1 && a.strides(0) != 8) || reinterpret_cast<std::uintptr_t>(a.data()) % alignof(index_t) != 0)
        throw py::value_error(std::string(name) + ": expected an aligned contiguous int64 array of length " +
                              std::to_string(n));
    return static_cast<const index_t*>(a.data());
}

// Calls fn(T{}) for the dtype of x, one of those the kernels have. float16 is NumPy's; bfloat16
// arrives as a 2-byte void dtype (ml_dtypes.bfloat16, or a raw view the Python layer makes of
// a torch bfloat16 tensor): the Python layer passes no other 2-byte void.
template <class Fn>
auto by_dtype(const py::array& x, Fn&& fn) {
    const auto kind = x.dtype().kind();
    const auto size = x.dtype().itemsize();
    if (kind == 'f' && size == 4) return fn(float{});
    if (kind == 'f' && size == 8) return fn(double{});
    if (kind == 'i' && size == 4) return fn(std::int32_t{});
    if (kind == 'i' && size == 8) return fn(std::int64_t{});
    if (kind == 'f' && size == 2) return fn(fasttopk::float16_t{});
    if (kind == 'V' && size == 2) return fn(fasttopk::bfloat16_t{});
    throw py::type_error("unsupported dtype " + std::string(py::str(x.dtype())) +
                         "; the core takes float16, bfloat16, float32, float64, int32 or int64");
}

// Throws unless every label lies in [0, n): one branch-free pass (a compare per label as an
// unsigned, which the compiler vectorises), not a branch per label.
void check_labels_below(const index_t* labels, index_t count, index_t n) {
    bool out_of_range = false;
    for (index_t i = 0; i < count; ++i) out_of_range |= std::uint64_t(labels[i]) >= std::uint64_t(n);
    if (out_of_range) throw py::value_error("labels: out of range");
}

void same_dtype(const py::array& a, const py::array& x, const char* name) {
    if (a.dtype().kind() != x.dtype().kind() || a.dtype().itemsize() != x.dtype().itemsize())
        throw py::type_error(std::string(name) + ": dtype must match the input");
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "fasttopk's SIMD core; use the functions of the fasttopk package instead.";

    m.attr("half_precision") = true;  // float16 and bfloat16 are read by the kernels as they are
    m.def("simd_arch", [] { return std::string(fasttopk::active_kernels().name); });
    m.def("available_archs", [] {
        std::vector<std::string> names;
        for (const auto* table : fasttopk::usable_kernel_tables()) names.emplace_back(table->name);
        return names;
    });
    m.def("set_num_threads", &fasttopk::set_num_threads, py::arg("n"));
    m.def("get_num_threads", &fasttopk::get_num_threads);

    m.def("arg_reduce", [](const py::array& x, bool find_min, const py::array& out) {
        by_dtype(x, [&](auto tag) {
            using T = decltype(tag);
            auto rows = fasttopk::as_const(rows_view<T>(x, "x", false));
            index_t* o = int64_out(out, rows.n_rows, "out");
            py::gil_scoped_release nogil;
            fasttopk::arg_reduce<T>(rows, find_min, o);
            return 0;
        });
    }, py::arg("x"), py::arg("find_min"), py::arg("out"));

    m.def("arg_reduce_columns", [](const py::array& x, bool find_min, const py::array& out) {
        by_dtype(x, [&](auto tag) {
            using T = decltype(tag);
            auto rows = fasttopk::as_const(rows_view<T>(x, "x", false));
            index_t* o = int64_out(out, rows.n_cols, "out");
            if (rows.n_rows < 1) throw py::value_error("x: no rows to reduce");
            py::gil_scoped_release nogil;
            fasttopk::arg_reduce_columns<T>(rows, find_min, o);
            return 0;
        });
    }, py::arg("x"), py::arg("find_min"), py::arg("out"));

    m.def("softmax", [](const py::array& x, bool log, const py::array& out) {
        by_dtype(x, [&](auto tag) {
            using T = decltype(tag);
            if constexpr (!std::is_floating_point_v<fasttopk::value_t<T>>) {
                throw py::type_error("softmax: the core takes floating-point input");
            } else {
                auto rows = fasttopk::as_const(rows_view<T>(x, "x", false));
                same_dtype(out, x, "out");
                auto o = rows_view<T>(out, "out", true);
                if (o.n_rows != rows.n_rows || o.n_cols != rows.n_cols) throw py::value_error("out: wrong shape");
                py::gil_scoped_release nogil;
                fasttopk::softmax<T>(rows, log, o);
            }
            return 0;
        });
    }, py::arg("x"), py::arg("log"), py::arg("out"));

    m.def("topk", [](const py::array& x, index_t k, bool largest, bool sorted, const py::array& values,
                     const py::array& indices) {
        by_dtype(x, [&](auto tag) {
            using T = decltype(tag);
            auto rows = fasttopk::as_const(rows_view<T>(x, "x", false));
            same_dtype(values, x, "values");
            auto v = rows_view<T>(values, "values", true);
            auto i = rows_view<index_t>(indices, "indices", true);
            if (k < 0 || k > rows.n_cols) throw py::value_error("k: must lie in [0, n]");
            if (v.n_rows != rows.n_rows || v.n_cols != k || i.n_rows != rows.n_rows || i.n_cols != k)
                throw py::value_error("values/indices: wrong shape");
            py::gil_scoped_release nogil;
            fasttopk::topk<T>(rows, k, largest, sorted, v, i);
            return 0;
        });
    }, py::arg("x"), py::arg("k"), py::arg("largest"), py::arg("sorted"), py::arg("values"), py::arg("indices"));

    m.def("true_label_rank", [](const py::array& scores, const py::array& labels, const py::array& ranks) {
        return by_dtype(scores, [&](auto tag) {
            using T = decltype(tag);
            auto rows = fasttopk::as_const(rows_view<T>(scores, "y_score", false));
            const index_t* l = int64_in(labels, rows.n_rows, "labels");
            check_labels_below(l, rows.n_rows, rows.n_cols);
            index_t* o = int64_out(ranks, rows.n_rows, "ranks");
            py::gil_scoped_release nogil;
            return fasttopk::true_label_rank<T>(rows, l, o);
        });
    }, py::arg("scores"), py::arg("labels"), py::arg("ranks"),
       "Ranks of the true labels; returns False if the scores hold NaN or infinity.");

    m.def("mark_present_labels", [](const py::array& labels, index_t lo, py::array present) {
        if (labels.ndim() != 1) throw py::value_error("labels: expected a 1-D int64 array");
        const index_t* l = int64_in(labels, labels.shape(0), "labels");
        if (!py::isinstance<py::array_t<std::uint8_t>>(present) && !py::isinstance<py::array_t<bool>>(present))
            throw py::type_error("present: expected a bool or uint8 array");
        if (present.ndim() != 1 || (present.shape(0) > 1 && present.strides(0) != 1) || !present.writeable())
            throw py::value_error("present: expected a writable contiguous 1-D array");
        auto* p = static_cast<std::uint8_t*>(present.mutable_data());
        py::gil_scoped_release nogil;
        fasttopk::mark_present_labels(l, labels.shape(0), lo, present.shape(0), p);
    }, py::arg("labels"), py::arg("lo"), py::arg("present"),
       "Sets present[v - lo] for each label v in range: the classes that occur.");

    m.def("topk_softmax", [](const py::array& x, index_t k, double temperature, bool log, bool sorted,
                             const py::array& values, const py::array& indices) {
        by_dtype(x, [&](auto tag) {
            using T = decltype(tag);
            using V = fasttopk::value_t<T>;
            if constexpr (!std::is_floating_point_v<V>) {
                throw py::type_error("topk_softmax: the core takes floating-point input");
            } else {
                auto rows = fasttopk::as_const(rows_view<T>(x, "x", false));
                same_dtype(values, x, "values");
                auto v = rows_view<T>(values, "values", true);
                auto i = rows_view<index_t>(indices, "indices", true);
                if (k < 0 || k > rows.n_cols) throw py::value_error("k: must lie in [0, n]");
                if (v.n_rows != rows.n_rows || v.n_cols != k || i.n_rows != rows.n_rows || i.n_cols != k)
                    throw py::value_error("values/indices: wrong shape");
                const V t = V(temperature);
                if (!(t > V(0)) || !std::isfinite(t)) throw py::value_error("temperature: must be finite and > 0");
                py::gil_scoped_release nogil;
                fasttopk::topk_softmax<T>(rows, k, t, log, sorted, v, i);
            }
            return 0;
        });
    }, py::arg("x"), py::arg("k"), py::arg("temperature"), py::arg("log"), py::arg("sorted"), py::arg("values"),
       py::arg("indices"));

    m.def("logsumexp", [](const py::array& x, const py::array& out) {
        by_dtype(x, [&](auto tag) {
            using T = decltype(tag);
            if constexpr (!std::is_floating_point_v<fasttopk::value_t<T>>) {
                throw py::type_error("logsumexp: the core takes floating-point input");
            } else {
                auto rows = fasttopk::as_const(rows_view<T>(x, "x", false));
                same_dtype(out, x, "out");
                if (out.ndim() != 1 || out.shape(0) != rows.n_rows || (rows.n_rows > 1 && out.strides(0) != sizeof(T)) ||
                    !out.writeable())
                    throw py::value_error("out: expected a writable contiguous array of length n_rows");
                T* o = static_cast<T*>(const_cast<void*>(out.data()));
                py::gil_scoped_release nogil;
                fasttopk::logsumexp<T>(rows, o);
            }
            return 0;
        });
    }, py::arg("x"), py::arg("out"));

    // Along the middle axis of x viewed as (outer, n, inner), read in place (columns.hpp).
    m.def("softmax_panels", [](const py::array& x, bool log, const py::array& out) {
        by_dtype(x, [&](auto tag) {
            using T = decltype(tag);
            if constexpr (!std::is_floating_point_v<fasttopk::value_t<T>>) {
                throw py::type_error("softmax: the core takes floating-point input");
            } else {
                auto p = as_const(panels_view<T>(x, "x", false));
                same_dtype(out, x, "out");
                auto o = panels_view<T>(out, "out", true);
                if (o.n_outer != p.n_outer || o.n != p.n || o.n_inner != p.n_inner)
                    throw py::value_error("out: wrong shape");
                if (p.n < 1) throw py::value_error("x: softmax of an empty axis");
                py::gil_scoped_release nogil;
                fasttopk::softmax_panels<T>(p, log, o);
            }
            return 0;
        });
    }, py::arg("x"), py::arg("log"), py::arg("out"));

    m.def("logsumexp_panels", [](const py::array& x, const py::array& out) {
        by_dtype(x, [&](auto tag) {
            using T = decltype(tag);
            if constexpr (!std::is_floating_point_v<fasttopk::value_t<T>>) {
                throw py::type_error("logsumexp: the core takes floating-point input");
            } else {
                auto p = as_const(panels_view<T>(x, "x", false));
                same_dtype(out, x, "out");
                const index_t n_out = p.n_outer * p.n_inner;
                if (out.ndim() != 1 || out.shape(0) != n_out || (n_out > 1 && out.strides(0) != sizeof(T)) ||
                    !out.writeable())
                    throw py::value_error("out: expected a writable contiguous array of length outer * inner");
                if (p.n < 1) throw py::value_error("x: logsumexp_panels needs a non-empty axis");
                T* o = static_cast<T*>(const_cast<void*>(out.data()));
                py::gil_scoped_release nogil;
                fasttopk::logsumexp_panels<T>(p, o);
            }
            return 0;
        });
    }, py::arg("x"), py::arg("out"));

    m.def("topk_panels", [](const py::array& x, index_t k, bool largest, const py::array& values,
                            const py::array& indices) {
        by_dtype(x, [&](auto tag) {
            using T = decltype(tag);
            auto p = as_const(panels_view<T>(x, "x", false));
            same_dtype(values, x, "values");
            auto v = panels_view<T>(values, "values", true);
            auto i = panels_view<index_t>(indices, "indices", true);
            if (k < 0 || k > p.n) throw py::value_error("k: must lie in [0, n]");
            for (const auto& [outer, n, inner] : {std::array<index_t, 3>{v.n_outer, v.n, v.n_inner},
                                                  std::array<index_t, 3>{i.n_outer, i.n, i.n_inner}})
                if (outer != p.n_outer || n != k || inner != p.n_inner) throw py::value_error("values/indices: wrong shape");
            py::gil_scoped_release nogil;
            fasttopk::topk_panels<T>(p, k, largest, v, i);
            return 0;
        });
    }, py::arg("x"), py::arg("k"), py::arg("largest"), py::arg("values"), py::arg("indices"),
       "topk along the middle axis of x viewed as (outer, n, inner), read in place; always sorted.");

    m.def("true_label_rank_columns", [](const py::array& scores, const py::array& labels, const py::array& ranks) {
        return by_dtype(scores, [&](auto tag) {
            using T = decltype(tag);
            auto rows = fasttopk::as_const(rows_view<T>(scores, "y_score", false));
            const index_t* l = int64_in(labels, rows.n_cols, "labels");
            check_labels_below(l, rows.n_cols, rows.n_rows);
            index_t* o = int64_out(ranks, rows.n_cols, "ranks");
            py::gil_scoped_release nogil;
            return fasttopk::true_label_rank_columns<T>(rows, l, o);
        });
    }, py::arg("scores"), py::arg("labels"), py::arg("ranks"),
       "Ranks of the true labels down the columns (scores: n_classes x n_samples); False on NaN or infinity.");
}

// threadpoolctl's entry points (python/fasttopk/_threadpool.py): it finds this library among
// those loaded and calls these through ctypes, so they are plain C, exported despite the
// hidden default visibility, and never throw across the C boundary.
extern "C" __attribute__((visibility("default"))) int fasttopk_get_num_threads(void) {
    try {
        return fasttopk::get_num_threads();
    } catch (...) {
        return 1;
    }
}

extern "C" __attribute__((visibility("default"))) void fasttopk_set_num_threads(int n) {
    try {
        fasttopk::set_num_threads(n < 1 ? 1 : n);
    } catch (...) {
        // out of memory for a new pool: the old one stays
    }
}
