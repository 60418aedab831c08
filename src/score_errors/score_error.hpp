// Score-error models (docs/theory.md §3, §5.1-§5.2, §6.6): the score a sampler uses is
//
//   s_t(x) = s*_t(x) + delta_t(x),
//
// with s*_t the exact score of an analytic target and delta_t a controlled perturbation whose
// Jacobian is known in closed form, so J_{s_t} = J*_t + J_{delta_t} exactly and every exact
// estimator (change of variables, grid law, Gaussian law when affine) keeps working.
//
// Registered kinds (`dmconv list score_errors`):
//   none           delta = 0 (ExactScore)
//   constant_bias  delta_t(x) = a w(t) u                                 (constant_bias.hpp)
//   fourier        delta_t(x) = a w(t) sqrt(2/M) sum_m u_m sin(omega <v_m, x> + phi_m)
//                                                                       (fourier.hpp)
//   misscaled      s_t = s*_{t'}, the exact score of a wrong noise level (misscaled.hpp)
// with the time profiles w(t) of time_profile.hpp. What the sampler actually sees is measured,
// not assumed: realised_error.hpp estimates eps_score and eps_Jacobi of docs/theory.md §3.
//
// Two stages, so that a config can be validated before any target exists:
//   1. score_error_registry().make(kind, params)  checks the parameters (keys, types, ranges;
//      InvalidArgument names the key, the value and the rule) and returns a ScoreErrorFactory;
//   2. factory->make(target, seed)                 binds it to a target (checks what depends on
//      the target, e.g. the length of 'direction') and draws any random field from `seed`.
// make_score_model() does both. The returned model refers to `target`, which must outlive it.
//
// Random fields depend only on (seed, parameters, target dimension): the same seed gives the
// same delta for every T, grid, run and thread count. Their numbers come from the Philox key
// (seed, 0) under StreamPurpose::kScoreErrorField, disjoint from every sampler stream.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/params.hpp"
#include "core/registry.hpp"
#include "core/score_model.hpp"
#include "core/target.hpp"

namespace dmconv::score_errors {

// A score-error model with validated parameters, not yet bound to a target.
class ScoreErrorFactory {
 public:
  virtual ~ScoreErrorFactory() = default;
  virtual std::string name() const = 0;
  // The parameters in a compact form, e.g. "a=0.002, omega=4, features=1, profile=uniform".
  virtual std::string describe() const = 0;
  // s_t = s*_t + delta_t for `target`. Throws InvalidArgument (naming key, value and rule)
  // when a parameter does not fit the target. The model keeps a reference to `target`.
  virtual std::unique_ptr<ScoreModel> make(const Target& target, std::uint64_t seed) const = 0;
};

// What a config says: the kind and its parameters ("none" with no parameters = exact score).
struct ScoreErrorSpec {
  std::string kind = "none";
  ParamTable params;
};

// name -> description, source, factory and example parameters (Registry kind "score error").
const Registry<ScoreErrorFactory>& score_error_registry();

// score_error_registry().make(kind, params)->make(target, seed).
std::unique_ptr<ScoreModel> make_score_model(const std::string& kind, const ParamTable& params, const Target& target,
                                             std::uint64_t seed);
std::unique_ptr<ScoreModel> make_score_model(const ScoreErrorSpec& spec, const Target& target, std::uint64_t seed);

}  // namespace dmconv::score_errors
