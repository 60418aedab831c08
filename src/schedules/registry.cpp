// The schedule registry: one line per schedule.
#include "core/schedule.hpp"
#include "schedules/cosine_schedule.hpp"
#include "schedules/linear_schedule.hpp"
#include "schedules/logsnr_uniform_schedule.hpp"
#include "schedules/theory_schedule.hpp"

namespace dmconv {

const Registry<Schedule>& schedule_registry() {
  static const Registry<Schedule> registry = [] {
    Registry<Schedule> r("schedule");
    r.add({"theory", "Li et al. theory schedule, beta_1 = T^-c0, then log-uniform and constant c1 log T/T",
           "arXiv 2409.18959 eq. (2.3); THEORY.md §2",
           [](const ParamTable& p) {
             p.require_only("schedule 'theory'", {"c0", "c1"});
             return std::make_unique<TheorySchedule>(p.number("schedule 'theory'", "c0", 2.0),
                                                     p.number("schedule 'theory'", "c1", 6.0));
           },
           {{"c0", 2.0}, {"c1", 6.0}}});
    r.add({"logsnr_uniform", "uniform in half-log-SNR between 1-abar_1 and abar_T (fixed endpoints)",
           "Lu et al. 2022 (DPM-Solver) logSNR grid; THEORY.md §1",
           [](const ParamTable& p) {
             const std::string c = "schedule 'logsnr_uniform'";
             p.require_only(c, {"first_one_minus_abar", "last_abar"});
             return std::make_unique<LogSnrUniformSchedule>(p.number(c, "first_one_minus_abar", 1e-4),
                                                            p.number(c, "last_abar", 1e-6));
           },
           {{"first_one_minus_abar", 1e-4}, {"last_abar", 1e-6}}});
    r.add({"linear", "linear betas 1e-4..0.02 over 1000 steps, respaced to T",
           "Ho, Jain & Abbeel 2020 §4",
           [](const ParamTable& p) {
             const std::string c = "schedule 'linear'";
             p.require_only(c, {"beta_start", "beta_end", "base_steps"});
             return std::make_unique<LinearSchedule>(p.number(c, "beta_start", 1e-4), p.number(c, "beta_end", 0.02),
                                                     static_cast<int>(p.integer(c, "base_steps", 1000)));
           },
           {}});
    r.add({"cosine", "cosine abar(t) = f(t)/f(0), f = cos^2(((t/T)+s)/(1+s) pi/2), betas clipped at 0.999",
           "Nichol & Dhariwal 2021 eq. (17)",
           [](const ParamTable& p) {
             const std::string c = "schedule 'cosine'";
             p.require_only(c, {"s", "max_beta"});
             return std::make_unique<CosineSchedule>(p.number(c, "s", 0.008), p.number(c, "max_beta", 0.999));
           },
           {}});
    return r;
  }();
  return registry;
}

}  // namespace dmconv
