// The posterior estimators (posterior_estimator.hpp): one line each.
#include "posterior/estimators/gaussian_exact.hpp"
#include "posterior/estimators/grid_tv.hpp"
#include "posterior/estimators/sample_w2.hpp"

namespace dmconv::posterior {

const Registry<PosteriorEstimator>& posterior_estimator_registry() {
  static const Registry<PosteriorEstimator> registry = [] {
    Registry<PosteriorEstimator> r("posterior estimator");
    r.add(posterior_gaussian_entry());
    r.add(posterior_w2_entry());
    r.add(posterior_grid_tv_entry());
    return r;
  }();
  return registry;
}

}  // namespace dmconv::posterior
