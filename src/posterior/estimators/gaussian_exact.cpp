// posterior_gaussian: estimators/gaussian_exact.hpp.
#include "posterior/estimators/gaussian_exact.hpp"

#include "posterior/exact_laws.hpp"

namespace dmconv::posterior {
namespace {

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
      for (Estimate e : {gaussian_tv(output, reference), gaussian_kl(output, reference), gaussian_w2(output, reference)}) {
        e.metric = (e.metric == "tv" ? "tv" : e.metric == "w2" ? "w2" : "kl") + r.suffix;
        e.method = "posterior_gaussian(" + e.method + ")";
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
