// Exact optimal transport (estimators/optimal_transport.hpp): the assignment is checked against
// brute force over all permutations, against the sorted matching when the points lie on a line,
// and the ot_w2 estimator against the closed-form W2 (Bures) between the Gaussian output law of
// DDIM at T = 8 and the exact Gaussian p_{X_1}.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "core/error.hpp"
#include "core/schedule.hpp"
#include "estimators/gaussian_distances.hpp"
#include "estimators/gaussian_law.hpp"
#include "estimators/optimal_transport.hpp"
#include "estimators/sample_based.hpp"
#include "samplers/registry.hpp"
#include "targets/registry.hpp"

namespace dmconv {
namespace {

Matrix test_normals(int d, int n, std::uint64_t index) {
  Matrix out(d, n);
  RandomStreams(99, index).fill_normals(0, StreamTag(StreamPurpose::kTest, 11), out);
  return out;
}

double brute_force_w2_squared(const Matrix& x, const Matrix& y) {
  const int n = static_cast<int>(x.cols());
  std::vector<int> perm(static_cast<std::size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  double best = std::numeric_limits<double>::infinity();
  do {
    double sum = 0.0;
    for (int i = 0; i < n; ++i) sum += (x.col(i) - y.col(perm[static_cast<std::size_t>(i)])).squaredNorm();
    best = std::min(best, sum / n);
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

TEST(OptimalTransport, NetworkSimplexMatchesBruteForceOverAllPermutations) {
  for (int d : {2, 3, 5}) {
    for (std::uint64_t rep = 0; rep < 6; ++rep) {
      const Matrix x = test_normals(d, 8, 2 * rep), y = test_normals(d, 8, 2 * rep + 1) * 1.7;
      const auto result = estimators::exact_w2_squared(x, y);
      const double brute = brute_force_w2_squared(x, y);
      EXPECT_NEAR(result.mean_squared_cost, brute, 1e-13 * brute + result.rounding_bound) << "d " << d;
      std::vector<int> sorted = result.assignment;
      std::sort(sorted.begin(), sorted.end());
      for (int i = 0; i < 8; ++i) EXPECT_EQ(sorted[static_cast<std::size_t>(i)], i);
    }
  }
}

TEST(OptimalTransport, PointsOnALineGiveTheSortedMatching) {
  // Embedded in d = 3 along a fixed direction, the network simplex must find the 1-D monotone
  // matching (computed here independently by sorting).
  const Matrix x1 = test_normals(1, 300, 40), y1 = test_normals(1, 300, 41).array() + 0.4;
  std::vector<double> a(x1.data(), x1.data() + 300), b(y1.data(), y1.data() + 300);
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  double sorted = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) sorted += (a[i] - b[i]) * (a[i] - b[i]) / 300.0;
  Vector u(3);
  u << 2.0, -1.0, 2.0;
  u /= 3.0;
  const Matrix x = u * x1, y = u * y1;
  EXPECT_NEAR(estimators::exact_w2_squared(x, y).mean_squared_cost, sorted, 1e-12 * sorted);
  EXPECT_NEAR(estimators::exact_w2_squared(x1, y1).mean_squared_cost, sorted, 1e-14 * sorted);
}

TEST(OptimalTransport, RejectsMismatchedOrNonFiniteSamples) {
  EXPECT_THROW(estimators::exact_w2_squared(Matrix::Zero(2, 3), Matrix::Zero(2, 4)), InvalidArgument);
  Matrix bad = Matrix::Zero(2, 3);
  bad(1, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(estimators::exact_w2_squared(bad, Matrix::Zero(2, 3)), InvalidArgument);
}

struct GaussianDdim {
  std::unique_ptr<Target> target = target_registry().make(
      "gaussian", {{"mean", std::vector<double>{1.0, -0.5}},
                   {"covariance", ParamValue::List{std::vector<double>{0.5, 0.2}, std::vector<double>{0.2, 0.3}}}});
  TimeGrid grid =
      schedule_registry().make("logsnr_uniform", {{"first_one_minus_abar", 1e-3}, {"last_abar", 1e-3}})->grid(8);
  std::unique_ptr<Sampler> sampler = sampler_registry().make("ddim", {});
  ExactScore score{*target};
  EstimationProblem problem(Eigen::Index n, std::uint64_t run = 0) const {
    RunOptions options;
    options.particles = n;
    options.seed = 2026;
    options.run = run;
    return EstimationProblem{*sampler, grid, *target, score, options};
  }
};

TEST(OptimalTransport, EstimatorRecoversTheGaussianW2WithinItsFloor) {
  const GaussianDdim s;
  const EstimationProblem p = s.problem(3000);
  const double exact = gaussian_w2(estimators::gaussian_output_law(p),
                                               estimators::gaussian_marginal(*s.target,
                                                                             s.grid.level(1)))
                           .value;
  const auto start = std::chrono::steady_clock::now();
  const Estimate e = estimators::OptimalTransportW2Estimator().estimate(p)[0];
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("ot_w2 d=2 n=3000: exact %.5f value %.5f floor %.5f (%.2f s for two assignments)\n", exact, e.value,
              e.floor, seconds);
  EXPECT_EQ(e.metric, "w2");
  EXPECT_EQ(e.kind, EstimateKind::kBiasedWithFloor);
  EXPECT_GT(exact, 2.0 * e.floor);  // informative
  // |value - W2| <= W2(Y_n, p_Y) + W2(R_n, p_X), each about floor / sqrt 2.
  EXPECT_LE(std::fabs(e.value - exact), 2.0 * e.floor);
}

TEST(OptimalTransport, FloorOfTwoExactSamplesShrinksWithN) {
  // d = 2: E W2^2 of two exact samples ~ log n / n; from n = 250 to 1000 the mean square must
  // drop by a factor in (2.5, 5) (4 x 0.82 = 3.3 for log n / n), averaged over replicates.
  const GaussianDdim s;
  const estimators::OptimalTransportW2Estimator ot;
  double sq[2] = {0.0, 0.0};
  const Eigen::Index sizes[2] = {250, 1000};
  constexpr int kReplicates = 12;
  for (int k = 0; k < 2; ++k)
    for (int r = 0; r < kReplicates; ++r) {
      const double f = ot.estimate(s.problem(sizes[k], static_cast<std::uint64_t>(r)))[0].floor;
      sq[k] += f * f / kReplicates;
    }
  std::printf("ot_w2 oracle d=2: E W2^2 n=250 %.3e n=1000 %.3e ratio %.2f\n", sq[0], sq[1], sq[0] / sq[1]);
  EXPECT_GT(sq[0] / sq[1], 2.5);
  EXPECT_LT(sq[0] / sq[1], 5.0);
}

TEST(OptimalTransport, RegisteredAndRefusesLargeProblemsBeforeAnyWork) {
  const GaussianDdim s;
  const auto ot = estimator_registry().make("ot_w2", {{"max_particles", 100}});
  EXPECT_EQ(ot->name(), "ot_w2");
  const auto reason = ot->unsupported_reason(s.problem(101));
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("max_particles = 100"), std::string::npos) << *reason;
  EXPECT_FALSE(ot->unsupported_reason(s.problem(100)).has_value());
  EXPECT_THROW(estimator_registry().make("ot_w2", {{"max_particles", 1}}), InvalidArgument);
}

}  // namespace
}  // namespace dmconv
