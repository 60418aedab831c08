// `dmconv samples` (experiment/posterior_samples.hpp): the draws written are the estimators'
// draws bit for bit (a prefix of posterior_output's sample for the run), for any thread count;
// the grid laws are those of the config's posterior_grid_tv cells and sum to 1; bad options are
// refused before any work.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <tuple>

#include "config/experiment_config.hpp"
#include "experiment/experiment.hpp"
#include "experiment/posterior_samples.hpp"

namespace dmconv::experiment {
namespace {

// Claim 16's Gaussian-linear problem in d = 1, with a sampler of each kind: exact draws from pi_eta,
// DPnP by exact Gibbs (stationary law pi_eta) and DPS (walks the [schedule] grid; no stationary law).
// 600 particles: more than two of posterior_output's 256-particle blocks, and not a multiple.
const std::string kConfig = R"([experiment]
name = "samples_1d"
seed = 16
replicates = 2

[target]
kind = "gaussian"
mean = [1.0]
variances = [1.0]

[likelihood]
kind = "linear_gaussian"
dim = 1
observations = 1
matrix = "identity"
sigma_y = 0.5
y = [2.0]

[schedule]
kind = "linear"

[sampling]
samplers = ["exact_stationary", "dpnp_gibbs", "dps"]
steps = [4, 8]
particles = 600

[sampling.params.exact_stationary]
eta = 0.5

[sampling.params.dpnp_gibbs]
eta_max = 0.25

[sweep]
"likelihood.sigma_y" = [0.5, 1.0]

[[estimator]]
kind = "posterior_grid_tv"
points = 40
)";

Plan make_test_plan(const std::vector<std::string>& overrides = {}) {
  return make_plan(config::parse_config(kConfig, "samples_1d.toml", overrides));
}

struct SampleKey {
  std::string point, sampler;
  std::int64_t steps;
  auto operator<=>(const SampleKey&) const = default;
};

// x0 of every written sample, by (point, sampler, steps), in particle order.
std::map<SampleKey, std::vector<double>> written_draws(const results::ResultsFile& file) {
  const results::ColumnTable& samples = *file.table("samples");
  std::map<SampleKey, std::vector<double>> out;
  for (std::size_t i = 0; i < samples.rows(); ++i) {
    std::vector<double>& draws =
        out[{samples.strings("point_key")[i], samples.strings("sampler")[i], samples.ints("steps")[i]}];
    EXPECT_EQ(samples.ints("particle")[i], static_cast<std::int64_t>(draws.size()));
    draws.push_back(samples.doubles("x0")[i]);
  }
  return out;
}

TEST(PosteriorSamples, DrawsArePrefixesOfTheEstimatorsSampleBitForBit) {
  const Plan plan = make_test_plan();
  SamplesOptions options;
  options.max_particles = 300;
  options.threads = 1;
  const std::map<SampleKey, std::vector<double>> written = written_draws(posterior_samples_file(plan, options));
  // 2 sweep points x 3 samplers x 2 T; replicate 1 is not written.
  ASSERT_EQ(written.size(), 12u);
  for (const config::RunSpec& run : plan.runs) {
    if (run.replicate != 0) continue;
    const SweepPoint& point = plan.point(run.index);
    const posterior::PosteriorProblem problem = point.posterior_problem();
    bool finite = true;
    const Matrix full = posterior::posterior_output(posterior_estimation_problem(plan, run.index, problem, 2), finite);
    ASSERT_EQ(full.cols(), 600);
    const std::vector<double>& draws = written.at({point.key, run.sampler, run.steps});
    ASSERT_EQ(draws.size(), 300u) << run.key;
    for (std::size_t j = 0; j < draws.size(); ++j)
      ASSERT_EQ(std::memcmp(&draws[j], &full(0, static_cast<Eigen::Index>(j)), sizeof(double)), 0)
          << run.key << " particle " << j;
  }
}

TEST(PosteriorSamples, IdenticalForOneAndTwoThreadsAndCappedByTheConfig) {
  const Plan plan = make_test_plan();
  SamplesOptions options;
  options.max_particles = 20000;  // more than the config's 600: the config's count is written
  options.threads = 1;
  const auto one = written_draws(posterior_samples_file(plan, options));
  options.threads = 2;
  const auto two = written_draws(posterior_samples_file(plan, options));
  ASSERT_EQ(one.size(), two.size());
  for (const auto& [key, draws] : one) {
    ASSERT_EQ(draws.size(), 600u);
    const std::vector<double>& other = two.at(key);
    ASSERT_EQ(std::memcmp(draws.data(), other.data(), draws.size() * sizeof(double)), 0) << key.sampler;
  }
}

TEST(PosteriorSamples, OnlyTheRequestedStepsAndOnlyReplicateZero) {
  const Plan plan = make_test_plan();
  SamplesOptions options;
  options.steps = 8;
  options.max_particles = 10;
  const results::ResultsFile file = posterior_samples_file(plan, options);
  const results::ColumnTable& runs = *file.table("sampler_runs");
  ASSERT_EQ(runs.rows(), 6u);
  for (const std::int64_t steps : runs.ints("steps")) EXPECT_EQ(steps, 8);
  for (const std::int64_t written : runs.ints("particles_written")) EXPECT_EQ(written, 10);
  for (const std::int64_t particles : runs.ints("particles")) EXPECT_EQ(particles, 600);
  EXPECT_EQ(file.table("samples")->rows(), 60u);
}

TEST(PosteriorSamples, GridLawsOnTheEstimatorsCellsSumToOne) {
  const Plan plan = make_test_plan();
  SamplesOptions options;
  options.max_particles = 1;
  const results::ResultsFile file = posterior_samples_file(plan, options);
  const results::ColumnTable& grid = *file.table("grid");
  // Per point: pi, and pi_eta at 0.25 (dpnp_gibbs) and 0.5 (exact_stationary); dps has no pi_eta.
  std::map<std::tuple<std::string, std::string, double>, std::pair<double, int>> laws;
  for (std::size_t i = 0; i < grid.rows(); ++i) {
    auto& [mass, cells] = laws[{grid.strings("point_key")[i], grid.strings("reference")[i], grid.doubles("eta")[i]}];
    mass += grid.doubles("mass")[i];
    ++cells;
    EXPECT_NEAR(grid.doubles("width0")[i], grid.doubles("width0")[0], 1e-12);
  }
  ASSERT_EQ(laws.size(), 6u);
  std::set<double> etas;
  for (const auto& [key, law] : laws) {
    EXPECT_NEAR(law.first, 1.0, 1e-12) << std::get<0>(key) << " " << std::get<1>(key);
    EXPECT_EQ(law.second, 40);  // the posterior_grid_tv estimator's points
    EXPECT_EQ(std::get<1>(key), std::get<2>(key) == 0.0 ? "pi" : "pi_eta");
    etas.insert(std::get<2>(key));
  }
  EXPECT_EQ(etas, (std::set<double>{0.0, 0.25, 0.5}));
  EXPECT_FALSE(grid.find("x1"));  // d = 1
  const results::ColumnTable& runs = *file.table("sampler_runs");
  for (std::size_t i = 0; i < runs.rows(); ++i) {
    if (runs.strings("sampler")[i] == "dps") {
      EXPECT_TRUE(std::isnan(runs.doubles("stationary_eta")[i]));
    }
  }
}

TEST(PosteriorSamples, WithoutAGridEstimatorTheEstimatorsDefaultCells) {
  const std::string text = kConfig.substr(0, kConfig.find("[[estimator]]")) + "[[estimator]]\nkind = \"posterior_w2\"\n";
  const Plan plan = make_plan(config::parse_config(text, "samples_w2.toml"));
  EXPECT_EQ(samples_grid_options(plan.config).points, 64);
}

TEST(PosteriorSamples, RefusesStepsOutsideTheSweepAndDiffusionConfigs) {
  const Plan plan = make_test_plan();
  SamplesOptions options;
  options.steps = 5;
  try {
    check_samples_options(plan, options);
    FAIL() << "--steps 5 accepted";
  } catch (const InvalidArgument& error) {
    EXPECT_NE(std::string(error.what()).find("--steps 5: not a value of [sampling] steps"), std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("(4, 8)"), std::string::npos) << error.what();
  }
  options.steps = 8;
  EXPECT_NO_THROW(check_samples_options(plan, options));
  options.max_particles = 0;
  EXPECT_THROW(check_samples_options(plan, options), InvalidArgument);

  const std::string diffusion = R"([experiment]
name = "not_posterior"
[target]
kind = "gaussian"
mean = [0.0]
variances = [1.0]
[schedule]
kind = "linear"
[sampling]
samplers = ["ddpm"]
steps = [8]
particles = 100
[[estimator]]
kind = "gaussian_law"
)";
  const Plan other = make_plan(config::parse_config(diffusion, "diffusion.toml"));
  try {
    check_samples_options(other, SamplesOptions{});
    FAIL() << "a diffusion config accepted";
  } catch (const InvalidArgument& error) {
    EXPECT_NE(std::string(error.what()).find("needs a posterior experiment"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace dmconv::experiment
