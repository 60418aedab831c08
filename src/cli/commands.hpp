#pragma once
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "parallel/communicator.hpp"

namespace dmconv::cli {

int list_command(const std::string& kind, std::ostream& out);
// kind: "" (any) or a plural as in `list` ("targets", ...). Throws InvalidArgument when no
// component or more than one (same name in two kinds, kind empty) matches.
int describe_command(const std::string& kind, const std::string& name, std::ostream& out);

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
  bool out_given = false;              // --out was on the command line (so "" is an error, not the default)
  int threads = 0;
  bool resume = false;
  double checkpoint_seconds = 2.0;
  // --shard i/n (run only): as typed; parsed and checked by experiment::parse_shard before the
  // config is read, so a bad value is refused (exit 2) before any work.
  std::optional<std::string> shard;
  // --shards n (validate only): print how `run --shard i/n` would split the sweep, for sizing a job array.
  std::optional<std::int64_t> shards;
  std::string command_line;
};
// Exit codes: 0 success; 1 a claim is violated; 2 bad input (thrown as InvalidArgument).
int validate_command(const ExperimentOptions& options, std::ostream& out);
// On rank 0 of R (R = 1 outside mpirun) `run` runs the sweep; ranks 1 .. R-1 wait for rank 0's
// pre-flight and then compute the runs it hands out (experiment/distributed.hpp).
int run_command(const ExperimentOptions& options, parallel::Communicator& ranks, std::ostream& out);
int check_command(const std::string& results_path, std::ostream& out);

// `dmconv samples`: every posterior sampler's draws and the exact grid laws of a posterior
// experiment as an HDF5 file (experiment/posterior_samples.hpp). Throws InvalidArgument (exit 2)
// on bad input -- not a posterior config, --steps not in the sweep, an unwritable --out -- before
// any work.
struct SamplesCommandOptions {
  std::string config;
  std::vector<std::string> overrides;
  std::string out;
  std::optional<int> steps;             // only this T of the sweep
  std::int64_t particles = 20000;       // at most this many draws per (point, sampler, steps)
  int threads = 0;
  std::string command_line;
};
int samples_command(const SamplesCommandOptions& options, std::ostream& out);

// `dmconv merge PART... [--out FILE]` (experiment/merge.hpp): the parts of `run --shard` joined,
// claims fitted and judged on the union, the file written like `run`'s. Exit codes as `run`.
struct MergeOptions {
  std::vector<std::string> parts;
  std::string out;        // default results/<experiment name>.h5, as run
  bool out_given = false;
  std::string command_line;
};
int merge_command(const MergeOptions& options, std::ostream& out);

// `dmconv lsi`: the log-Sobolev profile of p_T1 for every distinct target of a config and its
// [[lsi.claim]] verdicts (lsi/profile.hpp). Throws InvalidArgument (exit 2) on bad options or
// config, before any work. Returns 1 when an LSI claim is violated, else 0.
// The flags replace the config's [lsi] values (defaults: lsi/lsi_config.hpp).
struct LsiOptions {
  std::string config;
  std::vector<std::string> overrides;
  std::vector<double> times;      // forward times T1 (empty: not given)
  std::optional<double> delta;    // T1*(1 - delta)
  std::optional<double> t1_max;   // bisection range [0.01, t1_max]
  std::optional<int> cells;       // grid cells of the 1-D spectral constants
  std::string out;        // default results/<name>_lsi.h5
  std::string command_line;
};
int lsi_command(const LsiOptions& options, std::ostream& out);

// `dmconv report RESULTS.h5... --out DIR` (src/cli/report_command.cpp, plots/README.md): a static
// HTML page DIR/index.html of the files' claim verdicts, written by plots/report.py. Every input,
// DIR, the interpreter and its modules are checked before any work (InvalidArgument, exit 2);
// returns 0 when the page is written, 3 when the script failed (the previous page is kept).
struct ReportOptions {
  std::vector<std::string> inputs;
  std::string out;
  std::string command_line;
};
int report_command(const ReportOptions& options, std::ostream& out);

}  // namespace dmconv::cli
