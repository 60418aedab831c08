#include "samplers/dpm_solver_2.hpp"

#include "samplers/parametrisations.hpp"

namespace dmconv::samplers {

void DpmSolver2::step(const StepContext& context, const ScoreModel& score, std::span<const Matrix>, Matrix& x,
                      SamplerState&) const {
  const NoiseLevel& from = context.grid.level(context.t);
  const NoiseLevel& to = context.grid.level(context.t - 1);
  Matrix s(x.rows(), x.cols());
  score.evaluate(from, x, s);
  if (to.is_data()) {
    x = signal_ratio(from, to) * x + (exponential_noise_coefficient(from, to) * from.sigma()) * s;
    return;
  }
  const NoiseLevel middle = NoiseLevel::from_lambda(0.5 * (from.lambda() + to.lambda()));
  // U = sqrt(abar_m/abar_t) Y - sigma_m (e^{h/2} - 1) eps_t,  eps_t = -sigma_t s_t.
  const Matrix u = signal_ratio(from, middle) * x + (exponential_noise_coefficient(from, middle) * from.sigma()) * s;
  score.evaluate(middle, u, s);
  x = signal_ratio(from, to) * x + (exponential_noise_coefficient(from, to) * middle.sigma()) * s;
}

}  // namespace dmconv::samplers
