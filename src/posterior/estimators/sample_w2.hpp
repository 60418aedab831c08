// posterior_w2: W2 between the empirical law of the sampler's n outputs and the reference laws
// pi_eta and pi, by exact 1-D quantile integration (estimators/sample_based.hpp w2_squared_1d):
//   d = 1: W2(empirical, reference);  d > 1: sliced, sqrt(mean_l W2^2(theta_l^T output, theta_l^T reference))
// over `directions` seeded unit directions (mixture references only). The reference is the
// closed-form mixture (Gaussian-mixture prior, linear-Gaussian likelihood) or, in d = 1, the
// grid law (posterior/grid_posterior.hpp). Kind biased_with_floor: the floor is the same
// estimator on n exact draws from the reference (the empirical-law bias at this n).
#pragma once
#include "posterior/posterior_estimator.hpp"

namespace dmconv::posterior {
Registry<PosteriorEstimator>::Entry posterior_w2_entry();
}
