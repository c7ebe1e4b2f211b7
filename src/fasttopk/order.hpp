// THE order rule of topk/argtopk, decided here and nowhere else.
//
// Each value maps to a signed integer key; a larger key ranks first, and among equal keys the
// lower index ranks first. For floats the key is the IEEE bit pattern made monotone, after
// -0.0 has been folded into +0.0 and every NaN into one positive quiet NaN, so NaN sorts above
// +inf. largest=False flips every key bit (~key reverses the order), which puts NaN last.
#pragma once
#include "fasttopk/simd.hpp"

namespace fasttopk::FASTTOPK_ISA_NAMESPACE {

template <class T>
struct order_traits;
template <>
struct order_traits<float> {
    using key = std::int32_t;
};
template <>
struct order_traits<double> {
    using key = std::int64_t;
};
template <>
struct order_traits<std::int32_t> {
    using key = std::int32_t;
};
template <>
struct order_traits<std::int64_t> {
    using key = std::int64_t;
};

template <class T>
using key_t = typename order_traits<T>::key;

// flip is 0 for largest=True and all ones for largest=False.
template <class T>
inline key_t<T> order_key(T x, key_t<T> flip) {
    if constexpr (std::is_integral_v<T>) {
        return x ^ flip;
    } else {
        using K = key_t<T>;
        constexpr K low_bits = std::numeric_limits<K>::max();
        T canonical = (x != x) ? std::numeric_limits<T>::quiet_NaN() : x + T(0);
        K bits;
        std::memcpy(&bits, &canonical, sizeof bits);
        return bits ^ ((bits >> (8 * sizeof(K) - 1)) & low_bits) ^ flip;
    }
}

// order_key for a whole batch, lane by lane the same integers.
template <class A, class T>
inline batch<key_t<T>, A> order_keys(batch<T, A> x, key_t<T> flip) {
    using K = key_t<T>;
    using KB = batch<K, A>;
    if constexpr (std::is_integral_v<T>) {
        return x ^ KB(flip);
    } else {
        constexpr K low_bits = std::numeric_limits<K>::max();
        const batch<T, A> canonical =
            xsimd::select(is_nan(x), batch<T, A>(std::numeric_limits<T>::quiet_NaN()), x + batch<T, A>(T(0)));
        const KB bits = xsimd::bitwise_cast<KB>(canonical);
        // A compare, not an arithmetic shift, makes the negatives' mask: AVX2 has no 64-bit
        // arithmetic shift (xsimd 8.1 emulates it lane by lane).
        return bits ^ xsimd::select(bits < KB(K(0)), KB(low_bits), KB(K(0))) ^ KB(flip);
    }
}

// The value whose key is `key` (the canonical NaN for the NaN key): inverse of order_key.
template <class T>
inline T key_value(key_t<T> key, key_t<T> flip) {
    if constexpr (std::is_integral_v<T>) {
        return key ^ flip;
    } else {
        using K = key_t<T>;
        constexpr K low_bits = std::numeric_limits<K>::max();
        K bits = key ^ flip;
        bits ^= (bits >> (8 * sizeof(K) - 1)) & low_bits;
        T value;
        std::memcpy(&value, &bits, sizeof value);
        return value;
    }
}

// Which lanes of a batch rank strictly above a threshold key (or at it too, when inclusive),
// by plain comparisons on the values instead of a key per element. For largest, NaN ranks
// first: it beats every non-NaN threshold. For smallest, NaN ranks last: it beats nothing, and
// every other value beats a NaN threshold. Exact: the lanes set are exactly those whose key
// compares so with the threshold.
enum class BeatMode { above, at_least, below, at_most, above_or_nan, at_least_or_nan, nan_only, not_nan, everything, nothing };

template <class A, class T>
class Beats {
   public:
    using K = key_t<T>;
    using B = batch<T, A>;

    Beats(K threshold, bool largest, bool inclusive) {
        using M = BeatMode;
        const T t = key_value<T>(threshold, largest ? K(0) : K(-1));
        limit_ = B(t);
        if (t != t) {  // only floats get here
            if (largest) mode_ = inclusive ? M::nan_only : M::nothing;
            else mode_ = inclusive ? M::everything : M::not_nan;
        } else if (largest) {
            constexpr bool nan_wins = !std::is_integral_v<T>;
            mode_ = inclusive ? (nan_wins ? M::at_least_or_nan : M::at_least) : (nan_wins ? M::above_or_nan : M::above);
        } else {
            mode_ = inclusive ? M::at_most : M::below;
        }
    }

    BeatMode mode() const { return mode_; }
    B limit() const { return limit_; }

    // The test of one mode, for loops specialised on it. (Not !(x <= t) for "above or NaN":
    // xsimd 8.1 negates an AVX-512 mask through an out-of-line constant, a call per batch.)
    template <BeatMode M>
    static xsimd::batch_bool<T, A> test(B x, B limit) {
        using Mode = BeatMode;
        if constexpr (M == Mode::above) return x > limit;
        else if constexpr (M == Mode::at_least) return x >= limit;
        else if constexpr (M == Mode::below) return x < limit;
        else if constexpr (M == Mode::at_most) return x <= limit;
        else if constexpr (M == Mode::above_or_nan) return (x > limit) | is_nan(x);
        else if constexpr (M == Mode::at_least_or_nan) return (x >= limit) | is_nan(x);
        else if constexpr (M == Mode::nan_only) return is_nan(x);
        else if constexpr (M == Mode::not_nan) return x == x;  // ordered: false for NaN
        else if constexpr (M == Mode::everything) return (x == x) | is_nan(x);
        else return is_nan(x) & (x == x);  // nothing
    }

    // Calls fn(std::integral_constant<BeatMode, mode()>{}): a loop specialised on the mode.
    template <class Fn>
    auto with_mode(Fn&& fn) const {
        using M = BeatMode;
        switch (mode_) {
            case M::above: return fn(std::integral_constant<M, M::above>{});
            case M::at_least: return fn(std::integral_constant<M, M::at_least>{});
            case M::below: return fn(std::integral_constant<M, M::below>{});
            case M::at_most: return fn(std::integral_constant<M, M::at_most>{});
            case M::above_or_nan: return fn(std::integral_constant<M, M::above_or_nan>{});
            case M::at_least_or_nan: return fn(std::integral_constant<M, M::at_least_or_nan>{});
            case M::nan_only: return fn(std::integral_constant<M, M::nan_only>{});
            case M::not_nan: return fn(std::integral_constant<M, M::not_nan>{});
            case M::everything: return fn(std::integral_constant<M, M::everything>{});
            default: return fn(std::integral_constant<M, M::nothing>{});
        }
    }

    xsimd::batch_bool<T, A> operator()(B x) const {
        return with_mode([&](auto m) { return test<decltype(m)::value>(x, limit_); });
    }

   private:
    B limit_;
    BeatMode mode_;
};

// A selected element packed into one unsigned integer that orders as the rule does: the key
// (sign bit flipped, so unsigned order is signed order) above the complemented index (so a
// lower index is a larger item). Larger item = ranks first; one integer compare per step.
// Item is uint64 (32-bit keys, rows shorter than 2^32) or unsigned __int128.
template <class K, class Item>
struct Packed {
    static constexpr int index_bits = 4 * sizeof(Item);
    using UK = std::make_unsigned_t<K>;
    using UIndex = std::conditional_t<index_bits == 32, std::uint32_t, std::uint64_t>;
    static constexpr UK sign = UK(1) << (8 * sizeof(K) - 1);

    static Item pack(K key, index_t j) { return (Item(UK(key) ^ sign) << index_bits) | Item(UIndex(~UIndex(j))); }
    static index_t index(Item item) { return index_t(UIndex(~UIndex(item))); }
    static K key(Item item) { return K(UK(item >> index_bits) ^ sign); }
};

template <class Item>
struct RanksBefore {
    bool operator()(Item a, Item b) const { return a > b; }
};

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
