// The proximal consistency sampler of DPnP (docs/theory.md §4.7; Xu & Chi, arXiv 2403.17042, the
// reference code's MALASampling): Langevin on pi_PCS(z | x) ∝ exp(-L(z; y) - ||z - x||^2 / (2 eta^2))
// with the quadratic part integrated exactly,
//   m(z)   = z + r (x - z) - eta^2 r grad L(z),     r = -expm1(-gamma / eta^2),
//   z'     = m(z) + s W,                            s^2 = eta^2 (-expm1(-2 gamma / eta^2)),
// gamma from the step rule (constant, or residual: per particle, at the current point). With
// `metropolis` the proposal is accepted with probability min(1, e^alpha),
//   alpha = log pi(z') + log q(z | z') - log pi(z) - log q(z' | z),
//   log pi(z) = -L(z; y) - ||z - x||^2 / (2 eta^2),
//   log q(b | a) = -||b - m(a)||^2 / (2 s(a)^2) - d log s(a)   (+ a constant that cancels),
// where the reverse kernel q(z | z') uses the step gamma(z') of the proposed point, so the
// position-dependent residual rule still leaves pi_PCS exactly invariant. The forward residual
// ||z' - m(z)||^2 / s^2 is ||W||^2, used as such.
#include "posterior/pcs.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/params.hpp"
#include "core/simd_math.hpp"

namespace dmconv::posterior {
namespace {

// Iteration i uses sub-streams 2 i and 2 i + 1 of 16 bits (core/rng.hpp).
constexpr int kMaxIterations = 32767;

[[noreturn]] void reject(const std::string& option, const std::string& value, const std::string& rule) {
  throw InvalidArgument("PCS option " + option + " = " + value + ": " + rule);
}

// Column sums written as plain loops: a fixed summation order for every column, whatever its
// offset or alignment in the batch (Eigen's vectorised reductions may depend on alignment).
double squared_norm(const double* a, Eigen::Index size) {
  double sum = 0.0;
  for (Eigen::Index i = 0; i < size; ++i) sum += a[i] * a[i];
  return sum;
}
double squared_distance(const double* a, const double* b, Eigen::Index size) {
  double sum = 0.0;
  for (Eigen::Index i = 0; i < size; ++i) {
    const double difference = a[i] - b[i];
    sum += difference * difference;
  }
  return sum;
}

// The step's coefficients for one particle.
struct Step {
  double r;      // 1 - e^{-gamma/eta^2}
  double drift;  // eta^2 r, the factor of -grad L
  double sd;     // eta sqrt(1 - e^{-2 gamma/eta^2})
  double log_sd;
};

Step step_for(double gamma, double eta) {
  const double eta2 = eta * eta;
  Step step{};
  step.r = -std::expm1(-gamma / eta2);
  step.drift = eta2 * step.r;
  step.sd = eta * std::sqrt(-std::expm1(-2.0 * gamma / eta2));
  step.log_sd = std::log(step.sd);
  return step;
}

}  // namespace

void PcsOptions::validate() const {
  if (iterations < 1 || iterations > kMaxIterations) {
    reject("iterations", std::to_string(iterations),
           "must lie in [1, " + std::to_string(kMaxIterations) + "] (two 16-bit sub-streams per iteration)");
  }
  if (!(step_scale > 0.0) || !std::isfinite(step_scale)) {
    reject("step_scale", shortest(step_scale), "must be positive and finite");
  }
  if (!(regulariser > 0.0) || !std::isfinite(regulariser)) {
    reject("regulariser", shortest(regulariser), "must be positive and finite");
  }
  if (!(noise_scale > 0.0) || !std::isfinite(noise_scale)) {
    reject("noise_scale", shortest(noise_scale), "must be positive and finite");
  }
}

void pcs_sample(const Likelihood& likelihood, const Vector& y, double eta, const PcsOptions& options,
                ConstMatrixRef x, const RandomStreams& streams, std::uint64_t first_particle, StreamTag tag,
                MatrixRef out, double* acceptance) {
  options.validate();
  if (!(eta > 0.0) || !std::isfinite(eta)) {
    throw InvalidArgument("pcs_sample: eta = " + shortest(eta) + " must be positive and finite");
  }
  if (x.rows() != likelihood.dim() || out.rows() != x.rows() || out.cols() != x.cols()) {
    std::ostringstream message;
    message << "pcs_sample: x is " << x.rows() << " x " << x.cols() << " and out " << out.rows() << " x "
            << out.cols() << ", but both must be d x n with d = " << likelihood.dim()
            << " (the likelihood's dimension)";
    throw InvalidArgument(message.str());
  }
  const Eigen::Index d = x.rows();
  const Eigen::Index n = x.cols();
  const double eta2 = eta * eta;
  const double sigma2 = options.noise_scale * options.noise_scale;
  const double base_gamma = options.step_scale * std::min(sigma2, eta2);
  const bool residual = options.step_rule == PcsOptions::StepRule::kResidual;
  const auto gamma_at = [&](const double* gradient) {
    return residual ? base_gamma / (options.regulariser + std::sqrt(squared_norm(gradient, d)) * sigma2)
                    : base_gamma;
  };
  const Step constant_step = step_for(base_gamma, eta);
  const auto step_at = [&](const double* gradient) {
    return residual ? step_for(gamma_at(gradient), eta) : constant_step;
  };

  // Scratch allocated once per call. `centre` copies x so that `out` may alias `x`.
  const Matrix centre = x;
  Matrix z = x;
  Matrix gradient(d, n);
  Matrix proposal(d, n);
  Matrix proposal_gradient(d, n);
  Matrix noise(d, n);
  Vector nll(n);
  Vector proposal_nll(n);
  // log U of the acceptance test, eight per SLEEF call (whole lane groups: padded with U = 1).
  // SLEEF's log is within 1 ulp, like libm's scalar one it replaced: a decision could differ
  // only where log alpha lies within an ulp of log U (none did in the posterior experiments).
  const Eigen::Index padded_n = (n + simd::kLanes - 1) / simd::kLanes * simd::kLanes;
  std::vector<double, Eigen::aligned_allocator<double>> log_uniform(options.metropolis ? padded_n : 0, 1.0);
  if (options.metropolis) {
    likelihood.negative_log_likelihood_and_gradient(y, z, nll, gradient);
  } else {
    likelihood.gradient(y, z, gradient);
  }

  std::uint64_t accepted = 0;
  for (int i = 0; i < options.iterations; ++i) {
    const auto stream = static_cast<std::uint64_t>(i);
    streams.fill_normals(first_particle, tag.sub(2 * stream), noise);
    if (!options.metropolis) {
      if (residual) {
        for (Eigen::Index j = 0; j < n; ++j) {
          const Step step = step_at(gradient.col(j).data());
          z.col(j) += step.r * (centre.col(j) - z.col(j)) - step.drift * gradient.col(j) + step.sd * noise.col(j);
        }
      } else {
        // Element by element as the column form, so the same bits.
        z += constant_step.r * (centre - z) - constant_step.drift * gradient + constant_step.sd * noise;
      }
      // The gradient at the final point is never used.
      if (i + 1 < options.iterations) likelihood.gradient(y, z, gradient);
      continue;
    }
    if (residual) {
      for (Eigen::Index j = 0; j < n; ++j) {
        const Step step = step_at(gradient.col(j).data());
        proposal.col(j) = z.col(j) + step.r * (centre.col(j) - z.col(j)) - step.drift * gradient.col(j) +
                          step.sd * noise.col(j);
      }
    } else {
      // The same expression for every column at once (element by element, so the same bits).
      proposal = z + constant_step.r * (centre - z) - constant_step.drift * gradient + constant_step.sd * noise;
    }
    likelihood.negative_log_likelihood_and_gradient(y, proposal, proposal_nll, proposal_gradient);
    streams.uniforms_across(first_particle, tag.sub(2 * stream + 1), 0, log_uniform.data(), n);
    std::fill(log_uniform.begin() + n, log_uniform.end(), 1.0);
    for (Eigen::Index group = 0; group < padded_n; group += simd::kLanes)
      simd::log8(log_uniform.data() + group, log_uniform.data() + group);
    for (Eigen::Index j = 0; j < n; ++j) {
      const Step forward = step_at(gradient.col(j).data());
      const Step backward = step_at(proposal_gradient.col(j).data());
      const double* zj = z.col(j).data();
      const double* pj = proposal.col(j).data();
      const double* xj = centre.col(j).data();
      const double* gj = proposal_gradient.col(j).data();
      // ||z - m(z')||^2 with m(z') = z' + r'(x - z') - eta^2 r' grad L(z'), summed in a fixed order.
      double backward_residual = 0.0;
      for (Eigen::Index k = 0; k < d; ++k) {
        const double difference = zj[k] - (pj[k] + backward.r * (xj[k] - pj[k]) - backward.drift * gj[k]);
        backward_residual += difference * difference;
      }
      const double log_pi_proposal = -proposal_nll(j) - squared_distance(pj, xj, d) / (2.0 * eta2);
      const double log_pi_current = -nll(j) - squared_distance(zj, xj, d) / (2.0 * eta2);
      const double log_q_backward =
          -backward_residual / (2.0 * backward.sd * backward.sd) - static_cast<double>(d) * backward.log_sd;
      const double log_q_forward =
          -0.5 * squared_norm(noise.col(j).data(), d) - static_cast<double>(d) * forward.log_sd;
      const double log_alpha = log_pi_proposal + log_q_backward - log_pi_current - log_q_forward;
      // A NaN log_alpha (e.g. a non-finite likelihood at the proposal) rejects.
      if (log_uniform[static_cast<std::size_t>(j)] < log_alpha) {
        z.col(j) = proposal.col(j);
        gradient.col(j) = proposal_gradient.col(j);
        nll(j) = proposal_nll(j);
        ++accepted;
      }
    }
  }
  if (acceptance != nullptr) {
    // No proposal at all (n = 0) counts as full acceptance, like the unadjusted chain.
    *acceptance = options.metropolis && n > 0
                      ? static_cast<double>(accepted) / (static_cast<double>(n) * static_cast<double>(options.iterations))
                      : 1.0;
  }
  out = z;
}

std::optional<GaussianChain> pcs_affine_kernel(const LinearGaussianView& likelihood, const Vector& y, double eta,
                                               const PcsOptions& options) {
  options.validate();
  require(likelihood.A != nullptr, "pcs_affine_kernel: the likelihood view has no matrix A");
  if (!(eta > 0.0) || !std::isfinite(eta)) {
    throw InvalidArgument("pcs_affine_kernel: eta = " + shortest(eta) + " must be positive and finite");
  }
  if (options.metropolis || options.step_rule != PcsOptions::StepRule::kConstant) return std::nullopt;
  const Matrix& A = *likelihood.A;
  const Eigen::Index d = A.cols();
  const double inverse_noise = 1.0 / (likelihood.sigma_y * likelihood.sigma_y);
  const double sigma2 = options.noise_scale * options.noise_scale;
  const Step step = step_for(options.step_scale * std::min(sigma2, eta * eta), eta);
  Matrix B = -step.drift * inverse_noise * (A.transpose() * A);
  B.diagonal().array() += 1.0 - step.r;
  const Vector shift = step.drift * inverse_noise * (A.transpose() * y);
  GaussianChain kernel{Matrix::Identity(d, d), Vector::Zero(d), Matrix::Zero(d, d)};
  for (int i = 0; i < options.iterations; ++i) {
    kernel.M = B * kernel.M;
    kernel.M.diagonal().array() += step.r;
    kernel.b = B * kernel.b + shift;
    kernel.Q = B * kernel.Q * B.transpose();
    kernel.Q.diagonal().array() += step.sd * step.sd;
  }
  kernel.Q = 0.5 * (kernel.Q + kernel.Q.transpose());
  return kernel;
}

}  // namespace dmconv::posterior
