// Internal to the config layer: typed access to a toml++ document with errors in the form
// "FILE:LINE: [section] key = value: rule" (ConfigError), and the per-section readers that
// parse_config (config/parse_config.cpp) calls in order. Each section has its own file:
//   read_experiment.cpp   [experiment]
//   read_components.cpp   [target], [schedule], [score_error]
//   read_sampling.cpp     [sampling] and [sampling.params.NAME]
//   read_estimators.cpp   [[estimator]]
//   read_sweep.cpp        [sweep]
//   read_claims.cpp       [[claim]]
//   overrides.cpp         --set section.key=value
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "config/experiment_config.hpp"

namespace dmconv::config {

// The metrics a config may name (core/estimator.hpp).
const std::set<std::string>& known_metrics();
// known_metrics() as "hellinger, kl_output_target, ..." for error messages.
std::string metric_list();

// Where `region` is: the file and line, or "--set" for values (and tables) the overrides made.
SourceLocation location_of(const std::string& file, const toml::source_region& region);

[[noreturn]] void fail(const SourceLocation& where, const std::string& what, const std::string& rule);

// The value as written (TOML syntax, one line, at most 80 characters).
std::string node_text(const toml::node& node);

struct Reader {
  std::string file;
  std::set<std::string> overridden;  // "section.key" set by --set

  SourceLocation where(const toml::node& node) const { return location_of(file, node.source()); }
  // The key's location, or "--set" when section.key was overridden.
  SourceLocation key_where(const std::string& section, const std::string& key, const toml::key& name) const;

  [[noreturn]] void bad(const std::string& section, const std::string& key, const toml::node& node,
                        const std::string& rule) const;

  ParamValue to_param(const std::string& section, const std::string& key, const toml::node& node) const;
  std::string string(const std::string& section, const std::string& key, const toml::node& node) const;
  std::int64_t integer(const std::string& section, const std::string& key, const toml::node& node,
                       std::int64_t min) const;
  // An integer in [min, max] ("must lie in [min, max] (why)" otherwise), checked in int64 before
  // the caller narrows it.
  std::int64_t integer(const std::string& section, const std::string& key, const toml::node& node,
                       std::int64_t min, std::int64_t max, const std::string& why = "") const;
  bool boolean(const std::string& section, const std::string& key, const toml::node& node) const;
  double number(const std::string& section, const std::string& key, const toml::node& node) const;
  // A string or a non-empty list of strings.
  std::vector<std::string> strings(const std::string& section, const std::string& key, const toml::node& node) const;
  const toml::table& table(const std::string& section, const toml::node& node) const;
  // kind + parameters of a registered component; `reserved` keys are not parameters.
  ComponentSpec component(const std::string& section, const toml::table& table,
                          const std::set<std::string>& reserved = {}) const;
  // An enum value from its table of names: "must be one of: ..." otherwise (rule_hint explains).
  template <class Enum, std::size_t N>
  Enum name_of(const EnumNames<Enum, N>& names, const std::string& section, const std::string& key,
               const toml::node& node, const std::string& rule) const {
    const std::optional<Enum> value = names.find(string(section, key, node));
    if (!value) bad(section, key, node, rule);
    return *value;
  }
};

// Every key of `table` must be in `allowed` (else: "unknown key; valid keys are: ...").
void check_keys(const Reader& reader, const std::string& section, const toml::table& table,
                const std::set<std::string>& allowed);

// Registry membership with the list of valid names, at the key's line.
template <class Registry>
void check_registered(const Reader& reader, const Registry& registry, const std::string& what,
                      const std::string& section, const std::string& key, const std::string& name,
                      const toml::node& node) {
  for (const auto& entry : registry.entries())
    if (entry.name == name) return;
  std::string valid;
  for (const auto& entry : registry.entries()) valid += (valid.empty() ? "" : ", ") + entry.name;
  reader.bad(section, key, node, "unknown " + what + " '" + name + "'; valid " + what + "s are: " + valid);
}

// Applies one "--set section.key=value" to the document. `sections` are the valid top-level
// sections; every error is a ConfigError "--set ASSIGNMENT: rule".
void apply_override(toml::table& document, const std::string& assignment, const std::set<std::string>& sections);
// "section.key" of an assignment, trimmed.
std::string override_path(const std::string& assignment);

// The section readers, in the order parse_config calls them (later ones see earlier results).
void read_experiment(const Reader& reader, const toml::table& document, ExperimentConfig& config);
void read_components(const Reader& reader, const toml::table& document, ExperimentConfig& config);
void read_sampling(const Reader& reader, const toml::table& document, ExperimentConfig& config);
void read_estimators(const Reader& reader, const toml::table& document, ExperimentConfig& config);
void read_sweep(const Reader& reader, const toml::table& document, ExperimentConfig& config);
void read_claims(const Reader& reader, const toml::table& document, ExperimentConfig& config);

// The table `section` of the document; "section is required" when absent.
const toml::table& required_table(const Reader& reader, const toml::table& document, const std::string& section);

}  // namespace dmconv::config
