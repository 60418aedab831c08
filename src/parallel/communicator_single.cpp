// The build without MPI (-DDMCONV_MPI=OFF): one process, rank 0 of 1 (communicator.hpp).
#include <cstdlib>
#include <stdexcept>

#include "core/error.hpp"
#include "parallel/communicator.hpp"
#include "parallel/single_process.hpp"

namespace dmconv::parallel {
namespace {

// The job size an MPI launcher announces to its processes (0: not started by one).
long launcher_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* value = std::getenv(name)) return std::strtol(value, nullptr, 10);
  return 0;
}

}  // namespace

std::unique_ptr<Communicator> start_communicator(int&, char**&) {
  if (const long size = launcher_size(); size > 1)
    throw InvalidArgument("started by an MPI launcher with " + std::to_string(size) +
                          " processes, but this dmconv was built without MPI (-DDMCONV_MPI=OFF): every process would "
                          "run the whole sweep and write the same file; rebuild with -DDMCONV_MPI=ON, or split the "
                          "sweep with --shard i/n (docs/cluster.md)");
  return std::make_unique<SingleProcess>();
}

std::string message_passing_library() { return "none (-DDMCONV_MPI=OFF)"; }

}  // namespace dmconv::parallel
