// The reader stage of `dmconv lsi`: the [lsi] section and its [[lsi.claim]] tables (the keys and
// their meaning: lsi/profile.hpp). `dmconv run` ignores both. Errors name the key's line in the
// config file, or "--set" when the key came from an override.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "analysis/rate_fit.hpp"
#include "config/experiment_config.hpp"

namespace dmconv::lsi {

// The settings of one `dmconv lsi` call: [lsi] of the config; the command-line flags replace them
// before validate_settings.
struct LsiSettings {
  std::vector<double> times{0.25, 0.5, 1.0, 1.5, 2.0, 3.0};
  double delta = 0.1;
  double t1_max = 10.0;
  int bisections = 40;
  int cells = 512;
  double initial_mean = 0.0;
  std::vector<std::string> paired;
};

struct LsiClaim {
  enum class Metric { kLangevinKl, kLogSobolev, kT1Star };
  std::string name, source, metric_name, model, axis;
  Metric metric = Metric::kT1Star;
  double claimed = 0.0;  // slope, or level for model = "level"
  double tolerance = 0.1;
  ClaimBound bound = ClaimBound::kUpper;
  std::optional<double> min, max;
};

// Throw config::ConfigError naming the offending key.
LsiSettings read_lsi_settings(const config::ExperimentConfig& config);
std::vector<LsiClaim> read_lsi_claims(const config::ExperimentConfig& config);

// Throws InvalidArgument: the values may come from the command line.
void validate_settings(const LsiSettings& settings);

}  // namespace dmconv::lsi
