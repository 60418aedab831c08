// Exact output densities of deterministic samplers by change of variables (docs/theory.md §3,
// issue "exact error measurement" 1b).
//
// A deterministic sampler is a map Phi: Y_T -> Y_stop. Carrying D = dY/dY_T along each
// trajectory gives the exact output density
//
//   log p_Y(Phi(xi)) = log p_{Y_T}(xi) - log |det D(xi)|.
//
// Two ways of carrying D:
//  * linear_score_step samplers (ode_euler, ddim: Y' = a Y + c s(Y)) multiply determinants
//    step by step, log|det(a I + c J_t(Y_t))| (ScoreModel::log_abs_det_linear_step); when
//    J_t = diag + U C U^T (diagonal or isotropic mixture components) the matrix determinant
//    lemma makes that O(K^2 d + K^3) per particle, otherwise a dense LU, O(d^3). The step's one
//    score evaluation comes with the determinant (ScoreModel::evaluate_with_log_abs_det_linear_step),
//    bitwise equal to evaluating them apart;
//  * every other deterministic sampler (two-step momentum samplers, DPM-Solver-2/++(2M))
//    by tangent propagation: each step is linear in (Y, scores, cached outputs), so running the
//    same step on the tangent matrix with s replaced by v -> J_s(x_k) v at the recorded
//    evaluation points x_k propagates D exactly (including the Jacobian recursion of the
//    momentum samplers through their cache). log|det D| by LU at the end, O(d^3) per particle.
//    For d <= 4 the primal pass forms J_s(x_k) with the score in one fused call and the tangent
//    pass multiplies by it (the mixture's responsibilities and the Student t quadrature are then
//    computed once per point, not twice). For the Student t (J v = curvature * v) the bits are
//    those of a direct Jacobian-vector product; for the mixtures J V rounds differently.
#pragma once
#include "core/sampler.hpp"
#include "core/score_model.hpp"
#include "core/time_grid.hpp"
#include "core/types.hpp"

namespace dmconv {

struct FlowOutput {
  Matrix y;              // d x n: Y_stop
  Vector log_abs_det;    // log |det dY_stop / dY_T| per particle
};

enum class FlowJacobianMethod { kAutomatic, kTangent };

// Precondition: sampler.is_deterministic(), score.has_jacobian(), 0 <= stop_index < grid.steps().
// Particles are processed in blocks of block_size in parallel; each column's result depends
// only on that column.
FlowOutput push_forward_with_log_det(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score,
                                     ConstMatrixRef y_T, int stop_index, int threads = 0,
                                     Eigen::Index block_size = 256,
                                     FlowJacobianMethod method = FlowJacobianMethod::kAutomatic);

}  // namespace dmconv
