#include "samplers/ddim.hpp"

#include "samplers/parametrisations.hpp"

namespace dmconv::samplers {

void Ddim::step(const StepContext& context, const ScoreModel& score, std::span<const Matrix>, Matrix& x,
                SamplerState&) const {
  const NoiseLevel& from = context.grid.level(context.t);
  const NoiseLevel& to = context.grid.level(context.t - 1);
  Matrix s(x.rows(), x.cols());
  score.evaluate(from, x, s);
  // eps = -sigma_t s, so  - coefficient * eps = + coefficient * sigma_t * s.
  x = signal_ratio(from, to) * x + (exponential_noise_coefficient(from, to) * from.sigma()) * s;
}

}  // namespace dmconv::samplers
