#include "samplers/ipndm.hpp"

#include <algorithm>
#include <array>

#include "core/error.hpp"
#include "samplers/parametrisations.hpp"

namespace dmconv::samplers {
namespace {

// Adams-Bashforth weights of eps_t, eps_{t+1}, ... for equal steps, by order.
constexpr std::array<std::array<double, Ipndm::kMaxOrder>, Ipndm::kMaxOrder> kWeights{{
    {1.0, 0.0, 0.0, 0.0},
    {3.0 / 2.0, -1.0 / 2.0, 0.0, 0.0},
    {23.0 / 12.0, -16.0 / 12.0, 5.0 / 12.0, 0.0},
    {55.0 / 24.0, -59.0 / 24.0, 37.0 / 24.0, -9.0 / 24.0},
}};

}  // namespace

Ipndm::Ipndm(int max_order) : max_order_(max_order) {
  if (max_order < 1 || max_order > kMaxOrder)
    throw ParameterError("sampler 'ipndm'", "max_order", std::to_string(max_order),
                         "must lie in [1, " + std::to_string(kMaxOrder) + "]");
}

void Ipndm::step(const StepContext& context, const ScoreModel& score, std::span<const Matrix>, Matrix& x,
                 SamplerState& state) const {
  const int t = context.t;
  const NoiseLevel& from = context.grid.level(t);
  const NoiseLevel& to = context.grid.level(t - 1);
  const Eigen::Index n = x.cols();
  Matrix eps(x.rows(), n);
  score.evaluate(from, x, eps);
  eps *= -from.sigma();

  // The cache counts only if it is the previous step's (docs/theory.md §9.3).
  const bool cache_valid = state.previous_t == t + 1 && state.previous_output.rows() == x.rows() && n > 0 &&
                           state.previous_output.cols() % n == 0;
  const int cached = cache_valid ? static_cast<int>(state.previous_output.cols() / n) : 0;
  const int order = std::min(max_order_, cached + 1);
  const auto& w = kWeights[static_cast<std::size_t>(order - 1)];
  Matrix combined = w[0] * eps;
  for (int j = 1; j < order; ++j) combined += w[static_cast<std::size_t>(j)] * state.previous_output.middleCols((j - 1) * n, n);
  x = signal_ratio(from, to) * x - exponential_noise_coefficient(from, to) * combined;

  // Newest first; the cache keeps at most the kMaxOrder - 1 outputs a later step can use.
  const int kept = std::min(cached + 1, kMaxOrder - 1);
  if (!cache_valid || state.previous_output.cols() != kept * n) state.previous_output.conservativeResize(x.rows(), kept * n);
  for (int j = kept - 1; j >= 1; --j) state.previous_output.middleCols(j * n, n) = state.previous_output.middleCols((j - 1) * n, n);
  state.previous_output.leftCols(n) = eps;
  state.previous_t = t;
}

}  // namespace dmconv::samplers
