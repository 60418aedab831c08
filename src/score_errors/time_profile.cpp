#include "score_errors/time_profile.hpp"

#include <cmath>
#include <sstream>

#include "core/error.hpp"

namespace dmconv::score_errors {

TimeProfile::TimeProfile(Kind kind, double width, const std::string& context) : kind_(kind), width_(width) {
  if (!(std::isfinite(width) && width > 0.0))
    throw ParameterError(context, "width", shortest(width), "must be positive and finite");
}

ParamDeclaration TimeProfile::params() {
  return {ParamSpec::choice("profile", {"uniform", "small_noise", "large_noise"}, "time profile w(level) of the error")
              .defaults("uniform"),
          ParamSpec::number("width", "profile width (small_noise / large_noise only)").defaults(0.1).above(0.0)};
}

TimeProfile TimeProfile::from_params(const DeclaredParams& params) {
  const std::string& profile = params.string("profile");
  if (profile == "uniform") {
    params.forbid("width", "only applies to profile \"small_noise\" or \"large_noise\" (profile is \"uniform\")");
    return TimeProfile(Kind::kUniform, 1.0, params.component());
  }
  const Kind kind = profile == "small_noise" ? Kind::kSmallNoise : Kind::kLargeNoise;  // choices are declared
  return TimeProfile(kind, params.number("width"), params.component());
}

double TimeProfile::weight(const NoiseLevel& level) const {
  switch (kind_) {
    case Kind::kUniform:
      return 1.0;
    case Kind::kSmallNoise:
      return std::exp(-level.one_minus_abar() / width_);
    case Kind::kLargeNoise:
      return std::exp(-level.abar() / width_);
  }
  return 1.0;
}

std::string TimeProfile::describe() const {
  std::ostringstream out;
  switch (kind_) {
    case Kind::kUniform:
      return "uniform";
    case Kind::kSmallNoise:
      out << "small_noise(width=" << width_ << ")";
      break;
    case Kind::kLargeNoise:
      out << "large_noise(width=" << width_ << ")";
      break;
  }
  return out.str();
}

}  // namespace dmconv::score_errors
