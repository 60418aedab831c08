// Cost of the posterior likelihoods (src/posterior/likelihoods/) and of the proximal consistency
// sampler that calls them (src/posterior/pcs.hpp), on the configurations of the posterior studies
// (experiments/posterior_one_bit_1d.toml, posterior_one_bit_2d.toml,
// posterior_phase_retrieval_1d.toml: one_bit with d = 1 or 2, m = 16, sigma = 0.3, dither 0.5;
// phase_retrieval with d = 1, m = 3, sigma_y = 0.3).
//
//   likelihood/<kind>_d<d>_m<m>/nll_and_gradient   L and grad L of 4096 columns x ~ N(0, I_d) per
//                                                   iteration; items = columns, so 1e9 /
//                                                   items_per_second is ns per column;
//   likelihood/<kind>_d<d>_m<m>/pcs_metropolis      pcs_sample with MALA, eta = 0.3, 10 iterations on
//                                                   the same 4096 columns; items = particle-iterations.
//
// One thread (the experiments' runs split particles over threads the same way).
// `dmconv_bench --benchmark_filter=^likelihood/` runs only these.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "posterior/likelihood.hpp"
#include "posterior/pcs.hpp"

namespace dmconv {
namespace {

constexpr Eigen::Index kColumns = 4096;
constexpr int kPcsIterations = 10;

struct LikelihoodCase {
  std::string kind;
  ParamTable params;
  std::string label;
};

std::vector<LikelihoodCase> cases() {
  return {{"one_bit", {{"dim", 1}, {"observations", 16}, {"sigma", 0.3}, {"dither", 0.5}}, "one_bit_d1_m16"},
          {"one_bit", {{"dim", 2}, {"observations", 16}, {"sigma", 0.3}, {"dither", 0.5}}, "one_bit_d2_m16"},
          {"phase_retrieval", {{"dim", 1}, {"observations", 3}, {"sigma_y", 0.3}}, "phase_retrieval_d1_m3"}};
}

struct Problem {
  std::unique_ptr<Likelihood> likelihood;
  Vector y;
  Matrix x;
};

Problem make_problem(const LikelihoodCase& c) {
  Problem p;
  p.likelihood = likelihood_registry().make(c.kind, c.params);
  const int d = p.likelihood->dim();
  const RandomStreams streams(7, 0);
  p.y = p.likelihood->simulate(Vector::Ones(d), streams, StreamTag(StreamPurpose::kTest, 1));
  p.x.resize(d, kColumns);
  streams.fill_normals(0, StreamTag(StreamPurpose::kTest, 2), p.x);
  return p;
}

void BM_NllAndGradient(benchmark::State& state, const LikelihoodCase& c) {
  const Problem p = make_problem(c);
  Vector nll(kColumns);
  Matrix gradient(p.x.rows(), kColumns);
  for (auto _ : state) {
    p.likelihood->negative_log_likelihood_and_gradient(p.y, p.x, nll, gradient);
    benchmark::DoNotOptimize(nll.data());
    benchmark::DoNotOptimize(gradient.data());
  }
  state.SetItemsProcessed(state.iterations() * kColumns);
}

void BM_PcsMetropolis(benchmark::State& state, const LikelihoodCase& c) {
  const Problem p = make_problem(c);
  posterior::PcsOptions options;
  options.iterations = kPcsIterations;
  options.step_scale = 0.5;
  options.metropolis = true;
  options.noise_scale = 0.3;
  const RandomStreams streams(11, 0);
  Matrix out(p.x.rows(), kColumns);
  for (auto _ : state) {
    posterior::pcs_sample(*p.likelihood, p.y, 0.3, options, p.x, streams, 0, StreamTag(StreamPurpose::kTest, 3), out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kColumns * kPcsIterations);
}

const bool kRegistered = [] {
  for (const LikelihoodCase& c : cases()) {
    benchmark::RegisterBenchmark(("likelihood/" + c.label + "/nll_and_gradient").c_str(), BM_NllAndGradient, c);
    benchmark::RegisterBenchmark(("likelihood/" + c.label + "/pcs_metropolis").c_str(), BM_PcsMetropolis, c);
  }
  return true;
}();

}  // namespace
}  // namespace dmconv
