// Subgaussian (psi_2) norms of data laws (docs/theory.md §8.4; Pedrotti, Maas, Mondelli 2305.14164
// take T1 ~ log of the dimension and of the subgaussian norm):
//
//   ||Y||_psi2 = inf{ K > 0 : E exp(Y^2 / K^2) <= 2 },
//   convention (i)  "norm-based":    || |X|_2 ||_psi2        (grows like sqrt(d)),
//   convention (ii) "per direction": sup_{|u| = 1} || <u, X> ||_psi2   (dimension-free for
//                                    independent coordinates).
//
// Closed-form moment generating functions used here (K^2 > 2 lambda for every variance lambda):
//   Gaussian N(c, s^2) in 1-D:     E exp(Y^2/K^2) = (1 - 2 s^2/K^2)^{-1/2} exp(c^2 / (K^2 - 2 s^2))
//   Gaussian N(mu, Sigma), |X|^2:   prod_i (1 - 2 l_i/K^2)^{-1/2} exp(c_i^2 / (K^2 - 2 l_i)),
//                                  Sigma = Q diag(l) Q^T, c = Q^T mu
//   mixtures: the weighted sums of their components' terms;
//   U[-A, A]:                      E exp(U^2/K^2) = int_0^1 exp(A^2 t^2/K^2) dt (Gauss-Kronrod),
//   U[-A, A]^d, |X|^2:             (the 1-D value)^d.
// E exp(Y^2/K^2) decreases in K, so psi2 is the root of log E - log 2 (Boost toms748).
#pragma once
#include <functional>
#include <limits>

#include "core/target.hpp"  // SubgaussianNorms

namespace dmconv {

// The K > k_min with log_mgf(K) = log 2, for log_mgf(K) = log E exp(Y^2/K^2) decreasing in K and
// +infinity (or large) as K -> k_min+. Relative accuracy ~1e-14.
double psi2_root(const std::function<double(double)>& log_mgf, double k_min);

// log E exp(Y^2/K^2) for Y ~ N(c, s2) (infinity when K^2 <= 2 s2).
double log_mgf_square_gaussian(double c, double s2, double k);

// psi2 of U[-A, A] (convention (ii) of the 1-D law; 0.7727 A, docs/theory.md §8.4 table).
double psi2_uniform(double half_width);
// log E exp(U^2/K^2), U ~ U[-A, A].
double log_mgf_square_uniform(double half_width, double k);

}  // namespace dmconv

#include <vector>

#include "core/types.hpp"

namespace dmconv {

// Norms of the Gaussian mixture sum_k w_k N(mu_k, Sigma_k) (a Gaussian: one component).
// (i) always; (ii) exactly when d = 1, or when every Sigma_k = v I with one v and the means are
// collinear (the supremum over u is then attained along the means' line); NaN otherwise.
SubgaussianNorms gaussian_mixture_norms(const std::vector<double>& weights, const std::vector<Vector>& means,
                                        const std::vector<Matrix>& covariances);

}  // namespace dmconv
