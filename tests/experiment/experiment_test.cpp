// The sweep runner: results files identical for any thread count, a sweep stopped mid-run and
// resumed equals an uninterrupted one, fits and verdicts follow the claims, and the tables
// round-trip through the results file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "config/experiment_config.hpp"
#include "experiment/experiment.hpp"

namespace dmconv::experiment {
namespace {

// docs/theory.md §6.3 mixture; a deterministic sampler by quadrature, a stochastic one by grid law,
// a Monte Carlo estimator (so that seeds matter), claims including a ratio.
const std::string kConfig = R"([experiment]
name = "runner"
seed = 5

[target]
kind = "gaussian_mixture"
weights = [0.3, 0.7]
means = [[-2.0], [1.5]]
variance = [0.25, 0.5]

[schedule]
kind = "logsnr_uniform"

[sampling]
samplers = ["ddim", "acc_ode_noise", "ddpm"]
steps = [64, 128, 256, 512]
particles = 2000

[[estimator]]
kind = "change_of_variables_quadrature"
samplers = ["ddim", "acc_ode_noise"]
metrics = ["tv"]
panels = 256

[[estimator]]
kind = "change_of_variables"
samplers = ["ddim"]
metrics = ["tv"]

[[estimator]]
kind = "grid_law"
samplers = ["ddpm"]
metrics = ["tv", "kl_output_target"]
points = 512

[[claim]]
name = "ddim first order"
sampler = "ddim"
metric = "tv"
estimator = "change_of_variables_quadrature"
axis = "T"
log_power = "none"
slope = -1.0
tolerance = 0.1

[[claim]]
name = "ddim is not second order"
sampler = "ddim"
metric = "tv"
estimator = "change_of_variables_quadrature"
axis = "T"
log_power = "none"
slope = -2.0
tolerance = 0.2
bound = "upper"

[[claim]]
name = "ddim/acc-ode ratio grows like T"
sampler = "ddim"
versus = "acc_ode_noise"
metric = "tv"
estimator = "change_of_variables_quadrature"
axis = "T"
log_power = "none"
slope = 1.0
tolerance = 0.2
bound = "lower"

[[claim]]
name = "any estimator"
sampler = "ddim"
metric = "tv"
axis = "T"
log_power = "none"
slope = -1.0
)";

// Per process: ctest runs every test case in its own process, in parallel, and each Runner case
// rebuilds the reference file in SetUpTestSuite (a shared name made two of them race).
std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("dmconv_experiment_test_" + std::to_string(::getpid()) + "_" + name + ".h5");
}

Outcome run(const std::string& name, int threads, std::int64_t stop_after = -1, bool resume = false) {
  const Plan plan = make_plan(config::parse_config(kConfig, "runner.toml"));
  ExecutionOptions options;
  options.out = temp_file(name);
  options.threads = threads;
  options.resume = resume;
  options.checkpoint_seconds = 0.0;  // checkpoint after every run
  options.stop_after_runs = stop_after;
  return run_experiment(plan, options);
}

// The /runs columns that must agree bit for bit (everything but timings).
void expect_same_runs(const std::vector<RunRow>& a, const std::vector<RunRow>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].run_key, b[i].run_key);
    EXPECT_EQ(a[i].estimator, b[i].estimator);
    EXPECT_EQ(a[i].metric, b[i].metric);
    EXPECT_EQ(a[i].status, b[i].status);
    // Bitwise (NaN-safe) equality of the numbers.
    EXPECT_EQ(std::memcmp(&a[i].value, &b[i].value, sizeof(double)), 0) << a[i].run_key << " " << a[i].estimator;
    EXPECT_EQ(std::memcmp(&a[i].std_error, &b[i].std_error, sizeof(double)), 0) << a[i].run_key;
    EXPECT_EQ(std::memcmp(&a[i].floor, &b[i].floor, sizeof(double)), 0) << a[i].run_key;
  }
}

class Runner : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { reference_ = new Outcome(run("reference", 1)); }
  static void TearDownTestSuite() {
    delete reference_;
    for (const char* name : {"reference", "two_threads", "resumed"}) std::filesystem::remove(temp_file(name));
  }
  static Outcome* reference_;
};
Outcome* Runner::reference_ = nullptr;

TEST_F(Runner, WritesEveryRunAndMetric) {
  // ddim: quadrature tv + Monte Carlo tv; acc_ode_noise: quadrature tv; ddpm: grid law tv + kl.
  EXPECT_EQ(reference_->rows.size(), 4u * (2 + 1 + 2));
  EXPECT_TRUE(reference_->complete);
  for (const RunRow& row : reference_->rows) {
    EXPECT_EQ(row.status, EstimateStatus::kOk) << row.run_key << " " << row.message;
    EXPECT_GT(row.value, 0.0);
    EXPECT_EQ(row.seed, 5);
    EXPECT_EQ(row.dim, 1);
  }
  const results::ResultsFile file = results::read_results_file(temp_file("reference"));
  const std::vector<RunRow> stored = read_run_rows(file, make_plan(config::parse_config(kConfig, "runner.toml")).config);
  expect_same_runs(stored, reference_->rows);
  EXPECT_EQ(std::get<std::int64_t>(*file.attribute("schema_version")), kSchemaVersion);
  EXPECT_EQ(std::get<std::int64_t>(*file.attribute("complete")), 1);
  EXPECT_NE(std::get<std::string>(*file.attribute("config_text")).find("runner"), std::string::npos);
}

TEST_F(Runner, ThreadCountDoesNotChangeTheResults) {
  const Outcome two = run("two_threads", 2);
  expect_same_runs(two.rows, reference_->rows);
}

TEST_F(Runner, ResumedSweepEqualsUninterruptedSweep) {
  std::filesystem::remove(temp_file("resumed"));
  const Outcome partial = run("resumed", 2, /*stop_after=*/5);
  EXPECT_FALSE(partial.complete);
  {
    const results::ResultsFile checkpoint = results::read_results_file(temp_file("resumed"));
    EXPECT_EQ(std::get<std::int64_t>(*checkpoint.attribute("complete")), 0);
    EXPECT_GT(checkpoint.table("runs")->rows(), 0u);
  }
  const Outcome resumed = run("resumed", 1, -1, /*resume=*/true);
  EXPECT_EQ(resumed.runs_resumed, 5u);
  EXPECT_EQ(resumed.runs_executed, 12u - 5u);
  expect_same_runs(resumed.rows, reference_->rows);
  ASSERT_EQ(resumed.fits.size(), reference_->fits.size());
  for (std::size_t i = 0; i < resumed.fits.size(); ++i) {
    EXPECT_EQ(resumed.fits[i].verdict, reference_->fits[i].verdict);
    EXPECT_EQ(std::memcmp(&resumed.fits[i].slope, &reference_->fits[i].slope, sizeof(double)), 0);
  }
}

TEST_F(Runner, ResumeRefusesAFileOfAnotherConfig) {
  const Plan other = make_plan(config::parse_config(kConfig, "runner.toml", {"sampling.particles=3000"}));
  ExecutionOptions options;
  options.out = temp_file("reference");
  options.resume = true;
  EXPECT_THROW(run_experiment(other, options), config::ConfigError);
}

TEST_F(Runner, ClaimsGetFitsAndVerdicts) {
  const std::vector<FitRow>& fits = reference_->fits;
  ASSERT_EQ(fits.size(), 5u);
  for (const FitRow& f : fits)
    std::printf("%-32s %-80s slope %.3f [%.3f, %.3f] %s %s\n", f.claim.name.c_str(), f.group.c_str(), f.slope, f.slope_low,
                f.slope_high, to_string(f.verdict).c_str(), (f.message + f.exclusions).c_str());
  // DDIM on a log-SNR grid: slope -1, no log factors (docs/theory.md §6.4).
  EXPECT_EQ(fits[0].verdict, Verdict::kHolds) << fits[0].message;
  EXPECT_NEAR(fits[0].slope, -1.0, 0.2);
  EXPECT_LT(fits[0].slope_low, fits[0].slope);
  EXPECT_GT(fits[0].slope_high, fits[0].slope);
  EXPECT_EQ(fits[0].points_used, 4);
  // Claiming second order for DDIM is falsified.
  EXPECT_EQ(fits[1].verdict, Verdict::kViolated);
  // The DDIM / accelerated ODE ratio grows (claim 7 shape), a lower-bounded slope.
  EXPECT_EQ(fits[2].verdict, Verdict::kHolds) << fits[2].message;
  EXPECT_GT(fits[2].slope, 0.5);
  EXPECT_EQ(fits[2].claim.versus, "acc_ode_noise");
  EXPECT_EQ(fits[2].claim.bound, ClaimBound::kLower);
  // Without an estimator key the claim is checked once per estimator reporting the metric
  // (the estimator is part of the group): quadrature (exact) and Monte Carlo (with SE).
  EXPECT_NE(fits[3].group, fits[4].group);
  EXPECT_NE(fits[3].group.find("estimator=change_of_variables"), std::string::npos);
  EXPECT_EQ(fits[3].verdict, Verdict::kHolds) << fits[3].group;
  EXPECT_EQ(fits[4].verdict, Verdict::kHolds) << fits[4].group;
  EXPECT_TRUE(any_violated(fits));
  const std::vector<FitRow> stored = read_fit_rows(results::read_results_file(temp_file("reference")));
  ASSERT_EQ(stored.size(), fits.size());
  EXPECT_EQ(stored[0].slope, fits[0].slope);
  EXPECT_EQ(stored[2].group, fits[2].group);
  // The claim read back from /fits is the config's claim, as far as /fits records it.
  EXPECT_EQ(stored[2].claim.name, "ddim/acc-ode ratio grows like T");
  EXPECT_EQ(stored[2].claim.versus, "acc_ode_noise");
  EXPECT_EQ(stored[2].claim.bound, ClaimBound::kLower);
  EXPECT_EQ(stored[2].claim.fit.log_factor, LogPowerMode::kNone);
  EXPECT_EQ(stored[2].claim.slope, 1.0);
  EXPECT_EQ(stored[2].verdict, fits[2].verdict);
  EXPECT_EQ(stored[3].claim.fit.log_factor, LogPowerMode::kNone);
  EXPECT_EQ(stored[0].axis_label(), "T");
}

// Oracle rows: with [sampling] oracle = true every estimate with a measured floor also gives a
// row "oracle" whose value is the estimator on exact samples; its decay in n is a claim like any
// other (W2 of n exact 1-D samples ~ n^{-1/2} up to log log n); floor_factor excludes points.
const std::string kOracleConfig = R"([experiment]
name = "oracle_rows"
seed = 3
replicates = 3

[target]
kind = "gaussian"
mean = [1.5]
variance = 0.25

[schedule]
kind = "logsnr_uniform"

[sampling]
samplers = ["ddpm", "ddim"]
steps = 64
oracle = true

[[estimator]]
kind = "w2_1d"

[sweep]
"sampling.particles" = [1000, 4000, 16000, 64000]

[[claim]]
name = "oracle W2 of n exact samples"
sampler = "oracle"
metric = "w2"
axis = "sampling.particles"
log_power = "none"
slope = -0.5
tolerance = 0.15
bound = "exact"
floor_factor = 0

[[claim]]
name = "everything within 1e6 x the floor is excluded"
sampler = "ddpm"
metric = "w2"
axis = "sampling.particles"
slope = 0.0
floor_factor = 1e6
)";

TEST(OracleRows, OracleRowsCarryTheFloorAndTheirDecayIsFitted) {
  const Plan plan = make_plan(config::parse_config(kOracleConfig, "oracle.toml"));
  ExecutionOptions options;
  options.out = temp_file("oracle");
  options.threads = 2;
  const Outcome outcome = run_experiment(plan, options);
  std::filesystem::remove(temp_file("oracle"));
  std::size_t oracle_rows = 0;
  for (std::size_t i = 0; i < outcome.rows.size(); ++i) {
    const RunRow& row = outcome.rows[i];
    if (row.sampler != "oracle") continue;
    ++oracle_rows;
    ASSERT_GT(i, 0u);
    const RunRow& measured = outcome.rows[i - 1];  // the oracle row follows its (ddpm) estimate
    EXPECT_EQ(row.origin, RowOrigin::kOracle);
    EXPECT_EQ(kind_name(row), "oracle");
    EXPECT_EQ(row.value, measured.floor);
    EXPECT_EQ(row.run_key, measured.run_key);
  }
  // One oracle per sweep point and replicate: the ddim runs give the same oracle (same streams),
  // kept once.
  EXPECT_EQ(oracle_rows, 4u * 3u);
  ASSERT_EQ(outcome.fits.size(), 2u);
  const FitRow& oracle = outcome.fits[0];
  std::printf("oracle W2 slope in n: %.3f [%.3f, %.3f] %s\n", oracle.slope, oracle.slope_low, oracle.slope_high,
              to_string(oracle.verdict).c_str());
  EXPECT_EQ(oracle.verdict, Verdict::kHolds) << oracle.message << oracle.exclusions;
  EXPECT_EQ(oracle.points_used, 4);
  const FitRow& excluded = outcome.fits[1];
  EXPECT_EQ(excluded.points_used, 0);
  EXPECT_EQ(excluded.points_excluded, 4);
  EXPECT_NE(excluded.exclusions.find("1e+06x of its floor"), std::string::npos) << excluded.exclusions;
  EXPECT_EQ(excluded.verdict, Verdict::kInconclusive);
}

TEST(OracleRows, ConfigRulesForOracleAndFloorFactor) {
  auto error_of = [](const std::vector<std::string>& overrides, const std::string& text) {
    try {
      config::parse_config(text, "oracle.toml", overrides);
    } catch (const config::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string no_oracle = error_of({"sampling.oracle=false"}, kOracleConfig);
  EXPECT_NE(no_oracle.find("'oracle' rows need [sampling] oracle = true"), std::string::npos) << no_oracle;
  const std::string not_bool = error_of({"sampling.oracle=1"}, kOracleConfig);
  EXPECT_NE(not_bool.find("[sampling] oracle = 1: must be true or false"), std::string::npos) << not_bool;
  std::string negative = kOracleConfig;
  negative.replace(negative.find("floor_factor = 1e6"), 18, "floor_factor = -1");
  const std::string message = error_of({}, negative);
  EXPECT_NE(message.find("floor_factor = -1: must be non-negative"), std::string::npos) << message;
}

// The plan builds each component once per sweep point: every run of a point (all samplers, T and
// replicates) is served by the same target, schedule, score model and sampler objects, every run
// by the same estimator objects, and executing a run uses exactly those objects.
TEST(Plan, ComponentsAreBuiltOncePerSweepPointAndShared) {
  std::string text = kConfig;
  text.insert(text.find("[[claim]]"), "[sweep]\n\"sampling.particles\" = [1000, 2000]\n\n");
  text.replace(text.find("seed = 5"), 8, "seed = 5\nreplicates = 2");
  const Plan plan = make_plan(config::parse_config(text, "runner.toml"));
  ASSERT_EQ(plan.runs.size(), 2u * 3u * 4u * 2u);
  ASSERT_EQ(plan.points.size(), 2u);
  ASSERT_EQ(plan.point_of_run.size(), plan.runs.size());
  ASSERT_EQ(plan.estimators.size(), 3u);
  std::set<const Target*> targets;
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    const SweepPoint& point = plan.point(i);
    const SweepPoint& first = plan.points[plan.runs[i].particles == 1000 ? 0 : 1];
    EXPECT_EQ(&point, &first) << plan.runs[i].key;
    EXPECT_EQ(point.target.get(), first.target.get());
    targets.insert(point.target.get());
  }
  EXPECT_EQ(targets.size(), 2u);  // one per sweep point, not one per run
  EXPECT_NE(plan.points[0].score.get(), plan.points[1].score.get());
  EXPECT_EQ(plan.points[0].grids.size(), 4u);
  EXPECT_EQ(plan.points[0].samplers.size(), 3u);
  // A run evaluates the score model of its point (evaluations are counted on the shared object).
  std::size_t last = 0;
  for (std::size_t i = 0; i < plan.runs.size(); ++i)
    if (plan.point_of_run[i] == 1 && plan.runs[i].sampler == "ddim" && plan.runs[i].steps == 64) last = i;
  const std::uint64_t before = plan.point(last).score->particle_evaluations();
  const std::uint64_t other = plan.points[0].score->particle_evaluations();
  const std::vector<RunRow> rows = execute_run(plan, last, 1);
  ASSERT_FALSE(rows.empty());
  EXPECT_GT(plan.point(last).score->particle_evaluations(), before);
  EXPECT_EQ(plan.points[0].score->particle_evaluations(), other);
}


// A sweep over one sampler's parameter: the other samplers' runs at the second value have the
// same inputs as at the first, so they are computed once; their copied rows must be the rows
// that computing them gives (bitwise, Monte Carlo included), under their own keys.
TEST(Plan, RunsDifferingOnlyInAnotherSamplersParameterAreComputedOnce) {
  // kConfig without its claims, with unipc in place of acc_ode_noise, shorter runs, and unipc's
  // order swept: at order 3 the ddim and ddpm runs have the inputs of their order-2 twins.
  std::string text = kConfig.substr(0, kConfig.find("[[claim]]"));
  const auto replace = [&text](const std::string& from, const std::string& to) {
    const std::size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  };
  replace(R"(samplers = ["ddim", "acc_ode_noise", "ddpm"])", R"(samplers = ["ddim", "unipc", "ddpm"])");
  replace("steps = [64, 128, 256, 512]", "steps = [32, 64]");
  replace("particles = 2000", "particles = 500");
  replace(R"(samplers = ["ddim", "acc_ode_noise"])", R"(samplers = ["ddim", "unipc"])");
  text += "[sweep]\n\"sampling.params.unipc.order\" = [2, 3]\n";
  const Plan plan = make_plan(config::parse_config(text, "same_inputs.toml"));
  ASSERT_EQ(plan.runs.size(), 12u);
  ASSERT_EQ(plan.same_inputs_as.size(), plan.runs.size());
  std::size_t copies = 0;
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    const bool second_value = i >= 6;
    const bool copy = second_value && plan.runs[i].sampler != "unipc";
    EXPECT_EQ(plan.same_inputs_as[i], copy ? i - 6 : i) << plan.runs[i].key;
    copies += copy ? 1 : 0;
  }
  ExecutionOptions options;
  options.out = temp_file("same_inputs");
  options.threads = 1;
  const Outcome outcome = run_experiment(plan, options);
  std::filesystem::remove(options.out);
  EXPECT_EQ(outcome.runs_copied, copies);
  EXPECT_EQ(outcome.runs_executed, plan.runs.size());
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    if (plan.same_inputs_as[i] == i) continue;
    std::vector<RunRow> copied;
    for (const RunRow& row : outcome.rows)
      if (row.run_index == static_cast<std::int64_t>(i)) copied.push_back(row);
    ASSERT_FALSE(copied.empty()) << plan.runs[i].key;
    for (const RunRow& row : copied) {
      EXPECT_NE(row.message.find("same inputs as run " + std::to_string(plan.same_inputs_as[i])), std::string::npos);
      EXPECT_EQ(row.wall_seconds, 0.0);
      ASSERT_EQ(row.swept.size(), 1u);
      EXPECT_EQ(row.swept[0].to_string(), "3");
    }
    expect_same_runs(copied, execute_run(plan, i, 1));
  }
}

}  // namespace
}  // namespace dmconv::experiment
