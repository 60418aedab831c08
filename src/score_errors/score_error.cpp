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

std::string context_of(const std::string& name) { return "score error '" + name + "'"; }

// A number with a rule on its value; the message names the key, the value and the rule.
double checked_number(const ParamTable& p, const std::string& context, const std::string& key,
                      std::optional<double> fallback, bool (*rule)(double), const std::string& rule_text) {
  const double value = p.number(context, key, fallback);
  if (!rule(value)) {
    std::ostringstream message;
    message << context << ": key '" << key << "' = " << value << ": " << rule_text;
    throw InvalidArgument(message.str());
  }
  return value;
}

bool non_negative(double x) { return x >= 0.0; }
bool positive(double x) { return x > 0.0; }

std::optional<Vector> optional_direction(const ParamTable& p, const std::string& context) {
  if (!p.has("direction")) return std::nullopt;
  const Vector direction = p.vector(context, "direction");
  if (direction.size() == 0 || !(direction.norm() > 0.0) || !direction.allFinite())
    throw InvalidArgument(context + ": key 'direction' = " + p.entries().at("direction").to_string() +
                          ": must be a non-empty, non-zero list of finite numbers");
  return direction;
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
  static constexpr const char* kName = "constant_bias";
  explicit ConstantBiasFactory(const ParamTable& p)
      : a_(checked_number(p, context_of("constant_bias"), "a", std::nullopt, non_negative, "must be >= 0")),
        direction_(optional_direction(p, context_of("constant_bias"))),
        profile_(TimeProfile::from_params(p, context_of("constant_bias"))) {}
  static std::set<std::string> keys() {
    std::set<std::string> keys = TimeProfile::keys();
    keys.insert({"a", "direction"});
    return keys;
  }
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
  static constexpr const char* kName = "fourier";
  explicit FourierFactory(const ParamTable& p)
      : a_(checked_number(p, context_of("fourier"), "a", std::nullopt, non_negative, "must be >= 0")),
        omega_(checked_number(p, context_of("fourier"), "omega", std::nullopt, non_negative, "must be >= 0")),
        features_(p.integer(context_of("fourier"), "features", 16)),
        direction_(optional_direction(p, context_of("fourier"))),
        profile_(TimeProfile::from_params(p, context_of("fourier"))) {
    const std::string context = context_of("fourier");
    if (features_ < 1 || features_ > 4096)
      throw InvalidArgument(context + ": key 'features' = " + std::to_string(features_) + ": must lie in [1, 4096]");
    if (p.has("phase")) phase_ = p.number(context, "phase");
  }
  static std::set<std::string> keys() {
    std::set<std::string> keys = TimeProfile::keys();
    keys.insert({"a", "omega", "features", "phase", "direction"});
    return keys;
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
  long features_;
  std::optional<double> phase_;
  std::optional<Vector> direction_;
  TimeProfile profile_;
};

class MisscaledFactory final : public ScoreErrorFactory {
 public:
  static constexpr const char* kName = "misscaled";
  explicit MisscaledFactory(const ParamTable& p)
      : factor_(checked_number(p, context_of("misscaled"), "factor", std::nullopt, positive, "must be > 0")) {}
  static std::set<std::string> keys() { return {"factor"}; }
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

// Unknown keys are reported first, then each key's shape and range.
template <class Factory>
std::unique_ptr<ScoreErrorFactory> build(const ParamTable& p) {
  p.require_only(context_of(Factory::kName), Factory::keys());
  return std::make_unique<Factory>(p);
}

}  // namespace

const Registry<ScoreErrorFactory>& score_error_registry() {
  static const Registry<ScoreErrorFactory> registry = [] {
    Registry<ScoreErrorFactory> r("score error");
    r.add({"none", "no score error: the exact score s*_t", "THEORY.md §3 (eps_score = eps_Jacobi = 0)",
           [](const ParamTable& p) -> std::unique_ptr<ScoreErrorFactory> {
             p.require_only(context_of("none"), {});
             return std::make_unique<NoneFactory>();
           },
           {}});
    r.add({"constant_bias", "s*_t + a w(t) u: L2 error a w(t), zero Jacobian error (direction u, time profile w)",
           "score-error issue; THEORY.md §3, §5.1 vs §5.2", build<ConstantBiasFactory>,
           {{"a", 0.01}, {"profile", "uniform"}}});
    r.add({"fourier", "s*_t + a w(t) sqrt(2/M) sum_m u_m sin(omega <v_m,x> + phi_m): eps_score ~ a, "
           "eps_Jacobi ~ a omega (random features fixed by the seed)", "score-error issue; THEORY.md §6.6",
           build<FourierFactory>, {{"a", 0.002}, {"omega", 4.0}, {"features", 16}}});
    r.add({"misscaled", "the exact score of the wrong level: noise-to-signal ratio (1-abar)/abar scaled by factor",
           "score-error issue; THEORY.md §1 (VE variance)", build<MisscaledFactory>, {{"factor", 1.1}}});
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
