#include "samplers/dpm_solver_pp_2m_sde.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/params.hpp"
#include "samplers/parametrisations.hpp"

namespace dmconv::samplers {
DpmSolverPlusPlus2MSde::DpmSolverPlusPlus2MSde(const Options& options)
    : options_(options), heun_(options.solver_type == "heun") {
  const std::string component = "sampler 'dpm_solver_pp_2m_sde'";
  if (!(options.eta >= 0.0 && std::isfinite(options.eta)))
    throw ParameterError(component, "eta", shortest(options.eta), "must be >= 0 and finite");
  if (!(options.s_noise > 0.0 && std::isfinite(options.s_noise)))
    throw ParameterError(component, "s_noise", shortest(options.s_noise), "must be > 0 and finite");
  if (options.solver_type != "midpoint" && options.solver_type != "heun")
    throw ParameterError(component, "solver_type", options.solver_type, "must be one of midpoint, heun");
}

int DpmSolverPlusPlus2MSde::noise_injections_at(const StepContext& context) const {
  return options_.eta > 0.0 && !context.grid.level(context.t - 1).is_data() ? 1 : 0;
}

void DpmSolverPlusPlus2MSde::step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise,
                                  Matrix& x, SamplerState& state) const {
  const int t = context.t;
  const NoiseLevel& from = context.grid.level(t);
  const NoiseLevel& to = context.grid.level(t - 1);
  Matrix x0hat(x.rows(), x.cols());
  score.evaluate(from, x, x0hat);
  data_prediction_from_score(from, x, x0hat);
  if (to.is_data()) {
    x = x0hat;
  } else {
    const double h = to.lambda() - from.lambda();
    const double eta_h = options_.eta * h;
    const double e = -std::expm1(-h - eta_h);  // 1 - e^{-(1 + eta) h}
    const double alpha_to = to.sqrt_abar();
    x = (to.sigma() / from.sigma()) * std::exp(-eta_h) * x + (alpha_to * e) * x0hat;
    if (state.has_previous() && state.previous_t == t + 1) {
      const double r = (from.lambda() - context.grid.level(t + 1).lambda()) / h;
      // heun: 1 - (1 - e^{-z})/z = z phi_2(-z) with z = (1 + eta) h; midpoint: (1 - e^{-z})/2.
      const double weight = heun_ ? (h + eta_h) * phi_function(2, -(h + eta_h)) : 0.5 * e;
      x += (alpha_to * weight / r) * (x0hat - state.previous_output);
    }
    if (noise_injections_at(context) > 0)
      x += (options_.s_noise * to.sigma() * std::sqrt(-std::expm1(-2.0 * eta_h))) * noise[0];
  }
  state.previous_output = std::move(x0hat);
  state.previous_t = t;
}

}  // namespace dmconv::samplers
