// Experiment configs: a TOML file (toml++) that describes a sweep, its estimators and the
// claims to check (issue 4; docs/design.md §6). The schema, by section:
//
//   [experiment]   name (required; [A-Za-z0-9._-], not starting with '.', 1..200 bytes: it names
//                  the default results file results/<name>.h5), description, seed (integer >= 0, default 1),
//                  replicates (integer >= 1, default 1: independent random streams per run)
//   [target]       kind = a registered target (`dmconv list targets`); every other key is a
//                  parameter of that target
//   [schedule]     kind = a registered schedule; every other key is a parameter
//   [sampling]     samplers (name or list), steps (T: integer >= 2 or list),
//                  initialisation ("exact": Y_T ~ p_{X_T}, default; "standard_normal"),
//                  comparison_level (1: Y_1 vs X_1, default; 0: Y_0 vs the data),
//                  particles (integer in [1, 2^53], default 20000; Monte Carlo estimators only;
//                  the memory it needs is checked before any work: experiment/preflight.hpp),
//                  oracle (boolean, default false): for every estimate with a measured floor
//                  (kind biased_with_floor) also record an "oracle" row, sampler = "oracle",
//                  value = the estimator applied to exact samples of the comparison law
//   [sampling.params.NAME]  optional, one per listed sampler NAME: its parameters (e.g.
//                  pmm_pc langevin_time, langevin_step, truncation, integrator; song_pc
//                  predictor, corrector_steps, snr, ...), checked by the sampler's factory
//                  at parse time; not a sweep axis
//   [score_error]  optional: kind = a registered score-error model (`dmconv list score_errors`,
//                  default "none" = exact score); every other key is a parameter of the model,
//                  except measure_samples (integer >= 0, default 1000: exact samples of p_t per
//                  level for the realised eps_score / eps_Jacobi of docs/theory.md §3; 0 = skip)
//   [[estimator]]  kind = a registered estimator; optional metrics (list; default: all it
//                  reports) and samplers (list; default: every sampler it supports); every
//                  other key is a parameter of the estimator
//   [sweep]        "section.key" = [values...]: extra Cartesian axes over target, schedule,
//                  score_error or sampling parameters (e.g. "target.dim" = [1, 2, 4],
//                  "schedule.c1" = [4, 6], "score_error.omega" = [1, 4, 16]), and sampler
//                  parameters as "sampling.params.NAME.KEY" (e.g. the PMM corrector time
//                  "sampling.params.pmm_pc.langevin_time" = [0, 1, 2, 4]); every value is
//                  validated by the sampler's factory before any work
//   [[claim]]      a rate claim checked on the results (dmconv::Claim, analysis/rate_fit.hpp)
//   [likelihood]   optional: makes the config a POSTERIOR experiment (docs/design.md §9.1): kind = a
//                  registered likelihood (`dmconv list likelihoods`), every other key a parameter of
//                  it, except y (list of m numbers: the observation; absent: y is simulated from a
//                  ground truth x* ~ p_data drawn from the experiment seed). [target] is then the
//                  prior, [sampling] samplers are posterior samplers, steps counts each sampler's
//                  own steps (outer iterations, DDS levels, diffusion steps; integer >= 1), and
//                  [[estimator]] kinds are posterior estimators; "likelihood.KEY" can be swept
//   [lsi]          optional: settings and [[lsi.claim]] tables of `dmconv lsi`, which reads them
//                  (src/cli/lsi_command.cpp); `dmconv run` ignores the section
//
// Sweep axes, in order (outermost first): the [sweep] axes in file order, samplers, steps,
// replicates. Every run is keyed by its axis values ("sampler=ddim;T=64;replicate=0;..."), so
// a results file can be resumed.
//
// Every error names file:line, the key, the value and the rule, and is raised before any work
// starts (ConfigError). `--set section.key=value` overrides are applied to the TOML document
// before it is interpreted (value in TOML syntax; a bare word such as standard_normal is taken as a
// string, anything else that is not TOML -- "[1, 2", a control character -- is an error); their
// location is "--set". A longer path reaches nested tables ("sampling.params.pmm_pc.langevin_time");
// [sweep] keys are dotted paths themselves ("sweep.target.dim=[1, 2]" sets the key "target.dim").
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analysis/rate_fit.hpp"
#include "core/enum_names.hpp"
#include "core/error.hpp"
#include "core/params.hpp"
#include "core/run_sampler.hpp"

namespace dmconv::config {

// [sampling] initialisation (and the /runs "initialisation" column): Y_T ~ p_{X_T} or N(0, I).
inline constexpr EnumNames<Initialisation, 2> kInitialisationNames{
    "initialisation",
    {{{Initialisation::kExactMarginal, "exact"}, {Initialisation::kStandardNormal, "standard_normal"}}}};

// Upper bound on particle counts ([sampling] particles, measure_samples, swept particles): counts
// enter estimators' means and standard errors as doubles, exact only up to 2^53. Memory is the
// tighter limit in practice; the pre-flight check (experiment/preflight.hpp) states it.
inline constexpr std::int64_t kMaxParticles = std::int64_t{1} << 53;
inline constexpr const char* kMaxParticlesWhy = "2^53: counts enter the estimators as doubles";

// Bad config input: the message is "FILE:LINE: KEY = VALUE: RULE".
class ConfigError : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};

struct SourceLocation {
  std::string file;
  int line = 0;  // 0: unknown (whole file) or a --set override
  std::string str() const;  // "file:line", "file", or "--set"
};

// A registered component (target, schedule, estimator) with its parameters and where each
// key was written, so errors from the component's factory can point at the line.
struct ComponentSpec {
  std::string section;   // "target", "schedule", "estimator #2", ...
  std::string kind;
  ParamTable params;
  SourceLocation location;                        // the section header
  std::map<std::string, SourceLocation> key_locations;
  // Where `key` was written (its line, or "--set" when overridden); the section header when
  // `key` is empty or was not written in this section.
  SourceLocation key_location(const std::string& key) const;
};

// A component factory's error as a ConfigError. A ParameterError names its key, so the error
// reads "FILE:LINE: [section] key = value: rule" at that key's line (or "--set"); any other
// InvalidArgument (a factory not yet converted to ParameterError, or a rule about several keys)
// points at the section header: "FILE:LINE: [section] kind = "KIND": message". The message text
// is never searched.
ConfigError component_error(const ComponentSpec& spec, const InvalidArgument& error);

// Builds `spec` with `registry` (target, schedule, estimator, sampler registries), turning the
// factory's errors into component_error.
template <class Registry>
auto make_component(const Registry& registry, const ComponentSpec& spec) {
  try {
    return registry.make(spec.kind, spec.params);
  } catch (const InvalidArgument& error) {
    throw component_error(spec, error);
  }
}

struct EstimatorSpec {
  ComponentSpec component;
  std::vector<std::string> metrics;   // empty: all
  std::vector<std::string> samplers;  // empty: every supported sampler
};

struct SweepAxis {
  std::string path;                  // "target.dim", "schedule.c1", "sampling.particles"
  std::vector<ParamValue> values;
  SourceLocation location;
};

// Where a [[claim]] table and each of its keys were written, for errors found after the config
// stage (a claim whose metric no configured estimator reports: experiment/plan.cpp).
struct ClaimSource {
  SourceLocation table;
  std::map<std::string, SourceLocation> keys;
  // The key's line, or the table's when the key was not written.
  SourceLocation at(const std::string& key) const {
    const auto found = keys.find(key);
    return found != keys.end() ? found->second : table;
  }
};

struct ExperimentConfig {
  std::string path;            // as given
  std::string text;            // canonical TOML after overrides (stored in results files)
  std::string hash;            // 16 hex digits, FNV-1a 64 of `text`
  std::string name;
  std::string description;
  std::uint64_t seed = 1;
  int replicates = 1;
  ComponentSpec target;
  ComponentSpec schedule;
  ComponentSpec score_error;              // kind "none" when the section is absent
  ComponentSpec likelihood;               // kind "" when the section is absent (not a posterior experiment)
  std::vector<double> observation;        // [likelihood] y; empty: simulated from a seeded ground truth
  Eigen::Index measure_samples = 1000;    // realised-error samples per level (0: skip)
  std::vector<std::string> samplers;
  // [sampling.params.NAME] tables: parameters of sampler NAME (e.g. pmm_pc langevin_time);
  // samplers without a table are built with no parameters (their defaults).
  std::map<std::string, ParamTable> sampler_params;
  std::vector<int> steps;
  Initialisation initialisation = Initialisation::kExactMarginal;
  int comparison_level = 1;
  Eigen::Index particles = 20000;
  bool oracle_rows = false;
  std::vector<EstimatorSpec> estimators;
  std::vector<SweepAxis> sweep;
  std::vector<Claim> claims;
  std::vector<ClaimSource> claim_sources;  // parallel to claims
  std::map<std::string, SourceLocation> sampling_locations;  // key -> line, for errors

  // A posterior experiment ([likelihood] present): posterior samplers and estimators.
  bool posterior() const { return !likelihood.kind.empty(); }
};

// One point of the sweep: a sampler at T steps, replicate r, with the swept values applied.
struct RunSpec {
  std::size_t index = 0;   // position in the expanded sweep
  std::string key;         // canonical axis values, e.g. "schedule.c1=6;sampler=ddim;T=64;replicate=0"
  std::string sampler;
  int steps = 0;
  int replicate = 0;
  std::vector<std::pair<std::string, ParamValue>> swept;  // [sweep] path -> value
  ComponentSpec target;     // with swept values substituted
  ComponentSpec schedule;
  ComponentSpec score_error;
  ComponentSpec likelihood;  // posterior experiments only
  Eigen::Index particles = 0;
  Initialisation initialisation = Initialisation::kExactMarginal;
  std::map<std::string, ParamTable> sampler_params;  // [sampling.params.NAME] with swept values
};

// Parses and validates the file (syntax, sections, keys, types, ranges, registry names), one
// reader per section (config/read_*.cpp). Components are built (once per sweep point) by the
// plan stage: experiment/plan.hpp.
ExperimentConfig load_config(const std::filesystem::path& path, const std::vector<std::string>& overrides = {});
ExperimentConfig parse_config(const std::string& text, const std::string& source_name,
                              const std::vector<std::string>& overrides = {});

// The Cartesian expansion, in the documented order. Throws InvalidArgument, naming the factors,
// when the sweep has more than kMaxRuns runs.
inline constexpr std::int64_t kMaxRuns = 1000000;
std::vector<RunSpec> expand_runs(const ExperimentConfig& config);

std::string fnv1a_hex(const std::string& text);

}  // namespace dmconv::config
