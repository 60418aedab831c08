// --set section.key=value: applied to the TOML document before any section is read, so an
// override is validated like the key it replaces.
#include "config/toml_reader.hpp"

namespace dmconv::config {

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


}  // namespace dmconv::config
