// Estimator "ot_w2" (metric "w2", any target that can sample p_{X_stop}, any sampler, any d), by
// the exact assignment solver of core/optimal_transport.hpp (issue 6 (c)):
//   value = W2(Y_n, R_n), with Y_n the sampler's n outputs and R_n n exact samples of p_{X_stop}
//           (stream purpose kSampleEstimator, index 2);
//   floor = W2(O_n, R_n), O_n another n exact samples (index 0: the oracle of every sample-based
//           estimator), i.e. the value the estimator returns for a PERFECT sampler.
// Kind kBiasedWithFloor. Bias order in n: the two-sample empirical W2 between samples of the same
// law decays like n^{-1/2} (d = 1, up to log log n), (log n / n)^{1/2} (d = 2) and n^{-1/d}
// (d >= 3; Fournier & Guillin 2015, "On the rate of convergence in Wasserstein distance of the
// empirical measure", Thm 1), so in d >= 3 the floor dominates all but gross errors. It is an
// estimate of W2(p_Y, p_X), neither an upper nor a lower bound: by the triangle inequality
// |value - W2(p_Y, p_X)| <= W2(Y_n, p_Y) + W2(R_n, p_X), each term ~ floor / sqrt 2.
// Parameter "max_particles" (default 4096) refuses larger d >= 2 problems before any work.
#pragma once
#include <string>
#include <vector>

#include "core/estimator.hpp"
#include "core/optimal_transport.hpp"

namespace dmconv::estimators {

// The solver lives in core (the LSI analysis uses it too); these names are kept for callers.
using dmconv::AssignmentResult;
using dmconv::exact_w2_squared;

class OptimalTransportW2Estimator final : public Estimator {
 public:
  static constexpr int kDefaultMaxParticles = 4096;
  explicit OptimalTransportW2Estimator(int max_particles = kDefaultMaxParticles);
  std::string name() const override { return "ot_w2"; }
  std::optional<std::string> unsupported_reason(const EstimationProblem& problem) const override;
  std::vector<Estimate> estimate(const EstimationProblem& problem) const override;

 private:
  int max_particles_;
};

}  // namespace dmconv::estimators
