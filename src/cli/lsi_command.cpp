// `dmconv lsi CONFIG`: the log-Sobolev profile of p_T1 for the target(s) of an experiment config
// (issue 7; THEORY.md §5.6, §7 claims 13 and 14). For every distinct target of the config's
// sweep (target.* axes expand to several) and every forward time T1 of --t1:
//   kappa      the Bakry-Emery bound inf_x lambda_min(-grad^2 log p_T1(x)) (analysis/lsi.hpp:
//              closed form for Gaussians, multi-start search otherwise; with the number of starts
//              that agreed on the best value);
//   analytic   the DERIVED support-radius bound (1 - a (1 + R^2)) / (1 - a)^2 where R is known;
//   poincare, log_sobolev (d = 1 only): the spectral constants of p_T1 on a grid, with budgets
//              (log_sobolev_converged = 0: the L-BFGS search stopped early, the value is an
//              upper bound of the grid constant);
//   kl_rate    (d = 1 only) the fitted exponential rate of KL(law Y_u || p_T1) for Langevin dynamics
//              from Y_0 ~ N(0, 1) (the corrector's start), by an exact Fokker-Planck grid solve;
//   claim13    THEORY §7 claim 13 where kappa > 0: kl_rate >= 2 kappa (within 3 SE) and, in 1-D,
//              log_sobolev >= kappa (within its budget): "holds" / "violated"; "vacuous" when
//              kappa <= 0; "no_rate" in d > 1 (the LSI >= kappa part is then Bakry-Emery itself);
// and per target T1*(1 - delta), the T1 at which kappa reaches 1 - delta (bisection), next to the
// DERIVED sufficient (1/2) ln((1 + R^2)/delta) where R is known.
// Output: a table on stdout and an HDF5 file (default results/<name>_lsi.h5) in the layout of
// results/README.md ("LSI profile files"): root attributes and the tables /profile and /t1_star.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include "analysis/lsi.hpp"
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "experiment/experiment.hpp"
#include "results/provenance.hpp"
#include "results/results_file.hpp"
#include "targets/registry.hpp"

namespace dmconv::cli {
namespace {

void validate(const LsiOptions& options) {
  std::ostringstream message;
  if (options.times.empty()) {
    message << "dmconv lsi: --t1 needs at least one forward time";
  } else if (!(options.delta > 0.0 && options.delta < 1.0)) {
    message << "dmconv lsi: --delta = " << options.delta << " must lie in (0, 1) (threshold 1 - delta)";
  } else if (options.cells < 16 || options.cells % 2 != 0) {
    message << "dmconv lsi: --cells = " << options.cells << " must be even and >= 16";
  } else {
    for (double t : options.times)
      if (!(t > 0.0 && t <= 20.0)) message << "dmconv lsi: --t1 value " << t << " must lie in (0, 20]";
    if (!(options.t1_max > 0.01 && options.t1_max <= 20.0))
      message << "dmconv lsi: --t1-max = " << options.t1_max << " must lie in (0.01, 20]";
  }
  if (!message.str().empty()) throw InvalidArgument(message.str());
}

std::string target_key(const config::ComponentSpec& spec) {
  std::string key = spec.kind;
  for (const auto& [name, value] : spec.params.entries()) key += ";" + name + "=" + value.to_string();
  return key;
}

}  // namespace

int lsi_command(const LsiOptions& options, std::ostream& out) {
  validate(options);
  const config::ExperimentConfig config = config::load_config(options.config, options.overrides);
  const experiment::Plan plan = experiment::make_plan(config);  // every config error before any work
  std::vector<config::ComponentSpec> targets;
  std::map<std::string, bool> seen;
  for (const config::RunSpec& run : plan.runs)
    if (!seen[target_key(run.target)]) {
      seen[target_key(run.target)] = true;
      targets.push_back(run.target);
    }
  const std::filesystem::path path = options.out.empty()
                                         ? std::filesystem::path("results") / (config.name + "_lsi.h5")
                                         : std::filesystem::path(options.out);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());

  std::vector<std::string> p_target, s_target;
  std::vector<std::int64_t> p_dim, p_starts, p_agree, p_lsi_converged, s_dim, s_reached;
  std::vector<double> p_t1, p_kappa, p_analytic, p_poincare, p_poincare_budget, p_lsi, p_lsi_budget, p_rate,
      p_rate_se;
  std::vector<std::string> p_claim13;
  int violations = 0;
  std::vector<double> s_delta, s_t1, s_bracket, s_kappa, s_radius, s_derived;
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  const double threshold = 1.0 - options.delta;

  for (std::size_t i = 0; i < targets.size(); ++i) {
    const auto target = target_registry().make(targets[i].kind, targets[i].params);
    const std::string name = target->describe();
    const int d = target->dim();
    std::cerr << "dmconv lsi: target " << i + 1 << "/" << targets.size() << ": " << name << "\n";
    out << "\n" << name << "\n";
    out << "      T1       kappa  starts    analytic"
        << (d == 1 ? "    poincare    budget         lsi    budget     KL rate  claim 13" : "") << "\n";
    const std::optional<double> radius = known_support_radius(*target);
    for (double t1 : options.times) {
      const NoiseLevel level = NoiseLevel::from_ou_time(t1);
      const BakryEmeryBound be = bakry_emery_bound(*target, level);
      const double analytic = radius ? support_radius_lsi_bound(level, *radius) : nan;
      double poincare = nan, poincare_budget = nan, lsi = nan, lsi_budget = nan;
      bool lsi_converged = false;
      double rate = nan, rate_se = nan;
      std::string claim13 = be.kappa > 0.0 ? "no_rate" : "vacuous";
      if (d == 1) {
        SpectralOptions spectral;
        spectral.cells = options.cells;
        const SpectralConstants c = spectral_constants_1d(*target, level, spectral);
        poincare = c.poincare.value;
        poincare_budget = c.poincare.error_budget;
        // An unconverged minimisation gives an upper bound of the grid constant only: kept, flagged.
        lsi = c.log_sobolev.value;
        lsi_budget = c.log_sobolev.error_budget;
        lsi_converged = c.log_sobolev.converged;
        KlDecayOptions decay;
        decay.grid.cells = options.cells;
        const KlDecay kl = langevin_kl_decay_1d(*target, level, decay);
        rate = kl.rate;
        rate_se = kl.rate_se;
        if (be.kappa > 0.0) {
          const bool rate_ok = rate + 3.0 * rate_se >= 2.0 * be.kappa * (1.0 - 1e-6);
          const bool lsi_ok = lsi + lsi_budget >= be.kappa * (1.0 - 1e-6);
          claim13 = rate_ok && lsi_ok ? "holds" : "violated";
          violations += rate_ok && lsi_ok ? 0 : 1;
        }
      }
      char line[256];
      std::snprintf(line, sizeof line, "  %6.3f  %10.6f  %3d/%-3d %10.6f", t1, be.kappa, be.starts_at_best, be.starts,
                    analytic);
      out << line;
      if (d == 1) {
        std::snprintf(line, sizeof line, "  %10.6f  %8.1e  %10.6f  %8.1e  %10.6f  %s%s", poincare, poincare_budget, lsi,
                      lsi_budget, rate, claim13.c_str(), lsi_converged ? "" : "  (LSI search not converged)");
        out << line;
      }
      out << "\n";
      p_target.push_back(name);
      p_dim.push_back(d);
      p_t1.push_back(t1);
      p_kappa.push_back(be.kappa);
      p_starts.push_back(be.starts);
      p_agree.push_back(be.starts_at_best);
      p_analytic.push_back(analytic);
      p_poincare.push_back(poincare);
      p_poincare_budget.push_back(poincare_budget);
      p_lsi.push_back(lsi);
      p_lsi_budget.push_back(lsi_budget);
      p_lsi_converged.push_back(lsi_converged ? 1 : 0);
      p_rate.push_back(rate);
      p_rate_se.push_back(rate_se);
      p_claim13.push_back(claim13);
    }
    const BakryEmeryTime star = bakry_emery_time(*target, threshold, 0.01, options.t1_max, 40);
    const double derived = radius ? support_radius_time(*radius, options.delta) : nan;
    char line[256];
    if (star.reached) {
      std::snprintf(line, sizeof line, "T1 at which the Bakry-Emery bound reaches %.3g: %.6f (bracket %.1e)", threshold,
                    star.t1, star.bracket);
    } else {
      std::snprintf(line, sizeof line, "the Bakry-Emery bound does not reach %.3g by T1 = %.3g (%.6f there)", threshold,
                    options.t1_max, star.at.kappa);
    }
    out << line;
    if (radius) {
      std::snprintf(line, sizeof line, "; DERIVED (1/2) ln((1+R^2)/%.3g) = %.6f (R = %.6g)", options.delta, derived,
                    *radius);
      out << line;
    }
    out << "\n";
    s_target.push_back(name);
    s_dim.push_back(d);
    s_delta.push_back(options.delta);
    s_t1.push_back(star.reached ? star.t1 : nan);
    s_bracket.push_back(star.bracket);
    s_reached.push_back(star.reached ? 1 : 0);
    s_kappa.push_back(star.at.kappa);
    s_radius.push_back(radius ? *radius : nan);
    s_derived.push_back(derived);
  }

  results::ResultsFile file;
  file.attributes = {{"schema", std::string("dmconv-lsi")}, {"schema_version", std::int64_t{1}}};
  results::append_tool_attributes(file.attributes, /*with_build_type=*/false);
  results::append_origin_attributes(file.attributes, {options.command_line, options.config, config.text, config.hash});
  results::ColumnTable profile;
  profile.columns = {{"target", p_target},      {"dim", p_dim},
                     {"t1", p_t1},              {"kappa", p_kappa},
                     {"kappa_starts", p_starts}, {"kappa_starts_at_best", p_agree},
                     {"analytic_bound", p_analytic}, {"poincare", p_poincare},
                     {"poincare_budget", p_poincare_budget}, {"log_sobolev", p_lsi},
                     {"log_sobolev_budget", p_lsi_budget}, {"log_sobolev_converged", p_lsi_converged},
                     {"kl_rate", p_rate},       {"kl_rate_se", p_rate_se},
                     {"claim13", p_claim13}};
  results::ColumnTable stars;
  stars.columns = {{"target", s_target}, {"dim", s_dim},          {"delta", s_delta},
                   {"t1_star", s_t1},    {"bracket", s_bracket},  {"reached", s_reached},
                   {"kappa_at_t1_star", s_kappa}, {"support_radius", s_radius}, {"derived_t1", s_derived}};
  file.tables = {{"profile", std::move(profile)}, {"t1_star", std::move(stars)}};
  results::write_results_file(path, file);
  out << "\nwrote " << path.string() << " (" << p_t1.size() << " profile rows, " << s_t1.size() << " targets)\n";
  if (violations > 0) out << "claim 13 violated at " << violations << " (target, T1) pair(s)\n";
  return violations > 0 ? 1 : 0;
}

}  // namespace dmconv::cli
