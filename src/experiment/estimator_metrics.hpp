// The metrics each registered estimator can report, by estimator kind and target dimension, so
// that the plan stage can reject a [[claim]] no configured estimator can ever feed (a claim on
// "w2" with only change_of_variables would otherwise run the whole sweep and end "inconclusive:
// no results"). The Estimator interface (core/estimator.hpp) and the estimator registry do not
// declare metrics, and src/estimators/ is not this layer's to change, so the table lives here;
// tests/estimators/estimator_conformance_test.cpp checks every estimate of every registered
// estimator against it, and that every registered estimator has an entry.
#pragma once
#include <optional>
#include <set>
#include <string>

namespace dmconv::experiment {

// The metrics `estimator_kind` can report for a target of dimension `dim` (a superset: an
// estimator may report fewer, e.g. on failure); nullopt for a kind the table does not know.
std::optional<std::set<std::string>> reported_metrics(const std::string& estimator_kind, int dim);

}  // namespace dmconv::experiment
