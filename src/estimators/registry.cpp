// The estimator registry: one line per estimator.
#include "core/estimator.hpp"
#include "estimators/change_of_variables.hpp"
#include "estimators/gaussian_law.hpp"
#include "estimators/grid_law.hpp"
#include "estimators/kernel_kl.hpp"
#include "estimators/optimal_transport.hpp"
#include "estimators/rao_blackwell.hpp"
#include "estimators/sample_based.hpp"
#include "estimators/separable.hpp"

namespace dmconv {

namespace {

using P = ParamSpec;
using estimators::GridLawOptions;

// Gauss-Legendre orders with a Boost.Math table (change_of_variables.cpp legendre_rule).
void check_legendre_order(const DeclaredParams& p, const std::string& key) {
  const std::int64_t order = p.integer(key);
  if (order > 10 && order != 15 && order != 20) p.fail(key, "must be one of 2..10, 15, 20 (the Boost.Math tables)");
}

// grid_law's grid: points 0 or even >= 32, order even in [4, 12] (the rules of GridLawEstimator).
GridLawOptions grid_law_options(const DeclaredParams& p, const std::string& order_key) {
  const std::int64_t points = p.integer("points");
  if (points != 0 && (points < 32 || points % 2 != 0)) p.fail("points", "must be 0 (default) or even and >= 32");
  const std::int64_t order = p.integer(order_key);
  if (order % 2 != 0) p.fail(order_key, "must be even (in [4, 12])");
  return GridLawOptions{static_cast<int>(points), p.number("half_width"), static_cast<int>(order)};
}

ParamDeclaration grid_law_params(const std::string& order_key) {
  const GridLawOptions o;
  return {P::integer("points", "grid points per axis (0: 4096 in 1-D, 256 in 2-D); even, >= 32")
              .defaults(o.points)
              .at_least(0)
              .at_most(1 << 20),
          P::number("half_width", "box half-width per axis (0: from the target's moments and densities)")
              .defaults(o.half_width)
              .at_least(0.0),
          P::integer(order_key, "Lagrange interpolation points per axis (even)").defaults(o.order).at_least(4).at_most(12)};
}

ParamDeclaration separable_params() {
  const estimators::SeparableOptions o;
  ParamDeclaration out = {
      P::integer("panels", "quadrature panels, deterministic samplers (0: 4096; else >= 2)")
          .defaults(o.panels)
          .at_least(0)
          .at_most(1 << 24),
      P::integer("order", "Gauss-Legendre nodes per panel (2..10, 15, 20)").defaults(o.order).at_least(2).at_most(20)};
  for (const ParamSpec& spec : grid_law_params("grid_order")) out.push_back(spec);
  out.push_back(P::integer("exact_tv_max_dim", "TV by the exact pair sum for d <= this; Monte Carlo above")
                    .defaults(o.exact_tv_max_dim)
                    .at_least(1)
                    .at_most(2));
  return out;
}

}  // namespace

const Registry<Estimator>& estimator_registry() {
  static const Registry<Estimator> registry = [] {
    Registry<Estimator> r("estimator");
    r.add({"gaussian_law", "Gaussian targets with affine scores: exact output mean/covariance by probing the "
           "sampler; exact KL both ways, W2, Hellinger, TV", "issue 3 (1a); docs/theory.md §6.1, §6.2", {},
           [](const DeclaredParams&) -> std::unique_ptr<Estimator> {
             return std::make_unique<estimators::GaussianLawEstimator>();
           },
           {}});
    r.add({"change_of_variables", "deterministic samplers, any d: exact output density along trajectories, "
           "Monte Carlo TV/KL/Hellinger with SE", "issue 3 (1b); docs/theory.md §3", {},
           [](const DeclaredParams&) -> std::unique_ptr<Estimator> {
             return std::make_unique<ChangeOfVariablesEstimator>();
           },
           {}});
    r.add({"change_of_variables_quadrature", "deterministic samplers, d <= 2: exact output density, "
           "Gauss-Legendre quadrature over Y_T (floor = coarse/fine difference)", "issue 3 (1b); docs/theory.md §3",
           {P::integer("panels", "quadrature panels per axis (0: default; else >= 2)").defaults(0).at_least(0).at_most(1 << 24),
            P::integer("order", "Gauss-Legendre nodes per panel (2..10, 15, 20)").defaults(8).at_least(2).at_most(20)},
           [](const DeclaredParams& p) -> std::unique_ptr<Estimator> {
             if (p.integer("panels") == 1) p.fail("panels", "must be 0 (default) or >= 2");
             check_legendre_order(p, "order");
             return std::make_unique<ChangeOfVariablesQuadrature>(static_cast<int>(p.integer("panels")),
                                                                  static_cast<int>(p.integer("order")));
           },
           {}});
    r.add({"grid_law", "samplers in d <= 2 (stochastic ones included): output density propagated on a grid "
           "(semi-Lagrangian drift with the exact drift Jacobian, spectral Gaussian noise); TV/KL/Hellinger, "
           "floor = discretisation budget", "issue 3 (1c); docs/theory.md §6.3", grid_law_params("order"),
           [](const DeclaredParams& p) -> std::unique_ptr<Estimator> {
             return std::make_unique<estimators::GridLawEstimator>(grid_law_options(p, "order"));
           },
           {}});
    r.add({"kernel_kl", "DDPM-type stochastic samplers on Gaussian / Gaussian-mixture targets: the sum over steps of "
           "E KL(true reverse kernel || sampler kernel) (metric kernel_kl_sum), closed form for a Gaussian target "
           "(any d), Gauss-Hermite quadrature for mixtures (d <= max_dim; floor = half-rule difference)",
           "issue 18 (1); docs/theory.md §6.1, §7 claim 10, §8.1",
           {P::integer("points", "Gauss-Hermite nodes per axis (even; the floor uses points / 2)")
                .defaults(estimators::KernelKlOptions{}.points)
                .at_least(4)
                .at_most(64),
            P::integer("max_dim", "largest d for the quadrature method")
                .defaults(estimators::KernelKlOptions{}.max_dim)
                .at_least(1)
                .at_most(3)},
           [](const DeclaredParams& p) -> std::unique_ptr<Estimator> {
             if (p.integer("points") % 2 != 0) p.fail("points", "must be even (the floor uses points / 2)");
             return std::make_unique<estimators::KernelKlEstimator>(estimators::KernelKlOptions{
                 static_cast<int>(p.integer("points")), static_cast<int>(p.integer("max_dim"))});
           },
           {}});
    r.add({"separable", "product targets with the exact score, any d: exact KL (d x 1-D) and Hellinger "
           "(1 - H^2_d = (1 - H^2_1)^d) from the 1-D law (quadrature or grid law); TV exact for d <= 2, "
           "Monte Carlo over the 1-D law (control variate) above", "issue 3 (1d); docs/theory.md §6.5, §7 claim 19",
           separable_params(),
           [](const DeclaredParams& p) -> std::unique_ptr<Estimator> {
             estimators::SeparableOptions options;
             if (p.integer("panels") == 1) p.fail("panels", "must be 0 (default) or >= 2");
             check_legendre_order(p, "order");
             options.panels = static_cast<int>(p.integer("panels"));
             options.order = static_cast<int>(p.integer("order"));
             options.grid = grid_law_options(p, "grid_order");
             options.exact_tv_max_dim = static_cast<int>(p.integer("exact_tv_max_dim"));
             return std::make_unique<estimators::SeparableEstimator>(options);
           },
           {}});
    r.add({"w2_1d", "any sampler, d = 1, Gaussian/mixture targets: W2 between the empirical law of n samples and "
           "the exact law (exact quantile function, closed-form integration); floor = oracle W2 of n exact samples",
           "issue 6 (a)", {},
           [](const DeclaredParams&) -> std::unique_ptr<Estimator> {
             return std::make_unique<estimators::W2OneDimEstimator>();
           },
           {}});
    r.add({"sliced_w2", "any sampler, any d, Gaussian/mixture targets: sliced W2 against the exact projected "
           "marginals over random directions (SE over directions); floor = oracle sliced W2", "issue 6 (b)",
           {P::integer("directions", "random projection directions")
                .defaults(estimators::SlicedW2Estimator::kDefaultDirections)
                .at_least(2)
                .at_most(1 << 24)},
           [](const DeclaredParams& p) -> std::unique_ptr<Estimator> {
             return std::make_unique<estimators::SlicedW2Estimator>(static_cast<int>(p.integer("directions")));
           },
           {}});
    r.add({"mmd", "any sampler, any d, Gaussian/mixture targets: unbiased squared MMD (Gaussian kernel, "
           "closed-form cross and target terms), SE by Hoeffding decomposition", "issue 6 (c)",
           {P::number("bandwidth", "Gaussian kernel bandwidth h").defaults(estimators::MmdEstimator::kDefaultBandwidth).above(0.0),
            P::integer("block", "block size of the block U-statistic (0: all n(n-1) pairs; else >= 3)")
                .defaults(static_cast<std::int64_t>(estimators::MmdEstimator::kDefaultBlock))
                .at_least(0)},
           [](const DeclaredParams& p) -> std::unique_ptr<Estimator> {
             const std::int64_t block = p.integer("block");
             if (block == 1 || block == 2) p.fail("block", "must be 0 (all pairs) or >= 3");
             return std::make_unique<estimators::MmdEstimator>(p.number("bandwidth"), block);
           },
           {}});
    r.add({"ot_w2", "any sampler, any target that samples p_t, any d: exact W2 between the n outputs and n exact "
           "samples (sorted matching in d = 1, LEMON network simplex assignment in d >= 2); floor = the same for "
           "two exact samples", "issue 6 (c)",
           {P::integer("max_particles", "largest n accepted (the assignment costs O(n^3))")
                .defaults(estimators::OptimalTransportW2Estimator::kDefaultMaxParticles)
                .at_least(2)
                .at_most(1 << 30)},
           [](const DeclaredParams& p) -> std::unique_ptr<Estimator> {
             return std::make_unique<estimators::OptimalTransportW2Estimator>(
                 static_cast<int>(p.integer("max_particles")));
           },
           {}});
    r.add({"rao_blackwell", "stochastic samplers with a Gaussian last step, d <= 3, targets with a density: TV and "
           "Hellinger through the exact Gaussian kernel of the last step (Rao-Blackwellised density), jackknife SE "
           "and bias floor", "issue 6 (e)",
           {P::integer("points", "density evaluation points (0: as many as particles)")
                .defaults(static_cast<std::int64_t>(estimators::RaoBlackwellOptions{}.points))
                .at_least(0),
            P::integer("max_dim", "largest dimension accepted")
                .defaults(estimators::RaoBlackwellOptions{}.max_dim)
                .at_least(1)
                .at_most(1 << 20)},
           [](const DeclaredParams& p) -> std::unique_ptr<Estimator> {
             estimators::RaoBlackwellOptions options;
             options.points = p.integer("points");
             options.max_dim = static_cast<int>(p.integer("max_dim"));
             return std::make_unique<estimators::RaoBlackwellTvEstimator>(options);
           },
           {}});
    return r;
  }();
  return registry;
}

}  // namespace dmconv
