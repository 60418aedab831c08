// The metric table of experiment/estimator_metrics.hpp, read off each estimator's estimate():
// the metric names it returns (src/estimators/*.cpp), with the dimension conditions they carry.
#include "experiment/estimator_metrics.hpp"

namespace dmconv::experiment {

std::optional<std::set<std::string>> reported_metrics(const std::string& kind, int dim) {
  const std::set<std::string> densities = {"tv", "kl_target_output", "kl_output_target", "hellinger"};
  if (kind == "gaussian_law") return std::set<std::string>{"tv", "kl_target_output", "kl_output_target", "hellinger", "w2"};
  if (kind == "change_of_variables" || kind == "change_of_variables_quadrature" || kind == "separable")
    return densities;
  if (kind == "grid_law") {
    std::set<std::string> out = densities;
    if (dim == 1) out.insert("w2");  // the 1-D grid law also gives W2 by quantiles
    return out;
  }
  if (kind == "w2_1d" || kind == "ot_w2") return std::set<std::string>{"w2"};
  if (kind == "sliced_w2") return std::set<std::string>{"sliced_w2"};
  if (kind == "mmd") return std::set<std::string>{"mmd2"};
  if (kind == "rao_blackwell") return std::set<std::string>{"tv", "hellinger"};
  if (kind == "kernel_kl") return std::set<std::string>{"kernel_kl_sum"};
  return std::nullopt;
}

}  // namespace dmconv::experiment
