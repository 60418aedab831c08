// Shared value types. Particles are the columns of a d x n matrix throughout dmconv.
#pragma once
#include <Eigen/Dense>

namespace dmconv {

using Matrix = Eigen::MatrixXd;  // d x n: one particle per column
using Vector = Eigen::VectorXd;
using MatrixRef = Eigen::Ref<Matrix>;
using ConstMatrixRef = Eigen::Ref<const Matrix>;
using VectorRef = Eigen::Ref<Vector>;
using ConstVectorRef = Eigen::Ref<const Vector>;

}  // namespace dmconv
