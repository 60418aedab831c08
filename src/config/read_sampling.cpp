// [sampling]: samplers, steps, initialisation, comparison_level, particles, oracle, and the
// [sampling.params.NAME] tables (parameters of sampler NAME, checked by its factory now).
#include <algorithm>

#include "config/toml_reader.hpp"
#include "posterior/posterior_sampler.hpp"
#include "samplers/registry.hpp"

namespace dmconv::config {
namespace {

void read_samplers(const Reader& reader, const toml::table& sampling, ExperimentConfig& config) {
  const toml::node* n = sampling.get("samplers");
  if (n == nullptr) fail(reader.where(sampling), "[sampling]", "key 'samplers' is required");
  config.samplers = reader.strings("sampling", "samplers", *n);
  for (const std::string& s : config.samplers) {
    if (config.posterior()) {
      check_registered(reader, posterior::posterior_sampler_registry(), "posterior sampler", "sampling", "samplers", s, *n);
    } else {
      check_registered(reader, sampler_registry(), "sampler", "sampling", "samplers", s, *n);
    }
  }
  std::set<std::string> seen;
  for (const std::string& s : config.samplers)
    if (!seen.insert(s).second) reader.bad("sampling", "samplers", *n, "lists '" + s + "' twice");
}

// [sampling.params.NAME]: validated by the factory, errors at the key it blames (component_error).
void read_sampler_params(const Reader& reader, const toml::node& params, ExperimentConfig& config) {
  for (auto&& [key, node] : reader.table("sampling.params", params)) {
    const std::string name(key.str());
    ComponentSpec spec;
    spec.section = "sampling.params." + name;
    spec.kind = name;
    spec.location = reader.where(node);
    if (std::find(config.samplers.begin(), config.samplers.end(), name) == config.samplers.end())
      fail(location_of(reader.file, key.source()), "[" + spec.section + "]",
           "'" + name + "' is not in [sampling] samplers");
    for (auto&& [param_key, param_node] : reader.table(spec.section, node)) {
      const std::string k(param_key.str());
      spec.key_locations[k] = reader.key_where(spec.section, k, param_key);
      spec.params.set(k, reader.to_param(spec.section, k, param_node));
    }
    if (config.posterior()) {
      make_component(posterior::posterior_sampler_registry(), spec);
    } else {
      make_component(sampler_registry(), spec);
    }
    config.sampler_params[name] = spec.params;
  }
}

void read_steps(const Reader& reader, const toml::table& sampling, ExperimentConfig& config) {
  const toml::node* n = sampling.get("steps");
  if (n == nullptr) fail(reader.where(sampling), "[sampling]", "key 'steps' is required");
  auto one = [&](const toml::node& v) {
    // A posterior sampler's steps may be 1 (one outer iteration, one DDS level).
    const std::int64_t T = reader.integer("sampling", "steps", v, config.posterior() ? 1 : 2, 10000000);
    config.steps.push_back(static_cast<int>(T));
  };
  if (const auto* a = n->as_array()) {
    if (a->empty()) reader.bad("sampling", "steps", *n, "must not be empty");
    for (const toml::node& v : *a) one(v);
  } else {
    one(*n);
  }
  std::set<int> seen;
  for (int T : config.steps)
    if (!seen.insert(T).second) reader.bad("sampling", "steps", *n, "lists T = " + std::to_string(T) + " twice");
}

}  // namespace

void read_sampling(const Reader& reader, const toml::table& document, ExperimentConfig& config) {
  const toml::table& sampling = required_table(reader, document, "sampling");
  check_keys(reader, "sampling", sampling,
             {"samplers", "steps", "initialisation", "comparison_level", "particles", "oracle", "params"});
  for (auto&& [key, node] : sampling)
    config.sampling_locations[std::string(key.str())] = reader.key_where("sampling", std::string(key.str()), key);
  read_samplers(reader, sampling, config);
  if (const toml::node* n = sampling.get("params")) read_sampler_params(reader, *n, config);
  read_steps(reader, sampling, config);
  if (const toml::node* n = sampling.get("initialisation"))
    config.initialisation = reader.name_of(kInitialisationNames, "sampling", "initialisation", *n,
                                           "must be \"exact\" (Y_T ~ p_{X_T}) or \"standard_normal\"");
  if (const toml::node* n = sampling.get("comparison_level")) {
    const std::int64_t level =
        reader.integer("sampling", "comparison_level", *n, 0, 1, "1: compare with X_1; 0: with the data");
    config.comparison_level = static_cast<int>(level);
  }
  if (const toml::node* n = sampling.get("particles"))
    config.particles = static_cast<Eigen::Index>(
        reader.integer("sampling", "particles", *n, 1, kMaxParticles, kMaxParticlesWhy));
  if (const toml::node* n = sampling.get("oracle")) config.oracle_rows = reader.boolean("sampling", "oracle", *n);
}

}  // namespace dmconv::config
