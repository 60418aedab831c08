// The linear-Gaussian likelihood (docs/theory.md §4.7; Xu & Chi, arXiv 2403.17042, §2):
//
//   L(x; y) = ||y - A x||^2 / (2 sigma_y^2) + (m/2) log(2 pi sigma_y^2)
//   smoothed: log N(y; A x, S),  S = sigma_y^2 I + eta^2 A A^T, factored once per call (LLT)
//
// Every column is copied into a freshly allocated (hence equally aligned) vector before the
// products: Eigen's vectorised kernels peel unaligned heads in scalar code, which rounds
// differently from the packet (FMA) body, so a column's result would otherwise depend on where it
// sits in the batch.
#include "posterior/likelihoods/linear_gaussian.hpp"

#include <cmath>
#include <numbers>
#include <sstream>
#include <utility>

#include "core/error.hpp"
#include "core/params.hpp"

namespace dmconv::posterior {

Matrix gaussian_sensing_matrix(int rows, int cols, double entry_sd, std::uint64_t seed) {
  require(rows >= 1 && cols >= 1, "gaussian_sensing_matrix: the shape " + std::to_string(rows) + " x " +
                                      std::to_string(cols) + " must have at least one row and one column");
  const RandomStreams streams(seed, 0);
  const StreamTag tag(StreamPurpose::kLikelihoodConstruction, 0);
  Matrix A(rows, cols);
  Vector row(cols);
  for (int i = 0; i < rows; ++i) {
    streams.normals(static_cast<std::uint64_t>(i), tag, row.data(), cols);
    A.row(i) = entry_sd * row.transpose();
  }
  return A;
}

void check_real_observation(const std::string& model, int observations, const Vector& y) {
  require(y.size() == observations, model + ": the observation y has " + std::to_string(y.size()) +
                                        " entries; it must have m = " + std::to_string(observations) +
                                        " (one per observation)");
  for (Eigen::Index i = 0; i < y.size(); ++i)
    require(std::isfinite(y(i)), model + ": observation y(" + std::to_string(i) + ") = " + shortest(y(i)) +
                                     " must be finite");
}

LinearGaussianLikelihood::LinearGaussianLikelihood(Matrix A, double sigma_y, std::string matrix_description)
    : A_(std::move(A)), sigma_y_(sigma_y), matrix_description_(std::move(matrix_description)) {
  require(A_.rows() >= 1 && A_.cols() >= 1, "linear_gaussian: the matrix A must have at least one row and column");
  require(A_.allFinite(), "linear_gaussian: the matrix A must have finite entries");
  require(std::isfinite(sigma_y_) && sigma_y_ > 0.0,
          "linear_gaussian: sigma_y = " + shortest(sigma_y_) + " must be finite and > 0");
}

std::string LinearGaussianLikelihood::describe() const {
  std::ostringstream text;
  text << "y = A x + N(0, sigma_y^2 I), d = " << dim() << ", m = " << observations() << ", A " << matrix_description_
       << ", sigma_y = " << shortest(sigma_y_);
  return text.str();
}

Vector LinearGaussianLikelihood::simulate(const Vector& x_star, const RandomStreams& streams, StreamTag tag) const {
  require(x_star.size() == dim(), "linear_gaussian: x_star has " + std::to_string(x_star.size()) +
                                      " entries; it must have d = " + std::to_string(dim()));
  Vector noise(observations());
  streams.normals(0, tag.sub(0), noise.data(), noise.size());
  return A_ * x_star + sigma_y_ * noise;
}

void LinearGaussianLikelihood::check_observation(const Vector& y) const {
  check_real_observation("linear_gaussian", observations(), y);
}

void LinearGaussianLikelihood::negative_log_likelihood(const Vector& y, ConstMatrixRef x, VectorRef out) const {
  const double variance = sigma_y_ * sigma_y_;
  const double normalisation = 0.5 * static_cast<double>(observations()) * std::log(2.0 * std::numbers::pi * variance);
  // Scratch sized once per call: no allocation per column.
  Vector point(dim()), projection(observations()), residual(observations());
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    point = x.col(j);
    projection.noalias() = A_ * point;
    residual = y - projection;
    out(j) = residual.squaredNorm() / (2.0 * variance) + normalisation;
  }
}

void LinearGaussianLikelihood::gradient(const Vector& y, ConstMatrixRef x, MatrixRef out) const {
  const double variance = sigma_y_ * sigma_y_;
  Vector point(dim()), projection(observations()), residual(observations()), back(dim());
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    point = x.col(j);
    projection.noalias() = A_ * point;
    residual = y - projection;
    back.noalias() = A_.transpose() * residual;
    out.col(j) = -back / variance;
  }
}

bool LinearGaussianLikelihood::smoothed_log_likelihood(const Vector& y, double eta, ConstMatrixRef x,
                                                       VectorRef out) const {
  require(std::isfinite(eta) && eta >= 0.0,
          "linear_gaussian: smoothing level eta = " + shortest(eta) + " must be finite and >= 0");
  const Eigen::Index m = A_.rows();
  Matrix covariance = (eta * eta) * (A_ * A_.transpose());
  covariance.diagonal().array() += sigma_y_ * sigma_y_;
  covariance = 0.5 * (covariance + covariance.transpose()).eval();
  const Eigen::LLT<Matrix> llt(covariance);
  require(llt.info() == Eigen::Success,
          "linear_gaussian: sigma_y^2 I + eta^2 A A^T is not positive definite to double precision (eta = " +
              shortest(eta) + ")");
  const double log_det = 2.0 * llt.matrixLLT().diagonal().array().log().sum();
  const double constant = -0.5 * (static_cast<double>(m) * std::log(2.0 * std::numbers::pi) + log_det);
  Vector point(dim()), projection(m), whitened(m);
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    point = x.col(j);
    projection.noalias() = A_ * point;
    whitened = y - projection;
    llt.matrixL().solveInPlace(whitened);
    out(j) = constant - 0.5 * whitened.squaredNorm();
  }
  return true;
}

}  // namespace dmconv::posterior
