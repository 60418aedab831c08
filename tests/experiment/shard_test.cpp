// --shard i/n (issue 17): the parser's rules and messages, and the slicing of a sweep -- every run
// in exactly one part, a pure function of the runs and n, balanced by the cost estimate.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "experiment/shard.hpp"

namespace dmconv::experiment {
namespace {

std::string shard_error(const std::string& text) {
  try {
    parse_shard(text);
  } catch (const InvalidArgument& error) {
    return error.what();
  }
  return "";
}

TEST(Shard, ParsesIOverN) {
  const Shard shard = parse_shard("2/8");
  EXPECT_EQ(shard.index, 2);
  EXPECT_EQ(shard.count, 8);
  EXPECT_EQ(parse_shard("1/1").count, 1);
}

TEST(Shard, RefusesMalformedValuesNamingOptionValueAndRule) {
  for (const std::string bad : {"", "3", "1/", "/3", "a/b", "1/3/4", "+1/3", " 1/3", "1/3 ", "-1/3", "1.5/3"}) {
    const std::string message = shard_error(bad);
    EXPECT_NE(message.find("--shard = '" + bad + "'"), std::string::npos) << bad << ": " << message;
    EXPECT_NE(message.find("must be i/n"), std::string::npos) << bad << ": " << message;
  }
  EXPECT_NE(shard_error("1/0").find("the shard count n = 0 must lie in [1, "), std::string::npos) << shard_error("1/0");
  EXPECT_NE(shard_error("0/3").find("the shard index i = 0 must lie in [1, n] = [1, 3]"), std::string::npos);
  EXPECT_NE(shard_error("4/3").find("the shard index i = 4 must lie in [1, n] = [1, 3]"), std::string::npos);
  EXPECT_NE(shard_error("1/99999999999999").find("must lie in [1, "), std::string::npos);
}

std::vector<config::RunSpec> runs_with_steps(const std::vector<int>& steps) {
  std::vector<config::RunSpec> runs;
  for (int T : steps) {
    config::RunSpec run;
    run.index = runs.size();
    run.steps = T;
    run.particles = 1000;
    runs.push_back(run);
  }
  return runs;
}

TEST(Shard, EqualCostsAreRoundRobin) {
  const auto shard = shard_of_runs(runs_with_steps(std::vector<int>(7, 64)), 3);
  EXPECT_EQ(shard, (std::vector<std::int64_t>{1, 2, 3, 1, 2, 3, 1}));
}

TEST(Shard, EveryRunInOnePartAndCostsBalanced) {
  // T = 16 ... 1024, four replicates each: round-robin would give part 1 most of the long runs.
  std::vector<int> steps;
  for (int T = 16; T <= 1024; T *= 2)
    for (int r = 0; r < 4; ++r) steps.push_back(T);
  const auto runs = runs_with_steps(steps);
  for (std::int64_t n = 1; n <= 5; ++n) {
    const auto shard = shard_of_runs(runs, n);
    ASSERT_EQ(shard.size(), runs.size());
    std::vector<double> load(static_cast<std::size_t>(n), 0.0);
    for (std::size_t r = 0; r < runs.size(); ++r) {
      ASSERT_GE(shard[r], 1);
      ASSERT_LE(shard[r], n);
      load[static_cast<std::size_t>(shard[r] - 1)] += estimated_cost(runs[r]);
    }
    // Greedy LPT: no part exceeds the mean by more than the largest single run.
    const double total = 1024.0 * 1000 * 4 * 2;  // sum of T doubles each time: < 2 * 1024 per replicate
    const double biggest = 1024.0 * 1000;
    EXPECT_LE(*std::max_element(load.begin(), load.end()), total / static_cast<double>(n) + biggest) << n;
    EXPECT_EQ(shard, shard_of_runs(runs, n)) << "a pure function of the runs and n";
  }
}

TEST(Shard, MorePartsThanRunsLeavesSomeEmpty) {
  const auto shard = shard_of_runs(runs_with_steps({16, 32}), 4);
  EXPECT_EQ(shard, (std::vector<std::int64_t>{2, 1}));
}

}  // namespace
}  // namespace dmconv::experiment
