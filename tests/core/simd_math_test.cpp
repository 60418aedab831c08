// The eight-lane SLEEF functions (core/simd_math.hpp): accuracy against long double in units of
// the double epsilon, and, on machines that have both, agreement to the bit of the AVX-512 and
// AVX2 variants (what makes results independent of the SIMD width a build was compiled for).
#include <gtest/gtest.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#include <sleef.h>
#endif

#include <cmath>
#include <limits>

#include "core/rng.hpp"
#include "core/simd_math.hpp"

namespace dmconv {
namespace {

double ulp_error(double value, long double reference) {
  const double r = static_cast<double>(reference);
  const double ulp = std::nextafter(std::fabs(r), INFINITY) - std::fabs(r);
  return static_cast<double>(std::fabs(static_cast<long double>(value) - reference) / ulp);
}

// Arguments: uniform in [-700, 700] for exp (all of the softmax range), (0, 4] for log.
TEST(SimdMath, ExpAndLogWithinOneUlp) {
  const RandomStreams streams(3, 4);
  alignas(64) double in[simd::kLanes], out[simd::kLanes];
  double worst_exp = 0.0, worst_log = 0.0;
  for (std::uint64_t block = 0; block < 20000; ++block) {
    for (int lane = 0; lane < simd::kLanes; ++lane)
      in[lane] = 1400.0 * streams.uniform(block, StreamTag(StreamPurpose::kTest, 1), lane) - 700.0;
    simd::exp8(in, out);
    for (int lane = 0; lane < simd::kLanes; ++lane)
      worst_exp = std::max(worst_exp, ulp_error(out[lane], std::exp(static_cast<long double>(in[lane]))));
    for (int lane = 0; lane < simd::kLanes; ++lane)
      in[lane] = 4.0 * streams.uniform(block, StreamTag(StreamPurpose::kTest, 2), lane);
    simd::log8(in, out);
    for (int lane = 0; lane < simd::kLanes; ++lane)
      worst_log = std::max(worst_log, ulp_error(out[lane], std::log(static_cast<long double>(in[lane]))));
  }
  EXPECT_LE(worst_exp, 1.0) << simd::variant();
  EXPECT_LE(worst_log, 1.0) << simd::variant();
}

// erfc on [0, 26] (down to 1e-295, where the probit terms use it), log1p on (-1/2, 0] (log Phi for
// u > 0). SLEEF states 1.5 ulp for erfc; long double erfcl is good to well under that.
TEST(SimdMath, ErfcWithinOneAndAHalfUlpAndLog1pWithinOne) {
  const RandomStreams streams(7, 8);
  alignas(64) double in[simd::kLanes], out[simd::kLanes];
  double worst_erfc = 0.0, worst_log1p = 0.0;
  for (std::uint64_t block = 0; block < 20000; ++block) {
    for (int lane = 0; lane < simd::kLanes; ++lane)
      in[lane] = 26.0 * streams.uniform(block, StreamTag(StreamPurpose::kTest, 5), lane);
    simd::erfc8(in, out);
    for (int lane = 0; lane < simd::kLanes; ++lane)
      worst_erfc = std::max(worst_erfc, ulp_error(out[lane], std::erfc(static_cast<long double>(in[lane]))));
    for (int lane = 0; lane < simd::kLanes; ++lane)
      in[lane] = -0.5 * streams.uniform(block, StreamTag(StreamPurpose::kTest, 6), lane);
    simd::log1p8(in, out);
    for (int lane = 0; lane < simd::kLanes; ++lane)
      worst_log1p = std::max(worst_log1p, ulp_error(out[lane], std::log1p(static_cast<long double>(in[lane]))));
  }
  EXPECT_LE(worst_erfc, 1.5) << simd::variant();
  EXPECT_LE(worst_log1p, 1.0) << simd::variant();
}

#if defined(__AVX512F__)
TEST(SimdMath, Avx512AndAvx2VariantsAgreeToTheBit) {
  const RandomStreams streams(5, 6);
  alignas(64) double in[8], wide[8], narrow[8], wide2[8], narrow2[8];
  long mismatches = 0;
  for (std::uint64_t block = 0; block < 100000; ++block) {
    for (int lane = 0; lane < 8; ++lane) in[lane] = 2.0 * streams.uniform(block, StreamTag(StreamPurpose::kTest, 3), lane) - 1.0;
    const Sleef___m512d_2 w = Sleef_sincospid8_u05avx512f(_mm512_load_pd(in));
    _mm512_store_pd(wide, w.x);
    _mm512_store_pd(wide2, w.y);
    for (int h = 0; h < 8; h += 4) {
      const Sleef___m256d_2 n = Sleef_sincospid4_u05avx2(_mm256_load_pd(in + h));
      _mm256_store_pd(narrow + h, n.x);
      _mm256_store_pd(narrow2 + h, n.y);
    }
    for (int lane = 0; lane < 8; ++lane) mismatches += wide[lane] != narrow[lane] || wide2[lane] != narrow2[lane];
    for (int lane = 0; lane < 8; ++lane) in[lane] = 40.0 * in[lane];
    _mm512_store_pd(wide, Sleef_expd8_u10avx512f(_mm512_load_pd(in)));
    for (int h = 0; h < 8; h += 4) _mm256_store_pd(narrow + h, Sleef_expd4_u10avx2(_mm256_load_pd(in + h)));
    for (int lane = 0; lane < 8; ++lane) in[lane] = std::fabs(in[lane]) + 1e-300;
    _mm512_store_pd(wide2, Sleef_logd8_u10avx512f(_mm512_load_pd(in)));
    for (int h = 0; h < 8; h += 4) _mm256_store_pd(narrow2 + h, Sleef_logd4_u10avx2(_mm256_load_pd(in + h)));
    for (int lane = 0; lane < 8; ++lane) mismatches += wide[lane] != narrow[lane] || wide2[lane] != narrow2[lane];
    for (int lane = 0; lane < 8; ++lane) in[lane] = 0.7 * in[lane];  // erfc on (0, 28]
    _mm512_store_pd(wide, Sleef_erfcd8_u15avx512f(_mm512_load_pd(in)));
    for (int h = 0; h < 8; h += 4) _mm256_store_pd(narrow + h, Sleef_erfcd4_u15avx2(_mm256_load_pd(in + h)));
    for (int lane = 0; lane < 8; ++lane) in[lane] = -in[lane] / 56.0;  // log1p on [-1/2, 0)
    _mm512_store_pd(wide2, Sleef_log1pd8_u10avx512f(_mm512_load_pd(in)));
    for (int h = 0; h < 8; h += 4) _mm256_store_pd(narrow2 + h, Sleef_log1pd4_u10avx2(_mm256_load_pd(in + h)));
    for (int lane = 0; lane < 8; ++lane) mismatches += wide[lane] != narrow[lane] || wide2[lane] != narrow2[lane];
  }
  EXPECT_EQ(mismatches, 0);
}
#endif

}  // namespace
}  // namespace dmconv
