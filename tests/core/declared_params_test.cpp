// Tests of declared parameters (core/params.hpp ParamSpec / DeclaredParams) and of every
// registry's declarations: the reader rejects unknown keys, wrong types and out-of-range values
// with a ParameterError naming the key, the value as written and the rule; integers are exact
// int64; defaults are filled; and for EVERY registered component of every kind the config snippet
// of `dmconv describe` parses as TOML and builds.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <toml++/toml.h>
#include <vector>

#include "core/error.hpp"
#include "core/estimator.hpp"
#include "core/params.hpp"
#include "core/registry.hpp"
#include "core/schedule.hpp"
#include "samplers/registry.hpp"
#include "score_errors/score_error.hpp"
#include "targets/registry.hpp"

namespace dmconv {
namespace {

using P = ParamSpec;

// The ParameterError `statement` throws, or a failure.
template <class Statement>
ParameterError Caught(Statement&& statement) {
  try {
    statement();
  } catch (const ParameterError& error) {
    return error;
  } catch (const std::exception& error) {
    ADD_FAILURE() << "threw something other than ParameterError: " << error.what();
    return ParameterError("", "", "", "");
  }
  ADD_FAILURE() << "did not throw";
  return ParameterError("", "", "", "");
}

void ExpectError(const ParameterError& error, const std::string& key, const std::string& value,
                 const std::string& rule_fragment) {
  EXPECT_EQ(error.key(), key) << error.what();
  EXPECT_EQ(error.value(), value) << error.what();
  EXPECT_NE(error.rule().find(rule_fragment), std::string::npos) << error.what() << "\nmissing: " << rule_fragment;
}

const ParamDeclaration kDemo = {
    P::number("rate", "a rate").defaults(0.5).above(0.0).at_most(1.0).in_unit("1/s"),
    P::integer("count", "a count").defaults(3).at_least(1).at_most(10),
    P::integer("big", "a wide integer").defaults(0),
    P::choice("mode", {"fast", "exact"}, "how").defaults("exact"),
    P::vector("weights", "non-negative weights").optional().at_least(0.0),
    P::matrix("m", "a matrix").optional(),
    P::string("label", "free text").optional(),
    P::number("needed", "required")};

DeclaredParams Read(const ParamTable& table) { return DeclaredParams(kDemo, table, "widget 'demo'"); }

TEST(DeclaredParams, FillsDefaultsAndGivesTypedValues) {
  const DeclaredParams p = Read({{"needed", 2.0}, {"weights", std::vector<double>{0.25, 0.75}}});
  EXPECT_EQ(p.number("rate"), 0.5);
  EXPECT_EQ(p.integer("count"), 3);
  EXPECT_EQ(p.string("mode"), "exact");
  EXPECT_TRUE(p.has("rate"));
  EXPECT_FALSE(p.given("rate"));
  EXPECT_TRUE(p.given("needed"));
  EXPECT_FALSE(p.has("m"));
  EXPECT_EQ(p.vector("weights")(1), 0.75);
  EXPECT_EQ(p.component(), "widget 'demo'");
  // Reading an undeclared or absent optional key is a programming error, not a user error.
  EXPECT_THROW((void)p.number("nope"), std::logic_error);
  EXPECT_THROW((void)p.matrix("m"), std::logic_error);
  EXPECT_THROW((void)p.integer("rate"), std::logic_error);
}

TEST(DeclaredParams, UnknownKeyListsTheValidKeysSorted) {
  const ParameterError e = Caught([] { (void)Read({{"needed", 1.0}, {"rte", 0.1}}); });
  ExpectError(e, "rte", "0.1", "unknown key; valid keys are: big, count, label, m, mode, needed, rate, weights");
  EXPECT_EQ(std::string(e.what()),
            "widget 'demo': rte = 0.1: unknown key; valid keys are: big, count, label, m, mode, needed, rate, weights");
}

TEST(DeclaredParams, RequiredTypesRangesAndChoices) {
  ExpectError(Caught([] { (void)Read({}); }), "needed", "(missing)", "is required but missing");
  ExpectError(Caught([] { (void)Read({{"needed", "x"}}); }), "needed", "\"x\"", "must be a number");
  ExpectError(Caught([] { (void)Read({{"needed", std::numeric_limits<double>::infinity()}}); }), "needed", "inf",
              "must be finite");
  // Open and closed ends.
  ExpectError(Caught([] { (void)Read({{"needed", 1.0}, {"rate", 0.0}}); }), "rate", "0", "must lie in (0, 1]");
  EXPECT_NO_THROW((void)Read({{"needed", 1.0}, {"rate", 1.0}}));
  ExpectError(Caught([] { (void)Read({{"needed", 1.0}, {"rate", 1.0000000000000002}}); }), "rate",
              "1.0000000000000002", "must lie in (0, 1]");
  ExpectError(Caught([] { (void)Read({{"needed", 1.0}, {"count", 11}}); }), "count", "11", "must lie in [1, 10]");
  ExpectError(Caught([] { (void)Read({{"needed", 1.0}, {"mode", "slow"}}); }), "mode", "\"slow\"",
              "must be one of \"fast\", \"exact\"");
  ExpectError(Caught([] { (void)Read({{"needed", 1.0}, {"weights", std::vector<double>{0.5, -0.1}}}); }), "weights",
              "[0.5, -0.1]", "every entry must be >= 0 (entry 1 = -0.1)");
  ExpectError(Caught([] {
                (void)Read({{"needed", 1.0},
                            {"m", ParamValue::List{std::vector<double>{1, 2}, std::vector<double>{3}}}});
              }),
              "m", "[[1, 2], [3]]", "equally long rows");
  ExpectError(Caught([] { (void)Read({{"needed", 1.0}, {"label", 3}}); }), "label", "3", "must be a string");
}

// Integers are int64 end to end: exact beyond 2^53 when given as integers, range-checked
// without rounding, and a non-integer or inexact double is rejected with its value as written.
TEST(DeclaredParams, IntegersAreExactInt64) {
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(Read({{"needed", 1.0}, {"big", max}}).integer("big"), max);
  EXPECT_EQ(Read({{"needed", 1.0}, {"big", std::int64_t{9007199254740993}}}).integer("big"), 9007199254740993);
  EXPECT_EQ(Read({{"needed", 1.0}, {"count", 7.0}}).integer("count"), 7);  // an integral double is accepted
  ExpectError(Caught([] { (void)Read({{"needed", 1.0}, {"count", 2.5}}); }), "count", "2.5", "must be an integer");
  ExpectError(Caught([] { (void)Read({{"needed", 1.0}, {"big", 1e16}}); }), "big", "1e+16", "must be an integer");
  ExpectError(Caught([] { (void)Read({{"needed", 1.0}, {"big", 1e300}}); }), "big", "1e+300", "must be an integer");
  // 2^32 + 3 would wrap to 3 through a 32-bit int and pass [1, 10]: it must not.
  ExpectError(Caught([] { (void)Read({{"needed", 1.0}, {"count", std::int64_t{4294967299}}}); }), "count",
              "4294967299", "must lie in [1, 10]");
  // Integer bounds compare exactly: 2^62 + 1 > 2^62.
  const ParamDeclaration bounded = {P::integer("n", "n").at_most(4611686018427387904.0)};
  EXPECT_NO_THROW(DeclaredParams(bounded, {{"n", std::int64_t{4611686018427387904}}}, "w"));
  ExpectError(Caught([&] { DeclaredParams(bounded, {{"n", std::int64_t{4611686018427387905}}}, "w"); }), "n",
              "4611686018427387905", "must be <= 4611686018427387904");
}

TEST(DeclaredParams, CrossParameterHelpersBlameOneKey) {
  const ParamDeclaration d = {P::number("a", "a").optional(), P::number("b", "b").optional(),
                              P::number("c", "c").defaults(1.0)};
  EXPECT_EQ(DeclaredParams(d, {{"b", 2.0}}, "w").exactly_one_of({"a", "b"}), "b");
  ExpectError(Caught([&] { (void)DeclaredParams(d, {}, "w").exactly_one_of({"a", "b"}); }), "a", "(missing)",
              "exactly one of 'a', 'b' must be given (found 0)");
  ExpectError(Caught([&] { (void)DeclaredParams(d, {{"a", 1.0}, {"b", 2.0}}, "w").exactly_one_of({"a", "b"}); }), "b",
              "2", "found 2");
  ExpectError(Caught([&] { DeclaredParams(d, {{"a", 1.0}}, "w").forbid("a", "does not apply"); }), "a", "1",
              "does not apply");
  ExpectError(Caught([&] { DeclaredParams(d, {}, "w").need("b", "is needed here"); }), "b", "(missing)",
              "is needed here");
  // blame: a component's own InvalidArgument becomes a ParameterError on the key, prefix stripped.
  const ParameterError e = Caught([&] {
    DeclaredParams(d, {{"c", 3.0}}, "w").blame("c", []() -> int { throw InvalidArgument("w: c is too odd"); });
  });
  ExpectError(e, "c", "3", "c is too odd");
  EXPECT_EQ(std::string(e.what()), "w: c = 3: c is too odd");
}

TEST(ParamValue, WrittenAndTomlForms) {
  EXPECT_EQ(ParamValue(0.1).written(), "0.1");
  EXPECT_EQ(ParamValue(1.0 / 3.0).written(), "0.3333333333333333");
  EXPECT_EQ(ParamValue(std::int64_t{9007199254740993}).written(), "9007199254740993");
  EXPECT_EQ(ParamValue(2.0).toml(), "2.0");
  EXPECT_EQ(ParamValue(2).toml(), "2");
  EXPECT_EQ(ParamValue("a\"b").toml(), "\"a\\\"b\"");
  // to_string (run keys, results files) keeps its historical 6-digit form.
  EXPECT_EQ(ParamValue(1.0 / 3.0).to_string(), "0.333333");
  EXPECT_EQ(ParamValue(1000000).to_string(), "1e+06");
}

// ------------------------------------------------------------------------------------------
// Every registered component: declaration well-formed, example keys declared, and the
// `dmconv describe` snippet parses as TOML and builds through the registry.

ParamValue FromToml(const toml::node& node) {
  if (const auto* i = node.as_integer()) return ParamValue(static_cast<std::int64_t>(i->get()));
  if (const auto* f = node.as_floating_point()) return ParamValue(f->get());
  if (const auto* s = node.as_string()) return ParamValue(s->get());
  const auto* a = node.as_array();
  if (a == nullptr) {
    ADD_FAILURE() << "unexpected TOML node";
    return ParamValue(0.0);
  }
  ParamValue::List list;
  for (const toml::node& element : *a) list.push_back(FromToml(element));
  return ParamValue(std::move(list));
}

template <class Product>
void ExpectEveryComponentDescribedAndBuildable(const Registry<Product>& registry) {
  ASSERT_FALSE(registry.entries().empty());
  for (const auto& entry : registry.entries()) {
    SCOPED_TRACE(registry.kind() + " '" + entry.name + "'");
    EXPECT_EQ(entry.component, registry.kind() + " '" + entry.name + "'");
    for (const ParamSpec& spec : entry.params) {
      EXPECT_FALSE(spec.meaning.empty()) << spec.name;
      EXPECT_EQ(spec.type == ParamType::kChoice, !spec.choices.empty()) << spec.name;
      // A default must satisfy its own declaration.
      if (spec.default_value) {
        EXPECT_NO_THROW(DeclaredParams({spec}, {{spec.name, *spec.default_value}}, "d")) << spec.name;
      }
    }
    for (const auto& [key, value] : entry.example.entries()) {
      bool declared = false;
      for (const ParamSpec& spec : entry.params) declared = declared || spec.name == key;
      EXPECT_TRUE(declared) << "example key '" << key << "' is not declared";
    }
    const std::string text = config_snippet(registry, entry);
    EXPECT_FALSE(describe_parameters(entry.params).empty());
    toml::table config;
    try {
      config = toml::parse(text);
    } catch (const toml::parse_error& error) {
      ADD_FAILURE() << "snippet does not parse: " << error.description() << "\n" << text;
      continue;
    }
    const toml::table* table = nullptr;
    if (registry.kind() == "sampler") {
      ASSERT_NE(config["sampling"]["samplers"][0].as_string(), nullptr) << text;
      EXPECT_EQ(config["sampling"]["samplers"][0].as_string()->get(), entry.name);
      table = config["sampling"]["params"][entry.name].as_table();
      EXPECT_EQ(table == nullptr, entry.params.empty()) << text;
    } else {
      const std::string section = registry.kind() == "score error" ? "score_error" : registry.kind();
      table = registry.kind() == "estimator" ? config["estimator"][0].as_table() : config[section].as_table();
      ASSERT_NE(table, nullptr) << text;
      ASSERT_NE((*table)["kind"].as_string(), nullptr) << text;
      EXPECT_EQ((*table)["kind"].as_string()->get(), entry.name);
    }
    ParamTable params;
    if (table != nullptr)
      for (const auto& [key, node] : *table)
        if (key.str() != "kind") params.set(std::string(key.str()), FromToml(node));
    EXPECT_EQ(params.entries().size(), entry.example.entries().size()) << text;
    try {
      EXPECT_NE(registry.make(entry.name, params), nullptr);
    } catch (const std::exception& error) {
      ADD_FAILURE() << "snippet does not build: " << error.what() << "\n" << text;
    }
    // An unknown key is a ParameterError on that key, listing every declared key.
    params.set("no_such_key", 1.0);
    const ParameterError e = Caught([&] { (void)registry.make(entry.name, params); });
    EXPECT_EQ(e.key(), "no_such_key");
    EXPECT_EQ(e.component(), entry.component);
    for (const ParamSpec& spec : entry.params) EXPECT_NE(e.rule().find(spec.name), std::string::npos) << spec.name;
  }
}

TEST(Declarations, EveryTargetIsDescribedAndItsSnippetBuilds) { ExpectEveryComponentDescribedAndBuildable(target_registry()); }
TEST(Declarations, EveryScheduleIsDescribedAndItsSnippetBuilds) { ExpectEveryComponentDescribedAndBuildable(schedule_registry()); }
TEST(Declarations, EverySamplerIsDescribedAndItsSnippetBuilds) { ExpectEveryComponentDescribedAndBuildable(sampler_registry()); }
TEST(Declarations, EveryEstimatorIsDescribedAndItsSnippetBuilds) {
  ExpectEveryComponentDescribedAndBuildable(estimator_registry());
}
TEST(Declarations, EveryScoreErrorIsDescribedAndItsSnippetBuilds) {
  ExpectEveryComponentDescribedAndBuildable(score_errors::score_error_registry());
}

// Cross-parameter and range rules of the factories: a ParameterError blaming the right key.
template <class Product>
void ExpectBlames(const Registry<Product>& registry, const std::string& name, const ParamTable& params,
                  const std::string& key, const std::string& rule_fragment) {
  SCOPED_TRACE(registry.kind() + " '" + name + "'");
  const ParameterError e = Caught([&] { (void)registry.make(name, params); });
  EXPECT_EQ(e.key(), key) << e.what();
  EXPECT_EQ(e.component(), registry.kind() + " '" + name + "'");
  EXPECT_NE(e.rule().find(rule_fragment), std::string::npos) << e.what() << "\nmissing: " << rule_fragment;
}

TEST(Declarations, FactoryRulesBlameTheirKey) {
  const auto& schedules = schedule_registry();
  ExpectBlames(schedules, "theory", {{"c0", 3.0}, {"c1", 3.0}}, "c1", "must exceed c0 = 3");
  ExpectBlames(schedules, "theory", {{"c0", -1.0}}, "c0", "must be positive (> 0)");
  ExpectBlames(schedules, "linear", {{"beta_start", 0.03}}, "beta_start", "beta_start <= beta_end");
  ExpectBlames(schedules, "logsnr_uniform", {{"first_one_minus_abar", 0.9}, {"last_abar", 0.5}}, "first_one_minus_abar",
               "less noisy than the last");
  const auto& targets = target_registry();
  ExpectBlames(targets, "gaussian", {{"mean", std::vector<double>{0.0}}}, "covariance", "exactly one of");
  ExpectBlames(targets, "gaussian",
               {{"mean", std::vector<double>{0.0, 0.0}},
                {"covariance", ParamValue::List{std::vector<double>{1.0, 2.0}, std::vector<double>{2.0, 1.0}}}},
               "covariance", "not positive definite");
  ExpectBlames(targets, "gaussian_mixture",
               {{"weights", std::vector<double>{0.5, 0.6}},
                {"means", ParamValue::List{std::vector<double>{0.0}, std::vector<double>{1.0}}},
                {"variance", std::vector<double>{1.0, 1.0}}},
               "weights", "sum to");
  ExpectBlames(targets, "gaussian_mixture",
               {{"weights", std::vector<double>{1.0}},
                {"means", ParamValue::List{std::vector<double>{0.0}, std::vector<double>{1.0}}},
                {"variance", std::vector<double>{1.0}}},
               "means", "rows");
  ExpectBlames(targets, "product", {{"dim", 2}, {"factor", "uniform_box"}, {"half_width", 1.0}, {"scale", 1.0}},
               "scale", "applies only to factor = \"student_t\"");
  ExpectBlames(targets, "product", {{"dim", 2}, {"factor", "student_t"}, {"scale", 1.0}}, "degrees_of_freedom",
               "is required with factor");
  ExpectBlames(targets, "sphere", {{"radius", 1.0}, {"dim", 1}}, "dim", "must lie in [2, 16383]");
  ExpectBlames(targets, "subgaussian_mixture", {{"dim", 1}, {"psi2_norm", 0.5}}, "psi2_norm", "sqrt(8 variance / 3)");
  ExpectBlames(targets, "random_mixture", {{"dim", 2}, {"components", 0}, {"radius", 1.0}, {"variance", 1.0}},
               "components", "must lie in [1, 4096]");
  const auto& samplers = sampler_registry();
  ExpectBlames(samplers, "pmm_pc", {{"langevin_time", 1e9}, {"langevin_step", 1e-3}}, "langevin_time",
               "Langevin iterations");
  ExpectBlames(samplers, "pmm_pc", {{"integrator", "euler"}}, "integrator", "must be one of");
  ExpectBlames(samplers, "song_pc", {{"skip_final_corrector", 2}}, "skip_final_corrector", "must lie in [0, 1]");
  ExpectBlames(samplers, "ddpm", {{"snr", 0.1}}, "snr", "unknown key; valid keys are: (none)");
  const auto& estimators = estimator_registry();
  ExpectBlames(estimators, "grid_law", {{"points", 33}}, "points", "even and >= 32");
  ExpectBlames(estimators, "grid_law", {{"order", 5}}, "order", "must be even");
  ExpectBlames(estimators, "change_of_variables_quadrature", {{"order", 11}}, "order", "2..10, 15, 20");
  ExpectBlames(estimators, "mmd", {{"block", 2}}, "block", "0 (all pairs) or >= 3");
  ExpectBlames(estimators, "separable", {{"exact_tv_max_dim", 3}}, "exact_tv_max_dim", "must lie in [1, 2]");
  const auto& errors = score_errors::score_error_registry();
  ExpectBlames(errors, "constant_bias", {{"a", 0.1}, {"width", 0.2}}, "width", "only applies to profile");
  ExpectBlames(errors, "constant_bias", {{"a", 0.1}, {"direction", std::vector<double>{0.0, 0.0}}}, "direction",
               "non-zero");
  ExpectBlames(errors, "fourier", {{"a", 0.1}, {"omega", 1.0}, {"features", 0}}, "features", "must lie in [1, 4096]");
  ExpectBlames(errors, "misscaled", {{"factor", 0.0}}, "factor", "must be positive (> 0)");
}

}  // namespace
}  // namespace dmconv
