#include "score_errors/misscaled.hpp"

#include <cmath>
#include <sstream>

#include "core/error.hpp"

namespace dmconv::score_errors {

MisscaledScore::MisscaledScore(const Target& target, double factor) : target_(target), factor_(factor) {
  if (!(std::isfinite(factor) && factor > 0.0)) {
    std::ostringstream message;
    message << "score error 'misscaled': key 'factor' = " << factor << ": must be positive and finite";
    throw InvalidArgument(message.str());
  }
}

NoiseLevel MisscaledScore::misscaled(const NoiseLevel& level) const {
  if (factor_ == 1.0) return level;
  const double scaled = factor_ * level.one_minus_abar();
  const double total = level.abar() + scaled;
  return NoiseLevel(level.abar() / total, scaled / total);
}

}  // namespace dmconv::score_errors
