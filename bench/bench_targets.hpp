// Targets shared by the benchmarks: the registry's 2-D example mixture (three full-covariance
// components), a 16-D isotropic mixture of four components (determinant-lemma path), and the
// problem of the peer comparison (bench/peers/README.md).
#pragma once
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "core/run_sampler.hpp"
#include "core/schedule.hpp"
#include "targets/registry.hpp"

namespace dmconv::bench {

inline std::unique_ptr<Target> mixture_16d() {
  const int d = 16, K = 4;
  ParamValue::List means;
  for (int k = 0; k < K; ++k) {
    std::vector<double> mean(d, 0.0);
    mean[static_cast<std::size_t>(k)] = 3.0;
    means.emplace_back(mean);
  }
  return target_registry().make("gaussian_mixture", {{"weights", std::vector<double>{0.4, 0.3, 0.2, 0.1}},
                                                     {"means", means},
                                                     {"variance", std::vector<double>{0.5, 0.3, 0.4, 0.6}}});
}

// The 2-D example mixture (d = 2) or mixture_16d (d = 16).
inline std::unique_ptr<Target> mixture(int dimension) {
  return dimension == 2 ? target_registry().make_example("gaussian_mixture") : mixture_16d();
}

// The peer-comparison problem (bench/peers/, issue 16 item 4), defined here once: the peers
// read it from `dmconv_peer_moments` (bench/peers/peer_moments.cpp). d = 16, K = 8 isotropic
// components: weight_k = (k + 1)/36, mean_k = 3 e_k, variance_k = 0.25 + 0.05 k (k = 0..7).
inline constexpr int kPeerDim = 16;
inline constexpr int kPeerComponents = 8;
inline constexpr Eigen::Index kPeerParticles = 100000;
inline constexpr int kPeerSteps = 100;

inline std::unique_ptr<Target> peer_mixture() {
  std::vector<double> weights, variances;
  ParamValue::List means;
  for (int k = 0; k < kPeerComponents; ++k) {
    weights.push_back((k + 1) / 36.0);
    variances.push_back(0.25 + 0.05 * k);
    std::vector<double> mean(kPeerDim, 0.0);
    mean[static_cast<std::size_t>(k)] = 3.0;
    means.emplace_back(mean);
  }
  return target_registry().make("gaussian_mixture",
                                {{"weights", weights}, {"means", means}, {"variance", variances}});
}

// The "linear" schedule with its defaults (beta 1e-4..0.02 over 1000 base steps), T = 100.
inline TimeGrid peer_grid() { return schedule_registry().make("linear", {})->grid(kPeerSteps); }

// Y_T drawn exactly from p_{X_T}, all T steps down to Y_0 (the data level), so the output is
// compared with the mixture itself. threads = 0: OMP_NUM_THREADS (the driver sets it).
inline RunOptions peer_run_options(std::uint64_t seed = 0) {
  RunOptions options;
  options.seed = seed;
  options.particles = kPeerParticles;
  options.initialisation = Initialisation::kExactMarginal;
  options.stop_index = 0;
  options.threads = 0;
  return options;
}

}  // namespace dmconv::bench

namespace dmconv::bench {

// FP64 peak of `cores` cores in GFLOP/s: DMCONV_PEAK_GFLOPS_PER_CORE when set, else
// 16 flops/cycle/core (two 256-bit FMA pipes, or one 512-bit: AVX-512 Zen 4 and Skylake-SP
// silver/gold-5xxx alike; Skylake-SP gold-6xxx has 32) times the clock /proc/cpuinfo reports.
// The counters derived from it are fractions of this nominal number, not of a measured one.
inline double peak_gflops(int cores) {
  if (const char* set = std::getenv("DMCONV_PEAK_GFLOPS_PER_CORE")) return cores * std::atof(set);
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  double mhz = 0.0;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("cpu MHz", 0) == 0) {
      mhz = std::atof(line.substr(line.find(':') + 1).c_str());
      break;
    }
  }
  return cores * 16.0 * mhz / 1000.0;
}

}  // namespace dmconv::bench
