// Experiment configs: every bad-input class of issue 4 (item 8) gives a ConfigError naming
// file:line, the key, the value and the rule, before any work; valid configs expand into the
// documented Cartesian sweep.
#include <gtest/gtest.h>

#include <set>

#include <filesystem>
#include <fstream>

#include "config/experiment_config.hpp"
#include "experiment/experiment.hpp"

namespace dmconv::config {
namespace {

// A small valid config; `replace` swaps one line (matched by its start) for another.
const std::string kValid = R"([experiment]
name = "unit"
seed = 3

[target]
kind = "gaussian_mixture"
weights = [0.3, 0.7]
means = [[-2.0], [1.5]]
variance = [0.25, 0.5]

[schedule]
kind = "theory"
c0 = 2.0
c1 = 6.0

[sampling]
samplers = ["ddim", "ddpm"]
steps = [64, 128]
particles = 1000

[[estimator]]
kind = "change_of_variables_quadrature"
samplers = ["ddim"]
panels = 64

[[estimator]]
kind = "grid_law"
samplers = ["ddpm"]
points = 512

[[claim]]
name = "ddim first order"
sampler = "ddim"
metric = "tv"
axis = "T"
slope = -1.0
)";

std::string with_line(const std::string& prefix, const std::string& replacement) {
  const auto at = kValid.find("\n" + prefix);
  EXPECT_NE(at, std::string::npos) << prefix;
  const auto end = kValid.find('\n', at + 1);
  return kValid.substr(0, at + 1) + replacement + kValid.substr(end);
}

// A factory's ParameterError names its key, so the error is reported at the key's line, not at
// the section header.
void expect_at_key_not_header(const std::string& message, const std::string& key_line, const std::string& header) {
  EXPECT_TRUE(message.rfind(key_line + ":", 0) == 0) << message << "\n(expected at " << key_line << ", not at the header "
                                                    << header << ")";
}

// The message of the ConfigError raised by parsing (and planning) `text`.
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    const ExperimentConfig config = parse_config(text, "unit.toml", overrides);
    experiment::make_plan(config);
  } catch (const ConfigError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return "";
}

TEST(ExperimentConfig, ValidConfigParsesAndExpands) {
  const ExperimentConfig config = parse_config(kValid, "unit.toml");
  EXPECT_EQ(config.name, "unit");
  EXPECT_EQ(config.seed, 3u);
  EXPECT_EQ(config.samplers, (std::vector<std::string>{"ddim", "ddpm"}));
  EXPECT_EQ(config.steps, (std::vector<int>{64, 128}));
  EXPECT_EQ(config.hash.size(), 16u);
  const std::vector<RunSpec> runs = expand_runs(config);
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[0].key, "sampler=ddim;T=64;replicate=0");
  EXPECT_EQ(runs[3].key, "sampler=ddpm;T=128;replicate=0");
  const experiment::Plan plan = experiment::make_plan(config);
  EXPECT_EQ(plan.estimators_of_run[0], (std::vector<std::size_t>{0}));
  EXPECT_EQ(plan.estimators_of_run[3], (std::vector<std::size_t>{1}));
}

TEST(ExperimentConfig, SweepAxesAreCartesianAndKeyed) {
  const std::string text = kValid + "\n[sweep]\n\"schedule.c1\" = [6.0, 8.0]\n\"sampling.particles\" = [100, 200, 300]\n";
  ExperimentConfig config = parse_config(text, "unit.toml");
  config.replicates = 2;
  const std::vector<RunSpec> runs = expand_runs(config);
  ASSERT_EQ(runs.size(), 2u * 3u * 2u * 2u * 2u);
  EXPECT_EQ(runs[0].key, "schedule.c1=6;sampling.particles=100;sampler=ddim;T=64;replicate=0");
  EXPECT_EQ(runs[1].key, "schedule.c1=6;sampling.particles=100;sampler=ddim;T=64;replicate=1");
  EXPECT_EQ(runs.back().key, "schedule.c1=8;sampling.particles=300;sampler=ddpm;T=128;replicate=1");
  EXPECT_EQ(runs.back().particles, 300);
  EXPECT_EQ(runs.back().schedule.params.number("s", "c1"), 8.0);
}

TEST(ExperimentConfig, OverridesApplyBeforeValidationAndChangeTheHash) {
  const ExperimentConfig base = parse_config(kValid, "unit.toml");
  const ExperimentConfig changed = parse_config(kValid, "unit.toml", {"sampling.particles=5000", "schedule.c1=8"});
  EXPECT_EQ(changed.particles, 5000);
  EXPECT_EQ(changed.schedule.params.number("s", "c1"), 8.0);
  EXPECT_NE(base.hash, changed.hash);
  EXPECT_NE(changed.text.find("5000"), std::string::npos);
  EXPECT_NE(error_of(kValid, {"sampling.particles=0"}).find("--set"), std::string::npos);
  EXPECT_NE(error_of(kValid, {"particles"}).find("expected section.key=value"), std::string::npos);
}

TEST(ExperimentConfig, UnknownKeyNamesFileLineKeyAndValidKeys) {
  const std::string message = error_of(with_line("particles", "particle = 1000"));
  EXPECT_NE(message.find("unit.toml:19"), std::string::npos) << message;
  EXPECT_NE(message.find("particle = 1000"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown key; valid keys are: comparison_level, initialisation, oracle, params, particles"),
            std::string::npos)
      << message;
}

TEST(ExperimentConfig, WrongTypeNamesTheRule) {
  const std::string message = error_of(with_line("steps", "steps = \"many\""));
  EXPECT_NE(message.find("unit.toml:18"), std::string::npos) << message;
  EXPECT_NE(message.find("steps = \"many\""), std::string::npos) << message;
  EXPECT_NE(message.find("must be an integer"), std::string::npos) << message;
  const std::string seed = error_of(with_line("seed", "seed = 1.5"));
  EXPECT_NE(seed.find("unit.toml:3"), std::string::npos) << seed;
  EXPECT_NE(seed.find("must be an integer"), std::string::npos) << seed;
}

TEST(ExperimentConfig, OutOfRangeValuesNameTheRule) {
  const std::string steps = error_of(with_line("steps", "steps = [64, 1]"));
  EXPECT_NE(steps.find("unit.toml:18"), std::string::npos) << steps;
  EXPECT_NE(steps.find("must lie in [2, 10000000]"), std::string::npos) << steps;
  const std::string particles = error_of(with_line("particles", "particles = 0"));
  EXPECT_NE(particles.find("unit.toml:19"), std::string::npos) << particles;
  EXPECT_NE(particles.find("must lie in [1, 9007199254740992]"), std::string::npos) << particles;
  // The schedule's own rule, reported at the steps line: theory with c1 = 6 needs c1 log T / T < 1.
  const std::string grid = error_of(with_line("steps", "steps = [16, 64]"));
  EXPECT_NE(grid.find("unit.toml:18"), std::string::npos) << grid;
  EXPECT_NE(grid.find("steps = 16"), std::string::npos) << grid;
  const std::string schedule = error_of(with_line("c1", "c1 = 1.0"));
  expect_at_key_not_header(schedule, "unit.toml:14", "unit.toml:11");
  EXPECT_NE(schedule.find("[schedule]"), std::string::npos) << schedule;
  EXPECT_NE(schedule.find("c1"), std::string::npos) << schedule;
}

// TOML integers are int64 end to end: values beyond 32 bits are checked, and quoted, as written,
// never wrapped (2^32 + 1 replicates once ran as 1) or rounded through a double.
TEST(ExperimentConfig, IntegersAreCheckedAndQuotedExactly) {
  const std::string replicates = error_of(with_line("seed", "seed = 3\nreplicates = 4294967297"));
  EXPECT_NE(replicates.find("unit.toml:4: [experiment] replicates = 4294967297: must lie in [1, 100000]"),
            std::string::npos)
      << replicates;
  const std::string steps = error_of(with_line("steps", "steps = [64, 2147483648]"));
  EXPECT_NE(steps.find("steps = 2147483648: must lie in [2, 10000000]"), std::string::npos) << steps;
  const std::string particles = error_of(with_line("particles", "particles = 9007199254740993"));
  EXPECT_NE(particles.find("particles = 9007199254740993"), std::string::npos) << particles;
  // A component parameter keeps its exact int64 (the declared layer compares it exactly).
  const std::string points = error_of(with_line("points", "points = 9007199254740993"));
  EXPECT_NE(points.find("points = 9007199254740993: must lie in [0, 1048576]"), std::string::npos) << points;
  const ExperimentConfig config = parse_config(kValid, "unit.toml");
  EXPECT_TRUE(config.estimators[1].component.params.entries().at("points").is_integer());
}

TEST(ExperimentConfig, ExperimentNamesAreSafeFileNames) {
  for (const std::string bad : {"\"../escaped\"", "\"sub/dir\"", "\"\"", "\".hidden\"", "\"a\\u0000b\"", "\"two words\""}) {
    const std::string message = error_of(with_line("name", "name = " + bad));
    EXPECT_EQ(message.rfind("unit.toml:2: [experiment] name = ", 0), 0u) << bad << ": " << message;
  }
  EXPECT_NE(error_of(with_line("name", "name = \"" + std::string(201, 'n') + "\"")).find("at most 200 bytes"),
            std::string::npos);
  EXPECT_EQ(parse_config(with_line("name", "name = \"a-b_c.2\""), "unit.toml").name, "a-b_c.2");
}

TEST(ExperimentConfig, DuplicateSweepValuesAreRejected) {
  const std::string repeated = error_of(kValid + "\n[sweep]\n\"schedule.c1\" = [6.0, 8.0, 6.0]\n");
  EXPECT_NE(repeated.find("lists 6 twice"), std::string::npos) << repeated;
  const std::string same_key = error_of(kValid + "\n[sweep]\n\"schedule.c1\" = [6.0, 6.0000001]\n");
  EXPECT_NE(same_key.find("give the same run key"), std::string::npos) << same_key;
}

TEST(ExperimentConfig, ClaimsMustBeFedByAnEstimator) {
  // grid_law in 1-D reports w2, but only for ddpm; the claim is on ddim.
  const std::string w2 = error_of(with_line("metric", "metric = \"w2\""));
  EXPECT_NE(w2.find("[claim #1] metric = \"w2\": no configured [[estimator]] reports 'w2' for sampler 'ddim'"),
            std::string::npos)
      << w2;
  EXPECT_EQ(w2.rfind("unit.toml:34:", 0), 0u) << w2;
  const std::string kind = error_of(kValid + "estimator = \"grid_law\"\n");
  EXPECT_NE(kind.find("of kind 'grid_law' reports 'tv' for sampler 'ddim'"), std::string::npos) << kind;
  // ddpm gets w2 from the 1-D grid law: accepted.
  std::string on_ddpm = with_line("metric", "metric = \"w2\"");
  on_ddpm.replace(on_ddpm.find("sampler = \"ddim\""), std::string("sampler = \"ddim\"").size(), "sampler = \"ddpm\"");
  const ExperimentConfig ok = parse_config(on_ddpm, "unit.toml");
  EXPECT_NO_THROW(experiment::make_plan(ok));
}

TEST(ExperimentConfig, SetOverridesAreCheckedAndBlamedOnSet) {
  const std::string newline = error_of(kValid, {"sampling.particles=5\nexperiment.seed=3"});
  EXPECT_NE(newline.find("--set sampling.particles=5\\nexperiment.seed=3: contains a control character"),
            std::string::npos)
      << newline;
  const std::string unknown = error_of(kValid, {"sampling.particle=5"});
  EXPECT_EQ(unknown.rfind("--set: [sampling] particle = 5: unknown key", 0), 0u) << unknown;
  const std::string section = error_of(kValid, {"samplng.particles=5"});
  EXPECT_NE(section.find("unknown section [samplng]"), std::string::npos) << section;
  const std::string not_toml = error_of(kValid, {"sampling.steps=[64"});
  EXPECT_NE(not_toml.find("--set sampling.steps=[64: the value is not valid TOML"), std::string::npos) << not_toml;
  const std::string overflow = error_of(kValid, {"experiment.seed=9223372036854775808"});
  EXPECT_NE(overflow.find("not representable in 64 bits"), std::string::npos) << overflow;
  // A bare word is still a string.
  EXPECT_EQ(parse_config(kValid, "unit.toml", {"sampling.initialisation=standard_normal"}).initialisation,
            Initialisation::kStandardNormal);
}

TEST(ExperimentConfig, UnknownComponentNamesListTheValidOnes) {
  const std::string target = error_of(with_line("kind = \"gaussian_mixture\"", "kind = \"gaussian_mixtur\""));
  EXPECT_NE(target.find("unit.toml:6"), std::string::npos) << target;
  EXPECT_NE(target.find("unknown target 'gaussian_mixtur'; valid targets are: gaussian, gaussian_mixture, product"),
            std::string::npos)
      << target;
  const std::string sampler = error_of(with_line("samplers = [\"ddim\", \"ddpm\"]", "samplers = [\"ddim\", \"dpm\"]"));
  EXPECT_NE(sampler.find("unit.toml:17"), std::string::npos) << sampler;
  EXPECT_NE(sampler.find("unknown sampler 'dpm'; valid samplers are: ddpm"), std::string::npos) << sampler;
  const std::string estimator = error_of(with_line("kind = \"grid_law\"", "kind = \"grid\""));
  EXPECT_NE(estimator.find("unknown estimator 'grid'"), std::string::npos) << estimator;
  EXPECT_NE(estimator.find("grid_law"), std::string::npos) << estimator;
  const std::string section = error_of(kValid + "[sampler]\nx = 1\n");
  EXPECT_NE(section.find("unknown key; valid keys are: claim, estimator, experiment"), std::string::npos) << section;
}

TEST(ExperimentConfig, NonPositiveDefiniteCovarianceIsReportedAtItsLine) {
  std::string text = with_line("variance", "covariances = [[[1.0, 2.0], [2.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]");
  text = text.substr(0, text.find("means")) + "means = [[-2.0, 0.0], [1.5, 0.0]]" +
         text.substr(text.find('\n', text.find("means")));
  const std::string message = error_of(text);
  expect_at_key_not_header(message, "unit.toml:9", "unit.toml:5");
  EXPECT_NE(message.find("positive definite"), std::string::npos) << message;
}

TEST(ExperimentConfig, WeightsThatDoNotSumToOneAreReportedAtTheirLine) {
  const std::string message = error_of(with_line("weights", "weights = [0.3, 0.6]"));
  expect_at_key_not_header(message, "unit.toml:7", "unit.toml:5");
  EXPECT_NE(message.find("weights"), std::string::npos) << message;
  EXPECT_NE(message.find("sum"), std::string::npos) << message;
}

TEST(ExperimentConfig, NotTomlAndUnreadableFiles) {
  const std::string syntax = error_of("[experiment]\nname = \"x\"\nseed = = 3\n");
  EXPECT_NE(syntax.find("unit.toml:3"), std::string::npos) << syntax;
  EXPECT_NE(syntax.find("not valid TOML"), std::string::npos) << syntax;
  try {
    load_config("/nonexistent/dir/config.toml");
    ADD_FAILURE() << "no error for a missing file";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/dir/config.toml: cannot open"), std::string::npos);
  }
  const std::filesystem::path binary = std::filesystem::temp_directory_path() / "dmconv_config_test_binary.toml";
  {
    std::ofstream out(binary, std::ios::binary);
    out << std::string("\x89HDF\r\n\x1a\n\0\0\0", 12);
  }
  try {
    load_config(binary);
    ADD_FAILURE() << "no error for a binary file";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("not valid TOML"), std::string::npos) << error.what();
  }
  std::filesystem::remove(binary);
}

TEST(ExperimentConfig, MissingSectionsAndKeys) {
  EXPECT_NE(error_of("[experiment]\nname = \"x\"\n").find("[target]: section is required"), std::string::npos);
  const std::string no_kind = error_of(with_line("kind = \"theory\"", "c9 = 1"));
  EXPECT_NE(no_kind.find("unit.toml:11: [schedule]: key 'kind' is required"), std::string::npos) << no_kind;
}

TEST(ExperimentConfig, EstimatorThatCannotServeAListedSamplerIsRejected) {
  // grid_law needs a step made of score-map substeps; the multistep accelerated ODE has none.
  std::string text = with_line("samplers = [\"ddpm\"]", "samplers = [\"ddpm\", \"acc_ode_noise\"]");
  const std::string listed = "samplers = [\"ddim\", \"ddpm\"]";
  text.replace(text.find(listed), listed.size(), "samplers = [\"ddim\", \"ddpm\", \"acc_ode_noise\"]");
  const std::string message = error_of(text);
  EXPECT_NE(message.find("does not support it"), std::string::npos) << message;
  EXPECT_NE(message.find("grid_law"), std::string::npos) << message;
}

TEST(ExperimentConfig, ClaimsAreValidated) {
  const std::string axis = error_of(with_line("axis", "axis = \"eps\""));
  EXPECT_NE(axis.find("must be \"T\" or a [sweep] key"), std::string::npos) << axis;
  const std::string bound = error_of(kValid + "bound = \"maybe\"\n");
  EXPECT_NE(bound.find("must be \"upper\""), std::string::npos) << bound;
  const std::string sampler = error_of(with_line("sampler = \"ddim\"", "sampler = \"acc_sde_a\""));
  EXPECT_NE(sampler.find("'acc_sde_a' is not in [sampling] samplers"), std::string::npos) << sampler;
  const std::string model = error_of(kValid + "model = \"logistic\"\n");
  EXPECT_NE(model.find("model = \"logistic\""), std::string::npos) << model;
  EXPECT_NE(model.find("must be \"power\""), std::string::npos) << model;
  const std::string log_factor = error_of(kValid + "model = \"exponential\"\nlog_power = \"free\"\n");
  EXPECT_NE(log_factor.find("must be \"none\" (or absent) with model = \"exponential\""), std::string::npos)
      << log_factor;
  // The exponential model drops the default free log factor.
  const ExperimentConfig exponential = parse_config(kValid + "model = \"exponential\"\n", "unit.toml");
  ASSERT_EQ(exponential.claims.size(), 1u);
  EXPECT_EQ(exponential.claims[0].fit.model, FitModel::kExponential);
  EXPECT_EQ(exponential.claims[0].fit.log_factor, LogPowerMode::kNone);
  // The power law's default log factor is free; a number fixes it.
  const ExperimentConfig fixed = parse_config(kValid + "log_power = 1.5\n", "unit.toml");
  EXPECT_EQ(parse_config(kValid, "unit.toml").claims[0].fit.log_factor, LogPowerMode::kFree);
  EXPECT_EQ(fixed.claims[0].fit.log_factor, LogPowerMode::kFixed);
  EXPECT_EQ(fixed.claims[0].fit.log_factor_power, 1.5);
  const std::string fixed_word = error_of(kValid + "log_power = \"fixed\"\n");
  EXPECT_NE(fixed_word.find("must be \"free\", \"none\" or a number"), std::string::npos) << fixed_word;
}

TEST(ExperimentConfig, ScoreErrorSectionIsValidatedAndSweepable) {
  const std::string section = "\n[score_error]\nkind = \"fourier\"\na = 0.002\nomega = 4.0\nmeasure_samples = 500\n";
  const ExperimentConfig config = parse_config(kValid + section + "\n[sweep]\n\"score_error.omega\" = [1.0, 4.0]\n",
                                               "unit.toml");
  EXPECT_EQ(config.score_error.kind, "fourier");
  EXPECT_EQ(config.measure_samples, 500);
  const std::vector<RunSpec> runs = expand_runs(config);
  ASSERT_EQ(runs.size(), 8u);
  EXPECT_EQ(runs.back().score_error.params.number("s", "omega"), 4.0);
  EXPECT_NO_THROW(experiment::make_plan(config));
  const std::string kind = error_of(kValid + "\n[score_error]\nkind = \"fourrier\"\n");
  EXPECT_NE(kind.find("unknown score error 'fourrier'"), std::string::npos) << kind;
  EXPECT_NE(kind.find("fourier"), std::string::npos) << kind;
  const std::string negative = error_of(kValid + "\n[score_error]\nkind = \"fourier\"\na = -1.0\nomega = 2.0\n");
  EXPECT_NE(negative.find("unit.toml:40"), std::string::npos) << negative;
  EXPECT_NE(negative.find("a = "), std::string::npos) << negative;
  const std::string unknown = error_of(kValid + "\n[score_error]\nkind = \"constant_bias\"\nomega = 2.0\n");
  EXPECT_NE(unknown.find("unknown key"), std::string::npos) << unknown;
}

}  // namespace
}  // namespace dmconv::config

namespace dmconv::config {
namespace {

// [sampling.params.NAME]: sampler parameters from the config, validated by the factory at
// parse time (file, line and the factory's key/value/rule message).
std::string with_sampler_params(const std::string& table) {
  std::string text = kValid;
  const std::string list = "samplers = [\"ddim\", \"ddpm\"]";
  text.replace(text.find(list), list.size(), "samplers = [\"ddim\", \"ddpm\", \"pmm_pc\"]");
  const std::string anchor = "particles = 1000\n";
  text.insert(text.find(anchor) + anchor.size(), "\n" + table);
  return text;
}

TEST(ExperimentConfig, SamplerParamsAreParsedAndValidated) {
  const ExperimentConfig config = parse_config(
      with_sampler_params("[sampling.params.pmm_pc]\nlangevin_time = 2.0\nintegrator = \"dpm_solver_2\"\n"), "unit.toml");
  ASSERT_EQ(config.sampler_params.count("pmm_pc"), 1u);
  EXPECT_EQ(config.sampler_params.at("pmm_pc").number("test", "langevin_time"), 2.0);
  EXPECT_EQ(config.sampler_params.at("pmm_pc").string("test", "integrator"), "dpm_solver_2");
  EXPECT_EQ(config.sampler_params.count("ddim"), 0u);
  const std::string bad = error_of(with_sampler_params("[sampling.params.pmm_pc]\nlangevin_step = 0.0\n"));
  EXPECT_NE(bad.find("unit.toml:"), std::string::npos) << bad;
  EXPECT_NE(bad.find("langevin_step = 0"), std::string::npos) << bad;
  EXPECT_NE(bad.find("> 0"), std::string::npos) << bad;
  const std::string unlisted = error_of(with_sampler_params("[sampling.params.song_pc]\nsnr = 0.2\n"));
  EXPECT_NE(unlisted.find("'song_pc' is not in [sampling] samplers"), std::string::npos) << unlisted;
}

// --set reaches nested tables: a sampler parameter is overridden (and validated) like any key.
TEST(ExperimentConfig, OverridesReachSamplerParameterTables) {
  const std::string text = with_line("samplers = [\"ddim\", \"ddpm\"]", "samplers = [\"ddim\", \"ddpm\", \"pmm_pc\"]");
  const ExperimentConfig config =
      parse_config(text, "unit.toml", {"sampling.params.pmm_pc.langevin_time=0.5", "sampling.params.pmm_pc.langevin_step=0.1"});
  ASSERT_EQ(config.sampler_params.count("pmm_pc"), 1u);
  EXPECT_EQ(config.sampler_params.at("pmm_pc").number("test", "langevin_time"), 0.5);
  const std::string bad = error_of(text, {"sampling.params.pmm_pc.langevin_step=-1"});
  EXPECT_NE(bad.find("--set"), std::string::npos) << bad;
  EXPECT_NE(bad.find("langevin_step"), std::string::npos) << bad;
  const std::string not_table = error_of(text, {"sampling.particles.x=1"});
  EXPECT_NE(not_table.find("'particles' in the path is not a table"), std::string::npos) << not_table;
}

TEST(ExperimentConfig, SamplerParamsAreSweepAxes) {
  // "sampling.params.NAME.KEY" sweeps one parameter of one sampler; the others keep the table's.
  const std::string text = with_sampler_params("[sampling.params.pmm_pc]\nlangevin_step = 0.02\n") +
                           "\n[sweep]\n\"sampling.params.pmm_pc.langevin_time\" = [0.0, 2.5]\n";
  const ExperimentConfig config = parse_config(text, "unit.toml");
  const std::vector<RunSpec> runs = expand_runs(config);
  std::set<double> times;
  for (const RunSpec& run : runs) {
    const ParamTable& p = run.sampler_params.at("pmm_pc");
    EXPECT_EQ(p.number("test", "langevin_step"), 0.02);
    times.insert(p.number("test", "langevin_time"));
  }
  EXPECT_EQ(times, (std::set<double>{0.0, 2.5}));
  auto error_with = [&](const std::string& axis) {
    return error_of(with_sampler_params("") + "\n[sweep]\n" + axis + "\n");
  };
  const std::string negative = error_with("\"sampling.params.pmm_pc.langevin_time\" = [1.0, -1.0]");
  EXPECT_NE(negative.find("langevin_time = -1"), std::string::npos) << negative;
  const std::string unlisted = error_with("\"sampling.params.song_pc.snr\" = [0.1]");
  EXPECT_NE(unlisted.find("'song_pc' is not in [sampling] samplers"), std::string::npos) << unlisted;
  const std::string malformed = error_with("\"sampling.params.pmm_pc\" = [1.0]");
  EXPECT_NE(malformed.find("sampling.params.NAME.KEY"), std::string::npos) << malformed;
}

}  // namespace
}  // namespace dmconv::config

namespace dmconv::config {
namespace {

// A factory's ParameterError is mapped to "FILE:LINE: [section] key = value: rule" through its
// key(): the key's recorded line, "--set" when overridden, the section header when the key is
// empty or was not written; a plain InvalidArgument points at the section header.
TEST(ComponentError, ParameterErrorIsReportedAtItsKey) {
  ComponentSpec spec;
  spec.section = "schedule";
  spec.kind = "theory";
  spec.location = {"unit.toml", 11};
  spec.key_locations = {{"kind", {"unit.toml", 12}}, {"c0", {"unit.toml", 13}}, {"c1", {"--set", 0}}};
  const auto message = [&](const InvalidArgument& error) { return std::string(component_error(spec, error).what()); };
  EXPECT_EQ(message(ParameterError("theory schedule", "c0", "2", "must be below c1 = 1")),
            "unit.toml:13: [schedule] c0 = 2: must be below c1 = 1");
  EXPECT_EQ(message(ParameterError("theory schedule", "c1", "1", "must exceed c0")),
            "--set: [schedule] c1 = 1: must exceed c0");
  // A key with a default (not written): the section header, still naming key and value.
  EXPECT_EQ(message(ParameterError("theory schedule", "c2", "0.5", "must be positive")),
            "unit.toml:11: [schedule] c2 = 0.5: must be positive");
  // No single key: the header with the whole message.
  EXPECT_EQ(message(ParameterError("theory schedule", "", "", "c0 and c1 are inconsistent")),
            "unit.toml:11: [schedule] kind = \"theory\": theory schedule: c0 and c1 are inconsistent");
  // The message text is not searched: a plain InvalidArgument naming key 'c0' stays at the header.
  EXPECT_EQ(message(InvalidArgument("theory schedule: key 'c0' = 2 must be below 1")),
            "unit.toml:11: [schedule] kind = \"theory\": theory schedule: key 'c0' = 2 must be below 1");
}

}  // namespace
}  // namespace dmconv::config
