#include "experiment/rows.hpp"

#include <cmath>
#include <type_traits>
#include <variant>

#include "results/provenance.hpp"

namespace dmconv::experiment {
namespace {

// A column's binding to a row: read the value for writing, store a read value. Plain members,
// enum members (through their name table) and fields of the fit row's claim all take this form,
// so the writer and the reader walk one list per table.
template <class Row, class T>
struct Accessor {
  T (*get)(const Row&);
  void (*set)(Row&, T);
};

template <class Member>
struct MemberOf;
template <class R, class T>
struct MemberOf<T R::*> {
  using Row = R;
  using Type = T;
};

template <auto M>
constexpr auto member() {
  using Row = typename MemberOf<decltype(M)>::Row;
  using T = typename MemberOf<decltype(M)>::Type;
  return Accessor<Row, T>{[](const Row& r) -> T { return r.*M; }, [](Row& r, T v) { r.*M = std::move(v); }};
}

// An enum member written as its name (Names: the enum's EnumNames table).
template <auto M, const auto& Names>
constexpr auto named() {
  using Row = typename MemberOf<decltype(M)>::Row;
  return Accessor<Row, std::string>{[](const Row& r) { return Names.name(r.*M); },
                                    [](Row& r, std::string v) { r.*M = Names.parse(v); }};
}

template <class Row>
struct ColumnSpec {
  const char* name;
  std::variant<Accessor<Row, double>, Accessor<Row, std::int64_t>, Accessor<Row, std::string>> access;
  bool optional = false;  // added after schema 1 was first written: may be absent when reading
};

Accessor<RunRow, std::string> kind_column() {
  return {[](const RunRow& r) { return kind_name(r); },
          [](RunRow& r, std::string v) {
            if (v == "oracle") {
              r.origin = RowOrigin::kOracle;
            } else if (v == "failed") {
              r.origin = RowOrigin::kEstimatorFailed;
            } else {
              r.origin = RowOrigin::kEstimate;
              r.kind = kEstimateKindNames.parse(v);
            }
          }};
}

// The /runs columns in file order (results/README.md), then the swept axes.
const std::vector<ColumnSpec<RunRow>>& run_columns() {
  static const std::vector<ColumnSpec<RunRow>> columns = {
      {"run_index", member<&RunRow::run_index>()},     {"run_key", member<&RunRow::run_key>()},
      {"target", member<&RunRow::target>()},           {"sampler", member<&RunRow::sampler>()},
      {"schedule", member<&RunRow::schedule>()},       {"score_error", member<&RunRow::score_error>()},
      {"estimator", member<&RunRow::estimator>()},     {"metric", member<&RunRow::metric>()},
      {"kind", kind_column()},                         {"status", named<&RunRow::status, kEstimateStatusNames>()},
      {"message", member<&RunRow::message>()},         {"dim", member<&RunRow::dim>()},
      {"steps", member<&RunRow::steps>()},             {"replicate", member<&RunRow::replicate>()},
      {"seed", member<&RunRow::seed>()},               {"particles", member<&RunRow::particles>()},
      {"comparison_level", member<&RunRow::comparison_level>()},
      {"initialisation", named<&RunRow::initialisation, config::kInitialisationNames>()},
      {"value", member<&RunRow::value>()},             {"std_error", member<&RunRow::std_error>()},
      {"floor", member<&RunRow::floor>()},             {"nfe", member<&RunRow::nfe>()},
      {"wall_seconds", member<&RunRow::wall_seconds>()}, {"eps_score", member<&RunRow::eps_score>()},
      {"eps_jacobi", member<&RunRow::eps_jacobi>()},   {"eps_score_se", member<&RunRow::eps_score_se>()},
      {"eps_jacobi_se", member<&RunRow::eps_jacobi_se>()},
      // Absent before posterior experiments: "" and "diffusion steps T".
      {"likelihood", member<&RunRow::likelihood>(), true},
      {"steps_meaning", member<&RunRow::steps_meaning>(), true}};
  return columns;
}

// Fields of the fit row's claim.
template <std::string Claim::*M>
Accessor<FitRow, std::string> claim_text() {
  return {[](const FitRow& f) { return f.claim.*M; }, [](FitRow& f, std::string v) { f.claim.*M = std::move(v); }};
}
template <double Claim::*M>
Accessor<FitRow, double> claim_number() {
  return {[](const FitRow& f) { return f.claim.*M; }, [](FitRow& f, double v) { f.claim.*M = v; }};
}

// Claim fields that are enums or optional, and the axis label.
const ColumnSpec<FitRow> kFitClaimColumns[] = {
    {"axis", Accessor<FitRow, std::string>{[](const FitRow& f) { return f.axis_label(); },
                                           [](FitRow& f, std::string v) { f.claim.axis = v == "d" ? "target.dim" : v; }}},
    {"log_power_mode", Accessor<FitRow, std::string>{
                           [](const FitRow& f) { return kLogPowerModeNames.name(f.claim.fit.log_factor); },
                           [](FitRow& f, std::string v) { f.claim.fit.log_factor = kLogPowerModeNames.parse(v); }}},
    // Absent before the exponential model: "power".
    {"model", Accessor<FitRow, std::string>{[](const FitRow& f) { return kFitModelNames.name(f.claim.fit.model); },
                                            [](FitRow& f, std::string v) { f.claim.fit.model = kFitModelNames.parse(v); }},
     true},
    {"bound", Accessor<FitRow, std::string>{[](const FitRow& f) { return kClaimBoundNames.name(f.claim.bound); },
                                            [](FitRow& f, std::string v) { f.claim.bound = kClaimBoundNames.parse(v); }}},
    // Absent before baselines were recorded; NaN: no baseline.
    {"baseline", Accessor<FitRow, double>{[](const FitRow& f) { return f.claim.baseline.value_or(NAN); },
                                          [](FitRow& f, double v) {
                                            if (std::isnan(v)) {
                                              f.claim.baseline.reset();
                                            } else {
                                              f.claim.baseline = v;
                                            }
                                          }},
     true},
};

const std::vector<ColumnSpec<FitRow>>& fit_columns() {
  static const std::vector<ColumnSpec<FitRow>> columns = {
      {"claim", claim_text<&Claim::name>()},
      {"group", member<&FitRow::group>()},
      {"sampler", claim_text<&Claim::sampler>()},
      {"versus", claim_text<&Claim::versus>()},
      {"metric", claim_text<&Claim::metric>()},
      kFitClaimColumns[0],  // axis
      kFitClaimColumns[1],  // log_power_mode
      kFitClaimColumns[2],  // model
      kFitClaimColumns[3],  // bound
      {"verdict", named<&FitRow::verdict, kVerdictNames>()},
      {"message", member<&FitRow::message>()},
      {"exclusions", member<&FitRow::exclusions>()},
      {"local_slopes", member<&FitRow::local_slopes>()},
      {"slope", member<&FitRow::slope>()},
      {"slope_low", member<&FitRow::slope_low>()},
      {"slope_high", member<&FitRow::slope_high>()},
      {"log_power", member<&FitRow::log_power>()},
      {"intercept", member<&FitRow::intercept>()},
      {"claimed_slope", claim_number<&Claim::slope>()},
      {"tolerance", claim_number<&Claim::tolerance>()},
      kFitClaimColumns[4],  // baseline
      {"points_used", member<&FitRow::points_used>()},
      {"points_excluded", member<&FitRow::points_excluded>()},
      // Absent before verdicts carried their reason and the lack-of-fit test.
      {"verdict_reason", member<&FitRow::verdict_reason>(), true},
      {"chi2_per_dof", member<&FitRow::chi2_per_dof>(), true},
      {"fit_p_value", member<&FitRow::fit_p_value>(), true}};
  return columns;
}

template <class Row>
void write_columns(results::ColumnTable& table, const std::vector<Row>& rows, const std::vector<ColumnSpec<Row>>& specs) {
  for (const ColumnSpec<Row>& spec : specs) {
    std::visit(
        [&](const auto& access) {
          std::vector<std::remove_cvref_t<decltype(access.get(rows.front()))>> column;
          column.reserve(rows.size());
          for (const Row& row : rows) column.push_back(access.get(row));
          table.columns.emplace_back(spec.name, std::move(column));
        },
        spec.access);
  }
}

template <class Row>
void read_columns(const results::ColumnTable& table, std::vector<Row>& rows, const std::vector<ColumnSpec<Row>>& specs) {
  for (const ColumnSpec<Row>& spec : specs) {
    if (spec.optional && table.find(spec.name) == nullptr) continue;
    std::visit(
        [&](const auto& access) {
          using T = std::remove_cvref_t<decltype(access.get(rows.front()))>;
          const std::vector<T>* column;
          if constexpr (std::is_same_v<T, std::string>) {
            column = &table.strings(spec.name);
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            column = &table.ints(spec.name);
          } else {
            column = &table.doubles(spec.name);
          }
          for (std::size_t i = 0; i < rows.size(); ++i) access.set(rows[i], (*column)[i]);
        },
        spec.access);
  }
}

// One column per [sweep] axis, named by its path: float64 when the axis is numeric, else strings.
void write_swept_columns(results::ColumnTable& runs, const config::ExperimentConfig& config,
                         const std::vector<RunRow>& rows) {
  for (std::size_t a = 0; a < config.sweep.size(); ++a) {
    if (config.sweep[a].values.front().is_number()) {
      std::vector<double> column;
      for (const RunRow& r : rows) column.push_back(r.swept[a].is_number() ? r.swept[a].number() : NAN);
      runs.columns.emplace_back(config.sweep[a].path, std::move(column));
    } else {
      std::vector<std::string> column;
      for (const RunRow& r : rows) column.push_back(r.swept[a].is_string() ? r.swept[a].string() : r.swept[a].to_string());
      runs.columns.emplace_back(config.sweep[a].path, std::move(column));
    }
  }
}

}  // namespace

std::string kind_name(const RunRow& row) {
  switch (row.origin) {
    case RowOrigin::kOracle:
      return "oracle";
    case RowOrigin::kEstimatorFailed:
      return "failed";
    case RowOrigin::kEstimate:
      break;
  }
  return kEstimateKindNames.name(row.kind);
}

std::string FitRow::axis_label() const {
  // As the fits have always been written: the group rows abbreviate target.dim to "d".
  return !group.empty() && claim.axis == "target.dim" ? "d" : claim.axis;
}

results::ResultsFile make_results_file(const config::ExperimentConfig& config, const std::vector<RunRow>& rows,
                                       const std::vector<FitRow>& fits, const FileOptions& options, bool complete) {
  results::ResultsFile file;
  file.attributes = {{"schema_version", kSchemaVersion}};
  results::append_tool_attributes(file.attributes, /*with_build_type=*/true);
  file.attributes.emplace_back("threads", static_cast<std::int64_t>(options.threads));
  file.attributes.emplace_back("ranks", static_cast<std::int64_t>(options.ranks));
  if (options.shard) {
    file.attributes.emplace_back("shard_index", options.shard->index);
    file.attributes.emplace_back("shard_count", options.shard->count);
  }
  results::append_origin_attributes(file.attributes, {options.command_line, config.path, config.text, config.hash});
  file.attributes.emplace_back("complete", std::int64_t{complete ? 1 : 0});
  results::ColumnTable fit_table;
  write_columns(fit_table, fits, fit_columns());
  file.tables = {{"runs", make_runs_table(config, rows)}, {"fits", std::move(fit_table)}};
  return file;
}

results::ColumnTable make_runs_table(const config::ExperimentConfig& config, const std::vector<RunRow>& rows) {
  results::ColumnTable runs;
  write_columns(runs, rows, run_columns());
  write_swept_columns(runs, config, rows);
  return runs;
}

std::optional<Shard> read_shard(const results::ResultsFile& file, const std::string& path) {
  const results::Attribute* index = file.attribute("shard_index");
  const results::Attribute* count = file.attribute("shard_count");
  if (index == nullptr && count == nullptr) return std::nullopt;
  const auto* i = index ? std::get_if<std::int64_t>(index) : nullptr;
  const auto* n = count ? std::get_if<std::int64_t>(count) : nullptr;
  if (i == nullptr || n == nullptr)
    throw InvalidArgument(path + ": root attributes shard_index and shard_count must both be present and int64 "
                          "(a part file of dmconv run --shard carries both)");
  return Shard{*i, *n};
}

FileLayout file_layout() {
  FileLayout out;
  out.layout = make_results_file(config::ExperimentConfig{}, {}, {}, FileOptions{}, false);
  for (const ColumnSpec<RunRow>& spec : run_columns())
    if (spec.optional) out.optional.push_back(std::string("runs/") + spec.name);
  for (const ColumnSpec<FitRow>& spec : fit_columns())
    if (spec.optional) out.optional.push_back(std::string("fits/") + spec.name);
  return out;
}

std::vector<RunRow> read_run_rows(const results::ResultsFile& file, const config::ExperimentConfig& config) {
  const results::ColumnTable* runs = file.table("runs");
  if (runs == nullptr) throw InvalidArgument("results file has no /runs table");
  return read_run_rows(*runs, config);
}

std::vector<RunRow> read_run_rows(const results::ColumnTable& runs, const config::ExperimentConfig& config) {
  const std::size_t n = runs.rows();
  std::vector<RunRow> rows(n);
  read_columns(runs, rows, run_columns());
  for (const config::SweepAxis& axis : config.sweep) {
    const results::Column* column = runs.find(axis.path);
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
  std::vector<FitRow> fits(table->rows());
  read_columns(*table, fits, fit_columns());
  return fits;
}

}  // namespace dmconv::experiment
