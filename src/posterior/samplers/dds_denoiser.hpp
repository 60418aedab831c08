// One DDS call as a sampler of its own (claim 18; docs/theory.md §4.7): on the denoising problem
// y = x + N(0, eta^2 I) (a linear_gaussian likelihood with A = I and sigma_y = eta) the posterior
// pi is exactly the law DDS must draw from, X_0 given X_0 + eta W = y, and `steps` is the number
// J of DDS levels: the output approaches pi as J grows (first order: error ~ 1/J).
//
//   dds_ddpm:  reverse VE SDE from V = y at sigma = eta to sigma = 0 (posterior/dds.hpp)
//   dds_ddim:  conditional probability-flow ODE, a from 0 to 1 (posterior/dds.hpp)
#pragma once
#include <string>

#include "posterior/posterior_sampler.hpp"

namespace dmconv::posterior {

class DdsDenoiser final : public PosteriorSampler {
 public:
  enum class Variant { kDdpm, kDdim };
  explicit DdsDenoiser(Variant variant) : variant_(variant) {}

  std::string name() const override { return variant_ == Variant::kDdpm ? "dds_ddpm" : "dds_ddim"; }
  std::string steps_meaning() const override { return "DDS levels J"; }
  std::optional<double> stationary_eta() const override { return std::nullopt; }
  std::optional<std::string> unsupported_reason(const PosteriorProblem& problem) const override;
  void sample(const PosteriorProblem& problem, int steps, const TimeGrid* grid, const RandomStreams& streams,
              std::uint64_t first_particle, MatrixRef out) const override;
  double score_evaluations(int steps) const override { return steps; }
  // With an affine (Gaussian-prior) score every level is affine: the exact output law.
  std::optional<GaussianLaw> output_law(const PosteriorProblem& problem, int steps) const override;

 private:
  Variant variant_;
};

}  // namespace dmconv::posterior
