// Standard normals per second from RandomStreams::fill_normals (Philox4x64-10, then Box-Muller
// with SLEEF's vectorised log and sincospi), one thread, against the scalar transform it
// replaced (r123::boxmuller: libm log and sincos, one pair at a time) on the same Philox words.
#include <benchmark/benchmark.h>

#include <Random123/boxmuller.hpp>
#include <Random123/philox.h>

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

}  // namespace
}  // namespace dmconv
