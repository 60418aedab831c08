// Small likelihoods written for the tests (column by column, independent of the production ones in
// posterior/likelihoods/), shared by the posterior test files.
#pragma once
#include <cmath>
#include <numbers>
#include <string>
#include <utility>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/types.hpp"
#include "posterior/likelihood.hpp"

namespace dmconv::test_support {


// L = ||y - A x||^2 / (2 s^2) + (m/2) log(2 pi s^2); smoothed: log N(y; A x, s^2 I + eta^2 A A^T).
class TestLinearGaussian final : public Likelihood {
 public:
  TestLinearGaussian(Matrix a, double sigma) : a_(std::move(a)), sigma_(sigma) {}
  std::string name() const override { return "test_linear_gaussian"; }
  std::string describe() const override { return "test"; }
  int dim() const override { return static_cast<int>(a_.cols()); }
  int observations() const override { return static_cast<int>(a_.rows()); }
  Vector simulate(const Vector& x, const RandomStreams&, StreamTag) const override { return a_ * x; }
  void check_observation(const Vector& y) const override {
    require(y.size() == a_.rows(), "test_linear_gaussian: wrong y size");
  }
  void negative_log_likelihood(const Vector& y, ConstMatrixRef x, VectorRef out) const override {
    const double m = static_cast<double>(a_.rows());
    for (Eigen::Index j = 0; j < x.cols(); ++j)
      out(j) = (y - a_ * x.col(j)).squaredNorm() / (2 * sigma_ * sigma_) +
               0.5 * m * std::log(2 * std::numbers::pi * sigma_ * sigma_);
  }
  void gradient(const Vector& y, ConstMatrixRef x, MatrixRef out) const override {
    for (Eigen::Index j = 0; j < x.cols(); ++j) out.col(j) = -a_.transpose() * (y - a_ * x.col(j)) / (sigma_ * sigma_);
  }
  bool smoothed_log_likelihood(const Vector& y, double eta, ConstMatrixRef x, VectorRef out) const override {
    Matrix covariance = eta * eta * a_ * a_.transpose();
    covariance.diagonal().array() += sigma_ * sigma_;
    const Eigen::LLT<Matrix> llt(covariance);
    const double log_det = 2 * Matrix(llt.matrixL()).diagonal().array().log().sum();
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      const Vector r = y - a_ * x.col(j);
      out(j) = -0.5 * r.dot(llt.solve(r)) - 0.5 * log_det -
               0.5 * static_cast<double>(a_.rows()) * std::log(2 * std::numbers::pi);
    }
    return true;
  }

 private:
  Matrix a_;
  double sigma_;
};

// y_i = |a_i^T x| + N(0, s^2): no closed-form smoothing.
class TestPhaseRetrieval final : public Likelihood {
 public:
  TestPhaseRetrieval(Matrix a, double sigma) : a_(std::move(a)), sigma_(sigma) {}
  std::string name() const override { return "test_phase_retrieval"; }
  std::string describe() const override { return "test"; }
  int dim() const override { return static_cast<int>(a_.cols()); }
  int observations() const override { return static_cast<int>(a_.rows()); }
  Vector simulate(const Vector& x, const RandomStreams&, StreamTag) const override { return (a_ * x).cwiseAbs(); }
  void check_observation(const Vector& y) const override {
    require(y.size() == a_.rows(), "test_phase_retrieval: wrong y size");
  }
  void negative_log_likelihood(const Vector& y, ConstMatrixRef x, VectorRef out) const override {
    for (Eigen::Index j = 0; j < x.cols(); ++j)
      out(j) = (y - (a_ * x.col(j)).cwiseAbs()).squaredNorm() / (2 * sigma_ * sigma_) +
               0.5 * static_cast<double>(a_.rows()) * std::log(2 * std::numbers::pi * sigma_ * sigma_);
  }
  void gradient(const Vector& y, ConstMatrixRef x, MatrixRef out) const override {
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      const Vector ax = a_ * x.col(j);
      const Vector sign = ax.unaryExpr([](double v) { return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0); });
      out.col(j) = -a_.transpose() * ((y - ax.cwiseAbs()).cwiseProduct(sign)) / (sigma_ * sigma_);
    }
  }

 private:
  Matrix a_;
  double sigma_;
};

}  // namespace dmconv::test_support
