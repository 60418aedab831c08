// Conversions between score, noise prediction and data prediction (docs/theory.md §1 table):
//
//   eps_t(x)   = -sigma_t s_t(x)
//   x0hat_t(x) = (x + (1 - abar_t) s_t(x)) / sqrt(abar_t)
//
// and the exponential-integrator coefficient shared by DDIM and DPM-Solver:
//
//   sigma_{t-1} (e^{h} - 1),  h = lambda_{t-1} - lambda_t,
//   which at the data level (lambda_{t-1} = +inf, sigma_{t-1} = 0) is sigma_t / sqrt(abar_t).
#pragma once
#include <cmath>

#include "core/noise_level.hpp"
#include "core/types.hpp"

namespace dmconv::samplers {

// sigma_to (e^{lambda_to - lambda_from} - 1) for a step from `from` to the less noisy `to`.
inline double exponential_noise_coefficient(const NoiseLevel& from, const NoiseLevel& to) {
  if (to.is_data()) return from.sigma() / from.sqrt_abar();
  return to.sigma() * std::expm1(to.lambda() - from.lambda());
}

// sqrt(abar_to / abar_from), from the logs so that tiny abar values keep their precision.
inline double signal_ratio(const NoiseLevel& from, const NoiseLevel& to) {
  return std::exp(0.5 * (to.log_abar() - from.log_abar()));
}

// The exponential-integrator functions phi_1(z) = (e^z - 1)/z, phi_{n+1}(z) = (phi_n(z) - 1/n!)/z,
// i.e. phi_n(z) = sum_{m >= 0} z^m/(m + n)!: the series for |z| < 1, the recursion otherwise (its
// cancellation is ~ eps/|z|^n, harmless there). Used by UniPC's B(h) weights and DPM-Solver++(2M) SDE's
// heun weight 1 - phi_1(-z) = z phi_2(-z).
inline double phi_function(int n, double z) {
  double factorial = 1.0;
  for (int k = 2; k <= n; ++k) factorial *= k;
  if (std::fabs(z) < 1.0) {
    double term = 1.0 / factorial, sum = 0.0;
    for (int m = 0; m < 40 && std::fabs(term) > 1e-18 * std::fabs(sum); ++m) {
      sum += term;
      term *= z / (m + n + 1);
    }
    return sum;
  }
  double value = std::expm1(z) / z, inverse_factorial = 1.0;
  for (int k = 1; k < n; ++k) {
    value = (value - inverse_factorial) / z;
    inverse_factorial /= (k + 1);
  }
  return value;
}

// x0hat = (x + (1 - abar) s) / sqrt(abar), in place of s.
inline void data_prediction_from_score(const NoiseLevel& level, ConstMatrixRef x, MatrixRef score) {
  score = (x + level.one_minus_abar() * score) / level.sqrt_abar();
}

}  // namespace dmconv::samplers
