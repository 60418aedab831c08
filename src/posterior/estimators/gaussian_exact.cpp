// posterior_gaussian: estimators/gaussian_exact.hpp.
#include "posterior/estimators/gaussian_exact.hpp"

#include <cmath>
#include <limits>

#include "posterior/exact_laws.hpp"

namespace dmconv::posterior {
namespace {

// The rounding of the two laws' construction (the output law after `steps` propagations, the
// reference from one closed-form update), as the smallest distance it can fake: a mean error of
// kRoundingUlps eps (|m| + sd) per operation chain, seen in units of the narrowest sd (TV) or as
// a length (W2); KL of a mean shift d is d^2/2 in sd units.
struct InputRounding {
  double tv = 0.0, w2 = 0.0;
};
InputRounding input_rounding(const GaussianLaw& output, const GaussianLaw& reference, int steps) {
  const double eps = std::numeric_limits<double>::epsilon();
  const Eigen::SelfAdjointEigenSolver<Matrix> spectrum(reference.covariance, Eigen::EigenvaluesOnly);
  const double sd_min = std::sqrt(std::fmax(spectrum.eigenvalues().minCoeff(), 0.0));
  const double sd_max = std::sqrt(std::fmax(spectrum.eigenvalues().maxCoeff(), 0.0));
  const double scale = std::fmax(output.mean.cwiseAbs().maxCoeff(), reference.mean.cwiseAbs().maxCoeff()) + sd_max;
  const double mean_error = kRoundingUlps * eps * scale * static_cast<double>(steps + 1);
  return {sd_min > 0.0 ? mean_error / sd_min : std::numeric_limits<double>::infinity(), mean_error};
}

class PosteriorGaussian final : public PosteriorEstimator {
 public:
  std::string name() const override { return "posterior_gaussian"; }
  std::optional<std::string> unsupported_reason(const PosteriorEstimationProblem& p) const override {
    const GaussianMixtureView* prior = p.problem.prior.gaussian_mixture();
    if (prior == nullptr || prior->size() != 1) return "needs a Gaussian prior (one component)";
    if (!p.problem.likelihood.linear_gaussian()) return "needs a linear-Gaussian likelihood";
    if (!p.sampler.output_law(p.problem, p.steps))
      return "sampler '" + p.sampler.name() + "' has no closed-form Gaussian output law";
    return std::nullopt;
  }
  std::vector<std::string> metrics(const PosteriorEstimationProblem& p) const override {
    std::vector<std::string> out;
    for (const Reference& r : references(p.sampler))
      for (const char* m : {"tv", "kl", "w2"}) out.push_back(m + r.suffix);
    return out;
  }
  std::vector<Estimate> estimate(const PosteriorEstimationProblem& p) const override {
    const GaussianLaw output = *p.sampler.output_law(p.problem, p.steps);
    const GaussianMixtureLaw prior = mixture_of(*p.problem.prior.gaussian_mixture());
    std::vector<Estimate> out;
    for (const Reference& r : references(p.sampler)) {
      const GaussianLaw reference =
          stationary_law(prior, *p.problem.likelihood.linear_gaussian(), p.problem.y, r.eta).as_gaussian();
      const InputRounding rounding = input_rounding(output, reference, p.steps);
      for (Estimate e : {gaussian_tv(output, reference), gaussian_kl(output, reference), gaussian_w2(output, reference)}) {
        const std::string base = e.metric == "tv" ? "tv" : e.metric == "w2" ? "w2" : "kl";
        e.metric = base + r.suffix;
        e.method = "posterior_gaussian(" + e.method + ")";
        // The distance formulas are accurate for the laws they are given; the laws themselves carry
        // the rounding of their construction, which bounds how small a distance is resolved.
        const double input = base == "tv" ? rounding.tv : base == "w2" ? rounding.w2 : 0.5 * rounding.tv * rounding.tv;
        e.floor = std::fmax(e.floor, input);
        out.push_back(e);
      }
    }
    return out;
  }
};

}  // namespace

Registry<PosteriorEstimator>::Entry posterior_gaussian_entry() {
  return {"posterior_gaussian",
          "exact TV, KL and W2 of a Gaussian output law to pi_eta and pi (Gaussian prior, linear likelihood)",
          "docs/theory.md §5.7",
          {},
          [](const DeclaredParams&) -> std::unique_ptr<PosteriorEstimator> { return std::make_unique<PosteriorGaussian>(); },
          ParamTable{}};
}

}  // namespace dmconv::posterior
