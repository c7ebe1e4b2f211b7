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

template <class A, class T>
inline batch<key_t<T>, A> order_keys(batch<T, A> x, batch<key_t<T>, A> flip) {
    if constexpr (std::is_integral_v<T>) {
        return x ^ flip;
    } else {
        using K = key_t<T>;
        using KB = batch<K, A>;
        constexpr K low_bits = std::numeric_limits<K>::max();
        const batch<T, A> canonical_nan(std::numeric_limits<T>::quiet_NaN());
        batch<T, A> canonical = xsimd::select(x != x, canonical_nan, x + batch<T, A>(T(0)));
        KB bits = xsimd::bitwise_cast<KB>(canonical);
        return bits ^ ((bits >> int(8 * sizeof(K) - 1)) & KB(low_bits)) ^ flip;
    }
}

// A selected element: its key and its column.
template <class K>
struct Ranked {
    K key;
    index_t index;
};

// True when a ranks before b: larger key, then lower index.
template <class K>
struct RanksBefore {
    bool operator()(const Ranked<K>& a, const Ranked<K>& b) const {
        return a.key > b.key || (a.key == b.key && a.index < b.index);
    }
};

}  // namespace fasttopk::FASTTOPK_ISA_NAMESPACE
