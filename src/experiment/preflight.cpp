// Pre-flight checks (preflight.hpp): the memory model of one run, the memory available, and the
// output path probe.
#include "experiment/preflight.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace dmconv::experiment {
namespace {

// Memory model of one run, in doubles (8 bytes):
//   kMatrixCopies x particles x d  -- the sampler's output Y (run_sampler's d x n result) plus what
//        the estimators hold beside it at their peak: an exact sample of the comparison law of the
//        same size (ot_w2's reference, the oracle floors, the realised-error samples), the
//        trajectory start Y_T and the pushed-forward Y of change_of_variables, sorted or projected
//        copies (w2_1d, sliced_w2, rao_blackwell). Four d x n matrices is the most any one
//        estimator keeps alive at once;
//   kVectorCopies x particles      -- per-particle scalars: log densities, log ratios, the
//        finite mask, kernel rows (mmd), log-determinants.
// Per-block temporaries (block_size = 512 columns, and the d x d tangent matrices of a block) and
// the grid laws (points^d, capped by their declarations) are independent of the particle count
// and not counted. The estimate is a floor on the true peak, so a refusal is never a false alarm.
constexpr double kMatrixCopies = 4.0;
constexpr double kVectorCopies = 4.0;

double run_bytes(std::int64_t particles, long dim) {
  const double n = static_cast<double>(particles), d = static_cast<double>(dim);
  return 8.0 * (kMatrixCopies * n * d + kVectorCopies * n);
}

}  // namespace

std::string human_bytes(double bytes) {
  const char* units[] = {"bytes", "kB", "MB", "GB", "TB", "PB", "EB"};
  int u = 0;
  while (bytes >= 1000.0 && u < 6) {
    bytes /= 1000.0;
    ++u;
  }
  char text[64];
  std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return text;
}

MemoryEstimate estimate_peak_memory(const Plan& plan) {
  MemoryEstimate largest;
  for (std::size_t r = 0; r < plan.runs.size(); ++r) {
    const std::int64_t n = static_cast<std::int64_t>(plan.runs[r].particles);
    const long d = static_cast<long>(plan.point(r).target->dim());
    // The realised-error measurement (measure_samples exact samples per level) holds its own batch.
    const std::int64_t measured = plan.runs[r].score_error.kind == "none" ? 0 : plan.config.measure_samples;
    const double bytes = std::max(run_bytes(n, d), run_bytes(measured, d));
    if (bytes > largest.bytes) largest = {bytes, r, n, d};
  }
  return largest;
}

std::optional<double> available_memory() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double kilobytes = 0.0;
  std::string unit;
  while (meminfo >> key >> kilobytes >> unit)
    if (key == "MemAvailable:") return kilobytes * 1024.0;
  const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) return static_cast<double>(pages) * static_cast<double>(page);
  return std::nullopt;
}

void check_memory(const Plan& plan, std::optional<double> available) {
  if (!available || plan.runs.empty()) return;
  const MemoryEstimate peak = estimate_peak_memory(plan);
  if (peak.bytes <= *available) return;
  const config::ExperimentConfig& config = plan.config;
  const config::RunSpec& run = plan.runs[peak.run];
  // Blame the particles key: swept, set in [sampling], or (default count, huge d) the file.
  config::SourceLocation where{config.path, 0};
  std::string key = "[sampling] particles";
  for (const config::SweepAxis& axis : config.sweep)
    if (axis.path == "sampling.particles") {
      where = axis.location;
      key = "[sweep] \"sampling.particles\"";
    }
  if (key == "[sampling] particles")
    if (const auto found = config.sampling_locations.find("particles"); found != config.sampling_locations.end())
      where = found->second;
  std::ostringstream message;
  message << where.str() << ": " << key << " = " << peak.particles << ": the largest run (" << run.key << ", d = "
          << peak.dim << ") needs an estimated " << human_bytes(peak.bytes) << " (particles x d x 8 bytes x "
          << kMatrixCopies << " for the samples and the estimators' copies, + particles x 8 bytes x " << kVectorCopies
          << " per-particle values), more than the " << human_bytes(*available)
          << " of memory available (MemAvailable); lower particles";
  throw config::ConfigError(message.str());
}

void check_output_path(const OutputPath& out, bool keep_created, const std::string& option) {
  namespace fs = std::filesystem;
  const std::string value = out.path.string();
  const std::string what = out.given ? option + " = \"" + value + "\"" : "the default results file \"" + value + "\"";
  auto fail = [&](const std::string& rule) -> void { throw InvalidArgument(what + ": " + rule); };
  if (out.given && value.empty())
    fail("must name a results file (omit " + option + " for the default results/<experiment name>.h5)");
  const fs::path name = out.path.filename();
  if (name.empty() || name == "." || name == "..")
    fail("names a directory, not a file (e.g. " + (out.path / "results.h5").string() + ")");
  std::error_code error;
  const fs::file_status status = fs::status(out.path, error);
  if (fs::is_directory(status))
    fail("is an existing directory; name a file in it, e.g. " + (out.path / "results.h5").string());
  if (fs::exists(status) && !fs::is_regular_file(status))
    fail("exists and is not a regular file (the results are written to a temporary file and renamed over it)");
  // NAME_MAX is 255 bytes; the checkpoint is written to "<name>.tmp-<pid>" first (up to 15 more).
  constexpr std::size_t kMaxName = 240;
  if (name.string().size() > kMaxName)
    fail("the file name has " + std::to_string(name.string().size()) + " bytes; it must have at most " +
         std::to_string(kMaxName) + " (255, the file-system limit, less room for the '.tmp-<pid>' checkpoint suffix)");

  const fs::path parent = out.path.has_parent_path() ? out.path.parent_path() : fs::path(".");
  std::vector<fs::path> created;  // removed again if the probe fails
  if (!fs::exists(parent, error)) {
    for (fs::path p = parent; !p.empty() && !fs::exists(p, error); p = p.parent_path()) {
      created.push_back(p);
      if (p == p.parent_path()) break;
    }
    fs::create_directories(parent, error);
    if (error) {
      const std::string reason = error.message();
      for (const fs::path& p : created) fs::remove(p, error);  // whatever part was made, deepest first
      fail("its directory " + parent.string() + " cannot be created (" + reason + ")");
    }
  } else if (!fs::is_directory(parent, error)) {
    fail("its parent " + parent.string() + " is not a directory");
  }
  // The probe: the same kind of file the checkpoint writer creates, in the same directory.
  const fs::path probe = out.path.string() + ".probe-" + std::to_string(static_cast<long>(::getpid()));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    const std::string reason = std::strerror(errno);
    for (const fs::path& p : created) fs::remove(p, error);  // deepest first
    fail("cannot create a file in " + parent.string() + " (" + reason + "); choose a writable directory");
  }
  ::close(fd);
  fs::remove(probe, error);
  // validate leaves nothing behind: the directories it created to prove they can be are removed.
  if (!keep_created)
    for (const fs::path& p : created) fs::remove(p, error);
}

}  // namespace dmconv::experiment
