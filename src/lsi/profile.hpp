// `dmconv lsi CONFIG` (stages: lsi_config, profile, lsi_claims, lsi_report): the log-Sobolev profile of p_T1 for the target(s) of an experiment config
// (issue 7; docs/theory.md §5.6, §7 claims 13 and 14), and the config's LSI claims. For every distinct
// target of the config's sweep (target.* axes expand to several; [lsi] paired axes are taken
// together instead of crossed) and every forward time T1 of [lsi] t1 (or --t1):
//   kappa      the Bakry-Emery bound inf_x lambda_min(-grad^2 log p_T1(x)) (analysis/lsi.hpp:
//              closed form for Gaussians, multi-start search otherwise; with the number of starts
//              that agreed on the best value);
//   analytic   the DERIVED support-radius bound (1 - a (1 + R^2)) / (1 - a)^2 where R is known;
//   poincare, log_sobolev (d = 1 only): the spectral constants of p_T1 on a grid, with budgets
//              (log_sobolev_converged = 0: the L-BFGS search stopped early, the value is an
//              upper bound of the grid constant);
//   kl_rate    (d = 1 only) the fitted exponential rate of KL(law Y_u || p_T1) for Langevin dynamics
//              from Y_0 ~ N(m0, 1) (m0 = [lsi] langevin_initial_mean, default 0: the corrector's
//              start), by an exact Fokker-Planck grid solve;
// and per target T1*(1 - delta), the T1 at which kappa reaches 1 - delta (bisection), next to the
// DERIVED sufficient (1/2) ln((1 + R^2)/delta) where R is known.
//
// The [lsi] section (ignored by `dmconv run`; every key optional):
//   t1 = [..]            forward times of the profile (default 0.25 0.5 1 1.5 2 3; [] = T1* only);
//                        --t1 replaces it
//   delta = 0.1          T1* is where the bound reaches 1 - delta (--delta replaces it)
//   t1_max = 10          bisection range [0.01, t1_max] (--t1-max)
//   bisections = 40      halvings of the bisection
//   cells = 512          grid cells of the 1-D spectral constants and the Fokker-Planck solve (--cells)
//   langevin_initial_mean = 0   m0 above; a symmetric target started from a centred law excites only
//                        the even modes, so a non-zero m0 is needed to see the slowest (odd) mode
//   paired = ["target.dim", "target.radius"]   [sweep] axes taken together (the i-th value of
//                        each), not crossed: targets whose parameters move jointly (R = sqrt(d))
// and [[lsi.claim]] tables: an LSI claim, judged by the rate-fit machinery (analysis/rate_fit.hpp,
// fit_rate + judge). Keys: name, source, metric, model, axis, slope (or level), tolerance
// (default 0.1), bound ("upper", default: falsified only by a clearly larger slope / value;
// "lower"; "exact"), min / max (window on the axis). Metrics:
//   langevin_kl  KL(law Y_u || p_T1) of the 1-D Fokker-Planck solve against axis = "kappa_time",
//                the Langevin time in units of 1/kappa(T1), model = "exponential" (log KL = a +
//                slope kappa u, fitted on KL in [1e-10, 1e-2]): one fit per (target, T1) with
//                kappa > 0 (kappa <= 0: the bound is vacuous, the row says so and has no verdict);
//   log_sobolev  the grid log-Sobolev constant over kappa, model = "level": no fit, the ratio with
//                its interval (value -+ budget) / kappa is judged against `level` per (target, T1);
//   t1_star      T1*(1 - delta) against axis = a numeric target [sweep] key, model = "logarithmic":
//                T1* = a + slope ln x. Fitted exactly as the power law of e^{T1*} (log e^{T1*} = T1*,
//                so fit_rate's power model with no log factor is this line; weights from the
//                bisection bracket, floored at 1e-3 like every fit); one fit per group of the other
//                swept axes. Targets whose T1* is at the search floor 0.01 or not reached by t1_max
//                are left out of the fit and listed.
// Exit code 1 when a claim is violated; an inconclusive claim is printed as such (exit 0).
#pragma once
#include <cmath>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/experiment_config.hpp"
#include "experiment/plan.hpp"
#include "lsi/lsi_config.hpp"

namespace dmconv::lsi {

// Per (target, T1): one /profile row and the Langevin KL curve the claims fit.
struct ProfileRow {
  double t1 = 0.0;
  double kappa = 0.0;
  int starts = 0, starts_at_best = 0;
  double analytic = NAN;
  double poincare = NAN, poincare_budget = NAN, lsi = NAN, lsi_budget = NAN;
  bool lsi_converged = false;
  double rate = NAN, rate_se = NAN;
  std::vector<double> u, kl;  // the Langevin KL curve on the rate's KL window (d = 1)
};

// One distinct target: its rows and T1*(1 - delta).
struct TargetProfile {
  std::string name;
  int dim = 1;
  config::RunSpec run;  // the first run of the target (its swept values)
  std::vector<ProfileRow> rows;
  bool reached = false;
  double t1_star = NAN, bracket = 0.0, kappa_at_t1_star = 0.0;
  std::optional<double> radius;
  double derived = NAN;
};

constexpr double kSearchFloor = 0.01;  // lower end of the T1* bisection

// Distinct targets in sweep order; with paired axes only the runs at equal value indices.
std::vector<config::RunSpec> distinct_targets(const config::ExperimentConfig& config, const experiment::Plan& plan,
                                              const std::vector<std::string>& paired);

// `done` sees each target as soon as it is computed (the table is printed as the work goes).
std::vector<TargetProfile> compute_profile(const std::vector<config::RunSpec>& runs, const LsiSettings& settings,
                                           const std::function<void(const TargetProfile&)>& done);

}  // namespace dmconv::lsi
