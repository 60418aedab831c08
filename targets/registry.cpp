// The target registry: one entry per target. Parameters (as in a config file):
//   gaussian:          mean = [..];  one of covariance = [[..],..] | variances = [..] | variance = v
//   gaussian_mixture:  weights = [..];  means = [[..],..] (K rows);  one of
//                      covariances = [[[..]..]..] (K matrices) | variances = [[..]..] (K rows) |
//                      variance = [..] (K numbers, isotropic)
//   product:           dim = d; factor = "gaussian_mixture" (default) with weights, means,
//                      variances = [..] (K numbers each), or factor = "uniform_box" with
//                      half_width = A, or factor = "student_t" with degrees_of_freedom = nu,
//                      scale = s: the 1-D factor
//   student_t:         degrees_of_freedom = nu in [0.1, 100]; scale = s > 0 (1-D only; use
//                      product with factor = "student_t" for d > 1)
//   uniform_box:       half_width = A > 0; dim = d >= 1
//   subgaussian_mixture: dim = d, variance = v (default 0.25), psi2_norm = K >= sqrt(8v/3): the
//                      symmetric pair of N(+-R e_1, v I) whose per-direction psi2 norm is K
//   random_mixture:    dim = d, components = K, radius = R >= 0, variance = v > 0, seed = s >= 0
//                      (default 0): K equal-weight N(mu_k, v I), |mu_k| = R, random directions
//   sphere:            radius = r > 0; dim = d in [2, 16383] (uniform on S^{d-1}(r) in R^d)
#include "targets/registry.hpp"

#include <cmath>

#include <boost/math/tools/roots.hpp>

#include "core/subgaussian.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "targets/gaussian.hpp"
#include "targets/gaussian_mixture.hpp"
#include "targets/product.hpp"
#include "targets/student_t.hpp"
#include "targets/sphere.hpp"
#include "targets/uniform_box.hpp"

namespace dmconv {
namespace {

// Exactly one of the covariance keys must be present.
std::string covariance_key(const ParamTable& p, const std::string& context, const std::string& full,
                           const std::string& diagonal, const std::string& isotropic) {
  int present = p.has(full) + p.has(diagonal) + p.has(isotropic);
  require(present == 1, context + ": exactly one of '" + full + "', '" + diagonal + "', '" + isotropic +
                            "' must be given (found " + std::to_string(present) + ")");
  return p.has(full) ? full : p.has(diagonal) ? diagonal : isotropic;
}

std::unique_ptr<Target> make_gaussian(const ParamTable& p) {
  const std::string context = "target 'gaussian'";
  p.require_only(context, {"mean", "covariance", "variances", "variance"});
  const Vector mean = p.vector(context, "mean");
  const std::string key = covariance_key(p, context, "covariance", "variances", "variance");
  if (key == "covariance")
    return std::make_unique<GaussianTarget>(GaussianComponent::full(mean, p.matrix(context, key), context));
  if (key == "variances")
    return std::make_unique<GaussianTarget>(GaussianComponent::diagonal(mean, p.vector(context, key), context));
  return std::make_unique<GaussianTarget>(GaussianComponent::isotropic(mean, p.number(context, key), context));
}

std::unique_ptr<Target> make_gaussian_mixture(const ParamTable& p) {
  const std::string context = "target 'gaussian_mixture'";
  p.require_only(context, {"weights", "means", "covariances", "variances", "variance"});
  const Vector weights = p.vector(context, "weights");
  const Matrix means = p.matrix(context, "means");
  require(means.rows() == weights.size(), context + ": 'means' has " + std::to_string(means.rows()) +
                                              " rows but 'weights' has " + std::to_string(weights.size()) +
                                              " entries (one row per component)");
  const std::string key = covariance_key(p, context, "covariances", "variances", "variance");
  std::vector<GaussianComponent> components;
  const std::vector<Matrix> full = key == "covariances" ? p.matrices(context, key) : std::vector<Matrix>{};
  const Matrix diagonal = key == "variances" ? p.matrix(context, key) : Matrix{};
  const Vector isotropic = key == "variance" ? p.vector(context, key) : Vector{};
  const auto count = static_cast<std::size_t>(weights.size());
  const std::size_t given = key == "covariances" ? full.size()
                            : key == "variances"  ? static_cast<std::size_t>(diagonal.rows())
                                                  : static_cast<std::size_t>(isotropic.size());
  require(given == count, context + ": '" + key + "' describes " + std::to_string(given) +
                              " components but 'weights' has " + std::to_string(count));
  for (std::size_t k = 0; k < count; ++k) {
    const auto row = static_cast<Eigen::Index>(k);
    const std::string where = context + " component " + std::to_string(k);
    const Vector mean = means.row(row).transpose();
    if (key == "covariances") components.push_back(GaussianComponent::full(mean, full[k], where));
    if (key == "variances") components.push_back(GaussianComponent::diagonal(mean, diagonal.row(row).transpose(), where));
    if (key == "variance") components.push_back(GaussianComponent::isotropic(mean, isotropic(row), where));
  }
  return std::make_unique<GaussianMixtureTarget>(std::vector<double>(weights.data(), weights.data() + weights.size()),
                                                 std::move(components));
}

// product: dim = d; the 1-D factor is named by 'factor' (default "gaussian_mixture": the mixture
// sum_k weights_k N(means_k, variances_k); "uniform_box": U([-half_width, half_width]);
// "student_t": scale * t_{degrees_of_freedom}).
std::unique_ptr<Target> make_product(const ParamTable& p) {
  const std::string context = "target 'product'";
  const std::string factor_name = p.string(context, "factor", std::string("gaussian_mixture"));
  std::unique_ptr<Target> factor;
  if (factor_name == "gaussian_mixture") {
    p.require_only(context, {"dim", "factor", "weights", "means", "variances"});
    const Vector weights = p.vector(context, "weights");
    const Vector means = p.vector(context, "means");
    const Vector variances = p.vector(context, "variances");
    require(means.size() == weights.size() && variances.size() == weights.size(),
            context + ": 'weights', 'means' and 'variances' must have the same length (got " +
                std::to_string(weights.size()) + ", " + std::to_string(means.size()) + ", " +
                std::to_string(variances.size()) + ")");
    std::vector<GaussianComponent> components;
    for (Eigen::Index k = 0; k < weights.size(); ++k)
      components.push_back(GaussianComponent::isotropic(Vector::Constant(1, means(k)), variances(k),
                                                        context + " factor component " + std::to_string(k)));
    factor = std::make_unique<GaussianMixtureTarget>(
        std::vector<double>(weights.data(), weights.data() + weights.size()), std::move(components));
  } else if (factor_name == "uniform_box") {
    p.require_only(context, {"dim", "factor", "half_width"});
    factor = std::make_unique<UniformBoxTarget>(p.number(context, "half_width"), 1);
  } else if (factor_name == "student_t") {
    p.require_only(context, {"dim", "factor", "degrees_of_freedom", "scale"});
    factor = std::make_unique<StudentTTarget>(p.number(context, "degrees_of_freedom"), p.number(context, "scale"));
  } else {
    throw InvalidArgument(context + ": key 'factor' = '" + factor_name +
                          "' is not a 1-D factor; valid factors are: gaussian_mixture, student_t, uniform_box");
  }
  const long dim = p.integer(context, "dim");
  require(dim >= 1 && dim < 16384, context + ": key 'dim' = " + std::to_string(dim) + " must lie in [1, 16383]");
  return std::make_unique<ProductTarget>(std::move(factor), static_cast<int>(dim));
}

// student_t: degrees_of_freedom = nu, scale = s (1-D).
std::unique_ptr<Target> make_student_t(const ParamTable& p) {
  const std::string context = "target 'student_t'";
  p.require_only(context, {"degrees_of_freedom", "scale"});
  return std::make_unique<StudentTTarget>(p.number(context, "degrees_of_freedom"), p.number(context, "scale"));
}

// uniform_box: half_width = A, dim = d.
std::unique_ptr<Target> make_uniform_box(const ParamTable& p) {
  const std::string context = "target 'uniform_box'";
  p.require_only(context, {"half_width", "dim"});
  const double half_width = p.number(context, "half_width");
  const long dim = p.integer(context, "dim");
  require(dim >= 1 && dim < 16384, context + ": key 'dim' = " + std::to_string(dim) + " must lie in [1, 16383]");
  return std::make_unique<UniformBoxTarget>(half_width, static_cast<int>(dim));
}

// random_mixture: K equal-weight isotropic components N(mu_k, variance I_d) with |mu_k| = radius
// and directions mu_k / |mu_k| = g_k / |g_k|, g_k ~ N(0, I_d) from stream (seed, particle k) of
// purpose kTargetConstruction: K points in general position (almost surely) for every d, the
// same for the same seed. A non-product target whose d-dependence is not coordinate-wise.
std::unique_ptr<Target> make_random_mixture(const ParamTable& p) {
  const std::string context = "target 'random_mixture'";
  p.require_only(context, {"dim", "components", "radius", "variance", "seed"});
  const long dim = p.integer(context, "dim");
  require(dim >= 1 && dim < 16384, context + ": key 'dim' = " + std::to_string(dim) + " must lie in [1, 16383]");
  const long count = p.integer(context, "components");
  require(count >= 1 && count <= 4096,
          context + ": key 'components' = " + std::to_string(count) + " must lie in [1, 4096]");
  const double radius = p.number(context, "radius");
  require(radius >= 0.0 && std::isfinite(radius),
          context + ": key 'radius' = " + std::to_string(radius) + " must be finite and >= 0");
  const double variance = p.number(context, "variance");
  const long seed = p.integer(context, "seed", 0);
  require(seed >= 0, context + ": key 'seed' = " + std::to_string(seed) + " must be >= 0");
  const RandomStreams streams(static_cast<std::uint64_t>(seed), 0);
  std::vector<GaussianComponent> components;
  for (long k = 0; k < count; ++k) {
    Vector direction(dim);
    streams.normals(static_cast<std::uint64_t>(k), StreamTag(StreamPurpose::kTargetConstruction, 0),
                    direction.data(), dim);
    components.push_back(GaussianComponent::isotropic(radius * direction / direction.norm(), variance,
                                                      context + " component " + std::to_string(k)));
  }
  return std::make_unique<GaussianMixtureTarget>(std::vector<double>(static_cast<std::size_t>(count), 1.0 / static_cast<double>(count)),
                                                 std::move(components));
}

// subgaussian_mixture: the symmetric two-point mixture (1/2) N(R e_1, v I_d) + (1/2) N(-R e_1, v I_d)
// with R chosen so that its per-direction psi2 norm (THEORY.md §8.4 convention (ii), attained
// along e_1) equals psi2_norm = K; K >= sqrt(8 v / 3) (R = 0) is required. A scale family with
// the subgaussian norm as its parameter (Pedrotti, Maas, Mondelli: T1 ~ log of it).
std::unique_ptr<Target> make_subgaussian_mixture(const ParamTable& p) {
  const std::string context = "target 'subgaussian_mixture'";
  p.require_only(context, {"dim", "variance", "psi2_norm"});
  const long dim = p.integer(context, "dim");
  require(dim >= 1 && dim < 16384, context + ": key 'dim' = " + std::to_string(dim) + " must lie in [1, 16383]");
  const double variance = p.number(context, "variance", 0.25);
  require(variance > 0.0 && std::isfinite(variance),
          context + ": key 'variance' = " + std::to_string(variance) + " must be positive and finite");
  const double norm = p.number(context, "psi2_norm");
  const double smallest = std::sqrt(8.0 * variance / 3.0);
  require(norm >= smallest && std::isfinite(norm),
          context + ": key 'psi2_norm' = " + std::to_string(norm) + " must be finite and >= sqrt(8 variance / 3) = " +
              std::to_string(smallest) + " (the norm of N(0, variance) itself)");
  auto psi2_of = [variance](double radius) {
    return gaussian_mixture_norms({0.5, 0.5}, {Vector::Constant(1, radius), Vector::Constant(1, -radius)},
                                  {Matrix::Constant(1, 1, variance), Matrix::Constant(1, 1, variance)})
        .per_direction;
  };
  // psi2 increases in R from sqrt(8v/3) (R = 0) and stays below sqrt(R^2/ln 2 + 8v/3).
  double radius = 0.0;
  if (norm > smallest) {
    std::uintmax_t iterations = 200;
    const auto [lo, hi] = boost::math::tools::toms748_solve([&](double r) { return psi2_of(r) - norm; }, 0.0,
                                                            norm * std::sqrt(std::log(2.0)) + 1.0, 
                                                            boost::math::tools::eps_tolerance<double>(50), iterations);
    radius = 0.5 * (lo + hi);
  }
  Vector mean = Vector::Zero(dim);
  mean(0) = radius;
  std::vector<GaussianComponent> components;
  components.push_back(GaussianComponent::isotropic(mean, variance, context + " component 0"));
  components.push_back(GaussianComponent::isotropic(-mean, variance, context + " component 1"));
  return std::make_unique<GaussianMixtureTarget>(std::vector<double>{0.5, 0.5}, std::move(components));
}

// sphere: radius = r, dim = d.
std::unique_ptr<Target> make_sphere(const ParamTable& p) {
  const std::string context = "target 'sphere'";
  p.require_only(context, {"radius", "dim"});
  const double radius = p.number(context, "radius");
  const long dim = p.integer(context, "dim");
  require(dim >= 2 && dim < 16384, context + ": key 'dim' = " + std::to_string(dim) + " must lie in [2, 16383]");
  return std::make_unique<SphereTarget>(radius, static_cast<int>(dim));
}

// The 2-D three-component mixture with full, anisotropic covariances and unequal weights
// used by the demonstration and the quickstart.
ParamTable mixture_example() {
  return {{"weights", std::vector<double>{0.5, 0.3, 0.2}},
          {"means", ParamValue::List{std::vector<double>{-2.0, 0.0}, std::vector<double>{1.5, 1.0},
                                     std::vector<double>{0.5, -2.0}}},
          {"covariances",
           ParamValue::List{ParamValue::List{std::vector<double>{0.30, 0.10}, std::vector<double>{0.10, 0.20}},
                            ParamValue::List{std::vector<double>{0.50, -0.20}, std::vector<double>{-0.20, 0.25}},
                            ParamValue::List{std::vector<double>{0.15, 0.05}, std::vector<double>{0.05, 0.40}}}}};
}

}  // namespace

const Registry<Target>& target_registry() {
  static const Registry<Target> registry = [] {
    Registry<Target> r("target");
    r.add({"gaussian", "Gaussian N(mu, Sigma), full, diagonal or isotropic covariance; errors in closed form",
           "THEORY.md §8.1 (Gaussian special case)", make_gaussian,
           {{"mean", std::vector<double>{1.5, -0.5}},
            {"covariance", ParamValue::List{std::vector<double>{0.5, 0.2}, std::vector<double>{0.2, 0.3}}}}});
    r.add({"gaussian_mixture", "Gaussian mixture sum_k pi_k N(mu_k, Sigma_k), any K and d; full/diagonal/isotropic",
           "THEORY.md §8.1", make_gaussian_mixture, mixture_example()});
    r.add({"product", "product of d independent copies of a 1-D factor (Gaussian mixture, uniform_box or student_t; separable score, diagonal Jacobian)",
           "THEORY.md §6.5, §8.1", make_product,
           {{"dim", 3}, {"weights", std::vector<double>{0.3, 0.7}}, {"means", std::vector<double>{-2.0, 1.5}},
            {"variances", std::vector<double>{0.25, 0.5}}}});
    r.add({"student_t", "scaled Student t_nu, 1-D (heavy-tailed control: not subgaussian; scores by quadrature)",
           "THEORY.md §8 (heavy-tailed control), §8.4", make_student_t, {{"degrees_of_freedom", 4.0}, {"scale", 1.5}}});
    r.add({"uniform_box", "uniform on [-A, A]^d (bounded support, non-smooth density; diagonal Jacobian)",
           "THEORY.md §6.3, §8.2", make_uniform_box, {{"half_width", 1.0}, {"dim", 2}}});
    r.add({"random_mixture", "K equal-weight isotropic Gaussians with means of norm 'radius' in random general "
           "position (seeded): a non-product mixture for dimension scaling",
           "THEORY.md §6.5 (non-product targets), §8.1", make_random_mixture,
           {{"dim", 5}, {"components", 6}, {"radius", 2.5}, {"variance", 0.3}, {"seed", 1}}});
    r.add({"subgaussian_mixture", "(1/2) N(R e_1, v I) + (1/2) N(-R e_1, v I) with R set by its per-direction "
           "psi2 norm (a scale family indexed by the subgaussian norm)", "THEORY.md §8.4; 2305.14164",
           make_subgaussian_mixture, {{"dim", 2}, {"variance", 0.25}, {"psi2_norm", 3.0}}});
    r.add({"sphere", "uniform on the sphere S^{d-1} of radius r in R^d (no density at the data level, non-product; rank-1-plus-isotropic Jacobian)",
           "THEORY.md §8.3, §8.4", make_sphere, {{"radius", 1.0}, {"dim", 3}}});
    return r;
  }();
  return registry;
}

}  // namespace dmconv
