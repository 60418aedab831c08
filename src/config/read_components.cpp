// [target], [schedule] (required) and [score_error] (optional): a registered kind and its
// parameters. The factories run in the plan stage (experiment/plan.cpp); here only the kind is
// checked against its registry.
#include "config/toml_reader.hpp"
#include "core/schedule.hpp"
#include "posterior/likelihood.hpp"
#include "score_errors/score_error.hpp"
#include "targets/registry.hpp"

namespace dmconv::config {

void read_components(const Reader& reader, const toml::table& document, ExperimentConfig& config) {
  const toml::table& target = required_table(reader, document, "target");
  config.target = reader.component("target", target);
  check_registered(reader, target_registry(), "target", "target", "kind", config.target.kind, *target.get("kind"));
  const toml::table& schedule = required_table(reader, document, "schedule");
  config.schedule = reader.component("schedule", schedule);
  check_registered(reader, schedule_registry(), "schedule", "schedule", "kind", config.schedule.kind,
                   *schedule.get("kind"));

  if (const toml::node* n = document.get("likelihood")) {
    const toml::table& table = reader.table("likelihood", *n);
    config.likelihood = reader.component("likelihood", table, {"y"});
    check_registered(reader, likelihood_registry(), "likelihood", "likelihood", "kind", config.likelihood.kind,
                     *table.get("kind"));
    if (const toml::node* y = table.get("y")) {
      const toml::array* values = y->as_array();
      if (values == nullptr || values->empty()) reader.bad("likelihood", "y", *y, "must be a non-empty list of numbers");
      for (const toml::node& v : *values) config.observation.push_back(reader.number("likelihood", "y", v));
    }
  }

  config.score_error.section = "score_error";
  config.score_error.kind = "none";
  config.score_error.location = {reader.file, 0};
  const toml::node* n = document.get("score_error");
  if (n == nullptr) return;
  const toml::table& table = reader.table("score_error", *n);
  config.score_error = reader.component("score_error", table, {"measure_samples"});
  check_registered(reader, score_errors::score_error_registry(), "score error", "score_error", "kind",
                   config.score_error.kind, *table.get("kind"));
  if (const toml::node* m = table.get("measure_samples")) {
    config.measure_samples = static_cast<Eigen::Index>(
        reader.integer("score_error", "measure_samples", *m, 0, kMaxParticles, kMaxParticlesWhy));
    if (config.measure_samples == 1) reader.bad("score_error", "measure_samples", *m, "must be 0 (skip) or at least 2");
  }
}

}  // namespace dmconv::config
