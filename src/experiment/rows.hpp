// The rows of a results file (schema in results/README.md): /runs, one row per (run, estimator,
// metric), and /fits, one row per (claim, group), with the column bindings that write them to
// and read them from a results::ResultsFile. Inside the program rows hold enums (estimate status
// and kind, initialisation, verdict, claim bound/model/log factor) and the Claim itself; the
// strings of the file are made only here, by the enums' name tables.
#pragma once
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "analysis/rate_fit.hpp"
#include "config/experiment_config.hpp"
#include "core/estimator.hpp"
#include "experiment/shard.hpp"
#include "results/results_file.hpp"

namespace dmconv::experiment {

inline constexpr std::int64_t kSchemaVersion = 1;

// What produced a /runs row: an estimate for a sampler's output; the oracle floor of such an
// estimate (sampler "oracle", kind "oracle"); or an estimator that failed as a whole (no
// estimate, kind "failed"). The /runs "kind" column is the origin, or the estimate's kind.
enum class RowOrigin { kEstimate, kOracle, kEstimatorFailed };

// One row of /runs: one (run, estimator, metric).
struct RunRow {
  std::int64_t run_index = 0;
  std::string run_key, target, sampler, schedule, score_error, estimator, metric, message;
  // Posterior experiments: the likelihood's kind ("" otherwise), and what `steps` counts for this
  // sampler ("diffusion steps T" for the unconditional samplers; "outer iterations K" for DPnP, ...).
  std::string likelihood, steps_meaning = "diffusion steps T";
  RowOrigin origin = RowOrigin::kEstimate;
  EstimateKind kind = EstimateKind::kExact;  // meaningful for kEstimate rows
  EstimateStatus status = EstimateStatus::kOk;
  Initialisation initialisation = Initialisation::kExactMarginal;
  std::int64_t dim = 0, steps = 0, replicate = 0, seed = 0, particles = 0, comparison_level = 1;
  double value = std::numeric_limits<double>::quiet_NaN();
  double std_error = 0.0, floor = 0.0, nfe = 0.0, wall_seconds = 0.0;
  double eps_score = std::numeric_limits<double>::quiet_NaN();
  double eps_jacobi = std::numeric_limits<double>::quiet_NaN();
  double eps_score_se = std::numeric_limits<double>::quiet_NaN();
  double eps_jacobi_se = std::numeric_limits<double>::quiet_NaN();
  std::vector<ParamValue> swept;  // aligned with config.sweep
};

// The /runs "kind" value: "oracle", "failed", or the estimate kind's name.
std::string kind_name(const RunRow& row);

// One row of /fits: one (claim, group). `claim` is the config's claim; read back from a file it
// holds what /fits records (name, sampler, versus, metric, axis, slope, tolerance, bound, model,
// log power mode, baseline).
struct FitRow {
  Claim claim;
  std::string group, message, exclusions, local_slopes;
  Verdict verdict = Verdict::kInconclusive;
  std::string verdict_reason;  // judge()'s evidence in words (analysis/rate_fit.hpp Judgement)
  double chi2_per_dof = std::numeric_limits<double>::quiet_NaN();  // residual scale of the fit
  double fit_p_value = std::numeric_limits<double>::quiet_NaN();   // chi^2 goodness of fit, stated errors
  double slope = std::numeric_limits<double>::quiet_NaN();  // fitted
  double slope_low = std::numeric_limits<double>::quiet_NaN();
  double slope_high = std::numeric_limits<double>::quiet_NaN();
  double log_power = std::numeric_limits<double>::quiet_NaN();  // fitted (or fixed) k
  double intercept = std::numeric_limits<double>::quiet_NaN();
  std::int64_t points_used = 0, points_excluded = 0;

  // The /fits "axis" value: "d" for target.dim in a fitted group; the claim's axis as written
  // in the config otherwise (a claim that matched no results has no group).
  std::string axis_label() const;
};

// Results file <-> rows. The root attributes are the provenance of results/provenance.hpp plus
// schema_version, threads, ranks and complete; a part file of `run --shard` also shard_index and
// shard_count.
struct FileOptions {
  std::string command_line;
  int threads = 0;
  int ranks = 1;               // MPI ranks that computed the runs (`mpirun -n R dmconv run`)
  std::optional<Shard> shard;  // set: a part file of `dmconv run --shard`
};
// The shard attributes of a part file; nullopt for a file without them (not a part). Throws
// InvalidArgument naming the file when only one is present or they are not int64.
std::optional<Shard> read_shard(const results::ResultsFile& file, const std::string& path);
results::ResultsFile make_results_file(const config::ExperimentConfig& config, const std::vector<RunRow>& rows,
                                       const std::vector<FitRow>& fits, const FileOptions& options, bool complete);
std::vector<RunRow> read_run_rows(const results::ResultsFile& file, const config::ExperimentConfig& config);
// The /runs table alone (what make_results_file stores, what read_run_rows reads): rows sent
// between MPI ranks travel as this table.
results::ColumnTable make_runs_table(const config::ExperimentConfig& config, const std::vector<RunRow>& rows);
std::vector<RunRow> read_run_rows(const results::ColumnTable& runs, const config::ExperimentConfig& config);

// The layout make_results_file writes, derived from it (a file of no rows, no [sweep] axes): the
// root attributes, the tables and their columns, each with its type. `optional` names the
// columns ("table/column") that the readers accept missing (added after schema 1 was first
// written). schema.hpp checks files against it.
struct FileLayout {
  results::ResultsFile layout;
  std::vector<std::string> optional;
};
FileLayout file_layout();
std::vector<FitRow> read_fit_rows(const results::ResultsFile& file);

}  // namespace dmconv::experiment
