// Counter-based streams: known-answer Philox output, the N(0,1) and U(0,1) laws, and the
// independence of every number from batch layout.
#include <gtest/gtest.h>

#include <Random123/philox.h>

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <vector>

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
