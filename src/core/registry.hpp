// One registry per concept (targets, schedules, samplers, ...): name -> description, source
// and factory. Adding a component is one file plus one line in its registry function; the
// conformance test suites iterate over the registry, so they test it automatically.
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
  using Factory = std::function<std::unique_ptr<Product>(const ParamTable&)>;
  struct Entry {
    std::string name;
    std::string description;  // one line, shown by `dmconv list`
    std::string source;       // paper and equation, or THEORY.md section
    Factory make;
    ParamTable example;       // parameters of a representative instance (tests, `list`)
  };

  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  Registry& add(Entry entry) {
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

}  // namespace dmconv
