#include "samplers/accelerated_ode_score.hpp"

#include <cmath>

namespace dmconv::samplers {

void AcceleratedOdeScore::step(const StepContext& context, const ScoreModel& score, std::span<const Matrix>,
                               Matrix& x, SamplerState& state) const {
  const int t = context.t;
  const double beta = context.grid.beta(t);
  const double sqrt_alpha = std::sqrt(1.0 - beta);
  Matrix s(x.rows(), x.cols());
  score.evaluate(context.grid.level(t), x, s);
  const bool has_previous = state.has_previous() && state.previous_t == t + 1;
  if (has_previous) {
    const double beta_next = context.grid.beta(t + 1);
    const double momentum = beta * beta / (4.0 * beta_next);
    x = (x + 0.5 * beta * s + momentum * (s - std::sqrt(1.0 - beta_next) * state.previous_output)) / sqrt_alpha;
  } else {
    x = (x + 0.5 * beta * s) / sqrt_alpha;
  }
  state.previous_output = std::move(s);
  state.previous_t = t;
}

}  // namespace dmconv::samplers
