// The distributed sweep's protocol (experiment/distributed.hpp) on R in-process ranks: every run
// is computed exactly once and its rows reach rank 0 bit for bit, for R = 1 .. 4; rank 0 computes
// too; the most expensive runs go out first; a run that throws on any rank, or a rank that cannot
// start, is reported with rank, run and reason after the runs in flight came back; an interrupt
// writes the checkpoint and ends every rank; the start handshake releases or cancels the ranks.
#include <gtest/gtest.h>

#include <atomic>
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <mutex>
#include <set>
#include <thread>

#include "experiment/distributed.hpp"
#include "support/loopback_communicator.hpp"

namespace dmconv::experiment {
namespace {

using testing::LoopbackAborted;
using testing::LoopbackWorld;

constexpr std::size_t kRuns = 23;

std::vector<config::RunSpec> make_runs() {
  std::vector<config::RunSpec> runs(kRuns);
  for (std::size_t r = 0; r < kRuns; ++r) {
    runs[r].index = r;
    runs[r].key = "run-" + std::to_string(r);
  }
  return runs;
}

// Run r's rows: values whose bits any re-encoding would disturb (a NaN payload, -0.0).
std::vector<RunRow> rows_of(std::size_t run) {
  std::vector<RunRow> rows(1 + run % 3);
  for (std::size_t k = 0; k < rows.size(); ++k) {
    rows[k].run_index = static_cast<std::int64_t>(run);
    rows[k].run_key = "run-" + std::to_string(run);
    rows[k].estimator = "e" + std::to_string(k);
    rows[k].value = k == 1 ? std::bit_cast<double>(std::uint64_t{0x7ff8000000000000} | run) : -0.0 - 1.0 / (static_cast<double>(run) + 1.0);
    rows[k].std_error = std::ldexp(1.0, -1070 + static_cast<int>(run));
  }
  return rows;
}

std::vector<std::uint64_t> value_bits(const std::vector<RunRow>& rows) {
  std::vector<std::uint64_t> out;
  for (const RunRow& row : rows) {
    out.push_back(std::bit_cast<std::uint64_t>(row.value));
    out.push_back(std::bit_cast<std::uint64_t>(row.std_error));
  }
  return out;
}

struct Sweep {
  std::vector<std::vector<RunRow>> by_run = std::vector<std::vector<RunRow>>(kRuns);
  std::vector<int> rank_of = std::vector<int>(kRuns, -1);
  std::vector<std::size_t> finish_order;
  std::mutex mutex;
  std::vector<int> executions = std::vector<int>(kRuns, 0);
  std::vector<std::size_t> start_order;
};

// Runs the sweep on `size` loopback ranks; fail(rank, run) makes that rank's executor throw.
// Returns what coordinate_runs threw ("" if nothing).
std::string run_sweep(int size, Sweep& sweep, const std::vector<std::size_t>& queue,
                      const std::function<bool(int, std::size_t)>& fail = nullptr,
                      const std::function<int()>& interrupt = [] { return 0; },
                      std::function<void(int)> interrupted = [](int) {}) {
  LoopbackWorld world(size);
  const config::ExperimentConfig config;
  const std::vector<config::RunSpec> runs = make_runs();
  auto executor = [&](int rank) -> RunExecutor {
    return [&, rank](std::size_t run, const ParticleSplit*) {
      {
        const std::lock_guard lock(sweep.mutex);
        ++sweep.executions[run];
        sweep.start_order.push_back(run);
      }
      // Long enough against the coordinator's 1 ms poll that every rank gets runs.
      std::this_thread::sleep_for(std::chrono::microseconds(300));
      if (fail && fail(rank, run)) throw std::runtime_error("injected failure of run " + std::to_string(run));
      return rows_of(run);
    };
  };
  std::vector<std::thread> workers;
  for (int r = 1; r < size; ++r)
    workers.emplace_back([&, r] {
      try {
        serve_runs(world.rank(r), config, executor(r));
      } catch (const LoopbackAborted&) {
      }
    });
  Coordination hooks;
  hooks.finished = [&](FinishedRun&& finished) {
    sweep.rank_of[finished.run] = finished.rank;
    sweep.finish_order.push_back(finished.run);
    sweep.by_run[finished.run] = std::move(finished.rows);
  };
  hooks.interrupt_code = interrupt;
  hooks.interrupted = std::move(interrupted);
  hooks.abandoned = [](const RunFailed&) {};
  std::string thrown;
  try {
    coordinate_runs(world.rank(0), config, runs, queue, executor(0), hooks);
  } catch (const std::exception& error) {
    thrown = error.what();
  }
  for (std::thread& worker : workers) worker.join();
  if (thrown.empty()) {
    EXPECT_EQ(world.undelivered(), 0u) << "a message was sent that nobody received";
  }
  return thrown;
}

std::vector<std::size_t> all_runs() {
  std::vector<std::size_t> queue(kRuns);
  for (std::size_t r = 0; r < kRuns; ++r) queue[r] = r;
  return queue;
}

TEST(DistributedSweep, EveryRunOnceAndRowsBitForBitOnOneToFourRanks) {
  for (int size = 1; size <= 4; ++size) {
    Sweep sweep;
    ASSERT_EQ(run_sweep(size, sweep, all_runs()), "") << size << " ranks";
    std::set<int> ranks_used;
    for (std::size_t run = 0; run < kRuns; ++run) {
      EXPECT_EQ(sweep.executions[run], 1) << "run " << run << ", " << size << " ranks";
      ASSERT_EQ(sweep.by_run[run].size(), rows_of(run).size()) << "run " << run;
      EXPECT_EQ(value_bits(sweep.by_run[run]), value_bits(rows_of(run))) << "run " << run << ", " << size << " ranks";
      EXPECT_EQ(sweep.by_run[run].front().run_key, "run-" + std::to_string(run));
      EXPECT_EQ(sweep.by_run[run].back().estimator, rows_of(run).back().estimator);
      ranks_used.insert(sweep.rank_of[run]);
    }
    EXPECT_EQ(sweep.finish_order.size(), kRuns);
    EXPECT_TRUE(ranks_used.count(0)) << "rank 0 computes runs too (" << size << " ranks)";
  }
}

TEST(DistributedSweep, RunsStartInQueueOrderAndOnlyQueuedRunsRun) {
  // Rank 0 alone takes the queue in order (the order runs_by_decreasing_cost gives in the program).
  const std::vector<std::size_t> queue = {7, 3, 19, 0, 11};
  Sweep sweep;
  ASSERT_EQ(run_sweep(1, sweep, queue), "");
  EXPECT_EQ(sweep.start_order, queue);
  // With several ranks each run still starts at most once and only queued runs start.
  Sweep shared;
  ASSERT_EQ(run_sweep(3, shared, queue), "");
  std::vector<std::size_t> started = shared.start_order;
  std::sort(started.begin(), started.end());
  EXPECT_EQ(started, (std::vector<std::size_t>{0, 3, 7, 11, 19}));
}

TEST(DistributedSweep, AFailedRunNamesRankRunAndReasonAfterTheRunsInFlight) {
  for (const int failing_rank : {0, 2}) {
    Sweep sweep;
    const std::string thrown =
        run_sweep(3, sweep, all_runs(), [&](int rank, std::size_t) { return rank == failing_rank; });
    // Which run fails depends on which rank asks first; it is one that the failing rank started.
    ASSERT_NE(thrown.find("failed on rank " + std::to_string(failing_rank) + ": injected failure of run "),
              std::string::npos)
        << thrown;
    const std::size_t run = std::stoul(thrown.substr(thrown.rfind(' ') + 1));
    EXPECT_NE(thrown.find("run " + std::to_string(run) + " (run-" + std::to_string(run) + ")"), std::string::npos)
        << thrown;
    EXPECT_TRUE(sweep.by_run[run].empty());
    for (std::size_t r = 0; r < kRuns; ++r) {
      EXPECT_LE(sweep.executions[r], 1) << "run " << r;
      // Every run that finished (nothing else threw) reached rank 0: the checkpoint can keep it.
      if (sweep.executions[r] == 1 && sweep.rank_of[r] >= 0) {
        EXPECT_EQ(value_bits(sweep.by_run[r]), value_bits(rows_of(r)));
      }
    }
    std::size_t executed = 0;
    for (int e : sweep.executions) executed += static_cast<std::size_t>(e);
    EXPECT_LT(executed, kRuns) << "no run is handed out after a failure";
  }
}

TEST(DistributedSweep, ARankThatCannotStartIsReported) {
  LoopbackWorld world(2);
  const config::ExperimentConfig config;
  std::thread worker([&] { report_start_failure(world.rank(1), "config hash abc on rank 1, def on rank 0"); });
  Coordination hooks;
  hooks.finished = [](FinishedRun&&) {};
  hooks.interrupt_code = [] { return 0; };
  hooks.interrupted = [](int) {};
  hooks.abandoned = [](const RunFailed&) {};
  std::string thrown;
  try {
    coordinate_runs(world.rank(0), config, make_runs(), all_runs(),
                    [](std::size_t run, const ParticleSplit*) { return rows_of(run); }, hooks);
  } catch (const RunFailed& error) {
    thrown = error.what();
    EXPECT_EQ(error.rank(), 1);
    EXPECT_EQ(error.run(), -1);
  }
  worker.join();
  EXPECT_EQ(thrown, "rank 1 could not start: config hash abc on rank 1, def on rank 0");
}

TEST(DistributedSweep, AnInterruptWritesTheCheckpointAndEndsEveryRank) {
  Sweep sweep;
  std::atomic<int> checkpoint_code{0};
  const std::string thrown = run_sweep(
      3, sweep, all_runs(), nullptr, [&] { return sweep.finish_order.size() >= 4 ? 143 : 0; },
      [&](int code) { checkpoint_code = code; });
  EXPECT_EQ(thrown, "aborted with 143");
  EXPECT_EQ(checkpoint_code, 143) << "the checkpoint is written before the job ends";
  EXPECT_GE(sweep.finish_order.size(), 4u);
}

// Split runs (run_split_runs, then coordinate_runs for the rest, as run_experiment does): every
// rank computes each split run together, fills its slice of the particles and receives the others'
// in particle order; rank 0 keeps the rows; the remaining runs are handed out as before.
TEST(DistributedSweep, SplitRunsAreComputedByEveryRankTogether) {
  constexpr Eigen::Index kParticles = 11;
  auto value = [](std::size_t run, Eigen::Index row, Eigen::Index col) {
    return static_cast<double>(run) * 1000.0 + static_cast<double>(row) * 100.0 + static_cast<double>(col);
  };
  const std::vector<std::size_t> split_runs = {5, 9};
  for (int size = 1; size <= 4; ++size) {
    LoopbackWorld world(size);
    const config::ExperimentConfig config;
    const std::vector<config::RunSpec> runs = make_runs();
    std::mutex mutex;
    std::vector<std::vector<int>> split_on_rank(kRuns);  // ranks that computed each run as split
    std::vector<int> wrong_gathers(static_cast<std::size_t>(size), 0);
    auto executor = [&](int rank) -> RunExecutor {
      return [&, rank](std::size_t run, const ParticleSplit* split) {
        if (split != nullptr) {
          EXPECT_EQ(split->parts(), size);
          EXPECT_EQ(split->part(), rank);
          const std::vector<Eigen::Index> offsets = split_offsets(kParticles, split->parts());
          Matrix samples = Matrix::Constant(2, kParticles, std::nan(""));
          for (Eigen::Index col = offsets[rank]; col < offsets[rank + 1]; ++col)
            for (Eigen::Index row = 0; row < 2; ++row) samples(row, col) = value(run, row, col);
          split->share(samples, offsets);
          const std::lock_guard lock(mutex);
          split_on_rank[run].push_back(rank);
          for (Eigen::Index col = 0; col < kParticles; ++col)
            for (Eigen::Index row = 0; row < 2; ++row)
              wrong_gathers[static_cast<std::size_t>(rank)] += samples(row, col) != value(run, row, col);
        }
        return rows_of(run);
      };
    };
    std::vector<std::thread> workers;
    for (int r = 1; r < size; ++r) workers.emplace_back([&, r] { serve_runs(world.rank(r), config, executor(r)); });
    std::vector<int> rank_of(kRuns, -1);
    std::vector<std::vector<RunRow>> by_run(kRuns);
    Coordination hooks;
    hooks.finished = [&](FinishedRun&& finished) {
      rank_of[finished.run] = finished.rank;
      by_run[finished.run] = std::move(finished.rows);
    };
    hooks.interrupt_code = [] { return 0; };
    hooks.interrupted = [](int) {};
    hooks.abandoned = [](const RunFailed&) {};
    std::vector<std::size_t> rest;
    for (std::size_t r = 0; r < kRuns; ++r)
      if (r != 5 && r != 9) rest.push_back(r);
    run_split_runs(world.rank(0), runs, split_runs, executor(0), hooks);
    coordinate_runs(world.rank(0), config, runs, rest, executor(0), hooks);
    for (std::thread& worker : workers) worker.join();
    EXPECT_EQ(world.undelivered(), 0u);
    for (std::size_t run = 0; run < kRuns; ++run) {
      EXPECT_EQ(value_bits(by_run[run]), value_bits(rows_of(run))) << "run " << run << ", " << size << " ranks";
      std::vector<int> ranks = split_on_rank[run];
      std::sort(ranks.begin(), ranks.end());
      if (run == 5 || run == 9) {
        std::vector<int> every(static_cast<std::size_t>(size));
        for (int r = 0; r < size; ++r) every[static_cast<std::size_t>(r)] = r;
        EXPECT_EQ(ranks, every) << "split run " << run << " is computed by every rank";
        EXPECT_EQ(rank_of[run], 0) << "rank 0 keeps a split run's rows";
      } else {
        EXPECT_TRUE(ranks.empty()) << "run " << run << " was split";
      }
    }
    for (int r = 0; r < size; ++r) EXPECT_EQ(wrong_gathers[static_cast<std::size_t>(r)], 0) << "rank " << r;
  }
}

TEST(DistributedSweep, StartHandshakeReleasesOrCancelsEveryRank) {
  for (const bool go : {true, false}) {
    LoopbackWorld world(4);
    std::vector<Release> releases(4);
    std::vector<std::thread> ranks;
    for (int r = 1; r < 4; ++r) ranks.emplace_back([&, r] { releases[r] = await_release(world.rank(r)); });
    if (go) {
      release_ranks(world.rank(0), "hash-1234");
    } else {
      cancel_ranks(world.rank(0), 2);
    }
    for (std::thread& t : ranks) t.join();
    for (int r = 1; r < 4; ++r) {
      EXPECT_EQ(releases[r].go, go) << "rank " << r;
      EXPECT_EQ(releases[r].config_hash, go ? "hash-1234" : "") << "rank " << r;
      EXPECT_EQ(releases[r].exit_code, go ? 0 : 2) << "rank " << r;
    }
  }
}

}  // namespace
}  // namespace dmconv::experiment
