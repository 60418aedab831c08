// Cost of the Student t target's score (targets/student_t.hpp): score evaluations per second on
// 4096 exact samples of p_t, one batched call per iteration (the per-level table is rebuilt in
// every call, as in a sampler step), for nu = 1, 2.5, 5 (first argument: 10 nu) and three
// levels (second argument: 0 -> 1 - abar = 1e-4, 1 -> abar = 0.5, 2 -> abar = 1e-4).
// `dmconv_bench --benchmark_filter=student_t` runs only these; 1e9 / items_per_second is the
// cost in ns per evaluation.
#include <benchmark/benchmark.h>

#include "core/noise_level.hpp"
#include "targets/student_t.hpp"

namespace dmconv {
namespace {

void BM_StudentTScore(benchmark::State& state) {
  const double nu = static_cast<double>(state.range(0)) / 10.0;
  const NoiseLevel levels[] = {NoiseLevel::from_one_minus_abar(1e-4), NoiseLevel(0.5, 0.5), NoiseLevel::from_abar(1e-4)};
  const NoiseLevel level = levels[state.range(1)];
  const StudentTTarget target(nu, 1.0);
  constexpr Eigen::Index n = 4096;
  const Matrix x = target.sample(level, RandomStreams(1, 2), 0, n, StreamTag(StreamPurpose::kTest, 1));
  Matrix out(1, n);
  for (auto _ : state) {
    target.score(level, x, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_StudentTScore)->Name("target/student_t_score")->ArgsProduct({{10, 25, 50}, {0, 1, 2}});

}  // namespace
}  // namespace dmconv
