// [experiment]: name (required), description, seed, replicates.
#include "config/toml_reader.hpp"

namespace dmconv::config {
namespace {

// The name becomes the default results file results/<name>.h5 (and <name>_lsi.h5), so it must be
// one safe file-name component: no separators ("../escaped", "sub/dir"), no hidden files, no
// control characters or NUL, and short enough that "<name>_lsi.h5.tmp-<pid>" fits in 255 bytes.
constexpr std::size_t kMaxNameBytes = 200;

std::string name_rule(const std::string& name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > kMaxNameBytes)
    return "must be at most " + std::to_string(kMaxNameBytes) + " bytes (it names the results file); it has " +
           std::to_string(name.size());
  for (const char c : name) {
    const bool safe = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-';
    if (!safe)
      return "must use only the file-name characters [A-Za-z0-9._-] (it names the results file "
             "results/<name>.h5)";
  }
  if (name.front() == '.') return "must not start with '.' (it names the results file results/<name>.h5)";
  return "";
}

}  // namespace

void read_experiment(const Reader& reader, const toml::table& document, ExperimentConfig& config) {
  const toml::table& experiment = required_table(reader, document, "experiment");
  check_keys(reader, "experiment", experiment, {"name", "description", "seed", "replicates"});
  if (const toml::node* n = experiment.get("name")) {
    config.name = reader.string("experiment", "name", *n);
    if (const std::string rule = name_rule(config.name); !rule.empty()) reader.bad("experiment", "name", *n, rule);
  } else {
    fail(reader.where(experiment), "[experiment]", "key 'name' is required");
  }
  if (const toml::node* n = experiment.get("description"))
    config.description = reader.string("experiment", "description", *n);
  if (const toml::node* n = experiment.get("seed"))
    config.seed = static_cast<std::uint64_t>(reader.integer("experiment", "seed", *n, 0));
  if (const toml::node* n = experiment.get("replicates")) {
    config.replicates = static_cast<int>(reader.integer("experiment", "replicates", *n, 1, 100000));
  }
}

}  // namespace dmconv::config
