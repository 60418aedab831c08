#include "core/rng.hpp"

#include <Random123/boxmuller.hpp>
#include <Random123/philox.h>
#include <Random123/uniform.hpp>

namespace dmconv {
namespace {

using Philox = r123::Philox4x64;

Philox::ctr_type philox_block(std::uint64_t seed, std::uint64_t run, std::uint64_t particle,
                              std::uint64_t tag, std::uint64_t block) {
  Philox generator;
  const Philox::key_type key = {{seed, run}};
  const Philox::ctr_type counter = {{particle, tag, block, 0}};
  return generator(counter, key);
}

}  // namespace

void RandomStreams::normals(std::uint64_t particle, StreamTag tag, double* out,
                            Eigen::Index size) const {
  for (Eigen::Index first = 0; first < size; first += 4) {
    const auto bits = philox_block(seed_, run_, particle, tag.value(),
                                   static_cast<std::uint64_t>(first / 4));
    const r123::double2 pair0 = r123::boxmuller(bits[0], bits[1]);
    const r123::double2 pair1 = r123::boxmuller(bits[2], bits[3]);
    const double values[4] = {pair0.x, pair0.y, pair1.x, pair1.y};
    for (Eigen::Index k = 0; k < 4 && first + k < size; ++k) out[first + k] = values[k];
  }
}

void RandomStreams::fill_normals(std::uint64_t first_particle, StreamTag tag, MatrixRef out) const {
  const Eigen::Index n = out.cols();
  for (Eigen::Index j = 0; j < n; ++j) {
    normals(first_particle + static_cast<std::uint64_t>(j), tag, out.col(j).data(), out.rows());
  }
}

double RandomStreams::uniform(std::uint64_t particle, StreamTag tag, std::uint64_t index) const {
  const auto bits = philox_block(seed_, run_, particle, tag.value(), index / 4);
  return r123::u01<double>(bits[index % 4]);
}

}  // namespace dmconv
