// The target registry: one entry per target. Parameters (as in a config file):
//   gaussian:          mean = [..];  one of covariance = [[..],..] | variances = [..] | variance = v
//   gaussian_mixture:  weights = [..];  means = [[..],..] (K rows);  one of
//                      covariances = [[[..]..]..] (K matrices) | variances = [[..]..] (K rows) |
//                      variance = [..] (K numbers, isotropic)
//   product:           dim = d; factor = "gaussian_mixture" (default) with weights, means,
//                      variances = [..] (K numbers each), or factor = "uniform_box" with
//                      half_width = A: the 1-D factor
//   uniform_box:       half_width = A > 0; dim = d >= 1
//   sphere:            radius = r > 0; dim = d in [2, 16383] (uniform on S^{d-1}(r) in R^d)
#include "targets/registry.hpp"

#include "core/error.hpp"
#include "targets/gaussian.hpp"
#include "targets/gaussian_mixture.hpp"
#include "targets/product.hpp"
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
// sum_k weights_k N(means_k, variances_k); "uniform_box": U([-half_width, half_width])).
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
  } else {
    throw InvalidArgument(context + ": key 'factor' = '" + factor_name +
                          "' is not a 1-D factor; valid factors are: gaussian_mixture, uniform_box");
  }
  const long dim = p.integer(context, "dim");
  require(dim >= 1 && dim < 16384, context + ": key 'dim' = " + std::to_string(dim) + " must lie in [1, 16383]");
  return std::make_unique<ProductTarget>(std::move(factor), static_cast<int>(dim));
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
    r.add({"product", "product of d independent copies of a 1-D factor (Gaussian mixture or uniform_box; separable score, diagonal Jacobian)",
           "THEORY.md §6.5, §8.1", make_product,
           {{"dim", 3}, {"weights", std::vector<double>{0.3, 0.7}}, {"means", std::vector<double>{-2.0, 1.5}},
            {"variances", std::vector<double>{0.25, 0.5}}}});
    r.add({"uniform_box", "uniform on [-A, A]^d (bounded support, non-smooth density; diagonal Jacobian)",
           "THEORY.md §6.3, §8.2", make_uniform_box, {{"half_width", 1.0}, {"dim", 2}}});
    r.add({"sphere", "uniform on the sphere S^{d-1} of radius r in R^d (no density at the data level, non-product; rank-1-plus-isotropic Jacobian)",
           "THEORY.md §8.3, §8.4", make_sphere, {{"radius", 1.0}, {"dim", 3}}});
    return r;
  }();
  return registry;
}

}  // namespace dmconv
