// The linear-Gaussian likelihood y = A x + N(0, sigma_y^2 I_m) (docs/theory.md §4.7; Xu & Chi,
// arXiv 2403.17042, §2):
//
//   L(x; y) = ||y - A x||^2 / (2 sigma_y^2) + (m/2) log(2 pi sigma_y^2)
//   grad_x L = -A^T (y - A x) / sigma_y^2
//   log (e^{-L(.; y)} * N(0, eta^2 I))(x) = log N(y; A x, sigma_y^2 I + eta^2 A A^T)
//
// The last line holds because A (x + eta W) + noise is Gaussian in y with that covariance.
// Also the seeded Gaussian sensing matrices shared by the other likelihoods of this directory.
#pragma once
#include <cstdint>
#include <string>

#include "posterior/likelihood.hpp"

namespace dmconv::posterior {

// rows x cols matrix with iid N(0, entry_sd^2) entries: row i holds the normals of particle i of
// RandomStreams(seed, 0) under StreamTag(kLikelihoodConstruction, 0), times entry_sd. Row i does not
// depend on `rows`, so growing m keeps the first sensing vectors.
Matrix gaussian_sensing_matrix(int rows, int cols, double entry_sd, std::uint64_t seed);

class LinearGaussianLikelihood final : public Likelihood {
 public:
  // Throws InvalidArgument unless A is non-empty and finite and sigma_y > 0 is finite.
  // `matrix_description` says where A comes from ("identity", "random N(0, 1/m), seed 1", ...).
  LinearGaussianLikelihood(Matrix A, double sigma_y, std::string matrix_description);

  std::string name() const override { return "linear_gaussian"; }
  std::string describe() const override;
  int dim() const override { return static_cast<int>(A_.cols()); }
  int observations() const override { return static_cast<int>(A_.rows()); }

  Vector simulate(const Vector& x_star, const RandomStreams& streams, StreamTag tag) const override;
  void check_observation(const Vector& y) const override;
  void negative_log_likelihood(const Vector& y, ConstMatrixRef x, VectorRef out) const override;
  void gradient(const Vector& y, ConstMatrixRef x, MatrixRef out) const override;
  bool smoothed_log_likelihood(const Vector& y, double eta, ConstMatrixRef x, VectorRef out) const override;
  std::optional<LinearGaussianView> linear_gaussian() const override { return LinearGaussianView{&A_, sigma_y_}; }

  const Matrix& matrix() const { return A_; }
  double sigma_y() const { return sigma_y_; }

 private:
  Matrix A_;
  double sigma_y_;
  std::string matrix_description_;
};

// Shared checks of an observation of a model with m real observations: size m, every entry finite.
// Throws InvalidArgument naming `model`, the offending entry and the rule.
void check_real_observation(const std::string& model, int observations, const Vector& y);

}  // namespace dmconv::posterior
