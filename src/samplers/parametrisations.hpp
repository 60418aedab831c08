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

// x0hat = (x + (1 - abar) s) / sqrt(abar), in place of s.
inline void data_prediction_from_score(const NoiseLevel& level, ConstMatrixRef x, MatrixRef score) {
  score = (x + level.one_minus_abar() * score) / level.sqrt_abar();
}

}  // namespace dmconv::samplers
