// The estimator registry: one line per estimator.
#include "core/estimator.hpp"

namespace dmconv {

std::string to_string(EstimateKind kind) {
  switch (kind) {
    case EstimateKind::kExact:
      return "exact";
    case EstimateKind::kUnbiasedMonteCarlo:
      return "unbiased_mc";
    case EstimateKind::kBiasedWithFloor:
      return "biased_with_floor";
    case EstimateKind::kLowerBound:
      return "lower_bound";
  }
  return "unknown";
}

const Registry<Estimator>& estimator_registry() {
  static const Registry<Estimator> registry = [] {
    Registry<Estimator> r("estimator");
    return r;
  }();
  return registry;
}

}  // namespace dmconv
