// Standard normals per second from RandomStreams::fill_normals (Philox4x64-10 in 32 SIMD
// lanes, then Box-Muller with SLEEF's vectorised log and sincospi), one thread, against the
// scalar transform it replaced (r123::boxmuller: libm log and sincos, one pair at a time) on the
// same Philox words, and the generator alone: scalar r123::Philox4x64 and the 32-lane one
// (core/philox_lanes.hpp), counted as four normals' worth of words per block.
#include <benchmark/benchmark.h>

#include <Random123/boxmuller.hpp>
#include <Random123/philox.h>

#include "core/philox_lanes.hpp"
#include "core/rng.hpp"

namespace dmconv {
namespace {

constexpr Eigen::Index kRows = 16, kParticles = 4096;

void BM_FillNormals(benchmark::State& state) {
  const RandomStreams streams(1, 2);
  Matrix out(kRows, kParticles);
  std::uint64_t step = 0;
  for (auto _ : state) {
    streams.fill_normals(0, StreamTag(StreamPurpose::kTest, ++step), out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["normals/s"] =
      benchmark::Counter(static_cast<double>(kRows * kParticles), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_FillNormals)->Name("normals/fill_normals");

// One short stream per particle (a target's exact sampler draws d numbers this way): the fixed
// cost of a call, where the scalar generator serves the few blocks.
void BM_ShortStreams(benchmark::State& state) {
  const RandomStreams streams(1, 2);
  const auto size = static_cast<Eigen::Index>(state.range(0));
  Vector out(size);
  std::uint64_t step = 0;
  for (auto _ : state) {
    ++step;
    for (Eigen::Index j = 0; j < kParticles; ++j) {
      streams.normals(static_cast<std::uint64_t>(j), StreamTag(StreamPurpose::kTest, step), out.data(), size);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.counters["normals/s"] =
      benchmark::Counter(static_cast<double>(size * kParticles), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ShortStreams)->Name("normals/short_streams")->Arg(1)->Arg(3)->Arg(16);

void BM_ScalarBoxMullerReference(benchmark::State& state) {
  Matrix out(kRows, kParticles);
  std::uint64_t step = 0;
  r123::Philox4x64 generator;
  for (auto _ : state) {
    ++step;
    for (Eigen::Index j = 0; j < kParticles; ++j) {
      for (Eigen::Index i = 0; i < kRows; i += 4) {
        const auto bits = generator({{static_cast<std::uint64_t>(j), step, static_cast<std::uint64_t>(i / 4), 0}}, {{1, 2}});
        const r123::double2 pair0 = r123::boxmuller(bits[0], bits[1]);
        const r123::double2 pair1 = r123::boxmuller(bits[2], bits[3]);
        out(i, j) = pair0.x, out(i + 1, j) = pair0.y, out(i + 2, j) = pair1.x, out(i + 3, j) = pair1.y;
      }
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["normals/s"] =
      benchmark::Counter(static_cast<double>(kRows * kParticles), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ScalarBoxMullerReference)->Name("normals/scalar_boxmuller_reference");

void BM_PhiloxOnly(benchmark::State& state) {
  std::uint64_t step = 0, sink = 0;
  r123::Philox4x64 generator;
  for (auto _ : state) {
    ++step;
    for (Eigen::Index j = 0; j < kParticles; ++j) {
      for (Eigen::Index i = 0; i < kRows; i += 4) {
        const auto bits = generator({{static_cast<std::uint64_t>(j), step, static_cast<std::uint64_t>(i / 4), 0}}, {{1, 2}});
        sink += bits[0] ^ bits[1] ^ bits[2] ^ bits[3];
      }
    }
    benchmark::DoNotOptimize(sink);
  }
  state.counters["normals/s"] =
      benchmark::Counter(static_cast<double>(kRows * kParticles), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_PhiloxOnly)->Name("normals/philox_words_only");

void BM_PhiloxLanesOnly(benchmark::State& state) {
  std::uint64_t step = 0, sink = 0;
  constexpr Eigen::Index kBlocksPerParticle = kRows / 4;
  for (auto _ : state) {
    ++step;
    PhiloxLanes lanes;
    for (Eigen::Index first = 0; first < kParticles * kBlocksPerParticle; first += kPhiloxLanes) {
      for (int lane = 0; lane < kPhiloxLanes; ++lane) {
        const auto block = static_cast<std::uint64_t>(first + lane);
        lanes.word[0][lane] = block / kBlocksPerParticle, lanes.word[1][lane] = step;
        lanes.word[2][lane] = block % kBlocksPerParticle, lanes.word[3][lane] = 0;
      }
      philox4x64_lanes(1, 2, lanes, lanes);
      for (int lane = 0; lane < kPhiloxLanes; ++lane)
        sink += lanes.word[0][lane] ^ lanes.word[1][lane] ^ lanes.word[2][lane] ^ lanes.word[3][lane];
    }
    benchmark::DoNotOptimize(sink);
  }
  state.counters["normals/s"] =
      benchmark::Counter(static_cast<double>(kRows * kParticles), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_PhiloxLanesOnly)->Name("normals/philox_lanes_words_only");

}  // namespace
}  // namespace dmconv
