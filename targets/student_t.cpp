#include "targets/student_t.hpp"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <sstream>

#include "core/error.hpp"
#include "core/simd_math.hpp"

namespace dmconv {
namespace student_t_detail {
namespace {

constexpr double kWindow = 40.0;  // nodes with l_j < max l - kWindow are dropped (e^-40 = 4e-18)

// R(x): below it l(r) increases with slope >= (1 - e^-3) k - 0.06. Proof: dl/dr = k - v/2 -
// sigma^2 v/(2(A + sigma^2 v)) - x^2 v A/(2 (A + sigma^2 v)^2); for v <= e^-2 A/sigma^2 the
// third term is <= e^-2/(2(1 + e^-2)) < 0.06 and the last two together with v/2 are
// <= (v/2)(1 + x^2/A) <= e^-3 k when also v <= e^-3 2kA/(A + x^2).
double increasing_below(double k, double A, double sigma2, double x) {
  return std::min(std::log(2.0 * k * A) - std::log(A + x * x) - 3.0, std::log(A) - std::log(sigma2) - 2.0);
}

}  // namespace

double lattice_step(double nu) {
  // Relative trapezoid error for f(r) = exp(kappa r - beta e^r) on a lattice of step h: the
  // dominant alias term 2 |F(2 pi/h)|/F(0) = 2 |Gamma(kappa + i w)|/Gamma(kappa), w = 2 pi/h.
  // log|Gamma(z)| by Stirling's series after shifting z by 8 (error < 1e-10, ample here).
  const double kappa = 0.5 * (nu + 1.0) + 2.0;
  const auto log_abs_gamma = [](std::complex<double> z) {
    std::complex<double> shift = 0.0;
    for (int i = 0; i < 8; ++i) shift += std::log(z + static_cast<double>(i));
    const std::complex<double> w = z + 8.0;
    const std::complex<double> series = (w - 0.5) * std::log(w) - w + 0.5 * std::log(2.0 * std::numbers::pi) +
                                        1.0 / (12.0 * w) - 1.0 / (360.0 * w * w * w) + 1.0 / (1260.0 * std::pow(w, 5));
    return (series - shift).real();
  };
  const double target = std::log(1e-18);
  double h = 0.3;
  while (std::log(2.0) + log_abs_gamma({kappa, 2.0 * std::numbers::pi / h}) - std::lgamma(kappa) > target) h *= 0.98;
  return h;
}

Evaluator::Evaluator(double nu, double scale, const NoiseLevel& level, double max_abs_x, double step)
    : nu_(nu), scale_(scale), k_(0.5 * (nu + 1.0)), A_(0), sigma2_(level.one_minus_abar()), h_(step) {
  // log Gamma((nu+1)/2) - log Gamma(nu/2) without cancellation (both are ~ (nu/2) log(nu/2)).
  const double m = 0.5 * nu;
  const double log_gamma_ratio = -std::log(boost::math::tgamma_delta_ratio(m, 0.5));
  if (level.is_data()) {
    mode_ = Mode::kData;
    log_const_ = log_gamma_ratio - 0.5 * std::log(nu * std::numbers::pi) - std::log(scale);
    return;
  }
  if (level.abar() == 0.0) {
    mode_ = Mode::kGaussian;
    return;
  }
  mode_ = Mode::kMixture;
  A_ = level.abar() * scale * scale * nu;
  // Lattice r_j = r0 + j h, r0 = log(2k) (v_j = 2k e^{jh}): then k r - v/2 = k r0 - k +
  // k (jh - expm1(jh)) with the large constant k r0 - k taken out exactly, so l_j is O(1) near
  // the posterior and its rounding does not grow with nu. The constant
  //   k log(2k) - k - (nu/2) log 2 - lgamma(nu/2) = [lgamma(k) - lgamma(m)] + [k log k - k -
  //   lgamma(k)] + log(2)/2,  k log k - k - lgamma(k) = log(k)/2 - log(2 pi)/2 - mu(k)
  // (mu: Stirling's remainder, by its series for k >= 30: next term < 5e-17).
  r0_ = std::log(2.0 * k_);
  double stirling_part;
  if (k_ >= 30.0) {
    const double z = 1.0 / (k_ * k_);
    const double mu = (1.0 / 12.0 - z * (1.0 / 360.0 - z * (1.0 / 1260.0 - z / 1680.0))) / k_;
    stirling_part = 0.5 * std::log(k_) - 0.5 * std::log(2.0 * std::numbers::pi) - mu;
  } else {
    stirling_part = k_ * std::log(k_) - k_ - std::lgamma(k_);
  }
  log_const_ = log_gamma_ratio + stirling_part + 0.5 * std::numbers::ln2 - 0.5 * std::log(2.0 * std::numbers::pi) +
               std::log(h_);
  // Upper end: for v >= v_j0 (j0 the first node with v >= 2k), l(v) <= l_j0 + k log(v/v_j0) -
  // (v - v_j0)/2; the fixed point below makes that <= l_j0 - 45 <= max l - 45.
  const double v0 = 2.0 * k_ * std::exp(h_);
  double v = v0 + 100.0;
  for (int i = 0; i < 30; ++i) v = v0 + 2.0 * (45.0 + k_ * std::log(v / (2.0 * k_)));
  j_max_ = static_cast<long>(std::ceil((std::log(v) - r0_) / h_)) + 1;
  // Lower end: below R(x) the integrand increases with slope >= (1 - e^-3) k - 0.06,
  // so l < max l - 45 below R(x) - 45/slope; R decreases with |x|.
  slope_ = (1.0 - std::exp(-3.0)) * k_ - 0.06;
  const double lowest = increasing_below(k_, A_, sigma2_, std::min(std::fabs(max_abs_x), 1e100)) -
                        (kWindow + 5.0) / slope_;
  j_min_ = static_cast<long>(std::floor((std::max(lowest, -700.0) - r0_) / h_)) - 2;
  const auto count = static_cast<std::size_t>(j_max_ - j_min_ + 1);
  // kLanes padding entries (l = -inf, rho = 0) let evaluate() run whole lane groups past the end.
  base_.assign(count + simd::kLanes, -std::numeric_limits<double>::infinity());
  rho_.assign(count + simd::kLanes, 0.0);
  for (std::size_t i = 0; i < count; ++i) {
    const double u = static_cast<double>(j_min_ + static_cast<long>(i)) * h_;
    const double vj = 2.0 * k_ * std::exp(u);
    const double t = A_ + sigma2_ * vj;
    base_[i] = k_ * (u - std::expm1(u)) - 0.5 * std::log(t);
    rho_[i] = vj / t;
  }
  buffer_.resize(static_cast<Eigen::Index>(count + simd::kLanes));
}

Coordinate Evaluator::evaluate(double x) const {
  if (mode_ == Mode::kData) {
    // log q, (log q)' and (log q)'' in closed form.
    const double ns2 = nu_ * scale_ * scale_;
    const double denominator = ns2 + x * x;
    const double y = x / scale_;
    return {log_const_ - k_ * std::log1p(y * y / nu_), -(nu_ + 1.0) * x / denominator,
            (nu_ + 1.0) * (x - std::sqrt(ns2)) * (x + std::sqrt(ns2)) / (denominator * denominator)};
  }
  if (mode_ == Mode::kGaussian) {
    return {-0.5 * x * x / sigma2_ - 0.5 * std::log(2.0 * std::numbers::pi * sigma2_), -x / sigma2_, -1.0 / sigma2_};
  }
  const double half_x2 = 0.5 * x * x;
  const double R = increasing_below(k_, A_, sigma2_, x);
  // Lower end of the window: below R(x) l increases with slope >= slope_, so l < max l - 45
  // below R(x) - 45/slope_ (the same bound, at max |x|, sized the table).
  const long stop =
      std::max(0L, static_cast<long>(std::floor((R - (kWindow + 5.0) / slope_ - r0_) / h_)) - j_min_);
  const long count = j_max_ - j_min_ + 1;
  // Window [stop, count - 1], in whole lane groups. Passes: l_j = base_j - x^2 rho_j / 2 and
  // its maximum top (Eigen), the first index of top (simd::first_equal); the weights
  // e_j = exp(l_j - top) (SLEEF, eight at a time); their moments of rho
  // about rho_ref = rho at the first maximal l (within ~1 posterior sd of the mean, so Var =
  // S2/S0 - (S1/S0)^2 loses at most ~1 digit; the difference rho - rho_ref is exact), summed in
  // eight lane partials, then across lanes in lane order. Lanes past the window take e = 0.
  const auto n = static_cast<Eigen::Index>(count - stop);
  constexpr int L = simd::kLanes;
  const Eigen::Index padded = (n + L - 1) / L * L;  // the tables' padding (l = -inf) covers the last group
  const double* base = base_.data() + stop;
  const double* rho = rho_.data() + stop;
  double* weights = buffer_.data();
  Eigen::Map<Eigen::ArrayXd> log_weights(weights, padded);
  log_weights = Eigen::Map<const Eigen::ArrayXd>(base, padded) - half_x2 * Eigen::Map<const Eigen::ArrayXd>(rho, padded);
  const double top = log_weights.head(n).maxCoeff();
  const Eigen::Index arg_top = simd::first_equal(weights, n, top);
  const double rho_ref = rho[arg_top];
  alignas(64) double shifted[L];
  for (Eigen::Index first = 0; first < padded; first += L) {
#pragma omp simd
    for (int l = 0; l < L; ++l) shifted[l] = weights[first + l] - top;
    simd::exp8(shifted, weights + first);
  }
  alignas(64) double sum0[L] = {}, sum1[L] = {}, sum2[L] = {};
  for (Eigen::Index first = 0; first < padded; first += L)
#pragma omp simd
    for (int l = 0; l < L; ++l) {
      const double w = weights[first + l], difference = rho[first + l] - rho_ref;
      sum0[l] += w;
      sum1[l] += w * difference;
      sum2[l] += w * (difference * difference);
    }
  double s0 = 0.0, t1 = 0.0, t2 = 0.0;
  for (int l = 0; l < L; ++l) {
    s0 += sum0[l];
    t1 += sum1[l];
    t2 += sum2[l];
  }
  const double s1 = t1 / s0;
  const double s2 = t2 / s0;
  const double mean = rho_ref + s1;
  const double variance = s2 - s1 * s1;
  return {log_const_ + top + std::log(s0), -x * mean, -mean + x * x * variance};
}

}  // namespace student_t_detail

using student_t_detail::Evaluator;

namespace {
double max_abs(ConstMatrixRef x) { return x.size() == 0 ? 0.0 : x.cwiseAbs().maxCoeff(); }
}  // namespace

StudentTTarget::StudentTTarget(double degrees_of_freedom, double scale) : nu_(degrees_of_freedom), scale_(scale), step_(0) {
  require(std::isfinite(degrees_of_freedom) && degrees_of_freedom >= 0.1 && degrees_of_freedom <= 100.0,
          "target 'student_t': degrees_of_freedom = " + std::to_string(degrees_of_freedom) +
              " must lie in [0.1, 100] (nu > 0; see targets/student_t.hpp for the range)");
  require(std::isfinite(scale) && scale > 0.0,
          "target 'student_t': scale = " + std::to_string(scale) + " must be positive and finite");
  step_ = student_t_detail::lattice_step(nu_);
}

std::string StudentTTarget::describe() const {
  std::ostringstream out;
  out << "Student t, nu = " << nu_ << ", scale = " << scale_
      << " (1-D, heavy-tailed: subgaussian = false, psi2 norm infinite; variance "
      << (nu_ > 2 ? "finite" : "infinite") << ")";
  return out.str();
}

void StudentTTarget::log_density(const NoiseLevel& level, ConstMatrixRef x, VectorRef out) const {
  const Evaluator evaluator(nu_, scale_, level, max_abs(x), step_);
  for (Eigen::Index j = 0; j < x.cols(); ++j) out(j) = evaluator.evaluate(x(0, j)).log_density;
}

void StudentTTarget::score(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const {
  const Evaluator evaluator(nu_, scale_, level, max_abs(x), step_);
  for (Eigen::Index j = 0; j < x.cols(); ++j) out(0, j) = evaluator.evaluate(x(0, j)).score;
}

void StudentTTarget::score_jacobian(const NoiseLevel& level, ConstVectorRef x, MatrixRef out) const {
  out(0, 0) = Evaluator(nu_, scale_, level, std::fabs(x(0)), step_).evaluate(x(0)).curvature;
}

void StudentTTarget::score_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v,
                                          MatrixRef out) const {
  const Evaluator evaluator(nu_, scale_, level, max_abs(x), step_);
  const Eigen::Index m = v.cols() / x.cols();
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    const double curvature = evaluator.evaluate(x(0, j)).curvature;
    for (Eigen::Index k = j * m; k < (j + 1) * m; ++k) out(0, k) = curvature * v(0, k);
  }
}

void StudentTTarget::score_and_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v,
                                              MatrixRef score_out, MatrixRef jacobian_out) const {
  const Evaluator evaluator(nu_, scale_, level, max_abs(x), step_);
  const Eigen::Index m = v.cols() / x.cols();
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    const auto point = evaluator.evaluate(x(0, j));
    score_out(0, j) = point.score;
    for (Eigen::Index k = j * m; k < (j + 1) * m; ++k) jacobian_out(0, k) = point.curvature * v(0, k);
  }
}

void StudentTTarget::log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                             VectorRef out) const {
  const Evaluator evaluator(nu_, scale_, level, max_abs(x), step_);
  for (Eigen::Index j = 0; j < x.cols(); ++j) out(j) = std::log(std::fabs(a + c * evaluator.evaluate(x(0, j)).curvature));
}

void StudentTTarget::score_and_log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                                       MatrixRef score_out, VectorRef log_det_out) const {
  const Evaluator evaluator(nu_, scale_, level, max_abs(x), step_);
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    const auto point = evaluator.evaluate(x(0, j));
    score_out(0, j) = point.score;
    log_det_out(j) = std::log(std::fabs(a + c * point.curvature));
  }
}

std::optional<DiagonalPlusLowRank> StudentTTarget::score_jacobian_structured(const NoiseLevel& level,
                                                                             ConstVectorRef x) const {
  Vector diagonal(1);
  diagonal(0) = Evaluator(nu_, scale_, level, std::fabs(x(0)), step_).evaluate(x(0)).curvature;
  return DiagonalPlusLowRank{diagonal, Matrix::Zero(1, 0), Matrix::Zero(0, 0)};
}

std::optional<Moments> StudentTTarget::moments(const NoiseLevel& level) const {
  if (!(nu_ > 2.0)) return std::nullopt;
  Moments out{Vector::Zero(1), Matrix::Zero(1, 1)};
  out.covariance(0, 0) = level.abar() * scale_ * scale_ * nu_ / (nu_ - 2.0) + level.one_minus_abar();
  return out;
}

void StudentTTarget::sample(const NoiseLevel& level, const RandomStreams& streams, std::uint64_t first_particle,
                            StreamTag tag, MatrixRef out) const {
  const boost::math::students_t_distribution<double> law(nu_);
  for (Eigen::Index j = 0; j < out.cols(); ++j) {
    const std::uint64_t particle = first_particle + static_cast<std::uint64_t>(j);
    const double u = streams.uniform(particle, tag.sub(0), 0);
    double noise = 0.0;
    streams.normals(particle, tag.sub(1), &noise, 1);
    out(0, j) = level.sqrt_abar() * (scale_ * boost::math::quantile(law, u)) + level.sigma() * noise;
  }
}

}  // namespace dmconv
