// Message passing between the processes of one `mpirun -n R dmconv run ...` (issue 17; design in
// docs/cluster.md "MPI"). The experiment layer sees only this interface: byte messages with a
// tag, to and from numbered ranks. Two implementations are linked into the executable, never
// both: communicator_mpi.cpp (OpenMPI, -DDMCONV_MPI=ON, the default) and communicator_single.cpp
// (-DDMCONV_MPI=OFF: one process, rank 0 of 1). The tests add an in-process loopback.
#pragma once
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dmconv::parallel {

struct Message {
  int source = 0;
  int tag = 0;
  std::vector<std::byte> bytes;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Blocks until `bytes` may be reused (the message is buffered or received).
  virtual void send(int to, int tag, const std::vector<std::byte>& bytes) = 0;
  // The next message from any rank if one has arrived; never blocks.
  virtual std::optional<Message> try_receive() = 0;
  // Blocks until a message from `from` arrives.
  virtual Message receive(int from) = 0;
  // Collective (every rank calls it, in the same order): rank r's counts[r] doubles, stored at
  // offset counts[0] + ... + counts[r - 1] of `data`, reach every rank at the same offset.
  virtual void allgather(double* data, const std::vector<std::size_t>& counts) = 0;
  // Ends every rank of the job at once with `exit_code` (MPI_Abort): for rank 0 when a signal or
  // an error leaves other ranks in the middle of a run that nobody will collect.
  [[noreturn]] virtual void abort(int exit_code) = 0;
};

// The processes of this job. Under an MPI launcher (mpirun, srun; recognised by the variables
// it exports: OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_SIZE) MPI is initialised (thread level
// FUNNELED: only the thread that calls start_communicator uses MPI) and finalised by the
// destructor; otherwise one process, rank 0 of 1, without touching MPI.
// A build without MPI started by a launcher with more than one process throws InvalidArgument:
// every process would run the whole sweep and write the same file.
std::unique_ptr<Communicator> start_communicator(int& argc, char**& argv);

// "OpenMPI 4.1.4 (MPI 3.1)" or "none (-DDMCONV_MPI=OFF)": for --version and the results file.
std::string message_passing_library();

}  // namespace dmconv::parallel
