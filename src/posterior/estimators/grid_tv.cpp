// posterior_grid_tv: estimators/grid_tv.hpp.
#include "posterior/estimators/grid_tv.hpp"

#include <limits>

#include "posterior/grid_posterior.hpp"

namespace dmconv::posterior {
namespace {

const StreamTag kFloorTag(StreamPurpose::kPosteriorChain, 7);

class PosteriorGridTv final : public PosteriorEstimator {
 public:
  explicit PosteriorGridTv(GridOptions grid) : grid_(std::move(grid)) {}
  std::string name() const override { return "posterior_grid_tv"; }
  std::optional<std::string> unsupported_reason(const PosteriorEstimationProblem& p) const override {
    if (p.problem.prior.dim() > 2) return "grid laws are built in d <= 2 only";
    return std::nullopt;
  }
  std::vector<std::string> metrics(const PosteriorEstimationProblem& p) const override {
    std::vector<std::string> out;
    for (const Reference& r : references(p.sampler)) out.push_back("tv" + r.suffix);
    return out;
  }
  std::vector<Estimate> estimate(const PosteriorEstimationProblem& p) const override {
    bool finite = true;
    const Matrix output = posterior_output(p, finite);
    const RandomStreams streams(p.seed, p.run);
    std::vector<Estimate> out;
    for (const Reference& r : references(p.sampler)) {
      const GridLaw law = grid_posterior(p.problem.prior, p.problem.likelihood, p.problem.y, r.eta, grid_);
      Matrix exact(p.problem.prior.dim(), p.particles);
      law.sample(streams, 0, kFloorTag, exact);
      out.push_back(sample_distance("tv" + r.suffix,
                                    "posterior_grid_tv(" + std::to_string(law.points) + " cells per axis)", finite,
                                    finite ? law.histogram_tv(output) : 0.0,
                                    law.histogram_tv(exact) + law.refinement_error + smoothing_error(p, r.eta, law)));
    }
    return out;
  }

 private:
  // The quadrature error of pi_eta's smoothed likelihood when it has no closed form: TV between the
  // law with this rule and with twice the Gauss-Hermite nodes (half, at the largest rule). A peaked
  // likelihood (phase retrieval at eta = 1: spikes of width sigma_y / |a_i| in W) needs far more
  // nodes than a smooth one, and without this term its grid law would be reported as exact.
  double smoothing_error(const PosteriorEstimationProblem& p, double eta, const GridLaw& law) const {
    if (eta == 0.0) return 0.0;
    const Matrix probe = Matrix::Zero(p.problem.prior.dim(), 1);
    Vector value(1);
    if (p.problem.likelihood.smoothed_log_likelihood(p.problem.y, eta, probe, value)) return 0.0;
    GridOptions other = grid_;
    other.hermite_points = grid_.hermite_points * 2 <= kMaxHermitePoints ? grid_.hermite_points * 2 : grid_.hermite_points / 2;
    return law.tv(grid_posterior(p.problem.prior, p.problem.likelihood, p.problem.y, eta, other));
  }

  static constexpr int kMaxHermitePoints = 256;
  GridOptions grid_;
};

GridOptions grid_options(const DeclaredParams& p) {
  GridOptions grid;
  grid.points = static_cast<int>(p.integer("points"));
  grid.hermite_points = static_cast<int>(p.integer("hermite_points"));
  return grid;
}

}  // namespace

GridOptions posterior_grid_tv_options(const ParamTable& params) {
  const Registry<PosteriorEstimator>::Entry entry = posterior_grid_tv_entry();
  return grid_options(DeclaredParams(entry.params, params, "posterior estimator '" + entry.name + "'"));
}

Registry<PosteriorEstimator>::Entry posterior_grid_tv_entry() {
  using P = ParamSpec;
  return {"posterior_grid_tv", "histogram TV of the output sample to the exact grid laws of pi_eta and pi (d <= 2)",
          "docs/theory.md §4.7",
          {P::integer("points", "cells per axis").defaults(64).at_least(4).at_most(4096),
           P::integer("hermite_points", "Gauss-Hermite nodes per axis for the smoothed likelihood of pi_eta")
               .defaults(32)
               .at_least(2)
               .at_most(256)},  // kMaxHermitePoints
          [](const DeclaredParams& p) -> std::unique_ptr<PosteriorEstimator> {
            return std::make_unique<PosteriorGridTv>(grid_options(p));
          },
          ParamTable{}};
}

}  // namespace dmconv::posterior
