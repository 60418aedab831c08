#include "samplers/accelerated_ode_noise.hpp"

#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <cmath>

#include "samplers/parametrisations.hpp"

namespace dmconv::samplers {
namespace {

// u = sqrt((1-abar)/abar) = e^{-lambda}; 0 at the data level.
double noise_to_signal(const NoiseLevel& level) {
  return level.is_data() ? 0.0 : std::sqrt(level.one_minus_abar() / level.abar());
}

}  // namespace

double AcceleratedOdeNoise::momentum_coefficient(const TimeGrid& grid, int t) {
  const NoiseLevel& current = grid.level(t);
  const double u_current = noise_to_signal(current);
  const double u_less_noisy = noise_to_signal(grid.level(t - 1));
  const double scale = 1.0 / (1.0 + u_current * u_current);
  const auto integrand = [&](double u) { return (u_current - u) * (u_current + u) * scale / (1.0 + u * u); };
  const double bracket =
      boost::math::quadrature::gauss_kronrod<double, 61>::integrate(integrand, u_less_noisy, u_current, 6, 1e-14);
  return std::sqrt(grid.abar(t - 1)) * bracket / (current.abar() * grid.beta(t + 1));
}

void AcceleratedOdeNoise::step(const StepContext& context, const ScoreModel& score, std::span<const Matrix>,
                               Matrix& x, SamplerState& state) const {
  const int t = context.t;
  const NoiseLevel& from = context.grid.level(t);
  const NoiseLevel& to = context.grid.level(t - 1);
  Matrix eps(x.rows(), x.cols());
  score.evaluate(from, x, eps);
  eps *= -from.sigma();
  const bool has_previous = state.has_previous() && state.previous_t == t + 1;
  x = signal_ratio(from, to) * x - exponential_noise_coefficient(from, to) * eps;
  if (has_previous) x += momentum_coefficient(context.grid, t) * (state.previous_output - eps);
  state.previous_output = std::move(eps);
  state.previous_t = t;
}

}  // namespace dmconv::samplers
