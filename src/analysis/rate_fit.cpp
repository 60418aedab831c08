#include "analysis/rate_fit.hpp"

#include <Eigen/Dense>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <algorithm>
#include <cstdio>
#include <cmath>
#include <numeric>
#include <sstream>

#include "core/error.hpp"

namespace dmconv {

void RateFitOptions::validate() const {
  std::ostringstream message;
  if (!(floor_factor >= 0.0)) {
    message << "rate fit: floor_factor = " << floor_factor << " must be >= 0";
  } else if (!(resolution_z >= 0.0)) {
    message << "rate fit: resolution_z = " << resolution_z << " must be >= 0";
  } else if (!(relative_floor > 0.0)) {
    message << "rate fit: relative_floor = " << relative_floor << " must be > 0";
  } else if (!(confidence > 0.0 && confidence < 1.0)) {
    message << "rate fit: confidence = " << confidence << " must lie in (0, 1)";
  } else if (model == Model::kExponential && log_factor != LogFactor::kNone) {
    message << "rate fit: the exponential model has no log factor (log_factor must be none)";
  } else if (!(lack_of_fit_alpha >= 0.0 && lack_of_fit_alpha < 1.0)) {
    message << "rate fit: lack_of_fit_alpha = " << lack_of_fit_alpha << " must lie in [0, 1)";
  } else if (!(model_error >= 0.0 && model_error < 1.0)) {
    message << "rate fit: model_error = " << model_error << " must lie in [0, 1)";
  } else if (!(lack_of_fit_z > 0.0)) {
    message << "rate fit: lack_of_fit_z = " << lack_of_fit_z << " must be > 0";
  } else if (x_min && x_max && !(*x_min <= *x_max)) {
    message << "rate fit: x_min = " << *x_min << " exceeds x_max = " << *x_max;
  } else {
    return;
  }
  throw InvalidArgument(message.str());
}

namespace {

// The error of log err_i that the lack-of-fit test grants: Monte Carlo error and estimator floor
// in quadrature, and at least the model-error allowance (an asymptotic law's higher-order terms).
double granted_log_error(const RatePoint& p, double model_error) {
  return std::max(std::hypot(p.std_error, p.floor) / p.value, model_error);
}

std::string format_g(double value, int digits = 3) {
  std::ostringstream text;
  text.precision(digits);
  text << value;
  return text.str();
}

// Pearson's chi^2 against the stated errors, and resolved reversals of the model's direction
// (header: "Lack of fit"). `used` is sorted by x; `model` and `response` are in fit coordinates.
void test_lack_of_fit(const std::vector<RatePoint>& points, const std::vector<std::size_t>& used,
                      const Eigen::VectorXd& model, const Eigen::VectorXd& response, double dof,
                      const RateFitOptions& options, RateFit& fit) {
  std::vector<double> s(used.size());
  double chi2 = 0.0;
  for (std::size_t r = 0; r < used.size(); ++r) {
    s[r] = granted_log_error(points[used[r]], options.model_error);
    const double z = (response(static_cast<Eigen::Index>(r)) - model(static_cast<Eigen::Index>(r))) / s[r];
    chi2 += z * z;
  }
  fit.fit_p_value = boost::math::gamma_q(0.5 * dof, 0.5 * chi2);
  if (fit.fit_p_value < options.lack_of_fit_alpha) {
    fit.lack_of_fit = "chi2 = " + format_g(chi2) + " on " + format_g(dof) + " dof against the stated errors and the " + format_g(100.0 * options.model_error) +
                      "% model allowance (p = " +
                      format_g(fit.fit_p_value, 2) + " < " + format_g(options.lack_of_fit_alpha) + ")";
    return;
  }
  for (std::size_t r = 1; r < used.size(); ++r) {
    const auto i = static_cast<Eigen::Index>(r);
    const double observed = response(i) - response(i - 1);
    const double predicted = model(i) - model(i - 1);
    const double combined = std::hypot(s[r], s[r - 1]);
    if (observed * predicted < 0.0 && std::abs(observed - predicted) > options.lack_of_fit_z * combined) {
      fit.lack_of_fit = "non-monotone: log err " + std::string(observed > 0 ? "rises" : "falls") + " by " +
                        format_g(std::abs(observed)) + " from x = " + format_g(points[used[r - 1]].x, 6) +
                        " to x = " + format_g(points[used[r]].x, 6) + " against the fitted trend (> " +
                        format_g(options.lack_of_fit_z) + " combined granted errors)";
      return;
    }
  }
}

}  // namespace

RateFit fit_rate(const std::vector<RatePoint>& points, const RateFitOptions& options) {
  options.validate();
  RateFit fit;
  std::vector<std::size_t> used;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const RatePoint& p = points[i];
    std::ostringstream reason;
    if (!std::isfinite(p.value) || !std::isfinite(p.x) || !std::isfinite(p.std_error)) {
      reason << "non-finite value";
    } else if (p.value <= 0.0) {
      reason << "non-positive value " << p.value;
    } else if (!(p.x > 1.0) && options.log_factor != RateFitOptions::LogFactor::kNone) {
      reason << "x = " << p.x << " <= 1: log log x undefined";
    } else if (!(p.x > 0.0) && options.model == RateFitOptions::Model::kPowerLaw) {
      reason << "x = " << p.x << " must be positive";
    } else if ((options.x_min && p.x < *options.x_min) || (options.x_max && p.x > *options.x_max)) {
      reason << "x = " << p.x << " outside the asymptotic window";
    } else if (p.value < options.floor_factor * p.floor) {
      reason << "value " << p.value << " within " << options.floor_factor << "x of its floor " << p.floor;
    } else if (p.value < options.resolution_z * p.std_error) {
      reason << "value " << p.value << " not resolved from zero (< " << options.resolution_z << " SE, SE "
             << p.std_error << ")";
    }
    if (reason.str().empty()) {
      used.push_back(i);
    } else {
      fit.excluded.push_back({i, reason.str()});
    }
  }
  std::sort(used.begin(), used.end(), [&](std::size_t a, std::size_t b) { return points[a].x < points[b].x; });
  fit.points_used = used.size();
  const bool free_k = options.log_factor == RateFitOptions::LogFactor::kFree;
  const bool exponential = options.model == RateFitOptions::Model::kExponential;
  const Eigen::Index parameters = free_k ? 3 : 2;
  const auto n = static_cast<Eigen::Index>(used.size());
  if (n < parameters + 1) {
    std::ostringstream message;
    message << "only " << n << " usable points; the model needs at least " << parameters + 1;
    fit.message = message.str();
    fit.status = RateFit::Status::kTooFewPoints;
    return fit;
  }
  for (std::size_t i = 1; i < used.size(); ++i) {
    const RatePoint& a = points[used[i - 1]];
    const RatePoint& b = points[used[i]];
    const double run = exponential ? b.x - a.x : std::log(b.x / a.x);
    fit.local_slopes.push_back(std::log(b.value / a.value) / run);
  }

  // Design: log err - k_fixed log log x = a + beta log x (+ k log log x), beta = -p;
  // exponential: log err = a + beta x.
  Eigen::MatrixXd design(n, parameters);
  Eigen::VectorXd response(n), weight(n);
  for (Eigen::Index r = 0; r < n; ++r) {
    const RatePoint& p = points[used[static_cast<std::size_t>(r)]];
    const double log_x = exponential ? 0.0 : std::log(p.x);
    design(r, 0) = 1.0;
    design(r, 1) = exponential ? p.x : log_x;
    response(r) = std::log(p.value);
    if (options.log_factor == RateFitOptions::LogFactor::kFixed)
      response(r) -= options.log_factor_power * std::log(log_x);
    if (free_k) design(r, 2) = std::log(log_x);
    const double sigma = std::max(p.std_error / p.value, options.relative_floor);
    weight(r) = 1.0 / (sigma * sigma);
  }
  const Eigen::VectorXd sqrt_w = weight.array().sqrt();
  const Eigen::MatrixXd weighted_design = sqrt_w.asDiagonal() * design;
  const Eigen::VectorXd weighted_response = sqrt_w.asDiagonal() * response;
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(weighted_design);
  if (qr.rank() < parameters) {
    fit.status = RateFit::Status::kTooFewPoints;
    fit.message = "the design is rank deficient (too few distinct x values)";
    return fit;
  }
  const Eigen::VectorXd beta = qr.solve(weighted_response);
  const Eigen::VectorXd residual = weighted_response - weighted_design * beta;
  const double dof = static_cast<double>(n - parameters);
  fit.chi2_per_dof = residual.squaredNorm() / dof;
  const Eigen::MatrixXd normal = weighted_design.transpose() * weighted_design;
  Eigen::MatrixXd covariance = normal.ldlt().solve(Eigen::MatrixXd::Identity(parameters, parameters));
  // Scale estimated from the residuals (standard WLS with unknown scale): with Student's t on
  // dof this gives exact coverage for normal errors whatever the weights' overall scale, and
  // widens the interval when the scatter exceeds the stated errors (model error).
  covariance *= fit.chi2_per_dof;

  fit.intercept = beta(0);
  fit.exponent = -beta(1);
  fit.exponent_se = std::sqrt(covariance(1, 1));
  fit.log_factor_power = free_k ? beta(2) : options.log_factor == RateFitOptions::LogFactor::kFixed
                                                ? options.log_factor_power
                                                : 0.0;
  fit.log_factor_se = free_k ? std::sqrt(covariance(2, 2)) : 0.0;
  const boost::math::students_t student(dof);
  const double t = boost::math::quantile(boost::math::complement(student, 0.5 * (1.0 - options.confidence)));
  fit.exponent_low = fit.exponent - t * fit.exponent_se;
  fit.exponent_high = fit.exponent + t * fit.exponent_se;
  fit.status = RateFit::Status::kOk;
  test_lack_of_fit(points, used, design * beta, response, dof, options, fit);
  return fit;
}

std::string to_string(RateFit::Status status) {
  return status == RateFit::Status::kOk ? "ok" : "too_few_points";
}

std::string to_string(FitModel model) { return kFitModelNames.name(model); }

std::string to_string(Verdict verdict) { return kVerdictNames.name(verdict); }

std::string to_string(ClaimBound bound) { return kClaimBoundNames.name(bound); }

ExponentClaim exponent_claim(const Claim& claim) {
  return ExponentClaim{-claim.slope, claim.tolerance, claim.bound == ClaimBound::kExact,
                       claim.bound == ClaimBound::kLower};
}

Judgement judge(const RateFit& fit, const ExponentClaim& claim) {
  if (fit.status != RateFit::Status::kOk) return {Verdict::kInconclusive, "too few points above the floor: " + fit.message};
  if (!fit.lack_of_fit.empty()) return {Verdict::kInconclusive, "lack of fit: " + fit.lack_of_fit};
  const bool lower_end = claim.two_sided || !claim.at_most;
  const bool upper_end = claim.two_sided || claim.at_most;
  const double low = lower_end ? claim.claimed - claim.tolerance : -INFINITY;
  const double high = upper_end ? claim.claimed + claim.tolerance : INFINITY;
  // Reasons quote what the user wrote: the slope -p for rate claims (its ends swap), p for levels.
  const double sign = claim.report_as_slope ? -1.0 : 1.0;
  const std::string name = claim.report_as_slope ? "slope" : "value";
  const auto number = [](double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%+.3f", v);
    return std::string(text);
  };
  const double a = sign > 0 ? fit.exponent_low : -fit.exponent_high;
  const double b = sign > 0 ? fit.exponent_high : -fit.exponent_low;
  const std::string interval = "interval [" + number(a) + ", " + number(b) + "]";
  const double admissible_low = sign > 0 ? low : -high, admissible_high = sign > 0 ? high : -low;
  std::string range;
  if (std::isfinite(admissible_low) && std::isfinite(admissible_high)) {
    range = number(admissible_low) + " <= " + name + " <= " + number(admissible_high);
  } else if (std::isfinite(admissible_low)) {
    range = name + " >= " + number(admissible_low);
  } else {
    range = name + " <= " + number(admissible_high);
  }
  if (fit.exponent_low >= low && fit.exponent_high <= high)
    return {Verdict::kHolds, interval + " inside the admissible range " + range};
  if (fit.exponent_high < low || fit.exponent_low > high)
    return {Verdict::kViolated, interval + " entirely outside the admissible range " + range};
  const bool point_admissible = fit.exponent >= low && fit.exponent <= high;
  return {Verdict::kInconclusive, "interval too wide: " + interval + " straddles the admissible range " + range +
                                      (point_admissible ? " (point estimate admissible)" : " (point estimate outside)")};
}

}  // namespace dmconv
