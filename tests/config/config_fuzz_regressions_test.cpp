// Inputs found by the config fuzzer (fuzz/config_fuzzer.cpp; README "Sanitizers and fuzzing"),
// replayed through the same entry points -- parse_config on the text, then make_plan -- so that the
// normal test suite keeps them fixed: each must end in a config/plan or in InvalidArgument
// (ConfigError), never in another exception, a crash or a sanitizer report (under `make sanitize`).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/experiment_config.hpp"
#include "experiment/plan.hpp"

namespace dmconv::config {
namespace {

// parse + plan; "" for a valid config, the message for InvalidArgument. Anything else escapes and
// fails the test.
std::string outcome_of(const std::string& text, const std::string& name) {
  try {
    const ExperimentConfig config = parse_config(text, name);
    experiment::make_plan(config);
  } catch (const InvalidArgument& error) {
    return error.what();
  }
  return "";
}

TEST(ConfigFuzzRegressions, EveryStoredInputEndsInAConfigOrAConfigError) {
  const std::filesystem::path dir = DMCONV_FUZZ_REGRESSIONS_DIR;
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  std::vector<std::filesystem::path> inputs;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().filename() != "README.md") inputs.push_back(entry.path());
  for (const std::filesystem::path& input : inputs) {
    SCOPED_TRACE(input.filename().string());
    std::ifstream in(input, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    EXPECT_NO_THROW(outcome_of(text.str(), input.filename().string()));
  }
}

std::string read_input(const std::string& name) {
  std::ifstream in(std::filesystem::path(DMCONV_FUZZ_REGRESSIONS_DIR) / name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void expect_rejected(const std::string& name, const std::string& key_and_value, const std::string& rule) {
  const std::string message = outcome_of(read_input(name), name);
  EXPECT_NE(message.find(key_and_value), std::string::npos) << name << ": " << message;
  EXPECT_NE(message.find(rule), std::string::npos) << name << ": " << message;
}

// replicates was narrowed to int before its bound was checked: 2^32 + 1 became 1 (accepted), 2^31
// became -2^31 (accepted, zero runs).
TEST(ConfigFuzzRegressions, ReplicatesBoundIsCheckedBeforeNarrowing) {
  expect_rejected("replicates_2pow32_plus_1.toml", "replicates = 4294967297", "must lie in [1, 100000]");
  expect_rejected("replicates_2pow31.toml", "replicates = 2147483648", "must lie in [1, 100000]");
}

// A swept particle count is a double (to_param); 2^63 - 1 became 2^63, whose conversion to
// Eigen::Index is undefined behaviour (UBSan float-cast-overflow) and gave "particles must be at
// least 1" on x86-64.
TEST(ConfigFuzzRegressions, SweptParticlesBeyondTwoPow53AreRejected) {
  expect_rejected("sweep_particles_int64_max.toml", "sampling.particles", "must lie in [1, 9007199254740992]");
}

// The linear schedule accepted base_steps up to 2^30 and stored N + 1 levels when the plan built it:
// about 8 GiB, std::bad_alloc (uncaught: std::terminate) after ~30 s.
TEST(ConfigFuzzRegressions, LinearBaseStepsAreBoundedBeforeAllocation) {
  expect_rejected("linear_base_steps_2pow30.toml", "base_steps = 1073741824", "must lie in [2, 1e+07]");
}

}  // namespace
}  // namespace dmconv::config
