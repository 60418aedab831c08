// Provenance attributes shared by every results file dmconv writes (experiment results,
// `dmconv lsi` profiles; layouts in results/README.md): which tool wrote the file, when (UTC),
// from which command line and config. One implementation, so the spelling of the names and the
// time-stamp format cannot differ between files.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "results/results_file.hpp"

namespace dmconv::results {

using Attributes = std::vector<std::pair<std::string, Attribute>>;

// The current time, UTC, ISO 8601 to the second: "2026-12-06T09:15:02Z".
std::string utc_timestamp();

// Appends tool_version, git_sha, [build_type when with_build_type], created_utc (now).
void append_tool_attributes(Attributes& attributes, bool with_build_type);

// What a file was computed from.
struct Origin {
  std::string command_line;
  std::string config_path;  // as given
  std::string config_text;  // canonical TOML after --set overrides
  std::string config_hash;
};
// Appends command_line, config_path, config_text, config_hash.
void append_origin_attributes(Attributes& attributes, const Origin& origin);

}  // namespace dmconv::results
