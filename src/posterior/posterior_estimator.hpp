// Distances between a posterior sampler's output law and the exact laws it should approach
// (docs/theory.md §4.7, §5.7): DPnP's stationary law pi_eta (when the sampler has one:
// PosteriorSampler::stationary_eta) and the posterior pi. Metric names carry the reference:
//
//   tv_to_pi_eta, kl_to_pi_eta (KL(output || pi_eta)), w2_to_pi_eta, and the same with _to_pi.
//
// The estimates are Estimates of core/estimator.hpp (kind, floor, standard error, status), so
// they pass the same physical-range check and become the same /runs rows as the diffusion
// estimators'. Reference laws: closed form for a Gaussian-mixture prior with a linear-Gaussian
// likelihood (posterior/exact_laws.hpp), a grid in d <= 2 otherwise (posterior/grid_posterior.hpp).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/estimator.hpp"
#include "core/registry.hpp"
#include "posterior/posterior_sampler.hpp"

namespace dmconv::posterior {

// A run's sampler output, drawn by the first estimator that needs it and reused by the others
// (the columns are pure functions of their particles' streams, so a second draw would repeat the
// first bit for bit at the full cost of the sampler).
struct PosteriorOutputCache {
  Matrix output;
  bool finite = true;
  Eigen::Index particles = -1;  // the particle count `output` was drawn for; -1: empty
};

// One run of a posterior experiment, as an estimator sees it.
struct PosteriorEstimationProblem {
  const PosteriorSampler& sampler;
  const PosteriorProblem& problem;
  int steps = 1;
  const TimeGrid* grid = nullptr;  // the [schedule] grid of `steps` steps (DPS)
  std::uint64_t seed = 0;
  std::uint64_t run = 0;  // replicate
  Eigen::Index particles = 1000;
  int threads = 0;
  PosteriorOutputCache* output_cache = nullptr;  // shared by the run's estimators; null: draw every time
};

// The references of a run: ("pi_eta", eta) when the sampler has a stationary eta > 0, and
// ("pi", 0) always.
struct Reference {
  std::string suffix;  // "_to_pi_eta" or "_to_pi"
  double eta = 0.0;
};
std::vector<Reference> references(const PosteriorSampler& sampler);

// A sample-based distance of one reference (kind biased_with_floor): `value` is used only when the
// sampler's output was finite; otherwise the estimate is NaN with status non_finite.
Estimate sample_distance(std::string metric, std::string method, bool finite, double value, double floor);

// The sampler's output for every particle, in parallel column blocks (each column from its own
// particle's streams: bitwise identical for any thread count). finite: every entry finite.
// With an output_cache, a draw for the same particle count is taken from it (and stored there).
Matrix posterior_output(const PosteriorEstimationProblem& problem, bool& finite);

class PosteriorEstimator {
 public:
  virtual ~PosteriorEstimator() = default;
  virtual std::string name() const = 0;
  // Empty when the estimator applies to this run; otherwise why not.
  virtual std::optional<std::string> unsupported_reason(const PosteriorEstimationProblem& problem) const = 0;
  // The metric names estimate() reports for this run (for the plan's claim check).
  virtual std::vector<std::string> metrics(const PosteriorEstimationProblem& problem) const = 0;
  // Precondition: unsupported_reason(problem) is empty.
  virtual std::vector<Estimate> estimate(const PosteriorEstimationProblem& problem) const = 0;
};

const Registry<PosteriorEstimator>& posterior_estimator_registry();

}  // namespace dmconv::posterior
