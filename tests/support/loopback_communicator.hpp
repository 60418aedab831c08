// R ranks inside one test process (parallel/communicator.hpp): each rank is a Communicator over
// shared mailboxes, driven by its own thread, so the distributed sweep's protocol runs without
// mpirun. abort() throws LoopbackAborted instead of ending the process; allgather is a barrier.
#pragma once
#include <condition_variable>
#include <algorithm>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "parallel/communicator.hpp"

namespace dmconv::testing {

struct LoopbackAborted : std::runtime_error {
  explicit LoopbackAborted(int code) : std::runtime_error("aborted with " + std::to_string(code)), exit_code(code) {}
  int exit_code;
};

class LoopbackWorld {
 public:
  explicit LoopbackWorld(int size) : chunks_(static_cast<std::size_t>(size)), mailboxes_(static_cast<std::size_t>(size)) {
    for (int r = 0; r < size; ++r) ranks_.push_back(std::make_unique<Rank>(*this, r));
  }
  parallel::Communicator& rank(int r) { return *ranks_[static_cast<std::size_t>(r)]; }
  // Messages sent and not yet received, over all ranks (a finished protocol leaves none).
  std::size_t undelivered() {
    const std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& box : mailboxes_) n += box.size();
    return n;
  }

 private:
  class Rank final : public parallel::Communicator {
   public:
    Rank(LoopbackWorld& world, int rank) : world_(world), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return static_cast<int>(world_.mailboxes_.size()); }
    void send(int to, int tag, const std::vector<std::byte>& bytes) override {
      {
        const std::lock_guard lock(world_.mutex_);
        world_.mailboxes_.at(static_cast<std::size_t>(to)).push_back(parallel::Message{rank_, tag, bytes});
      }
      world_.arrived_.notify_all();
    }
    std::optional<parallel::Message> try_receive() override {
      const std::lock_guard lock(world_.mutex_);
      auto& box = world_.mailboxes_[static_cast<std::size_t>(rank_)];
      if (box.empty()) return std::nullopt;
      parallel::Message message = std::move(box.front());
      box.pop_front();
      return message;
    }
    parallel::Message receive(int from) override {
      std::unique_lock lock(world_.mutex_);
      auto& box = world_.mailboxes_[static_cast<std::size_t>(rank_)];
      for (;;) {
        if (world_.aborted_) throw LoopbackAborted(world_.exit_code_);
        for (auto it = box.begin(); it != box.end(); ++it) {
          if (it->source != from) continue;
          parallel::Message message = std::move(*it);
          box.erase(it);
          return message;
        }
        world_.arrived_.wait(lock);
      }
    }
    void allgather(double* data, const std::vector<std::size_t>& counts) override {
      std::unique_lock lock(world_.mutex_);
      std::size_t offset = 0;
      for (int r = 0; r < rank_; ++r) offset += counts[static_cast<std::size_t>(r)];
      world_.chunks_[static_cast<std::size_t>(rank_)].assign(data + offset, data + offset + counts[static_cast<std::size_t>(rank_)]);
      const std::size_t round = world_.gather_round_;
      if (++world_.gathered_ == size()) {
        world_.gathered_ = 0;
        world_.complete_ = world_.chunks_;
        ++world_.gather_round_;
        world_.arrived_.notify_all();
      } else {
        world_.arrived_.wait(lock, [&] { return world_.gather_round_ != round || world_.aborted_; });
        if (world_.aborted_) throw LoopbackAborted(world_.exit_code_);
      }
      offset = 0;
      for (const std::vector<double>& chunk : world_.complete_) {
        std::copy(chunk.begin(), chunk.end(), data + offset);
        offset += chunk.size();
      }
    }
    // Like MPI_Abort, every rank ends: ranks blocked in receive() throw too.
    [[noreturn]] void abort(int exit_code) override {
      {
        const std::lock_guard lock(world_.mutex_);
        world_.aborted_ = true;
        world_.exit_code_ = exit_code;
      }
      world_.arrived_.notify_all();
      throw LoopbackAborted(exit_code);
    }

   private:
    LoopbackWorld& world_;
    int rank_;
  };

  std::mutex mutex_;
  std::condition_variable arrived_;
  bool aborted_ = false;
  int exit_code_ = 0;
  // allgather: each rank's chunk of the current round, the last complete round, arrivals.
  std::vector<std::vector<double>> chunks_, complete_;
  int gathered_ = 0;
  std::size_t gather_round_ = 0;
  std::vector<std::deque<parallel::Message>> mailboxes_;
  std::vector<std::unique_ptr<Rank>> ranks_;
};

}  // namespace dmconv::testing
