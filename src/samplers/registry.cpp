#include "samplers/registry.hpp"

#include <cstdint>

#include "samplers/accelerated_ode_noise.hpp"
#include "samplers/accelerated_ode_score.hpp"
#include "samplers/accelerated_sde.hpp"
#include "samplers/ddim.hpp"
#include "samplers/ddpm.hpp"
#include "samplers/dpm_solver_2.hpp"
#include "samplers/dpm_solver_pp_2m.hpp"
#include "samplers/dpm_solver_pp_2m_sde.hpp"
#include "samplers/edm_heun.hpp"
#include "samplers/euler_ancestral.hpp"
#include "samplers/ipndm.hpp"
#include "samplers/pmm_pc.hpp"
#include "samplers/probability_flow_euler.hpp"
#include "samplers/reverse_diffusion.hpp"
#include "samplers/song_pc.hpp"
#include "samplers/unipc.hpp"

namespace dmconv {
namespace {

using P = ParamSpec;

// Samplers without parameters: the (empty) declaration rejects every key.
template <class SamplerType, class... Args>
typename Registry<Sampler>::Factory plain(Args... args) {
  return [args...](const DeclaredParams&) -> std::unique_ptr<Sampler> { return std::make_unique<SamplerType>(args...); };
}

// [sampling.params.pmm_pc]. Defaults are those of PmmPredictorCorrector::Options.
ParamDeclaration pmm_pc_params() {
  const samplers::PmmPredictorCorrector::Options o;
  return {P::number("langevin_time", "Langevin time T2 of the corrector (K = round(T2/gamma) ULA steps)")
              .defaults(o.langevin_time)
              .at_least(0.0),
          P::number("langevin_step", "ULA step gamma").defaults(o.langevin_step).above(0.0),
          P::number("truncation", "corrector score norm bound M (0 = no truncation)").defaults(o.truncation).at_least(0.0),
          P::number("predictor_truncation", "predictor score norm bound C sqrt(d)/sigma_t (0 = no truncation)")
              .defaults(o.predictor_truncation)
              .at_least(0.0),
          P::choice("integrator", {"ddim", "acc_ode_noise", "dpm_solver_2"}, "probability-flow ODE integrator (predictor)")
              .defaults(o.integrator)};
}

std::unique_ptr<Sampler> make_pmm_pc(const DeclaredParams& p) {
  samplers::PmmPredictorCorrector::Options o;
  o.langevin_time = p.number("langevin_time");
  o.langevin_step = p.number("langevin_step");
  o.truncation = p.number("truncation");
  o.predictor_truncation = p.number("predictor_truncation");
  o.integrator = p.string("integrator");
  return std::make_unique<samplers::PmmPredictorCorrector>(o);
}

// [sampling.params.song_pc]. Defaults are those of SongPredictorCorrector::Options.
ParamDeclaration song_pc_params() {
  const samplers::SongPredictorCorrector::Options o;
  return {P::choice("predictor", {"ddpm", "ddpm_noise_outside", "ddim", "reverse_diffusion"}, "predictor step")
              .defaults(o.predictor),
          P::integer("corrector_steps", "Langevin corrector steps M per grid step")
              .defaults(o.corrector_steps)
              .at_least(0)
              .at_most(static_cast<double>(samplers::SongPredictorCorrector::kMaxCorrectorSteps)),
          P::number("snr", "signal-to-noise ratio r of the step rule eps = 2 alpha (r |z|/|s|)^2").defaults(o.snr).above(0.0),
          P::number("corrector_step", "fixed corrector step eps0 (> 0 replaces the SNR rule; 0 = SNR rule)")
              .defaults(o.corrector_step)
              .at_least(0.0),
          P::integer("skip_final_corrector", "1: no corrector on the run's last step")
              .defaults(static_cast<std::int64_t>(o.skip_final_corrector))
              .at_least(0)
              .at_most(1)};
}

std::unique_ptr<Sampler> make_song_pc(const DeclaredParams& p) {
  samplers::SongPredictorCorrector::Options o;
  o.predictor = p.string("predictor");
  o.corrector_steps = p.integer("corrector_steps");
  o.snr = p.number("snr");
  o.corrector_step = p.number("corrector_step");
  o.skip_final_corrector = p.integer("skip_final_corrector") == 1;
  return std::make_unique<samplers::SongPredictorCorrector>(o);
}

// [sampling.params.edm_heun]. Defaults are those of EdmHeun::Options (deterministic Algorithm 1).
ParamDeclaration edm_heun_params() {
  const samplers::EdmHeun::Options o;
  return {P::number("s_churn", "total churn S_churn; gamma = min(S_churn/N, sqrt(2) - 1) per step (0 = deterministic)")
              .defaults(o.s_churn)
              .at_least(0.0),
          P::number("s_tmin", "smallest VE noise scale sigma at which churn is applied").defaults(o.s_tmin).at_least(0.0),
          P::number("s_tmax", "largest VE noise scale sigma at which churn is applied (>= s_tmin)")
              .defaults(o.s_tmax)
              .at_least(0.0),
          P::number("s_noise", "scale S_noise of the churn noise").defaults(o.s_noise).above(0.0)};
}

std::unique_ptr<Sampler> make_edm_heun(const DeclaredParams& p) {
  samplers::EdmHeun::Options o;
  o.s_churn = p.number("s_churn");
  o.s_tmin = p.number("s_tmin");
  o.s_tmax = p.number("s_tmax");
  o.s_noise = p.number("s_noise");
  return std::make_unique<samplers::EdmHeun>(o);
}

// [sampling.params.euler_ancestral]. Defaults are k-diffusion's (eta = 1, s_noise = 1).
ParamDeclaration euler_ancestral_params() {
  const samplers::EulerAncestral::Options o;
  return {P::number("eta", "share of the step re-injected as noise (0 = deterministic Euler = DDIM, 1 = ancestral)")
              .defaults(o.eta)
              .at_least(0.0),
          P::number("s_noise", "scale of the injected noise").defaults(o.s_noise).above(0.0)};
}

std::unique_ptr<Sampler> make_euler_ancestral(const DeclaredParams& p) {
  samplers::EulerAncestral::Options o;
  o.eta = p.number("eta");
  o.s_noise = p.number("s_noise");
  return std::make_unique<samplers::EulerAncestral>(o);
}

// [sampling.params.dpm_solver_pp_2m_sde]. Defaults are k-diffusion's (eta = 1, s_noise = 1, midpoint).
ParamDeclaration dpm_solver_pp_2m_sde_params() {
  const samplers::DpmSolverPlusPlus2MSde::Options o;
  return {P::number("eta", "SDE share: noise variance sigma'^2 (1 - e^{-2 eta h}) per step (0 = DPM-Solver++(2M) ODE, 1 = SDE)")
              .defaults(o.eta)
              .at_least(0.0),
          P::number("s_noise", "scale of the injected noise").defaults(o.s_noise).above(0.0),
          P::choice("solver_type", {"midpoint", "heun"}, "second-order correction of the multistep update")
              .defaults(o.solver_type)};
}

std::unique_ptr<Sampler> make_dpm_solver_pp_2m_sde(const DeclaredParams& p) {
  samplers::DpmSolverPlusPlus2MSde::Options o;
  o.eta = p.number("eta");
  o.s_noise = p.number("s_noise");
  o.solver_type = p.string("solver_type");
  return std::make_unique<samplers::DpmSolverPlusPlus2MSde>(o);
}

// [sampling.params.ipndm].
ParamDeclaration ipndm_params() {
  return {P::integer("max_order", "highest Adams-Bashforth order (the paper's iPNDM: 4)")
              .defaults(static_cast<std::int64_t>(samplers::Ipndm::kMaxOrder))
              .at_least(1)
              .at_most(samplers::Ipndm::kMaxOrder)};
}

std::unique_ptr<Sampler> make_ipndm(const DeclaredParams& p) {
  return std::make_unique<samplers::Ipndm>(static_cast<int>(p.integer("max_order")));
}

// [sampling.params.unipc].
ParamDeclaration unipc_params() {
  return {P::integer("order", "predictor order p (UniP-p; with the corrector UniC the order is p + 1)")
              .defaults(2)
              .at_least(1)
              .at_most(samplers::UniPc::kMaxOrder),
          P::integer("lower_order_final", "1: the last steps use order <= steps left, the last one first order (the "
                                          "code's default); 0: full order to the end")
              .defaults(1)
              .at_least(0)
              .at_most(1)};
}

std::unique_ptr<Sampler> make_unipc(const DeclaredParams& p) {
  return std::make_unique<samplers::UniPc>(static_cast<int>(p.integer("order")), p.integer("lower_order_final") == 1);
}

}  // namespace

const Registry<Sampler>& sampler_registry() {
  using namespace samplers;
  static const Registry<Sampler> registry = [] {
    Registry<Sampler> r("sampler");
    r.add({"ddpm", "DDPM, noise inside the 1/sqrt(alpha) factor (the analysed rule)",
           "arXiv 2409.18959 eq. (2.4); docs/theory.md §4.1", {}, plain<Ddpm>(Ddpm::Variant::kNoiseInside), {}});
    r.add({"ddpm_noise_outside", "DDPM, noise outside the 1/sqrt(alpha) factor (slides, repository)",
           "ITW 2024 slides; 2403.03852 code ddpm_steps; docs/theory.md §4.1",
           {}, plain<Ddpm>(Ddpm::Variant::kNoiseOutside), {}});
    r.add({"reverse_diffusion", "Song et al. reverse-diffusion predictor (2 - sqrt(alpha)) Y + beta s + sqrt(beta) Z",
           "Song et al. ICLR 2021 (reverse diffusion sampler; score_sde ReverseDiffusionPredictor, VPSDE.discretize)",
           {}, plain<ReverseDiffusion>(), {}});
    r.add({"ode_euler", "probability-flow ODE, Li et al. Euler form (Y + beta/2 s)/sqrt(alpha)",
           "arXiv 2409.18959 eq. (2.5); docs/theory.md §4.2a", {}, plain<ProbabilityFlowEuler>(), {}});
    r.add({"ddim", "DDIM, exact exponential-integrator form (= DPM-Solver-1)",
           "Song et al. 2021; 2403.03852 code generalized_steps; docs/theory.md §4.2b", {}, plain<Ddim>(), {}});
    r.add({"acc_sde_a", "accelerated stochastic sampler, variant (A): second noise inside the bracket",
           "arXiv 2403.03852 [UNVERIFIED form]; docs/theory.md §4.3 (A)",
           {}, plain<AcceleratedSde>(AcceleratedSde::Variant::kA), {}});
    r.add({"acc_sde_b", "accelerated stochastic sampler, variant (B): repository README form",
           "2403.03852 README; docs/theory.md §4.3 (B)", {}, plain<AcceleratedSde>(AcceleratedSde::Variant::kB), {}});
    r.add({"acc_sde_c", "accelerated stochastic sampler, variant (C): repository code form",
           "2403.03852 code ddpm_steps_accelerated; docs/theory.md §4.3 (C)",
           {}, plain<AcceleratedSde>(AcceleratedSde::Variant::kC), {}});
    r.add({"acc_ode_score", "accelerated deterministic (momentum) sampler, score form of the ITW 2024 slides",
           "ITW 2024 slides 'Scheme 2 (Ours)'; docs/theory.md §4.4a", {}, plain<AcceleratedOdeScore>(), {}});
    r.add({"acc_ode_noise", "accelerated deterministic (momentum) sampler, noise-prediction form of the code",
           "2403.03852 code generalized_steps_accelerated; docs/theory.md §4.4b",
           {}, plain<AcceleratedOdeNoise>(), {}});
    r.add({"dpm_solver_2", "single-step DPM-Solver-2 (r1 = 1/2), 2 score evaluations per step",
           "Lu et al. 2022, dpm-solver code; docs/theory.md §4.5", {}, plain<DpmSolver2>(), {}});
    r.add({"dpm_solver_pp_2m", "DPM-Solver++(2M), data prediction, multistep",
           "Lu et al. 2022b, dpm-solver code; docs/theory.md §4.5", {}, plain<DpmSolverPlusPlus2M>(), {}});
    r.add({"dpm_solver_pp_2m_sde",
           "DPM-Solver++(2M) SDE, data prediction, multistep, stochastic: exponential step with noise share eta "
           "(s_noise, solver_type midpoint | heun); first step first order, eta = 0 is DPM-Solver++(2M)",
           "Lu et al. 2022b, arXiv 2211.01095 SDE-DPM-Solver++(2M); k-diffusion sample_dpmpp_2m_sde; diffusers "
           "sde-dpmsolver++; docs/theory.md §4.10",
           dpm_solver_pp_2m_sde_params(), make_dpm_solver_pp_2m_sde, {}});
    r.add({"edm_heun",
           "EDM stochastic Heun sampler in VE coordinates x = Y/sqrt(abar), sigma = sqrt((1-abar)/abar): churn "
           "(s_churn, s_tmin, s_tmax, s_noise) then a Heun step, Euler to the data level; s_churn = 0 is Algorithm 1",
           "Karras et al. NeurIPS 2022, arXiv 2206.00364 Algorithm 2 (Algorithm 1 at s_churn = 0)", edm_heun_params(),
           make_edm_heun, {{"s_churn", 10.0}, {"s_noise", 1.003}}});
    r.add({"euler_ancestral",
           "Euler ancestral: Euler step in sigma to sigma_down, then noise sigma_up (eta, s_noise); eta = 0 is DDIM",
           "k-diffusion sample_euler_ancestral / get_ancestral_step (Crowson); VE form of Karras et al. 2022",
           euler_ancestral_params(), make_euler_ancestral, {}});
    r.add({"ipndm",
           "iPNDM: fixed-coefficient Adams-Bashforth (order <= max_order, lower-order warm start) on the "
           "probability-flow ODE in the VE scale sigma; order 1 is DDIM",
           "Zhang & Chen ICLR 2023 (DEIS), arXiv 2204.13902, iPNDM", ipndm_params(), make_ipndm, {}});
    r.add({"unipc",
           "UniPC, variant bh2, data prediction: multistep predictor UniP of order `order` plus corrector UniC, "
           "1 NFE per step (the corrector reuses the next step's evaluation)",
           "Zhao et al. NeurIPS 2023, arXiv 2302.04867 Algorithms 2-3; official code multistep_uni_pc_bh_update",
           unipc_params(), make_unipc, {}});
    r.add({"pmm_pc",
           "Pedrotti-Maas-Mondelli predictor-corrector: ULA at the top level T1 (time langevin_time, step "
           "langevin_step, optional norm truncation) then the probability-flow ODE (integrator ddim | acc_ode_noise | "
           "dpm_solver_2)",
           "arXiv 2305.14164 (Langevin corrector at T1 + probability-flow ODE; ULA discretisation [DERIVED]); docs/theory.md §4.6 (4.1)-(4.2), §5.6 Thm 4.2 truncation",
           pmm_pc_params(), make_pmm_pc, {{"langevin_step", 0.05}}});
    r.add({"song_pc",
           "Song et al. predictor-corrector (VP): predictor reverse_diffusion | ddpm | ddpm_noise_outside | ddim, then corrector_steps "
           "Langevin steps at the new level with eps = 2 alpha_t (snr |z|/|s|)^2 per particle",
           "Song et al. ICLR 2021, PC sampling with the VP Langevin corrector of Algorithm 5 (per-particle norms)", song_pc_params(), make_song_pc, {}});
    return r;
  }();
  return registry;
}

}  // namespace dmconv
