// The target registry: one entry per target, with its declared parameters (`dmconv describe
// NAME` prints them). Cross-parameter rules (one covariance form, row counts, weights summing to
// 1, positive definiteness, the psi2 floor of subgaussian_mixture) are checked by the factories
// and blame one key (ParameterError).
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

using P = ParamSpec;

// Dimensions up to 16383: the targets' own limit (sphere tables, stream sub-indices).
constexpr double kMaxDim = 16383;

std::unique_ptr<Target> make_gaussian(const DeclaredParams& p) {
  const Vector mean = p.vector("mean");
  if (mean.size() == 0) p.fail("mean", "must have at least one coordinate");
  const std::string key = p.exactly_one_of({"covariance", "variances", "variance"});
  const std::string& context = p.component();
  return p.blame(key, [&]() -> std::unique_ptr<Target> {
    if (key == "covariance") return std::make_unique<GaussianTarget>(GaussianComponent::full(mean, p.matrix(key), context));
    if (key == "variances")
      return std::make_unique<GaussianTarget>(GaussianComponent::diagonal(mean, p.vector(key), context));
    return std::make_unique<GaussianTarget>(GaussianComponent::isotropic(mean, p.number(key), context));
  });
}

const ParamDeclaration kGaussianParams = {
    P::vector("mean", "mean mu (d numbers)"),
    P::matrix("covariance", "full covariance Sigma (d x d, symmetric positive definite); one of the three").optional(),
    P::vector("variances", "diagonal covariance (d numbers); one of the three").optional().above(0.0),
    P::number("variance", "isotropic covariance variance I; one of the three").optional().above(0.0)};

std::unique_ptr<Target> make_gaussian_mixture(const DeclaredParams& p) {
  const Vector weights = p.vector("weights");
  const Matrix means = p.matrix("means");
  if (means.rows() != weights.size())
    p.fail("means", "has " + std::to_string(means.rows()) + " rows but 'weights' has " +
                        std::to_string(weights.size()) + " entries (one row per component)");
  const std::string key = p.exactly_one_of({"covariances", "variances", "variance"});
  const std::vector<Matrix> full = key == "covariances" ? p.matrices(key) : std::vector<Matrix>{};
  const Matrix diagonal = key == "variances" ? p.matrix(key) : Matrix{};
  const Vector isotropic = key == "variance" ? p.vector(key) : Vector{};
  const auto count = static_cast<std::size_t>(weights.size());
  const std::size_t given = key == "covariances" ? full.size()
                            : key == "variances"  ? static_cast<std::size_t>(diagonal.rows())
                                                  : static_cast<std::size_t>(isotropic.size());
  if (given != count)
    p.fail(key, "describes " + std::to_string(given) + " components but 'weights' has " + std::to_string(count));
  std::vector<GaussianComponent> components;
  p.blame(key, [&] {
    for (std::size_t k = 0; k < count; ++k) {
      const auto row = static_cast<Eigen::Index>(k);
      const std::string where = p.component() + " component " + std::to_string(k);
      const Vector mean = means.row(row).transpose();
      if (key == "covariances") components.push_back(GaussianComponent::full(mean, full[k], where));
      if (key == "variances") components.push_back(GaussianComponent::diagonal(mean, diagonal.row(row).transpose(), where));
      if (key == "variance") components.push_back(GaussianComponent::isotropic(mean, isotropic(row), where));
    }
  });
  return p.blame("weights", [&] {
    return std::make_unique<GaussianMixtureTarget>(std::vector<double>(weights.data(), weights.data() + weights.size()),
                                                   std::move(components));
  });
}

const ParamDeclaration kGaussianMixtureParams = {
    P::vector("weights", "mixture weights pi_k (K numbers, positive, summing to 1)").above(0.0),
    P::matrix("means", "component means mu_k (K rows of d numbers)"),
    P::matrices("covariances", "full covariances Sigma_k (K d x d matrices); one of the three").optional(),
    P::matrix("variances", "diagonal covariances (K rows of d numbers); one of the three").optional().above(0.0),
    P::vector("variance", "isotropic variances (K numbers); one of the three").optional().above(0.0)};

// product: dim = d; the 1-D factor is named by 'factor' (default "gaussian_mixture": the mixture
// sum_k weights_k N(means_k, variances_k); "uniform_box": U([-half_width, half_width]);
// "student_t": scale * t_{degrees_of_freedom}). Keys of another factor are rejected.
std::unique_ptr<Target> make_product(const DeclaredParams& p) {
  const std::string& factor_name = p.string("factor");
  const std::vector<std::pair<std::string, std::vector<std::string>>> keys_of = {
      {"gaussian_mixture", {"weights", "means", "variances"}},
      {"uniform_box", {"half_width"}},
      {"student_t", {"degrees_of_freedom", "scale"}}};
  for (const auto& [name, keys] : keys_of)
    for (const std::string& key : keys) {
      if (name == factor_name) p.need(key, "is required with factor = \"" + factor_name + "\"");
      else p.forbid(key, "applies only to factor = \"" + name + "\" (factor is \"" + factor_name + "\")");
    }
  std::unique_ptr<Target> factor;
  if (factor_name == "gaussian_mixture") {
    const Vector weights = p.vector("weights");
    const Vector means = p.vector("means");
    const Vector variances = p.vector("variances");
    if (means.size() != weights.size()) p.fail("means", "must have as many entries as 'weights' (" + std::to_string(weights.size()) + ")");
    if (variances.size() != weights.size())
      p.fail("variances", "must have as many entries as 'weights' (" + std::to_string(weights.size()) + ")");
    std::vector<GaussianComponent> components;
    for (Eigen::Index k = 0; k < weights.size(); ++k)
      components.push_back(GaussianComponent::isotropic(Vector::Constant(1, means(k)), variances(k),
                                                        p.component() + " factor component " + std::to_string(k)));
    factor = p.blame("weights", [&] {
      return std::make_unique<GaussianMixtureTarget>(
          std::vector<double>(weights.data(), weights.data() + weights.size()), std::move(components));
    });
  } else if (factor_name == "uniform_box") {
    factor = std::make_unique<UniformBoxTarget>(p.number("half_width"), 1);
  } else {
    factor = std::make_unique<StudentTTarget>(p.number("degrees_of_freedom"), p.number("scale"));
  }
  return std::make_unique<ProductTarget>(std::move(factor), static_cast<int>(p.integer("dim")));
}

const ParamDeclaration kProductParams = {
    P::integer("dim", "dimension d (number of independent copies)").at_least(1).at_most(kMaxDim),
    P::choice("factor", {"gaussian_mixture", "uniform_box", "student_t"}, "the 1-D factor").defaults("gaussian_mixture"),
    P::vector("weights", "factor = gaussian_mixture: weights (K numbers summing to 1)").optional().above(0.0),
    P::vector("means", "factor = gaussian_mixture: means (K numbers)").optional(),
    P::vector("variances", "factor = gaussian_mixture: variances (K numbers)").optional().above(0.0),
    P::number("half_width", "factor = uniform_box: half-width A of U([-A, A])").optional().above(0.0),
    P::number("degrees_of_freedom", "factor = student_t: nu").optional().at_least(0.1).at_most(100.0),
    P::number("scale", "factor = student_t: scale s").optional().above(0.0)};

// student_t: degrees_of_freedom = nu, scale = s (1-D).
std::unique_ptr<Target> make_student_t(const DeclaredParams& p) {
  return std::make_unique<StudentTTarget>(p.number("degrees_of_freedom"), p.number("scale"));
}

const ParamDeclaration kStudentTParams = {
    P::number("degrees_of_freedom", "degrees of freedom nu (range of targets/student_t.hpp)").at_least(0.1).at_most(100.0),
    P::number("scale", "scale s of s t_nu").above(0.0)};

// uniform_box: half_width = A, dim = d.
std::unique_ptr<Target> make_uniform_box(const DeclaredParams& p) {
  return std::make_unique<UniformBoxTarget>(p.number("half_width"), static_cast<int>(p.integer("dim")));
}

const ParamDeclaration kUniformBoxParams = {P::number("half_width", "half-width A of [-A, A]^d").above(0.0),
                                            P::integer("dim", "dimension d").at_least(1).at_most(kMaxDim)};

// random_mixture: K equal-weight isotropic components N(mu_k, variance I_d) with |mu_k| = radius
// and directions mu_k / |mu_k| = g_k / |g_k|, g_k ~ N(0, I_d) from stream (seed, particle k) of
// purpose kTargetConstruction: K points in general position (almost surely) for every d, the
// same for the same seed. A non-product target whose d-dependence is not coordinate-wise.
std::unique_ptr<Target> make_random_mixture(const DeclaredParams& p) {
  const std::int64_t dim = p.integer("dim");
  const std::int64_t count = p.integer("components");
  const double radius = p.number("radius");
  const double variance = p.number("variance");
  const std::int64_t seed = p.integer("seed");
  const RandomStreams streams(static_cast<std::uint64_t>(seed), 0);
  std::vector<GaussianComponent> components;
  for (std::int64_t k = 0; k < count; ++k) {
    Vector direction(dim);
    streams.normals(static_cast<std::uint64_t>(k), StreamTag(StreamPurpose::kTargetConstruction, 0),
                    direction.data(), dim);
    components.push_back(GaussianComponent::isotropic(radius * direction / direction.norm(), variance,
                                                      p.component() + " component " + std::to_string(k)));
  }
  return std::make_unique<GaussianMixtureTarget>(std::vector<double>(static_cast<std::size_t>(count), 1.0 / static_cast<double>(count)),
                                                 std::move(components));
}

const ParamDeclaration kRandomMixtureParams = {
    P::integer("dim", "dimension d").at_least(1).at_most(kMaxDim),
    P::integer("components", "number K of components").at_least(1).at_most(4096),
    P::number("radius", "norm R of every mean").at_least(0.0),
    P::number("variance", "variance v of every component (v I)").above(0.0),
    P::integer("seed", "seed of the mean directions").defaults(0).at_least(0)};

// subgaussian_mixture: the symmetric two-point mixture (1/2) N(R e_1, v I_d) + (1/2) N(-R e_1, v I_d)
// with R chosen so that its per-direction psi2 norm (docs/theory.md §8.4 convention (ii), attained
// along e_1) equals psi2_norm = K; K >= sqrt(8 v / 3) (R = 0) is required. A scale family with
// the subgaussian norm as its parameter (Pedrotti, Maas, Mondelli: T1 ~ log of it).
std::unique_ptr<Target> make_subgaussian_mixture(const DeclaredParams& p) {
  const std::int64_t dim = p.integer("dim");
  const double variance = p.number("variance");
  const double norm = p.number("psi2_norm");
  const double smallest = std::sqrt(8.0 * variance / 3.0);
  if (!(norm >= smallest))
    p.fail("psi2_norm", "must be >= sqrt(8 variance / 3) = " + shortest(smallest) +
                            " (the norm of N(0, variance) itself)");
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
  components.push_back(GaussianComponent::isotropic(mean, variance, p.component() + " component 0"));
  components.push_back(GaussianComponent::isotropic(-mean, variance, p.component() + " component 1"));
  return std::make_unique<GaussianMixtureTarget>(std::vector<double>{0.5, 0.5}, std::move(components));
}

const ParamDeclaration kSubgaussianMixtureParams = {
    P::integer("dim", "dimension d").at_least(1).at_most(kMaxDim),
    P::number("variance", "variance v of both components").defaults(0.25).above(0.0),
    P::number("psi2_norm", "per-direction psi2 norm K (>= sqrt(8 v / 3))").above(0.0)};

// sphere: radius = r, dim = d.
std::unique_ptr<Target> make_sphere(const DeclaredParams& p) {
  return std::make_unique<SphereTarget>(p.number("radius"), static_cast<int>(p.integer("dim")));
}

const ParamDeclaration kSphereParams = {P::number("radius", "radius r").above(0.0),
                                        P::integer("dim", "ambient dimension d (S^{d-1} in R^d)").at_least(2).at_most(kMaxDim)};


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
           "docs/theory.md §8.1 (Gaussian special case)", kGaussianParams, make_gaussian,
           {{"mean", std::vector<double>{1.5, -0.5}},
            {"covariance", ParamValue::List{std::vector<double>{0.5, 0.2}, std::vector<double>{0.2, 0.3}}}}});
    r.add({"gaussian_mixture", "Gaussian mixture sum_k pi_k N(mu_k, Sigma_k), any K and d; full/diagonal/isotropic",
           "docs/theory.md §8.1", kGaussianMixtureParams, make_gaussian_mixture, mixture_example()});
    r.add({"product", "product of d independent copies of a 1-D factor (Gaussian mixture, uniform_box or student_t; separable score, diagonal Jacobian)",
           "docs/theory.md §6.5, §8.1", kProductParams, make_product,
           {{"dim", 3}, {"weights", std::vector<double>{0.3, 0.7}}, {"means", std::vector<double>{-2.0, 1.5}},
            {"variances", std::vector<double>{0.25, 0.5}}}});
    r.add({"student_t", "scaled Student t_nu, 1-D (heavy-tailed control: not subgaussian; scores by quadrature)",
           "docs/theory.md §8 (heavy-tailed control), §8.4", kStudentTParams, make_student_t, {{"degrees_of_freedom", 4.0}, {"scale", 1.5}}});
    r.add({"uniform_box", "uniform on [-A, A]^d (bounded support, non-smooth density; diagonal Jacobian)",
           "docs/theory.md §6.3, §8.2", kUniformBoxParams, make_uniform_box, {{"half_width", 1.0}, {"dim", 2}}});
    r.add({"random_mixture", "K equal-weight isotropic Gaussians with means of norm 'radius' in random general "
           "position (seeded): a non-product mixture for dimension scaling",
           "docs/theory.md §6.5 (non-product targets), §8.1", kRandomMixtureParams, make_random_mixture,
           {{"dim", 5}, {"components", 6}, {"radius", 2.5}, {"variance", 0.3}, {"seed", 1}}});
    r.add({"subgaussian_mixture", "(1/2) N(R e_1, v I) + (1/2) N(-R e_1, v I) with R set by its per-direction "
           "psi2 norm (a scale family indexed by the subgaussian norm)", "docs/theory.md §8.4; 2305.14164",
           kSubgaussianMixtureParams, make_subgaussian_mixture, {{"dim", 2}, {"psi2_norm", 3.0}}});
    r.add({"sphere", "uniform on the sphere S^{d-1} of radius r in R^d (no density at the data level, non-product; rank-1-plus-isotropic Jacobian)",
           "docs/theory.md §8.3, §8.4", kSphereParams, make_sphere, {{"radius", 1.0}, {"dim", 3}}});
    return r;
  }();
  return registry;
}

}  // namespace dmconv
