// The likelihood registry (docs/theory.md §4.7; Xu & Chi, arXiv 2403.17042): the [likelihood]
// section of a posterior experiment names one of these with its parameters.
//
//   linear_gaussian  y = A x + N(0, sigma_y^2 I_m), A = I | a I | iid N(0, 1/m) entries
//   phase_retrieval  y_i = |a_i^T x| + N(0, sigma_y^2),      a_i ~ N(0, I_d)
//   one_bit          y_i = sign(a_i^T x + tau_i + N(0, sigma^2)), a_i ~ N(0, I_d), tau_i ~ N(0, dither^2)
//
// Random parameters come from RandomStreams(seed, 0) under StreamPurpose::kLikelihoodConstruction:
// index 0 for the rows of A / the sensing vectors (row i = particle i), index 1 for the dithers
// (tau_i = dither times the first normal of particle i), so the first rows do not change when m grows.
// `observations` may be omitted: m = dim then.
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include "posterior/likelihood.hpp"
#include "posterior/likelihoods/linear_gaussian.hpp"
#include "posterior/likelihoods/one_bit.hpp"
#include "posterior/likelihoods/phase_retrieval.hpp"

namespace dmconv {
namespace {

using P = ParamSpec;

constexpr double kMaxDim = 16383;            // as the targets
constexpr double kMaxObservations = 65536;  // A is m x d, held densely

P dim_param() { return P::integer("dim", "dimension d of x").defaults(1).at_least(1).at_most(kMaxDim); }
P observations_param() {
  return P::integer("observations", "number m of observations (absent: m = dim)")
      .optional()
      .at_least(1)
      .at_most(kMaxObservations);
}
P seed_param(const std::string& name, const std::string& what) {
  return P::integer(name, "seed of " + what).defaults(1).at_least(0);
}

int observations_of(const DeclaredParams& p, int dim) {
  return p.given("observations") ? static_cast<int>(p.integer("observations")) : dim;
}

// The Gaussian sensing vectors a_i ~ N(0, I_d), rows of an m x d matrix.
Matrix sensing_vectors(const DeclaredParams& p, int observations, int dim) {
  return posterior::gaussian_sensing_matrix(observations, dim, 1.0,
                                            static_cast<std::uint64_t>(p.integer("vectors_seed")));
}

std::unique_ptr<Likelihood> make_linear_gaussian(const DeclaredParams& p) {
  const int dim = static_cast<int>(p.integer("dim"));
  const int observations = observations_of(p, dim);
  const std::string& kind = p.string("matrix");
  if (kind != "scaled_identity") p.forbid("scale", "applies only to matrix = \"scaled_identity\"");
  if (kind != "random") p.forbid("matrix_seed", "applies only to matrix = \"random\"");
  Matrix A;
  std::string description;
  if (kind == "random") {
    const auto seed = static_cast<std::uint64_t>(p.integer("matrix_seed"));
    A = posterior::gaussian_sensing_matrix(observations, dim, 1.0 / std::sqrt(static_cast<double>(observations)), seed);
    description = "random with iid N(0, 1/m) entries (matrix_seed " + std::to_string(seed) + ")";
  } else {
    if (observations != dim)
      p.fail("observations", "must equal dim = " + std::to_string(dim) + " with matrix = \"" + kind + "\" (A is square)");
    const double scale = kind == "scaled_identity" ? p.number("scale") : 1.0;
    A = scale * Matrix::Identity(dim, dim);
    description = kind == "identity" ? "= I" : "= " + shortest(scale) + " I";
  }
  return std::make_unique<posterior::LinearGaussianLikelihood>(std::move(A), p.number("sigma_y"), description);
}

std::unique_ptr<Likelihood> make_phase_retrieval(const DeclaredParams& p) {
  const int dim = static_cast<int>(p.integer("dim"));
  const int observations = observations_of(p, dim);
  return std::make_unique<posterior::PhaseRetrievalLikelihood>(
      sensing_vectors(p, observations, dim), p.number("sigma_y"),
      "~ N(0, I_d) (vectors_seed " + std::to_string(p.integer("vectors_seed")) + ")");
}

std::unique_ptr<Likelihood> make_one_bit(const DeclaredParams& p) {
  const int dim = static_cast<int>(p.integer("dim"));
  const int observations = observations_of(p, dim);
  const double dither = p.number("dither");
  const auto seed = static_cast<std::uint64_t>(p.integer("vectors_seed"));
  Vector dithers = Vector::Zero(observations);
  if (dither > 0.0) {
    const RandomStreams streams(seed, 0);
    const StreamTag tag(StreamPurpose::kLikelihoodConstruction, 1);
    for (int i = 0; i < observations; ++i) {
      double normal = 0.0;
      streams.normals(static_cast<std::uint64_t>(i), tag, &normal, 1);
      dithers(i) = dither * normal;
    }
  }
  return std::make_unique<posterior::OneBitLikelihood>(
      sensing_vectors(p, observations, dim), std::move(dithers), p.number("sigma"),
      "a_i ~ N(0, I_d), tau_i ~ N(0, " + shortest(dither) + "^2) (vectors_seed " + std::to_string(seed) + ")");
}

}  // namespace

const Registry<Likelihood>& likelihood_registry() {
  static const Registry<Likelihood> registry = [] {
    Registry<Likelihood> r("likelihood");
    r.add({"linear_gaussian", "y = A x + N(0, sigma_y^2 I_m), A = I, a I or iid N(0, 1/m) entries",
           "Xu & Chi arXiv 2403.17042 §2; docs/theory.md §4.7, §5.7",
           {dim_param(), observations_param(),
            P::number("sigma_y", "observation noise standard deviation sigma_y").defaults(0.5).above(0.0),
            P::choice("matrix", {"identity", "random", "scaled_identity"},
                      "A = I (m = d) | iid N(0, 1/m) entries | scale * I (m = d)")
                .defaults("identity"),
            P::number("scale", "a in A = a I (matrix = \"scaled_identity\" only)").defaults(1.0),
            seed_param("matrix_seed", "the random matrix (matrix = \"random\" only)")},
           make_linear_gaussian,
           {{"dim", 2}, {"observations", 3}, {"matrix", "random"}, {"sigma_y", 0.5}}});
    r.add({"phase_retrieval", "y_i = |a_i^T x| + N(0, sigma_y^2), a_i ~ N(0, I_d) iid",
           "Xu & Chi arXiv 2403.17042 §5; docs/theory.md §4.7",
           {dim_param(), observations_param(),
            P::number("sigma_y", "observation noise standard deviation sigma_y").defaults(0.5).above(0.0),
            seed_param("vectors_seed", "the sensing vectors a_i")},
           make_phase_retrieval,
           {{"dim", 2}, {"observations", 4}, {"sigma_y", 0.5}}});
    r.add({"one_bit", "y_i = sign(a_i^T x + tau_i + N(0, sigma^2)), a_i ~ N(0, I_d), tau_i ~ N(0, dither^2) iid",
           "Xu & Chi arXiv 2403.17042 §5; docs/theory.md §4.7",
           {dim_param(), observations_param(),
            P::number("sigma", "probit noise standard deviation sigma").defaults(0.5).above(0.0),
            P::number("dither", "standard deviation of the dithers tau_i (0: no dither)").defaults(0.0).at_least(0.0),
            seed_param("vectors_seed", "the sensing vectors a_i and the dithers tau_i")},
           make_one_bit,
           {{"dim", 2}, {"observations", 4}, {"sigma", 0.5}, {"dither", 0.3}}});
    return r;
  }();
  return registry;
}

}  // namespace dmconv
