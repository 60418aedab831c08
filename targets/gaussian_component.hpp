// One Gaussian data component N(mu, Sigma) seen through the forward process (docs/theory.md §8.1):
//
//   at level abar = a:   N(m, C),   m = sqrt(a) mu,   C = a Sigma + (1-a) I
//   log N(x; m, C) = -(1/2) ( d log 2pi + log det C + ||L^{-1}(x - m)||^2 ),  C = L L^T
//   g(x) = grad log N(x; m, C) = -C^{-1} (x - m),    Hessian -C^{-1}
//
// Sigma is full, diagonal or isotropic; the structure is kept so that C stays diagonal
// (and C^{-1} cheap) when Sigma is. Full covariances are factored by Cholesky at each level;
// nothing is inverted explicitly except where the Hessian itself is requested.
#pragma once
#include <optional>
#include <string>

#include "core/noise_level.hpp"
#include "core/types.hpp"

namespace dmconv {

enum class CovarianceKind { kFull, kDiagonal, kIsotropic };
std::string to_string(CovarianceKind kind);

class GaussianComponent {
 public:
  // Throws InvalidArgument (prefixed by `context`) unless sizes agree and the covariance is
  // symmetric positive definite.
  static GaussianComponent full(Vector mean, Matrix covariance, const std::string& context);
  static GaussianComponent diagonal(Vector mean, Vector variances, const std::string& context);
  static GaussianComponent isotropic(Vector mean, double variance, const std::string& context);

  // The component's law at one noise level, factored once for many evaluations.
  class AtLevel {
   public:
    // out.col(j) = g(x.col(j)) and quad(j) = ||L^{-1}(x_j - m)||^2.
    void gradient_and_quadratic(ConstMatrixRef x, MatrixRef gradient, VectorRef quadratic) const;
    // log N(x_j; m, C) for the quadratic forms returned above.
    double log_normaliser() const { return log_normaliser_; }  // -(d log 2pi + log det C)/2
    // out = C^{-1} v, column by column (Cholesky solves; no inverse is formed).
    void precision_apply(ConstMatrixRef v, MatrixRef out) const;
    // C^{-1} as a dense matrix (for Hessians).
    Matrix precision() const;
    // For diagonal and isotropic components: the diagonal of C^{-1}.
    Vector precision_diagonal() const;
    // For full components: the lower Cholesky factor L of C = L L^T.
    Matrix lower_factor() const { return cholesky_->matrixL(); }
    CovarianceKind kind() const { return kind_; }
    const Vector& mean() const { return mean_; }

   private:
    friend class GaussianComponent;
    CovarianceKind kind_;
    Vector mean_;                 // m = sqrt(a) mu
    // Full components only: C = L L^T. Optional because a default-constructed LLT leaves its
    // status flag uninitialised, and copying it for diagonal components read that flag.
    std::optional<Eigen::LLT<Matrix>> cholesky_;
    Vector diagonal_;             // diagonal / isotropic: diag(C)
    double log_normaliser_ = 0.0;
  };

  AtLevel at(const NoiseLevel& level) const;

  // x0.col(j) = mu + A z.col(j), A A^T = Sigma: exact data samples from standard normals.
  void transform_standard_normals(ConstMatrixRef z, MatrixRef x0) const;

  int dim() const { return static_cast<int>(mean_.size()); }
  CovarianceKind kind() const { return kind_; }
  const Vector& mean() const { return mean_; }
  // Sigma as a dense matrix.
  Matrix covariance() const;

 private:
  GaussianComponent(CovarianceKind kind, Vector mean, Matrix covariance, Vector variances);
  CovarianceKind kind_;
  Vector mean_;
  Matrix covariance_;        // full only
  Matrix covariance_factor_; // full only: lower Cholesky factor of Sigma
  Vector variances_;         // diagonal / isotropic: diag(Sigma)
};

}  // namespace dmconv
