#include "core/noise_level.hpp"

#include <cstdio>

namespace dmconv {

std::string NoiseLevel::describe() const {
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "abar=%.17g, 1-abar=%.17g", abar_, one_minus_abar_);
  return buffer;
}

}  // namespace dmconv
