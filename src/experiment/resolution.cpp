// Plan-time resolution checks (resolution.hpp).
#include "experiment/resolution.hpp"

#include "core/error.hpp"

namespace dmconv::experiment {

void check_resolution(const Plan& plan, const config::RunSpec& run) {
  if (run.replicate != 0) return;
  const config::ExperimentConfig& config = plan.config;
  const SweepPoint& point = plan.point(run.index);
  const EstimationProblem problem{*point.samplers.at(run.sampler), *point.grids.at(run.steps), *point.target,
                                  *point.score, run_options(config, run, 1)};
  for (std::size_t e : plan.estimators_of_run[run.index]) {
    try {
      plan.estimators[e]->check_resolution(problem);
    } catch (const InvalidArgument& error) {
      const config::ConfigError located = config::component_error(config.estimators[e].component, error);
      throw config::ConfigError(std::string(located.what()) + " (sampler '" + run.sampler + "'" +
                                (point.key.empty() ? std::string() : ", " + point.key) + ")");
    }
  }
}

}  // namespace dmconv::experiment
