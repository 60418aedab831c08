#include "experiment/progress.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "experiment/groups.hpp"

namespace dmconv::experiment {
namespace {

std::string format_duration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  }
  return text;
}

}  // namespace

Progress::Progress(std::ostream* out, bool terminal, std::size_t runs, double total_work)
    : out_(out), terminal_(terminal), runs_(runs), total_work_(total_work), start_(std::chrono::steady_clock::now()) {}

double Progress::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::resumed(std::size_t runs_resumed, const std::string& path) {
  if (out_ && runs_resumed > 0)
    *out_ << "resuming: " << runs_resumed << " of " << runs_ << " runs already in " << path << "\n";
}

void Progress::starting(std::size_t finished, const config::RunSpec& run) {
  if (!out_ || !terminal_) return;
  const double seconds = elapsed();
  const double eta = done_work_ > 0.0 ? seconds * (total_work_ - done_work_) / done_work_ : NAN;
  char line[256];
  std::snprintf(line, sizeof line, "\r[%zu/%zu] %3.0f%% elapsed %s ETA %s  %s T=%d     ", finished, runs_,
                100.0 * static_cast<double>(finished) / static_cast<double>(runs_), format_duration(seconds).c_str(),
                std::isfinite(eta) ? format_duration(eta).c_str() : "--:--", run.sampler.c_str(), run.steps);
  *out_ << line << std::flush;
}

void Progress::finished(std::size_t finished, const config::RunSpec& run, const std::vector<RunRow>& rows) {
  done_work_ += run.steps;
  if (!out_ || terminal_) return;
  std::ostringstream line;
  line << "[" << finished << "/" << runs_ << "] " << run.key << ":";
  for (const RunRow& row : rows) {
    char value[64];
    std::snprintf(value, sizeof value, " %s%s/%s %.4g", row.origin == RowOrigin::kOracle ? "oracle:" : "",
                  row.estimator.c_str(), row.metric.c_str(), row.value);
    line << value;
    if (row.status != EstimateStatus::kOk) line << " (" << to_string(row.status) << ")";
  }
  if (!rows.empty()) line << " (" << format_number(rows.front().wall_seconds) << " s)";
  *out_ << line.str() << "\n" << std::flush;
}

void Progress::done() {
  if (!out_ || !terminal_) return;
  *out_ << "\r[" << runs_ << "/" << runs_ << "] 100% elapsed " << format_duration(elapsed())
        << "                                        \n";
}

}  // namespace dmconv::experiment
