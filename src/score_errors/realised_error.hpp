// Realised score errors: what a score model's error actually is on a grid, measured by Monte
// Carlo on exact samples of p_t, not assumed from its parameters (docs/theory.md §3):
//
//   eps_score^2 = (1/T) sum_{t=1}^T E_{X_t ~ p_t} ||s_t(X_t) - s*_t(X_t)||_2^2
//   eps_Jacobi  = (1/T) sum_{t=1}^T E_{X_t ~ p_t} ||J_{s_t}(X_t) - J*_t(X_t)||_2     (spectral norm)
//
// Exactly the averages of §3 (2409.18959 §2 and eq. (3.2)): all grid levels t = 1..T, equally
// weighted. Samplers that stop at Y_1 evaluate s_t only at t = T..2 (and DPM-Solver-2 also
// between grid points); the t = 1 term is kept because §3 defines the average that way.
//
// Estimator: at every level t, N = samples_per_level exact samples X ~ p_t
// (target.sample, Philox key (seed, run), stream tag (kScoreErrorSample, t), particles 0..N-1,
// so the samples are disjoint from every sampler stream and from the sampler's initial state);
// per level the sample means m_t of ||delta||^2 and of ||J_s - J*||_2, with standard errors
// se_t = sd_t / sqrt(N). Levels are independent, so
//   Q = (1/T) sum_t m_t,  SE(Q) = sqrt(sum_t se_t^2) / T,
//   eps_score = sqrt(Q),  SE(eps_score) = SE(Q) / (2 sqrt(Q))   (delta method; 0 when Q = 0),
//   eps_Jacobi = (1/T) sum_t m_t^J,  SE = sqrt(sum_t (se_t^J)^2) / T.
// Jacobians come from the batched jacobian_apply of the model and score_jacobian_apply of
// the target on identity blocks; spectral norms are |.| for d = 1, the largest singular value
// of a JacobiSVD for d <= 8, sqrt of the largest eigenvalue of D^T D (SelfAdjointEigenSolver)
// above.
//
// Deterministic: work is split into fixed (level, block of 256 samples; fewer when d > 64) units whose
// statistics are combined in a fixed order (Chan et al. pairwise mean/variance update), so
// the result is bitwise identical for every thread count.
//
// Side effect: the model's evaluations are counted like any other (ScoreModel NFE counter);
// measure before or after a sampler run, not concurrently, if NFE is reported.
#pragma once
#include <cstdint>
#include <vector>

#include "core/score_model.hpp"
#include "core/target.hpp"
#include "core/time_grid.hpp"

namespace dmconv::score_errors {

struct RealisedError {
  double eps_score = 0.0;              // sqrt(Q)
  double eps_score_se = 0.0;           // delta method
  double mean_square_score = 0.0;      // Q = eps_score^2
  double mean_square_score_se = 0.0;
  double eps_jacobi = 0.0;             // NaN when the model has no Jacobian
  double eps_jacobi_se = 0.0;
  // Per level, index t - 1 for t = 1..T: E||delta_t||^2 and E||J_s - J*||_2, with SEs.
  std::vector<double> mean_square_score_per_level, mean_square_score_se_per_level;
  std::vector<double> jacobi_per_level, jacobi_se_per_level;
  Eigen::Index samples_per_level = 0;
};

// Preconditions (checked, InvalidArgument): score.dim() == target.dim(), grid.steps() >= 1,
// samples_per_level >= 2, threads >= 0 (0 = OpenMP default).
RealisedError measure_score_error(const Target& target, const ScoreModel& score, const TimeGrid& grid,
                                  Eigen::Index samples_per_level, std::uint64_t seed, std::uint64_t run,
                                  int threads = 0);

// ||A||_2 as used above (exposed for tests).
double spectral_norm(const Matrix& a);

}  // namespace dmconv::score_errors
