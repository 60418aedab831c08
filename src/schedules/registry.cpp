// The schedule registry: one entry per schedule, with its declared parameters.
#include "core/schedule.hpp"
#include "schedules/cosine_schedule.hpp"
#include "schedules/edm_schedule.hpp"
#include "schedules/linear_schedule.hpp"
#include "schedules/logsnr_uniform_schedule.hpp"
#include "schedules/theory_schedule.hpp"

namespace dmconv {

const Registry<Schedule>& schedule_registry() {
  using P = ParamSpec;
  static const Registry<Schedule> registry = [] {
    Registry<Schedule> r("schedule");
    r.add({"theory", "Li et al. theory schedule, beta_1 = T^-c0, then log-uniform and constant c1 log T/T",
           "arXiv 2409.18959 eq. (2.3); docs/theory.md §2",
           {P::number("c0", "beta_1 = T^-c0: the first (data-end) step size").defaults(2.0).above(0.0),
            P::number("c1", "phase-2 step c1 log T / T; must exceed c0 (needs c1 log T / T < 1)")
                .defaults(6.0)
                .above(0.0)},
           [](const DeclaredParams& p) { return std::make_unique<TheorySchedule>(p.number("c0"), p.number("c1")); },
           {}});
    r.add({"logsnr_uniform", "uniform in half-log-SNR between 1-abar_1 and abar_T (fixed endpoints)",
           "Lu et al. 2022 (DPM-Solver) logSNR grid; docs/theory.md §1",
           {P::number("first_one_minus_abar", "1 - abar_1, the noise of the first (least noisy) level")
                .defaults(1e-4)
                .above(0.0)
                .below(1.0),
            P::number("last_abar", "abar_T, the signal of the last (noisiest) level").defaults(1e-6).above(0.0).below(1.0)},
           [](const DeclaredParams& p) {
             return std::make_unique<LogSnrUniformSchedule>(p.number("first_one_minus_abar"), p.number("last_abar"));
           },
           {}});
    r.add({"linear", "linear betas 1e-4..0.02 over 1000 steps, respaced to T", "Ho, Jain & Abbeel 2020 §4",
           {P::number("beta_start", "beta of the first base step").defaults(1e-4).above(0.0).below(1.0),
            P::number("beta_end", "beta of the last base step (>= beta_start)").defaults(0.02).above(0.0).below(1.0),
            P::integer("base_steps", "number N of base steps; grid level t sits at N t / T")
                .defaults(1000)
                .at_least(2)
                .at_most(10000000)},  // the schedule stores N + 1 levels: 2^30 asked for 8 GiB
           [](const DeclaredParams& p) {
             return std::make_unique<LinearSchedule>(p.number("beta_start"), p.number("beta_end"),
                                                     static_cast<int>(p.integer("base_steps")));
           },
           {}});
    r.add({"cosine", "cosine abar(t) = f(t)/f(0), f = cos^2(((t/T)+s)/(1+s) pi/2), betas clipped at 0.999",
           "Nichol & Dhariwal 2021 eq. (17)",
           {P::number("s", "offset s of f(t) = cos^2(((t/T)+s)/(1+s) pi/2)").defaults(0.008).at_least(0.0),
            P::number("max_beta", "betas are clipped at max_beta").defaults(0.999).above(0.0).below(1.0)},
           [](const DeclaredParams& p) { return std::make_unique<CosineSchedule>(p.number("s"), p.number("max_beta")); },
           {}});
    r.add(EdmSchedule::registry_entry());
    return r;
  }();
  return registry;
}

}  // namespace dmconv
