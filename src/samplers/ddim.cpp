#include "samplers/ddim.hpp"

#include "samplers/parametrisations.hpp"

namespace dmconv::samplers {

std::optional<LinearScoreStep> Ddim::linear_score_step(const StepContext& context) const {
  const NoiseLevel& from = context.grid.level(context.t);
  const NoiseLevel& to = context.grid.level(context.t - 1);
  // eps = -sigma_t s, so  - coefficient * eps = + coefficient * sigma_t * s.
  return LinearScoreStep{signal_ratio(from, to), exponential_noise_coefficient(from, to) * from.sigma()};
}

void Ddim::step(const StepContext& context, const ScoreModel& score, std::span<const Matrix>, Matrix& x,
                SamplerState& state) const {
  const LinearScoreStep form = *linear_score_step(context);
  Matrix& s = state.scratch(0, x.rows(), x.cols());
  score.evaluate(context.grid.level(context.t), x, s);
  x = form.state_coefficient * x + form.score_coefficient * s;
}

}  // namespace dmconv::samplers
