// Denoising diffusion samplers of DPnP (docs/theory.md §4.7; Xu & Chi, arXiv 2403.17042): draw X_0
// given X_0 + eta W = z with the unconditional prior score only, on the VE levels sigma_(j) = eta j / J.
//
// DDS-DDPM, for j = J..1 (no W at j = 1):
//   V <- V - 2 (sigma_(j) - sigma_(j-1)) eps_{u_j}(sqrt(abar_j) V) + sqrt(sigma_(j)^2 - sigma_(j-1)^2) W
//
// DDS-DDIM in the VE variable sigma (closed forms of the header's a-parametrisation, DERIVED here):
// with D(sigma) = (eta^2 - sigma^2) + eta^2 sigma^2 (a sum of non-negative terms for sigma <= eta),
//   a = (eta^2 - sigma^2) / D,   1 - a = eta^2 sigma^2 / D,   c(a) = 1 + (eta^2 - 1) a = eta^4 / D,
//   abar_u = c / (c + eta^2 (1 - a)) = 1 / (1 + sigma^2)                (the level matches sigma),
//   eta^2 sqrt(a) / c(a) = sqrt((eta^2 - sigma^2) D) / eta^2,
//   eta sqrt(a / (1 - a)) = sqrt(eta^2 - sigma^2) / sigma,  so  w = -atan2(sqrt(eta^2 - sigma^2), sigma)
//     (equal to both of the header's forms of w, and accurate at a = 0 and a = 1 alike),
//   sqrt(c(a') / c(a)) = sqrt(D(sigma_(j)) / D(sigma_(j-1))),   sqrt(c(a')) = eta^2 / sqrt(D(sigma_(j-1))).
// eta^2 - sigma^2 is formed as (eta - sigma)(eta + sigma): it vanishes at the start sigma_(J) = eta.
// The step from sigma_(j) to sigma_(j-1), j = J..1, freezes eps at sigma_(j):
//   V <- sqrt(c'/c) V - sqrt(c') (w(sigma_(j)) - w(sigma_(j-1))) eps_u(sqrt(abar_j) (z + k_j V)),
//   k_j = eta^2 sqrt(a_j) / c(a_j);  V starts as N(0, I) (a = 0) and X_0 = z + V at sigma_(0) = 0.
// Neither map evaluates the score at sigma_(0) = 0 (the data level).
#include "posterior/dds.hpp"

#include <cmath>
#include <sstream>
#include <string>

#include "core/error.hpp"
#include "core/noise_level.hpp"
#include "core/params.hpp"

namespace dmconv::posterior {
namespace {

// Sub-streams are 16 bits wide (core/rng.hpp): level j uses tag.sub(j), j <= J.
constexpr int kMaxLevels = 65535;

// The score's level for VE sigma: abar = 1/(1 + sigma^2), 1 - abar = sigma^2/(1 + sigma^2), each
// formed directly so that neither loses precision at small sigma.
NoiseLevel ve_level(double sigma) {
  const double s2 = sigma * sigma;
  return NoiseLevel(1.0 / (1.0 + s2), s2 / (1.0 + s2));
}

void check_call(const char* who, const ScoreModel& prior_score, const std::vector<double>& sigmas,
                ConstMatrixRef z, MatrixRef out) {
  if (sigmas.empty() || sigmas.size() > static_cast<std::size_t>(kMaxLevels)) {
    std::ostringstream message;
    message << who << ": the number of levels J = " << sigmas.size() << " must lie in [1, " << kMaxLevels
            << "] (one 16-bit sub-stream per level)";
    throw InvalidArgument(message.str());
  }
  double previous = 0.0;
  for (std::size_t j = 0; j < sigmas.size(); ++j) {
    if (!(sigmas[j] > previous) || !std::isfinite(sigmas[j])) {
      std::ostringstream message;
      message << who << ": sigma_(" << (j + 1) << ") = " << shortest(sigmas[j])
              << " must be finite and exceed sigma_(" << j << ") = " << shortest(previous)
              << " (levels ascend from sigma_(0) = 0; use dds_levels)";
      throw InvalidArgument(message.str());
    }
    previous = sigmas[j];
  }
  if (z.rows() != prior_score.dim() || out.rows() != z.rows() || out.cols() != z.cols()) {
    std::ostringstream message;
    message << who << ": z is " << z.rows() << " x " << z.cols() << " and out " << out.rows() << " x "
            << out.cols() << ", but both must be d x n with d = " << prior_score.dim()
            << " (the prior's dimension)";
    throw InvalidArgument(message.str());
  }
}

}  // namespace

std::vector<double> dds_levels(double eta, int levels) {
  if (!(eta > 0.0) || !std::isfinite(eta)) {
    throw InvalidArgument("dds_levels: eta = " + shortest(eta) + " must be positive and finite");
  }
  if (levels < 1 || levels > kMaxLevels) {
    throw InvalidArgument("dds_levels: levels J = " + std::to_string(levels) + " must lie in [1, " +
                          std::to_string(kMaxLevels) + "] (one 16-bit sub-stream per level)");
  }
  std::vector<double> sigmas(static_cast<std::size_t>(levels));
  // eta j / J rather than a running sum, so sigma_(J) = eta exactly and no rounding accumulates.
  for (int j = 1; j <= levels; ++j) sigmas[static_cast<std::size_t>(j - 1)] = eta * j / levels;
  return sigmas;
}

namespace {

// The coefficients of level j (sigma_(j) -> sigma_(j-1)), shared by the samplers and the exact law
// propagation below so that the two cannot drift apart.
//   DDPM: V <- V + drift s_u(sqrt(abar) V) + sqrt(noise_variance) W
//   DDIM: V <- state V + score_coefficient s_u(sqrt(abar) (z + k V))
struct DdpmLevel {
  NoiseLevel level;
  double drift, noise_variance;
};
DdpmLevel ddpm_level(const std::vector<double>& sigmas, int j) {
  const double sigma = sigmas[static_cast<std::size_t>(j - 1)];
  const double sigma_below = j > 1 ? sigmas[static_cast<std::size_t>(j - 2)] : 0.0;
  const NoiseLevel level = ve_level(sigma);
  // -2 dsigma eps_hat = 2 dsigma sqrt(1 - abar) s_u: the drift in terms of the score itself;
  // sigma^2 - sigma_below^2 as a product: no cancellation when the levels are close; no noise at j = 1.
  return {level, 2.0 * (sigma - sigma_below) * level.sigma(),
          j > 1 ? (sigma - sigma_below) * (sigma + sigma_below) : 0.0};
}
struct DdimLevel {
  NoiseLevel level;
  double k, state, score_coefficient;
};
DdimLevel ddim_level(const std::vector<double>& sigmas, int j) {
  const double eta = sigmas.back(), eta2 = eta * eta;
  // D(sigma) = eta^2 - sigma^2 + eta^2 sigma^2 and w(sigma), as in the opening comment.
  const auto gap = [eta](double sigma) { return (eta - sigma) * (eta + sigma); };
  const auto d_of = [&](double sigma) { return gap(sigma) + eta2 * sigma * sigma; };
  const auto w_of = [&](double sigma) { return -std::atan2(std::sqrt(gap(sigma)), sigma); };
  const double sigma = sigmas[static_cast<std::size_t>(j - 1)];
  const double sigma_below = j > 1 ? sigmas[static_cast<std::size_t>(j - 2)] : 0.0;
  const NoiseLevel level = ve_level(sigma);
  const double d_here = d_of(sigma), d_below = d_of(sigma_below);
  // k = eta^2 sqrt(a) / c(a) (0 at a = 0); eps_hat = -sqrt(1 - abar) s_u, so
  // -sqrt(c') dw eps_hat = +sqrt(c') dw sqrt(1 - abar) s_u.
  return {level, std::sqrt(gap(sigma) * d_here) / eta2, std::sqrt(d_here / d_below),
          eta2 / std::sqrt(d_below) * (w_of(sigma) - w_of(sigma_below)) * level.sigma()};
}

}  // namespace

void dds_ddpm(const ScoreModel& prior_score, const std::vector<double>& sigmas, ConstMatrixRef z,
              const RandomStreams& streams, std::uint64_t first_particle, StreamTag tag, MatrixRef out) {
  check_call("dds_ddpm", prior_score, sigmas, z, out);
  const auto levels = static_cast<int>(sigmas.size());
  // All scratch is allocated once per call; `v` is a copy so that `out` may alias `z`.
  Matrix v = z;
  Matrix argument(z.rows(), z.cols());
  Matrix score(z.rows(), z.cols());
  Matrix noise(z.rows(), z.cols());
  for (int j = levels; j >= 1; --j) {
    const DdpmLevel step = ddpm_level(sigmas, j);
    argument = step.level.sqrt_abar() * v;
    prior_score.evaluate(step.level, argument, score);
    v += step.drift * score;
    if (j > 1) {
      streams.fill_normals(first_particle, tag.sub(static_cast<std::uint64_t>(j)), noise);
      v += std::sqrt(step.noise_variance) * noise;
    }
  }
  out = v;
}

void dds_ddim(const ScoreModel& prior_score, const std::vector<double>& sigmas, ConstMatrixRef z,
              const RandomStreams& streams, std::uint64_t first_particle, StreamTag tag, MatrixRef out) {
  check_call("dds_ddim", prior_score, sigmas, z, out);
  const auto levels = static_cast<int>(sigmas.size());

  // Scratch allocated once per call; `centre` is a copy of z so that `out` may alias `z`.
  const Matrix centre = z;
  Matrix v(z.rows(), z.cols());
  streams.fill_normals(first_particle, tag.sub(0), v);  // V_{a=0} ~ N(0, I) exactly
  Matrix argument(z.rows(), z.cols());
  Matrix score(z.rows(), z.cols());
  for (int j = levels; j >= 1; --j) {
    const DdimLevel step = ddim_level(sigmas, j);
    argument = step.level.sqrt_abar() * (centre + step.k * v);
    prior_score.evaluate(step.level, argument, score);
    v = step.state * v + step.score_coefficient * score;
  }
  out = centre + v;
}

GaussianLaw dds_output_law(const ScoreModel& affine_score, const std::vector<double>& sigmas, const Vector& z,
                           DdsVariant variant) {
  require(affine_score.is_affine(), "dds_output_law: the score must be affine (a Gaussian prior's exact score)");
  const Eigen::Index d = z.size();
  // s_u(x) = J x + r at each level, read off the score itself: r = s(0), J e_i = s(e_i) - s(0).
  Matrix probe = Matrix::Zero(d, d + 1);
  probe.rightCols(d).setIdentity();
  Matrix values(d, d + 1);
  const auto affine_form = [&](const NoiseLevel& level, Matrix& jacobian, Vector& offset) {
    affine_score.evaluate(level, probe, values);
    offset = values.col(0);
    jacobian = values.rightCols(d).colwise() - offset;
  };
  Matrix jacobian(d, d), map(d, d);
  Vector offset(d);
  const auto levels = static_cast<int>(sigmas.size());
  GaussianLaw v;
  if (variant == DdsVariant::kDdpm) {
    v = {z, Matrix::Zero(d, d)};  // V starts at z exactly
    for (int j = levels; j >= 1; --j) {
      const DdpmLevel step = ddpm_level(sigmas, j);
      affine_form(step.level, jacobian, offset);
      map = step.drift * step.level.sqrt_abar() * jacobian;
      map.diagonal().array() += 1.0;
      v.mean = map * v.mean + step.drift * offset;
      v.covariance = map * v.covariance * map.transpose();
      v.covariance.diagonal().array() += step.noise_variance;
    }
    return v;
  }
  v = {Vector::Zero(d), Matrix::Identity(d, d)};  // V_{a=0} ~ N(0, I)
  for (int j = levels; j >= 1; --j) {
    const DdimLevel step = ddim_level(sigmas, j);
    affine_form(step.level, jacobian, offset);
    const double root = step.level.sqrt_abar();
    map = step.score_coefficient * root * step.k * jacobian;
    map.diagonal().array() += step.state;
    v.mean = map * v.mean + step.score_coefficient * (root * (jacobian * z) + offset);
    v.covariance = map * v.covariance * map.transpose();
  }
  v.mean += z;
  return v;
}

GaussianChain dds_affine_kernel(const ScoreModel& affine_score, const std::vector<double>& sigmas, int dim,
                                DdsVariant variant) {
  const Eigen::Index d = dim;
  const GaussianLaw at_origin = dds_output_law(affine_score, sigmas, Vector::Zero(d), variant);
  GaussianChain kernel{Matrix(d, d), at_origin.mean, at_origin.covariance};
  for (Eigen::Index i = 0; i < d; ++i) {
    kernel.M.col(i) = dds_output_law(affine_score, sigmas, Vector::Unit(d, i), variant).mean - at_origin.mean;
  }
  return kernel;
}

}  // namespace dmconv::posterior
