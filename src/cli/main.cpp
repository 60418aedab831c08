// dmconv command line: `dmconv list [KIND]`, `dmconv demo`.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "dmconv/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"dmconv: convergence of score-based diffusion samplers against exact ground truth"};
  app.set_version_flag("--version", std::string("dmconv ") + dmconv::kVersion + " (" + dmconv::kGitSha + ", " +
                                        dmconv::kBuildType + ")");
  app.require_subcommand(1);

  std::string kind = "all";
  auto* list = app.add_subcommand("list", "print every registered target, schedule, sampler and estimator");
  list->add_option("kind", kind, "targets | schedules | samplers | estimators | all")
      ->check(CLI::IsMember({"all", "targets", "schedules", "samplers", "estimators"}));

  dmconv::cli::DemoOptions demo_options;
  auto* demo = app.add_subcommand("demo", "sample the example mixture with every sampler; moments vs exact");
  demo->add_option("--steps,-T", demo_options.steps, "number of steps T")->check(CLI::Range(2, 1 << 20));
  demo->add_option("--particles,-n", demo_options.particles, "particles per sampler")->check(CLI::Range(2, 1 << 26));
  demo->add_option("--seed", demo_options.seed, "random seed");
  demo->add_option("--threads", demo_options.threads, "OpenMP threads (0 = default)")->check(CLI::Range(0, 4096));

  CLI11_PARSE(app, argc, argv);
  try {
    if (*list) return dmconv::cli::list_command(kind, std::cout);
    if (*demo) return dmconv::cli::demo_command(demo_options, std::cout);
  } catch (const dmconv::InvalidArgument& error) {
    std::cerr << "dmconv: error: " << error.what() << "\n";
    return 2;
  }
  return 0;
}
