// The likelihood e^{-L(x; y)} of an inverse problem y = A(x) + noise (docs/theory.md §4.7;
// Xu & Chi, arXiv 2403.17042, §2):
//
//   linear_gaussian  y = A x + N(0, sigma_y^2 I_m)         L = ||y - A x||^2 / (2 sigma_y^2) + (m/2) log(2 pi sigma_y^2)
//   phase_retrieval  y_i = |a_i^T x| + N(0, sigma_y^2)      L = sum_i (y_i - |a_i^T x|)^2 / (2 sigma_y^2) + (m/2) log(2 pi sigma_y^2)
//   one_bit          y_i = sign(a_i^T x + tau_i + N(0, sigma^2))   L = -sum_i log Phi(y_i (a_i^T x + tau_i) / sigma)
//
// L carries its normalising constant in y, so e^{-L(x; .)} is a density of y (a mass function for
// one_bit). The posterior is pi(x) ∝ p_data(x) e^{-L(x; y)}; DPnP's stationary law is
// pi_eta(x) ∝ p_data(x) (e^{-L(.; y)} * N(0, eta^2 I))(x) (docs/theory.md §4.7).
//
// A likelihood is a model without its observation: y is passed to every call, so one object
// serves every observation (given in the config, or simulated from a seeded ground truth).
// Batched methods take points as the columns of a d x n matrix; each column's result depends on
// that column only.
#pragma once
#include <optional>
#include <string>

#include "core/registry.hpp"
#include "core/rng.hpp"
#include "core/types.hpp"

namespace dmconv {

// The capability of a linear-Gaussian likelihood: L(x; y) = ||y - A x||^2 / (2 sigma_y^2) + const.
// Closed-form posteriors, DPnP's stationary law and exact Gibbs conditionals ask for it.
struct LinearGaussianView {
  const Matrix* A = nullptr;  // m x d, owned by the likelihood
  double sigma_y = 0.0;
};

class Likelihood {
 public:
  virtual ~Likelihood() = default;
  virtual std::string name() const = 0;
  // One line: the model and its parameters.
  virtual std::string describe() const = 0;
  virtual int dim() const = 0;           // d, the dimension of x
  virtual int observations() const = 0;  // m, the dimension of y

  // A draw of y ~ p(y | x_star), from the streams of particle 0 under `tag` (sub-streams 0, 1, ...).
  virtual Vector simulate(const Vector& x_star, const RandomStreams& streams, StreamTag tag) const = 0;
  // Throws InvalidArgument naming the rule when y cannot be an observation of this model
  // (wrong size, non-finite, one_bit entries not in {-1, +1}, phase_retrieval entries < 0 are allowed).
  virtual void check_observation(const Vector& y) const = 0;

  // out(j) = L(x.col(j); y).  Precondition: x.rows() == dim(), out.size() == x.cols().
  virtual void negative_log_likelihood(const Vector& y, ConstMatrixRef x, VectorRef out) const = 0;
  // out.col(j) = grad_x L(x.col(j); y) (phase_retrieval: the gradient where a_i^T x != 0, and 0 in
  // that term where a_i^T x = 0).  Precondition: out has the shape of x.
  virtual void gradient(const Vector& y, ConstMatrixRef x, MatrixRef out) const = 0;
  // Both at once, equal to the bit to the two calls above; a likelihood overrides it when the two
  // share their expensive part.
  virtual void negative_log_likelihood_and_gradient(const Vector& y, ConstMatrixRef x, VectorRef nll,
                                                    MatrixRef gradient) const {
    negative_log_likelihood(y, x, nll);
    this->gradient(y, x, gradient);
  }

  // log (e^{-L(.; y)} * N(0, eta^2 I))(x_j) in closed form when known (linear_gaussian: a Gaussian
  // in y with covariance sigma_y^2 I + eta^2 A A^T; one_bit only when m = 1 or the a_i are
  // orthogonal -- one W enters every factor, so otherwise the product does not factor -- as Phi
  // with sigma^2 + eta^2 |a_i|^2), else false (callers integrate numerically). eta = 0 gives -L.
  virtual bool smoothed_log_likelihood(const Vector& /*y*/, double /*eta*/, ConstMatrixRef /*x*/,
                                       VectorRef /*out*/) const {
    return false;
  }
  // The linear-Gaussian structure, when the likelihood has it.
  virtual std::optional<LinearGaussianView> linear_gaussian() const { return std::nullopt; }

  // Convenience wrappers returning fresh objects.
  Vector negative_log_likelihood(const Vector& y, ConstMatrixRef x) const {
    Vector out(x.cols());
    negative_log_likelihood(y, x, out);
    return out;
  }
  Matrix gradient(const Vector& y, ConstMatrixRef x) const {
    Matrix out(x.rows(), x.cols());
    gradient(y, x, out);
    return out;
  }
};

// `dmconv list likelihoods`; the [likelihood] section of a posterior experiment.
const Registry<Likelihood>& likelihood_registry();

}  // namespace dmconv
