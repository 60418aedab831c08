// [[claim]]: rate claims (docs/theory.md §7) read into dmconv::Claim (analysis/rate_fit.hpp), the
// type the claims stage fits and the /fits rows record.
#include <algorithm>

#include "config/toml_reader.hpp"

namespace dmconv::config {
namespace {

struct ClaimTable {
  const Reader& reader;
  const ExperimentConfig& config;
  const std::string section;
  const toml::table& table;

  const toml::node& need(const char* key) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) fail(reader.where(table), "[[claim]] " + section, std::string("key '") + key + "' is required");
    return *node;
  }
  // A sampler of the sweep, or "oracle" when oracle rows are recorded.
  void check_sampler(const std::string& key, const std::string& s, const toml::node& node) const {
    if (s == "oracle") {
      if (!config.oracle_rows) reader.bad(section, key, node, "'oracle' rows need [sampling] oracle = true");
      return;
    }
    if (std::find(config.samplers.begin(), config.samplers.end(), s) == config.samplers.end())
      reader.bad(section, key, node, "'" + s + "' is not in [sampling] samplers (or 'oracle')");
  }
};

// What is fitted: name, source, sampler (/ versus), metric, estimator, axis.
void read_subject(const ClaimTable& t, Claim& claim) {
  const Reader& reader = t.reader;
  const std::string& section = t.section;
  claim.name = reader.string(section, "name", t.need("name"));
  if (const toml::node* v = t.table.get("source")) claim.source = reader.string(section, "source", *v);
  claim.sampler = reader.string(section, "sampler", t.need("sampler"));
  t.check_sampler("sampler", claim.sampler, t.need("sampler"));
  if (const toml::node* v = t.table.get("versus")) {
    claim.versus = reader.string(section, "versus", *v);
    t.check_sampler("versus", claim.versus, *v);
  }
  claim.metric = reader.string(section, "metric", t.need("metric"));
  if (known_metrics().count(claim.metric) == 0)
    reader.bad(section, "metric", t.need("metric"), "unknown metric; valid metrics are: " + metric_list());
  if (const toml::node* v = t.table.get("estimator")) {
    claim.estimator = reader.string(section, "estimator", *v);
    bool found = false;
    std::string configured;
    for (const EstimatorSpec& e : t.config.estimators) {
      found = found || e.component.kind == claim.estimator;
      configured += (configured.empty() ? "" : ", ") + e.component.kind;
    }
    if (!found)
      reader.bad(section, "estimator", *v, "no [[estimator]] of this kind in the config (configured: " + configured + ")");
  }
  claim.axis = reader.string(section, "axis", t.need("axis"));
  if (claim.axis == "d") claim.axis = "target.dim";
  bool axis_known = claim.axis == "T";
  for (const SweepAxis& a : t.config.sweep) axis_known = axis_known || a.path == claim.axis;
  if (!axis_known) reader.bad(section, "axis", t.need("axis"), "must be \"T\" or a [sweep] key (\"d\" = \"target.dim\")");
}

// The fitted model and its log factor: model = "power" | "exponential"; log_power = "free" |
// "none" | a number (fixed k). The exponential model has no log factor.
void read_model(const ClaimTable& t, Claim& claim) {
  const Reader& reader = t.reader;
  const std::string& section = t.section;
  if (const toml::node* v = t.table.get("model")) {
    claim.fit.model = reader.name_of(kFitModelNames, section, "model", *v,
                                     "must be \"power\" (log err linear in log x) or \"exponential\" (log err linear in x)");
    if (claim.fit.model == FitModel::kExponential) claim.fit.log_factor = LogPowerMode::kNone;
  }
  const toml::node* v = t.table.get("log_power");
  if (v == nullptr) return;
  if (claim.fit.model == FitModel::kExponential && !(v->is_string() && v->as_string()->get() == "none"))
    reader.bad(section, "log_power", *v, "must be \"none\" (or absent) with model = \"exponential\"");
  if (v->is_string()) {
    const std::optional<LogPowerMode> mode = kLogPowerModeNames.find(v->as_string()->get());
    if (!mode || *mode == LogPowerMode::kFixed)  // "fixed" is written as the number itself
      reader.bad(section, "log_power", *v, "must be \"free\", \"none\" or a number (fixed power k of log x)");
    claim.fit.log_factor = *mode;
    claim.fit.log_factor_power = 0.0;
  } else {
    claim.fit.log_factor = LogPowerMode::kFixed;
    claim.fit.log_factor_power = reader.number(section, "log_power", *v);
  }
}

// slope, tolerance, floor_factor, bound, baseline, and the window min/max.
void read_bounds(const ClaimTable& t, Claim& claim) {
  const Reader& reader = t.reader;
  const std::string& section = t.section;
  claim.slope = reader.number(section, "slope", t.need("slope"));
  if (const toml::node* v = t.table.get("tolerance")) {
    claim.tolerance = reader.number(section, "tolerance", *v);
    if (claim.tolerance < 0.0) reader.bad(section, "tolerance", *v, "must be non-negative");
  }
  if (const toml::node* v = t.table.get("floor_factor")) {
    claim.fit.floor_factor = reader.number(section, "floor_factor", *v);
    if (claim.fit.floor_factor < 0.0) reader.bad(section, "floor_factor", *v, "must be non-negative");
  }
  if (const toml::node* v = t.table.get("bound"))
    claim.bound = reader.name_of(kClaimBoundNames, section, "bound", *v,
                                 "must be \"upper\" (theorem bounds the error from above), \"lower\" or \"exact\" "
                                 "(two-sided)");
  read_model(t, claim);
  if (const toml::node* v = t.table.get("baseline")) {
    claim.baseline = reader.number(section, "baseline", *v);
    if (!claim.versus.empty()) reader.bad(section, "baseline", *v, "cannot be combined with versus");
  }
  if (const toml::node* v = t.table.get("min")) claim.fit.x_min = reader.number(section, "min", *v);
  if (const toml::node* v = t.table.get("max")) claim.fit.x_max = reader.number(section, "max", *v);
  if (claim.fit.x_min && claim.fit.x_max && *claim.fit.x_min >= *claim.fit.x_max)
    reader.bad(section, "max", *t.table.get("max"), "must exceed min");
}

void read_where(const ClaimTable& t, Claim& claim) {
  const toml::node* v = t.table.get("where");
  if (v == nullptr) return;
  const toml::table* filters = v->as_table();
  if (filters == nullptr) t.reader.bad(t.section, "where", *v, "must be a table of sweep key = value");
  for (auto&& [key, node] : *filters) {
    const std::string path(key.str());
    bool swept = false;
    for (const SweepAxis& a : t.config.sweep) swept = swept || a.path == path;
    if (!swept) t.reader.bad(t.section, "where." + path, node, "is not a [sweep] key");
    claim.where.emplace_back(path, t.reader.to_param(t.section, "where." + path, node));
  }
}

}  // namespace

void read_claims(const Reader& reader, const toml::table& document, ExperimentConfig& config) {
  const toml::node* n = document.get("claim");
  if (n == nullptr) return;
  const toml::array* claims = n->as_array();
  if (claims == nullptr) fail(reader.where(*n), "claim", "must be an array of tables ([[claim]])");
  for (std::size_t i = 0; i < claims->size(); ++i) {
    const std::string section = "claim #" + std::to_string(i + 1);
    const ClaimTable table{reader, config, section, reader.table(section, *claims->get(i))};
    check_keys(reader, section, table.table,
               {"name", "source", "sampler", "versus", "metric", "estimator", "axis", "slope", "tolerance",
                "floor_factor", "bound", "log_power", "min", "max", "where", "baseline", "model"});
    Claim claim;
    ClaimSource source{reader.where(table.table), {}};
    for (auto&& [key, node] : table.table) source.keys[std::string(key.str())] = location_of(reader.file, key.source());
    config.claim_sources.push_back(std::move(source));
    read_subject(table, claim);
    read_bounds(table, claim);
    read_where(table, claim);
    config.claims.push_back(std::move(claim));
  }
}

}  // namespace dmconv::config
