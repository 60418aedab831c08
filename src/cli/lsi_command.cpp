// `dmconv lsi CONFIG`: the log-Sobolev profile of p_T1 for the target(s) of an experiment config
// (issue 7; docs/theory.md §5.6, §7 claims 13 and 14), and the config's LSI claims. For every distinct
// target of the config's sweep (target.* axes expand to several; [lsi] paired axes are taken
// together instead of crossed) and every forward time T1 of [lsi] t1 (or --t1):
//   kappa      the Bakry-Emery bound inf_x lambda_min(-grad^2 log p_T1(x)) (analysis/lsi.hpp:
//              closed form for Gaussians, multi-start search otherwise; with the number of starts
//              that agreed on the best value);
//   analytic   the DERIVED support-radius bound (1 - a (1 + R^2)) / (1 - a)^2 where R is known;
//   poincare, log_sobolev (d = 1 only): the spectral constants of p_T1 on a grid, with budgets
//              (log_sobolev_converged = 0: the L-BFGS search stopped early, the value is an
//              upper bound of the grid constant);
//   kl_rate    (d = 1 only) the fitted exponential rate of KL(law Y_u || p_T1) for Langevin dynamics
//              from Y_0 ~ N(m0, 1) (m0 = [lsi] langevin_initial_mean, default 0: the corrector's
//              start), by an exact Fokker-Planck grid solve;
// and per target T1*(1 - delta), the T1 at which kappa reaches 1 - delta (bisection), next to the
// DERIVED sufficient (1/2) ln((1 + R^2)/delta) where R is known.
//
// The [lsi] section (ignored by `dmconv run`; every key optional):
//   t1 = [..]            forward times of the profile (default 0.25 0.5 1 1.5 2 3; [] = T1* only);
//                        --t1 replaces it
//   delta = 0.1          T1* is where the bound reaches 1 - delta (--delta replaces it)
//   t1_max = 10          bisection range [0.01, t1_max] (--t1-max)
//   bisections = 40      halvings of the bisection
//   cells = 512          grid cells of the 1-D spectral constants and the Fokker-Planck solve (--cells)
//   langevin_initial_mean = 0   m0 above; a symmetric target started from a centred law excites only
//                        the even modes, so a non-zero m0 is needed to see the slowest (odd) mode
//   paired = ["target.dim", "target.radius"]   [sweep] axes taken together (the i-th value of
//                        each), not crossed: targets whose parameters move jointly (R = sqrt(d))
// and [[lsi.claim]] tables: an LSI claim, judged by the rate-fit machinery (analysis/rate_fit.hpp,
// fit_rate + judge). Keys: name, source, metric, model, axis, slope (or level), tolerance
// (default 0.1), bound ("upper", default: falsified only by a clearly larger slope / value;
// "lower"; "exact"), min / max (window on the axis). Metrics:
//   langevin_kl  KL(law Y_u || p_T1) of the 1-D Fokker-Planck solve against axis = "kappa_time",
//                the Langevin time in units of 1/kappa(T1), model = "exponential" (log KL = a +
//                slope kappa u, fitted on KL in [1e-10, 1e-2]): one fit per (target, T1) with
//                kappa > 0 (kappa <= 0: the bound is vacuous, the row says so and has no verdict);
//   log_sobolev  the grid log-Sobolev constant over kappa, model = "level": no fit, the ratio with
//                its interval (value -+ budget) / kappa is judged against `level` per (target, T1);
//   t1_star      T1*(1 - delta) against axis = a numeric target [sweep] key, model = "logarithmic":
//                T1* = a + slope ln x. Fitted exactly as the power law of e^{T1*} (log e^{T1*} = T1*,
//                so fit_rate's power model with no log factor is this line; weights from the
//                bisection bracket, floored at 1e-3 like every fit); one fit per group of the other
//                swept axes. Targets whose T1* is at the search floor 0.01 or not reached by t1_max
//                are left out of the fit and listed.
// Exit code 1 when a claim is violated; an inconclusive claim is printed as such (exit 0).
// Output: a table on stdout and an HDF5 file (default results/<name>_lsi.h5) in the layout of
// results/README.md ("LSI profile files"): root attributes and the tables /profile, /t1_star and
// /claims.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "analysis/lsi.hpp"
#include "analysis/rate_fit.hpp"
#include "cli/commands.hpp"
#include "config/experiment_config.hpp"
#include "core/error.hpp"
#include "experiment/experiment.hpp"
#include "results/provenance.hpp"
#include "results/results_file.hpp"
#include "targets/registry.hpp"

namespace dmconv::cli {
namespace {

// The settings of one `dmconv lsi` call: [lsi] of the config, replaced by the command-line flags.
struct LsiSettings {
  std::vector<double> times{0.25, 0.5, 1.0, 1.5, 2.0, 3.0};
  double delta = 0.1;
  double t1_max = 10.0;
  int bisections = 40;
  int cells = 512;
  double initial_mean = 0.0;
  std::vector<std::string> paired;
};

struct LsiClaim {
  enum class Metric { kLangevinKl, kLogSobolev, kT1Star };
  std::string name, source, metric_name, model, axis;
  Metric metric = Metric::kT1Star;
  double claimed = 0.0;  // slope, or level for model = "level"
  double tolerance = 0.1;
  ClaimBound bound = ClaimBound::kUpper;
  std::optional<double> min, max;
};

void validate(const LsiSettings& settings) {
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

std::vector<LsiClaim> read_claims(const LsiSection& lsi, const config::ExperimentConfig& config) {
  std::vector<LsiClaim> claims;
  const toml::table* table = lsi.table();
  if (table == nullptr || table->get("claim") == nullptr) return claims;
  const toml::array* array = table->get("claim")->as_array();
  if (array == nullptr || !array->is_array_of_tables())
    lsi.bad("lsi", "claim", *table->get("claim"), "must be an array of tables ([[lsi.claim]])");
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string section = "lsi.claim #" + std::to_string(i + 1);
    const toml::table& t = *array->get(i)->as_table();
    const std::set<std::string> keys = {"name", "source", "metric", "model", "axis", "slope", "level",
                                        "tolerance", "bound", "min", "max"};
    for (auto&& [key, node] : t)
      if (keys.count(std::string(key.str())) == 0)
        lsi.bad(section, std::string(key.str()), node,
                "unknown key; valid keys are: axis, bound, level, max, metric, min, model, name, slope, source, "
                "tolerance");
    auto need = [&](const char* key) -> const toml::node& {
      if (const toml::node* node = t.get(key)) return *node;
      throw config::ConfigError(config.path + ": [[lsi.claim]] #" + std::to_string(i + 1) + ": key '" + key +
                                "' is required");
    };
    LsiClaim claim;
    claim.name = lsi.string(section, "name", need("name"));
    if (const toml::node* n = t.get("source")) claim.source = lsi.string(section, "source", *n);
    claim.metric_name = lsi.string(section, "metric", need("metric"));
    claim.model = lsi.string(section, "model", need("model"));
    // Each metric has one model and one kind of axis (file comment).
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
    if (claim.metric == LsiClaim::Metric::kLogSobolev) {
      if (t.get("axis") != nullptr) lsi.bad(section, "axis", *t.get("axis"), "a \"level\" claim has no axis");
      if (t.get("slope") != nullptr) lsi.bad(section, "slope", *t.get("slope"), "a \"level\" claim takes level, not slope");
      claim.claimed = lsi.number(section, "level", need("level"));
    } else {
      if (t.get("level") != nullptr) lsi.bad(section, "level", *t.get("level"), "only model = \"level\" takes level");
      claim.axis = lsi.string(section, "axis", need("axis"));
      claim.claimed = lsi.number(section, "slope", need("slope"));
      if (claim.metric == LsiClaim::Metric::kLangevinKl && claim.axis != "kappa_time")
        lsi.bad(section, "axis", need("axis"), "langevin_kl is fitted against \"kappa_time\" (kappa(T1) u)");
      if (claim.metric == LsiClaim::Metric::kT1Star) {
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
    }
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
    claims.push_back(std::move(claim));
  }
  return claims;
}

std::string target_key(const config::ComponentSpec& spec) {
  std::string key = spec.kind;
  for (const auto& [name, value] : spec.params.entries()) key += ";" + name + "=" + value.to_string();
  return key;
}

// Index of the run's value on sweep axis `path`.
std::size_t value_index(const config::ExperimentConfig& config, const config::RunSpec& run, const std::string& path) {
  for (std::size_t a = 0; a < config.sweep.size(); ++a) {
    if (config.sweep[a].path != path) continue;
    for (std::size_t v = 0; v < config.sweep[a].values.size(); ++v)
      if (config.sweep[a].values[v].to_string() == run.swept[a].second.to_string()) return v;
  }
  return 0;
}

// One verdict row of /claims.
struct ClaimRow {
  std::string claim, group, metric, model, axis, bound, verdict, message;
  double claimed = 0.0, tolerance = 0.0, fitted = NAN, low = NAN, high = NAN;
  std::int64_t points = 0;
};

// Per (target, T1): what the claims need beyond the /profile row.
struct ProfilePoint {
  std::size_t target = 0;
  double t1 = 0.0;
  int dim = 1;
  double kappa = 0.0;
  double lsi = NAN, lsi_budget = NAN;
  std::vector<double> u, kl;  // the Langevin KL curve (d = 1)
};

ExponentClaim exponent_claim(const LsiClaim& claim) {
  const bool exact = claim.bound == ClaimBound::kExact;
  if (claim.metric == LsiClaim::Metric::kLogSobolev)  // a level: "upper" bounds the value itself
    return ExponentClaim{claim.claimed, claim.tolerance, exact, claim.bound == ClaimBound::kUpper};
  // Slopes: fit_rate's exponent is -slope, so an upper bound on the slope is a lower bound on p.
  return ExponentClaim{-claim.claimed, claim.tolerance, exact, claim.bound == ClaimBound::kLower};
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

void fill_fit(ClaimRow& row, const RateFit& fit, const LsiClaim& claim, const std::vector<RatePoint>& points) {
  row.points = static_cast<std::int64_t>(fit.points_used);
  row.verdict = to_string(judge(fit, exponent_claim(claim)));
  for (const ExcludedPoint& e : fit.excluded) {
    char x[32];
    std::snprintf(x, sizeof x, "%.6g", points[e.index].x);
    row.message += std::string(row.message.empty() ? "" : "; ") + "x=" + x + ": " + e.reason;
  }
  if (fit.status != RateFit::Status::kOk) {
    row.message += (row.message.empty() ? "" : "; ") + fit.message;
    return;
  }
  row.fitted = -fit.exponent;
  row.low = -fit.exponent_high;
  row.high = -fit.exponent_low;
}

}  // namespace

int lsi_command(const LsiOptions& options, std::ostream& out) {
  const config::ExperimentConfig config = config::load_config(options.config, options.overrides);
  const experiment::Plan plan = experiment::make_plan(config);  // every config error before any work
  const LsiSection lsi(config);
  LsiSettings settings;
  read_settings(lsi, config, settings);
  if (!options.times.empty()) settings.times = options.times;
  if (options.delta) settings.delta = *options.delta;
  if (options.t1_max) settings.t1_max = *options.t1_max;
  if (options.cells) settings.cells = *options.cells;
  validate(settings);
  const std::vector<LsiClaim> claims = read_claims(lsi, config);

  // Distinct targets, in sweep order; with paired axes only the runs at equal value indices.
  std::vector<config::ComponentSpec> targets;
  std::vector<config::RunSpec> target_runs;  // the first run of each target (its swept values)
  std::map<std::string, bool> seen;
  for (const config::RunSpec& run : plan.runs) {
    bool aligned = true;
    for (const std::string& path : settings.paired)
      aligned = aligned && value_index(config, run, path) == value_index(config, run, settings.paired.front());
    if (!aligned || seen[target_key(run.target)]) continue;
    seen[target_key(run.target)] = true;
    targets.push_back(run.target);
    target_runs.push_back(run);
  }
  const std::filesystem::path path = options.out.empty()
                                         ? std::filesystem::path("results") / (config.name + "_lsi.h5")
                                         : std::filesystem::path(options.out);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());

  std::vector<std::string> p_target, s_target;
  std::vector<std::int64_t> p_dim, p_starts, p_agree, p_lsi_converged, s_dim, s_reached;
  std::vector<double> p_t1, p_kappa, p_analytic, p_poincare, p_poincare_budget, p_lsi, p_lsi_budget, p_rate,
      p_rate_se;
  std::vector<double> s_delta, s_t1, s_bracket, s_kappa, s_radius, s_derived;
  std::vector<ProfilePoint> profile_points;
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  const double threshold = 1.0 - settings.delta;
  constexpr double kSearchFloor = 0.01;  // lower end of the T1* bisection

  for (std::size_t i = 0; i < targets.size(); ++i) {
    const auto target = target_registry().make(targets[i].kind, targets[i].params);
    const std::string name = target->describe();
    const int d = target->dim();
    std::cerr << "dmconv lsi: target " << i + 1 << "/" << targets.size() << ": " << name << "\n";
    out << "\n" << name << "\n";
    if (!settings.times.empty())
      out << "      T1       kappa  starts    analytic"
          << (d == 1 ? "    poincare    budget         lsi    budget     KL rate" : "") << "\n";
    const std::optional<double> radius = known_support_radius(*target);
    for (double t1 : settings.times) {
      const NoiseLevel level = NoiseLevel::from_ou_time(t1);
      const BakryEmeryBound be = bakry_emery_bound(*target, level);
      const double analytic = radius ? support_radius_lsi_bound(level, *radius) : nan;
      double poincare = nan, poincare_budget = nan, lsi_value = nan, lsi_budget = nan;
      bool lsi_converged = false;
      double rate = nan, rate_se = nan;
      ProfilePoint point{i, t1, d, be.kappa, nan, nan, {}, {}};
      if (d == 1) {
        SpectralOptions spectral;
        spectral.cells = settings.cells;
        const SpectralConstants c = spectral_constants_1d(*target, level, spectral);
        poincare = c.poincare.value;
        poincare_budget = c.poincare.error_budget;
        // An unconverged minimisation gives an upper bound of the grid constant only: kept, flagged.
        lsi_value = c.log_sobolev.value;
        lsi_budget = c.log_sobolev.error_budget;
        lsi_converged = c.log_sobolev.converged;
        KlDecayOptions decay;
        decay.grid.cells = settings.cells;
        decay.initial_mean = settings.initial_mean;
        const KlDecay kl = langevin_kl_decay_1d(*target, level, decay);
        rate = kl.rate;
        rate_se = kl.rate_se;
        point.lsi = lsi_value;
        point.lsi_budget = lsi_budget;
        // The claims fit the curve itself on the same KL window as the rate column.
        for (std::size_t k = 0; k < kl.times.size(); ++k)
          if (kl.kl[k] >= decay.kl_min && kl.kl[k] <= decay.kl_max) {
            point.u.push_back(kl.times[k]);
            point.kl.push_back(kl.kl[k]);
          }
      }
      profile_points.push_back(point);
      char line[256];
      std::snprintf(line, sizeof line, "  %6.3f  %10.6f  %3d/%-3d %10.6f", t1, be.kappa, be.starts_at_best, be.starts,
                    analytic);
      out << line;
      if (d == 1) {
        std::snprintf(line, sizeof line, "  %10.6f  %8.1e  %10.6f  %8.1e  %10.6f%s", poincare, poincare_budget,
                      lsi_value, lsi_budget, rate, lsi_converged ? "" : "  (LSI search not converged)");
        out << line;
      }
      out << "\n";
      p_target.push_back(name);
      p_dim.push_back(d);
      p_t1.push_back(t1);
      p_kappa.push_back(be.kappa);
      p_starts.push_back(be.starts);
      p_agree.push_back(be.starts_at_best);
      p_analytic.push_back(analytic);
      p_poincare.push_back(poincare);
      p_poincare_budget.push_back(poincare_budget);
      p_lsi.push_back(lsi_value);
      p_lsi_budget.push_back(lsi_budget);
      p_lsi_converged.push_back(lsi_converged ? 1 : 0);
      p_rate.push_back(rate);
      p_rate_se.push_back(rate_se);
    }
    const BakryEmeryTime star = bakry_emery_time(*target, threshold, kSearchFloor, settings.t1_max, settings.bisections);
    const double derived = radius ? support_radius_time(*radius, settings.delta) : nan;
    char line[256];
    if (star.reached) {
      std::snprintf(line, sizeof line, "T1 at which the Bakry-Emery bound reaches %.3g: %.6f (bracket %.1e)", threshold,
                    star.t1, star.bracket);
    } else {
      std::snprintf(line, sizeof line, "the Bakry-Emery bound does not reach %.3g by T1 = %.3g (%.6f there)", threshold,
                    settings.t1_max, star.at.kappa);
    }
    out << line;
    if (radius) {
      std::snprintf(line, sizeof line, "; DERIVED (1/2) ln((1+R^2)/%.3g) = %.6f (R = %.6g)", settings.delta, derived,
                    *radius);
      out << line;
    }
    out << "\n";
    s_target.push_back(name);
    s_dim.push_back(d);
    s_delta.push_back(settings.delta);
    s_t1.push_back(star.reached ? star.t1 : nan);
    s_bracket.push_back(star.bracket);
    s_reached.push_back(star.reached ? 1 : 0);
    s_kappa.push_back(star.at.kappa);
    s_radius.push_back(radius ? *radius : nan);
    s_derived.push_back(derived);
  }

  // Claims.
  std::vector<ClaimRow> rows;
  for (const LsiClaim& claim : claims) {
    ClaimRow base;
    base.claim = claim.name;
    base.metric = claim.metric_name;
    base.model = claim.model;
    base.axis = claim.axis;
    base.bound = to_string(claim.bound);
    base.claimed = claim.claimed;
    base.tolerance = claim.tolerance;
    if (claim.metric == LsiClaim::Metric::kT1Star) {
      // Groups: the values of the swept axes other than the claim's axis (and the axes paired with it).
      std::set<std::string> own{claim.axis};
      if (std::find(settings.paired.begin(), settings.paired.end(), claim.axis) != settings.paired.end())
        own.insert(settings.paired.begin(), settings.paired.end());
      std::map<std::string, std::vector<std::size_t>> groups;
      for (std::size_t i = 0; i < targets.size(); ++i) {
        std::string group;
        for (const auto& [axis_path, value] : target_runs[i].swept)
          if (own.count(axis_path) == 0) group += (group.empty() ? "" : ";") + axis_path + "=" + value.to_string();
        groups[group].push_back(i);
      }
      for (const auto& [group, members] : groups) {
        ClaimRow row = base;
        row.group = group;
        std::vector<RatePoint> points;
        for (std::size_t i : members) {
          double x = nan;
          for (const auto& [axis_path, value] : target_runs[i].swept)
            if (axis_path == claim.axis) x = value.number();
          char at[48];
          std::snprintf(at, sizeof at, "x=%.6g: ", x);
          if (s_reached[i] == 0) {
            row.message += std::string(row.message.empty() ? "" : "; ") + at + "T1* not reached by t1_max";
            continue;
          }
          if (s_t1[i] <= kSearchFloor + 2.0 * s_bracket[i]) {
            row.message += std::string(row.message.empty() ? "" : "; ") + at + "T1* at the search floor 0.01";
            continue;
          }
          if ((claim.min && x < *claim.min) || (claim.max && x > *claim.max)) {
            row.message += std::string(row.message.empty() ? "" : "; ") + at + "outside the claim's window";
            continue;
          }
          // log e^{T1*} = T1*: the power law of e^{T1*} with no log factor is T1* = a + slope ln x.
          const double value = std::exp(s_t1[i]);
          points.push_back({x, value, value * s_bracket[i], 0.0});
        }
        RateFitOptions fit_options;  // power law, no log factor
        fill_fit(row, fit_rate(points, fit_options), claim, points);
        rows.push_back(row);
      }
      continue;
    }
    for (const ProfilePoint& point : profile_points) {
      ClaimRow row = base;
      // The target by its swept values (descriptions need not tell swept targets apart), and T1.
      char t1[48];
      std::snprintf(t1, sizeof t1, "T1=%g", point.t1);
      std::string group;
      for (const auto& [axis_path, value] : target_runs[point.target].swept)
        if (axis_path.rfind("target.", 0) == 0) group += axis_path + "=" + value.to_string() + ";";
      row.group = (group.empty() ? s_target[point.target] + ";" : group) + t1;
      if (point.dim != 1) {
        row.verdict = to_string(Verdict::kInconclusive);
        row.message = "computed for d = 1 only";
      } else if (!(point.kappa > 0.0)) {
        row.verdict = "vacuous";
        row.message = "kappa <= 0: the Bakry-Emery bound says nothing at this T1";
      } else if (claim.metric == LsiClaim::Metric::kLangevinKl) {
        std::vector<RatePoint> points;
        for (std::size_t k = 0; k < point.u.size(); ++k) points.push_back({point.kappa * point.u[k], point.kl[k], 0.0, 0.0});
        RateFitOptions fit_options;
        fit_options.model = RateFitOptions::Model::kExponential;
        fit_options.x_min = claim.min;
        fit_options.x_max = claim.max;
        fill_fit(row, fit_rate(points, fit_options), claim, points);
      } else {
        // A level, not a fit: the ratio with the interval given by the constant's error budget.
        RateFit level;
        level.status = RateFit::Status::kOk;
        level.points_used = 1;
        level.exponent = point.lsi / point.kappa;
        level.exponent_low = (point.lsi - point.lsi_budget) / point.kappa;
        level.exponent_high = (point.lsi + point.lsi_budget) / point.kappa;
        row.points = 1;
        row.verdict = to_string(judge(level, exponent_claim(claim)));
        row.fitted = level.exponent;
        row.low = level.exponent_low;
        row.high = level.exponent_high;
      }
      rows.push_back(row);
    }
  }
  int violations = 0;
  if (!rows.empty()) {
    out << "\nclaims ([[lsi.claim]]; slope: fitted [interval] vs claimed +- tolerance)\n";
    for (const ClaimRow& row : rows) {
      violations += row.verdict == "violated" ? 1 : 0;
      char line[512];
      std::snprintf(line, sizeof line, "  %s | %s | %s vs %s: %+.4f [%+.4f, %+.4f] claimed %+.4f +- %.3g (%s), %lld points: %s",
                    row.claim.c_str(), row.group.c_str(), row.metric.c_str(),
                    row.axis.empty() ? "kappa (level)" : row.axis.c_str(), row.fitted, row.low, row.high, row.claimed,
                    row.tolerance, row.bound.c_str(), static_cast<long long>(row.points), upper(row.verdict).c_str());
      out << line << (row.message.empty() ? "" : " (" + row.message + ")") << "\n";
    }
  }

  results::ResultsFile file;
  file.attributes = {{"schema", std::string("dmconv-lsi")}, {"schema_version", std::int64_t{2}}};
  results::append_tool_attributes(file.attributes, /*with_build_type=*/false);
  results::append_origin_attributes(file.attributes, {options.command_line, options.config, config.text, config.hash});
  results::ColumnTable profile;
  profile.columns = {{"target", p_target},      {"dim", p_dim},
                     {"t1", p_t1},              {"kappa", p_kappa},
                     {"kappa_starts", p_starts}, {"kappa_starts_at_best", p_agree},
                     {"analytic_bound", p_analytic}, {"poincare", p_poincare},
                     {"poincare_budget", p_poincare_budget}, {"log_sobolev", p_lsi},
                     {"log_sobolev_budget", p_lsi_budget}, {"log_sobolev_converged", p_lsi_converged},
                     {"kl_rate", p_rate},       {"kl_rate_se", p_rate_se}};
  results::ColumnTable stars;
  stars.columns = {{"target", s_target}, {"dim", s_dim},          {"delta", s_delta},
                   {"t1_star", s_t1},    {"bracket", s_bracket},  {"reached", s_reached},
                   {"kappa_at_t1_star", s_kappa}, {"support_radius", s_radius}, {"derived_t1", s_derived}};
  std::vector<std::string> c_claim, c_group, c_metric, c_model, c_axis, c_bound, c_verdict, c_message;
  std::vector<double> c_claimed, c_tolerance, c_fitted, c_low, c_high;
  std::vector<std::int64_t> c_points;
  for (const ClaimRow& row : rows) {
    c_claim.push_back(row.claim);
    c_group.push_back(row.group);
    c_metric.push_back(row.metric);
    c_model.push_back(row.model);
    c_axis.push_back(row.axis);
    c_bound.push_back(row.bound);
    c_verdict.push_back(row.verdict);
    c_message.push_back(row.message);
    c_claimed.push_back(row.claimed);
    c_tolerance.push_back(row.tolerance);
    c_fitted.push_back(row.fitted);
    c_low.push_back(row.low);
    c_high.push_back(row.high);
    c_points.push_back(row.points);
  }
  results::ColumnTable claim_table;
  claim_table.columns = {{"claim", c_claim},         {"group", c_group},   {"metric", c_metric},
                         {"model", c_model},         {"axis", c_axis},     {"claimed", c_claimed},
                         {"tolerance", c_tolerance}, {"bound", c_bound},   {"fitted", c_fitted},
                         {"low", c_low},             {"high", c_high},     {"points_used", c_points},
                         {"verdict", c_verdict},     {"message", c_message}};
  file.tables = {{"profile", std::move(profile)}, {"t1_star", std::move(stars)}, {"claims", std::move(claim_table)}};
  results::write_results_file(path, file);
  out << "\nwrote " << path.string() << " (" << p_t1.size() << " profile rows, " << s_t1.size() << " targets, "
      << rows.size() << " claim rows)\n";
  if (violations > 0) out << "LSI claims violated: " << violations << " row(s)\n";
  return violations > 0 ? 1 : 0;
}

}  // namespace dmconv::cli
