// The report stage: text tables of the errors (sampler x T per target/group/estimator/metric)
// and one verdict line per fit.
#pragma once
#include <ostream>
#include <vector>

#include "config/experiment_config.hpp"
#include "experiment/rows.hpp"

namespace dmconv::experiment {

void print_error_table(std::ostream& out, const config::ExperimentConfig& config, const std::vector<RunRow>& rows);
void print_verdicts(std::ostream& out, const std::vector<FitRow>& fits);
bool any_violated(const std::vector<FitRow>& fits);

}  // namespace dmconv::experiment
