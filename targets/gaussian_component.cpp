#include "targets/gaussian_component.hpp"

#include <cmath>
#include <numbers>
#include <sstream>

#include "core/error.hpp"

namespace dmconv {
namespace {

const double kLog2Pi = std::log(2.0 * std::numbers::pi);

}  // namespace

std::string to_string(CovarianceKind kind) {
  switch (kind) {
    case CovarianceKind::kFull:
      return "full";
    case CovarianceKind::kDiagonal:
      return "diagonal";
    case CovarianceKind::kIsotropic:
      return "isotropic";
  }
  return "unknown";
}

GaussianComponent::GaussianComponent(CovarianceKind kind, Vector mean, Matrix covariance, Vector variances)
    : kind_(kind), mean_(std::move(mean)), covariance_(std::move(covariance)), variances_(std::move(variances)) {}

GaussianComponent GaussianComponent::full(Vector mean, Matrix covariance, const std::string& context) {
  std::ostringstream message;
  message << context << ": ";
  if (mean.size() < 1) {
    message << "mean must have at least one coordinate";
    throw InvalidArgument(message.str());
  }
  if (!mean.allFinite()) {
    message << "mean has a non-finite entry";
    throw InvalidArgument(message.str());
  }
  if (covariance.rows() != mean.size() || covariance.cols() != mean.size()) {
    message << "covariance is " << covariance.rows() << "x" << covariance.cols() << " but the mean has "
            << mean.size() << " coordinates";
    throw InvalidArgument(message.str());
  }
  if (!covariance.allFinite()) {
    message << "covariance has a non-finite entry";
    throw InvalidArgument(message.str());
  }
  const double asymmetry = (covariance - covariance.transpose()).cwiseAbs().maxCoeff();
  if (asymmetry > 1e-12 * covariance.cwiseAbs().maxCoeff()) {
    message << "covariance is not symmetric (max |S - S^T| = " << asymmetry << ")";
    throw InvalidArgument(message.str());
  }
  Eigen::LLT<Matrix> cholesky(covariance);
  if (cholesky.info() != Eigen::Success || !(cholesky.matrixLLT().diagonal().minCoeff() > 0.0)) {
    message << "covariance is not positive definite (Cholesky factorisation failed)";
    throw InvalidArgument(message.str());
  }
  GaussianComponent component(CovarianceKind::kFull, std::move(mean), std::move(covariance), Vector());
  component.covariance_factor_ = cholesky.matrixL();
  return component;
}

GaussianComponent GaussianComponent::diagonal(Vector mean, Vector variances, const std::string& context) {
  std::ostringstream message;
  message << context << ": ";
  if (mean.size() < 1 || variances.size() != mean.size()) {
    message << "variances have " << variances.size() << " entries but the mean has " << mean.size();
    throw InvalidArgument(message.str());
  }
  if (!mean.allFinite()) {
    message << "mean has a non-finite entry";
    throw InvalidArgument(message.str());
  }
  for (Eigen::Index i = 0; i < variances.size(); ++i) {
    if (!(variances(i) > 0.0 && std::isfinite(variances(i)))) {
      message << "variance " << i << " = " << variances(i) << " must be positive and finite";
      throw InvalidArgument(message.str());
    }
  }
  return GaussianComponent(CovarianceKind::kDiagonal, std::move(mean), Matrix(), std::move(variances));
}

GaussianComponent GaussianComponent::isotropic(Vector mean, double variance, const std::string& context) {
  if (!(variance > 0.0 && std::isfinite(variance))) {
    std::ostringstream message;
    message << context << ": variance = " << variance << " must be positive and finite";
    throw InvalidArgument(message.str());
  }
  const Eigen::Index d = mean.size();
  GaussianComponent component = diagonal(std::move(mean), Vector::Constant(d, variance), context);
  component.kind_ = CovarianceKind::kIsotropic;
  return component;
}

Matrix GaussianComponent::covariance() const {
  if (kind_ == CovarianceKind::kFull) return covariance_;
  return variances_.asDiagonal();
}

GaussianComponent::AtLevel GaussianComponent::at(const NoiseLevel& level) const {
  const double a = level.abar();
  const double b = level.one_minus_abar();
  const Eigen::Index d = mean_.size();
  AtLevel out;
  out.kind_ = kind_;
  out.mean_ = level.sqrt_abar() * mean_;
  double log_det = 0.0;
  if (kind_ == CovarianceKind::kFull) {
    Matrix c = a * covariance_;
    c.diagonal().array() += b;
    out.cholesky_.emplace(c);
    log_det = 2.0 * out.cholesky_->matrixLLT().diagonal().array().log().sum();
  } else {
    out.diagonal_ = (a * variances_.array() + b).matrix();
    log_det = out.diagonal_.array().log().sum();
  }
  out.log_normaliser_ = -0.5 * (static_cast<double>(d) * kLog2Pi + log_det);
  return out;
}

void GaussianComponent::AtLevel::gradient_and_quadratic(ConstMatrixRef x, MatrixRef gradient,
                                                        VectorRef quadratic) const {
  gradient = x.colwise() - mean_;  // r = x - m
  if (kind_ == CovarianceKind::kFull) {
    const auto lower = cholesky_->matrixL();
    lower.solveInPlace(gradient);  // z = L^{-1} r
    quadratic = gradient.colwise().squaredNorm().transpose();
    lower.transpose().solveInPlace(gradient);  // C^{-1} r = L^{-T} z
    gradient = -gradient;
  } else {
    const Vector inverse = diagonal_.cwiseInverse();
    quadratic = (gradient.array().square().colwise() * inverse.array()).colwise().sum().transpose();
    gradient = -(gradient.array().colwise() * inverse.array()).matrix();
  }
}

void GaussianComponent::AtLevel::precision_apply(ConstMatrixRef v, MatrixRef out) const {
  if (kind_ == CovarianceKind::kFull) {
    out = v;
    cholesky_->matrixL().solveInPlace(out);
    cholesky_->matrixU().solveInPlace(out);
  } else {
    out = v.array().colwise() / diagonal_.array();
  }
}

Matrix GaussianComponent::AtLevel::precision() const {
  if (kind_ == CovarianceKind::kFull) {
    return cholesky_->solve(Matrix::Identity(mean_.size(), mean_.size()));
  }
  return diagonal_.cwiseInverse().asDiagonal();
}

Vector GaussianComponent::AtLevel::precision_diagonal() const {
  if (kind_ == CovarianceKind::kFull) return precision().diagonal();
  return diagonal_.cwiseInverse();
}

void GaussianComponent::transform_standard_normals(ConstMatrixRef z, MatrixRef x0) const {
  if (kind_ == CovarianceKind::kFull) {
    x0.noalias() = covariance_factor_.triangularView<Eigen::Lower>() * z;
  } else {
    x0 = z.array().colwise() * variances_.array().sqrt();
  }
  x0.colwise() += mean_;
}

}  // namespace dmconv
