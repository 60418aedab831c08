#include "targets/gaussian_mixture.hpp"

#include "core/subgaussian.hpp"

#include <cmath>
#include <numeric>
#include <sstream>

#include "core/error.hpp"

namespace dmconv {

GaussianMixtureTarget::GaussianMixtureTarget(std::vector<double> weights,
                                             std::vector<GaussianComponent> components)
    : weights_(std::move(weights)), components_(std::move(components)) {
  std::ostringstream message;
  message << "gaussian_mixture: ";
  if (components_.empty()) {
    message << "at least one component is required";
    throw InvalidArgument(message.str());
  }
  if (weights_.size() != components_.size()) {
    message << weights_.size() << " weights given for " << components_.size() << " components";
    throw InvalidArgument(message.str());
  }
  double total = 0.0;
  for (std::size_t k = 0; k < weights_.size(); ++k) {
    if (!(weights_[k] > 0.0 && std::isfinite(weights_[k]))) {
      message << "weight " << k << " = " << weights_[k] << " must be positive";
      throw InvalidArgument(message.str());
    }
    if (components_[k].dim() != components_.front().dim()) {
      message << "component " << k << " has dimension " << components_[k].dim() << ", component 0 has "
              << components_.front().dim();
      throw InvalidArgument(message.str());
    }
    total += weights_[k];
  }
  if (std::fabs(total - 1.0) > 1e-12) {
    message.precision(17);
    message << "weights sum to " << total << ", not 1 (tolerance 1e-12)";
    throw InvalidArgument(message.str());
  }
  double cumulative = 0.0;
  for (double w : weights_) {
    log_weights_.push_back(std::log(w));
    cumulative += w;
    cumulative_weights_.push_back(cumulative);
  }
  cumulative_weights_.back() = 1.0;
}

std::string GaussianMixtureTarget::describe() const {
  std::ostringstream out;
  out << components_.size() << "-component Gaussian mixture in d=" << dim() << " (";
  for (std::size_t k = 0; k < components_.size(); ++k) {
    out << (k ? ", " : "") << weights_[k] << "*" << to_string(components_[k].kind());
  }
  out << ")";
  return out.str();
}

SubgaussianNorms GaussianMixtureTarget::subgaussian_norms() const {
  std::vector<Vector> means;
  std::vector<Matrix> covariances;
  for (const GaussianComponent& c : components_) {
    means.push_back(c.mean());
    covariances.push_back(c.covariance());
  }
  return gaussian_mixture_norms(weights_, means, covariances);
}

std::vector<GaussianComponent::AtLevel> GaussianMixtureTarget::evaluate(
    const NoiseLevel& level, ConstMatrixRef x, std::vector<Matrix>& gradients, Matrix& log_weighted) const {
  const Eigen::Index n = x.cols();
  const auto K = static_cast<Eigen::Index>(components_.size());
  std::vector<GaussianComponent::AtLevel> factored;
  gradients.resize(components_.size());
  log_weighted.resize(K, n);
  Vector quadratic(n);
  for (std::size_t k = 0; k < components_.size(); ++k) {
    factored.push_back(components_[k].at(level));
    gradients[k].resize(x.rows(), n);
    factored[k].gradient_and_quadratic(x, gradients[k], quadratic);
    log_weighted.row(static_cast<Eigen::Index>(k)) =
        (log_weights_[k] + factored[k].log_normaliser() - 0.5 * quadratic.array()).matrix().transpose();
  }
  return factored;
}

MixtureScoreKernel GaussianMixtureTarget::kernel(const NoiseLevel& level) const {
  std::vector<GaussianComponent::AtLevel> levels;
  levels.reserve(components_.size());
  for (const GaussianComponent& component : components_) levels.push_back(component.at(level));
  return MixtureScoreKernel(log_weights_, levels);
}

void GaussianMixtureTarget::log_density(const NoiseLevel& level, ConstMatrixRef x, VectorRef out) const {
  kernel(level).evaluate(x, nullptr, &out);
}

void GaussianMixtureTarget::responsibilities_and_score(const std::vector<Matrix>& gradients,
                                                       const Matrix& log_weighted, Matrix& responsibility,
                                                       Matrix& score) {
  // w_k = softmax_k(log_weighted), column by column.
  const Eigen::RowVectorXd top = log_weighted.colwise().maxCoeff();
  responsibility = (log_weighted.rowwise() - top).array().exp().matrix();
  const Eigen::RowVectorXd total = responsibility.colwise().sum();
  responsibility.array().rowwise() /= total.array();
  score.setZero(gradients.front().rows(), gradients.front().cols());
  for (std::size_t k = 0; k < gradients.size(); ++k) {
    score.array() += gradients[k].array().rowwise() * responsibility.row(static_cast<Eigen::Index>(k)).array();
  }
}

bool GaussianMixtureTarget::has_full_component() const {
  for (const GaussianComponent& component : components_)
    if (component.kind() == CovarianceKind::kFull) return true;
  return false;
}

void GaussianMixtureTarget::score(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const {
  kernel(level).evaluate(x, &out, nullptr);
}

void GaussianMixtureTarget::score_jacobian(const NoiseLevel& level, ConstVectorRef x, MatrixRef out) const {
  std::vector<Matrix> gradients;
  Matrix log_weighted;
  const auto factored = evaluate(level, x, gradients, log_weighted);
  const double top = log_weighted.maxCoeff();
  Vector w = (log_weighted.col(0).array() - top).exp().matrix();
  w /= w.sum();
  Vector s = Vector::Zero(x.size());
  out.setZero();
  for (std::size_t k = 0; k < gradients.size(); ++k) {
    const double wk = w(static_cast<Eigen::Index>(k));
    const Vector& g = gradients[k].col(0);
    s += wk * g;
    out.noalias() += wk * (g * g.transpose() - factored[k].precision());
  }
  out.noalias() -= s * s.transpose();
}

// m = sqrt(a) sum pi_k mu_k,  Cov = a ( sum pi_k (Sigma_k + mu_k mu_k^T) - mu mu^T ) + (1-a) I.
std::optional<Moments> GaussianMixtureTarget::moments(const NoiseLevel& level) const {
  const Eigen::Index d = dim();
  Vector data_mean = Vector::Zero(d);
  Matrix second = Matrix::Zero(d, d);
  for (std::size_t k = 0; k < components_.size(); ++k) {
    data_mean += weights_[k] * components_[k].mean();
    second += weights_[k] * (components_[k].covariance() + components_[k].mean() * components_[k].mean().transpose());
  }
  Moments out{level.sqrt_abar() * data_mean, level.abar() * (second - data_mean * data_mean.transpose())};
  out.covariance.diagonal().array() += level.one_minus_abar();
  return out;
}

// J v = sum_k w_k ( -C_k^{-1} v + g_k (g_k . v) ) - s (s . v), eight particles per SIMD pass
// (targets/mixture_score_kernel.hpp), each particle's m directions in turn.
void GaussianMixtureTarget::score_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v,
                                                 MatrixRef out) const {
  kernel(level).jacobian_apply(x, v, out);
}

void GaussianMixtureTarget::score_and_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v,
                                                     MatrixRef score_out, MatrixRef jacobian_out) const {
  kernel(level).jacobian_apply(x, v, jacobian_out, &score_out);
}

// Below this dimension a d x d LU on the kernel's Jacobians beats the K x K lemma with its
// per-particle factors (measured: a 1-D DDIM flow at K = 2, T = 256 runs 5x faster).
constexpr int kDenseLogDetMaxDim = 4;

bool GaussianMixtureTarget::dense_log_det() const { return has_full_component() || dim() <= kDenseLogDetMaxDim; }

// log |det(a I + c J)| with J = -sum_k w_k P_k + G (diag(w) - w w^T) G^T and P_k diagonal:
// matrix determinant lemma per particle, O(K^2 d + K^3). Full covariances and d <= 4: dense.
void GaussianMixtureTarget::log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                                    VectorRef out) const {
  if (dense_log_det()) {
    dense_log_abs_det_linear_step(level, x, a, c, out, nullptr);
    return;
  }
  std::vector<Matrix> gradients;
  Matrix log_weighted, responsibility, s;
  const auto factored = evaluate(level, x, gradients, log_weighted);
  responsibilities_and_score(gradients, log_weighted, responsibility, s);
  const auto K = static_cast<Eigen::Index>(components_.size());
  const Eigen::Index d = x.rows();
  Matrix precision_diagonals(d, K);
  for (Eigen::Index k = 0; k < K; ++k) precision_diagonals.col(k) = factored[static_cast<std::size_t>(k)].precision_diagonal();
  // Diagonal parts -sum_k w_kj p_k for all particles at once (d x n).
  const Matrix diagonals = -(precision_diagonals * responsibility);
  DiagonalPlusLowRank jacobian{Vector(d), Matrix(d, K), Matrix(K, K)};
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    jacobian.diagonal = diagonals.col(j);
    for (Eigen::Index k = 0; k < K; ++k) jacobian.factor.col(k) = gradients[static_cast<std::size_t>(k)].col(j);
    const Vector w = responsibility.col(j);
    jacobian.core = Matrix(w.asDiagonal()) - w * w.transpose();
    out(j) = jacobian.log_abs_det_shifted(a, c);
  }
}

void GaussianMixtureTarget::score_and_log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a,
                                                              double c, MatrixRef score_out,
                                                              VectorRef log_det_out) const {
  if (dense_log_det()) {
    dense_log_abs_det_linear_step(level, x, a, c, log_det_out, &score_out);
  } else {
    Target::score_and_log_abs_det_linear_step(level, x, a, c, score_out, log_det_out);
  }
}

std::optional<DiagonalPlusLowRank> GaussianMixtureTarget::score_jacobian_structured(
    const NoiseLevel& level, ConstVectorRef x) const {
  for (const GaussianComponent& component : components_)
    if (component.kind() == CovarianceKind::kFull) return std::nullopt;
  std::vector<Matrix> gradients;
  Matrix log_weighted;
  const auto factored = evaluate(level, x, gradients, log_weighted);
  const auto K = static_cast<Eigen::Index>(components_.size());
  const double top = log_weighted.maxCoeff();
  Vector w = (log_weighted.col(0).array() - top).exp().matrix();
  w /= w.sum();
  DiagonalPlusLowRank result;
  result.diagonal = Vector::Zero(x.size());
  result.factor.resize(x.size(), K);
  for (Eigen::Index k = 0; k < K; ++k) {
    result.diagonal -= w(k) * factored[static_cast<std::size_t>(k)].precision_diagonal();
    result.factor.col(k) = gradients[static_cast<std::size_t>(k)].col(0);
  }
  result.core = Matrix(w.asDiagonal()) - w * w.transpose();
  return result;
}

void GaussianMixtureTarget::sample(const NoiseLevel& level, const RandomStreams& streams,
                                   std::uint64_t first_particle, StreamTag tag, MatrixRef out) const {
  const Eigen::Index n = out.cols();
  const Eigen::Index d = dim();
  Matrix z(d, 1), x0(d, 1), noise(d, 1);
  for (Eigen::Index j = 0; j < n; ++j) {
    const std::uint64_t particle = first_particle + static_cast<std::uint64_t>(j);
    const double u = streams.uniform(particle, tag.sub(0), 0);
    std::size_t k = 0;
    while (k + 1 < cumulative_weights_.size() && u > cumulative_weights_[k]) ++k;
    streams.normals(particle, tag.sub(1), z.data(), d);
    streams.normals(particle, tag.sub(2), noise.data(), d);
    components_[k].transform_standard_normals(z, x0);
    out.col(j) = level.sqrt_abar() * x0.col(0) + level.sigma() * noise.col(0);
  }
}

}  // namespace dmconv
