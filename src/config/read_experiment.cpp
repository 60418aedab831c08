// [experiment]: name (required), description, seed, replicates.
#include "config/toml_reader.hpp"

namespace dmconv::config {

void read_experiment(const Reader& reader, const toml::table& document, ExperimentConfig& config) {
  const toml::table& experiment = required_table(reader, document, "experiment");
  check_keys(reader, "experiment", experiment, {"name", "description", "seed", "replicates"});
  if (const toml::node* n = experiment.get("name")) {
    config.name = reader.string("experiment", "name", *n);
  } else {
    fail(reader.where(experiment), "[experiment]", "key 'name' is required");
  }
  if (const toml::node* n = experiment.get("description"))
    config.description = reader.string("experiment", "description", *n);
  if (const toml::node* n = experiment.get("seed"))
    config.seed = static_cast<std::uint64_t>(reader.integer("experiment", "seed", *n, 0));
  if (const toml::node* n = experiment.get("replicates")) {
    // The bound is checked on the 64-bit value, before the narrowing to int.
    const std::int64_t replicates = reader.integer("experiment", "replicates", *n, 1);
    if (replicates > 100000) reader.bad("experiment", "replicates", *n, "must be at most 100000");
    config.replicates = static_cast<int>(replicates);
  }
}

}  // namespace dmconv::config
