// The provenance attributes shared by experiment results files and `dmconv lsi` profiles: names
// and order (results/README.md) and the UTC time-stamp format.
#include <gtest/gtest.h>

#include <regex>

#include "results/provenance.hpp"

namespace dmconv::results {
namespace {

std::vector<std::string> names(const Attributes& attributes) {
  std::vector<std::string> out;
  for (const auto& [name, value] : attributes) out.push_back(name);
  return out;
}

TEST(Provenance, TimeStampIsIsoUtcToTheSecond) {
  EXPECT_TRUE(std::regex_match(utc_timestamp(), std::regex(R"(20\d\d-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-6]\dZ)")))
      << utc_timestamp();
}

TEST(Provenance, AttributesInTheSchemaOrder) {
  Attributes with_build;
  append_tool_attributes(with_build, true);
  EXPECT_EQ(names(with_build), (std::vector<std::string>{"tool_version", "git_sha", "build_type", "created_utc"}));
  Attributes without_build;
  append_tool_attributes(without_build, false);
  EXPECT_EQ(names(without_build), (std::vector<std::string>{"tool_version", "git_sha", "created_utc"}));
  Attributes origin;
  append_origin_attributes(origin, {"dmconv run x.toml", "x.toml", "[experiment]\n", "0123456789abcdef"});
  EXPECT_EQ(names(origin), (std::vector<std::string>{"command_line", "config_path", "config_text", "config_hash"}));
  EXPECT_EQ(std::get<std::string>(origin[0].second), "dmconv run x.toml");
  EXPECT_EQ(std::get<std::string>(origin[3].second), "0123456789abcdef");
}

}  // namespace
}  // namespace dmconv::results
