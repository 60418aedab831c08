// `dmconv run`, `dmconv validate`, `dmconv check` (issue 4; docs/design.md §6).
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "experiment/experiment.hpp"
#include "experiment/preflight.hpp"
#include "experiment/schema.hpp"

namespace dmconv::cli {
namespace {

std::filesystem::path default_output(const config::ExperimentConfig& config) {
  return std::filesystem::path("results") / (config.name + ".h5");
}

experiment::OutputPath output_path(const ExperimentOptions& options, const config::ExperimentConfig& config) {
  return options.out_given ? experiment::OutputPath{std::filesystem::path(options.out), true}
                           : experiment::OutputPath{default_output(config), false};
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
  return 0;
}

int run_command(const ExperimentOptions& options, std::ostream& out) {
  const config::ExperimentConfig config = config::load_config(options.config, options.overrides);
  const experiment::Plan plan = experiment::make_plan(config);  // every error before any work
  // Pre-flight (experiment/preflight.hpp): memory, then the output path; both before any work.
  experiment::check_memory(plan, experiment::available_memory());
  const experiment::OutputPath output = output_path(options, config);
  experiment::check_output_path(output, /*keep_created=*/true);
  experiment::ExecutionOptions execution;
  execution.out = output.path;
  execution.resume = options.resume;
  execution.checkpoint_seconds = options.checkpoint_seconds;
  execution.threads = options.threads;
  execution.command_line = options.command_line;
  execution.progress = &std::cerr;
  execution.progress_is_terminal = isatty(STDERR_FILENO) != 0;
  out << "dmconv run: experiment '" << config.name << "', " << plan.runs.size() << " runs -> " << execution.out.string()
      << "\n";
  const experiment::Outcome outcome = experiment::run_experiment(plan, execution);
  experiment::print_error_table(out, config, outcome.rows);
  experiment::print_verdicts(out, outcome.fits);
  out << "\nwrote " << execution.out.string() << " (" << outcome.rows.size() << " rows, " << outcome.runs_executed
      << " runs executed, " << outcome.runs_resumed << " resumed)\n";
  return experiment::any_violated(outcome.fits) ? 1 : 0;
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
