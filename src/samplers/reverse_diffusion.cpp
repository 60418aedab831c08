#include "samplers/reverse_diffusion.hpp"

#include <cmath>

namespace dmconv::samplers {

std::optional<StochasticScoreStep> ReverseDiffusion::stochastic_score_step(const StepContext& context) const {
  const int t = context.t;
  const double beta = context.grid.beta(t);
  return StochasticScoreStep{0.0, 2.0 - std::sqrt(1.0 - beta), beta, t > 1 ? beta : 0.0};
}

void ReverseDiffusion::step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise,
                            Matrix& x, SamplerState&) const {
  const int t = context.t;
  const double beta = context.grid.beta(t);
  Matrix s(x.rows(), x.cols());
  score.evaluate(context.grid.level(t), x, s);
  x = (2.0 - std::sqrt(1.0 - beta)) * x + beta * s;
  if (t > 1) x += std::sqrt(beta) * noise[0];
}

}  // namespace dmconv::samplers
