// Sum of one-step kernel KLs (estimators/kernel_kl.hpp; docs/theory.md §6.1, §7 claim 10, §8.1).
#include "estimators/kernel_kl.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <cmath>
#include <exception>
#include <limits>
#include <numbers>
#include <sstream>

#include "core/error.hpp"
#include "core/gauss_hermite.hpp"
#include "core/parallel.hpp"

namespace dmconv::estimators {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();
const double kLog2Pi = std::log(2.0 * std::numbers::pi);

// Tensor Gauss-Hermite rule for N(0, I_d): columns are nodes, sum of weights = 1.
struct NormalRule {
  Matrix nodes;
  Vector weights;
};

NormalRule standard_normal_rule(int points, int dim) {
  const GaussHermiteRule rule = gauss_hermite_rule(points);
  Eigen::Index total = 1;
  for (int i = 0; i < dim; ++i) total *= points;
  NormalRule out{Matrix(dim, total), Vector(total)};
  for (Eigen::Index j = 0; j < total; ++j) {
    Eigen::Index rest = j;
    double weight = 1.0;
    for (int i = 0; i < dim; ++i) {
      const auto digit = static_cast<std::size_t>(rest % points);
      rest /= points;
      out.nodes(i, j) = std::numbers::sqrt2 * rule.nodes[digit];
      weight *= rule.weights[digit] / std::sqrt(std::numbers::pi);
    }
    out.weights(j) = weight;
  }
  return out;
}

// A Gaussian N(mean, cov) held by its Cholesky factor, for log densities of many points.
struct GaussianFactor {
  Matrix lower;  // cov = lower lower^T
  double log_normaliser = 0.0;  // -(d/2) log 2 pi - (1/2) log det cov

  explicit GaussianFactor(const Matrix& cov) {
    Eigen::LLT<Matrix> llt(0.5 * (cov + cov.transpose()));
    if (llt.info() != Eigen::Success) throw InvalidArgument("kernel_kl: a covariance is not positive definite");
    lower = llt.matrixL();
    const double log_det = 2.0 * lower.diagonal().array().log().sum();
    log_normaliser = -0.5 * (static_cast<double>(cov.rows()) * kLog2Pi + log_det);
  }
  // log N(z_j; mean_j, cov) for every column; `mean` has one column or as many as z.
  void log_density(const Matrix& z, const Matrix& mean, Vector& out) const {
    Matrix centred = mean.cols() == 1 ? Matrix(z.colwise() - mean.col(0)) : Matrix(z - mean);
    lower.triangularView<Eigen::Lower>().solveInPlace(centred);
    out = (-0.5 * centred.colwise().squaredNorm().transpose()).array() + log_normaliser;
  }
};

// The mixture at one step: p_t and the true reverse kernel, per component.
struct StepComponent {
  double log_weight;
  Vector mean_t, mean_previous;
  Matrix kernel_map;         // sqrt(alpha) G_k
  Matrix kernel_covariance;  // beta G_k
  GaussianFactor marginal;   // C_{k,t}
  GaussianFactor kernel;     // beta G_k
};

std::vector<StepComponent> step_components(const GaussianMixtureView& mixture, const NoiseLevel& level,
                                           const NoiseLevel& previous, double alpha, double beta) {
  std::vector<StepComponent> out;
  for (int k = 0; k < mixture.size(); ++k) {
    const Matrix sigma = mixture.covariance(k);
    Matrix c_t = level.abar() * sigma, c_prev = previous.abar() * sigma;
    c_t.diagonal().array() += level.one_minus_abar();
    c_prev.diagonal().array() += previous.one_minus_abar();
    // G = C_{t-1} C_t^{-1}; the two commute (C_t = alpha C_{t-1} + beta I), so G is symmetric.
    Matrix g = c_t.llt().solve(c_prev).transpose();
    g = 0.5 * (g + g.transpose());
    out.push_back(StepComponent{std::log(mixture.weight(k)), level.sqrt_abar() * mixture.mean(k),
                                previous.sqrt_abar() * mixture.mean(k), std::sqrt(alpha) * g, beta * g,
                                GaussianFactor(c_t), GaussianFactor(beta * g)});
  }
  return out;
}

StepContext context_of(const EstimationProblem& problem, int t) {
  const int stop = problem.run.stop_index;
  return StepContext{problem.grid, t, t == stop + 1, problem.grid.steps() - stop};
}

// log sum_k exp(v_k) over the rows of each column.
Vector column_log_sum_exp(const Matrix& values) {
  Vector out(values.cols());
  for (Eigen::Index j = 0; j < values.cols(); ++j) {
    const double top = values.col(j).maxCoeff();
    out(j) = top == -std::numeric_limits<double>::infinity()
                 ? top
                 : top + std::log((values.col(j).array() - top).exp().sum());
  }
  return out;
}

struct StepTerm {
  double value = 0.0;
  double rounding = 0.0;
};

// Closed form: one Gaussian component and an affine score model.
StepTerm closed_form_step(const EstimationProblem& problem, int t, const StochasticScoreStep& step) {
  const int dim = problem.target.dim();
  const NoiseLevel& level = problem.grid.level(t);
  const StepComponent part = step_components(*problem.target.gaussian_mixture(), level, problem.grid.level(t - 1),
                                             problem.grid.alpha(t), problem.grid.beta(t))
                                 .front();
  const Matrix& kernel_map = part.kernel_map;
  const Vector kernel_offset = part.mean_previous - kernel_map * part.mean_t;
  const Matrix& kernel_cov = part.kernel_covariance;

  // s(y) = J y + r, probed at 0 and the unit vectors.
  Matrix probes = Matrix::Zero(dim, dim + 1);
  for (int i = 0; i < dim; ++i) probes(i, i + 1) = 1.0;
  Matrix scores(dim, dim + 1);
  problem.score.evaluate(level, probes, scores);
  const Vector r = scores.col(0);
  const Matrix jacobian = scores.rightCols(dim).colwise() - r;
  Matrix map = step.score_coefficient * jacobian;
  map.diagonal().array() += step.state_coefficient;
  Matrix sampler_cov = step.pre_noise_variance * map * map.transpose();
  sampler_cov.diagonal().array() += step.post_noise_variance;
  sampler_cov = 0.5 * (sampler_cov + sampler_cov.transpose());

  const Eigen::LLT<Matrix> sampler_llt(sampler_cov);
  if (sampler_llt.info() != Eigen::Success) throw InvalidArgument("kernel_kl: the sampler's kernel covariance is singular");
  const Matrix lower = sampler_llt.matrixL();
  // Sq^{-1/2} (Sp - Sq) Sq^{-T/2}
  Matrix whitened = kernel_cov - sampler_cov;
  lower.triangularView<Eigen::Lower>().solveInPlace(whitened);
  whitened.transposeInPlace();
  lower.triangularView<Eigen::Lower>().solveInPlace(whitened);
  const Vector mu = Eigen::SelfAdjointEigenSolver<Matrix>(0.5 * (whitened + whitened.transpose()),
                                                           Eigen::EigenvaluesOnly)
                        .eigenvalues();
  double covariance_term = 0.0;
  for (Eigen::Index i = 0; i < mu.size(); ++i) covariance_term += mu(i) - std::log1p(mu(i));

  const Matrix difference = map - kernel_map;
  Vector delta = difference * part.mean_t + step.score_coefficient * r - kernel_offset;
  lower.triangularView<Eigen::Lower>().solveInPlace(delta);
  Matrix spread = difference * part.marginal.lower;
  lower.triangularView<Eigen::Lower>().solveInPlace(spread);
  const double mean_term = delta.squaredNorm() + spread.squaredNorm();
  const double value = 0.5 * (covariance_term + mean_term);
  return {value, kRoundingUlps * kEps * (static_cast<double>(dim) * mu.cwiseAbs().maxCoeff() + value)};
}

// Quadrature: Gaussian mixtures, d <= max_dim.
StepTerm quadrature_step(const EstimationProblem& problem, int t, const StochasticScoreStep& step,
                         const NormalRule& rule) {
  const GaussianMixtureView& law = *problem.target.gaussian_mixture();
  const int dim = problem.target.dim();
  const NoiseLevel& level = problem.grid.level(t);
  const std::vector<StepComponent> parts =
      step_components(law, level, problem.grid.level(t - 1), problem.grid.alpha(t), problem.grid.beta(t));
  const auto components = static_cast<Eigen::Index>(parts.size());
  const Eigen::Index nodes = rule.weights.size();
  const double a = step.state_coefficient, c = step.score_coefficient;
  const double v_pre = step.pre_noise_variance, v_post = step.post_noise_variance;
  const bool pre_noise = v_pre > 0.0;

  Matrix x(dim, 1), s_x(dim, 1), jacobian(dim, dim);
  Matrix inner(dim, components * nodes);
  Vector inner_weight(components * nodes);
  Matrix log_terms(components, components * nodes);
  Vector column;
  Matrix y, s_y, mapped, linear;
  Eigen::RowVectorXd correction(nodes);
  StepTerm term;
  for (const StepComponent& outer : parts) {
    for (Eigen::Index i = 0; i < nodes; ++i) {
      x.col(0) = outer.mean_t + outer.marginal.lower * rule.nodes.col(i);
      const double outer_weight = std::exp(outer.log_weight) * rule.weights(i);
      // Responsibilities w_k(x) of p_t.
      Vector log_w(components);
      for (Eigen::Index k = 0; k < components; ++k) {
        parts[static_cast<std::size_t>(k)].marginal.log_density(x, parts[static_cast<std::size_t>(k)].mean_t, column);
        log_w(k) = parts[static_cast<std::size_t>(k)].log_weight + column(0);
      }
      const double log_total = column_log_sum_exp(log_w)(0);
      log_w.array() -= log_total;
      // Inner nodes: every component of the true kernel.
      Matrix kernel_means(dim, components);
      for (Eigen::Index k = 0; k < components; ++k) {
        const StepComponent& part = parts[static_cast<std::size_t>(k)];
        kernel_means.col(k) = part.mean_previous + part.kernel_map * (x.col(0) - part.mean_t);
        inner.middleCols(k * nodes, nodes) = (part.kernel.lower * rule.nodes).colwise() + kernel_means.col(k);
        inner_weight.segment(k * nodes, nodes) = std::exp(log_w(k)) * rule.weights;
      }
      // log p(z | x) at every inner node.
      for (Eigen::Index k = 0; k < components; ++k) {
        parts[static_cast<std::size_t>(k)].kernel.log_density(inner, kernel_means.col(k), column);
        log_terms.row(k) = (column.array() + log_w(k)).transpose();
      }
      const Vector log_p = column_log_sum_exp(log_terms);
      // log q_t(z | x).
      problem.score.evaluate(level, x, s_x);
      const Vector m0 = a * x.col(0) + c * s_x.col(0);
      Vector log_q(inner.cols());
      if (!pre_noise) {
        const double normaliser = -0.5 * dim * (kLog2Pi + std::log(v_post));
        log_q = (-0.5 / v_post) * (inner.colwise() - m0).colwise().squaredNorm().transpose();
        log_q.array() += normaliser;
      } else {
        problem.score.jacobian(level, x.col(0), jacobian);
        Matrix map = c * jacobian;
        map.diagonal().array() += a;
        Matrix precision = (map.transpose() * map) / v_post;
        precision.diagonal().array() += 1.0 / v_pre;
        const Eigen::LLT<Matrix> precision_llt(precision);
        // y = yhat + L^{-T} zeta has covariance Lambda^{-1} when Lambda = L L^T.
        Matrix spread = rule.nodes;
        precision_llt.matrixU().solveInPlace(spread);
        Matrix linear_cov = v_pre * map * map.transpose();
        linear_cov.diagonal().array() += v_post;
        GaussianFactor(linear_cov).log_density(inner, m0, log_q);
        const Matrix yhat =
            (precision_llt.solve(map.transpose() * (inner.colwise() - m0)) / v_post).colwise() + x.col(0);
        y.resize(dim, inner.cols() * nodes);
        for (Eigen::Index j = 0; j < inner.cols(); ++j) y.middleCols(j * nodes, nodes) = spread.colwise() + yhat.col(j);
        s_y.resize(dim, y.cols());
        problem.score.evaluate(level, y, s_y);
        // m(y) and m_lin(y) at every y; |z - m|^2 - |z - m_lin|^2 = (m_lin - m) . (2 z - m - m_lin) without
        // cancellation.
        mapped = a * y + c * s_y;
        linear = map * (y.colwise() - x.col(0));
        linear.colwise() += m0;
        for (Eigen::Index j = 0; j < inner.cols(); ++j) {
          const auto m = mapped.middleCols(j * nodes, nodes);
          const auto m_linear = linear.middleCols(j * nodes, nodes);
          correction = rule.weights.array().log().transpose() -
                       ((m_linear - m).array() * (((2.0 * inner.col(j)).replicate(1, nodes) - m - m_linear).array()))
                               .colwise()
                               .sum() /
                           (2.0 * v_post);
          const double top = correction.maxCoeff();
          log_q(j) += top + std::log((correction.array() - top).exp().sum());
        }
      }
      const Vector difference = log_p - log_q;
      term.value += outer_weight * inner_weight.dot(difference);
      term.rounding += outer_weight * inner_weight.dot(Vector(log_p.cwiseAbs() + log_q.cwiseAbs()));
    }
  }
  term.rounding *= kRoundingUlps * kEps;
  return term;
}

// Every step's term, t = stop+1 .. T, computed in parallel (steps are independent).
std::vector<StepTerm> all_step_terms(const EstimationProblem& problem, int points) {
  const int stop = problem.run.stop_index, steps = problem.grid.steps();
  const bool closed = KernelKlEstimator::closed_form_applies(problem);
  const NormalRule rule = closed ? NormalRule{} : standard_normal_rule(points, problem.target.dim());
  std::vector<StepTerm> terms(static_cast<std::size_t>(steps - stop));
  std::exception_ptr failure;
#pragma omp parallel for schedule(dynamic, 1) num_threads(resolve_threads(problem.run.threads))
  for (int t = stop + 1; t <= steps; ++t) {
    try {
      const StochasticScoreStep step = *problem.sampler.stochastic_score_step(context_of(problem, t));
      terms[static_cast<std::size_t>(t - stop - 1)] =
          closed ? closed_form_step(problem, t, step) : quadrature_step(problem, t, step, rule);
    } catch (...) {
#pragma omp critical(kernel_kl_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
  return terms;
}

}  // namespace

bool KernelKlEstimator::closed_form_applies(const EstimationProblem& problem) {
  const GaussianMixtureView* law = problem.target.gaussian_mixture();
  // One component's exact score is affine whatever class carries the law (e.g. a one-component mixture).
  return law != nullptr && law->size() == 1 &&
         (problem.score.is_affine() || problem.score.exact_score_of() == &problem.target);
}

std::optional<std::string> KernelKlEstimator::unsupported_reason(const EstimationProblem& problem) const {
  if (problem.target.gaussian_mixture() == nullptr)
    return "requires a Gaussian or Gaussian-mixture target (the true reverse kernel in closed form, docs/theory.md "
           "§8.1)";
  const int stop = problem.run.stop_index;
  for (int t = problem.grid.steps(); t > stop; --t) {
    const std::optional<StochasticScoreStep> step = problem.sampler.stochastic_score_step(context_of(problem, t));
    if (!step)
      return "sampler " + problem.sampler.name() +
             " has no one-step kernel Y+ = Y + N(0, v_pre), Y' = a Y+ + c s(Y+) + N(0, v_post) (DDPM and the "
             "accelerated stochastic variants have one)";
    if (!(step->post_noise_variance > 0.0))
      return "step t = " + std::to_string(t) + " of sampler " + problem.sampler.name() +
             " adds no noise after the score: its kernel is a point mass and the kernel KL is infinite";
    if (step->pre_noise_variance > 0.0 && !closed_form_applies(problem) && !problem.score.has_jacobian())
      return "the sampler's pre-noise integral needs the score Jacobian, which this score model does not provide";
  }
  if (!closed_form_applies(problem) && problem.target.dim() > options_.max_dim)
    return "the quadrature method handles d <= max_dim = " + std::to_string(options_.max_dim) + " (here d = " +
           std::to_string(problem.target.dim()) +
           "); the closed form, any d, needs a one-component Gaussian target and an affine score";
  return std::nullopt;
}

std::vector<double> KernelKlEstimator::step_terms(const EstimationProblem& problem, int points) const {
  std::vector<double> values;
  for (const StepTerm& term : all_step_terms(problem, points)) values.push_back(term.value);
  return values;
}

std::vector<Estimate> KernelKlEstimator::estimate(const EstimationProblem& problem) const {
  if (const auto reason = unsupported_reason(problem)) {
    Estimate unsupported{"kernel_kl_sum", std::numeric_limits<double>::quiet_NaN(), 0.0, 0.0, EstimateKind::kExact,
                         "kernel_kl"};
    unsupported.status = EstimateStatus::kUnsupported;
    unsupported.message = *reason;
    return {unsupported};
  }
  const std::vector<StepTerm> full = all_step_terms(problem, options_.points);
  double value = 0.0, rounding = 0.0;
  for (const StepTerm& term : full) {  // in step order: the same bits for any thread count
    value += term.value;
    rounding += term.rounding;
  }
  std::ostringstream method;
  double floor = rounding;
  if (closed_form_applies(problem)) {
    method << "kernel_kl(closed form)";
  } else {
    double coarse = 0.0;
    for (const StepTerm& term : all_step_terms(problem, options_.points / 2)) coarse += term.value;
    floor += std::fabs(value - coarse);
    method << "kernel_kl(quadrature, points=" << options_.points << ")";
  }
  Estimate estimate{"kernel_kl_sum", value, 0.0, floor, EstimateKind::kExact, method.str()};
  estimate.rounding = rounding;
  return {estimate};
}

}  // namespace dmconv::estimators
