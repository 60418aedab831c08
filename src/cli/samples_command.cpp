// `dmconv samples CONFIG --out FILE.h5`: the draws of every posterior sampler and the exact grid
// laws of pi and pi_eta of a posterior experiment, for density plots (issue 15 item 6; the
// feature: experiment/posterior_samples.hpp). Every input error comes before any sampling, and
// the file is written atomically, so a refused command leaves nothing behind.
#include <filesystem>
#include <iostream>

#include "cli/commands.hpp"
#include "experiment/experiment.hpp"
#include "experiment/posterior_samples.hpp"
#include "experiment/preflight.hpp"

namespace dmconv::cli {

int samples_command(const SamplesCommandOptions& options, std::ostream& out) {
  const config::ExperimentConfig config = config::load_config(options.config, options.overrides);
  experiment::require_posterior_config(config);  // before the plan builds a diffusion config's components
  const experiment::Plan plan = experiment::make_plan(config);
  experiment::SamplesOptions samples;
  samples.steps = options.steps;
  samples.max_particles = options.particles;
  samples.threads = options.threads;
  samples.command_line = options.command_line;
  samples.progress = &std::cerr;
  experiment::check_samples_options(plan, samples);
  const std::filesystem::path path(options.out);
  experiment::check_output_path({path, true}, /*keep_created=*/true);

  out << "dmconv samples: experiment '" << config.name << "', " << plan.points.size() << " sweep point"
      << (plan.points.size() == 1 ? "" : "s") << " -> " << path.string() << std::endl;  // before the progress lines on stderr
  const results::ResultsFile file = experiment::posterior_samples_file(plan, samples);
  results::write_results_file(path, file);
  const results::ColumnTable* runs = file.table("sampler_runs");
  const results::ColumnTable* draws = file.table("samples");
  const results::ColumnTable* grid = file.table("grid");
  out << "wrote " << path.string() << " (" << runs->rows() << " sampler runs, " << draws->rows() << " samples, "
      << grid->rows() << " grid cells)\n";
  for (const std::int64_t finite : runs->ints("finite"))
    if (finite == 0) out << "note: some sampler output is not finite (sampler_runs.finite = 0)\n";
  return 0;
}

}  // namespace dmconv::cli
