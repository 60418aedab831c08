// An isotropic Gaussian law N(mean, variance I) in long double (the exact output law of an affine
// sampler on a Gaussian target, computed by a test's own recursion) and the check that sampler
// output matches it: per coordinate, sample mean and variance within 5 standard errors.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "core/types.hpp"

namespace dmconv::test_support {

using Real = long double;

struct IsotropicGaussianLaw {
  std::vector<Real> mean;
  Real variance;
};

// Sample mean and variance of row i of y (particles as columns) within 5 SE of the law.
inline void expect_moments(const Matrix& y, const IsotropicGaussianLaw& law, const std::string& what) {
  const double n = static_cast<double>(y.cols());
  for (Eigen::Index i = 0; i < y.rows(); ++i) {
    const double mean = y.row(i).mean();
    const double var = (y.row(i).array() - mean).square().sum() / (n - 1);
    const double mu = static_cast<double>(law.mean[static_cast<std::size_t>(i)]);
    const double s2 = static_cast<double>(law.variance);
    EXPECT_LE(std::fabs(mean - mu), 5 * std::sqrt(s2 / n)) << what << " row " << i << " mean " << mean << " vs " << mu;
    EXPECT_LE(std::fabs(var - s2), 5 * s2 * std::sqrt(2 / (n - 1)))
        << what << " row " << i << " variance " << var << " vs " << s2;
    std::cout << "[ moments ] " << what << " row " << i << ": mean z = " << (mean - mu) / std::sqrt(s2 / n)
              << ", variance z = " << (var - s2) / (s2 * std::sqrt(2 / (n - 1))) << " (exact variance " << s2 << ")\n";
  }
}

}  // namespace dmconv::test_support
