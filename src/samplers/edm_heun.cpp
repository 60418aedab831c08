#include "samplers/edm_heun.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/params.hpp"

namespace dmconv::samplers {

EdmHeun::EdmHeun(const Options& options) : options_(options) {
  const std::string component = "sampler 'edm_heun'";
  if (!(options.s_churn >= 0.0 && std::isfinite(options.s_churn)))
    throw ParameterError(component, "s_churn", shortest(options.s_churn), "must be >= 0");
  if (!(options.s_tmin >= 0.0)) throw ParameterError(component, "s_tmin", shortest(options.s_tmin), "must be >= 0");
  if (!(options.s_tmax >= options.s_tmin))
    throw ParameterError(component, "s_tmax", shortest(options.s_tmax),
                         "must be >= s_tmin = " + shortest(options.s_tmin));
  if (!(options.s_noise > 0.0 && std::isfinite(options.s_noise)))
    throw ParameterError(component, "s_noise", shortest(options.s_noise), "must be > 0");
}

double EdmHeun::churn(const StepContext& context) const {
  if (options_.s_churn == 0.0) return 0.0;
  const double sigma = context.grid.level(context.t).ve_sigma();
  if (sigma < options_.s_tmin || sigma > options_.s_tmax) return 0.0;
  return std::min(options_.s_churn / context.total_steps, std::sqrt(2.0) - 1.0);
}

int EdmHeun::score_evaluations_at(const StepContext& context) const {
  return context.grid.level(context.t - 1).is_data() ? 1 : 2;
}

void EdmHeun::step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
                   SamplerState&) const {
  const NoiseLevel& from = context.grid.level(context.t);
  const NoiseLevel& to = context.grid.level(context.t - 1);
  const double gamma = churn(context);
  const double sigma = from.ve_sigma();
  const double sigma_hat = (1.0 + gamma) * sigma;
  // The churned level keeps EDM's sigma^; abar^ and 1 - abar^ are formed without cancellation.
  const double sigma_hat2 = sigma_hat * sigma_hat;
  const NoiseLevel hat = gamma > 0.0 ? NoiseLevel(1.0 / (1.0 + sigma_hat2), sigma_hat2 / (1.0 + sigma_hat2)) : from;

  // x holds the VE state x^ from here on.
  x /= from.sqrt_abar();
  if (gamma > 0.0) x += (sigma * std::sqrt(gamma * (2.0 + gamma)) * options_.s_noise) * noise[0];

  Matrix probe = hat.sqrt_abar() * x;
  Matrix slope(x.rows(), x.cols());
  score.evaluate(hat, probe, slope);
  slope *= -hat.sigma();  // d = eps_hat = -sqrt(1 - abar^) s
  const double dt = to.ve_sigma() - sigma_hat;
  if (to.is_data()) {
    x += dt * slope;
    return;
  }
  probe = to.sqrt_abar() * (x + dt * slope);
  Matrix second(x.rows(), x.cols());
  score.evaluate(to, probe, second);
  x = to.sqrt_abar() * (x + (0.5 * dt) * (slope - to.sigma() * second));
}

}  // namespace dmconv::samplers
