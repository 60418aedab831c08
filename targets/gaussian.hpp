// Gaussian target N(mu, Sigma) (docs/theory.md §8.1, Gaussian special case).
//
//   p_t = N(sqrt(a) mu, C),   C = a Sigma + (1-a) I
//   s*(x) = -C^{-1} (x - sqrt(a) mu),    J* = -C^{-1}   (constant in x)
//
// Every sampler of docs/theory.md §4 maps Gaussians to Gaussians under this score, so errors
// on this target are available in closed form (exact law propagation).
#pragma once
#include "core/target.hpp"
#include "targets/gaussian_component.hpp"

namespace dmconv {

class GaussianTarget final : public Target, private GaussianMixtureView {
 public:
  explicit GaussianTarget(GaussianComponent component) : component_(std::move(component)) {}

  std::string name() const override { return "gaussian"; }
  std::string describe() const override;
  SubgaussianNorms subgaussian_norms() const override;
  int dim() const override { return component_.dim(); }
  bool score_is_affine() const override { return true; }

  using Target::log_density;
  using Target::sample;
  using Target::score;
  using Target::score_jacobian;
  void log_density(const NoiseLevel& level, ConstMatrixRef x, VectorRef out) const override;
  void score(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const override;
  void score_jacobian(const NoiseLevel& level, ConstVectorRef x, MatrixRef out) const override;
  std::optional<Moments> moments(const NoiseLevel& level) const override;
  void score_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v,
                            MatrixRef out) const override;
  std::optional<DiagonalPlusLowRank> score_jacobian_structured(const NoiseLevel& level,
                                                               ConstVectorRef x) const override;
  void sample(const NoiseLevel& level, const RandomStreams& streams, std::uint64_t first_particle,
              StreamTag tag, MatrixRef out) const override;

  const Vector& mean() const { return component_.mean(); }
  Matrix covariance() const { return component_.covariance(); }
  const GaussianComponent& component() const { return component_; }

  // Capability: the one-component mixture N(mu, Sigma) with weight 1.
  const GaussianMixtureView* gaussian_mixture() const override { return this; }

 private:
  int size() const override { return 1; }
  double weight(int) const override { return 1.0; }
  const Vector& mean(int) const override { return component_.mean(); }
  Matrix covariance(int) const override { return component_.covariance(); }
  GaussianComponent component_;
};

}  // namespace dmconv
