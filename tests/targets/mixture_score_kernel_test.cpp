// The eight-lane mixture kernel (targets/mixture_score_kernel.hpp) against the defining
// formulas evaluated particle by particle in long double (C_k = a Sigma_k + (1 - a) I inverted
// by an LLT in long double, softmax in long double), for isotropic, diagonal, full and mixed
// components; and the lane independence that makes results block-size invariant.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/noise_level.hpp"
#include "core/rng.hpp"
#include "targets/gaussian_mixture.hpp"

namespace dmconv {
namespace {

using LMatrix = Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>;
using LVector = Eigen::Matrix<long double, Eigen::Dynamic, 1>;

struct Reference {
  LVector score;
  long double log_density;
};

Reference reference(const GaussianMixtureTarget& target, const NoiseLevel& level, const Vector& x) {
  const auto K = target.components().size();
  const Eigen::Index d = x.size();
  std::vector<long double> log_terms(K);
  std::vector<LVector> gradients(K);
  const long double a = level.abar(), b = level.one_minus_abar(), pi = 3.141592653589793238462643383279502884L;
  for (std::size_t k = 0; k < K; ++k) {
    const GaussianComponent& component = target.components()[k];
    LMatrix c = a * component.covariance().cast<long double>();
    c.diagonal().array() += b;
    const Eigen::LLT<LMatrix> llt(c);
    const LVector r = x.cast<long double>() - std::sqrt(a) * component.mean().cast<long double>();
    const LVector solved = llt.solve(r);
    const long double log_det = 2.0L * llt.matrixLLT().diagonal().array().log().sum();
    log_terms[k] = std::log(static_cast<long double>(target.weights()[k])) -
                   0.5L * (static_cast<long double>(d) * std::log(2.0L * pi) + log_det + r.dot(solved));
    gradients[k] = -solved;
  }
  long double top = log_terms[0];
  for (long double v : log_terms) top = std::max(top, v);
  long double total = 0.0L;
  for (long double v : log_terms) total += std::exp(v - top);
  Reference out{LVector::Zero(d), top + std::log(total)};
  for (std::size_t k = 0; k < K; ++k) out.score += std::exp(log_terms[k] - top) / total * gradients[k];
  return out;
}

GaussianMixtureTarget mixture(const std::string& kinds, int d) {
  std::vector<GaussianComponent> components;
  std::vector<double> weights;
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    Vector mean = Vector::Zero(d);
    mean(static_cast<Eigen::Index>(k) % d) = 2.0 + static_cast<double>(k);
    mean(0) -= 1.0;
    const std::string context = "component " + std::to_string(k);
    if (kinds[k] == 'i') components.push_back(GaussianComponent::isotropic(mean, 0.3 + 0.1 * static_cast<double>(k), context));
    if (kinds[k] == 'd') components.push_back(GaussianComponent::diagonal(mean, Vector::LinSpaced(d, 0.2, 1.5), context));
    if (kinds[k] == 'f') {
      Matrix root = Matrix::Identity(d, d);
      root.diagonal().setLinSpaced(0.4, 1.1);
      root.bottomLeftCorner(d - 1, d - 1).diagonal().setConstant(0.35);
      components.push_back(GaussianComponent::full(mean, root * root.transpose(), context));
    }
    weights.push_back(1.0 + static_cast<double>(k));
  }
  double total = 0.0;
  for (double w : weights) total += w;
  for (double& w : weights) w /= total;
  return GaussianMixtureTarget(weights, components);
}

struct KernelCase {
  std::string kinds;  // one letter per component: i(sotropic), d(iagonal), f(ull)
  int d;
};

class MixtureKernel : public ::testing::TestWithParam<KernelCase> {};

// Score error in units of eps times (1/sqrt(min C) + |s|_inf): the score's scale is added because a
// score that vanishes at a point is not accurate relative to itself. Log-density error relative
// to 1 + |log p|. Measured worst over these cases: 24 (eight opposing components, d = 16) and 1.2.
TEST_P(MixtureKernel, AgreesWithLongDoubleFormula) {
  const auto [kinds, d] = GetParam();
  const GaussianMixtureTarget target = mixture(kinds, d);
  const double eps = std::numeric_limits<double>::epsilon();
  for (const double abar : {0.999, 0.6, 0.05}) {
    const NoiseLevel level = NoiseLevel::from_abar(abar);
    const Eigen::Index n = 21;  // two full tiles and a tail of 5 lanes
    Matrix x(d, n);
    target.sample(level, RandomStreams(7, 1), 0, StreamTag(StreamPurpose::kTest, 5), x);
    Matrix score(d, n);
    Vector log_density(n);
    target.score(level, x, score);
    target.log_density(level, x, log_density);
    const double scale = 1.0 / std::sqrt(1.0 - abar + abar * 0.2 * 0.2);  // >= 1/sqrt(min C)
    double worst_score = 0.0, worst_log = 0.0;
    for (Eigen::Index j = 0; j < n; ++j) {
      const Reference ref = reference(target, level, x.col(j));
      const double score_error = static_cast<double>((score.col(j).cast<long double>() - ref.score).cwiseAbs().maxCoeff() /
                                                     (scale + ref.score.cwiseAbs().maxCoeff())) / eps;
      const double log_error = static_cast<double>(std::fabs(log_density(j) - ref.log_density) /
                                                   (1.0L + std::fabs(ref.log_density))) / eps;
      worst_score = std::max(worst_score, score_error);
      worst_log = std::max(worst_log, log_error);
    }
    EXPECT_LE(worst_score, 64.0) << kinds << " d=" << d << " abar=" << abar;
    EXPECT_LE(worst_log, 4.0) << kinds << " d=" << d << " abar=" << abar;
  }
}

// A particle's result does not depend on the other particles of its tile or on its lane.
TEST_P(MixtureKernel, LanesAreIndependent) {
  const auto [kinds, d] = GetParam();
  const GaussianMixtureTarget target = mixture(kinds, d);
  const NoiseLevel level = NoiseLevel::from_abar(0.4);
  Matrix x(d, 19);
  target.sample(level, RandomStreams(2, 3), 0, StreamTag(StreamPurpose::kTest, 6), x);
  Matrix all(d, 19);
  target.score(level, x, all);
  for (Eigen::Index first : {0, 3, 11}) {
    Matrix part(d, 19 - first);
    target.score(level, x.rightCols(19 - first), part);
    for (Eigen::Index j = first; j < 19; ++j)
      for (Eigen::Index i = 0; i < d; ++i) ASSERT_EQ(all(i, j), part(i, j - first)) << kinds << " " << j;
  }
}

INSTANTIATE_TEST_SUITE_P(Components, MixtureKernel,
                         ::testing::Values(KernelCase{"i", 1}, KernelCase{"iii", 3}, KernelCase{"ddd", 16},
                                           KernelCase{"fff", 2}, KernelCase{"fdi", 5}, KernelCase{"iiiiiiii", 16},
                                           KernelCase{"dfdf", 9}),
                         [](const auto& param_info) { return param_info.param.kinds + "_d" + std::to_string(param_info.param.d); });

}  // namespace
}  // namespace dmconv
