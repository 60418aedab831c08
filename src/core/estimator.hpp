// Distances between a sampler's output law and the exact law at the comparison level
// (X_1 by default, docs/theory.md §2 "Where the error is measured").
//
// Every estimate says what kind of number it is:
//   kExact              closed form or exact law propagation (std_error = 0; `floor` is the
//                       round-off/discretisation budget)
//   kUnbiasedMonteCarlo unbiased estimator with exact densities; std_error is its standard error
//   kBiasedWithFloor    consistent but biased (e.g. sample-based); `floor` is the measured bias level
//   kLowerBound         a certified lower bound of the distance
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/enum_names.hpp"
#include "core/registry.hpp"
#include "core/run_sampler.hpp"
#include "core/sampler.hpp"
#include "core/score_model.hpp"
#include "core/target.hpp"
#include "core/time_grid.hpp"

namespace dmconv {

enum class EstimateKind { kExact, kUnbiasedMonteCarlo, kBiasedWithFloor, kLowerBound };
inline constexpr EnumNames<EstimateKind, 4> kEstimateKindNames{
    "estimate kind",
    {{{EstimateKind::kExact, "exact"},
      {EstimateKind::kUnbiasedMonteCarlo, "unbiased_mc"},
      {EstimateKind::kBiasedWithFloor, "biased_with_floor"},
      {EstimateKind::kLowerBound, "lower_bound"}}}};
inline std::string to_string(EstimateKind kind) { return kEstimateKindNames.name(kind); }

// Whether an estimate is a number to use. kNonFinite: the computation ran but produced NaN/inf
// (e.g. particles that blew up); kFailed: the estimator could not meet its own accuracy
// requirement (the message says which); kUnsupported: the estimator does not apply to the
// problem (the message is the reason). Only kOk values enter fits and tables.
enum class EstimateStatus { kOk, kNonFinite, kFailed, kUnsupported };
inline constexpr EnumNames<EstimateStatus, 4> kEstimateStatusNames{
    "estimate status",
    {{{EstimateStatus::kOk, "ok"},
      {EstimateStatus::kNonFinite, "non_finite"},
      {EstimateStatus::kFailed, "failed"},
      {EstimateStatus::kUnsupported, "unsupported"}}}};
inline std::string to_string(EstimateStatus status) { return kEstimateStatusNames.name(status); }

// Metric names used throughout results files:
//   "tv"              TV(p_X, p_Y) = (1/2) int |p_X - p_Y|
//   "kl_target_output" KL(p_X || p_Y),  "kl_output_target" KL(p_Y || p_X)
//   "w2"              Wasserstein-2,    "hellinger"  H^2 = 1 - int sqrt(p_X p_Y)
struct Estimate {
  std::string metric;
  double value = 0.0;
  double std_error = 0.0;
  double floor = 0.0;
  EstimateKind kind = EstimateKind::kExact;
  std::string method;  // estimator name and settings, e.g. "gaussian_law"
  EstimateStatus status = EstimateStatus::kOk;
  std::string message = {};  // why the status is not kOk (empty when it is); the initializer keeps
                             // the six-field aggregate initialisations free of -Wmissing-field-initializers
  // Absolute rounding margin of `value`: a few ulps times the magnitude of the terms summed to
  // form it (or another stated numerical error of the same nature, e.g. a quadrature error
  // estimate). 0: not reported; check_physical_range then uses default_rounding_margin(value).
  double rounding = 0.0;
};

// The physical range of a metric: TV and H^2 lie in [0, 1]; KL, W2 (and sliced W2, 1-D W2) and
// MMD / squared MMD are >= 0 (hi = +inf). Unknown metrics have no range (nullopt).
struct MetricRange {
  double lo = 0.0, hi = 0.0;
};
std::optional<MetricRange> metric_range(const std::string& metric);

// A few ulps of the terms summed: kRoundingUlps * eps * max(1, |value|). The magnitude floor of 1
// is the mass of a probability law: the distances here are integrals of differences of densities
// of unit mass, whose summed terms are O(1) even when the distance is tiny.
inline constexpr double kRoundingUlps = 64.0;
double default_rounding_margin(double value);

// How far a Monte Carlo estimate may stray outside its metric's range by sampling noise alone, in
// standard errors (P(|N(0,1)| > 5) = 6e-7 per estimate).
inline constexpr double kRangeZ = 5.0;

// The one check every estimate passes (execute_run applies it to every estimate of every
// estimator before it becomes a /runs row). For an estimate with status ok and a finite value,
// margin m = estimate.rounding (or default_rounding_margin):
//   exact / lower bound: value must lie in [lo - m, hi + m];
//   Monte Carlo kinds:   value must lie in [lo - m - z SE, hi + m + z SE], z = kRangeZ.
// Outside: status becomes failed with a message naming the value, the range and why ("tv = 3.92
// outside [0, 1] ..."); never ok. Inside the margin but outside the range (a rounding result,
// e.g. a KL of -1e-17): the value is kept as computed and the floor is raised to m, so fits
// exclude it as below its floor instead of a clamp presenting it as an exact 0.
void check_physical_range(Estimate& estimate);

// Everything an estimator may need to know about one run.
struct EstimationProblem {
  const Sampler& sampler;
  const TimeGrid& grid;
  const Target& target;
  const ScoreModel& score;
  RunOptions run;  // seed, run, particles, initialisation, stop_index, threads
};

class Estimator {
 public:
  virtual ~Estimator() = default;
  virtual std::string name() const = 0;
  // Empty when the estimator applies to this problem; otherwise the reason it does not,
  // e.g. "requires a Gaussian target and an affine score".
  virtual std::optional<std::string> unsupported_reason(const EstimationProblem& problem) const = 0;
  // Precondition: unsupported_reason(problem) is empty.
  virtual std::vector<Estimate> estimate(const EstimationProblem& problem) const = 0;
  // The resolution rule of an exact estimator (grid points, quadrature panels) on this problem,
  // checked at plan time for every (sweep point, sampler, T) it serves, before any sampling:
  // throws ParameterError naming the parameter, its value and the rule (with the smallest value
  // that meets it) when the resolution cannot meet the accuracy the estimator needs. The rules
  // are stated in docs/theory.md §6.7. Default: no rule (Monte Carlo estimators report an SE).
  // Precondition: unsupported_reason(problem) is empty.
  virtual void check_resolution(const EstimationProblem& /*problem*/) const {}
  // True when the estimator's whole cost is shared out when problem.run.split is set: the
  // sampler's run (run_sampler splits its particles) and the estimator's own work (it uses the
  // split itself, e.g. sliced W2 over its directions), so that only small work is repeated on
  // every rank. A run whose estimators all say so has its particles split over MPI ranks when it
  // is too costly to balance as a whole (experiment/distributed.hpp). Default: false.
  virtual bool cost_splits_over_ranks() const { return false; }
};

// The narrowest standard deviation of p_t at `level` when the target is a Gaussian mixture:
// min over components k of sqrt(lambda_min(abar Sigma_k + (1 - abar) I)); nullopt otherwise.
// Resolution rules measure grid spacings and panel widths against it.
std::optional<double> narrowest_component_sd(const Target& target, const NoiseLevel& level);

const Registry<Estimator>& estimator_registry();

}  // namespace dmconv
