// Counter-based streams: known-answer Philox output, the N(0,1) and U(0,1) laws, and the
// independence of every number from batch layout.
#include <gtest/gtest.h>

#include <Random123/boxmuller.hpp>
#include <Random123/philox.h>
#include <Random123/uniform.hpp>

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include "core/philox_lanes.hpp"
#include "core/rng.hpp"

namespace dmconv {
namespace {

// Random123 known-answer vector (kat_vectors, "philox4x64 10" with zero counter and key):
// 16554d9eca36314c db20fe9d672d0fdc d7e772cee186176b 7e68b68aec7ba23b.
TEST(Philox, KnownAnswerVector) {
  r123::Philox4x64 generator;
  const r123::Philox4x64::ctr_type counter = {{0, 0, 0, 0}};
  const r123::Philox4x64::key_type key = {{0, 0}};
  const auto out = generator(counter, key);
  EXPECT_EQ(out[0], 0x16554d9eca36314cULL);
  EXPECT_EQ(out[1], 0xdb20fe9d672d0fdcULL);
  EXPECT_EQ(out[2], 0xd7e772cee186176bULL);
  EXPECT_EQ(out[3], 0x7e68b68aec7ba23bULL);
}

// The vectorised generator is the scalar one, lane by lane, for counters and keys whose
// 32-bit halves take extreme values (the carries of the assembled 64 x 64 products) and for
// random ones, including out aliasing in.
TEST(Philox, SimdLanesAreTheScalarGenerator) {
  r123::Philox4x64 generator;
  const std::uint64_t edges[] = {0, 1, 0xffffffffULL, 0x100000000ULL, 0xffffffff00000000ULL, ~0ULL,
                                 0x8000000000000000ULL, 0x7fffffffffffffffULL};
  std::uint64_t state = 0x243f6a8885a308d3ULL;
  const auto next = [&state] { return state = state * 6364136223846793005ULL + 1442695040888963407ULL; };
  for (int trial = 0; trial < 4000; ++trial) {
    const std::uint64_t key0 = trial < 64 ? edges[trial % 8] : next(), key1 = trial < 64 ? edges[trial / 8] : next();
    PhiloxLanes lanes;
    for (int lane = 0; lane < kPhiloxLanes; ++lane)
      for (int w = 0; w < 4; ++w) lanes.word[w][lane] = trial < 64 ? edges[(lane + w + trial) % 8] : next();
    const PhiloxLanes counters = lanes;
    philox4x64_lanes(key0, key1, lanes, lanes);
    for (int lane = 0; lane < kPhiloxLanes; ++lane) {
      const auto expected = generator({{counters.word[0][lane], counters.word[1][lane], counters.word[2][lane],
                                        counters.word[3][lane]}},
                                      {{key0, key1}});
      for (int w = 0; w < 4; ++w) ASSERT_EQ(lanes.word[w][lane], expected[w]) << trial << " " << lane << " " << w;
    }
  }
}

// Kolmogorov-Smirnov statistic sqrt(n) D_n against a continuous cdf; under H0 its tail is
// P(K > k) ~ 2 exp(-2 k^2), so k = 2.7 is p ~ 1e-6.
template <class Cdf>
double ks_statistic(std::vector<double> sample, Cdf cdf) {
  std::sort(sample.begin(), sample.end());
  const double n = static_cast<double>(sample.size());
  double d = 0.0;
  for (std::size_t i = 0; i < sample.size(); ++i) {
    const double f = cdf(sample[i]);
    d = std::max({d, f - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - f});
  }
  return std::sqrt(n) * d;
}
constexpr double kKsCritical = 2.7;  // p ~ 1e-6 (2 exp(-2 * 2.7^2) = 9e-7)

TEST(RandomStreams, NormalsFollowTheStandardNormalLaw) {
  const RandomStreams streams(42, 7);
  const int particles = 2000, dim = 250;  // 5e5 numbers across particles and coordinates
  std::vector<double> all;
  std::vector<double> buffer(dim);
  for (int p = 0; p < particles; ++p) {
    streams.normals(p, StreamTag(StreamPurpose::kTest, 3), buffer.data(), dim);
    all.insert(all.end(), buffer.begin(), buffer.end());
  }
  const boost::math::normal standard;
  EXPECT_LT(ks_statistic(all, [&](double x) { return boost::math::cdf(standard, x); }), kKsCritical);
  double sum = 0, sum2 = 0, sum4 = 0;
  for (double x : all) sum += x, sum2 += x * x, sum4 += x * x * x * x;
  const double n = static_cast<double>(all.size());
  EXPECT_LT(std::fabs(sum / n), 5.0 / std::sqrt(n));
  EXPECT_LT(std::fabs(sum2 / n - 1.0), 5.0 * std::sqrt(2.0 / n));
  EXPECT_LT(std::fabs(sum4 / n - 3.0), 5.0 * std::sqrt(96.0 / n));  // Var(Z^4) = 105 - 9
}

TEST(RandomStreams, UniformsFollowTheUniformLawAndAvoidTheEndpoints) {
  const RandomStreams streams(1, 0);
  std::vector<double> all;
  for (std::uint64_t p = 0; p < 100000; ++p) {
    for (std::uint64_t i = 0; i < 3; ++i) {
      const double u = streams.uniform(p, StreamTag(StreamPurpose::kTest, 0), i);
      ASSERT_GT(u, 0.0);
      ASSERT_LT(u, 1.0);
      all.push_back(u);
    }
  }
  EXPECT_LT(ks_statistic(all, [](double x) { return x; }), kKsCritical);
}

// Neighbouring particles, tags, runs and seeds must give uncorrelated numbers.
// The batched uniforms are the scalar ones, for every length (partial Philox blocks included).
TEST(RandomStreams, BatchedUniformsAreTheScalarOnes) {
  const RandomStreams streams(11, 3);
  const StreamTag tag(StreamPurpose::kTest, 9);
  for (const Eigen::Index size : {Eigen::Index{1}, Eigen::Index{3}, Eigen::Index{4}, Eigen::Index{7}, Eigen::Index{130}}) {
    std::vector<double> batch(static_cast<std::size_t>(size));
    streams.uniforms(5, tag, batch.data(), size);
    for (Eigen::Index i = 0; i < size; ++i)
      EXPECT_EQ(batch[static_cast<std::size_t>(i)], streams.uniform(5, tag, static_cast<std::uint64_t>(i))) << size << " " << i;
  }
  // One number of each of count streams, for every word of a block and lane-group remainders.
  for (const std::uint64_t index : {0, 1, 2, 3, 6, 41})
    for (const Eigen::Index count : {Eigen::Index{1}, Eigen::Index{8}, Eigen::Index{13}}) {
      std::vector<double> across(static_cast<std::size_t>(count));
      streams.uniforms_across(1000, tag, index, across.data(), count);
      for (Eigen::Index j = 0; j < count; ++j)
        EXPECT_EQ(across[static_cast<std::size_t>(j)], streams.uniform(1000 + static_cast<std::uint64_t>(j), tag, index))
            << index << " " << count << " " << j;
    }
}

TEST(RandomStreams, NeighbouringStreamsAreUncorrelated) {
  const int n = 200000;
  const RandomStreams base(5, 1), other_run(5, 2), other_seed(6, 1);
  const StreamTag tag(StreamPurpose::kStepNoise, 10);
  struct Pair {
    const char* what;
    double sum = 0.0;
  } pairs[4] = {{"particle+1"}, {"tag+1"}, {"run+1"}, {"seed+1"}};
  double a[1], b[1];
  for (int p = 0; p < n; ++p) {
    base.normals(p, tag, a, 1);
    base.normals(p + 1, tag, b, 1);
    pairs[0].sum += a[0] * b[0];
    base.normals(p, tag.sub(1), b, 1);
    pairs[1].sum += a[0] * b[0];
    other_run.normals(p, tag, b, 1);
    pairs[2].sum += a[0] * b[0];
    other_seed.normals(p, tag, b, 1);
    pairs[3].sum += a[0] * b[0];
  }
  for (const Pair& pair : pairs) EXPECT_LT(std::fabs(pair.sum / n), 5.0 / std::sqrt(n)) << pair.what;
}

// Coordinate i of a particle's stream does not depend on how many coordinates are drawn,
// and fill_normals is exactly the per-particle stream, for any thread schedule.
TEST(RandomStreams, NumbersDoNotDependOnLayout) {
  const RandomStreams streams(9, 4);
  const StreamTag tag(StreamPurpose::kInitialState, 0);
  std::vector<double> long_draw(11), short_draw(6);
  streams.normals(17, tag, long_draw.data(), 11);
  streams.normals(17, tag, short_draw.data(), 6);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(long_draw[i], short_draw[i]);

  Matrix block(5, 40);
  streams.fill_normals(100, tag, block);
  for (int j = 0; j < 40; ++j) {
    std::vector<double> column(5);
    streams.normals(100 + j, tag, column.data(), 5);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(block(i, j), column[i]);
  }
  EXPECT_NE(block(0, 0), block(0, 1));

  // Blocks are generated kPhiloxLanes at a time across columns (whole-block columns, rows = 4 and 16,
  // take a store path of their own): a column that straddles lane groups, and the same
  // particle at other group positions, must give the same numbers.
  for (const Eigen::Index rows : {1, 4, 7, 13, 16}) {
    Matrix wide(rows, 301);
    streams.fill_normals(1000, tag, wide);
    Matrix narrow(rows, 3);
    streams.fill_normals(1000 + 150, tag, narrow);
    for (int j = 0; j < 3; ++j)
      for (Eigen::Index i = 0; i < rows; ++i) EXPECT_EQ(wide(i, 150 + j), narrow(i, j)) << rows << " " << i;
  }
}

// sin(pi u) and cos(pi u) in long double, u first reduced exactly (Sterbenz) to |w| <= 1/4 so
// that pi w carries no cancellation near the zeros of sin and cos.
std::pair<long double, long double> sincospi_reference(double u) {
  const long double pi = 3.141592653589793238462643383279502884L;
  long double sign_sin = 1.0L, sign_cos = 1.0L;
  if (u < 0.0) u = -u, sign_sin = -1.0L;              // sin odd, cos even
  if (u > 0.5) u = 1.0 - u, sign_cos = -sign_cos;     // sin(pi - a) = sin a, cos(pi - a) = -cos a
  if (u > 0.25) {                                     // sin(pi/2 - a) = cos a
    const double w = 0.5 - u;
    return {sign_sin * std::cos(pi * w), sign_cos * std::sin(pi * w)};
  }
  return {sign_sin * std::sin(pi * u), sign_cos * std::cos(pi * u)};
}

// The transform is Box-Muller, x = sin(pi u) r, y = cos(pi u) r, r = sqrt(-2 log v), with
// u = uneg11(word 0) and v = u01(word 1) of each Philox pair (Random123's convention), against
// the same formula in long double. Error in units of the double epsilon of the value.
TEST(RandomStreams, NormalsAreBoxMullerWithinFourUlp) {
  const RandomStreams streams(5, 6);
  const StreamTag tag(StreamPurpose::kTest, 11);
  r123::Philox4x64 generator;
  double worst = 0.0, worst_scalar_libm = 0.0;
  const auto ulp_error = [](double value, long double reference) {
    const double r = static_cast<double>(reference);
    const double ulp = std::nextafter(std::fabs(r), INFINITY) - std::fabs(r);
    return static_cast<double>(std::fabs(static_cast<long double>(value) - reference) / ulp);
  };
  for (std::uint64_t particle = 0; particle < 50000; ++particle) {
    // Streams of 2, 3 and 4 numbers (one block; the second pair is skipped for 2).
    const int size = 2 + static_cast<int>(particle % 3);
    double z[4];
    streams.normals(particle, tag, z, size);
    const auto bits = generator({{particle, tag.value(), 0, 0}}, {{5, 6}});
    for (int pair = 0; pair < 2; ++pair) {
      const double u = r123::uneg11<double>(bits[2 * pair]);
      const double v = r123::u01<double>(bits[2 * pair + 1]);
      const auto [sin_pi_u, cos_pi_u] = sincospi_reference(u);
      const long double radius = std::sqrt(-2.0L * std::log(static_cast<long double>(v)));
      const long double x = sin_pi_u * radius, y = cos_pi_u * radius;
      if (2 * pair < size) worst = std::max(worst, ulp_error(z[2 * pair], x));
      if (2 * pair + 1 < size) worst = std::max(worst, ulp_error(z[2 * pair + 1], y));
      const r123::double2 scalar = r123::boxmuller(bits[2 * pair], bits[2 * pair + 1]);
      worst_scalar_libm = std::max({worst_scalar_libm, ulp_error(scalar.x, x), ulp_error(scalar.y, y)});
    }
  }
  EXPECT_LE(worst, 4.0);
  RecordProperty("worst_ulp", std::to_string(worst));
  std::printf("normals: worst error %.2f ulp (scalar libm sincos(pi u): %.2f ulp)\n", worst, worst_scalar_libm);
}

TEST(StreamTag, PurposesIndicesAndSubStreamsAreDistinct) {
  const StreamTag step5(StreamPurpose::kStepNoise, 5);
  EXPECT_NE(step5.value(), StreamTag(StreamPurpose::kStepNoise, 6).value());
  EXPECT_NE(step5.value(), StreamTag(StreamPurpose::kInitialState, 5).value());
  EXPECT_NE(step5.value(), step5.sub(1).value());
  EXPECT_EQ(step5.sub(1).value(), StreamTag(StreamPurpose::kStepNoise, 5, 1).value());
  EXPECT_NE(StreamTag(StreamPurpose::kStepNoise, 5, 65535).value(), StreamTag(StreamPurpose::kStepNoise, 6, 0).value());
}

}  // namespace
}  // namespace dmconv
