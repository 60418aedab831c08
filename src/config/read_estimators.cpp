// [[estimator]]: kind, optional metrics and samplers lists; every other key is a parameter.
#include <algorithm>

#include "config/toml_reader.hpp"
#include "core/estimator.hpp"
#include "posterior/posterior_estimator.hpp"

namespace dmconv::config {
namespace {

// A repeated name would give repeated rows (one per listed metric on failure) or hide a typo.
void check_distinct(const Reader& reader, const std::string& section, const std::string& key, const toml::node& node,
                    const std::vector<std::string>& names) {
  std::set<std::string> seen;
  for (const std::string& name : names)
    if (!seen.insert(name).second) reader.bad(section, key, node, "lists '" + name + "' twice");
}

EstimatorSpec read_estimator(const Reader& reader, const std::string& section, const toml::table& table,
                             const ExperimentConfig& config) {
  EstimatorSpec spec;
  spec.component = reader.component(section, table, {"metrics", "samplers"});
  if (config.posterior()) {
    check_registered(reader, posterior::posterior_estimator_registry(), "posterior estimator", section, "kind",
                     spec.component.kind, *table.get("kind"));
  } else {
    check_registered(reader, estimator_registry(), "estimator", section, "kind", spec.component.kind,
                     *table.get("kind"));
  }
  if (const toml::node* n = table.get("metrics")) {
    spec.metrics = reader.strings(section, "metrics", *n);
    check_distinct(reader, section, "metrics", *n, spec.metrics);
    for (const std::string& m : spec.metrics)
      if (known_metrics().count(m) == 0)
        reader.bad(section, "metrics", *n, "unknown metric '" + m + "'; valid metrics are: " + metric_list());
  }
  if (const toml::node* n = table.get("samplers")) {
    spec.samplers = reader.strings(section, "samplers", *n);
    check_distinct(reader, section, "samplers", *n, spec.samplers);
    for (const std::string& s : spec.samplers)
      if (std::find(config.samplers.begin(), config.samplers.end(), s) == config.samplers.end())
        reader.bad(section, "samplers", *n, "'" + s + "' is not in [sampling] samplers");
  }
  return spec;
}

}  // namespace

void read_estimators(const Reader& reader, const toml::table& document, ExperimentConfig& config) {
  const toml::node* estimators = document.get("estimator");
  if (estimators == nullptr) fail({reader.file, 0}, "[[estimator]]", "at least one estimator is required");
  const toml::array* array = estimators->as_array();
  if (array == nullptr || array->empty())
    fail(reader.where(*estimators), "estimator", "must be an array of tables ([[estimator]])");
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string section = "estimator #" + std::to_string(i + 1);
    config.estimators.push_back(read_estimator(reader, section, reader.table(section, *array->get(i)), config));
  }
}

}  // namespace dmconv::config
