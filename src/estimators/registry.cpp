// The estimator registry: one line per estimator.
#include "core/estimator.hpp"
#include "estimators/change_of_variables.hpp"
#include "estimators/gaussian_law.hpp"
#include "estimators/grid_law.hpp"
#include "estimators/optimal_transport.hpp"
#include "estimators/rao_blackwell.hpp"
#include "estimators/sample_based.hpp"
#include "estimators/separable.hpp"

namespace dmconv {

const Registry<Estimator>& estimator_registry() {
  static const Registry<Estimator> registry = [] {
    Registry<Estimator> r("estimator");
    r.add({"gaussian_law", "Gaussian targets with affine scores: exact output mean/covariance by probing the "
           "sampler; exact KL both ways, W2, Hellinger, TV", "issue 3 (1a); THEORY.md §6.1, §6.2",
           [](const ParamTable& p) -> std::unique_ptr<Estimator> {
             p.require_only("estimator 'gaussian_law'", {});
             return std::make_unique<estimators::GaussianLawEstimator>();
           },
           {}});
    r.add({"change_of_variables", "deterministic samplers, any d: exact output density along trajectories, "
           "Monte Carlo TV/KL/Hellinger with SE", "issue 3 (1b); THEORY.md §3",
           [](const ParamTable& p) -> std::unique_ptr<Estimator> {
             p.require_only("estimator 'change_of_variables'", {});
             return std::make_unique<ChangeOfVariablesEstimator>();
           },
           {}});
    r.add({"change_of_variables_quadrature", "deterministic samplers, d <= 2: exact output density, "
           "Gauss-Legendre quadrature over Y_T (floor = coarse/fine difference)", "issue 3 (1b); THEORY.md §3",
           [](const ParamTable& p) -> std::unique_ptr<Estimator> {
             const std::string c = "estimator 'change_of_variables_quadrature'";
             p.require_only(c, {"panels", "order"});
             return std::make_unique<ChangeOfVariablesQuadrature>(static_cast<int>(p.integer(c, "panels", 0)),
                                                                  static_cast<int>(p.integer(c, "order", 8)));
           },
           {}});
    r.add({"grid_law", "samplers in d <= 2 (stochastic ones included): output density propagated on a grid "
           "(semi-Lagrangian drift with the exact drift Jacobian, spectral Gaussian noise); TV/KL/Hellinger, "
           "floor = discretisation budget", "issue 3 (1c); THEORY.md §6.3",
           [](const ParamTable& p) -> std::unique_ptr<Estimator> {
             const std::string c = "estimator 'grid_law'";
             p.require_only(c, {"points", "half_width", "order"});
             return std::make_unique<estimators::GridLawEstimator>(estimators::GridLawOptions{
                 static_cast<int>(p.integer(c, "points", 0)), p.number(c, "half_width", 0.0),
                 static_cast<int>(p.integer(c, "order", 12))});
           },
           {}});
    r.add({"separable", "product targets with the exact score, any d: exact KL (d x 1-D) and Hellinger "
           "(1 - H^2_d = (1 - H^2_1)^d) from the 1-D law (quadrature or grid law); TV exact for d <= 2, "
           "Monte Carlo over the 1-D law (control variate) above", "issue 3 (1d); THEORY.md §6.5, §7 claim 19",
           [](const ParamTable& p) -> std::unique_ptr<Estimator> {
             const std::string c = "estimator 'separable'";
             p.require_only(c, {"panels", "order", "points", "half_width", "grid_order", "exact_tv_max_dim"});
             estimators::SeparableOptions options;
             options.panels = static_cast<int>(p.integer(c, "panels", 0));
             options.order = static_cast<int>(p.integer(c, "order", 8));
             options.grid = estimators::GridLawOptions{static_cast<int>(p.integer(c, "points", 0)),
                                                       p.number(c, "half_width", 0.0),
                                                       static_cast<int>(p.integer(c, "grid_order", 12))};
             options.exact_tv_max_dim = static_cast<int>(p.integer(c, "exact_tv_max_dim", 2));
             return std::make_unique<estimators::SeparableEstimator>(options);
           },
           {}});
    r.add({"w2_1d", "any sampler, d = 1, Gaussian/mixture targets: W2 between the empirical law of n samples and "
           "the exact law (exact quantile function, closed-form integration); floor = oracle W2 of n exact samples",
           "issue 6 (a)",
           [](const ParamTable& p) -> std::unique_ptr<Estimator> {
             p.require_only("estimator 'w2_1d'", {});
             return std::make_unique<estimators::W2OneDimEstimator>();
           },
           {}});
    r.add({"sliced_w2", "any sampler, any d, Gaussian/mixture targets: sliced W2 against the exact projected "
           "marginals over random directions (SE over directions); floor = oracle sliced W2", "issue 6 (b)",
           [](const ParamTable& p) -> std::unique_ptr<Estimator> {
             const std::string c = "estimator 'sliced_w2'";
             p.require_only(c, {"directions"});
             return std::make_unique<estimators::SlicedW2Estimator>(static_cast<int>(p.integer(c, "directions", 64)));
           },
           {}});
    r.add({"mmd", "any sampler, any d, Gaussian/mixture targets: unbiased squared MMD (Gaussian kernel, "
           "closed-form cross and target terms), SE by Hoeffding decomposition", "issue 6 (c)",
           [](const ParamTable& p) -> std::unique_ptr<Estimator> {
             const std::string c = "estimator 'mmd'";
             p.require_only(c, {"bandwidth", "block"});
             return std::make_unique<estimators::MmdEstimator>(p.number(c, "bandwidth", 1.0), p.integer(c, "block", 0));
           },
           {}});
    r.add({"ot_w2", "any sampler, any target that samples p_t, any d: exact W2 between the n outputs and n exact "
           "samples (sorted matching in d = 1, LEMON network simplex assignment in d >= 2); floor = the same for "
           "two exact samples", "issue 6 (c)",
           [](const ParamTable& p) -> std::unique_ptr<Estimator> {
             const std::string c = "estimator 'ot_w2'";
             p.require_only(c, {"max_particles"});
             return std::make_unique<estimators::OptimalTransportW2Estimator>(
                 static_cast<int>(p.integer(c, "max_particles", 4096)));
           },
           {}});
    r.add({"rao_blackwell", "stochastic samplers with a Gaussian last step, d <= 3, targets with a density: TV and "
           "Hellinger through the exact Gaussian kernel of the last step (Rao-Blackwellised density), jackknife SE "
           "and bias floor", "issue 6 (e)",
           [](const ParamTable& p) -> std::unique_ptr<Estimator> {
             const std::string c = "estimator 'rao_blackwell'";
             p.require_only(c, {"points", "max_dim"});
             estimators::RaoBlackwellOptions options;
             options.points = p.integer(c, "points", 0);
             options.max_dim = static_cast<int>(p.integer(c, "max_dim", 3));
             return std::make_unique<estimators::RaoBlackwellTvEstimator>(options);
           },
           {}});
    return r;
  }();
  return registry;
}

}  // namespace dmconv
