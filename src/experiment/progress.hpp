// Progress lines of the execute stage: on a terminal one updating line with the ETA (work
// taken proportional to T), otherwise one line per finished run with its values.
#pragma once
#include <chrono>
#include <cstddef>
#include <ostream>
#include <vector>

#include "config/experiment_config.hpp"
#include "experiment/rows.hpp"

namespace dmconv::experiment {

class Progress {
 public:
  // `out` nullptr: silent. total_work: the sum of T over the runs still to execute.
  Progress(std::ostream* out, bool terminal, std::size_t runs, double total_work);
  void resumed(std::size_t runs_resumed, const std::string& path);
  void starting(std::size_t finished, const config::RunSpec& run);
  void finished(std::size_t finished, const config::RunSpec& run, const std::vector<RunRow>& rows);
  void done();

 private:
  double elapsed() const;
  std::ostream* out_;
  bool terminal_;
  std::size_t runs_;
  double total_work_, done_work_ = 0.0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace dmconv::experiment
