// topk down the columns of a row-major block: a selection along axis 0 (or a middle axis, one
// panel at a time), read where it lies, in the order of order.hpp and always sorted. values and
// indices are k rows of x.n_cols columns: the result's own layout along that axis. Three ways,
// by k (topk_columns, at the end):
//
// k <= column_insert_k_max (ColumnInserter): lanes are columns, and each keeps its k best so
// far, in order, as k registers of keys and k of row numbers held in memory. The rows are read
// as they lie, one after another. A register of a row costs one compare of its keys with the
// k-th best and is passed over unless some lane beats it; then it is inserted by blends, each
// slot taking the slot above it, the new row or itself. Rows come in order, so an equal key
// never displaces an earlier row: ties stay in ascending row order, as the rule says. A random
// column inserts about k ln(n / k) times; an ascending one every row, k blends a row: linear.
//
// k up to n / 32 (ColumnFilter): select.hpp's filter with a column per lane, each column's
// candidates in a buffer cut back to k when it fills.
//
// Larger k (topk_columns_by_strips): a strip of columns one cache line wide is copied into rows
// of a scratch buffer and handed to the row kernel (select.hpp), whose results are written
// down the columns. The buffer holds strip × n elements, never the whole array.
#pragma once
#include "fasttopk/select.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

constexpr index_t column_insert_k_max = 16;
constexpr index_t column_filter_k_max = 4096;

template <class A, class T>
struct ColumnInserter {
    using V = value_t<T>;
    using K = key_t<V>;
    using KB = batch<K, A>;
    static constexpr index_t width = KB::size;
    static_assert(width == batch<V, A>::size, "keys and values share the lanes");
    // Columns per chunk: whole rows up to 1 MB, read row after row as they lie. (A pass down a
    // narrow strip instead would fetch a page per row, one TLB miss each, and rows read a page
    // at a time were 1.6x slower than whole.) Its state, k keys and k row numbers per column,
    // is 2k times a row; a row touches only the bars (the k-th keys), one row's worth.
    static constexpr index_t chunk = std::max<index_t>(width, index_t((1 << 20) / sizeof(T)) / width * width);

    Rows<const T> x;
    index_t k;
    K flip;
    Scratch<KB> slot_keys;  // register g's slot j at g * k + j
    Scratch<KB> slot_rows;
    Scratch<KB> last;       // register g's k-th key, the bar a row must clear

    ColumnInserter(Rows<const T> x_, index_t k_, bool largest)
        : x(x_),
          k(k_),
          flip(largest ? K(0) : K(-1)),
          slot_keys(registers(x_.n_cols) * k_),
          slot_rows(registers(x_.n_cols) * k_),
          last(registers(x_.n_cols)) {}

    static index_t registers(index_t n_cols) { return (std::min(chunk, n_cols) + width - 1) / width; }

    // Inserts (key, row) into one register's slots; slots from `filled` on are empty (beaten by
    // anything). Blends only: lanes that do not beat the k-th keep everything.
    static void insert(KB* keys, KB* rows, index_t k, index_t filled, KB key, KB row) {
        const auto all = KB(K(0)) == KB(K(0));
        auto beats_above = filled > 0 ? key > keys[0] : all;
        KB above_key = keys[0], above_row = rows[0];
        keys[0] = xsimd::select(beats_above, key, above_key);
        rows[0] = xsimd::select(beats_above, row, above_row);
        for (index_t j = 1; j < k; ++j) {
            const KB old_key = keys[j], old_row = rows[j];
            const auto beats = j < filled ? key > old_key : all;
            keys[j] = xsimd::select(beats_above, above_key, xsimd::select(beats, key, old_key));
            rows[j] = xsimd::select(beats_above, above_row, xsimd::select(beats, row, old_row));
            above_key = old_key;
            above_row = old_row;
            beats_above = beats;
        }
    }

    KB load_keys(const T* p, index_t lanes) const {
        if (lanes == width) return order_keys<A, V>(load_values<A>(p), flip);
        return order_keys<A, V>(load_values_partial<A>(p, lanes, V(0)), flip);
    }

    // Columns [c0, c0 + cols), every row in order.
    void chunk_down_rows(index_t c0, index_t cols) {
        const index_t n = x.n_rows;
        const index_t whole = cols / width, regs = (cols + width - 1) / width, tail = cols - whole * width;
        KB* keys = slot_keys.get();
        KB* rows = slot_rows.get();
        KB* bar = last.get();
        for (index_t r = 0; r < k; ++r) {
            const T* row = x.row(r) + c0;
            for (index_t g = 0; g < regs; ++g)
                insert(keys + g * k, rows + g * k, k, r, load_keys(row + g * width, g < whole ? width : tail), KB(K(r)));
        }
        for (index_t g = 0; g < regs; ++g) bar[g] = keys[g * k + k - 1];
        auto take = [&](index_t g, KB key, index_t r) {
            insert(keys + g * k, rows + g * k, k, k, key, KB(K(r)));
            bar[g] = keys[g * k + k - 1];
        };
        const index_t tail_whole_until = tail ? rows_readable_whole(x, c0, regs * width) : n;
        for (index_t r = k; r < n; ++r) {
            const T* row = x.row(r) + c0;
            const index_t tail_lanes = r < tail_whole_until ? width : tail;
            index_t g = 0;
            for (; g + 2 <= whole; g += 2) {  // two registers a test: rows rarely insert
                const KB a = load_keys(row + g * width, width), b = load_keys(row + (g + 1) * width, width);
                const auto hit_a = a > bar[g], hit_b = b > bar[g + 1];
                if (!xsimd::any(hit_a | hit_b)) [[likely]]
                    continue;
                if (xsimd::any(hit_a)) take(g, a, r);
                if (xsimd::any(hit_b)) take(g + 1, b, r);
            }
            for (; g < regs; ++g) {
                const KB a = load_keys(row + g * width, g < whole ? width : tail_lanes);
                if (xsimd::any(a > bar[g])) take(g, a, r);
            }
        }
    }

    void write(index_t c0, index_t cols, Rows<T> values, Rows<index_t> indices) const {
        for (index_t g = 0; g * width < cols; ++g) {
            const index_t lanes = std::min(width, cols - g * width);
            for (index_t j = 0; j < k; ++j) {
                alignas(64) K at[width];
                slot_rows.get()[g * k + j].store_aligned(at);
                for (index_t i = 0; i < lanes; ++i) {
                    const index_t c = c0 + g * width + i;
                    indices.row(j)[c] = index_t(at[i]);
                    values.row(j)[c] = x.row(index_t(at[i]))[c];  // the element itself, bits kept
                }
            }
        }
    }

    void run(Rows<T> values, Rows<index_t> indices) {
        for (index_t c0 = 0; c0 < x.n_cols; c0 += chunk) {
            const index_t cols = std::min(chunk, x.n_cols - c0);
            chunk_down_rows(c0, cols);
            write(c0, cols, values, indices);
        }
    }
};

// k > column_insert_k_max: select.hpp's filter, a column per lane. Each column keeps a buffer
// of candidates (packed key and row, see Packed) and a bar, the key of its k-th best so far; a
// row's keys are compared with the bars a register at a time and only the lanes that clear
// theirs are appended. A full buffer (2k) is cut back to its k best, which raises the bar, so
// hostile columns (ascending) stay linear. Strictly above the bar: a later row with the bar's
// key ranks below the bar's own row. Columns go in chunks whose buffers fit state_bytes.
template <class A, class T, class Item>
struct ColumnFilter {
    using V = value_t<T>;
    using K = key_t<V>;
    using KB = batch<K, A>;
    using P = Packed<K, Item>;
    static constexpr index_t width = KB::size;
    static constexpr index_t state_bytes = index_t(2) << 20;  // about an L2

    Rows<const T> x;
    index_t k, capacity, chunk;
    K flip;
    Scratch<Item> items;    // column c's candidates at (c - c0) * capacity
    Scratch<index_t> count;
    Scratch<K> bar;

    ColumnFilter(Rows<const T> x_, index_t k_, bool largest)
        : x(x_),
          k(k_),
          capacity(2 * k_),
          chunk(std::min(x_.n_cols, std::max(width, state_bytes / (capacity * index_t(sizeof(Item))) / width * width))),
          flip(largest ? K(0) : K(-1)),
          items(chunk * capacity),
          count(chunk),
          bar(chunk + width) {}

    // Cuts column c's buffer to its k best and raises its bar to the k-th.
    void cut(index_t c) {
        Item* column = items.get() + c * capacity;
        std::nth_element(column, column + (k - 1), column + count.get()[c], RanksBefore<Item>{});
        count.get()[c] = k;
        bar.get()[c] = P::key(column[k - 1]);
    }

    void chunk_down_rows(index_t c0, index_t cols) {
        const index_t n = x.n_rows;
        Item* all = items.get();
        index_t* counts = count.get();
        K* bars = bar.get();
        for (index_t c = 0; c < cols; ++c) {  // the first k rows are all candidates
            Item* column = all + c * capacity;
            for (index_t r = 0; r < k; ++r) column[r] = P::pack(order_key<V>(to_value(x.row(r)[c0 + c]), flip), r);
            counts[c] = k;
            bars[c] = P::key(*std::min_element(column, column + k));
        }
        const index_t whole = cols / width * width;
        const index_t tail_whole_until = whole < cols ? rows_readable_whole(x, c0, whole + width) : n;
        for (index_t r = k; r < n; ++r) {
            const T* row = x.row(r) + c0;
            auto take = [&](index_t c, std::uint64_t hits, KB keys) {
                alignas(64) K lane_keys[width];
                keys.store_aligned(lane_keys);
                for (; hits; hits &= hits - 1) {
                    const index_t lane = lowest_bit(hits), col = c + lane;
                    all[col * capacity + counts[col]++] = P::pack(lane_keys[lane], r);
                    if (counts[col] == capacity) cut(col);
                }
            };
            index_t c = 0;
            for (; c < whole; c += width) {
                const KB keys = order_keys<A, V>(load_values<A>(row + c), flip);
                const std::uint64_t hits = mask_bits(keys > KB::load_unaligned(bars + c));
                if (hits) [[unlikely]]
                    take(c, hits, keys);
            }
            if (c < cols) {
                const KB keys = order_keys<A, V>(r < tail_whole_until ? load_values<A>(row + c)
                                                                      : load_values_partial<A>(row + c, cols - c, V(0)),
                                                 flip);
                const std::uint64_t hits =
                    mask_bits(keys > KB::load_unaligned(bars + c)) & ((std::uint64_t(1) << (cols - c)) - 1);
                if (hits) take(c, hits, keys);
            }
        }
    }

    void write(index_t c0, index_t cols, Rows<T> values, Rows<index_t> indices) {
        for (index_t c = 0; c < cols; ++c) {
            Item* column = items.get() + c * capacity;
            const index_t size = count.get()[c];
            if (size > k) std::nth_element(column, column + (k - 1), column + size, RanksBefore<Item>{});
            std::sort(column, column + k, RanksBefore<Item>{});
            for (index_t j = 0; j < k; ++j) {
                const index_t at = P::index(column[j]);
                indices.row(j)[c0 + c] = at;
                values.row(j)[c0 + c] = x.row(at)[c0 + c];  // the element itself, bits kept
            }
        }
    }

    void run(Rows<T> values, Rows<index_t> indices) {
        for (index_t c0 = 0; c0 < x.n_cols; c0 += chunk) {
            const index_t cols = std::min(chunk, x.n_cols - c0);
            chunk_down_rows(c0, cols);
            write(c0, cols, values, indices);
        }
    }
};

template <class A, class T>
void topk_columns_by_strips(Rows<const T> x, index_t k, bool largest, Rows<T> values, Rows<index_t> indices) {
    constexpr index_t strip = std::max<index_t>(1, index_t(64 / sizeof(T)));
    const index_t n = x.n_rows;
    Scratch<T> buffer(strip * n), strip_values(strip * k);
    Scratch<index_t> strip_indices(strip * k);
    T* columns = buffer.get();
    for (index_t c0 = 0; c0 < x.n_cols; c0 += strip) {
        const index_t cols = std::min(strip, x.n_cols - c0);
        for (index_t r = 0; r < n; ++r) {
            const T* src = x.row(r) + c0;
            for (index_t s = 0; s < cols; ++s) columns[s * n + r] = src[s];
        }
        topk_rows<A, T>(Rows<const T>{columns, cols, n, n}, k, largest, true, Rows<T>{strip_values.get(), cols, k, k},
                        Rows<index_t>{strip_indices.get(), cols, k, k});
        for (index_t s = 0; s < cols; ++s) {
            for (index_t j = 0; j < k; ++j) {
                values.row(j)[c0 + s] = strip_values.get()[s * k + j];
                indices.row(j)[c0 + s] = strip_indices.get()[s * k + j];
            }
        }
    }
}

template <class A, class T>
void topk_columns(Rows<const T> x, index_t k, bool largest, Rows<T> values, Rows<index_t> indices) {
    using K = key_t<value_t<T>>;
    if (k == 0 || x.n_cols == 0) return;
    // Row numbers ride in the key lanes: 32-bit ones hold up to 2^31 - 1 rows.
    if (k <= column_insert_k_max && x.n_rows <= index_t(std::numeric_limits<K>::max())) {
        ColumnInserter<A, T>(x, k, largest).run(values, indices);
        return;
    }
    // Buffers of 2k per column while k is a small part of the column (n >= 32k, where they beat
    // the strips; state_bytes at most); beyond, the strips, which need n per column anyway.
    if (k <= column_filter_k_max && 32 * k <= x.n_rows) {
        if (sizeof(K) == 4 && x.n_rows <= index_t(0xffffffff))
            ColumnFilter<A, T, std::uint64_t>(x, k, largest).run(values, indices);
        else
            ColumnFilter<A, T, unsigned __int128>(x, k, largest).run(values, indices);
        return;
    }
    topk_columns_by_strips<A, T>(x, k, largest, values, indices);
}

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
