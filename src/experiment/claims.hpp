// The claims stage: one rate fit per claim and group of the other swept axes (rate_fit.hpp),
// with its verdict. A claim that matches no rows gives one inconclusive row without a group.
#pragma once
#include <vector>

#include "config/experiment_config.hpp"
#include "experiment/rows.hpp"

namespace dmconv::experiment {

std::vector<FitRow> fit_claims(const config::ExperimentConfig& config, const std::vector<RunRow>& rows);

}  // namespace dmconv::experiment
