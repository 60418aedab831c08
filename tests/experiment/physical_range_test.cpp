// The physical range check every estimate passes (core/estimator.hpp check_physical_range), and
// that execute_run applies it: an impossible number is a failed row naming the value and range,
// never an ok one; a rounding result within its margin keeps its value and gets the margin as floor.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "config/experiment_config.hpp"
#include "core/estimator.hpp"
#include "estimators/gaussian_distances.hpp"
#include "experiment/experiment.hpp"

namespace dmconv {
namespace {

Estimate exact(const std::string& metric, double value) {
  return {metric, value, 0.0, 0.0, EstimateKind::kExact, "test"};
}

TEST(PhysicalRange, ExactTvAboveOneFails) {
  Estimate e = exact("tv", 3.92);
  check_physical_range(e);
  EXPECT_EQ(e.status, EstimateStatus::kFailed);
  EXPECT_NE(e.message.find("tv = 3.92 outside [0, 1]"), std::string::npos) << e.message;
}

TEST(PhysicalRange, NegativeKlAndHellingerAndW2Fail) {
  for (const char* metric : {"kl_target_output", "kl_output_target", "hellinger", "w2", "sliced_w2"}) {
    Estimate e = exact(metric, -1e-6);
    check_physical_range(e);
    EXPECT_EQ(e.status, EstimateStatus::kFailed) << metric;
  }
  Estimate h = exact("hellinger", 1.5);
  check_physical_range(h);
  EXPECT_EQ(h.status, EstimateStatus::kFailed);
}

TEST(PhysicalRange, RoundingResultKeepsItsValueWithTheMarginAsFloor) {
  Estimate e = exact("kl_output_target", -1e-17);
  check_physical_range(e);
  EXPECT_EQ(e.status, EstimateStatus::kOk);
  EXPECT_EQ(e.value, -1e-17);
  EXPECT_EQ(e.floor, default_rounding_margin(-1e-17));
  // A stated margin is used instead of the default.
  Estimate stated = exact("tv", 1.0 + 1e-9);
  stated.rounding = 1e-8;
  check_physical_range(stated);
  EXPECT_EQ(stated.status, EstimateStatus::kOk);
  EXPECT_EQ(stated.floor, 1e-8);
  stated = exact("tv", 1.0 + 1e-9);
  check_physical_range(stated);
  EXPECT_EQ(stated.status, EstimateStatus::kFailed);
}

TEST(PhysicalRange, MonteCarloMayStrayBySamplingNoise) {
  Estimate e{"tv", -0.01, 0.01, 0.0, EstimateKind::kUnbiasedMonteCarlo, "mc"};
  check_physical_range(e);
  EXPECT_EQ(e.status, EstimateStatus::kOk);  // 1 SE below 0
  Estimate far{"tv", -0.2, 0.01, 0.0, EstimateKind::kUnbiasedMonteCarlo, "mc"};
  check_physical_range(far);
  EXPECT_EQ(far.status, EstimateStatus::kFailed);  // 20 SE below 0
  EXPECT_NE(far.message.find("SE"), std::string::npos);
}

TEST(PhysicalRange, InRangeAndUnknownMetricsAreUntouched) {
  Estimate e = exact("tv", 0.3);
  e.floor = 0.01;
  check_physical_range(e);
  EXPECT_EQ(e.status, EstimateStatus::kOk);
  EXPECT_EQ(e.floor, 0.01);
  Estimate other = exact("something_else", -5.0);
  check_physical_range(other);
  EXPECT_EQ(other.status, EstimateStatus::kOk);
}

// W2 of two equal Gaussians: tr S0 + tr S1 - 2 tr X^{1/2} may round below 0; never a NaN, never
// a clamp presented as exact: a value >= 0 (0 within the margin) and ok.
TEST(PhysicalRange, GaussianW2OfEqualLawsIsNotNegative) {
  GaussianLaw law{Vector::Constant(2, 0.5), Matrix::Identity(2, 2) * 3.0};
  law.covariance(0, 1) = law.covariance(1, 0) = 1.0;
  const Estimate w2 = gaussian_w2(law, law);
  EXPECT_EQ(w2.status, EstimateStatus::kOk);
  EXPECT_GE(w2.value, 0.0);
  EXPECT_TRUE(std::isfinite(w2.floor));
}

// A target of variance 1e-300 against an output of variance 0.25: W2 = |0.5 - 1e-150| = 0.5, not a
// clamped 0 (the defect reported with the issue); both argument orders, 1-D and 2-D.
TEST(PhysicalRange, GaussianW2WithADegenerateLawIsNotClampedToZero) {
  for (int d : {1, 2}) {
    const GaussianLaw narrow{Vector::Zero(d), Matrix::Identity(d, d) * 1e-300};
    const GaussianLaw wide{Vector::Zero(d), Matrix::Identity(d, d) * 0.25};
    for (const Estimate& w2 : {gaussian_w2(narrow, wide), gaussian_w2(wide, narrow)}) {
      EXPECT_EQ(w2.status, EstimateStatus::kOk);
      EXPECT_NEAR(w2.value, 0.5 * std::sqrt(static_cast<double>(d)), 1e-12) << "d = " << d;
    }
  }
}

// An estimator that reports impossible numbers as exact and ok (the grid_law defect at 32 points).
class ImpossibleEstimator final : public Estimator {
 public:
  std::string name() const override { return "impossible"; }
  std::optional<std::string> unsupported_reason(const EstimationProblem&) const override { return std::nullopt; }
  std::vector<Estimate> estimate(const EstimationProblem&) const override {
    return {exact("tv", 3.92), exact("kl_output_target", 57.0), exact("hellinger", -0.5)};
  }
};

TEST(PhysicalRange, ExecuteRunFailsImpossibleEstimates) {
  const std::string config = R"([experiment]
name = "range"
seed = 1
[target]
kind = "gaussian"
mean = [0.0]
variance = 0.5
[schedule]
kind = "logsnr_uniform"
[sampling]
samplers = ["ddim"]
steps = [16]
particles = 10
[[estimator]]
kind = "gaussian_law"
)";
  experiment::Plan plan = experiment::make_plan(config::parse_config(config, "range.toml"));
  plan.estimators[0] = std::make_shared<ImpossibleEstimator>();
  const std::vector<experiment::RunRow> rows = experiment::execute_run(plan, 0, 1);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].status, EstimateStatus::kFailed);
  EXPECT_NE(rows[0].message.find("tv = 3.92 outside [0, 1]"), std::string::npos) << rows[0].message;
  EXPECT_EQ(rows[1].status, EstimateStatus::kOk);  // KL = 57 is possible: only a resolution rule can refuse it
  EXPECT_EQ(rows[2].status, EstimateStatus::kFailed);
  EXPECT_NE(rows[2].message.find("hellinger = -0.5 outside [0, 1]"), std::string::npos) << rows[2].message;
}

}  // namespace
}  // namespace dmconv
