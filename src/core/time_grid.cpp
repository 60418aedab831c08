#include "core/time_grid.hpp"

#include <cmath>
#include <limits>
#include <sstream>

#include "core/error.hpp"

namespace dmconv {

TimeGrid::TimeGrid(std::vector<NoiseLevel> levels, std::vector<double> betas, std::string name)
    : levels_(std::move(levels)), betas_(std::move(betas)), name_(std::move(name)) {}

TimeGrid TimeGrid::from_betas(const std::vector<double>& betas, std::string name) {
  require(!betas.empty(), "time grid: at least one step is required (got T = 0)");
  std::vector<NoiseLevel> levels{NoiseLevel::data()};
  std::vector<double> all_betas{std::numeric_limits<double>::quiet_NaN()};
  double log_abar = 0.0;
  for (std::size_t i = 0; i < betas.size(); ++i) {
    const double beta = betas[i];
    if (!(beta > 0.0 && beta < 1.0)) {
      std::ostringstream message;
      message << "time grid: beta_" << (i + 1) << " = " << beta << " must lie in (0, 1)";
      throw InvalidArgument(message.str());
    }
    log_abar += std::log1p(-beta);
    levels.push_back(NoiseLevel::from_log_abar(log_abar));
    all_betas.push_back(beta);
  }
  return TimeGrid(std::move(levels), std::move(all_betas), std::move(name));
}

TimeGrid TimeGrid::from_levels(const std::vector<NoiseLevel>& levels_1_to_T, std::string name) {
  require(!levels_1_to_T.empty(), "time grid: at least one level is required (got T = 0)");
  std::vector<NoiseLevel> levels{NoiseLevel::data()};
  std::vector<double> betas{std::numeric_limits<double>::quiet_NaN()};
  for (std::size_t i = 0; i < levels_1_to_T.size(); ++i) {
    const NoiseLevel& current = levels_1_to_T[i];
    const NoiseLevel& previous = levels.back();
    if (!(current.abar() > 0.0 && current.one_minus_abar() > 0.0 &&
          current.abar() < previous.abar() && current.one_minus_abar() >= previous.one_minus_abar())) {
      std::ostringstream message;
      // 1 - abar may stay flat in double precision once abar < ~1e-16; abar itself must drop.
      message << "time grid: level " << (i + 1) << " (" << current.describe()
              << ") must be strictly noisier than level " << i << " (" << previous.describe()
              << "): abar must decrease, 1 - abar must not, and abar must lie in (0, 1)";
      throw InvalidArgument(message.str());
    }
    betas.push_back(-std::expm1(current.log_abar() - previous.log_abar()));
    levels.push_back(current);
  }
  return TimeGrid(std::move(levels), std::move(betas), std::move(name));
}

}  // namespace dmconv
