// Rate fits in log-log or semi-log coordinates (THEORY.md §6.4, §7).
//
//   power law     log err = a - p log x + k log log x     (x = T, d, 1/eps, ...)
//   exponential   log err = a - p x                        (x = corrector time T2, DPnP
//                                                           iteration k, ...: err ~ e^{-p x})
//
// The exponential model is the one for geometric convergence (THEORY §7 claims 13, 14: the
// Langevin corrector contracts like e^{-lambda T2}; claim 16: DPnP's log-error is linear in k);
// it has no log factor. In both models the fitted "slope" is the derivative of log err in the
// model's coordinate (d log err / d log x, or d log err / dx), i.e. -p.
//
// Weighted least squares with weights 1/s_i^2, s_i = max(SE_i / err_i, relative_floor)
// (the delta-method standard error of log err_i, floored so exact values do not get infinite
// weight). The weights fix the relative precision of the points; the overall error scale is
// estimated from the residuals (chi^2/dof), so scatter beyond the stated errors (model error,
// higher-order terms) widens the interval; the interval uses Student's t on
// dof = points - parameters.
// The log-factor power k is either free, fixed (e.g. k = 0: plain power law) or absent.
//
// Points are excluded, never silently: non-finite or non-positive values, values within
// `floor_factor` of their floor (round-off, quadrature or initialisation floor), values not
// resolved from zero (err < z SE), and x outside the asymptotic window. Every exclusion is
// listed with its reason.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace dmconv {

struct RatePoint {
  double x = 0.0;          // T, d, eps, ...
  double value = 0.0;      // the error
  double std_error = 0.0;  // Monte Carlo SE (0 for exact values)
  double floor = 0.0;      // round-off / discretisation / noise floor of the estimator
};

struct RateFitOptions {
  enum class Model { kPowerLaw, kExponential };
  Model model = Model::kPowerLaw;
  enum class LogFactor { kNone, kFixed, kFree };  // kNone with kExponential
  LogFactor log_factor = LogFactor::kNone;
  double log_factor_power = 0.0;    // k when kFixed
  std::optional<double> x_min;      // asymptotic window
  std::optional<double> x_max;
  double floor_factor = 10.0;       // exclude err < floor_factor * floor
  double resolution_z = 3.0;        // exclude err < z * SE
  double relative_floor = 1e-3;     // minimum standard error of log err
  double confidence = 0.95;

  // Throws InvalidArgument naming the violated constraint.
  void validate() const;
};

struct ExcludedPoint {
  std::size_t index;
  std::string reason;
};

struct RateFit {
  enum class Status { kOk, kTooFewPoints };
  Status status = Status::kTooFewPoints;
  std::string message;
  double exponent = 0.0;         // p: err ~ x^{-p} (log x)^k (power law), err ~ e^{-p x} (exponential)
  double exponent_se = 0.0;
  double exponent_low = 0.0;     // confidence interval for p
  double exponent_high = 0.0;
  double log_factor_power = 0.0; // k (fitted when free)
  double log_factor_se = 0.0;
  double intercept = 0.0;        // a
  double chi2_per_dof = 0.0;
  std::size_t points_used = 0;
  std::vector<ExcludedPoint> excluded;
  // Slopes d log err / d log x (power law) or d log err / dx (exponential) between
  // consecutive used points (x increasing).
  std::vector<double> local_slopes;
};

RateFit fit_rate(const std::vector<RatePoint>& points, const RateFitOptions& options);
std::string to_string(RateFit::Status status);
std::string to_string(RateFitOptions::Model model);  // "power", "exponential"

// A claim about an exponent (THEORY.md §7): theorems are upper bounds, so a decay-rate claim
// is one-sided (falsified only by a slower decay, p < claimed - tolerance), while an exact
// rate on a particular target is two-sided. `at_most` turns the one-sided claim around
// (falsified only by p > claimed + tolerance): growth claims such as "the DDIM/accelerated
// ratio grows at least like T" (claim 7) bound the decay exponent of the ratio from above.
struct ExponentClaim {
  double claimed = 1.0;
  double tolerance = 0.1;
  bool two_sided = false;
  bool at_most = false;  // one-sided upper limit on p instead of lower (ignored when two_sided)
};

enum class Verdict { kHolds, kViolated, kInconclusive };
std::string to_string(Verdict verdict);

// With the admissible range [claimed - tolerance, claimed + tolerance] (one-sided: only the
// lower end, or only the upper end when at_most): kHolds when the fitted exponent lies in it; kViolated when the whole confidence
// interval lies outside it (a statistically clear violation); kInconclusive otherwise, and
// when the fit has too few points.
Verdict judge(const RateFit& fit, const ExponentClaim& claim);

}  // namespace dmconv
