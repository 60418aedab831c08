// What samplers call: the score s_t used for sampling, with evaluations counted (NFE).
//
//   s_t(x) = s*_t(x)                       (ExactScore)
//
// Score-error models (docs/theory.md §3, §6.6) derive from ScoreModel and perturb s*_t.
// Counting is per particle: NFE per trajectory = particle_evaluations() / particles.
#pragma once
#include <atomic>
#include <cstdint>
#include <optional>

#include "core/error.hpp"
#include "core/noise_level.hpp"
#include "core/target.hpp"
#include "core/types.hpp"

namespace dmconv {

class ScoreModel {
 public:
  virtual ~ScoreModel() = default;
  // out.col(j) = s_t(x.col(j)) at `level`; counts x.cols() particle evaluations.
  void evaluate(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const {
    evaluations_.fetch_add(static_cast<std::uint64_t>(x.cols()), std::memory_order_relaxed);
    compute(level, x, out);
  }
  std::uint64_t particle_evaluations() const { return evaluations_.load(); }
  void reset_count() const { evaluations_.store(0); }
  virtual int dim() const = 0;
  // True when s_t is affine in x at every level (exact Gaussian scores, affine perturbations).
  virtual bool is_affine() const { return false; }
  // The target whose exact score s*_t this model is (s_t = s*_t at every level), or nullptr for
  // perturbed or learned scores. Estimators that need the target's structure to carry over to
  // the score (e.g. separable: a perturbed score need not be separable) check this.
  virtual const Target* exact_score_of() const { return nullptr; }
  // out = J_{s_t}(x), the Jacobian of the score actually used (exact for every model).
  // Whether jacobian(), jacobian_apply() and jacobian_structured() are available.
  virtual bool has_jacobian() const { return false; }
  // The Jacobian in diagonal-plus-low-rank form when it has that structure.
  virtual std::optional<DiagonalPlusLowRank> jacobian_structured(const NoiseLevel&, ConstVectorRef) const {
    return std::nullopt;
  }
  // out(j) = log |det(a I + c J_{s_t}(x_j))| (see Target::log_abs_det_linear_step).
  virtual void log_abs_det_linear_step(const NoiseLevel&, ConstMatrixRef, double, double, VectorRef) const {
    throw InvalidArgument("this score model provides no analytic Jacobian");
  }
  // Models without an analytic Jacobian throw; estimators that need one check first.
  virtual void jacobian(const NoiseLevel& level, ConstVectorRef x, MatrixRef out) const;
  // Batched Jacobian-vector products, as Target::score_jacobian_apply. Not counted as NFE.
  virtual void jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v, MatrixRef out) const;
  // evaluate() and jacobian_apply() at the same points (counted as x.cols() evaluations), equal to
  // the bit to the two calls; models whose Jacobian products compute the score anyway override
  // fused_score_and_jacobian_apply.
  void evaluate_with_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v, MatrixRef score_out,
                                    MatrixRef jacobian_out) const {
    evaluations_.fetch_add(static_cast<std::uint64_t>(x.cols()), std::memory_order_relaxed);
    fused_score_and_jacobian_apply(level, x, v, score_out, jacobian_out);
  }
  // evaluate() and log_abs_det_linear_step() at the same points (counted as x.cols() evaluations),
  // equal to the bit to the two calls.
  void evaluate_with_log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                             MatrixRef score_out, VectorRef log_det_out) const {
    evaluations_.fetch_add(static_cast<std::uint64_t>(x.cols()), std::memory_order_relaxed);
    fused_score_and_log_abs_det_linear_step(level, x, a, c, score_out, log_det_out);
  }

 protected:
  virtual void compute(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const = 0;
  virtual void fused_score_and_log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                                       MatrixRef score_out, VectorRef log_det_out) const {
    compute(level, x, score_out);
    log_abs_det_linear_step(level, x, a, c, log_det_out);
  }
  virtual void fused_score_and_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v,
                                              MatrixRef score_out, MatrixRef jacobian_out) const {
    compute(level, x, score_out);
    jacobian_apply(level, x, v, jacobian_out);
  }

 private:
  mutable std::atomic<std::uint64_t> evaluations_{0};
};

// The exact score of an analytic target.
class ExactScore final : public ScoreModel {
 public:
  explicit ExactScore(const Target& target) : target_(target) {}
  int dim() const override { return target_.dim(); }
  bool is_affine() const override { return target_.score_is_affine(); }
  const Target* exact_score_of() const override { return &target_; }
  bool has_jacobian() const override { return true; }
  std::optional<DiagonalPlusLowRank> jacobian_structured(const NoiseLevel& level, ConstVectorRef x) const override {
    return target_.score_jacobian_structured(level, x);
  }
  void jacobian(const NoiseLevel& level, ConstVectorRef x, MatrixRef out) const override {
    target_.score_jacobian(level, x, out);
  }
  void jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v, MatrixRef out) const override {
    target_.score_jacobian_apply(level, x, v, out);
  }
  void log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                               VectorRef out) const override {
    target_.log_abs_det_linear_step(level, x, a, c, out);
  }
  const Target& target() const { return target_; }

 protected:
  void compute(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const override {
    target_.score(level, x, out);
  }
  void fused_score_and_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v, MatrixRef score_out,
                                      MatrixRef jacobian_out) const override {
    target_.score_and_jacobian_apply(level, x, v, score_out, jacobian_out);
  }
  void fused_score_and_log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                               MatrixRef score_out, VectorRef log_det_out) const override {
    target_.score_and_log_abs_det_linear_step(level, x, a, c, score_out, log_det_out);
  }

 private:
  const Target& target_;
};

inline void ScoreModel::jacobian(const NoiseLevel&, ConstVectorRef, MatrixRef) const {
  throw InvalidArgument("this score model provides no analytic Jacobian");
}

inline void ScoreModel::jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v,
                                       MatrixRef out) const {
  const Eigen::Index m = v.cols() / x.cols();
  Matrix jacobian_at(x.rows(), x.rows());
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    jacobian(level, x.col(j), jacobian_at);
    out.middleCols(j * m, m).noalias() = jacobian_at * v.middleCols(j * m, m);
  }
}

}  // namespace dmconv
