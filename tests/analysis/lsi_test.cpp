// Log-Sobolev tools (analysis/lsi.hpp, docs/theory.md §5.6, claims 13-14): closed forms on Gaussians
// (lambda = 1/(a v + 1 - a), a = e^{-2 T1}), grid convergence of the 1-D spectral constants,
// the ordering Bakry-Emery <= LSI <= Poincare on a well-separated mixture, and the Langevin
// KL / W2 decay.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "analysis/lsi.hpp"
#include "analysis/stalling_tridiagonal.hpp"
#include "core/error.hpp"
#include "targets/registry.hpp"

namespace dmconv {
namespace {

// The grid solves fall back to the reversed order when Eigen's QL iteration stalls on the given
// one. On the matrix that stalled (which order converges depends on the build's rounding), every
// order that converges must give a true eigen-decomposition: residuals max |A V - V Lambda| and
// max |V^T V - I| within the backward-stability bound n eps ||A||_inf (n eps), the exact
// eigenvalue 0, and the same spectrum from both orders (measured: residuals ~75 eps ||A||).
// The reversed order converged under every build tried (GCC and clang, -O1 to -O3).
TEST(TridiagonalSpectrum, StalledMatrixIsSolvedByAnOrderThatConverges) {
  const Eigen::Index n = std::size(test::kStallingDiagonal);
  const Vector diagonal = Eigen::Map<const Vector>(test::kStallingDiagonal, n);
  const Vector subdiagonal = Eigen::Map<const Vector>(test::kStallingSubdiagonal, n - 1);
  Matrix a = diagonal.asDiagonal();
  for (Eigen::Index i = 0; i + 1 < n; ++i) a(i + 1, i) = a(i, i + 1) = subdiagonal(i);
  const double norm = a.cwiseAbs().rowwise().sum().maxCoeff();
  const double tolerance = static_cast<double>(n) * std::numeric_limits<double>::epsilon();

  const TridiagonalSpectrum reversed = tridiagonal_spectrum(diagonal, subdiagonal, true, TridiagonalOrder::kReversed);
  ASSERT_TRUE(reversed.converged);
  const TridiagonalSpectrum given = tridiagonal_spectrum(diagonal, subdiagonal, true, TridiagonalOrder::kAsGiven);
  for (const TridiagonalSpectrum* spectrum : {&reversed, &given}) {
    if (!spectrum->converged) continue;
    const Matrix& v = spectrum->vectors;
    ASSERT_EQ(v.rows(), n);
    ASSERT_EQ(v.cols(), n);
    EXPECT_LE((a * v - v * spectrum->values.asDiagonal()).cwiseAbs().maxCoeff(), tolerance * norm);
    EXPECT_LE((v.transpose() * v - Matrix::Identity(n, n)).cwiseAbs().maxCoeff(), tolerance);
    for (Eigen::Index k = 0; k + 1 < n; ++k) EXPECT_LE(spectrum->values(k), spectrum->values(k + 1));
    EXPECT_LE(std::abs(spectrum->values(0)), tolerance * norm);
    EXPECT_GT(spectrum->values(1), 0.5);  // the spectral gap, 0.5577 here
  }
  if (given.converged) {
    EXPECT_LE((given.values - reversed.values).cwiseAbs().maxCoeff(), tolerance * norm);
  }
  // The stalled matrix is nearly persymmetric (the mixture is symmetric), so it cannot tell
  // whether the reversed order maps its eigenvectors back: a lopsided matrix can.
  Vector lopsided_diagonal(n), lopsided_subdiagonal(n - 1);
  for (Eigen::Index i = 0; i < n; ++i) lopsided_diagonal(i) = 3.0 * static_cast<double>(i) / n + std::sin(1.0 * i);
  for (Eigen::Index i = 0; i + 1 < n; ++i) lopsided_subdiagonal(i) = 1.0 + 0.5 * std::cos(3.0 * i);
  Matrix b = lopsided_diagonal.asDiagonal();
  for (Eigen::Index i = 0; i + 1 < n; ++i) b(i + 1, i) = b(i, i + 1) = lopsided_subdiagonal(i);
  for (const TridiagonalOrder order : {TridiagonalOrder::kAsGiven, TridiagonalOrder::kReversed}) {
    const TridiagonalSpectrum spectrum = tridiagonal_spectrum(lopsided_diagonal, lopsided_subdiagonal, true, order);
    ASSERT_TRUE(spectrum.converged);
    const Matrix& v = spectrum.vectors;
    EXPECT_LE((b * v - v * spectrum.values.asDiagonal()).cwiseAbs().maxCoeff(),
              tolerance * b.cwiseAbs().rowwise().sum().maxCoeff());
  }
  const TridiagonalSpectrum values_only = tridiagonal_spectrum(diagonal, subdiagonal, false, TridiagonalOrder::kReversed);
  ASSERT_TRUE(values_only.converged);
  EXPECT_EQ(values_only.vectors.size(), 0);
  EXPECT_LE((values_only.values - reversed.values).cwiseAbs().maxCoeff(), tolerance * norm);
}

std::unique_ptr<Target> gaussian_1d(double mean, double v) {
  return target_registry().make("gaussian", {{"mean", std::vector<double>{mean}}, {"variance", v}});
}

// 0.5 N(-4, 0.25) + 0.5 N(4, 0.25).
std::unique_ptr<Target> separated_mixture() {
  return target_registry().make("gaussian_mixture",
                                {{"weights", std::vector<double>{0.5, 0.5}},
                                 {"means", ParamValue::List{std::vector<double>{-4.0}, std::vector<double>{4.0}}},
                                 {"variance", std::vector<double>{0.25, 0.25}}});
}

double gaussian_lambda(double v, double t1) {
  const NoiseLevel level = NoiseLevel::from_ou_time(t1);
  return 1.0 / (level.abar() * v + level.one_minus_abar());
}

// min over a dense grid of lambda_min(-J*(x)) in 1-D: an independent check of the global search.
double scan_min_curvature(const Target& target, const NoiseLevel& level, double lo, double hi, int n) {
  double best = INFINITY;
  for (int i = 0; i <= n; ++i) {
    Vector x(1);
    x(0) = lo + (hi - lo) * i / n;
    best = std::min(best, -target.score_jacobian(level, x)(0, 0));
  }
  return best;
}

TEST(LsiBakryEmery, GaussianClosedForm) {
  for (double v : {0.25, 4.0}) {
    for (double t1 : {0.1, 0.5, 2.0}) {
      const auto target = target_registry().make(
          "gaussian", {{"mean", std::vector<double>{1.0, -2.0, 0.5}}, {"variances", std::vector<double>{v, v / 2, v / 3}}});
      const NoiseLevel level = NoiseLevel::from_ou_time(t1);
      const BakryEmeryBound b = bakry_emery_bound(*target, level);
      EXPECT_EQ(b.status, BakryEmeryBound::Status::kClosedForm);
      const double top = v;  // a v_i + 1 - a increases with v_i
      EXPECT_NEAR(b.kappa, gaussian_lambda(top, t1), 1e-14 * gaussian_lambda(top, t1)) << v << " " << t1;
      EXPECT_FALSE(b.analytic_bound.has_value());
    }
  }
}

TEST(LsiBakryEmery, GlobalSearchMatchesDenseScan) {
  // Mixture: the minimum is at the origin (between the modes); vacuous at small T1.
  const auto mixture = separated_mixture();
  for (double t1 : {0.5, 1.0, 2.0}) {
    const NoiseLevel level = NoiseLevel::from_ou_time(t1);
    const BakryEmeryBound b = bakry_emery_bound(*mixture, level);
    const double scan = scan_min_curvature(*mixture, level, -8.0, 8.0, 16000);
    EXPECT_NEAR(b.kappa, scan, 1e-6 * (1.0 + std::abs(scan))) << t1;
    EXPECT_LE(b.kappa, scan + 1e-12);
    EXPECT_GE(b.starts_at_best, 2);
    EXPECT_EQ(b.status, b.kappa > 0 ? BakryEmeryBound::Status::kPositive : BakryEmeryBound::Status::kVacuous);
  }
  EXPECT_EQ(bakry_emery_bound(*mixture, NoiseLevel::from_ou_time(0.5)).status, BakryEmeryBound::Status::kVacuous);
  // Uniform box, d = 1: search vs scan, and the DERIVED bound (R = A) lies below.
  const auto box = target_registry().make("uniform_box", {{"half_width", 1.5}, {"dim", 1}});
  for (double t1 : {0.2, 0.7, 1.5}) {
    const NoiseLevel level = NoiseLevel::from_ou_time(t1);
    const BakryEmeryBound b = bakry_emery_bound(*box, level);
    const double scan = scan_min_curvature(*box, level, -6.0, 6.0, 12000);
    EXPECT_NEAR(b.kappa, scan, 1e-6 * (1.0 + std::abs(scan))) << t1;
    ASSERT_TRUE(b.analytic_bound.has_value());
    EXPECT_DOUBLE_EQ(*b.support_radius, 1.5);
    EXPECT_LE(*b.analytic_bound, b.kappa) << t1;
    std::printf("uniform_box A=1.5 T1=%.2f: kappa=%.6f derived bound=%.6f (%d/%d starts at best)\n", t1, b.kappa,
                *b.analytic_bound, b.starts_at_best, b.starts);
  }
  // Uniform box in d = 3 (R = A sqrt 3): the search finds the 1-D value (product), bound below.
  const auto box3 = target_registry().make("uniform_box", {{"half_width", 1.0}, {"dim", 3}});
  const NoiseLevel level = NoiseLevel::from_ou_time(0.5);
  const auto box1 = target_registry().make("uniform_box", {{"half_width", 1.0}, {"dim", 1}});
  const BakryEmeryBound b3 = bakry_emery_bound(*box3, level);
  EXPECT_NEAR(b3.kappa, scan_min_curvature(*box1, level, -5, 5, 10000), 1e-6);
  EXPECT_NEAR(*b3.support_radius, std::sqrt(3.0), 1e-15);
  EXPECT_LE(*b3.analytic_bound, b3.kappa);
}

TEST(LsiBakryEmery, DerivedBoundFormulaAndValidation) {
  const NoiseLevel level = NoiseLevel::from_ou_time(1.0);
  const double a = std::exp(-2.0);
  EXPECT_NEAR(support_radius_lsi_bound(level, 2.0), (1 - a * 5.0) / ((1 - a) * (1 - a)), 1e-14);
  EXPECT_THROW(support_radius_lsi_bound(level, -1.0), InvalidArgument);
  BakryEmeryOptions bad;
  bad.max_iterations = 0;
  EXPECT_THROW(bakry_emery_bound(*separated_mixture(), level, bad), InvalidArgument);
  SpectralOptions odd;
  odd.cells = 101;
  EXPECT_THROW(spectral_constants_1d(*gaussian_1d(0, 1), level, odd), InvalidArgument);
  const auto box3 = target_registry().make("uniform_box", {{"half_width", 1.0}, {"dim", 3}});
  EXPECT_THROW(spectral_constants_1d(*box3, level), InvalidArgument);
}

TEST(LsiSpectral, GaussianMatchesClosedFormWithinBudget) {
  for (double v : {0.25, 4.0}) {
    for (double t1 : {0.2, 1.0}) {
      const auto target = gaussian_1d(1.0, v);
      const SpectralConstants c = spectral_constants_1d(*target, NoiseLevel::from_ou_time(t1));
      const double exact = gaussian_lambda(v, t1);
      std::printf("N(1,%.2f) T1=%.1f: exact %.10f  P %.10f (budget %.2e)  LSI %.10f (budget %.2e, %d it)\n", v, t1,
                  exact, c.poincare.value, c.poincare.error_budget, c.log_sobolev.value, c.log_sobolev.error_budget,
                  c.log_sobolev.iterations);
      EXPECT_LE(std::abs(c.poincare.value - exact), c.poincare.error_budget);
      EXPECT_LE(std::abs(c.log_sobolev.value - exact), c.log_sobolev.error_budget);
      EXPECT_LT(c.poincare.error_budget, 1e-3 * exact);
      EXPECT_LT(c.log_sobolev.error_budget, 1e-3 * exact);
      EXPECT_LT(c.poincare.truncation_mass, 1e-20);
    }
  }
}

TEST(LsiSpectral, SecondOrderGridConvergence) {
  // Gaussian: error against the closed form; mixture: against a 4096-cell reference.
  const auto gauss = gaussian_1d(1.0, 0.25);
  const auto mixture = separated_mixture();
  const NoiseLevel level = NoiseLevel::from_ou_time(0.5);
  const double exact = gaussian_lambda(0.25, 0.5);
  const double mixture_reference = grid_constants_1d(*mixture, level, -12, 12, 4096, 0).poincare;
  std::vector<double> err_g, err_m, err_l;
  for (int n : {64, 128, 256, 512}) {
    const GridConstants g = grid_constants_1d(*gauss, level, -8, 8, n, 8);
    err_g.push_back(std::abs(g.poincare - exact));
    err_l.push_back(std::abs(g.log_sobolev - exact));
    err_m.push_back(std::abs(grid_constants_1d(*mixture, level, -12, 12, n, 0).poincare - mixture_reference));
  }
  for (std::size_t i = 1; i < err_g.size(); ++i) {
    const double order_g = std::log2(err_g[i - 1] / err_g[i]);
    const double order_l = std::log2(err_l[i - 1] / err_l[i]);
    const double order_m = std::log2(err_m[i - 1] / err_m[i]);
    std::printf("refinement %zu: Gaussian P err %.3e order %.3f | LSI err %.3e order %.3f | mixture P err %.3e order %.3f\n",
                i, err_g[i], order_g, err_l[i], order_l, err_m[i], order_m);
    // The scheme is second order; on a Gaussian weight the h^2 term cancels and the measured
    // order is 4 (both constants). The mixture shows the generic order 2 once resolved.
    EXPECT_NEAR(order_g, 4.0, 0.1);
    EXPECT_NEAR(order_l, 4.0, 0.1);
    if (i >= 2) {
      EXPECT_NEAR(order_m, 2.0, 0.1);
    }
    EXPECT_GT(order_m, 1.9);
  }
}

TEST(LsiSpectral, SeparatedMixtureOrderingAndT1ForBakryEmery) {
  const auto mixture = separated_mixture();
  double previous = 0.0;
  for (double t1 : {0.5, 0.75, 1.0, 1.5, 2.0, 3.0}) {
    const NoiseLevel level = NoiseLevel::from_ou_time(t1);
    const BakryEmeryBound be = bakry_emery_bound(*mixture, level);
    SpectralOptions options;
    options.cells = 512;
    const SpectralConstants c = spectral_constants_1d(*mixture, level, options);
    std::printf("mixture T1=%.2f: Bakry-Emery %.6f  LSI %.6f (budget %.1e, %s)  Poincare %.6f (budget %.1e)\n", t1,
                be.kappa, c.log_sobolev.value, c.log_sobolev.error_budget, c.log_sobolev.converged ? "conv" : "NOT conv",
                c.poincare.value, c.poincare.error_budget);
    EXPECT_LE(be.kappa, c.log_sobolev.value + c.log_sobolev.error_budget) << t1;
    EXPECT_LE(c.log_sobolev.value, c.poincare.value + c.poincare.error_budget) << t1;
    EXPECT_GT(c.log_sobolev.value, previous) << t1;  // grows with T1
    EXPECT_LT(c.log_sobolev.value, 1.0 + c.log_sobolev.error_budget);
    previous = c.log_sobolev.value;
  }
  EXPECT_GT(previous, 0.95);  // T1 = 3: close to the N(0, 1) value 1
  // The T1 where the Bakry-Emery bound reaches 0.9 (bisection) vs the DERIVED sufficient T1.
  double lo = 0.5, hi = 5.0;
  for (int i = 0; i < 40; ++i) {
    const double mid = 0.5 * (lo + hi);
    (bakry_emery_bound(*mixture, NoiseLevel::from_ou_time(mid)).kappa < 0.9 ? lo : hi) = mid;
  }
  const double radius = 4.0 + 3.0 * 0.5;
  const double derived = 0.5 * std::log((1.0 + radius * radius) / 0.1);
  std::printf("Bakry-Emery reaches 0.9 at T1 = %.4f; (1/2) ln((1+R^2)/0.1) = %.4f (R = %.1f)\n", hi, derived, radius);
  EXPECT_LT(hi, derived);  // the derived bound is sufficient, hence not smaller
  EXPECT_GT(hi, 1.0);
}

TEST(LsiSpectral, AsymmetricMixtureLsiBelowPoincare) {
  // 0.2 N(4, 0.25) + 0.8 N(-4, 0.25) at T1 = 0.75: the entropy minimiser concentrates on the light
  // mode, so lambda_LSI < lambda_P strictly. Reference: scipy L-BFGS-B on the same 512-cell grid
  // (+-12 sqrt(m^2 + s^2)) with 32 modes: 0.130742 (16 modes 0.130744, 8 modes 0.131179); lambda_P = 0.1513762.
  const auto mixture = target_registry().make(
      "gaussian_mixture", {{"weights", std::vector<double>{0.2, 0.8}},
                           {"means", ParamValue::List{std::vector<double>{4.0}, std::vector<double>{-4.0}}},
                           {"variance", std::vector<double>{0.25, 0.25}}});
  const NoiseLevel level = NoiseLevel::from_ou_time(0.75);
  SpectralOptions options;
  options.cells = 512;
  const double m = 4.0 * level.sqrt_abar(), half = 12.0 * std::sqrt(m * m + 0.25 * level.abar() + level.one_minus_abar());
  options.lower = -half;  // the reference's interval
  options.upper = half;
  const SpectralConstants c = spectral_constants_1d(*mixture, level, options);
  std::printf("asymmetric mixture T1=0.75: LSI %.7f (budget %.1e: grid %.1e modes %.1e) Poincare %.7f\n",
              c.log_sobolev.value, c.log_sobolev.error_budget, c.log_sobolev.refinement_error,
              c.log_sobolev.mode_error, c.poincare.value);
  EXPECT_NEAR(c.poincare.value, 0.15137621530458592, 1e-9);
  EXPECT_NEAR(c.log_sobolev.value, 0.130742, c.log_sobolev.error_budget + 5e-6);
  EXPECT_LT(c.log_sobolev.value, 0.9 * c.poincare.value);
}

TEST(LsiLangevin, GaussianKlDecaysAtTwiceLambda) {
  for (double v : {0.25, 4.0}) {
    for (double t1 : {0.2, 1.0}) {
      const auto target = gaussian_1d(1.0, v);  // mean 1: Y_0 ~ N(0, 1) excites the slowest mode
      const NoiseLevel level = NoiseLevel::from_ou_time(t1);
      KlDecayOptions options;
      options.grid.cells = 512;
      options.kl_min = 1e-12;  // late window: the 4 lambda (variance) mode is < 1e-4 of KL there
      options.kl_max = 1e-4;
      const double lambda = gaussian_lambda(v, t1);
      for (int i = 0; i <= 60; ++i) options.times.push_back(0.25 * i / lambda);
      const KlDecay decay = langevin_kl_decay_1d(*target, level, options);
      // KL at u = 0 against the closed form KL(N(0,1) || N(m, s2)).
      const double m = level.sqrt_abar(), s2 = 1.0 / lambda;
      const double kl0 = 0.5 * (1.0 / s2 + m * m / s2 - 1.0 + std::log(s2));
      EXPECT_NEAR(decay.kl[0], kl0, 1e-4 * kl0);
      std::printf("N(1,%.2f) T1=%.1f: KL rate %.8f vs 2 lambda %.8f (%s)\n", v, t1, decay.rate, 2 * lambda,
                  decay.message.c_str());
      EXPECT_NEAR(decay.rate, 2.0 * lambda, 2e-3 * 2.0 * lambda);
    }
  }
}

TEST(LsiLangevin, MixtureKlRateAtLeastTwiceLsi) {
  const auto mixture = separated_mixture();
  for (double t1 : {0.75, 1.5}) {
    const NoiseLevel level = NoiseLevel::from_ou_time(t1);
    SpectralOptions grid;
    grid.cells = 512;
    const SpectralConstants c = spectral_constants_1d(*mixture, level, grid);
    KlDecayOptions options;
    options.grid = grid;
    options.initial_mean = 0.7;
    options.kl_max = 1e-4;  // asymmetric start: excites the slowest (odd) mode
    for (int i = 0; i <= 80; ++i) options.times.push_back(0.25 * i / c.poincare.value);
    const KlDecay decay = langevin_kl_decay_1d(*mixture, level, options);
    std::printf("mixture T1=%.2f: KL rate %.6f, 2 LSI %.6f, 2 Poincare %.6f\n", t1, decay.rate,
                2 * c.log_sobolev.value, 2 * c.poincare.value);
    EXPECT_GE(decay.rate, 2.0 * c.log_sobolev.value * (1 - 1e-3));
    EXPECT_NEAR(decay.rate, 2.0 * c.poincare.value, 5e-3 * decay.rate);  // asymptotic rate = 2 lambda_P
  }
}

TEST(LsiLangevin, UlaW2DecaysToTheFloor) {
  const auto target = target_registry().make("gaussian", {{"mean", std::vector<double>{2.0, -1.0}}, {"variance", 0.5}});
  const NoiseLevel level = NoiseLevel::from_ou_time(0.5);
  UlaW2Options options;
  options.particles = 400;
  options.step = 0.01;
  options.times = {0.0, 0.5, 1.0, 2.0, 6.0};
  const std::vector<UlaW2Point> w2 = ula_w2_decay(*target, level, options);
  for (const auto& p : w2) std::printf("ULA u=%.2f W2 %.4f floor %.4f\n", p.time, p.w2, p.floor);
  const double lambda = gaussian_lambda(0.5, 0.5);
  // u = 0: |mean shift| dominates, W2(N(0,I), N(m, s2 I)) = sqrt(|m|^2 + 2 (1 - s)^2).
  const double m2 = level.abar() * 5.0, s = std::sqrt(1.0 / lambda);
  EXPECT_NEAR(w2[0].w2, std::sqrt(m2 + 2 * (1 - s) * (1 - s)), 3.0 * w2[0].floor);
  // u = 1: the mean gap has contracted by e^{-lambda}; u = 6: at the floor.
  const double var1 = s * s + (1 - s * s) * std::exp(-2 * lambda);
  EXPECT_NEAR(w2[2].w2, std::sqrt(m2 * std::exp(-2 * lambda) + 2 * (std::sqrt(var1) - s) * (std::sqrt(var1) - s)),
              3.0 * w2[2].floor);
  EXPECT_LT(w2[4].w2, 2.0 * w2[4].floor);
  for (std::size_t i = 1; i + 1 < w2.size(); ++i) EXPECT_LT(w2[i].w2, w2[i - 1].w2);
}

}  // namespace
}  // namespace dmconv
