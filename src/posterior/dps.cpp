// Diffusion posterior sampling (Chung, Kim, McCann, Klasky, Ye, ICLR 2023, Algorithm 1):
//
//   s = s_t(x_t),   x0hat = (x_t + (1 - abar_t) s) / sqrt(abar_t)
//   g = (I + (1 - abar_t) J_t(x_t)) grad L(x0hat; y) / sqrt(abar_t)           (chain rule, J_t symmetric)
//   x_{t-1} = (x_t + beta_t s) / sqrt(alpha_t) - zeta (beta_t / sqrt(alpha_t)) g + sqrt(beta_t) W_t  (no W_1)
//
// The unguided part is the noise-outside DDPM step of docs/theory.md §4.1 (samplers/ddpm.cpp,
// `ddpm_noise_outside`): Algorithm 1's mean sqrt(alpha)(1 - abar_{t-1})/(1 - abar) x_t +
// sqrt(abar_{t-1}) beta/(1 - abar) x0hat is algebraically (x_t + beta s)/sqrt(alpha), and its
// sigma_t^2 = beta_t is that step's variance. The guidance step size is DDPM's score coefficient
// beta_t/sqrt(alpha_t) times zeta, so zeta = 1 replaces the score by s - g, DPS's estimate of the
// posterior score (the paper's zeta_i is a free step size; this scaling makes zeta dimensionless).
#include "posterior/dps.hpp"

#include <cmath>
#include <sstream>
#include <string>

#include "core/error.hpp"

namespace dmconv::posterior {
namespace {

std::string fmt(double value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

// Per-step workspace, allocated once per dps_sample call.
struct Workspace {
  Matrix score, x0hat, likelihood_gradient, jacobian_product, noise;
  Workspace(Eigen::Index d, Eigen::Index n)
      : score(d, n), x0hat(d, n), likelihood_gradient(d, n), jacobian_product(d, n), noise(d, n) {}
};

// workspace.score = s_t(x); out = g (the guidance gradient). `out` may not alias x.
void guidance(const ScoreModel& prior_score, const NoiseLevel& level, const Likelihood& likelihood, const Vector& y,
              ConstMatrixRef x, Workspace& workspace, MatrixRef out) {
  const double one_minus_abar = level.one_minus_abar(), inverse_sqrt_abar = 1.0 / level.sqrt_abar();
  workspace.x0hat.noalias() = inverse_sqrt_abar * (x + one_minus_abar * workspace.score);
  likelihood.gradient(y, workspace.x0hat, workspace.likelihood_gradient);
  // d x0hat / d x_t = (I + (1 - abar) J_t) / sqrt(abar), symmetric: its transpose is itself.
  prior_score.jacobian_apply(level, x, workspace.likelihood_gradient, workspace.jacobian_product);
  out.noalias() = inverse_sqrt_abar * (workspace.likelihood_gradient + one_minus_abar * workspace.jacobian_product);
}

void check_score(const ScoreModel& prior_score, const Likelihood& likelihood, Eigen::Index rows) {
  require(prior_score.has_jacobian(), "dps: the prior score model provides no Jacobian (rule: DPS differentiates "
                                      "x0hat(x_t) = (x_t + (1 - abar_t) s_t(x_t)) / sqrt(abar_t), which needs J_t)");
  require(likelihood.dim() == prior_score.dim() && rows == prior_score.dim(),
          "dps: dimensions disagree: score d = " + std::to_string(prior_score.dim()) + ", likelihood '" +
              likelihood.name() + "' d = " + std::to_string(likelihood.dim()) + ", particles have " +
              std::to_string(rows) + " rows (rule: all equal)");
}

}  // namespace

void DpsOptions::validate() const {
  require(std::isfinite(zeta) && zeta >= 0.0, "dps: zeta = " + fmt(zeta) + " must be finite and >= 0");
}

void dps_guidance_gradient(const ScoreModel& prior_score, const NoiseLevel& level, const Likelihood& likelihood,
                           const Vector& y, ConstMatrixRef x, MatrixRef out) {
  check_score(prior_score, likelihood, x.rows());
  likelihood.check_observation(y);
  require(out.rows() == x.rows() && out.cols() == x.cols(), "dps_guidance_gradient: out must have the shape of x");
  Workspace workspace(x.rows(), x.cols());
  prior_score.evaluate(level, x, workspace.score);
  guidance(prior_score, level, likelihood, y, x, workspace, out);
}

void dps_sample(const ScoreModel& prior_score, const TimeGrid& grid, const Likelihood& likelihood, const Vector& y,
                const DpsOptions& options, const RandomStreams& streams, std::uint64_t first_particle, StreamTag tag,
                MatrixRef out) {
  options.validate();
  check_score(prior_score, likelihood, out.rows());
  likelihood.check_observation(y);
  const int steps = grid.steps();
  require(steps >= 1 && steps <= 65535, "dps: grid.steps() = " + std::to_string(steps) +
                                            " must be in [1, 65535] (rule: step t draws from sub-stream t)");
  Workspace workspace(out.rows(), out.cols());
  Matrix guide(out.rows(), out.cols());
  streams.fill_normals(first_particle, tag.sub(0), out);  // x_T ~ N(0, I)
  for (int t = steps; t >= 1; --t) {
    const NoiseLevel& level = grid.level(t);
    const double beta = grid.beta(t);
    const double sqrt_alpha = std::sqrt(1.0 - beta);  // as samplers/ddpm.cpp, so zeta = 0 matches it bitwise
    prior_score.evaluate(level, out, workspace.score);
    if (options.zeta > 0.0) guidance(prior_score, level, likelihood, y, out, workspace, guide);
    out = (out + beta * workspace.score) / sqrt_alpha;
    if (options.zeta > 0.0) out -= (options.zeta * beta / sqrt_alpha) * guide;
    if (t > 1) {
      streams.fill_normals(first_particle, tag.sub(static_cast<std::uint64_t>(t)), workspace.noise);
      out += std::sqrt(beta) * workspace.noise;
    }
  }
}

}  // namespace dmconv::posterior
