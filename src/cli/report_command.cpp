// `dmconv report RESULTS.h5 [RESULTS.h5 ...] --out DIR` (issue 18 item 4; plots/README.md "report.py"):
// a self-contained static HTML page DIR/index.html of the claim verdicts of results files.
//
// This command checks everything before any work -- every input is a readable dmconv results file
// of the schema (the rules of `dmconv check`), the interpreter, the script and its Python modules are
// there, DIR is (or can be made) a writable directory -- and then runs plots/report.py by argument
// vector (no shell), which draws the figures with plot_results.py and writes the page under a
// temporary name in DIR before renaming it to index.html. The script is found in the source tree's
// plots/ directory (compile-time DMCONV_SOURCE_PLOTS_DIR), or in $DMCONV_PLOTS_DIR; the interpreter is
// /usr/bin/python3 (the Debian python3-numpy, -h5py, -matplotlib), or $DMCONV_PYTHON.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "dmconv/version.hpp"
#include "experiment/rows.hpp"
#include "experiment/schema.hpp"
#include "results/results_file.hpp"

extern char** environ;

#ifndef DMCONV_SOURCE_PLOTS_DIR
#define DMCONV_SOURCE_PLOTS_DIR "plots"
#endif

namespace dmconv::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultPython = "/usr/bin/python3";

std::string environment_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

// The rules of `dmconv check` that make a file reportable: it exists, is HDF5, passes the schema.
// A checkpoint (complete = 0) or a part of a sharded sweep is reported, with a note in the page.
void check_results_file(const std::string& path) {
  std::error_code error;
  if (!fs::exists(path, error))
    throw InvalidArgument("report: " + path + ": no such file (each input must be a results file of dmconv run)");
  if (fs::is_directory(path, error))
    throw InvalidArgument("report: " + path + ": is a directory, not a results file of dmconv run");
  const results::ResultsFile file = results::read_results_file(path);
  if (const std::vector<std::string> defects = experiment::schema_defects(file); !defects.empty()) {
    std::string message = "report: " + path + ": not a dmconv results file of schema " +
                          std::to_string(experiment::kSchemaVersion) + " (" + std::to_string(defects.size()) +
                          " defect" + (defects.size() == 1 ? "" : "s") + "; dmconv check lists them):";
    for (std::size_t i = 0; i < defects.size() && i < 5; ++i) message += "\n  " + defects[i];
    if (defects.size() > 5) message += "\n  ...";
    throw InvalidArgument(message);
  }
}

// Runs argv (no shell), stdout and stderr inherited unless quiet (then /dev/null); returns the exit
// status, or -signal when killed. Throws when the program cannot be started.
int run_program(const std::vector<std::string>& args, bool quiet) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (quiet) {
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  }
  std::cout.flush();
  pid_t pid = 0;
  const int started = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (started != 0) throw InvalidArgument("report: cannot start " + args[0] + ": " + std::strerror(started));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw InvalidArgument("report: waiting for " + args[0] + ": " + std::strerror(errno));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? -WTERMSIG(status) : -1;
}

void check_python(const std::string& python, const fs::path& script) {
  if (::access(python.c_str(), X_OK) != 0)
    throw InvalidArgument("report: Python interpreter " + python +
                          " not found or not executable (install the Debian package python3, or set DMCONV_PYTHON)");
  std::error_code error;
  if (!fs::is_regular_file(script, error))
    throw InvalidArgument("report: the page generator " + script.string() +
                          " is missing (set DMCONV_PLOTS_DIR to the plots/ directory of the dmconv sources)");
  if (run_program({python, "-c", "import numpy, h5py, matplotlib"}, true) != 0)
    throw InvalidArgument("report: " + python +
                          " cannot import numpy, h5py and matplotlib (install the Debian packages python3-numpy "
                          "python3-h5py python3-matplotlib: bash scripts/install-deps.sh)");
}

// --out: a directory that exists or can be created, writable; a file is refused. Nothing is created
// here; prepare_output does that once every check has passed.
void check_output(const std::string& out) {
  if (out.empty()) throw InvalidArgument("report: --out must name a directory (it is empty)");
  std::error_code error;
  const fs::path dir(out);
  if (fs::exists(dir, error)) {
    if (!fs::is_directory(dir, error))
      throw InvalidArgument("report: --out " + out + ": exists and is not a directory (--out names the directory "
                            "that receives index.html)");
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
      throw InvalidArgument("report: --out " + out + ": directory not writable");
    if (fs::is_directory(dir / "index.html", error))
      throw InvalidArgument("report: --out " + out + ": " + (dir / "index.html").string() +
                            " is a directory; the page cannot be written there");
    return;
  }
  // The nearest existing ancestor must be a writable directory.
  fs::path ancestor = fs::absolute(dir, error).parent_path();
  while (!ancestor.empty() && !fs::exists(ancestor, error) && ancestor != ancestor.root_path())
    ancestor = ancestor.parent_path();
  if (!fs::is_directory(ancestor, error))
    throw InvalidArgument("report: --out " + out + ": cannot be created: " + ancestor.string() +
                          " is not a directory");
  if (::access(ancestor.c_str(), W_OK | X_OK) != 0)
    throw InvalidArgument("report: --out " + out + ": cannot be created: " + ancestor.string() +
                          " is not writable");
}

void prepare_output(const std::string& out) {
  std::error_code error;
  fs::create_directories(out, error);
  if (error) throw InvalidArgument("report: --out " + out + ": cannot create the directory: " + error.message());
  // Writable in fact (a read-only file system passes access() for root): a probe file, removed.
  std::string probe = (fs::path(out) / ".dmconv-report-probe-XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) throw InvalidArgument("report: --out " + out + ": cannot write in it: " + std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace

int report_command(const ReportOptions& options, std::ostream& out) {
  if (options.inputs.empty()) throw InvalidArgument("report: at least one results file is required");
  // 1. The inputs, in order; the first bad one is named with the rule it breaks.
  for (const std::string& path : options.inputs) check_results_file(path);
  // 2. The output directory, then the interpreter, the script and its modules.
  check_output(options.out);
  const std::string python = environment_or("DMCONV_PYTHON", kDefaultPython);
  const fs::path script = fs::path(environment_or("DMCONV_PLOTS_DIR", DMCONV_SOURCE_PLOTS_DIR)) / "report.py";
  check_python(python, script);
  // 3. The work: the directory, then the page (report.py prints one line per file and the path).
  prepare_output(options.out);
  out << "report: " << options.inputs.size() << " results file" << (options.inputs.size() == 1 ? "" : "s")
      << " checked; writing " << (fs::path(options.out) / "index.html").string() << "\n";
  out.flush();
  std::vector<std::string> args = {python,
                                   "-B",
                                   script.string(),
                                   "--out",
                                   options.out,
                                   "--command-line",
                                   options.command_line,
                                   "--writer",
                                   std::string("dmconv ") + kVersion + " (" + kGitSha + ", " + kBuildType + ")",
                                   "--"};
  args.insert(args.end(), options.inputs.begin(), options.inputs.end());
  const int status = run_program(args, false);
  if (status == 0) return 0;
  if (status == 1 || status == 2)
    throw InvalidArgument("report: " + script.string() + " refused the input (exit " + std::to_string(status) +
                          ", message above); " + options.out + "/index.html was not written");
  std::cerr << "dmconv: error: report: " << script.string() << " failed ("
            << (status < 0 ? "killed by signal " + std::to_string(-status) : "exit " + std::to_string(status))
            << "); " << options.out << "/index.html was not replaced\n";
  return 3;
}

}  // namespace dmconv::cli
