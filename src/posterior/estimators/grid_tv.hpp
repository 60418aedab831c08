// posterior_grid_tv: TV between the histogram of the sampler's n outputs on a grid of cells and
// the exact grid law of pi_eta and pi (posterior/grid_posterior.hpp), d <= 2, any likelihood:
//   TV_hist = (1/2) sum_c |n_c / n - mass_c|
// Kind biased_with_floor: the histogram of n exact draws from the grid law has TV ~ sqrt(cells/n)
// to it; that value plus the grid's own refinement error, plus (for pi_eta without a closed-form
// smoothed likelihood) the change when the Gauss-Hermite rule is doubled, is the floor below which
// no sampler is resolved.
#pragma once
#include "posterior/grid_posterior.hpp"
#include "posterior/posterior_estimator.hpp"

namespace dmconv::posterior {
Registry<PosteriorEstimator>::Entry posterior_grid_tv_entry();
// The grid this estimator builds its laws on for an [[estimator]] table with these parameters
// (the declared defaults filled in; ParameterError as the registry would throw), so that other
// outputs of the same laws (`dmconv samples`) use the same cells as the TV estimates.
GridOptions posterior_grid_tv_options(const ParamTable& params);
}
