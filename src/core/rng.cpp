#include "core/rng.hpp"

#include "core/simd_math.hpp"

#include <Random123/philox.h>
#include <Random123/uniform.hpp>

#include <algorithm>
#include <array>
#include <cmath>

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

// Pairs of 64-bit words are gathered, with where their two normals go, and transformed
// kChunk at a time: Philox stays scalar (64-bit multiply-high has no SIMD form), the
// transcendental part runs eight lanes wide (core/simd_math.hpp).
class NormalWriter {
 public:
  // Queues the pair (bits0, bits1); its normals go to first and, when non-null, second.
  void push(std::uint64_t bits0, std::uint64_t bits1, double* first, double* second) {
    angle_[size_] = r123::uneg11<double>(bits0);
    uniform_[size_] = r123::u01<double>(bits1);
    first_[size_] = first;
    second_[size_] = second;
    if (++size_ == kChunk) flush();
  }
  void flush() {
    if (size_ == 0) return;
    // x = sin(pi u) r, y = cos(pi u) r, r = sqrt(-2 log v); a padded tail lane is discarded.
    const int padded = (size_ + simd::kLanes - 1) / simd::kLanes * simd::kLanes;
    for (int k = size_; k < padded; ++k) angle_[k] = 0.5, uniform_[k] = 0.5;
    for (int k = 0; k < padded; k += simd::kLanes) {
      simd::log8(&uniform_[k], &uniform_[k]);
      simd::sincospi8(&angle_[k], &x_[k], &y_[k]);
    }
    for (int k = 0; k < padded; ++k) {
      const double radius = std::sqrt(-2.0 * uniform_[k]);
      x_[k] *= radius;
      y_[k] *= radius;
    }
    for (int k = 0; k < size_; ++k) {
      *first_[k] = x_[k];
      if (second_[k] != nullptr) *second_[k] = y_[k];
    }
    size_ = 0;
  }

 private:
  static constexpr int kChunk = 256;
  alignas(64) std::array<double, kChunk> angle_;
  alignas(64) std::array<double, kChunk> uniform_;
  alignas(64) std::array<double, kChunk> x_;
  alignas(64) std::array<double, kChunk> y_;
  std::array<double*, kChunk> first_;
  std::array<double*, kChunk> second_;
  int size_ = 0;
};

// Normals of stream (particle, tag) into out[0..size): Philox block b gives normals 4b..4b+3
// as the pairs (word 0, word 1) and (word 2, word 3).
void queue_normals(const RandomStreams& streams, std::uint64_t particle, std::uint64_t tag, double* out,
                   Eigen::Index size, NormalWriter& writer) {
  for (Eigen::Index first = 0; first < size; first += 4) {
    const auto bits = philox_block(streams.seed(), streams.run(), particle, tag, static_cast<std::uint64_t>(first / 4));
    const Eigen::Index left = size - first;
    writer.push(bits[0], bits[1], out + first, left > 1 ? out + first + 1 : nullptr);
    if (left > 2) writer.push(bits[2], bits[3], out + first + 2, left > 3 ? out + first + 3 : nullptr);
  }
}

}  // namespace

void RandomStreams::normals(std::uint64_t particle, StreamTag tag, double* out, Eigen::Index size) const {
  NormalWriter writer;
  queue_normals(*this, particle, tag.value(), out, size, writer);
  writer.flush();
}

void RandomStreams::fill_normals(std::uint64_t first_particle, StreamTag tag, MatrixRef out) const {
  NormalWriter writer;
  for (Eigen::Index j = 0; j < out.cols(); ++j) {
    queue_normals(*this, first_particle + static_cast<std::uint64_t>(j), tag.value(), out.col(j).data(), out.rows(),
                  writer);
  }
  writer.flush();
}

double RandomStreams::uniform(std::uint64_t particle, StreamTag tag, std::uint64_t index) const {
  const auto bits = philox_block(seed_, run_, particle, tag.value(), index / 4);
  return r123::u01<double>(bits[index % 4]);
}

void RandomStreams::uniforms(std::uint64_t particle, StreamTag tag, double* out, Eigen::Index size) const {
  for (Eigen::Index first = 0; first < size; first += 4) {
    const auto bits = philox_block(seed_, run_, particle, tag.value(), static_cast<std::uint64_t>(first / 4));
    for (Eigen::Index i = first; i < std::min<Eigen::Index>(size, first + 4); ++i) out[i] = r123::u01<double>(bits[i % 4]);
  }
}

}  // namespace dmconv
