// Exact law propagation on Gaussian targets (estimator "gaussian_law"; docs/theory.md §6.1, §6.2).
//
// With p_data = N(mu, Sigma) and an affine score model (ScoreModel::is_affine()), every
// sampler step is affine in its inputs (Y_t, the multistep cache, the noise), so the output
// Y_stop is Gaussian. Its mean and covariance are computed exactly -- no Monte Carlo -- by
// probing the sampler itself through its inputs, and compared with the exact law
//
//   p_{X_stop} = N( sqrt(abar) mu, abar Sigma + (1 - abar) I ),   abar = grid.abar(stop).
//
// Initial law of Y_T: exact p_{X_T} (Initialisation::kExactMarginal) or N(0, I).
//
// Deterministic samplers (noise_injections() == 0), including the multistep ones whose cache
// makes Y_{t-1} depend on Y_{t+1}: Y_stop = c + F xi is affine in the standardised initial
// state xi (Y_T = m_T + L_T xi). The real run loop (run_block) is run on d + 1 probe
// particles Y_T = m_T and Y_T = m_T + lambda L_T e_i; then c = Y(0) and
// F e_i = (Y(lambda e_i) - Y(0)) / lambda. lambda = 2^20 (exact scaling): every rounding error
// in the probe columns is then relative to lambda |F e_i|, so the difference with c loses
// nothing (it would lose a factor |c| / |F e_i| at lambda = 1). Covariance F F^T.
//
// Stochastic samplers (noise_injections() = K > 0) must be Markov (they must not use
// SamplerState; checked, InvalidArgument otherwise). Each step is probed as
// Y' = A Y + b + sum_k N_k Z_k through Sampler::step on 1 + (K + 1) d columns (Y = 0; Y =
// lambda e_i; noise_k = lambda e_i), and the law is propagated exactly:
// m' = A m + b, S' = A S A^T + sum_k N_k N_k^T.
//
// Cost: deterministic O(T d^2 (d + 1)) plus the score's own cost per column; stochastic
// O(T (K + 1) d^3) per probe pass, i.e. O(K^2 d) for a step of K chained injections, which is
// why such steps (pmm_pc) go through the substep recursion (c) below, O(T K d^3). The probes are ordinary score evaluations, so they count towards the
// score model's NFE counter.
//
// Metrics (all method "gaussian_law"): "kl_target_output" = KL(p_X || p_Y),
// "kl_output_target" = KL(p_Y || p_X), "w2", "hellinger" (H^2), "tv" (exact for d <= 2,
// Monte Carlo with standard error above, problem.run.particles samples, seed and run of
// the problem). `floor` = round-off budget of the distance formula (and 2-D quadrature)
// plus the first-order effect of a relative error eps_prop = 8 (T + d) u in the propagated
// mean and covariance (u = 2^-52; the measured error is ~100x smaller, see the tests).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/estimator.hpp"
#include "estimators/gaussian_distances.hpp"

namespace dmconv::estimators {

// A one-component Target::gaussian_mixture() view (a Gaussian law), or nullptr.
const GaussianMixtureView* single_gaussian(const Target& target);

// p_t = N(sqrt(abar) mu, abar Sigma + (1 - abar) I) of a Gaussian target at `level`.
// Precondition (checked, InvalidArgument): single_gaussian(target) != nullptr.
GaussianLaw gaussian_marginal(const Target& target, const NoiseLevel& level);

// The law of Y_T for the problem's initialisation.
GaussianLaw gaussian_initial_law(const EstimationProblem& problem);

// The exact law of Y_stop when Y_from ~ `initial` (from_index > stop_index >= 0), for an
// affine score. Dispatches on sampler.is_deterministic() as described above.
GaussianLaw propagate_gaussian_law(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score,
                                   const GaussianLaw& initial, int from_index, int stop_index);

// The two propagation methods, exposed for tests and other estimators.
// (a) Whole-run affine probe with run_block (any deterministic sampler, multistep included).
GaussianLaw propagate_deterministic(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score,
                                    const GaussianLaw& initial, int from_index, int stop_index);
// (b) Step-by-step moment propagation (any Markov sampler, stochastic or deterministic).
//     Throws InvalidArgument if a step leaves state in SamplerState (multistep sampler).
GaussianLaw propagate_markov(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score,
                             const GaussianLaw& initial, int from_index, int stop_index);

// (c) Substep recursion (samplers whose steps are Sampler::stochastic_score_substeps): the
//     affine score s(y) = J y + r is probed once per level (d + 1 columns) and every substep
//     maps m' = M m + c r, S' = M (S + v_pre I) M^T + v_post I, M = a I + c J. Used instead of
//     (b) when some step injects more than one noise (pmm_pc's K Langevin iterations, where (b)
//     needs O(K^2 d) memory and time); agrees with (b) to round-off (tests).
GaussianLaw propagate_substeps(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score,
                               const GaussianLaw& initial, int from_index, int stop_index);

// The output law of Y_stop for the problem (initial law, grid.steps() -> run.stop_index).
GaussianLaw gaussian_output_law(const EstimationProblem& problem);

class GaussianLawEstimator final : public Estimator {
 public:
  std::string name() const override { return "gaussian_law"; }
  std::optional<std::string> unsupported_reason(const EstimationProblem& problem) const override;
  std::vector<Estimate> estimate(const EstimationProblem& problem) const override;
};

}  // namespace dmconv::estimators
