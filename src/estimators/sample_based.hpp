// Sample-based estimators with honest floors (issue 6): the sampler is run (run_sampler, any
// sampler, stochastic ones included) on n = problem.run.particles particles, and the samples
// Y_stop are compared with the EXACT law p_{X_stop} of the target at level stop_index. The
// exact law enters through closed forms available for Gaussian and Gaussian-mixture targets:
// every 1-D projection theta^T X_stop is a 1-D Gaussian mixture
//
//   theta^T X_stop ~ sum_k pi_k N( sqrt(a) theta^T mu_k,  a theta^T Sigma_k theta + (1 - a)|theta|^2 ),
//   a = abar(stop_index).
//
// (a) "w2_1d" (metric "w2", d = 1). With the order statistics y_(1) <= ... <= y_(n) and the exact
//     quantile function Q = F^{-1} (Boost.Math toms748 root finding on the exact mixture cdf,
//     bracketed by the component quantiles),
//       W2^2(F_n, F) = int_0^1 (F_n^{-1}(u) - Q(u))^2 du
//                    = E X^2 + (1/n) sum_i y_(i)^2 - 2 sum_i y_(i) [M(Q(i/n)) - M(Q((i-1)/n))],
//     where M(x) = int_{-inf}^x z dF(z) = sum_k pi_k (m_k Phi(z_k) - s_k phi(z_k)), z_k = (x - m_k)/s_k,
//     is the exact partial first moment: the integral over each quantile interval is done in
//     closed form (no quadrature error; round-off ~ n u max|y|^2). Reported value W2(F_n, F).
//     Kind kBiasedWithFloor. Bias: W2(F_n, F) >= 0 even when the sampler is exact, and
//     E W2^2(F_n, F) = O(1/n) for densities with light tails (Bobkov & Ledoux 2019, "One-dimensional
//     empirical measures, order statistics and Kantorovich transport distances", §5: for Gaussian
//     laws E W2^2 ~ log log n / n); so the reported W2 carries an O(n^{-1/2}) (up to log log n)
//     upward bias. `floor` = the same estimator applied to n EXACT samples of p_{X_stop}
//     (Target::sample, stream purpose kSampleEstimator index 0: independent of the run's streams),
//     i.e. one realisation of the W2 of an exact sample (the "oracle" run). Values at or below
//     ~ floor are indistinguishable from zero; above it, value^2 - floor^2 estimates W2^2.
//     Measured (p_{X_1} = N(0.5, ~0.25 I), 4 oracle replicates): n E W2^2 = 0.69, 0.52, 0.91 at
//     n = 1e3, 1e4, 1e5 (rms oracle W2 = 2.6e-2, 7.2e-3, 3.0e-3); sliced_w2, 64 directions:
//     n E SW2^2 = 0.77, 0.90, 1.07 (d = 2) and 0.87, 0.80, 0.99 (d = 8).
// (b) "sliced_w2" (metric "sliced_w2", any d). L unit directions theta_l (normals of stream
//     purpose kSampleEstimator index 1, particle index l, normalised; the same for output and
//     oracle), SW2^2 = (1/L) sum_l W2^2(theta_l^T Y sample, law of theta_l^T X_stop), each term by
//     (a). Value = sqrt(SW2^2); std_error = SE over directions, (sd_l / sqrt L) / (2 SW2) by the
//     delta method (the direction Monte Carlo only; the sample noise is covered by the floor).
//     Kind kBiasedWithFloor; bias as in (a), per direction; floor = oracle SW2 (same directions).
//     Parameter "directions" (L, default 64). A run split over MPI ranks (RunOptions::split) splits
//     the directions too, gathered in order: the same values as one process.
// (c) "mmd" (metric "mmd2", any d). Squared MMD with k(x, y) = exp(-|x - y|^2 / (2 h^2)):
//       MMD^2 = E k(Y, Y') - 2 E k(Y, X) + E k(X, X').
//     For X ~ N(m, C):  g(y) = E k(y, X) = det(I + C / h^2)^{-1/2} exp(-(y - m)^T (C + h^2 I)^{-1} (y - m) / 2)
//     (the Gaussian integral of exp(-|y-x|^2/(2h^2)) N(x; m, C) = (2 pi h^2)^{d/2} N(y; m, C + h^2 I)),
//     and for independent X ~ N(m1, C1), X' ~ N(m2, C2) the pair X - X' ~ N(m1 - m2, C1 + C2) gives
//     E k(X, X') = det(I + (C1 + C2)/h^2)^{-1/2} exp(-dm^T (C1 + C2 + h^2 I)^{-1} dm / 2); mixtures
//     sum these over components (pairs of components), weighted by pi_k (pi_k pi_l).
//     Estimator: the U-statistic with kernel H(y, y') = k(y, y') - g(y) - g(y') + E k(X, X'),
//       U = 1/(n(n-1)) sum_{i != j} k(y_i, y_j) - (2/n) sum_i g(y_i) + E k(X, X'),
//     UNBIASED for MMD^2 (kind kUnbiasedMonteCarlo; it can be negative when MMD^2 ~ 0; floor 0).
//     SE from the Hoeffding decomposition Var U = 4 (n-2)/(n(n-1)) zeta1 + 2/(n(n-1)) zeta2 with
//     zeta1 = Var H1(Y), H1(y) = E H(y, Y'), estimated by the sample variance of
//     H1_i = (1/(n-1)) sum_{j != i} k(y_i, y_j) - g(y_i) minus zeta2 / (n - 1) (the noise of the
//     leave-one-out means), and zeta2 = mean over pairs of H^2 - U^2. At MMD^2 = 0 the U-statistic
//     is degenerate (zeta1 = 0) and this SE is conservative (measured: rms of U on exact samples
//     0.4-0.9 x the SE; interval coverage ~1.00 instead of 0.95); away from 0 it is calibrated (tested). Cost O(n^2 d) (n = 1e4: ~4 s on one core).
//     Parameter "bandwidth" (h, default 1). Parameter "block" (B, default 0 = all pairs): the
//     block U-statistic, mean of the U-statistics of n/B consecutive blocks (unbiased; SE = sd over
//     blocks / sqrt(n/B); cost O(n B d), so n = 1e6 is reachable; variance ~ 1/(n B) at MMD = 0).
//
// All three: determinism for any thread count (per-particle counter-based streams, per-row
// sums in a fixed order, serial reductions). Runs with non-finite particles give value NaN.
// Supported targets: "gaussian" and "gaussian_mixture" (exact projected laws).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/estimator.hpp"

namespace dmconv::estimators {

// A 1-D Gaussian mixture sum_k w_k N(m_k, s_k^2).
struct Mixture1d {
  std::vector<double> weights, means, sds;
  double cdf(double x) const;
  double quantile(double u) const;  // Boost.Math toms748 on cdf, 0 < u < 1
  double partial_mean(double x) const;  // M(x) = int_{-inf}^x z dF(z)
  double second_moment() const;
};

// The exact law of theta^T X_t for Gaussian / Gaussian-mixture targets; nullopt otherwise.
std::optional<Mixture1d> projected_marginal(const Target& target, const NoiseLevel& level, const Vector& theta);

// W2^2 between the empirical law of `samples` and `law`, exact piecewise integration (see (a)).
// Not clamped: `rounding` (if given) receives the rounding margin of the result, within which a
// negative value means W2^2 = 0 to double precision.
double w2_squared_1d(std::vector<double> samples, const Mixture1d& law, int threads = 0, double* rounding = nullptr);

// The L unit directions of sliced W2 for run (seed, run) in dimension d (columns).
Matrix sliced_directions(std::uint64_t seed, std::uint64_t run, int d, int count);

// The sampler's n output particles Y_stop (run_sampler); `finite` is false when the run ended
// with a non-finite status or particles.
Matrix sampler_output(const EstimationProblem& problem, bool& finite);

// Marks an estimate whose sampler run ended with non-finite particles: value NaN, status
// kNonFinite, with the message.
void set_non_finite_output(Estimate& estimate);
// Exact samples of p_{X_stop} for the oracle floor: n columns, stream purpose kSampleEstimator index 0.
Matrix oracle_samples(const EstimationProblem& problem);
// n exact samples of p_{X_stop} under stream purpose kSampleEstimator, `index` (0 = oracle,
// 1 = sliced directions, 2 = the reference sample of ot_w2, 3 = rb_tv evaluation points).
Matrix exact_samples(const EstimationProblem& problem, std::uint64_t index);

// Squared MMD U-statistic of `samples` against a Gaussian/mixture target at `level`.
struct MmdResult {
  double value = 0.0, std_error = 0.0;
};
MmdResult mmd2_u_statistic(const Matrix& samples, const Target& target, const NoiseLevel& level, double bandwidth,
                           int threads = 0);

class W2OneDimEstimator final : public Estimator {
 public:
  std::string name() const override { return "w2_1d"; }
  std::optional<std::string> unsupported_reason(const EstimationProblem& problem) const override;
  std::vector<Estimate> estimate(const EstimationProblem& problem) const override;
  // The value of the estimator for given samples (1 x n): used for output and oracle alike.
  double value_for(const Matrix& samples, const EstimationProblem& problem) const;
};

class SlicedW2Estimator final : public Estimator {
 public:
  static constexpr int kDefaultDirections = 64;
  explicit SlicedW2Estimator(int directions = kDefaultDirections);
  std::string name() const override { return "sliced_w2"; }
  std::optional<std::string> unsupported_reason(const EstimationProblem& problem) const override;
  std::vector<Estimate> estimate(const EstimationProblem& problem) const override;
  // The sampler's run and the L directions (projection, sort and n exact quantiles each, for the
  // output and the oracle sample) are both split over ranks (RunOptions::split): what every rank
  // repeats is drawing the n exact oracle samples.
  bool cost_splits_over_ranks() const override { return true; }
  // Per-direction squared 1-D W2 of samples (d x n) against the exact projections.
  std::vector<double> squared_per_direction(const Matrix& samples, const EstimationProblem& problem) const;

 private:
  int directions_;
};

// Block (incomplete) U-statistic: the mean of the U-statistics of consecutive blocks of `block`
// particles (the last block takes the remainder), unbiased; SE = sd over blocks / sqrt(blocks).
// Cost O(n block d) instead of O(n^2 d): the way to n = 1e6. Precondition: n / block >= 2.
MmdResult mmd2_block_statistic(const Matrix& samples, const Target& target, const NoiseLevel& level, double bandwidth,
                               Eigen::Index block, int threads = 0);

class MmdEstimator final : public Estimator {
 public:
  // block = 0: all n(n-1) pairs; block >= 3: block U-statistic (mmd2_block_statistic).
  static constexpr double kDefaultBandwidth = 1.0;
  static constexpr long kDefaultBlock = 0;
  explicit MmdEstimator(double bandwidth = kDefaultBandwidth, long block = kDefaultBlock);
  std::string name() const override { return "mmd"; }
  std::optional<std::string> unsupported_reason(const EstimationProblem& problem) const override;
  std::vector<Estimate> estimate(const EstimationProblem& problem) const override;

 private:
  double bandwidth_;
  long block_;
};

}  // namespace dmconv::estimators
