// [sweep]: "section.key" = [values...], extra Cartesian axes over target, schedule, score_error
// and sampling parameters (sampling.particles, sampling.initialisation and sampler parameters
// "sampling.params.NAME.KEY", each value checked by the sampler's factory now).
#include <algorithm>
#include <map>

#include "config/toml_reader.hpp"
#include "posterior/posterior_sampler.hpp"
#include "samplers/registry.hpp"

namespace dmconv::config {
namespace {

// The rules on the axis path itself (which keys can be swept).
void check_axis_path(const Reader& reader, const ExperimentConfig& config, const std::string& path,
                     const toml::node& node) {
  const auto dot = path.find('.');
  const std::string section = dot == std::string::npos ? "" : path.substr(0, dot);
  const std::string name = dot == std::string::npos ? "" : path.substr(dot + 1);
  const std::string key = "\"" + path + "\"";
  if (section == "likelihood" && !config.posterior())
    reader.bad("sweep", key, node, "\"likelihood.KEY\" needs a [likelihood] section");
  if (section == "likelihood" && name == "y")
    reader.bad("sweep", key, node, "the observation y cannot be swept (write one config per observation)");
  if (section != "target" && section != "schedule" && section != "sampling" && section != "score_error" &&
      section != "likelihood")
    reader.bad("sweep", key, node,
               "sweep keys are \"target.KEY\", \"schedule.KEY\", \"score_error.KEY\", \"likelihood.KEY\" or "
               "\"sampling.KEY\"");
  if (section == "score_error" && name == "measure_samples")
    reader.bad("sweep", key, node, "measure_samples cannot be swept");
  if (name == "kind")
    reader.bad("sweep", key, node, "the kind of a component cannot be swept (write one config per kind)");
  if (section == "sampling" && name.rfind("params.", 0) == 0) {
    const std::string rest = name.substr(7);
    const auto split = rest.find('.');
    const std::string sampler = rest.substr(0, split);
    if (split == std::string::npos || split + 1 >= rest.size())
      reader.bad("sweep", key, node, "sampler parameters are swept as \"sampling.params.NAME.KEY\"");
    if (std::find(config.samplers.begin(), config.samplers.end(), sampler) == config.samplers.end())
      reader.bad("sweep", key, node, "'" + sampler + "' is not in [sampling] samplers");
  } else if (section == "sampling" && name != "particles" && name != "initialisation") {
    reader.bad("sweep", key, node,
               "sampling.samplers and sampling.steps are sweep axes already; only sampling.particles, "
               "sampling.initialisation and sampler parameters \"sampling.params.NAME.KEY\" can be swept here");
  }
}

// Every value of a sampling.* axis must be valid for its key (a sampler parameter: with the other
// [sampling.params.NAME] keys, by the sampler's factory).
void check_sampling_values(const Reader& reader, const ExperimentConfig& config, const SweepAxis& axis,
                           const toml::array& values) {
  const std::string path = axis.path;
  const std::string name = path.substr(path.find('.') + 1);
  if (name.rfind("params.", 0) == 0) {
    const std::string rest = name.substr(7);
    const std::string sampler = rest.substr(0, rest.find('.')), param = rest.substr(rest.find('.') + 1);
    for (std::size_t i = 0; i < axis.values.size(); ++i) {
      ParamTable params = config.sampler_params.count(sampler) ? config.sampler_params.at(sampler) : ParamTable{};
      params.set(param, axis.values[i]);
      try {
        if (config.posterior()) {
          posterior::posterior_sampler_registry().make(sampler, params);
        } else {
          sampler_registry().make(sampler, params);
        }
      } catch (const InvalidArgument& error) {
        reader.bad("sweep", "\"" + path + "\"", values[i], error.what());
      }
    }
  }
  if (name == "particles")
    for (const toml::node& v : values) reader.integer("sweep", path, v, 1, kMaxParticles, kMaxParticlesWhy);
  if (name == "initialisation")
    for (const toml::node& v : values)
      if (!kInitialisationNames.find(reader.string("sweep", path, v)))
        reader.bad("sweep", path, v, "must be \"exact\" or \"standard_normal\"");
}

// Every value of an axis must give a distinct run key: a repeated value (or two that print alike in
// the key's 6 significant digits, such as 4 and 4.0) would make two runs with one key, and
// --resume would then append duplicates.
void check_distinct(const Reader& reader, const SweepAxis& axis, const toml::array& values) {
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < axis.values.size(); ++i) {
    const std::string key = axis.values[i].to_string();
    const auto [first, added] = seen.emplace(key, i);
    if (added) continue;
    const std::string earlier = axis.values[first->second].written(), now = axis.values[i].written();
    reader.bad("sweep", "\"" + axis.path + "\"", *values.get(i),
               earlier == now ? "lists " + now + " twice (sweep values must be distinct)"
                              : "values " + earlier + " and " + now + " give the same run key '" + key +
                                    "' (6 significant digits); sweep values must be distinct");
  }
}

}  // namespace

void read_sweep(const Reader& reader, const toml::table& document, ExperimentConfig& config) {
  const toml::node* n = document.get("sweep");
  if (n == nullptr) return;
  for (auto&& [key, node] : reader.table("sweep", *n)) {
    SweepAxis axis;
    axis.path = std::string(key.str());
    axis.location = location_of(reader.file, key.source());
    check_axis_path(reader, config, axis.path, node);
    const toml::array* values = node.as_array();
    if (values == nullptr || values->empty())
      reader.bad("sweep", "\"" + axis.path + "\"", node, "must be a non-empty list");
    for (const toml::node& v : *values) axis.values.push_back(reader.to_param("sweep", axis.path, v));
    check_distinct(reader, axis, *values);
    if (axis.path.rfind("sampling.", 0) == 0) check_sampling_values(reader, config, axis, *values);
    config.sweep.push_back(std::move(axis));
  }
  // toml++ iterates keys in sorted order; the documented axis order is the file's.
  std::stable_sort(config.sweep.begin(), config.sweep.end(),
                   [](const SweepAxis& a, const SweepAxis& b) { return a.location.line < b.location.line; });
}

}  // namespace dmconv::config
