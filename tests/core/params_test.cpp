// Tests of ParamTable / ParamValue (core/params.hpp) and Registry::find (core/registry.hpp):
// typed getters return what was stored, and every failure throws InvalidArgument whose
// message names the context, the key, the offending value and the rule (docs/design.md §1.3).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/params.hpp"
#include "core/registry.hpp"
#include "core/schedule.hpp"
#include "targets/registry.hpp"

namespace dmconv {
namespace {

const std::string kContext = "target 'demo'";

// Returns the InvalidArgument message of `statement`, or fails the test.
template <class Statement>
std::string InvalidMessage(Statement&& statement) {
  try {
    statement();
  } catch (const InvalidArgument& error) {
    return error.what();
  } catch (const std::exception& error) {
    ADD_FAILURE() << "threw a different exception: " << error.what();
    return {};
  }
  ADD_FAILURE() << "did not throw";
  return {};
}

ParamTable Sample() {
  return {{"x", 2.5},
          {"n", 7},
          {"big", 1e16},
          {"name", "hello"},
          {"v", std::vector<double>{1.0, -2.0, 3.5}},
          {"m", ParamValue::List{std::vector<double>{1, 2, 3}, std::vector<double>{4, 5, 6}}},
          {"ragged", ParamValue::List{std::vector<double>{1, 2}, std::vector<double>{3}}},
          {"mixed", ParamValue::List{ParamValue(1.0), ParamValue("two")}},
          {"empty", ParamValue::List{}},
          {"mats", ParamValue::List{ParamValue::List{std::vector<double>{1, 0}, std::vector<double>{0, 1}},
                                    ParamValue::List{std::vector<double>{2}}}},
          {"inf", std::numeric_limits<double>::infinity()},
          {"nan", std::nan("")}};
}

TEST(ParamTable, NumberGetter) {
  const ParamTable p = Sample();
  EXPECT_EQ(p.number(kContext, "x"), 2.5);
  EXPECT_EQ(p.number(kContext, "n"), 7.0);
  EXPECT_EQ(p.number(kContext, "absent", 4.25), 4.25);  // fallback only when absent
  EXPECT_EQ(p.number(kContext, "x", 9.0), 2.5);         // a present key wins over the fallback

  std::string m = InvalidMessage([&] { (void)p.number(kContext, "absent"); });
  EXPECT_EQ(m, "target 'demo': key 'absent': is required but missing");
  m = InvalidMessage([&] { (void)p.number(kContext, "name"); });
  EXPECT_EQ(m, "target 'demo': key 'name' = \"hello\": must be a number");
  // A fallback does not excuse a present value of the wrong type.
  m = InvalidMessage([&] { (void)p.number(kContext, "v", 1.0); });
  EXPECT_EQ(m, "target 'demo': key 'v' = [1, -2, 3.5]: must be a number");
  m = InvalidMessage([&] { (void)p.number(kContext, "inf"); });
  EXPECT_EQ(m, "target 'demo': key 'inf' = inf: must be finite");
  m = InvalidMessage([&] { (void)p.number(kContext, "nan"); });
  EXPECT_NE(m.find("key 'nan'"), std::string::npos) << m;
  EXPECT_NE(m.find("must be finite"), std::string::npos) << m;
}

TEST(ParamTable, IntegerGetter) {
  const ParamTable p = Sample();
  EXPECT_EQ(p.integer(kContext, "n"), 7L);
  // An exact integer beyond 2^53 stays exact.
  const ParamTable exact{{"k", std::int64_t{9007199254740993}}};
  EXPECT_EQ(exact.integer(kContext, "k"), std::int64_t{9007199254740993});
  EXPECT_EQ(p.integer(kContext, "absent", -3L), -3L);
  EXPECT_EQ(InvalidMessage([&] { (void)p.integer(kContext, "x"); }),
            "target 'demo': key 'x' = 2.5: must be an integer");
  // Beyond 2^53 a double no longer holds every integer: rejected.
  EXPECT_EQ(InvalidMessage([&] { (void)p.integer(kContext, "big"); }),
            "target 'demo': key 'big' = 1e+16: must be an integer");
  EXPECT_EQ(InvalidMessage([&] { (void)p.integer(kContext, "name"); }),
            "target 'demo': key 'name' = \"hello\": must be an integer");
  EXPECT_EQ(InvalidMessage([&] { (void)p.integer(kContext, "absent"); }),
            "target 'demo': key 'absent': is required but missing");
  const ParamTable negative{{"k", -12.0}};
  EXPECT_EQ(negative.integer(kContext, "k"), -12L);
}

TEST(ParamTable, StringGetter) {
  const ParamTable p = Sample();
  EXPECT_EQ(p.string(kContext, "name"), "hello");
  EXPECT_EQ(p.string(kContext, "absent", std::string("dflt")), "dflt");
  EXPECT_EQ(InvalidMessage([&] { (void)p.string(kContext, "x"); }),
            "target 'demo': key 'x' = 2.5: must be a string");
  EXPECT_EQ(InvalidMessage([&] { (void)p.string(kContext, "absent"); }),
            "target 'demo': key 'absent': is required but missing");
}

TEST(ParamTable, VectorGetter) {
  const ParamTable p = Sample();
  const Vector v = p.vector(kContext, "v");
  ASSERT_EQ(v.size(), 3);
  EXPECT_EQ(v(0), 1.0);
  EXPECT_EQ(v(1), -2.0);
  EXPECT_EQ(v(2), 3.5);
  EXPECT_EQ(p.vector(kContext, "empty").size(), 0);
  EXPECT_EQ(InvalidMessage([&] { (void)p.vector(kContext, "x"); }),
            "target 'demo': key 'x' = 2.5: must be a list of numbers");
  EXPECT_EQ(InvalidMessage([&] { (void)p.vector(kContext, "mixed"); }),
            "target 'demo': key 'mixed' = [1, \"two\"]: must be a list of numbers");
  EXPECT_EQ(InvalidMessage([&] { (void)p.vector(kContext, "absent"); }),
            "target 'demo': key 'absent': is required but missing");
}

TEST(ParamTable, MatrixGetters) {
  const ParamTable p = Sample();
  const Matrix m = p.matrix(kContext, "m");  // list of rows
  ASSERT_EQ(m.rows(), 2);
  ASSERT_EQ(m.cols(), 3);
  EXPECT_EQ(m(0, 2), 3.0);
  EXPECT_EQ(m(1, 0), 4.0);
  EXPECT_EQ(InvalidMessage([&] { (void)p.matrix(kContext, "ragged"); }),
            "target 'demo': key 'ragged' = [[1, 2], [3]]: all rows of the matrix must have the same length");
  EXPECT_EQ(InvalidMessage([&] { (void)p.matrix(kContext, "empty"); }),
            "target 'demo': key 'empty' = []: must be a non-empty list of rows (a matrix)");
  EXPECT_EQ(InvalidMessage([&] { (void)p.matrix(kContext, "x"); }),
            "target 'demo': key 'x' = 2.5: must be a non-empty list of rows (a matrix)");
  // A list of numbers is not a list of rows.
  EXPECT_NE(InvalidMessage([&] { (void)p.matrix(kContext, "v"); }).find("must be a list of numbers"), std::string::npos);

  const std::vector<Matrix> mats = p.matrices(kContext, "mats");
  ASSERT_EQ(mats.size(), 2u);
  EXPECT_TRUE(mats[0].isApprox(Matrix::Identity(2, 2)));
  ASSERT_EQ(mats[1].rows(), 1);
  EXPECT_EQ(mats[1](0, 0), 2.0);
  EXPECT_EQ(InvalidMessage([&] { (void)p.matrices(kContext, "empty"); }),
            "target 'demo': key 'empty' = []: must be a non-empty list of matrices");
  EXPECT_EQ(InvalidMessage([&] { (void)p.matrices(kContext, "absent"); }),
            "target 'demo': key 'absent': is required but missing");
}

// ParamValue(Matrix) stores a list of rows; it reads back unchanged.
TEST(ParamTable, MatrixRoundTrip) {
  Matrix m(2, 3);
  m << 1.5, -2, 0.25, 4, 5e-3, -6;
  ParamTable p;
  p.set("m", m);
  EXPECT_EQ(p.matrix(kContext, "m"), m);
  EXPECT_EQ(p.entries().at("m").to_string(), "[[1.5, -2, 0.25], [4, 0.005, -6]]");
  p.set("m", 3.0);  // set replaces
  EXPECT_EQ(p.number(kContext, "m"), 3.0);
  EXPECT_TRUE(p.has("m"));
  EXPECT_FALSE(p.has("q"));
}

TEST(ParamTable, RequireOnlyListsTheValidKeys) {
  const ParamTable p{{"mean", 1.0}, {"covarience", 2.0}};
  EXPECT_NO_THROW(p.require_only(kContext, {"mean", "covarience"}));
  // Keys are listed in sorted order.
  EXPECT_EQ(InvalidMessage([&] { p.require_only(kContext, {"variance", "mean", "covariance"}); }),
            "target 'demo': key 'covarience' = 2: unknown key; valid keys are: covariance, mean, variance");
  EXPECT_EQ(InvalidMessage([&] { p.require_only(kContext, {}); }).find("valid keys are: (none)") != std::string::npos,
            true);
  EXPECT_NO_THROW(ParamTable().require_only(kContext, {}));
}

// ------------------------------------------------------------------------------------------
TEST(RegistryFind, FindListsValidNames) {
  Registry<int> registry("widget");
  registry.add({"alpha", "first", "nowhere", {}, [](const DeclaredParams&) { return std::make_unique<int>(1); }, {}});
  registry.add({"beta", "second", "nowhere", {ParamSpec::integer("k", "the value")},
                [](const DeclaredParams& p) { return std::make_unique<int>(static_cast<int>(p.integer("k"))); },
                {{"k", 5}}});
  EXPECT_EQ(registry.kind(), "widget");
  EXPECT_EQ(registry.find("beta").description, "second");
  EXPECT_EQ(registry.find("beta").component, "widget 'beta'");
  EXPECT_EQ(*registry.make("alpha", {}), 1);
  EXPECT_EQ(*registry.make_example("beta"), 5);
  EXPECT_EQ(*registry.make("beta", {{"k", 9}}), 9);
  EXPECT_EQ(InvalidMessage([&] { (void)registry.find("gamma"); }),
            "unknown widget 'gamma'; valid widgets are: alpha, beta");
  EXPECT_NE(InvalidMessage([&] { (void)registry.make("gamma", {}); }).find("valid widgets are: alpha, beta"),
            std::string::npos);
  // The declaration is applied before the factory runs.
  EXPECT_EQ(InvalidMessage([&] { (void)registry.make("alpha", {{"k", 1}}); }),
            "widget 'alpha': k = 1: unknown key; valid keys are: (none)");
  EXPECT_EQ(InvalidMessage([&] { (void)registry.make("beta", {}); }),
            "widget 'beta': k = (missing): is required but missing");
}

// An InvalidArgument escaping a factory (a component's own check that names no key) still
// reaches the caller as a ParameterError, with an empty key.
TEST(RegistryFind, UnkeyedFactoryErrorsBecomeParameterErrors) {
  Registry<int> registry("widget");
  registry.add({"gamma", "third", "nowhere", {},
                [](const DeclaredParams&) -> std::unique_ptr<int> { throw InvalidArgument("widget 'gamma': broken"); },
                {}});
  try {
    (void)registry.make("gamma", {});
    ADD_FAILURE() << "did not throw";
  } catch (const ParameterError& error) {
    EXPECT_EQ(error.key(), "");
    EXPECT_EQ(error.component(), "widget 'gamma'");
    EXPECT_EQ(std::string(error.what()), "widget 'gamma': broken");
  }
}

// The real registries: an unknown name lists every registered name.
template <class Product>
void ExpectFindListsAll(const Registry<Product>& registry) {
  const std::string message = InvalidMessage([&] { (void)registry.find("no-such-thing"); });
  EXPECT_NE(message.find("unknown " + registry.kind() + " 'no-such-thing'"), std::string::npos) << message;
  ASSERT_FALSE(registry.entries().empty());
  for (const auto& entry : registry.entries()) {
    EXPECT_NE(message.find(entry.name), std::string::npos) << message;
    EXPECT_FALSE(entry.description.empty()) << entry.name;
    EXPECT_FALSE(entry.source.empty()) << entry.name;
    EXPECT_NE(registry.make_example(entry.name), nullptr) << entry.name;
  }
}

TEST(RegistryFind, RealRegistriesListTheirNames) {
  ExpectFindListsAll(schedule_registry());
  ExpectFindListsAll(target_registry());
  EXPECT_EQ(schedule_registry().kind(), "schedule");
  EXPECT_EQ(target_registry().kind(), "target");
}

}  // namespace
}  // namespace dmconv
