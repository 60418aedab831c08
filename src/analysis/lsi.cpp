#include "analysis/lsi.hpp"

#include <Eigen/Dense>
#include <Eigen/Eigenvalues>
#include <boost/math/quadrature/exp_sinh.hpp>
#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <sstream>
#include <tuple>

#include "core/error.hpp"
#include "core/optimal_transport.hpp"
#include "core/rng.hpp"

namespace dmconv {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// ----- Bakry-Emery local search -----

// lambda_min(-J(x)) and its unit eigenvector.
double smallest_curvature(const Target& target, const NoiseLevel& level, const Vector& x, Vector* vector) {
  const Matrix jacobian = target.score_jacobian(level, x);
  const Eigen::SelfAdjointEigenSolver<Matrix> solver(-jacobian);
  if (vector != nullptr) *vector = solver.eigenvectors().col(0);
  return solver.eigenvalues()(0);
}

struct LocalResult {
  double value = kNaN;
  Vector point;
};

LocalResult local_descent(const Target& target, const NoiseLevel& level, Vector x, const BakryEmeryOptions& options) {
  const int d = target.dim();
  Vector v;
  double value = smallest_curvature(target, level, x, &v);
  double step = 0.1 * (1.0 + x.norm());
  Vector gradient(d);
  // The 2 d displaced points as one batch (columns 2i, 2i + 1: x +- h e_i), each with direction v:
  // one call of score_jacobian_apply gives every J(x +- h e_i) v (the mixture kernel instead of
  // 2 d dense Jacobians).
  Matrix displaced(d, 2 * d), directions(d, 2 * d), products(d, 2 * d);
  for (int iteration = 0; iteration < options.max_iterations && std::isfinite(value); ++iteration) {
    for (int i = 0; i < d; ++i) {
      const double h = options.gradient_step * (1.0 + std::abs(x(i)));
      displaced.col(2 * i) = x;
      displaced.col(2 * i + 1) = x;
      displaced(i, 2 * i) += h;
      displaced(i, 2 * i + 1) -= h;
      directions.col(2 * i) = v;
      directions.col(2 * i + 1) = v;
    }
    target.score_jacobian_apply(level, displaced, directions, products);
    for (int i = 0; i < d; ++i)
      gradient(i) = -v.dot(products.col(2 * i) - products.col(2 * i + 1)) / (displaced(i, 2 * i) - displaced(i, 2 * i + 1));
    const double norm = gradient.norm();
    if (!(norm > 0.0) || !std::isfinite(norm)) break;
    bool improved = false;
    while (step > 1e-12 * (1.0 + x.norm())) {
      const Vector trial = x - (step / norm) * gradient;
      Vector trial_v;
      const double trial_value = smallest_curvature(target, level, trial, &trial_v);
      if (trial_value < value) {
        const double change = value - trial_value;
        x = trial;
        v = trial_v;
        value = trial_value;
        step *= 2.0;
        improved = change >= options.tolerance * (1.0 + std::abs(value));
        break;
      }
      step *= 0.5;
    }
    if (!improved) break;
  }
  return {value, x};
}

}  // namespace

void BakryEmeryOptions::validate() const {
  require(sample_starts >= 0, "bakry_emery_bound: sample_starts = " + std::to_string(sample_starts) + " must be >= 0");
  require(max_iterations >= 1, "bakry_emery_bound: max_iterations = " + std::to_string(max_iterations) + " must be >= 1");
  require(gradient_step > 0.0 && gradient_step < 1.0, "bakry_emery_bound: gradient_step must lie in (0, 1)");
  require(tolerance >= 0.0, "bakry_emery_bound: tolerance must be >= 0");
  require(agreement > 0.0, "bakry_emery_bound: agreement must be > 0");
  require(!support_radius || (*support_radius >= 0.0 && std::isfinite(*support_radius)),
          "bakry_emery_bound: support_radius must be finite and >= 0");
}

std::string to_string(BakryEmeryBound::Status status) {
  switch (status) {
    case BakryEmeryBound::Status::kClosedForm: return "closed_form";
    case BakryEmeryBound::Status::kPositive: return "positive";
    case BakryEmeryBound::Status::kVacuous: return "vacuous";
  }
  return "unknown";
}

BakryEmeryTime bakry_emery_time(const Target& target, double threshold, double lo, double hi, int halvings,
                                const BakryEmeryOptions& options) {
  require(lo > 0.0 && lo < hi && halvings >= 1, "bakry_emery_time: need 0 < lo < hi and halvings >= 1");
  BakryEmeryTime result;
  bool evaluated_hi = false;
  for (int i = 0; i < halvings; ++i) {
    const double mid = 0.5 * (lo + hi);
    BakryEmeryBound be = bakry_emery_bound(target, NoiseLevel::from_ou_time(mid), options);
    if (be.kappa < threshold) {
      lo = mid;
    } else {
      hi = mid;
      result.at = std::move(be);
      evaluated_hi = true;
    }
  }
  if (!evaluated_hi) result.at = bakry_emery_bound(target, NoiseLevel::from_ou_time(hi), options);
  result.t1 = hi;
  result.bracket = hi - lo;
  result.reached = result.at.kappa >= threshold;
  return result;
}

double support_radius_time(double support_radius, double delta) {
  return 0.5 * std::log((1.0 + support_radius * support_radius) / delta);
}

double support_radius_lsi_bound(const NoiseLevel& level, double support_radius) {
  require(support_radius >= 0.0, "support_radius_lsi_bound: R must be >= 0");
  require(level.one_minus_abar() > 0.0, "support_radius_lsi_bound: the data level has no LSI bound (1 - abar = 0)");
  const double a = level.abar();
  const double s2 = level.one_minus_abar();
  // 1 - a (1 + R^2) = (1 - a) - a R^2, formed from the accurate 1 - a.
  return (s2 - a * support_radius * support_radius) / (s2 * s2);
}

std::optional<double> known_support_radius(const Target& target) { return target.support_radius(); }

BakryEmeryBound bakry_emery_bound(const Target& target, const NoiseLevel& level, const BakryEmeryOptions& options) {
  options.validate();
  require(level.one_minus_abar() > 0.0, "bakry_emery_bound: the data level (1 - abar = 0) is not supported");
  BakryEmeryBound result;
  result.support_radius = options.support_radius ? options.support_radius : known_support_radius(target);
  if (result.support_radius) result.analytic_bound = support_radius_lsi_bound(level, *result.support_radius);
  const int d = target.dim();

  const GaussianMixtureView* mixture = target.gaussian_mixture();
  if (mixture != nullptr && mixture->size() == 1) {
    Matrix c = level.abar() * mixture->covariance(0);
    c.diagonal().array() += level.one_minus_abar();
    const Eigen::SelfAdjointEigenSolver<Matrix> solver(c, Eigen::EigenvaluesOnly);
    result.kappa = 1.0 / solver.eigenvalues()(d - 1);
    result.minimiser = level.sqrt_abar() * mixture->mean(0);
    result.status = BakryEmeryBound::Status::kClosedForm;
    result.message = "Gaussian: kappa = 1/lambda_max(a Sigma + (1-a) I) exactly (J* is constant)";
    return result;
  }

  std::vector<Vector> starts;
  starts.push_back(Vector::Zero(d));
  if (mixture != nullptr) {
    for (int k = 0; k < mixture->size(); ++k) starts.push_back(level.sqrt_abar() * mixture->mean(k));
  }
  if (options.sample_starts > 0) {
    const RandomStreams streams(options.seed, 0);
    const Matrix samples =
        target.sample(level, streams, 0, options.sample_starts, StreamTag(StreamPurpose::kTest, 0x15b1));
    for (Eigen::Index j = 0; j < samples.cols(); ++j) starts.push_back(samples.col(j));
  }
  // The local searches are independent: run in parallel, then reduced in start order (the same
  // bits for every thread count).
  std::vector<LocalResult> locals(starts.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (std::size_t s = 0; s < starts.size(); ++s) locals[s] = local_descent(target, level, starts[s], options);
  std::vector<double> values;
  result.kappa = kInf;
  for (const LocalResult& local : locals) {
    values.push_back(local.value);
    if (local.value < result.kappa) {
      result.kappa = local.value;
      result.minimiser = local.point;
    }
  }
  result.starts = static_cast<int>(starts.size());
  for (double value : values)
    if (std::abs(value - result.kappa) <= options.agreement * (1.0 + std::abs(result.kappa))) ++result.starts_at_best;
  std::ostringstream message;
  message << result.starts_at_best << " of " << result.starts << " local searches reached kappa = " << result.kappa;
  if (result.kappa > 0.0) {
    result.status = BakryEmeryBound::Status::kPositive;
    message << " > 0: LSI(kappa) by Bakry-Emery, provided the search found the global infimum";
  } else {
    result.status = BakryEmeryBound::Status::kVacuous;
    message << " <= 0: the Bakry-Emery bound is vacuous at this level (p_t is not strongly log-concave)";
  }
  result.message = message.str();
  return result;
}

// ----- 1-D grids -----

namespace {

struct Grid1d {
  double lower, upper, h;
  Vector x;       // cell centres
  Vector log_pi;  // log pi_i (sums to 1)
  Vector log_c;   // log c_{i+1/2}, N - 1 entries
  Vector diag, sub;  // A = M^{-1/2} K M^{-1/2}
};

Grid1d make_grid(const Target& target, const NoiseLevel& level, double lower, double upper, int cells) {
  Grid1d g;
  g.lower = lower;
  g.upper = upper;
  g.h = (upper - lower) / cells;
  Matrix points(1, 2 * cells - 1);
  for (int i = 0; i < 2 * cells - 1; ++i) points(0, i) = lower + g.h * (0.5 * (i + 1));
  // even columns: centres x_i; odd columns: midpoints x_i + h/2
  const Vector log_p = target.log_density(level, points);
  g.x.resize(cells);
  g.log_pi.resize(cells);
  g.log_c.resize(cells - 1);
  for (int i = 0; i < cells; ++i) {
    g.x(i) = points(0, 2 * i);
    g.log_pi(i) = log_p(2 * i);
  }
  for (int i = 0; i + 1 < cells; ++i) g.log_c(i) = log_p(2 * i + 1);
  const double max_log = g.log_pi.maxCoeff();
  const double log_z = max_log + std::log((g.log_pi.array() - max_log).exp().sum()) + std::log(g.h);
  g.log_pi.array() += std::log(g.h) - log_z;
  g.log_c.array() -= log_z + std::log(g.h);
  g.diag = Vector::Zero(cells);
  g.sub.resize(cells - 1);
  for (int i = 0; i + 1 < cells; ++i) {
    g.diag(i) += std::exp(g.log_c(i) - g.log_pi(i));
    g.diag(i + 1) += std::exp(g.log_c(i) - g.log_pi(i + 1));
    g.sub(i) = -std::exp(g.log_c(i) - 0.5 * (g.log_pi(i) + g.log_pi(i + 1)));
  }
  return g;
}

TridiagonalSpectrum solve_grid(const Grid1d& g, bool vectors) {
  TridiagonalSpectrum spectrum = tridiagonal_spectrum(g.diag, g.sub, vectors, TridiagonalOrder::kAsGiven);
  if (!spectrum.converged) spectrum = tridiagonal_spectrum(g.diag, g.sub, vectors, TridiagonalOrder::kReversed);
  require(spectrum.converged, "spectral constants: the tridiagonal eigen-solver did not converge in either order (" +
                                  std::to_string(g.diag.size()) + " cells)");
  return spectrum;
}

// The ratio 2 E(f) / Ent_pi(f^2) at f = exp(u/2), u = B a, and its gradient in a.
class LsiObjective {
 public:
  LsiObjective(const Grid1d& g, Matrix basis) : g_(g), basis_(std::move(basis)) {}
  // Every sum is formed relative to e^M, M = max_i (log pi_i + u_i) (R is invariant under a
  // common factor of E and Ent), with f_j f_{j+1}, f_j^2 as exponentials of log-weights and the
  // differences by expm1, so no weight or f underflows.
  double operator()(const Vector& a, Vector& gradient) const {
    const Eigen::Index n = g_.x.size();
    const Vector u = basis_ * a;
    const Vector ell = g_.log_pi + u;
    const double top = ell.maxCoeff();
    const Vector w = (ell.array() - top).exp();  // pi_i f_i^2 / e^M
    const double log_s = std::log(w.sum());      // log(sum pi f^2) - M
    // log(f_i^2 / S) with S = sum pi f^2 = e^{M + log_s}
    Vector log_ratio(n);
    for (Eigen::Index i = 0; i < n; ++i) log_ratio(i) = u(i) - top - log_s;
    // Ent = S sum_i pi_i phi(r_i), r_i = f_i^2/S, phi(r) = r log r - r + 1 >= 0 (sum pi (r - 1) = 0):
    // phi(e^x) = sum_{k>=2} (k-1) x^k / k! (series for |x| < 1e-3); non-negative terms, so Ent keeps its relative accuracy as f -> constant (Ent ~ |a|^2),
    // where sum pi f^2 log(f^2/S) would be dominated by rounding.
    double phi_sum = 0.0;
    Vector grad_entropy(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      const double x = log_ratio(i);
      grad_entropy(i) = w(i) * x;  // d Ent / d u_i = pi_i f_i^2 log(f_i^2 / S), scaled by e^{-M}
      const double phi_pi = std::abs(x) < 1e-3
                                ? std::exp(g_.log_pi(i)) * x * x * (0.5 + x * (1.0 / 3.0 + x * (0.125 + x / 30.0)))
                                : std::exp(g_.log_pi(i) + x) * (x - 1.0) + std::exp(g_.log_pi(i));
      phi_sum += phi_pi;
    }
    const double entropy = std::exp(log_s) * phi_sum;
    double energy = 0.0;
    Vector grad_energy = Vector::Zero(n);
    for (Eigen::Index j = 0; j + 1 < n; ++j) {
      const double delta = u(j + 1) - u(j);
      const double high = std::max(u(j), u(j + 1));
      const double m1 = std::expm1(-0.5 * std::abs(delta));
      energy += std::exp(g_.log_c(j) + high - top) * m1 * m1;  // c (f_{j+1} - f_j)^2
      // c f_j (f_{j+1} - f_j) and c f_{j+1} (f_{j+1} - f_j), m1 = expm1(-|delta|/2):
      //   delta >= 0: -e^{mid} m1, -e^{u_{j+1}} m1;   delta < 0: e^{u_j} m1, e^{mid} m1.
      const double mid = 0.5 * (u(j) + u(j + 1));
      const double lower_term = delta >= 0.0 ? -std::exp(g_.log_c(j) + mid - top) * m1
                                             : std::exp(g_.log_c(j) + u(j) - top) * m1;
      const double upper_term = delta >= 0.0 ? -std::exp(g_.log_c(j) + u(j + 1) - top) * m1
                                             : std::exp(g_.log_c(j) + mid - top) * m1;
      grad_energy(j) -= lower_term;
      grad_energy(j + 1) += upper_term;
    }
    if (!(entropy > 0.0) || !std::isfinite(entropy) || !std::isfinite(energy)) {
      gradient = Vector::Zero(a.size());
      return kInf;
    }
    const Vector grad_u = 2.0 * (grad_energy * entropy - energy * grad_entropy) / (entropy * entropy);
    gradient = basis_.transpose() * grad_u;
    return 2.0 * energy / entropy;
  }

 private:
  const Grid1d& g_;
  Matrix basis_;
};

struct MinimiseResult {
  double value;
  int iterations;
  bool converged;
};

// L-BFGS (memory 8), Armijo backtracking, stops on a relative decrease < 1e-12 over 10 iterations.
MinimiseResult lbfgs(const LsiObjective& objective, Vector a, int max_iterations) {
  constexpr int kMemory = 8;
  Vector g;
  double value = objective(a, g);
  std::deque<Vector> s_list, y_list;
  std::deque<double> history{value};
  for (int iteration = 1; iteration <= max_iterations; ++iteration) {
    Vector q = g;
    std::vector<double> alpha(s_list.size());
    for (int k = static_cast<int>(s_list.size()) - 1; k >= 0; --k) {
      alpha[static_cast<std::size_t>(k)] = s_list[static_cast<std::size_t>(k)].dot(q) / y_list[static_cast<std::size_t>(k)].dot(s_list[static_cast<std::size_t>(k)]);
      q -= alpha[static_cast<std::size_t>(k)] * y_list[static_cast<std::size_t>(k)];
    }
    if (!s_list.empty()) q *= s_list.back().dot(y_list.back()) / y_list.back().squaredNorm();
    for (std::size_t k = 0; k < s_list.size(); ++k) {
      const double beta = y_list[k].dot(q) / y_list[k].dot(s_list[k]);
      q += (alpha[k] - beta) * s_list[k];
    }
    Vector direction = -q;
    double slope = direction.dot(g);
    if (!(slope < 0.0)) {
      direction = -g;
      slope = -g.squaredNorm();
      s_list.clear();
      y_list.clear();
    }
    if (!(slope < 0.0)) return {value, iteration, true};
    double t = s_list.empty() ? 1.0 / std::max(1.0, direction.norm()) : 1.0;
    Vector trial_g;
    double trial = kInf;
    Vector trial_a;
    while (t > 1e-20) {
      trial_a = a + t * direction;
      trial = objective(trial_a, trial_g);
      if (trial <= value + 1e-4 * t * slope) break;
      t *= 0.5;
    }
    if (!(t > 1e-20)) return {value, iteration, true};  // no further decrease at double precision
    const Vector s = trial_a - a, y = trial_g - g;
    if (s.dot(y) > 1e-300) {
      s_list.push_back(s);
      y_list.push_back(y);
      if (static_cast<int>(s_list.size()) > kMemory) {
        s_list.pop_front();
        y_list.pop_front();
      }
    }
    a = trial_a;
    g = trial_g;
    value = trial;
    history.push_back(value);
    if (history.size() > 11) history.pop_front();
    if (history.size() == 11 && history.front() - value <= 1e-12 * std::abs(value)) return {value, iteration, true};
  }
  return {value, max_iterations, false};
}

GridConstants constants_on_grid(const Grid1d& g, int modes, int max_iterations) {
  const Eigen::Index n = g.x.size();
  const TridiagonalSpectrum spectrum = solve_grid(g, modes > 0);
  GridConstants result;
  result.poincare = spectrum.values(1);
  if (modes == 0) {
    result.log_sobolev = kNaN;
    return result;
  }
  const Vector inv_sqrt_pi = (-0.5 * g.log_pi.array()).exp();
  Matrix basis(n, modes);
  const double first = std::max(spectrum.values(1), std::numeric_limits<double>::min());
  // The QR eigenvectors v_k of A have absolute (not relative) accuracy ~1e-16, so phi = v / sqrt(pi)
  // is rounding noise where pi_i < 1e-16 max pi: phi is used where pi_i >= 1e-16 max pi (relative
  // accuracy ~1e-8 or better) and continued flat beyond (any basis gives an upper bound; the far
  // tails carry no weight).
  const double log_pi_max = g.log_pi.maxCoeff();
  Eigen::Index first_trusted = 0, last_trusted = n - 1;
  while (g.log_pi(first_trusted) < log_pi_max - 36.8) ++first_trusted;
  while (g.log_pi(last_trusted) < log_pi_max - 36.8) --last_trusted;
  for (int k = 0; k < modes; ++k) {
    Vector phi = spectrum.vectors.col(k + 1).cwiseProduct(inv_sqrt_pi);
    for (Eigen::Index i = 0; i < first_trusted; ++i) phi(i) = phi(first_trusted);
    for (Eigen::Index i = last_trusted + 1; i < n; ++i) phi(i) = phi(last_trusted);
    phi /= phi.cwiseAbs().maxCoeff();
    const double lambda = std::max(spectrum.values(k + 1), first);
    basis.col(k) = phi / std::sqrt(lambda / first);
  }
  const LsiObjective objective(g, basis);
  double best = kInf;
  for (double beta : {1.0, 4.0}) {
    Vector a = Vector::Zero(modes);
    a(0) = beta;
    const MinimiseResult r = lbfgs(objective, a, max_iterations);
    if (r.value < best) {
      best = r.value;
      result.iterations = r.iterations;
      result.converged = r.converged;
    }
  }
  result.log_sobolev = std::min(result.poincare, best);
  return result;
}

// Default interval and the mass outside it.
std::pair<double, double> default_interval(const Target& target, const NoiseLevel& level) {
  if (const auto moments = target.moments(level)) {
    const double mean = moments->mean(0), sd = std::sqrt(moments->covariance(0, 0));
    return {mean - 12.0 * sd, mean + 12.0 * sd};
  }
  const Matrix samples = target.sample(level, RandomStreams(20260403, 0), 0, 4096, StreamTag(StreamPurpose::kTest, 0x15b2));
  const double lo = samples.minCoeff(), hi = samples.maxCoeff();
  return {lo - 0.5 * (hi - lo), hi + 0.5 * (hi - lo)};
}

double outside_mass(const Target& target, const NoiseLevel& level, double lower, double upper) {
  const auto density = [&](double x) {
    Matrix point(1, 1);
    point(0, 0) = x;
    return std::exp(target.log_density(level, point)(0));
  };
  boost::math::quadrature::exp_sinh<double> integrator;
  const double right = integrator.integrate([&](double x) { return density(x); }, upper, kInf);
  const double left = integrator.integrate([&](double x) { return density(-x); }, -lower, kInf);
  return left + right;
}

}  // namespace

void SpectralOptions::validate() const {
  require(cells >= 16 && cells % 2 == 0, "spectral constants: cells = " + std::to_string(cells) + " must be even and >= 16");
  require(modes >= 2 && modes % 2 == 0 && modes < cells / 2,
          "spectral constants: modes = " + std::to_string(modes) + " must be even, >= 2 and < cells/2");
  require(max_iterations >= 1, "spectral constants: max_iterations must be >= 1");
  require(lower.has_value() == upper.has_value(), "spectral constants: give both lower and upper, or neither");
  require(!lower || *lower < *upper, "spectral constants: lower must be < upper");
}

TridiagonalSpectrum tridiagonal_spectrum(const Vector& diagonal, const Vector& subdiagonal, bool vectors,
                                         TridiagonalOrder order) {
  const int options = vectors ? Eigen::ComputeEigenvectors : Eigen::EigenvaluesOnly;
  const bool reversed = order == TridiagonalOrder::kReversed;
  Eigen::SelfAdjointEigenSolver<Matrix> solver;
  if (reversed) {
    solver.computeFromTridiagonal(diagonal.reverse().eval(), subdiagonal.reverse().eval(), options);
  } else {
    solver.computeFromTridiagonal(diagonal, subdiagonal, options);
  }
  TridiagonalSpectrum spectrum;
  if (solver.info() != Eigen::Success) return spectrum;
  spectrum.converged = true;
  spectrum.values = solver.eigenvalues();
  if (vectors) spectrum.vectors = reversed ? Matrix(solver.eigenvectors().colwise().reverse()) : solver.eigenvectors();
  return spectrum;
}

GridConstants grid_constants_1d(const Target& target, const NoiseLevel& level, double lower, double upper, int cells,
                                int modes, int max_iterations) {
  require(target.dim() == 1, "spectral constants: the target must be 1-D (dim = " + std::to_string(target.dim()) + ")");
  require(lower < upper && cells >= 8 && modes >= 0 && modes < cells - 1,
          "grid_constants_1d: need lower < upper, cells >= 8 and 0 <= modes < cells - 1");
  return constants_on_grid(make_grid(target, level, lower, upper, cells), modes, max_iterations);
}

SpectralConstants spectral_constants_1d(const Target& target, const NoiseLevel& level, const SpectralOptions& options) {
  options.validate();
  require(target.dim() == 1, "spectral constants: the target must be 1-D (dim = " + std::to_string(target.dim()) + ")");
  SpectralConstants result;
  std::tie(result.lower, result.upper) =
      options.lower ? std::make_pair(*options.lower, *options.upper) : default_interval(target, level);
  result.cells = options.cells;
  const double mass = outside_mass(target, level, result.lower, result.upper);
  const GridConstants fine = grid_constants_1d(target, level, result.lower, result.upper, options.cells, options.modes,
                                               options.max_iterations);
  const GridConstants coarse = grid_constants_1d(target, level, result.lower, result.upper, options.cells / 2,
                                                 options.modes, options.max_iterations);
  const GridConstants few = grid_constants_1d(target, level, result.lower, result.upper, options.cells,
                                              options.modes / 2, options.max_iterations);
  auto fill = [&](SpectralConstant& c, double value, double coarse_value, double mode_error) {
    c.value = value;
    c.coarse_value = coarse_value;
    c.refinement_error = std::abs(value - coarse_value);
    c.mode_error = mode_error;
    c.truncation_mass = mass;
    c.error_budget = c.refinement_error + c.mode_error + mass * std::abs(value);
  };
  fill(result.poincare, fine.poincare, coarse.poincare, 0.0);
  fill(result.log_sobolev, fine.log_sobolev, coarse.log_sobolev, std::abs(fine.log_sobolev - few.log_sobolev));
  result.log_sobolev.iterations = fine.iterations;
  result.log_sobolev.converged = fine.converged;
  return result;
}

// ----- 3(a) Fokker-Planck KL decay -----

void KlDecayOptions::validate() const {
  grid.validate();
  require(initial_variance > 0.0, "langevin_kl_decay_1d: initial_variance must be > 0");
  require(kl_min > 0.0 && kl_min < kl_max, "langevin_kl_decay_1d: need 0 < kl_min < kl_max");
  for (std::size_t i = 0; i < times.size(); ++i)
    require(times[i] >= 0.0 && (i == 0 || times[i] > times[i - 1]),
            "langevin_kl_decay_1d: times must be >= 0 and increasing");
}

KlDecay langevin_kl_decay_1d(const Target& target, const NoiseLevel& level, const KlDecayOptions& options) {
  options.validate();
  require(target.dim() == 1, "langevin_kl_decay_1d: the target must be 1-D");
  KlDecay result;
  result.times = options.times;
  if (result.times.empty())
    for (int i = 0; i <= 80; ++i) result.times.push_back(0.25 * i);
  const auto [lower, upper] = options.grid.lower ? std::make_pair(*options.grid.lower, *options.grid.upper)
                                                 : default_interval(target, level);
  const Grid1d g = make_grid(target, level, lower, upper, options.grid.cells);
  const TridiagonalSpectrum spectrum = solve_grid(g, true);
  const Eigen::Index n = g.x.size();
  // Initial law on the grid (log space), normalised: rho0_i.
  Vector log_rho0 = (-0.5 * (g.x.array() - options.initial_mean).square() / options.initial_variance).matrix();
  const double m = log_rho0.maxCoeff();
  log_rho0.array() -= m + std::log((log_rho0.array() - m).exp().sum());
  // g0 = M^{1/2} h0 = rho0 / sqrt(pi); coefficients y = V^T g0 (y_0 = 1 up to sign: dropped).
  const Vector g0 = (log_rho0.array() - 0.5 * g.log_pi.array()).exp();
  const Vector y = spectrum.vectors.transpose() * g0;
  const Vector inv_sqrt_pi = (-0.5 * g.log_pi.array()).exp();
  const Vector pi = g.log_pi.array().exp();
  const Matrix& v = spectrum.vectors;
  for (double u : result.times) {
    Vector coefficients = (-spectrum.values.array() * u).exp() * y.array();
    coefficients(0) = 0.0;
    const Vector e = (v * coefficients).cwiseProduct(inv_sqrt_pi);  // h - 1
    double kl = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) {
      const double ei = e(i);
      double phi;  // h log h - h + 1 at h = 1 + e
      if (1.0 + ei <= 0.0) {
        phi = 1.0;
      } else if (std::abs(ei) < 1e-4) {
        phi = ei * ei * (0.5 - ei / 6.0 + ei * ei / 12.0);
      } else {
        phi = (1.0 + ei) * std::log1p(ei) - ei;
      }
      kl += pi(i) * phi;
    }
    result.kl.push_back(kl);
  }
  // Log-linear least squares on the window.
  std::vector<double> us, logs;
  for (std::size_t i = 0; i < result.times.size(); ++i)
    if (result.kl[i] >= options.kl_min && result.kl[i] <= options.kl_max) {
      us.push_back(result.times[i]);
      logs.push_back(std::log(result.kl[i]));
    }
  result.points_used = static_cast<int>(us.size());
  std::ostringstream message;
  if (us.size() < 3) {
    result.rate = kNaN;
    message << "fewer than 3 points with KL in [" << options.kl_min << ", " << options.kl_max << "]";
  } else {
    Matrix design(static_cast<Eigen::Index>(us.size()), 2);
    Vector rhs(static_cast<Eigen::Index>(us.size()));
    for (std::size_t i = 0; i < us.size(); ++i) {
      design(static_cast<Eigen::Index>(i), 0) = 1.0;
      design(static_cast<Eigen::Index>(i), 1) = us[i];
      rhs(static_cast<Eigen::Index>(i)) = logs[i];
    }
    const Vector beta = design.colPivHouseholderQr().solve(rhs);
    const Vector residual = rhs - design * beta;
    const double dof = static_cast<double>(us.size()) - 2.0;
    const Matrix info = (design.transpose() * design).inverse();
    result.rate = -beta(1);
    result.rate_se = dof > 0 ? std::sqrt(residual.squaredNorm() / dof * info(1, 1)) : 0.0;
    result.window_low = us.front();
    result.window_high = us.back();
    message << "log-linear LS on " << us.size() << " points with KL in [" << options.kl_min << ", " << options.kl_max
            << "], u in [" << result.window_low << ", " << result.window_high << "]";
  }
  result.message = message.str();
  return result;
}

// ----- 3(b) ULA W2 decay -----

void UlaW2Options::validate() const {
  require(particles >= 2, "ula_w2_decay: particles must be >= 2");
  require(step > 0.0 && std::isfinite(step), "ula_w2_decay: step must be > 0");
  require(!times.empty(), "ula_w2_decay: times must not be empty");
  for (std::size_t i = 0; i < times.size(); ++i)
    require(times[i] >= 0.0 && (i == 0 || times[i] > times[i - 1]), "ula_w2_decay: times must be >= 0 and increasing");
}

std::vector<UlaW2Point> ula_w2_decay(const Target& target, const NoiseLevel& level, const UlaW2Options& options) {
  options.validate();
  const int d = target.dim();
  const RandomStreams streams(options.seed, 0);
  Matrix y(d, options.particles);
  streams.fill_normals(0, StreamTag(StreamPurpose::kInitialState, 0), y);
  const Matrix reference = target.sample(level, streams, 0, options.particles, StreamTag(StreamPurpose::kTargetSample, 0));
  const Matrix other = target.sample(level, streams, 0, options.particles, StreamTag(StreamPurpose::kTargetSample, 1));
  const double floor = std::sqrt(exact_w2_squared(other, reference).mean_squared_cost);
  std::vector<UlaW2Point> out;
  long step_index = 0;
  Matrix score(d, options.particles), noise(d, options.particles);
  const double noise_scale = std::sqrt(2.0 * options.step);
  for (double time : options.times) {
    const long target_steps = std::lround(time / options.step);
    for (; step_index < target_steps; ++step_index) {
      target.score(level, y, score);
      streams.fill_normals(0, StreamTag(StreamPurpose::kStepNoise, static_cast<std::uint64_t>(step_index)), noise);
      y += options.step * score + noise_scale * noise;
    }
    out.push_back({static_cast<double>(step_index) * options.step,
                   std::sqrt(exact_w2_squared(y, reference).mean_squared_cost), floor});
  }
  return out;
}

}  // namespace dmconv
