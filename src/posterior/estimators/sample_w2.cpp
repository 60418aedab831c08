// posterior_w2: estimators/sample_w2.hpp.
#include "posterior/estimators/sample_w2.hpp"

#include <cmath>
#include <limits>

#include "estimators/sample_based.hpp"
#include "posterior/exact_laws.hpp"
#include "posterior/grid_posterior.hpp"

namespace dmconv::posterior {
namespace {

// Stream of the reference draws for the floor (purpose kPosteriorChain, index 6).
const StreamTag kFloorTag(StreamPurpose::kPosteriorChain, 6);

class PosteriorW2 final : public PosteriorEstimator {
 public:
  PosteriorW2(int directions, GridOptions grid) : directions_(directions), grid_(std::move(grid)) {}
  std::string name() const override { return "posterior_w2"; }

  std::optional<std::string> unsupported_reason(const PosteriorEstimationProblem& p) const override {
    const bool mixture = p.problem.prior.gaussian_mixture() != nullptr && p.problem.likelihood.linear_gaussian();
    if (mixture) return std::nullopt;
    if (p.problem.prior.dim() == 1) return std::nullopt;  // grid reference
    return "needs a closed-form reference (Gaussian-mixture prior, linear-Gaussian likelihood) or d = 1 (grid)";
  }
  std::vector<std::string> metrics(const PosteriorEstimationProblem& p) const override {
    std::vector<std::string> out;
    for (const Reference& r : references(p.sampler)) out.push_back("w2" + r.suffix);
    return out;
  }
  std::vector<Estimate> estimate(const PosteriorEstimationProblem& p) const override {
    bool finite = true;
    const Matrix output = posterior_output(p, finite);
    const int d = p.problem.prior.dim();
    const RandomStreams streams(p.seed, p.run);
    std::vector<Estimate> out;
    for (const Reference& r : references(p.sampler)) {
      const bool mixture = p.problem.prior.gaussian_mixture() != nullptr && p.problem.likelihood.linear_gaussian();
      Matrix exact(d, p.particles);
      double value = std::numeric_limits<double>::quiet_NaN(), floor = value;
      std::string method;
      if (mixture) {
        const GaussianMixtureLaw law = stationary_law(mixture_of(*p.problem.prior.gaussian_mixture()),
                                                      *p.problem.likelihood.linear_gaussian(), p.problem.y, r.eta);
        law.sample(streams, 0, kFloorTag, exact);
        const Matrix theta = d == 1 ? Matrix::Ones(1, 1) : estimators::sliced_directions(p.seed, p.run, d, directions_);
        const auto w2_squared = [&](const Matrix& samples) {
          double sum = 0.0;
          for (Eigen::Index l = 0; l < theta.cols(); ++l) {
            const Vector projected = samples.transpose() * theta.col(l);
            sum += estimators::w2_squared_1d(std::vector<double>(projected.data(), projected.data() + projected.size()),
                                 law.project(theta.col(l)), p.threads);
          }
          return sum / static_cast<double>(theta.cols());
        };
        if (finite) value = std::sqrt(std::fmax(0.0, w2_squared(output)));
        floor = std::sqrt(std::fmax(0.0, w2_squared(exact)));
        method = d == 1 ? "posterior_w2(exact 1-D, mixture reference)"
                          : "posterior_w2(sliced, " + std::to_string(directions_) + " directions, mixture reference)";
      } else {
        const GridLaw law = grid_posterior(p.problem.prior, p.problem.likelihood, p.problem.y, r.eta, grid_);
        law.sample(streams, 0, kFloorTag, exact);
        const auto w2_squared = [&](const Matrix& samples) {
          return law.w2_squared_1d(std::vector<double>(samples.data(), samples.data() + samples.size()));
        };
        if (finite) value = std::sqrt(std::fmax(0.0, w2_squared(output)));
        floor = std::sqrt(std::fmax(0.0, w2_squared(exact)));
        method = "posterior_w2(exact 1-D, grid reference, " + std::to_string(grid_.points) + " cells)";
      }
      out.push_back(sample_distance("w2" + r.suffix, method, finite, value, floor));
    }
    return out;
  }

 private:
  int directions_;
  GridOptions grid_;
};

}  // namespace

Registry<PosteriorEstimator>::Entry posterior_w2_entry() {
  using P = ParamSpec;
  return {"posterior_w2",
          "W2 (d = 1) or sliced W2 of the output sample to pi_eta and pi, exact 1-D quantile integration",
          "docs/theory.md §4.7; estimators/sample_based.hpp",
          {P::integer("directions", "sliced directions when d > 1").defaults(32).at_least(1).at_most(4096),
           P::integer("points", "grid cells of the d = 1 grid reference").defaults(4096).at_least(64).at_most(1 << 20)},
          [](const DeclaredParams& p) -> std::unique_ptr<PosteriorEstimator> {
            GridOptions grid;
            grid.points = static_cast<int>(p.integer("points"));
            return std::make_unique<PosteriorW2>(static_cast<int>(p.integer("directions")), grid);
          },
          ParamTable{}};
}

}  // namespace dmconv::posterior
