// Sample mean and covariance of the columns of x with the standard error of every entry (the
// covariance SEs from the sample variance of the centred products), shared by the sampler tests.
#pragma once
#include <cmath>

#include "core/types.hpp"

namespace dmconv::test_support {

struct SampleMoments {
  Vector mean, mean_se;
  Matrix covariance, covariance_se;
};

inline SampleMoments moments_of(const Matrix& x) {
  const Eigen::Index d = x.rows();
  const auto n = static_cast<double>(x.cols());
  SampleMoments m;
  m.mean = x.rowwise().mean();
  const Matrix centred = x.colwise() - m.mean;
  m.covariance = centred * centred.transpose() / (n - 1.0);
  m.mean_se = (m.covariance.diagonal() / n).cwiseSqrt();
  m.covariance_se.resize(d, d);
  for (Eigen::Index a = 0; a < d; ++a)
    for (Eigen::Index b = 0; b < d; ++b) {
      const Eigen::ArrayXd product = centred.row(a).array() * centred.row(b).array();
      m.covariance_se(a, b) = std::sqrt((product - product.mean()).square().sum() / (n - 1.0) / n);
    }
  return m;
}

}  // namespace dmconv::test_support
