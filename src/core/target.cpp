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
  const Eigen::Index d = x.rows(), n = x.cols();
  Matrix identities(d, n * d);
  for (Eigen::Index j = 0; j < n; ++j) identities.middleCols(j * d, d).setIdentity();
  Matrix jacobians(d, n * d);
  score_jacobian_apply(level, x, identities, jacobians);
  for (Eigen::Index j = 0; j < n; ++j) {
    Matrix step = c * jacobians.middleCols(j * d, d);
    step.diagonal().array() += a;
    const Eigen::PartialPivLU<Matrix> lu(step);
    out(j) = lu.matrixLU().diagonal().array().abs().log().sum();
  }
}

}  // namespace dmconv
