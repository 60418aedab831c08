// The score-error registry: one entry per model. Parameters (as in a config file):
//   none:           (none)
//   constant_bias:  a >= 0;  direction = [..] (d numbers, normalised; default e_1);  profile, width
//   fourier:        a >= 0;  omega >= 0;  features = M (default 16, 1..4096);  phase (fixes every
//                   phi_m);  direction = [..] (fixes every u_m = v_m);  profile, width
//   misscaled:      factor > 0
// profile = "uniform" (default) | "small_noise" | "large_noise";  width > 0 (default 0.1).
#include "score_errors/score_error.hpp"

#include <cmath>
#include <optional>
#include <sstream>

#include "core/error.hpp"
#include "score_errors/constant_bias.hpp"
#include "score_errors/fourier.hpp"
#include "score_errors/misscaled.hpp"
#include "score_errors/time_profile.hpp"

namespace dmconv::score_errors {
namespace {

using P = ParamSpec;

// The optional `direction`: declared as a vector; a zero or empty one is rejected here.
ParamSpec direction_param(const std::string& meaning) { return P::vector("direction", meaning).optional(); }

std::optional<Vector> optional_direction(const DeclaredParams& p) {
  if (!p.has("direction")) return std::nullopt;
  const Vector direction = p.vector("direction");
  if (direction.size() == 0 || !(direction.norm() > 0.0))
    p.fail("direction", "must be a non-empty, non-zero list of finite numbers");
  return direction;
}

// A declaration followed by the time profile's parameters.
ParamDeclaration with_profile(ParamDeclaration own) {
  for (ParamSpec& spec : TimeProfile::params()) own.push_back(std::move(spec));
  return own;
}

std::string describe_direction(const std::optional<Vector>& direction) {
  if (!direction) return "";
  std::ostringstream out;
  out << ", direction=[";
  for (Eigen::Index i = 0; i < direction->size(); ++i) out << (i ? ", " : "") << (*direction)(i);
  out << "]";
  return out.str();
}

class NoneFactory final : public ScoreErrorFactory {
 public:
  std::string name() const override { return "none"; }
  std::string describe() const override { return "exact score"; }
  std::unique_ptr<ScoreModel> make(const Target& target, std::uint64_t) const override {
    return std::make_unique<ExactScore>(target);
  }
};

class ConstantBiasFactory final : public ScoreErrorFactory {
 public:
  static ParamDeclaration params() {
    return with_profile({P::number("a", "peak error amplitude |delta| (L2 score error a w(t))").at_least(0.0),
                         direction_param("bias direction u (d numbers, normalised; default e_1)")});
  }
  explicit ConstantBiasFactory(const DeclaredParams& p)
      : a_(p.number("a")), direction_(optional_direction(p)), profile_(TimeProfile::from_params(p)) {}
  std::string name() const override { return "constant_bias"; }
  std::string describe() const override {
    std::ostringstream out;
    out << "a=" << a_ << describe_direction(direction_) << ", profile=" << profile_.describe();
    return out.str();
  }
  std::unique_ptr<ScoreModel> make(const Target& target, std::uint64_t) const override {
    Vector direction = direction_.value_or(Vector::Unit(target.dim(), 0));
    return std::make_unique<ConstantBiasScore>(target, a_, direction, profile_);
  }

 private:
  double a_;
  std::optional<Vector> direction_;
  TimeProfile profile_;
};

class FourierFactory final : public ScoreErrorFactory {
 public:
  static ParamDeclaration params() {
    return with_profile({P::number("a", "error amplitude (eps_score ~ a)").at_least(0.0),
                         P::number("omega", "frequency of the features (eps_Jacobi ~ a omega)").at_least(0.0),
                         P::integer("features", "number M of random features").defaults(16).at_least(1).at_most(4096),
                         P::number("phase", "fixes every phase phi_m (default: random per feature)").optional(),
                         direction_param("fixes every u_m = v_m (default: random per feature)")});
  }
  explicit FourierFactory(const DeclaredParams& p)
      : a_(p.number("a")),
        omega_(p.number("omega")),
        features_(p.integer("features")),
        direction_(optional_direction(p)),
        profile_(TimeProfile::from_params(p)) {
    if (p.has("phase")) phase_ = p.number("phase");
  }
  std::string name() const override { return "fourier"; }
  std::string describe() const override {
    std::ostringstream out;
    out << "a=" << a_ << ", omega=" << omega_ << ", features=" << features_;
    if (phase_) out << ", phase=" << *phase_;
    out << describe_direction(direction_) << ", profile=" << profile_.describe();
    return out.str();
  }
  std::unique_ptr<ScoreModel> make(const Target& target, std::uint64_t seed) const override {
    return std::make_unique<FourierScore>(
        target, a_, omega_, FourierField::draw(target.dim(), static_cast<int>(features_), seed, phase_, direction_),
        profile_);
  }

 private:
  double a_;
  double omega_;
  std::int64_t features_;
  std::optional<double> phase_;
  std::optional<Vector> direction_;
  TimeProfile profile_;
};

class MisscaledFactory final : public ScoreErrorFactory {
 public:
  static ParamDeclaration params() {
    return {P::number("factor", "scale of the noise-to-signal ratio (1-abar)/abar (1 = exact)").above(0.0)};
  }
  explicit MisscaledFactory(const DeclaredParams& p) : factor_(p.number("factor")) {}
  std::string name() const override { return "misscaled"; }
  std::string describe() const override {
    std::ostringstream out;
    out << "factor=" << factor_;
    return out.str();
  }
  std::unique_ptr<ScoreModel> make(const Target& target, std::uint64_t) const override {
    return std::make_unique<MisscaledScore>(target, factor_);
  }

 private:
  double factor_;
};

template <class Factory>
std::unique_ptr<ScoreErrorFactory> build(const DeclaredParams& p) {
  return std::make_unique<Factory>(p);
}

}  // namespace

const Registry<ScoreErrorFactory>& score_error_registry() {
  static const Registry<ScoreErrorFactory> registry = [] {
    Registry<ScoreErrorFactory> r("score error");
    r.add({"none", "no score error: the exact score s*_t", "docs/theory.md §3 (eps_score = eps_Jacobi = 0)", {},
           [](const DeclaredParams&) -> std::unique_ptr<ScoreErrorFactory> { return std::make_unique<NoneFactory>(); },
           {}});
    r.add({"constant_bias", "s*_t + a w(t) u: L2 error a w(t), zero Jacobian error (direction u, time profile w)",
           "score-error issue; docs/theory.md §3, §5.1 vs §5.2", ConstantBiasFactory::params(), build<ConstantBiasFactory>,
           {{"a", 0.01}, {"profile", "uniform"}}});
    r.add({"fourier", "s*_t + a w(t) sqrt(2/M) sum_m u_m sin(omega <v_m,x> + phi_m): eps_score ~ a, "
           "eps_Jacobi ~ a omega (random features fixed by the seed)", "score-error issue; docs/theory.md §6.6",
           FourierFactory::params(), build<FourierFactory>, {{"a", 0.002}, {"omega", 4.0}}});
    r.add({"misscaled", "the exact score of the wrong level: noise-to-signal ratio (1-abar)/abar scaled by factor",
           "score-error issue; docs/theory.md §1 (VE variance)", MisscaledFactory::params(), build<MisscaledFactory>, {{"factor", 1.1}}});
    return r;
  }();
  return registry;
}

std::unique_ptr<ScoreModel> make_score_model(const std::string& kind, const ParamTable& params, const Target& target,
                                             std::uint64_t seed) {
  return score_error_registry().make(kind, params)->make(target, seed);
}

std::unique_ptr<ScoreModel> make_score_model(const ScoreErrorSpec& spec, const Target& target, std::uint64_t seed) {
  return make_score_model(spec.kind, spec.params, target, seed);
}

}  // namespace dmconv::score_errors
