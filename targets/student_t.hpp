// Scaled Student t target, 1-D (docs/theory.md §8: a heavy-tailed control; the subgaussian
// assumptions of the bounds fail, its psi2 norm (§8.4) is infinite):
//
//   q(y) = Gamma((nu+1)/2) / (sqrt(nu pi) s Gamma(nu/2)) (1 + y^2/(nu s^2))^{-(nu+1)/2},
//   p_t(x) = int q(y) N(x; sqrt(a) y, sigma^2) dy,   a = abar, sigma^2 = 1 - abar.
//
// p_t has no closed form. Method: the t law is a Gaussian scale mixture, Y = s Z sqrt(nu/V)
// with V ~ chi^2_nu, so with A = a s^2 nu and rho(v) = 1/c(v) = v/(A + sigma^2 v) (c(v) =
// A/v + sigma^2 is the variance of X_t given V = v):
//   p_t(x) = int_0^inf chi2_nu(v) N(x; 0, 1/rho(v)) dv,
//   s*(x)  = -x E[rho(V) | x],      J*(x) = -E[rho(V) | x] + x^2 Var[rho(V) | x],
// (differentiate under the integral) with the posterior of V given X_t = x. The Gaussian is
// integrated exactly, so there is no 1/sigma^2 cancellation (the Tweedie form (a Var[Y|x] -
// sigma^2)/sigma^4 loses ~log10(1/sigma^2) digits near the data); Var is a centred second
// moment (about rho at the largest node). In r = log v the integrand
//   exp(l(r)),  l(r) = k r - v/2 - log(A + sigma^2 v)/2 - x^2 rho(v)/2,   k = (nu+1)/2,
// is analytic in the strip |Im r| < pi/2 and decays exponentially (left) and doubly
// exponentially (right), so the trapezoidal rule on the lattice r_j = j h converges
// geometrically (lattice offset r0 = log(2k); see the .cpp for how l_j stays O(1) at large nu):
// for a log-gamma-shaped integrand exp(kappa r - beta e^r) its relative error
// is the alias term 2 |Gamma(kappa + 2 pi i/h)|/Gamma(kappa) (its Fourier transform is
// Gamma(kappa + i w) beta^{-i w}); h is the largest h <= 0.3 (2% steps) making this < 1e-18
// at kappa = k + 2 (the rho^2 moment raises the shape by up to 2): h = 0.19 at nu = 1,
// 0.17 at nu = 5, 0.09 at nu = 100 (~1.6 nodes per posterior sd). It covers the bimodal
// posterior of the transition region (x explained either by the noise, V ~ nu, or by the tail,
// V ~ A/x^2) without locating the peaks. Window per x:
// nodes r_j >= R(x) - 45/slope, R(x) = min(log(2kA/(A + x^2)) - 3, log(A/sigma^2) - 2), below
// which l increases with slope >= slope = (1 - e^-3) k - 0.06 (proof in student_t.cpp), so the
// dropped left tail is < e^-45/(slope h) relative; the top node makes the dropped right tail
// < e^-45 (l decreases doubly exponentially there). The per-level tables (l without the x
// term, and rho) are built once per batched call (O(100-1000) exp/log); each x then costs three
// vectorised passes over its window (l_j and its maximum; SLEEF exp; the three moment sums in
// eight lane partials): ~(|R(x) - log 2k| + 45/slope + 5)/h nodes, ~300
// at nu = 1, ~130 at nu = 5 (small nu needs more: the posterior of log V has an e^{k r} left
// tail). Measured (bench/student_t_score.cpp, 4096 particles per call, one thread, Zen 5):
// 0.37-0.47 us per score evaluation at nu = 1, 0.26-0.32 us at nu = 2.5, 0.21-0.28 us at nu = 5,
// over 1 - abar = 1e-4, abar = 0.5, abar = 1e-4 (0.61-0.65, 0.37-0.42, 0.29-0.3 us with Eigen's
// exp and three separate moment sums).
// Special cases in closed form: the data level (sigma = 0: log q and its derivatives) and
// abar = 0 (p_t = N(0, sigma^2)).
// Accuracy (tests/targets/student_t_test.cpp) against 90-digit mpmath quadrature of the
// convolution over y (tests/targets/reference/student_t_reference.py), nu = 1, 2.5, 5, 1 - abar
// = 1e-8, 1e-2, abar = 0.5, 1e-8, x = 0, 0.3, -2.5, 1e3, 1e6: worst relative error 6.2e-16 on
// log p (relative to max(|log p|, 1)), 1.8e-15 on s*, 5.4e-15 on J* relative to the scale
// E[rho | x] of its two terms (J* itself crosses zero at the inflection points, where no
// method has relative accuracy); 6.1e-16 against the Cauchy/Voigt closed form. Halving h
// changes results by < 1e-13 for nu <= 30 (1.8e-13 at nu = 100).
// Preconditions (checked, InvalidArgument): 0.1 <= nu <= 100 finite (below 0.1 the exact
// samples s*quantile(U) overflow a double at U ~ 1e-16, and the window grows like 1/nu; above
// 100 the log-weights l_j at large |x| are O(k log x) and their rounding, ~k eps relative,
// exceeds 1e-13: 7e-12 measured at nu = 1e4, where the law is within ~1/nu of a Gaussian
// anyway), 0 < s < inf. Evaluation points |x| <= 1e100 (beyond, the posterior of V leaves the
// double range).
// Exact samples: X_0 = s * quantile(t_nu, U), U the first uniform of sub-stream 0 (Boost.Math
// students_t quantile), X_t = sqrt(a) X_0 + sigma W with W the first normal of sub-stream 1.
// Moments: mean 0 (for nu > 1) and variance a s^2 nu/(nu - 2) + sigma^2, returned for nu > 2
// only (moments() is nullopt otherwise: the variance is infinite).
#pragma once

#include <vector>

#include "core/target.hpp"

namespace dmconv {

class StudentTTarget final : public Target {
 public:
  // Precondition (checked, InvalidArgument): nu in [0.1, 100], scale > 0, both finite.
  StudentTTarget(double degrees_of_freedom, double scale);

  std::string name() const override { return "student_t"; }
  // Includes "subgaussian = false" (psi2 norm infinite).
  std::string describe() const override;
  int dim() const override { return 1; }
  double degrees_of_freedom() const { return nu_; }
  double scale() const { return scale_; }

  using Target::log_density;
  using Target::sample;
  using Target::score;
  using Target::score_jacobian;
  void log_density(const NoiseLevel& level, ConstMatrixRef x, VectorRef out) const override;
  void score(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const override;
  void score_jacobian(const NoiseLevel& level, ConstVectorRef x, MatrixRef out) const override;
  void score_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v,
                            MatrixRef out) const override;
  // One quadrature per point gives both (Evaluator::evaluate returns score and curvature).
  void score_and_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v, MatrixRef score_out,
                                MatrixRef jacobian_out) const override;
  void log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                               VectorRef out) const override;
  void score_and_log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                         MatrixRef score_out, VectorRef log_det_out) const override;
  std::optional<DiagonalPlusLowRank> score_jacobian_structured(const NoiseLevel& level,
                                                               ConstVectorRef x) const override;
  std::optional<Moments> moments(const NoiseLevel& level) const override;
  // Heavy tails: E exp(Y^2/K^2) = infinity for every K, so both psi2 norms are infinite.
  SubgaussianNorms subgaussian_norms() const override {
    return {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
  }
  void sample(const NoiseLevel& level, const RandomStreams& streams, std::uint64_t first_particle,
              StreamTag tag, MatrixRef out) const override;

 private:
  double nu_;
  double scale_;
  double step_;  // lattice_step(nu)
};

namespace student_t_detail {
struct Coordinate {
  double log_density;
  double score;
  double curvature;
};

// The noised 1-D law at one level, with its lattice tables built for |x| <= max_abs_x.
// evaluate(x) for |x| <= max_abs_x depends only on (nu, s, level, x), not on max_abs_x
// (bitwise), so batched results do not depend on the batch.
class Evaluator {
 public:
  // step: the lattice step h, lattice_step(nu) (tests pass h/2 to expose the trapezoid error).
  Evaluator(double nu, double scale, const NoiseLevel& level, double max_abs_x, double step);
  Coordinate evaluate(double x) const;
  // Lattice step h (see the header comment).
  double step() const { return h_; }
  // Number of lattice nodes in the table (for tests and benchmarks).
  std::size_t table_size() const { return base_.size(); }

 private:
  enum class Mode { kData, kGaussian, kMixture };
  Mode mode_;
  double nu_, scale_, k_, A_, sigma2_, h_, slope_ = 0, r0_ = 0;
  double log_const_;  // -(nu/2) log 2 - lgamma(nu/2) - log(2 pi)/2 (mixture); log q normaliser (data)
  long j_min_ = 0, j_max_ = 0;
  std::vector<double> base_;  // l_j without the x term
  std::vector<double> rho_;   // rho(v_j)
  // Work space of evaluate() (an Evaluator is used by one thread: it lives inside one call).
  mutable Eigen::ArrayXd buffer_;
};

// The lattice step h for nu: the largest h <= 0.3 (in steps of 2%) whose predicted relative
// trapezoid error 2 |Gamma(kappa + 2 pi i/h)|/Gamma(kappa) for a log-gamma integrand of shape
// kappa = (nu + 1)/2 + 2 is < 1e-18.
double lattice_step(double nu);
}  // namespace student_t_detail

}  // namespace dmconv
