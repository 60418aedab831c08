#include "estimators/optimal_transport.hpp"

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "estimators/sample_based.hpp"

namespace dmconv::estimators {

OptimalTransportW2Estimator::OptimalTransportW2Estimator(int max_particles) : max_particles_(max_particles) {
  require(max_particles >= 2, "ot_w2: max_particles = " + std::to_string(max_particles) + " must be >= 2");
}

std::optional<std::string> OptimalTransportW2Estimator::unsupported_reason(const EstimationProblem& problem) const {
  if (problem.score.dim() != problem.target.dim())
    return "ot_w2: score model dimension " + std::to_string(problem.score.dim()) + " != target dimension " +
           std::to_string(problem.target.dim());
  if (problem.target.dim() >= 2 && problem.run.particles > max_particles_)
    return "ot_w2: particles = " + std::to_string(problem.run.particles) + " exceeds max_particles = " +
           std::to_string(max_particles_) + " (the assignment has n^2 arcs; raise max_particles knowingly or use "
           "sliced_w2)";
  return std::nullopt;
}

std::vector<Estimate> OptimalTransportW2Estimator::estimate(const EstimationProblem& problem) const {
  if (const auto reason = unsupported_reason(problem)) throw InvalidArgument(*reason);
  problem.run.validate(problem.grid);
  bool finite = true;
  const Matrix output = sampler_output(problem, finite);
  const Matrix reference = exact_samples(problem, 2);
  Estimate e;
  e.metric = "w2";
  e.kind = EstimateKind::kBiasedWithFloor;
  e.method = "ot_w2(n=" + std::to_string(problem.run.particles) + ", network simplex)";
  e.value = finite ? std::sqrt(exact_w2_squared(output, reference).mean_squared_cost)
                   : std::numeric_limits<double>::quiet_NaN();
  e.floor = std::sqrt(exact_w2_squared(oracle_samples(problem), reference).mean_squared_cost);
  if (!finite) set_non_finite_output(e);
  return {e};
}

}  // namespace dmconv::estimators
