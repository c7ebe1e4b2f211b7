// Row-wise top-k selection.
//
// Small k (the common case), two cheap passes over a row that stays in cache between them:
//  1. Lane bound: each SIMD lane keeps its best element (one min/max per element); the k-th
//     best of those lane champions is a lower bound on the row's k-th best (they are k
//     distinct elements), and usually a tight one. On long rows only a prefix is used, and
//     settled exactly before the rest is filtered.
//  2. Filter: each block of batches is compared with the threshold (plain value comparisons,
//     see Beats) and only lanes that pass are touched, one by one through the mask bits.
//     Survivors go to a buffer; when k + slack of them have gathered, a selection cuts the
//     buffer back to k and raises the threshold to the k-th best. Each cut, O(k + slack), is
//     paid for by slack >= k survivors, so hostile rows (ascending, all equal, all NaN) stay
//     linear.
// Large k (k near n): every element goes to the buffer, in column order; the k-th largest
// item is a threshold that keeps the winners in that order, and a stable radix sort on the
// key bytes alone orders them.
// Last, the buffer's k best are found and ordered: up to 128 items by counting each item's
// rank (branch-free), beyond that by introselect and a sort of the k winners. Items are packed
// integers (see Packed in order.hpp), so every comparison is one integer compare.
#pragma once
#include <algorithm>
#include <vector>

#include "fasttopk/half.hpp"
#include "fasttopk/order.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

inline index_t select_slack(index_t k) { return std::max<index_t>(k, 16); }

template <class K>
struct KeyFirst {
    bool operator()(K a, K b) const { return a > b; }
};

// The k-th largest of keys[0, count), count a multiple of the batch width: for a few batches,
// the key with fewer than k keys above it and at least k at or above it, each count a compare
// and a popcount per batch; a selection otherwise. Reorders keys only in the latter case.
template <class A, class K>
K kth_largest(K* keys, index_t count, index_t k) {
    using KB = batch<K, A>;
    constexpr index_t width = KB::size;
    constexpr index_t most_batches = 8;
    if (count > most_batches * width) {
        std::nth_element(keys, keys + (k - 1), keys + count, KeyFirst<K>{});
        return keys[k - 1];
    }
    KB all[most_batches];
    const index_t batches = count / width;
    for (index_t b = 0; b < batches; ++b) all[b] = KB::load_aligned(keys + b * width);
    for (index_t i = 0; i < count; ++i) {
        const KB key(keys[i]);
        index_t above = 0, at_or_above = 0;
        for (index_t b = 0; b < batches; ++b) {
            above += bit_count(mask_bits(all[b] > key));
            at_or_above += bit_count(mask_bits(all[b] >= key));
        }
        if (above < k && k <= at_or_above) return keys[i];
    }
    return keys[0];  // unreachable: some key is the k-th largest
}

// Moves the k largest of items[0, n) to items[0, k), in no order: MSD radix selection on
// bytes, branch-free counting and one compaction per byte, so O(n) with few passes (items are
// unique, so each byte narrows the candidates). Introselect for few items. `spare` holds n.
template <class Item>
void select_largest(Item* items, index_t n, index_t k, Item* spare) {
    if (n < 1024 || k >= n) {
        if (k < n) std::nth_element(items, items + (k - 1), items + n, RanksBefore<Item>{});
        return;
    }
    index_t taken = 0;       // winners so far, at items[0, taken)
    const Item* from = items;  // the candidates: all items at first, then a run of `spare`
    index_t m = n;
    index_t count[256];
    for (int byte = int(sizeof(Item)) - 1; byte >= 0; --byte) {
        const int shift = 8 * byte;
        std::fill(count, count + 256, index_t(0));
        for (index_t i = 0; i < m; ++i) ++count[std::uint8_t(from[i] >> shift)];
        const index_t need = k - taken;
        int cut = 255;
        index_t above = 0;
        for (; above + count[cut] < need; --cut) above += count[cut];
        // Bytes above `cut` win, bytes equal to it stay candidates (a compaction that never
        // overtakes its reads, whether from items or within spare), the rest lose.
        index_t kept = 0;
        for (index_t i = 0; i < m; ++i) {
            const Item item = from[i];
            const int b = std::uint8_t(item >> shift);
            if (b > cut) items[taken++] = item;
            else if (b == cut) spare[kept++] = item;
        }
        from = spare;
        m = kept;
        if (taken + m == k || m <= 64) break;
    }
    const index_t need = k - taken;
    std::nth_element(spare, spare + (need - 1), spare + m, RanksBefore<Item>{});
    std::copy(spare, spare + need, items + taken);
}

// Stable sort into descending order of the high `key_bits` bits of each item, DigitBits a
// pass, every digit counted in one pass first; a digit the items all share costs no move.
// `spare` holds n items.
template <int DigitBits, class Item>
void radix_sort_digits_descending(Item* items, index_t n, Item* spare, int key_bits) {
    constexpr int radix = 1 << DigitBits;
    const int n_digits = (key_bits + DigitBits - 1) / DigitBits;
    const int low = int(8 * sizeof(Item)) - key_bits;  // the first key bit
    std::vector<index_t> counts(std::size_t(n_digits) * radix, 0);
    auto digit = [&](Item item, int d) {
        return int(std::uint32_t(~item >> (low + d * DigitBits)) & (radix - 1));  // ~: descending
    };
    for (index_t i = 0; i < n; ++i)
        for (int d = 0; d < n_digits; ++d) ++counts[std::size_t(d) * radix + digit(items[i], d)];
    Item* src = items;
    Item* dst = spare;
    for (int d = 0; d < n_digits; ++d) {
        index_t* c = counts.data() + std::size_t(d) * radix;
        if (c[digit(src[0], d)] == n) continue;
        index_t at = 0;
        for (int b = 0; b < radix; ++b) {
            const index_t here = c[b];
            c[b] = at;
            at += here;
        }
        for (index_t i = 0; i < n; ++i) dst[c[digit(src[i], d)]++] = src[i];
        std::swap(src, dst);
    }
    if (src != items) std::copy(src, src + n, items);
}

// 11-bit digits for many items (3 passes for a 32-bit key instead of 4; 2048 counters stay in
// L1), bytes for fewer, where the counters' set-up would outweigh the saved pass.
template <class Item>
void radix_sort_keys_descending(Item* items, index_t n, Item* spare, int key_bits) {
    if (n >= 16384) radix_sort_digits_descending<11>(items, n, spare, key_bits);
    else radix_sort_digits_descending<8>(items, n, spare, key_bits);
}

// Sorts items (all distinct) into descending order; std::sort for few.
template <class Item>
void sort_descending(Item* items, index_t n, Item* spare) {
    if (n < 256) std::sort(items, items + n, RanksBefore<Item>{});
    else radix_sort_keys_descending(items, n, spare, int(8 * sizeof(Item)));
}

// The k-th largest of items[0, n) (distinct), leaving them as they are: MSD radix on bytes,
// the candidates that share the winning prefix copied to `spare` (n items) and narrowed there.
template <class Item>
Item kth_largest_item(const Item* items, index_t n, index_t k, Item* spare) {
    const Item* from = items;
    index_t m = n, need = k;
    index_t count[256];
    for (int byte = int(sizeof(Item)) - 1; byte >= 0 && m > 64; --byte) {
        const int shift = 8 * byte;
        std::fill(count, count + 256, index_t(0));
        for (index_t i = 0; i < m; ++i) ++count[std::uint8_t(from[i] >> shift)];
        int cut = 255;
        for (; count[cut] < need; --cut) need -= count[cut];
        index_t kept = 0;  // in place within spare after the first byte: never overtakes reads
        for (index_t i = 0; i < m; ++i)
            if (int(std::uint8_t(from[i] >> shift)) == cut) spare[kept++] = from[i];
        from = spare;
        m = kept;
    }
    if (from != spare) std::copy(from, from + m, spare);
    std::nth_element(spare, spare + (need - 1), spare + m, RanksBefore<Item>{});
    return spare[need - 1];
}

template <class A, class T, class Item>
struct TopKRowSelector {
    using V = value_t<T>;  // T is the storage type (float16/bfloat16 are compared as float)
    using K = key_t<V>;
    using B = batch<V, A>;
    using P = Packed<K, Item>;
    static constexpr index_t width = B::size;
    static constexpr index_t unroll = 4;
    static constexpr index_t block = width * unroll;
    // Lane champions for the bound: 128 on every ISA (16 AVX2 registers), so k up to 64 gets one.
    static constexpr index_t lanes = std::max<index_t>(2 * block, 128);

    index_t k;
    index_t capacity;
    bool largest;
    bool input_in_cache;
    K flip;
    Scratch<Item> buffer;
    Scratch<Item> spare;  // the radix passes' second buffer, made on first need

    TopKRowSelector(index_t n_cols, index_t k_, bool largest_, bool input_in_cache_)
        : k(k_),
          capacity(std::min(n_cols, k_ + select_slack(k_) + block)),
          largest(largest_),
          input_in_cache(input_in_cache_),
          flip(largest_ ? K(0) : K(-1)),
          buffer(std::max<index_t>(capacity, short_row)),
          spare(0) {}

    // A short buffer (short rows, or few survivors): each item's rank is the number of items
    // that rank before it, counted without branches (vectorised, size^2 / width steps); the
    // first k ranks are written in place, so always sorted.
    static constexpr index_t short_row = 128;
    // For k well below size, k scans for the largest remaining item instead (k * size steps):
    // a row of 32 with k = 1 took ~300 ns by ranks, ~20 ns so. A taken item becomes 0, below
    // every item (an item is 0 only for the largest index an Item can hold).
    void place_by_rank(const T* row, index_t size, T* values_out, index_t* indices_out) {
        if (4 * k <= size) {
            Item* items = buffer.get();
            for (index_t r = 0; r < k; ++r) {
                index_t best = 0;
                Item best_item = items[0];
                for (index_t i = 1; i < size; ++i) {
                    const Item item = items[i];
                    const bool above = item > best_item;  // two selects, no load on the chain
                    best = above ? i : best;
                    best_item = above ? item : best_item;
                }
                const index_t j = P::index(best_item);
                indices_out[r] = j;
                values_out[r] = row[j];
                items[best] = Item(0);
            }
            return;
        }
        const Item* buf = buffer.get();
        index_t by_rank[short_row];
        for (index_t i = 0; i < size; ++i) {
            const Item item = buf[i];
            index_t rank = 0, j = 0;
            if constexpr (std::is_same_v<Item, std::uint64_t>) {  // a compare and a popcount a batch
                using IB = batch<std::uint64_t, A>;
                const IB wanted(item);
                for (; j + index_t(IB::size) <= size; j += IB::size) rank += bit_count(mask_bits(IB::load_unaligned(buf + j) > wanted));
            }
            for (; j < size; ++j) rank += buf[j] > item;
            by_rank[rank] = P::index(item);
        }
        for (index_t r = 0; r < k; ++r) {
            indices_out[r] = by_rank[r];
            values_out[r] = row[by_rank[r]];
        }
    }

    // Keeps the k best of buffer[0, size) at its front; returns the k-th best key.
    K cut_to_k(index_t size) {
        Item* b = buffer.get();
        std::nth_element(b, b + (k - 1), b + size, RanksBefore<Item>{});
        return P::key(b[k - 1]);
    }

    void run(const T* row, index_t n, bool sorted, T* values_out, index_t* indices_out) {
        if (k == 0) return;
        Item* buf = buffer.get();
        index_t size;
        const bool whole_row = n <= capacity;
        if (whole_row) {
            pack_all(row, n);
            size = n;
        } else {
            size = scan(row, n);
        }
        if (size <= short_row) {
            place_by_rank(row, size, values_out, indices_out);
            return;
        }
        if (!spare.get()) spare = Scratch<Item>(capacity);
        if (whole_row) {
            // The whole row is in the buffer, in column order (large k): the k-th largest item
            // as a threshold, the winners kept in column order, then ordered by key alone,
            // stably, so that equal keys stay in column order (half the bytes of a full sort).
            if (k < n) {
                const Item threshold = kth_largest_item(buf, n, k, spare.get());
                index_t kept = 0;
                for (index_t i = 0; i < n; ++i) {
                    const Item item = buf[i];
                    buf[kept] = item;
                    kept += item >= threshold;
                }
            }
            if (sorted) radix_sort_keys_descending(buf, k, spare.get(), int(8 * sizeof(Item)) - P::index_bits);
        } else {
            select_largest(buf, size, k, spare.get());
            if (sorted) sort_descending(buf, k, spare.get());
        }
        for (index_t i = 0; i < k; ++i) {
            const index_t j = P::index(buf[i]);
            indices_out[i] = j;
            values_out[i] = row[j];
        }
    }

    // Pass 1: the k-th best key among the best element of each lane. Worth it when every lane
    // sees a few elements and k is well below the number of lanes; more accumulators (lanes)
    // for long rows, to hide the latency of min/max and to serve larger k.
    // `prefix` returns how much of the row the champions came from: on long rows only a
    // leading part, which scan() then settles first.
    bool lane_bound(const T* row, index_t n, K& bound, index_t& prefix) const {
        constexpr index_t most = lanes / width;
        prefix = n;
        if (n >= 4 * lanes && 2 * k <= lanes) {
            // A prefix's champions, settled exactly, bound the rest about as well for small k,
            // and save most of the first pass. Larger k meets more survivors in the rest, which
            // pays only when the first pass is compute (input in cache), not memory traffic that
            // the second pass would have paid anyway.
            if (k <= 16 || input_in_cache) prefix = std::min(n, std::max<index_t>(16 * lanes, n / 8));
            return lane_bound_with<most>(row, prefix, bound);
        }
        if (n >= 8 * width && 2 * k <= 2 * width) return lane_bound_with<2>(row, n, bound);
        if (n >= 2 * width && 2 * k <= width) return lane_bound_with<1>(row, n, bound);
        return false;
    }

    template <index_t Accumulators>
    bool lane_bound_with(const T* row, index_t n, K& bound) const {
        constexpr index_t step = Accumulators * width;
        B champ[Accumulators];
        for (index_t u = 0; u < Accumulators; ++u) champ[u] = load_values<A>(row + u * width);
        for (index_t j = step; j + step <= n; j += step) {
            for (index_t u = 0; u < Accumulators; ++u) {
                const B v = load_values<A>(row + j + u * width);
                champ[u] = largest ? xsimd::max(champ[u], v) : xsimd::min(champ[u], v);
            }
        }
        // min/max return one of their operands, so every lane holds a distinct element of the
        // row. Fold lanes pairwise while 2k champions remain: fewer keys to select from.
        index_t used = Accumulators;
        while (used > 1 && 2 * k <= (used / 2) * width) {
            used /= 2;
            for (index_t u = 0; u < used; ++u)
                champ[u] = largest ? xsimd::max(champ[u], champ[u + used]) : xsimd::min(champ[u], champ[u + used]);
        }
        alignas(64) K keys[step];
        const index_t count = used * width;
        for (index_t u = 0; u < used; ++u) order_keys<A, V>(champ[u], flip).store_aligned(keys + u * width);
        bound = kth_largest<A>(keys, count, k);
        return true;
    }

    // Every element of the row into the buffer: keys a batch at a time, then packed.
    void pack_all(const T* row, index_t n) {
        Item* buf = buffer.get();
        alignas(64) K keys[width];
        index_t j = 0;
        for (; j + width <= n; j += width) {
            order_keys<A, V>(load_values<A>(row + j), flip).store_aligned(keys);
            for (index_t i = 0; i < width; ++i) buf[j + i] = P::pack(keys[i], j + i);
        }
        for (; j < n; ++j) buf[j] = P::pack(order_key<V>(to_value(row[j]), flip), j);
    }

    // Appends the lanes of row[base, base + width) set in `bits`.
    index_t take(const T* row, index_t base, std::uint64_t bits, index_t size) {
        Item* buf = buffer.get();
        while (bits) {
            const index_t j = base + lowest_bit(bits);
            bits &= bits - 1;
            buf[size++] = P::pack(order_key<V>(to_value(row[j]), flip), j);
        }
        return size;
    }

    // Whole blocks from column j on, while the threshold stands: returns true after a cut
    // (j then points past the block that caused it, and beats holds the new threshold).
    template <BeatMode M>
    bool scan_blocks(const T* row, index_t n, index_t& j_io, index_t& size_io, Beats<A, V>& beats) {
        const B limit = beats.limit();
        const index_t cut_at = k + select_slack(k);
        index_t j = j_io, size = size_io;  // in registers for the loop, not behind references
        bool cut = false;
        for (; j + block <= n; j += block) {
            const auto m0 = Beats<A, V>::template test<M>(load_values<A>(row + j), limit);
            const auto m1 = Beats<A, V>::template test<M>(load_values<A>(row + j + width), limit);
            const auto m2 = Beats<A, V>::template test<M>(load_values<A>(row + j + 2 * width), limit);
            const auto m3 = Beats<A, V>::template test<M>(load_values<A>(row + j + 3 * width), limit);
            if (!xsimd::any((m0 | m1) | (m2 | m3))) continue;
            size = take(row, j, mask_bits(m0), size);
            size = take(row, j + width, mask_bits(m1), size);
            size = take(row, j + 2 * width, mask_bits(m2), size);
            size = take(row, j + 3 * width, mask_bits(m3), size);
            if (size > cut_at) {
                beats = Beats<A, V>(cut_to_k(size), largest, false);
                size = k;
                j += block;
                cut = true;
                break;
            }
        }
        j_io = j;
        size_io = size;
        return cut;
    }

    // Pass 2 over a row longer than the buffer (so n >= k + block); returns the survivors.
    index_t scan(const T* row, index_t n) {
        Item* buf = buffer.get();
        index_t size = 0, j = 0, prefix = n;
        K threshold;
        const bool inclusive = lane_bound(row, n, threshold, prefix);
        if (!inclusive) {  // no bound: the first k elements give one
            threshold = std::numeric_limits<K>::max();
            for (; j < k; ++j) {
                const K key = order_key<V>(to_value(row[j]), flip);
                buf[size++] = P::pack(key, j);
                threshold = std::min(threshold, key);
            }
        }
        Beats<A, V> beats(threshold, largest, inclusive);
        // Whole blocks up to `end`, in loops specialised on the comparison (a cut may change
        // it); false when nothing can beat the threshold any more.
        auto blocks_until = [&](index_t end) {
            for (bool cut = true; cut;) {
                if (beats.mode() == BeatMode::nothing) return false;
                cut = beats.with_mode([&](auto mode) { return scan_blocks<decltype(mode)::value>(row, end, j, size, beats); });
            }
            return true;
        };
        if (prefix < n) {
            // The prefix is still in cache: settle it, so that the rest of the row meets the
            // exact k-th best of the prefix rather than the looser bound.
            if (!blocks_until(prefix)) return size;
            if (size > k) {
                beats = Beats<A, V>(cut_to_k(size), largest, false);
                size = k;
            }
        }
        if (!blocks_until(n)) return size;
        for (; j + width <= n; j += width) {
            size = take(row, j, mask_bits(beats(load_values<A>(row + j))), size);
        }
        if (j < n) {
            // The last partial batch: reload the row's final `width` lanes, keep the unseen.
            const index_t base = n - width;
            const std::uint64_t unseen = ~((std::uint64_t(1) << (j - base)) - 1);
            size = take(row, base, mask_bits(beats(load_values<A>(row + base))) & unseen, size);
        }
        return size;
    }
};

template <class A, class T, class Item>
void topk_rows_with(Rows<const T> x, index_t k, bool largest, bool sorted, Rows<T> values,
                    Rows<index_t> indices) {
    constexpr index_t cache_bytes = index_t(1) << 20;  // a conservative L2
    TopKRowSelector<A, T, Item> selector(x.n_cols, k, largest, x.n_rows * x.n_cols * index_t(sizeof(T)) <= cache_bytes);
    if (x.n_rows > 1) prefetch_row(x.row(1), x.n_cols);
    for (index_t r = 0; r < x.n_rows; ++r) {
        if (r + 2 < x.n_rows) prefetch_row(x.row(r + 2), x.n_cols);
        selector.run(x.row(r), x.n_cols, sorted, values.row(r), indices.row(r));
    }
}

// Float rows of up to short_topk_row_max elements, k up to short_topk_k_max: a tile of rows at
// a time (topk_short.hpp).
constexpr index_t short_topk_row_max = 128;
constexpr index_t short_topk_k_max = 16;
template <class A, class T>
void topk_short_rows(Rows<const T> x, index_t k, bool largest, Rows<T> values, Rows<index_t> indices);
// Float rows of up to rank_sort_row_max elements with k past the tiles' reach: every element's
// place counted outright (topk_short.hpp).
constexpr index_t rank_sort_row_max = 128;
constexpr index_t rank_sort_k_min = short_topk_k_max + 1;
template <class A, class T>
void topk_rank_sort(Rows<const T> x, index_t k, bool largest, Rows<T> values, Rows<index_t> indices);

template <class A, class T>
void topk_rows(Rows<const T> x, index_t k, bool largest, bool sorted, Rows<T> values,
               Rows<index_t> indices) {
    using V = value_t<T>;
    if constexpr (std::is_floating_point_v<V> && sizeof(key_t<V>) == 4) {
        if (x.n_cols <= short_topk_row_max && k >= 1 && k <= short_topk_k_max) {
            topk_short_rows<A>(x, k, largest, values, indices);  // always sorted
            return;
        }
        if (x.n_cols <= rank_sort_row_max && k >= rank_sort_k_min) {
            topk_rank_sort<A>(x, k, largest, values, indices);  // always sorted
            return;
        }
    }
    // 32-bit keys and indices pack into 64 bits; anything wider takes 128.
    if (sizeof(key_t<value_t<T>>) == 4 && x.n_cols <= index_t(0xffffffff))
        topk_rows_with<A, T, std::uint64_t>(x, k, largest, sorted, values, indices);
    else
        topk_rows_with<A, T, unsigned __int128>(x, k, largest, sorted, values, indices);
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE

#include "fasttopk/topk_short.hpp"
