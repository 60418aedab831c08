#include "config/toml_reader.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace dmconv::config {

const std::set<std::string>& known_metrics() {
  static const std::set<std::string> metrics = {"tv", "kl_target_output", "kl_output_target", "w2",
                                                "hellinger", "sliced_w2", "mmd2", "kernel_kl_sum",
                                                // posterior experiments: distance to pi_eta / to pi
                                                "tv_to_pi_eta", "kl_to_pi_eta", "w2_to_pi_eta",
                                                "tv_to_pi", "kl_to_pi", "w2_to_pi"};
  return metrics;
}

std::string metric_list() {
  std::string out;
  for (const std::string& m : known_metrics()) out += (out.empty() ? "" : ", ") + m;
  return out;
}

SourceLocation location_of(const std::string& file, const toml::source_region& region) {
  // Overrides are parsed from a document named "--set"; tables and keys they create have no source.
  if (!region.path || *region.path == "--set") return {"--set", 0};
  return {file, static_cast<int>(region.begin.line)};
}

void fail(const SourceLocation& where, const std::string& what, const std::string& rule) {
  throw ConfigError(where.str() + ": " + what + ": " + rule);
}

std::string node_text(const toml::node& node) {
  std::ostringstream out;
  if (const auto* s = node.as_string()) {
    // Control characters as TOML escapes: a NUL would otherwise end the message where it is
    // printed as a C string, and a newline would split it.
    out << '"';
    for (const char ch : s->get()) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x20 || c == 0x7f) {
        char escape[8];
        std::snprintf(escape, sizeof escape, "\\u%04x", c);
        out << escape;
      } else {
        out << ch;
      }
    }
    out << '"';
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

std::string SourceLocation::str() const {
  if (file == "--set") return "--set";
  return line > 0 ? file + ":" + std::to_string(line) : file;
}

SourceLocation ComponentSpec::key_location(const std::string& key) const {
  const auto found = key.empty() ? key_locations.end() : key_locations.find(key);
  return found != key_locations.end() ? found->second : location;
}

ConfigError component_error(const ComponentSpec& spec, const InvalidArgument& error) {
  if (const auto* parameter = dynamic_cast<const ParameterError*>(&error); parameter && !parameter->key().empty())
    return ConfigError(spec.key_location(parameter->key()).str() + ": [" + spec.section + "] " + parameter->key() +
                       " = " + parameter->value() + ": " + parameter->rule());
  // No single key to blame: the section header, with the component's whole message.
  const std::string what = spec.key_locations.count("kind") ? " kind = \"" + spec.kind + "\"" : std::string();
  return ConfigError(spec.location.str() + ": [" + spec.section + "]" + what + ": " + error.what());
}

SourceLocation Reader::key_where(const std::string& section, const std::string& key, const toml::key& name) const {
  return overridden.count(section + "." + key) ? SourceLocation{"--set", 0} : location_of(file, name.source());
}

void Reader::bad(const std::string& section, const std::string& key, const toml::node& node,
                 const std::string& rule) const {
  const SourceLocation at = overridden.count(section + "." + key) ? SourceLocation{"--set", 0} : where(node);
  fail(at, "[" + section + "] " + key + " = " + node_text(node), rule);
}

ParamValue Reader::to_param(const std::string& section, const std::string& key, const toml::node& node) const {
  // Integers stay exact int64 all the way to the declared-parameter layer (core/params.hpp): a
  // double would round above 2^53 and misquote the value in the range error.
  if (const auto* i = node.as_integer()) return ParamValue(static_cast<std::int64_t>(i->get()));
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

std::string Reader::string(const std::string& section, const std::string& key, const toml::node& node) const {
  const auto* s = node.as_string();
  if (s == nullptr) bad(section, key, node, "must be a string");
  return s->get();
}

std::int64_t Reader::integer(const std::string& section, const std::string& key, const toml::node& node,
                             std::int64_t min) const {
  const auto* i = node.as_integer();
  if (i == nullptr) bad(section, key, node, "must be an integer");
  if (i->get() < min) bad(section, key, node, "must be at least " + std::to_string(min));
  return i->get();
}

std::int64_t Reader::integer(const std::string& section, const std::string& key, const toml::node& node,
                             std::int64_t min, std::int64_t max, const std::string& why) const {
  const auto* i = node.as_integer();
  if (i == nullptr) bad(section, key, node, "must be an integer");
  // Compared as int64 before any narrowing, so 2^32 + 1 is not read as 1.
  if (i->get() < min || i->get() > max)
    bad(section, key, node, "must lie in [" + std::to_string(min) + ", " + std::to_string(max) + "]" +
                                (why.empty() ? "" : " (" + why + ")"));
  return i->get();
}

bool Reader::boolean(const std::string& section, const std::string& key, const toml::node& node) const {
  const auto* b = node.as_boolean();
  if (b == nullptr) bad(section, key, node, "must be true or false");
  return b->get();
}

double Reader::number(const std::string& section, const std::string& key, const toml::node& node) const {
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

std::vector<std::string> Reader::strings(const std::string& section, const std::string& key,
                                         const toml::node& node) const {
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

const toml::table& Reader::table(const std::string& section, const toml::node& node) const {
  const auto* t = node.as_table();
  if (t == nullptr) fail(where(node), "[" + section + "]", "must be a table");
  return *t;
}

ComponentSpec Reader::component(const std::string& section, const toml::table& table,
                                const std::set<std::string>& reserved) const {
  ComponentSpec spec;
  spec.section = section;
  spec.location = where(table);
  const toml::node* kind = table.get("kind");
  if (kind == nullptr) fail(spec.location, "[" + section + "]", "key 'kind' is required");
  spec.kind = string(section, "kind", *kind);
  for (auto&& [key, node] : table) {
    const std::string name(key.str());
    spec.key_locations[name] = key_where(section, name, key);
    if (name == "kind" || reserved.count(name) != 0) continue;
    spec.params.set(name, to_param(section, name, node));
  }
  return spec;
}

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

const toml::table& required_table(const Reader& reader, const toml::table& document, const std::string& section) {
  const toml::node* node = document.get(section);
  if (node == nullptr) fail({reader.file, 0}, "[" + section + "]", "section is required");
  return reader.table(section, *node);
}

}  // namespace dmconv::config
