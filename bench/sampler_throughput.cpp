// Particle-steps per second of every registered sampler on the example 2-D mixture and on a
// 16-D isotropic mixture, exact scores, theory schedule. `dmconv_bench --benchmark_list_tests`
// lists the cases; counters report particle_steps/s and, for these mixture targets, the score
// kernel's GFLOP/s (score evaluations x targets/mixture_score_kernel.hpp's flop count per
// particle, at the middle level of the grid) and its fraction of the nominal FP64 peak of the
// threads used (bench_targets.hpp).
#include <benchmark/benchmark.h>

#include "bench_targets.hpp"
#include "core/run_sampler.hpp"
#include "core/schedule.hpp"
#include "core/parallel.hpp"
#include "samplers/registry.hpp"
#include "targets/gaussian_mixture.hpp"

namespace dmconv {
namespace {

void BM_Sampler(benchmark::State& state, const std::string& sampler_name, int dimension) {
  const auto target = bench::mixture(dimension);
  const auto sampler = sampler_registry().make(sampler_name, {});
  const TimeGrid grid = schedule_registry().make("theory", {})->grid(64);
  const ExactScore score(*target);
  RunOptions options;
  options.particles = 1 << 14;
  for (auto _ : state) {
    const RunResult result = run_sampler(*sampler, grid, score, *target, options);
    benchmark::DoNotOptimize(result.samples.data());
  }
  state.counters["particle_steps/s"] = benchmark::Counter(
      static_cast<double>(options.particles) * (grid.steps() - 1), benchmark::Counter::kIsIterationInvariantRate);
  const auto& mixture = dynamic_cast<const GaussianMixtureTarget&>(*target);
  const double flops = declared_nfe(*sampler, grid, grid.steps(), options.stop_index) *
                       static_cast<double>(options.particles) *
                       mixture.score_flops_per_particle(grid.level(grid.steps() / 2));
  state.counters["score_GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["score_peak_fraction"] = benchmark::Counter(
      flops * 1e-9 / bench::peak_gflops(resolve_threads(options.threads)), benchmark::Counter::kIsIterationInvariantRate);
}

const int registered = [] {
  for (const auto& entry : sampler_registry().entries()) {
    for (int d : {2, 16}) {
      benchmark::RegisterBenchmark(("sampler/" + entry.name + "/d" + std::to_string(d)).c_str(), BM_Sampler,
                                   entry.name, d)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
  return 0;
}();

}  // namespace
}  // namespace dmconv
