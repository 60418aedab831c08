// Random123 Philox4x64-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as
// 1, 2, 3", SC'11) on 32 counters at once.
//
//   round r (r = 0..9), key k_r = (k0 + r W0, k1 + r W1):
//     (hi0, lo0) = M0 * c0,  (hi1, lo1) = M1 * c2          (64 x 64 -> 128-bit products)
//     c <- (hi1 ^ c1 ^ k_r0, lo1, hi0 ^ c3 ^ k_r1, lo0)
//   M0 = 0xD2E7470EE14C6C93, M1 = 0xCA5A826395121157, W0 = 0x9E3779B97F4A7C15, W1 = 0xBB67AE8584CAA73B
//
// Each lane is bit for bit r123::Philox4x64 of its own counter (tests/core/rng_test.cpp,
// Philox.SimdLanesAreTheScalarGenerator). With AVX-512 the rounds run in 64-bit vector lanes:
// SIMD has no 64 x 64 -> 128 multiply, so each product is assembled from four 32 x 32 -> 64
// ones (vpmuludq), and four registers of eight lanes go through each round together, since one
// register's round is a serial chain that leaves the multipliers waiting on its latency.
// Without AVX-512 each lane calls the scalar generator.
#pragma once
#include <cstdint>

namespace dmconv {

inline constexpr int kPhiloxLanes = 32;
#if defined(__AVX512F__)
inline constexpr bool kPhiloxLanesInSimd = true;
#else
inline constexpr bool kPhiloxLanesInSimd = false;
#endif

// Counters and output words of kPhiloxLanes Philox blocks, word-major (word w of lane l is [w][l]).
struct alignas(64) PhiloxLanes {
  std::uint64_t word[4][kPhiloxLanes];
};

// out.word[.][l] = Philox4x64-10(counter (in.word[0][l], .., in.word[3][l]), key (key0, key1)).
// out may alias in.
void philox4x64_lanes(std::uint64_t key0, std::uint64_t key1, const PhiloxLanes& in, PhiloxLanes& out);

}  // namespace dmconv
