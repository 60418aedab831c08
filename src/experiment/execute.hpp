// The execute stage: runs every planned run not already in the output file (--resume), writes
// the file atomically after each run (at most every `checkpoint_seconds`) and at the end, with
// progress lines; then the claims stage fits the claims and the final file holds both tables.
//
// With ExecutionOptions::ranks of size R > 1 the runs go to R MPI ranks as they free up
// (distributed.hpp); the file is the same, but for its `ranks` attribute and wall times.
//
// With ExecutionOptions::shard only the runs of that slice are executed (and resumed: --resume
// refuses a file of another slice), and the file is a part for `dmconv merge` (merge.hpp).
//
// Reproducibility: a run's random streams are keyed by (experiment seed, replicate), so the
// numbers of a run depend only on its own axis values -- not on the thread count, the order of
// runs, other sweep axes, or whether the sweep was resumed.
#pragma once
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "experiment/plan.hpp"
#include "experiment/rows.hpp"
#include "experiment/shard.hpp"
#include "parallel/communicator.hpp"

namespace dmconv::experiment {

struct ExecutionOptions {
  std::filesystem::path out;          // results file
  bool resume = false;                // keep the runs already in `out` (same config hash)
  int threads = 0;                    // OpenMP threads per run (0: default)
  std::string command_line;
  double checkpoint_seconds = 2.0;    // minimum time between checkpoint writes
  std::ostream* progress = nullptr;   // progress lines (nullptr: silent)
  bool progress_is_terminal = false;  // one updating line with ETA instead of a line per run
  // For tests of --resume: stop (as if killed) after this many newly finished runs.
  std::int64_t stop_after_runs = -1;
  // Set: run only this slice of the sweep (shard.hpp) and write a part file -- its rows, no claim
  // fits (claims are judged on the union by `dmconv merge`), shard_index and shard_count attributes.
  std::optional<Shard> shard;
  // More than one rank: this is rank 0 of an MPI job; the runs are handed out to every rank
  // (distributed.hpp) while this process writes the checkpoints and the file. The other ranks
  // call serve_runs instead of run_experiment.
  parallel::Communicator* ranks = nullptr;
};

struct Outcome {
  std::vector<RunRow> rows;  // in run order
  std::vector<FitRow> fits;  // empty for a part file (ExecutionOptions::shard)
  std::size_t runs_total = 0, runs_executed = 0, runs_resumed = 0;
  std::size_t runs_copied = 0;  // of runs_executed: rows copied from a run with the same inputs
  bool complete = false;
};

// SIGINT and SIGTERM during run_experiment (handlers installed for its duration, the previous
// ones restored after): the handler only sets a sig_atomic_t flag; the loop checks it between
// runs, writes the results file as a checkpoint (complete = 0, every finished run kept, exactly
// what a periodic checkpoint holds) and throws Interrupted. `dmconv run --resume` continues from
// that file to bit-identical results; the command line exits 128 + signal (130, 143).
class Interrupted : public std::runtime_error {
 public:
  explicit Interrupted(int signal_number);
  int signal_number() const { return signal_; }

 private:
  int signal_;
};

// Before anything else: removes "<out>.tmp-<pid>" files of write_results_file whose process is
// gone (kill(pid, 0) fails with ESRCH), reporting each on options.progress (std::cerr if null).
Outcome run_experiment(const Plan& plan, const ExecutionOptions& options);

// The last stage of `dmconv run`, shared with `dmconv merge` so that a merged file is made exactly
// as a one-process file: the rows of every run in run order (by_run[i]: the rows of run i; empty
// for a run this file does not hold), the claims fitted on them unless `file.shard` is set (a
// part), and the file written complete, atomically. Fills rows, fits and complete of the outcome.
Outcome conclude_sweep(const config::ExperimentConfig& config, const std::vector<std::vector<RunRow>>& by_run,
                       const FileOptions& file, const std::filesystem::path& out);

// One run: every applicable estimator on the run's shared components, rows in estimator then
// metric order (an oracle row follows the estimate it belongs to).
// split: the run's particles are shared among MPI ranks (distributed.hpp), or nullptr.
std::vector<RunRow> execute_run(const Plan& plan, std::size_t index, int threads, const ParticleSplit* split = nullptr);

// Whether a run's particles may be split over ranks: a diffusion run (not a posterior one) whose
// estimators all share out their whole cost when split (Estimator::cost_splits_over_ranks), so
// that splitting does not make every rank repeat expensive work.
bool particles_can_be_split(const Plan& plan, std::size_t index);

}  // namespace dmconv::experiment
