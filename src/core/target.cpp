#include "core/target.hpp"

#include <cmath>

namespace dmconv {
namespace {

// out(j) = log |det(a I + c J_j)|, J_j = jacobians.middleCols(j d, d), by partial-pivot LU: the
// sum of log |u_ii| in increasing i. D = d for d = 2, 3 (fixed-size matrices: no dynamic overhead
// per particle; Eigen runs the same unblocked LU, so the same bits), Eigen::Dynamic otherwise. One
// matrix and one factorisation are reused across particles (compute() rounds as the constructor).
template <int D>
void log_abs_det_of_steps(const Matrix& jacobians, double a, double c, VectorRef out) {
  const Eigen::Index d = jacobians.rows();
  Eigen::Matrix<double, D, D> step(d, d);
  Eigen::PartialPivLU<Eigen::Matrix<double, D, D>> lu(d);
  for (Eigen::Index j = 0; j < out.size(); ++j) {
    step = c * jacobians.middleCols(j * d, d);
    step.diagonal().array() += a;
    lu.compute(step);
    if constexpr (D == Eigen::Dynamic) {
      out(j) = lu.matrixLU().diagonal().array().abs().log().sum();
    } else {
      // What the dynamic expression computes below one SIMD packet (4 doubles with AVX2, 8 with
      // AVX-512): scalar logs, summed in order.
      double sum = std::log(std::abs(lu.matrixLU()(0, 0)));
      for (Eigen::Index i = 1; i < D; ++i) sum += std::log(std::abs(lu.matrixLU()(i, i)));
      out(j) = sum;
    }
  }
}

}  // namespace

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
  switch (d) {
    case 2: return log_abs_det_of_steps<2>(jacobians, a, c, out);
    case 3: return log_abs_det_of_steps<3>(jacobians, a, c, out);
    default: return log_abs_det_of_steps<Eigen::Dynamic>(jacobians, a, c, out);
  }
}

}  // namespace dmconv
