#include "lsi/lsi_config.hpp"

#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "core/error.hpp"

namespace dmconv::lsi {
namespace {

// Reads [lsi] and [[lsi.claim]]. Values come from the config after --set overrides
// (config.text); an error names the key's line in the file, or "--set" when the key is not in the
// file as written.
class LsiSection {
 public:
  explicit LsiSection(const config::ExperimentConfig& config) : path_(config.path) {
    document_ = toml::parse(config.text, config.path);
    try {
      std::ifstream in(config.path, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      original_ = toml::parse(text.str(), config.path);
    } catch (const toml::parse_error&) {
      // The file parsed a moment ago; without it errors only lose their line numbers.
    }
  }

  const toml::table* table() const { return document_["lsi"].as_table(); }

  [[noreturn]] void bad(const std::string& section, const std::string& key, const toml::node& node,
                        const std::string& rule) const {
    std::ostringstream value;
    if (const auto* s = node.as_string()) {
      value << '"' << s->get() << '"';
    } else {
      node.visit([&](const auto& n) { value << toml::toml_formatter(n, toml::format_flags::none); });
    }
    throw config::ConfigError(locate(section, key) + ": [" + section + "] " + key + " = " + value.str() + ": " + rule);
  }

  double number(const std::string& section, const std::string& key, const toml::node& node) const {
    if (const auto* i = node.as_integer()) return static_cast<double>(i->get());
    if (const auto* f = node.as_floating_point(); f && std::isfinite(f->get())) return f->get();
    bad(section, key, node, "must be a finite number");
  }

  std::string string(const std::string& section, const std::string& key, const toml::node& node) const {
    if (const auto* s = node.as_string()) return s->get();
    bad(section, key, node, "must be a string");
  }

 private:
  // "file:line" of [section] key in the file as written, "--set" when it is not there.
  std::string locate(const std::string& section, const std::string& key) const {
    const toml::node* node = nullptr;
    if (section == "lsi") {
      node = original_.at_path("lsi." + key).node();
    } else if (section.rfind("lsi.claim #", 0) == 0) {
      const std::size_t index = std::stoul(section.substr(11)) - 1;
      if (const auto* claims = original_.at_path("lsi.claim").as_array(); claims && index < claims->size())
        if (const auto* t = claims->get(index)->as_table()) node = t->get(key);
    }
    if (node == nullptr) return "--set";
    return path_ + ":" + std::to_string(node->source().begin.line);
  }

  std::string path_;
  toml::table document_;
  toml::table original_;
};

void read_settings(const LsiSection& lsi, const config::ExperimentConfig& config, LsiSettings& settings) {
  const toml::table* table = lsi.table();
  if (table == nullptr) return;
  const std::set<std::string> keys = {"t1", "delta", "t1_max", "bisections", "cells", "langevin_initial_mean",
                                      "paired", "claim"};
  for (auto&& [key, node] : *table) {
    const std::string name(key.str());
    if (keys.count(name) == 0)
      lsi.bad("lsi", name, node,
              "unknown key; valid keys are: bisections, cells, claim, delta, langevin_initial_mean, paired, t1, t1_max");
    if (name == "t1") {
      const toml::array* list = node.as_array();
      if (list == nullptr) lsi.bad("lsi", name, node, "must be a list of forward times ([] for T1* only)");
      settings.times.clear();
      for (const toml::node& t : *list) settings.times.push_back(lsi.number("lsi", name, t));
    } else if (name == "delta") {
      settings.delta = lsi.number("lsi", name, node);
    } else if (name == "t1_max") {
      settings.t1_max = lsi.number("lsi", name, node);
    } else if (name == "bisections" || name == "cells") {
      const auto* i = node.as_integer();
      if (i == nullptr) lsi.bad("lsi", name, node, "must be an integer");
      // Checked as int64 before narrowing: cells = 2^32 + 16 must not run as 16.
      const std::int64_t low = name == "cells" ? 16 : 1, high = name == "cells" ? std::int64_t{1} << 24 : 60;
      if (i->get() < low || i->get() > high)
        lsi.bad("lsi", name, node, "must lie in [" + std::to_string(low) + ", " + std::to_string(high) + "]");
      (name == "cells" ? settings.cells : settings.bisections) = static_cast<int>(i->get());
    } else if (name == "langevin_initial_mean") {
      settings.initial_mean = lsi.number("lsi", name, node);
    } else if (name == "paired") {
      const toml::array* list = node.as_array();
      if (list == nullptr || list->size() < 2) lsi.bad("lsi", name, node, "must list at least two [sweep] keys");
      std::size_t length = 0;
      for (const toml::node& p : *list) {
        const std::string path = lsi.string("lsi", name, p);
        const config::SweepAxis* axis = nullptr;
        for (const config::SweepAxis& a : config.sweep)
          if (a.path == path) axis = &a;
        if (axis == nullptr) lsi.bad("lsi", name, node, "'" + path + "' is not a [sweep] key");
        if (length != 0 && axis->values.size() != length)
          lsi.bad("lsi", name, node, "paired [sweep] axes must have the same number of values");
        length = axis->values.size();
        std::set<std::string> distinct;
        for (const ParamValue& v : axis->values) distinct.insert(v.to_string());
        if (distinct.size() != axis->values.size())
          lsi.bad("lsi", name, node, "'" + path + "' repeats a value: the pairing would be ambiguous");
        settings.paired.push_back(path);
      }
    }
  }
}

// A required key of one [[lsi.claim]] table; its absence is an error naming the table.
using Need = std::function<const toml::node&(const char*)>;

// The metric and its model: each metric has one model and one kind of axis (lsi/profile.hpp).
void read_metric(const LsiSection& lsi, const std::string& section, const Need& need, LsiClaim& claim) {
  claim.metric_name = lsi.string(section, "metric", need("metric"));
  claim.model = lsi.string(section, "model", need("model"));
  std::string expected_model;
  if (claim.metric_name == "langevin_kl") {
    claim.metric = LsiClaim::Metric::kLangevinKl;
    expected_model = "exponential";
  } else if (claim.metric_name == "log_sobolev") {
    claim.metric = LsiClaim::Metric::kLogSobolev;
    expected_model = "level";
  } else if (claim.metric_name == "t1_star") {
    claim.metric = LsiClaim::Metric::kT1Star;
    expected_model = "logarithmic";
  } else {
    lsi.bad(section, "metric", need("metric"), "must be \"langevin_kl\", \"log_sobolev\" or \"t1_star\"");
  }
  if (claim.model != expected_model)
    lsi.bad(section, "model", need("model"),
            "metric \"" + claim.metric_name + "\" takes model = \"" + expected_model + "\"");
}

// A level claim takes `level`; a slope claim takes `axis` and `slope`.
void read_axis(const LsiSection& lsi, const config::ExperimentConfig& config, const std::string& section,
               const toml::table& t, const Need& need, LsiClaim& claim) {
  if (claim.metric == LsiClaim::Metric::kLogSobolev) {
    if (t.get("axis") != nullptr) lsi.bad(section, "axis", *t.get("axis"), "a \"level\" claim has no axis");
    if (t.get("slope") != nullptr) lsi.bad(section, "slope", *t.get("slope"), "a \"level\" claim takes level, not slope");
    claim.claimed = lsi.number(section, "level", need("level"));
    return;
  }
  if (t.get("level") != nullptr) lsi.bad(section, "level", *t.get("level"), "only model = \"level\" takes level");
  claim.axis = lsi.string(section, "axis", need("axis"));
  claim.claimed = lsi.number(section, "slope", need("slope"));
  if (claim.metric == LsiClaim::Metric::kLangevinKl && claim.axis != "kappa_time")
    lsi.bad(section, "axis", need("axis"), "langevin_kl is fitted against \"kappa_time\" (kappa(T1) u)");
  if (claim.metric != LsiClaim::Metric::kT1Star) return;
  if (claim.axis == "d") claim.axis = "target.dim";
  bool found = false;
  for (const config::SweepAxis& a : config.sweep) found = found || a.path == claim.axis;
  if (!found || claim.axis.rfind("target.", 0) != 0)
    lsi.bad(section, "axis", need("axis"), "must be a numeric [sweep] key of the target (\"target.KEY\")");
  for (const config::SweepAxis& a : config.sweep)
    if (a.path == claim.axis)
      for (const ParamValue& v : a.values)
        if (!v.is_number()) lsi.bad(section, "axis", need("axis"), "the [sweep] values must be numbers");
}

// tolerance, bound and the axis window min / max.
void read_judging(const LsiSection& lsi, const std::string& section, const toml::table& t, const Need& need,
                  LsiClaim& claim) {
  if (const toml::node* n = t.get("tolerance")) {
    claim.tolerance = lsi.number(section, "tolerance", *n);
    if (claim.tolerance < 0.0) lsi.bad(section, "tolerance", *n, "must be non-negative");
  }
  if (const toml::node* n = t.get("bound")) {
    const std::string bound = lsi.string(section, "bound", *n);
    if (bound == "upper") {
      claim.bound = ClaimBound::kUpper;
    } else if (bound == "lower") {
      claim.bound = ClaimBound::kLower;
    } else if (bound == "exact") {
      claim.bound = ClaimBound::kExact;
    } else {
      lsi.bad(section, "bound", *n, "must be \"upper\", \"lower\" or \"exact\"");
    }
  }
  if (const toml::node* n = t.get("min")) claim.min = lsi.number(section, "min", *n);
  if (const toml::node* n = t.get("max")) claim.max = lsi.number(section, "max", *n);
  if ((claim.min || claim.max) && claim.metric == LsiClaim::Metric::kLogSobolev)
    lsi.bad(section, claim.min ? "min" : "max", claim.min ? need("min") : need("max"), "a \"level\" claim has no axis window");
  if (claim.min && claim.max && *claim.min >= *claim.max) lsi.bad(section, "max", need("max"), "must exceed min");
}

// [[lsi.claim]] number i + 1.
LsiClaim read_claim(const LsiSection& lsi, const config::ExperimentConfig& config, const toml::table& t,
                    std::size_t i) {
  const std::string section = "lsi.claim #" + std::to_string(i + 1);
  const std::set<std::string> keys = {"name", "source", "metric", "model", "axis", "slope", "level",
                                      "tolerance", "bound", "min", "max"};
  for (auto&& [key, node] : t)
    if (keys.count(std::string(key.str())) == 0)
      lsi.bad(section, std::string(key.str()), node,
              "unknown key; valid keys are: axis, bound, level, max, metric, min, model, name, slope, source, "
              "tolerance");
  const Need need = [&](const char* key) -> const toml::node& {
    if (const toml::node* node = t.get(key)) return *node;
    throw config::ConfigError(config.path + ": [[lsi.claim]] #" + std::to_string(i + 1) + ": key '" + key +
                              "' is required");
  };
  LsiClaim claim;
  claim.name = lsi.string(section, "name", need("name"));
  if (const toml::node* n = t.get("source")) claim.source = lsi.string(section, "source", *n);
  read_metric(lsi, section, need, claim);
  read_axis(lsi, config, section, t, need, claim);
  read_judging(lsi, section, t, need, claim);
  return claim;
}

}  // namespace

LsiSettings read_lsi_settings(const config::ExperimentConfig& config) {
  LsiSettings settings;
  read_settings(LsiSection(config), config, settings);
  return settings;
}

std::vector<LsiClaim> read_lsi_claims(const config::ExperimentConfig& config) {
  const LsiSection lsi(config);
  std::vector<LsiClaim> claims;
  const toml::table* table = lsi.table();
  if (table == nullptr || table->get("claim") == nullptr) return claims;
  const toml::array* array = table->get("claim")->as_array();
  if (array == nullptr || !array->is_array_of_tables())
    lsi.bad("lsi", "claim", *table->get("claim"), "must be an array of tables ([[lsi.claim]])");
  for (std::size_t i = 0; i < array->size(); ++i) claims.push_back(read_claim(lsi, config, *array->get(i)->as_table(), i));
  return claims;
}

void validate_settings(const LsiSettings& settings) {
  std::ostringstream message;
  if (!(settings.delta > 0.0 && settings.delta < 1.0)) {
    message << "dmconv lsi: --delta = " << settings.delta << " must lie in (0, 1) (threshold 1 - delta)";
  } else if (settings.cells < 16 || settings.cells % 2 != 0) {
    message << "dmconv lsi: --cells = " << settings.cells << " must be even and >= 16";
  } else if (settings.bisections < 1 || settings.bisections > 60) {
    message << "dmconv lsi: [lsi] bisections = " << settings.bisections << " must lie in [1, 60]";
  } else if (!std::isfinite(settings.initial_mean)) {
    message << "dmconv lsi: [lsi] langevin_initial_mean must be finite";
  } else {
    for (double t : settings.times)
      if (!(t > 0.0 && t <= 20.0)) message << "dmconv lsi: --t1 value " << t << " must lie in (0, 20]";
    if (!(settings.t1_max > 0.01 && settings.t1_max <= 20.0))
      message << "dmconv lsi: --t1-max = " << settings.t1_max << " must lie in (0.01, 20]";
  }
  if (!message.str().empty()) throw InvalidArgument(message.str());
}

}  // namespace dmconv::lsi
