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

// hi of x * m = hi 2^64 + lo from the 32-bit halves: with ll = xl ml, lh = xh ml, hl = xl mh,
// hh = xh mh, t = hl + ll_hi and u = lh + t_lo stay below 2^64, and hi = hh + t_hi + u_hi.
// lo is the wrapping 64-bit product (vpmullq).
inline void multiply_high_low(Lanes x, Lanes m_low, Lanes m_high, Lanes m, Lanes& hi, Lanes& lo) {
  const Lanes x_high = x >> 32;
  const Lanes ll = multiply_low_halves(x, m_low);
  const Lanes lh = multiply_low_halves(x_high, m_low);
  const Lanes hl = multiply_low_halves(x, m_high);
  const Lanes hh = multiply_low_halves(x_high, m_high);
  const Lanes t = hl + (ll >> 32);
  const Lanes u = lh + (t & 0xffffffffULL);
  hi = hh + (t >> 32) + (u >> 32);
  lo = x * m;
}

inline Lanes broadcast(std::uint64_t value) { return Lanes{} + value; }

}  // namespace

void philox4x64_lanes(std::uint64_t key0, std::uint64_t key1, const PhiloxLanes& in, PhiloxLanes& out) {
  const Lanes m0_low = broadcast(kMultiplier0 & 0xffffffffULL), m0_high = broadcast(kMultiplier0 >> 32);
  const Lanes m1_low = broadcast(kMultiplier1 & 0xffffffffULL), m1_high = broadcast(kMultiplier1 >> 32);
  const Lanes m0 = broadcast(kMultiplier0), m1 = broadcast(kMultiplier1);
  Lanes c0, c1, c2, c3;
  std::memcpy(&c0, in.word[0], sizeof c0);
  std::memcpy(&c1, in.word[1], sizeof c1);
  std::memcpy(&c2, in.word[2], sizeof c2);
  std::memcpy(&c3, in.word[3], sizeof c3);
  for (int round = 0; round < kRounds; ++round) {
    const std::uint64_t k0 = key0 + static_cast<std::uint64_t>(round) * kWeyl0;
    const std::uint64_t k1 = key1 + static_cast<std::uint64_t>(round) * kWeyl1;
    Lanes hi0, lo0, hi1, lo1;
    multiply_high_low(c0, m0_low, m0_high, m0, hi0, lo0);
    multiply_high_low(c2, m1_low, m1_high, m1, hi1, lo1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  std::memcpy(out.word[0], &c0, sizeof c0);
  std::memcpy(out.word[1], &c1, sizeof c1);
  std::memcpy(out.word[2], &c2, sizeof c2);
  std::memcpy(out.word[3], &c3, sizeof c3);
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
