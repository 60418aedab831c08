#include "samplers/ddpm.hpp"

#include <cmath>

namespace dmconv::samplers {

std::optional<StochasticScoreStep> Ddpm::stochastic_score_step(const StepContext& context) const {
  const int t = context.t;
  const double beta = context.grid.beta(t);
  const double alpha = 1.0 - beta;
  const double sqrt_alpha = std::sqrt(alpha);
  const double post = variant_ == Variant::kNoiseInside ? beta / alpha : (t > 1 ? beta : 0.0);
  return StochasticScoreStep{0.0, 1.0 / sqrt_alpha, beta / sqrt_alpha, post};
}

void Ddpm::step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
                SamplerState& state) const {
  const int t = context.t;
  const double beta = context.grid.beta(t);
  const double sqrt_alpha = std::sqrt(1.0 - beta);
  Matrix& s = state.scratch(0, x.rows(), x.cols());
  score.evaluate(context.grid.level(t), x, s);
  if (variant_ == Variant::kNoiseInside) {
    x = (x + beta * s + std::sqrt(beta) * noise[0]) / sqrt_alpha;
  } else {
    x = (x + beta * s) / sqrt_alpha;
    if (t > 1) x += std::sqrt(beta) * noise[0];
  }
}

}  // namespace dmconv::samplers
