#include "score_errors/constant_bias.hpp"

#include <cmath>
#include <sstream>

#include "core/error.hpp"

namespace dmconv::score_errors {

ConstantBiasScore::ConstantBiasScore(const Target& target, double a, const Vector& direction, TimeProfile profile)
    : target_(target), amplitude_(a), direction_(direction), profile_(profile) {
  const std::string context = "score error 'constant_bias'";
  std::ostringstream message;
  if (!(std::isfinite(a) && a >= 0.0)) {
    message << context << ": key 'a' = " << a << ": must be non-negative and finite";
    throw InvalidArgument(message.str());
  }
  if (direction.size() != target.dim()) {
    message << context << ": key 'direction' has " << direction.size() << " entries: must have one per dimension of "
            << "the target (d = " << target.dim() << ")";
    throw InvalidArgument(message.str());
  }
  const double norm = direction.norm();
  if (!(std::isfinite(norm) && norm > 0.0)) {
    message << context << ": key 'direction' = [" << direction.transpose() << "]: must be a non-zero finite vector";
    throw InvalidArgument(message.str());
  }
  direction_ /= norm;
}

void ConstantBiasScore::compute(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const {
  target_.score(level, x, out);
  const Vector shift = bias(level);
  out.colwise() += shift;
}

}  // namespace dmconv::score_errors
