#include "targets/sphere.hpp"

#include <algorithm>
#include <boost/math/special_functions/hypergeometric_1F1.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/tools/toms748_solve.hpp>
#include <cmath>
#include <limits>
#include <numbers>
#include <sstream>

#include "core/error.hpp"

namespace dmconv {
namespace sphere_detail {
namespace {

// Generated with sympy from DLMF 10.41.10-11 (u_{k+1} = p^2 (1-p^2) u_k'/2 +
// (1/8) int_0^p (1 - 5 t^2) u_k(t) dt); exact rationals rounded to 17 digits.
#include "targets/sphere_debye_tables.inc"

constexpr int kDebyeOrder = 12;
constexpr int kDegree = 3 * kDebyeOrder;
constexpr double kMinOrder = 40.0;  // Debye is used at mu >= 40: first omitted term < 1e-19

// Horner for a polynomial and its derivative.
void polynomial(const std::array<double, 37>& c, double p, double& value, double& derivative) {
  value = c[kDegree];
  derivative = 0.0;
  for (int j = kDegree - 1; j >= 0; --j) {
    derivative = derivative * p + value;
    value = value * p + c[static_cast<std::size_t>(j)];
  }
}

}  // namespace

double norm(const double* x, int size) {
  double largest = 0.0;
  for (int i = 0; i < size; ++i) largest = std::max(largest, std::fabs(x[i]));
  if (largest == 0.0 || !std::isfinite(largest)) return largest;
  if (largest > 1e-140 && largest < 1e140) {
    double sum = 0.0;
    for (int i = 0; i < size; ++i) sum += x[i] * x[i];
    return std::sqrt(sum);
  }
  double sum = 0.0;
  for (int i = 0; i < size; ++i) {
    const double scaled = x[i] / largest;
    sum += scaled * scaled;
  }
  return largest * std::sqrt(sum);
}

RadialFunctions::RadialFunctions(int dim) : nu_(0.5 * dim - 1.0) {
  shift_ = nu_ >= kMinOrder ? 0 : static_cast<int>(std::ceil(kMinOrder - nu_));
  mu_ = nu_ + shift_;
  double power = 1.0;
  for (int k = 1; k <= kDebyeOrder; ++k) {
    power /= mu_;
    for (int j = 0; j <= kDegree; ++j) {
      u_minus_one_[static_cast<std::size_t>(j)] += kDebyeU[k][j] * power;
      e_[static_cast<std::size_t>(j)] += kDebyeE[k][j] * power;
    }
  }
  // Stirling: B_2k / (2k (2k-1) mu^{2k-1}), k = 1..6 (next term < 1e-16 of the first at mu = 40).
  const double m2 = 1.0 / (mu_ * mu_);
  stirling_ = (1.0 / 12.0 + m2 * (-1.0 / 360.0 + m2 * (1.0 / 1260.0 + m2 * (-1.0 / 1680.0 +
                                                      m2 * (1.0 / 1188.0 + m2 * (-691.0 / 360360.0)))))) / mu_;
}

RadialFunctions::Debye RadialFunctions::debye(double z, bool need_log) const {
  const double t = z / mu_;
  const double s = std::hypot(1.0, t);
  const double p = 1.0 / s;
  const double tp = t * p;  // t/s <= 1
  double u1, u1p, e, ep;
  polynomial(u_minus_one_, p, u1, u1p);
  polynomial(e_, p, e, ep);
  const double U = 1.0 + u1;
  const double W = p * e / U;
  const double Wp = e / U + p * (ep * U - e * u1p) / (U * U);
  Debye out{};
  Ratios& r = out.r;
  r.ratio = t * (1.0 / (1.0 + s) - W);
  r.complement = r.ratio <= 0.5 ? 1.0 - r.ratio : (1.0 - 1.0 / (t + s) + t * (t * W)) / t;
  r.ratio_over_z = (1.0 / (1.0 + s) - W) / mu_;
  r.derivative = (p / (1.0 + s) - W + tp * tp * p * Wp) / mu_;
  const double t1s = t / (1.0 + s);
  r.delta = -(p / mu_) * (t1s * t1s - tp * tp * Wp);
  if (need_log) {
    const double s_minus_one = t <= 1.0 ? t * t / (1.0 + s) : s - 1.0;
    const double log_s = t <= 1.0 ? std::log1p(s_minus_one) : std::log(s);
    out.log_scaled = mu_ * (1.0 / (s + t) - 1.0) - mu_ * std::log1p(0.5 * s_minus_one) + stirling_ - 0.5 * log_s +
                     std::log1p(u1);
  }
  // Backward recurrence mu - 1, ..., nu.
  for (int j = shift_ - 1; j >= 0; --j) {
    const double k1 = nu_ + j + 1.0;  // k + 1
    const double a = 2.0 * k1 / z;
    const Ratios next = r;
    r.ratio = 1.0 / (a + next.ratio);
    r.complement = r.ratio <= 0.5 ? 1.0 - r.ratio : (a - next.complement) * r.ratio;
    const double r2 = r.ratio * r.ratio;
    r.derivative = r2 * (a / z - next.derivative);
    r.delta = -r2 * (2.0 * next.ratio / z + next.delta);
    r.ratio_over_z = r.ratio / z;
    if (need_log) out.log_scaled -= std::log(a * r.ratio);
  }
  return out;
}

RadialFunctions::Debye RadialFunctions::hankel(double z, bool need_log) const {
  const double four_nu2 = 4.0 * nu_ * nu_;
  double term = 1.0, s_minus_one = 0.0, m1 = 0.0, m2 = 0.0;
  for (int k = 1; k < 80; ++k) {
    term *= -(four_nu2 - (2.0 * k - 1.0) * (2.0 * k - 1.0)) / (8.0 * k * z);
    s_minus_one += term;
    m1 += k * term;
    m2 += static_cast<double>(k) * k * term;
    if (std::fabs(term) <= 1e-18 * (1.0 + s_minus_one)) break;
  }
  const double S = 1.0 + s_minus_one;
  const double p1 = m1 / S;
  Debye out{};
  Ratios& r = out.r;
  r.complement = (nu_ + 0.5 + p1) / z;
  r.ratio = 1.0 - r.complement;
  r.ratio_over_z = r.ratio / z;
  r.derivative = (nu_ + 0.5 + p1 + m2 / S - p1 * p1) / (z * z);
  r.delta = r.derivative - r.ratio_over_z;
  if (need_log) {
    const double log_two_pi = 1.8378770664093454835606594728112;
    out.log_scaled = std::lgamma(nu_ + 1.0) - nu_ * std::log(0.5 * z) - 0.5 * (log_two_pi + std::log(z)) +
                     std::log1p(s_minus_one);
  }
  return out;
}

double RadialFunctions::log_scaled(double z) const {
  if (z <= std::max(20.0, 2.0 * std::sqrt(nu_ + 1.0))) {
    const double w = 0.25 * z * z;
    double term = 1.0, sum = 1.0;
    for (int k = 0; k < 400; ++k) {
      term *= w / ((k + 1.0) * (nu_ + 1.0 + k));
      sum += term;
      if (term <= 1e-18 * sum) break;
    }
    return std::log(sum) - z;
  }
  return use_hankel(z) ? hankel(z, true).log_scaled : debye(z, true).log_scaled;
}

Ratios RadialFunctions::ratios(double z) const {
  const double c = nu_ + 1.0;
  if (z * z <= 4.0 * c) {
    // t_k = w^k / (k! (nu+1)_k), w = z^2/4 <= nu + 1: ratio of terms <= 1/k, <= 24 terms.
    const double w = 0.25 * z * z;
    std::array<double, 40> terms{};
    int count = 0;
    double term = 1.0, sum = 0.0, a = 0.0;
    for (int k = 0; k < 40; ++k) {
      terms[static_cast<std::size_t>(k)] = term;
      sum += term;
      a += term / (c + k);
      count = k + 1;
      if (term <= 1e-18 * sum) break;
      term *= w / ((k + 1.0) * (c + k));
    }
    double cross = 0.0;  // sum_{j<k} t_j t_k (k-j)^2 / ((c+j)(c+k))
    for (int k = 1; k < count; ++k) {
      double inner = 0.0;
      for (int j = 0; j < k; ++j) inner += terms[static_cast<std::size_t>(j)] * (k - j) * (k - j) / (c + j);
      cross += terms[static_cast<std::size_t>(k)] / (c + k) * inner;
    }
    Ratios r{};
    r.ratio_over_z = 0.5 * a / sum;
    r.ratio = z * r.ratio_over_z;
    r.complement = 1.0 - r.ratio;
    r.delta = -cross / (sum * sum);
    r.derivative = r.ratio_over_z + r.delta;
    return r;
  }
  return use_hankel(z) ? hankel(z, false).r : debye(z, false).r;
}

Radial evaluate(const RadialFunctions& f, double radius, int dim, const NoiseLevel& level, double y, bool need_log) {
  if (level.is_data()) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    return {-std::numeric_limits<double>::infinity(), nan, nan, nan};
  }
  const double s2 = level.one_minus_abar();
  const double rho = level.sqrt_abar() * radius;
  const double q = level.abar() * radius * radius / s2;  // rho^2 / sigma^2
  const double z = rho * y / s2;
  const Ratios r = f.ratios(z);
  Radial out{};
  if (r.ratio > 0.5) {
    out.c_perp = ((rho - y) - rho * r.complement) / (y * s2);
  } else {
    out.c_perp = (q * r.ratio_over_z - 1.0) / s2;
  }
  out.c_par = (q * r.derivative - 1.0) / s2;
  out.kappa = q * r.delta / s2;
  if (need_log) {
    const double log_two_pi = 1.8378770664093454835606594728112;  // log(2 pi)
    const double gap = y - rho;
    out.log_density = -0.5 * dim * (log_two_pi + level.log_one_minus_abar()) - gap * gap / (2.0 * s2) + f.log_scaled(z);
  }
  return out;
}

double projected_density(double radius, int dim, double s) {
  if (!(std::fabs(s) < radius)) return 0.0;
  const double u = s / radius;
  const double half = 0.5 * (dim - 1);
  return std::exp((half - 1.0) * std::log1p(-u * u)) / (radius * boost::math::beta(0.5, half));
}

double projected_cdf(double radius, int dim, double s) {
  if (s <= -radius) return 0.0;
  if (s >= radius) return 1.0;
  const double half = 0.5 * (dim - 1);
  // (1 + s/r)/2 ~ Beta(half, half); the lower half through the complement keeps small tails.
  return s <= 0 ? boost::math::ibeta(half, half, 0.5 * (1.0 + s / radius))
                : boost::math::ibetac(half, half, 0.5 * (1.0 - s / radius));
}

double projected_square_mgf(int dim, double lambda) { return std::exp(log_projected_square_mgf(dim, lambda)); }

double log_projected_square_mgf(int dim, double lambda) {
  // <u, X_0>/r = cos(phi) with cos^2(phi) ~ Beta(1/2, (d - 1)/2), whose moment generating function
  // is Kummer's function: E exp(lambda cos^2) = 1F1(1/2; d/2; lambda) (DLMF 13.4.1). Boost.Math
  // evaluates its logarithm without overflow (microseconds even at d = 16383, lambda = d ln 2).
  return boost::math::log_hypergeometric_1F1(0.5, 0.5 * dim, lambda);
}

}  // namespace sphere_detail

namespace {
double checked_radius(double radius) {
  require(radius > 0.0 && std::isfinite(radius),
          "target 'sphere': radius = " + std::to_string(radius) + " must be positive and finite");
  return radius;
}
int checked_dim(int dim) {
  require(dim >= 2 && dim < 16384, "target 'sphere': dim = " + std::to_string(dim) + " must lie in [2, 16383]");
  return dim;
}
}  // namespace

SphereTarget::SphereTarget(double radius, int dim)
    : radius_(checked_radius(radius)), dim_(checked_dim(dim)), functions_(dim_) {}

std::string SphereTarget::describe() const {
  std::ostringstream out;
  out << "uniform on the sphere S^" << (dim_ - 1) << " of radius " << radius_ << " in R^" << dim_;
  return out.str();
}

double SphereTarget::psi2_per_direction() const {
  // g(lambda) = log E exp(lambda cos^2) - ln 2, increasing; g(ln 2) <= 0 (E <= e^lambda) and
  // g(d ln 2) >= 0 (Jensen, E cos^2 = 1/d).
  auto g = [&](double lambda) { return sphere_detail::log_projected_square_mgf(dim_, lambda) - std::numbers::ln2; };
  std::uintmax_t iterations = 200;
  const auto bracket = boost::math::tools::toms748_solve(
      g, std::numbers::ln2, dim_ * std::numbers::ln2, boost::math::tools::eps_tolerance<double>(50), iterations);
  const double lambda = 0.5 * (bracket.first + bracket.second);
  return radius_ / std::sqrt(lambda);
}

double SphereTarget::psi2_norm_based() const { return radius_ / std::sqrt(std::numbers::ln2); }

void SphereTarget::log_density(const NoiseLevel& level, ConstMatrixRef x, VectorRef out) const {
  for (Eigen::Index j = 0; j < x.cols(); ++j) out(j) = radial(level, sphere_detail::norm(x.col(j).data(), dim_)).log_density;
}

void SphereTarget::score(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const {
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    const double c_perp = radial(level, sphere_detail::norm(x.col(j).data(), dim_), false).c_perp;
    for (int i = 0; i < dim_; ++i) out(i, j) = c_perp * x(i, j);
  }
}

namespace {
// The unit vector n = x/||x|| (e_1 at x = 0, where kappa = 0).
void direction(const double* x, int d, double y, double* n) {
  if (y == 0.0) {
    for (int i = 0; i < d; ++i) n[i] = i == 0 ? 1.0 : 0.0;
    return;
  }
  for (int i = 0; i < d; ++i) n[i] = x[i] / y;
}
}  // namespace

void SphereTarget::score_jacobian(const NoiseLevel& level, ConstVectorRef x, MatrixRef out) const {
  const double y = sphere_detail::norm(x.data(), dim_);
  const sphere_detail::Radial r = radial(level, y, false);
  Vector n(dim_);
  direction(x.data(), dim_, y, n.data());
  for (int k = 0; k < dim_; ++k)
    for (int i = 0; i < dim_; ++i) out(i, k) = r.kappa * n(i) * n(k) + (i == k ? r.c_perp : 0.0);
}

void SphereTarget::score_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v,
                                        MatrixRef out) const {
  const Eigen::Index m = v.cols() / x.cols();
  Vector n(dim_);
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    const double y = sphere_detail::norm(x.col(j).data(), dim_);
    const sphere_detail::Radial r = radial(level, y, false);
    direction(x.col(j).data(), dim_, y, n.data());
    for (Eigen::Index k = j * m; k < (j + 1) * m; ++k) {
      double dot = 0.0;
      for (int i = 0; i < dim_; ++i) dot += n(i) * v(i, k);
      const double along = r.kappa * dot;
      for (int i = 0; i < dim_; ++i) out(i, k) = r.c_perp * v(i, k) + along * n(i);
    }
  }
}

void SphereTarget::log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                           VectorRef out) const {
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    const sphere_detail::Radial r = radial(level, sphere_detail::norm(x.col(j).data(), dim_), false);
    out(j) = (dim_ - 1) * std::log(std::fabs(a + c * r.c_perp)) + std::log(std::fabs(a + c * r.c_par));
  }
}

std::optional<DiagonalPlusLowRank> SphereTarget::score_jacobian_structured(const NoiseLevel& level,
                                                                           ConstVectorRef x) const {
  const double y = sphere_detail::norm(x.data(), dim_);
  const sphere_detail::Radial r = radial(level, y, false);
  DiagonalPlusLowRank out{Vector::Constant(dim_, r.c_perp), Matrix(dim_, 1), Matrix::Constant(1, 1, r.kappa)};
  direction(x.data(), dim_, y, out.factor.data());
  return out;
}

std::optional<Moments> SphereTarget::moments(const NoiseLevel& level) const {
  Moments out{Vector::Zero(dim_), Matrix::Zero(dim_, dim_)};
  out.covariance.diagonal().setConstant(level.abar() * radius_ * radius_ / dim_ + level.one_minus_abar());
  return out;
}

void SphereTarget::sample(const NoiseLevel& level, const RandomStreams& streams, std::uint64_t first_particle,
                          StreamTag tag, MatrixRef out) const {
  Vector g(dim_), noise(dim_);
  for (Eigen::Index j = 0; j < out.cols(); ++j) {
    const std::uint64_t particle = first_particle + static_cast<std::uint64_t>(j);
    streams.normals(particle, tag.sub(0), g.data(), dim_);
    streams.normals(particle, tag.sub(1), noise.data(), dim_);
    const double scale = radius_ / sphere_detail::norm(g.data(), dim_);
    for (int i = 0; i < dim_; ++i) out(i, j) = level.sqrt_abar() * (scale * g(i)) + level.sigma() * noise(i);
  }
}

}  // namespace dmconv
