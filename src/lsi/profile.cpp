#include "lsi/profile.hpp"

#include <iostream>
#include <map>
#include <memory>

#include "analysis/lsi.hpp"
#include "core/noise_level.hpp"
#include "targets/registry.hpp"

namespace dmconv::lsi {
namespace {

std::string target_key(const config::ComponentSpec& spec) {
  std::string key = spec.kind;
  for (const auto& [name, value] : spec.params.entries()) key += ";" + name + "=" + value.to_string();
  return key;
}

// Index of the run's value on sweep axis `path`.
std::size_t value_index(const config::ExperimentConfig& config, const config::RunSpec& run, const std::string& path) {
  for (std::size_t a = 0; a < config.sweep.size(); ++a) {
    if (config.sweep[a].path != path) continue;
    for (std::size_t v = 0; v < config.sweep[a].values.size(); ++v)
      if (config.sweep[a].values[v].to_string() == run.swept[a].second.to_string()) return v;
  }
  return 0;
}

// The 1-D grid constants and the Langevin KL decay.
void one_dimensional(const Target& target, const NoiseLevel& level, const LsiSettings& settings, ProfileRow& row) {
  SpectralOptions spectral;
  spectral.cells = settings.cells;
  const SpectralConstants c = spectral_constants_1d(target, level, spectral);
  row.poincare = c.poincare.value;
  row.poincare_budget = c.poincare.error_budget;
  // An unconverged minimisation gives an upper bound of the grid constant only: kept, flagged.
  row.lsi = c.log_sobolev.value;
  row.lsi_budget = c.log_sobolev.error_budget;
  row.lsi_converged = c.log_sobolev.converged;
  KlDecayOptions decay;
  decay.grid.cells = settings.cells;
  decay.initial_mean = settings.initial_mean;
  const KlDecay kl = langevin_kl_decay_1d(target, level, decay);
  row.rate = kl.rate;
  row.rate_se = kl.rate_se;
  // The claims fit the curve itself on the same KL window as the rate column.
  for (std::size_t k = 0; k < kl.times.size(); ++k)
    if (kl.kl[k] >= decay.kl_min && kl.kl[k] <= decay.kl_max) {
      row.u.push_back(kl.times[k]);
      row.kl.push_back(kl.kl[k]);
    }
}

ProfileRow profile_row(const Target& target, double t1, const std::optional<double>& radius,
                       const LsiSettings& settings) {
  const NoiseLevel level = NoiseLevel::from_ou_time(t1);
  const BakryEmeryBound be = bakry_emery_bound(target, level);
  ProfileRow row;
  row.t1 = t1;
  row.kappa = be.kappa;
  row.starts = be.starts;
  row.starts_at_best = be.starts_at_best;
  if (radius) row.analytic = support_radius_lsi_bound(level, *radius);
  if (target.dim() == 1) one_dimensional(target, level, settings, row);
  return row;
}

// Target `index` of `count`.
TargetProfile target_profile(const config::RunSpec& run, const LsiSettings& settings, std::size_t index,
                             std::size_t count) {
  const auto target = target_registry().make(run.target.kind, run.target.params);
  TargetProfile profile;
  profile.name = target->describe();
  std::cerr << "dmconv lsi: target " << index + 1 << "/" << count << ": " << profile.name << "\n";
  profile.dim = target->dim();
  profile.run = run;
  profile.radius = known_support_radius(*target);
  for (double t1 : settings.times) profile.rows.push_back(profile_row(*target, t1, profile.radius, settings));
  const BakryEmeryTime star =
      bakry_emery_time(*target, 1.0 - settings.delta, kSearchFloor, settings.t1_max, settings.bisections);
  profile.reached = star.reached;
  if (star.reached) profile.t1_star = star.t1;
  profile.bracket = star.bracket;
  profile.kappa_at_t1_star = star.at.kappa;
  if (profile.radius) profile.derived = support_radius_time(*profile.radius, settings.delta);
  return profile;
}

}  // namespace

std::vector<config::RunSpec> distinct_targets(const config::ExperimentConfig& config, const experiment::Plan& plan,
                                              const std::vector<std::string>& paired) {
  std::vector<config::RunSpec> runs;
  std::map<std::string, bool> seen;
  for (const config::RunSpec& run : plan.runs) {
    bool aligned = true;
    for (const std::string& path : paired)
      aligned = aligned && value_index(config, run, path) == value_index(config, run, paired.front());
    if (!aligned || seen[target_key(run.target)]) continue;
    seen[target_key(run.target)] = true;
    runs.push_back(run);
  }
  return runs;
}

std::vector<TargetProfile> compute_profile(const std::vector<config::RunSpec>& runs, const LsiSettings& settings,
                                           const std::function<void(const TargetProfile&)>& done) {
  std::vector<TargetProfile> profiles;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    profiles.push_back(target_profile(runs[i], settings, i, runs.size()));
    done(profiles.back());
  }
  return profiles;
}

}  // namespace dmconv::lsi
