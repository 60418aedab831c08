#include "estimators/grid_law.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <sstream>
#include <unsupported/Eigen/FFT>

#include "core/error.hpp"
#include "core/normal.hpp"
#include "core/parallel.hpp"
#include "core/simd_math.hpp"

namespace dmconv::estimators {
namespace {

constexpr Eigen::Index kBlock = 1024;  // grid points per work unit (map step, densities, sums)
constexpr int kMaxNewton = 100;
constexpr double kNewtonTolerance = 1e-13;   // on the Newton step, relative to 1 + |y|_inf
constexpr double kClampRelative = 1e-15;     // p_Y clamp inside the logs, relative to max p_Y
constexpr double kSearchSigmas = 12.0;       // default box search region: mean +- 12 sd per axis
constexpr double kBoxLogRatio = 40.0;        // default box: where some p_t > e^{-40} max p_t
constexpr int kTvRefinedLines = 8192;       // 2-D TV: about this many lines along axis 1 (refined)
constexpr double kTvZeroRelative = 1e-14;    // |p_X - p_Y| below this x max p_X counts as 0 in TV

Eigen::Index block_count(Eigen::Index n) { return (n + kBlock - 1) / kBlock; }

std::string format_double(double value) {
  std::ostringstream s;
  s.precision(3);
  s << value;
  return s.str();
}

// Lagrange weights of `order` nodes at offsets o_m = m - order/2 + 1 (m = 0..order-1) from the
// cell's left node, evaluated at fraction f in [0, 1): w_m = prod_{l != m} (f - o_l)/(o_m - o_l).
// Prefix/suffix products avoid dividing by (f - o_m), so nodes (f = 0) are exact.
// The denominators prod_{l != m} (m - l) = (-1)^{order-1-m} m! (order-1-m)! are integers below
// 2^53 (11! = 39916800), exact in a double, tabulated once per order.
struct LagrangeDenominators {
  double value[17][16] = {};
  constexpr LagrangeDenominators() {
    double factorial[16] = {1.0};
    for (int m = 1; m < 16; ++m) factorial[m] = factorial[m - 1] * m;
    for (int order = 1; order <= 16; ++order)
      for (int m = 0; m < order; ++m)
        value[order][m] = factorial[m] * factorial[order - 1 - m] * (((order - 1 - m) % 2) ? -1.0 : 1.0);
  }
};
constexpr LagrangeDenominators kLagrangeDenominators;

void lagrange_weights(double f, int order, double* w) {
  double left[16], right[16];
  const int first = 1 - order / 2;
  left[0] = 1.0;
  for (int m = 1; m < order; ++m) left[m] = left[m - 1] * (f - static_cast<double>(first + m - 1));
  right[order - 1] = 1.0;
  for (int m = order - 2; m >= 0; --m) right[m] = right[m + 1] * (f - static_cast<double>(first + m + 1));
  const double* denominator = kLagrangeDenominators.value[order];
  for (int m = 0; m < order; ++m) w[m] = left[m] * right[m] / denominator[m];
}

// First stencil index and weights along one axis; false when the stencil misses the grid.
bool axis_stencil(const UniformGrid& g, int axis, double y, int order, long& start, double* w) {
  const double u = (y - g.lower[axis]) / g.spacing[axis];
  if (!(u > -static_cast<double>(order) && u < static_cast<double>(g.points + order))) return false;
  const double cell = std::floor(u);
  lagrange_weights(u - cell, order, w);
  start = static_cast<long>(cell) + 1 - order / 2;
  return true;
}

// The identity matrices e_1..e_D repeated for each of k particles (Jacobian probes).
Matrix repeated_identity(int d, Eigen::Index k) {
  Matrix v = Matrix::Zero(d, d * k);
  for (Eigen::Index j = 0; j < k; ++j)
    for (int i = 0; i < d; ++i) v(i, d * j + i) = 1.0;
  return v;
}

struct PointFailure {
  Eigen::Index point = -1;  // flat grid index of the first failing point; -1: none
  GridLawStatus status = GridLawStatus::kOk;
  Vector y;
  double det = 0.0;
  double first_y = 0.0, last_y = 0.0;  // 1-D: preimages of the block's first and last points
};

// The map step on points [begin, end) of the output grid (see the header, "Change of variables").
template <int D>
PointFailure map_block(const GridDensity& in, const ScoreModel& score, const NoiseLevel& level, double a, double c,
                       int order, Eigen::Index begin, Eigen::Index end, double* out, int& max_iterations) {
  const UniformGrid& g = in.grid;
  const Eigen::Index m = end - begin;
  Matrix z(D, m), y(D, m), y_prev(D, m), delta_prev(D, m);
  Vector residual_prev(m), lambda(m), det(m), det_prev(m);
  for (Eigen::Index j = 0; j < m; ++j) z.col(j) = g.point(begin + j);
  y = z / a;
  std::vector<Eigen::Index> active(static_cast<std::size_t>(m));
  for (Eigen::Index j = 0; j < m; ++j) active[static_cast<std::size_t>(j)] = j;
  PointFailure failure;
  auto fail = [&](Eigen::Index j, GridLawStatus status, double determinant) {
    if (failure.point < 0 || begin + j < failure.point) {
      failure.point = begin + j;
      failure.status = status;
      failure.y = y.col(j);
      failure.det = determinant;
    }
  };
  Matrix ys, s, jac;
  int iteration = 0;
  for (; iteration < kMaxNewton && !active.empty() && failure.point < 0; ++iteration) {
    const auto k = static_cast<Eigen::Index>(active.size());
    ys.resize(D, k);
    for (Eigen::Index q = 0; q < k; ++q) ys.col(q) = y.col(active[static_cast<std::size_t>(q)]);
    s.resize(D, k);
    jac.resize(D, D * k);
    score.evaluate_with_jacobian_apply(level, ys, repeated_identity(D, k), s, jac);
    std::vector<Eigen::Index> next;
    for (Eigen::Index q = 0; q < k; ++q) {
      const Eigen::Index j = active[static_cast<std::size_t>(q)];
      // Plain scalars (D <= 2): fixed-size Eigen 2-vectors trip GCC 12's AVX-512 -Warray-bounds.
      double yj[2] = {ys(0, q), D == 2 ? ys(D - 1, q) : 0.0};
      double r[2] = {0.0, 0.0};
      for (int i = 0; i < D; ++i) r[i] = a * yj[i] + c * s(i, q) - z(i, j);
      const double rn = std::hypot(r[0], r[1]);
      if (!std::isfinite(rn)) {
        fail(j, GridLawStatus::kNonFinite, std::numeric_limits<double>::quiet_NaN());
        continue;
      }
      const double tolerance = kNewtonTolerance * (1.0 + std::max(std::fabs(yj[0]), std::fabs(yj[1])));
      if (iteration > 0 && !(rn < residual_prev(j))) {
        // No decrease: back off along the previous Newton direction, or stop at round-off.
        if (lambda(j) * delta_prev.col(j).cwiseAbs().maxCoeff() <= 1e3 * tolerance) {
          y.col(j) = y_prev.col(j);
          det(j) = det_prev(j);
          continue;
        }
        lambda(j) *= 0.5;
        y.col(j) = y_prev.col(j) + lambda(j) * delta_prev.col(j);
        next.push_back(j);
        continue;
      }
      // A = a I + c J(y), J from the Jacobian probes (column D q + i is J e_i).
      double A[2][2] = {{a + c * jac(0, D * q), 0.0}, {0.0, a}};
      if constexpr (D == 2) {
        A[0][1] = c * jac(0, D * q + 1);
        A[1][0] = c * jac(1, D * q);
        A[1][1] = a + c * jac(1, D * q + 1);
      }
      const double determinant = D == 1 ? A[0][0] : A[0][0] * A[1][1] - A[0][1] * A[1][0];
      if (!(determinant > 0.0) || !std::isfinite(determinant)) {
        fail(j, std::isfinite(determinant) ? GridLawStatus::kNotDiffeomorphism : GridLawStatus::kNonFinite,
             determinant);
        continue;
      }
      double delta[2] = {0.0, 0.0};
      if constexpr (D == 1) {
        delta[0] = -r[0] / determinant;
      } else {
        delta[0] = -(A[1][1] * r[0] - A[0][1] * r[1]) / determinant;
        delta[1] = -(A[0][0] * r[1] - A[1][0] * r[0]) / determinant;
      }
      if (std::max(std::fabs(delta[0]), std::fabs(delta[1])) <= tolerance) {
        for (int i = 0; i < D; ++i) y(i, j) = yj[i] + delta[i];
        det(j) = determinant;
        continue;
      }
      for (int i = 0; i < D; ++i) {
        y_prev(i, j) = yj[i];
        delta_prev(i, j) = delta[i];
        y(i, j) = yj[i] + delta[i];
      }
      det_prev(j) = determinant;
      residual_prev(j) = rn;
      lambda(j) = 1.0;
      next.push_back(j);
    }
    active.swap(next);
  }
  max_iterations = std::max(max_iterations, iteration);
  if (failure.point < 0 && !active.empty()) fail(active.front(), GridLawStatus::kNewtonFailed, 0.0);
  if (failure.point >= 0) return failure;
  for (Eigen::Index j = 0; j < m; ++j) {
    const double value = interpolate(in, y.col(j).data(), order) / det(j);
    if (!std::isfinite(value)) {
      fail(j, GridLawStatus::kNonFinite, det(j));
      return failure;
    }
    out[j] = std::max(value, 0.0);
  }
  if constexpr (D == 1) {
    // The preimages of the increasing grid must increase (an injective, increasing map).
    for (Eigen::Index j = 1; j < m; ++j)
      if (!(y(0, j) > y(0, j - 1))) {
        fail(j, GridLawStatus::kNotDiffeomorphism, det(j));
        return failure;
      }
    failure.first_y = y(0, 0);
    failure.last_y = y(0, m - 1);
  }
  return failure;
}

// Sum of f(k) over blocks, each block summed in order, blocks summed in order (thread-count
// independent). F returns an Eigen::Array<double, M, 1>.
template <int M, class F>
Eigen::Array<double, M, 1> blocked_sum(Eigen::Index n, int threads, F f) {
  const Eigen::Index blocks = block_count(n);
  std::vector<Eigen::Array<double, M, 1>> partial(static_cast<std::size_t>(blocks));
#pragma omp parallel for schedule(static) num_threads(resolve_threads(threads))
  for (Eigen::Index b = 0; b < blocks; ++b) {
    Eigen::Array<double, M, 1> sum = Eigen::Array<double, M, 1>::Zero();
    const Eigen::Index end = std::min(n, (b + 1) * kBlock);
    for (Eigen::Index k = b * kBlock; k < end; ++k) sum += f(k);
    partial[static_cast<std::size_t>(b)] = sum;
  }
  Eigen::Array<double, M, 1> total = Eigen::Array<double, M, 1>::Zero();
  for (const auto& p : partial) total += p;
  return total;
}

// int |f| along one grid line (n values, spacing h) for the trigonometric interpolant of f:
// between consecutive sign changes f has one sign, so the integral is sum |D(u_{i+1}) - D(u_i)|
// with D(u) = int_0^u f the exact antiderivative of the interpolant (from its DFT) and u_i the
// sign changes (linear interpolation; D'(u_i) = f(u_i) = 0, so a root error e costs O(f' e^2)).
// Values with |f| <= eps are treated as zero (no spurious sign changes from round-off in the
// tails; this moves the result by at most eps n h).
double line_abs_integral(const double* f, Eigen::Index stride, int n, double h, double eps, Eigen::FFT<double>& fft,
                         std::vector<std::complex<double>>& buffer, std::vector<std::complex<double>>& spectrum) {
  for (int j = 0; j < n; ++j) buffer[j] = f[j * stride];
  fft.fwd(spectrum, buffer);
  const double length = n * h;
  const double base = 2.0 * std::numbers::pi / length;
  // D(u), f(u) and f'(u) of the interpolant in one pass over the spectrum. k_m u = pi m x with
  // x = 2 u / (n h): the sines and cosines come eight modes at a time from sincospi (0.506 ulp,
  // exact argument reduction), the terms are still added mode by mode in increasing m.
  constexpr int L = simd::kLanes;
  auto evaluate = [&](double u, double& f_u, double& df_u) {
    double d = spectrum[0].real() * u, value = spectrum[0].real(), slope = 0.0;
    const double x_unit = 2.0 * u / length;
    const int nyquist = n / 2;
    alignas(64) double x[L], half_x[L], sine[L], cosine[L], half_sine[L], half_cosine[L];
    for (int first = 1; first <= nyquist; first += L) {
      for (int l = 0; l < L; ++l) {
        x[l] = static_cast<double>(first + l) * x_unit;
        half_x[l] = 0.5 * x[l];
      }
      simd::sincospi8(x, sine, cosine);
      simd::sincospi8(half_x, half_sine, half_cosine);
      for (int l = 0; l < L && first + l <= nyquist; ++l) {
        const int m = first + l;
        const double k = base * m;
        if (m == nyquist) {
          const double re_nyquist = spectrum[nyquist].real();
          d += re_nyquist * sine[l] / k;
          value += re_nyquist * cosine[l];
          slope -= re_nyquist * k * sine[l];
          break;
        }
        const double re = spectrum[m].real(), im = spectrum[m].imag();
        // 2 Re( F_m (e^{iku} - 1) / (i k) ) = 2 (Re F_m sin(ku) - Im F_m (1 - cos(ku))) / k
        d += 2.0 * (re * sine[l] - im * 2.0 * half_sine[l] * half_sine[l]) / k;
        value += 2.0 * (re * cosine[l] - im * sine[l]);
        slope -= 2.0 * k * (re * sine[l] + im * cosine[l]);
      }
    }
    f_u = value / n;
    df_u = slope / n;
    return d / n;
  };
  // D at the root u* near u0: D(u*) = D(u0) - f(u0)^2 / (2 f'(u0)) + O(e^3) (one Newton step on f,
  // taken analytically since D' = f), when that step stays within a grid cell.
  auto antiderivative_at_root = [&](double u0) {
    double f_u = 0.0, df_u = 0.0;
    const double d = evaluate(u0, f_u, df_u);
    if (df_u != 0.0 && std::fabs(f_u) <= std::fabs(df_u) * h) return d - 0.5 * f_u * f_u / df_u;
    return d;
  };
  double integral = 0.0, previous_d = 0.0;
  int last = -1;
  for (int j = 0; j < n; ++j) {
    const double fj = f[j * stride];
    if (!(std::fabs(fj) > eps)) continue;
    if (last >= 0 && (fj > 0.0) != (f[last * stride] > 0.0)) {
      const double fl = f[last * stride];
      const double u = j == last + 1 ? (last + fl / (fl - fj)) * h : 0.5 * (last + j) * h;
      const double d = antiderivative_at_root(u);
      integral += std::fabs(d - previous_d);
      previous_d = d;
    }
    last = j;
  }
  const double total = spectrum[0].real() * h;  // D(n h) = h sum f
  return integral + std::fabs(total - previous_d);
}

GridDensity standard_normal_on_grid(const UniformGrid& grid) {
  GridDensity p{grid, Vector(grid.size())};
  const double log_norm = -0.5 * grid.dim * std::log(2.0 * std::numbers::pi);
  for (Eigen::Index k = 0; k < grid.size(); ++k) p.values(k) = std::exp(log_norm - 0.5 * grid.point(k).squaredNorm());
  return p;
}

Estimate failed_estimate(const std::string& metric, const std::string& method, const std::string& reason) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return {metric, nan, 0.0, nan, EstimateKind::kExact, method, EstimateStatus::kFailed, reason};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Grid

Vector UniformGrid::point(Eigen::Index k) const {
  Vector x(dim);
  x(0) = coordinate(0, k % points);
  if (dim == 2) x(1) = coordinate(1, k / points);
  return x;
}

UniformGrid UniformGrid::with_points(int new_points) const {
  UniformGrid g = *this;
  g.points = new_points;
  for (int i = 0; i < dim; ++i) g.spacing[i] = spacing[i] * points / new_points;
  return g;
}

std::string UniformGrid::describe() const {
  std::ostringstream s;
  s.precision(4);
  s << "points=" << points;
  for (int i = 1; i < dim; ++i) s << "x" << points;
  s << ",box=";
  for (int i = 0; i < dim; ++i) s << (i ? "x" : "") << "[" << lower[i] << "," << lower[i] + points * spacing[i] << ")";
  return s.str();
}

UniformGrid make_uniform_grid(int dim, int points, const Vector& centre, const Vector& half_width) {
  require(dim == 1 || dim == 2, "grid_law: dimension " + std::to_string(dim) + " must be 1 or 2");
  require(points >= 32 && points % 2 == 0,
          "grid_law: points = " + std::to_string(points) + " must be even and at least 32");
  require(centre.size() == dim && half_width.size() == dim, "grid_law: centre and half_width must have d entries");
  UniformGrid g;
  g.dim = dim;
  g.points = points;
  for (int i = 0; i < dim; ++i) {
    require(std::isfinite(centre(i)) && std::isfinite(half_width(i)) && half_width(i) > 0.0,
            "grid_law: half width " + format_double(half_width(i)) + " must be finite and positive");
    g.spacing[i] = 2.0 * half_width(i) / points;
    g.lower[i] = centre(i) - half_width(i);
  }
  return g;
}

double GridDensity::mass() const {
  double sum = 0.0;
  for (Eigen::Index b = 0; b < block_count(values.size()); ++b)
    sum += values.segment(b * kBlock, std::min(kBlock, values.size() - b * kBlock)).sum();
  return sum * grid.cell_volume();
}

std::string to_string(GridLawStatus status) {
  switch (status) {
    case GridLawStatus::kOk:
      return "ok";
    case GridLawStatus::kNotDiffeomorphism:
      return "not_diffeomorphism";
    case GridLawStatus::kNewtonFailed:
      return "newton_failed";
    case GridLawStatus::kNonFinite:
      return "non_finite";
  }
  return "unknown";
}

UniformGrid grid_law_grid(const EstimationProblem& problem, const GridLawOptions& options) {
  const int d = problem.target.dim();
  require(d == 1 || d == 2, "grid_law: target dimension " + std::to_string(d) + " must be 1 or 2");
  require(options.points == 0 || (options.points >= 32 && options.points % 2 == 0),
          "grid_law: points = " + std::to_string(options.points) + " must be 0 (default) or even and >= 32");
  require(std::isfinite(options.half_width) && options.half_width >= 0.0,
          "grid_law: half_width = " + format_double(options.half_width) + " must be >= 0 (0 = from moments)");
  const int points = options.points > 0 ? options.points : (d == 1 ? 4096 : 256);
  const std::optional<Moments> final_moments = problem.target.moments(problem.grid.level(problem.run.stop_index));
  std::optional<Moments> initial_moments;
  if (problem.run.initialisation == Initialisation::kExactMarginal) {
    initial_moments = problem.target.moments(problem.grid.level(problem.grid.steps()));
  } else {
    initial_moments = Moments{Vector::Zero(d), Matrix::Identity(d, d)};
  }
  if (!initial_moments || !final_moments) {
    require(options.half_width > 0.0,
            "grid_law: the target gives no closed-form moments to size the box; set half_width");
    const Vector centre = final_moments ? final_moments->mean : Vector::Zero(d);
    return make_uniform_grid(d, points, centre, Vector::Constant(d, options.half_width));
  }
  // Search box: hull of mean +- 12 sd of the initial law and of p_{X_stop}.
  Vector lo(d), hi(d);
  for (int i = 0; i < d; ++i) {
    lo(i) = std::numeric_limits<double>::infinity();
    hi(i) = -lo(i);
    for (const Moments* mom : {static_cast<const Moments*>(&*initial_moments), &*final_moments}) {
      const double sd = std::sqrt(mom->covariance(i, i));
      lo(i) = std::min(lo(i), mom->mean(i) - kSearchSigmas * sd);
      hi(i) = std::max(hi(i), mom->mean(i) + kSearchSigmas * sd);
    }
  }
  if (options.half_width > 0.0)
    return make_uniform_grid(d, points, 0.5 * (lo + hi), Vector::Constant(d, options.half_width));
  // Box: the hull of the regions where the exact laws along the run exceed e^{-40} times their
  // maximum (beyond it a Gaussian tail holds < 1e-17 of the mass), found on a trial grid of the
  // search box, plus 2 trial cells per side. Laws: the initial law, p_{X_stop}, and p_t at three
  // intermediate grid levels (the sampler's laws follow them closely).
  const int trial_points = d == 1 ? 2048 : 128;
  const UniformGrid trial = make_uniform_grid(d, trial_points, 0.5 * (lo + hi), 0.5 * (hi - lo));
  const int steps = problem.grid.steps(), stop = problem.run.stop_index;
  std::vector<Vector> densities;
  if (problem.run.initialisation == Initialisation::kExactMarginal) {
    densities.push_back(target_density_on_grid(problem.target, problem.grid.level(steps), trial, problem.run.threads).values);
  } else {
    densities.push_back(standard_normal_on_grid(trial).values);
  }
  for (int k = 0; k < 4; ++k) {
    const int t = stop + k * (steps - stop) / 4;
    densities.push_back(target_density_on_grid(problem.target, problem.grid.level(t), trial, problem.run.threads).values);
  }
  Vector box_lo = Vector::Constant(d, std::numeric_limits<double>::infinity());
  Vector box_hi = -box_lo;
  for (const Vector& density : densities) {
    const double threshold = density.maxCoeff() * std::exp(-kBoxLogRatio);
    for (Eigen::Index k = 0; k < trial.size(); ++k) {
      if (!(density(k) >= threshold)) continue;
      const Vector x = trial.point(k);
      box_lo = box_lo.cwiseMin(x);
      box_hi = box_hi.cwiseMax(x);
    }
  }
  for (int i = 0; i < d; ++i) {
    box_lo(i) = std::max(lo(i), box_lo(i) - 2.0 * trial.spacing[i]);
    box_hi(i) = std::min(hi(i), box_hi(i) + 2.0 * trial.spacing[i]);
  }
  // The sampler's laws can be far wider than every p_t (DDPM over-disperses by ~beta^2 / alpha
  // per step: at T = 32, c1 = 6 its phase-2 variance is ~2.9 against 1). Gaussian surrogate of
  // the sampler's law: the step recursion with the affine score of N(m_t, C_t) (the target's
  // moments at level t), push_gaussian_through_step with J = -C_t^{-1}, r = C_t^{-1} m_t;
  // the box is widened about its centre by rho_i = max over steps of sqrt(S_ii / (C_t)_ii)
  // (S+ against level t, S' against level t - 1) when that exceeds 1.
  Vector rho = Vector::Ones(d);
  Moments law = *initial_moments;
  for (int t = steps; t > stop; --t) {
    const std::vector<StochasticScoreStep> substeps =
        problem.sampler.stochastic_score_substeps(StepContext{problem.grid, t, t == stop + 1, steps - stop});
    const std::optional<Moments> here = problem.target.moments(problem.grid.level(t));
    const std::optional<Moments> next = problem.target.moments(problem.grid.level(t - 1));
    if (substeps.empty() || !here || !next) break;
    const Matrix precision = here->covariance.inverse();
    const Vector offset = precision * here->mean;  // the affine score of N(m_t, C_t): -C^{-1} y + C^{-1} m
    for (std::size_t k = 0; k < substeps.size(); ++k) {
      const Matrix widened = push_gaussian_through_step(substeps[k], -precision, offset, law.mean, law.covariance);
      // Substeps before the last stay at level t (pmm_pc's Langevin iterations).
      const Moments& after = k + 1 == substeps.size() ? *next : *here;
      for (int i = 0; i < d; ++i) {
        const double ratio = std::sqrt(std::max(widened(i, i) / here->covariance(i, i),
                                                law.covariance(i, i) / after.covariance(i, i)));
        if (std::isfinite(ratio)) rho(i) = std::max(rho(i), ratio);
      }
    }
  }
  const Vector centre = 0.5 * (box_lo + box_hi);
  const Vector half = (0.5 * (box_hi - box_lo)).cwiseProduct(rho);
  return make_uniform_grid(d, points, centre, half);
}

GridDensity target_density_on_grid(const Target& target, const NoiseLevel& level, const UniformGrid& grid,
                                   int threads) {
  GridDensity p{grid, Vector(grid.size())};
  const Eigen::Index blocks = block_count(grid.size());
#pragma omp parallel for schedule(static) num_threads(resolve_threads(threads))
  for (Eigen::Index b = 0; b < blocks; ++b) {
    const Eigen::Index begin = b * kBlock, count = std::min(kBlock, grid.size() - begin);
    Matrix x(grid.dim, count);
    for (Eigen::Index j = 0; j < count; ++j) x.col(j) = grid.point(begin + j);
    Vector log_p(count);
    target.log_density(level, x, log_p);
    p.values.segment(begin, count) = log_p.array().exp().matrix();
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Convolution

double gaussian_convolve(GridDensity& p, double variance, int threads) {
  require(std::isfinite(variance) && variance >= 0.0,
          "grid_law: convolution variance " + format_double(variance) + " must be finite and >= 0");
  if (variance == 0.0) return 0.0;
  const UniformGrid& g = p.grid;
  const int n = g.points;
  const double sd = std::sqrt(variance);
  // Wrap mass W: per axis, the probability of crossing either periodic edge from grid point j.
  std::vector<std::vector<double>> edge(static_cast<std::size_t>(g.dim), std::vector<double>(static_cast<std::size_t>(n)));
  std::vector<std::vector<double>> multiplier(static_cast<std::size_t>(g.dim),
                                              std::vector<double>(static_cast<std::size_t>(n)));
  for (int axis = 0; axis < g.dim; ++axis) {
    const double h = g.spacing[axis];
    for (int j = 0; j < n; ++j) {
      edge[axis][j] = normal_upper_tail_quotient((j + 0.5) * h / sd) + normal_upper_tail_quotient((n - j - 0.5) * h / sd);
      const int frequency = j <= n / 2 ? j : j - n;
      const double k = 2.0 * std::numbers::pi * frequency / (n * h);
      multiplier[axis][j] = std::exp(-0.5 * variance * k * k);
    }
  }
  // Serial, in fixed order (O(N^d), cheap against the transforms).
  double wrap = 0.0;
  if (g.dim == 1) {
    for (int j = 0; j < n; ++j) wrap += p.values(j) * edge[0][j];
  } else {
    for (int j1 = 0; j1 < n; ++j1) {
      double row = 0.0;
      for (int j0 = 0; j0 < n; ++j0) row += p.values(j0 + static_cast<Eigen::Index>(n) * j1) * (edge[0][j0] + edge[1][j1]);
      wrap += row;
    }
  }
  wrap *= g.cell_volume();

  // Along each axis, transform every grid line; lines 2q and 2q + 1 share one complex FFT (real
  // and imaginary parts): the multiplier is real and even in k, so the two never mix. 1-D: one
  // serial transform (a parallel region costs more than it saves). 2-D: one parallel region.
  const int lines = g.dim == 1 ? 1 : n;
  const int pairs = (lines + 1) / 2;
  auto transform_pair = [&](Eigen::FFT<double>& fft, std::vector<std::complex<double>>& buffer,
                            std::vector<std::complex<double>>& spectrum, int axis, int q) {
    const Eigen::Index stride_line = axis == 0 ? n : 1;   // offset between lines
    const Eigen::Index stride_point = axis == 0 ? 1 : n;  // offset between points on a line
    const std::vector<double>& mult = multiplier[static_cast<std::size_t>(axis)];
    const int first = 2 * q;
    const bool second = first + 1 < lines;
    double* line0 = p.values.data() + first * stride_line;
    double* line1 = second ? line0 + stride_line : nullptr;
    for (int j = 0; j < n; ++j) buffer[j] = {line0[j * stride_point], second ? line1[j * stride_point] : 0.0};
    fft.fwd(spectrum, buffer);
    for (int j = 0; j < n; ++j) spectrum[j] *= mult[j];
    fft.inv(buffer, spectrum);
    for (int j = 0; j < n; ++j) {
      line0[j * stride_point] = buffer[j].real();
      if (second) line1[j * stride_point] = buffer[j].imag();
    }
  };
  if (g.dim == 1) {
    Eigen::FFT<double> fft;
    std::vector<std::complex<double>> buffer(static_cast<std::size_t>(n)), spectrum(static_cast<std::size_t>(n));
    transform_pair(fft, buffer, spectrum, 0, 0);
    return wrap;
  }
#pragma omp parallel num_threads(resolve_threads(threads))
  {
    Eigen::FFT<double> fft;
    std::vector<std::complex<double>> buffer(static_cast<std::size_t>(n)), spectrum(static_cast<std::size_t>(n));
    for (int axis = 0; axis < g.dim; ++axis) {
#pragma omp for schedule(static)
      for (int q = 0; q < pairs; ++q) transform_pair(fft, buffer, spectrum, axis, q);
    }
  }
  return wrap;
}

// ---------------------------------------------------------------------------------------------
// Interpolation and the map step

double interpolate(const GridDensity& p, const double* y, int order) {
  const UniformGrid& g = p.grid;
  double w0[16], w1[16];
  long s0 = 0, s1 = 0;
  if (!axis_stencil(g, 0, y[0], order, s0, w0)) return std::isnan(y[0]) ? y[0] : 0.0;
  const long n = g.points;
  if (g.dim == 1) {
    double sum = 0.0;
    for (int m = 0; m < order; ++m) {
      const long i = s0 + m;
      if (i >= 0 && i < n) sum += w0[m] * p.values(i);
    }
    return sum;
  }
  if (!axis_stencil(g, 1, y[1], order, s1, w1)) return std::isnan(y[1]) ? y[1] : 0.0;
  double sum = 0.0;
  for (int m1 = 0; m1 < order; ++m1) {
    const long i1 = s1 + m1;
    if (i1 < 0 || i1 >= n) continue;
    double row = 0.0;
    const double* line = p.values.data() + i1 * n;
    for (int m0 = 0; m0 < order; ++m0) {
      const long i0 = s0 + m0;
      if (i0 >= 0 && i0 < n) row += w0[m0] * line[i0];
    }
    sum += w1[m1] * row;
  }
  return sum;
}

GridLawStatus push_through_score_map(const GridDensity& in, const ScoreModel& score, const NoiseLevel& level,
                                     double a, double c, int order, int threads, GridDensity& out,
                                     std::string& message, int* max_iterations) {
  require(order >= 4 && order <= 12 && order % 2 == 0,
          "grid_law: order = " + std::to_string(order) + " must be even and in [4, 12]");
  require(score.dim() == in.grid.dim, "grid_law: score model dimension does not match the grid");
  const UniformGrid& g = in.grid;
  out.grid = g;
  out.values.resize(g.size());
  const Eigen::Index blocks = block_count(g.size());
  std::vector<PointFailure> failures(static_cast<std::size_t>(blocks));
  std::vector<int> iterations(static_cast<std::size_t>(blocks), 0);
#pragma omp parallel for schedule(dynamic, 1) num_threads(resolve_threads(threads))
  for (Eigen::Index b = 0; b < blocks; ++b) {
    const Eigen::Index begin = b * kBlock, end = std::min(g.size(), begin + kBlock);
    int& it = iterations[static_cast<std::size_t>(b)];
    failures[static_cast<std::size_t>(b)] =
        g.dim == 1 ? map_block<1>(in, score, level, a, c, order, begin, end, out.values.data() + begin, it)
                   : map_block<2>(in, score, level, a, c, order, begin, end, out.values.data() + begin, it);
  }
  if (max_iterations) *max_iterations = std::max(*max_iterations, *std::max_element(iterations.begin(), iterations.end()));
  message.clear();
  if (g.dim == 1) {
    for (std::size_t b = 1; b < failures.size(); ++b) {
      if (failures[b].point < 0 && failures[b - 1].point < 0 && !(failures[b].first_y > failures[b - 1].last_y)) {
        failures[b].point = static_cast<Eigen::Index>(b) * kBlock;
        failures[b].status = GridLawStatus::kNotDiffeomorphism;
        failures[b].y = Vector::Constant(1, failures[b].first_y);
        failures[b].det = std::numeric_limits<double>::quiet_NaN();
        break;
      }
    }
  }
  for (const PointFailure& f : failures) {
    if (f.point < 0) continue;
    std::ostringstream s;
    s.precision(6);
    s << to_string(f.status) << ": at the preimage y = (";
    for (Eigen::Index i = 0; i < f.y.size(); ++i) s << (i ? ", " : "") << f.y(i);
    s << ") of grid point z = (";
    const Vector z = g.point(f.point);
    for (Eigen::Index i = 0; i < z.size(); ++i) s << (i ? ", " : "") << z(i);
    s << ")";
    if (f.status == GridLawStatus::kNotDiffeomorphism)
      s << ", det(a I + c J) = " << f.det << " with a = " << a << ", c = " << c
        << " (the drift map is not an orientation-preserving diffeomorphism)";
    if (f.status == GridLawStatus::kNewtonFailed)
      s << ": Newton did not converge in " << kMaxNewton << " iterations";
    message = s.str();
    return f.status;
  }
  return GridLawStatus::kOk;
}

// ---------------------------------------------------------------------------------------------
// The run

GridLawResult propagate_grid_law(const EstimationProblem& problem, const UniformGrid& grid, int order) {
  problem.run.validate(problem.grid);
  const int steps = problem.grid.steps(), stop = problem.run.stop_index, threads = problem.run.threads;
  require(problem.target.dim() == grid.dim && problem.score.dim() == grid.dim,
          "grid_law: target / score dimension does not match the grid");
  GridLawResult result;
  result.output = problem.run.initialisation == Initialisation::kExactMarginal
                      ? target_density_on_grid(problem.target, problem.grid.level(steps), grid, threads)
                      : standard_normal_on_grid(grid);
  result.initial_mass = result.output.mass();
  GridDensity mapped;
  double pending = 0.0;
  for (int t = steps; t > stop; --t) {
    const StepContext context{problem.grid, t, t == stop + 1, steps - stop};
    const std::vector<StochasticScoreStep> substeps = problem.sampler.stochastic_score_substeps(context);
    require(!substeps.empty(), "grid_law: sampler '" + problem.sampler.name() +
                                   "' gives no stochastic_score_substeps at t = " + std::to_string(t));
    for (std::size_t k = 0; k < substeps.size(); ++k) {
      const StochasticScoreStep& step = substeps[k];
      require(step.pre_noise_variance >= 0.0 && step.post_noise_variance >= 0.0,
              "grid_law: sampler '" + problem.sampler.name() + "' gives a negative noise variance at t = " +
                  std::to_string(t));
      pending += step.pre_noise_variance;
      result.wrap_mass += gaussian_convolve(result.output, pending, threads);
      pending = 0.0;
      std::string message;
      const GridLawStatus status =
          push_through_score_map(result.output, problem.score, problem.grid.level(t), step.state_coefficient,
                                 step.score_coefficient, order, threads, mapped, message,
                                 &result.max_newton_iterations);
      if (status != GridLawStatus::kOk) {
        result.status = status;
        result.message = "grid_law: step t = " + std::to_string(t) +
                         (substeps.size() > 1 ? " (substep " + std::to_string(k) + ")" : std::string()) + ", " +
                         message;
        return result;
      }
      std::swap(result.output, mapped);
      pending = step.post_noise_variance;
    }
  }
  result.wrap_mass += gaussian_convolve(result.output, pending, threads);
  if (!result.output.values.allFinite()) {
    result.status = GridLawStatus::kNonFinite;
    result.message = "grid_law: the propagated density became non-finite";
  }
  return result;
}

GridDistances grid_distances(const GridDensity& target, const GridDensity& output, int threads) {
  require(target.values.size() == output.values.size() && target.grid.points == output.grid.points,
          "grid_law: densities on different grids");
  // p_X is exact (clamped only against log 0); p_Y carries FFT round-off ~1e-16 max p_Y, so
  // below `clamp` it is unresolved and clamped; the whole contribution of those points to the
  // KL integrands (plus their p_X mass and the clamp) is reported as clamp_budget.
  const double clamp = kClampRelative * output.values.maxCoeff();
  constexpr double kTiny = std::numeric_limits<double>::min();
  const Vector& p = target.values;
  const Vector& q = output.values;
  // Sums: tv, kl(p||q), kl(q||p), hellinger, contribution of the unresolved points.
  const Eigen::Array<double, 5, 1> sums = blocked_sum<5>(p.size(), threads, [&](Eigen::Index k) {
    const double pk = std::max(p(k), 0.0), qk = std::max(q(k), 0.0);
    const double pc = std::max(pk, kTiny), qc = std::max(qk, clamp);
    const double log_ratio = std::log(pc / qc);
    const double root = std::sqrt(pk) - std::sqrt(qk);
    // KL(p_Y || p_X) needs no clamp on p_Y (0 log 0 = 0): clamping it up would add
    // ~clamp log(clamp / p_X) at every far-tail point.
    const double kl_pq = pc * log_ratio - pc + qc;
    const double kl_qp = qk > 0.0 ? qk * std::log(qk / pc) - qk + pc : pc;
    Eigen::Array<double, 5, 1> v;
    v << 0.5 * std::fabs(pk - qk), kl_pq, kl_qp, 0.5 * root * root, qk < clamp ? kl_pq + kl_qp + pk + clamp : 0.0;
    return v;
  });
  const double h = target.grid.cell_volume();
  GridDistances out;
  out.tv_trapezoid = sums(0) * h;
  out.kl_target_output = sums(1) * h;
  out.kl_output_target = sums(2) * h;
  out.hellinger = sums(3) * h;
  out.clamp_budget = sums(4) * h;
  // TV line by line along axis 0 (spectral antiderivative between sign changes). In 2-D the
  // line integrals g(x1) = int |f(x0, x1)| dx0 are summed by the trapezoidal rule over lines
  // refined R = clamp(8192 / N, 4, 32) times along axis 1 by exact trigonometric (zero-padded
  // DFT) interpolation of f: g has |x1 - a|^{3/2} singularities where the zero curve of f is
  // tangent to the lines, so that rule is O((h1 / R)^{5/2}).
  const UniformGrid& g = target.grid;
  const int n = g.points;
  const int refine = g.dim == 1 ? 1 : std::clamp(kTvRefinedLines / n, 4, 32);
  const int lines = g.dim == 1 ? 1 : n * refine;
  const double eps = kTvZeroRelative * target.values.maxCoeff();
  Vector difference = p - q;
  if (g.dim == 2) {
    // Column j0 (stride n) -> n * refine values; refined row r is x1 = lower + r h1 / refine.
    Vector refined(static_cast<Eigen::Index>(n) * lines);
    const int long_n = n * refine;
#pragma omp parallel num_threads(resolve_threads(threads))
    {
      Eigen::FFT<double> fft;
      std::vector<std::complex<double>> buffer(static_cast<std::size_t>(n)), spectrum(static_cast<std::size_t>(n));
      std::vector<std::complex<double>> long_spectrum(static_cast<std::size_t>(long_n)),
          long_buffer(static_cast<std::size_t>(long_n));
#pragma omp for schedule(static)
      for (int j0 = 0; j0 < n; ++j0) {
        for (int j = 0; j < n; ++j) buffer[j] = difference(j0 + static_cast<Eigen::Index>(n) * j);
        fft.fwd(spectrum, buffer);
        std::fill(long_spectrum.begin(), long_spectrum.end(), std::complex<double>(0.0, 0.0));
        for (int m = 0; m < n / 2; ++m) long_spectrum[m] = spectrum[m];
        for (int m = 1; m < n / 2; ++m) long_spectrum[long_n - m] = spectrum[n - m];
        long_spectrum[n / 2] = 0.5 * spectrum[n / 2];            // split the Nyquist term
        long_spectrum[long_n - n / 2] = 0.5 * spectrum[n / 2];   // (keeps the interpolant real)
        fft.inv(long_buffer, long_spectrum);
        for (int r = 0; r < long_n; ++r)
          refined(j0 + static_cast<Eigen::Index>(n) * r) = refine * long_buffer[r].real();
      }
    }
    difference.swap(refined);
  }
  std::vector<double> line_integrals(static_cast<std::size_t>(lines));
  auto one_line = [&](Eigen::FFT<double>& fft, std::vector<std::complex<double>>& buffer,
                      std::vector<std::complex<double>>& spectrum, int line) {
    line_integrals[static_cast<std::size_t>(line)] = line_abs_integral(
        difference.data() + static_cast<Eigen::Index>(line) * n, 1, n, g.spacing[0], eps, fft, buffer, spectrum);
  };
  if (lines == 1) {
    Eigen::FFT<double> fft;
    std::vector<std::complex<double>> buffer(static_cast<std::size_t>(n)), spectrum(static_cast<std::size_t>(n));
    one_line(fft, buffer, spectrum, 0);
  } else {
#pragma omp parallel num_threads(resolve_threads(threads))
    {
      Eigen::FFT<double> fft;
      std::vector<std::complex<double>> buffer(static_cast<std::size_t>(n)), spectrum(static_cast<std::size_t>(n));
#pragma omp for schedule(static)
      for (int line = 0; line < lines; ++line) one_line(fft, buffer, spectrum, line);
    }
  }
  double tv = 0.0;
  for (double v : line_integrals) tv += v;
  out.tv = 0.5 * tv * (g.dim == 2 ? g.spacing[1] / refine : 1.0);
  out.clamp_budget += eps * static_cast<double>(g.size()) * h;
  if (g.dim == 1) out.w2 = grid_w2_1d(target, output);
  return out;
}

double grid_w2_1d(const GridDensity& p, const GridDensity& q) {
  require(p.grid.dim == 1 && q.grid.dim == 1 && p.values.size() == q.values.size() &&
              p.grid.lower[0] == q.grid.lower[0] && p.grid.spacing[0] == q.grid.spacing[0],
          "grid_law: W2 needs two 1-D densities on the same grid");
  const Eigen::Index n = p.values.size();
  const double h = p.grid.spacing[0];
  const double edge0 = p.grid.lower[0] - 0.5 * h;
  const double mass_p = p.values.cwiseMax(0.0).sum(), mass_q = q.values.cwiseMax(0.0).sum();
  if (!(mass_p > 0.0) || !(mass_q > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  // Two-pointer sweep over u in [0, 1]: on each interval between consecutive cumulative
  // masses of either law both quantile functions are linear, so the integral of their squared
  // difference is exact: (u1 - u0)(D0^2 + D0 D1 + D1^2)/3.
  Eigen::Index i = 0, k = 0;
  double cum_p = 0.0, cum_q = 0.0;  // cumulative mass before cells i and k
  double u = 0.0, sum = 0.0;
  auto cell_mass = [](const GridDensity& d, Eigen::Index j, double mass) { return std::max(d.values(j), 0.0) / mass; };
  auto quantile = [&](Eigen::Index j, double cum, double m, double at) {
    return edge0 + h * (static_cast<double>(j) + (m > 0.0 ? std::clamp((at - cum) / m, 0.0, 1.0) : 0.0));
  };
  while (i < n && k < n) {
    const double mp = cell_mass(p, i, mass_p), mq = cell_mass(q, k, mass_q);
    const double end_p = cum_p + mp, end_q = cum_q + mq;
    const double next = std::min(end_p, end_q);
    if (next > u) {
      const double d0 = quantile(i, cum_p, mp, u) - quantile(k, cum_q, mq, u);
      const double d1 = quantile(i, cum_p, mp, next) - quantile(k, cum_q, mq, next);
      sum += (next - u) * (d0 * d0 + d0 * d1 + d1 * d1) / 3.0;
      u = next;
    }
    if (end_p <= end_q) {
      cum_p = end_p;
      ++i;
    } else {
      cum_q = end_q;
      ++k;
    }
  }
  return std::sqrt(sum);
}

// ---------------------------------------------------------------------------------------------
// The estimator

GridLawEstimator::GridLawEstimator(GridLawOptions options) : options_(options) {
  require(options.points == 0 || (options.points >= 32 && options.points % 2 == 0),
          "estimator 'grid_law': points = " + std::to_string(options.points) + " must be 0 (default) or even and >= 32");
  require(std::isfinite(options.half_width) && options.half_width >= 0.0,
          "estimator 'grid_law': half_width = " + format_double(options.half_width) + " must be >= 0 (0 = from moments)");
  require(options.order >= 4 && options.order <= 12 && options.order % 2 == 0,
          "estimator 'grid_law': order = " + std::to_string(options.order) + " must be even and in [4, 12]");
}

std::optional<std::string> GridLawEstimator::unsupported_reason(const EstimationProblem& problem) const {
  const int d = problem.target.dim();
  if (d > 2) return "grid law propagation needs d <= 2 (d = " + std::to_string(d) + ")";
  if (!problem.score.has_jacobian()) return std::string("the score model provides no Jacobian");
  const int steps = problem.grid.steps(), stop = problem.run.stop_index;
  if (stop < 0 || stop >= steps) return "stop_index " + std::to_string(stop) + " is not below T = " + std::to_string(steps);
  for (int t = steps; t > stop; --t) {
    if (problem.sampler.stochastic_score_substeps(StepContext{problem.grid, t, t == stop + 1, steps - stop}).empty())
      return "sampler '" + problem.sampler.name() + "' has no pre-noise / score map / post-noise step form (t = " +
             std::to_string(t) + ")";
  }
  if (options_.half_width == 0.0) {
    const bool initial = problem.run.initialisation != Initialisation::kExactMarginal ||
                         problem.target.moments(problem.grid.level(steps)).has_value();
    if (!initial || !problem.target.moments(problem.grid.level(stop)))
      return std::string("the target gives no closed-form moments to size the grid box (set half_width)");
  }
  return std::nullopt;
}

void GridLawEstimator::check_resolution(const EstimationProblem& problem) const {
  const std::optional<double> narrowest =
      narrowest_component_sd(problem.target, problem.grid.level(problem.run.stop_index));
  if (!narrowest) return;
  const double scale = std::fmin(1.0, *narrowest);
  const UniformGrid grid = grid_law_grid(problem, options_);
  for (int i = 0; i < grid.dim; ++i) {
    const double h = grid.spacing[i];
    if (h * kGridPointsPerSd <= scale) continue;
    // Smallest even N with 2 L_i / N <= scale / kGridPointsPerSd.
    auto needed = static_cast<long>(std::ceil(2.0 * grid.half_width(i) * kGridPointsPerSd / scale));
    needed += needed % 2;
    std::ostringstream rule;
    rule.precision(3);
    rule << "grid spacing h = " << h << " on the box " << grid.describe() << " (axis " << i
         << ") is coarser than the narrowest standard deviation " << scale
         << " of the laws propagated (target components at the comparison level, T = " << problem.grid.steps()
         << ") / " << kGridPointsPerSd << ": grid_law needs >= " << kGridPointsPerSd
         << " grid points per standard deviation (so that its n/2 floor grid keeps one); points >= " << needed
         << " here";
    throw ParameterError("estimator 'grid_law'", "points",
                         options_.points > 0 ? std::to_string(options_.points)
                                             : "0 (default " + std::to_string(grid.points) + ")",
                         rule.str());
  }
}

std::vector<Estimate> GridLawEstimator::estimate(const EstimationProblem& problem) const {
  if (const auto reason = unsupported_reason(problem)) throw InvalidArgument(*reason);
  std::vector<const char*> metrics = {"tv", "kl_target_output", "kl_output_target", "hellinger"};
  if (problem.target.dim() == 1) metrics.push_back("w2");
  const UniformGrid fine_grid = grid_law_grid(problem, options_);
  const UniformGrid coarse_grid = fine_grid.with_points(fine_grid.points / 2);
  std::string method = "grid_law(d=" + std::to_string(fine_grid.dim) + "," + fine_grid.describe() +
                       ",order=" + std::to_string(options_.order);
  const GridLawResult fine = propagate_grid_law(problem, fine_grid, options_.order);
  std::vector<Estimate> out;
  if (fine.status != GridLawStatus::kOk) {
    for (const char* m : metrics) out.push_back(failed_estimate(m, method + ") FAILED " + fine.message, fine.message));
    return out;
  }
  const NoiseLevel& level = problem.grid.level(problem.run.stop_index);
  const GridDensity target_fine = target_density_on_grid(problem.target, level, fine_grid, problem.run.threads);
  const GridDistances d_fine = grid_distances(target_fine, fine.output, problem.run.threads);
  const GridLawResult coarse = propagate_grid_law(problem, coarse_grid, options_.order);
  const double output_mass_defect = std::fabs(1.0 - fine.output.mass());
  const double truncation = fine.wrap_mass + std::fabs(1.0 - fine.initial_mass) + std::fabs(1.0 - target_fine.mass()) +
                            output_mass_defect + d_fine.clamp_budget;
  double fine_values[5] = {d_fine.tv, d_fine.kl_target_output, d_fine.kl_output_target, d_fine.hellinger, d_fine.w2};
  double coarse_values[5];
  if (coarse.status == GridLawStatus::kOk) {
    const GridDistances d_coarse =
        grid_distances(target_density_on_grid(problem.target, level, coarse_grid, problem.run.threads), coarse.output,
                       problem.run.threads);
    coarse_values[0] = d_coarse.tv;
    coarse_values[1] = d_coarse.kl_target_output;
    coarse_values[2] = d_coarse.kl_output_target;
    coarse_values[3] = d_coarse.hellinger;
    coarse_values[4] = d_coarse.w2;
  } else {
    for (double& v : coarse_values) v = std::numeric_limits<double>::infinity();
  }
  method += ",floor=|n-n/2|+truncation,mass_defect=" + format_double(output_mass_defect) +
            ",truncation=" + format_double(truncation) + ")";
  // The truncation budget is an L1 (mass) bound; W2 moves mass across the box, so it is
  // scaled by the box width for the W2 floor (W2^2 <= width^2 TV).
  const double width = 2.0 * fine_grid.half_width(0);
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    const double budget = i == 4 ? width * std::sqrt(truncation) : truncation;
    out.push_back({metrics[i], fine_values[i], 0.0, std::fabs(fine_values[i] - coarse_values[i]) + budget,
                   EstimateKind::kExact, method});
  }
  return out;
}

}  // namespace dmconv::estimators
