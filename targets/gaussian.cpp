#include "targets/gaussian.hpp"

#include <sstream>

#include "core/subgaussian.hpp"

namespace dmconv {

std::string GaussianTarget::describe() const {
  std::ostringstream out;
  out << "Gaussian N(mu, Sigma) in d=" << dim() << " with " << to_string(component_.kind()) << " covariance";
  return out.str();
}

SubgaussianNorms GaussianTarget::subgaussian_norms() const {
  return gaussian_mixture_norms({1.0}, {component_.mean()}, {component_.covariance()});
}

void GaussianTarget::log_density(const NoiseLevel& level, ConstMatrixRef x, VectorRef out) const {
  const auto factored = component_.at(level);
  Matrix gradient(x.rows(), x.cols());
  factored.gradient_and_quadratic(x, gradient, out);
  out = (factored.log_normaliser() - 0.5 * out.array()).matrix();
}

void GaussianTarget::score(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const {
  Vector quadratic(x.cols());
  component_.at(level).gradient_and_quadratic(x, out, quadratic);
}

void GaussianTarget::score_jacobian(const NoiseLevel& level, ConstVectorRef, MatrixRef out) const {
  out = -component_.at(level).precision();
}

std::optional<Moments> GaussianTarget::moments(const NoiseLevel& level) const {
  Moments out{level.sqrt_abar() * mean(), level.abar() * covariance()};
  out.covariance.diagonal().array() += level.one_minus_abar();
  return out;
}

void GaussianTarget::score_jacobian_apply(const NoiseLevel& level, ConstMatrixRef, ConstMatrixRef v,
                                          MatrixRef out) const {
  component_.at(level).precision_apply(v, out);
  out = -out;
}

std::optional<DiagonalPlusLowRank> GaussianTarget::score_jacobian_structured(const NoiseLevel& level,
                                                                             ConstVectorRef) const {
  if (component_.kind() == CovarianceKind::kFull) return std::nullopt;
  DiagonalPlusLowRank result;
  result.diagonal = -component_.at(level).precision_diagonal();
  result.factor = Matrix::Zero(dim(), 0);
  result.core = Matrix::Zero(0, 0);
  return result;
}

void GaussianTarget::sample(const NoiseLevel& level, const RandomStreams& streams,
                            std::uint64_t first_particle, StreamTag tag, MatrixRef out) const {
  const Eigen::Index d = dim();
  Matrix z(d, 1), x0(d, 1), noise(d, 1);
  for (Eigen::Index j = 0; j < out.cols(); ++j) {
    const std::uint64_t particle = first_particle + static_cast<std::uint64_t>(j);
    streams.normals(particle, tag.sub(1), z.data(), d);
    streams.normals(particle, tag.sub(2), noise.data(), d);
    component_.transform_standard_normals(z, x0);
    out.col(j) = level.sqrt_abar() * x0.col(0) + level.sigma() * noise.col(0);
  }
}

}  // namespace dmconv
