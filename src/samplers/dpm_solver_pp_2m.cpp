#include "samplers/dpm_solver_pp_2m.hpp"

#include <cmath>

#include "samplers/parametrisations.hpp"

namespace dmconv::samplers {

void DpmSolverPlusPlus2M::step(const StepContext& context, const ScoreModel& score, std::span<const Matrix>,
                               Matrix& x, SamplerState& state) const {
  const int t = context.t;
  const NoiseLevel& from = context.grid.level(t);
  const NoiseLevel& to = context.grid.level(t - 1);
  Matrix x0hat(x.rows(), x.cols());
  score.evaluate(from, x, x0hat);
  data_prediction_from_score(from, x, x0hat);
  const bool lower_order_final = context.final_step && context.total_steps < 10;
  const bool second_order =
      state.has_previous() && state.previous_t == t + 1 && !lower_order_final && !to.is_data();
  if (to.is_data()) {
    x = x0hat;
  } else {
    const double h = to.lambda() - from.lambda();
    const double coefficient = -std::sqrt(to.abar()) * std::expm1(-h);
    if (second_order) {
      const double r = (from.lambda() - context.grid.level(t + 1).lambda()) / h;
      x = (to.sigma() / from.sigma()) * x +
          coefficient * (x0hat + (0.5 / r) * (x0hat - state.previous_output));
    } else {
      x = (to.sigma() / from.sigma()) * x + coefficient * x0hat;
    }
  }
  state.previous_output = std::move(x0hat);
  state.previous_t = t;
}

}  // namespace dmconv::samplers
