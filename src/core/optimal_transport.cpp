#include "core/optimal_transport.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <lemon/network_simplex.h>
#include <lemon/smart_graph.h>

#include "core/error.hpp"

namespace dmconv {
namespace {

AssignmentResult sorted_matching(const Matrix& x, const Matrix& y) {
  const Eigen::Index n = x.cols();
  std::vector<int> ix(static_cast<std::size_t>(n)), iy(static_cast<std::size_t>(n));
  std::iota(ix.begin(), ix.end(), 0);
  std::iota(iy.begin(), iy.end(), 0);
  // Ties broken by index so that the assignment is deterministic.
  auto by_value = [](const Matrix& m) {
    return [&m](int a, int b) { return m(0, a) < m(0, b) || (m(0, a) == m(0, b) && a < b); };
  };
  std::sort(ix.begin(), ix.end(), by_value(x));
  std::sort(iy.begin(), iy.end(), by_value(y));
  AssignmentResult out;
  out.assignment.assign(static_cast<std::size_t>(n), 0);
  double sum = 0.0;
  for (std::size_t k = 0; k < ix.size(); ++k) {
    out.assignment[static_cast<std::size_t>(ix[k])] = iy[k];
    const double diff = x(0, ix[k]) - y(0, iy[k]);
    sum += diff * diff;
  }
  out.mean_squared_cost = sum / static_cast<double>(n);
  return out;
}

}  // namespace

AssignmentResult exact_w2_squared(const Matrix& x, const Matrix& y) {
  require(x.rows() == y.rows() && x.cols() == y.cols(),
          "exact_w2_squared: samples must have the same shape (got " + std::to_string(x.rows()) + " x " +
              std::to_string(x.cols()) + " and " + std::to_string(y.rows()) + " x " + std::to_string(y.cols()) + ")");
  require(x.cols() >= 1, "exact_w2_squared: need at least one sample");
  require(x.allFinite() && y.allFinite(), "exact_w2_squared: samples must be finite");
  if (x.rows() == 1) return sorted_matching(x, y);

  const int n = static_cast<int>(x.cols());
  // Squared distances |x_i - y_j|^2 = |x_i|^2 + |y_j|^2 - 2 x_i^T y_j would lose relative accuracy
  // for close pairs; the direct form costs the same O(n^2 d) and is exact to rounding.
  Matrix cost(n, n);
  for (int j = 0; j < n; ++j) cost.col(j) = (x.colwise() - y.col(j)).colwise().squaredNorm().transpose();
  const double max_cost = cost.maxCoeff();
  AssignmentResult out;
  out.assignment.assign(static_cast<std::size_t>(n), 0);
  if (max_cost == 0.0) {
    std::iota(out.assignment.begin(), out.assignment.end(), 0);
    return out;
  }
  const double scale = std::ldexp(1.0, 40) / max_cost;
  out.rounding_bound = 1.0 / scale;

  lemon::SmartDigraph graph;
  graph.reserveNode(2 * n);
  graph.reserveArc(n * n);
  std::vector<lemon::SmartDigraph::Node> left, right;
  left.reserve(static_cast<std::size_t>(n));
  right.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) left.push_back(graph.addNode());
  for (int j = 0; j < n; ++j) right.push_back(graph.addNode());
  lemon::SmartDigraph::ArcMap<long long> arc_cost(graph);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      arc_cost[graph.addArc(left[static_cast<std::size_t>(i)], right[static_cast<std::size_t>(j)])] =
          std::llround(scale * cost(i, j));
  lemon::SmartDigraph::NodeMap<int> supply(graph);
  for (int i = 0; i < n; ++i) {
    supply[left[static_cast<std::size_t>(i)]] = 1;
    supply[right[static_cast<std::size_t>(i)]] = -1;
  }
  lemon::NetworkSimplex<lemon::SmartDigraph, int, long long> solver(graph);
  solver.costMap(arc_cost).supplyMap(supply);
  const auto status = solver.run();
  require(status == lemon::NetworkSimplex<lemon::SmartDigraph, int, long long>::OPTIMAL,
          "exact_w2_squared: the network simplex did not reach an optimal assignment");
  // SmartDigraph numbers arcs in creation order: arc i n + j joins x_i to y_j.
  double sum = 0.0;
  std::vector<int> matched(static_cast<std::size_t>(n), 0);
  for (int i = 0; i < n; ++i) {
    int found = -1;
    for (int j = 0; j < n; ++j) {
      if (solver.flow(graph.arcFromId(i * n + j)) > 0) {
        require(found < 0, "exact_w2_squared: the optimal flow is not an assignment");
        found = j;
      }
    }
    require(found >= 0, "exact_w2_squared: the optimal flow is not an assignment");
    out.assignment[static_cast<std::size_t>(i)] = found;
    ++matched[static_cast<std::size_t>(found)];
    sum += cost(i, found);
  }
  require(std::all_of(matched.begin(), matched.end(), [](int m) { return m == 1; }),
          "exact_w2_squared: the optimal flow is not a permutation");
  out.mean_squared_cost = sum / static_cast<double>(n);
  return out;
}

}  // namespace dmconv
