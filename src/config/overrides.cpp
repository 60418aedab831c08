// --set section.key=value: applied to the TOML document before any section is read, so an
// override is validated like the key it replaces. Every error here names "--set", the assignment
// and the rule; errors found later by the section readers are located at "--set" (Reader).
#include <cctype>

#include "config/toml_reader.hpp"

namespace dmconv::config {
namespace {

// The assignment as it can be printed on one line: control characters (a newline pasted into a
// shell argument, a NUL) shown as \n, \t or \xNN.
std::string printable(const std::string& text) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

[[noreturn]] void bad_override(const std::string& assignment, const std::string& rule) {
  throw ConfigError("--set " + printable(assignment) + ": " + rule);
}

// A bare word (exact, standard_normal, logsnr_uniform, pmm-pc) is taken as a string; anything else
// that is not valid TOML ("[1, 2", "1e", "9223372036854775808") is an error, not a string.
bool bare_word(const std::string& value) {
  if (value.empty() || !(std::isalpha(static_cast<unsigned char>(value.front())) || value.front() == '_')) return false;
  for (const char c : value)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

}  // namespace

std::string override_path(const std::string& assignment) {
  std::string path = assignment.substr(0, assignment.find('='));
  while (!path.empty() && path.back() == ' ') path.pop_back();
  while (!path.empty() && path.front() == ' ') path.erase(path.begin());
  return path;
}

void apply_override(toml::table& document, const std::string& assignment, const std::set<std::string>& sections) {
  // Checked first: a newline would otherwise end the TOML value early and the rest of the
  // argument would be dropped (or become another key) without a word.
  for (const char ch : assignment) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f)
      bad_override(assignment, "contains a control character (newline, tab, NUL, ...); write the value on one line, "
                               "with escapes inside a TOML string if it needs them");
  }
  const auto equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0) bad_override(assignment, "expected section.key=value");
  const std::string path = override_path(assignment);
  std::string value = assignment.substr(equals + 1);
  while (!value.empty() && value.front() == ' ') value.erase(value.begin());
  while (!value.empty() && value.back() == ' ') value.pop_back();
  const auto dot = path.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == path.size())
    bad_override(assignment, "the key must be section.key (e.g. sampling.particles=5000)");
  for (const char c : path)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      bad_override(assignment, "the key '" + path + "' may use only letters, digits, '_', '-' and '.'");
  if (value.empty()) bad_override(assignment, "the value is empty (write \"\" for an empty string)");
  const std::string section = path.substr(0, dot), key = path.substr(dot + 1);
  if (sections.count(section) == 0) {
    std::string valid;
    for (const std::string& s : sections) valid += (valid.empty() ? "" : ", ") + s;
    bad_override(assignment, "unknown section [" + section + "]; valid sections are: " + valid);
  }
  toml::table parsed;
  try {
    parsed = toml::parse(std::string_view(std::string("value = ") + value), std::string_view("--set"));
  } catch (const toml::parse_error& error) {
    if (!bare_word(value))
      bad_override(assignment, "the value is not valid TOML (" + std::string(error.description()) + ")" +
                                   (std::isalpha(static_cast<unsigned char>(value.front()))
                                        ? "; quote strings that are not bare words, e.g. " + path + "=\"a b\""
                                        : std::string()));
    parsed = toml::table{{"value", value}};
  }
  // "value = 1 x = 2" parses as one value and then fails; "value = 1\n" cannot occur (no control
  // characters). A second key is therefore impossible, but say so if toml++ ever allows it.
  if (parsed.size() != 1) bad_override(assignment, "the value must be a single TOML value");
  toml::node* section_node = document.get(section);
  if (section_node == nullptr) {
    document.insert(section, toml::table{});
    section_node = document.get(section);
  }
  toml::table* section_table = section_node->as_table();
  if (section_table == nullptr)
    bad_override(assignment, "[" + section + "] is not a table (arrays of tables such as [[estimator]] and [[claim]] "
                             "cannot be overridden)");
  // Nested tables: "sampling.params.pmm_pc.langevin_time" sets langevin_time in
  // [sampling.params.pmm_pc] (created if absent). [sweep] keys are dotted paths themselves.
  std::string leaf = key;
  if (section != "sweep") {
    for (auto next = leaf.find('.'); next != std::string::npos; next = leaf.find('.')) {
      const std::string name = leaf.substr(0, next);
      leaf = leaf.substr(next + 1);
      if (name.empty() || leaf.empty()) bad_override(assignment, "empty table or key name in the path");
      if (section_table->get(name) == nullptr) section_table->insert(name, toml::table{});
      section_table = section_table->get(name)->as_table();
      if (section_table == nullptr) bad_override(assignment, "'" + name + "' in the path is not a table");
    }
  }
  section_table->insert_or_assign(leaf, *parsed.get("value"));
}

}  // namespace dmconv::config
