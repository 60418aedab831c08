// Physical range checks shared by every estimator (estimator.hpp, check_physical_range):
// no estimate that is impossible for its metric (TV > 1, a negative KL, ...) is reported as ok.
// Ranges: TV(P, Q) = (1/2) int |p - q| in [0, 1]; H^2 = 1 - int sqrt(p q) in [0, 1]; KL >= 0
// (Gibbs); W2 >= 0; MMD >= 0 (squared MMD of the population >= 0; its unbiased estimate may be
// negative by sampling noise, which the z SE allowance covers). docs/theory.md §3.
#include <Eigen/Eigenvalues>
#include <cmath>
#include <limits>
#include <sstream>

#include "core/estimator.hpp"

namespace dmconv {

std::optional<MetricRange> metric_range(const std::string& name) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  // Posterior metrics name their reference law ("tv_to_pi_eta", "w2_to_pi"): same range as the base.
  std::string metric = name;
  for (const std::string suffix : {"_to_pi_eta", "_to_pi"})
    if (metric.size() > suffix.size() && metric.compare(metric.size() - suffix.size(), suffix.size(), suffix) == 0) {
      metric.resize(metric.size() - suffix.size());
      break;
    }
  if (metric == "tv" || metric == "hellinger") return MetricRange{0.0, 1.0};
  if (metric == "kl" || metric == "kl_target_output" || metric == "kl_output_target" || metric == "w2" ||
      metric == "w2_1d" || metric == "sliced_w2" || metric == "mmd" || metric == "mmd2" || metric == "kernel_kl_sum")
    return MetricRange{0.0, kInf};
  return std::nullopt;
}

double default_rounding_margin(double value) {
  return kRoundingUlps * std::numeric_limits<double>::epsilon() * std::fmax(1.0, std::fabs(value));
}

void check_physical_range(Estimate& estimate) {
  if (estimate.status != EstimateStatus::kOk || !std::isfinite(estimate.value)) return;
  const std::optional<MetricRange> range = metric_range(estimate.metric);
  if (!range) return;
  const double margin = estimate.rounding > 0.0 ? estimate.rounding : default_rounding_margin(estimate.value);
  const bool monte_carlo =
      estimate.kind == EstimateKind::kUnbiasedMonteCarlo || estimate.kind == EstimateKind::kBiasedWithFloor;
  const double noise = monte_carlo && std::isfinite(estimate.std_error) ? kRangeZ * estimate.std_error : 0.0;
  const double lo = range->lo - margin - noise, hi = range->hi + margin + noise;
  if (estimate.value < lo || estimate.value > hi) {
    std::ostringstream message;
    message.precision(3);
    message << estimate.metric << " = " << estimate.value << " outside [" << range->lo << ", " << range->hi
            << "] by more than ";
    if (monte_carlo) {
      message << "its rounding margin " << margin << " + " << kRangeZ << " SE (SE = " << estimate.std_error
              << "): more than sampling noise allows";
    } else {
      message << "its rounding margin " << margin << ": impossible for an " << to_string(estimate.kind)
              << " estimate (under-resolved discretisation or a numerical failure)";
    }
    message << " [" << estimate.method << "]";
    estimate.status = EstimateStatus::kFailed;
    estimate.message = message.str();
    return;
  }
  // Within the margin but outside the range: a rounding result. Kept as computed, not clamped,
  // with its floor at least the margin so that fits treat it as unresolved.
  if (estimate.value < range->lo || estimate.value > range->hi)
    estimate.floor = std::isnan(estimate.floor) ? margin : std::fmax(estimate.floor, margin);
}

std::optional<double> narrowest_component_sd(const Target& target, const NoiseLevel& level) {
  const GaussianMixtureView* mixture = target.gaussian_mixture();
  if (mixture == nullptr || mixture->size() < 1) return std::nullopt;
  double narrowest = std::numeric_limits<double>::infinity();
  for (int k = 0; k < mixture->size(); ++k) {
    Matrix c = level.abar() * mixture->covariance(k);
    c.diagonal().array() += level.one_minus_abar();
    const Eigen::SelfAdjointEigenSolver<Matrix> eigen(c, Eigen::EigenvaluesOnly);
    narrowest = std::fmin(narrowest, std::sqrt(std::fmax(eigen.eigenvalues().minCoeff(), 0.0)));
  }
  return narrowest;
}

}  // namespace dmconv
