// A sweep on R MPI ranks (distributed.hpp).
#include "experiment/distributed.hpp"

#include <chrono>
#include <deque>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include "parallel/wire.hpp"

namespace dmconv::experiment {
namespace {

using parallel::Communicator;
using parallel::Message;
using parallel::WireReader;
using parallel::WireWriter;

// How long rank 0's first thread sleeps when no message and no local result is waiting: short
// against any run, long enough that polling costs nothing next to the computing thread.
constexpr auto kPollInterval = std::chrono::milliseconds(1);

std::vector<std::byte> encode_int(std::int64_t value) {
  WireWriter writer;
  writer.put(value);
  return writer.take();
}

struct Failure {
  int rank = 0;
  std::int64_t run = -1;
  std::string reason;
};

// Rank 0's own share: a second thread takes runs from the same queue as the other ranks.
class LocalWorker {
 public:
  LocalWorker(const std::vector<std::size_t>& queue, const RunExecutor& execute)
      : pending_(queue.begin(), queue.end()), execute_(execute), thread_([this] { work(); }) {}
  LocalWorker(const LocalWorker&) = delete;
  LocalWorker& operator=(const LocalWorker&) = delete;
  ~LocalWorker() {
    close();
    thread_.join();
  }

  // The next run to hand out (to a rank or to this thread); none once closed or empty.
  std::optional<std::size_t> next() {
    const std::lock_guard lock(mutex_);
    return take_locked();
  }
  // No run is handed out after this (a failure).
  void close() {
    const std::lock_guard lock(mutex_);
    closed_ = true;
  }
  // The runs this thread finished since the last call, its failure if any, and whether it is done.
  struct Collected {
    std::vector<FinishedRun> finished;
    std::optional<Failure> failure;
    bool done = false;
  };
  Collected collect() {
    const std::lock_guard lock(mutex_);
    Collected out{std::move(finished_), std::move(failure_), done_};
    finished_.clear();
    failure_.reset();
    return out;
  }

 private:
  std::optional<std::size_t> take_locked() {
    if (closed_ || pending_.empty()) return std::nullopt;
    const std::size_t run = pending_.front();
    pending_.pop_front();
    return run;
  }
  void work() {
    while (const std::optional<std::size_t> run = next()) {
      try {
        std::vector<RunRow> rows = execute_(*run, nullptr);
        const std::lock_guard lock(mutex_);
        finished_.push_back(FinishedRun{*run, 0, std::move(rows)});
      } catch (const std::exception& error) {
        const std::lock_guard lock(mutex_);
        failure_ = Failure{0, static_cast<std::int64_t>(*run), error.what()};
        closed_ = true;
      }
    }
    const std::lock_guard lock(mutex_);
    done_ = true;
  }

  std::mutex mutex_;
  std::deque<std::size_t> pending_;
  bool closed_ = false, done_ = false;
  std::vector<FinishedRun> finished_;
  std::optional<Failure> failure_;
  const RunExecutor& execute_;
  std::thread thread_;  // last: starts after everything it reads
};

std::string key_of(const std::vector<config::RunSpec>& runs, std::int64_t run) {
  return run >= 0 && static_cast<std::size_t>(run) < runs.size() ? runs[static_cast<std::size_t>(run)].key
                                                                  : std::string();
}

}  // namespace

RunFailed::RunFailed(int rank, std::int64_t run, const std::string& run_key, const std::string& reason)
    : std::runtime_error(run < 0 ? "rank " + std::to_string(rank) + " could not start: " + reason
                                 : "run " + std::to_string(run) + (run_key.empty() ? "" : " (" + run_key + ")") +
                                       " failed on rank " + std::to_string(rank) + ": " + reason),
      rank_(rank),
      run_(run) {}

void RanksParticleSplit::share(Matrix& samples, const std::vector<Eigen::Index>& offsets) const {
  std::vector<std::size_t> counts(static_cast<std::size_t>(ranks_.size()));
  for (std::size_t r = 0; r < counts.size(); ++r)
    counts[r] = static_cast<std::size_t>(samples.rows() * (offsets[r + 1] - offsets[r]));
  ranks_.allgather(samples.data(), counts);  // column-major: a slice of columns is contiguous
}

void run_split_runs(Communicator& ranks, const std::vector<config::RunSpec>& runs,
                    const std::vector<std::size_t>& split_runs, const RunExecutor& execute, const Coordination& hooks) {
  const RanksParticleSplit split(ranks);
  for (const std::size_t run : split_runs) {
    if (const int code = hooks.interrupt_code(); code != 0) {
      hooks.interrupted(code);
      ranks.abort(code);
    }
    // Every other rank is waiting for the reply to its kReady (or reports that it cannot start).
    std::optional<Failure> failure;
    for (int r = 1; r < ranks.size(); ++r) {
      const Message message = ranks.receive(r);
      WireReader reader(message.bytes);
      if (message.tag == kFailed) {
        const std::int64_t failed = reader.get_int();
        if (!failure) failure = Failure{r, failed, reader.get_string()};
      } else if (message.tag != kReady) {
        throw std::runtime_error("rank 0: unexpected message tag " + std::to_string(message.tag) + " from rank " +
                                 std::to_string(r) + " before a split run");
      }
    }
    if (failure) {
      for (int r = 1; r < ranks.size(); ++r) ranks.send(r, kStop, {});
      throw RunFailed(failure->rank, failure->run, key_of(runs, failure->run), failure->reason);
    }
    const std::vector<std::byte> assignment = encode_int(static_cast<std::int64_t>(run));
    for (int r = 1; r < ranks.size(); ++r) ranks.send(r, kSplit, assignment);
    std::vector<RunRow> rows;
    try {
      rows = execute(run, &split);
    } catch (const std::exception& error) {
      hooks.abandoned(RunFailed(0, static_cast<std::int64_t>(run), key_of(runs, static_cast<std::int64_t>(run)),
                                error.what()));
      ranks.abort(3);
    }
    hooks.finished(FinishedRun{run, 0, std::move(rows)});
  }
}

void coordinate_runs(Communicator& ranks, const config::ExperimentConfig& config,
                     const std::vector<config::RunSpec>& runs, const std::vector<std::size_t>& queue,
                     const RunExecutor& execute, const Coordination& hooks) {
  int active = ranks.size() - 1;  // other ranks not yet told kStop
  std::optional<Failure> failure;
  LocalWorker local(queue, execute);
  bool local_done = false;
  auto fail = [&](Failure&& f) {
    local.close();
    if (!failure) failure = std::move(f);
  };
  while (active > 0 || !local_done) {
    if (const int code = hooks.interrupt_code(); code != 0) {
      hooks.interrupted(code);
      ranks.abort(code);
    }
    bool busy = false;
    if (std::optional<Message> message = ranks.try_receive()) {
      busy = true;
      WireReader reader(message->bytes);
      switch (message->tag) {
        case kReady:
          break;
        case kResult: {
          const auto run = static_cast<std::size_t>(reader.get_int());
          std::vector<RunRow> rows = read_run_rows(reader.get_table(), config);
          hooks.finished(FinishedRun{run, message->source, std::move(rows)});
          break;
        }
        case kFailed: {
          const std::int64_t run = reader.get_int();
          fail(Failure{message->source, run, reader.get_string()});
          break;
        }
        default:
          throw std::runtime_error("rank 0: unexpected message tag " + std::to_string(message->tag) + " from rank " +
                                   std::to_string(message->source));
      }
      if (const std::optional<std::size_t> run = local.next()) {
        ranks.send(message->source, kAssign, encode_int(static_cast<std::int64_t>(*run)));
      } else {
        ranks.send(message->source, kStop, {});
        --active;
      }
    }
    LocalWorker::Collected collected = local.collect();
    for (FinishedRun& finished : collected.finished) {
      busy = true;
      hooks.finished(std::move(finished));
    }
    if (collected.failure) fail(std::move(*collected.failure));
    local_done = collected.done;
    if (!busy) std::this_thread::sleep_for(kPollInterval);
  }
  if (failure) throw RunFailed(failure->rank, failure->run, key_of(runs, failure->run), failure->reason);
}

void serve_runs(Communicator& ranks, const config::ExperimentConfig& config, const RunExecutor& execute) {
  const RanksParticleSplit split(ranks);
  ranks.send(0, kReady, {});
  for (;;) {
    const Message message = ranks.receive(0);
    if (message.tag == kStop) return;
    if (message.tag == kSplit) {
      const std::int64_t run = WireReader(message.bytes).get_int();
      try {
        execute(static_cast<std::size_t>(run), &split);
      } catch (const std::exception& error) {
        // The other ranks may be waiting in a collective this rank will not join.
        std::cerr << "dmconv: error: " << RunFailed(ranks.rank(), run, "", error.what()).what()
                  << " (a run split over the ranks): ending all ranks\n"
                  << std::flush;
        ranks.abort(3);
      }
      ranks.send(0, kReady, {});
      continue;
    }
    if (message.tag != kAssign)
      throw std::runtime_error("rank " + std::to_string(ranks.rank()) + ": unexpected message tag " +
                               std::to_string(message.tag) + " from rank 0");
    WireReader reader(message.bytes);
    const std::int64_t run = reader.get_int();
    WireWriter reply;
    reply.put(run);
    int tag = kResult;
    try {
      reply.put(make_runs_table(config, execute(static_cast<std::size_t>(run), nullptr)));
    } catch (const std::exception& error) {
      reply = WireWriter();
      reply.put(run);
      reply.put(std::string(error.what()));
      tag = kFailed;
    }
    ranks.send(0, tag, reply.take());
  }
}

void report_start_failure(Communicator& ranks, const std::string& reason) {
  WireWriter writer;
  writer.put(std::int64_t{-1});
  writer.put(reason);
  ranks.send(0, kFailed, writer.take());
  const Message reply = ranks.receive(0);
  if (reply.tag != kStop)
    throw std::runtime_error("rank " + std::to_string(ranks.rank()) + ": expected kStop after a start failure, got tag " +
                             std::to_string(reply.tag));
}

void release_ranks(Communicator& ranks, const std::string& config_hash) {
  WireWriter writer;
  writer.put(config_hash);
  const std::vector<std::byte> bytes = writer.take();
  for (int r = 1; r < ranks.size(); ++r) ranks.send(r, kStart, bytes);
}

void cancel_ranks(Communicator& ranks, int exit_code) {
  const std::vector<std::byte> bytes = encode_int(exit_code);
  for (int r = 1; r < ranks.size(); ++r) ranks.send(r, kCancel, bytes);
}

Release await_release(Communicator& ranks) {
  const Message message = ranks.receive(0);
  WireReader reader(message.bytes);
  if (message.tag == kStart) return Release{true, reader.get_string(), 0};
  if (message.tag == kCancel) return Release{false, {}, static_cast<int>(reader.get_int())};
  throw std::runtime_error("rank " + std::to_string(ranks.rank()) + ": expected kStart or kCancel from rank 0, got tag " +
                           std::to_string(message.tag));
}

}  // namespace dmconv::experiment
