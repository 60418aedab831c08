// Counter-based random streams: Random123 Philox4x64-10 (Salmon et al., SC'11).
//
//   key     = (seed, run)
//   counter = (particle, tag, block, 0)
//   one Philox call -> 4 x 64 random bits -> 2 Box-Muller pairs -> 4 standard normals
//
// Batches of streams run 32 Philox blocks at a time in SIMD lanes (core/philox_lanes.hpp),
// each lane bit for bit the scalar generator, so a number is the same whichever path drew it.
//
// Every random number dmconv draws is a pure function of (seed, run, particle, tag, index):
// no generator state is carried between particles, so results are identical for any thread
// count, batch size or number of processes.
//
// Normals: Box-Muller on each pair of words, x = sin(pi u) r, y = cos(pi u) r,
// r = sqrt(-2 log v), u = r123::uneg11(word 0), v = r123::u01(word 1) (Random123's convention).
// sin(pi u), cos(pi u) and log v come from SLEEF's vectorised sincospi (0.506 ulp) and log
// (1 ulp), at one SIMD width for every pair (tails padded), so a number never depends on its
// position in a batch. Measured: within 2.2 ulp of a long-double Box-Muller (tests/core/rng_test.cpp);
// r123::boxmuller, which forms fl(pi u) first, is off by up to 4e4 ulp near the zeros of sin
// and cos. SLEEF's avx512f and avx2 variants gave identical bits on 1.7e7 inputs.
#pragma once
#include <cstdint>

#include "core/types.hpp"

namespace dmconv {

// What a stream is used for. The tag keeps the streams of different uses disjoint.
enum class StreamPurpose : std::uint64_t {
  kInitialState = 1,  // Y_T
  kStepNoise = 2,     // noise injections of sampler steps (index = step t)
  kTargetSample = 3,  // exact samples of p_t drawn by targets (index chosen by the caller)
  kScoreErrorField = 4,   // random features of score-error models (score_errors/; index 0)
  kScoreErrorSample = 5,  // exact samples of p_t for realised score errors (index = grid step t)
  kSampleEstimator = 6,   // sample-based estimators (estimators/sample_based.hpp): index 0 = oracle
                          // samples of p_{X_stop}, index 1 = random directions of sliced W2,
                          // 2 = ot_w2 reference sample, 3 = rao_blackwell points, 4 = its pre-noise
  kTargetConstruction = 7,  // random parameters of generated targets (random_mixture means)
  kLikelihoodConstruction = 8,  // random parameters of likelihoods (sensing vectors a_i, dithers tau_i)
  kPosteriorTruth = 9,          // ground truth x* ~ p_data (index 0) and its observation noise (index 1)
  kPosteriorChain = 10,         // posterior samplers (posterior/): index = 4 k + stage of outer
                                // iteration k, sub-stream = inner iteration or level
  kTest = 15,         // reserved for tests and benchmarks
};

// A 64-bit stream tag: purpose (top 8 bits), index (40 bits), sub-stream (low 16 bits).
class StreamTag {
 public:
  constexpr StreamTag(StreamPurpose purpose, std::uint64_t index, std::uint64_t sub = 0)
      : value_((static_cast<std::uint64_t>(purpose) << 56) | ((index & kIndexMask) << 16) |
               (sub & kSubMask)) {}
  // The k-th sub-stream of this tag, e.g. the second noise injection of a step. Sub-streams
  // add up (tag.sub(a).sub(b) = tag.sub(a + b)); the sum must stay below 65536, so composite
  // targets give factor j the block sub(j * width) and each factor uses sub(0..width-1).
  constexpr StreamTag sub(std::uint64_t k) const { return StreamTag(value_ + (k & kSubMask)); }
  constexpr std::uint64_t value() const { return value_; }

 private:
  static constexpr std::uint64_t kIndexMask = (std::uint64_t{1} << 40) - 1;
  static constexpr std::uint64_t kSubMask = 0xffffu;
  constexpr explicit StreamTag(std::uint64_t value) : value_(value) {}
  std::uint64_t value_;
};

class RandomStreams {
 public:
  constexpr RandomStreams(std::uint64_t seed, std::uint64_t run) : seed_(seed), run_(run) {}

  std::uint64_t seed() const { return seed_; }
  std::uint64_t run() const { return run_; }

  // out(i), i = 0..size-1: i.i.d. N(0, 1) of stream (particle, tag).
  void normals(std::uint64_t particle, StreamTag tag, double* out, Eigen::Index size) const;
  // out.col(j) = normals of particle first_particle + j. Serial: callers run it inside their
  // own parallel block loops (a nested region here would ignore their thread count).
  void fill_normals(std::uint64_t first_particle, StreamTag tag, MatrixRef out) const;
  // The index-th U(0, 1) number of stream (particle, tag); never exactly 0 or 1.
  double uniform(std::uint64_t particle, StreamTag tag, std::uint64_t index) const;
  // out[i] = uniform(particle, tag, i), i = 0..size-1, one Philox block per four numbers.
  void uniforms(std::uint64_t particle, StreamTag tag, double* out, Eigen::Index size) const;
  // out[j] = uniform(first_particle + j, tag, index), j = 0..count-1: one number of each of
  // count consecutive streams (e.g. a Metropolis uniform per particle), 32 streams per call
  // of the vectorised generator.
  void uniforms_across(std::uint64_t first_particle, StreamTag tag, std::uint64_t index, double* out,
                       Eigen::Index count) const;

 private:
  std::uint64_t seed_;
  std::uint64_t run_;
};

}  // namespace dmconv
