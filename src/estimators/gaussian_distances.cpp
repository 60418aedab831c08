#include "estimators/gaussian_distances.hpp"

#include <algorithm>
#include <boost/math/quadrature/gauss.hpp>
#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <boost/math/quadrature/tanh_sinh.hpp>
#include <cmath>
#include <limits>
#include <numbers>
#include <sstream>
#include <vector>

#include "core/error.hpp"
#include "core/normal.hpp"
#include "core/rng.hpp"

namespace dmconv {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();
constexpr double kLog2Pi = 1.8378770664093454835606594728112352797227949472756;       // log(2 pi)

void check_law(const GaussianLaw& law, const std::string& name) {
  std::ostringstream message;
  if (law.dim() < 1) {
    message << "gaussian distance: " << name << " has dimension 0";
  } else if (law.covariance.rows() != law.dim() || law.covariance.cols() != law.dim()) {
    message << "gaussian distance: " << name << " covariance is " << law.covariance.rows() << " x "
            << law.covariance.cols() << ", expected " << law.dim() << " x " << law.dim();
  } else if (!law.mean.allFinite() || !law.covariance.allFinite()) {
    message << "gaussian distance: " << name << " has non-finite mean or covariance entries";
  } else {
    return;
  }
  throw InvalidArgument(message.str());
}

void check_pair(const GaussianLaw& law0, const GaussianLaw& law1) {
  check_law(law0, "law 0");
  check_law(law1, "law 1");
  require(law0.dim() == law1.dim(), "gaussian distance: dimensions differ (" + std::to_string(law0.dim()) +
                                        " vs " + std::to_string(law1.dim()) + ")");
}

Matrix symmetrised(const Matrix& m) { return 0.5 * (m + m.transpose()); }

// Round-off budget of a quantity computed from the pencil: relative c (d+1) u kappa.
double pencil_floor(double value, Eigen::Index d, double condition) {
  return 32.0 * static_cast<double>(d + 1) * kEps * condition * std::fabs(value);
}

// log p0(y) - log p1(y) in pencil coordinates is -1/2 sum_i g_i(y_i), with
//   g_i(y) = (-mu_i y^2 - 2 a_i y + a_i^2) / (1 + mu_i) + log1p(mu_i)
// (every term O(mu, a) when the laws are close: no cancellation of O(1) terms).
double pencil_g(double y, double a, double mu) { return (-mu * y * y - 2.0 * a * y + a * a) / (1.0 + mu) + std::log1p(mu); }

// The distinct real roots of m y^2 + 2 b y - k = 0 (ascending), computed stably.
std::vector<double> half_b_quadratic_roots(double m, double b, double k) {
  std::vector<double> roots;
  if (m == 0.0) {
    if (b != 0.0) roots.push_back(k / (2.0 * b));
    return roots;
  }
  const double discriminant = b * b + m * k;  // (2b)^2/4 + m k
  if (!(discriminant > 0.0)) return roots;    // none, or a double root (no sign change)
  const double q = -(b + std::copysign(std::sqrt(discriminant), b));
  roots.push_back(q / m);
  if (q != 0.0) roots.push_back(-k / q);
  std::sort(roots.begin(), roots.end());
  return roots;
}

// |p0 - p1| at (y1, y2) in pencil coordinates (p1 = N(0, I)), without cancellation.
double abs_density_difference(double log_p1, double ell) {
  if (ell <= 1.0) return std::exp(log_p1) * std::fabs(std::expm1(ell));
  return std::exp(log_p1 + ell) - std::exp(log_p1);  // ratio > e: benign subtraction
}

// Adaptive Gauss-Kronrod (31 points, Boost.Math) with an ABSOLUTE tolerance: a piece is
// accepted when its error estimate is below its share of abs_tol. (Boost's adaptive driver is
// relative to each piece's own value, so a piece whose integral is ~0 and whose integrand
// carries round-off noise is bisected to the maximum depth for nothing.)
template <class F>
double adaptive_gauss_kronrod(const F& f, double a, double b, double abs_tol, int depth, double* error) {
  double piece_error = 0.0;
  const double estimate = boost::math::quadrature::gauss_kronrod<double, 31>::integrate(f, a, b, 0, 0.0, &piece_error);
  if (depth == 0 || piece_error <= abs_tol || !(b - a > 4.0 * kEps * std::max(std::fabs(a), std::fabs(b)))) {
    *error += piece_error;
    return estimate;
  }
  const double mid = 0.5 * (a + b);
  return adaptive_gauss_kronrod(f, a, mid, 0.5 * abs_tol, depth - 1, error) +
         adaptive_gauss_kronrod(f, mid, b, 0.5 * abs_tol, depth - 1, error);
}

}  // namespace

double x_minus_log1p(double x) {
  if (std::fabs(x) < 0.25) {
    // sum_{k>=2} (-1)^k x^k / k = x^2 sum_{k>=2} (-1)^k x^{k-2} / k, Horner from k = 32
    // (the first omitted term is < 0.25^31 / 33 relative to x^2 / 2, i.e. < 1e-19).
    double sum = 0.0;
    for (int k = 32; k >= 2; --k) sum = sum * x + ((k % 2 == 0) ? 1.0 : -1.0) / static_cast<double>(k);
    return x * x * sum;
  }
  return x - std::log1p(x);
}

double normal_cdf_difference(double u, double v, double difference) {
  if (difference == 0.0) return 0.0;
  if (std::isnan(u) || std::isnan(v) || std::isnan(difference)) return std::numeric_limits<double>::quiet_NaN();
  const double scale = std::max(std::fabs(u), std::fabs(v));
  if (std::isfinite(scale) && std::fabs(difference) * (1.0 + scale) <= 1.0) {
    // Short interval on the scale of phi's variation: int_v^u phi = (u - v) * mean of phi,
    // by 20-point Gauss-Legendre (phi is entire; the error is far below round-off). The
    // supplied difference carries magnitude and sign, also when u and v round to one double.
    const double mid = 0.5 * (u + v);
    const double half = 0.5 * difference;
    return half * boost::math::quadrature::gauss<double, 20>::integrate(
                      [&](double s) { return normal_pdf(mid + half * s); }, -1.0, 1.0);
  }
  if (u >= 0.0 && v >= 0.0) return normal_upper_tail(v) - normal_upper_tail(u);
  if (u <= 0.0 && v <= 0.0) return normal_upper_tail(-u) - normal_upper_tail(-v);
  // Opposite signs and a long interval: Phi(u) - Phi(v) has no severe cancellation.
  const double phi_u = u >= 0.0 ? 1.0 - normal_upper_tail(u) : normal_upper_tail(-u);
  const double phi_v = v >= 0.0 ? 1.0 - normal_upper_tail(v) : normal_upper_tail(-v);
  return phi_u - phi_v;
}

GaussianPencil gaussian_pencil(const GaussianLaw& law0, const GaussianLaw& law1) {
  check_pair(law0, law1);
  const Matrix s1 = symmetrised(law1.covariance);
  const Eigen::LLT<Matrix> llt(s1);
  require(llt.info() == Eigen::Success && llt.matrixLLT().diagonal().minCoeff() > 0.0,
          "gaussian distance: law 1 covariance is not positive definite");
  const auto lower = llt.matrixL();
  // M = L^{-1} (S0 - S1) L^{-T}; the difference is formed first (exact for close entries).
  const Matrix difference = symmetrised(law0.covariance) - s1;
  const Matrix half = lower.solve(difference);                       // L^{-1} D
  const Matrix m = symmetrised(lower.solve(half.transpose()));      // L^{-1} D^T L^{-T}
  const Eigen::SelfAdjointEigenSolver<Matrix> eigen(m);
  require(eigen.info() == Eigen::Success, "gaussian distance: eigen-decomposition of the pencil failed");
  GaussianPencil pencil;
  pencil.mu = eigen.eigenvalues();
  require(pencil.mu.minCoeff() > -1.0, "gaussian distance: law 0 covariance is not positive definite");
  pencil.a = eigen.eigenvectors().transpose() * lower.solve(law0.mean - law1.mean);
  const Eigen::SelfAdjointEigenSolver<Matrix> s1_eigen(s1, Eigen::EigenvaluesOnly);
  pencil.condition = s1_eigen.eigenvalues().maxCoeff() / s1_eigen.eigenvalues().minCoeff();
  return pencil;
}

Estimate gaussian_kl(const GaussianLaw& law0, const GaussianLaw& law1) {
  const GaussianPencil p = gaussian_pencil(law0, law1);
  double sum = 0.0;
  for (Eigen::Index i = 0; i < p.mu.size(); ++i) sum += x_minus_log1p(p.mu(i));
  const double value = 0.5 * (sum + p.a.squaredNorm());
  return {"kl", value, 0.0, pencil_floor(value, p.mu.size(), p.condition), EstimateKind::kExact,
          "gaussian_closed_form"};
}

Estimate gaussian_hellinger(const GaussianLaw& law0, const GaussianLaw& law1) {
  const GaussianPencil p = gaussian_pencil(law0, law1);
  double minus_log_bc = 0.0;
  for (Eigen::Index i = 0; i < p.mu.size(); ++i) {
    const double mu = p.mu(i);
    minus_log_bc += 0.25 * std::log1p(mu * mu / (4.0 * (1.0 + mu))) + 0.125 * p.a(i) * p.a(i) / (1.0 + 0.5 * mu);
  }
  const double value = -std::expm1(-minus_log_bc);
  return {"hellinger", value, 0.0, pencil_floor(value, p.mu.size(), p.condition), EstimateKind::kExact,
          "gaussian_closed_form"};
}

Estimate gaussian_w2(const GaussianLaw& law0, const GaussianLaw& law1) {
  check_pair(law0, law1);
  const Eigen::Index d = law0.dim();
  // W2 is symmetric: the law with the smaller trace is the basis (S0 below). This keeps
  // X = S0^{1/2} S1 S0^{1/2} = diag(s)^2 + E free of cancellation when one law is much
  // narrower than the other (in every direction; see the far-apart branch for the rest).
  const bool swap = law0.covariance.trace() > law1.covariance.trace();
  const Matrix s0 = symmetrised(swap ? law1.covariance : law0.covariance);
  const Matrix s1 = symmetrised(swap ? law0.covariance : law1.covariance);
  const Eigen::SelfAdjointEigenSolver<Matrix> s0_eigen(s0);
  require(s0_eigen.info() == Eigen::Success && s0_eigen.eigenvalues().minCoeff() > 0.0,
          "gaussian distance: a covariance is not positive definite");
  const Vector s = s0_eigen.eigenvalues();
  const Matrix& q = s0_eigen.eigenvectors();
  const Vector sqrt_s = s.cwiseSqrt();
  // E = diag(sqrt s) Q^T (S1 - S0) Q diag(sqrt s), from the difference (exact for close entries).
  const Matrix e = symmetrised(sqrt_s.asDiagonal() * (q.transpose() * (s1 - s0) * q) * sqrt_s.asDiagonal());
  // Direct root of X = diag(s)^2 + E, then Newton refinement of R = X^{1/2} - diag(s).
  Matrix x = e;
  x.diagonal() += s.cwiseProduct(s);
  const Eigen::SelfAdjointEigenSolver<Matrix> x_eigen(symmetrised(x));
  require(x_eigen.eigenvalues().minCoeff() > 0.0, "gaussian distance: a covariance is not positive definite");
  Matrix r = x_eigen.eigenvectors() * x_eigen.eigenvalues().cwiseSqrt().asDiagonal() * x_eigen.eigenvectors().transpose();
  r.diagonal() -= s;
  r = symmetrised(r);
  double previous_step = std::numeric_limits<double>::infinity();
  for (int iteration = 0; iteration < 10; ++iteration) {
    // Residual E - (diag(s) R + R diag(s) + R^2): small terms only.
    Matrix residual = e - r * r;
    for (Eigen::Index j = 0; j < d; ++j)
      for (Eigen::Index i = 0; i < d; ++i) residual(i, j) -= (s(i) + s(j)) * r(i, j);
    // Newton: Z delta + delta Z = residual, Z = diag(s) + R, in Z's eigenbasis.
    Matrix z = r;
    z.diagonal() += s;
    const Eigen::SelfAdjointEigenSolver<Matrix> z_eigen(symmetrised(z));
    const Matrix& w = z_eigen.eigenvectors();
    const Vector& zv = z_eigen.eigenvalues();
    Matrix delta = w.transpose() * symmetrised(residual) * w;
    for (Eigen::Index j = 0; j < d; ++j)
      for (Eigen::Index i = 0; i < d; ++i) delta(i, j) /= (zv(i) + zv(j));
    delta = symmetrised(w * delta * w.transpose());
    const double step = delta.norm();
    if (!(step < previous_step)) break;  // no further progress: round-off level reached
    r += delta;
    previous_step = step;
    if (step <= 2.0 * kEps * r.norm()) break;
  }
  double covariance_part = 0.0;
  for (Eigen::Index j = 0; j < d; ++j)
    for (Eigen::Index i = 0; i < d; ++i) covariance_part += r(i, j) * r(i, j) / s(i);
  const double trace_sum = s0.trace() + s1.trace();
  // Rounding margin of W2^2: a few ulps (as pencil_floor) of the magnitude of the terms summed.
  double margin_squared = 32.0 * static_cast<double>(d + 1) * kEps * covariance_part;
  if (covariance_part > 0.25 * trace_sum) {
    // Far apart: the direct form tr S0 + tr S1 - 2 tr X^{1/2}, with X formed as a product
    // (no cancellation), loses at most a factor 4 to cancellation and is then the better one.
    const Matrix x_direct = symmetrised(sqrt_s.asDiagonal() * (q.transpose() * s1 * q) * sqrt_s.asDiagonal());
    const Eigen::SelfAdjointEigenSolver<Matrix> direct(x_direct, Eigen::EigenvaluesOnly);
    const double cross = 2.0 * direct.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
    // Not clamped at 0: a negative difference is reported through the margin below.
    covariance_part = trace_sum - cross;
    margin_squared = 32.0 * static_cast<double>(d + 1) * kEps * (trace_sum + cross);
  }
  const double mean_part = (law0.mean - law1.mean).squaredNorm();
  const double squared = mean_part + covariance_part;
  margin_squared += 4.0 * kEps * mean_part;
  const double condition_floor_scale = s.maxCoeff() / s.minCoeff();
  if (squared < 0.0) {
    // W2^2 < 0 is a rounding result within its margin (W2 = 0 to that accuracy: value 0 with the
    // margin as rounding and floor, so fits exclude it), or beyond it a failure of the formula.
    const double margin = std::sqrt(margin_squared);
    if (squared >= -margin_squared)
      return {"w2", 0.0, 0.0, margin, EstimateKind::kExact, "gaussian_closed_form", EstimateStatus::kOk, "", margin};
    std::ostringstream message;
    message << "W2^2 = " << squared << " < 0 beyond its rounding margin " << margin_squared
            << " (tr S0 + tr S1 = " << trace_sum << "): cancellation exceeds double precision";
    return {"w2", std::numeric_limits<double>::quiet_NaN(), 0.0, std::numeric_limits<double>::quiet_NaN(),
            EstimateKind::kExact, "gaussian_closed_form", EstimateStatus::kFailed, message.str()};
  }
  const double value = std::sqrt(squared);
  return {"w2", value, 0.0, pencil_floor(value, d, condition_floor_scale), EstimateKind::kExact,
          "gaussian_closed_form"};
}

double gaussian_tv_1d(double a, double mu) {
  require(mu > -1.0 && std::isfinite(mu) && std::isfinite(a), "gaussian_tv_1d: need finite a and mu > -1");
  // p1 = N(0, 1), p0 = N(a, r^2), r^2 = 1 + mu.
  if (mu == 0.0) return std::erf(std::fabs(a) / (2.0 * std::numbers::sqrt2));
  const double log_r = 0.5 * std::log1p(mu);
  const double r = std::sqrt(1.0 + mu);
  const double r_minus_1 = std::expm1(log_r);
  // log p1 = log p0  <=>  (z - a)^2 - r^2 z^2 + 2 r^2 log r = 0  <=>  -mu z^2 - 2 a z + C = 0,
  // C = a^2 + (1 + mu) log1p(mu). Two real roots always (mu log1p(mu) >= 0).
  const double c = a * a + (1.0 + mu) * std::log1p(mu);
  const std::vector<double> roots = half_b_quadratic_roots(mu, a, c);
  // TV = |P1(I) - P0(I)| over the interval between the roots = sum over roots of
  // |Phi(z) - Phi((z - a)/r)|: the two terms have opposite signs (their product is
  // 2 (1 - r) r^2 log r / (1 + r) <= 0), so the sum of magnitudes has no cancellation.
  double tv = 0.0;
  for (const double z : roots) {
    if (!std::isfinite(z)) continue;
    const double w = (z - a) / r;
    const double z_minus_w = (z * r_minus_1 + a) / r;
    tv += std::fabs(normal_cdf_difference(z, w, z_minus_w));
  }
  return tv;  // not clamped at 1: check_physical_range judges a value above 1 against its margin
}

double gaussian_tv_2d(const Vector& a, const Vector& mu, double tolerance, double* error_estimate) {
  require(a.size() == 2 && mu.size() == 2, "gaussian_tv_2d: needs d = 2");
  require((mu.array() > -1.0).all() && a.allFinite() && mu.allFinite(), "gaussian_tv_2d: need finite a, mu > -1");
  constexpr double kTruncation = 12.0;  // standard deviations; tails beyond are < 1e-30 relative
  constexpr int kMaxInnerDepth = 10;  // bisections of an inner piece (smooth: rarely more than 2)
  const auto range = [&](Eigen::Index i) {
    const double sd = std::sqrt(1.0 + mu(i));
    return std::pair<double, double>{std::min(-kTruncation, a(i) - kTruncation * sd),
                                     std::max(kTruncation, a(i) + kTruncation * sd)};
  };
  const auto [lo1, hi1] = range(0);
  const auto [lo2, hi2] = range(1);
  const double a1 = a(0), a2 = a(1), mu1 = mu(0), mu2 = mu(1);
  const double log1p_mu1 = std::log1p(mu1), log1p_mu2 = std::log1p(mu2);

  const auto split = [](double lo, double hi, const std::vector<double>& cuts) {
    std::vector<double> points{lo};
    for (const double cut : cuts)
      if (cut > lo && cut < hi) points.push_back(cut);
    points.push_back(hi);
    std::sort(points.begin(), points.end());
    return points;
  };

  // Inner integral over y2 of |p0 - p1|(y1, y2), split where g1(y1) + g2(y2) = 0.
  const auto inner = [&](double y1) {
    const double c = pencil_g(y1, a1, mu1);
    const double k = a2 * a2 + (1.0 + mu2) * (log1p_mu2 + c);
    const std::vector<double> points = split(lo2, hi2, half_b_quadratic_roots(mu2, a2, k));
    const double log_phi1 = -0.5 * y1 * y1 - kLog2Pi;
    const auto integrand = [&](double y2) {
      const double ell = -0.5 * (c + pencil_g(y2, a2, mu2));
      return abs_density_difference(log_phi1 - 0.5 * y2 * y2, ell);
    };
    // First a non-adaptive pass for the scale of this inner integral, then adaptive
    // refinement of each piece to an absolute tolerance relative to that scale.
    double scale = 0.0;
    for (std::size_t i = 0; i + 1 < points.size(); ++i)
      scale += boost::math::quadrature::gauss_kronrod<double, 31>::integrate(integrand, points[i], points[i + 1], 0);
    const double piece_tolerance = 0.1 * tolerance * scale / static_cast<double>(points.size() - 1);
    double total = 0.0, error = 0.0;
    for (std::size_t i = 0; i + 1 < points.size(); ++i)
      total += adaptive_gauss_kronrod(integrand, points[i], points[i + 1], piece_tolerance, kMaxInnerDepth, &error);
    return total;
  };

  // Outer split points. F(y1) (the inner integral) is smooth wherever the number of
  // crossings y2 in (lo2, hi2) is constant; it changes where the two crossings merge at the
  // vertex y2* = -a2/mu2 of g2 (if inside), or where a crossing passes an end of the inner
  // range (this also covers mu2 = 0 with tiny or zero a2, where the crossing sweeps through
  // the whole range over a tiny y1-interval). Each is g1(y1) = c for a known c.
  std::vector<double> outer_cuts;
  const auto add_cuts = [&](double c) {
    const double k1 = a1 * a1 + (1.0 + mu1) * (log1p_mu1 - c);
    for (const double y : half_b_quadratic_roots(mu1, a1, k1)) outer_cuts.push_back(y);
  };
  if (mu2 != 0.0) {
    const double vertex = -a2 / mu2;
    if (vertex > lo2 && vertex < hi2) add_cuts(-(a2 * a2 / mu2 + log1p_mu2));
  }
  add_cuts(-pencil_g(lo2, a2, mu2));
  add_cuts(-pencil_g(hi2, a2, mu2));
  const std::vector<double> points = split(lo1, hi1, outer_cuts);
  boost::math::quadrature::tanh_sinh<double> integrator(10);  // at most 10 refinement levels
  double total = 0.0, total_error = 0.0;
  for (std::size_t i = 0; i + 1 < points.size(); ++i) {
    if (points[i + 1] - points[i] < 1e-12 * (hi1 - lo1)) {
      // A sliver between nearly coincident cuts (e.g. a crossing sweeping through the inner
      // range when the laws differ by ~1e-16 in a coordinate): F is bounded and smooth on it
      // and the sliver holds < 1e-10 of the integral; tanh-sinh would only stall on
      // collapsing abscissas.
      total += boost::math::quadrature::gauss<double, 7>::integrate(inner, points[i], points[i + 1]);
      continue;
    }
    double error = 0.0, l1 = 0.0;
    // The (x, distance-to-nearest-end) form of the integrand: Boost 1.74's one-argument path
    // on a finite interval drops an `else` and places left-end abscissas at avg + diff*z,
    // which cancels catastrophically near the left end and trips its own debug assertion
    // (position != a); the two-argument path computes them as a + (b - a)*zc/2.
    const auto inner_with_complement = [&](double y1, double /*distance_to_end*/) { return inner(y1); };
    total += integrator.integrate(inner_with_complement, points[i], points[i + 1], tolerance, &error, &l1);
    total_error += error;
  }
  if (error_estimate != nullptr) *error_estimate = 0.5 * total_error;
  return 0.5 * total;  // not clamped at 1: the quadrature error is the estimate's rounding margin
}

Estimate gaussian_tv_monte_carlo(const Vector& a, const Vector& mu, Eigen::Index samples, std::uint64_t seed,
                                 std::uint64_t run) {
  require(samples >= 2, "gaussian TV Monte Carlo: samples = " + std::to_string(samples) + " must be at least 2");
  require(a.size() == mu.size() && (mu.array() > -1.0).all(), "gaussian TV Monte Carlo: need mu > -1, sizes equal");
  const Eigen::Index d = a.size();
  const Eigen::Index n0 = (samples + 1) / 2, n1 = samples / 2;
  const RandomStreams streams(seed, run);
  const StreamTag tag(StreamPurpose::kTargetSample, kGaussianTvStreamIndex);
  const Vector sd0 = (Vector::Ones(d) + mu).cwiseSqrt();
  Vector log1p_mu(d);
  for (Eigen::Index i = 0; i < d; ++i) log1p_mu(i) = std::log1p(mu(i));
  std::vector<double> h0(static_cast<std::size_t>(n0)), h1(static_cast<std::size_t>(n1));
  // h = |p0 - p1| / (p0 + p1) = |tanh((log p0 - log p1)/2)| in [0, 1]; TV = E_M[h].
#pragma omp parallel
  {
    Vector z(d);
    const auto h = [&](const Vector& y) {
      double g = 0.0;
      for (Eigen::Index i = 0; i < d; ++i) g += (-mu(i) * y(i) * y(i) - 2.0 * a(i) * y(i) + a(i) * a(i)) / (1.0 + mu(i)) + log1p_mu(i);
      return std::fabs(std::tanh(-0.25 * g));
    };
#pragma omp for schedule(static)
    for (Eigen::Index j = 0; j < n0; ++j) {
      streams.normals(static_cast<std::uint64_t>(j), tag.sub(0), z.data(), d);
      h0[static_cast<std::size_t>(j)] = h(a + sd0.cwiseProduct(z));
    }
#pragma omp for schedule(static)
    for (Eigen::Index j = 0; j < n1; ++j) {
      streams.normals(static_cast<std::uint64_t>(j), tag.sub(1), z.data(), d);
      h1[static_cast<std::size_t>(j)] = h(z);
    }
  }
  const auto mean_and_variance = [](const std::vector<double>& v) {
    long double sum = 0.0L;
    for (const double x : v) sum += x;
    const long double mean = sum / static_cast<long double>(v.size());
    long double squares = 0.0L;
    for (const double x : v) squares += (x - mean) * (x - mean);
    const long double variance = v.size() > 1 ? squares / static_cast<long double>(v.size() - 1) : 0.0L;
    return std::pair<double, double>{static_cast<double>(mean), static_cast<double>(variance)};
  };
  const auto [mean0, var0] = mean_and_variance(h0);
  const auto [mean1, var1] = mean_and_variance(h1);
  const double value = 0.5 * (mean0 + mean1);
  const double std_error = 0.5 * std::sqrt(var0 / static_cast<double>(n0) + var1 / static_cast<double>(n1));
  return {"tv", value, std_error, 0.0, EstimateKind::kUnbiasedMonteCarlo, "gaussian_monte_carlo"};
}

Estimate gaussian_tv(const GaussianLaw& law0, const GaussianLaw& law1, const TvOptions& options) {
  const GaussianPencil p = gaussian_pencil(law0, law1);
  const Eigen::Index d = p.mu.size();
  if (d == 1 && options.max_exact_dim >= 1) {
    const double value = gaussian_tv_1d(p.a(0), p.mu(0));
    return {"tv", value, 0.0, pencil_floor(value, d, p.condition), EstimateKind::kExact, "gaussian_closed_form"};
  }
  if (d == 2 && options.max_exact_dim >= 2) {
    double quadrature_error = 0.0;
    const double value = gaussian_tv_2d(p.a, p.mu, options.quadrature_tolerance, &quadrature_error);
    const double error = pencil_floor(value, d, p.condition) + quadrature_error;
    return {"tv", value, 0.0, error, EstimateKind::kExact, "gaussian_quadrature_2d", EstimateStatus::kOk, "",
            std::fmax(error, default_rounding_margin(value))};
  }
  return gaussian_tv_monte_carlo(p.a, p.mu, options.samples, options.seed, options.run);
}

}  // namespace dmconv
