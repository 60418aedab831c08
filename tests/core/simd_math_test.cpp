// The eight-lane functions (core/simd_math.hpp: SLEEF, and libmvec's erfc): accuracy against long
// double in units of the double epsilon; on machines that have both, agreement to the bit of the
// AVX-512 and AVX2 variants (what makes results independent of the SIMD width a build was
// compiled for); and a lane's value independent of the other seven.
#include <gtest/gtest.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#include <sleef.h>
extern "C" {
__m512d _ZGVeN8v_erfc(__m512d);
__m256d _ZGVdN4v_erfc(__m256d);
}
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>
#include <iterator>
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
// u > 0). libmvec's erfc measured 1.47 ulp on [0, 6] and 1.98 on [0, 27.5] (4 million arguments,
// worst near 24, values ~1e-257); glibc promises 4. Long double erfcl is good to well under that.
TEST(SimdMath, ErfcWithinTwoUlpAndLog1pWithinOne) {
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
  EXPECT_LE(worst_erfc, 2.0) << simd::variant();
  EXPECT_LE(worst_log1p, 1.0) << simd::variant();
}

// libmvec routes lanes its vector path does not cover (NaN, infinities, the far tails) to the scalar
// erfc; that must touch only those lanes. Each argument is evaluated in every lane, once among
// ordinary neighbours and once among such special ones, and must give the same bits each time.
TEST(SimdMath, ErfcOfALaneDoesNotDependOnTheOtherLanes) {
  const double special[] = {std::numeric_limits<double>::quiet_NaN(), INFINITY, -INFINITY, 1e300, -1e300, 27.5, 40.0,
                            -6.0, 0.0, -0.0, 5e-324};
  const RandomStreams streams(9, 10);
  alignas(64) double in[simd::kLanes], out[simd::kLanes];
  long mismatches = 0;
  for (std::uint64_t block = 0; block < 2000; ++block) {
    const double x = 30.0 * streams.uniform(block, StreamTag(StreamPurpose::kTest, 7), 0) - 2.0;
    for (int l = 0; l < simd::kLanes; ++l) in[l] = x;
    simd::erfc8(in, out);
    const double alone = out[0];
    for (int lane = 0; lane < simd::kLanes; ++lane) {
      for (int l = 0; l < simd::kLanes; ++l)
        in[l] = l == lane ? x : special[(block + static_cast<std::uint64_t>(l)) % std::size(special)];
      simd::erfc8(in, out);
      mismatches += std::memcmp(&out[lane], &alone, sizeof alone) != 0;
    }
  }
  EXPECT_EQ(mismatches, 0) << simd::variant();
}

// sin and cos on [-500, 500] (the random Fourier features' arguments omega <v, x> + phi); SLEEF
// states 1 ulp for its u10 functions.
TEST(SimdMath, SinAndCosWithinOneUlp) {
  const RandomStreams streams(11, 12);
  alignas(64) double in[simd::kLanes], sines[simd::kLanes], cosines[simd::kLanes];
  double worst_sin = 0.0, worst_cos = 0.0;
  for (std::uint64_t block = 0; block < 20000; ++block) {
    for (int lane = 0; lane < simd::kLanes; ++lane)
      in[lane] = 1000.0 * streams.uniform(block, StreamTag(StreamPurpose::kTest, 8), lane) - 500.0;
    simd::sin8(in, sines);
    simd::cos8(in, cosines);
    for (int lane = 0; lane < simd::kLanes; ++lane) {
      worst_sin = std::max(worst_sin, ulp_error(sines[lane], std::sin(static_cast<long double>(in[lane]))));
      worst_cos = std::max(worst_cos, ulp_error(cosines[lane], std::cos(static_cast<long double>(in[lane]))));
    }
  }
  EXPECT_LE(worst_sin, 1.0) << simd::variant();
  EXPECT_LE(worst_cos, 1.0) << simd::variant();
}

// first_equal against std::find: every length 0..40, every position of the first hit (and none),
// later hits and -0.0 == 0.0 included.
TEST(SimdMath, FirstEqualFindsTheFirstOccurrence) {
  std::vector<double> values;
  for (long count = 0; count <= 40; ++count) {
    for (long hit = 0; hit <= count; ++hit) {
      values.assign(static_cast<std::size_t>(count), 1.0);
      for (long i = 0; i < count; ++i) values[static_cast<std::size_t>(i)] = static_cast<double>(i % 7) + 2.0;
      for (long i = hit; i < count; i += 3) values[static_cast<std::size_t>(i)] = (i == hit) ? 0.0 : -0.0;
      const long expected = std::find(values.begin(), values.end(), 0.0) - values.begin();
      EXPECT_EQ(simd::first_equal(values.data(), count, 0.0), expected) << count << " " << hit;
      EXPECT_EQ(simd::first_equal(values.data(), count, -1.0), count);
    }
  }
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
    _mm512_store_pd(wide, _ZGVeN8v_erfc(_mm512_load_pd(in)));
    for (int h = 0; h < 8; h += 4) _mm256_store_pd(narrow + h, _ZGVdN4v_erfc(_mm256_load_pd(in + h)));
    for (int lane = 0; lane < 8; ++lane) in[lane] = -in[lane] / 56.0;  // log1p on [-1/2, 0)
    _mm512_store_pd(wide2, Sleef_log1pd8_u10avx512f(_mm512_load_pd(in)));
    for (int h = 0; h < 8; h += 4) _mm256_store_pd(narrow2 + h, Sleef_log1pd4_u10avx2(_mm256_load_pd(in + h)));
    for (int lane = 0; lane < 8; ++lane) mismatches += wide[lane] != narrow[lane] || wide2[lane] != narrow2[lane];
    for (int lane = 0; lane < 8; ++lane) in[lane] = 2000.0 * in[lane];  // sin, cos on [-1000, 0)
    _mm512_store_pd(wide, Sleef_sind8_u10avx512f(_mm512_load_pd(in)));
    _mm512_store_pd(wide2, Sleef_cosd8_u10avx512f(_mm512_load_pd(in)));
    for (int h = 0; h < 8; h += 4) {
      _mm256_store_pd(narrow + h, Sleef_sind4_u10avx2(_mm256_load_pd(in + h)));
      _mm256_store_pd(narrow2 + h, Sleef_cosd4_u10avx2(_mm256_load_pd(in + h)));
    }
    for (int lane = 0; lane < 8; ++lane) mismatches += wide[lane] != narrow[lane] || wide2[lane] != narrow2[lane];
  }
  EXPECT_EQ(mismatches, 0);
}
#endif

}  // namespace
}  // namespace dmconv
