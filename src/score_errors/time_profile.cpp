#include "score_errors/time_profile.hpp"

#include <cmath>
#include <sstream>

#include "core/error.hpp"

namespace dmconv::score_errors {

TimeProfile::TimeProfile(Kind kind, double width, const std::string& context) : kind_(kind), width_(width) {
  if (!(std::isfinite(width) && width > 0.0)) {
    std::ostringstream message;
    message << context << ": key 'width' = " << width << ": must be positive and finite";
    throw InvalidArgument(message.str());
  }
}

TimeProfile TimeProfile::from_params(const ParamTable& params, const std::string& context) {
  const std::string profile = params.string(context, "profile", std::string("uniform"));
  if (profile == "uniform") {
    require(!params.has("width"), context + ": key 'width' = " +
                                      (params.has("width") ? params.entries().at("width").to_string() : "") +
                                      ": only applies to profile \"small_noise\" or \"large_noise\" (profile is "
                                      "\"uniform\")");
    return TimeProfile(Kind::kUniform, 1.0, context);
  }
  const double width = params.number(context, "width", 0.1);
  if (profile == "small_noise") return TimeProfile(Kind::kSmallNoise, width, context);
  if (profile == "large_noise") return TimeProfile(Kind::kLargeNoise, width, context);
  throw InvalidArgument(context + ": key 'profile' = \"" + profile +
                        "\": must be one of \"uniform\", \"small_noise\", \"large_noise\"");
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
