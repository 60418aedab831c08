// The MPI build (communicator.hpp): MPI_COMM_WORLD, byte messages (MPI_BYTE) probed for their
// length before they are received.
#include <mpi.h>

#include <climits>
#include <cstdlib>
#include <stdexcept>

#include "core/error.hpp"
#include "parallel/communicator.hpp"
#include "parallel/single_process.hpp"

namespace dmconv::parallel {
namespace {

bool started_by_launcher() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(name) != nullptr) return true;
  return false;
}

void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw std::runtime_error(std::string(call) + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

class MpiWorld final : public Communicator {
 public:
  MpiWorld(int& argc, char**& argv) {
    int provided = 0;
    check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    // Errors come back as codes (turned into exceptions above) instead of ending the job silently.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if (provided < MPI_THREAD_FUNNELED) {
      MPI_Finalize();
      throw std::runtime_error("the MPI library provides thread level " + std::to_string(provided) +
                               ", below MPI_THREAD_FUNNELED: rank 0 computes on a second thread while its first "
                               "thread hands out runs");
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;
  ~MpiWorld() override { MPI_Finalize(); }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void send(int to, int tag, const std::vector<std::byte>& bytes) override {
    if (bytes.size() > static_cast<std::size_t>(INT_MAX))
      throw std::runtime_error("MPI message of " + std::to_string(bytes.size()) + " bytes exceeds INT_MAX");
    check(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, to, tag, MPI_COMM_WORLD), "MPI_Send");
  }

  std::optional<Message> try_receive() override {
    int flag = 0;
    MPI_Status status;
    check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status), "MPI_Iprobe");
    if (flag == 0) return std::nullopt;
    return receive_probed(status);
  }

  Message receive(int from) override {
    MPI_Status status;
    check(MPI_Probe(from, MPI_ANY_TAG, MPI_COMM_WORLD, &status), "MPI_Probe");
    return receive_probed(status);
  }

  void allgather(double* data, const std::vector<std::size_t>& counts) override {
    std::vector<int> sizes(counts.size()), displacements(counts.size());
    std::size_t offset = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      if (counts[r] > static_cast<std::size_t>(INT_MAX) || offset > static_cast<std::size_t>(INT_MAX))
        throw std::runtime_error("MPI_Allgatherv: " + std::to_string(offset + counts[r]) +
                                 " doubles exceed the int counts of MPI");
      sizes[r] = static_cast<int>(counts[r]);
      displacements[r] = static_cast<int>(offset);
      offset += counts[r];
    }
    check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, sizes.data(), displacements.data(), MPI_DOUBLE,
                         MPI_COMM_WORLD),
          "MPI_Allgatherv");
  }

  [[noreturn]] void abort(int exit_code) override {
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);
  }

 private:
  Message receive_probed(const MPI_Status& status) {
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    Message message{status.MPI_SOURCE, status.MPI_TAG, std::vector<std::byte>(static_cast<std::size_t>(count))};
    check(MPI_Recv(message.bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
                   MPI_STATUS_IGNORE),
          "MPI_Recv");
    return message;
  }

  int rank_ = 0, size_ = 1;
};

}  // namespace

std::unique_ptr<Communicator> start_communicator(int& argc, char**& argv) {
  if (!started_by_launcher()) return std::make_unique<SingleProcess>();
  return std::make_unique<MpiWorld>(argc, argv);
}

std::string message_passing_library() {
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(version, &length);
  std::string text(version, static_cast<std::size_t>(length));
  if (const std::size_t comma = text.find(','); comma != std::string::npos) text.resize(comma);
  int major = 0, minor = 0;
  MPI_Get_version(&major, &minor);
  return text + " (MPI " + std::to_string(major) + "." + std::to_string(minor) + ")";
}

}  // namespace dmconv::parallel
