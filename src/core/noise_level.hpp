// A noise level of the VP forward process (docs/theory.md §1):
//
//   X_t = sqrt(abar) X_0 + sqrt(1 - abar) W,     W ~ N(0, I).
//
// abar and 1 - abar are stored separately, each to full relative precision: near the data
// end 1 - abar can be ~1e-8 and must never be formed as `1 - abar`; near the noise end
// abar can be ~1e-15. Every other quantity (sigma, half-log-SNR lambda, OU time tau) is
// derived from the pair without cancellation.
#pragma once
#include <cmath>
#include <string>

namespace dmconv {

class NoiseLevel {
 public:
  // Precondition: abar in [0, 1], one_minus_abar in [0, 1], and they sum to 1 within rounding.
  // The caller is responsible for computing each accurately (see the named constructors).
  constexpr NoiseLevel(double abar, double one_minus_abar)
      : abar_(abar), one_minus_abar_(one_minus_abar) {}

  // The data level, abar = 1.
  static constexpr NoiseLevel data() { return NoiseLevel(1.0, 0.0); }
  // From abar alone; accurate for 1 - abar only when abar is not close to 1.
  static NoiseLevel from_abar(double abar) { return NoiseLevel(abar, 1.0 - abar); }
  // From 1 - abar alone; accurate for abar only when 1 - abar is not close to 1.
  static NoiseLevel from_one_minus_abar(double one_minus_abar) {
    return NoiseLevel(1.0 - one_minus_abar, one_minus_abar);
  }
  // From log(abar) <= 0: abar = exp(l), 1 - abar = -expm1(l). Accurate at both ends.
  static NoiseLevel from_log_abar(double log_abar) {
    return NoiseLevel(std::exp(log_abar), -std::expm1(log_abar));
  }
  // From the half-log-SNR lambda = (1/2) ln(abar / (1 - abar)):
  //   abar = 1 / (1 + e^{-2 lambda}),  1 - abar = 1 / (1 + e^{2 lambda}).
  static NoiseLevel from_lambda(double lambda) {
    return NoiseLevel(1.0 / (1.0 + std::exp(-2.0 * lambda)), 1.0 / (1.0 + std::exp(2.0 * lambda)));
  }
  // From Ornstein-Uhlenbeck time tau >= 0 (dX = -X dtau + sqrt(2) dB): abar = e^{-2 tau}.
  static NoiseLevel from_ou_time(double tau) { return from_log_abar(-2.0 * tau); }

  constexpr double abar() const { return abar_; }
  constexpr double one_minus_abar() const { return one_minus_abar_; }
  double sqrt_abar() const { return std::sqrt(abar_); }
  // sigma_t = sqrt(1 - abar_t), the VP noise scale.
  double sigma() const { return std::sqrt(one_minus_abar_); }
  double log_abar() const {
    return abar_ > 0.5 ? std::log1p(-one_minus_abar_) : std::log(abar_);
  }
  double log_one_minus_abar() const {
    return one_minus_abar_ > 0.5 ? std::log1p(-abar_) : std::log(one_minus_abar_);
  }
  // Half-log-SNR lambda = log(sqrt(abar)/sigma) (DPM-Solver notation, docs/theory.md §1).
  double lambda() const { return 0.5 * (log_abar() - log_one_minus_abar()); }
  // OU time tau = -(1/2) ln abar.
  double ou_time() const { return -0.5 * log_abar(); }
  // VE noise scale sigma_VE^2 = (1 - abar)/abar (DPnP view).
  double ve_sigma() const { return std::sqrt(one_minus_abar_ / abar_); }

  bool is_data() const { return one_minus_abar_ == 0.0; }

  std::string describe() const;

 private:
  double abar_;
  double one_minus_abar_;
};

}  // namespace dmconv
