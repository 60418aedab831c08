// The Gaussian-mixture score kernel (targets/mixture_score_kernel.hpp) alone, one thread:
// particles per second, GFLOP/s at the kernel's stated flop count (8 d K + 4 K per particle for
// isotropic components) and the fraction of one core's FP64 peak (bench_targets.hpp), over
// d = 1 ... 1024 and K = 1 ... 64 (random_mixture: isotropic, radius 3, variance 0.5, level
// abar = 0.5). `dmconv_bench --benchmark_filter=score/` runs only these; plots/plot_bench_scaling.py
// draws time per particle against d K from their JSON output.
#include <benchmark/benchmark.h>

#include "bench_targets.hpp"
#include "core/noise_level.hpp"
#include "core/rng.hpp"
#include "targets/gaussian_mixture.hpp"

namespace dmconv {
namespace {

constexpr Eigen::Index kParticles = 4096;

void BM_MixtureScore(benchmark::State& state) {
  const auto d = static_cast<int>(state.range(0)), K = static_cast<int>(state.range(1));
  const auto target = target_registry().make(
      "random_mixture", {{"dim", d}, {"components", K}, {"radius", 3.0}, {"variance", 0.5}, {"seed", 1}});
  const auto& mixture = dynamic_cast<const GaussianMixtureTarget&>(*target);
  const NoiseLevel level = NoiseLevel::from_abar(0.5);
  Matrix x(d, kParticles), score(d, kParticles);
  target->sample(level, RandomStreams(3, 0), 0, StreamTag(StreamPurpose::kTest, 0), x);
  for (auto _ : state) {
    mixture.score(level, x, score);
    benchmark::DoNotOptimize(score.data());
  }
  const double flops = mixture.score_flops_per_particle(level) * static_cast<double>(kParticles);
  state.counters["particles/s"] =
      benchmark::Counter(static_cast<double>(kParticles), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_fraction"] =
      benchmark::Counter(flops * 1e-9 / bench::peak_gflops(1), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["dK"] = static_cast<double>(d) * K;
}

const int registered = [] {
  for (int d : {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})
    benchmark::RegisterBenchmark(("score/mixture/K8/d" + std::to_string(d)).c_str(), BM_MixtureScore)->Args({d, 8});
  for (int K : {1, 2, 4, 8, 16, 32, 64})
    benchmark::RegisterBenchmark(("score/mixture/d16/K" + std::to_string(K)).c_str(), BM_MixtureScore)->Args({16, K});
  return 0;
}();

}  // namespace
}  // namespace dmconv
