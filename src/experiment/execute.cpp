// The execute stage's loop (execute.hpp): resume, runs in order, checkpoints, final file.
#include "experiment/execute.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "experiment/claims.hpp"
#include "experiment/distributed.hpp"
#include "experiment/groups.hpp"
#include "experiment/progress.hpp"

namespace dmconv::experiment {
namespace {

// The signal that asked the sweep to stop (0: none). Written only by the handler, which does
// nothing else (async-signal-safe); read by the loop between runs.
volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int signal_number) { g_stop_signal = signal_number; }

// SIGINT/SIGTERM handlers for the lifetime of the sweep; the previous handlers come back after.
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal = 0;
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    sigaction(SIGINT, &action, &previous_int_);
    sigaction(SIGTERM, &action, &previous_term_);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  ~StopSignals() {
    sigaction(SIGINT, &previous_int_, nullptr);
    sigaction(SIGTERM, &previous_term_, nullptr);
  }

 private:
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
};

struct Sweep {
  std::vector<std::vector<RunRow>> by_run;
  std::vector<bool> done;
};

std::string describe_shard(const std::optional<Shard>& shard) {
  return shard ? "part " + std::to_string(shard->index) + "/" + std::to_string(shard->count) + " of a sharded sweep"
               : std::string("the whole sweep (no --shard)");
}

// The runs of a previous file of the same config (--resume); ConfigError for another config or,
// since a part holds only its slice, another --shard.
void load_previous(const Plan& plan, const ExecutionOptions& options, Sweep& sweep, Outcome& outcome) {
  const results::ResultsFile previous = results::read_results_file(options.out);
  const results::Attribute* hash = previous.attribute("config_hash");
  const std::string* previous_hash = hash ? std::get_if<std::string>(hash) : nullptr;
  if (previous_hash == nullptr || *previous_hash != plan.config.hash)
    throw config::ConfigError(options.out.string() + ": --resume: the file was written for another config (config_hash " +
                              (previous_hash ? *previous_hash : std::string("missing")) + ", this config " +
                              plan.config.hash + "); choose another --out or drop --resume");
  const std::optional<Shard> previous_shard = read_shard(previous, options.out.string());
  const bool same_shard = previous_shard.has_value() == options.shard.has_value() &&
                          (!previous_shard || (previous_shard->index == options.shard->index &&
                                               previous_shard->count == options.shard->count));
  if (!same_shard)
    throw config::ConfigError(options.out.string() + ": --resume: the file holds " + describe_shard(previous_shard) +
                              ", this run is " + describe_shard(options.shard) +
                              "; resume with the same --shard, or choose another --out");
  std::map<std::string, std::size_t> index_of;
  for (const config::RunSpec& run : plan.runs) index_of[run.key] = run.index;
  for (RunRow& row : read_run_rows(previous, plan.config)) {
    const auto found = index_of.find(row.run_key);
    if (found == index_of.end()) continue;
    sweep.done[found->second] = true;
    sweep.by_run[found->second].push_back(std::move(row));
  }
  for (bool d : sweep.done) outcome.runs_resumed += d ? 1 : 0;
}

// The rows in run order. Oracle rows do not depend on the sampler: several samplers' runs at the
// same sweep point give the same oracle (same streams), which is kept once.
// Across parts too: merging re-applies this to the union, and the first run (in run order) of
// an oracle keeps it in its own part, so the merged rows are those of one process.
std::vector<RunRow> collect(const config::ExperimentConfig& config, const std::vector<std::vector<RunRow>>& by_run) {
  std::vector<RunRow> rows;
  std::set<std::string> oracles;
  for (const auto& run_rows : by_run) {
    for (const RunRow& row : run_rows) {
      if (row.origin == RowOrigin::kOracle) {
        std::ostringstream key;
        key << group_key(config, row, "") << ";metric=" << row.metric << ";T=" << row.steps
            << ";replicate=" << row.replicate << ";particles=" << row.particles << ";value=" << row.value;
        if (!oracles.insert(key.str()).second) continue;
      }
      rows.push_back(row);
    }
  }
  return rows;
}

// Run `run`'s rows from those of the earlier run with the same inputs (Plan::same_inputs_as):
// the same numbers under this run's key and swept values, with no time of its own.
std::vector<RunRow> rows_with_same_inputs(const Plan& plan, std::size_t run, const std::vector<RunRow>& source) {
  const config::RunSpec& spec = plan.runs[run];
  const std::string note = "same inputs as run " + std::to_string(plan.same_inputs_as[run]) + " (" +
                           plan.runs[plan.same_inputs_as[run]].key + "): rows computed once";
  std::vector<RunRow> rows = source;
  for (RunRow& row : rows) {
    row.run_index = static_cast<std::int64_t>(spec.index);
    row.run_key = spec.key;
    row.swept.clear();
    for (const auto& [path, value] : spec.swept) row.swept.push_back(value);
    row.wall_seconds = 0.0;
    row.message = row.message.empty() ? note : row.message + "; " + note;
  }
  return rows;
}

int rank_count(const ExecutionOptions& options) { return options.ranks != nullptr ? options.ranks->size() : 1; }

FileOptions file_options(const ExecutionOptions& options) {
  return FileOptions{options.command_line, options.threads, rank_count(options), options.shard};
}

void write(const Plan& plan, const ExecutionOptions& options, const std::vector<RunRow>& rows,
           const std::vector<FitRow>& fits, bool complete) {
  results::write_results_file(options.out, make_results_file(plan.config, rows, fits, file_options(options), complete));
}

// The runs of `queue` (most expensive first) on the MPI ranks of options.ranks (distributed.hpp):
// first the runs too costly to balance whose particles can be split, on every rank at once; then
// the others, handed out as ranks free up. record(i, rows) is called on this thread for every
// finished run; checkpoint() before a failure is thrown and before the job is ended.
void execute_on_ranks(const Plan& plan, const ExecutionOptions& options, const std::vector<std::size_t>& queue,
                      const std::function<void(std::size_t, std::vector<RunRow>&&)>& record,
                      const std::function<void()>& checkpoint) {
  const int ranks = rank_count(options);
  double queued_cost = 0.0;
  for (std::size_t i : queue) queued_cost += estimated_cost(plan.runs[i]);
  std::vector<std::size_t> split_runs, whole_runs;
  for (std::size_t i : queue)
    (estimated_cost(plan.runs[i]) * ranks >= queued_cost && particles_can_be_split(plan, i) ? split_runs : whole_runs)
        .push_back(i);
  std::ostream& report = options.progress != nullptr ? *options.progress : std::cerr;
  if (!split_runs.empty() && options.progress != nullptr)
    report << "splitting the particles of " << split_runs.size() << " run" << (split_runs.size() == 1 ? "" : "s")
           << " over " << ranks << " ranks (each costs at least 1/" << ranks << " of the sweep)\n";
  Coordination hooks;
  hooks.finished = [&](FinishedRun&& run) { record(run.run, std::move(run.rows)); };
  hooks.interrupt_code = [] { return g_stop_signal != 0 ? 128 + static_cast<int>(g_stop_signal) : 0; };
  hooks.interrupted = [&](int code) {
    checkpoint();
    report << "\ndmconv: " << Interrupted(code - 128).what()
           << " on rank 0: checkpoint written; runs in flight on other ranks are lost; continue with "
              "dmconv run --resume\n"
           << std::flush;
  };
  hooks.abandoned = [&](const RunFailed& failure) {
    checkpoint();
    report << "\ndmconv: error: " << failure.what()
           << " (a run split over the ranks): checkpoint written; ending all ranks\n"
           << std::flush;
  };
  const RunExecutor execute = [&](std::size_t i, const ParticleSplit* split) {
    return execute_run(plan, i, options.threads, split);
  };
  try {
    run_split_runs(*options.ranks, plan.runs, split_runs, execute, hooks);
    coordinate_runs(*options.ranks, plan.config, plan.runs, whole_runs, execute, hooks);
  } catch (const RunFailed&) {
    checkpoint();  // the finished runs are kept
    throw;
  }
}

}  // namespace

Interrupted::Interrupted(int signal_number)
    : std::runtime_error("interrupted by signal " + std::to_string(signal_number) +
                         (signal_number == SIGINT ? " (SIGINT)" : signal_number == SIGTERM ? " (SIGTERM)" : "")),
      signal_(signal_number) {}

Outcome run_experiment(const Plan& plan, const ExecutionOptions& options) {
  const StopSignals stop_signals;
  {
    std::ostream& report = options.progress != nullptr ? *options.progress : std::cerr;
    for (const results::StaleTemporary& stale : results::remove_stale_temporaries(options.out))
      report << "dmconv: removed stale temporary file " << stale.path.string() << " from a killed run (pid "
             << stale.pid << ")\n";
  }
  // The runs of this process: all, or the slice of --shard.
  std::vector<bool> mine(plan.runs.size(), true);
  if (options.shard) {
    const std::vector<std::int64_t> shard_of = shard_of_runs(plan.runs, options.shard->count);
    for (std::size_t i = 0; i < plan.runs.size(); ++i) mine[i] = shard_of[i] == options.shard->index;
  }
  Outcome outcome;
  outcome.runs_total = static_cast<std::size_t>(std::count(mine.begin(), mine.end(), true));
  Sweep sweep{std::vector<std::vector<RunRow>>(plan.runs.size()), std::vector<bool>(plan.runs.size(), false)};
  if (options.resume && std::filesystem::exists(options.out)) load_previous(plan, options, sweep, outcome);

  double total_work = 0.0;  // cost model for the ETA: work proportional to T
  for (std::size_t i = 0; i < plan.runs.size(); ++i)
    if (mine[i] && !sweep.done[i]) total_work += plan.runs[i].steps;
  Progress progress(options.progress, options.progress_is_terminal, outcome.runs_total, total_work);
  progress.resumed(outcome.runs_resumed, options.out.string());
  auto last_write = std::chrono::steady_clock::now();
  std::size_t finished = outcome.runs_resumed;
  // Every finished run goes into a checkpoint that --resume continues from.
  const auto checkpoint = [&] { write(plan, options, collect(plan.config, sweep.by_run), {}, false); };
  const auto record = [&](std::size_t i, std::vector<RunRow>&& rows) {
    sweep.by_run[i] = std::move(rows);
    sweep.done[i] = true;
    ++finished;
    ++outcome.runs_executed;
    progress.finished(finished, plan.runs[i], sweep.by_run[i]);
    const auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - last_write).count() >= options.checkpoint_seconds &&
        finished < outcome.runs_total) {
      checkpoint();
      last_write = now;
    }
  };
  if (rank_count(options) > 1) {
    std::vector<std::size_t> queue;
    for (std::size_t i : runs_by_decreasing_cost(plan.runs)) {
      const std::size_t source = plan.same_inputs_as[i];
      const bool copied = source != i && (mine[source] || sweep.done[source]);  // by the loop below
      if (mine[i] && !sweep.done[i] && !copied) queue.push_back(i);
    }
    execute_on_ranks(plan, options, queue, record, checkpoint);
  }
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    if (!mine[i] || sweep.done[i]) continue;
    if (g_stop_signal != 0) {
      checkpoint();
      throw Interrupted(static_cast<int>(g_stop_signal));
    }
    if (options.stop_after_runs >= 0 && static_cast<std::int64_t>(outcome.runs_executed) >= options.stop_after_runs)
      return outcome;  // simulated kill: the last checkpoint stays as it is
    if (const std::size_t source = plan.same_inputs_as[i]; source != i && sweep.done[source]) {
      record(i, rows_with_same_inputs(plan, i, sweep.by_run[source]));
      ++outcome.runs_copied;
      continue;
    }
    progress.starting(finished, plan.runs[i]);
    record(i, execute_run(plan, i, options.threads));
  }
  progress.done();
  const Outcome concluded = conclude_sweep(plan.config, sweep.by_run, file_options(options), options.out);
  outcome.rows = concluded.rows;
  outcome.fits = concluded.fits;
  outcome.complete = concluded.complete;
  return outcome;
}

Outcome conclude_sweep(const config::ExperimentConfig& config, const std::vector<std::vector<RunRow>>& by_run,
                       const FileOptions& file, const std::filesystem::path& out) {
  Outcome outcome;
  outcome.rows = collect(config, by_run);
  // A part holds a slice: a claim's fit over some of its points would be a verdict on the wrong data.
  if (!file.shard) outcome.fits = fit_claims(config, outcome.rows);
  outcome.complete = true;
  results::write_results_file(out, make_results_file(config, outcome.rows, outcome.fits, file, true));
  return outcome;
}

}  // namespace dmconv::experiment
