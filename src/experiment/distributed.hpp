// A sweep on R MPI ranks (`mpirun -n R dmconv run CONFIG`; docs/cluster.md "MPI").
//
// Rank 0 reads the config, runs the pre-flight checks, owns the results file (checkpoints and
// the final file) and hands out runs; every rank computes runs, rank 0 included (on a second
// thread, while its first thread serves the others). Runs go out one at a time, most expensive
// first (shard.hpp runs_by_decreasing_cost), each to whichever rank asks next: runs differ in cost
// by orders of magnitude, so a fixed split would leave ranks idle. A run's numbers are a pure
// function of its address (counter-based streams), so which rank computes it cannot change a bit;
// rank 0 keeps the rows by run index, and the file is made by the same code as a one-process run.
//
// The protocol (tags below); every message a worker sends gets exactly one reply:
//   rank 0 -> all   kStart(config hash) after its pre-flight, or kCancel(exit code) if it failed
//   worker -> 0     kReady | kResult(run, /runs table) | kFailed(run or -1, reason)
//   0 -> worker     kAssign(run) | kStop
#pragma once
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/experiment_config.hpp"
#include "experiment/rows.hpp"
#include "parallel/communicator.hpp"

namespace dmconv::experiment {

enum MessageTag : int { kStart = 1, kCancel, kReady, kAssign, kStop, kResult, kFailed };

// What a rank does with a run index: execute_run in the program; a stand-in in the tests.
using RunExecutor = std::function<std::vector<RunRow>(std::size_t run)>;

// A run that threw on some rank (run = -1: the rank failed before its first run, e.g. it read
// another config). Thrown by coordinate_runs after every other run in flight came back.
class RunFailed : public std::runtime_error {
 public:
  RunFailed(int rank, std::int64_t run, const std::string& run_key, const std::string& reason);
  int rank() const { return rank_; }
  std::int64_t run() const { return run_; }

 private:
  int rank_;
  std::int64_t run_;
};

struct FinishedRun {
  std::size_t run = 0;
  int rank = 0;
  std::vector<RunRow> rows;
};

struct Coordination {
  // Called on rank 0's first thread for every finished run, in the order they finish.
  std::function<void(FinishedRun&&)> finished;
  // Polled between messages (about every millisecond): nonzero asks to stop now with that exit
  // code (SIGINT/SIGTERM: 128 + signal). Runs in flight cannot be waited for -- mpirun ends the
  // job soon after forwarding a signal -- so `interrupted` (it writes the checkpoint) is called
  // and the whole job ends with Communicator::abort.
  std::function<int()> interrupt_code;
  std::function<void(int)> interrupted;
};

// Rank 0: hands out `queue` (run indices, in that order) until it is empty, collects every
// result, and returns when every rank has been told kStop. After a failure no further run is
// handed out; the runs in flight are still collected (and passed to `finished`) before RunFailed
// is thrown, so a checkpoint keeps them.
// `runs` are the config's expanded runs (config::expand_runs), for the keys of error messages.
void coordinate_runs(parallel::Communicator& ranks, const config::ExperimentConfig& config,
                     const std::vector<config::RunSpec>& runs, const std::vector<std::size_t>& queue,
                     const RunExecutor& execute, const Coordination& hooks);

// Ranks 1 .. R-1: asks rank 0 for runs until it says kStop, sending back each run's rows (a
// throw becomes kFailed with the reason; the rank then stops).
void serve_runs(parallel::Communicator& ranks, const config::ExperimentConfig& config, const RunExecutor& execute);

// Ranks 1 .. R-1 that could not start (e.g. reading the config failed on this node): tells rank 0
// why and waits for its kStop.
void report_start_failure(parallel::Communicator& ranks, const std::string& reason);

// The start: rank 0 releases the other ranks once its checks passed (with the config hash they
// must find too), or cancels them with its exit code; they wait for one or the other, so a bad
// config is reported once, by rank 0, and no rank starts work rank 0 refused.
void release_ranks(parallel::Communicator& ranks, const std::string& config_hash);
void cancel_ranks(parallel::Communicator& ranks, int exit_code);
struct Release {
  bool go = false;
  std::string config_hash;  // go: the hash rank 0 checked
  int exit_code = 0;        // !go: rank 0's exit code
};
Release await_release(parallel::Communicator& ranks);

}  // namespace dmconv::experiment
