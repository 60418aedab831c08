// Realised score errors (score_errors/realised_error.hpp) against closed forms:
//   constant bias: eps_score = a sqrt(mean_t w_t^2) exactly (every sample has ||delta|| = a w),
//                  eps_Jacobi = 0 exactly;
//   fourier:       E_{p_t} ||delta_t||^2 in closed form for Gaussian-mixture p_t, any d and M
//                  (products of sines -> cosines; E cos(<k, X> + r) = cos(<k, m> + r) e^{-k'Ck/2});
//                  for M = 1, ||J_delta||_2 = c omega |cos(A)| and E|cos A| by its Fourier series
//                  |cos y| = 2/pi + (4/pi) sum_k (-1)^{k+1} cos(2 k y) / (4k^2 - 1);
//                  for M > 1 in 1-D, E|J_delta| by Gauss-Legendre quadrature against p_t;
//                  for large omega, eps_Jacobi / (omega eps_score) -> E|cos| / sqrt(E sin^2)
//                  = (2/pi) / sqrt(1/2) = 2 sqrt(2)/pi (M = 1: the phase is uniform);
//   misscaled:     1-D Gaussian target, delta affine: E delta^2 = (alpha m + beta)^2 + alpha^2 C,
//                  |J - J*| = |alpha| deterministic (SE 0).
// Monte Carlo estimates must lie within 4 SE of the closed forms; results are bitwise the
// same for 1 and 2 threads.
#include <gtest/gtest.h>

#include <boost/math/quadrature/gauss.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <complex>
#include <cstring>
#include <functional>
#include <numbers>
#include <vector>

#include "core/error.hpp"
#include "core/schedule.hpp"
#include "score_errors/constant_bias.hpp"
#include "score_errors/fourier.hpp"
#include "score_errors/misscaled.hpp"
#include "score_errors/realised_error.hpp"
#include "score_errors/score_error.hpp"
#include "targets/gaussian_mixture.hpp"
#include "targets/registry.hpp"
#include "support/theory_targets.hpp"

namespace dmconv::score_errors {
namespace {

constexpr double kZ = 4.0;

TimeGrid theory_grid(int steps) { return schedule_registry().make("theory", {{"c0", 2.0}, {"c1", 6.0}})->grid(steps); }

std::unique_ptr<Target> theory_mixture_1d() {
  return test_support::theory_mixture_1d();
}

// p_t of a Gaussian mixture target: sum_k pi_k N(sqrt(abar) mu_k, abar Sigma_k + (1 - abar) I).
struct Component {
  double weight;
  Vector mean;
  Matrix covariance;
};

std::vector<Component> law_at(const Target& target, const NoiseLevel& level) {
  const auto& mixture = dynamic_cast<const GaussianMixtureTarget&>(target);
  std::vector<Component> law;
  for (std::size_t k = 0; k < mixture.components().size(); ++k) {
    const GaussianComponent& c = mixture.components()[k];
    Matrix covariance = level.abar() * c.covariance();
    covariance.diagonal().array() += level.one_minus_abar();
    law.push_back({mixture.weights()[k], level.sqrt_abar() * c.mean(), covariance});
  }
  return law;
}

// E cos(<k, X> + r) for X ~ p_t of any law given as a function.
using ExpectedCos = std::function<double(const Vector&, double)>;

// E cos(<k, X> + r), X ~ law.
double expected_cos(const std::vector<Component>& law, const Vector& k, double r) {
  double sum = 0.0;
  for (const Component& c : law) sum += c.weight * std::cos(k.dot(c.mean) + r) * std::exp(-0.5 * k.dot(c.covariance * k));
  return sum;
}

ExpectedCos mixture_expected_cos(const Target& target, const NoiseLevel& level) {
  return [law = law_at(target, level)](const Vector& k, double r) { return expected_cos(law, k, r); };
}

// E ||delta_t(X)||^2 = c^2 sum_{m,m'} <u_m, u_m'> E sin(A_m) sin(A_m'),  A_m = omega <v_m, X> + phi_m.
double fourier_mean_square(const FourierScore& model, const ExpectedCos& expected_cos, const NoiseLevel& level) {
  const FourierField& f = model.field();
  const int M = f.features();
  const double c = model.amplitude() * model.profile().weight(level) * std::sqrt(2.0 / M);
  double sum = 0.0;
  for (int m = 0; m < M; ++m) {
    for (int n = 0; n < M; ++n) {
      const double uu = f.output_directions.col(m).dot(f.output_directions.col(n));
      const Vector minus = model.omega() * (f.input_directions.col(m) - f.input_directions.col(n));
      const Vector plus = model.omega() * (f.input_directions.col(m) + f.input_directions.col(n));
      sum += uu * 0.5 * (expected_cos(minus, f.phases(m) - f.phases(n)) - expected_cos(plus, f.phases(m) + f.phases(n)));
    }
  }
  return c * c * sum;
}

// M = 1: E ||J_delta||_2 = c omega E|cos(A)|, series in E cos(2k A).
double fourier_mean_jacobi_one_feature(const FourierScore& model, const ExpectedCos& expected_cos,
                                       const NoiseLevel& level) {
  const FourierField& f = model.field();
  EXPECT_EQ(f.features(), 1);
  const double c = model.amplitude() * model.profile().weight(level) * std::sqrt(2.0);
  double abs_cos = 2.0 / std::numbers::pi;
  for (int k = 1; k < 200000; ++k) {
    const double term = (k % 2 == 1 ? 1.0 : -1.0) / (4.0 * k * k - 1.0) *
                        expected_cos(2.0 * k * model.omega() * f.input_directions.col(0), 2.0 * k * f.phases(0));
    abs_cos += 4.0 / std::numbers::pi * term;
    if (std::fabs(term) < 1e-17 && k > 10) break;
  }
  return c * model.omega() * abs_cos;
}

// 1-D, any M: E ||J_delta|| = int p_t(x) c omega |sum_m u_m v_m cos(omega v_m x + phi_m)| dx,
// Gauss-Legendre (8 nodes) on 8000 panels over the +-14 sd range of every component.
double fourier_mean_jacobi_1d(const FourierScore& model, const std::vector<Component>& law, const NoiseLevel& level) {
  const FourierField& f = model.field();
  const double c = model.amplitude() * model.profile().weight(level) * std::sqrt(2.0 / f.features()) * model.omega();
  double lo = 1e300, hi = -1e300;
  for (const Component& comp : law) {
    const double sd = std::sqrt(comp.covariance(0, 0));
    lo = std::min(lo, comp.mean(0) - 14 * sd);
    hi = std::max(hi, comp.mean(0) + 14 * sd);
  }
  const int panels = 8000;
  const double width = (hi - lo) / panels;
  double total = 0.0;
  for (int p = 0; p < panels; ++p) {
    const double a = lo + p * width;
    total += boost::math::quadrature::gauss<double, 8>::integrate(
        [&](double x) {
          double density = 0.0;
          for (const Component& comp : law) {
            const double var = comp.covariance(0, 0);
            density += comp.weight * std::exp(-0.5 * (x - comp.mean(0)) * (x - comp.mean(0)) / var) /
                       std::sqrt(2 * std::numbers::pi * var);
          }
          double sum = 0.0;
          for (int m = 0; m < f.features(); ++m)
            sum += f.output_directions(0, m) * f.input_directions(0, m) *
                   std::cos(model.omega() * f.input_directions(0, m) * x + f.phases(m));
          return density * c * std::fabs(sum);
        },
        a, a + width);
  }
  return total;
}

struct Expected {
  double eps_score;
  double eps_jacobi;
};

// Grid averages of docs/theory.md §3 over t = 1..T from per-level closed forms.
template <class MeanSquare, class Jacobi>
Expected grid_average(const TimeGrid& grid, MeanSquare mean_square, Jacobi jacobi) {
  double q = 0.0, j = 0.0;
  for (int t = 1; t <= grid.steps(); ++t) {
    q += mean_square(grid.level(t));
    j += jacobi(grid.level(t));
  }
  return {std::sqrt(q / grid.steps()), j / grid.steps()};
}

TEST(RealisedError, ConstantBiasIsExactlyAAndHasNoJacobianError) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const TimeGrid grid = theory_grid(64);
  const double a = 0.05;
  {
    const auto model = make_score_model("constant_bias", {{"a", a}, {"direction", std::vector<double>{1.0, 1.0}}}, *target, 1);
    const RealisedError e = measure_score_error(*target, *model, grid, 300, 11, 0, 2);
    EXPECT_NEAR(e.eps_score, a, 1e-12 * a);
    EXPECT_LT(e.eps_score_se, 1e-12 * a);
    EXPECT_EQ(e.eps_jacobi, 0.0);
    EXPECT_EQ(e.eps_jacobi_se, 0.0);
    ASSERT_EQ(e.mean_square_score_per_level.size(), 64u);
    for (double m : e.mean_square_score_per_level) EXPECT_NEAR(m, a * a, 1e-12 * a * a);
  }
  {
    const auto model = make_score_model("constant_bias", {{"a", a}, {"profile", "small_noise"}, {"width", 0.05}}, *target, 1);
    const auto& bias = dynamic_cast<const ConstantBiasScore&>(*model);
    double mean_w2 = 0.0;
    for (int t = 1; t <= grid.steps(); ++t) mean_w2 += std::pow(bias.profile().weight(grid.level(t)), 2) / grid.steps();
    const RealisedError e = measure_score_error(*target, *model, grid, 300, 11, 0, 2);
    EXPECT_NEAR(e.eps_score, a * std::sqrt(mean_w2), 1e-12 * a);
    EXPECT_LT(e.eps_score, 0.9 * a) << "the profile must reduce the average";
    EXPECT_EQ(e.eps_jacobi, 0.0);
  }
  {
    const auto model = make_score_model("none", {}, *target, 1);
    const RealisedError e = measure_score_error(*target, *model, grid, 300, 11, 0, 2);
    EXPECT_EQ(e.eps_score, 0.0);
    EXPECT_EQ(e.eps_jacobi, 0.0);
  }
}

// M = 16 random features in d = 2: eps_score against the closed form (grid average and every
// level within 4 SE).
TEST(RealisedError, FourierScoreErrorMatchesTheClosedFormAverageOverTheLaw) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const TimeGrid grid = theory_grid(24);
  const auto model = make_score_model("fourier", {{"a", 0.05}, {"omega", 1.5}, {"features", 16}}, *target, 31);
  const auto& fourier = dynamic_cast<const FourierScore&>(*model);
  const RealisedError e = measure_score_error(*target, *model, grid, 4000, 5, 0, 2);
  double q = 0.0;
  for (int t = 1; t <= grid.steps(); ++t) {
    const double expected = fourier_mean_square(fourier, mixture_expected_cos(*target, grid.level(t)), grid.level(t));
    q += expected / grid.steps();
    const auto i = static_cast<std::size_t>(t - 1);
    EXPECT_NEAR(e.mean_square_score_per_level[i], expected, kZ * e.mean_square_score_se_per_level[i]) << "level " << t;
  }
  EXPECT_NEAR(e.eps_score, std::sqrt(q), kZ * e.eps_score_se);
  EXPECT_GT(e.eps_score_se, 0.0);
  EXPECT_LT(e.eps_score_se, 0.01 * e.eps_score);
  std::printf("fourier M=16 omega=1.5 a=0.05, d=2: realised eps_score %.6g +- %.2g, closed form %.6g\n", e.eps_score,
              e.eps_score_se, std::sqrt(q));
}

// M = 1 in d = 2: both eps_score and eps_Jacobi have closed forms.
TEST(RealisedError, FourierOneFeatureScoreAndJacobianErrorsMatchClosedForms) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const TimeGrid grid = theory_grid(24);
  for (double omega : {1.0, 8.0}) {
    const auto model = make_score_model("fourier", {{"a", 0.1}, {"omega", omega}, {"features", 1}, {"profile", "large_noise"},
                                                    {"width", 0.5}}, *target, 8);
    const auto& fourier = dynamic_cast<const FourierScore&>(*model);
    const RealisedError e = measure_score_error(*target, *model, grid, 4000, 6, 0, 2);
    const Expected expected = grid_average(
        grid, [&](const NoiseLevel& l) { return fourier_mean_square(fourier, mixture_expected_cos(*target, l), l); },
        [&](const NoiseLevel& l) { return fourier_mean_jacobi_one_feature(fourier, mixture_expected_cos(*target, l), l); });
    EXPECT_NEAR(e.eps_score, expected.eps_score, kZ * e.eps_score_se) << "omega " << omega;
    EXPECT_NEAR(e.eps_jacobi, expected.eps_jacobi, kZ * e.eps_jacobi_se) << "omega " << omega;
    std::printf("fourier M=1 omega=%g a=0.1 large_noise, d=2: eps_score %.6g +- %.2g (closed %.6g); eps_jacobi %.6g +- %.2g "
                "(closed %.6g)\n", omega, e.eps_score, e.eps_score_se, expected.eps_score, e.eps_jacobi, e.eps_jacobi_se,
                expected.eps_jacobi);
  }
}

// M = 4 in 1-D on the docs/theory.md §6.3 mixture: eps_Jacobi against quadrature.
TEST(RealisedError, FourierManyFeaturesJacobianErrorMatchesQuadratureIn1D) {
  const auto target = theory_mixture_1d();
  const TimeGrid grid = theory_grid(24);
  const auto model = make_score_model("fourier", {{"a", 0.02}, {"omega", 5.0}, {"features", 4}}, *target, 77);
  const auto& fourier = dynamic_cast<const FourierScore&>(*model);
  const RealisedError e = measure_score_error(*target, *model, grid, 6000, 9, 0, 2);
  const Expected expected = grid_average(
      grid, [&](const NoiseLevel& l) { return fourier_mean_square(fourier, mixture_expected_cos(*target, l), l); },
      [&](const NoiseLevel& l) { return fourier_mean_jacobi_1d(fourier, law_at(*target, l), l); });
  EXPECT_NEAR(e.eps_score, expected.eps_score, kZ * e.eps_score_se);
  EXPECT_NEAR(e.eps_jacobi, expected.eps_jacobi, kZ * e.eps_jacobi_se);
  std::printf("fourier M=4 omega=5 a=0.02, 1-D: eps_score %.6g +- %.2g (closed %.6g); eps_jacobi %.6g +- %.2g "
              "(quadrature %.6g)\n", e.eps_score, e.eps_score_se, expected.eps_score, e.eps_jacobi, e.eps_jacobi_se,
              expected.eps_jacobi);
}

// eps_score ~ a independent of omega; eps_Jacobi ~ a omega: for M = 1 and large omega the
// phase is uniform at every level and the ratio is omega 2 sqrt(2)/pi.
TEST(RealisedError, FourierJacobianToScoreRatioGrowsLikeOmega) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const TimeGrid grid = theory_grid(24);
  const double a = 0.01;
  for (double omega : {16.0, 64.0}) {
    const auto model = make_score_model("fourier", {{"a", a}, {"omega", omega}, {"features", 1}}, *target, 4);
    const RealisedError e = measure_score_error(*target, *model, grid, 4000, 3, 0, 2);
    const double ratio = e.eps_jacobi / e.eps_score / omega;
    // The two estimates share samples and are negatively correlated (|cos A| is large where
    // sin^2 A is small), so the sum of relative SEs bounds the relative SE of the ratio.
    const double ratio_se = ratio * (e.eps_jacobi_se / e.eps_jacobi + e.eps_score_se / e.eps_score);
    EXPECT_NEAR(e.eps_score, a, kZ * e.eps_score_se) << "omega " << omega;
    EXPECT_NEAR(ratio, 2.0 * std::sqrt(2.0) / std::numbers::pi, kZ * ratio_se) << "omega " << omega;
    EXPECT_NEAR(ratio, 2.0 * std::sqrt(2.0) / std::numbers::pi, 0.02) << "eps_Jacobi / eps_score must be ~0.90 omega";
    EXPECT_LT(ratio_se, 0.01);
    std::printf("fourier M=1 a=%g omega=%g: eps_score %.5g +- %.1g, eps_jacobi %.5g +- %.1g, eps_jacobi/(omega eps_score) "
                "= %.4f +- %.4f (2 sqrt2/pi = %.4f)\n", a, omega, e.eps_score, e.eps_score_se, e.eps_jacobi, e.eps_jacobi_se,
                ratio, ratio_se, 2.0 * std::sqrt(2.0) / std::numbers::pi);
  }
}

// d = 12 product target (ProductTarget: diagonal Jacobian; spectral norms by the eigenvalue
// path, d > 8): p_t is a product of 1-D mixtures, so E cos(<k, X> + r) = Re(e^{ir} prod_i phi(k_i))
// with phi(s) = sum_j pi_j exp(i s m_j - s^2 C_j / 2) the characteristic function of the factor.
TEST(RealisedError, FourierErrorsOnAHighDimensionalProductTargetMatchClosedForms) {
  const std::vector<double> weights{0.3, 0.7}, means{-2.0, 1.5}, variances{0.25, 0.5};
  const auto target = target_registry().make("product", {{"dim", 12}, {"weights", weights}, {"means", means},
                                                         {"variances", variances}});
  const TimeGrid grid = theory_grid(24);
  const auto model = make_score_model("fourier", {{"a", 0.05}, {"omega", 2.0}, {"features", 1}}, *target, 21);
  const auto& fourier = dynamic_cast<const FourierScore&>(*model);
  const auto product_cos = [&](const NoiseLevel& level) -> ExpectedCos {
    return [&, level](const Vector& k, double r) {
      std::complex<double> value = std::polar(1.0, r);
      for (Eigen::Index i = 0; i < k.size(); ++i) {
        std::complex<double> phi = 0.0;
        for (std::size_t j = 0; j < weights.size(); ++j) {
          const double m = level.sqrt_abar() * means[j], C = level.abar() * variances[j] + level.one_minus_abar();
          phi += weights[j] * std::exp(std::complex<double>(-0.5 * k(i) * k(i) * C, k(i) * m));
        }
        value *= phi;
      }
      return value.real();
    };
  };
  const RealisedError e = measure_score_error(*target, *model, grid, 2000, 13, 0, 2);
  const Expected expected = grid_average(
      grid, [&](const NoiseLevel& l) { return fourier_mean_square(fourier, product_cos(l), l); },
      [&](const NoiseLevel& l) { return fourier_mean_jacobi_one_feature(fourier, product_cos(l), l); });
  EXPECT_NEAR(e.eps_score, expected.eps_score, kZ * e.eps_score_se);
  EXPECT_NEAR(e.eps_jacobi, expected.eps_jacobi, kZ * e.eps_jacobi_se);
  std::printf("fourier M=1 omega=2 a=0.05, product d=12: eps_score %.6g +- %.2g (closed %.6g); eps_jacobi %.6g +- %.2g "
              "(closed %.6g)\n", e.eps_score, e.eps_score_se, expected.eps_score, e.eps_jacobi, e.eps_jacobi_se,
              expected.eps_jacobi);
}

// 1-D Gaussian N(mu, v): s*_t(x) = -(x - sqrt(abar) mu) / (abar v + 1 - abar) is affine, so the
// mis-scaled error delta = alpha x + beta has closed-form moments and a constant Jacobian error.
TEST(RealisedError, MisscaledErrorsOnAGaussianTargetMatchClosedForms) {
  const double mu = 1.5, v = 0.25, factor = 1.7;
  const auto target = target_registry().make("gaussian", {{"mean", std::vector<double>{mu}}, {"variance", v}});
  const auto model = make_score_model("misscaled", {{"factor", factor}}, *target, 1);
  const auto& misscaled = dynamic_cast<const MisscaledScore&>(*model);
  const TimeGrid grid = theory_grid(32);
  const RealisedError e = measure_score_error(*target, *model, grid, 3000, 2, 0, 2);
  const Expected expected = grid_average(
      grid,
      [&](const NoiseLevel& l) {
        const NoiseLevel s = misscaled.misscaled(l);
        const double C = l.abar() * v + l.one_minus_abar(), Cs = s.abar() * v + s.one_minus_abar();
        const double alpha = -1.0 / Cs + 1.0 / C, beta = s.sqrt_abar() * mu / Cs - l.sqrt_abar() * mu / C;
        const double m = l.sqrt_abar() * mu;
        return (alpha * m + beta) * (alpha * m + beta) + alpha * alpha * C;
      },
      [&](const NoiseLevel& l) {
        const NoiseLevel s = misscaled.misscaled(l);
        return std::fabs(1.0 / (l.abar() * v + l.one_minus_abar()) - 1.0 / (s.abar() * v + s.one_minus_abar()));
      });
  EXPECT_NEAR(e.eps_score, expected.eps_score, kZ * e.eps_score_se);
  EXPECT_NEAR(e.eps_jacobi, expected.eps_jacobi, 1e-9 * expected.eps_jacobi);
  EXPECT_LT(e.eps_jacobi_se, 1e-9 * expected.eps_jacobi);
  std::printf("misscaled factor=%g on N(1.5, 0.25): eps_score %.6g +- %.2g (closed %.6g); eps_jacobi %.10g (closed %.10g)\n",
              factor, e.eps_score, e.eps_score_se, expected.eps_score, e.eps_jacobi, expected.eps_jacobi);
}

// The reported standard errors are the spread of the estimates: 60 independent runs (run
// index 0..59) of a small measurement; the sample sd of eps_score and eps_Jacobi over runs
// against the mean reported SE (ratio 1 within 0.7..1.4, > 3 SE of the sd estimate).
TEST(RealisedError, StandardErrorsMatchTheSpreadOverIndependentRuns) {
  const auto target = theory_mixture_1d();
  const TimeGrid grid = theory_grid(24);
  const auto model = make_score_model("fourier", {{"a", 0.05}, {"omega", 2.0}, {"features", 3}}, *target, 3);
  const int runs = 60;
  std::vector<double> score, jacobi;
  double score_se = 0.0, jacobi_se = 0.0;
  for (int r = 0; r < runs; ++r) {
    const RealisedError e = measure_score_error(*target, *model, grid, 100, 8, static_cast<std::uint64_t>(r), 2);
    score.push_back(e.eps_score);
    jacobi.push_back(e.eps_jacobi);
    score_se += e.eps_score_se / runs;
    jacobi_se += e.eps_jacobi_se / runs;
  }
  const auto sd = [](const std::vector<double>& x) {
    double mean = 0.0, m2 = 0.0;
    for (double v : x) mean += v / static_cast<double>(x.size());
    for (double v : x) m2 += (v - mean) * (v - mean);
    return std::sqrt(m2 / static_cast<double>(x.size() - 1));
  };
  EXPECT_GT(sd(score) / score_se, 0.7);
  EXPECT_LT(sd(score) / score_se, 1.4);
  EXPECT_GT(sd(jacobi) / jacobi_se, 0.7);
  EXPECT_LT(sd(jacobi) / jacobi_se, 1.4);
  std::printf("SE calibration over %d runs: sd(eps_score)/SE = %.3f, sd(eps_jacobi)/SE = %.3f\n", runs,
              sd(score) / score_se, sd(jacobi) / jacobi_se);
}

TEST(RealisedError, ResultsAreBitwiseTheSameForEveryThreadCount) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const TimeGrid grid = theory_grid(24);
  const auto model = make_score_model("fourier", {{"a", 0.05}, {"omega", 3.0}}, *target, 12);
  const RealisedError one = measure_score_error(*target, *model, grid, 700, 4, 2, 1);
  const RealisedError two = measure_score_error(*target, *model, grid, 700, 4, 2, 2);
  const RealisedError three = measure_score_error(*target, *model, grid, 700, 4, 2, 3);
  for (const RealisedError* other : {&two, &three}) {
    EXPECT_EQ(std::memcmp(&one.eps_score, &other->eps_score, sizeof(double)), 0);
    EXPECT_EQ(std::memcmp(&one.eps_score_se, &other->eps_score_se, sizeof(double)), 0);
    EXPECT_EQ(std::memcmp(&one.eps_jacobi, &other->eps_jacobi, sizeof(double)), 0);
    EXPECT_EQ(std::memcmp(&one.eps_jacobi_se, &other->eps_jacobi_se, sizeof(double)), 0);
    EXPECT_EQ(one.mean_square_score_per_level, other->mean_square_score_per_level);
    EXPECT_EQ(one.jacobi_per_level, other->jacobi_per_level);
  }
  // Another run index draws other samples.
  const RealisedError other_run = measure_score_error(*target, *model, grid, 700, 4, 3, 2);
  EXPECT_NE(one.eps_score, other_run.eps_score);
}

TEST(RealisedError, SpectralNormAndPreconditions) {
  Matrix a(2, 2);
  a << 3.0, 0.0, 4.0, 0.0;  // singular values 5, 0
  EXPECT_NEAR(spectral_norm(a), 5.0, 1e-14);
  Matrix big = Matrix::Zero(12, 12);
  big(3, 7) = -2.5;
  big(1, 1) = 1.0;
  EXPECT_NEAR(spectral_norm(big), 2.5, 1e-13);
  EXPECT_EQ(spectral_norm(Matrix::Constant(1, 1, -0.75)), 0.75);
  const auto target = target_registry().make_example("gaussian_mixture");
  const auto other = theory_mixture_1d();
  const auto model = make_score_model("none", {}, *other, 1);
  const TimeGrid grid = theory_grid(24);
  EXPECT_THROW(measure_score_error(*target, *model, grid, 100, 1, 0, 1), InvalidArgument);
  const auto same = make_score_model("none", {}, *target, 1);
  EXPECT_THROW(measure_score_error(*target, *same, grid, 1, 1, 0, 1), InvalidArgument);
  EXPECT_THROW(measure_score_error(*target, *same, grid, 100, 1, 0, -1), InvalidArgument);
}

}  // namespace
}  // namespace dmconv::score_errors
