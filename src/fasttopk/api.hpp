// The C++ API: the same kernels as the Python module, over Rows views or xtensor expressions
// (an xt::adapt over the caller's buffer costs no copy). Generic code: it dispatches to the
// active ISA and splits rows over the thread pool; it knows nothing of Python.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <pthread.h>
#include <unistd.h>

#include <xtensor/xadapt.hpp>

#include "fasttopk/dispatch.hpp"
#include "fasttopk/parallel.hpp"

namespace fasttopk {

// The process-wide pool; set_num_threads swaps it while calls in flight keep theirs.
//
// fork() safety: a child has only the thread that forked, so it must never inherit the holder's
// mutex locked by another thread, nor use the parent's pool (its workers do not exist there).
// The mutex is held only to copy or swap the pointer (a pool is built and joined outside it),
// and pthread_atfork takes it around fork() so that the child always gets it unlocked. The
// child's first call starts a pool of its own, as large as its parent's; the parent's pool
// object is leaked there, never joined.
class PoolHolder {
   public:
    static std::shared_ptr<ThreadPool> get() {
        std::shared_ptr<ThreadPool> current;
        int n_threads = 0;
        {
            std::lock_guard<std::mutex> lock(state().mutex);
            if (state().pool && state().owner == ::getpid()) return state().pool;
            n_threads = state().pool ? state().pool->size() : 0;
        }
        auto fresh = std::make_shared<ThreadPool>(n_threads > 0 ? n_threads : default_thread_count());
        std::lock_guard<std::mutex> lock(state().mutex);
        if (state().pool && state().owner == ::getpid()) return state().pool;  // another caller won
        install(std::move(fresh));
        return state().pool;
    }
    static void resize(int n_threads) {
        // The old pool goes first (joined here, outside the mutex, unless a call in flight
        // still holds it): when a large pool has used up the address space or the thread
        // limit, the new one must find its threads' room already given back.
        { std::shared_ptr<ThreadPool> old = install(nullptr, /*locked=*/false); }
        auto fresh = std::make_shared<ThreadPool>(n_threads);
        // A pool a concurrent first call made in between is replaced, and joined here.
        std::shared_ptr<ThreadPool> replaced = install(std::move(fresh), /*locked=*/false);
    }

   private:
    struct State {
        std::mutex mutex;
        pid_t owner = 0;
        std::shared_ptr<ThreadPool> pool;
        State() {
            ::pthread_atfork([] { state().mutex.lock(); }, [] { state().mutex.unlock(); },
                             [] { state().mutex.unlock(); });
        }
    };
    static State& state() {
        static auto* s = new State();  // never destroyed: safe at exit
        return *s;
    }
    // Puts `fresh` in place and returns the pool it replaces, or nothing when that pool
    // belongs to the parent of a fork: it cannot be joined here, so it is leaked. `locked`:
    // whether the caller holds the mutex already.
    static std::shared_ptr<ThreadPool> install(std::shared_ptr<ThreadPool> fresh, bool locked = true) {
        std::unique_lock<std::mutex> lock(state().mutex, std::defer_lock);
        if (!locked) lock.lock();
        std::shared_ptr<ThreadPool> old = std::move(state().pool);
        if (old && state().owner != ::getpid()) {
            new std::shared_ptr<ThreadPool>(std::move(old));  // leaked: its threads are the parent's
            old.reset();
        }
        state().pool = std::move(fresh);
        state().owner = ::getpid();
        return old;
    }
};

inline void set_num_threads(int n) {
    if (n < 1) throw std::invalid_argument("n_threads must be >= 1");
    PoolHolder::resize(n);
}
inline int get_num_threads() { return PoolHolder::get()->size(); }

// Runs kernel(row_begin, row_end) over the rows, in parallel when the work is large enough.
template <class Fn>
void for_row_ranges(index_t n_rows, index_t n_cols, Fn&& kernel) {
    const index_t work = n_rows * std::max<index_t>(n_cols, 1);
    if (work < min_parallel_elements || n_rows < 2) {
        if (n_rows > 0) kernel(index_t(0), n_rows);
        return;
    }
    auto pool = PoolHolder::get();
    // Several chunks per thread, so that uneven rows (hostile top-k rows) balance out.
    const index_t chunks = std::min<index_t>(n_rows, pool->size() * 4);
    pool->for_each_range(n_rows, chunks, [&](index_t b, index_t e) { kernel(b, e); });
}

template <class T>
void arg_reduce(Rows<const T> x, bool find_min, index_t* out) {
    auto fn = active_kernels().of<T>().arg_reduce;
    for_row_ranges(x.n_rows, x.n_cols, [&](index_t b, index_t e) { fn(x.slice(b, e), find_min, out + b); });
}

// Columns per unit of work when columns are split over the threads: whole batches on every ISA.
constexpr index_t column_group = 64;

// Along axis 0: out has n_cols entries. Columns are split over the threads, in whole batches.
template <class T>
void arg_reduce_columns(Rows<const T> x, bool find_min, index_t* out) {
    if (x.n_rows < 1) throw std::invalid_argument("arg_reduce_columns needs at least one row");
    auto fn = active_kernels().of<T>().arg_reduce_columns;
    constexpr index_t group = column_group;
    const index_t n_groups = (x.n_cols + group - 1) / group;
    for_row_ranges(n_groups, x.n_rows * group, [&](index_t b, index_t e) {
        const index_t c0 = b * group, c1 = std::min(x.n_cols, e * group);
        fn(Rows<const T>{x.data + c0, x.n_rows, c1 - c0, x.row_stride}, find_min, out + c0);
    });
}

// Runs kernel(o, c0, c1) over columns [c0, c1) of each panel o, in column groups split over
// the threads; a thread's run of groups within one panel goes
// to the kernel in one call.
template <class Fn>
void for_panel_columns(index_t n_outer, index_t n, index_t n_inner, Fn&& kernel) {
    constexpr index_t group = column_group;
    const index_t groups_per_panel = (n_inner + group - 1) / group;
    for_row_ranges(n_outer * groups_per_panel, n * group, [&](index_t b, index_t e) {
        while (b < e) {
            const index_t o = b / groups_per_panel, first = b % groups_per_panel;
            const index_t last = std::min(groups_per_panel, first + (e - b));
            kernel(o, first * group, std::min(n_inner, last * group));
            b += last - first;
        }
    });
}

// softmax (log_softmax) along the middle axis of panels, into out (same shape; may alias x).
template <class T>
void softmax_panels(Panels<const T> x, bool log, Panels<T> out) {
    auto fn = active_kernels().of<T>().softmax_columns;
    if (!fn) throw std::invalid_argument("softmax needs floating-point input");
    if (x.n < 1) throw std::invalid_argument("softmax of an empty axis");
    for_panel_columns(x.n_outer, x.n, x.n_inner, [&](index_t o, index_t c0, index_t c1) {
        fn(x.columns(o, c0, c1), log, out.columns(o, c0, c1));
    });
}

// out[o * n_inner + c] = logsumexp along the middle axis of panel o, column c.
template <class T>
void logsumexp_panels(Panels<const T> x, T* out) {
    auto fn = active_kernels().of<T>().logsumexp_columns;
    if (!fn) throw std::invalid_argument("logsumexp needs floating-point input");
    if (x.n < 1) throw std::invalid_argument("logsumexp_panels needs a non-empty axis");
    for_panel_columns(x.n_outer, x.n, x.n_inner, [&](index_t o, index_t c0, index_t c1) {
        fn(x.columns(o, c0, c1), out + o * x.n_inner + c0);
    });
}

// Along axis 0: scores holds n_classes rows of n_samples columns; ranks[c] = the rank of row
// labels[c] (in [0, n_rows)) in column c. Returns false if the scores hold NaN or +-inf.
template <class T>
bool true_label_rank_columns(Rows<const T> scores, const index_t* labels, index_t* ranks) {
    auto fn = active_kernels().of<T>().true_label_rank_columns;
    std::atomic<bool> finite{true};
    const Panels<const T> p{scores.data, 1, scores.n_rows, scores.n_cols, 0, scores.row_stride};
    for_panel_columns(index_t(1), scores.n_rows, scores.n_cols, [&](index_t, index_t c0, index_t c1) {
        if (!fn(p.columns(0, c0, c1), labels + c0, ranks + c0)) finite = false;
    });
    return finite;
}

template <class T>
void softmax(Rows<const T> x, bool log, Rows<T> out) {
    auto fn = active_kernels().of<T>().softmax;
    if (!fn) throw std::invalid_argument("softmax needs floating-point input");
    for_row_ranges(x.n_rows, x.n_cols, [&](index_t b, index_t e) { fn(x.slice(b, e), log, out.slice(b, e)); });
}

template <class T>
void topk(Rows<const T> x, index_t k, bool largest, bool sorted, Rows<T> values, Rows<index_t> indices) {
    if (k < 0 || k > x.n_cols) throw std::invalid_argument("k must lie in [0, n_cols]");
    auto fn = active_kernels().of<T>().topk;
    for_row_ranges(x.n_rows, x.n_cols, [&](index_t b, index_t e) {
        fn(x.slice(b, e), k, largest, sorted, values.slice(b, e), indices.slice(b, e));
    });
}

// topk down the columns of a tall block with too few columns to share out (under a column group
// per thread): the rows are split instead. Each part's k best of every column go to a stacked
// (parts * k) x n_cols block, which a last pass reduces to the k best. Exact, ties included:
// equal keys keep ascending rows within a part, and earlier parts hold earlier rows, so the
// last pass's tie order (stacked position) is the row order. Returns false (nothing done) when
// a split does not pay: few threads, little work, or candidates above 1/64 of the rows or 32 MB.
template <class T>
bool topk_columns_split_rows(Rows<const T> x, index_t k, bool largest, Rows<T> values, Rows<index_t> indices) {
    auto fn = active_kernels().of<T>().topk_columns;
    if (x.n_rows * x.n_cols < 4 * min_parallel_elements) return false;
    auto pool = PoolHolder::get();
    const index_t per_candidate = index_t(sizeof(T) + sizeof(index_t)) * k * x.n_cols;
    const index_t parts = std::min({index_t(pool->size()), x.n_rows / (64 * k), (index_t(32) << 20) / per_candidate});
    if (parts < 2) return false;
    const index_t stacked = parts * k;
    std::unique_ptr<T[]> candidates(new T[std::size_t(stacked * x.n_cols)]);
    std::unique_ptr<index_t[]> rows_of(new index_t[std::size_t(stacked * x.n_cols)]);
    pool->for_each_range(parts, parts, [&](index_t b, index_t e) {
        for (index_t p = b; p < e; ++p) {
            const index_t r0 = x.n_rows * p / parts, r1 = x.n_rows * (p + 1) / parts;
            index_t* rows = rows_of.get() + p * k * x.n_cols;
            fn(x.slice(r0, r1), k, largest, Rows<T>{candidates.get() + p * k * x.n_cols, k, x.n_cols, x.n_cols},
               Rows<index_t>{rows, k, x.n_cols, x.n_cols});
            for (index_t i = 0; i < k * x.n_cols; ++i) rows[i] += r0;
        }
    });
    std::unique_ptr<index_t[]> places(new index_t[std::size_t(k * x.n_cols)]);
    fn(Rows<const T>{candidates.get(), stacked, x.n_cols, x.n_cols}, k, largest, values,
       Rows<index_t>{places.get(), k, x.n_cols, x.n_cols});
    for (index_t j = 0; j < k; ++j)
        for (index_t c = 0; c < x.n_cols; ++c) indices.row(j)[c] = rows_of[std::size_t(places[std::size_t(j * x.n_cols + c)] * x.n_cols + c)];
    return true;
}

// topk along the middle axis of panels, always sorted: values and indices are panels of k rows.
// Column groups are shared out over the threads; panels with fewer groups than threads are
// split by rows instead (topk_columns_split_rows).
template <class T>
void topk_panels(Panels<const T> x, index_t k, bool largest, Panels<T> values, Panels<index_t> indices) {
    if (k < 0 || k > x.n) throw std::invalid_argument("k must lie in [0, n]");
    if (k == 0) return;
    auto fn = active_kernels().of<T>().topk_columns;
    constexpr index_t group = column_group;
    if (x.n_outer * ((x.n_inner + group - 1) / group) < PoolHolder::get()->size()) {
        for (index_t o = 0; o < x.n_outer; ++o) {
            const auto panel = x.columns(o, 0, x.n_inner);
            const auto v = values.columns(o, 0, x.n_inner);
            const auto i = indices.columns(o, 0, x.n_inner);
            if (!topk_columns_split_rows(panel, k, largest, v, i)) fn(panel, k, largest, v, i);
        }
        return;
    }
    for_panel_columns(x.n_outer, x.n, x.n_inner, [&](index_t o, index_t c0, index_t c1) {
        fn(x.columns(o, c0, c1), k, largest, values.columns(o, c0, c1), indices.columns(o, c0, c1));
    });
}

// Returns false if the scores hold NaN or +-inf. labels[r] must lie in [0, n_cols).
template <class T>
bool true_label_rank(Rows<const T> scores, const index_t* labels, index_t* ranks) {
    auto fn = active_kernels().of<T>().true_label_rank;
    std::atomic<bool> finite{true};
    for_row_ranges(scores.n_rows, scores.n_cols, [&](index_t b, index_t e) {
        if (!fn(scores.slice(b, e), labels + b, ranks + b)) finite = false;
    });
    return finite;
}

// present[v - lo] = 1 for every label v in [lo, lo + n_bins) (others are skipped): which classes
// occur, as scikit-learn's unique() would count them. A store per label and no load, so equal
// labels in a row do not wait on each other as a histogram's counts would (np.bincount took
// 4x as long on 100000 labels of 10 classes).
inline void mark_present_labels(const index_t* labels, index_t count, index_t lo, index_t n_bins,
                                std::uint8_t* present) {
    for (index_t i = 0; i < count; ++i) {
        const std::uint64_t bin = std::uint64_t(labels[i]) - std::uint64_t(lo);
        if (bin < std::uint64_t(n_bins)) present[bin] = 1;
    }
}

// xtensor entry points: any 2-D expression with a data pointer and a unit last stride, such as
// xt::adapt(ptr, size, xt::no_ownership(), shape, strides) over a NumPy buffer.
template <class E>
auto rows_of(E& e) -> Rows<std::remove_reference_t<decltype(*e.data())>> {
    using T = std::remove_reference_t<decltype(*e.data())>;
    if (e.dimension() != 2) throw std::invalid_argument("expected a 2-D array");
    const index_t n_rows = index_t(e.shape()[0]), n_cols = index_t(e.shape()[1]);
    if (n_cols > 1 && e.strides()[1] != 1) throw std::invalid_argument("the last axis must be contiguous");
    // Kernels dereference T* (scalar tails, partial batches): a misaligned T* is undefined
    // behaviour, so the caller copies such data first (the Python layer does).
    if (reinterpret_cast<std::uintptr_t>(e.data()) % alignof(T) != 0)
        throw std::invalid_argument("the data must be aligned to its element size");
    return Rows<T>{e.data(), n_rows, n_cols, index_t(e.strides()[0])};
}

template <class T>
Rows<const T> as_const(Rows<T> r) {
    return Rows<const T>{r.data, r.n_rows, r.n_cols, r.row_stride};
}

// The k largest of softmax(x / temperature) (log_softmax with log), fused: see fused.hpp.
// temperature must be finite and > 0; k <= n_cols.
template <class T>
void topk_softmax(Rows<const T> x, index_t k, value_t<T> temperature, bool log, bool sorted, Rows<T> values,
                  Rows<index_t> indices) {
    if (k < 0 || k > x.n_cols) throw std::invalid_argument("k must lie in [0, n_cols]");
    if (!(temperature > value_t<T>(0)) || !std::isfinite(temperature))
        throw std::invalid_argument("temperature must be finite and > 0");
    auto fn = active_kernels().of<T>().topk_softmax;
    if (!fn) throw std::invalid_argument("topk_softmax needs floating-point input");
    for_row_ranges(x.n_rows, x.n_cols, [&](index_t b, index_t e) {
        fn(x.slice(b, e), k, temperature, log, sorted, values.slice(b, e), indices.slice(b, e));
    });
}

// out[r] = logsumexp of row r (out has n_rows entries).
template <class T>
void logsumexp(Rows<const T> x, T* out) {
    auto fn = active_kernels().of<T>().logsumexp;
    if (!fn) throw std::invalid_argument("logsumexp needs floating-point input");
    for_row_ranges(x.n_rows, x.n_cols, [&](index_t b, index_t e) { fn(x.slice(b, e), out + b); });
}

}  // namespace fasttopk
