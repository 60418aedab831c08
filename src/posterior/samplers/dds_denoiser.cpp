// DDS on a denoising problem (claim 18): samplers/dds_denoiser.hpp.
#include "posterior/samplers/dds_denoiser.hpp"

#include "posterior/dds.hpp"

namespace dmconv::posterior {

std::optional<std::string> DdsDenoiser::unsupported_reason(const PosteriorProblem& problem) const {
  const std::optional<LinearGaussianView> linear = problem.likelihood.linear_gaussian();
  if (!linear) return "DDS denoises: it needs a linear_gaussian likelihood with A = I (y = x + N(0, eta^2 I))";
  const Matrix& A = *linear->A;
  if (A.rows() != A.cols() || !A.isIdentity(0.0))
    return "DDS denoises: the linear_gaussian likelihood must have A = I (matrix = \"identity\")";
  if (problem.prior.dim() != A.cols()) return "the prior and the likelihood differ in dimension";
  return std::nullopt;
}

void DdsDenoiser::sample(const PosteriorProblem& problem, int steps, const TimeGrid* /*grid*/,
                         const RandomStreams& streams, std::uint64_t first_particle, MatrixRef out) const {
  const double eta = problem.likelihood.linear_gaussian()->sigma_y;
  const std::vector<double> sigmas = dds_levels(eta, steps);
  const Matrix z = problem.y.replicate(1, out.cols());
  const StreamTag tag(StreamPurpose::kPosteriorChain, 1);
  if (variant_ == Variant::kDdpm) {
    dds_ddpm(problem.prior_score, sigmas, z, streams, first_particle, tag, out);
  } else {
    dds_ddim(problem.prior_score, sigmas, z, streams, first_particle, tag, out);
  }
}

std::optional<GaussianLaw> DdsDenoiser::output_law(const PosteriorProblem& problem, int steps) const {
  if (!problem.prior_score.is_affine() || unsupported_reason(problem)) return std::nullopt;
  const double eta = problem.likelihood.linear_gaussian()->sigma_y;
  return dds_output_law(problem.prior_score, dds_levels(eta, steps), problem.y,
                        variant_ == Variant::kDdpm ? DdsVariant::kDdpm : DdsVariant::kDdim);
}

}  // namespace dmconv::posterior
