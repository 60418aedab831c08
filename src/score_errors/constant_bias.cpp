#include "score_errors/constant_bias.hpp"

#include <cmath>
#include <sstream>

#include "core/error.hpp"

namespace dmconv::score_errors {

ConstantBiasScore::ConstantBiasScore(const Target& target, double a, const Vector& direction, TimeProfile profile)
    : target_(target), amplitude_(a), direction_(direction), profile_(profile) {
  const std::string context = "score error 'constant_bias'";
  if (!(std::isfinite(a) && a >= 0.0)) throw ParameterError(context, "a", shortest(a), "must be non-negative and finite");
  if (direction.size() != target.dim())
    throw ParameterError(context, "direction", ParamValue(std::vector<double>(direction.begin(), direction.end())).written(),
                         "has " + std::to_string(direction.size()) + " entries: must have one per dimension of the "
                         "target (d = " + std::to_string(target.dim()) + ")");
  const double norm = direction.norm();
  if (!(std::isfinite(norm) && norm > 0.0))
    throw ParameterError(context, "direction", ParamValue(std::vector<double>(direction.begin(), direction.end())).written(),
                         "must be a non-zero finite vector");
  direction_ /= norm;
}

void ConstantBiasScore::compute(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const {
  target_.score(level, x, out);
  const Vector shift = bias(level);
  out.colwise() += shift;
}

}  // namespace dmconv::score_errors
