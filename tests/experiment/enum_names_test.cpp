// The enum <-> string tables (core/enum_names.hpp): every enum that reaches a results file or a
// config has one table; names round-trip, and an unknown name is rejected with the valid ones.
// The expected names are the strings of the results-file schema (results/README.md) and of the
// config format: changing one would change what files say.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "analysis/rate_fit.hpp"
#include "config/experiment_config.hpp"
#include "core/estimator.hpp"

namespace dmconv {
namespace {

template <class Enum, std::size_t N>
void expect_table(const EnumNames<Enum, N>& names, const std::vector<std::pair<Enum, std::string>>& expected) {
  ASSERT_EQ(names.entries.size(), expected.size()) << names.what;
  std::set<std::string> seen;
  for (const auto& [value, text] : expected) {
    EXPECT_EQ(names.name(value), text) << names.what;
    EXPECT_EQ(names.parse(text), value) << names.what << " " << text;
    EXPECT_TRUE(seen.insert(text).second) << names.what << ": '" << text << "' twice";
  }
}

TEST(EnumNames, EveryTableRoundTripsTheSchemaNames) {
  expect_table(kEstimateStatusNames, {{EstimateStatus::kOk, "ok"},
                                      {EstimateStatus::kNonFinite, "non_finite"},
                                      {EstimateStatus::kFailed, "failed"},
                                      {EstimateStatus::kUnsupported, "unsupported"}});
  expect_table(kEstimateKindNames, {{EstimateKind::kExact, "exact"},
                                    {EstimateKind::kUnbiasedMonteCarlo, "unbiased_mc"},
                                    {EstimateKind::kBiasedWithFloor, "biased_with_floor"},
                                    {EstimateKind::kLowerBound, "lower_bound"}});
  expect_table(kVerdictNames,
               {{Verdict::kHolds, "holds"}, {Verdict::kViolated, "violated"}, {Verdict::kInconclusive, "inconclusive"}});
  expect_table(kClaimBoundNames,
               {{ClaimBound::kUpper, "upper"}, {ClaimBound::kLower, "lower"}, {ClaimBound::kExact, "exact"}});
  expect_table(kFitModelNames, {{FitModel::kPowerLaw, "power"}, {FitModel::kExponential, "exponential"}});
  expect_table(kLogPowerModeNames,
               {{LogPowerMode::kNone, "none"}, {LogPowerMode::kFixed, "fixed"}, {LogPowerMode::kFree, "free"}});
  expect_table(config::kInitialisationNames, {{Initialisation::kExactMarginal, "exact"},
                                              {Initialisation::kStandardNormal, "standard_normal"}});
  // The free to_string functions read the same tables.
  EXPECT_EQ(to_string(EstimateStatus::kNonFinite), "non_finite");
  EXPECT_EQ(to_string(EstimateKind::kUnbiasedMonteCarlo), "unbiased_mc");
  EXPECT_EQ(to_string(Verdict::kViolated), "violated");
  EXPECT_EQ(to_string(ClaimBound::kExact), "exact");
  EXPECT_EQ(to_string(FitModel::kExponential), "exponential");
}

TEST(EnumNames, UnknownNameIsRejectedWithTheValidList) {
  try {
    kEstimateStatusNames.parse("OK");
    ADD_FAILURE() << "no error for 'OK'";
  } catch (const InvalidArgument& error) {
    EXPECT_STREQ(error.what(), "unknown estimate status 'OK'; valid values are: ok, non_finite, failed, unsupported");
  }
  try {
    kVerdictNames.parse("");
    ADD_FAILURE() << "no error for ''";
  } catch (const InvalidArgument& error) {
    EXPECT_STREQ(error.what(), "unknown verdict ''; valid values are: holds, violated, inconclusive");
  }
  EXPECT_FALSE(kFitModelNames.find("logistic").has_value());
  EXPECT_THROW(kClaimBoundNames.parse("upper "), InvalidArgument);
  // A value outside the table (a cast integer) has no name.
  EXPECT_THROW(kVerdictNames.name(static_cast<Verdict>(7)), InvalidArgument);
}

}  // namespace
}  // namespace dmconv
