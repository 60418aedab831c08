#include "samplers/registry.hpp"

#include "samplers/accelerated_ode_noise.hpp"
#include "samplers/accelerated_ode_score.hpp"
#include "samplers/accelerated_sde.hpp"
#include "samplers/ddim.hpp"
#include "samplers/ddpm.hpp"
#include "samplers/dpm_solver_2.hpp"
#include "samplers/dpm_solver_pp_2m.hpp"
#include "samplers/pmm_pc.hpp"
#include "samplers/probability_flow_euler.hpp"
#include "samplers/reverse_diffusion.hpp"
#include "samplers/song_pc.hpp"

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

std::unique_ptr<Sampler> make_pmm_pc(const ParamTable& p) {
  const std::string c = "sampler 'pmm_pc'";
  p.require_only(c, {"langevin_time", "langevin_step", "truncation", "predictor_truncation", "integrator"});
  samplers::PmmPredictorCorrector::Options o;
  o.langevin_time = p.number(c, "langevin_time", o.langevin_time);
  o.langevin_step = p.number(c, "langevin_step", o.langevin_step);
  o.truncation = p.number(c, "truncation", o.truncation);
  o.predictor_truncation = p.number(c, "predictor_truncation", o.predictor_truncation);
  o.integrator = p.string(c, "integrator", o.integrator);
  return std::make_unique<samplers::PmmPredictorCorrector>(o);
}

std::unique_ptr<Sampler> make_song_pc(const ParamTable& p) {
  const std::string c = "sampler 'song_pc'";
  p.require_only(c, {"predictor", "corrector_steps", "snr", "corrector_step", "skip_final_corrector"});
  samplers::SongPredictorCorrector::Options o;
  o.predictor = p.string(c, "predictor", o.predictor);
  o.corrector_steps = p.integer(c, "corrector_steps", o.corrector_steps);
  o.snr = p.number(c, "snr", o.snr);
  o.corrector_step = p.number(c, "corrector_step", o.corrector_step);
  const long skip = p.integer(c, "skip_final_corrector", 0);
  if (skip != 0 && skip != 1)
    throw InvalidArgument(c + ": key 'skip_final_corrector' = " + std::to_string(skip) + ": must be 0 or 1");
  o.skip_final_corrector = skip == 1;
  return std::make_unique<samplers::SongPredictorCorrector>(o);
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
    r.add({"reverse_diffusion", "Song et al. reverse-diffusion predictor (2 - sqrt(alpha)) Y + beta s + sqrt(beta) Z",
           "Song et al. ICLR 2021 (reverse diffusion sampler; score_sde ReverseDiffusionPredictor, VPSDE.discretize)",
           plain<ReverseDiffusion>("reverse_diffusion"), {}});
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
    r.add({"pmm_pc",
           "Pedrotti-Maas-Mondelli predictor-corrector: ULA at the top level T1 (time langevin_time, step "
           "langevin_step, optional norm truncation) then the probability-flow ODE (integrator ddim | acc_ode_noise | "
           "dpm_solver_2)",
           "arXiv 2305.14164 (Langevin corrector at T1 + probability-flow ODE; ULA discretisation [DERIVED]); THEORY.md §4.6 (4.1)-(4.2), §5.6 Thm 4.2 truncation", make_pmm_pc,
           {{"langevin_time", 1.0}, {"langevin_step", 0.05}, {"truncation", 0.0}, {"integrator", "ddim"}}});
    r.add({"song_pc",
           "Song et al. predictor-corrector (VP): predictor reverse_diffusion | ddpm | ddpm_noise_outside | ddim, then corrector_steps "
           "Langevin steps at the new level with eps = 2 alpha_t (snr |z|/|s|)^2 per particle",
           "Song et al. ICLR 2021, PC sampling with the VP Langevin corrector of Algorithm 5 (per-particle norms)", make_song_pc,
           {{"predictor", "ddpm"}, {"corrector_steps", 1}, {"snr", 0.16}}});
    return r;
  }();
  return registry;
}

}  // namespace dmconv
