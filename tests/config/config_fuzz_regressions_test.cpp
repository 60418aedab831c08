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

}  // namespace
}  // namespace dmconv::config
