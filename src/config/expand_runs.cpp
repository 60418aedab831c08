// The Cartesian expansion of a config's sweep into runs, in the documented order: the [sweep]
// axes in file order (outermost first), then samplers, steps and replicates.
#include "config/experiment_config.hpp"
#include "core/error.hpp"

namespace dmconv::config {

std::vector<RunSpec> expand_runs(const ExperimentConfig& config) {
  // Counted before anything is built: a config whose product of axes is absurd (replicates =
  // 100000 x 5 samplers x 20 steps = 10^7 runs) is refused here instead of spending a minute
  // building run entries it could never execute.
  double total = static_cast<double>(config.samplers.size()) * static_cast<double>(config.steps.size()) *
                 static_cast<double>(config.replicates);
  std::string factors = std::to_string(config.samplers.size()) + " samplers x " + std::to_string(config.steps.size()) +
                        " values of T x " + std::to_string(config.replicates) + " replicates";
  for (const SweepAxis& axis : config.sweep) {
    total *= static_cast<double>(axis.values.size());
    factors += " x " + std::to_string(axis.values.size()) + " " + axis.path;
  }
  if (total > static_cast<double>(kMaxRuns))
    throw InvalidArgument(config.path + ": the sweep has " + factors + " = " + std::to_string(static_cast<long long>(total)) +
                          " runs: must be at most " + std::to_string(kMaxRuns) + " (split it into several configs)");
  std::vector<RunSpec> runs;
  std::vector<std::size_t> position(config.sweep.size(), 0);
  while (true) {
    RunSpec base;
    base.target = config.target;
    base.schedule = config.schedule;
    base.score_error = config.score_error;
    base.likelihood = config.likelihood;
    base.particles = config.particles;
    base.initialisation = config.initialisation;
    base.sampler_params = config.sampler_params;
    std::string prefix;
    for (std::size_t a = 0; a < config.sweep.size(); ++a) {
      const SweepAxis& axis = config.sweep[a];
      const ParamValue& value = axis.values[position[a]];
      base.swept.emplace_back(axis.path, value);
      prefix += axis.path + "=" + value.to_string() + ";";
      const auto dot = axis.path.find('.');
      const std::string section = axis.path.substr(0, dot), key = axis.path.substr(dot + 1);
      ComponentSpec* component = section == "target"        ? &base.target
                                 : section == "schedule"    ? &base.schedule
                                 : section == "score_error" ? &base.score_error
                                 : section == "likelihood"  ? &base.likelihood
                                                            : nullptr;
      if (component != nullptr) {
        component->params.set(key, value);
        component->key_locations[key] = axis.location;
      } else if (key.rfind("params.", 0) == 0) {
        const std::string rest = key.substr(7);
        base.sampler_params[rest.substr(0, rest.find('.'))].set(rest.substr(rest.find('.') + 1), value);
      } else if (key == "particles") {
        // Exact int64 (checked against kMaxParticles by the sweep reader), never through a double.
        base.particles = static_cast<Eigen::Index>(value.is_integer() ? value.integer()
                                                                        : static_cast<std::int64_t>(value.number()));
      } else if (key == "initialisation") {
        base.initialisation = kInitialisationNames.parse(value.string());
      }
    }
    for (const std::string& sampler : config.samplers) {
      for (int T : config.steps) {
        for (int r = 0; r < config.replicates; ++r) {
          RunSpec run = base;
          run.index = runs.size();
          run.sampler = sampler;
          run.steps = T;
          run.replicate = r;
          run.key = prefix + "sampler=" + sampler + ";T=" + std::to_string(T) + ";replicate=" + std::to_string(r);
          runs.push_back(std::move(run));
        }
      }
    }
    // Odometer over the sweep axes, last axis fastest.
    std::size_t a = config.sweep.size();
    while (a > 0) {
      --a;
      if (++position[a] < config.sweep[a].values.size()) break;
      position[a] = 0;
      if (a == 0) return runs;
    }
    if (config.sweep.empty()) return runs;
  }
}

}  // namespace dmconv::config
