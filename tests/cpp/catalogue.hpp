// The hostile rows every kernel meets (x86-simd-sort style): named patterns of a given length,
// the same values on every ISA. Floats get NaN (both signs), infinities, signed zeros,
// denormals and ties across lanes; integers their range limits and ties.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "fasttopk/arrays.hpp"

namespace fasttopk_test {

using fasttopk::index_t;

template <class T>
struct NamedRow {
    std::string name;
    std::vector<T> values;
};

template <class T>
constexpr const char* dtype_name() {
    if constexpr (std::is_same_v<T, float>) return "float32";
    else if constexpr (std::is_same_v<T, double>) return "float64";
    else if constexpr (std::is_same_v<T, std::int32_t>) return "int32";
    else return "int64";
}

template <class T>
bool is_nan(T x) {
    if constexpr (std::is_floating_point_v<T>) return std::isnan(x);
    else return false;
}

template <class T>
bool is_finite(T x) {
    if constexpr (std::is_floating_point_v<T>) return std::isfinite(x);
    else return true;
}

// Random denormal (subnormal) numbers of either sign, zero included.
template <class T>
T random_denormal(std::mt19937_64& rng) {
    using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    constexpr int mantissa_bits = std::numeric_limits<T>::digits - 1;
    Bits bits = Bits(rng()) & ((Bits(1) << mantissa_bits) - 1);  // exponent field 0
    if (rng() & 1) bits |= Bits(1) << (8 * sizeof(T) - 1);
    T value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

template <class T>
std::vector<NamedRow<T>> hostile_rows(index_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed * 1000003u + std::uint64_t(n));
    std::vector<NamedRow<T>> rows;
    auto add = [&](const char* name, auto value_at) {
        NamedRow<T> row{name, std::vector<T>(std::size_t(n))};
        for (index_t j = 0; j < n; ++j) row.values[std::size_t(j)] = value_at(j);
        rows.push_back(std::move(row));
    };
    auto pick = [&](std::initializer_list<T> pool) {
        return [&rng, values = std::vector<T>(pool)](index_t) { return values[rng() % values.size()]; };
    };
    std::uniform_int_distribution<int> coin(0, 1);
    if constexpr (std::is_floating_point_v<T>) {
        constexpr T inf = std::numeric_limits<T>::infinity();
        const T nan = std::numeric_limits<T>::quiet_NaN();
        std::normal_distribution<double> normal(0.0, 100.0);
        auto random = [&](index_t) { return T(normal(rng)); };
        add("random", random);
        add("few_finite_values", pick({T(-2.5), T(-0.0), T(0.0), T(1.0), T(2.5)}));
        add("few_values_with_inf", pick({-inf, T(-2.5), T(-0.0), T(0.0), T(1.0), T(2.5), inf}));
        add("all_equal", [](index_t) { return T(1.5); });
        add("signed_zeros", [&](index_t) { return coin(rng) ? T(-0.0) : T(0.0); });
        add("ascending", [&](index_t j) { return T(j) * T(0.5) - T(n / 4); });
        add("descending", [&](index_t j) { return T(n - j) * T(0.25); });
        add("sawtooth", [](index_t j) { return T(j % 7); });
        add("peak_last", [&](index_t j) { return j == n - 1 ? T(1) : T(-0.0); });
        add("one_ulp_apart", [&](index_t) {
            T x = T(1);
            for (int steps = int(rng() % 4); steps > 0; --steps) x = std::nextafter(x, T(2));
            return x;
        });
        add("denormals", [&](index_t) { return random_denormal<T>(rng); });
        add("range_limits", pick({std::numeric_limits<T>::lowest(), std::numeric_limits<T>::max(),
                                  std::numeric_limits<T>::min(), -std::numeric_limits<T>::min(),
                                  std::numeric_limits<T>::denorm_min(), T(0)}));
        add("huge_spread", [&](index_t) { return T(normal(rng) * (sizeof(T) == 4 ? 1e30 : 1e300)); });
        add("nan_first", [&](index_t j) { return j == 0 ? nan : random(j); });
        add("nan_last", [&](index_t j) { return j == n - 1 ? nan : random(j); });
        add("nan_everywhere", [&](index_t) { return coin(rng) ? -nan : nan; });
        add("nan_sprinkled", [&](index_t j) { return rng() % 7 == 0 ? (coin(rng) ? -nan : nan) : random(j); });
        add("nan_and_inf", pick({nan, -nan, inf, -inf, T(0)}));
        add("inf_and_finite", [&](index_t j) { return rng() % 5 == 0 ? (coin(rng) ? -inf : inf) : random(j); });
        add("plus_inf", [=](index_t) { return inf; });
        add("minus_inf", [=](index_t) { return -inf; });
        add("minus_inf_but_one", [&](index_t j) { return j == n / 2 ? T(-3) : -inf; });
    } else {
        using L = std::numeric_limits<T>;
        std::uniform_int_distribution<T> full(L::min(), L::max());
        add("random", [&](index_t) { return full(rng); });
        add("few_values", pick({L::min(), T(L::min() + 1), T(0), T(L::max() - 1), L::max()}));
        add("small_random", [&](index_t) { return T(std::int64_t(rng() % 7) - 3); });
        add("all_equal", [](index_t) { return T(7); });
        add("all_min", [](index_t) { return L::min(); });
        add("all_max", [](index_t) { return L::max(); });
        add("ascending", [&](index_t j) { return T(j - n / 2); });
        add("descending", [&](index_t j) { return T(n - j); });
        add("sawtooth", [](index_t j) { return T(j % 7); });
        add("peak_last", [&](index_t j) { return j == n - 1 ? T(1) : T(0); });
        add("min_last", [&](index_t j) { return j == n - 1 ? L::min() : L::max(); });
    }
    return rows;
}

// Lengths around every SIMD width and unroll block (1..70), a row of the rank sort (100), the top-k buffer and sort
// thresholds, and long rows past argmax's 4096-element spans.
inline std::vector<index_t> test_lengths() {
    std::vector<index_t> lengths;
    for (index_t n = 1; n <= 70; ++n) lengths.push_back(n);
    for (index_t n : {100, 127, 128, 129, 255, 256, 257, 1023, 1024, 1025, 4095, 4096, 4097, 8191, 8192, 8193, 8200})
        lengths.push_back(n);
    return lengths;
}

// k = 0, 1, n and around every width, within [0, n].
inline std::vector<index_t> test_ks(index_t n) {
    std::vector<index_t> ks;
    for (index_t k : {index_t(0), index_t(1), index_t(2), index_t(3), index_t(4), index_t(5), index_t(7),
                      index_t(8), index_t(9), index_t(15), index_t(16), index_t(17), index_t(31), index_t(32),
                      index_t(33), index_t(63), index_t(64), index_t(65), index_t(127), index_t(128),
                      index_t(129), n / 2, n - 1, n})
        if (k >= 0 && k <= n && (ks.empty() || std::find(ks.begin(), ks.end(), k) == ks.end())) ks.push_back(k);
    return ks;
}

}  // namespace fasttopk_test
