// Pre-flight checks of `dmconv run` and `dmconv validate`, after the plan (plan.hpp) and before any
// work: no sweep may start that cannot finish or whose results cannot be written. Two checks:
//
//  * memory: the estimated peak memory of the largest run against the memory available now;
//  * the output path: not empty, not a directory, a file name short enough for the checkpoint's
//    temporary name, and a directory that exists (or can be created) and accepts a new file --
//    proved by creating and removing a probe file "<out>.probe-<pid>".
//
// Each failure is an InvalidArgument (exit 2) naming the file and line or option, the value and
// the rule.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "experiment/plan.hpp"

namespace dmconv::experiment {

struct MemoryEstimate {
  double bytes = 0.0;          // estimated peak of the largest run
  std::size_t run = 0;         // index of that run
  std::int64_t particles = 0;  // its particle count
  long dim = 0;                // its target dimension
};

// The estimate for the largest run of `plan` (preflight.cpp states the model and its factor).
MemoryEstimate estimate_peak_memory(const Plan& plan);

// Bytes available now (MemAvailable of /proc/meminfo, else sysconf), or nullopt when unknown.
std::optional<double> available_memory();

// Throws config::ConfigError at the particles key when the estimate exceeds `available` (no check
// when nullopt).
void check_memory(const Plan& plan, std::optional<double> available);

// "12.3 GB"-style text (powers of 1000), for messages.
std::string human_bytes(double bytes);

struct OutputPath {
  std::filesystem::path path;  // the results file to write
  bool given = false;          // from --out (else the default)
};

// Checks `out` (see the header). Missing parent directories are created for the probe; with
// `keep_created` (run) they stay, without it (validate) they are removed again, as they are
// whenever the probe fails. Throws InvalidArgument naming `option` ("--out") or the default.
void check_output_path(const OutputPath& out, bool keep_created, const std::string& option = "--out");

}  // namespace dmconv::experiment
