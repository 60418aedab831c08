// dmconv_peer_moments: the peer-comparison problem (bench/peers/README.md) as JSON, and the
// moments of dmconv's own output on it, for bench/peers/run_peers.py.
//
// Prints one JSON object:
//   problem   dim, weights, means (K rows), variances (isotropic), the time grid (name, T,
//             log_abar[t] for t = 0..T with 17 significant digits), particles, how Y_T is drawn
//             and where the run stops: everything the peers need, defined once in
//             bench/bench_targets.hpp
//   samplers  for ddim and ddpm: per coordinate the sample mean and the sample second moment
//             E[x_i^2] of Y_0, each with its standard error (sample sd / sqrt(n)), and the
//             wall time of the run
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_targets.hpp"
#include "samplers/registry.hpp"
#include "targets/gaussian_mixture.hpp"

namespace {

void print_array(const char* key, const std::vector<double>& values, const char* indent) {
  std::printf("%s\"%s\": [", indent, key);
  for (std::size_t i = 0; i < values.size(); ++i) std::printf("%s%.17g", i ? ", " : "", values[i]);
  std::printf("]");
}

std::vector<double> to_std(const dmconv::Vector& v) { return {v.data(), v.data() + v.size()}; }

}  // namespace

int main(int argc, char** argv) {
  using namespace dmconv;
  CLI::App app{"dmconv_peer_moments: the peer-comparison problem and dmconv's output moments, as JSON"};
  long particles = bench::kPeerParticles;
  std::uint64_t seed = 0;
  app.add_option("--particles", particles, "particles per sampler")->check(CLI::PositiveNumber);
  app.add_option("--seed", seed, "seed of dmconv's Philox streams");
  CLI11_PARSE(app, argc, argv);

  const auto target = bench::peer_mixture();
  const auto* mixture = dynamic_cast<const GaussianMixtureTarget*>(target.get());
  if (mixture == nullptr) return 1;
  const TimeGrid grid = bench::peer_grid();
  RunOptions options = bench::peer_run_options(seed);
  options.particles = particles;

  std::printf("{\n  \"problem\": {\n");
  std::printf("    \"dim\": %d,\n", target->dim());
  print_array("weights", mixture->weights(), "    ");
  std::printf(",\n    \"means\": [");
  std::vector<double> variances;
  for (std::size_t k = 0; k < mixture->components().size(); ++k) {
    const GaussianComponent& component = mixture->components()[k];
    std::printf("%s\n      [", k ? "," : "");
    for (Eigen::Index i = 0; i < component.mean().size(); ++i)
      std::printf("%s%.17g", i ? ", " : "", component.mean()(i));
    std::printf("]");
    variances.push_back(component.covariance()(0, 0));  // isotropic: variance * I
  }
  std::printf("],\n");
  print_array("variances", variances, "    ");
  std::printf(",\n    \"schedule\": \"%s\",\n    \"steps\": %d,\n", grid.name().c_str(), grid.steps());
  std::vector<double> log_abar;
  for (int t = 0; t <= grid.steps(); ++t) log_abar.push_back(grid.level(t).log_abar());
  print_array("log_abar", log_abar, "    ");
  std::printf(",\n    \"particles\": %ld,\n    \"initialisation\": \"exact_marginal\",\n    \"stop_index\": %d\n  },\n",
              particles, options.stop_index);

  std::printf("  \"samplers\": {");
  const ExactScore score(*target);
  bool first = true;
  for (const char* name : {"ddim", "ddpm"}) {
    const auto sampler = sampler_registry().make(name, {});
    const RunResult result = run_sampler(*sampler, grid, score, *target, options);
    const Matrix& x = result.samples;  // d x n
    const double n = static_cast<double>(x.cols());
    const Vector mean = x.rowwise().mean();
    const Matrix squares = x.array().square().matrix();
    const Vector second = squares.rowwise().mean();
    // Unbiased sample variances of x_i and of x_i^2.
    const Vector var_x = ((x.colwise() - mean).array().square().rowwise().sum() / (n - 1.0)).matrix();
    const Vector var_sq = ((squares.colwise() - second).array().square().rowwise().sum() / (n - 1.0)).matrix();
    std::printf("%s\n    \"%s\": {\n      \"status\": \"%s\",\n      \"seconds\": %.6g,\n", first ? "" : ",", name,
                to_string(result.status).c_str(), result.wall_seconds);
    print_array("mean", to_std(mean), "      ");
    std::printf(",\n");
    print_array("mean_se", to_std((var_x / n).cwiseSqrt()), "      ");
    std::printf(",\n");
    print_array("second", to_std(second), "      ");
    std::printf(",\n");
    print_array("second_se", to_std((var_sq / n).cwiseSqrt()), "      ");
    std::printf("\n    }");
    first = false;
  }
  std::printf("\n  }\n}\n");
  return 0;
}
