// Score-error models (score_errors/): every registered model and a set of harder instances on
// the 2-D example mixture (full anisotropic covariances) at three noise levels:
//   (a) analytic Jacobian = central differences of evaluate() (relative 1e-6);
//   (b) jacobian_apply = jacobian() times the directions, bitwise batch invariance of
//       evaluate() and jacobian_apply();
//   (c) log_abs_det_linear_step = log |det| of a dense LU of a I + c jacobian();
//   (d) evaluations are counted per particle (NFE), Jacobians are not;
// plus the formulas themselves (constant shift, the §6.6 sine, the mis-scaled level, time
// profiles), seeding of the random field, and bad parameters (key, value and rule named).
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <numbers>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "score_errors/constant_bias.hpp"
#include "score_errors/fourier.hpp"
#include "score_errors/misscaled.hpp"
#include "score_errors/score_error.hpp"
#include "score_errors/time_profile.hpp"
#include "targets/registry.hpp"
#include "support/theory_targets.hpp"

namespace dmconv::score_errors {
namespace {

struct ModelCase {
  std::string label;
  std::string kind;
  ParamTable params;
};

void PrintTo(const ModelCase& c, std::ostream* os) { *os << c.label; }

std::vector<ModelCase> AllModelCases() {
  std::vector<ModelCase> cases;
  for (const auto& entry : score_error_registry().entries())
    cases.push_back({"registry_" + entry.name, entry.name, entry.example});
  cases.push_back({"bias_direction_small_noise", "constant_bias",
                   {{"a", 0.3}, {"direction", std::vector<double>{1.0, -2.0}}, {"profile", "small_noise"}, {"width", 0.2}}});
  cases.push_back({"fourier_M16_omega4_large_noise", "fourier",
                   {{"a", 0.2}, {"omega", 4.0}, {"features", 16}, {"profile", "large_noise"}, {"width", 0.3}}});
  cases.push_back({"fourier_M3_omega9", "fourier", {{"a", 0.1}, {"omega", 9.0}, {"features", 3}}});
  cases.push_back({"fourier_fixed_direction_phase", "fourier",
                   {{"a", 0.5}, {"omega", 2.0}, {"features", 1}, {"direction", std::vector<double>{0.6, 0.8}}, {"phase", 0.3}}});
  cases.push_back({"misscaled_0.5", "misscaled", {{"factor", 0.5}}});
  cases.push_back({"misscaled_3", "misscaled", {{"factor", 3.0}}});
  return cases;
}

struct LevelCase {
  std::string label;
  NoiseLevel level;
};

void PrintTo(const LevelCase& c, std::ostream* os) { *os << c.label; }

const std::vector<LevelCase> kLevels = {
    {"small", NoiseLevel::from_one_minus_abar(0.02)},
    {"medium", NoiseLevel(0.5, 0.5)},
    {"large", NoiseLevel::from_abar(1e-3)},
};

constexpr std::uint64_t kSeed = 2024;
const RandomStreams kStreams(7, 0);

bool BitwiseEqual(const Matrix& a, const Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0;
}

class ScoreErrorModel : public ::testing::TestWithParam<std::tuple<ModelCase, LevelCase>> {
 protected:
  void SetUp() override {
    target_ = target_registry().make_example("gaussian_mixture");
    model_ = make_score_model(std::get<0>(GetParam()).kind, std::get<0>(GetParam()).params, *target_, kSeed);
  }
  const NoiseLevel& Level() const { return std::get<1>(GetParam()).level; }
  // Points drawn from p_t plus a few far out.
  Matrix Points(Eigen::Index n = 24) const {
    Matrix x = target_->sample(Level(), kStreams, 0, n, StreamTag(StreamPurpose::kTest, 40));
    x.col(0) << 4.0, -3.0;
    x.col(1) << -5.0, 5.0;
    return x;
  }
  std::unique_ptr<Target> target_;
  std::unique_ptr<ScoreModel> model_;
};

// (a) Central differences with step h and 2h, Richardson-extrapolated (error O(h^4)); the
// comparison is relative to the largest Jacobian entry at that point.
TEST_P(ScoreErrorModel, JacobianMatchesCentralDifferencesOfEvaluate) {
  ASSERT_TRUE(model_->has_jacobian());
  const Matrix x = Points(12);
  const Eigen::Index d = x.rows();
  const double h = 1e-4 * std::sqrt(Level().one_minus_abar());
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    Matrix jacobian(d, d);
    model_->jacobian(Level(), x.col(j), jacobian);
    Matrix fd(d, d);
    for (Eigen::Index i = 0; i < d; ++i) {
      Matrix probes(d, 4);
      for (int k = 0; k < 4; ++k) probes.col(k) = x.col(j);
      probes(i, 0) += h, probes(i, 1) -= h, probes(i, 2) += 2 * h, probes(i, 3) -= 2 * h;
      Matrix s(d, 4);
      model_->evaluate(Level(), probes, s);
      const Vector d1 = (s.col(0) - s.col(1)) / (2 * h), d2 = (s.col(2) - s.col(3)) / (4 * h);
      fd.col(i) = (4.0 * d1 - d2) / 3.0;
    }
    const double scale = jacobian.cwiseAbs().maxCoeff();
    EXPECT_LE((fd - jacobian).cwiseAbs().maxCoeff(), 1e-6 * scale)
        << "point " << j << "\nanalytic\n" << jacobian << "\nfinite differences\n" << fd;
  }
}

// (b) jacobian_apply against the dense Jacobian, and batch invariance (bitwise) of evaluate()
// and jacobian_apply() over sub-batches of 1, 5 and 16.
TEST_P(ScoreErrorModel, JacobianApplyMatchesJacobianAndResultsDoNotDependOnTheBatch) {
  const Eigen::Index n = 37, m = 3;
  const Matrix x = Points(n);
  const Eigen::Index d = x.rows();
  Matrix v(d, n * m);
  kStreams.fill_normals(0, StreamTag(StreamPurpose::kTest, 41), v);
  Matrix applied(d, n * m), s(d, n);
  model_->jacobian_apply(Level(), x, v, applied);
  model_->evaluate(Level(), x, s);
  for (Eigen::Index j = 0; j < n; ++j) {
    Matrix jacobian(d, d);
    model_->jacobian(Level(), x.col(j), jacobian);
    const Matrix expected = jacobian * v.middleCols(j * m, m);
    const double scale = jacobian.cwiseAbs().maxCoeff() * v.middleCols(j * m, m).cwiseAbs().maxCoeff() * static_cast<double>(d);
    EXPECT_LE((applied.middleCols(j * m, m) - expected).cwiseAbs().maxCoeff(), 1e-12 * scale) << "particle " << j;
  }
  for (Eigen::Index chunk : {Eigen::Index{1}, Eigen::Index{5}, Eigen::Index{16}}) {
    Matrix applied_chunks(d, n * m), s_chunks(d, n);
    for (Eigen::Index j = 0; j < n; j += chunk) {
      const Eigen::Index len = std::min(chunk, n - j);
      model_->jacobian_apply(Level(), x.middleCols(j, len), v.middleCols(j * m, len * m),
                             applied_chunks.middleCols(j * m, len * m));
      model_->evaluate(Level(), x.middleCols(j, len), s_chunks.middleCols(j, len));
    }
    EXPECT_TRUE(BitwiseEqual(s, s_chunks)) << "evaluate, chunk " << chunk;
    EXPECT_TRUE(BitwiseEqual(applied, applied_chunks)) << "jacobian_apply, chunk " << chunk;
  }
}

// (c) The linear-step log-determinant used by change of variables (ddim, ode_euler).
TEST_P(ScoreErrorModel, LogAbsDetLinearStepMatchesDenseLu) {
  const Matrix x = Points(20);
  const Eigen::Index d = x.rows();
  const double sigma2 = Level().one_minus_abar();
  for (const auto& [a, c] : std::vector<std::pair<double, double>>{{1.01, 0.02 * sigma2}, {0.9, -0.3 * sigma2}, {1.0, 0.5 * sigma2}}) {
    Vector log_det(x.cols());
    model_->log_abs_det_linear_step(Level(), x, a, c, log_det);
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      Matrix jacobian(d, d);
      model_->jacobian(Level(), x.col(j), jacobian);
      Matrix step = c * jacobian;
      step.diagonal().array() += a;
      const Eigen::PartialPivLU<Matrix> lu(step);
      const double expected = lu.matrixLU().diagonal().array().abs().log().sum();
      EXPECT_NEAR(log_det(j), expected, 1e-11 * (1.0 + std::fabs(expected))) << "a=" << a << " c=" << c << " particle " << j;
    }
  }
}

// (d) NFE: evaluate() counts columns; Jacobians and determinants are free.
TEST_P(ScoreErrorModel, EvaluationsAreCountedPerParticle) {
  const Matrix x = Points(7);
  const Eigen::Index d = x.rows();
  model_->reset_count();
  Matrix s(d, 7);
  model_->evaluate(Level(), x, s);
  model_->evaluate(Level(), x.leftCols(3), s.leftCols(3));
  EXPECT_EQ(model_->particle_evaluations(), 10u);
  Matrix jacobian(d, d), applied(d, 7);
  Vector log_det(7);
  model_->jacobian(Level(), x.col(0), jacobian);
  model_->jacobian_apply(Level(), x, x, applied);
  model_->log_abs_det_linear_step(Level(), x, 1.0, 0.1, log_det);
  EXPECT_EQ(model_->particle_evaluations(), 10u);
}

std::string CaseName(const testing::TestParamInfo<std::tuple<ModelCase, LevelCase>>& info) {
  std::string label = std::get<0>(info.param).label + "_" + std::get<1>(info.param).label;
  for (char& ch : label)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return label;
}

INSTANTIATE_TEST_SUITE_P(Models, ScoreErrorModel,
                         testing::Combine(testing::ValuesIn(AllModelCases()), testing::ValuesIn(kLevels)), CaseName);

// ------------------------------------------------------------------------------------------
// The formulas.

TEST(ScoreErrorFormulas, NoneIsTheExactScore) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const auto model = make_score_model(ScoreErrorSpec{}, *target, 1);
  EXPECT_NE(dynamic_cast<const ExactScore*>(model.get()), nullptr);
}

TEST(ScoreErrorFormulas, ConstantBiasShiftsByAUnitDirectionTimesTheProfile) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const NoiseLevel level(0.7, 0.3);
  const Matrix x = target->sample(level, kStreams, 0, 9, StreamTag(StreamPurpose::kTest, 42));
  for (const char* profile : {"uniform", "small_noise", "large_noise"}) {
    ParamTable params{{"a", 0.25}, {"direction", std::vector<double>{3.0, -4.0}}, {"profile", profile}};
    const auto model = make_score_model("constant_bias", params, *target, 1);
    const double w = std::string(profile) == "uniform" ? 1.0
                     : std::string(profile) == "small_noise" ? std::exp(-0.3 / 0.1) : std::exp(-0.7 / 0.1);
    Matrix s(2, 9);
    model->evaluate(level, x, s);
    const Matrix delta = s - target->score(level, x);
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      EXPECT_NEAR(delta(0, j), 0.25 * w * 0.6, 1e-14) << profile;
      EXPECT_NEAR(delta(1, j), -0.25 * w * 0.8, 1e-14) << profile;
    }
    EXPECT_FALSE(model->is_affine()) << "a mixture score is not affine";
  }
  // Default direction e_1.
  const auto model = make_score_model("constant_bias", {{"a", 0.5}}, *target, 1);
  Matrix s(2, 9);
  model->evaluate(level, x, s);
  const Matrix delta = s - target->score(level, x);
  EXPECT_NEAR(delta.row(0).minCoeff(), 0.5, 1e-14);
  EXPECT_NEAR(delta.row(1).cwiseAbs().maxCoeff(), 0.0, 1e-14);
}

TEST(ScoreErrorFormulas, AffinityFollowsTheTargetAndTheModel) {
  const auto gaussian = target_registry().make_example("gaussian");
  const auto mixture = target_registry().make_example("gaussian_mixture");
  EXPECT_TRUE(make_score_model("constant_bias", {{"a", 0.1}}, *gaussian, 1)->is_affine());
  EXPECT_FALSE(make_score_model("constant_bias", {{"a", 0.1}}, *mixture, 1)->is_affine());
  EXPECT_TRUE(make_score_model("misscaled", {{"factor", 2.0}}, *gaussian, 1)->is_affine());
  EXPECT_FALSE(make_score_model("fourier", {{"a", 0.1}, {"omega", 1.0}}, *gaussian, 1)->is_affine());
  EXPECT_TRUE(make_score_model("fourier", {{"a", 0.1}, {"omega", 0.0}}, *gaussian, 1)->is_affine());
  // The affine claim is true: s(x) - s(y) = J (x - y) with the Jacobian at any point.
  const auto model = make_score_model("constant_bias", {{"a", 0.1}, {"profile", "small_noise"}}, *gaussian, 1);
  const NoiseLevel level(0.4, 0.6);
  const Matrix x = gaussian->sample(level, kStreams, 0, 5, StreamTag(StreamPurpose::kTest, 43));
  Matrix s(2, 5), J(2, 2);
  model->evaluate(level, x, s);
  model->jacobian(level, x.col(0), J);
  for (Eigen::Index j = 1; j < 5; ++j)
    EXPECT_LE((s.col(j) - s.col(0) - J * (x.col(j) - x.col(0))).cwiseAbs().maxCoeff(), 1e-12);
}

// docs/theory.md §6.6 / pert.py: delta(x) = eps sqrt(2) sin(omega x + 0.3) in 1-D is
// fourier with M = 1, direction = [1], phase = 0.3.
TEST(ScoreErrorFormulas, FourierWithFixedDirectionAndPhaseIsTheSection66Sine) {
  const auto target = test_support::theory_mixture_1d();
  const double eps = 0.002, omega = 16.0;
  const auto model = make_score_model(
      "fourier", {{"a", eps}, {"omega", omega}, {"features", 1}, {"direction", std::vector<double>{1.0}}, {"phase", 0.3}},
      *target, 99);
  const NoiseLevel level(0.2, 0.8);
  Matrix x(1, 5);
  x << -3.0, -0.4, 0.0, 0.77, 2.5;
  Matrix s(1, 5), J(1, 1);
  model->evaluate(level, x, s);
  const Matrix exact = target->score(level, x);
  for (Eigen::Index j = 0; j < 5; ++j) {
    const double xj = x(0, j);
    EXPECT_NEAR(s(0, j) - exact(0, j), eps * std::sqrt(2.0) * std::sin(omega * xj + 0.3), 1e-15);
    model->jacobian(level, x.col(j), J);
    EXPECT_NEAR(J(0, 0) - target->score_jacobian(level, x.col(j))(0, 0),
                eps * std::sqrt(2.0) * omega * std::cos(omega * xj + 0.3), 1e-13);
  }
}

TEST(ScoreErrorFormulas, FourierFieldIsDrawnFromTheSeedWithUnitDirections) {
  const FourierField a = FourierField::draw(3, 16, 5), b = FourierField::draw(3, 16, 5), c = FourierField::draw(3, 16, 6);
  EXPECT_TRUE(BitwiseEqual(a.output_directions, b.output_directions));
  EXPECT_TRUE(BitwiseEqual(a.input_directions, b.input_directions));
  EXPECT_TRUE(BitwiseEqual(a.phases, b.phases));
  EXPECT_FALSE(BitwiseEqual(a.phases, c.phases));
  EXPECT_FALSE(BitwiseEqual(a.output_directions, c.output_directions));
  EXPECT_FALSE(BitwiseEqual(a.output_directions, a.input_directions));
  for (int m = 0; m < 16; ++m) {
    EXPECT_NEAR(a.output_directions.col(m).norm(), 1.0, 1e-15);
    EXPECT_NEAR(a.input_directions.col(m).norm(), 1.0, 1e-15);
    EXPECT_GE(a.phases(m), 0.0);
    EXPECT_LT(a.phases(m), 2.0 * std::numbers::pi);
  }
  // Fewer features are a prefix of more (feature m depends on m alone).
  const FourierField prefix = FourierField::draw(3, 4, 5);
  EXPECT_TRUE(BitwiseEqual(prefix.phases, a.phases.head(4)));
  // The same seed through the registry gives the same field.
  const auto target = target_registry().make("gaussian", {{"mean", std::vector<double>{0, 0, 0}}, {"variance", 1.0}});
  const auto model = make_score_model("fourier", {{"a", 0.1}, {"omega", 2.0}}, *target, 5);
  const auto& fourier = dynamic_cast<const FourierScore&>(*model);
  EXPECT_TRUE(BitwiseEqual(fourier.field().phases, a.phases));
}

// Averaged over the phases, E||delta||^2 = a^2 w^2 at any fixed x: check with many features
// (the field average over m of 2 sin^2 at one point is ~1 for M large).
TEST(ScoreErrorFormulas, FourierMeanSquareOverFeaturesIsASquared) {
  const auto target = target_registry().make("gaussian", {{"mean", std::vector<double>{0, 0}}, {"variance", 1.0}});
  const int M = 4096;
  const auto model = make_score_model("fourier", {{"a", 1.0}, {"omega", 3.0}, {"features", M}}, *target, 17);
  const auto& fourier = dynamic_cast<const FourierScore&>(*model);
  Vector x(2);
  x << 0.3, -1.2;
  double mean = 0.0;
  for (int m = 0; m < M; ++m) {
    const double arg = 3.0 * fourier.field().input_directions.col(m).dot(x) + fourier.field().phases(m);
    mean += 2.0 * std::sin(arg) * std::sin(arg) / M;
  }
  EXPECT_NEAR(mean, 1.0, 4.0 * std::sqrt(0.5 / M));  // Var(2 sin^2) = 1/2
}

TEST(ScoreErrorFormulas, MisscaledUsesTheExactScoreAtTheScaledNoiseToSignalRatio) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const MisscaledScore model(*target, 2.5);
  for (const NoiseLevel level : {NoiseLevel::from_one_minus_abar(1e-6), NoiseLevel(0.5, 0.5), NoiseLevel::from_abar(1e-12)}) {
    const NoiseLevel scaled = model.misscaled(level);
    EXPECT_NEAR(scaled.one_minus_abar() / scaled.abar(), 2.5 * level.one_minus_abar() / level.abar(),
                1e-14 * 2.5 * level.one_minus_abar() / level.abar());
    EXPECT_NEAR(scaled.abar() + scaled.one_minus_abar(), 1.0, 1e-15);
    EXPECT_NEAR(scaled.lambda(), level.lambda() - 0.5 * std::log(2.5), 1e-12);
    const Matrix x = target->sample(level, kStreams, 0, 6, StreamTag(StreamPurpose::kTest, 44));
    Matrix s(2, 6);
    model.evaluate(level, x, s);
    EXPECT_TRUE(BitwiseEqual(s, target->score(scaled, x)));
  }
  // Small noise: sigma'^2 = factor sigma^2 / (1 + (factor - 1) sigma^2), factor sigma^2 to first order.
  EXPECT_NEAR(model.misscaled(NoiseLevel::from_one_minus_abar(1e-6)).one_minus_abar(), 2.5e-6 / (1.0 + 1.5e-6), 1e-21);
  // factor = 1 is the identity, bitwise.
  const MisscaledScore identity(*target, 1.0);
  const NoiseLevel level(0.3, 0.7);
  EXPECT_EQ(identity.misscaled(level).abar(), 0.3);
  EXPECT_EQ(identity.misscaled(level).one_minus_abar(), 0.7);
}

TEST(ScoreErrorFormulas, TimeProfilesDependOnTheNoiseLevelOnly) {
  const TimeProfile uniform = TimeProfile::uniform();
  const TimeProfile small(TimeProfile::Kind::kSmallNoise, 0.2, "test");
  const TimeProfile large(TimeProfile::Kind::kLargeNoise, 0.2, "test");
  for (const NoiseLevel level : {NoiseLevel::from_one_minus_abar(1e-5), NoiseLevel(0.5, 0.5), NoiseLevel::from_abar(1e-9)}) {
    EXPECT_EQ(uniform.weight(level), 1.0);
    EXPECT_DOUBLE_EQ(small.weight(level), std::exp(-level.one_minus_abar() / 0.2));
    EXPECT_DOUBLE_EQ(large.weight(level), std::exp(-level.abar() / 0.2));
    EXPECT_LE(small.weight(level), 1.0);
    EXPECT_LE(large.weight(level), 1.0);
  }
  EXPECT_GT(small.weight(NoiseLevel::from_one_minus_abar(1e-5)), 0.9999);
  EXPECT_LT(small.weight(NoiseLevel::from_abar(1e-9)), 0.01);
  EXPECT_GT(large.weight(NoiseLevel::from_abar(1e-9)), 0.9999);
  EXPECT_LT(large.weight(NoiseLevel::from_one_minus_abar(1e-5)), 0.01);
  EXPECT_EQ(small.describe(), "small_noise(width=0.2)");
}

TEST(ScoreErrorRegistry, EveryEntryBuildsFromItsExampleAndDescribesItself) {
  const auto target = target_registry().make_example("product");
  for (const auto& entry : score_error_registry().entries()) {
    EXPECT_FALSE(entry.description.empty()) << entry.name;
    EXPECT_FALSE(entry.source.empty()) << entry.name;
    const auto factory = score_error_registry().make_example(entry.name);
    EXPECT_EQ(factory->name(), entry.name);
    EXPECT_FALSE(factory->describe().empty()) << entry.name;
    const auto model = factory->make(*target, 3);
    EXPECT_EQ(model->dim(), target->dim()) << entry.name;
    EXPECT_TRUE(model->has_jacobian()) << entry.name;
  }
  EXPECT_EQ(score_error_registry().make("fourier", {{"a", 0.002}, {"omega", 4.0}, {"features", 1}, {"phase", 0.3}})->describe(),
            "a=0.002, omega=4, features=1, phase=0.3, profile=uniform");
}

// ------------------------------------------------------------------------------------------
// Bad parameters: InvalidArgument naming the key, the value and the rule.

template <class Statement>
void ExpectInvalid(Statement&& statement, const std::vector<std::string>& fragments) {
  try {
    statement();
    ADD_FAILURE() << "no InvalidArgument thrown (expected a message with '" << fragments.front() << "')";
  } catch (const InvalidArgument& error) {
    const std::string message = error.what();
    for (const std::string& fragment : fragments)
      EXPECT_NE(message.find(fragment), std::string::npos) << "message: " << message << "\nmissing: " << fragment;
  }
}

TEST(ScoreErrorParameters, BadInputNamesKeyValueAndRule) {
  const auto& r = score_error_registry();
  const auto target = target_registry().make_example("gaussian_mixture");
  ExpectInvalid([&] { r.make("gaussian_noise", {}); }, {"unknown score error 'gaussian_noise'", "constant_bias", "fourier", "misscaled", "none"});
  ExpectInvalid([&] { r.make("none", {{"a", 1.0}}); }, {"score error 'none'", "a = ", "unknown key"});
  ExpectInvalid([&] { r.make("constant_bias", {}); }, {"score error 'constant_bias'", "a = ", "required"});
  ExpectInvalid([&] { r.make("constant_bias", {{"a", -0.5}}); }, {"a = -0.5", "must be >= 0"});
  ExpectInvalid([&] { r.make("constant_bias", {{"a", 0.1}, {"amplitude", 1.0}}); }, {"amplitude = ", "unknown key", "valid keys are: a, direction, profile, width"});
  ExpectInvalid([&] { r.make("constant_bias", {{"a", 0.1}, {"direction", std::vector<double>{0.0, 0.0}}}); },
                {"direction = [0, 0]", "non-zero"});
  ExpectInvalid([&] { r.make("constant_bias", {{"a", 0.1}, {"direction", std::vector<double>{1.0, 0.0, 0.0}}})->make(*target, 1); },
                {"direction = [1, 0, 0]: has 3 entries", "d = 2"});
  ExpectInvalid([&] { r.make("constant_bias", {{"a", 0.1}, {"profile", "late"}}); },
                {"profile = \"late\"", "must be one of \"uniform\", \"small_noise\", \"large_noise\""});
  ExpectInvalid([&] { r.make("constant_bias", {{"a", 0.1}, {"profile", "small_noise"}, {"width", -1.0}}); },
                {"width = -1", "must be positive"});
  ExpectInvalid([&] { r.make("constant_bias", {{"a", 0.1}, {"width", 0.5}}); }, {"width = 0.5", "only applies to profile"});
  ExpectInvalid([&] { r.make("fourier", {{"a", 0.1}}); }, {"score error 'fourier'", "omega = ", "required"});
  ExpectInvalid([&] { r.make("fourier", {{"a", 0.1}, {"omega", "high"}}); }, {"omega = \"high\"", "must be a number"});
  ExpectInvalid([&] { r.make("fourier", {{"a", 0.1}, {"omega", -2.0}}); }, {"omega = -2", "must be >= 0"});
  ExpectInvalid([&] { r.make("fourier", {{"a", 0.1}, {"omega", 1.0}, {"features", 0}}); }, {"features = 0", "[1, 4096]"});
  ExpectInvalid([&] { r.make("fourier", {{"a", 0.1}, {"omega", 1.0}, {"features", 2.5}}); }, {"features = 2.5", "integer"});
  ExpectInvalid([&] { r.make("fourier", {{"a", 0.1}, {"omega", 1.0}, {"phase", "zero"}}); }, {"phase = \"zero\"", "must be a number"});
  ExpectInvalid([&] { r.make("fourier", {{"a", 0.1}, {"omega", 1.0}, {"direction", std::vector<double>{1.0}}})->make(*target, 1); },
                {"direction = [1]: has 1 entries", "d = 2"});
  ExpectInvalid([&] { r.make("misscaled", {{"factor", 0.0}}); }, {"score error 'misscaled'", "factor = 0", "must be positive"});
  ExpectInvalid([&] { r.make("misscaled", {{"factor", 2.0}, {"profile", "uniform"}}); }, {"profile = ", "unknown key", "valid keys are: factor"});
}

}  // namespace
}  // namespace dmconv::score_errors
