#include "targets/product.hpp"

#include <sstream>

#include "core/error.hpp"

namespace dmconv {
namespace {

// A d x n particle matrix seen as the 1 x (d n) row of its coordinates (column-major storage).
Eigen::Map<const Matrix> as_row(ConstMatrixRef x) { return {x.data(), 1, x.size()}; }

// out(j) = sum_i log |a + c curvature(i, j)|: log |det(a I + c J)| for a diagonal J per particle.
Vector sum_log_abs_shifted(double a, double c, ConstMatrixRef curvature) {
  return (a + c * curvature.array()).abs().log().colwise().sum().transpose();
}

}  // namespace

ProductTarget::ProductTarget(std::unique_ptr<Target> factor, int dim) : factor_(std::move(factor)), dim_(dim) {
  require(factor_ != nullptr && factor_->dim() == 1,
          "target 'product': the factor must be a 1-D target (got dimension " +
              std::to_string(factor_ ? factor_->dim() : 0) + ")");
  require(dim >= 1 && dim < 16384, "target 'product': dim = " + std::to_string(dim) + " must lie in [1, 16383]");
}

std::string ProductTarget::describe() const {
  std::ostringstream out;
  out << "product of d=" << dim_ << " independent copies of: " << factor_->describe();
  return out.str();
}

void ProductTarget::log_density(const NoiseLevel& level, ConstMatrixRef x, VectorRef out) const {
  const Matrix coordinates = as_row(x);
  Vector per_coordinate(x.size());
  factor_->log_density(level, coordinates, per_coordinate);
  out = Eigen::Map<const Matrix>(per_coordinate.data(), x.rows(), x.cols()).colwise().sum().transpose();
}

void ProductTarget::score(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const {
  const Matrix coordinates = as_row(x);
  Matrix per_coordinate(1, x.size());
  factor_->score(level, coordinates, per_coordinate);
  out = Eigen::Map<const Matrix>(per_coordinate.data(), x.rows(), x.cols());
}

Matrix ProductTarget::coordinate_curvatures(const NoiseLevel& level, ConstMatrixRef x) const {
  const Matrix coordinates = as_row(x);
  const Matrix ones = Matrix::Ones(1, x.size());
  Matrix curvature(1, x.size());
  factor_->score_jacobian_apply(level, coordinates, ones, curvature);
  return Eigen::Map<const Matrix>(curvature.data(), x.rows(), x.cols());
}

void ProductTarget::score_jacobian(const NoiseLevel& level, ConstVectorRef x, MatrixRef out) const {
  out.setZero();
  out.diagonal() = coordinate_curvatures(level, x);
}

void ProductTarget::score_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v,
                                         MatrixRef out) const {
  const Matrix curvature = coordinate_curvatures(level, x);
  const Eigen::Index m = v.cols() / x.cols();
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    out.middleCols(j * m, m) = v.middleCols(j * m, m).array().colwise() * curvature.col(j).array();
  }
}

void ProductTarget::log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                            VectorRef out) const {
  out = sum_log_abs_shifted(a, c, coordinate_curvatures(level, x));
}

void ProductTarget::score_and_log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                                      MatrixRef score_out, VectorRef log_det_out) const {
  const Matrix coordinates = as_row(x);
  const Matrix ones = Matrix::Ones(1, x.size());
  Matrix per_coordinate(1, x.size()), curvature(1, x.size());
  factor_->score_and_jacobian_apply(level, coordinates, ones, per_coordinate, curvature);
  score_out = Eigen::Map<const Matrix>(per_coordinate.data(), x.rows(), x.cols());
  log_det_out = sum_log_abs_shifted(a, c, Eigen::Map<const Matrix>(curvature.data(), x.rows(), x.cols()));
}

std::optional<DiagonalPlusLowRank> ProductTarget::score_jacobian_structured(const NoiseLevel& level,
                                                                            ConstVectorRef x) const {
  return DiagonalPlusLowRank{coordinate_curvatures(level, x), Matrix::Zero(dim_, 0), Matrix::Zero(0, 0)};
}

std::optional<Moments> ProductTarget::moments(const NoiseLevel& level) const {
  const auto factor_moments = factor_->moments(level);
  if (!factor_moments) return std::nullopt;
  Moments out{Vector::Constant(dim_, factor_moments->mean(0)), Matrix::Zero(dim_, dim_)};
  out.covariance.diagonal().setConstant(factor_moments->covariance(0, 0));
  return out;
}

void ProductTarget::sample(const NoiseLevel& level, const RandomStreams& streams, std::uint64_t first_particle,
                           StreamTag tag, MatrixRef out) const {
  Matrix coordinate(1, out.cols());
  for (int i = 0; i < dim_; ++i) {
    factor_->sample(level, streams, first_particle, tag.sub(4 * static_cast<std::uint64_t>(i)), coordinate);
    out.row(i) = coordinate;
  }
}

}  // namespace dmconv
