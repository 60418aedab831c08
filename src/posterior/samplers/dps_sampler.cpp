// DPS as a posterior sampler: samplers/dps_sampler.hpp.
#include "posterior/samplers/dps_sampler.hpp"

#include "core/error.hpp"

namespace dmconv::posterior {

std::optional<std::string> DpsSampler::unsupported_reason(const PosteriorProblem& problem) const {
  if (!problem.prior_score.has_jacobian())
    return "DPS differentiates through the posterior-mean estimate: the score model needs a Jacobian";
  if (problem.prior.dim() != problem.likelihood.dim()) return "the prior and the likelihood differ in dimension";
  return std::nullopt;
}

void DpsSampler::sample(const PosteriorProblem& problem, int steps, const TimeGrid* grid, const RandomStreams& streams,
                        std::uint64_t first_particle, MatrixRef out) const {
  require(grid != nullptr && grid->steps() == steps, "dps: needs the diffusion grid of its steps");
  dps_sample(problem.prior_score, *grid, problem.likelihood, problem.y, options_, streams, first_particle,
             StreamTag(StreamPurpose::kPosteriorChain, 5), out);
}

}  // namespace dmconv::posterior
