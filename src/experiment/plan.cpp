#include "experiment/plan.hpp"
#include "experiment/resolution.hpp"

#include <algorithm>
#include <set>

#include "experiment/estimator_metrics.hpp"
#include "posterior/likelihood.hpp"
#include "samplers/registry.hpp"
#include "score_errors/score_error.hpp"
#include "targets/registry.hpp"

namespace dmconv::experiment {
namespace {

using config::ComponentSpec;
using config::ConfigError;
using config::ExperimentConfig;
using config::RunSpec;

std::string point_key(const RunSpec& run) {
  std::string key;
  for (const auto& [path, value] : run.swept) key += path + "=" + value.to_string() + ";";
  return key;
}

// The run's key without the sweep axes that cannot change its rows: other samplers' parameters.
std::string inputs_key(const RunSpec& run) {
  std::string key;
  for (const auto& [path, value] : run.swept) {
    const std::string own = "sampling.params." + run.sampler + ".";
    if (path.rfind("sampling.params.", 0) == 0 && path.rfind(own, 0) != 0) continue;
    key += path + "=" + value.to_string() + ";";
  }
  return key + "sampler=" + run.sampler + ";T=" + std::to_string(run.steps) + ";replicate=" + std::to_string(run.replicate);
}

std::shared_ptr<const TimeGrid> build_grid(const ExperimentConfig& config, const Schedule& schedule,
                                           const RunSpec& run, int steps) {
  try {
    return std::make_shared<const TimeGrid>(schedule.grid(steps));
  } catch (const InvalidArgument& error) {
    const auto found = config.sampling_locations.find("steps");
    const config::SourceLocation where =
        found != config.sampling_locations.end() ? found->second : config.schedule.location;
    throw ConfigError(where.str() + ": [sampling] steps = " + std::to_string(steps) + " with schedule '" +
                      run.schedule.kind + "': " + error.what());
  }
}

std::shared_ptr<const ScoreModel> build_score(const ComponentSpec& spec, const Target& target, std::uint64_t seed) {
  try {
    return score_errors::make_score_model(spec.kind, spec.params, target, seed);
  } catch (const InvalidArgument& error) {
    throw config::component_error(spec, error);
  }
}

// A sampler with its [sampling.params.NAME] table at this point (already validated per value by
// the config stage; a combination of swept values can still break a rule between keys).
std::shared_ptr<const Sampler> build_sampler(const ExperimentConfig& config, const RunSpec& run,
                                             const std::string& name) {
  ComponentSpec spec;
  spec.section = "sampling.params." + name;
  spec.kind = name;
  const auto at = config.sampling_locations.find("params");
  spec.location = at != config.sampling_locations.end() ? at->second : config::SourceLocation{config.path, 0};
  if (const auto found = run.sampler_params.find(name); found != run.sampler_params.end()) spec.params = found->second;
  return config::make_component(sampler_registry(), spec);
}

std::shared_ptr<const posterior::PosteriorSampler> build_posterior_sampler(const ExperimentConfig& config,
                                                                           const RunSpec& run, const std::string& name) {
  ComponentSpec spec;
  spec.section = "sampling.params." + name;
  spec.kind = name;
  const auto at = config.sampling_locations.find("params");
  spec.location = at != config.sampling_locations.end() ? at->second : config::SourceLocation{config.path, 0};
  if (const auto found = run.sampler_params.find(name); found != run.sampler_params.end()) spec.params = found->second;
  return config::make_component(posterior::posterior_sampler_registry(), spec);
}

// The observation: [likelihood] y as given (checked against the model), or simulated from a
// ground truth x* ~ prior, both from the experiment seed (StreamPurpose::kPosteriorTruth), so
// every run of the sweep point sees the same y.
std::shared_ptr<const Vector> build_observation(const ExperimentConfig& config, const RunSpec& run,
                                                const Target& prior, const Likelihood& likelihood) {
  if (!config.observation.empty()) {
    const Vector y = Eigen::Map<const Vector>(config.observation.data(), static_cast<Eigen::Index>(config.observation.size()));
    try {
      likelihood.check_observation(y);
    } catch (const InvalidArgument& error) {
      throw ConfigError(run.likelihood.key_location("y").str() + ": [likelihood] y: " + error.what());
    }
    return std::make_shared<const Vector>(y);
  }
  const RandomStreams streams(config.seed, 0);
  const Matrix truth = prior.sample(NoiseLevel::data(), streams, 0, 1, StreamTag(StreamPurpose::kPosteriorTruth, 0));
  return std::make_shared<const Vector>(likelihood.simulate(truth.col(0), streams, StreamTag(StreamPurpose::kPosteriorTruth, 1)));
}

// Every component of the sweep point of `run` (its first run), in the order the runs need them.
SweepPoint build_point(const ExperimentConfig& config, const RunSpec& run) {
  SweepPoint point;
  point.key = point_key(run);
  point.target = config::make_component(target_registry(), run.target);
  point.schedule = config::make_component(schedule_registry(), run.schedule);
  if (run.particles < 1) throw ConfigError(config.path + ": particles must be at least 1");
  point.score = build_score(run.score_error, *point.target, config.seed);
  if (config.posterior()) {
    point.likelihood = config::make_component(likelihood_registry(), run.likelihood);
    point.observation = build_observation(config, run, *point.target, *point.likelihood);
    bool grids_needed = false;
    for (const std::string& name : config.samplers) {
      point.posterior_samplers[name] = build_posterior_sampler(config, run, name);
      grids_needed = grids_needed || point.posterior_samplers[name]->uses_diffusion_grid();
    }
    // Diffusion grids only when a sampler walks one (DPS): the others count outer iterations or
    // DDS levels, which no schedule constrains.
    if (grids_needed)
      for (int steps : config.steps) point.grids[steps] = build_grid(config, *point.schedule, run, steps);
    return point;
  }
  for (int steps : config.steps) point.grids[steps] = build_grid(config, *point.schedule, run, steps);
  for (const std::string& name : config.samplers) point.samplers[name] = build_sampler(config, run, name);
  return point;
}

// The estimators that serve `run`'s sampler at its sweep point: the listed ones must support it,
// and at least one must.
std::vector<std::size_t> choose_estimators(const Plan& plan, const RunSpec& run, const SweepPoint& point) {
  const ExperimentConfig& config = plan.config;
  const EstimationProblem problem{*point.samplers.at(run.sampler), *point.grids.at(run.steps), *point.target,
                                  *point.score, run_options(config, run, 1)};
  std::vector<std::size_t> chosen;
  std::string reasons;
  for (std::size_t e = 0; e < config.estimators.size(); ++e) {
    const config::EstimatorSpec& spec = config.estimators[e];
    const bool listed = std::find(spec.samplers.begin(), spec.samplers.end(), run.sampler) != spec.samplers.end();
    if (!spec.samplers.empty() && !listed) continue;
    const auto reason = plan.estimators[e]->unsupported_reason(problem);
    if (!reason) {
      chosen.push_back(e);
      continue;
    }
    reasons += "; " + spec.component.kind + ": " + *reason;
    if (listed)
      throw ConfigError(spec.component.location.str() + ": [" + spec.component.section + "] samplers lists '" +
                        run.sampler + "', but estimator '" + spec.component.kind + "' does not support it on " +
                        point.target->describe() + ": " + *reason);
  }
  if (chosen.empty())
    throw ConfigError(config.path + ": no [[estimator]] supports sampler '" + run.sampler + "' on " +
                      point.target->describe() + (point.key.empty() ? "" : " (" + point.key + ")") + reasons);
  return chosen;
}

// The posterior estimators that serve `run`; the sampler itself must apply to the problem.
std::vector<std::size_t> choose_posterior_estimators(const Plan& plan, const RunSpec& run, const SweepPoint& point) {
  const ExperimentConfig& config = plan.config;
  const posterior::PosteriorProblem problem = point.posterior_problem();
  const posterior::PosteriorSampler& sampler = *point.posterior_samplers.at(run.sampler);
  if (const auto reason = sampler.unsupported_reason(problem)) {
    const auto at = config.sampling_locations.find("samplers");
    throw ConfigError((at != config.sampling_locations.end() ? at->second.str() : config.path) +
                      ": [sampling] samplers: posterior sampler '" + run.sampler + "' does not apply to " +
                      point.target->describe() + " with " + point.likelihood->describe() + ": " + *reason);
  }
  const posterior::PosteriorEstimationProblem estimation = posterior_estimation_problem(plan, run.index, problem, 1);
  std::vector<std::size_t> chosen;
  std::string reasons;
  for (std::size_t e = 0; e < config.estimators.size(); ++e) {
    const config::EstimatorSpec& spec = config.estimators[e];
    const bool listed = std::find(spec.samplers.begin(), spec.samplers.end(), run.sampler) != spec.samplers.end();
    if (!spec.samplers.empty() && !listed) continue;
    const auto reason = plan.posterior_estimators[e]->unsupported_reason(estimation);
    if (!reason) {
      chosen.push_back(e);
      continue;
    }
    reasons += "; " + spec.component.kind + ": " + *reason;
    if (listed)
      throw ConfigError(spec.component.location.str() + ": [" + spec.component.section + "] samplers lists '" +
                        run.sampler + "', but posterior estimator '" + spec.component.kind + "' does not support it: " +
                        *reason);
  }
  if (chosen.empty())
    throw ConfigError(config.path + ": no [[estimator]] supports posterior sampler '" + run.sampler + "' on " +
                      point.target->describe() + (point.key.empty() ? "" : " (" + point.key + ")") + reasons);
  return chosen;
}

// The metrics estimator e reports on run r, or nullopt when not known.
std::optional<std::set<std::string>> metrics_of(const Plan& plan, std::size_t r, std::size_t e) {
  const config::EstimatorSpec& spec = plan.config.estimators[e];
  if (!plan.config.posterior())
    return reported_metrics(spec.component.kind, static_cast<int>(plan.point(r).target->dim()));
  const posterior::PosteriorProblem problem = plan.point(r).posterior_problem();
  const std::vector<std::string> metrics =
      plan.posterior_estimators[e]->metrics(posterior_estimation_problem(plan, r, problem, 1));
  return std::set<std::string>(metrics.begin(), metrics.end());
}

// Every claim must be fed before any work: some run of its sampler (and of its versus sampler)
// has a chosen estimator -- of the claim's estimator kind when it names one -- that reports the
// claim's metric and does not filter it out with its `metrics` list. Otherwise the sweep would
// run to the end and the claim would only then come out "inconclusive: no results".
void check_claims_are_fed(const Plan& plan) {
  const ExperimentConfig& config = plan.config;
  for (std::size_t c = 0; c < config.claims.size(); ++c) {
    const Claim& claim = config.claims[c];
    const config::ClaimSource source =
        c < config.claim_sources.size() ? config.claim_sources[c] : config::ClaimSource{{config.path, 0}, {}};
    const std::string section = "[claim #" + std::to_string(c + 1) + "]";
    for (const bool versus : {false, true}) {
      const std::string& sampler = versus ? claim.versus : claim.sampler;
      if (sampler.empty()) continue;
      bool fed = false;
      std::set<std::string> offered;  // what the chosen estimators report for this sampler
      for (std::size_t r = 0; r < plan.runs.size() && !fed; ++r) {
        // Oracle rows repeat the estimates of every sampler's runs.
        if (sampler != "oracle" && plan.runs[r].sampler != sampler) continue;
        for (std::size_t e : plan.estimators_of_run[r]) {
          const config::EstimatorSpec& spec = config.estimators[e];
          if (!claim.estimator.empty() && spec.component.kind != claim.estimator) continue;
          const auto metrics = metrics_of(plan, r, e);
          if (!metrics) {  // an estimator the table does not know: give it the benefit of the doubt
            fed = true;
            break;
          }
          for (const std::string& m : *metrics)
            if (spec.metrics.empty() || std::find(spec.metrics.begin(), spec.metrics.end(), m) != spec.metrics.end())
              offered.insert(m);
          if (offered.count(claim.metric) != 0) {
            fed = true;
            break;
          }
        }
      }
      if (fed) continue;
      std::string list;
      for (const std::string& m : offered) list += (list.empty() ? "" : ", ") + m;
      throw ConfigError(source.at("metric").str() + ": " + section + " metric = \"" + claim.metric +
                        "\": no configured [[estimator]]" +
                        (claim.estimator.empty() ? "" : " of kind '" + claim.estimator + "'") + " reports '" +
                        claim.metric + "' for " + (versus ? "versus" : "sampler") + " '" + sampler + "' (claim '" +
                        claim.name + "'; they report: " + (list.empty() ? "nothing" : list) +
                        "); add an estimator that does, or change the metric");
    }
  }
}

}  // namespace

RunOptions run_options(const ExperimentConfig& config, const RunSpec& run, int threads) {
  RunOptions options;
  options.seed = config.seed;
  options.run = static_cast<std::uint64_t>(run.replicate);
  options.particles = run.particles;
  options.initialisation = run.initialisation;
  options.stop_index = config.comparison_level;
  options.threads = threads;
  return options;
}

posterior::PosteriorEstimationProblem posterior_estimation_problem(const Plan& plan, std::size_t run,
                                                                   const posterior::PosteriorProblem& problem,
                                                                   int threads) {
  const RunSpec& spec = plan.runs[run];
  const SweepPoint& point = plan.point(run);
  const auto grid = point.grids.find(spec.steps);
  return {*point.posterior_samplers.at(spec.sampler),
          problem,
          spec.steps,
          grid != point.grids.end() ? grid->second.get() : nullptr,
          plan.config.seed,
          static_cast<std::uint64_t>(spec.replicate),
          spec.particles,
          threads};
}

Plan make_plan(const ExperimentConfig& config) {
  Plan plan;
  plan.config = config;
  plan.runs = config::expand_runs(config);
  for (const config::EstimatorSpec& spec : config.estimators) {
    if (config.posterior()) {
      plan.posterior_estimators.push_back(
          config::make_component(posterior::posterior_estimator_registry(), spec.component));
    } else {
      plan.estimators.push_back(config::make_component(estimator_registry(), spec.component));
    }
  }
  // Runs of one sweep point are consecutive (expand_runs): a new key starts a new point.
  // Support is decided per (sweep point, sampler) at its first run (first T, replicate 0).
  std::map<std::string, std::size_t> point_of_key;
  std::map<std::pair<std::size_t, std::string>, std::vector<std::size_t>> decided;
  std::map<std::string, std::size_t> first_with_inputs;
  for (const RunSpec& run : plan.runs) {
    plan.same_inputs_as.push_back(first_with_inputs.emplace(inputs_key(run), run.index).first->second);
    const std::string key = point_key(run);
    auto [found, added] = point_of_key.emplace(key, plan.points.size());
    if (added) plan.points.push_back(build_point(config, run));
    plan.point_of_run.push_back(found->second);
    auto [chosen, first] = decided.emplace(std::make_pair(found->second, run.sampler), std::vector<std::size_t>{});
    if (first)
      chosen->second = config.posterior() ? choose_posterior_estimators(plan, run, plan.points[found->second])
                                          : choose_estimators(plan, run, plan.points[found->second]);
    plan.estimators_of_run.push_back(chosen->second);
    if (!config.posterior()) check_resolution(plan, run);  // resolution rules (resolution.hpp), before any work
  }
  check_claims_are_fed(plan);
  return plan;
}

}  // namespace dmconv::experiment
