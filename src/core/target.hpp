// An analytic target p_data, known through its noised marginals p_t (docs/theory.md §1, §8):
//
//   X_t = sqrt(abar) X_0 + sqrt(1 - abar) W,   p_t = law(X_t),
//   score  s*_t(x) = grad log p_t(x),   Jacobian J*_t(x) = grad s*_t(x)  (symmetric Hessian).
//
// All batched methods take particles as the columns of a d x n matrix and must give, for
// each column, a result that does not depend on the other columns or on n (bitwise), so
// that results are the same for every batch size and thread count.
#pragma once
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "core/noise_level.hpp"
#include "core/rng.hpp"
#include "core/types.hpp"

namespace dmconv {

// J = diag(diagonal) + factor * core * factor^T, with factor d x K and core K x K symmetric.
// Targets whose Jacobian has this structure (isotropic mixture components: K = number of
// components) expose it so that determinants and solves can cost O(K^2 d + K^3).
struct DiagonalPlusLowRank {
  Vector diagonal;
  Matrix factor;
  Matrix core;
  // log |det(a I + c J)| by the matrix determinant lemma, O(K^2 d + K^3):
  //   a I + c J = D' + U (c C) U^T,  D' = a + c diag,  det = det(D') det(I_K + c C U^T D'^{-1} U).
  double log_abs_det_shifted(double a, double c) const {
    const Eigen::ArrayXd shifted = a + c * diagonal.array();
    double result = shifted.abs().log().sum();
    if (factor.cols() > 0) {
      Matrix small = c * core * (factor.transpose() * (factor.array().colwise() / shifted).matrix());
      small.diagonal().array() += 1.0;
      const Eigen::PartialPivLU<Matrix> lu(small);
      result += lu.matrixLU().diagonal().array().abs().log().sum();
    }
    return result;
  }
  Matrix dense() const {
    Matrix result = factor * core * factor.transpose();
    result.diagonal() += diagonal;
    return result;
  }
};

// The psi_2 norms of the data law p_0 in the two conventions of docs/theory.md §8.4 (computed in
// core/subgaussian.hpp): NaN = not computed for this law, +infinity = not subgaussian.
struct SubgaussianNorms {
  double per_direction = std::numeric_limits<double>::quiet_NaN();  // (ii) sup_u ||<u, X>||_psi2
  double norm_based = std::numeric_limits<double>::quiet_NaN();     // (i)  || |X|_2 ||_psi2
};

struct Moments {
  Vector mean;
  Matrix covariance;
};

// Capability views (docs/theory.md §8). A target answers the queries below that hold for its
// law; estimators and analyses ask these instead of naming concrete target classes, so a new
// target with, e.g., Gaussian-mixture structure or a bounded support is picked up by every
// estimator that can use it. Views are non-owning: they live as long as the target.

// p_0 = sum_k w_k N(mu_k, Sigma_k), k < size(). A Gaussian target is the view with one
// component of weight 1. With it, p_t = sum_k w_k N(sqrt(a) mu_k, a Sigma_k + (1 - a) I) and
// every 1-D projection theta^T X_t is an exact 1-D Gaussian mixture (what the sample-based
// estimators w2_1d / sliced_w2 / mmd, rb_tv, gaussian_law and the LSI analysis use).
class GaussianMixtureView {
 public:
  virtual int size() const = 0;
  virtual double weight(int k) const = 0;
  virtual const Vector& mean(int k) const = 0;
  // Sigma_k as a dense d x d matrix.
  virtual Matrix covariance(int k) const = 0;

 protected:
  ~GaussianMixtureView() = default;  // not deleted through the view (no ownership)
};

class Target {
 public:
  virtual ~Target() = default;

  virtual std::string name() const = 0;
  // One line: the law and its parameters.
  virtual std::string describe() const = 0;
  virtual int dim() const = 0;

  // out(j) = log p_t(x.col(j)).  Precondition: x.rows() == dim(), out.size() == x.cols().
  virtual void log_density(const NoiseLevel& level, ConstMatrixRef x, VectorRef out) const = 0;
  // out.col(j) = s*_t(x.col(j)).  Precondition: out has the shape of x.
  virtual void score(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const = 0;
  // out = J*_t(x), a symmetric d x d matrix, at one point.
  virtual void score_jacobian(const NoiseLevel& level, ConstVectorRef x, MatrixRef out) const = 0;
  // Jacobian-vector products, batched: for each particle j (column j of x) and each of its m
  // directions, out.col(j*m + i) = J*_t(x_j) v.col(j*m + i), where m = v.cols() / x.cols().
  // The default forms each Jacobian densely; targets with structure override it.
  virtual void score_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v,
                                    MatrixRef out) const;
  // score() and score_jacobian_apply() at the same points in one call, equal to the bit to the two
  // calls; targets whose Jacobian products compute the score anyway override it.
  virtual void score_and_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v,
                                        MatrixRef score_out, MatrixRef jacobian_out) const {
    score(level, x, score_out);
    score_jacobian_apply(level, x, v, jacobian_out);
  }
  // Mean and covariance of p_t in closed form, when known.
  virtual std::optional<Moments> moments(const NoiseLevel&) const { return std::nullopt; }
  // out(j) = log |det(a I + c J*_t(x_j))|, the log-Jacobian of a linear score step at each
  // particle. The default forms dense Jacobians (batched) and factors each by LU; targets with
  // diagonal-plus-low-rank Jacobians override it with the matrix determinant lemma.
  virtual void log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                       VectorRef out) const;
  // score() and log_abs_det_linear_step() at the same points in one call, equal to the bit to the
  // two calls; targets whose log-determinants compute the score's ingredients anyway override it.
  virtual void score_and_log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                                 MatrixRef score_out, VectorRef log_det_out) const {
    score(level, x, score_out);
    log_abs_det_linear_step(level, x, a, c, log_det_out);
  }
  // The subgaussian norms of p_0 (docs/theory.md §8.4), when known.
  virtual SubgaussianNorms subgaussian_norms() const { return {}; }

  // Capability queries (see above); the defaults say "not known for this law".
  // p_0 as a Gaussian mixture (a Gaussian: one component), or nullptr.
  virtual const GaussianMixtureView* gaussian_mixture() const { return nullptr; }
  // p_0 = q^{(x)d} (d = dim()) with the 1-D factor law q, or nullptr: the product structure the
  // separable estimator uses (docs/theory.md §6.5).
  virtual const Target* product_factor() const { return nullptr; }
  // R with |X_0| <= R almost surely (support in the centred ball of radius R), when known: the
  // derived LSI bound of p_t uses it (docs/theory.md §5.6).
  virtual std::optional<double> support_radius() const { return std::nullopt; }
  // True when s*_t is affine in x at every level (Gaussian targets): every sampler then maps
  // Gaussians to Gaussians and errors follow by exact law propagation.
  virtual bool score_is_affine() const { return false; }
  // The Jacobian in diagonal-plus-low-rank form when the target has that structure.
  virtual std::optional<DiagonalPlusLowRank> score_jacobian_structured(const NoiseLevel&,
                                                                       ConstVectorRef) const {
    return std::nullopt;
  }
  // Exact samples of p_t: out.col(j) uses only the streams of particle first_particle + j
  // under sub-streams of `tag`.
  virtual void sample(const NoiseLevel& level, const RandomStreams& streams,
                      std::uint64_t first_particle, StreamTag tag, MatrixRef out) const = 0;

  // Convenience wrappers returning fresh objects.
  Vector log_density(const NoiseLevel& level, ConstMatrixRef x) const {
    Vector out(x.cols());
    log_density(level, x, out);
    return out;
  }
  Matrix score(const NoiseLevel& level, ConstMatrixRef x) const {
    Matrix out(x.rows(), x.cols());
    score(level, x, out);
    return out;
  }
  Matrix score_jacobian(const NoiseLevel& level, ConstVectorRef x) const {
    Matrix out(dim(), dim());
    score_jacobian(level, x, out);
    return out;
  }
  Matrix sample(const NoiseLevel& level, const RandomStreams& streams, std::uint64_t first_particle,
                Eigen::Index count, StreamTag tag) const {
    Matrix out(dim(), count);
    sample(level, streams, first_particle, tag, out);
    return out;
  }

 protected:
  // The dense form of log_abs_det_linear_step (batched Jacobian products against identities, an
  // LU of a I + c J per particle), and with score_out the score from the same call
  // (score_and_jacobian_apply): the default, and what small-d overrides fall back to.
  void dense_log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c, VectorRef out,
                                     MatrixRef* score_out) const;
};

}  // namespace dmconv
