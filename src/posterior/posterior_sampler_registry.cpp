// The posterior samplers (posterior_sampler.hpp) and their [sampling.params.NAME] declarations.
#include <memory>

#include "posterior/posterior_sampler.hpp"
#include "posterior/samplers/dds_denoiser.hpp"
#include "posterior/samplers/dpnp.hpp"
#include "posterior/samplers/dps_sampler.hpp"
#include "posterior/samplers/exact_stationary.hpp"

namespace dmconv::posterior {
namespace {

using P = ParamSpec;

// The annealing schedule of every DPnP variant (docs/theory.md §4.7): eta_min = 0 means eta_max,
// i.e. constant eta.
ParamDeclaration schedule_params() {
  const DpnpSampler::Options o;
  return {P::number("eta_max", "annealing level of the first k_start iterations (constant eta: the only level)")
              .defaults(o.eta_max)
              .above(0.0),
          P::number("eta_min", "last annealing level (0: = eta_max, constant eta and stationary law pi_eta)")
              .defaults(0.0)
              .at_least(0.0),
          P::integer("k_start", "iterations at eta_max before the geometric descent to eta_min").defaults(0).at_least(0),
          P::choice("start", {"standard_normal", "prior"}, "law of the initial point x_0").defaults("standard_normal")};
}

ParamDeclaration diffusion_params() {
  const DpnpSampler::Options o;
  ParamDeclaration params = schedule_params();
  params.push_back(P::integer("dds_levels", "DDS levels J per call (uniform in the VE sigma, up to eta)")
                       .defaults(o.dds_levels)
                       .at_least(1)
                       .at_most(65535));
  params.push_back(
      P::integer("pcs_iterations", "Langevin iterations per PCS call").defaults(o.pcs.iterations).at_least(1).at_most(32767));
  params.push_back(P::number("pcs_step_scale", "PCS step gamma / min(sigma^2, eta^2)").defaults(o.pcs.step_scale).above(0.0));
  params.push_back(P::choice("pcs_step_rule", {"constant", "residual"}, "PCS step rule (posterior/pcs.hpp)").defaults("constant"));
  params.push_back(P::number("pcs_regulariser", "regulariser of the residual step rule").defaults(o.pcs.regulariser).above(0.0));
  params.push_back(P::number("pcs_noise_scale", "sigma of the PCS step rule (0: the likelihood's sigma_y, or 1)")
                       .defaults(0.0)
                       .at_least(0.0));
  params.push_back(P::choice("pcs_correction", {"none", "metropolis"}, "Metropolis correction of PCS (MALA)").defaults("none"));
  return params;
}

DpnpSampler::Options schedule_options(const DeclaredParams& p, DpnpSampler::Options o) {
  o.eta_max = p.number("eta_max");
  o.eta_min = p.number("eta_min") == 0.0 ? o.eta_max : p.number("eta_min");
  if (o.eta_min > o.eta_max) p.fail("eta_min", "must not exceed eta_max = " + std::to_string(o.eta_max));
  o.k_start = static_cast<int>(p.integer("k_start"));
  o.start = p.string("start") == "prior" ? DpnpSampler::Start::kPrior : DpnpSampler::Start::kStandardNormal;
  return o;
}

Registry<PosteriorSampler>::Factory diffusion_dpnp(const std::string& name, DpnpSampler::Order order,
                                                  DpnpSampler::Dds dds) {
  return [=](const DeclaredParams& p) -> std::unique_ptr<PosteriorSampler> {
    DpnpSampler::Options o;
    o.name = name;
    o.order = order;
    o.dds = dds;
    o.inner = DpnpSampler::Inner::kDiffusion;
    o = schedule_options(p, o);
    o.dds_levels = static_cast<int>(p.integer("dds_levels"));
    o.pcs.iterations = static_cast<int>(p.integer("pcs_iterations"));
    o.pcs.step_scale = p.number("pcs_step_scale");
    o.pcs.step_rule = p.string("pcs_step_rule") == "residual" ? PcsOptions::StepRule::kResidual
                                                              : PcsOptions::StepRule::kConstant;
    o.pcs.regulariser = p.number("pcs_regulariser");
    o.pcs.noise_scale = p.number("pcs_noise_scale");
    o.pcs.metropolis = p.string("pcs_correction") == "metropolis";
    return std::make_unique<DpnpSampler>(o);
  };
}

const char* kDpnpSource = "Xu & Chi, arXiv 2403.17042; docs/theory.md §4.7";

}  // namespace

const Registry<PosteriorSampler>& posterior_sampler_registry() {
  static const Registry<PosteriorSampler> registry = [] {
    Registry<PosteriorSampler> r("posterior sampler");
    r.add({"dpnp_ddim", "DPnP, DDIM variant: PCS (Langevin) then DDS-DDIM per outer iteration", kDpnpSource,
           diffusion_params(), diffusion_dpnp("dpnp_ddim", DpnpSampler::Order::kPcsThenDds, DpnpSampler::Dds::kDdim),
           ParamTable{{"eta_max", ParamValue(0.4)}, {"dds_levels", ParamValue(std::int64_t{50})}}});
    r.add({"dpnp_ddpm", "DPnP, DDPM variant: DDS-DDPM then PCS per outer iteration, output after the last DDS",
           kDpnpSource, diffusion_params(),
           diffusion_dpnp("dpnp_ddpm", DpnpSampler::Order::kDdsThenPcs, DpnpSampler::Dds::kDdpm),
           ParamTable{{"eta_max", ParamValue(0.4)}}});
    r.add({"dpnp_gibbs", "DPnP with exact PCS and DDS draws (two-block Gibbs; mixture prior, linear-Gaussian likelihood)",
           kDpnpSource, schedule_params(),
           [](const DeclaredParams& p) -> std::unique_ptr<PosteriorSampler> {
             DpnpSampler::Options o;
             o.name = "dpnp_gibbs";
             o.inner = DpnpSampler::Inner::kExact;
             return std::make_unique<DpnpSampler>(schedule_options(p, o));
           },
           ParamTable{{"eta_max", ParamValue(0.5)}}});
    r.add({"dds_ddpm", "one DDS-DDPM call on a denoising problem (A = I); steps = DDS levels J", kDpnpSource, {},
           [](const DeclaredParams&) -> std::unique_ptr<PosteriorSampler> {
             return std::make_unique<DdsDenoiser>(DdsDenoiser::Variant::kDdpm);
           },
           ParamTable{}});
    r.add({"dds_ddim", "one DDS-DDIM call on a denoising problem (A = I); steps = DDS levels J", kDpnpSource, {},
           [](const DeclaredParams&) -> std::unique_ptr<PosteriorSampler> {
             return std::make_unique<DdsDenoiser>(DdsDenoiser::Variant::kDdim);
           },
           ParamTable{}});
    r.add({"exact_stationary", "exact draws from DPnP's stationary law pi_eta (mixture prior, linear-Gaussian likelihood)",
           "docs/theory.md §5.7",
           {P::number("eta", "the level eta of pi_eta (0: the posterior pi)").defaults(0.2).at_least(0.0)},
           [](const DeclaredParams& p) -> std::unique_ptr<PosteriorSampler> {
             return std::make_unique<ExactStationary>(p.number("eta"));
           },
           ParamTable{{"eta", ParamValue(0.2)}}});
    r.add({"dps", "diffusion posterior sampling (heuristic baseline) on the [schedule] grid",
           "Chung et al., ICLR 2023, Algorithm 1",
           {P::number("zeta", "guidance scale (0: unguided DDPM from the prior)").defaults(1.0).at_least(0.0)},
           [](const DeclaredParams& p) -> std::unique_ptr<PosteriorSampler> {
             DpsOptions o;
             o.zeta = p.number("zeta");
             return std::make_unique<DpsSampler>(o);
           },
           ParamTable{{"zeta", ParamValue(1.0)}}});
    return r;
  }();
  return registry;
}

}  // namespace dmconv::posterior
