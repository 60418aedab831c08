#include "core/subgaussian.hpp"

#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <boost/math/tools/roots.hpp>
#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>

#include "core/error.hpp"

namespace dmconv {

double log_mgf_square_gaussian(double c, double s2, double k) {
  const double k2 = k * k;
  if (!(k2 > 2.0 * s2)) return std::numeric_limits<double>::infinity();
  return -0.5 * std::log1p(-2.0 * s2 / k2) + c * c / (k2 - 2.0 * s2);
}

double log_mgf_square_uniform(double half_width, double k) {
  const double a2 = half_width * half_width / (k * k);
  // int_0^1 exp(a2 t^2) dt = e^{a2} int_0^1 exp(-a2 (1 - t^2)) dt: the scaled integrand is <= 1.
  const double scaled = boost::math::quadrature::gauss_kronrod<double, 61>::integrate(
      [a2](double t) { return std::exp(-a2 * (1.0 - t) * (1.0 + t)); }, 0.0, 1.0, 15, 1e-15);
  return a2 + std::log(scaled);
}

double psi2_root(const std::function<double(double)>& log_mgf, double k_min) {
  require(k_min >= 0.0 && std::isfinite(k_min), "psi2_root: k_min must be finite and >= 0");
  const double target = std::numbers::ln2;
  auto f = [&](double k) {
    const double v = log_mgf(k);
    return std::isfinite(v) ? v - target : 1e300;
  };
  // Bracket: lo just above k_min (f > 0), hi doubled until f(hi) < 0.
  double lo = k_min > 0.0 ? k_min * (1.0 + 1e-12) : 1e-300;
  double hi = k_min > 0.0 ? 2.0 * k_min : 1.0;
  while (f(hi) > 0.0) {
    lo = hi;
    hi *= 2.0;
    require(hi < 1e300, "psi2_root: no finite psi2 (E exp(Y^2/K^2) stays above 2)");
  }
  if (f(lo) <= 0.0) lo = k_min;  // degenerate: the root sits at k_min
  std::uintmax_t iterations = 200;
  const auto [a, b] = boost::math::tools::toms748_solve(f, lo, hi, boost::math::tools::eps_tolerance<double>(50),
                                                        iterations);
  return 0.5 * (a + b);
}

double psi2_uniform(double half_width) {
  require(half_width > 0.0 && std::isfinite(half_width), "psi2_uniform: half_width must be positive and finite");
  return psi2_root([half_width](double k) { return log_mgf_square_uniform(half_width, k); }, 0.0);
}

}  // namespace dmconv

namespace dmconv {
namespace {

double log_sum_exp(const std::vector<double>& log_weights, const std::vector<double>& terms) {
  double top = -std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < terms.size(); ++k) top = std::max(top, log_weights[k] + terms[k]);
  if (!std::isfinite(top)) return top;
  double sum = 0.0;
  for (std::size_t k = 0; k < terms.size(); ++k) sum += std::exp(log_weights[k] + terms[k] - top);
  return top + std::log(sum);
}

}  // namespace

SubgaussianNorms gaussian_mixture_norms(const std::vector<double>& weights, const std::vector<Vector>& means,
                                        const std::vector<Matrix>& covariances) {
  require(!weights.empty() && weights.size() == means.size() && means.size() == covariances.size(),
          "gaussian_mixture_norms: weights, means and covariances must have the same positive length");
  const std::size_t count = weights.size();
  const Eigen::Index d = means.front().size();
  std::vector<double> log_weights(count);
  for (std::size_t k = 0; k < count; ++k) log_weights[k] = std::log(weights[k]);
  SubgaussianNorms out;

  // (i): |X|^2 under each component in its eigenbasis.
  std::vector<Vector> eigenvalues(count), rotated(count);
  double largest = 0.0;
  for (std::size_t k = 0; k < count; ++k) {
    const Eigen::SelfAdjointEigenSolver<Matrix> eig(covariances[k]);
    eigenvalues[k] = eig.eigenvalues().cwiseMax(0.0);
    rotated[k] = eig.eigenvectors().transpose() * means[k];
    largest = std::max(largest, eigenvalues[k].maxCoeff());
  }
  out.norm_based = psi2_root(
      [&](double kk) {
        std::vector<double> terms(count);
        for (std::size_t k = 0; k < count; ++k) {
          double sum = 0.0;
          for (Eigen::Index i = 0; i < d; ++i) sum += log_mgf_square_gaussian(rotated[k](i), eigenvalues[k](i), kk);
          terms[k] = sum;
        }
        return log_sum_exp(log_weights, terms);
      },
      std::sqrt(2.0 * largest));

  // (ii): the 1-D law along the supremising direction, when it is known.
  std::vector<double> centre(count), variance(count);
  bool exact = false;
  if (d == 1) {
    for (std::size_t k = 0; k < count; ++k) {
      centre[k] = means[k](0);
      variance[k] = covariances[k](0, 0);
    }
    exact = true;
  } else {
    const double v = covariances.front()(0, 0);
    bool isotropic = true;
    for (const Matrix& c : covariances) isotropic = isotropic && (c - v * Matrix::Identity(d, d)).cwiseAbs().maxCoeff() <= 1e-14 * v;
    Matrix stacked(d, static_cast<Eigen::Index>(count));
    for (std::size_t k = 0; k < count; ++k) stacked.col(static_cast<Eigen::Index>(k)) = means[k];
    const Eigen::JacobiSVD<Matrix> svd(stacked, Eigen::ComputeThinU);
    const Vector s = svd.singularValues();
    const bool collinear = s.size() < 2 || s(1) <= 1e-12 * std::max(s(0), 1e-300);
    if (isotropic && collinear) {
      const Vector direction = svd.matrixU().col(0);
      for (std::size_t k = 0; k < count; ++k) {
        centre[k] = direction.dot(means[k]);
        variance[k] = v;
      }
      exact = true;
    }
  }
  if (exact) {
    double top = 0.0;
    for (double v : variance) top = std::max(top, v);
    out.per_direction = psi2_root(
        [&](double kk) {
          std::vector<double> terms(count);
          for (std::size_t k = 0; k < count; ++k) terms[k] = log_mgf_square_gaussian(centre[k], variance[k], kk);
          return log_sum_exp(log_weights, terms);
        },
        std::sqrt(2.0 * top));
  }
  return out;
}

}  // namespace dmconv
