// Parsing of --shard and the assignment of runs to shards (shard.hpp).
#include "experiment/shard.hpp"

#include <algorithm>
#include <charconv>
#include <numeric>
#include <queue>
#include <utility>

#include "core/error.hpp"

namespace dmconv::experiment {
namespace {

// A decimal integer with no sign, spaces or other characters (std::stoll would accept " 2" and "2x").
bool parse_count(const std::string& text, std::int64_t& value) {
  if (text.empty() || text.size() > 18 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

Shard parse_shard(const std::string& text) {
  const std::string quoted = "--shard = '" + text + "': ";
  const std::size_t slash = text.find('/');
  Shard shard;
  if (slash == std::string::npos || !parse_count(text.substr(0, slash), shard.index) ||
      !parse_count(text.substr(slash + 1), shard.count))
    throw InvalidArgument(quoted + "must be i/n, two decimal integers with 1 <= i <= n (e.g. --shard 2/8)");
  if (shard.count < 1 || shard.count > kMaxShards)
    throw InvalidArgument(quoted + "the shard count n = " + std::to_string(shard.count) + " must lie in [1, " +
                          std::to_string(kMaxShards) + "]");
  if (shard.index < 1 || shard.index > shard.count)
    throw InvalidArgument(quoted + "the shard index i = " + std::to_string(shard.index) + " must lie in [1, n] = [1, " +
                          std::to_string(shard.count) + "] (shards are numbered from 1)");
  return shard;
}

double estimated_cost(const config::RunSpec& run) {
  return static_cast<double>(run.steps) * static_cast<double>(std::max<Eigen::Index>(run.particles, 1));
}

std::vector<std::size_t> runs_by_decreasing_cost(const std::vector<config::RunSpec>& runs) {
  std::vector<std::size_t> order(runs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::vector<double> cost(runs.size());
  for (std::size_t r = 0; r < runs.size(); ++r) cost[r] = estimated_cost(runs[r]);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return cost[a] > cost[b]; });
  return order;
}

std::vector<std::int64_t> shard_of_runs(const std::vector<config::RunSpec>& runs, std::int64_t count) {
  // (load, shard) with the smallest first; the shard number breaks ties, so equal loads fill in order.
  using Load = std::pair<double, std::int64_t>;
  std::priority_queue<Load, std::vector<Load>, std::greater<>> loads;
  for (std::int64_t s = 1; s <= std::min<std::int64_t>(count, static_cast<std::int64_t>(runs.size())); ++s)
    loads.emplace(0.0, s);
  std::vector<std::int64_t> shard(runs.size(), 0);
  for (std::size_t r : runs_by_decreasing_cost(runs)) {
    auto [load, s] = loads.top();
    loads.pop();
    shard[r] = s;
    loads.emplace(load + estimated_cost(runs[r]), s);
  }
  return shard;
}

}  // namespace dmconv::experiment
