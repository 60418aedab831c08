#include "samplers/registry.hpp"

#include "samplers/accelerated_ode_noise.hpp"
#include "samplers/accelerated_ode_score.hpp"
#include "samplers/accelerated_sde.hpp"
#include "samplers/ddim.hpp"
#include "samplers/ddpm.hpp"
#include "samplers/dpm_solver_2.hpp"
#include "samplers/dpm_solver_pp_2m.hpp"
#include "samplers/probability_flow_euler.hpp"

namespace dmconv {
namespace {

// Samplers take no parameters; a factory only checks that none were given.
template <class SamplerType, class... Args>
typename Registry<Sampler>::Factory plain(const char* name, Args... args) {
  return [name, args...](const ParamTable& p) -> std::unique_ptr<Sampler> {
    p.require_only(std::string("sampler '") + name + "'", {});
    return std::make_unique<SamplerType>(args...);
  };
}

}  // namespace

const Registry<Sampler>& sampler_registry() {
  using namespace samplers;
  static const Registry<Sampler> registry = [] {
    Registry<Sampler> r("sampler");
    r.add({"ddpm", "DDPM, noise inside the 1/sqrt(alpha) factor (the analysed rule)",
           "arXiv 2409.18959 eq. (2.4); THEORY.md §4.1", plain<Ddpm>("ddpm", Ddpm::Variant::kNoiseInside), {}});
    r.add({"ddpm_noise_outside", "DDPM, noise outside the 1/sqrt(alpha) factor (slides, repository)",
           "seed 002 slides; 2403.03852 code ddpm_steps; THEORY.md §4.1",
           plain<Ddpm>("ddpm_noise_outside", Ddpm::Variant::kNoiseOutside), {}});
    r.add({"ode_euler", "probability-flow ODE, Li et al. Euler form (Y + beta/2 s)/sqrt(alpha)",
           "arXiv 2409.18959 eq. (2.5); THEORY.md §4.2a", plain<ProbabilityFlowEuler>("ode_euler"), {}});
    r.add({"ddim", "DDIM, exact exponential-integrator form (= DPM-Solver-1)",
           "Song et al. 2021; 2403.03852 code generalized_steps; THEORY.md §4.2b", plain<Ddim>("ddim"), {}});
    r.add({"acc_sde_a", "accelerated stochastic sampler, variant (A): second noise inside the bracket",
           "arXiv 2403.03852 [UNVERIFIED form]; THEORY.md §4.3 (A)",
           plain<AcceleratedSde>("acc_sde_a", AcceleratedSde::Variant::kA), {}});
    r.add({"acc_sde_b", "accelerated stochastic sampler, variant (B): repository README form",
           "2403.03852 README; THEORY.md §4.3 (B)", plain<AcceleratedSde>("acc_sde_b", AcceleratedSde::Variant::kB), {}});
    r.add({"acc_sde_c", "accelerated stochastic sampler, variant (C): repository code form",
           "2403.03852 code ddpm_steps_accelerated; THEORY.md §4.3 (C)",
           plain<AcceleratedSde>("acc_sde_c", AcceleratedSde::Variant::kC), {}});
    r.add({"acc_ode_score", "accelerated deterministic (momentum) sampler, score form of the seed slides",
           "seed 002 slides 'Scheme 2 (Ours)'; THEORY.md §4.4a", plain<AcceleratedOdeScore>("acc_ode_score"), {}});
    r.add({"acc_ode_noise", "accelerated deterministic (momentum) sampler, noise-prediction form of the code",
           "2403.03852 code generalized_steps_accelerated; THEORY.md §4.4b",
           plain<AcceleratedOdeNoise>("acc_ode_noise"), {}});
    r.add({"dpm_solver_2", "single-step DPM-Solver-2 (r1 = 1/2), 2 score evaluations per step",
           "Lu et al. 2022, dpm-solver code; THEORY.md §4.5", plain<DpmSolver2>("dpm_solver_2"), {}});
    r.add({"dpm_solver_pp_2m", "DPM-Solver++(2M), data prediction, multistep",
           "Lu et al. 2022b, dpm-solver code; THEORY.md §4.5", plain<DpmSolverPlusPlus2M>("dpm_solver_pp_2m"), {}});
    return r;
  }();
  return registry;
}

}  // namespace dmconv
