// Rate fits in log-log or semi-log coordinates (docs/theory.md §6.4, §7).
//
//   power law     log err = a - p log x + k log log x     (x = T, d, 1/eps, ...)
//   exponential   log err = a - p x                        (x = corrector time T2, DPnP
//                                                           iteration k, ...: err ~ e^{-p x})
//
// The exponential model is the one for geometric convergence (docs/theory.md §7 claims 13, 14: the
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
// Lack of fit (docs/theory.md §6.4): the interval above is only evidence if the model describes
// the data. Each point is granted the error g_i = max(sqrt(SE_i^2 + floor_i^2) / err_i, model_error)
// in log err: its Monte Carlo error and estimator floor, and at least the model-error allowance
// (an asymptotic law describes exact values only up to its higher-order terms; 5% by default).
// Two tests: (1) Pearson's chi^2 = sum_i (residual_i / g_i)^2 against chi^2 on dof degrees of
// freedom, failing when its upper-tail probability is below lack_of_fit_alpha; (2) monotonicity:
// a step between consecutive points that goes against the model's own direction by more than
// lack_of_fit_z combined g is a resolved reversal (non-monotone data where the model has a
// trend). Either sets RateFit::lack_of_fit, and judge() then returns kInconclusive.
//
// Points are excluded, never silently: non-finite or non-positive values, values within
// `floor_factor` of their floor (round-off, quadrature or initialisation floor), values not
// resolved from zero (err < z SE), and x outside the asymptotic window. Every exclusion is
// listed with its reason.
//
// A claim (docs/theory.md §7) is one type, Claim, from the config ([[claim]] tables) through the fit
// (fit_claims consumes claim.fit) to the /fits rows that record it (experiment/rows.hpp). Its
// enums (FitModel, LogPowerMode, ClaimBound, Verdict) spell their names in one table each.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/enum_names.hpp"
#include "core/params.hpp"

namespace dmconv {

// The fitted model (names as in configs and /fits "model"). A new model is one more value here
// and one more entry in the table; fit_rate then decides its design.
enum class FitModel { kPowerLaw, kExponential };
inline constexpr EnumNames<FitModel, 2> kFitModelNames{
    "fit model", {{{FitModel::kPowerLaw, "power"}, {FitModel::kExponential, "exponential"}}}};

// The log-factor power k of the power-law model: absent, fixed or fitted (/fits "log_power_mode").
enum class LogPowerMode { kNone, kFixed, kFree };
inline constexpr EnumNames<LogPowerMode, 3> kLogPowerModeNames{
    "log power mode", {{{LogPowerMode::kNone, "none"}, {LogPowerMode::kFixed, "fixed"}, {LogPowerMode::kFree, "free"}}}};

struct RatePoint {
  double x = 0.0;          // T, d, eps, ...
  double value = 0.0;      // the error
  double std_error = 0.0;  // Monte Carlo SE (0 for exact values)
  double floor = 0.0;      // round-off / discretisation / noise floor of the estimator
};

struct RateFitOptions {
  using Model = FitModel;
  using LogFactor = LogPowerMode;
  Model model = Model::kPowerLaw;
  LogFactor log_factor = LogFactor::kNone;  // kNone with kExponential
  double log_factor_power = 0.0;    // k when kFixed
  std::optional<double> x_min;      // asymptotic window
  std::optional<double> x_max;
  double floor_factor = 10.0;       // exclude err < floor_factor * floor
  double resolution_z = 3.0;        // exclude err < z * SE
  double relative_floor = 1e-3;     // minimum standard error of log err
  double confidence = 0.95;
  double model_error = 0.05;        // relative misfit granted to the model in the lack-of-fit test
  double lack_of_fit_alpha = 1e-3;  // chi^2 goodness-of-fit p-value below which the model is rejected
  double lack_of_fit_z = 4.0;       // a reversal against the model's direction beyond z combined s

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
  double chi2_per_dof = 0.0;      // against the fit weights (the scale applied to the covariance)
  double fit_p_value = 0.0;       // P(chi^2_dof >= chi^2 against the granted errors g_i)
  std::string lack_of_fit;        // empty when the model describes the data; else why not
  std::size_t points_used = 0;
  std::vector<ExcludedPoint> excluded;
  // Slopes d log err / d log x (power law) or d log err / dx (exponential) between
  // consecutive used points (x increasing).
  std::vector<double> local_slopes;
};

RateFit fit_rate(const std::vector<RatePoint>& points, const RateFitOptions& options);
std::string to_string(RateFit::Status status);
std::string to_string(FitModel model);  // kFitModelNames

// A claim about an exponent (docs/theory.md §7): theorems are upper bounds, so a decay-rate claim
// is one-sided (falsified only by a slower decay, p < claimed - tolerance), while an exact
// rate on a particular target is two-sided. `at_most` turns the one-sided claim around
// (falsified only by p > claimed + tolerance): growth claims such as "the DDIM/accelerated
// ratio grows at least like T" (claim 7) bound the decay exponent of the ratio from above.
struct ExponentClaim {
  double claimed = 1.0;
  double tolerance = 0.1;
  bool two_sided = false;
  bool at_most = false;  // one-sided upper limit on p instead of lower (ignored when two_sided)
  bool report_as_slope = true;  // reasons quote the slope -p (rate claims), or p itself (levels)
};

enum class Verdict { kHolds, kViolated, kInconclusive };
inline constexpr EnumNames<Verdict, 3> kVerdictNames{
    "verdict", {{{Verdict::kHolds, "holds"}, {Verdict::kViolated, "violated"}, {Verdict::kInconclusive, "inconclusive"}}}};
std::string to_string(Verdict verdict);

// A verdict and the evidence for it, in words ("interval [-1.04, -0.97] inside the admissible
// range slope <= -0.90", "lack of fit: ...", "interval too wide: ...").
struct Judgement {
  Verdict verdict = Verdict::kInconclusive;
  std::string reason;
};

// With the admissible range [claimed - tolerance, claimed + tolerance] (one-sided: only the
// lower end, or only the upper end when at_most), judged on the whole confidence interval of the
// fitted exponent, never on the point estimate alone (docs/theory.md §6.4):
//   kHolds         the whole interval lies inside the admissible range;
//   kViolated      the whole interval lies outside it (a statistically clear violation);
//   kInconclusive  otherwise (the interval straddles an admissible end: too wide), and whenever
//                  the fit has too few points above the floor or the model does not describe
//                  the data (RateFit::lack_of_fit).
Judgement judge(const RateFit& fit, const ExponentClaim& claim);

// Which side of the claimed slope a theorem bounds. kUpper: the theorem bounds the error from
// above, so the claim is falsified only by a clearly larger slope (slower decay / stronger
// growth): fitted slope <= slope + tolerance; kLower: falsified only by a clearly smaller slope
// (e.g. a ratio that must grow like T); kExact: two-sided.
enum class ClaimBound { kUpper, kLower, kExact };
inline constexpr EnumNames<ClaimBound, 3> kClaimBoundNames{
    "claim bound", {{{ClaimBound::kUpper, "upper"}, {ClaimBound::kLower, "lower"}, {ClaimBound::kExact, "exact"}}}};
std::string to_string(ClaimBound bound);

// A rate claim (docs/theory.md §7) as data: the error of `sampler` (or the ratio sampler / versus),
// for `metric`, fitted against `axis` as  log err = a + slope log x + k log log x  (power law)
// or  log err = a + slope x  (exponential: geometric decay e^{slope x}; no log factor). One fit
// per group of the other swept axes (after `where` filters). Read from [[claim]] tables
// (config/read_claims.cpp), fitted by experiment/claims.cpp, recorded in /fits.
struct Claim {
  std::string name;
  std::string source;
  std::string sampler;
  std::string versus;     // optional: fit the ratio err(sampler) / err(versus)
  std::string metric;
  std::string estimator;  // optional: required only when several estimators give the metric
  std::string axis;       // "T", or a sweep path ("target.dim", ...)
  double slope = 0.0;     // claimed d log err / d log x (or d log err / dx)
  double tolerance = 0.1;
  ClaimBound bound = ClaimBound::kUpper;
  // What fit_rate consumes: model, log factor (free by default for the power law), asymptotic
  // window x_min/x_max, and floor_factor (points within floor_factor x their floor -- round-off,
  // quadrature, oracle sample-noise -- are excluded and listed with the reason).
  RateFitOptions fit = [] {
    RateFitOptions options;
    options.log_factor = LogPowerMode::kFree;
    return options;
  }();
  // Fit err(x) - err(baseline) instead of err(x) (e.g. TV(eps) - TV(0) for claim 2); the
  // baseline point must be in the sweep and is not itself fitted.
  std::optional<double> baseline;
  std::vector<std::pair<std::string, ParamValue>> where;  // sweep path = value filters
};

// The claim on the decay exponent p = -slope that judge(fit, ExponentClaim) checks.
ExponentClaim exponent_claim(const Claim& claim);

}  // namespace dmconv
