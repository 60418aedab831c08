#include "results/provenance.hpp"

#include <ctime>

#include "dmconv/version.hpp"

namespace dmconv::results {

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

void append_tool_attributes(Attributes& attributes, bool with_build_type) {
  attributes.emplace_back("tool_version", std::string(kVersion));
  attributes.emplace_back("git_sha", std::string(kGitSha));
  if (with_build_type) attributes.emplace_back("build_type", std::string(kBuildType));
  attributes.emplace_back("created_utc", utc_timestamp());
}

void append_origin_attributes(Attributes& attributes, const Origin& origin) {
  attributes.emplace_back("command_line", origin.command_line);
  attributes.emplace_back("config_path", origin.config_path);
  attributes.emplace_back("config_text", origin.config_text);
  attributes.emplace_back("config_hash", origin.config_hash);
}

}  // namespace dmconv::results
