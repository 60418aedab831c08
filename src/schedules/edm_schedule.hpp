// The EDM noise levels of Karras, Aittala, Aila & Laine, "Elucidating the Design Space of
// Diffusion-Based Generative Models", NeurIPS 2022, arXiv 2206.00364, eq. (5):
//
//   sigma_i = ( sigma_max^(1/rho) + i/(N-1) (sigma_min^(1/rho) - sigma_max^(1/rho)) )^rho,   i = 0..N-1,
//
// with the paper's defaults sigma_max = 80, sigma_min = 0.002, rho = 7 (its Table 1). sigma is
// the variance-exploding scale; the VP level with the same signal-to-noise ratio is
// (docs/theory.md §1: sigma_VE^2 = (1 - abar)/abar)
//
//   abar = 1 / (1 + sigma^2),   1 - abar = sigma^2 / (1 + sigma^2),
//
// each formed by one division, never as 1 - abar (no cancellation near the data end, where
// 1 - abar ~ sigma_min^2 = 4e-6). Grid level t = 1..T is sigma_{T-t} with N = T: t = 1 is
// sigma_min and t = T is sigma_max, both set exactly (the power of a root rounds them).
// EDM's final sigma_N = 0 is the data level, which the grid prepends as level 0.
//
// Preconditions: 0 < sigma_min < sigma_max (both in [1e-150, 1e150], so sigma^2 neither
// underflows nor overflows), rho > 0, T >= 2.
#pragma once
#include <cmath>
#include <memory>
#include <sstream>
#include <vector>

#include "core/error.hpp"
#include "core/params.hpp"
#include "core/schedule.hpp"

namespace dmconv {

class EdmSchedule final : public Schedule {
 public:
  EdmSchedule(double sigma_min, double sigma_max, double rho)
      : sigma_min_(sigma_min), sigma_max_(sigma_max), rho_(rho) {
    const std::string component = "schedule 'edm'";
    if (!(sigma_max >= 1e-150 && sigma_max <= 1e150))
      throw ParameterError(component, "sigma_max", shortest(sigma_max), "must lie in [1e-150, 1e150]");
    if (!(sigma_min >= 1e-150 && sigma_min < sigma_max))
      throw ParameterError(component, "sigma_min", shortest(sigma_min),
                           "must be >= 1e-150 and < sigma_max = " + shortest(sigma_max));
    if (!(std::isfinite(rho) && rho > 0.0)) throw ParameterError(component, "rho", shortest(rho), "must be positive");
  }

  static ParamDeclaration params() {
    return {ParamSpec::number("sigma_min", "smallest noise scale (grid level 1; < sigma_max)")
                .defaults(0.002)
                .at_least(1e-150)
                .at_most(1e150),
            ParamSpec::number("sigma_max", "largest noise scale (grid level T)").defaults(80.0).at_least(1e-150).at_most(1e150),
            ParamSpec::number("rho", "exponent of the interpolation of sigma^(1/rho)").defaults(7.0).above(0.0)};
  }
  static std::unique_ptr<Schedule> make(const DeclaredParams& p) {
    return std::make_unique<EdmSchedule>(p.number("sigma_min"), p.number("sigma_max"), p.number("rho"));
  }
  static Registry<Schedule>::Entry registry_entry() {
    return {"edm", "Karras et al. (EDM) levels sigma_i = (sigma_max^(1/rho) + i/(N-1) (sigma_min^(1/rho) - "
            "sigma_max^(1/rho)))^rho, mapped to abar = 1/(1 + sigma^2)",
            "arXiv 2206.00364 eq. (5), Table 1 defaults", params(), make, {}};
  }

  std::string name() const override { return "edm"; }
  std::string describe() const override {
    std::ostringstream out;
    out << "sigma_min=" << sigma_min_ << ", sigma_max=" << sigma_max_ << ", rho=" << rho_;
    return out.str();
  }
  TimeGrid grid(int steps) const override {
    require(steps >= 2, "edm schedule: T = " + std::to_string(steps) + " must be >= 2");
    const double root_max = std::pow(sigma_max_, 1.0 / rho_), root_min = std::pow(sigma_min_, 1.0 / rho_);
    std::vector<NoiseLevel> levels;
    for (int t = 1; t <= steps; ++t) {
      const int i = steps - t;  // EDM index: i = 0 is sigma_max
      const double sigma = t == 1       ? sigma_min_
                           : t == steps ? sigma_max_
                                        : std::pow(root_max + i / (steps - 1.0) * (root_min - root_max), rho_);
      const double s2 = sigma * sigma, denominator = 1.0 + s2;
      levels.emplace_back(1.0 / denominator, s2 / denominator);
    }
    return TimeGrid::from_levels(levels, "edm(" + describe() + ")");
  }

 private:
  double sigma_min_, sigma_max_, rho_;
};

}  // namespace dmconv
