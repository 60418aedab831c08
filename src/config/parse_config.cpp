// The config stage's entry points: read the file, apply --set overrides, record the canonical
// text and its hash, then run the section readers (config/toml_reader.hpp) in order.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "config/toml_reader.hpp"

namespace dmconv::config {
namespace {

toml::table parse_document(const std::string& text, const std::string& source_name) {
  try {
    return toml::parse(std::string_view(text), std::string_view(source_name));
  } catch (const toml::parse_error& error) {
    throw ConfigError(source_name + ":" + std::to_string(error.source().begin.line) +
                      ": not valid TOML: " + std::string(error.description()));
  }
}

}  // namespace

std::string fnv1a_hex(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

ExperimentConfig load_config(const std::filesystem::path& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path.string() + ": cannot open the config file (missing or unreadable)");
  if (std::filesystem::is_directory(path)) throw ConfigError(path.string() + ": is a directory, not a config file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path.string(), overrides);
}

ExperimentConfig parse_config(const std::string& text, const std::string& source_name,
                              const std::vector<std::string>& overrides) {
  Reader reader{source_name, {}};
  toml::table document = parse_document(text, source_name);
  // [lsi]: read by `dmconv lsi` only.
  const std::set<std::string> sections = {"experiment", "target",    "schedule", "score_error", "sampling",
                                          "estimator",  "sweep",     "claim",    "lsi",
                                          "likelihood"};
  for (const std::string& assignment : overrides) {
    apply_override(document, assignment, sections);
    reader.overridden.insert(override_path(assignment));
  }

  ExperimentConfig config;
  config.path = source_name;
  {
    std::ostringstream canonical;
    canonical << toml::toml_formatter(document);
    config.text = canonical.str();
  }
  config.hash = fnv1a_hex(config.text);

  check_keys(reader, "(top level)", document, sections);
  read_experiment(reader, document, config);
  read_components(reader, document, config);
  read_sampling(reader, document, config);
  read_estimators(reader, document, config);
  read_sweep(reader, document, config);
  read_claims(reader, document, config);
  return config;
}

}  // namespace dmconv::config
