#include <gtest/gtest.h>

#include <cmath>

#include "core/noise_level.hpp"

namespace dmconv {
namespace {

// From log abar = -1e-10: abar = exp(-1e-10), 1 - abar = 1e-10 - 5e-21 + ... (series),
// which `1 - abar` would get with only ~6 correct digits.
TEST(NoiseLevel, OneMinusAbarKeepsFullPrecisionNearTheData) {
  const NoiseLevel level = NoiseLevel::from_log_abar(-1e-10);
  const double series = 1e-10 - 0.5e-20;
  EXPECT_NEAR(level.one_minus_abar(), series, 1e-26);
  EXPECT_GT(std::fabs((1.0 - level.abar()) - series), 1e-18);  // what the naive form loses
}

TEST(NoiseLevel, LambdaRoundTripsAtBothEnds) {
  for (double lambda : {-15.0, -3.0, 0.0, 2.5, 12.0}) {
    const NoiseLevel level = NoiseLevel::from_lambda(lambda);
    EXPECT_NEAR(level.lambda(), lambda, 4e-16 * std::max(1.0, std::fabs(lambda))) << lambda;
    EXPECT_NEAR(level.abar() + level.one_minus_abar(), 1.0, 4.5e-16);  // each rounded once
  }
}

}  // namespace
}  // namespace dmconv
