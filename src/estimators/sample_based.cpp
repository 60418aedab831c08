#include "estimators/sample_based.hpp"

#include <algorithm>
#include <boost/math/special_functions/erf.hpp>
#include <boost/math/tools/roots.hpp>
#include <cmath>
#include <limits>
#include <sstream>

#include "core/error.hpp"
#include "core/normal.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "core/run_sampler.hpp"
#include "core/simd_math.hpp"

namespace dmconv::estimators {
namespace {

// Components of p_t for targets with a Gaussian-mixture view: weight, mean, dense covariance.
struct Component {
  double weight;
  Vector mean;
  Matrix covariance;
};

std::optional<std::vector<Component>> marginal_components(const Target& target, const NoiseLevel& level) {
  const GaussianMixtureView* mixture = target.gaussian_mixture();
  if (mixture == nullptr) return std::nullopt;
  std::vector<Component> out;
  for (int k = 0; k < mixture->size(); ++k) {
    Matrix cov = level.abar() * mixture->covariance(k);
    cov.diagonal().array() += level.one_minus_abar();
    out.push_back(Component{mixture->weight(k), level.sqrt_abar() * mixture->mean(k), cov});
  }
  return out;
}

std::optional<std::string> common_reason(const std::string& name, const EstimationProblem& problem) {
  if (problem.target.gaussian_mixture() == nullptr) {
    return name + " requires a target with exact projected marginals (a Gaussian or Gaussian-mixture law, e.g. "
           "'gaussian' or 'gaussian_mixture'); the target is '" + problem.target.name() + "'";
  }
  if (problem.score.dim() != problem.target.dim()) {
    return name + ": score model dimension " + std::to_string(problem.score.dim()) + " != target dimension " +
           std::to_string(problem.target.dim());
  }
  return std::nullopt;
}


}  // namespace

double Mixture1d::cdf(double x) const {
  double c = 0.0;
  for (std::size_t k = 0; k < weights.size(); ++k) c += weights[k] * normal_cdf((x - means[k]) / sds[k]);
  return c;
}

double Mixture1d::partial_mean(double x) const {
  if (x == -std::numeric_limits<double>::infinity()) return 0.0;
  double m = 0.0;
  for (std::size_t k = 0; k < weights.size(); ++k) {
    if (x == std::numeric_limits<double>::infinity()) {
      m += weights[k] * means[k];
    } else {
      const double z = (x - means[k]) / sds[k];
      m += weights[k] * (means[k] * normal_cdf(z) - sds[k] * normal_pdf(z));
    }
  }
  return m;
}

double Mixture1d::second_moment() const {
  double s = 0.0;
  for (std::size_t k = 0; k < weights.size(); ++k) s += weights[k] * (means[k] * means[k] + sds[k] * sds[k]);
  return s;
}

double Mixture1d::quantile(double u) const {
  // Q(u) lies between the smallest and the largest component quantile.
  const double z = -std::sqrt(2.0) * boost::math::erfc_inv(2.0 * u);
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (std::size_t k = 0; k < weights.size(); ++k) {
    lo = std::min(lo, means[k] + sds[k] * z);
    hi = std::max(hi, means[k] + sds[k] * z);
  }
  if (weights.size() == 1 || hi - lo <= 0.0) return lo;
  const auto f = [&](double x) { return cdf(x) - u; };
  double flo = f(lo), fhi = f(hi);
  if (flo >= 0.0) return lo;
  if (fhi <= 0.0) return hi;
  std::uintmax_t iterations = 200;
  const auto r = boost::math::tools::toms748_solve(f, lo, hi, flo, fhi, boost::math::tools::eps_tolerance<double>(52),
                                                   iterations);
  return 0.5 * (r.first + r.second);
}

std::optional<Mixture1d> projected_marginal(const Target& target, const NoiseLevel& level, const Vector& theta) {
  const auto components = marginal_components(target, level);
  if (!components) return std::nullopt;
  Mixture1d law;
  for (const Component& c : *components) {
    law.weights.push_back(c.weight);
    law.means.push_back(theta.dot(c.mean));
    law.sds.push_back(std::sqrt(theta.dot(c.covariance * theta)));
  }
  return law;
}

double w2_squared_1d(std::vector<double> samples, const Mixture1d& law, int threads, double* rounding) {
  const auto n = static_cast<std::ptrdiff_t>(samples.size());
  require(n > 0, "w2_1d: no samples");
  std::sort(samples.begin(), samples.end());
  // Partial first moments at the quantile boundaries Q(i/n), i = 0..n.
  std::vector<double> partial(static_cast<std::size_t>(n + 1));
  const double dn = static_cast<double>(n);
#pragma omp parallel for schedule(static) num_threads(resolve_threads(threads))
  for (std::ptrdiff_t i = 0; i <= n; ++i) {
    double value;
    if (i == 0) {
      value = law.partial_mean(-std::numeric_limits<double>::infinity());
    } else if (i == n) {
      value = law.partial_mean(std::numeric_limits<double>::infinity());
    } else {
      value = law.partial_mean(law.quantile(static_cast<double>(i) / dn));
    }
    partial[static_cast<std::size_t>(i)] = value;
  }
  double sum = 0.0, magnitude = 0.0;  // serial: fixed order
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    const double y = samples[static_cast<std::size_t>(i)];
    const double term =
        y * y / dn - 2.0 * y * (partial[static_cast<std::size_t>(i + 1)] - partial[static_cast<std::size_t>(i)]);
    sum += term;
    magnitude += std::fabs(term);
  }
  // Not clamped at 0: a negative result is a rounding result only within this margin (a few
  // ulps of the magnitude of the terms summed, times the length of the sum); callers decide.
  const double second = law.second_moment();
  if (rounding != nullptr)
    *rounding = kRoundingUlps * std::numeric_limits<double>::epsilon() * (second + magnitude) * std::log2(dn + 1.0);
  return second + sum;
}

Matrix sampler_output(const EstimationProblem& problem, bool& finite) {
  RunResult result = run_sampler(problem.sampler, problem.grid, problem.score, problem.target, problem.run);
  finite = result.status == RunStatus::kOk && result.samples.allFinite();
  return std::move(result.samples);
}

Matrix sliced_directions(std::uint64_t seed, std::uint64_t run, int d, int count) {
  const RandomStreams streams(seed, run);
  Matrix theta(d, count);
  for (int l = 0; l < count; ++l) {
    streams.normals(static_cast<std::uint64_t>(l), StreamTag(StreamPurpose::kSampleEstimator, 1), theta.col(l).data(), d);
    theta.col(l) /= theta.col(l).norm();
  }
  return theta;
}

Matrix exact_samples(const EstimationProblem& problem, std::uint64_t index) {
  const RandomStreams streams(problem.run.seed, problem.run.run);
  return problem.target.sample(problem.grid.level(problem.run.stop_index), streams, problem.run.first_particle,
                               problem.run.particles, StreamTag(StreamPurpose::kSampleEstimator, index));
}

Matrix oracle_samples(const EstimationProblem& problem) { return exact_samples(problem, 0); }

MmdResult mmd2_u_statistic(const Matrix& samples, const Target& target, const NoiseLevel& level, double bandwidth,
                           int threads) {
  const auto components = marginal_components(target, level);
  require(components.has_value(), "mmd: the target has no closed-form Gaussian components");
  const Eigen::Index d = samples.rows(), n = samples.cols();
  require(n >= 3, "mmd: need at least 3 particles");
  const double h2 = bandwidth * bandwidth;
  // g(y) = E k(y, X): per component det(I + C/h^2)^{-1/2} exp(-(y-m)^T (C + h^2 I)^{-1} (y-m)/2).
  Vector g = Vector::Zero(n);
  for (const Component& c : *components) {
    Matrix shifted = c.covariance;
    shifted.diagonal().array() += h2;
    const Eigen::LLT<Matrix> llt(shifted);
    const double log_det = 2.0 * llt.matrixLLT().diagonal().array().log().sum() -
                           static_cast<double>(d) * std::log(h2);  // log det(I + C/h^2)
    const Matrix centred = samples.colwise() - c.mean;
    const Matrix whitened = llt.matrixL().solve(centred);
    g.array() += c.weight * std::exp(-0.5 * log_det) * (-0.5 * whitened.colwise().squaredNorm().array()).exp().transpose();
  }
  // E k(X, X').
  double target_term = 0.0;
  for (const Component& a : *components) {
    for (const Component& b : *components) {
      Matrix shifted = a.covariance + b.covariance;
      shifted.diagonal().array() += h2;
      const Eigen::LLT<Matrix> llt(shifted);
      const double log_det = 2.0 * llt.matrixLLT().diagonal().array().log().sum() - static_cast<double>(d) * std::log(h2);
      const Vector w = llt.matrixL().solve(a.mean - b.mean);
      target_term += a.weight * b.weight * std::exp(-0.5 * log_det - 0.5 * w.squaredNorm());
    }
  }
  // Row sums of the sample-sample kernel and of H^2, eight columns j per SIMD pass (coordinates
  // stored j-contiguous, padded to a multiple of eight with the last sample), lane partial sums
  // added in lane order: a fixed order, whatever the thread count.
  constexpr int L = simd::kLanes;
  const Eigen::Index padded = (n + L - 1) / L * L;
  Matrix columns(padded, d);  // columns(j, k) = sample j's coordinate k
  columns.topRows(n) = samples.transpose();
  for (Eigen::Index j = n; j < padded; ++j) columns.row(j) = columns.row(n - 1);
  Vector g_padded(padded);
  g_padded.head(n) = g;
  g_padded.tail(padded - n).setConstant(g(n - 1));
  Vector row_k(n), row_h2(n);
  const double inv_2h2 = 1.0 / (2.0 * h2);
#pragma omp parallel for schedule(dynamic, 16) num_threads(resolve_threads(threads))
  for (Eigen::Index i = 0; i < n; ++i) {
    alignas(64) double sk[L] = {}, sh[L] = {}, kernel[L];
    for (Eigen::Index j0 = 0; j0 < padded; j0 += L) {
      alignas(64) double distance[L] = {};
      for (Eigen::Index c = 0; c < d; ++c) {
        const double* column = columns.col(c).data() + j0;
        const double xi = columns(i, c);
#pragma omp simd
        for (int lane = 0; lane < L; ++lane) {
          const double diff = xi - column[lane];
          distance[lane] += diff * diff;
        }
      }
#pragma omp simd
      for (int lane = 0; lane < L; ++lane) kernel[lane] = -distance[lane] * inv_2h2;
      simd::exp8(kernel, kernel);
      const double* gj = g_padded.data() + j0;
#pragma omp simd
      for (int lane = 0; lane < L; ++lane) {
        const Eigen::Index j = j0 + lane;
        const bool used = j != i && j < n;
        const double k = used ? kernel[lane] : 0.0;
        const double hij = used ? k - g(i) - gj[lane] + target_term : 0.0;
        sk[lane] += k;
        sh[lane] += hij * hij;
      }
    }
    double sum_k = 0.0, sum_h = 0.0;
    for (int lane = 0; lane < L; ++lane) sum_k += sk[lane], sum_h += sh[lane];
    row_k(i) = sum_k;
    row_h2(i) = sum_h;
  }
  const double dn = static_cast<double>(n);
  const double pairs = dn * (dn - 1.0);
  const double u = row_k.sum() / pairs - 2.0 * g.mean() + target_term;
  const double zeta2 = std::max(0.0, row_h2.sum() / pairs - u * u);
  const Vector h1 = row_k / (dn - 1.0) - g;
  const double var_h1 = (h1.array() - h1.mean()).square().sum() / (dn - 1.0);
  const double zeta1 = std::max(0.0, var_h1 - zeta2 / (dn - 1.0));
  const double variance = 4.0 * (dn - 2.0) / pairs * zeta1 + 2.0 / pairs * zeta2;
  return {u, std::sqrt(variance)};
}

MmdResult mmd2_block_statistic(const Matrix& samples, const Target& target, const NoiseLevel& level, double bandwidth,
                               Eigen::Index block, int threads) {
  const Eigen::Index n = samples.cols();
  require(block >= 3, "mmd: block = " + std::to_string(block) + " must be >= 3");
  const Eigen::Index blocks = n / block;
  require(blocks >= 2, "mmd: block = " + std::to_string(block) + " leaves fewer than 2 blocks of " +
                           std::to_string(n) + " particles");
  std::vector<double> u(static_cast<std::size_t>(blocks));
  for (Eigen::Index b = 0; b < blocks; ++b) {
    // The last block takes the remainder so that every particle is used.
    const Eigen::Index begin = b * block, size = b + 1 == blocks ? n - begin : block;
    u[static_cast<std::size_t>(b)] =
        mmd2_u_statistic(samples.middleCols(begin, size), target, level, bandwidth, threads).value;
  }
  double mean = 0.0, var = 0.0;
  for (double v : u) mean += v;
  mean /= static_cast<double>(blocks);
  for (double v : u) var += (v - mean) * (v - mean);
  var /= static_cast<double>(blocks - 1);
  return {mean, std::sqrt(var / static_cast<double>(blocks))};
}

// ---- w2_1d ----

std::optional<std::string> W2OneDimEstimator::unsupported_reason(const EstimationProblem& problem) const {
  if (auto reason = common_reason("w2_1d", problem)) return reason;
  if (problem.target.dim() != 1) return "w2_1d requires d = 1 (use sliced_w2 in higher dimension); d = " +
                                        std::to_string(problem.target.dim());
  return std::nullopt;
}

double W2OneDimEstimator::value_for(const Matrix& samples, const EstimationProblem& problem) const {
  const auto law = projected_marginal(problem.target, problem.grid.level(problem.run.stop_index), Vector::Ones(1));
  const std::vector<double> y(samples.data(), samples.data() + samples.cols());
  double rounding = 0.0;
  const double squared = w2_squared_1d(y, *law, problem.run.threads, &rounding);
  if (squared >= 0.0) return std::sqrt(squared);
  // W2^2 < 0 within its rounding margin: W2 = 0 to that accuracy (the estimate's floor, the
  // oracle W2 of n exact samples, is far above sqrt(margin), so fits exclude it). Beyond the
  // margin the formula failed: NaN, which estimate() reports as failed.
  return squared >= -rounding ? 0.0 : std::numeric_limits<double>::quiet_NaN();
}

void set_non_finite_output(Estimate& estimate) {
  estimate.value = std::numeric_limits<double>::quiet_NaN();
  estimate.status = EstimateStatus::kNonFinite;
  estimate.message = "the sampler's output has non-finite particles";
}

std::vector<Estimate> W2OneDimEstimator::estimate(const EstimationProblem& problem) const {
  if (const auto reason = unsupported_reason(problem)) throw InvalidArgument(*reason);
  problem.run.validate(problem.grid);
  bool finite = true;
  const Matrix y = sampler_output(problem, finite);
  Estimate e;
  e.metric = "w2";
  e.kind = EstimateKind::kBiasedWithFloor;
  e.method = "w2_1d(n=" + std::to_string(problem.run.particles) + ")";
  e.value = finite ? value_for(y, problem) : std::numeric_limits<double>::quiet_NaN();
  e.floor = value_for(oracle_samples(problem), problem);
  if (!finite) {
    set_non_finite_output(e);
  } else if (std::isnan(e.value)) {
    e.status = EstimateStatus::kFailed;
    e.message = "W2^2 < 0 beyond its rounding margin (cancellation in the quantile integration)";
  }
  return {e};
}

// ---- sliced_w2 ----

SlicedW2Estimator::SlicedW2Estimator(int directions) : directions_(directions) {
  require(directions >= 2, "sliced_w2: directions = " + std::to_string(directions) + " must be >= 2");
}

std::optional<std::string> SlicedW2Estimator::unsupported_reason(const EstimationProblem& problem) const {
  return common_reason("sliced_w2", problem);
}

std::vector<double> SlicedW2Estimator::squared_per_direction(const Matrix& samples,
                                                             const EstimationProblem& problem) const {
  const Matrix theta = sliced_directions(problem.run.seed, problem.run.run, problem.target.dim(), directions_);
  const NoiseLevel& level = problem.grid.level(problem.run.stop_index);
  // A run split over MPI ranks (RunOptions::split): each rank takes a contiguous slice of the
  // directions and the values are gathered in direction order; each direction's value is the same
  // computation wherever it runs, so the result is that of one process, bit for bit.
  const ParticleSplit* split =
      problem.run.split != nullptr && problem.run.split->parts() > 1 ? problem.run.split : nullptr;
  const std::vector<Eigen::Index> offsets =
      split ? split_offsets(directions_, split->parts()) : std::vector<Eigen::Index>{0, directions_};
  const std::size_t part = split ? static_cast<std::size_t>(split->part()) : 0;
  Matrix values(1, directions_);
  for (Eigen::Index l = offsets[part]; l < offsets[part + 1]; ++l) {
    const Vector t = theta.col(l);
    const Vector projected = samples.transpose() * t;
    const std::vector<double> y(projected.data(), projected.data() + projected.size());
    values(0, l) = w2_squared_1d(y, *projected_marginal(problem.target, level, t), problem.run.threads);
  }
  if (split) split->share(values, offsets);
  return std::vector<double>(values.data(), values.data() + values.size());
}

std::vector<Estimate> SlicedW2Estimator::estimate(const EstimationProblem& problem) const {
  if (const auto reason = unsupported_reason(problem)) throw InvalidArgument(*reason);
  problem.run.validate(problem.grid);
  bool finite = true;
  const Matrix y = sampler_output(problem, finite);
  auto summarise = [&](const std::vector<double>& sq, double& value, double& se) {
    const double L = static_cast<double>(sq.size());
    double mean = 0.0, var = 0.0;
    for (double s : sq) mean += s;
    mean /= L;
    for (double s : sq) var += (s - mean) * (s - mean);
    var /= (L - 1.0);
    value = std::sqrt(mean);
    se = value > 0.0 ? std::sqrt(var / L) / (2.0 * value) : 0.0;
  };
  Estimate e;
  e.metric = "sliced_w2";
  e.kind = EstimateKind::kBiasedWithFloor;
  e.method = "sliced_w2(directions=" + std::to_string(directions_) + ", n=" + std::to_string(problem.run.particles) + ")";
  if (finite) {
    summarise(squared_per_direction(y, problem), e.value, e.std_error);
  } else {
    e.value = std::numeric_limits<double>::quiet_NaN();
  }
  double floor_se = 0.0;
  summarise(squared_per_direction(oracle_samples(problem), problem), e.floor, floor_se);
  if (!finite) set_non_finite_output(e);
  return {e};
}

// ---- mmd ----

MmdEstimator::MmdEstimator(double bandwidth, long block) : bandwidth_(bandwidth), block_(block) {
  require(bandwidth > 0.0 && std::isfinite(bandwidth), "mmd: bandwidth must be positive and finite");
  require(block == 0 || block >= 3, "mmd: block = " + std::to_string(block) + " must be 0 (all pairs) or >= 3");
}

std::optional<std::string> MmdEstimator::unsupported_reason(const EstimationProblem& problem) const {
  if (auto reason = common_reason("mmd", problem)) return reason;
  if (block_ > 0 && problem.run.particles / block_ < 2)
    return "mmd: block = " + std::to_string(block_) + " leaves fewer than 2 blocks of " +
           std::to_string(problem.run.particles) + " particles";
  return std::nullopt;
}

std::vector<Estimate> MmdEstimator::estimate(const EstimationProblem& problem) const {
  if (const auto reason = unsupported_reason(problem)) throw InvalidArgument(*reason);
  problem.run.validate(problem.grid);
  bool finite = true;
  const Matrix y = sampler_output(problem, finite);
  Estimate e;
  e.metric = "mmd2";
  e.kind = EstimateKind::kUnbiasedMonteCarlo;
  std::ostringstream method;
  method << "mmd(bandwidth=" << bandwidth_ << ", n=" << problem.run.particles;
  if (block_ > 0) method << ", block=" << block_;
  method << ")";
  e.method = method.str();
  if (finite) {
    const NoiseLevel& level = problem.grid.level(problem.run.stop_index);
    const MmdResult r = block_ > 0
                            ? mmd2_block_statistic(y, problem.target, level, bandwidth_, block_, problem.run.threads)
                            : mmd2_u_statistic(y, problem.target, level, bandwidth_, problem.run.threads);
    e.value = r.value;
    e.std_error = r.std_error;
  } else {
    e.value = std::numeric_limits<double>::quiet_NaN();
  }
  if (!finite) set_non_finite_output(e);
  return {e};
}

}  // namespace dmconv::estimators
