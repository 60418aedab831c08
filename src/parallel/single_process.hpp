// One process, rank 0 of 1 (communicator.hpp): what start_communicator returns outside an MPI
// launcher, and always in a build without MPI.
#pragma once
#include <cstdlib>
#include <stdexcept>

#include "parallel/communicator.hpp"

namespace dmconv::parallel {

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void send(int, int, const std::vector<std::byte>&) override {
    throw std::logic_error("single process: there is no other rank to send to");
  }
  std::optional<Message> try_receive() override { return std::nullopt; }
  Message receive(int) override { throw std::logic_error("single process: there is no other rank to receive from"); }
  void allgather(double*, const std::vector<std::size_t>&) override {}  // this rank's data is all there is
  [[noreturn]] void abort(int exit_code) override { std::_Exit(exit_code); }
};

}  // namespace dmconv::parallel
