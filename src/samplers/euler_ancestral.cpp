#include "samplers/euler_ancestral.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/params.hpp"
#include "samplers/parametrisations.hpp"

namespace dmconv::samplers {

EulerAncestral::EulerAncestral(const Options& options) : options_(options) {
  const std::string component = "sampler 'euler_ancestral'";
  if (!(options.eta >= 0.0 && std::isfinite(options.eta)))
    throw ParameterError(component, "eta", shortest(options.eta), "must be >= 0");
  if (!(options.s_noise > 0.0 && std::isfinite(options.s_noise)))
    throw ParameterError(component, "s_noise", shortest(options.s_noise), "must be > 0");
}

StochasticScoreStep EulerAncestral::coefficients(const StepContext& context) const {
  const NoiseLevel& from = context.grid.level(context.t);
  const NoiseLevel& to = context.grid.level(context.t - 1);
  const double ratio = signal_ratio(from, to);
  // To the data level sigma' = 0: sigma_up = sigma_down = 0, Y_0 = x0hat_t(Y).
  if (to.is_data()) return {0.0, ratio, ratio * from.one_minus_abar(), 0.0};
  const double h = to.lambda() - from.lambda();
  const double shrink = -std::expm1(-2.0 * h);  // 1 - (sigma'/sigma)^2
  const double eta2 = options_.eta * options_.eta;
  const double up2 = std::min(1.0, eta2 * shrink);  // (sigma_up/sigma')^2
  // 1 - sigma_down/sigma = 1 - e^{-h} sqrt(1 - up2); up2 = 1 (eta > 1 clamp) gives sigma_down = 0.
  const double down_gap = up2 >= 1.0 ? 1.0 : -std::expm1(-h + 0.5 * std::log1p(-up2));
  return {0.0, ratio, ratio * from.one_minus_abar() * down_gap,
          options_.s_noise * options_.s_noise * to.one_minus_abar() * up2};
}

int EulerAncestral::noise_injections_at(const StepContext& context) const {
  return options_.eta > 0.0 && !context.grid.level(context.t - 1).is_data() ? 1 : 0;
}

std::optional<LinearScoreStep> EulerAncestral::linear_score_step(const StepContext& context) const {
  if (!is_deterministic()) return std::nullopt;
  const StochasticScoreStep form = coefficients(context);
  return LinearScoreStep{form.state_coefficient, form.score_coefficient};
}

std::optional<StochasticScoreStep> EulerAncestral::stochastic_score_step(const StepContext& context) const {
  if (is_deterministic()) return std::nullopt;
  return coefficients(context);
}

void EulerAncestral::step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise,
                          Matrix& x, SamplerState&) const {
  const StochasticScoreStep form = coefficients(context);
  Matrix s(x.rows(), x.cols());
  score.evaluate(context.grid.level(context.t), x, s);
  x = form.state_coefficient * x + form.score_coefficient * s;
  if (noise_injections_at(context) > 0) x += std::sqrt(form.post_noise_variance) * noise[0];
}

}  // namespace dmconv::samplers
