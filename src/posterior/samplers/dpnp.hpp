// Diffusion plug-and-play (DPnP; Xu & Chi, arXiv 2403.17042; docs/theory.md §4.7): alternate the
// proximal consistency sampler (PCS, likelihood only) and the denoising diffusion sampler (DDS,
// prior scores only) at annealing levels eta_k:
//
//   order pcs_then_dds ("DDIM variant"):  z_k = PCS(x_k; eta_k),  x_{k+1} = DDS(z_k; eta_k),  output x_K
//   order dds_then_pcs ("DDPM variant"):  x_{k+1} = DDS(z_k; eta_k),  z_{k+1} = PCS(x_{k+1}; eta_k),
//                                         output x_K (the last DDS), z_0 = the initial point
//   eta_k = eta_max for k < k_start, then K - k_start values geometric from eta_max to eta_min
//   (eta_min = eta_max: constant eta, the chain whose stationary law is pi_eta)
//
// inner = "diffusion": PCS is the Langevin sampler of posterior/pcs.hpp and DDS the DDS-DDIM or
// DDS-DDPM map of posterior/dds.hpp on the prior score (exact or perturbed: score errors apply);
// inner = "exact" (dpnp_gibbs): both are exact conditional draws (posterior/exact_laws.hpp:
// Gaussian-mixture prior, linear-Gaussian likelihood), the two-block Gibbs sampler of
// pi(x, z) ∝ p_data(x) N(z; x, eta^2 I) e^{-L(z; y)} that separates the chain's error from the
// inner samplers'. With a Gaussian prior its law is Gaussian at every k (exact_gibbs_chain).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "posterior/pcs.hpp"
#include "posterior/posterior_sampler.hpp"

namespace dmconv::posterior {

class DpnpSampler final : public PosteriorSampler {
 public:
  enum class Order { kPcsThenDds, kDdsThenPcs };
  enum class Inner { kDiffusion, kExact };
  enum class Dds { kDdim, kDdpm };
  enum class Start { kStandardNormal, kPrior };
  struct Options {
    std::string name = "dpnp_ddim";
    Order order = Order::kPcsThenDds;
    Inner inner = Inner::kDiffusion;
    Dds dds = Dds::kDdim;
    Start start = Start::kStandardNormal;
    double eta_max = 0.4;
    double eta_min = 0.4;
    int k_start = 0;
    int dds_levels = 100;
    PcsOptions pcs;
  };
  explicit DpnpSampler(Options options);

  std::string name() const override { return options_.name; }
  std::string steps_meaning() const override { return "outer iterations K"; }
  std::optional<double> stationary_eta() const override;
  std::optional<std::string> unsupported_reason(const PosteriorProblem& problem) const override;
  void sample(const PosteriorProblem& problem, int steps, const TimeGrid* grid, const RandomStreams& streams,
              std::uint64_t first_particle, MatrixRef out) const override;
  double score_evaluations(int steps) const override;
  std::optional<GaussianLaw> output_law(const PosteriorProblem& problem, int steps) const override;

  // eta_0, ..., eta_{K-1} for K outer iterations.
  std::vector<double> etas(int steps) const;
  const Options& options() const { return options_; }

 private:
  Options options_;
};

}  // namespace dmconv::posterior
