// posterior_gaussian: exact distances when the sampler's output law is Gaussian in closed form
// (PosteriorSampler::output_law: exact Gibbs DPnP, exact_stationary, DDS or unadjusted DPnP with
// an affine score; Gaussian prior,
// linear-Gaussian likelihood) and so are the references pi_eta and pi (docs/theory.md §5.7):
// TV, KL(output || reference) and W2 between Gaussians (estimators/gaussian_distances.hpp).
// Claims 16 (geometric decay in k, rate rho(eta)) and 17 (TV(pi_eta, pi) ~ eta^2) use it.
#pragma once
#include "posterior/posterior_estimator.hpp"

namespace dmconv::posterior {
Registry<PosteriorEstimator>::Entry posterior_gaussian_entry();
}
