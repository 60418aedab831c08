#pragma once
#include <cstdint>
#include <ostream>
#include <string>

namespace dmconv::cli {

int list_command(const std::string& kind, std::ostream& out);

struct DemoOptions {
  int steps = 256;
  long particles = 100000;
  std::uint64_t seed = 1;
  int threads = 0;
};
int demo_command(const DemoOptions& options, std::ostream& out);

}  // namespace dmconv::cli
