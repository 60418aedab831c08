// Exact posterior laws on a cell-centred grid in d <= 2 (docs/theory.md §4.7):
//
//   pi_eta(x) ∝ p_data(x) (e^{-L(.; y)} * N(0, eta^2 I))(x),
//   mass_c = exp(l_c - logsumexp_c' l_c'),   l_c = log p_data(x_c) + log (e^{-L} * N(0, eta^2 I))(x_c),
//
// with the smoothed likelihood in closed form (Likelihood::smoothed_log_likelihood) or by the
// Gauss–Hermite tensor rule
//
//   log E_W e^{-L(x + eta W)} ≈ logsumexp_i [ log(w_i / sqrt(pi)^d) - L(x + eta sqrt(2) t_i) ],
//
// (core/gauss_hermite.hpp).
// Everything is done in log space so that sharp likelihoods (e^{-L} spanning hundreds of decades over
// the box) neither underflow nor overflow.
#include "posterior/grid_posterior.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <sstream>
#include <string>

#include "core/error.hpp"
#include "core/noise_level.hpp"

namespace dmconv::posterior {
namespace {

constexpr Eigen::Index kChunk = 4096;  // cells per batched likelihood call (bounded workspace)

std::string fmt(double value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

std::size_t cell_count(int dim, int points) {
  return dim == 1 ? static_cast<std::size_t>(points)
                  : static_cast<std::size_t>(points) * static_cast<std::size_t>(points);
}

// Streaming log-sum-exp per column: (running max, sum of exp(value - max)). Adding -inf is a no-op.
struct LogSumExp {
  Vector max, sum;
  void reset(Eigen::Index n) {
    max.setConstant(n, -std::numeric_limits<double>::infinity());
    sum.setZero(n);
  }
  void add(Eigen::Index j, double value) {
    if (value == -std::numeric_limits<double>::infinity()) return;
    if (value > max(j)) {
      sum(j) = sum(j) * std::exp(max(j) - value) + 1.0;
      max(j) = value;
    } else {
      sum(j) += std::exp(value - max(j));
    }
  }
  double result(Eigen::Index j) const { return sum(j) > 0.0 ? max(j) + std::log(sum(j)) : max(j); }
};

// The grid's geometry, with the cell centres computed exactly as GridLaw::center does (so that a
// box symmetric about 0 gives centres symmetric to the last bit).
GridLaw empty_law(int dim, int points, const std::vector<double>& lo, const std::vector<double>& hi) {
  GridLaw law;
  law.dim = dim;
  law.points = points;
  law.lo = lo;
  law.hi = hi;
  return law;
}

// Unnormalised log posterior density l_c at every cell centre of `law` (index i0 + points * i1).
Vector log_density_at_centres(const GridLaw& law, const Target& prior, const Likelihood& likelihood, const Vector& y,
                              double eta, int hermite_points) {
  const int d = law.dim;
  const auto cells = static_cast<Eigen::Index>(cell_count(d, law.points));
  Vector result(cells);
  Matrix x(d, std::min(cells, kChunk)), shifted(d, x.cols());
  Vector log_prior(x.cols()), log_lik(x.cols()), nll(x.cols());
  LogSumExp accumulator;
  GaussHermiteRule rule;
  std::vector<double> log_weight;  // log(w_i / sqrt(pi)): the rule for E over W ~ N(0, 1)
  bool closed_form = true;
  bool decided = eta == 0.0;  // eta = 0: plain -L, no smoothing to decide on
  for (Eigen::Index first = 0; first < cells; first += kChunk) {
    const Eigen::Index n = std::min(kChunk, cells - first);
    auto xs = x.leftCols(n);
    for (Eigen::Index j = 0; j < n; ++j) {
      const Eigen::Index c = first + j;
      xs(0, j) = law.center(0, static_cast<int>(c % law.points));
      if (d == 2) xs(1, j) = law.center(1, static_cast<int>(c / law.points));
    }
    prior.log_density(NoiseLevel::data(), xs, log_prior.head(n));
    if (eta == 0.0) {
      likelihood.negative_log_likelihood(y, xs, nll.head(n));
      log_lik.head(n) = -nll.head(n);
    } else {
      if (!decided || closed_form) {
        closed_form = likelihood.smoothed_log_likelihood(y, eta, xs, log_lik.head(n));
        if (!decided && !closed_form) {
          rule = gauss_hermite_rule(hermite_points);
          for (double w : rule.weights) log_weight.push_back(std::log(w) - 0.5 * std::log(std::numbers::pi));
        }
        decided = true;
      }
      if (!closed_form) {
        // Tensor rule: node (i0, i1) shifts axis a by eta sqrt(2) t_{i_a}, weight w_{i0} w_{i1} / pi.
        const double scale = eta * std::numbers::sqrt2;
        const auto q = static_cast<int>(rule.nodes.size());
        const int combos = d == 1 ? q : q * q;
        accumulator.reset(n);
        auto shift = shifted.leftCols(n);
        for (int k = 0; k < combos; ++k) {
          const int i0 = k % q, i1 = k / q;
          shift.row(0) = xs.row(0).array() + scale * rule.nodes[static_cast<std::size_t>(i0)];
          double lw = log_weight[static_cast<std::size_t>(i0)];
          if (d == 2) {
            shift.row(1) = xs.row(1).array() + scale * rule.nodes[static_cast<std::size_t>(i1)];
            lw += log_weight[static_cast<std::size_t>(i1)];
          }
          likelihood.negative_log_likelihood(y, shift, nll.head(n));
          for (Eigen::Index j = 0; j < n; ++j) accumulator.add(j, lw - nll(j));
        }
        for (Eigen::Index j = 0; j < n; ++j) log_lik(j) = accumulator.result(j);
      }
    }
    for (Eigen::Index j = 0; j < n; ++j) {
      const double value = log_prior(j) + log_lik(j);
      // -inf (zero density) is a legitimate value; +inf or NaN means the model cannot be evaluated there.
      require(!std::isnan(value) && value != std::numeric_limits<double>::infinity(),
              "grid_posterior: the log posterior density is " + fmt(value) + " at cell " + std::to_string(first + j) +
                  " (log prior " + fmt(log_prior(j)) + ", log likelihood " + fmt(log_lik(j)) +
                  "); it must be finite or -infinity at every cell centre");
      result(first + j) = value;
    }
  }
  return result;
}

Vector normalised_masses(const Vector& log_density) {
  const double top = log_density.maxCoeff();
  require(std::isfinite(top), "grid_posterior: the posterior density is 0 at every cell centre of the box (rule: "
                              "the box must hold some posterior mass; widen GridOptions::lo/hi or check y)");
  Vector mass = (log_density.array() - top).exp().matrix();
  mass /= mass.sum();
  return mass;
}

GridLaw compute_law(const Target& prior, const Likelihood& likelihood, const Vector& y, double eta, int points,
                    int hermite_points, const std::vector<double>& lo, const std::vector<double>& hi) {
  GridLaw law = empty_law(prior.dim(), points, lo, hi);
  law.mass = normalised_masses(log_density_at_centres(law, prior, likelihood, y, eta, hermite_points));
  return law;
}

// Sums the masses of the 2^d children of each cell of a law with 2 * points per axis onto the
// cells of `coarse`.
Vector fold_onto_coarse(const GridLaw& fine, int coarse_points) {
  Vector folded = Vector::Zero(static_cast<Eigen::Index>(cell_count(fine.dim, coarse_points)));
  const auto fp = static_cast<Eigen::Index>(fine.points), cp = static_cast<Eigen::Index>(coarse_points);
  if (fine.dim == 1) {
    for (Eigen::Index i = 0; i < fp; ++i) folded(i / 2) += fine.mass(i);
  } else {
    for (Eigen::Index i1 = 0; i1 < fp; ++i1)
      for (Eigen::Index i0 = 0; i0 < fp; ++i0) folded(i0 / 2 + cp * (i1 / 2)) += fine.mass(i0 + fp * i1);
  }
  return folded;
}

}  // namespace

void GridOptions::validate(int dim) const {
  require(dim == 1 || dim == 2,
          "grid_posterior: dimension d = " + std::to_string(dim) + " is not supported (rule: grids need d <= 2)");
  const int max_points = dim == 1 ? (1 << 20) : 4096;
  require(points >= 2 && points <= max_points, "grid_posterior: points = " + std::to_string(points) +
                                                   " must be in [2, " + std::to_string(max_points) +
                                                   "] in d = " + std::to_string(dim));
  require(hermite_points >= 1 && hermite_points <= kMaxHermitePoints,
          "grid_posterior: hermite_points = " + std::to_string(hermite_points) + " must be in [1, " +
              std::to_string(kMaxHermitePoints) + "]");
  require(lo.size() == hi.size() && (lo.empty() || lo.size() == static_cast<std::size_t>(dim)),
          "grid_posterior: lo has " + std::to_string(lo.size()) + " entries and hi " + std::to_string(hi.size()) +
              " (rule: both empty, or both of size d = " + std::to_string(dim) + ")");
  for (std::size_t a = 0; a < lo.size(); ++a)
    require(std::isfinite(lo[a]) && std::isfinite(hi[a]) && lo[a] < hi[a],
            "grid_posterior: lo[" + std::to_string(a) + "] = " + fmt(lo[a]) + ", hi[" + std::to_string(a) +
                "] = " + fmt(hi[a]) + " (rule: finite with lo < hi)");
}

GridLaw grid_posterior(const Target& prior, const Likelihood& likelihood, const Vector& y, double eta,
                       const GridOptions& options) {
  const int d = prior.dim();
  options.validate(d);
  require(likelihood.dim() == d, "grid_posterior: likelihood '" + likelihood.name() + "' has dimension " +
                                     std::to_string(likelihood.dim()) + " but the prior '" + prior.name() +
                                     "' has d = " + std::to_string(d) + " (rule: they must agree)");
  likelihood.check_observation(y);
  require(std::isfinite(eta) && eta >= 0.0, "grid_posterior: eta = " + fmt(eta) + " must be finite and >= 0");
  std::vector<double> lo = options.lo, hi = options.hi;
  if (lo.empty()) {
    const GaussianMixtureView* mixture = prior.gaussian_mixture();
    require(mixture != nullptr, "grid_posterior: GridOptions::lo/hi are empty and the prior '" + prior.name() +
                                    "' has no Gaussian-mixture view (rule: the default box is min_k mu_k - 10 sd_k "
                                    ".. max_k mu_k + 10 sd_k per axis, which needs one; give lo and hi)");
    lo.assign(static_cast<std::size_t>(d), std::numeric_limits<double>::infinity());
    hi.assign(static_cast<std::size_t>(d), -std::numeric_limits<double>::infinity());
    for (int k = 0; k < mixture->size(); ++k) {
      const Matrix covariance = mixture->covariance(k);
      for (int a = 0; a < d; ++a) {
        const double sd = std::sqrt(covariance(a, a)), mu = mixture->mean(k)(a);
        lo[static_cast<std::size_t>(a)] = std::min(lo[static_cast<std::size_t>(a)], mu - 10.0 * sd);
        hi[static_cast<std::size_t>(a)] = std::max(hi[static_cast<std::size_t>(a)], mu + 10.0 * sd);
      }
    }
  }
  GridLaw law = compute_law(prior, likelihood, y, eta, options.points, options.hermite_points, lo, hi);
  // The discretisation floor: the same law with half the spacing, folded back onto these cells.
  const GridLaw fine = compute_law(prior, likelihood, y, eta, 2 * options.points, options.hermite_points, lo, hi);
  law.refinement_error = 0.5 * (law.mass - fold_onto_coarse(fine, options.points)).cwiseAbs().sum();
  return law;
}

void GridLaw::sample(const RandomStreams& streams, std::uint64_t first_particle, StreamTag tag, MatrixRef out) const {
  require(out.rows() == dim, "GridLaw::sample: out has " + std::to_string(out.rows()) + " rows but the law has d = " +
                                 std::to_string(dim));
  // Inverse CDF over the cells: the first cell whose cumulative mass exceeds u * total. A cell of
  // zero mass is never chosen (its cumulative mass equals its predecessor's).
  std::vector<double> cumulative(static_cast<std::size_t>(mass.size()));
  double total = 0.0;
  for (Eigen::Index c = 0; c < mass.size(); ++c) cumulative[static_cast<std::size_t>(c)] = total += mass(c);
  require(total > 0.0 && std::isfinite(total),
          "GridLaw::sample: the cell masses sum to " + fmt(total) + " (rule: a positive, finite total)");
  const StreamTag stream = tag.sub(0);
  for (Eigen::Index j = 0; j < out.cols(); ++j) {
    const std::uint64_t particle = first_particle + static_cast<std::uint64_t>(j);
    const double target = streams.uniform(particle, stream, 0) * total;
    const auto found = std::upper_bound(cumulative.begin(), cumulative.end(), target) - cumulative.begin();
    const auto c = static_cast<int>(std::min<std::ptrdiff_t>(found, static_cast<std::ptrdiff_t>(cumulative.size()) - 1));
    const int index[2] = {c % points, c / points};
    for (int a = 0; a < dim; ++a)
      out(a, j) = lo[static_cast<std::size_t>(a)] +
                  (index[a] + streams.uniform(particle, stream, static_cast<std::uint64_t>(1 + a))) * spacing(a);
  }
}

double GridLaw::histogram_tv(ConstMatrixRef samples) const {
  require(samples.rows() == dim && samples.cols() > 0,
          "GridLaw::histogram_tv: samples are " + std::to_string(samples.rows()) + " x " +
              std::to_string(samples.cols()) + " (rule: d = " + std::to_string(dim) + " rows, at least one column)");
  std::vector<std::int64_t> counts(static_cast<std::size_t>(mass.size()), 0);
  std::int64_t outside = 0;
  for (Eigen::Index j = 0; j < samples.cols(); ++j) {
    std::int64_t cell = 0, stride = 1;
    bool inside = true;
    for (int a = 0; a < dim && inside; ++a) {
      const double u = std::floor((samples(a, j) - lo[static_cast<std::size_t>(a)]) / spacing(a));
      inside = u >= 0.0 && u < points;  // false for NaN too
      if (inside) cell += stride * static_cast<std::int64_t>(u);
      stride *= points;
    }
    if (inside)
      ++counts[static_cast<std::size_t>(cell)];
    else
      ++outside;
  }
  const auto n = static_cast<double>(samples.cols());
  double sum = static_cast<double>(outside) / n;
  for (Eigen::Index c = 0; c < mass.size(); ++c)
    sum += std::abs(static_cast<double>(counts[static_cast<std::size_t>(c)]) / n - mass(c));
  return 0.5 * sum;
}

double GridLaw::w2_squared_1d(std::vector<double> samples) const {
  require(dim == 1, "GridLaw::w2_squared_1d: the law has d = " + std::to_string(dim) + " (rule: d = 1 only)");
  require(!samples.empty(), "GridLaw::w2_squared_1d: no samples (rule: at least one)");
  for (double x : samples)
    require(std::isfinite(x), "GridLaw::w2_squared_1d: sample " + fmt(x) + " is not finite (rule: all finite)");
  std::sort(samples.begin(), samples.end());
  // Quantile functions on u in (0, 1): the empirical one is x_(k) on (k/n, (k+1)/n]; the grid one is
  // linear within each cell of positive mass, Q(u) = lo + h (c + (u - C_c) / m_c) on [C_c, C_c + m_c].
  // On each piece of the merged partition g(u) = Q(u) - x_(k) is linear, so
  // ∫_a^b g^2 = (b - a)(g_a^2 + g_a g_b + g_b^2) / 3 exactly.
  const double total = mass.sum(), h = spacing(0);
  require(total > 0.0 && std::isfinite(total), "GridLaw::w2_squared_1d: the cell masses sum to " + fmt(total) +
                                                   " (rule: a positive, finite total)");
  const auto n = samples.size();
  const auto cells = static_cast<Eigen::Index>(mass.size());
  Eigen::Index last = cells - 1;
  while (last > 0 && mass(last) <= 0.0) --last;
  const auto next_cell = [&](Eigen::Index c) {
    do ++c;
    while (c < cells && mass(c) <= 0.0);
    return c;
  };
  Eigen::Index c = next_cell(-1);
  double cell_start = 0.0;  // C_c
  std::size_t k = 0;
  double u = 0.0, result = 0.0;
  while (k < n && c <= last) {
    const double m = mass(c) / total;
    const double cell_end = c == last ? 1.0 : cell_start + m;
    const double sample_end = k + 1 == n ? 1.0 : static_cast<double>(k + 1) / static_cast<double>(n);
    const double b = std::min(cell_end, sample_end);
    const auto quantile = [&](double v) {
      const double fraction = std::clamp((v - cell_start) / m, 0.0, 1.0);
      return lo[0] + h * (static_cast<double>(c) + fraction);
    };
    if (b > u) {
      const double ga = quantile(u) - samples[k], gb = quantile(b) - samples[k];
      result += (b - u) * (ga * ga + ga * gb + gb * gb) / 3.0;
      u = b;
    }
    if (b == cell_end) {
      cell_start = cell_end;
      c = next_cell(c);
    }
    if (b == sample_end) ++k;
  }
  return result;
}

double GridLaw::tv(const GridLaw& other) const {
  require(dim == other.dim && points == other.points && lo == other.lo && hi == other.hi,
          "GridLaw::tv: the laws are on different grids (d " + std::to_string(dim) + " vs " +
              std::to_string(other.dim) + ", points " + std::to_string(points) + " vs " +
              std::to_string(other.points) + ", or different boxes; rule: the same box and points)");
  return 0.5 * (mass - other.mass).cwiseAbs().sum();
}

}  // namespace dmconv::posterior
