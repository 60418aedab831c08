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
};

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
};

const Registry<Estimator>& estimator_registry();

}  // namespace dmconv
