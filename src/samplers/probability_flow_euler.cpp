#include "samplers/probability_flow_euler.hpp"

#include <cmath>

namespace dmconv::samplers {

std::optional<LinearScoreStep> ProbabilityFlowEuler::linear_score_step(const StepContext& context) const {
  const double beta = context.grid.beta(context.t);
  const double sqrt_alpha = std::sqrt(1.0 - beta);
  return LinearScoreStep{1.0 / sqrt_alpha, 0.5 * beta / sqrt_alpha};
}

void ProbabilityFlowEuler::step(const StepContext& context, const ScoreModel& score, std::span<const Matrix>,
                                Matrix& x, SamplerState&) const {
  const double beta = context.grid.beta(context.t);
  Matrix s(x.rows(), x.cols());
  score.evaluate(context.grid.level(context.t), x, s);
  x = (x + 0.5 * beta * s) / std::sqrt(1.0 - beta);
}

}  // namespace dmconv::samplers
