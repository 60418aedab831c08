// DPnP (Xu & Chi, arXiv 2403.17042; docs/theory.md §4.7): the outer loop over k, the annealing
// schedule and the choice of inner samplers. Formulas: samplers/dpnp.hpp.
#include "posterior/samplers/dpnp.hpp"

#include <cmath>

#include "core/error.hpp"
#include "posterior/dds.hpp"
#include "posterior/exact_laws.hpp"

namespace dmconv::posterior {
namespace {

// Stream stages of outer iteration k (StreamPurpose::kPosteriorChain, index 4 k + stage).
constexpr std::uint64_t kPcsStage = 0, kDdsStage = 1, kStartStage = 2;
StreamTag chain_tag(int k, std::uint64_t stage) {
  return StreamTag(StreamPurpose::kPosteriorChain, 4 * static_cast<std::uint64_t>(k) + stage);
}

}  // namespace

DpnpSampler::DpnpSampler(Options options) : options_(std::move(options)) {
  require(options_.eta_max > 0.0 && std::isfinite(options_.eta_max), options_.name + ": eta_max must be > 0");
  require(options_.eta_min > 0.0 && options_.eta_min <= options_.eta_max,
          options_.name + ": eta_min must lie in (0, eta_max]");
  require(options_.k_start >= 0, options_.name + ": k_start must be >= 0");
  require(options_.dds_levels >= 1, options_.name + ": dds_levels must be >= 1");
  PcsOptions pcs = options_.pcs;
  if (pcs.noise_scale == 0.0) pcs.noise_scale = 1.0;  // 0: the likelihood's own scale, set per problem
  pcs.validate();
}

std::vector<double> DpnpSampler::etas(int steps) const {
  std::vector<double> out(static_cast<std::size_t>(steps), options_.eta_max);
  const int annealed = steps - options_.k_start;
  if (options_.eta_min == options_.eta_max || annealed <= 0) return out;
  // Geometric from eta_max (first annealed iteration) to eta_min (the last).
  const double log_ratio = std::log(options_.eta_min / options_.eta_max);
  for (int i = 0; i < annealed; ++i) {
    const double fraction = annealed == 1 ? 1.0 : static_cast<double>(i) / (annealed - 1);
    out[static_cast<std::size_t>(options_.k_start + i)] = options_.eta_max * std::exp(fraction * log_ratio);
  }
  return out;
}

std::optional<double> DpnpSampler::stationary_eta() const {
  if (options_.eta_min == options_.eta_max) return options_.eta_max;
  return std::nullopt;
}

std::optional<std::string> DpnpSampler::unsupported_reason(const PosteriorProblem& problem) const {
  if (problem.prior.dim() != problem.likelihood.dim())
    return "the prior has d = " + std::to_string(problem.prior.dim()) + " but the likelihood d = " +
           std::to_string(problem.likelihood.dim());
  if (options_.inner == Inner::kExact) {
    if (problem.prior.gaussian_mixture() == nullptr)
      return "exact Gibbs conditionals need a Gaussian-mixture prior";
    if (!problem.likelihood.linear_gaussian())
      return "exact Gibbs conditionals need a linear-Gaussian likelihood";
  }
  return std::nullopt;
}

void DpnpSampler::sample(const PosteriorProblem& problem, int steps, const TimeGrid* /*grid*/,
                         const RandomStreams& streams, std::uint64_t first_particle, MatrixRef out) const {
  require(steps >= 1, name() + ": needs at least 1 outer iteration");
  if (options_.start == Start::kPrior) {
    problem.prior.sample(NoiseLevel::data(), streams, first_particle, chain_tag(0, kStartStage), out);
  } else {
    streams.fill_normals(first_particle, chain_tag(0, kStartStage), out);
  }
  PcsOptions pcs = options_.pcs;
  const std::optional<LinearGaussianView> linear = problem.likelihood.linear_gaussian();
  if (pcs.noise_scale <= 0.0) pcs.noise_scale = linear ? linear->sigma_y : 1.0;
  std::optional<GaussianMixtureLaw> prior_law;
  if (options_.inner == Inner::kExact) prior_law = mixture_of(*problem.prior.gaussian_mixture());

  const auto pcs_step = [&](int k, double eta, MatrixRef x) {
    if (options_.inner == Inner::kExact) {
      sample_proximal_linear_gaussian(*linear, problem.y, eta, x, streams, first_particle, chain_tag(k, kPcsStage), x);
    } else {
      pcs_sample(problem.likelihood, problem.y, eta, pcs, x, streams, first_particle, chain_tag(k, kPcsStage), x);
    }
  };
  const auto dds_step = [&](int k, double eta, MatrixRef z) {
    const StreamTag tag = chain_tag(k, kDdsStage);
    if (options_.inner == Inner::kExact) {
      sample_denoising_posterior(*prior_law, eta, z, streams, first_particle, tag, z);
      return;
    }
    const std::vector<double> sigmas = dds_levels(eta, options_.dds_levels);
    if (options_.dds == Dds::kDdim) {
      dds_ddim(problem.prior_score, sigmas, z, streams, first_particle, tag, z);
    } else {
      dds_ddpm(problem.prior_score, sigmas, z, streams, first_particle, tag, z);
    }
  };

  const std::vector<double> eta = etas(steps);
  for (int k = 0; k < steps; ++k) {
    const double eta_k = eta[static_cast<std::size_t>(k)];
    if (options_.order == Order::kPcsThenDds) {
      pcs_step(k, eta_k, out);
      dds_step(k, eta_k, out);
    } else {
      dds_step(k, eta_k, out);
      if (k + 1 < steps) pcs_step(k, eta_k, out);
    }
  }
}

double DpnpSampler::score_evaluations(int steps) const {
  return options_.inner == Inner::kExact ? 0.0 : static_cast<double>(steps) * options_.dds_levels;
}

std::optional<GaussianLaw> DpnpSampler::output_law(const PosteriorProblem& problem, int steps) const {
  const GaussianMixtureView* prior = problem.prior.gaussian_mixture();
  const std::optional<LinearGaussianView> linear = problem.likelihood.linear_gaussian();
  if (prior == nullptr || prior->size() != 1 || !linear || unsupported_reason(problem)) return std::nullopt;
  const bool exact = options_.inner == Inner::kExact;
  // The exact-Gibbs chain is composed in one closed form for the PCS-then-DDS order; the diffusion
  // inner samplers are affine (hence the chain Gaussian) only with an affine score and the constant,
  // unadjusted PCS step.
  if (exact && options_.order != Order::kPcsThenDds) return std::nullopt;
  PcsOptions pcs = options_.pcs;
  if (pcs.noise_scale <= 0.0) pcs.noise_scale = linear->sigma_y;
  if (!exact && (!problem.prior_score.is_affine() || pcs.metropolis ||
                 pcs.step_rule != PcsOptions::StepRule::kConstant))
    return std::nullopt;

  const GaussianLaw prior_law = mixture_of(*prior).as_gaussian();
  const Eigen::Index d = prior_law.dim();
  GaussianLaw law = options_.start == Start::kPrior
                        ? prior_law
                        : GaussianLaw{Vector::Zero(d), Matrix::Identity(d, d)};
  const std::vector<double> eta = etas(steps);
  std::optional<GaussianChain> gibbs, pcs_kernel, dds_kernel;
  for (int k = 0; k < steps; ++k) {
    const double eta_k = eta[static_cast<std::size_t>(k)];
    // Consecutive iterations at one eta share the kernels (constant eta: built once).
    if (k == 0 || eta_k != eta[static_cast<std::size_t>(k - 1)]) {
      if (exact) {
        gibbs = exact_gibbs_chain(prior_law, *linear, problem.y, eta_k);
      } else {
        pcs_kernel = pcs_affine_kernel(*linear, problem.y, eta_k, pcs);
        dds_kernel = dds_affine_kernel(problem.prior_score, dds_levels(eta_k, options_.dds_levels),
                                       static_cast<int>(d),
                                       options_.dds == Dds::kDdim ? DdsVariant::kDdim : DdsVariant::kDdpm);
      }
    }
    if (exact) {
      law = gibbs->step(law);
    } else if (options_.order == Order::kPcsThenDds) {
      law = dds_kernel->step(pcs_kernel->step(law));
    } else {
      law = dds_kernel->step(law);
      if (k + 1 < steps) law = pcs_kernel->step(law);
    }
  }
  return law;
}

}  // namespace dmconv::posterior
