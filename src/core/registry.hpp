// One registry per concept (targets, schedules, samplers, ...): name -> description, source,
// declared parameters and factory. Adding a component is one file plus one line in its registry
// function; the conformance test suites iterate over the registry, so they test it automatically.
//
// Every entry declares its parameters (core/params.hpp); Entry::make reads the ParamTable through
// that declaration before the factory sees it, so unknown keys, types, ranges and defaults are
// handled in one place and every parameter error is a ParameterError naming the key.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/params.hpp"

namespace dmconv {

template <class Product>
class Registry {
 public:
  // Builds the product from parameters already checked against the entry's declaration.
  using Factory = std::function<std::unique_ptr<Product>(const DeclaredParams&)>;
  struct Entry {
    std::string name;
    std::string description;  // one line, shown by `dmconv list`
    std::string source;       // paper and equation, or docs/theory.md section
    ParamDeclaration params;  // every accepted parameter, with its default (`dmconv describe`)
    Factory build;
    ParamTable example;       // parameters of a representative instance (tests, `describe`)
    std::string component = {};  // "<kind> '<name>'", the name in error messages (set by Registry::add)

    // Reads `table` through `params` and builds. Throws ParameterError on any parameter error;
    // an InvalidArgument that escapes the factory without naming a key becomes a ParameterError
    // with an empty key (the component as a whole is blamed).
    std::unique_ptr<Product> make(const ParamTable& table) const {
      const DeclaredParams declared(params, table, component);
      try {
        return build(declared);
      } catch (const ParameterError&) {
        throw;
      } catch (const InvalidArgument& error) {
        const std::string prefix = component + ": ";
        const std::string message = error.what();
        throw ParameterError(component, "", "", message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message);
      }
    }
  };

  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  Registry& add(Entry entry) {
    entry.component = kind_ + " '" + entry.name + "'";
    entries_.push_back(std::move(entry));
    return *this;
  }
  const std::string& kind() const { return kind_; }
  const std::vector<Entry>& entries() const { return entries_; }

  // Throws InvalidArgument listing the valid names when `name` is not registered.
  const Entry& find(const std::string& name) const {
    for (const Entry& entry : entries_)
      if (entry.name == name) return entry;
    std::string valid;
    for (const Entry& entry : entries_) valid += (valid.empty() ? "" : ", ") + entry.name;
    throw InvalidArgument("unknown " + kind_ + " '" + name + "'; valid " + kind_ + "s are: " + valid);
  }
  std::unique_ptr<Product> make(const std::string& name, const ParamTable& params) const {
    return find(name).make(params);
  }
  std::unique_ptr<Product> make_example(const std::string& name) const {
    const Entry& entry = find(name);
    return entry.make(entry.example);
  }

 private:
  std::string kind_;
  std::vector<Entry> entries_;
};

// The config text that selects `entry` with its example parameters (commented lines for the
// others): the `[target]`, `[schedule]`, `[score_error]`, `[[estimator]]` or
// `[sampling.params.NAME]` table of an experiment config. It parses and builds (tested).
template <class Product>
std::string config_snippet(const Registry<Product>& registry, const typename Registry<Product>::Entry& entry) {
  const std::string lines = parameter_lines(entry.params, entry.example);
  const std::string& kind = registry.kind();
  if (kind == "sampler" || kind == "posterior sampler") {
    std::string out = "[sampling]\nsamplers = [\"" + entry.name + "\"]\n";
    if (!entry.params.empty()) out += "\n[sampling.params." + entry.name + "]\n" + lines;
    return out;
  }
  const std::string header = kind == "estimator" || kind == "posterior estimator" ? "[[estimator]]"
                             : kind == "score error" ? "[score_error]"
                                                     : "[" + kind + "]";
  return header + "\nkind = \"" + entry.name + "\"\n" + lines;
}

}  // namespace dmconv
