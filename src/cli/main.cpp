// dmconv command line: run / validate / check / merge experiment configs, report (HTML page of
// results files), lsi profiles, posterior samples, list, describe, demo.
// Exit codes: 0 success, 1 a claim is violated, 2 bad input (file:line, key, value, rule; for
// `check`, every schema defect of the results file), 130 `run` interrupted by SIGINT and 143 by
// SIGTERM (128 + signal, the shell convention) after writing a checkpoint (complete = 0) that
// `run --resume` continues to bit-identical results; 3 a run failed (under mpirun: which run, on
// which rank, why; the checkpoint keeps every finished run).
//
// Under an MPI launcher (`mpirun -n R dmconv run ...`) rank 0 is the process that reads, checks,
// reports and writes; the other ranks compute the runs it hands out and print nothing of their own.
#include <CLI/CLI.hpp>
#include <malloc.h>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <set>
#include <string>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "experiment/distributed.hpp"
#include "experiment/execute.hpp"
#include "experiment/shard.hpp"
#include "dmconv/version.hpp"
#include "parallel/communicator.hpp"

int main(int argc, char** argv) {
  // Freed blocks stay with the process: by default glibc returns the top of each thread's heap
  // to the system and maps large blocks afresh, so a step loop whose temporaries are freed
  // each step page-faults them back in every step (measured on a VM with ~7.5 us faults:
  // 13 s of a 25 s DDIM run in the kernel). Memory is reused, never leaked.
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_MMAP_THRESHOLD, 1 << 26);
  std::unique_ptr<dmconv::parallel::Communicator> ranks;
  try {
    ranks = dmconv::parallel::start_communicator(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "dmconv: error: " << error.what() << "\n";
    return 2;
  }
  CLI::App app{"dmconv: convergence of score-based diffusion samplers against exact ground truth"};
  app.set_version_flag("--version", std::string("dmconv ") + dmconv::kVersion + " (" + dmconv::kGitSha + ", " +
                                        dmconv::kBuildType + "; MPI: " +
                                        dmconv::parallel::message_passing_library() + ")");
  app.require_subcommand(1);
  // CLI::Range lets NaN through (every comparison with NaN is false), so floating options also
  // carry this check.
  const CLI::Validator finite(
      [](std::string& text) -> std::string {
        double value = 0.0;
        try {
          std::size_t used = 0;
          value = std::stod(text, &used);
        } catch (const std::out_of_range&) {  // beyond the double range: it would read as inf
          return "value '" + text + "' must be a finite number (it overflows a double)";
        } catch (const std::exception&) {
          return "value '" + text + "' is not a number";
        }
        return std::isfinite(value) ? std::string() : "value '" + text + "' must be a finite number (not nan or inf)";
      },
      "FINITE");

  std::string kind = "all";
  auto* list = app.add_subcommand("list", "print every registered target, schedule, sampler, estimator and score error");
  list->add_option("kind", kind, "targets | schedules | samplers | estimators | score_errors | likelihoods | posterior_samplers | "
                                          "posterior_estimators | all")
      ->check(CLI::IsMember({"all", "targets", "schedules", "samplers", "estimators", "score_errors", "likelihoods",
                              "posterior_samplers", "posterior_estimators"}));

  std::vector<std::string> describe_args;
  auto* describe = app.add_subcommand("describe", "print a component's parameters (type, default, range, unit, "
                                                  "meaning) and a config snippet: describe [KIND] NAME");
  describe->add_option("args", describe_args, "[targets|schedules|samplers|estimators|score_errors|likelihoods|posterior_samplers|"
                                        "posterior_estimators] NAME")
      ->required()
      ->expected(1, 2);

  dmconv::cli::DemoOptions demo_options;
  auto* demo = app.add_subcommand("demo", "sample the example mixture with every sampler; moments vs exact");
  demo->add_option("--steps,-T", demo_options.steps, "number of steps T")->check(CLI::Range(2, 1 << 20));
  demo->add_option("--particles,-n", demo_options.particles, "particles per sampler")->check(CLI::Range(2, 1 << 26));
  demo->add_option("--seed", demo_options.seed, "random seed");
  demo->add_option("--threads", demo_options.threads, "OpenMP threads (0 = default)")->check(CLI::Range(0, 4096));

  dmconv::cli::ExperimentOptions experiment;
  for (int i = 0; i < argc; ++i) experiment.command_line += (i ? " " : "") + std::string(argv[i]);
  auto* run = app.add_subcommand("run", "run an experiment config: sweep, estimates, claim verdicts, HDF5 results");
  run->add_option("config", experiment.config, "experiment config (TOML)")->required();
  run->add_option("--set", experiment.overrides, "override a config value: section.key=value (TOML syntax)");
  auto* run_out = run->add_option("--out,-o", experiment.out, "results file (default results/<experiment name>.h5)");
  run->add_option("--threads", experiment.threads, "OpenMP threads (0 = default)")->check(CLI::Range(0, 4096));
  run->add_flag("--resume", experiment.resume, "keep the runs already in the results file (same config, same --shard)");
  run->add_option("--shard", experiment.shard,
                  "i/n: run only slice i of n (1 <= i <= n) of the sweep and write a part file for dmconv merge; "
                  "claims are not judged on a part (docs/cluster.md)");
  run->add_option("--checkpoint-seconds", experiment.checkpoint_seconds,
                  "minimum seconds between checkpoint writes of the results file (default 2)")
      ->check(finite)
      ->check(CLI::Range(0.0, 1e6));
  auto* validate = app.add_subcommand("validate", "parse and validate a config, print the run count; no sampling");
  validate->add_option("config", experiment.config, "experiment config (TOML)")->required();
  validate->add_option("--set", experiment.overrides, "override a config value: section.key=value");
  auto* validate_out = validate->add_option(
      "--out,-o", experiment.out, "results file to check as run would (default results/<experiment name>.h5)");
  validate->add_option("--shards", experiment.shards,
                       "n: print the runs and estimated cost share of each part of run --shard i/n (sizing a job array)")
      ->check(CLI::Range(std::int64_t{1}, dmconv::experiment::kMaxShards));
  dmconv::cli::LsiOptions lsi_options;
  lsi_options.command_line = experiment.command_line;
  auto* lsi = app.add_subcommand("lsi", "log-Sobolev profile of p_T1 (Bakry-Emery bound, 1-D spectral constants, "
                                        "T1 at which the bound reaches 1 - delta) for the targets of a config");
  lsi->add_option("config", lsi_options.config, "experiment config (TOML); its [target] (and target sweeps)")->required();
  lsi->add_option("--set", lsi_options.overrides, "override a config value: section.key=value");
  lsi->add_option("--t1", lsi_options.times, "forward times T1 (default 0.25 0.5 1 1.5 2 3)")->check(finite);
  lsi->add_option("--delta", lsi_options.delta, "T1*: the time at which the bound reaches 1 - delta (default 0.1)")
      ->check(finite);
  lsi->add_option("--t1-max", lsi_options.t1_max, "upper end of the T1* bisection (default 10)")->check(finite);
  lsi->add_option("--cells", lsi_options.cells, "grid cells of the 1-D spectral constants (default 512)");
  lsi->add_option("--out,-o", lsi_options.out, "HDF5 file (default results/<experiment name>_lsi.h5)");
  dmconv::cli::SamplesCommandOptions samples_options;
  samples_options.command_line = experiment.command_line;
  auto* samples = app.add_subcommand("samples", "posterior experiments: every posterior sampler's draws and the exact "
                                                "grid laws of pi and pi_eta (d <= 2) as an HDF5 file, for density plots");
  samples->add_option("config", samples_options.config, "experiment config (TOML) with a [likelihood] section")->required();
  samples->add_option("--out,-o", samples_options.out, "HDF5 file to write")->required();
  samples->add_option("--set", samples_options.overrides, "override a config value: section.key=value");
  samples->add_option("--steps,-T", samples_options.steps, "only this value of [sampling] steps (default: every one)");
  samples->add_option("--particles,-n", samples_options.particles,
                      "draws written per sampler, sweep point and steps, at most (default 20000; fewer when the "
                      "config has fewer)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 26));
  samples->add_option("--threads", samples_options.threads, "OpenMP threads (0 = default)")->check(CLI::Range(0, 4096));
  std::string results_path;
  auto* check = app.add_subcommand("check", "print the claim verdicts of a results file; exit 1 if one is violated");
  check->add_option("results", results_path, "results file (HDF5)")->required();
  dmconv::cli::MergeOptions merge_options;
  merge_options.command_line = experiment.command_line;
  auto* merge = app.add_subcommand("merge", "join the part files of run --shard i/n (same config, every slice once), "
                                            "fit and judge the claims on the union, write one results file");
  merge->add_option("parts", merge_options.parts, "part files (HDF5) of dmconv run --shard")->required();
  auto* merge_out =
      merge->add_option("--out,-o", merge_options.out, "merged results file (default results/<experiment name>.h5)");
  dmconv::cli::ReportOptions report_options;
  report_options.command_line = experiment.command_line;
  auto* report = app.add_subcommand("report", "a self-contained static HTML page (DIR/index.html) of the claim "
                                              "verdicts, tightness and plots of results files");
  report->add_option("results", report_options.inputs, "results files (HDF5) of dmconv run")->required();
  report->add_option("--out,-o", report_options.out, "directory to write index.html into (created if missing)")
      ->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // No subcommand, or a word that is none ("dmconv frobnicate"): say which ones exist.
    if (app.get_subcommands().empty() && error.get_exit_code() != 0) {
      std::string valid;
      for (const CLI::App* sub : app.get_subcommands({})) valid += (valid.empty() ? "" : ", ") + sub->get_name();
      std::cerr << "dmconv: error: "
                << (argc < 2                ? std::string("a subcommand is required")
                    : argv[1][0] != '-' ? "unknown subcommand '" + std::string(argv[1]) + "'"
                                        : std::string(error.what()))
                << "; valid subcommands are: " << valid << " (dmconv --help for more)\n";
      return 2;
    }
    const int code = app.exit(error);
    return code == 0 ? 0 : 2;
  }
  experiment.out_given = run_out->count() > 0 || validate_out->count() > 0;
  merge_options.out_given = merge_out->count() > 0;
  try {
    if (*run) return dmconv::cli::run_command(experiment, *ranks, std::cout);
    if (ranks->size() > 1) {
      // Only a sweep is shared out; anything else would just be done R times.
      if (ranks->rank() != 0) return 2;
      throw dmconv::InvalidArgument("dmconv " + app.get_subcommands().front()->get_name() + " under an MPI launcher with " +
                                    std::to_string(ranks->size()) +
                                    " ranks: only `dmconv run` is distributed over ranks; run it as one process");
    }
    if (*validate) return dmconv::cli::validate_command(experiment, std::cout);
    if (*check) return dmconv::cli::check_command(results_path, std::cout);
    if (*report) return dmconv::cli::report_command(report_options, std::cout);
    if (*merge) return dmconv::cli::merge_command(merge_options, std::cout);
    if (*lsi) return dmconv::cli::lsi_command(lsi_options, std::cout);
    if (*samples) return dmconv::cli::samples_command(samples_options, std::cout);
    if (*list) return dmconv::cli::list_command(kind, std::cout);
    if (*describe) {
      if (describe_args.size() == 2) {
        const std::string& k = describe_args[0];
        const std::set<std::string> kinds = {"targets",     "schedules",          "samplers",
                                             "estimators",  "score_errors",       "likelihoods",
                                             "posterior_samplers", "posterior_estimators"};
        if (kinds.count(k) == 0)
          throw dmconv::InvalidArgument("describe: KIND = '" + k +
                                        "' must be one of targets, schedules, samplers, estimators, score_errors, "
                                        "likelihoods, posterior_samplers, posterior_estimators");
        return dmconv::cli::describe_command(k, describe_args[1], std::cout);
      }
      return dmconv::cli::describe_command("", describe_args[0], std::cout);
    }
    if (*demo) return dmconv::cli::demo_command(demo_options, std::cout);
  } catch (const dmconv::experiment::Interrupted& error) {
    std::cerr << "dmconv: " << error.what() << ": checkpoint written; continue with dmconv run --resume\n";
    return 128 + error.signal_number();
  } catch (const dmconv::experiment::RunFailed& error) {
    std::cerr << "dmconv: error: " << error.what()
              << "\ndmconv: the checkpoint keeps every finished run; continue with dmconv run --resume\n";
    return 3;
  } catch (const dmconv::InvalidArgument& error) {
    std::cerr << "dmconv: error: " << error.what() << "\n";
    return 2;
  } catch (const std::filesystem::filesystem_error& error) {
    std::cerr << "dmconv: error: " << error.what() << "\n";
    return 2;
  }
  return 0;
}
