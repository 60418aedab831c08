#include "estimators/separable.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <sstream>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"

namespace dmconv::estimators {
namespace {

constexpr double kClampRelative = 1e-15;   // grid p_Y below this x max p_Y: unresolved (as grid_law)
constexpr Eigen::Index kDrawBlock = 2048;  // Monte Carlo draws per work unit
constexpr Eigen::Index kPilotDraws = 4096;  // draws that set the control-variate coefficient
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const char* kMetrics[4] = {"tv", "kl_target_output", "kl_output_target", "hellinger"};

std::string format_double(double value) {
  std::ostringstream out;
  out.precision(3);
  out << value;
  return out.str();
}

// Masses scaled to sum 1 each, r shifted to log(b_k / a_k) of the scaled masses.
void normalise(FactorAtoms& atoms) {
  const double total_a = atoms.output_mass.sum(), total_b = atoms.target_mass.sum();
  require(total_a > 0.0 && total_b > 0.0 && std::isfinite(total_a) && std::isfinite(total_b),
          "separable: the 1-D law has no positive finite mass");
  atoms.output_mass /= total_a;
  atoms.target_mass /= total_b;
  atoms.log_ratio.array() += std::log(total_a / total_b);
}

// The atoms in position order (stable: ties keep node order), normalised.
FactorAtoms sorted_atoms(const Vector& position, const Vector& output_mass, const Vector& target_mass,
                         const Vector& log_ratio) {
  const Eigen::Index n = position.size();
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](Eigen::Index i, Eigen::Index j) { return position(i) < position(j); });
  FactorAtoms out;
  out.position.resize(n);
  out.output_mass.resize(n);
  out.target_mass.resize(n);
  out.log_ratio.resize(n);
  for (Eigen::Index k = 0; k < n; ++k) {
    const Eigen::Index i = order[static_cast<std::size_t>(k)];
    out.position(k) = position(i);
    out.output_mass(k) = output_mass(i);
    out.target_mass(k) = target_mass(i);
    out.log_ratio(k) = log_ratio(i);
  }
  normalise(out);
  return out;
}

// Quadrature atoms: a_k = w_k p_{Y_T}(u_k), b_k = w_k exp(log p_{Y_T}(u_k) + r_k).
FactorAtoms atoms_from_quadrature(const QuadratureAtoms& q) {
  const Eigen::Index n = q.weight.size();
  Vector a(n), b(n);
  for (Eigen::Index k = 0; k < n; ++k) {
    a(k) = q.weight(k) * std::exp(q.log_initial_density(k));
    b(k) = q.weight(k) * std::exp(q.log_initial_density(k) + q.log_ratio(k));
  }
  return sorted_atoms(q.y.row(0).transpose(), a, b, q.log_ratio);
}

// Grid atoms: a_k = p_Y h (0 below the clamp), b_k = p_X h, r_k = log p_X - log p_Y (+inf where a_k = 0).
FactorAtoms atoms_from_grid(const GridDensity& output, const GridDensity& target, const Vector& log_p_x) {
  const Eigen::Index n = output.values.size();
  const double h = output.grid.cell_volume();
  const double clamp = kClampRelative * output.values.maxCoeff();
  FactorAtoms out;
  out.position.resize(n);
  out.output_mass.resize(n);
  out.target_mass.resize(n);
  out.log_ratio.resize(n);
  for (Eigen::Index k = 0; k < n; ++k) {
    const double p_y = output.values(k);
    const bool resolved = p_y >= clamp && p_y > 0.0;
    out.position(k) = output.grid.coordinate(0, k);
    out.output_mass(k) = resolved ? p_y * h : 0.0;
    out.target_mass(k) = std::max(target.values(k), 0.0) * h;
    out.log_ratio(k) = resolved ? log_p_x(k) - std::log(p_y) : kInf;
  }
  normalise(out);
  return out;
}

// Cumulative masses in position order; pick() maps U in (0, 1) to the atom of the inverse CDF.
// The first atom k with cumulative[k] > u * total (std::upper_bound), capped at the last atom of
// positive mass. A guide table (Chen & Asau 1974) narrows the search to the atoms of u's bucket:
// guide[g] = upper_bound at a value just below (g / G) total, so guide[g] <= the answer <=
// guide[g + 2] for every u in [g / G, (g + 1) / G) (the 4-ulp margin covers the rounding of u *
// total and of u G), and the binary search between them returns exactly the full upper_bound's
// index. G = the number of atoms: O(1) expected work per draw instead of O(log atoms).
struct InverseCdf {
  std::vector<double> cumulative;
  std::vector<Eigen::Index> guide;  // G + 1 entries
  Eigen::Index last_positive = 0;
  explicit InverseCdf(const Vector& mass) : cumulative(static_cast<std::size_t>(mass.size())) {
    double sum = 0.0;
    for (Eigen::Index k = 0; k < mass.size(); ++k) {
      sum += mass(k);
      cumulative[static_cast<std::size_t>(k)] = sum;
      if (mass(k) > 0.0) last_positive = k;
    }
    const auto buckets = static_cast<Eigen::Index>(std::max<std::size_t>(1, cumulative.size()));
    guide.resize(static_cast<std::size_t>(buckets) + 1);
    const double total = cumulative.empty() ? 0.0 : cumulative.back();
    const double margin = 4.0 * std::numeric_limits<double>::epsilon();
    for (Eigen::Index g = 0; g <= buckets; ++g) {
      const double edge = static_cast<double>(g) / static_cast<double>(buckets) * total;
      const double below = g == 0 ? -std::numeric_limits<double>::infinity() : edge * (1.0 - margin);
      guide[static_cast<std::size_t>(g)] =
          std::upper_bound(cumulative.begin(), cumulative.end(), below) - cumulative.begin();
    }
  }
  Eigen::Index pick(double u) const {
    const double x = u * cumulative.back();
    const auto buckets = static_cast<Eigen::Index>(guide.size()) - 1;
    const auto g = std::min(static_cast<Eigen::Index>(u * static_cast<double>(buckets)), buckets - 1);
    // Upper end: guide[g + 2] has cumulative > x (x lies below edge g + 1, up to rounding).
    const auto first = cumulative.begin() + guide[static_cast<std::size_t>(g)];
    const auto last = g + 2 <= buckets ? cumulative.begin() + guide[static_cast<std::size_t>(g + 2)] : cumulative.end();
    const auto it = std::upper_bound(first, last, x);
    return std::min(static_cast<Eigen::Index>(it - cumulative.begin()), last_positive);
  }
};

std::vector<Estimate> failed_estimates(const std::string& method, const std::string& reason) {
  std::vector<Estimate> out;
  for (const char* m : kMetrics)
    out.push_back({m, kNaN, 0.0, kNaN, EstimateKind::kExact, method, EstimateStatus::kFailed, reason});
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// TV of products of discrete laws

double tv_of_square(const FactorAtoms& atoms) {
  const Eigen::Index n = atoms.size();
  require(std::fabs(atoms.output_mass.sum() - 1.0) < 1e-12 && std::fabs(atoms.target_mass.sum() - 1.0) < 1e-12,
          "separable: the atoms' masses must be normalised");
  std::vector<Eigen::Index> by_ratio(static_cast<std::size_t>(n));
  std::iota(by_ratio.begin(), by_ratio.end(), Eigen::Index{0});
  std::stable_sort(by_ratio.begin(), by_ratio.end(),
                   [&](Eigen::Index i, Eigen::Index j) { return atoms.log_ratio(i) < atoms.log_ratio(j); });
  // sorted_r[m], and prefix sums of the normalised masses over the first m atoms in r order.
  std::vector<double> sorted_r(static_cast<std::size_t>(n)), prefix_a(static_cast<std::size_t>(n) + 1, 0.0),
      prefix_b(static_cast<std::size_t>(n) + 1, 0.0);
  for (Eigen::Index m = 0; m < n; ++m) {
    const Eigen::Index k = by_ratio[static_cast<std::size_t>(m)];
    const auto mm = static_cast<std::size_t>(m);
    sorted_r[mm] = atoms.log_ratio(k);
    prefix_a[mm + 1] = prefix_a[mm] + atoms.output_mass(k);
    prefix_b[mm + 1] = prefix_b[mm] + atoms.target_mass(k);
  }
  // For atom j, the partners k with r_k < -r_j (exactly the pairs with r_j + r_k < 0: the
  // rounded sum has the sign of the exact one) are a prefix of the r order.
  double total = 0.0;
  for (Eigen::Index j = 0; j < n; ++j) {
    const double a = atoms.output_mass(j), b = atoms.target_mass(j);
    if (a == 0.0) continue;  // r_j = +inf (or a tail atom whose mass underflowed): no partner
    const auto count = static_cast<std::size_t>(
        std::lower_bound(sorted_r.begin(), sorted_r.end(), -atoms.log_ratio(j)) - sorted_r.begin());
    total += a * prefix_a[count] - b * prefix_b[count];
  }
  return total;
}

namespace {

// Per-draw quantities of the Monte Carlo TV on one discrete law (normalised atoms).
struct DrawLaw {
  const FactorAtoms& atoms;
  InverseCdf cdf;
  double control_mean;  // E[e^{S/2}] = (sum_k a_k e^{r_k/2})^d
  DrawLaw(const FactorAtoms& a, int d) : atoms(a), cdf(a.output_mass) {
    double half = 0.0;
    for (Eigen::Index k = 0; k < a.size(); ++k)
      if (a.output_mass(k) > 0.0) half += a.output_mass(k) * std::exp(0.5 * a.log_ratio(k));
    control_mean = std::exp(static_cast<double>(d) * std::log(half));
  }
};

// One draw: S = sum_i r(atom of U_i); returns (g, c) = ((1 - e^S)_+, e^{S/2} - E e^{S/2}).
inline void draw(const DrawLaw& law, const RandomStreams& streams, std::uint64_t particle, StreamTag tag, int d,
                 double& g, double& c) {
  thread_local std::vector<double> u;
  if (u.size() < static_cast<std::size_t>(d)) u.resize(static_cast<std::size_t>(d));
  streams.uniforms(particle, tag, u.data(), d);
  double s = 0.0;
  for (int i = 0; i < d; ++i) s += law.atoms.log_ratio(law.cdf.pick(u[static_cast<std::size_t>(i)]));
  g = s < 0.0 ? -std::expm1(s) : 0.0;
  c = std::exp(0.5 * s) - law.control_mean;
}

}  // namespace

SeparableTvMonteCarlo tv_of_power_monte_carlo(const FactorAtoms& fine, const FactorAtoms* coarse, int d,
                                              Eigen::Index n, std::uint64_t seed, std::uint64_t run,
                                              std::uint64_t first_particle, int threads) {
  require(d >= 1, "separable: d = " + std::to_string(d) + " must be >= 1");
  require(n >= 2, "separable: Monte Carlo TV needs at least 2 draws (n = " + std::to_string(n) + ")");
  require(std::fabs(fine.output_mass.sum() - 1.0) < 1e-12 && std::fabs(fine.target_mass.sum() - 1.0) < 1e-12,
          "separable: the atoms' masses must be normalised");
  const DrawLaw law_fine(fine, d);
  const std::optional<DrawLaw> law_coarse =
      coarse != nullptr ? std::optional<DrawLaw>(std::in_place, *coarse, d) : std::nullopt;
  const RandomStreams streams(seed, run);
  const StreamTag main_tag(StreamPurpose::kTargetSample, kSeparableTvStreamIndex, 0);
  const StreamTag pilot_tag(StreamPurpose::kTargetSample, kSeparableTvStreamIndex, 1);
  const int workers = resolve_threads(threads);

  // Pilot: beta = -Cov(g, c) / Var(c) from kPilotDraws draws of their own streams (particles
  // 0..kPilotDraws-1 under pilot_tag: independent of the main draws, of n and of first_particle).
  SeparableTvMonteCarlo out;
  {
    const Eigen::Index pilot = kPilotDraws;
    double sg = 0.0, sc = 0.0, scc = 0.0, sgc = 0.0;
    for (Eigen::Index j = 0; j < pilot; ++j) {
      double g, c;
      draw(law_fine, streams, static_cast<std::uint64_t>(j), pilot_tag, d, g, c);
      sg += g;
      sc += c;
      scc += c * c;
      sgc += g * c;
    }
    const double count = static_cast<double>(pilot);
    const double var_c = scc / count - (sc / count) * (sc / count);
    const double cov = sgc / count - (sg / count) * (sc / count);
    out.control_coefficient = var_c > 0.0 && std::isfinite(cov / var_c) ? -cov / var_c : 0.0;
  }
  const double beta = out.control_coefficient;

  // Main draws: y = g + beta c, per block: sum y, sum y^2, sum y_coarse.
  const Eigen::Index blocks = (n + kDrawBlock - 1) / kDrawBlock;
  using Sums = Eigen::Array<double, 3, 1>;
  std::vector<Sums> partial(static_cast<std::size_t>(blocks));
#pragma omp parallel for schedule(static) num_threads(workers)
  for (Eigen::Index b = 0; b < blocks; ++b) {
    Sums sums = Sums::Zero();
    const Eigen::Index end = std::min(n, (b + 1) * kDrawBlock);
    for (Eigen::Index j = b * kDrawBlock; j < end; ++j) {
      const std::uint64_t particle = first_particle + static_cast<std::uint64_t>(j);
      double g, c;
      draw(law_fine, streams, particle, main_tag, d, g, c);
      const double y = g + beta * c;
      sums(0) += y;
      sums(1) += y * y;
      if (law_coarse) {
        draw(*law_coarse, streams, particle, main_tag, d, g, c);
        sums(2) += g + beta * c;
      }
    }
    partial[static_cast<std::size_t>(b)] = sums;
  }
  Sums total = Sums::Zero();
  for (const Sums& s : partial) total += s;
  const double count = static_cast<double>(n);
  out.value = total(0) / count;
  out.std_error = std::sqrt(std::max(0.0, (total(1) - count * out.value * out.value) / (count - 1.0)) / count);
  out.coarse_value = law_coarse ? total(2) / count : kNaN;
  out.draws = n;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The estimator

SeparableEstimator::SeparableEstimator(SeparableOptions options)
    : options_(options), quadrature_(options.panels, options.order), grid_law_(options.grid) {
  require(options.exact_tv_max_dim == 1 || options.exact_tv_max_dim == 2,
          "estimator 'separable': exact_tv_max_dim = " + std::to_string(options.exact_tv_max_dim) +
              " must be 1 or 2");
}

std::optional<std::string> SeparableEstimator::unsupported_reason(const EstimationProblem& problem) const {
  const Target* factor = problem.target.product_factor();
  if (factor == nullptr)
    return "target '" + problem.target.name() + "' is not a product target (separable needs a product of 1-D "
           "factors, e.g. target 'product')";
  if (problem.score.exact_score_of() != &problem.target)
    return std::string("the score model is not the exact score of this product target (a perturbed score "
                       "need not be separable)");
  const ExactScore factor_score(*factor);
  const EstimationProblem factor_problem{problem.sampler, problem.grid, *factor, factor_score, problem.run};
  const std::optional<std::string> reason = problem.sampler.is_deterministic()
                                                ? quadrature_.unsupported_reason(factor_problem)
                                                : grid_law_.unsupported_reason(factor_problem);
  if (reason) return "1-D factor problem: " + *reason;
  if (problem.target.dim() > options_.exact_tv_max_dim && problem.run.particles < 2)
    return "Monte Carlo TV (d = " + std::to_string(problem.target.dim()) + ") needs run.particles >= 2 (got " +
           std::to_string(problem.run.particles) + ")";
  return std::nullopt;
}

void SeparableEstimator::check_resolution(const EstimationProblem& problem) const {
  const Target* factor = problem.target.product_factor();
  if (factor == nullptr) return;
  const ExactScore factor_score(*factor);
  const EstimationProblem factor_problem{problem.sampler, problem.grid, *factor, factor_score, problem.run};
  try {
    if (problem.sampler.is_deterministic()) {
      quadrature_.check_resolution(factor_problem);
    } else {
      grid_law_.check_resolution(factor_problem);
    }
  } catch (const ParameterError& error) {
    // Same keys ("panels", "points") in the separable table.
    throw ParameterError("estimator 'separable'", error.key(), error.value(), "1-D factor problem: " + error.rule());
  }
}

FactorSolution SeparableEstimator::solve_factor(const EstimationProblem& fp) const {
  require(fp.target.dim() == 1, "separable: the factor problem must be 1-D");
  FactorSolution s;
  if (fp.sampler.is_deterministic()) {
    // As ChangeOfVariablesQuadrature::estimate, keeping the atoms.
    const int panels = quadrature_.panels(fp);
    const QuadratureAtoms fine = quadrature_.atoms(fp, panels);
    const QuadratureAtoms coarse = quadrature_.atoms(fp, panels / 2);
    const std::array<double, 4> f = quadrature_distances(fine), c = quadrature_distances(coarse);
    // quadrature_distances order: tv, kl_output_target, kl_target_output, hellinger.
    const int from[4] = {0, 2, 1, 3};
    for (int i = 0; i < 4; ++i) {
      s.value[i] = f[from[i]];
      s.floor[i] = std::fabs(f[from[i]] - c[from[i]]);
    }
    s.fine = atoms_from_quadrature(fine);
    s.coarse = atoms_from_quadrature(coarse);
    s.method = "change_of_variables_quadrature(panels=" + std::to_string(panels) +
               ",order=" + std::to_string(quadrature_.order()) + ")";
    return s;
  }
  // As GridLawEstimator::estimate, keeping the densities.
  const int order = options_.grid.order;
  const UniformGrid fine_grid = grid_law_grid(fp, options_.grid);
  const UniformGrid coarse_grid = fine_grid.with_points(fine_grid.points / 2);
  s.method = "grid_law(d=1," + fine_grid.describe() + ",order=" + std::to_string(order) + ")";
  const GridLawResult fine = propagate_grid_law(fp, fine_grid, order);
  if (fine.status != GridLawStatus::kOk) {
    s.ok = false;
    s.message = fine.message;
    return s;
  }
  const NoiseLevel& level = fp.grid.level(fp.run.stop_index);
  const GridDensity target_fine = target_density_on_grid(fp.target, level, fine_grid, fp.run.threads);
  const GridDistances d_fine = grid_distances(target_fine, fine.output, fp.run.threads);
  const GridLawResult coarse = propagate_grid_law(fp, coarse_grid, order);
  const double output_mass_defect = std::fabs(1.0 - fine.output.mass());
  s.truncation = fine.wrap_mass + std::fabs(1.0 - fine.initial_mass) + std::fabs(1.0 - target_fine.mass()) +
                 output_mass_defect + d_fine.clamp_budget;
  s.value = {d_fine.tv, d_fine.kl_target_output, d_fine.kl_output_target, d_fine.hellinger};
  std::array<double, 4> coarse_values;
  coarse_values.fill(kInf);
  auto grid_points = [](const UniformGrid& g) {
    Matrix x(1, g.size());
    for (Eigen::Index k = 0; k < g.size(); ++k) x(0, k) = g.coordinate(0, k);
    return x;
  };
  s.fine = atoms_from_grid(fine.output, target_fine, fp.target.log_density(level, grid_points(fine_grid)));
  s.has_coarse = coarse.status == GridLawStatus::kOk;
  if (s.has_coarse) {
    const GridDensity target_coarse = target_density_on_grid(fp.target, level, coarse_grid, fp.run.threads);
    const GridDistances d_coarse = grid_distances(target_coarse, coarse.output, fp.run.threads);
    coarse_values = {d_coarse.tv, d_coarse.kl_target_output, d_coarse.kl_output_target, d_coarse.hellinger};
    s.coarse = atoms_from_grid(coarse.output, target_coarse, fp.target.log_density(level, grid_points(coarse_grid)));
  }
  for (int i = 0; i < 4; ++i) s.floor[i] = std::fabs(s.value[i] - coarse_values[i]) + s.truncation;
  return s;
}

std::vector<Estimate> SeparableEstimator::estimate(const EstimationProblem& problem) const {
  if (const auto reason = unsupported_reason(problem)) throw InvalidArgument(*reason);
  const Target& factor = *problem.target.product_factor();
  const ExactScore factor_score(factor);
  const EstimationProblem factor_problem{problem.sampler, problem.grid, factor, factor_score, problem.run};
  const FactorSolution s = solve_factor(factor_problem);
  const int d = problem.target.dim();
  const double dd = static_cast<double>(d);
  std::string method = "separable(d=" + std::to_string(d) + ",factor=" + s.method;
  if (!s.ok) return failed_estimates(method + ") FAILED " + s.message, s.message);
  if (s.truncation > 0.0) method += ",truncation=" + format_double(s.truncation);

  std::vector<Estimate> out(4);
  // KL both ways: d times the 1-D values and floors.
  for (int i : {1, 2}) out[static_cast<std::size_t>(i)] = {kMetrics[i], dd * s.value[i], 0.0, dd * s.floor[i],
                                                         EstimateKind::kExact, method + ")"};
  // Hellinger: 1 - H^2_d = (1 - H^2_1)^d.
  const double h1 = s.value[3];
  const double log_survival = std::log1p(-h1);
  out[3] = {kMetrics[3], -std::expm1(dd * log_survival), 0.0,
            dd * std::exp((dd - 1.0) * log_survival) * s.floor[3], EstimateKind::kExact, method + ")"};
  // TV.
  if (d == 1) {
    out[0] = {kMetrics[0], s.value[0], 0.0, s.floor[0], EstimateKind::kExact, method + ",tv=factor)"};
  } else if (d <= options_.exact_tv_max_dim) {
    const double fine = tv_of_square(s.fine);
    const double floor = s.has_coarse ? std::fabs(fine - tv_of_square(s.coarse)) + dd * s.truncation : kInf;
    out[0] = {kMetrics[0], fine, 0.0, floor, EstimateKind::kExact, method + ",tv=exact_pairs)"};
  } else {
    const SeparableTvMonteCarlo mc =
        tv_of_power_monte_carlo(s.fine, s.has_coarse ? &s.coarse : nullptr, d, problem.run.particles,
                                problem.run.seed, problem.run.run, problem.run.first_particle, problem.run.threads);
    const double floor = s.has_coarse ? std::fabs(mc.value - mc.coarse_value) + dd * s.truncation : kInf;
    out[0] = {kMetrics[0], mc.value, mc.std_error, floor, EstimateKind::kUnbiasedMonteCarlo,
              method + ",tv=monte_carlo(n=" + std::to_string(problem.run.particles) +
                  ",control_variate_beta=" + format_double(mc.control_coefficient) + "))"};
  }
  return out;
}

}  // namespace dmconv::estimators
