#include "estimators/gaussian_law.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/run_sampler.hpp"

namespace dmconv::estimators {
namespace {

// Probe scale: a power of two, so scaling is exact; large enough that the affine constant
// terms are negligible against the probed linear part (see the header).
constexpr double kProbeScale = 1048576.0;  // 2^20
constexpr double kEps = std::numeric_limits<double>::epsilon();

Matrix symmetrised(const Matrix& m) { return 0.5 * (m + m.transpose()); }

void check_propagation(const TimeGrid& grid, const ScoreModel& score, const GaussianLaw& initial, int from_index,
                       int stop_index) {
  std::ostringstream message;
  if (!(0 <= stop_index && stop_index < from_index && from_index <= grid.steps())) {
    message << "gaussian law propagation: need 0 <= stop_index (" << stop_index << ") < from_index (" << from_index
            << ") <= T (" << grid.steps() << ")";
  } else if (initial.dim() != score.dim() || initial.covariance.rows() != initial.dim() ||
             initial.covariance.cols() != initial.dim()) {
    message << "gaussian law propagation: initial law of dimension " << initial.dim() << " (covariance "
            << initial.covariance.rows() << " x " << initial.covariance.cols() << ") does not match the score model"
            << " dimension " << score.dim();
  } else if (!score.is_affine()) {
    message << "gaussian law propagation: the score model is not affine (ScoreModel::is_affine() is false)";
  } else {
    return;
  }
  throw InvalidArgument(message.str());
}

double max_eigenvalue(const Matrix& s) {
  return Eigen::SelfAdjointEigenSolver<Matrix>(s, Eigen::EigenvaluesOnly).eigenvalues().maxCoeff();
}
double min_eigenvalue(const Matrix& s) {
  return Eigen::SelfAdjointEigenSolver<Matrix>(s, Eigen::EigenvaluesOnly).eigenvalues().minCoeff();
}

// Round-off budgets of the metrics, first order in a relative error eps_prop of the
// propagated law p_Y = N(m_Y, S_Y) (normwise: |dS| <= eps |S_Y|, |dm| <= eps (|m_Y| + |S_Y|^1/2)),
// plus second-order terms. See the header.
struct PropagationFloors {
  double kl_target_output = 0.0, kl_output_target = 0.0, w2 = 0.0, hellinger = 0.0, tv = 0.0;
};

PropagationFloors propagation_floors(const GaussianLaw& target_law, const GaussianLaw& output, double eps) {
  const double d = static_cast<double>(output.dim());
  const double y_max = max_eigenvalue(output.covariance);
  const double y_min = min_eigenvalue(output.covariance);
  const double x_min = min_eigenvalue(target_law.covariance);
  const double mean_error = eps * (output.mean.norm() + std::sqrt(y_max));
  const double eps_y = eps * y_max / y_min;  // relative perturbation in Y-whitened coordinates
  const double eps_x = eps * y_max / x_min;  // perturbation of S_Y in X-whitened coordinates
  const double da_y = mean_error / std::sqrt(y_min);
  const double da_x = mean_error / std::sqrt(x_min);
  PropagationFloors f;
  {
    // KL(p_X || p_Y): pencil of X relative to Y; perturbing the reference moves lambda_i by
    // ~lambda_i eps_y and a by ~|a| eps_y / 2 + da_y.
    const GaussianPencil p = gaussian_pencil(target_law, output);
    const double a = p.a.norm();
    const double da = 0.5 * a * eps_y + da_y;
    f.kl_target_output = 0.5 * eps_y * p.mu.cwiseAbs().sum() + a * da + 0.25 * d * eps_y * eps_y + 0.5 * da * da;
    double hellinger = 0.0;
    for (Eigen::Index i = 0; i < p.mu.size(); ++i) hellinger += std::fabs(p.mu(i)) / (8.0 * (1.0 + 0.5 * p.mu(i)));
    f.hellinger = eps_y * hellinger + 0.25 * a * da + (d * eps_y * eps_y + da * da) / 16.0;
  }
  {
    // KL(p_Y || p_X): pencil of Y relative to X; perturbing law 0 moves lambda_i by eps_x.
    const GaussianPencil p = gaussian_pencil(output, target_law);
    double first = 0.0;
    for (Eigen::Index i = 0; i < p.mu.size(); ++i) first += std::fabs(p.mu(i)) / (1.0 + p.mu(i));
    f.kl_output_target = 0.5 * eps_x * first + p.a.norm() * da_x + 0.25 * d * eps_x * eps_x + 0.5 * da_x * da_x;
  }
  // W2 and TV are metrics: |D(X, Y') - D(X, Y)| <= D(Y, Y').
  f.w2 = mean_error + eps * std::sqrt(output.covariance.trace());
  f.tv = std::sqrt(d * eps_y * eps_y / 8.0 + da_y * da_y / 4.0);  // Pinsker on KL(Y || Y')
  return f;
}

}  // namespace

const GaussianMixtureView* single_gaussian(const Target& target) {
  const GaussianMixtureView* mixture = target.gaussian_mixture();
  return mixture != nullptr && mixture->size() == 1 ? mixture : nullptr;
}

GaussianLaw gaussian_marginal(const Target& target, const NoiseLevel& level) {
  const GaussianMixtureView* gaussian = single_gaussian(target);
  require(gaussian != nullptr, "gaussian_law: the target '" + target.name() + "' is not a Gaussian law");
  GaussianLaw law;
  law.mean = level.sqrt_abar() * gaussian->mean(0);
  law.covariance = level.abar() * gaussian->covariance(0);
  law.covariance.diagonal().array() += level.one_minus_abar();
  return law;
}

GaussianLaw gaussian_initial_law(const EstimationProblem& problem) {
  require(single_gaussian(problem.target) != nullptr,
          "gaussian_law: the target '" + problem.target.name() + "' is not a Gaussian target");
  if (problem.run.initialisation == Initialisation::kStandardNormal) {
    const Eigen::Index d = problem.target.dim();
    return {Vector::Zero(d), Matrix::Identity(d, d)};
  }
  return gaussian_marginal(problem.target, problem.grid.level(problem.grid.steps()));
}

GaussianLaw propagate_deterministic(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score,
                                    const GaussianLaw& initial, int from_index, int stop_index) {
  check_propagation(grid, score, initial, from_index, stop_index);
  require(sampler.is_deterministic(), "gaussian law propagation: sampler '" + sampler.name() +
                                          "' injects noise; the whole-run probe needs a deterministic sampler");
  const Eigen::Index d = initial.dim();
  const Eigen::LLT<Matrix> llt(symmetrised(initial.covariance));
  require(llt.info() == Eigen::Success, "gaussian law propagation: initial covariance is not positive definite");
  const Matrix factor = llt.matrixL();
  // Probe particles: Y_T = m_T (column 0) and m_T + lambda L_T e_i (column i + 1).
  Matrix x(d, d + 1);
  x.col(0) = initial.mean;
  for (Eigen::Index i = 0; i < d; ++i) x.col(i + 1) = initial.mean + kProbeScale * factor.col(i);
  const RandomStreams unused_streams(0, 0);  // a deterministic sampler draws no noise
  run_block(sampler, grid, score, unused_streams, 0, from_index, stop_index, x);
  GaussianLaw out;
  out.mean = x.col(0);
  const Matrix f = (x.rightCols(d).colwise() - out.mean) / kProbeScale;
  out.covariance = symmetrised(f * f.transpose());
  return out;
}

GaussianLaw propagate_markov(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score,
                             const GaussianLaw& initial, int from_index, int stop_index) {
  check_propagation(grid, score, initial, from_index, stop_index);
  const Eigen::Index d = initial.dim();
  GaussianLaw law{initial.mean, symmetrised(initial.covariance)};
  SamplerState state;
  std::vector<Matrix> noise;
  Matrix x, a(d, d);
  const int total_steps = from_index - stop_index;
  for (int t = from_index; t > stop_index; --t) {
    const StepContext context{grid, t, t == stop_index + 1, total_steps};
    const int injections = sampler.noise_injections_at(context);
    const Eigen::Index columns = 1 + (injections + 1) * d;
    noise.resize(static_cast<std::size_t>(injections));
    x.resize(d, columns);
    // Columns: 0 -> (Y = 0, Z = 0); 1 + i -> (Y = lambda e_i); 1 + (k + 1) d + i -> (Z_k = lambda e_i).
    x.setZero();
    for (Eigen::Index i = 0; i < d; ++i) x(i, 1 + i) = kProbeScale;
    for (int k = 0; k < injections; ++k) {
      Matrix& z = noise[static_cast<std::size_t>(k)];
      z.setZero(d, columns);
      for (Eigen::Index i = 0; i < d; ++i) z(i, 1 + (k + 1) * d + i) = kProbeScale;
    }
    sampler.step(context, score, noise, x, state);
    if (state.has_previous()) {
      throw InvalidArgument("gaussian law propagation: sampler '" + sampler.name() +
                            "' keeps a multistep cache (SamplerState); step-by-step moment propagation "
                            "assumes a Markov sampler");
    }
    const Vector b = x.col(0);
    a = (x.middleCols(1, d).colwise() - b) / kProbeScale;
    Matrix covariance = a * law.covariance * a.transpose();
    for (int k = 0; k < injections; ++k) {
      const Matrix n = (x.middleCols(1 + (k + 1) * d, d).colwise() - b) / kProbeScale;
      covariance += n * n.transpose();
    }
    law.mean = a * law.mean + b;
    law.covariance = symmetrised(covariance);
  }
  return law;
}

GaussianLaw propagate_substeps(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score,
                               const GaussianLaw& initial, int from_index, int stop_index) {
  check_propagation(grid, score, initial, from_index, stop_index);
  const Eigen::Index d = initial.dim();
  GaussianLaw law{initial.mean, symmetrised(initial.covariance)};
  const int total_steps = from_index - stop_index;
  Matrix probe(d, d + 1), s(d, d + 1);
  for (int t = from_index; t > stop_index; --t) {
    const StepContext context{grid, t, t == stop_index + 1, total_steps};
    const std::vector<StochasticScoreStep> substeps = sampler.stochastic_score_substeps(context);
    require(!substeps.empty(), "gaussian law propagation: sampler '" + sampler.name() +
                                   "' gives no stochastic_score_substeps at t = " + std::to_string(t));
    // The affine score at level t, s(y) = J y + r, probed at y = 0 and y = lambda e_i.
    probe.setZero();
    for (Eigen::Index i = 0; i < d; ++i) probe(i, 1 + i) = kProbeScale;
    score.evaluate(grid.level(t), probe, s);
    const Vector r = s.col(0);
    const Matrix jacobian = (s.rightCols(d).colwise() - r) / kProbeScale;
    for (const StochasticScoreStep& step : substeps)
      push_gaussian_through_step(step, jacobian, r, law.mean, law.covariance);
  }
  return law;
}

GaussianLaw propagate_gaussian_law(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score,
                                   const GaussianLaw& initial, int from_index, int stop_index) {
  require(sampler.is_affine_for_affine_score(), "gaussian law propagation: sampler '" + sampler.name() +
                                                    "' has a step that is not affine in (Y, noise)");
  if (sampler.is_deterministic()) return propagate_deterministic(sampler, grid, score, initial, from_index, stop_index);
  // Probing a step with K noise injections costs (K + 1) d columns through K-fold work
  // (pmm_pc's K ULA iterations: O(K^2 d) memory and time); steps made of substeps are
  // propagated substep by substep instead, O(K d^3).
  bool many_injections = false, all_substeps = true;
  for (int t = from_index; t > stop_index; --t) {
    const StepContext context{grid, t, t == stop_index + 1, from_index - stop_index};
    many_injections = many_injections || sampler.noise_injections_at(context) > 1;
    all_substeps = all_substeps && !sampler.stochastic_score_substeps(context).empty();
  }
  if (many_injections && all_substeps) return propagate_substeps(sampler, grid, score, initial, from_index, stop_index);
  return propagate_markov(sampler, grid, score, initial, from_index, stop_index);
}

GaussianLaw gaussian_output_law(const EstimationProblem& problem) {
  return propagate_gaussian_law(problem.sampler, problem.grid, problem.score, gaussian_initial_law(problem),
                                problem.grid.steps(), problem.run.stop_index);
}

std::optional<std::string> GaussianLawEstimator::unsupported_reason(const EstimationProblem& problem) const {
  if (single_gaussian(problem.target) == nullptr) {
    return "gaussian_law requires a Gaussian target (a one-component Gaussian law, e.g. target 'gaussian'); the "
           "target is '" + problem.target.name() + "'";
  }
  if (!problem.score.is_affine()) {
    return "gaussian_law requires an affine score model (exact Gaussian score or an affine perturbation of it); "
           "this score model is not affine";
  }
  if (!problem.sampler.is_affine_for_affine_score()) {
    return "gaussian_law: sampler '" + problem.sampler.name() +
           "' has a step that is not affine in (Y, noise) (data-dependent step size or clipping), so its output "
           "law is not Gaussian";
  }
  if (problem.score.dim() != problem.target.dim()) {
    return "gaussian_law: score model dimension " + std::to_string(problem.score.dim()) + " != target dimension " +
           std::to_string(problem.target.dim());
  }
  if (!problem.sampler.is_deterministic() && problem.grid.steps() > problem.run.stop_index) {
    // Stochastic samplers go through step-by-step propagation, which needs a Markov step: one probe
    // step (one particle at 0, no noise) tells whether the sampler keeps a multistep cache.
    const int t = problem.grid.steps();
    const StepContext context{problem.grid, t, t == problem.run.stop_index + 1, t - problem.run.stop_index};
    const Eigen::Index d = problem.target.dim();
    std::vector<Matrix> noise(static_cast<std::size_t>(problem.sampler.noise_injections_at(context)), Matrix::Zero(d, 1));
    Matrix x = Matrix::Zero(d, 1);
    SamplerState state;
    problem.sampler.step(context, problem.score, noise, x, state);
    if (state.has_previous())
      return "gaussian_law: sampler '" + problem.sampler.name() +
             "' is stochastic and keeps a multistep cache between steps; exact law propagation handles Markov "
             "stochastic samplers (and deterministic ones, multistep included)";
  }
  return std::nullopt;
}

std::vector<Estimate> GaussianLawEstimator::estimate(const EstimationProblem& problem) const {
  if (const auto reason = unsupported_reason(problem)) throw InvalidArgument(*reason);
  problem.run.validate(problem.grid);
  const GaussianLaw output = gaussian_output_law(problem);
  const GaussianLaw target_law = gaussian_marginal(problem.target, problem.grid.level(problem.run.stop_index));
  const std::string method = name();
  const std::vector<std::string> metrics{"kl_target_output", "kl_output_target", "w2", "hellinger", "tv"};

  std::vector<Estimate> estimates;
  const auto not_available = [&]() {
    // The propagated law is non-finite or degenerate (e.g. a diverging sampler): no number.
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    for (const std::string& metric : metrics)
      estimates.push_back({metric, nan, 0.0, nan, EstimateKind::kExact, method, EstimateStatus::kNonFinite,
                           "the propagated output law is non-finite or degenerate"});
    return estimates;
  };
  if (!output.mean.allFinite() || !output.covariance.allFinite()) return not_available();

  TvOptions tv_options;
  tv_options.samples = std::max<Eigen::Index>(2, problem.run.particles);  // d > 2: Monte Carlo
  tv_options.seed = problem.run.seed;
  tv_options.run = problem.run.run;
  const int steps = problem.grid.steps() - problem.run.stop_index;
  const double eps_prop = 8.0 * static_cast<double>(steps + output.dim()) * kEps;
  try {
    const PropagationFloors floors = propagation_floors(target_law, output, eps_prop);
    estimates.push_back(gaussian_kl(target_law, output));
    estimates.back().floor += floors.kl_target_output;
    estimates.push_back(gaussian_kl(output, target_law));
    estimates.back().floor += floors.kl_output_target;
    estimates.push_back(gaussian_w2(target_law, output));
    estimates.back().floor += floors.w2;
    estimates.push_back(gaussian_hellinger(target_law, output));
    estimates.back().floor += floors.hellinger;
    estimates.push_back(gaussian_tv(target_law, output, tv_options));
    estimates.back().floor += floors.tv;  // MC: the propagated law's round-off acts as a bias
  } catch (const InvalidArgument&) {
    estimates.clear();
    return not_available();
  }
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    estimates[i].metric = metrics[i];
    estimates[i].method = method;
  }
  return estimates;
}

}  // namespace dmconv::estimators
