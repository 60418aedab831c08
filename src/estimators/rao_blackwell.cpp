#include "estimators/rao_blackwell.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <span>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "core/run_sampler.hpp"
#include "estimators/sample_based.hpp"

namespace dmconv::estimators {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

StepContext context_at(const EstimationProblem& problem, int t) {
  const int steps = problem.grid.steps(), stop = problem.run.stop_index;
  return StepContext{problem.grid, t, t == stop + 1, steps - stop};
}

}  // namespace

LastStepKernel last_step_kernel(const EstimationProblem& problem) {
  const RunOptions& run = problem.run;
  const int steps = problem.grid.steps(), stop = run.stop_index;
  const RandomStreams streams(run.seed, run.run);
  const Eigen::Index n = run.particles, d = problem.target.dim();
  const StochasticScoreStep last = *problem.sampler.stochastic_score_step(context_at(problem, stop + 1));
  LastStepKernel out;
  out.centres.resize(d, n);
  out.variance = last.post_noise_variance;
  const Eigen::Index block = run.block_size;
  const Eigen::Index blocks = (n + block - 1) / block;
  const int threads = resolve_threads(run.threads);
  std::vector<char> finite(static_cast<std::size_t>(blocks), 1);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (Eigen::Index b = 0; b < blocks; ++b) {
    const Eigen::Index begin = b * block, count = std::min(block, n - begin);
    const std::uint64_t first = run.first_particle + static_cast<std::uint64_t>(begin);
    Matrix x(d, count);
    initial_state(problem.target, problem.grid, run.initialisation, streams, first, x);
    // The steps T .. stop + 2 exactly as the run takes them (same streams and contexts).
    run_block(problem.sampler, problem.grid, problem.score, streams, first, steps, stop + 1, x, stop);
    // The last step up to its Gaussian post-noise.
    if (last.pre_noise_variance > 0.0) {
      Matrix z(d, count);
      streams.fill_normals(first, StreamTag(StreamPurpose::kSampleEstimator, 4), z);
      x += std::sqrt(last.pre_noise_variance) * z;
    }
    Matrix s(d, count);
    problem.score.evaluate(problem.grid.level(stop + 1), x, s);
    auto centres = out.centres.middleCols(begin, count);
    centres = last.state_coefficient * x + last.score_coefficient * s;
    finite[static_cast<std::size_t>(b)] = centres.allFinite() ? 1 : 0;
  }
  out.finite = std::all_of(finite.begin(), finite.end(), [](char f) { return f != 0; });
  return out;
}

RaoBlackwellTvEstimator::RaoBlackwellTvEstimator(RaoBlackwellOptions options) : options_(options) {
  require(options.points >= 0, "rao_blackwell: points = " + std::to_string(options.points) + " must be >= 0");
  require(options.max_dim >= 1, "rao_blackwell: max_dim = " + std::to_string(options.max_dim) + " must be >= 1");
  require(options.groups >= 2, "rao_blackwell: groups = " + std::to_string(options.groups) + " must be >= 2");
}

std::optional<std::string> RaoBlackwellTvEstimator::unsupported_reason(const EstimationProblem& problem) const {
  const int steps = problem.grid.steps(), stop = problem.run.stop_index;
  if (problem.score.dim() != problem.target.dim())
    return "rao_blackwell: score model dimension " + std::to_string(problem.score.dim()) + " != target dimension " +
           std::to_string(problem.target.dim());
  if (problem.target.dim() > options_.max_dim)
    return "rao_blackwell: d = " + std::to_string(problem.target.dim()) + " exceeds max_dim = " +
           std::to_string(options_.max_dim) + " (the kernel-density noise grows quickly with d)";
  if (stop < 0 || stop >= steps) return "rao_blackwell: stop_index " + std::to_string(stop) + " is not below T = " +
                                        std::to_string(steps);
  for (int t = steps; t > stop; --t) {
    if (!problem.sampler.stochastic_score_step(context_at(problem, t)))
      return "rao_blackwell: sampler '" + problem.sampler.name() +
             "' has no pre-noise / score map / post-noise step form (t = " + std::to_string(t) + ")";
  }
  const StochasticScoreStep last = *problem.sampler.stochastic_score_step(context_at(problem, stop + 1));
  if (!(last.post_noise_variance > 0.0))
    return "rao_blackwell: the last step of sampler '" + problem.sampler.name() +
           "' adds no Gaussian noise (post-noise variance 0), so its output has no kernel to integrate";
  const Eigen::Index groups = options_.groups;
  if (problem.run.particles < 2 * groups)
    return "rao_blackwell: particles = " + std::to_string(problem.run.particles) + " must be at least " +
           std::to_string(2 * groups) + " (two per jackknife group)";
  return std::nullopt;
}

std::vector<Estimate> RaoBlackwellTvEstimator::estimate(const EstimationProblem& problem) const {
  if (const auto reason = unsupported_reason(problem)) throw InvalidArgument(*reason);
  problem.run.validate(problem.grid);
  const LastStepKernel kernel = last_step_kernel(problem);
  const Eigen::Index n = problem.run.particles, d = problem.target.dim();
  EstimationProblem at_points = problem;
  at_points.run.particles = options_.points > 0 ? options_.points : n;
  const Eigen::Index m = at_points.run.particles;
  const Matrix points = exact_samples(at_points, 3);
  const NoiseLevel& level = problem.grid.level(problem.run.stop_index);
  const Vector log_p = problem.target.log_density(level, points);

  const int groups = options_.groups;
  auto group_of = [groups](Eigen::Index index, Eigen::Index size) {
    return static_cast<int>((index * groups) / size);
  };
  std::vector<Eigen::Index> particles_in(static_cast<std::size_t>(groups), 0);
  for (Eigen::Index j = 0; j < n; ++j) ++particles_in[static_cast<std::size_t>(group_of(j, n))];

  std::string method = "rao_blackwell(n=" + std::to_string(n) + ", points=" + std::to_string(m) + ")";
  if (!kernel.finite) {
    const std::string why = "the sampler's trajectories have non-finite particles before the last step";
    return {{"tv", kNaN, 0.0, kNaN, EstimateKind::kBiasedWithFloor, method, EstimateStatus::kNonFinite, why},
            {"hellinger", kNaN, 0.0, kNaN, EstimateKind::kBiasedWithFloor, method, EstimateStatus::kNonFinite, why}};
  }
  // ratio(i, g) = sum over particles j of group g of phi(X_i - m_j) / p_X(X_i). Centres are
  // sorted by their first coordinate and only those within kCutoff kernel widths of X_i in that
  // coordinate are visited: every term left out is below exp(-kCutoff^2 / 2) = e^{-800} times
  // exp(log_norm - log p_X(X_i)), i.e. it underflows unless log p_X(X_i) < -700 (far-tail points,
  // whose r^ is then ~0 either way). The sum over the window runs in sorted order, which depends
  // only on the centres, so the result is the same for any thread count.
  constexpr double kCutoff = 40.0;
  const double v = kernel.variance;
  const double log_norm = -0.5 * static_cast<double>(d) * std::log(2.0 * std::numbers::pi * v);
  const double window = kCutoff * std::sqrt(v);
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  for (Eigen::Index j = 0; j < n; ++j) order[static_cast<std::size_t>(j)] = j;
  std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) {
    return kernel.centres(0, a) < kernel.centres(0, b);
  });
  Matrix sorted(d, n);
  std::vector<double> first(static_cast<std::size_t>(n));
  std::vector<int> group_sorted(static_cast<std::size_t>(n));
  for (Eigen::Index k = 0; k < n; ++k) {
    const Eigen::Index j = order[static_cast<std::size_t>(k)];
    sorted.col(k) = kernel.centres.col(j);
    first[static_cast<std::size_t>(k)] = kernel.centres(0, j);
    group_sorted[static_cast<std::size_t>(k)] = group_of(j, n);
  }
  Matrix ratio = Matrix::Zero(m, groups);
  const int threads = resolve_threads(problem.run.threads);
#pragma omp parallel for schedule(dynamic, 64) num_threads(threads)
  for (Eigen::Index i = 0; i < m; ++i) {
    const double shift = log_norm - log_p(i);
    const double x0 = points(0, i);
    const auto begin = std::lower_bound(first.begin(), first.end(), x0 - window);
    const auto end = std::upper_bound(begin, first.end(), x0 + window);
    for (auto it = begin; it != end; ++it) {
      const auto k = static_cast<Eigen::Index>(it - first.begin());
      const double r2 = (sorted.col(k) - points.col(i)).squaredNorm();
      ratio(i, group_sorted[static_cast<std::size_t>(k)]) += std::exp(shift - 0.5 * r2 / v);
    }
  }
  // Plug-in values with all particles/points and with group g deleted.
  const Vector total = ratio.rowwise().sum();
  auto values = [&](int deleted, double& tv, double& hellinger) {
    const double count = static_cast<double>(deleted < 0 ? n : n - particles_in[static_cast<std::size_t>(deleted)]);
    double sum_tv = 0.0, sum_sqrt = 0.0, used = 0.0;
    for (Eigen::Index i = 0; i < m; ++i) {
      if (deleted >= 0 && group_of(i, m) == deleted) continue;
      const double r = (deleted < 0 ? total(i) : total(i) - ratio(i, deleted)) / count;
      sum_tv += std::max(0.0, 1.0 - r);
      sum_sqrt += std::sqrt(r);
      used += 1.0;
    }
    tv = sum_tv / used;
    hellinger = 1.0 - sum_sqrt / used;
  };
  double tv = 0.0, hel = 0.0;
  values(-1, tv, hel);
  std::vector<double> tv_minus(static_cast<std::size_t>(groups)), hel_minus(static_cast<std::size_t>(groups));
  for (int g = 0; g < groups; ++g) values(g, tv_minus[static_cast<std::size_t>(g)], hel_minus[static_cast<std::size_t>(g)]);
  auto jackknife = [groups](double full, const std::vector<double>& minus, double& se, double& bias) {
    double mean = 0.0;
    for (double x : minus) mean += x;
    mean /= groups;
    double ss = 0.0;
    for (double x : minus) ss += (x - mean) * (x - mean);
    se = std::sqrt(ss * (groups - 1.0) / groups);
    bias = std::fabs((groups - 1.0) * (mean - full));
  };
  Estimate e_tv{"tv", tv, 0.0, 0.0, EstimateKind::kBiasedWithFloor, method};
  Estimate e_hel{"hellinger", hel, 0.0, 0.0, EstimateKind::kBiasedWithFloor, method};
  jackknife(tv, tv_minus, e_tv.std_error, e_tv.floor);
  jackknife(hel, hel_minus, e_hel.std_error, e_hel.floor);
  return {e_tv, e_hel};
}

}  // namespace dmconv::estimators
