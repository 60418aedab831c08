// `dmconv run`, `dmconv validate`, `dmconv check` (issue 4; docs/design.md §6) and `dmconv merge`
// (issue 17; docs/cluster.md).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>

#include "cli/commands.hpp"
#include "experiment/distributed.hpp"
#include "experiment/experiment.hpp"
#include "experiment/merge.hpp"
#include "experiment/preflight.hpp"
#include "experiment/schema.hpp"

namespace dmconv::cli {
namespace {

std::filesystem::path default_output(const config::ExperimentConfig& config) {
  return std::filesystem::path("results") / (config.name + ".h5");
}

// A part's default name says which part it is, so parts of one sweep never overwrite each other
// or the merged file.
std::filesystem::path default_part_output(const config::ExperimentConfig& config, const experiment::Shard& shard) {
  return std::filesystem::path("results") / (config.name + ".part-" + std::to_string(shard.index) + "-of-" +
                                             std::to_string(shard.count) + ".h5");
}

experiment::OutputPath output_path(const ExperimentOptions& options, const config::ExperimentConfig& config,
                                   const std::optional<experiment::Shard>& shard = std::nullopt) {
  if (options.out_given) return experiment::OutputPath{std::filesystem::path(options.out), true};
  return experiment::OutputPath{shard ? default_part_output(config, *shard) : default_output(config), false};
}

// The end of `run` and `merge`: the tables, the verdicts (none on a part), the file written.
int report_outcome(std::ostream& out, const config::ExperimentConfig& config, const experiment::Outcome& outcome,
                   const std::filesystem::path& path, const std::optional<experiment::Shard>& shard,
                   const std::string& counts) {
  experiment::print_error_table(out, config, outcome.rows);
  if (shard) {
    out << "\nclaims are not judged on a part (part " << shard->index << "/" << shard->count
        << "): dmconv merge the " << shard->count << " parts to fit and judge them (docs/cluster.md)\n";
  } else {
    experiment::print_verdicts(out, outcome.fits);
  }
  out << "\nwrote " << path.string() << " (" << outcome.rows.size() << " rows, " << counts << ")\n";
  return experiment::any_violated(outcome.fits) ? 1 : 0;
}

}  // namespace

int validate_command(const ExperimentOptions& options, std::ostream& out) {
  const config::ExperimentConfig config = config::load_config(options.config, options.overrides);
  const experiment::Plan plan = experiment::make_plan(config);
  // The same pre-flight checks as run, leaving nothing behind (probe and directories removed).
  experiment::check_memory(plan, experiment::available_memory());
  experiment::check_output_path(output_path(options, config), /*keep_created=*/false);
  std::size_t estimates = 0;
  for (const auto& chosen : plan.estimators_of_run) estimates += chosen.size();
  out << options.config << ": valid. experiment '" << config.name << "': " << plan.runs.size() << " runs ("
      << config.samplers.size() << " samplers x " << config.steps.size() << " values of T x " << config.replicates
      << " replicates";
  for (const auto& axis : config.sweep) out << " x " << axis.values.size() << " " << axis.path;
  out << "), " << estimates << " estimator calls, " << config.claims.size() << " claims; config hash "
      << config.hash << "\n";
  if (options.shards) {
    // The split `run --shard i/n` would make, with each part's share of the cost estimate: the
    // largest share times the one-process wall time is what each array task must be given.
    const std::int64_t n = *options.shards;
    const std::vector<std::int64_t> shard_of = experiment::shard_of_runs(plan.runs, n);
    std::vector<std::size_t> runs(static_cast<std::size_t>(n), 0);
    std::vector<double> cost(static_cast<std::size_t>(n), 0.0);
    double total = 0.0;
    for (std::size_t r = 0; r < plan.runs.size(); ++r) {
      const auto s = static_cast<std::size_t>(shard_of[r] - 1);
      ++runs[s];
      cost[s] += experiment::estimated_cost(plan.runs[r]);
      total += experiment::estimated_cost(plan.runs[r]);
    }
    out << "--shard i/" << n << " (cost estimate: T x particles per run):\n";
    for (std::size_t s = 0; s < runs.size(); ++s) {
      char share[32];
      std::snprintf(share, sizeof share, "%.1f%%", total > 0.0 ? 100.0 * cost[s] / total : 0.0);
      out << "  part " << s + 1 << "/" << n << ": " << runs[s] << " runs, " << share << " of the cost\n";
    }
  }
  return 0;
}

namespace {

// Ranks 1 .. R-1 of `mpirun -n R dmconv run`: nothing of their own is printed; rank 0 reports.
int serve_command(const ExperimentOptions& options, parallel::Communicator& ranks) {
  const experiment::Release release = experiment::await_release(ranks);
  if (!release.go) return release.exit_code;  // rank 0 refused the config or the output and said why
  std::optional<experiment::Plan> plan;
  try {
    plan.emplace(experiment::make_plan(config::load_config(options.config, options.overrides)));
    if (plan->config.hash != release.config_hash)
      throw InvalidArgument(options.config + ": config hash " + plan->config.hash + " on rank " +
                            std::to_string(ranks.rank()) + ", " + release.config_hash +
                            " on rank 0: every rank must read the same config (a shared file system, the same --set)");
  } catch (const std::exception& error) {
    experiment::report_start_failure(ranks, error.what());
    return 2;
  }
  experiment::serve_runs(ranks, plan->config, [&](std::size_t run, const ParticleSplit* split) {
    return experiment::execute_run(*plan, run, options.threads, split);
  });
  return 0;
}

}  // namespace

int run_command(const ExperimentOptions& options, parallel::Communicator& ranks, std::ostream& out) {
  if (ranks.rank() != 0) return serve_command(options, ranks);
  experiment::ExecutionOptions execution;
  std::optional<experiment::Shard> shard;
  std::optional<experiment::Plan> plan;
  try {
    if (options.shard) shard = experiment::parse_shard(*options.shard);
    // Every error of the config before any work.
    plan.emplace(experiment::make_plan(config::load_config(options.config, options.overrides)));
    // Pre-flight (experiment/preflight.hpp): memory, then the output path; both before any work.
    experiment::check_memory(*plan, experiment::available_memory());
    const experiment::OutputPath output = output_path(options, plan->config, shard);
    experiment::check_output_path(output, /*keep_created=*/true);
    execution.out = output.path;
  } catch (...) {
    if (ranks.size() > 1) experiment::cancel_ranks(ranks, 2);
    throw;
  }
  const config::ExperimentConfig& config = plan->config;
  if (ranks.size() > 1) {
    experiment::release_ranks(ranks, config.hash);
    execution.ranks = &ranks;
  }
  execution.resume = options.resume;
  execution.checkpoint_seconds = options.checkpoint_seconds;
  execution.threads = options.threads;
  execution.command_line = options.command_line;
  execution.progress = &std::cerr;
  execution.progress_is_terminal = isatty(STDERR_FILENO) != 0;
  execution.shard = shard;
  out << "dmconv run: experiment '" << config.name << "', " << plan->runs.size() << " runs";
  if (shard) {
    const std::vector<std::int64_t> shard_of = experiment::shard_of_runs(plan->runs, shard->count);
    out << ", part " << shard->index << "/" << shard->count << " of them: "
        << std::count(shard_of.begin(), shard_of.end(), shard->index) << " runs";
  }
  if (ranks.size() > 1) out << ", on " << ranks.size() << " MPI ranks";
  out << " -> " << execution.out.string() << "\n" << std::flush;
  experiment::Outcome outcome;
  try {
    outcome = experiment::run_experiment(*plan, execution);
  } catch (const experiment::RunFailed&) {
    throw;  // every rank was told to stop; the checkpoint holds the finished runs
  } catch (const std::exception& error) {
    if (ranks.size() > 1) {
      // Other ranks may be in the middle of a run that nobody will collect.
      std::cerr << "dmconv: error: " << error.what() << "\ndmconv: rank 0 failed: ending all " << ranks.size()
                << " ranks\n";
      ranks.abort(2);
    }
    throw;
  }
  return report_outcome(out, config, outcome, execution.out, shard,
                        std::to_string(outcome.runs_executed) + " runs executed" +
                            (outcome.runs_copied > 0 ? " (" + std::to_string(outcome.runs_copied) +
                                                           " of them copied from a run with the same inputs)"
                                                     : std::string()) +
                            ", " + std::to_string(outcome.runs_resumed) + " resumed");
}

int merge_command(const MergeOptions& options, std::ostream& out) {
  std::vector<std::filesystem::path> parts(options.parts.begin(), options.parts.end());
  const experiment::MergeInput input = experiment::read_parts(parts);  // every check before the disk is touched
  const experiment::OutputPath output =
      options.out_given ? experiment::OutputPath{std::filesystem::path(options.out), true}
                        : experiment::OutputPath{default_output(input.config), false};
  for (const std::filesystem::path& part : parts) {
    std::error_code error;
    if (std::filesystem::equivalent(part, output.path, error))
      throw InvalidArgument("--out = '" + output.path.string() + "': is one of the parts (" + part.string() +
                            "); write the merged file elsewhere");
  }
  experiment::check_output_path(output, /*keep_created=*/true);
  out << "dmconv merge: experiment '" << input.config.name << "', " << parts.size() << " parts of "
      << input.shard_count << ", " << input.by_run.size() << " runs -> " << output.path.string() << "\n";
  const experiment::Outcome outcome = experiment::conclude_sweep(
      input.config, input.by_run,
      experiment::FileOptions{options.command_line, static_cast<int>(input.threads), static_cast<int>(input.ranks),
                              std::nullopt},
      output.path);
  return report_outcome(out, input.config, outcome, output.path, std::nullopt,
                        std::to_string(input.runs_with_rows) + " runs with rows from " + std::to_string(parts.size()) +
                            " parts");
}

int check_command(const std::string& path, std::ostream& out) {
  const results::ResultsFile file = results::read_results_file(path);
  // The whole schema first, every defect listed (exit 2), before anything is read from it.
  if (const std::vector<std::string> defects = experiment::schema_defects(file); !defects.empty()) {
    std::string message = path + ": not a dmconv results file of schema " + std::to_string(experiment::kSchemaVersion) +
                          " (" + std::to_string(defects.size()) + " defect" + (defects.size() == 1 ? "" : "s") + "):";
    for (const std::string& defect : defects) message += "\n  " + defect;
    throw InvalidArgument(message);
  }
  const results::Attribute* version = file.attribute("schema_version");
  const auto* number = version ? std::get_if<std::int64_t>(version) : nullptr;
  if (number == nullptr || *number != experiment::kSchemaVersion)
    throw InvalidArgument(path + ": schema_version " + (number ? std::to_string(*number) : std::string("missing")) +
                          " is not " + std::to_string(experiment::kSchemaVersion));
  if (const std::optional<experiment::Shard> shard = experiment::read_shard(file, path))
    throw InvalidArgument(path + ": part " + std::to_string(shard->index) + "/" + std::to_string(shard->count) +
                          " of a sharded sweep (dmconv run --shard): claims are judged on the merged file; join the "
                          "parts with dmconv merge and check that");
  const results::Attribute* complete = file.attribute("complete");
  const auto* done = complete ? std::get_if<std::int64_t>(complete) : nullptr;
  if (done == nullptr || *done != 1)
    throw InvalidArgument(path + ": the sweep is not complete (a checkpoint); finish it with dmconv run --resume");
  const std::vector<experiment::FitRow> fits = experiment::read_fit_rows(file);
  out << path << ": " << fits.size() << " claim fits\n";
  experiment::print_verdicts(out, fits);
  std::size_t holds = 0, violated = 0, inconclusive = 0;
  for (const auto& f : fits) {
    holds += f.verdict == Verdict::kHolds;
    violated += f.verdict == Verdict::kViolated;
    inconclusive += f.verdict == Verdict::kInconclusive;
  }
  out << "\n" << holds << " hold, " << violated << " violated, " << inconclusive << " inconclusive\n";
  return violated > 0 ? 1 : 0;
}

}  // namespace dmconv::cli
