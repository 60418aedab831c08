#include "score_errors/realised_error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"

namespace dmconv::score_errors {
namespace {

// Samples per work unit: 256, fewer in high dimension so that the d x (block d) Jacobian
// blocks stay below 2^20 entries. Depends on d only, never on the thread count.
Eigen::Index block_size(Eigen::Index d) { return std::clamp<Eigen::Index>((Eigen::Index{1} << 20) / (d * d), 1, 256); }

// Count, mean and sum of squared deviations of a sample; merged pairwise (Chan et al. 1979).
struct RunningMoments {
  double count = 0.0;
  double mean = 0.0;
  double m2 = 0.0;
  void add(double x) {
    count += 1.0;
    const double delta = x - mean;
    mean += delta / count;
    m2 += delta * (x - mean);
  }
  void merge(const RunningMoments& other) {
    if (other.count == 0.0) return;
    const double total = count + other.count;
    const double delta = other.mean - mean;
    mean += delta * other.count / total;
    m2 += other.m2 + delta * delta * count * other.count / total;
    count = total;
  }
  double standard_error() const { return count > 1.0 ? std::sqrt(m2 / (count - 1.0) / count) : 0.0; }
};

struct UnitResult {
  RunningMoments score;
  RunningMoments jacobi;
};

}  // namespace

double spectral_norm(const Matrix& a) {
  if (a.rows() == 1 && a.cols() == 1) return std::fabs(a(0, 0));
  if (std::max(a.rows(), a.cols()) <= 8) {
    const Eigen::JacobiSVD<Matrix> svd(a);
    return svd.singularValues().size() > 0 ? svd.singularValues()(0) : 0.0;
  }
  const Matrix gram = a.transpose() * a;
  const Eigen::SelfAdjointEigenSolver<Matrix> eigen(gram, Eigen::EigenvaluesOnly);
  return std::sqrt(std::max(0.0, eigen.eigenvalues().maxCoeff()));
}

RealisedError measure_score_error(const Target& target, const ScoreModel& score, const TimeGrid& grid,
                                  Eigen::Index samples_per_level, std::uint64_t seed, std::uint64_t run,
                                  int threads) {
  require(score.dim() == target.dim(), "measure_score_error: score model dimension " + std::to_string(score.dim()) +
                                           " != target dimension " + std::to_string(target.dim()));
  require(grid.steps() >= 1, "measure_score_error: the grid must have at least one step");
  require(samples_per_level >= 2, "measure_score_error: samples_per_level = " + std::to_string(samples_per_level) +
                                      " must be >= 2 (standard errors need two samples)");
  require(threads >= 0, "measure_score_error: threads = " + std::to_string(threads) + " must be >= 0");

  const int T = grid.steps();
  const Eigen::Index d = target.dim();
  const bool with_jacobian = score.has_jacobian();
  const Eigen::Index per_unit = block_size(d);
  const Eigen::Index blocks = (samples_per_level + per_unit - 1) / per_unit;
  const Eigen::Index units = static_cast<Eigen::Index>(T) * blocks;
  std::vector<UnitResult> results(static_cast<std::size_t>(units));
  const RandomStreams streams(seed, run);
  const int thread_count = resolve_threads(threads);

#pragma omp parallel for schedule(dynamic, 1) num_threads(thread_count)
  for (Eigen::Index unit = 0; unit < units; ++unit) {
    const int t = 1 + static_cast<int>(unit / blocks);
    const Eigen::Index block = unit % blocks;
    const Eigen::Index begin = block * per_unit;
    const Eigen::Index count = std::min(per_unit, samples_per_level - begin);
    const NoiseLevel& level = grid.level(t);
    Matrix x(d, count), s(d, count), exact(d, count);
    target.sample(level, streams, static_cast<std::uint64_t>(begin),
                  StreamTag(StreamPurpose::kScoreErrorSample, static_cast<std::uint64_t>(t)), x);
    score.evaluate(level, x, s);
    target.score(level, x, exact);
    UnitResult& result = results[static_cast<std::size_t>(unit)];
    for (Eigen::Index j = 0; j < count; ++j) result.score.add((s.col(j) - exact.col(j)).squaredNorm());
    if (with_jacobian) {
      Matrix identities(d, count * d);
      for (Eigen::Index j = 0; j < count; ++j) identities.middleCols(j * d, d).setIdentity();
      Matrix model_jacobians(d, count * d), exact_jacobians(d, count * d);
      score.jacobian_apply(level, x, identities, model_jacobians);
      target.score_jacobian_apply(level, x, identities, exact_jacobians);
      for (Eigen::Index j = 0; j < count; ++j) {
        const Matrix difference = model_jacobians.middleCols(j * d, d) - exact_jacobians.middleCols(j * d, d);
        result.jacobi.add(spectral_norm(difference));
      }
    }
  }

  RealisedError out;
  out.samples_per_level = samples_per_level;
  double sum_score = 0.0, var_score = 0.0, sum_jacobi = 0.0, var_jacobi = 0.0;
  for (int t = 1; t <= T; ++t) {
    UnitResult level;
    for (Eigen::Index block = 0; block < blocks; ++block) {
      const UnitResult& unit = results[static_cast<std::size_t>((t - 1) * blocks + block)];
      level.score.merge(unit.score);
      level.jacobi.merge(unit.jacobi);
    }
    const double score_se = level.score.standard_error();
    out.mean_square_score_per_level.push_back(level.score.mean);
    out.mean_square_score_se_per_level.push_back(score_se);
    sum_score += level.score.mean;
    var_score += score_se * score_se;
    if (with_jacobian) {
      const double jacobi_se = level.jacobi.standard_error();
      out.jacobi_per_level.push_back(level.jacobi.mean);
      out.jacobi_se_per_level.push_back(jacobi_se);
      sum_jacobi += level.jacobi.mean;
      var_jacobi += jacobi_se * jacobi_se;
    }
  }
  const double steps = static_cast<double>(T);
  out.mean_square_score = sum_score / steps;
  out.mean_square_score_se = std::sqrt(var_score) / steps;
  out.eps_score = std::sqrt(out.mean_square_score);
  out.eps_score_se = out.eps_score > 0.0 ? out.mean_square_score_se / (2.0 * out.eps_score) : 0.0;
  if (with_jacobian) {
    out.eps_jacobi = sum_jacobi / steps;
    out.eps_jacobi_se = std::sqrt(var_jacobi) / steps;
  } else {
    out.eps_jacobi = std::numeric_limits<double>::quiet_NaN();
    out.eps_jacobi_se = std::numeric_limits<double>::quiet_NaN();
  }
  return out;
}

}  // namespace dmconv::score_errors
