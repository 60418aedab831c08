// libFuzzer target for the config reader: the input bytes are a TOML config text, read by
// config::parse_config (syntax, sections, keys, types, ranges, registry names, component
// factories) and turned into a plan by experiment::make_plan (sweep expansion, every component
// built and validated). Nothing is sampled.
//
// Expected outcomes: a config, or dmconv::InvalidArgument (config::ConfigError is one) naming the
// rule; toml::parse_error is also accepted should it ever escape parse_config's own handler. Any
// other exception, a crash, a hang (-timeout), an out-of-memory (-rss_limit_mb) or a sanitizer
// report is a finding. Run with `make fuzz` (README "Sanitizers and fuzzing").
//
// Size cap (a finding of this fuzzer, reported, not hidden): validation bounds each size on its
// own but not their product, so a short valid config can ask make_plan for billions of runs
// (expand_runs stores one RunSpec per run: replicates x samplers x steps x sweep values) or for
// gigabytes of time grids (one grid of T + 1 levels per T and sweep point, T <= 1e7 each). Such
// inputs are parsed and validated but skipped before make_plan when they exceed the limits below;
// set DMCONV_FUZZ_NO_CAP=1 to plan them anyway (and see the out-of-memory report).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <toml++/toml.h>

#include "config/experiment_config.hpp"
#include "core/error.hpp"
#include "experiment/plan.hpp"

namespace {

constexpr double kMaxRuns = 1e5;          // RunSpecs stored by expand_runs
constexpr double kMaxGridLevels = 2e7;    // sum over sweep points and T of T + 1

bool too_large_to_plan(const dmconv::config::ExperimentConfig& config) {
  static const bool no_cap = std::getenv("DMCONV_FUZZ_NO_CAP") != nullptr;
  if (no_cap) return false;
  double points = 1.0;
  for (const auto& axis : config.sweep) points *= static_cast<double>(axis.values.size());
  double levels = 0.0;
  for (int T : config.steps) levels += static_cast<double>(T) + 1.0;
  const double runs = points * static_cast<double>(config.samplers.size()) *
                      static_cast<double>(config.steps.size()) * static_cast<double>(config.replicates);
  return runs > kMaxRuns || points * levels > kMaxGridLevels;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const dmconv::config::ExperimentConfig config = dmconv::config::parse_config(text, "fuzz.toml");
    if (too_large_to_plan(config)) return 0;
    const dmconv::experiment::Plan plan = dmconv::experiment::make_plan(config);
    (void)plan;
  } catch (const dmconv::InvalidArgument&) {
    // The documented outcome for bad input.
  } catch (const toml::parse_error&) {
    // Unparsable TOML; parse_config normally turns this into a ConfigError.
  }
  return 0;
}
