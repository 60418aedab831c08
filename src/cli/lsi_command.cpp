// `dmconv lsi CONFIG`: the stages of src/lsi/ in order (the feature: lsi/profile.hpp).
#include <filesystem>

#include "cli/commands.hpp"
#include "config/experiment_config.hpp"
#include "experiment/experiment.hpp"
#include "lsi/lsi_claims.hpp"
#include "lsi/lsi_config.hpp"
#include "lsi/lsi_report.hpp"
#include "lsi/profile.hpp"

namespace dmconv::cli {

int lsi_command(const LsiOptions& options, std::ostream& out) {
  const config::ExperimentConfig config = config::load_config(options.config, options.overrides);
  const experiment::Plan plan = experiment::make_plan(config);  // every config error before any work
  lsi::LsiSettings settings = lsi::read_lsi_settings(config);
  if (!options.times.empty()) settings.times = options.times;
  if (options.delta) settings.delta = *options.delta;
  if (options.t1_max) settings.t1_max = *options.t1_max;
  if (options.cells) settings.cells = *options.cells;
  lsi::validate_settings(settings);
  const std::vector<lsi::LsiClaim> claims = lsi::read_lsi_claims(config);

  const std::vector<config::RunSpec> runs = lsi::distinct_targets(config, plan, settings.paired);
  const std::filesystem::path path = options.out.empty()
                                         ? std::filesystem::path("results") / (config.name + "_lsi.h5")
                                         : std::filesystem::path(options.out);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  const std::vector<lsi::TargetProfile> targets = lsi::compute_profile(
      runs, settings, [&](const lsi::TargetProfile& target) { lsi::print_target(out, target, settings); });
  const std::vector<lsi::ClaimRow> rows = lsi::judge_claims(claims, settings, targets);
  const int violations = lsi::print_claims(out, rows);

  lsi::write_lsi_file(path, {options.command_line, options.config, config.text, config.hash}, settings, targets, rows);
  std::size_t profile_rows = 0;
  for (const lsi::TargetProfile& target : targets) profile_rows += target.rows.size();
  out << "\nwrote " << path.string() << " (" << profile_rows << " profile rows, " << targets.size() << " targets, "
      << rows.size() << " claim rows)\n";
  if (violations > 0) out << "LSI claims violated: " << violations << " row(s)\n";
  return violations > 0 ? 1 : 0;
}

}  // namespace dmconv::cli
