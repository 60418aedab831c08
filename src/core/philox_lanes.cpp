#include "core/philox_lanes.hpp"

#include <Random123/philox.h>

#if defined(__AVX512F__)
#include <immintrin.h>

#include <cstring>
#endif

namespace dmconv {

#if defined(__AVX512F__)
namespace {

// Random123's own constants, so the lanes cannot drift from r123::Philox4x64.
constexpr std::uint64_t kMultiplier0 = PHILOX_M4x64_0;
constexpr std::uint64_t kMultiplier1 = PHILOX_M4x64_1;
constexpr std::uint64_t kWeyl0 = PHILOX_W64_0;
constexpr std::uint64_t kWeyl1 = PHILOX_W64_1;
constexpr int kRounds = PHILOX4x64_DEFAULT_ROUNDS;

using Lanes = std::uint64_t __attribute__((vector_size(64)));

// The 32 x 32 -> 64 products of the low halves of each lane (vpmuludq). The masked form with
// every lane selected is used, and vector extensions for the rest: GCC 12's unmasked AVX-512
// intrinsics trip -Wuninitialized in its own headers.
inline Lanes multiply_low_halves(Lanes a, Lanes b) {
  return reinterpret_cast<Lanes>(
      _mm512_maskz_mul_epu32(__mmask8{0xff}, reinterpret_cast<__m512i>(a), reinterpret_cast<__m512i>(b)));
}

// x * m = hi 2^64 + lo from the 32-bit halves: with ll = xl ml, lh = xh ml, hl = xl mh,
// hh = xh mh, t = hl + ll_hi and u = lh + t_lo stay below 2^64, hi = hh + t_hi + u_hi, and
// lo = ll + (lh + hl) 2^32 mod 2^64 (the same partial products, so no vpmullq).
inline void multiply_high_low(Lanes x, Lanes m_low, Lanes m_high, Lanes& hi, Lanes& lo) {
  const Lanes x_high = x >> 32;
  const Lanes ll = multiply_low_halves(x, m_low);
  const Lanes lh = multiply_low_halves(x_high, m_low);
  const Lanes hl = multiply_low_halves(x, m_high);
  const Lanes hh = multiply_low_halves(x_high, m_high);
  const Lanes t = hl + (ll >> 32);
  const Lanes u = lh + (t & 0xffffffffULL);
  hi = hh + (t >> 32) + (u >> 32);
  lo = ll + ((lh + hl) << 32);
}

inline Lanes broadcast(std::uint64_t value) { return Lanes{} + value; }

constexpr int kVectors = kPhiloxLanes / 8;

}  // namespace

// The kVectors registers go through each round together (see the header). Measured with
// bench/normals.cpp on one Zen 5 core: 6.4e8 words/s with one register per call, 8.4e8 with
// two, 1.25e9 with four.
void philox4x64_lanes(std::uint64_t key0, std::uint64_t key1, const PhiloxLanes& in, PhiloxLanes& out) {
  const Lanes m0_low = broadcast(kMultiplier0 & 0xffffffffULL), m0_high = broadcast(kMultiplier0 >> 32);
  const Lanes m1_low = broadcast(kMultiplier1 & 0xffffffffULL), m1_high = broadcast(kMultiplier1 >> 32);
  Lanes c0[kVectors], c1[kVectors], c2[kVectors], c3[kVectors];
  for (int v = 0; v < kVectors; ++v) {
    std::memcpy(&c0[v], in.word[0] + 8 * v, sizeof(Lanes));
    std::memcpy(&c1[v], in.word[1] + 8 * v, sizeof(Lanes));
    std::memcpy(&c2[v], in.word[2] + 8 * v, sizeof(Lanes));
    std::memcpy(&c3[v], in.word[3] + 8 * v, sizeof(Lanes));
  }
  for (int round = 0; round < kRounds; ++round) {
    const std::uint64_t k0 = key0 + static_cast<std::uint64_t>(round) * kWeyl0;
    const std::uint64_t k1 = key1 + static_cast<std::uint64_t>(round) * kWeyl1;
    for (int v = 0; v < kVectors; ++v) {
      Lanes hi0, lo0, hi1, lo1;
      multiply_high_low(c0[v], m0_low, m0_high, hi0, lo0);
      multiply_high_low(c2[v], m1_low, m1_high, hi1, lo1);
      c0[v] = hi1 ^ c1[v] ^ k0;
      c1[v] = lo1;
      c2[v] = hi0 ^ c3[v] ^ k1;
      c3[v] = lo0;
    }
  }
  for (int v = 0; v < kVectors; ++v) {
    std::memcpy(out.word[0] + 8 * v, &c0[v], sizeof(Lanes));
    std::memcpy(out.word[1] + 8 * v, &c1[v], sizeof(Lanes));
    std::memcpy(out.word[2] + 8 * v, &c2[v], sizeof(Lanes));
    std::memcpy(out.word[3] + 8 * v, &c3[v], sizeof(Lanes));
  }
}

#else

void philox4x64_lanes(std::uint64_t key0, std::uint64_t key1, const PhiloxLanes& in, PhiloxLanes& out) {
  r123::Philox4x64 generator;
  const r123::Philox4x64::key_type key = {{key0, key1}};
  PhiloxLanes result;
  for (int lane = 0; lane < kPhiloxLanes; ++lane) {
    const r123::Philox4x64::ctr_type counter = {
        {in.word[0][lane], in.word[1][lane], in.word[2][lane], in.word[3][lane]}};
    const auto bits = generator(counter, key);
    for (int w = 0; w < 4; ++w) result.word[w][lane] = bits[w];
  }
  out = result;
}

#endif

}  // namespace dmconv
