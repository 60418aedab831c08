// Grid law propagation for stochastic samplers in 1-D and 2-D (estimator "grid_law").
//
// Source: docs/theory.md §4.1, §4.3 (the samplers), §6.3 (the 1-D reference computation,
// sto1d.py), §9.4; issue text: "grid law propagation for stochastic samplers in
// 1-D and 2-D: semi-Lagrangian change of variables for the drift using the exact drift
// Jacobian; exact Gaussian convolution of the noise, spectrally, so that steps whose noise is
// far narrower than the grid stay exact".
//
// Every sampler handled here is Markov with a step made of one or more substeps of the form
// (Sampler::stochastic_score_substeps; one substep = Sampler::stochastic_score_step)
//
//   Y+      = Y_t + N(0, v_pre I)
//   Y_{t-1} = m_t(Y+) + N(0, v_post I),      m_t(y) = a y + c s_t(y),
//
// (pmm_pc's first step is K Langevin substeps a = 1, c = gamma, v_post = 2 gamma, then the
// noiseless DDIM substep, all with the score at level T; substeps are propagated in order),
// so the density of Y_t is propagated exactly, step by step, on a uniform grid:
//
//   p+      = p_t (*) phi_{v_pre}                            Gaussian convolution
//   q(z)    = p+(y) / |det(a I + c J_t(y))|,  m_t(y) = z     change of variables (semi-Lagrangian)
//   p_{t-1} = q (*) phi_{v_post}
//
// Loop t = T, ..., stop + 1 (stop = problem.run.stop_index), StepContext{grid, t, t == stop + 1,
// T - stop}, exactly as run_block. p_T = p_{X_T} (target.log_density at abar_T) for
// Initialisation::kExactMarginal, else N(0, I). The post-noise of step t and the pre-noise of
// step t - 1 are applied as one convolution of variance v_post + v_pre (exact: Gaussians add).
//
// Grid. Per axis i: N points x_j = lo_i + j h_i, j = 0..N-1, h_i = 2 L_i / N, lo_i = centre_i - L_i;
// density values in a vector, axis 0 fastest (index j0 + N j1). The N/2 grid of the same box
// is nested in it (its points are the even-indexed fine points).
//
// Convolution (exact, spectral). The grid values are those of a trigonometric polynomial on
// the periodic box; per axis, along every grid line,
//   hat p(k_n) <- hat p(k_n) exp(-v k_n^2 / 2),  k_n = 2 pi n / (N h), n = 0, 1, .., N/2, -(N/2-1), .., -1
// (Eigen's unsupported FFT; two real lines are packed into one complex transform). This is the
// exact convolution of the interpolant for every v >= 0, however small against h^2. It equals
// the convolution on R^d up to the mass that crosses the box boundary, which the periodic
// transform wraps around; per convolution that mass is bounded by
//   W = sum_x p(x) h^d sum_i [ Phibar(dist_i(x, lower edge) / sqrt v) + Phibar(dist_i(x, upper edge) / sqrt v) ]
// (edges at lo_i - h_i/2 and lo_i + N h_i - h_i/2), and the L1 error it causes is <= 2 W.
// The sum of W over the run is reported ("wrap").
//
// Change of variables (semi-Lagrangian). For every output grid point z, m_t(y) = z is solved by
// Newton's method with the exact Jacobian A(y) = a I + c J_t(y) (ScoreModel::jacobian_apply,
// the 2x2 matrix in 2-D), started at y = z / a and safeguarded by step halving whenever the
// residual |m_t(y) - z| does not decrease; converged when the Newton step is below
// 1e-13 (1 + |y|_inf). Then q(z) = p+(y) / det A(y), with p+(y) interpolated by tensor-product
// Lagrange interpolation of `order` points per axis (default 12, degree 11; zero outside the
// box; negative interpolated values, which appear only at round-off level in the tails, are set
// to 0). The error per step is ~ C (h / sigma)^order, sigma the smallest local length scale of
// the density. Measured (docs/theory.md §6.3 mixture, acc_sde_a, T = 256, default box): 1-D TV and KL
// agree to 11 digits for N >= 1024 at orders 8..12. 2-D (3-component full-covariance example
// mixture, acc_sde_a, T = 64, default box, h / sigma ~ 0.2 at 256^2): TV error against 512^2
// 5.5e-8 and output mass defect 1.3e-7 at order 8; 1.7e-9 and 2.5e-9 at order 12, in the same
// time (the score Jacobian dominates) -- hence the default. (Spectral interpolation would be
// exact but costs O(N^d) per point.)
//
// Metrics against p_X = p_{X_stop} evaluated exactly at the grid points (sums are the
// trapezoidal rule, spectrally accurate for smooth densities that vanish at the box edges):
//   "tv"               (1/2) int |p_X - p_Y|: along every axis-0 grid line, the exact integral of
//                      |f|, f the trigonometric interpolant of p_X - p_Y, as sum |D(u_{i+1}) - D(u_i)|
//                      over its sign changes u_i (D = exact antiderivative from the DFT; root
//                      errors enter quadratically since D' = 0 there); lines summed by the
//                      trapezoidal rule in 2-D. (The plain sum (1/2) sum |p_X - p_Y| h^d has an
//                      O(h^2) error at the kinks of |f|; it is kept as a diagnostic.)
//   "kl_target_output" sum [ p_X log(p_X / p_Y) - p_X + p_Y ] h^d      = KL(p_X || p_Y)
//   "kl_output_target" sum [ p_Y log(p_Y / p_X) - p_Y + p_X ] h^d      = KL(p_Y || p_X)
//   "hellinger"        (1/2) sum (sqrt p_X - sqrt p_Y)^2 h^d           = H^2 = 1 - int sqrt(p_X p_Y)
//   "w2"               (1-D only) W2(p_X, p_Y) from the quantile functions of the two grid
//                      densities read as piecewise constant on the cells (grid_w2_1d)
// (non-negative integrands, equal to the textbook forms for unit masses). Inside the logs p_Y is
// clamped below at 1e-15 max p_Y (its FFT round-off level: below it p_Y is unresolved) and p_X,
// which is exact, only at the smallest normal double.
//
// Error budget (`floor`, kind kExact; for w2 the budget B below enters as width sqrt(B), the
// W2 effect of moving mass B across the box): |value(N) - value(N/2)| (a second, half-resolution run in
// the same box; the N/2 interpolation error is ~2^order times the N error, so this
// bounds the error at N generously) + the truncation budget B = sum of W over all
// convolutions + the mass of p_{Y_T} and of p_X missing from the box (1 - grid sums) +
// |1 - sum p_Y h^d| (the output mass defect, a lower bound of its L1 error) + the clamp
// effect. The method string names the grid and reports the mass defect and B.
//
// Failures are data: if det A(y) <= 0 (or is not finite) at any Newton iterate, the drift map
// is not an orientation-preserving diffeomorphism and the change of variables with one
// preimage does not apply; if Newton fails to converge within 100 iterations; if in 1-D the
// preimages of the increasing grid are not increasing (non-injective map); or if the density
// becomes non-finite, propagate_grid_law returns the status and a message naming t and y, and
// the estimator returns the metrics with value and floor NaN and the message in `method`.
// (In 2-D, non-injectivity with det > 0 at every visited point is not detected.) For exact
// scores and the samplers of docs/theory.md §4.1/§4.3 (a = 1/sqrt(alpha_t), c = beta_t/sqrt(alpha_t))
// det A > 0 at every step t >= 2 of any grid, since J*_t >= -I / (1 - abar_t) (docs/theory.md §1,
// 2nd-order Tweedie) and beta_t < 1 - abar_t; the step t = 1 to the data level can degenerate.
// If the half-resolution run fails while the full one succeeds, the floor is +inf.
//
// Preconditions (unsupported_reason otherwise): d <= 2; a sampler that provides
// stochastic_score_substeps at every step of the run (deterministic one-evaluation samplers such
// as ddim and ode_euler are noiseless substeps: useful to compare W2 with pmm_pc on one grid;
// change_of_variables_quadrature is their more accurate TV/KL estimator); a score model with an analytic Jacobian;
// target moments at abar_T and abar_stop (to size the default box) unless half_width is set.
// Grid: points per axis even, >= 32; order even in [4, 12]; half_width > 0 (or 0 = default).
// Defaults: 4096 points (1-D), 256 per axis (2-D). Default box: on a trial grid (2048 / 128^2
// points) of the search box "hull of mean +- 12 sd of the initial law and of p_{X_stop}", the
// hull of the points where the initial law, p_{X_stop} or p_t at three intermediate grid levels
// exceeds e^{-40} times its maximum (beyond that a Gaussian tail holds < 1e-17 of the mass),
// plus 2 trial cells per side; then widened about its centre by rho_i = the largest ratio of
// standard deviations, along axis i, between a Gaussian surrogate of the sampler's law (the
// step recursion with the affine score of N(m_t, C_t), the target's moments at level t) and
// C_t, when above 1: the sampler's laws can be far wider than every p_t (DDPM at T = 32,
// c1 = 6: phase-2 variance ~2.9, rho = 1.7). The moments alone would size mixtures far too
// generously. With half_width set: that half-width on every axis, centred on the search box.
//
// Parallel with OpenMP over grid lines / blocks of grid points (problem.run.threads); every
// grid point's arithmetic is independent of the others and all sums are taken per fixed
// block in a fixed order, so results are bitwise identical for every thread count. (On an
// oversubscribed machine OpenMP's default spin-waiting made 2 threads 5x slower than 1 here;
// OMP_WAIT_POLICY=passive avoids that.)
// Cost per step: O(N^d log N) for the convolution, ~3 Newton iterations on average (one score
// and one Jacobian evaluation per point each; more in the far tails) and order^d per point for
// the interpolation. Measured, estimate() with defaults (full + half resolution), 2-core
// machine: 1-D theory mixture T = 1024: 3.0 s (1 thread), 2.3 s (2 threads); 2-D example
// mixture T = 256 (256^2): 30 s (1 thread), 15 s (2 threads), dominated by the mixture's
// jacobian_apply (~0.5 us per point in 2-D).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/estimator.hpp"

namespace dmconv::estimators {

// A uniform grid on a box in d <= 2 dimensions (see the file comment).
struct UniformGrid {
  int dim = 1;
  int points = 0;                 // per axis
  double lower[2] = {0.0, 0.0};   // lo_i = coordinate of point 0
  double spacing[2] = {0.0, 0.0}; // h_i
  Eigen::Index size() const { return dim == 1 ? points : static_cast<Eigen::Index>(points) * points; }
  double coordinate(int axis, Eigen::Index j) const { return lower[axis] + static_cast<double>(j) * spacing[axis]; }
  double cell_volume() const { return dim == 1 ? spacing[0] : spacing[0] * spacing[1]; }
  double half_width(int axis) const { return 0.5 * points * spacing[axis]; }
  double centre(int axis) const { return lower[axis] + half_width(axis); }
  // The grid point of flat index k as a d-vector.
  Vector point(Eigen::Index k) const;
  // Same box, `points` per axis.
  UniformGrid with_points(int new_points) const;
  std::string describe() const;
};

// Box of half-widths L_i around centre_i with `points` per axis.
UniformGrid make_uniform_grid(int dim, int points, const Vector& centre, const Vector& half_width);

// Density values at the grid points (index j0 + N j1).
struct GridDensity {
  UniformGrid grid;
  Vector values;
  double mass() const;  // sum p h^d
};

struct GridLawOptions {
  int points = 0;           // per axis; 0: 4096 (1-D), 256 (2-D)
  double half_width = 0.0;  // per axis; 0: from the target's moments and densities (file comment)
  int order = 12;           // Lagrange interpolation points per axis (even, 4..12)
};

enum class GridLawStatus { kOk, kNotDiffeomorphism, kNewtonFailed, kNonFinite };
std::string to_string(GridLawStatus status);

struct GridLawResult {
  GridDensity output;                 // p_{Y_stop} on the grid
  GridLawStatus status = GridLawStatus::kOk;
  std::string message;                // empty when kOk
  double initial_mass = 0.0;          // sum p_{Y_T} h^d (1 - mass outside the box)
  double wrap_mass = 0.0;             // sum over convolutions of W (file comment); L1 error <= 2 wrap_mass
  int max_newton_iterations = 0;      // over all steps and points
};

// The grid used by the estimator for this problem and options (default box: file comment).
// Throws InvalidArgument for invalid options or when a default box needs moments that the
// target does not provide.
UniformGrid grid_law_grid(const EstimationProblem& problem, const GridLawOptions& options);

// p_t of the target at the grid points (exact, target.log_density).
GridDensity target_density_on_grid(const Target& target, const NoiseLevel& level, const UniformGrid& grid,
                                   int threads = 0);

// In place: p <- p (*) N(0, v I) on the periodic box (spectral, exact for the interpolant).
// Returns the wrap mass W of this convolution (file comment). Precondition: v >= 0.
double gaussian_convolve(GridDensity& p, double variance, int threads = 0);

// Interpolated value of the grid density at y (Lagrange, `order` points per axis; 0 outside).
double interpolate(const GridDensity& p, const double* y, int order);

// Density of m(Y), m(y) = a y + c s(y), for Y ~ p (semi-Lagrangian change of variables).
// Returns the status; on failure `message` says where. `max_iterations` receives the largest
// Newton iteration count used.
GridLawStatus push_through_score_map(const GridDensity& in, const ScoreModel& score, const NoiseLevel& level,
                                     double a, double c, int order, int threads, GridDensity& out,
                                     std::string& message, int* max_iterations = nullptr);

// The whole run for the problem on `grid` (initial law, steps T..stop+1, final noise).
GridLawResult propagate_grid_law(const EstimationProblem& problem, const UniformGrid& grid, int order);

// Distances between the exact target density p_X and the propagated p_Y on the same grid
// (formulas of the file comment).
struct GridDistances {
  double tv = 0.0, kl_target_output = 0.0, kl_output_target = 0.0, hellinger = 0.0;
  double w2 = std::numeric_limits<double>::quiet_NaN();  // 1-D only (grid_w2_1d)
  double tv_trapezoid = 0.0;  // (1/2) sum |p_X - p_Y| h^d, O(h^2) at the sign changes (diagnostic)
  // Where p_Y is below its round-off level (1e-15 max p_Y): the points' whole KL contributions
  // plus their p_X mass and the clamp; plus 1e-14 max p_X x box volume (zero level in TV).
  double clamp_budget = 0.0;
};
GridDistances grid_distances(const GridDensity& target, const GridDensity& output, int threads = 0);

// W2 between two 1-D grid densities, each read as piecewise constant on the cells
// [x_j - h/2, x_j + h/2] (negative values as 0) and normalised to unit mass: the quantile
// functions are then piecewise linear and int_0^1 (Q_p - Q_q)^2 du is summed exactly over the
// merged breakpoints, O(N). The error against the smooth densities is O(h^2) (midpoint
// masses): 5e-5 .. 8e-5 relative at 1024 points on the 1-D Gaussian tests, about a third of
// the |n - n/2| part of the floor. Returns NaN when a density has no positive mass.
double grid_w2_1d(const GridDensity& p, const GridDensity& q);

class GridLawEstimator final : public Estimator {
 public:
  explicit GridLawEstimator(GridLawOptions options = {});
  std::string name() const override { return "grid_law"; }
  std::optional<std::string> unsupported_reason(const EstimationProblem& problem) const override;
  std::vector<Estimate> estimate(const EstimationProblem& problem) const override;
  // Resolution rule (docs/theory.md §6.7): on a Gaussian-mixture target, the grid spacing h_i of
  // every axis must not exceed l / kGridPointsPerSd, l = min(1, the narrowest component standard
  // deviation of p_{X_stop}) (narrowest_component_sd; p_t's components only widen towards level T,
  // and N(0, I) has scale 1), so that the half-resolution grid of the floor still has one point
  // per standard deviation. Throws ParameterError on "points" with the smallest even value
  // that meets it. Other targets: no closed-form length scale, no rule.
  void check_resolution(const EstimationProblem& problem) const override;
  static constexpr double kGridPointsPerSd = 2.0;
  const GridLawOptions& options() const { return options_; }

 private:
  GridLawOptions options_;
};

}  // namespace dmconv::estimators
