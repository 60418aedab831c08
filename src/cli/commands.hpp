#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace dmconv::cli {

int list_command(const std::string& kind, std::ostream& out);

struct DemoOptions {
  int steps = 256;
  long particles = 100000;
  std::uint64_t seed = 1;
  int threads = 0;
};
int demo_command(const DemoOptions& options, std::ostream& out);

struct ExperimentOptions {
  std::string config;
  std::vector<std::string> overrides;  // --set section.key=value
  std::string out;                     // results file (default results/<name>.h5)
  int threads = 0;
  bool resume = false;
  double checkpoint_seconds = 2.0;
  std::string command_line;
};
// Exit codes: 0 success; 1 a claim is violated; 2 bad input (thrown as InvalidArgument).
int validate_command(const ExperimentOptions& options, std::ostream& out);
int run_command(const ExperimentOptions& options, std::ostream& out);
int check_command(const std::string& results_path, std::ostream& out);

}  // namespace dmconv::cli
