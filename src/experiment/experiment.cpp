#include "experiment/experiment.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <type_traits>
#include <variant>

#include "analysis/rate_fit.hpp"
#include "core/estimator.hpp"
#include "core/schedule.hpp"
#include "core/score_model.hpp"
#include "dmconv/version.hpp"
#include "samplers/registry.hpp"
#include "score_errors/realised_error.hpp"
#include "score_errors/score_error.hpp"
#include "targets/registry.hpp"

namespace dmconv::experiment {
namespace {

using config::ComponentSpec;
using config::ConfigError;
using config::ExperimentConfig;
using config::RunSpec;

// Builds a registered component, turning its errors into config errors at the right line.
template <class Registry>
auto build(const Registry& registry, const ComponentSpec& spec) {
  try {
    return registry.make(spec.kind, spec.params);
  } catch (const InvalidArgument& error) {
    throw ConfigError(spec.locate(error.what()).str() + ": [" + spec.section + "] kind = \"" + spec.kind +
                      "\": " + error.what());
  }
}

// The score the samplers use: exact, or perturbed by the config's score-error model.
std::unique_ptr<ScoreModel> build_score(const ComponentSpec& spec, const Target& target, std::uint64_t seed) {
  try {
    return score_errors::make_score_model(spec.kind, spec.params, target, seed);
  } catch (const InvalidArgument& error) {
    throw ConfigError(spec.locate(error.what()).str() + ": [" + spec.section + "] kind = \"" + spec.kind +
                      "\": " + error.what());
  }
}

std::unique_ptr<Sampler> make_sampler(const RunSpec& run) {
  const auto found = run.sampler_params.find(run.sampler);
  return sampler_registry().make(run.sampler, found != run.sampler_params.end() ? found->second : ParamTable{});
}

TimeGrid build_grid(const ExperimentConfig& config, const Schedule& schedule, const RunSpec& run) {
  try {
    return schedule.grid(run.steps);
  } catch (const InvalidArgument& error) {
    const auto found = config.sampling_locations.find("steps");
    const config::SourceLocation where =
        found != config.sampling_locations.end() ? found->second : config.schedule.location;
    throw ConfigError(where.str() + ": [sampling] steps = " + std::to_string(run.steps) + " with schedule '" +
                      run.schedule.kind + "': " + error.what());
  }
}

std::string initialisation_name(Initialisation init) {
  return init == Initialisation::kExactMarginal ? "exact" : "standard_normal";
}

RunOptions run_options(const ExperimentConfig& config, const RunSpec& run, int threads) {
  RunOptions options;
  options.seed = config.seed;
  options.run = static_cast<std::uint64_t>(run.replicate);
  options.particles = run.particles;
  options.initialisation = run.initialisation;
  options.stop_index = config.comparison_level;
  options.threads = threads;
  return options;
}

// The /runs and /fits columns, in file order (results/README.md), each bound to its row field:
// the writer and the reader both walk these lists. Optional columns (added after schema 1 was
// first written) may be absent when reading; the field then keeps its default.
template <class Row>
struct ColumnSpec {
  const char* name;
  std::variant<std::string Row::*, std::int64_t Row::*, double Row::*> field;
  bool optional = false;
};

const std::vector<ColumnSpec<RunRow>>& run_columns() {
  static const std::vector<ColumnSpec<RunRow>> columns = {
      {"run_index", &RunRow::run_index},       {"run_key", &RunRow::run_key},
      {"target", &RunRow::target},             {"sampler", &RunRow::sampler},
      {"schedule", &RunRow::schedule},         {"score_error", &RunRow::score_error},
      {"estimator", &RunRow::estimator},       {"metric", &RunRow::metric},
      {"kind", &RunRow::kind},                 {"status", &RunRow::status},
      {"message", &RunRow::message},           {"dim", &RunRow::dim},
      {"steps", &RunRow::steps},               {"replicate", &RunRow::replicate},
      {"seed", &RunRow::seed},                 {"particles", &RunRow::particles},
      {"comparison_level", &RunRow::comparison_level}, {"initialisation", &RunRow::initialisation},
      {"value", &RunRow::value},               {"std_error", &RunRow::std_error},
      {"floor", &RunRow::floor},               {"nfe", &RunRow::nfe},
      {"wall_seconds", &RunRow::wall_seconds}, {"eps_score", &RunRow::eps_score},
      {"eps_jacobi", &RunRow::eps_jacobi},     {"eps_score_se", &RunRow::eps_score_se},
      {"eps_jacobi_se", &RunRow::eps_jacobi_se}};
  return columns;
}

const std::vector<ColumnSpec<FitRow>>& fit_columns() {
  static const std::vector<ColumnSpec<FitRow>> columns = {
      {"claim", &FitRow::claim},
      {"group", &FitRow::group},
      {"sampler", &FitRow::sampler},
      {"versus", &FitRow::versus},
      {"metric", &FitRow::metric},
      {"axis", &FitRow::axis},
      {"log_power_mode", &FitRow::log_power_mode},
      {"model", &FitRow::model, true},  // absent before the exponential model: "power"
      {"bound", &FitRow::bound},
      {"verdict", &FitRow::verdict},
      {"message", &FitRow::message},
      {"exclusions", &FitRow::exclusions},
      {"local_slopes", &FitRow::local_slopes},
      {"slope", &FitRow::slope},
      {"slope_low", &FitRow::slope_low},
      {"slope_high", &FitRow::slope_high},
      {"log_power", &FitRow::log_power},
      {"intercept", &FitRow::intercept},
      {"claimed_slope", &FitRow::claimed_slope},
      {"tolerance", &FitRow::tolerance},
      {"baseline", &FitRow::baseline, true},  // absent before baselines were recorded: NaN
      {"points_used", &FitRow::points_used},
      {"points_excluded", &FitRow::points_excluded}};
  return columns;
}

template <class Row>
void write_columns(results::ColumnTable& table, const std::vector<Row>& rows, const std::vector<ColumnSpec<Row>>& specs) {
  for (const ColumnSpec<Row>& spec : specs) {
    std::visit(
        [&](auto member) {
          std::vector<std::remove_cvref_t<decltype(std::declval<const Row&>().*member)>> column;
          column.reserve(rows.size());
          for (const Row& row : rows) column.push_back(row.*member);
          table.columns.emplace_back(spec.name, std::move(column));
        },
        spec.field);
  }
}

template <class Row>
void read_columns(const results::ColumnTable& table, std::vector<Row>& rows, const std::vector<ColumnSpec<Row>>& specs) {
  for (const ColumnSpec<Row>& spec : specs) {
    if (spec.optional && table.find(spec.name) == nullptr) continue;
    std::visit(
        [&](auto member) {
          using T = std::remove_cvref_t<decltype(std::declval<Row&>().*member)>;
          const std::vector<T>* column;
          if constexpr (std::is_same_v<T, std::string>) {
            column = &table.strings(spec.name);
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            column = &table.ints(spec.name);
          } else {
            column = &table.doubles(spec.name);
          }
          for (std::size_t i = 0; i < rows.size(); ++i) rows[i].*member = (*column)[i];
        },
        spec.field);
  }
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string format_duration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  }
  return text;
}

// Executes one run: every applicable estimator, rows in estimator then metric order.
std::vector<RunRow> execute_run(const Plan& plan, std::size_t index, int threads) {
  const ExperimentConfig& config = plan.config;
  const RunSpec& run = plan.runs[index];
  const auto target = build(target_registry(), run.target);
  const auto schedule = build(schedule_registry(), run.schedule);
  const TimeGrid grid = build_grid(config, *schedule, run);
  const auto sampler = make_sampler(run);
  const auto score_model = build_score(run.score_error, *target, config.seed);
  const ScoreModel& score = *score_model;
  const EstimationProblem problem{*sampler, grid, *target, score, run_options(config, run, threads)};

  // Realised score errors of THEORY.md §3 on this grid (exactly 0 for the exact score).
  double eps_score = 0.0, eps_score_se = 0.0, eps_jacobi = 0.0, eps_jacobi_se = 0.0;
  if (run.score_error.kind != "none") {
    if (config.measure_samples >= 2) {
      const score_errors::RealisedError realised = score_errors::measure_score_error(
          *target, score, grid, config.measure_samples, config.seed, static_cast<std::uint64_t>(run.replicate), threads);
      eps_score = realised.eps_score;
      eps_score_se = realised.eps_score_se;
      eps_jacobi = realised.eps_jacobi;
      eps_jacobi_se = realised.eps_jacobi_se;
      score.reset_count();
    } else {
      eps_score = eps_score_se = eps_jacobi = eps_jacobi_se = NAN;
    }
  }

  std::vector<RunRow> rows;
  for (std::size_t e : plan.estimators_of_run[index]) {
    const config::EstimatorSpec& spec = config.estimators[e];
    const auto estimator = build(estimator_registry(), spec.component);
    RunRow base;
    base.run_index = static_cast<std::int64_t>(run.index);
    base.run_key = run.key;
    base.target = run.target.kind;
    base.sampler = run.sampler;
    base.schedule = run.schedule.kind;
    base.score_error = run.score_error.kind;
    base.estimator = spec.component.kind;
    base.initialisation = initialisation_name(run.initialisation);
    base.dim = target->dim();
    base.steps = run.steps;
    base.replicate = run.replicate;
    base.seed = static_cast<std::int64_t>(config.seed);
    base.particles = static_cast<std::int64_t>(run.particles);
    base.comparison_level = config.comparison_level;
    base.nfe = declared_nfe(*sampler, grid, grid.steps(), config.comparison_level);
    for (const auto& [path, value] : run.swept) base.swept.push_back(value);
    base.eps_score = eps_score;
    base.eps_score_se = eps_score_se;
    base.eps_jacobi = eps_jacobi;
    base.eps_jacobi_se = eps_jacobi_se;

    const auto start = std::chrono::steady_clock::now();
    std::vector<Estimate> estimates;
    std::string failure;
    try {
      estimates = estimator->estimate(problem);
    } catch (const std::exception& error) {
      failure = error.what();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!failure.empty()) {
      // The whole estimator failed: one row per requested metric (or one "all" row).
      const std::vector<std::string> metrics = spec.metrics.empty() ? std::vector<std::string>{"all"} : spec.metrics;
      for (const std::string& metric : metrics) {
        RunRow row = base;
        row.metric = metric;
        row.kind = "failed";
        row.status = "failed";
        row.message = failure;
        row.wall_seconds = seconds;
        rows.push_back(row);
      }
      continue;
    }
    for (const Estimate& estimate : estimates) {
      if (!spec.metrics.empty() &&
          std::find(spec.metrics.begin(), spec.metrics.end(), estimate.metric) == spec.metrics.end())
        continue;
      RunRow row = base;
      row.metric = estimate.metric;
      row.kind = to_string(estimate.kind);
      row.value = estimate.value;
      row.std_error = estimate.std_error;
      row.floor = estimate.floor;
      row.message = estimate.method;
      row.wall_seconds = seconds;
      EstimateStatus status = estimate.status;
      if (status == EstimateStatus::kOk && !std::isfinite(estimate.value)) status = EstimateStatus::kNonFinite;
      row.status = to_string(status);
      rows.push_back(row);
      if (config.oracle_rows && estimate.kind == EstimateKind::kBiasedWithFloor) {
        // The floor IS the estimator on exact samples of the comparison law (sample-based
        // estimators) or its bias estimate: recorded as its own row so that tables and plots
        // show the level below which no sampler can be resolved.
        RunRow oracle = row;
        oracle.sampler = "oracle";
        oracle.value = estimate.floor;
        oracle.std_error = 0.0;
        oracle.kind = "oracle";
        oracle.nfe = 0.0;
        oracle.status = std::isfinite(estimate.floor) ? "ok" : "non_finite";
        oracle.message = "oracle floor of " + estimate.method;
        rows.push_back(oracle);
      }
    }
  }
  return rows;
}

std::string group_key(const ExperimentConfig& config, const RunRow& row, const std::string& skip_path,
                      bool with_estimator = true) {
  std::string key = "target=" + row.target + ";schedule=" + row.schedule;
  if (with_estimator) key += ";estimator=" + row.estimator;
  for (std::size_t a = 0; a < config.sweep.size(); ++a)
    if (config.sweep[a].path != skip_path) key += ";" + config.sweep[a].path + "=" + row.swept[a].to_string();
  return key;
}

double axis_value(const ExperimentConfig& config, const RunRow& row, const std::string& axis) {
  if (axis == "T") return static_cast<double>(row.steps);
  for (std::size_t a = 0; a < config.sweep.size(); ++a)
    if (config.sweep[a].path == axis) return row.swept[a].is_number() ? row.swept[a].number() : NAN;
  return NAN;
}

struct Aggregate {
  double value = 0.0, std_error = 0.0, floor = 0.0;
};

// Replicates of one configuration: mean value; SE of the mean sqrt(sum se^2) / R when the rows
// carry standard errors, else the replicate spread sd / sqrt(R) (R > 1), else 0 (exact).
Aggregate aggregate(const std::vector<const RunRow*>& rows) {
  Aggregate out;
  const double R = static_cast<double>(rows.size());
  double sum_se2 = 0.0;
  for (const RunRow* r : rows) {
    out.value += r->value / R;
    sum_se2 += r->std_error * r->std_error;
    out.floor = std::max(out.floor, r->floor);
  }
  if (sum_se2 > 0.0) {
    out.std_error = std::sqrt(sum_se2) / R;
  } else if (rows.size() > 1) {
    double ss = 0.0;
    for (const RunRow* r : rows) ss += (r->value - out.value) * (r->value - out.value);
    out.std_error = std::sqrt(ss / (R - 1.0) / R);
  }
  return out;
}

std::string join_slopes(const std::vector<double>& slopes) {
  std::string out;
  char text[32];
  for (double s : slopes) {
    std::snprintf(text, sizeof text, "%s%.3f", out.empty() ? "" : " ", s);
    out += text;
  }
  return out;
}

std::string format_number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", x);
  return text;
}

}  // namespace

Plan make_plan(const ExperimentConfig& config) {
  Plan plan;
  plan.config = config;
  plan.runs = config::expand_runs(config);
  plan.estimators_of_run.resize(plan.runs.size());
  std::vector<std::unique_ptr<Estimator>> estimators;
  for (const config::EstimatorSpec& spec : config.estimators) estimators.push_back(build(estimator_registry(), spec.component));
  // Support is decided per (sweep point, sampler) at the first T; every T is checked against the schedule.
  std::map<std::string, std::vector<std::size_t>> decided;
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    const RunSpec& run = plan.runs[i];
    std::string point;
    for (const auto& [path, value] : run.swept) point += path + "=" + value.to_string() + ";";
    const std::string key = point + "sampler=" + run.sampler + ";initialisation=" + initialisation_name(run.initialisation);
    const auto target = build(target_registry(), run.target);
    const auto schedule = build(schedule_registry(), run.schedule);
    const TimeGrid grid = build_grid(config, *schedule, run);
    if (run.particles < 1) throw ConfigError(config.path + ": particles must be at least 1");
    if (const auto found = decided.find(key); found != decided.end()) {
      plan.estimators_of_run[i] = found->second;
      continue;
    }
    const auto sampler = make_sampler(run);
    const auto score_model = build_score(run.score_error, *target, config.seed);
    const EstimationProblem problem{*sampler, grid, *target, *score_model, run_options(config, run, 1)};
    std::vector<std::size_t> chosen;
    std::string reasons;
    for (std::size_t e = 0; e < config.estimators.size(); ++e) {
      const config::EstimatorSpec& spec = config.estimators[e];
      const bool listed = std::find(spec.samplers.begin(), spec.samplers.end(), run.sampler) != spec.samplers.end();
      if (!spec.samplers.empty() && !listed) continue;
      const auto reason = estimators[e]->unsupported_reason(problem);
      if (!reason) {
        chosen.push_back(e);
        continue;
      }
      reasons += "; " + spec.component.kind + ": " + *reason;
      if (listed)
        throw ConfigError(spec.component.location.str() + ": [" + spec.component.section + "] samplers lists '" +
                          run.sampler + "', but estimator '" + spec.component.kind + "' does not support it on " +
                          target->describe() + ": " + *reason);
    }
    if (chosen.empty())
      throw ConfigError(config.path + ": no [[estimator]] supports sampler '" + run.sampler + "' on " +
                        target->describe() + (point.empty() ? "" : " (" + point + ")") + reasons);
    decided[key] = chosen;
    plan.estimators_of_run[i] = chosen;
  }
  return plan;
}

Outcome run_experiment(const Plan& plan, const ExecutionOptions& options) {
  const ExperimentConfig& config = plan.config;
  Outcome outcome;
  outcome.runs_total = plan.runs.size();
  std::vector<std::vector<RunRow>> by_run(plan.runs.size());
  std::vector<bool> done(plan.runs.size(), false);

  if (options.resume && std::filesystem::exists(options.out)) {
    const results::ResultsFile previous = results::read_results_file(options.out);
    const results::Attribute* hash = previous.attribute("config_hash");
    const std::string* previous_hash = hash ? std::get_if<std::string>(hash) : nullptr;
    if (previous_hash == nullptr || *previous_hash != config.hash)
      throw ConfigError(options.out.string() + ": --resume: the file was written for another config (config_hash " +
                        (previous_hash ? *previous_hash : std::string("missing")) + ", this config " + config.hash +
                        "); choose another --out or drop --resume");
    std::map<std::string, std::size_t> index_of;
    for (const RunSpec& run : plan.runs) index_of[run.key] = run.index;
    for (RunRow& row : read_run_rows(previous, config)) {
      const auto found = index_of.find(row.run_key);
      if (found == index_of.end()) continue;
      done[found->second] = true;
      by_run[found->second].push_back(std::move(row));
    }
    for (bool d : done) outcome.runs_resumed += d ? 1 : 0;
  }

  auto collect = [&] {
    // Oracle rows do not depend on the sampler: several samplers' runs at the same sweep point
    // give the same oracle (same streams), which is kept once.
    std::vector<RunRow> rows;
    std::set<std::string> oracles;
    for (const auto& run_rows : by_run) {
      for (const RunRow& row : run_rows) {
        if (row.sampler == "oracle") {
          std::ostringstream key;
          key << group_key(config, row, "") << ";metric=" << row.metric << ";T=" << row.steps
              << ";replicate=" << row.replicate << ";particles=" << row.particles << ";value=" << row.value;
          if (!oracles.insert(key.str()).second) continue;
        }
        rows.push_back(row);
      }
    }
    return rows;
  };
  // Cost model for the ETA: work proportional to T.
  double total_work = 0.0, done_work = 0.0;
  for (std::size_t i = 0; i < plan.runs.size(); ++i)
    if (!done[i]) total_work += plan.runs[i].steps;
  const auto start = std::chrono::steady_clock::now();
  auto last_write = start;
  std::size_t finished = outcome.runs_resumed;
  if (options.progress && outcome.runs_resumed > 0)
    *options.progress << "resuming: " << outcome.runs_resumed << " of " << plan.runs.size() << " runs already in "
                      << options.out.string() << "\n";

  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    if (done[i]) continue;
    if (options.stop_after_runs >= 0 && static_cast<std::int64_t>(outcome.runs_executed) >= options.stop_after_runs)
      return outcome;  // simulated kill: the last checkpoint stays as it is
    const RunSpec& run = plan.runs[i];
    if (options.progress && options.progress_is_terminal) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double eta = done_work > 0.0 ? elapsed * (total_work - done_work) / done_work : NAN;
      char line[256];
      std::snprintf(line, sizeof line, "\r[%zu/%zu] %3.0f%% elapsed %s ETA %s  %s T=%d     ", finished,
                    plan.runs.size(), 100.0 * static_cast<double>(finished) / static_cast<double>(plan.runs.size()), format_duration(elapsed).c_str(),
                    std::isfinite(eta) ? format_duration(eta).c_str() : "--:--", run.sampler.c_str(), run.steps);
      *options.progress << line << std::flush;
    }
    by_run[i] = execute_run(plan, i, options.threads);
    done[i] = true;
    ++finished;
    ++outcome.runs_executed;
    done_work += run.steps;
    if (options.progress && !options.progress_is_terminal) {
      std::ostringstream line;
      line << "[" << finished << "/" << plan.runs.size() << "] " << run.key << ":";
      for (const RunRow& row : by_run[i]) {
        char value[64];
        std::snprintf(value, sizeof value, " %s%s/%s %.4g", row.sampler == "oracle" ? "oracle:" : "",
                      row.estimator.c_str(), row.metric.c_str(), row.value);
        line << value;
        if (row.status != "ok") line << " (" << row.status << ")";
      }
      if (!by_run[i].empty()) line << " (" << format_number(by_run[i].front().wall_seconds) << " s)";
      *options.progress << line.str() << "\n" << std::flush;
    }
    const auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - last_write).count() >= options.checkpoint_seconds &&
        i + 1 < plan.runs.size()) {
      results::write_results_file(options.out, make_results_file(config, collect(), {}, options, false));
      last_write = now;
    }
  }
  if (options.progress && options.progress_is_terminal) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    *options.progress << "\r[" << plan.runs.size() << "/" << plan.runs.size() << "] 100% elapsed "
                      << format_duration(elapsed) << "                                        \n";
  }
  outcome.rows = collect();
  outcome.fits = fit_claims(config, outcome.rows);
  outcome.complete = true;
  results::write_results_file(options.out, make_results_file(config, outcome.rows, outcome.fits, options, true));
  return outcome;
}

std::vector<FitRow> fit_claims(const ExperimentConfig& config, const std::vector<RunRow>& rows) {
  std::vector<FitRow> fits;
  for (const config::ClaimSpec& claim : config.claims) {
    auto matches = [&](const RunRow& row, const std::string& sampler) {
      if (row.sampler != sampler || row.metric != claim.metric) return false;
      if (!claim.estimator.empty() && row.estimator != claim.estimator) return false;
      for (const auto& [path, value] : claim.where)
        for (std::size_t a = 0; a < config.sweep.size(); ++a)
          if (config.sweep[a].path == path && row.swept[a].to_string() != value.to_string()) return false;
      return true;
    };
    // group -> x -> rows (ok status only; others are reported in the message)
    std::map<std::string, std::map<double, std::vector<const RunRow*>>> primary, secondary;
    std::map<std::string, int> not_ok;
    // Per group: the estimators seen for the sampler ([0]) and for versus ([1]).
    std::map<std::string, std::array<std::set<std::string>, 2>> estimators_seen;
    for (const RunRow& row : rows) {
      const bool is_primary = matches(row, claim.sampler);
      const bool is_secondary = !claim.versus.empty() && matches(row, claim.versus);
      if (!is_primary && !is_secondary) continue;
      // Groups do not include the estimator when versus is set (the two samplers may need different ones).
      const std::string group = group_key(config, row, claim.axis, claim.versus.empty());
      estimators_seen[group][is_primary ? 0 : 1].insert(row.estimator);
      if (row.status != "ok") {
        ++not_ok[group];
        continue;
      }
      const double x = axis_value(config, row, claim.axis);
      (is_primary ? primary : secondary)[group][x].push_back(&row);
    }
    std::set<std::string> groups;
    for (const auto& [g, m] : primary) groups.insert(g);
    for (const auto& [g, m] : not_ok) groups.insert(g);
    if (groups.empty()) {
      FitRow fit;
      fit.claim = claim.name;
      fit.sampler = claim.sampler;
      fit.versus = claim.versus;
      fit.metric = claim.metric;
      fit.axis = claim.axis;
      fit.claimed_slope = claim.slope;
      fit.tolerance = claim.tolerance;
      fit.bound = config::to_string(claim.bound);
      fit.log_power_mode = claim.log_power_free ? "free" : claim.log_power ? "fixed" : "none";
      fit.model = claim.model == config::ClaimSpec::Model::kExponential ? "exponential" : "power";
      if (claim.baseline) fit.baseline = *claim.baseline;
      fit.verdict = to_string(Verdict::kInconclusive);
      fit.message = "no results match this claim (sampler, metric, estimator, where)";
      fits.push_back(fit);
      continue;
    }
    for (const std::string& group : groups) {
      FitRow fit;
      fit.claim = claim.name;
      fit.group = group;
      fit.sampler = claim.sampler;
      fit.versus = claim.versus;
      fit.metric = claim.metric;
      fit.axis = claim.axis == "target.dim" ? "d" : claim.axis;
      fit.claimed_slope = claim.slope;
      fit.tolerance = claim.tolerance;
      fit.bound = config::to_string(claim.bound);
      fit.log_power_mode = claim.log_power_free ? "free" : claim.log_power ? "fixed" : "none";
      fit.model = claim.model == config::ClaimSpec::Model::kExponential ? "exponential" : "power";
      if (claim.baseline) fit.baseline = *claim.baseline;
      std::string message;
      if (not_ok.count(group)) message += std::to_string(not_ok[group]) + " rows with status != ok left out; ";
      if (estimators_seen[group][0].size() > 1 || estimators_seen[group][1].size() > 1) {
        fit.verdict = to_string(Verdict::kInconclusive);
        fit.message = message + "several estimators report '" + claim.metric +
                      "' for this sampler: set the claim's estimator key";
        fits.push_back(fit);
        continue;
      }
      std::vector<RatePoint> points;
      std::optional<Aggregate> base;
      if (claim.baseline) {
        const auto found = primary[group].find(*claim.baseline);
        if (found == primary[group].end()) {
          fit.verdict = to_string(Verdict::kInconclusive);
          fit.message = message + "no result at the baseline " + claim.axis + " = " + format_number(*claim.baseline);
          fits.push_back(fit);
          continue;
        }
        base = aggregate(found->second);
      }
      for (const auto& [x, a_rows] : primary[group]) {
        const Aggregate a = aggregate(a_rows);
        if (base) {
          if (x == *claim.baseline) continue;
          points.push_back({x, a.value - base->value, std::hypot(a.std_error, base->std_error), a.floor + base->floor});
          continue;
        }
        if (claim.versus.empty()) {
          points.push_back({x, a.value, a.std_error, a.floor});
          continue;
        }
        const auto other = secondary[group].find(x);
        if (other == secondary[group].end()) {
          message += "no '" + claim.versus + "' result at " + claim.axis + " = " + format_number(x) + "; ";
          continue;
        }
        const Aggregate b = aggregate(other->second);
        const double ratio = a.value / b.value;
        const double rel_se = std::hypot(a.std_error / a.value, b.std_error / b.value);
        const double rel_floor = a.floor / a.value + b.floor / b.value;
        points.push_back({x, ratio, std::fabs(ratio) * rel_se, std::fabs(ratio) * rel_floor});
      }
      RateFitOptions options;
      if (claim.model == config::ClaimSpec::Model::kExponential) options.model = RateFitOptions::Model::kExponential;
      if (claim.log_power_free) {
        options.log_factor = RateFitOptions::LogFactor::kFree;
      } else if (claim.log_power) {
        options.log_factor = RateFitOptions::LogFactor::kFixed;
        options.log_factor_power = *claim.log_power;
      }
      options.x_min = claim.min;
      options.x_max = claim.max;
      options.floor_factor = claim.floor_factor;
      const RateFit result = fit_rate(points, options);
      fit.points_used = static_cast<std::int64_t>(result.points_used);
      fit.points_excluded = static_cast<std::int64_t>(result.excluded.size());
      for (const ExcludedPoint& e : result.excluded) {
        fit.exclusions += (fit.exclusions.empty() ? "" : "; ") + std::string("x=") +
                          format_number(points[e.index].x) + ": " + e.reason;
      }
      fit.local_slopes = join_slopes(result.local_slopes);
      ExponentClaim exponent_claim{-claim.slope, claim.tolerance, claim.bound == config::ClaimSpec::Bound::kExact,
                                   claim.bound == config::ClaimSpec::Bound::kLower};
      fit.verdict = to_string(judge(result, exponent_claim));
      if (result.status == RateFit::Status::kOk) {
        fit.slope = -result.exponent;
        fit.slope_low = -result.exponent_high;
        fit.slope_high = -result.exponent_low;
        fit.log_power = result.log_factor_power;
        fit.intercept = result.intercept;
      } else {
        message += result.message;
      }
      fit.message = message;
      fits.push_back(fit);
    }
  }
  return fits;
}

results::ResultsFile make_results_file(const ExperimentConfig& config, const std::vector<RunRow>& rows,
                                       const std::vector<FitRow>& fits, const ExecutionOptions& options,
                                       bool complete) {
  results::ResultsFile file;
  file.attributes = {
      {"schema_version", kSchemaVersion},
      {"tool_version", std::string(kVersion)},
      {"git_sha", std::string(kGitSha)},
      {"build_type", std::string(kBuildType)},
      {"created_utc", utc_now()},
      {"threads", static_cast<std::int64_t>(options.threads)},
      {"ranks", std::int64_t{1}},
      {"command_line", options.command_line},
      {"config_path", config.path},
      {"config_text", config.text},
      {"config_hash", config.hash},
      {"complete", std::int64_t{complete ? 1 : 0}},
  };
  results::ColumnTable runs;
  write_columns(runs, rows, run_columns());
  for (std::size_t a = 0; a < config.sweep.size(); ++a) {
    const bool numeric = config.sweep[a].values.front().is_number();
    if (numeric) {
      std::vector<double> column;
      for (const RunRow& r : rows) column.push_back(r.swept[a].is_number() ? r.swept[a].number() : NAN);
      runs.columns.emplace_back(config.sweep[a].path, std::move(column));
    } else {
      std::vector<std::string> column;
      for (const RunRow& r : rows) column.push_back(r.swept[a].is_string() ? r.swept[a].string() : r.swept[a].to_string());
      runs.columns.emplace_back(config.sweep[a].path, std::move(column));
    }
  }
  results::ColumnTable fit_table;
  write_columns(fit_table, fits, fit_columns());
  file.tables = {{"runs", std::move(runs)}, {"fits", std::move(fit_table)}};
  return file;
}

std::vector<RunRow> read_run_rows(const results::ResultsFile& file, const ExperimentConfig& config) {
  const results::ColumnTable* runs = file.table("runs");
  if (runs == nullptr) throw InvalidArgument("results file has no /runs table");
  const std::size_t n = runs->rows();
  std::vector<RunRow> rows(n);
  read_columns(*runs, rows, run_columns());
  for (const config::SweepAxis& axis : config.sweep) {
    const results::Column* column = runs->find(axis.path);
    if (column == nullptr) throw InvalidArgument("results file: /runs has no column '" + axis.path + "'");
    for (std::size_t i = 0; i < n; ++i) {
      if (const auto* d = std::get_if<std::vector<double>>(column)) {
        rows[i].swept.emplace_back((*d)[i]);
      } else if (const auto* t = std::get_if<std::vector<std::string>>(column)) {
        rows[i].swept.emplace_back((*t)[i]);
      } else {
        rows[i].swept.emplace_back(static_cast<double>(std::get<std::vector<std::int64_t>>(*column)[i]));
      }
    }
  }
  return rows;
}

std::vector<FitRow> read_fit_rows(const results::ResultsFile& file) {
  const results::ColumnTable* table = file.table("fits");
  if (table == nullptr) throw InvalidArgument("results file has no /fits table");
  const std::size_t n = table->rows();
  std::vector<FitRow> fits(n);
  read_columns(*table, fits, fit_columns());
  return fits;
}

void print_error_table(std::ostream& out, const ExperimentConfig& config, const std::vector<RunRow>& rows) {
  // One table per (group without T, estimator, metric): rows = samplers, columns = T.
  std::vector<std::string> tables;
  std::map<std::string, std::map<std::string, std::map<std::int64_t, std::vector<const RunRow*>>>> cells;
  for (const RunRow& row : rows) {
    const std::string key = group_key(config, row, "") + ";metric=" + row.metric;
    if (!cells.count(key)) tables.push_back(key);
    cells[key][row.sampler][row.steps].push_back(&row);
  }
  for (const std::string& key : tables) {
    std::set<std::int64_t> steps;
    for (const auto& [sampler, by_t] : cells[key])
      for (const auto& [T, r] : by_t) steps.insert(T);
    out << "\n" << key << "   (value +- 1.96 SE; * = status not ok)\n";
    char cell[64];
    std::snprintf(cell, sizeof cell, "%-18s", "sampler \\ T");
    out << cell;
    for (std::int64_t T : steps) {
      std::snprintf(cell, sizeof cell, " %12lld", static_cast<long long>(T));
      out << cell;
    }
    out << "\n";
    std::vector<std::string> samplers = config.samplers;
    if (config.oracle_rows) samplers.push_back("oracle");  // the floor: the estimator on exact samples
    for (const std::string& sampler : samplers) {
      if (!cells[key].count(sampler)) continue;
      std::snprintf(cell, sizeof cell, "%-18s", sampler.c_str());
      out << cell;
      for (std::int64_t T : steps) {
        const auto& r = cells[key][sampler][T];
        bool ok = !r.empty();
        for (const RunRow* row : r) ok = ok && row->status == "ok";
        if (!ok) {
          std::snprintf(cell, sizeof cell, " %12s", r.empty() ? "-" : "*");
        } else {
          const Aggregate a = aggregate(r);
          std::snprintf(cell, sizeof cell, " %12.4e", a.value);
        }
        out << cell;
      }
      out << "\n";
    }
  }
}

void print_verdicts(std::ostream& out, const std::vector<FitRow>& fits) {
  if (fits.empty()) return;
  out << "\nclaims (fitted slope of log error vs log axis, or vs the axis itself for exponential models [exp];"
         " 95% interval; k = fitted log power):\n";
  for (const FitRow& f : fits) {
    char line[512];
    const std::string subject = f.versus.empty() ? f.sampler : f.sampler + "/" + f.versus;
    if (std::isfinite(f.slope)) {
      std::snprintf(line, sizeof line, "  %-12s %-40s %-22s %s: slope %+.3f [%+.3f, %+.3f] k=%.2f  claimed %+.2f +- %.2f (%s)  %lld pts\n",
                    f.verdict == "holds" ? "HOLDS" : f.verdict == "violated" ? "VIOLATED" : "INCONCLUSIVE",
                    f.claim.c_str(), subject.c_str(), (f.axis + (f.model == "exponential" ? " [exp]" : "")).c_str(),
                    f.slope, f.slope_low, f.slope_high,
                    f.log_power_mode == "none" ? 0.0 : f.log_power, f.claimed_slope, f.tolerance, f.bound.c_str(),
                    static_cast<long long>(f.points_used));
    } else {
      std::snprintf(line, sizeof line, "  %-12s %-40s %-22s %s: no fit  claimed %+.2f +- %.2f (%s)\n", "INCONCLUSIVE",
                    f.claim.c_str(), subject.c_str(), f.axis.c_str(), f.claimed_slope, f.tolerance, f.bound.c_str());
    }
    out << line;
    if (!f.group.empty()) out << "      group: " << f.group << "\n";
    if (!f.exclusions.empty()) out << "      excluded: " << f.exclusions << "\n";
    if (!f.message.empty()) out << "      note: " << f.message << "\n";
  }
}

bool any_violated(const std::vector<FitRow>& fits) {
  for (const FitRow& f : fits)
    if (f.verdict == "violated") return true;
  return false;
}

}  // namespace dmconv::experiment
