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
// A run that alone costs at least 1/R of the sweep cannot be balanced by handing out whole runs.
// When its estimators can share out their whole cost (Estimator::cost_splits_over_ranks) its
// particles are split instead: before the other runs, every rank runs it at once, computing a contiguous slice of the
// particles (core/run_sampler.hpp ParticleSplit), and the slices are gathered in particle order
// (MPI_Allgatherv), so that every rank holds the same n samples, bit for bit those of one process.
//
// The protocol (tags below); every message a worker sends gets exactly one reply:
//   rank 0 -> all   kStart(config hash) after its pre-flight, or kCancel(exit code) if it failed
//   worker -> 0     kReady | kResult(run, /runs table) | kFailed(run or -1, reason)
//   0 -> worker     kAssign(run) | kSplit(run: compute it with every rank, then kReady) | kStop
#pragma once
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/experiment_config.hpp"
#include "core/run_sampler.hpp"
#include "experiment/rows.hpp"
#include "parallel/communicator.hpp"

namespace dmconv::experiment {

enum MessageTag : int { kStart = 1, kCancel, kReady, kAssign, kStop, kResult, kFailed, kSplit };

// What a rank does with a run index (split: its particles are shared among the ranks, or nullptr):
// execute_run in the program; a stand-in in the tests.
using RunExecutor = std::function<std::vector<RunRow>(std::size_t run, const ParticleSplit* split)>;

// The particles of a split run over the ranks of `ranks` (parts = ranks, part = rank).
class RanksParticleSplit final : public ParticleSplit {
 public:
  explicit RanksParticleSplit(parallel::Communicator& ranks) : ranks_(ranks) {}
  int parts() const override { return ranks_.size(); }
  int part() const override { return ranks_.rank(); }
  void share(Matrix& samples, const std::vector<Eigen::Index>& offsets) const override;

 private:
  parallel::Communicator& ranks_;
};

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
  // A split run threw on rank 0: the other ranks may be waiting in a collective it will not
  // join, so `abandoned` (it writes the checkpoint and says which run failed and why) is called
  // and the whole job ends with exit code 3.
  std::function<void(const RunFailed&)> abandoned;
};

// Rank 0, before coordinate_runs: runs each of `split_runs` on every rank at once (the header).
// A rank that reports a start failure stops every rank (RunFailed); a split run that throws on
// any rank ends the job (exit 3) after saying which run failed, where and why.
void run_split_runs(parallel::Communicator& ranks, const std::vector<config::RunSpec>& runs,
                    const std::vector<std::size_t>& split_runs, const RunExecutor& execute, const Coordination& hooks);

// Rank 0: hands out `queue` (run indices, in that order) until it is empty, collects every
// result, and returns when every rank has been told kStop. After a failure no further run is
// handed out; the runs in flight are still collected (and passed to `finished`) before RunFailed
// is thrown, so a checkpoint keeps them.
// `runs` are the config's expanded runs (config::expand_runs), for the keys of error messages.
void coordinate_runs(parallel::Communicator& ranks, const config::ExperimentConfig& config,
                     const std::vector<config::RunSpec>& runs, const std::vector<std::size_t>& queue,
                     const RunExecutor& execute, const Coordination& hooks);

// Ranks 1 .. R-1: asks rank 0 for runs until it says kStop, sending back each run's rows (a
// throw becomes kFailed with the reason; the rank then stops). A kSplit run is computed with the
// other ranks (its rows are rank 0's to keep); a throw there ends the job (exit 3).
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
