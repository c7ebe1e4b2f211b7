// Row-wise top-k selection.
//
// Small k (the common case): one pass per row. The k best seen so far define a threshold key;
// each SIMD block is compared with it and only blocks holding a key strictly above it are looked
// at element by element. Survivors go to a buffer of k + slack entries; when it fills, a
// selection cuts it back to k and raises the threshold. A row costs one read plus O(k log k),
// and stays linear on hostile rows (ascending, all equal, all NaN): the buffer is cut at most
// once per `slack` survivors, and slack >= k.
//
// Large k (k near n): every key goes to the buffer, one selection finds the k best, and only
// those are sorted. Both paths share the buffer and the final step.
#pragma once
#include <algorithm>
#include <memory>

#include "fasttopk/order.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

// Survivors accumulated between two cuts; at least k so that cuts are amortised O(1) per
// survivor, at least a few blocks so that a small k does not cut on every block.
inline index_t select_slack(index_t k) { return std::max<index_t>(k, 256); }

template <class A, class T>
struct TopKRowSelector {
    using K = key_t<T>;
    using KB = batch<K, A>;
    static constexpr index_t width = batch<T, A>::size;
    static constexpr index_t unroll = 4;
    static constexpr index_t block = width * unroll;
    static_assert(batch<K, A>::size == width, "keys and values must have the same lane count");

    index_t k;
    index_t capacity;
    K flip;
    std::unique_ptr<Ranked<K>[]> buffer;

    TopKRowSelector(index_t n_cols, index_t k_, bool largest)
        : k(k_),
          capacity(std::min(n_cols, k_ + select_slack(k_) + block)),
          flip(largest ? K(0) : K(-1)),
          buffer(new Ranked<K>[capacity]) {}

    // Keeps the k best of buffer[0, size) at its front; returns the k-th best key.
    K cut_to_k(index_t size) {
        Ranked<K>* b = buffer.get();
        std::nth_element(b, b + (k - 1), b + size, RanksBefore<K>{});
        return b[k - 1].key;
    }

    void run(const T* row, index_t n, bool sorted, T* values_out, index_t* indices_out) {
        if (k == 0) return;
        Ranked<K>* buf = buffer.get();
        index_t size;
        if (n <= capacity) {
            for (index_t j = 0; j < n; ++j) buf[j] = {order_key<T>(row[j], flip), j};
            size = n;
        } else {
            size = scan(row, n);
        }
        if (size > k) cut_to_k(size);
        if (sorted) std::sort(buf, buf + k, RanksBefore<K>{});
        for (index_t i = 0; i < k; ++i) {
            indices_out[i] = buf[i].index;
            values_out[i] = row[buf[i].index];
        }
    }

    // One pass over a row longer than the buffer; returns how many survivors the buffer holds.
    index_t scan(const T* row, index_t n) {
        Ranked<K>* buf = buffer.get();
        K threshold = std::numeric_limits<K>::max();
        for (index_t j = 0; j < k; ++j) {
            K key = order_key<T>(row[j], flip);
            buf[j] = {key, j};
            threshold = std::min(threshold, key);
        }
        index_t size = k;
        const KB flips(flip);
        alignas(64) K keys[block];
        index_t j = k;
        const index_t block_end = j + whole_steps(n - j, block);
        for (; j < block_end; j += block) {
            const KB limit(threshold);
            KB kb[unroll];
            auto beats = (kb[0] = order_keys<A, T>(load<T, A>(row + j), flips)) > limit;
            for (index_t u = 1; u < unroll; ++u) {
                kb[u] = order_keys<A, T>(load<T, A>(row + j + u * width), flips);
                beats = beats | (kb[u] > limit);
            }
            if (!xsimd::any(beats)) continue;
            for (index_t u = 0; u < unroll; ++u) kb[u].store_aligned(keys + u * width);
            for (index_t i = 0; i < block; ++i) {
                if (keys[i] > threshold) buf[size++] = {keys[i], j + i};
            }
            if (size > capacity - block) {
                threshold = cut_to_k(size);
                size = k;
            }
        }
        for (; j < n; ++j) {
            K key = order_key<T>(row[j], flip);
            if (key > threshold) buf[size++] = {key, j};
        }
        return size;
    }
};

template <class A, class T>
void topk_rows(Rows<const T> x, index_t k, bool largest, bool sorted, Rows<T> values,
               Rows<index_t> indices) {
    TopKRowSelector<A, T> selector(x.n_cols, k, largest);
    for (index_t r = 0; r < x.n_rows; ++r) {
        selector.run(x.row(r), x.n_cols, sorted, values.row(r), indices.row(r));
    }
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
