#include "core/rng.hpp"

#include "core/philox_lanes.hpp"
#include "core/simd_math.hpp"

#include <Random123/philox.h>
#include <Random123/uniform.hpp>

#include <algorithm>
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

// bits = the blocks of counters' lanes [0, lanes), the same bits from either generator: the
// SIMD one unless the group is mostly empty (a short stream, a tail). Measured on AVX-512: a
// whole SIMD call costs about as much as nine scalar blocks. The lanes up to the next multiple
// of simd::kLanes are defined too (zero counters or zero words), for a transform by whole
// SIMD groups; their numbers are discarded.
void philox_group(std::uint64_t seed, std::uint64_t run, PhiloxLanes& counters, int lanes, PhiloxLanes& bits) {
  if (kPhiloxLanesInSimd && lanes > kPhiloxLanes / 4) {
    for (int lane = lanes; lane < kPhiloxLanes; ++lane)
      for (int w = 0; w < 4; ++w) counters.word[w][lane] = 0;
    philox4x64_lanes(seed, run, counters, bits);
    return;
  }
  Philox generator;
  const Philox::key_type key = {{seed, run}};
  for (int lane = 0; lane < lanes; ++lane) {
    const Philox::ctr_type words = generator(
        {{counters.word[0][lane], counters.word[1][lane], counters.word[2][lane], counters.word[3][lane]}}, key);
    for (int w = 0; w < 4; ++w) bits.word[w][lane] = words[w];
  }
  for (int lane = lanes; lane % simd::kLanes != 0; ++lane)
    for (int w = 0; w < 4; ++w) bits.word[w][lane] = 0;
}

// The four normals of each of kPhiloxLanes Philox blocks: pair h of lane l is (word 2h, word 2h + 1),
// x = sin(pi u) r, y = cos(pi u) r, r = sqrt(-2 log v), u = uneg11(word 2h), v = u01(word 2h + 1).
struct alignas(64) NormalLanes {
  double x[2][kPhiloxLanes];
  double y[2][kPhiloxLanes];
};
static_assert(kPhiloxLanes % simd::kLanes == 0, "whole SLEEF calls per pair of a lane group");

// pairs = 1 when no lane needs its block's second pair (streams of one or two numbers); lanes
// [0, lanes) are wanted, and the transform runs on whole SIMD groups up to them.
void box_muller_lanes(const PhiloxLanes& bits, int pairs, int lanes, NormalLanes& out) {
  alignas(64) double angle[kPhiloxLanes];
  alignas(64) double uniform[kPhiloxLanes];
  const int used = (lanes + simd::kLanes - 1) / simd::kLanes * simd::kLanes;
  for (int pair = 0; pair < pairs; ++pair) {
    for (int lane = 0; lane < used; ++lane) {
      angle[lane] = r123::uneg11<double>(bits.word[2 * pair][lane]);
      uniform[lane] = r123::u01<double>(bits.word[2 * pair + 1][lane]);
    }
    for (int first = 0; first < used; first += simd::kLanes)
      simd::box_muller8(angle + first, uniform + first, out.x[pair] + first, out.y[pair] + first);
  }
}

// Column j (rows entries, column j at data + j * stride) gets the normals of stream
// (first_particle + j, tag): Philox block b of a stream gives its normals 4b..4b+3. Blocks of
// all columns are generated kPhiloxLanes at a time, in column order (philox_group); the normals of
// unused lanes are discarded.
void fill_columns(std::uint64_t seed, std::uint64_t run, std::uint64_t first_particle, std::uint64_t tag,
                  double* data, Eigen::Index rows, Eigen::Index cols, Eigen::Index stride) {
  if (rows <= 0 || cols <= 0) return;
  const Eigen::Index blocks_per_column = (rows + 3) / 4;
  PhiloxLanes counters;
  for (int lane = 0; lane < kPhiloxLanes; ++lane) counters.word[1][lane] = tag, counters.word[3][lane] = 0;
  PhiloxLanes bits;
  NormalLanes normals;
  double* destination[kPhiloxLanes];
  int count[kPhiloxLanes];
  Eigen::Index column = 0, block = 0;
  const bool contiguous = rows % 4 == 0 && (cols == 1 || stride == rows);
  while (column < cols) {
    int lanes = 0;
    for (; lanes < kPhiloxLanes && column < cols; ++lanes) {
      counters.word[0][lanes] = first_particle + static_cast<std::uint64_t>(column);
      counters.word[2][lanes] = static_cast<std::uint64_t>(block);
      destination[lanes] = data + column * stride + 4 * block;
      count[lanes] = static_cast<int>(std::min<Eigen::Index>(4, rows - 4 * block));
      if (++block == blocks_per_column) block = 0, ++column;
    }
    philox_group(seed, run, counters, lanes, bits);
    box_muller_lanes(bits, rows > 2 ? 2 : 1, lanes, normals);
    if (contiguous && lanes == kPhiloxLanes && count[0] == 4) {
      // Whole blocks back to back (rows a multiple of 4, columns adjacent): 32 consecutive
      // numbers, lane by lane, stored without the per-lane addresses.
      double* out = destination[0];
      for (int lane = 0; lane < kPhiloxLanes; ++lane) {
        out[4 * lane] = normals.x[0][lane];
        out[4 * lane + 1] = normals.y[0][lane];
        out[4 * lane + 2] = normals.x[1][lane];
        out[4 * lane + 3] = normals.y[1][lane];
      }
      continue;
    }
    for (int lane = 0; lane < lanes; ++lane) {
      double* out = destination[lane];
      const double values[4] = {normals.x[0][lane], normals.y[0][lane], normals.x[1][lane], normals.y[1][lane]};
      if (count[lane] == 4) {  // a whole block: four stores, not a copy call
        out[0] = values[0], out[1] = values[1], out[2] = values[2], out[3] = values[3];
      } else {
        for (int k = 0; k < count[lane]; ++k) out[k] = values[k];
      }
    }
  }
}

}  // namespace

void RandomStreams::normals(std::uint64_t particle, StreamTag tag, double* out, Eigen::Index size) const {
  fill_columns(seed_, run_, particle, tag.value(), out, size, 1, size);
}

void RandomStreams::fill_normals(std::uint64_t first_particle, StreamTag tag, MatrixRef out) const {
  fill_columns(seed_, run_, first_particle, tag.value(), out.data(), out.rows(), out.cols(), out.outerStride());
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

void RandomStreams::uniforms_across(std::uint64_t first_particle, StreamTag tag, std::uint64_t index, double* out,
                                    Eigen::Index count) const {
  PhiloxLanes counters;
  PhiloxLanes bits;
  for (int lane = 0; lane < kPhiloxLanes; ++lane) {
    counters.word[1][lane] = tag.value();
    counters.word[2][lane] = index / 4;
    counters.word[3][lane] = 0;
  }
  const int word = static_cast<int>(index % 4);
  for (Eigen::Index first = 0; first < count; first += kPhiloxLanes) {
    const int lanes = static_cast<int>(std::min<Eigen::Index>(kPhiloxLanes, count - first));
    for (int lane = 0; lane < lanes; ++lane) counters.word[0][lane] = first_particle + static_cast<std::uint64_t>(first + lane);
    philox_group(seed_, run_, counters, lanes, bits);
    for (int lane = 0; lane < lanes; ++lane) out[first + lane] = r123::u01<double>(bits.word[word][lane]);
  }
}

}  // namespace dmconv
