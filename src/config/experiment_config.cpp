#include "config/experiment_config.hpp"

#include <cmath>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "core/estimator.hpp"
#include "core/schedule.hpp"
#include "samplers/registry.hpp"
#include "score_errors/score_error.hpp"
#include "targets/registry.hpp"

namespace dmconv::config {
namespace {

const std::set<std::string> kMetrics = {"tv", "kl_target_output", "kl_output_target", "w2", "hellinger", "sliced_w2", "mmd2"};

SourceLocation location_of(const std::string& file, const toml::source_region& region) {
  // Overrides are parsed from a document named "--set".
  if (region.path && *region.path == "--set") return {"--set", 0};
  return {file, static_cast<int>(region.begin.line)};
}

[[noreturn]] void fail(const SourceLocation& where, const std::string& what, const std::string& rule) {
  throw ConfigError(where.str() + ": " + what + ": " + rule);
}

std::string node_text(const toml::node& node) {
  std::ostringstream out;
  if (const auto* s = node.as_string()) {
    out << '"' << s->get() << '"';
  } else if (const auto* t = node.as_table()) {
    out << toml::toml_formatter(*t, toml::format_flags::none);
  } else {
    node.visit([&](const auto& n) { out << toml::toml_formatter(n, toml::format_flags::none); });
  }
  std::string text = out.str();
  for (char& c : text)
    if (c == '\n') c = ' ';
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

struct Reader {
  std::string file;
  std::set<std::string> overridden;  // "section.key" set by --set

  SourceLocation where(const toml::node& node) const { return location_of(file, node.source()); }

  [[noreturn]] void bad(const std::string& section, const std::string& key, const toml::node& node,
                        const std::string& rule) const {
    const SourceLocation at = overridden.count(section + "." + key) ? SourceLocation{"--set", 0} : where(node);
    fail(at, "[" + section + "] " + key + " = " + node_text(node), rule);
  }

  ParamValue to_param(const std::string& section, const std::string& key, const toml::node& node) const {
    if (const auto* i = node.as_integer()) return ParamValue(static_cast<double>(i->get()));
    if (const auto* f = node.as_floating_point()) {
      if (!std::isfinite(f->get())) bad(section, key, node, "must be finite");
      return ParamValue(f->get());
    }
    if (const auto* s = node.as_string()) return ParamValue(s->get());
    if (const auto* a = node.as_array()) {
      ParamValue::List list;
      for (const toml::node& element : *a) list.push_back(to_param(section, key, element));
      return ParamValue(std::move(list));
    }
    bad(section, key, node, "must be a number, a string or a list of them (booleans, dates and tables are not "
                            "parameters)");
  }

  std::string string(const std::string& section, const std::string& key, const toml::node& node) const {
    const auto* s = node.as_string();
    if (s == nullptr) bad(section, key, node, "must be a string");
    return s->get();
  }

  std::int64_t integer(const std::string& section, const std::string& key, const toml::node& node,
                       std::int64_t min) const {
    const auto* i = node.as_integer();
    if (i == nullptr) bad(section, key, node, "must be an integer");
    if (i->get() < min) bad(section, key, node, "must be at least " + std::to_string(min));
    return i->get();
  }

  bool boolean(const std::string& section, const std::string& key, const toml::node& node) const {
    const auto* b = node.as_boolean();
    if (b == nullptr) bad(section, key, node, "must be true or false");
    return b->get();
  }

  double number(const std::string& section, const std::string& key, const toml::node& node) const {
    double value = 0.0;
    if (const auto* i = node.as_integer()) {
      value = static_cast<double>(i->get());
    } else if (const auto* f = node.as_floating_point()) {
      value = f->get();
    } else {
      bad(section, key, node, "must be a number");
    }
    if (!std::isfinite(value)) bad(section, key, node, "must be finite");
    return value;
  }

  // A string or a list of strings.
  std::vector<std::string> strings(const std::string& section, const std::string& key, const toml::node& node) const {
    std::vector<std::string> out;
    if (node.is_string()) {
      out.push_back(node.as_string()->get());
    } else if (const auto* a = node.as_array()) {
      if (a->empty()) bad(section, key, node, "must not be empty");
      for (const toml::node& element : *a) out.push_back(string(section, key, element));
    } else {
      bad(section, key, node, "must be a string or a list of strings");
    }
    return out;
  }

  const toml::table& table(const std::string& section, const toml::node& node) const {
    const auto* t = node.as_table();
    if (t == nullptr) fail(where(node), "[" + section + "]", "must be a table");
    return *t;
  }

  ComponentSpec component(const std::string& section, const toml::table& table,
                          const std::set<std::string>& reserved = {}) const {
    ComponentSpec spec;
    spec.section = section;
    spec.location = where(table);
    const toml::node* kind = table.get("kind");
    if (kind == nullptr) fail(spec.location, "[" + section + "]", "key 'kind' is required");
    spec.kind = string(section, "kind", *kind);
    for (auto&& [key, node] : table) {
      const std::string name(key.str());
      spec.key_locations[name] =
          overridden.count(section + "." + name) ? SourceLocation{"--set", 0} : location_of(file, key.source());
      if (name == "kind" || reserved.count(name) != 0) continue;
      spec.params.set(name, to_param(section, name, node));
    }
    return spec;
  }
};

void check_keys(const Reader& reader, const std::string& section, const toml::table& table,
                const std::set<std::string>& allowed) {
  for (auto&& [key, node] : table) {
    const std::string name(key.str());
    if (allowed.count(name) != 0) continue;
    std::string valid;
    for (const std::string& a : allowed) valid += (valid.empty() ? "" : ", ") + a;
    fail(location_of(reader.file, key.source()), "[" + section + "] " + name + " = " + node_text(node),
         "unknown key; valid keys are: " + valid);
  }
}

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

// Applies one "--set section.key=value" to the document.
void apply_override(toml::table& document, const std::string& assignment) {
  const auto equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0)
    throw ConfigError("--set " + assignment + ": expected section.key=value");
  std::string path = assignment.substr(0, equals);
  std::string value = assignment.substr(equals + 1);
  while (!path.empty() && path.back() == ' ') path.pop_back();
  const auto dot = path.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == path.size())
    throw ConfigError("--set " + assignment + ": the key must be section.key (e.g. sampling.particles=5000)");
  const std::string section = path.substr(0, dot), key = path.substr(dot + 1);
  toml::table parsed;
  try {
    parsed = toml::parse(std::string_view(std::string("value = ") + value), std::string_view("--set"));
  } catch (const toml::parse_error&) {
    // A bare word: take it as a string.
    parsed = toml::table{{"value", value}};
  }
  toml::node* section_node = document.get(section);
  if (section_node == nullptr) {
    document.insert(section, toml::table{});
    section_node = document.get(section);
  }
  toml::table* section_table = section_node->as_table();
  if (section_table == nullptr)
    throw ConfigError("--set " + assignment + ": [" + section + "] is not a table (arrays of tables such as "
                      "[[estimator]] and [[claim]] cannot be overridden)");
  // Nested tables: "sampling.params.pmm_pc.langevin_time" sets langevin_time in
  // [sampling.params.pmm_pc] (created if absent). [sweep] keys are dotted paths themselves.
  std::string leaf = key;
  if (section != "sweep") {
    for (auto next = leaf.find('.'); next != std::string::npos; next = leaf.find('.')) {
      const std::string name = leaf.substr(0, next);
      leaf = leaf.substr(next + 1);
      if (name.empty() || leaf.empty())
        throw ConfigError("--set " + assignment + ": empty table or key name in the path");
      if (section_table->get(name) == nullptr) section_table->insert(name, toml::table{});
      section_table = section_table->get(name)->as_table();
      if (section_table == nullptr)
        throw ConfigError("--set " + assignment + ": '" + name + "' in the path is not a table");
    }
  }
  section_table->insert_or_assign(leaf, *parsed.get("value"));
}

}  // namespace

std::string SourceLocation::str() const {
  if (file == "--set") return "--set";
  return line > 0 ? file + ":" + std::to_string(line) : file;
}

SourceLocation ComponentSpec::locate(const std::string& message) const {
  for (const auto& [key, where] : key_locations)
    if (message.find("key '" + key + "'") != std::string::npos) return where;
  // Otherwise the key (or its singular) mentioned first, e.g. "c1 = 1 must exceed c0 = 2" -> c1,
  // "covariance is not positive definite" -> covariances.
  std::size_t best = std::string::npos;
  SourceLocation found = location;
  const std::size_t skip = message.find(": ");  // past the component's own name ("target 'gaussian'")
  for (const auto& [key, where] : key_locations) {
    if (key == "kind") continue;
    for (const std::string& word : {key, key.back() == 's' ? key.substr(0, key.size() - 1) : key}) {
      const std::size_t at = message.find(word, skip == std::string::npos ? 0 : skip);
      if (at != std::string::npos && (best == std::string::npos || at < best)) {
        best = at;
        found = where;
      }
    }
  }
  return found;
}

std::string to_string(ClaimSpec::Bound bound) {
  switch (bound) {
    case ClaimSpec::Bound::kUpper:
      return "upper";
    case ClaimSpec::Bound::kLower:
      return "lower";
    case ClaimSpec::Bound::kExact:
      return "exact";
  }
  return "unknown";
}

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
  toml::table document;
  try {
    document = toml::parse(std::string_view(text), std::string_view(source_name));
  } catch (const toml::parse_error& error) {
    throw ConfigError(source_name + ":" + std::to_string(error.source().begin.line) +
                      ": not valid TOML: " + std::string(error.description()));
  }
  for (const std::string& assignment : overrides) {
    apply_override(document, assignment);
    std::string path = assignment.substr(0, assignment.find('='));
    while (!path.empty() && path.back() == ' ') path.pop_back();
    reader.overridden.insert(path);
  }

  ExperimentConfig config;
  config.path = source_name;
  {
    std::ostringstream canonical;
    canonical << toml::toml_formatter(document);
    config.text = canonical.str();
  }
  config.hash = fnv1a_hex(config.text);

  const std::set<std::string> sections = {"experiment", "target", "schedule", "score_error", "sampling",
                                          "estimator", "sweep", "claim", "lsi"};  // [lsi]: read by `dmconv lsi` only
  check_keys(reader, "(top level)", document, sections);
  auto required_table = [&](const std::string& section) -> const toml::table& {
    const toml::node* node = document.get(section);
    if (node == nullptr) fail({source_name, 0}, "[" + section + "]", "section is required");
    return reader.table(section, *node);
  };

  // [experiment]
  const toml::table& experiment = required_table("experiment");
  check_keys(reader, "experiment", experiment, {"name", "description", "seed", "replicates"});
  if (const toml::node* n = experiment.get("name")) {
    config.name = reader.string("experiment", "name", *n);
  } else {
    fail(reader.where(experiment), "[experiment]", "key 'name' is required");
  }
  if (const toml::node* n = experiment.get("description")) config.description = reader.string("experiment", "description", *n);
  if (const toml::node* n = experiment.get("seed")) config.seed = static_cast<std::uint64_t>(reader.integer("experiment", "seed", *n, 0));
  if (const toml::node* n = experiment.get("replicates")) {
    config.replicates = static_cast<int>(reader.integer("experiment", "replicates", *n, 1));
    if (config.replicates > 100000) reader.bad("experiment", "replicates", *n, "must be at most 100000");
  }

  // [target], [schedule]
  config.target = reader.component("target", required_table("target"));
  check_registered(reader, target_registry(), "target", "target", "kind", config.target.kind,
                   *required_table("target").get("kind"));
  config.schedule = reader.component("schedule", required_table("schedule"));
  check_registered(reader, schedule_registry(), "schedule", "schedule", "kind", config.schedule.kind,
                   *required_table("schedule").get("kind"));

  // [score_error] (optional)
  config.score_error.section = "score_error";
  config.score_error.kind = "none";
  config.score_error.location = {source_name, 0};
  if (const toml::node* n = document.get("score_error")) {
    const toml::table& table = reader.table("score_error", *n);
    config.score_error = reader.component("score_error", table, {"measure_samples"});
    check_registered(reader, score_errors::score_error_registry(), "score error", "score_error", "kind",
                     config.score_error.kind, *table.get("kind"));
    if (const toml::node* m = table.get("measure_samples")) {
      config.measure_samples = static_cast<Eigen::Index>(reader.integer("score_error", "measure_samples", *m, 0));
      if (config.measure_samples == 1) reader.bad("score_error", "measure_samples", *m, "must be 0 (skip) or at least 2");
    }
  }

  // [sampling]
  const toml::table& sampling = required_table("sampling");
  check_keys(reader, "sampling", sampling,
             {"samplers", "steps", "initialisation", "comparison_level", "particles", "oracle", "params"});
  for (auto&& [key, node] : sampling) config.sampling_locations[std::string(key.str())] = location_of(source_name, key.source());
  if (const toml::node* n = sampling.get("samplers")) {
    config.samplers = reader.strings("sampling", "samplers", *n);
    for (const std::string& s : config.samplers) check_registered(reader, sampler_registry(), "sampler", "sampling", "samplers", s, *n);
    std::set<std::string> seen;
    for (const std::string& s : config.samplers)
      if (!seen.insert(s).second) reader.bad("sampling", "samplers", *n, "lists '" + s + "' twice");
  } else {
    fail(reader.where(sampling), "[sampling]", "key 'samplers' is required");
  }
  if (const toml::node* n = sampling.get("params")) {
    // [sampling.params.NAME]: the parameters of sampler NAME, validated by its factory now.
    for (auto&& [key, node] : reader.table("sampling.params", *n)) {
      const std::string name(key.str());
      const std::string section = "sampling.params." + name;
      if (std::find(config.samplers.begin(), config.samplers.end(), name) == config.samplers.end())
        fail(location_of(source_name, key.source()), "[" + section + "]", "'" + name + "' is not in [sampling] samplers");
      ParamTable params;
      for (auto&& [param_key, param_node] : reader.table(section, node))
        params.set(std::string(param_key.str()), reader.to_param(section, std::string(param_key.str()), param_node));
      try {
        sampler_registry().make(name, params);
      } catch (const InvalidArgument& error) {
        // At the line of the key the factory names ("key 'K'"), or "--set" when K was overridden.
        SourceLocation at = reader.where(node);
        const std::string message = error.what();
        const auto* parameter_error = dynamic_cast<const ParameterError*>(&error);
        for (auto&& [param_key, param_node] : reader.table(section, node)) {
          const std::string k(param_key.str());
          if (parameter_error ? parameter_error->key() != k : message.find("key '" + k + "'") == std::string::npos)
            continue;
          at = reader.overridden.count(section + "." + k) ? SourceLocation{"--set", 0}
                                                           : location_of(source_name, param_key.source());
        }
        fail(at, "[" + section + "]", message);
      }
      config.sampler_params[name] = params;
    }
  }
  if (const toml::node* n = sampling.get("steps")) {
    auto one = [&](const toml::node& v) {
      const std::int64_t T = reader.integer("sampling", "steps", v, 2);
      if (T > 10000000) reader.bad("sampling", "steps", v, "must be at most 1e7");
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
  } else {
    fail(reader.where(sampling), "[sampling]", "key 'steps' is required");
  }
  if (const toml::node* n = sampling.get("initialisation")) {
    const std::string init = reader.string("sampling", "initialisation", *n);
    if (init == "exact") {
      config.initialisation = Initialisation::kExactMarginal;
    } else if (init == "standard_normal") {
      config.initialisation = Initialisation::kStandardNormal;
    } else {
      reader.bad("sampling", "initialisation", *n, "must be \"exact\" (Y_T ~ p_{X_T}) or \"standard_normal\"");
    }
  }
  if (const toml::node* n = sampling.get("comparison_level")) {
    const std::int64_t level = reader.integer("sampling", "comparison_level", *n, 0);
    if (level > 1) reader.bad("sampling", "comparison_level", *n, "must be 1 (compare with X_1) or 0 (with the data)");
    config.comparison_level = static_cast<int>(level);
  }
  if (const toml::node* n = sampling.get("particles")) {
    config.particles = static_cast<Eigen::Index>(reader.integer("sampling", "particles", *n, 1));
  }
  if (const toml::node* n = sampling.get("oracle")) config.oracle_rows = reader.boolean("sampling", "oracle", *n);

  // [[estimator]]
  const toml::node* estimators = document.get("estimator");
  if (estimators == nullptr) fail({source_name, 0}, "[[estimator]]", "at least one estimator is required");
  const toml::array* estimator_array = estimators->as_array();
  if (estimator_array == nullptr || estimator_array->empty())
    fail(reader.where(*estimators), "estimator", "must be an array of tables ([[estimator]])");
  for (std::size_t i = 0; i < estimator_array->size(); ++i) {
    const std::string section = "estimator #" + std::to_string(i + 1);
    const toml::table& table = reader.table(section, *estimator_array->get(i));
    EstimatorSpec spec;
    spec.component = reader.component(section, table, {"metrics", "samplers"});
    check_registered(reader, estimator_registry(), "estimator", section, "kind", spec.component.kind, *table.get("kind"));
    if (const toml::node* n = table.get("metrics")) {
      spec.metrics = reader.strings(section, "metrics", *n);
      for (const std::string& m : spec.metrics)
        if (kMetrics.count(m) == 0)
          reader.bad(section, "metrics", *n, "unknown metric '" + m + "'; valid metrics are: hellinger, kl_output_target, "
                                             "kl_target_output, tv, w2");
    }
    if (const toml::node* n = table.get("samplers")) {
      spec.samplers = reader.strings(section, "samplers", *n);
      for (const std::string& s : spec.samplers)
        if (std::find(config.samplers.begin(), config.samplers.end(), s) == config.samplers.end())
          reader.bad(section, "samplers", *n, "'" + s + "' is not in [sampling] samplers");
    }
    config.estimators.push_back(std::move(spec));
  }

  // [sweep]
  if (const toml::node* n = document.get("sweep")) {
    const toml::table& sweep = reader.table("sweep", *n);
    for (auto&& [key, node] : sweep) {
      const std::string path(key.str());
      SweepAxis axis;
      axis.path = path;
      axis.location = location_of(source_name, key.source());
      const auto dot = path.find('.');
      const std::string section = dot == std::string::npos ? "" : path.substr(0, dot);
      const std::string name = dot == std::string::npos ? "" : path.substr(dot + 1);
      if (section != "target" && section != "schedule" && section != "sampling" && section != "score_error")
        reader.bad("sweep", "\"" + path + "\"", node,
                   "sweep keys are \"target.KEY\", \"schedule.KEY\", \"score_error.KEY\" or \"sampling.KEY\"");
      if (section == "score_error" && name == "measure_samples")
        reader.bad("sweep", "\"" + path + "\"", node, "measure_samples cannot be swept");
      if (name == "kind")
        reader.bad("sweep", "\"" + path + "\"", node, "the kind of a component cannot be swept (write one config per kind)");
      const bool sampler_param = section == "sampling" && name.rfind("params.", 0) == 0;
      if (sampler_param) {
        // "sampling.params.NAME.KEY": a parameter of sampler NAME (validated per value below).
        const std::string rest = name.substr(7);
        const auto split = rest.find('.');
        const std::string sampler = rest.substr(0, split);
        if (split == std::string::npos || split + 1 >= rest.size())
          reader.bad("sweep", "\"" + path + "\"", node, "sampler parameters are swept as \"sampling.params.NAME.KEY\"");
        if (std::find(config.samplers.begin(), config.samplers.end(), sampler) == config.samplers.end())
          reader.bad("sweep", "\"" + path + "\"", node, "'" + sampler + "' is not in [sampling] samplers");
      } else if (section == "sampling" && name != "particles" && name != "initialisation") {
        reader.bad("sweep", "\"" + path + "\"", node,
                   "sampling.samplers and sampling.steps are sweep axes already; only sampling.particles, "
                   "sampling.initialisation and sampler parameters \"sampling.params.NAME.KEY\" can be swept here");
      }
      const toml::array* values = node.as_array();
      if (values == nullptr || values->empty()) reader.bad("sweep", "\"" + path + "\"", node, "must be a non-empty list");
      for (const toml::node& v : *values) axis.values.push_back(reader.to_param("sweep", path, v));
      if (sampler_param) {
        // Every value must give a valid sampler (with the other [sampling.params.NAME] keys).
        const std::string rest = name.substr(7);
        const std::string sampler = rest.substr(0, rest.find('.')), param = rest.substr(rest.find('.') + 1);
        for (std::size_t i = 0; i < axis.values.size(); ++i) {
          ParamTable params = config.sampler_params.count(sampler) ? config.sampler_params.at(sampler) : ParamTable{};
          params.set(param, axis.values[i]);
          try {
            sampler_registry().make(sampler, params);
          } catch (const InvalidArgument& error) {
            reader.bad("sweep", "\"" + path + "\"", (*values)[i], error.what());
          }
        }
      }
      if (section == "sampling" && name == "particles")
        for (const toml::node& v : *values) reader.integer("sweep", path, v, 1);
      if (section == "sampling" && name == "initialisation")
        for (const toml::node& v : *values) {
          const std::string s = reader.string("sweep", path, v);
          if (s != "exact" && s != "standard_normal")
            reader.bad("sweep", path, v, "must be \"exact\" or \"standard_normal\"");
        }
      config.sweep.push_back(std::move(axis));
    }
    // toml++ iterates keys in sorted order; the documented axis order is the file's.
    std::stable_sort(config.sweep.begin(), config.sweep.end(),
                     [](const SweepAxis& a, const SweepAxis& b) { return a.location.line < b.location.line; });
  }

  // [[claim]]
  if (const toml::node* n = document.get("claim")) {
    const toml::array* claims = n->as_array();
    if (claims == nullptr) fail(reader.where(*n), "claim", "must be an array of tables ([[claim]])");
    for (std::size_t i = 0; i < claims->size(); ++i) {
      const std::string section = "claim #" + std::to_string(i + 1);
      const toml::table& table = reader.table(section, *claims->get(i));
      check_keys(reader, section, table,
                 {"name", "source", "sampler", "versus", "metric", "estimator", "axis", "slope", "tolerance", "floor_factor", "bound",
                  "log_power", "min", "max", "where", "baseline", "model"});
      ClaimSpec claim;
      claim.location = reader.where(table);
      auto need = [&](const char* key) -> const toml::node& {
        const toml::node* node = table.get(key);
        if (node == nullptr) fail(claim.location, "[[claim]] " + section, std::string("key '") + key + "' is required");
        return *node;
      };
      claim.name = reader.string(section, "name", need("name"));
      if (const toml::node* v = table.get("source")) claim.source = reader.string(section, "source", *v);
      claim.sampler = reader.string(section, "sampler", need("sampler"));
      auto in_samplers = [&](const std::string& key, const std::string& s, const toml::node& node) {
        if (s == "oracle") {
          if (!config.oracle_rows) reader.bad(section, key, node, "'oracle' rows need [sampling] oracle = true");
          return;
        }
        if (std::find(config.samplers.begin(), config.samplers.end(), s) == config.samplers.end())
          reader.bad(section, key, node, "'" + s + "' is not in [sampling] samplers (or 'oracle')");
      };
      in_samplers("sampler", claim.sampler, need("sampler"));
      if (const toml::node* v = table.get("versus")) {
        claim.versus = reader.string(section, "versus", *v);
        in_samplers("versus", claim.versus, *v);
      }
      claim.metric = reader.string(section, "metric", need("metric"));
      if (kMetrics.count(claim.metric) == 0)
        reader.bad(section, "metric", need("metric"), "unknown metric; valid metrics are: hellinger, kl_output_target, "
                                                      "kl_target_output, tv, w2");
      if (const toml::node* v = table.get("estimator")) {
        claim.estimator = reader.string(section, "estimator", *v);
        bool found = false;
        for (const EstimatorSpec& e : config.estimators) found = found || e.component.kind == claim.estimator;
        if (!found) reader.bad(section, "estimator", *v, "no [[estimator]] of this kind in the config");
      }
      claim.axis = reader.string(section, "axis", need("axis"));
      if (claim.axis == "d") claim.axis = "target.dim";
      bool axis_known = claim.axis == "T";
      for (const SweepAxis& a : config.sweep) axis_known = axis_known || a.path == claim.axis;
      if (!axis_known)
        reader.bad(section, "axis", need("axis"), "must be \"T\" or a [sweep] key (\"d\" = \"target.dim\")");
      claim.slope = reader.number(section, "slope", need("slope"));
      if (const toml::node* v = table.get("tolerance")) {
        claim.tolerance = reader.number(section, "tolerance", *v);
        if (claim.tolerance < 0.0) reader.bad(section, "tolerance", *v, "must be non-negative");
      }
      if (const toml::node* v = table.get("floor_factor")) {
        claim.floor_factor = reader.number(section, "floor_factor", *v);
        if (claim.floor_factor < 0.0) reader.bad(section, "floor_factor", *v, "must be non-negative");
      }
      if (const toml::node* v = table.get("bound")) {
        const std::string bound = reader.string(section, "bound", *v);
        if (bound == "upper") {
          claim.bound = ClaimSpec::Bound::kUpper;
        } else if (bound == "lower") {
          claim.bound = ClaimSpec::Bound::kLower;
        } else if (bound == "exact") {
          claim.bound = ClaimSpec::Bound::kExact;
        } else {
          reader.bad(section, "bound", *v,
                     "must be \"upper\" (theorem bounds the error from above), \"lower\" or \"exact\" (two-sided)");
        }
      }
      if (const toml::node* v = table.get("model")) {
        const std::string model = reader.string(section, "model", *v);
        if (model == "power") {
          claim.model = ClaimSpec::Model::kPowerLaw;
        } else if (model == "exponential") {
          claim.model = ClaimSpec::Model::kExponential;
          claim.log_power_free = false;  // no log factor in the exponential model
        } else {
          reader.bad(section, "model", *v,
                     "must be \"power\" (log err linear in log x) or \"exponential\" (log err linear in x)");
        }
      }
      if (const toml::node* v = table.get("log_power")) {
        if (claim.model == ClaimSpec::Model::kExponential &&
            !(v->is_string() && v->as_string()->get() == "none"))
          reader.bad(section, "log_power", *v, "must be \"none\" (or absent) with model = \"exponential\"");
        if (v->is_string()) {
          const std::string mode = v->as_string()->get();
          if (mode == "free") {
            claim.log_power_free = true;
          } else if (mode == "none") {
            claim.log_power_free = false;
            claim.log_power.reset();
          } else {
            reader.bad(section, "log_power", *v, "must be \"free\", \"none\" or a number (fixed power k of log x)");
          }
        } else {
          claim.log_power_free = false;
          claim.log_power = reader.number(section, "log_power", *v);
        }
      }
      if (const toml::node* v = table.get("baseline")) {
        claim.baseline = reader.number(section, "baseline", *v);
        if (!claim.versus.empty()) reader.bad(section, "baseline", *v, "cannot be combined with versus");
      }
      if (const toml::node* v = table.get("min")) claim.min = reader.number(section, "min", *v);
      if (const toml::node* v = table.get("max")) claim.max = reader.number(section, "max", *v);
      if (claim.min && claim.max && *claim.min >= *claim.max)
        reader.bad(section, "max", *table.get("max"), "must exceed min");
      if (const toml::node* v = table.get("where")) {
        const toml::table* filters = v->as_table();
        if (filters == nullptr) reader.bad(section, "where", *v, "must be a table of sweep key = value");
        for (auto&& [key, node] : *filters) {
          const std::string path(key.str());
          const SweepAxis* axis = nullptr;
          for (const SweepAxis& a : config.sweep)
            if (a.path == path) axis = &a;
          if (axis == nullptr) reader.bad(section, "where." + path, node, "is not a [sweep] key");
          claim.where.emplace_back(path, reader.to_param(section, "where." + path, node));
        }
      }
      config.claims.push_back(std::move(claim));
    }
  }
  return config;
}

std::vector<RunSpec> expand_runs(const ExperimentConfig& config) {
  std::vector<RunSpec> runs;
  std::vector<std::size_t> position(config.sweep.size(), 0);
  while (true) {
    RunSpec base;
    base.target = config.target;
    base.schedule = config.schedule;
    base.score_error = config.score_error;
    base.particles = config.particles;
    base.initialisation = config.initialisation;
    base.sampler_params = config.sampler_params;
    std::string prefix;
    for (std::size_t a = 0; a < config.sweep.size(); ++a) {
      const SweepAxis& axis = config.sweep[a];
      const ParamValue& value = axis.values[position[a]];
      base.swept.emplace_back(axis.path, value);
      prefix += axis.path + "=" + value.to_string() + ";";
      const auto dot = axis.path.find('.');
      const std::string section = axis.path.substr(0, dot), key = axis.path.substr(dot + 1);
      ComponentSpec* component = section == "target"        ? &base.target
                                 : section == "schedule"    ? &base.schedule
                                 : section == "score_error" ? &base.score_error
                                                            : nullptr;
      if (component != nullptr) {
        component->params.set(key, value);
        component->key_locations[key] = axis.location;
      } else if (key.rfind("params.", 0) == 0) {
        const std::string rest = key.substr(7);
        base.sampler_params[rest.substr(0, rest.find('.'))].set(rest.substr(rest.find('.') + 1), value);
      } else if (key == "particles") {
        base.particles = static_cast<Eigen::Index>(value.number());
      } else if (key == "initialisation") {
        base.initialisation =
            value.string() == "exact" ? Initialisation::kExactMarginal : Initialisation::kStandardNormal;
      }
    }
    for (const std::string& sampler : config.samplers) {
      for (int T : config.steps) {
        for (int r = 0; r < config.replicates; ++r) {
          RunSpec run = base;
          run.index = runs.size();
          run.sampler = sampler;
          run.steps = T;
          run.replicate = r;
          run.key = prefix + "sampler=" + sampler + ";T=" + std::to_string(T) + ";replicate=" + std::to_string(r);
          runs.push_back(std::move(run));
        }
      }
    }
    // Odometer over the sweep axes, last axis fastest.
    std::size_t a = config.sweep.size();
    while (a > 0) {
      --a;
      if (++position[a] < config.sweep[a].values.size()) break;
      position[a] = 0;
      if (a == 0) return runs;
    }
    if (config.sweep.empty()) return runs;
  }
}

}  // namespace dmconv::config
