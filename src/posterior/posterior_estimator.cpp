// Shared parts of the posterior estimators: references, the parallel sampling loop, metric names.
#include "posterior/posterior_estimator.hpp"

#include <exception>
#include <limits>
#include <mutex>

#include "core/parallel.hpp"

namespace dmconv::posterior {

std::vector<Reference> references(const PosteriorSampler& sampler) {
  std::vector<Reference> out;
  if (const std::optional<double> eta = sampler.stationary_eta(); eta && *eta > 0.0) out.push_back({"_to_pi_eta", *eta});
  out.push_back({"_to_pi", 0.0});
  return out;
}

Estimate sample_distance(std::string metric, std::string method, bool finite, double value, double floor) {
  Estimate e;
  e.metric = std::move(metric);
  e.kind = EstimateKind::kBiasedWithFloor;
  e.method = std::move(method);
  e.value = finite ? value : std::numeric_limits<double>::quiet_NaN();
  e.floor = floor;
  if (!finite) {
    e.status = EstimateStatus::kNonFinite;
    e.message = "non-finite sampler output";
  }
  return e;
}

Matrix posterior_output(const PosteriorEstimationProblem& p, bool& finite) {
  if (p.output_cache != nullptr && p.output_cache->particles == p.particles) {
    finite = p.output_cache->finite;
    return p.output_cache->output;
  }
  constexpr Eigen::Index kBlock = 256;  // particles per work unit; results do not depend on it
  const Eigen::Index n = p.particles, d = p.problem.prior.dim();
  Matrix out(d, n);
  const RandomStreams streams(p.seed, p.run);
  const Eigen::Index blocks = (n + kBlock - 1) / kBlock;
  std::exception_ptr failure;
  std::mutex failure_mutex;
#pragma omp parallel for schedule(dynamic) num_threads(resolve_threads(p.threads))
  for (Eigen::Index b = 0; b < blocks; ++b) {
    const Eigen::Index first = b * kBlock, cols = std::min(kBlock, n - first);
    try {
      p.sampler.sample(p.problem, p.steps, p.grid, streams, static_cast<std::uint64_t>(first), out.middleCols(first, cols));
    } catch (...) {
      const std::lock_guard<std::mutex> lock(failure_mutex);
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
  finite = out.allFinite();
  if (p.output_cache != nullptr) *p.output_cache = {out, finite, n};
  return out;
}

}  // namespace dmconv::posterior
