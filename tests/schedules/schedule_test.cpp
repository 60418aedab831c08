// Tests of the noise schedules (src/schedules/*) and of the time grids they produce.
//
// Reference values come from docs/theory.md §2 and from independent computations in long double
// written here from the published formulas (Li & Yan arXiv 2409.18959 eq. (2.3); Ho et al.
// 2020 §4; Nichol & Dhariwal 2021 eq. (17); DPM-Solver's uniform log-SNR grid), never from
// the code under test. Tolerances are typed by error source (see each test).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/schedule.hpp"
#include "schedules/cosine_schedule.hpp"
#include "schedules/linear_schedule.hpp"
#include "schedules/logsnr_uniform_schedule.hpp"
#include "schedules/theory_schedule.hpp"

namespace dmconv {
namespace {

using ld = long double;
constexpr double kEps = std::numeric_limits<double>::epsilon();

// Expects `statement` to throw dmconv::InvalidArgument whose message contains every one of
// `fragments` (the parameter's name and the rule it breaks).
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

double RelativeError(ld value, ld reference) {
  return static_cast<double>(std::fabs(value - reference) / std::fabs(reference));
}

// ------------------------------------------------------------------------------------------
// Independent long-double version of the theory schedule, written from 2409.18959 eq. (2.3):
//   beta_1 = T^{-c0},  beta_{t+1} = h min(beta_1 (1+h)^t, 1),  h = c1 log T / T.
// Levels: log abar_t = sum_k log1p(-beta_k), 1 - abar_t = -expm1(log abar_t) (docs/theory.md §2).
struct LongDoubleGrid {
  std::vector<ld> beta, abar, one_minus_abar;  // index t = 0..T (index 0: data level, beta NaN)
};

LongDoubleGrid TheoryReference(int T, ld c0, ld c1) {
  const ld TT = T;
  const ld h = c1 * std::log(TT) / TT;
  const ld beta1 = std::pow(TT, -c0);
  LongDoubleGrid g;
  g.beta = {std::numeric_limits<ld>::quiet_NaN(), beta1};
  ld growth = 1.0L;
  for (int t = 1; t < T; ++t) {
    growth *= 1.0L + h;
    g.beta.push_back(h * std::min(beta1 * growth, 1.0L));
  }
  g.abar = {1.0L};
  g.one_minus_abar = {0.0L};
  ld log_abar = 0.0L;
  for (int t = 1; t <= T; ++t) {
    log_abar += std::log1p(-g.beta[t]);
    g.abar.push_back(std::exp(log_abar));
    g.one_minus_abar.push_back(-std::expm1(log_abar));
  }
  return g;
}

struct TheoryCase {
  double c0, c1;
};
const std::vector<TheoryCase> kTheoryCases = {{2, 4}, {2, 6}, {4, 8}};
const std::vector<int> kTheoryHorizons = {64, 256, 1024, 4096};

// ------------------------------------------------------------------------------------------
// Generic properties, for every schedule in schedule_registry() (with its example params).

class EverySchedule : public testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Schedule> schedule_ = schedule_registry().make_example(GetParam());
};

std::vector<std::string> ScheduleNames() {
  std::vector<std::string> names;
  for (const auto& entry : schedule_registry().entries()) names.push_back(entry.name);
  return names;
}

// Grid invariants of core/time_grid.hpp: T + 1 levels from the data level, abar strictly
// decreasing and 1 - abar strictly increasing, abar + (1 - abar) = 1 within rounding,
// beta_t in (0, 1), and beta_t = 1 - abar_t / abar_{t-1} consistent with the stored levels.
TEST_P(EverySchedule, GridIsAStrictlyNoisierSequenceOfConsistentLevels) {
  EXPECT_EQ(schedule_->name(), GetParam());
  EXPECT_FALSE(schedule_->describe().empty());
  for (int T : {32, 64, 100, 257, 1000, 4096}) {
    SCOPED_TRACE("T = " + std::to_string(T));
    const TimeGrid grid = schedule_->grid(T);
    ASSERT_EQ(grid.steps(), T);
    EXPECT_EQ(grid.abar(0), 1.0);
    EXPECT_EQ(grid.one_minus_abar(0), 0.0);
    EXPECT_TRUE(grid.level(0).is_data());
    double worst_beta = 0.0;
    for (int t = 1; t <= T; ++t) {
      const double a = grid.abar(t), b = grid.one_minus_abar(t);
      ASSERT_GT(a, 0.0) << "t = " << t;
      ASSERT_LT(a, grid.abar(t - 1)) << "t = " << t;
      // 1 - abar strictly increases wherever the change is representable: once abar_t is
      // below ~1e-14 a step can move 1 - abar by less than an ulp of 1, so it may stall.
      if (grid.abar(t - 1) - a > 2 * kEps) {
        ASSERT_GT(b, grid.one_minus_abar(t - 1)) << "t = " << t;
      } else {
        ASSERT_GE(b, grid.one_minus_abar(t - 1)) << "t = " << t;
      }
      ASSERT_LT(b, 1.0) << "t = " << t;
      // abar and 1 - abar each rounded once: their sum is 1 to within an ulp of 1.
      ASSERT_NEAR(a + b, 1.0, 1e-15) << "t = " << t;
      const double beta = grid.beta(t);
      ASSERT_GT(beta, 0.0) << "t = " << t;
      ASSERT_LT(beta, 1.0) << "t = " << t;
      EXPECT_EQ(grid.alpha(t), 1.0 - beta);
      // beta_t = (abar_{t-1} - abar_t)/abar_{t-1} = ((1-abar_t) - (1-abar_{t-1}))/abar_{t-1},
      // evaluated in long double from whichever pair is better conditioned. Both stored values
      // carry relative rounding ~ a few eps (more for grids accumulated over t steps), so the
      // subtraction amplifies it by value/difference: that is the tolerance's conditioning.
      const ld a_prev = grid.abar(t - 1), b_prev = grid.one_minus_abar(t - 1);
      const bool use_b = b_prev < a_prev;
      const ld difference = use_b ? (ld(b) - b_prev) : (a_prev - ld(a));
      const ld reference = difference / a_prev;
      const double condition = static_cast<double>((use_b ? ld(b) : a_prev) / difference);
      const double tolerance = 1e-13 + 64.0 * kEps * std::sqrt(static_cast<double>(t)) * condition;
      const double error = RelativeError(beta, reference);
      worst_beta = std::max(worst_beta, error / tolerance);
      ASSERT_LE(error, tolerance) << "t = " << t << " beta = " << beta;
    }
    RecordProperty("worst_beta_error_over_tolerance_T" + std::to_string(T), std::to_string(worst_beta));
  }
}

TEST_P(EverySchedule, RejectsTooFewSteps) {
  for (int T : {1, 0, -3}) {
    ExpectInvalid([&] { (void)schedule_->grid(T); }, {"T = " + std::to_string(T)});
  }
}

TEST_P(EverySchedule, RegistryRejectsUnknownKeyAndListsTheValidOnes) {
  const auto& entry = schedule_registry().find(GetParam());
  ParamTable params = entry.example;
  params.set("no_such_key", 1.0);
  std::vector<std::string> fragments = {"no_such_key", "unknown key", "valid keys are"};
  for (const auto& [key, value] : entry.example.entries()) fragments.push_back(key);
  ExpectInvalid([&] { (void)entry.make(params); }, fragments);
}

INSTANTIATE_TEST_SUITE_P(ScheduleRegistry, EverySchedule, testing::ValuesIn(ScheduleNames()),
                         [](const testing::TestParamInfo<std::string>& param_info) { return param_info.param; });

// ------------------------------------------------------------------------------------------
// Theory schedule (arXiv 2409.18959 eq. (2.3); docs/theory.md §2).

// Lemma 7 of 2409.18959 (docs/theory.md §2 "Properties"), wherever its premise c1 log T/T <= 1/2
// holds. The bounds are the theorem's; the grid values are the code's.
TEST(TheorySchedule, SatisfiesLemma7) {
  int checked = 0;
  for (const TheoryCase& c : kTheoryCases) {
    for (int T : kTheoryHorizons) {
      const double h = c.c1 * std::log(static_cast<double>(T)) / T;
      if (!(h <= 0.5)) continue;  // (4,8) at T = 64: h = 0.52, premise fails
      ++checked;
      SCOPED_TRACE("c0 = " + std::to_string(c.c0) + ", c1 = " + std::to_string(c.c1) + ", T = " + std::to_string(T));
      const TimeGrid grid = TheorySchedule(c.c0, c.c1).grid(T);
      EXPECT_GE(1.0 - h, 0.5);
      for (int t = 1; t <= T; ++t) {
        ASSERT_GE(grid.alpha(t), 1.0 - h) << "t = " << t;
        if (t >= 2) {
          const double ratio = grid.beta(t) / grid.one_minus_abar(t);
          // alpha_t - abar_t = alpha_t (1 - abar_{t-1}), formed without cancellation.
          const double ratio_upper = grid.beta(t) / (grid.alpha(t) * grid.one_minus_abar(t - 1));
          ASSERT_LE(ratio, ratio_upper * (1 + 1e-14)) << "t = " << t;
          ASSERT_LE(ratio_upper, 8.0 * h) << "t = " << t;
        }
      }
      EXPECT_LE(grid.abar(T), std::pow(static_cast<double>(T), -c.c1 / 2.0));
    }
  }
  EXPECT_EQ(checked, 11);
}

// docs/theory.md §2 table ([DERIVED], schedule.py). Printed digits: abar_T to 2
// significant figures, the max ratio to 3 decimals, t* exactly. The second column of values
// is schedule.py's row() printed with %.17g (python3 schedule.py's functions,
// plain double, 1 - abar as -expm1(sum log1p(-beta))); the C++ forms (1+h)^t as
// exp(t log1p h), so the two differ by accumulated rounding ~ T eps |log abar_T|: 1e-10.
TEST(TheorySchedule, ReproducesTheoryTable) {
  struct Row {
    double c0, c1;
    int T;
    double abar_T_printed, ratio_printed;
    int t_star;
    double abar_T_script, ratio_script;
  };
  const std::vector<Row> rows = {
      {2, 4, 256, 5.4e-6, 0.127, 133, 5.4196169689783844e-06, 0.12692703689838891},
      {2, 4, 4096, 2.2e-8, 0.013, 2056, 2.187899550243922e-08, 0.012761471917084511},
      {2, 6, 256, 3.6e-11, 0.186, 90, 3.645586883583801e-11, 0.1857802577841689},
      {2, 6, 4096, 1.2e-15, 0.019, 1373, 1.1759713711431683e-15, 0.019058055301130989},
      {4, 8, 1024, 3.3e-13, 0.082, 525, 3.2562083621452342e-13, 0.081859805234567776},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE("c0 = " + std::to_string(row.c0) + ", c1 = " + std::to_string(row.c1) + ", T = " + std::to_string(row.T));
    const TimeGrid grid = TheorySchedule(row.c0, row.c1).grid(row.T);
    const double abar_T = grid.abar(row.T);
    double max_ratio = 0.0;
    for (int t = 2; t <= row.T; ++t) max_ratio = std::max(max_ratio, grid.beta(t) / grid.one_minus_abar(t));
    // Half a unit in the last printed digit.
    const double abar_unit = std::pow(10.0, std::floor(std::log10(row.abar_T_printed)) - 1.0);
    EXPECT_NEAR(abar_T, row.abar_T_printed, 0.5 * abar_unit);
    EXPECT_NEAR(max_ratio, row.ratio_printed, 0.0005);
    EXPECT_LE(RelativeError(abar_T, row.abar_T_script), 1e-10);
    EXPECT_LE(RelativeError(max_ratio, row.ratio_script), 1e-10);
    // t* = largest t with beta_1 (1+h)^t < 1: steps 2..t*+1 are in phase 1 (beta < h), every
    // later step has beta = h exactly (docs/theory.md §2 "Shape").
    const double h = row.c1 * std::log(static_cast<double>(row.T)) / row.T;
    int last_phase1 = 0;
    for (int t = 2; t <= row.T; ++t)
      if (grid.beta(t) < h * (1 - 1e-14)) last_phase1 = t;
    EXPECT_EQ(last_phase1 - 1, row.t_star);
    for (int t = last_phase1 + 1; t <= row.T; ++t) ASSERT_NEAR(grid.beta(t), h, 1e-15 * h) << "t = " << t;
  }
}

// beta_1 = T^{-c0} (eq. (2.3)), against exact powers of two; 1 - abar_1 = beta_1 to full
// relative precision (docs/theory.md §2 "Store 1-abar_t accurately"): -expm1(log1p(-b)) = b to ~1 ulp.
TEST(TheorySchedule, FirstStepIsTMinusC0AndStoredToFullPrecision) {
  for (const TheoryCase& c : kTheoryCases) {
    for (int T : kTheoryHorizons) {
      if (!(c.c1 * std::log(static_cast<double>(T)) / T < 1.0)) continue;
      SCOPED_TRACE("c0 = " + std::to_string(c.c0) + ", c1 = " + std::to_string(c.c1) + ", T = " + std::to_string(T));
      const int log2_T = static_cast<int>(std::lround(std::log2(static_cast<double>(T))));
      const double exact = std::ldexp(1.0, -log2_T * static_cast<int>(c.c0));  // T^{-c0}, T = 2^k
      const TimeGrid grid = TheorySchedule(c.c0, c.c1).grid(T);
      EXPECT_DOUBLE_EQ(grid.beta(1), exact);
      EXPECT_LE(RelativeError(grid.one_minus_abar(1), exact), 2 * kEps);
      EXPECT_LE(RelativeError(grid.abar(1), 1.0L - ld(exact)), 2 * kEps);
    }
  }
  // With T a power of two, 1 - beta_1 is exact in double, so even the naive 1 - abar_1 would
  // be exact; T = 1000, 3000 make 1 - beta_1 round (a naive 1 - abar_1 then keeps only
  // ~eps/beta_1 = 1e-10 relative accuracy).
  for (int T : {1000, 3000}) {
    for (const TheoryCase& c : kTheoryCases) {
      SCOPED_TRACE("c0 = " + std::to_string(c.c0) + ", c1 = " + std::to_string(c.c1) + ", T = " + std::to_string(T));
      const ld exact = 1.0L / std::pow(ld(T), ld(c.c0));  // integer power: ~1e-19 relative
      const TimeGrid grid = TheorySchedule(c.c0, c.c1).grid(T);
      EXPECT_LE(RelativeError(grid.beta(1), exact), kEps);
      EXPECT_LE(RelativeError(grid.one_minus_abar(1), exact), 2 * kEps);
      EXPECT_LE(RelativeError(grid.abar(1), 1.0L - exact), 2 * kEps);
    }
  }
}

// Every level against the long-double reference built from eq. (2.3) above. 1 - abar_t
// carries the rounding of a T-term double sum of log1p's: relative ~ sqrt(t) eps << 1e-14 for
// small t; over the whole grid, abar_t carries the absolute error of log abar_t: ~T eps.
TEST(TheorySchedule, LevelsMatchLongDoubleReference) {
  for (const TheoryCase& c : kTheoryCases) {
    for (int T : kTheoryHorizons) {
      if (!(c.c1 * std::log(static_cast<double>(T)) / T < 1.0)) continue;
      SCOPED_TRACE("c0 = " + std::to_string(c.c0) + ", c1 = " + std::to_string(c.c1) + ", T = " + std::to_string(T));
      const TimeGrid grid = TheorySchedule(c.c0, c.c1).grid(T);
      const LongDoubleGrid ref = TheoryReference(T, c.c0, c.c1);
      const std::vector<double> betas = TheorySchedule(c.c0, c.c1).betas(T);
      ASSERT_EQ(static_cast<int>(betas.size()), T);
      for (int t = 1; t <= T; ++t) {
        ASSERT_LE(RelativeError(grid.beta(t), ref.beta[t]), 1e-14) << "t = " << t;
        ASSERT_EQ(betas[static_cast<std::size_t>(t - 1)], grid.beta(t)) << "t = " << t;
        const double tol_small = t <= 64 ? 1e-14 : 1e-13;
        ASSERT_LE(RelativeError(grid.one_minus_abar(t), ref.one_minus_abar[t]), tol_small) << "t = " << t;
        // log abar_t is a t-term double sum: absolute error up to ~t eps |log abar_t|.
        const double tol_abar = 1e-14 + t * kEps * static_cast<double>(-std::log(ref.abar[t]));
        ASSERT_LE(RelativeError(grid.abar(t), ref.abar[t]), tol_abar) << "t = " << t;
      }
    }
  }
}

// docs/theory.md §2 "Shape": beta_2 ~ h beta_1 < beta_1.
TEST(TheorySchedule, SecondStepIsSmallerThanFirst) {
  const TimeGrid grid = TheorySchedule(2, 6).grid(1024);
  const double h = 6 * std::log(1024.0) / 1024;
  EXPECT_LT(grid.beta(2), grid.beta(1));
  EXPECT_LE(RelativeError(grid.beta(2), ld(h) * grid.beta(1) * (1 + ld(h))), 1e-14);
}

TEST(TheorySchedule, RejectsInvalidParameters) {
  ExpectInvalid([] { TheorySchedule(2, 2); }, {"c1 = 2", "must exceed c0 = 2"});
  ExpectInvalid([] { TheorySchedule(2, 1); }, {"c1 = 1", "must exceed c0"});
  ExpectInvalid([] { TheorySchedule(0, 6); }, {"c0 = 0", "must be positive"});
  ExpectInvalid([] { TheorySchedule(-1, 6); }, {"c0 = -1", "must be positive"});
  ExpectInvalid([] { TheorySchedule(std::nan(""), 6); }, {"c0", "must be positive"});
  ExpectInvalid([] { TheorySchedule(2, std::numeric_limits<double>::infinity()); }, {"c1", "must exceed c0"});
  // c1 log T / T >= 1 makes beta_t = h >= 1: T = 8, c1 = 6 gives h = 1.56.
  ExpectInvalid([] { (void)TheorySchedule(2, 6).grid(8); }, {"T = 8", "too small", "c1 log T / T < 1"});
  ExpectInvalid([] { (void)TheorySchedule(2, 6).grid(1); }, {"T = 1", "too small"});
  // Through the registry: the message names the key.
  const auto& entry = schedule_registry().find("theory");
  ExpectInvalid([&] { (void)entry.make({{"c0", 3.0}, {"c1", 3.0}}); }, {"c1 = 3", "must exceed c0 = 3"});
  ExpectInvalid([&] { (void)entry.make({{"c0", "two"}}); }, {"c0 = \"two\"", "must be a number"});
}

// ------------------------------------------------------------------------------------------
// Uniform log-SNR schedule (DPM-Solver "logSNR" grid; docs/theory.md §1 lambda = (1/2) ln(abar/(1-abar))).

// lambda of a stored level, in long double from the stored pair (independent of NoiseLevel::lambda).
ld Lambda(const NoiseLevel& level) {
  return 0.5L * (std::log(ld(level.abar())) - std::log(ld(level.one_minus_abar())));
}

TEST(LogSnrUniformSchedule, EndpointsExactlyAsGivenAndEqualLambdaSteps) {
  struct Case {
    double first_one_minus_abar, last_abar;
  };
  for (const Case& c : {Case{1e-4, 1e-6}, Case{1e-8, 1e-3}, Case{0.3, 0.2}, Case{2.5e-7, 4e-12}}) {
    const LogSnrUniformSchedule schedule(c.first_one_minus_abar, c.last_abar);
    // lambda_1 = (1/2) ln((1-s1)/s1), lambda_T = (1/2) ln(aT/(1-aT)), in long double.
    const ld lambda_first = 0.5L * (std::log1p(-ld(c.first_one_minus_abar)) - std::log(ld(c.first_one_minus_abar)));
    const ld lambda_last = 0.5L * (std::log(ld(c.last_abar)) - std::log1p(-ld(c.last_abar)));
    for (int T : {2, 3, 10, 100, 1000}) {
      SCOPED_TRACE("s1 = " + std::to_string(c.first_one_minus_abar) + ", aT = " + std::to_string(c.last_abar) +
                   ", T = " + std::to_string(T));
      const TimeGrid grid = schedule.grid(T);
      ASSERT_EQ(grid.steps(), T);
      EXPECT_EQ(grid.one_minus_abar(1), c.first_one_minus_abar);
      EXPECT_EQ(grid.abar(T), c.last_abar);
      EXPECT_LE(RelativeError(grid.abar(1), 1.0L - ld(c.first_one_minus_abar)), kEps);
      EXPECT_LE(RelativeError(grid.one_minus_abar(T), 1.0L - ld(c.last_abar)), kEps);
      const ld step = (lambda_first - lambda_last) / (T - 1);
      const double lambda_floor = 4 * kEps * static_cast<double>(1 + std::fabs(lambda_first) + std::fabs(lambda_last));
      for (int t = 2; t <= T; ++t) {
        const ld measured = Lambda(grid.level(t - 1)) - Lambda(grid.level(t));
        // Relative 1e-13, with a floor for rounding: each interior lambda_t is formed in double
        // from lambda_1 and the span (absolute rounding ~ eps (|lambda_1| + |lambda_T|)), then
        // abar and 1 - abar are rounded from it (~2 eps more); a difference carries two of these.
        ASSERT_NEAR(static_cast<double>(measured), static_cast<double>(step),
                    1e-13 * static_cast<double>(step) + lambda_floor)
            << "t = " << t;
        ASSERT_LT(grid.abar(t), grid.abar(t - 1));
        ASSERT_GT(grid.one_minus_abar(t), grid.one_minus_abar(t - 1));
      }
    }
  }
}

TEST(LogSnrUniformSchedule, RejectsInvalidParameters) {
  ExpectInvalid([] { LogSnrUniformSchedule(0.0, 1e-6); }, {"first_one_minus_abar = 0", "must lie in (0, 1)"});
  ExpectInvalid([] { LogSnrUniformSchedule(1.0, 1e-6); }, {"first_one_minus_abar = 1", "must lie in (0, 1)"});
  ExpectInvalid([] { LogSnrUniformSchedule(1e-4, 0.0); }, {"last_abar = 0", "must lie in (0, 1)"});
  ExpectInvalid([] { LogSnrUniformSchedule(1e-4, -0.5); }, {"last_abar = -0.5", "must lie in (0, 1)"});
  ExpectInvalid([] { LogSnrUniformSchedule(1e-4, std::nan("")); }, {"last_abar", "must lie in (0, 1)"});
  // The first level is noisier than the last: 1 - abar_1 = 0.9 (abar_1 = 0.1) vs abar_T = 0.5.
  ExpectInvalid([] { LogSnrUniformSchedule(0.9, 0.5); }, {"first level", "less noisy than the last"});
  ExpectInvalid([] { LogSnrUniformSchedule(0.5, 0.5); }, {"less noisy than the last"});
  const auto& entry = schedule_registry().find("logsnr_uniform");
  ExpectInvalid([&] { (void)entry.make({{"last_abar", 2.0}}); }, {"last_abar = 2", "must lie in (0, 1)"});
}

// ------------------------------------------------------------------------------------------
// Linear schedule (Ho, Jain & Abbeel 2020 §4: beta from 1e-4 to 0.02 linearly over 1000 steps).

TEST(LinearSchedule, ThousandStepsReproduceTheDdpmBetas) {
  const auto schedule = schedule_registry().make_example("linear");
  const TimeGrid grid = schedule->grid(1000);
  ld log_abar = 0.0L;
  for (int t = 1; t <= 1000; ++t) {
    const ld beta = 1e-4L + (0.02L - 1e-4L) * (t - 1) / 999.0L;  // DDPM: linspace(1e-4, 0.02, 1000)
    log_abar += std::log1p(-beta);
    // beta_t is recovered from log abar_t - log abar_{t-1}; each log carries ~eps |log abar| of
    // rounding, so the tolerance is 8 eps (1 + |log abar_t|) absolute on beta.
    const double tolerance = 8 * kEps * (1.0 + static_cast<double>(-log_abar));
    ASSERT_NEAR(grid.beta(t), static_cast<double>(beta), tolerance) << "t = " << t;
    ASSERT_LE(RelativeError(grid.abar(t), std::exp(log_abar)), 1e-13) << "t = " << t;
    ASSERT_LE(RelativeError(grid.one_minus_abar(t), -std::expm1(log_abar)), 1e-13) << "t = " << t;
  }
  EXPECT_NEAR(grid.beta(1), 1e-4, 1e-17);
  EXPECT_NEAR(grid.beta(1000), 0.02, 1e-14);
}

TEST(LinearSchedule, StepCountsDividingTheBaseAreExactSubsamplings) {
  const auto schedule = schedule_registry().make_example("linear");
  const TimeGrid base = schedule->grid(1000);
  for (int T : {2, 4, 10, 40, 125, 200, 250, 500, 1000}) {
    const TimeGrid grid = schedule->grid(T);
    ASSERT_EQ(grid.steps(), T);
    const int stride = 1000 / T;
    for (int t = 1; t <= T; ++t) {
      ASSERT_EQ(grid.abar(t), base.abar(stride * t)) << "T = " << T << ", t = " << t;
      ASSERT_EQ(grid.one_minus_abar(t), base.one_minus_abar(stride * t)) << "T = " << T << ", t = " << t;
    }
  }
  // A count that does not divide 1000 still spans the same horizon: abar_T = abar_1000.
  for (int T : {3, 7, 333, 1500}) {
    const TimeGrid grid = schedule->grid(T);
    EXPECT_EQ(grid.abar(T), base.abar(1000)) << "T = " << T;
  }
}

TEST(LinearSchedule, RejectsInvalidParameters) {
  ExpectInvalid([] { LinearSchedule(0.0, 0.02, 1000); }, {"beta_start = 0", "0 < beta_start <= beta_end < 1"});
  ExpectInvalid([] { LinearSchedule(0.03, 0.02, 1000); }, {"beta_start = 0.03", "beta_end = 0.02"});
  ExpectInvalid([] { LinearSchedule(1e-4, 1.0, 1000); }, {"beta_end = 1", "beta_end < 1"});
  ExpectInvalid([] { LinearSchedule(1e-4, 0.02, 1); }, {"base_steps = 1", "must be >= 2"});
  const auto& entry = schedule_registry().find("linear");
  ExpectInvalid([&] { (void)entry.make({{"base_steps", 10.5}}); }, {"base_steps = 10.5", "must be an integer"});
  ExpectInvalid([&] { (void)entry.make({{"beta_end", -1.0}}); }, {"beta_end = -1"});
}

// ------------------------------------------------------------------------------------------
// Cosine schedule (Nichol & Dhariwal 2021 eq. (17)): abar(t) = f(t)/f(0),
// f(t) = cos^2((t/T + s)/(1+s) pi/2), beta_t = min(1 - abar_t/abar_{t-1}, max_beta).

TEST(CosineSchedule, MatchesNicholDhariwalAwayFromTheClip) {
  const auto schedule = schedule_registry().make_example("cosine");  // s = 0.008, max_beta = 0.999
  const ld s = 0.008L;
  const ld pi = std::numbers::pi_v<ld>;
  for (int T : {10, 100, 1000, 4000}) {
    const TimeGrid grid = schedule->grid(T);
    const auto x = [&](int t) { return (ld(t) / T + s) / (1 + s) * pi / 2; };
    const auto f = [&](int t) { return std::cos(x(t)) * std::cos(x(t)); };
    int clipped = 0;
    for (int t = 1; t <= T; ++t) {
      const ld unclipped = 1.0L - f(t) / f(t - 1);
      if (unclipped > 0.999L) {  // the clip: only the last step, where f(T) = cos^2(pi/2) = 0
        ++clipped;
        EXPECT_EQ(grid.beta(t), 0.999) << "T = " << T << ", t = " << t;
        continue;
      }
      ASSERT_EQ(clipped, 0) << "a clipped step precedes t = " << t;
      // abar_t = f(t)/f(0); 1 - abar_t = (f(0) - f(t))/f(0) = sin(x_t - x_0) sin(x_t + x_0)/cos^2 x_0,
      // both to ~1e-18 in long double. The grid accumulates t log1p terms: log abar_t has an
      // absolute error up to ~t eps (1 + |log abar_t|), which is abar_t's relative error.
      const ld abar = f(t) / f(0);
      const ld one_minus = std::sin(x(t) - x(0)) * std::sin(x(t) + x(0)) / f(0);
      const double tol_abar = 1e-14 + t * kEps * static_cast<double>(1 - std::log(abar));
      ASSERT_LE(RelativeError(grid.abar(t), abar), tol_abar) << "T = " << T << ", t = " << t;
      ASSERT_LE(RelativeError(grid.one_minus_abar(t), one_minus), 1e-13) << "T = " << T << ", t = " << t;
      // beta_t = sin(x_t - x_{t-1}) sin(x_t + x_{t-1})/cos^2 x_{t-1} from rounded angles: the
      // difference x_t - x_{t-1} carries eps x_t / (x_t - x_{t-1}) = (t + s T) eps relative error.
      ASSERT_LE(RelativeError(grid.beta(t), unclipped), 1e-14 + 2.0 * (t + 1 + 0.008 * T) * kEps)
          << "T = " << T << ", t = " << t;
    }
    EXPECT_EQ(clipped, 1) << "T = " << T;
    EXPECT_EQ(grid.beta(T), 0.999);
  }
}

TEST(CosineSchedule, ClipsEveryBetaAboveMaxBeta) {
  const CosineSchedule schedule(0.008, 0.1);
  const int T = 50;
  const TimeGrid grid = schedule.grid(T);
  const ld pi = std::numbers::pi_v<ld>;
  const auto f = [&](int t) {
    const ld x = (ld(t) / T + 0.008L) / 1.008L * pi / 2;
    return std::cos(x) * std::cos(x);
  };
  int clipped = 0;
  for (int t = 1; t <= T; ++t) {
    const ld unclipped = 1.0L - f(t) / f(t - 1);
    if (unclipped > 0.1L) {
      ++clipped;
      EXPECT_EQ(grid.beta(t), 0.1) << "t = " << t;
    } else {
      EXPECT_LE(RelativeError(grid.beta(t), unclipped), 1e-14 + 2.0 * (t + 1 + 0.008 * T) * kEps) << "t = " << t;
    }
  }
  EXPECT_GT(clipped, 3);  // the last several steps of a 50-step cosine grid exceed 0.1
}

TEST(CosineSchedule, RejectsInvalidParameters) {
  ExpectInvalid([] { CosineSchedule(-0.1, 0.999); }, {"s = -0.1", "must be >= 0"});
  ExpectInvalid([] { CosineSchedule(std::numeric_limits<double>::infinity(), 0.999); }, {"s = inf", "must be >= 0"});
  ExpectInvalid([] { CosineSchedule(0.008, 1.0); }, {"max_beta = 1", "must lie in (0, 1)"});
  ExpectInvalid([] { CosineSchedule(0.008, 0.0); }, {"max_beta = 0", "must lie in (0, 1)"});
  const auto& entry = schedule_registry().find("cosine");
  ExpectInvalid([&] { (void)entry.make({{"max_beta", 1.5}}); }, {"max_beta = 1.5", "must lie in (0, 1)"});
}

// ------------------------------------------------------------------------------------------
// TimeGrid::from_betas rejects betas outside (0, 1), naming the step.
TEST(TimeGrid, RejectsBetasOutsideTheOpenUnitInterval) {
  ExpectInvalid([] { (void)TimeGrid::from_betas({0.1, 1.0}); }, {"beta_2 = 1", "must lie in (0, 1)"});
  ExpectInvalid([] { (void)TimeGrid::from_betas({0.0}); }, {"beta_1 = 0", "must lie in (0, 1)"});
  ExpectInvalid([] { (void)TimeGrid::from_betas({}); }, {"T = 0"});
  ExpectInvalid([] { (void)TimeGrid::from_levels({NoiseLevel(0.5, 0.5), NoiseLevel(0.6, 0.4)}); },
                {"level 2", "strictly noisier than level 1"});
}

}  // namespace
}  // namespace dmconv
