#include "core/target.hpp"

namespace dmconv {

void Target::score_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v,
                                  MatrixRef out) const {
  const Eigen::Index m = v.cols() / x.cols();
  Matrix jacobian(dim(), dim());
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    score_jacobian(level, x.col(j), jacobian);
    out.middleCols(j * m, m).noalias() = jacobian * v.middleCols(j * m, m);
  }
}

void Target::log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                     VectorRef out) const {
  dense_log_abs_det_linear_step(level, x, a, c, out, nullptr);
}

void Target::dense_log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                           VectorRef out, MatrixRef* score_out) const {
  const Eigen::Index d = x.rows(), n = x.cols();
  Matrix identities(d, n * d);
  for (Eigen::Index j = 0; j < n; ++j) identities.middleCols(j * d, d).setIdentity();
  Matrix jacobians(d, n * d);
  if (score_out != nullptr) {
    score_and_jacobian_apply(level, x, identities, *score_out, jacobians);
  } else {
    score_jacobian_apply(level, x, identities, jacobians);
  }
  // One matrix and one factorisation reused across particles (compute() rounds as the constructor).
  Matrix step(d, d);
  Eigen::PartialPivLU<Matrix> lu(d);
  for (Eigen::Index j = 0; j < n; ++j) {
    step = c * jacobians.middleCols(j * d, d);
    step.diagonal().array() += a;
    lu.compute(step);
    out(j) = lu.matrixLU().diagonal().array().abs().log().sum();
  }
}

}  // namespace dmconv
