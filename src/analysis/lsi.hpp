// Log-Sobolev tools for the noised marginals p_t (docs/theory.md §5.6 "LSI claim" and "Langevin
// consequences", §7 claims 13-14).
//
// Convention (as in docs/theory.md §5.6): p satisfies LSI(lambda) when for all smooth f
//
//   Ent_p(f^2) <= (2/lambda) E_p |grad f|^2,     Ent_p(g) = E_p g log g - E_p g log E_p g,
//
// so N(m, v I) has lambda = 1/v, and Poincare PI(lambda_P): Var_p f <= (1/lambda_P) E_p |grad f|^2.
// Always lambda_LSI <= lambda_P (linearise f = 1 + eps g).
//
// 1. Bakry-Emery (Bakry & Emery 1985; Bakry, Gentil, Ledoux, "Analysis and Geometry of Markov
//    Diffusion Operators", Cor. 5.7.2): if -grad^2 log p >= kappa I with kappa > 0, then
//    LSI(kappa). Here -grad^2 log p_t = -J*_t (Target::score_jacobian), so
//      kappa_t = inf_x lambda_min(-J*_t(x)).
//    Computed by a global search (multi-start local minimisation, see bakry_emery_bound);
//    closed form for Gaussian targets, kappa = 1/lambda_max(a Sigma + (1-a) I).
//    DERIVED analytic bound (docs/theory.md §5.6, Tweedie: -grad^2 log p_tau = I/s^2 - a Cov(X_0|x)/s^4,
//    s^2 = 1 - a, a = e^{-2 tau}): if |X_0| <= R then
//      kappa >= (1 - a (1 + R^2)) / (1 - a)^2       (uniform_box: R = A sqrt(d); sphere: R = r).
//    kappa <= 0 makes the Bakry-Emery bound vacuous (p_t may still satisfy an LSI).
//
// 2. 1-D spectral constants (d = 1), on a truncated interval [L, U] with N cells of width
//    h = (U - L)/N, centres x_i: finite-volume discretisation of the Dirichlet form
//      E(f) = int f'^2 p dx  ~  sum_i c_{i+1/2} (f_{i+1} - f_i)^2,  c_{i+1/2} = p(x_i + h/2)/(h Z),
//      pi_i = p(x_i) h / Z  (Z = sum_j p(x_j) h, the discrete probability measure),
//    i.e. K f = lambda M f with K the weighted graph Laplacian (reflecting ends), M = diag(pi).
//    Symmetrised, A = M^{-1/2} K M^{-1/2} is symmetric tridiagonal with entries O(1/h^2) formed
//    in log space (no underflow in the tails), eigenvalue 0 with eigenvector sqrt(pi).
//    * Poincare: lambda_P(N) = second-smallest eigenvalue of A (Eigen SelfAdjointEigenSolver::
//      computeFromTridiagonal). Second order in h for smooth p. Absolute eigenvalue accuracy
//      ~ 1e-15 ||A|| ~ 1e-15 * 4/h^2: values below ~1e-9 (deep double wells) are not resolved.
//    * log-Sobolev: lambda_LSI(N) = min(lambda_P(N), min_f 2 E(f) / Ent_pi(f^2)) over grid
//      functions f = exp(u/2), u = sum_{k=1..m} a_k phi_k / sqrt(lambda_k/lambda_1) in the span of
//      the first m non-constant eigenvectors phi_k of (K, M) (sup-normalised; the scaling is a
//      preconditioner; phi_k = v_k / sqrt(pi) is used only where pi_i >= 1e-16 max pi, since the
//      QR eigenvectors v_k have absolute accuracy ~1e-16, and continued flat beyond), minimised over a in R^m by L-BFGS (memory 8) with an Armijo backtracking
//      line search and the exact gradient, from a = beta e_1 for two beta. The ratio of any f
//      is an upper bound of the discrete constant; the min with lambda_P covers the linearised
//      limit f -> 1 (attained by Gaussians, whose ratio is flat along exp(a x)). Convergence: the
//      iteration stops when the relative decrease over 10 iterations is < 1e-12 or at
//      max_iterations (reported). The mode truncation is measured as |value(m) - value(m/2)|.
//    Measured (tests/analysis/lsi_test.cpp): lambda_P and lambda_LSI converge at order 4 on
//    Gaussians (the h^2 term cancels) and order 2 on a two-component mixture. The ratio is
//    formed with Ent = S sum pi phi(f^2/S), phi(r) = r log r - r + 1 >= 0, so it stays accurate as
//    f -> constant (otherwise the minimiser exploits rounding in Ent and returns ~0).
//    Error budget of either constant: |value(N) - value(N/2)| (grid) + |value(m) - value(m/2)|
//    (LSI only) + the mass of p outside [L, U] times the value (a heuristic bound of the
//    truncation effect; reported separately too).
//
// 3. Langevin decay towards p_t (dY = s*_t(Y) du + sqrt(2) dB; docs/theory.md §5.6: KL(law Y_u || p_t)
//    <= e^{-2 lambda_LSI u} KL(law Y_0 || p_t), W2 <= sqrt(2 KL / lambda) by Talagrand).
//    (a) d = 1, Fokker-Planck on the grid: rho = pi h, dh/du = -M^{-1} K h (the generator
//        L h = h'' + (log p)' h' in weak form), solved exactly in time by the eigen-decomposition
//        of A: M^{1/2} h(u) = V exp(-Lambda u) V^T M^{1/2} h(0). KL_u = sum_i rho_i log h_i.
//        Rate: weighted log-linear least squares of log KL on u over the window where
//        KL in [kl_min, kl_max] (stated in the result). The asymptotic rate is 2 lambda_P
//        (the slowest mode excited; it is 2 lambda for Gaussians, where lambda_P = lambda_LSI,
//        PROVIDED the initial law excites the first mode: a mean mismatch; a centred Gaussian
//        start on a centred Gaussian target decays at 4 lambda).
//    (b) d >= 1, Monte Carlo: ULA Y_{k+1} = Y_k + h s*_t(Y_k) + sqrt(2h) xi_k from n particles of
//        N(0, I); at each requested time, W2 to n exact samples of p_t by exact optimal transport
//        (estimators::exact_w2_squared), with the floor W2 of two independent exact samples.
//        The ULA bias is O(h) in W2 for smooth scores; keep h small.
//
// Preconditions are checked (InvalidArgument naming the option and the rule); nothing is
// silently clamped.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/noise_level.hpp"
#include "core/target.hpp"
#include "core/types.hpp"

namespace dmconv {

// ---------------------------------------------------------------------------------------------
// 1. Bakry-Emery bound.

struct BakryEmeryOptions {
  int sample_starts = 32;            // starts drawn as exact samples of p_t (>= 0)
  std::uint64_t seed = 20260401;     // RandomStreams(seed, 0), purpose kTest, index 0x15b1
  int max_iterations = 200;          // per local search (>= 1)
  double gradient_step = 1e-5;       // central-difference step (relative to 1 + |x_i|) for
                                     // d lambda_min / dx_i = v^T (dJ/dx_i) v
  double tolerance = 1e-12;          // stop when the value changes by < tolerance (1 + |kappa|)
  double agreement = 1e-6;           // a start "reached the best" when within agreement (1 + |best|)
  std::optional<double> support_radius;  // R with |X_0| <= R; overrides the target's own R
  // Throws InvalidArgument naming the violated rule.
  void validate() const;
};

struct BakryEmeryBound {
  enum class Status {
    kClosedForm,  // Gaussian target: kappa exact, kappa > 0 (always for a Gaussian)
    kPositive,    // global search found kappa > 0: an LSI(kappa) lower bound, IF the search
                  // found the global infimum (see starts_at_best)
    kVacuous,     // kappa <= 0: Bakry-Emery gives no LSI bound at this level
  };
  Status status = Status::kVacuous;
  std::string message;
  double kappa = 0.0;       // inf_x lambda_min(-J*_t(x)) (global search: the best value found)
  Vector minimiser;         // where it was found
  int starts = 0;           // local searches run
  int starts_at_best = 0;   // of them, how many ended within `agreement` of kappa (confidence)
  // The DERIVED bound (1 - a (1+R^2)) / (1-a)^2 of docs/theory.md §5.6 when R is known (options or target:
  // uniform_box A sqrt(d), sphere r, product of uniform_box factors A sqrt(d)); may be <= 0.
  std::optional<double> support_radius;
  std::optional<double> analytic_bound;
};

// kappa_t = inf_x lambda_min(-J*_t(x)) for any target.
// Method: Gaussian targets (a one-component Target::gaussian_mixture() view): closed form.
// Otherwise local descent from every start: the origin, the scaled component means sqrt(a) mu_k
// (targets with a Gaussian-mixture view), and `sample_starts` exact samples
// of p_t; each local search is gradient descent on f(x) = lambda_min(-J(x)) with the gradient
// g_i = -v^T (J(x + h e_i) - J(x - h e_i)) v / (2h) (v the unit eigenvector of lambda_min; exact
// where lambda_min is simple, Hellmann-Feynman) and a backtracking step (halve until f decreases,
// double after success). Cost per iteration: one batched score_jacobian_apply at the 2 d
// displaced points (direction v), one dense Jacobian and d x d eigen-solve per trial point. Starts
// run in parallel (OpenMP) and are reduced in start order: the same bits for every thread count.
// Precondition: options valid, level not the data level (J* undefined at sigma = 0 for
// non-smooth laws).
BakryEmeryBound bakry_emery_bound(const Target& target, const NoiseLevel& level,
                                  const BakryEmeryOptions& options = {});
std::string to_string(BakryEmeryBound::Status status);

// T1*(threshold): the forward time at which the Bakry-Emery bound of the target reaches
// `threshold` (e.g. 1 - delta = 0.9), by bisection on [lo, hi] with `halvings` steps; the bound
// is assumed to increase with T1 (true for the DERIVED bound; checked on every family of the
// former bench program, now experiments/claim14_lsi_*). Returns the upper end of the final
// bracket and the bound there; t1 = hi when the bound never fell short of the threshold inside [lo, hi], and the bound at hi is then below
// the threshold only if it never reaches it (status reached = false).
// Preconditions: 0 < lo < hi, halvings >= 1.
struct BakryEmeryTime {
  double t1 = 0.0;
  double bracket = 0.0;   // width of the final bracket
  bool reached = false;   // the bound at t1 is >= threshold
  BakryEmeryBound at;     // the Bakry-Emery bound at t1
};
BakryEmeryTime bakry_emery_time(const Target& target, double threshold, double lo, double hi, int halvings,
                                const BakryEmeryOptions& options = {});

// The DERIVED sufficient time (1/2) ln((1 + R^2) / delta) for |X_0| <= R (docs/theory.md §5.6).
double support_radius_time(double support_radius, double delta);

// The DERIVED bound (1 - a (1 + R^2)) / (1 - a)^2 at a = level.abar() (docs/theory.md §5.6).
// Precondition: R >= 0, level.one_minus_abar() > 0.
double support_radius_lsi_bound(const NoiseLevel& level, double support_radius);

// R with |X_0| <= R where the target knows it (Target::support_radius(): uniform_box, sphere,
// products of such 1-D factors), else nullopt.
std::optional<double> known_support_radius(const Target& target);

// ---------------------------------------------------------------------------------------------
// 2. 1-D spectral constants.

struct SpectralOptions {
  int cells = 1024;                  // N (>= 16, even: the budget also solves N/2)
  std::optional<double> lower;       // interval [lower, upper]; default mean -+ 12 sd from the
  std::optional<double> upper;       // target's moments at the level, else from exact samples
  int modes = 16;                    // m for the LSI minimisation (>= 2, even, < N/2)
  int max_iterations = 400;          // L-BFGS iterations per start
  void validate() const;
};

struct SpectralConstant {
  double value = 0.0;             // at N cells (and m modes)
  double coarse_value = 0.0;      // at N/2 cells
  double refinement_error = 0.0;  // |value - coarse_value|
  double mode_error = 0.0;        // LSI: |value(m) - value(m/2)| at N cells (0 for Poincare)
  double truncation_mass = 0.0;   // p_t mass outside [lower, upper]
  double error_budget = 0.0;      // refinement_error + mode_error + truncation_mass * value
  int iterations = 0;             // LSI: L-BFGS iterations of the best start (0 for Poincare)
  bool converged = true;          // LSI: the best start met the stopping rule
};

struct SpectralConstants {
  double lower = 0.0;
  double upper = 0.0;
  int cells = 0;
  SpectralConstant poincare;
  SpectralConstant log_sobolev;
};

// Poincare and log-Sobolev constants of p_t for a 1-D target (method and budget: header
// comment, item 2). Precondition: target.dim() == 1, options valid, lower < upper.
SpectralConstants spectral_constants_1d(const Target& target, const NoiseLevel& level,
                                        const SpectralOptions& options = {});

// The same at one resolution, without the refinement (exposed for convergence studies):
// {lambda_P(N), lambda_LSI(N, m)}; modes = 0: Poincare only (eigenvalues only, O(N^2); LSI NaN).
struct GridConstants {
  double poincare = 0.0;
  double log_sobolev = 0.0;
  int iterations = 0;
  bool converged = true;
};
GridConstants grid_constants_1d(const Target& target, const NoiseLevel& level, double lower,
                                double upper, int cells, int modes, int max_iterations = 400);

// The eigen-decomposition of the symmetric tridiagonal matrix A with the given diagonal and
// sub-diagonal, by Eigen's implicit QL iteration on A itself or on P A P (P the order flip, same
// eigenvalues, eigenvectors mapped back by P). The grid solves try the given order, then the
// reversed one: the iteration can stall on one order under some roundings alone
// (tests/analysis/stalling_tridiagonal.hpp). values increase; vectors holds unit eigenvectors
// as columns when asked for; converged = false (values, vectors empty) when the iteration failed.
enum class TridiagonalOrder { kAsGiven, kReversed };
struct TridiagonalSpectrum {
  bool converged = false;
  Vector values;
  Matrix vectors;
};
TridiagonalSpectrum tridiagonal_spectrum(const Vector& diagonal, const Vector& subdiagonal, bool vectors,
                                         TridiagonalOrder order);

// ---------------------------------------------------------------------------------------------
// 3(a). 1-D Fokker-Planck KL decay.

struct KlDecayOptions {
  SpectralOptions grid;                  // cells, interval (modes unused)
  double initial_mean = 0.0;             // Y_0 ~ N(initial_mean, initial_variance)
  double initial_variance = 1.0;
  std::vector<double> times;             // u values (>= 0, increasing); default 0, 0.25, ..., 20
  double kl_min = 1e-10;                 // fit window on KL (the values, not u)
  double kl_max = 1e-2;
  void validate() const;
};

struct KlDecay {
  std::vector<double> times;
  std::vector<double> kl;         // KL(rho_u || p_t) on the grid (discrete measures)
  double rate = 0.0;              // r in KL ~ C e^{-r u}, fitted on the window
  double rate_se = 0.0;           // standard error from the residuals (0 for an exact exponential)
  double window_low = 0.0;        // u-range of the points used
  double window_high = 0.0;
  int points_used = 0;
  std::string message;            // the window, or why the fit failed (rate = NaN)
};

// Precondition: target.dim() == 1, options valid.
KlDecay langevin_kl_decay_1d(const Target& target, const NoiseLevel& level, const KlDecayOptions& options);

// ---------------------------------------------------------------------------------------------
// 3(b). ULA W2 decay (any d).

struct UlaW2Options {
  int particles = 500;                 // n (>= 2); exact OT costs ~ n^2.3
  double step = 1e-2;                  // h > 0
  std::vector<double> times;           // u values >= 0, increasing (rounded to multiples of h)
  std::uint64_t seed = 20260402;
  void validate() const;
};

struct UlaW2Point {
  double time = 0.0;
  double w2 = 0.0;      // W2(ULA particles, exact samples of p_t)
  double floor = 0.0;   // W2 of two independent exact samples (the value for a perfect chain)
};

// Streams (seed, 0): kInitialState index 0 (Y_0), kStepNoise index k (step k), kTargetSample
// indices 0 and 1 (the two exact samples).
std::vector<UlaW2Point> ula_w2_decay(const Target& target, const NoiseLevel& level, const UlaW2Options& options);

}  // namespace dmconv
