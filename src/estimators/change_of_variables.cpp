#include "estimators/change_of_variables.hpp"

#include <sstream>

#include <boost/math/quadrature/gauss.hpp>
#include <cmath>
#include <numbers>

#include "core/error.hpp"
#include "estimators/flow_density.hpp"

namespace dmconv {
namespace {

// The four integrands of the header, as functions of r = log p_X - log p_Y.
struct Integrands {
  double tv, kl_output_target, kl_target_output, hellinger;
  explicit Integrands(double r) {
    const double em1 = std::expm1(r);
    tv = 0.5 * std::fabs(em1);
    kl_output_target = em1 - r;
    kl_target_output = r * em1 - (em1 - r);
    const double half = std::expm1(0.5 * r);
    hellinger = 0.5 * half * half;
  }
};

const char* kMetrics[4] = {"tv", "kl_output_target", "kl_target_output", "hellinger"};

Eigen::Array4d as_array(const Integrands& v) {
  return {v.tv, v.kl_output_target, v.kl_target_output, v.hellinger};
}

std::optional<std::string> common_reason(const EstimationProblem& problem) {
  if (!problem.sampler.is_deterministic())
    return "sampler '" + problem.sampler.name() + "' is stochastic (change of variables needs a flow map)";
  if (!problem.score.has_jacobian()) return std::string("the score model provides no Jacobian");
  return std::nullopt;
}

// log density of the initial law at the columns of y_T.
Vector initial_log_density(const EstimationProblem& problem, ConstMatrixRef y_T) {
  if (problem.run.initialisation == Initialisation::kExactMarginal) {
    return problem.target.log_density(problem.grid.level(problem.grid.steps()), y_T);
  }
  const double d = static_cast<double>(y_T.rows());
  return (-0.5 * (d * std::log(2.0 * std::numbers::pi) + y_T.colwise().squaredNorm().array())).matrix().transpose();
}

// r_j = log p_X(Y_j) - log p_Y(Y_j) for trajectories started at the columns of y_T.
Vector log_ratios(const EstimationProblem& problem, ConstMatrixRef y_T) {
  const FlowOutput flow = push_forward_with_log_det(problem.sampler, problem.grid, problem.score, y_T,
                                                    problem.run.stop_index, problem.run.threads);
  const Vector log_p_x = problem.target.log_density(problem.grid.level(problem.run.stop_index), flow.y);
  return log_p_x - (initial_log_density(problem, y_T) - flow.log_abs_det);
}

}  // namespace

std::optional<std::string> ChangeOfVariablesEstimator::unsupported_reason(const EstimationProblem& problem) const {
  return common_reason(problem);
}

std::vector<Estimate> ChangeOfVariablesEstimator::estimate(const EstimationProblem& problem) const {
  if (const auto reason = unsupported_reason(problem)) throw InvalidArgument(*reason);
  const Eigen::Index n = problem.run.particles;
  require(n >= 2, "change_of_variables: at least 2 particles are needed for a standard error");
  const RandomStreams streams(problem.run.seed, problem.run.run);
  Matrix y_T(problem.target.dim(), n);
  initial_state(problem.target, problem.grid, problem.run.initialisation, streams, problem.run.first_particle, y_T);
  const Vector r = log_ratios(problem, y_T);
  Eigen::Array4d sum = Eigen::Array4d::Zero(), sum_squares = Eigen::Array4d::Zero();
  for (Eigen::Index j = 0; j < n; ++j) {
    const Eigen::Array4d v = as_array(Integrands(r(j)));
    sum += v;
    sum_squares += v.square();
  }
  const double count = static_cast<double>(n);
  const Eigen::Array4d mean = sum / count;
  const Eigen::Array4d variance = ((sum_squares - count * mean.square()) / (count - 1.0)).max(0.0);
  std::vector<Estimate> out;
  for (int i = 0; i < 4; ++i) {
    out.push_back({kMetrics[i], mean(i), std::sqrt(variance(i) / count), 0.0, EstimateKind::kUnbiasedMonteCarlo,
                   "change_of_variables(n=" + std::to_string(n) + ")"});
  }
  return out;
}

ChangeOfVariablesQuadrature::ChangeOfVariablesQuadrature(int panels, int order) : panels_(panels), order_(order) {
  require(panels == 0 || panels >= 2, "change_of_variables_quadrature: panels = " + std::to_string(panels) +
                                          " must be 0 (default) or >= 2");
  require(order >= 2 && order <= 20, "change_of_variables_quadrature: order = " + std::to_string(order) +
                                         " must lie in [2, 20]");
}

std::optional<std::string> ChangeOfVariablesQuadrature::unsupported_reason(const EstimationProblem& problem) const {
  if (auto reason = common_reason(problem)) return reason;
  if (problem.target.dim() > 2) return "quadrature over Y_T needs d <= 2 (d = " + std::to_string(problem.target.dim()) + ")";
  if (problem.run.initialisation == Initialisation::kExactMarginal &&
      !problem.target.moments(problem.grid.level(problem.grid.steps())))
    return std::string("the target gives no closed-form moments to size the quadrature box");
  return std::nullopt;
}

namespace {

// Gauss-Legendre nodes/weights on [-1, 1] of the given order (Boost.Math tables).
template <int N>
void legendre_rule(std::vector<double>& nodes, std::vector<double>& weights) {
  using Rule = boost::math::quadrature::gauss<double, N>;
  const auto& x = Rule::abscissa();
  const auto& w = Rule::weights();
  nodes.clear();
  weights.clear();
  for (std::size_t i = 0; i < x.size(); ++i) {
    nodes.push_back(x[i]);
    weights.push_back(w[i]);
    if (x[i] != 0.0) {
      nodes.push_back(-x[i]);
      weights.push_back(w[i]);
    }
  }
}

void legendre_rule(int order, std::vector<double>& nodes, std::vector<double>& weights) {
  switch (order) {
    case 2: return legendre_rule<2>(nodes, weights);
    case 3: return legendre_rule<3>(nodes, weights);
    case 4: return legendre_rule<4>(nodes, weights);
    case 5: return legendre_rule<5>(nodes, weights);
    case 6: return legendre_rule<6>(nodes, weights);
    case 7: return legendre_rule<7>(nodes, weights);
    case 8: return legendre_rule<8>(nodes, weights);
    case 9: return legendre_rule<9>(nodes, weights);
    case 10: return legendre_rule<10>(nodes, weights);
    case 15: return legendre_rule<15>(nodes, weights);
    case 20: return legendre_rule<20>(nodes, weights);
    default: throw InvalidArgument("change_of_variables_quadrature: order " + std::to_string(order) +
                                   " has no Boost.Math table; use 2..10, 15 or 20");
  }
}

// Composite rule on [lo, hi] with `panels` panels.
void composite_rule(double lo, double hi, int panels, int order, std::vector<double>& nodes,
                    std::vector<double>& weights) {
  std::vector<double> x, w;
  legendre_rule(order, x, w);
  nodes.clear();
  weights.clear();
  const double width = (hi - lo) / panels;
  for (int p = 0; p < panels; ++p) {
    const double centre = lo + (p + 0.5) * width;
    for (std::size_t i = 0; i < x.size(); ++i) {
      nodes.push_back(centre + 0.5 * width * x[i]);
      weights.push_back(0.5 * width * w[i]);
    }
  }
}

}  // namespace

std::array<double, 4> quadrature_distances(const QuadratureAtoms& atoms) {
  const Vector density = atoms.log_initial_density.array().exp().matrix();
  Eigen::Array4d total = Eigen::Array4d::Zero();
  for (Eigen::Index k = 0; k < atoms.weight.size(); ++k)
    total += atoms.weight(k) * density(k) * as_array(Integrands(atoms.log_ratio(k)));
  return {total(0), total(1), total(2), total(3)};
}

int ChangeOfVariablesQuadrature::panels(const EstimationProblem& problem) const {
  return panels_ > 0 ? panels_ : (problem.target.dim() == 1 ? 4096 : 192);
}

QuadratureAtoms ChangeOfVariablesQuadrature::atoms(const EstimationProblem& problem, int panel_count) const {
  const Eigen::Index d = problem.target.dim();
  Vector centre = Vector::Zero(d), spread = Vector::Ones(d);
  if (problem.run.initialisation == Initialisation::kExactMarginal) {
    const Moments moments = *problem.target.moments(problem.grid.level(problem.grid.steps()));
    centre = moments.mean;
    spread = moments.covariance.diagonal().array().sqrt();
  }
  // +-12 standard deviations: the initial-law mass outside is below 1e-30 for Gaussian tails
  // and, for mixtures, every component lies within the overall spread.
  const Vector lo = centre - 12.0 * spread, hi = centre + 12.0 * spread;
  std::vector<std::vector<double>> nodes(static_cast<std::size_t>(d)), weights(static_cast<std::size_t>(d));
  for (Eigen::Index i = 0; i < d; ++i)
    composite_rule(lo(i), hi(i), panel_count, order_, nodes[static_cast<std::size_t>(i)],
                   weights[static_cast<std::size_t>(i)]);
  const auto m = static_cast<Eigen::Index>(nodes[0].size());
  const Eigen::Index count = d == 1 ? m : m * m;
  QuadratureAtoms out;
  out.y_T.resize(d, count);
  out.weight.resize(count);
  for (Eigen::Index k = 0; k < count; ++k) {
    const auto i0 = static_cast<std::size_t>(k % m);
    out.y_T(0, k) = nodes[0][i0];
    out.weight(k) = weights[0][i0];
    if (d == 2) {
      const auto i1 = static_cast<std::size_t>(k / m);
      out.y_T(1, k) = nodes[1][i1];
      out.weight(k) *= weights[1][i1];
    }
  }
  const FlowOutput flow = push_forward_with_log_det(problem.sampler, problem.grid, problem.score, out.y_T,
                                                    problem.run.stop_index, problem.run.threads);
  const Vector log_p_x = problem.target.log_density(problem.grid.level(problem.run.stop_index), flow.y);
  out.log_initial_density = initial_log_density(problem, out.y_T);
  out.log_ratio = log_p_x - (out.log_initial_density - flow.log_abs_det);  // as log_ratios()
  out.y = flow.y;
  return out;
}

void ChangeOfVariablesQuadrature::check_resolution(const EstimationProblem& problem) const {
  const Eigen::Index d = problem.target.dim();
  Vector spread = Vector::Ones(d);
  double scale = 1.0;
  if (problem.run.initialisation == Initialisation::kExactMarginal) {
    const NoiseLevel& level = problem.grid.level(problem.grid.steps());
    spread = problem.target.moments(level)->covariance.diagonal().array().sqrt();
    scale = narrowest_component_sd(problem.target, level).value_or(level.sigma());
  }
  const int fine = panels(problem);
  for (Eigen::Index i = 0; i < d; ++i) {
    const double width = 24.0 * spread(i) / fine;
    if (width * kPanelsPerSd <= scale) continue;
    const auto needed = static_cast<long>(std::ceil(24.0 * spread(i) * kPanelsPerSd / scale));
    std::ostringstream rule;
    rule.precision(3);
    rule << "panel width " << width << " (box: centre +- 12 s, s = " << spread(i) << " the initial law's sd, axis " << i
         << ", T = " << problem.grid.steps() << ") is coarser than the narrowest length scale " << scale
         << " of the initial law / " << kPanelsPerSd << ": change_of_variables_quadrature needs >= " << kPanelsPerSd
         << " panels per standard deviation (so that its n/2 floor rule keeps one); panels >= " << needed << " here";
    throw ParameterError("estimator 'change_of_variables_quadrature'", "panels",
                         panels_ > 0 ? std::to_string(panels_) : "0 (default " + std::to_string(fine) + ")", rule.str());
  }
}

std::vector<Estimate> ChangeOfVariablesQuadrature::estimate(const EstimationProblem& problem) const {
  if (const auto reason = unsupported_reason(problem)) throw InvalidArgument(*reason);
  const int fine_panels = panels(problem);
  const std::array<double, 4> fine = quadrature_distances(atoms(problem, fine_panels));
  const std::array<double, 4> coarse = quadrature_distances(atoms(problem, fine_panels / 2));
  std::vector<Estimate> out;
  for (int i = 0; i < 4; ++i) {
    out.push_back({kMetrics[i], fine[i], 0.0, std::fabs(fine[i] - coarse[i]), EstimateKind::kExact,
                   "change_of_variables_quadrature(panels=" + std::to_string(fine_panels) +
                       ",order=" + std::to_string(order_) + ")"});
  }
  return out;
}

}  // namespace dmconv
