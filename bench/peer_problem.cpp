// peers/ddim and peers/ddpm: dmconv on the problem of the peer comparison (bench/peers/,
// `make bench-peers`): the 16-D, 8-component mixture of bench::peer_mixture, exact score,
// linear schedule with T = 100, n = 1e5 particles, Y_T exact, all T steps to Y_0. Threads:
// OMP_NUM_THREADS (reported as the counter "threads"). Counters report particle_steps/s, the
// same quantity bench/peers/run_peers.py measures for the PyTorch and NumPy peers.
#include <benchmark/benchmark.h>

#include "bench_targets.hpp"
#include "core/parallel.hpp"
#include "core/run_sampler.hpp"
#include "samplers/registry.hpp"

namespace dmconv {
namespace {

void BM_Peer(benchmark::State& state, const std::string& sampler_name) {
  const auto target = bench::peer_mixture();
  const auto sampler = sampler_registry().make(sampler_name, {});
  const TimeGrid grid = bench::peer_grid();
  const ExactScore score(*target);
  const RunOptions options = bench::peer_run_options();
  for (auto _ : state) {
    const RunResult result = run_sampler(*sampler, grid, score, *target, options);
    benchmark::DoNotOptimize(result.samples.data());
  }
  // stop_index = 0: every one of the T steps is taken.
  state.counters["particle_steps/s"] = benchmark::Counter(
      static_cast<double>(options.particles) * grid.steps(), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = resolve_threads(options.threads);
}

const int registered = [] {
  for (const char* name : {"ddim", "ddpm"}) {
    benchmark::RegisterBenchmark((std::string("peers/") + name).c_str(), BM_Peer, std::string(name))
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  return 0;
}();

}  // namespace
}  // namespace dmconv
