// Exact draws from DPnP's stationary law pi_eta (docs/theory.md §4.7, §5.7) for a Gaussian-mixture
// prior and a linear-Gaussian likelihood: pi_eta is the posterior with the noise covariance
// sigma_y^2 I + eta^2 A A^T (posterior/exact_laws.hpp stationary_law). Claim 17 measures its
// distance to the posterior pi against eta; `steps` plays no role (the law is reached exactly).
#pragma once
#include <string>

#include "posterior/posterior_sampler.hpp"

namespace dmconv::posterior {

class ExactStationary final : public PosteriorSampler {
 public:
  explicit ExactStationary(double eta);

  std::string name() const override { return "exact_stationary"; }
  std::string steps_meaning() const override { return "none (exact draws)"; }
  std::optional<double> stationary_eta() const override { return eta_; }
  std::optional<std::string> unsupported_reason(const PosteriorProblem& problem) const override;
  void sample(const PosteriorProblem& problem, int steps, const TimeGrid* grid, const RandomStreams& streams,
              std::uint64_t first_particle, MatrixRef out) const override;
  double score_evaluations(int /*steps*/) const override { return 0.0; }
  std::optional<GaussianLaw> output_law(const PosteriorProblem& problem, int steps) const override;

 private:
  double eta_;
};

}  // namespace dmconv::posterior
