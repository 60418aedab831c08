#include "samplers/accelerated_sde.hpp"

#include <cmath>

namespace dmconv::samplers {

std::string AcceleratedSde::name() const {
  switch (variant_) {
    case Variant::kA:
      return "acc_sde_a";
    case Variant::kB:
      return "acc_sde_b";
    case Variant::kC:
      return "acc_sde_c";
  }
  return "acc_sde";
}

std::optional<StochasticScoreStep> AcceleratedSde::stochastic_score_step(const StepContext& context) const {
  const int t = context.t;
  const double beta = context.grid.beta(t);
  const double alpha = 1.0 - beta;
  const double sqrt_alpha = std::sqrt(alpha);
  const double pre = variant_ == Variant::kC ? 0.5 * alpha * beta : 0.5 * beta;
  const double post = variant_ == Variant::kA   ? 0.5 * beta / alpha
                      : variant_ == Variant::kB ? 0.5 * beta
                      : (t > 1 ? 0.5 * beta : 0.0);
  return StochasticScoreStep{pre, 1.0 / sqrt_alpha, beta / sqrt_alpha, post};
}

void AcceleratedSde::step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise,
                          Matrix& x, SamplerState&) const {
  const int t = context.t;
  const double beta = context.grid.beta(t);
  const double alpha = 1.0 - beta;
  const double sqrt_alpha = std::sqrt(alpha);
  const double half_noise = std::sqrt(0.5 * beta);
  const double first_noise = variant_ == Variant::kC ? std::sqrt(0.5 * alpha * beta) : half_noise;
  x += first_noise * noise[0];  // Y+
  Matrix s(x.rows(), x.cols());
  score.evaluate(context.grid.level(t), x, s);
  if (variant_ == Variant::kA) {
    x = (x + beta * s + half_noise * noise[1]) / sqrt_alpha;
  } else {
    x = (x + beta * s) / sqrt_alpha;
    if (variant_ == Variant::kB || t > 1) x += half_noise * noise[1];
  }
}

}  // namespace dmconv::samplers
