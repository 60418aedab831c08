// DPS (Chung et al., ICLR 2023) as a posterior sampler: posterior/dps.hpp on the experiment's
// [schedule] grid of `steps` diffusion steps. A heuristic: no law it converges to is claimed.
#pragma once
#include <string>

#include "posterior/dps.hpp"
#include "posterior/posterior_sampler.hpp"

namespace dmconv::posterior {

class DpsSampler final : public PosteriorSampler {
 public:
  explicit DpsSampler(DpsOptions options) : options_(options) { options_.validate(); }

  std::string name() const override { return "dps"; }
  std::string steps_meaning() const override { return "diffusion steps T"; }
  std::optional<double> stationary_eta() const override { return std::nullopt; }
  std::optional<std::string> unsupported_reason(const PosteriorProblem& problem) const override;
  void sample(const PosteriorProblem& problem, int steps, const TimeGrid* grid, const RandomStreams& streams,
              std::uint64_t first_particle, MatrixRef out) const override;
  bool uses_diffusion_grid() const override { return true; }
  double score_evaluations(int steps) const override { return steps; }

 private:
  DpsOptions options_;
};

}  // namespace dmconv::posterior
