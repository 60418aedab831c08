// Exact draws from pi_eta: samplers/exact_stationary.hpp.
#include "posterior/samplers/exact_stationary.hpp"

#include <cmath>

#include "core/error.hpp"
#include "posterior/exact_laws.hpp"

namespace dmconv::posterior {

ExactStationary::ExactStationary(double eta) : eta_(eta) {
  require(eta >= 0.0 && std::isfinite(eta), "exact_stationary: eta must be finite and >= 0");
}

std::optional<std::string> ExactStationary::unsupported_reason(const PosteriorProblem& problem) const {
  if (problem.prior.gaussian_mixture() == nullptr) return "pi_eta in closed form needs a Gaussian-mixture prior";
  if (!problem.likelihood.linear_gaussian()) return "pi_eta in closed form needs a linear-Gaussian likelihood";
  if (problem.prior.dim() != problem.likelihood.dim()) return "the prior and the likelihood differ in dimension";
  return std::nullopt;
}

void ExactStationary::sample(const PosteriorProblem& problem, int /*steps*/, const TimeGrid* /*grid*/,
                             const RandomStreams& streams, std::uint64_t first_particle, MatrixRef out) const {
  const GaussianMixtureLaw law =
      stationary_law(mixture_of(*problem.prior.gaussian_mixture()), *problem.likelihood.linear_gaussian(), problem.y, eta_);
  law.sample(streams, first_particle, StreamTag(StreamPurpose::kPosteriorChain, 3), out);
}

std::optional<GaussianLaw> ExactStationary::output_law(const PosteriorProblem& problem, int /*steps*/) const {
  const GaussianMixtureView* prior = problem.prior.gaussian_mixture();
  if (prior == nullptr || prior->size() != 1 || !problem.likelihood.linear_gaussian()) return std::nullopt;
  return stationary_law(mixture_of(*prior), *problem.likelihood.linear_gaussian(), problem.y, eta_).as_gaussian();
}

}  // namespace dmconv::posterior
