#include "targets/uniform_box.hpp"

#include <cmath>
#include <limits>
#include <numbers>
#include <sstream>

#include "core/subgaussian.hpp"
#include "core/error.hpp"
#include "core/normal.hpp"

namespace dmconv {
namespace uniform_box_detail {
namespace {

// log(1 - e^d) for d <= 0 (Maechler's log1mexp).
double log1mexp(double d) { return d > -std::numbers::ln2 ? std::log(-std::expm1(d)) : std::log1p(-std::exp(d)); }

// Mills ratio R(z) = Q(z)/phi(z) and K(z) = 1 - z R(z) for z >= 3, by Laplace's continued
// fraction R = 1/(z + c), c = 1/(z + 2/(z + 3/(z + ...))), K = c R (no cancellation). 64
// terms, evaluated backwards: converged to < 1e-16 relative for z >= 3 (checked against
// mpmath at z = 3, 4, 6, 10, 40; at z = 2 64 terms would leave 1e-12).
struct MillsRatio {
  double ratio;
  double complement;
};
MillsRatio mills_ratio(double z) {
  double c = 0.0;
  for (int k = 64; k >= 2; --k) c = k / (z + c);
  c = 1.0 / (z + c);
  const double ratio = 1.0 / (z + c);
  return {ratio, c * ratio};
}

}  // namespace

double log_normal_tail(double z) {
  // Q(z) = 1 - erfc(-z/sqrt 2)/2 for z < 0: log1p keeps relative accuracy as Q -> 1.
  if (z < 0.0) return std::log1p(-normal_upper_tail_quotient(-z));
  if (z <= 35.0) return std::log(normal_upper_tail_quotient(z));
  // Q(z) = phi(z)/z (1 - 1/z^2 + 3/z^4 - 15/z^6 + 105/z^8 - 945/z^10 + 10395/z^12 - ...).
  const double r = 1.0 / (z * z);
  const double series = r * (-1.0 + r * (3.0 + r * (-15.0 + r * (105.0 + r * (-945.0 + r * 10395.0)))));
  return normal_log_pdf(z) - std::log(z) + std::log1p(series);
}

Coordinate evaluate(double half_width, const NoiseLevel& level, double x) {
  const double b = level.sqrt_abar() * half_width;
  const double log_2b = std::log(2.0 * b);
  const double y = std::fabs(x);
  const double sign = x < 0 ? -1.0 : 1.0;
  if (level.is_data()) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    if (y <= b) return {-log_2b, 0.0, 0.0};
    return {-std::numeric_limits<double>::infinity(), nan, nan};
  }
  const double sigma = level.sigma();
  const double m = y / sigma;
  const double h = b / sigma;
  double log_z, mean, variance_minus_one;  // moments of T' ~ N(0,1) truncated to [m - h, m + h]
  if (h <= 0.25 && m * h <= 0.25) {
    // exp(-m s - s^2/2) = sum_n (-1)^n e_n (s/h)^n, e_n = He_n(m) h^n / n!,
    // e_{n+1} = (m h e_n - h^2 e_{n-1}) / (n + 1). Moments over s in [-h, h]:
    //   M0 = 2h sum_{n even} e_n/(n+1), M1 = -2h^2 sum_{n odd} e_n/(n+2), M2 = 2h^3 sum_{n even} e_n/(n+3).
    double previous = 1.0, current = m * h;  // e_0, e_1
    double s0 = 1.0, s1 = current / 3.0, s2 = 1.0 / 3.0;
    for (int n = 1; n < 30; ++n) {
      const double next = (m * h * current - h * h * previous) / (n + 1);
      previous = current;
      current = next;
      const int k = n + 1;
      if (k % 2 == 0) {
        s0 += current / (k + 1);
        s2 += current / (k + 3);
      } else {
        s1 += current / (k + 2);
      }
    }
    log_z = normal_log_pdf(m) + std::log(2.0 * h * s0);
    const double shift = h * s1 / s0;  // -M1/M0
    mean = m - shift;
    variance_minus_one = (h * h * s2 / s0 - shift * shift) - 1.0;
  } else if (m - h >= 3.0) {
    // Both edges in the upper tail. With the Mills ratio R(z) = Q(z)/phi(z) and
    // K(z) = 1 - z R(z) from the continued fraction, E = exp(-2 m h) = phi(u_+)/phi(u_-) and
    // D = R(u_-) - E R(u_+) = Z/phi(u_-):
    //   mean = (1 - E)/D,  Var - 1 = -[(1 - E)(K(u_-) - E K(u_+)) + 2 h E (R(u_-) - R(u_+))]/D^2,
    // a sum of non-negative terms (no cancellation, unlike u_- B - B^2 with B ~ u_-).
    const double lower = m - h, upper = m + h;
    const MillsRatio r_lower = mills_ratio(lower), r_upper = mills_ratio(upper);
    const double decay = std::exp(-2.0 * m * h);
    const double one_minus_decay = -std::expm1(-2.0 * m * h);
    const double D = r_lower.ratio - decay * r_upper.ratio;
    log_z = normal_log_pdf(lower) + std::log(D);
    mean = one_minus_decay / D;
    variance_minus_one = -(one_minus_decay * (r_lower.complement - decay * r_upper.complement) +
                           2.0 * h * decay * (r_lower.ratio - r_upper.ratio)) /
                         (D * D);
  } else {
    const double lower = m - h, upper = m + h;
    const double log_q_lower = log_normal_tail(lower);
    log_z = log_q_lower + log1mexp(log_normal_tail(upper) - log_q_lower);
    const double at_lower = std::exp(normal_log_pdf(lower) - log_z);  // phi(u_-)/Z
    const double decay = std::exp(-2.0 * m * h);                // phi(u_+)/phi(u_-)
    mean = -at_lower * std::expm1(-2.0 * m * h);
    variance_minus_one = lower * at_lower - upper * at_lower * decay - mean * mean;
  }
  return {log_z - log_2b, -sign * mean / sigma, variance_minus_one / level.one_minus_abar()};
}

}  // namespace uniform_box_detail

using uniform_box_detail::evaluate;

UniformBoxTarget::UniformBoxTarget(double half_width, int dim) : half_width_(half_width), dim_(dim) {
  require(half_width > 0.0 && std::isfinite(half_width),
          "target 'uniform_box': half_width = " + std::to_string(half_width) + " must be positive and finite");
  require(dim >= 1 && dim < 16384, "target 'uniform_box': dim = " + std::to_string(dim) + " must lie in [1, 16383]");
}

std::string UniformBoxTarget::describe() const {
  std::ostringstream out;
  out << "uniform on [-" << half_width_ << ", " << half_width_ << "]^" << dim_;
  return out.str();
}

void UniformBoxTarget::log_density(const NoiseLevel& level, ConstMatrixRef x, VectorRef out) const {
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    double total = 0.0;
    for (Eigen::Index i = 0; i < x.rows(); ++i) total += evaluate(half_width_, level, x(i, j)).log_density;
    out(j) = total;
  }
}

void UniformBoxTarget::score(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const {
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    for (Eigen::Index i = 0; i < x.rows(); ++i) out(i, j) = evaluate(half_width_, level, x(i, j)).score;
}

void UniformBoxTarget::score_jacobian(const NoiseLevel& level, ConstVectorRef x, MatrixRef out) const {
  out.setZero();
  for (Eigen::Index i = 0; i < x.size(); ++i) out(i, i) = evaluate(half_width_, level, x(i)).curvature;
}

void UniformBoxTarget::score_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v,
                                            MatrixRef out) const {
  const Eigen::Index m = v.cols() / x.cols();
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
      const double curvature = evaluate(half_width_, level, x(i, j)).curvature;
      for (Eigen::Index k = j * m; k < (j + 1) * m; ++k) out(i, k) = curvature * v(i, k);
    }
  }
}

void UniformBoxTarget::log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                               VectorRef out) const {
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    double total = 0.0;
    for (Eigen::Index i = 0; i < x.rows(); ++i)
      total += std::log(std::fabs(a + c * evaluate(half_width_, level, x(i, j)).curvature));
    out(j) = total;
  }
}

std::optional<DiagonalPlusLowRank> UniformBoxTarget::score_jacobian_structured(const NoiseLevel& level,
                                                                               ConstVectorRef x) const {
  Vector diagonal(x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) diagonal(i) = evaluate(half_width_, level, x(i)).curvature;
  return DiagonalPlusLowRank{diagonal, Matrix::Zero(dim_, 0), Matrix::Zero(0, 0)};
}

SubgaussianNorms UniformBoxTarget::subgaussian_norms() const {
  SubgaussianNorms out;
  const double a = half_width_, d = static_cast<double>(dim_);
  out.norm_based = psi2_root([a, d](double k) { return d * log_mgf_square_uniform(a, k); }, 0.0);
  if (dim_ == 1) out.per_direction = psi2_uniform(a);
  return out;
}

std::optional<Moments> UniformBoxTarget::moments(const NoiseLevel& level) const {
  Moments out{Vector::Zero(dim_), Matrix::Zero(dim_, dim_)};
  out.covariance.diagonal().setConstant(level.abar() * half_width_ * half_width_ / 3.0 + level.one_minus_abar());
  return out;
}

void UniformBoxTarget::sample(const NoiseLevel& level, const RandomStreams& streams, std::uint64_t first_particle,
                              StreamTag tag, MatrixRef out) const {
  Vector noise(dim_);
  for (Eigen::Index j = 0; j < out.cols(); ++j) {
    const std::uint64_t particle = first_particle + static_cast<std::uint64_t>(j);
    streams.normals(particle, tag.sub(1), noise.data(), dim_);
    for (int i = 0; i < dim_; ++i) {
      const double u = streams.uniform(particle, tag.sub(0), static_cast<std::uint64_t>(i));
      out(i, j) = level.sqrt_abar() * (half_width_ * (2.0 * u - 1.0)) + level.sigma() * noise(i);
    }
  }
}

}  // namespace dmconv
