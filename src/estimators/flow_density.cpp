#include "estimators/flow_density.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.hpp"
#include "core/parallel.hpp"

namespace dmconv {
namespace {

// The largest dimension at which the primal pass forms each recorded point's dense Jacobian
// (with the score, in one fused call) and the tangent pass multiplies by it: d^2 numbers per
// point, and a d x d x d product per particle and call, which stays below the Jacobian-vector
// products it replaces only for small d. Above it the tangent pass calls jacobian_apply.
constexpr Eigen::Index kStoredJacobianMaxDim = 4;

// Forwards to the sampler's real score model and remembers every evaluation point, and for
// d <= kStoredJacobianMaxDim the Jacobian there (particle j's J in columns [j d, (j+1) d)).
class RecordingScore final : public ScoreModel {
 public:
  struct Call {
    NoiseLevel level;
    Matrix x;
    Matrix jacobians;  // empty above kStoredJacobianMaxDim
  };
  // identities: d x (n d), particle j's columns the d x d identity (the block's, built once).
  RecordingScore(const ScoreModel& base, const Matrix& identities) : base_(base), identities_(identities) {}
  int dim() const override { return base_.dim(); }
  std::vector<Call>& calls() const { return calls_; }

 protected:
  void compute(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const override {
    const Eigen::Index d = x.rows(), n = x.cols();
    if (d > kStoredJacobianMaxDim) {
      base_.evaluate(level, x, out);
      calls_.push_back({level, x, Matrix()});
      return;
    }
    require(n * d <= identities_.cols(), "tangent propagation: a score call on more particles than the block holds");
    Matrix jacobians(d, n * d);
    base_.evaluate_with_jacobian_apply(level, x, identities_.leftCols(n * d), out, jacobians);
    calls_.push_back({level, x, std::move(jacobians)});
  }

 private:
  const ScoreModel& base_;
  const Matrix& identities_;
  mutable std::vector<Call> calls_;
};

// out.col(i) = J_j v.col(i) for particle j's m columns i, with J_j the stored D x D Jacobian. Plain
// fixed-size loops: Eigen's dynamic-size product costs ~20x the 8 flops of a 2 x 2 block.
template <int D>
void apply_stored(const RecordingScore::Call& call, ConstMatrixRef v, MatrixRef out) {
  const Eigen::Index n = call.x.cols(), m = v.cols() / n;
  for (Eigen::Index j = 0; j < n; ++j) {
    const double* J = call.jacobians.data() + j * D * D;  // column-major D x D
    for (Eigen::Index i = j * m; i < (j + 1) * m; ++i) {
      const double* in = &v.coeffRef(0, i);
      double* result = &out.coeffRef(0, i);
      for (int r = 0; r < D; ++r) {
        double sum = 0.0;
        for (int k = 0; k < D; ++k) sum += J[k * D + r] * in[k];
        result[r] = sum;
      }
    }
  }
}

// Replays the recorded calls in order: the k-th evaluation on tangents V returns
// J_s(x_k) V, particle by particle (m = V.cols() / n tangent columns per particle).
class TangentScore final : public ScoreModel {
 public:
  TangentScore(const ScoreModel& base, const std::vector<RecordingScore::Call>& calls)
      : base_(base), calls_(calls) {}
  int dim() const override { return base_.dim(); }

 protected:
  void compute(const NoiseLevel& level, ConstMatrixRef v, MatrixRef out) const override {
    require(next_ < calls_.size(), "tangent propagation: the step made more score calls than recorded");
    const RecordingScore::Call& call = calls_[next_++];
    require(call.level.abar() == level.abar() && call.level.one_minus_abar() == level.one_minus_abar(),
            "tangent propagation: the step's score calls changed level between primal and tangent passes");
    if (call.jacobians.size() == 0) {
      base_.jacobian_apply(call.level, call.x, v, out);
      return;
    }
    switch (call.x.rows()) {
      case 1: return apply_stored<1>(call, v, out);
      case 2: return apply_stored<2>(call, v, out);
      case 3: return apply_stored<3>(call, v, out);
      default: return apply_stored<4>(call, v, out);
    }
  }

 private:
  const ScoreModel& base_;
  const std::vector<RecordingScore::Call>& calls_;
  mutable std::size_t next_ = 0;
};

bool same_bits(ConstMatrixRef a, ConstMatrixRef b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  for (Eigen::Index j = 0; j < a.cols(); ++j)
    if (std::memcmp(a.col(j).data(), b.col(j).data(), sizeof(double) * static_cast<std::size_t>(a.rows())) != 0)
      return false;
  return true;
}

// Hands a linear step's one score call (at the state x, by the definition of a linear score
// step) the score computed together with its log-determinant.
class PrecomputedScore final : public ScoreModel {
 public:
  PrecomputedScore(const ScoreModel& base, const NoiseLevel& level, const Matrix& x, const Matrix& score)
      : base_(base), level_(level), x_(x), score_(score) {}
  int dim() const override { return base_.dim(); }

 protected:
  void compute(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const override {
    require(!used_ && level.abar() == level_.abar() && level.one_minus_abar() == level_.one_minus_abar() &&
                same_bits(x, x_),
            "change of variables: a linear score step evaluated the score other than once at its state");
    used_ = true;
    out = score_;
  }

 private:
  const ScoreModel& base_;
  const NoiseLevel& level_;
  const Matrix& x_;
  const Matrix& score_;
  mutable bool used_ = false;
};

void push_block_linear(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score, int stop_index,
                       Matrix& x, Vector& log_det) {
  SamplerState state;
  const int total = grid.steps() - stop_index;
  Vector step_log_det(x.cols());
  Matrix score_at_x(x.rows(), x.cols()), x_before(x.rows(), x.cols());
  for (int t = grid.steps(); t > stop_index; --t) {
    const StepContext context{grid, t, t == stop_index + 1, total};
    const LinearScoreStep form = *sampler.linear_score_step(context);
    const NoiseLevel level = grid.level(t);
    score.evaluate_with_log_abs_det_linear_step(level, x, form.state_coefficient, form.score_coefficient, score_at_x,
                                                step_log_det);
    log_det += step_log_det;
    x_before = x;
    const PrecomputedScore precomputed(score, level, x_before, score_at_x);
    sampler.step(context, precomputed, {}, x, state);
  }
}

void push_block_tangent(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score, int stop_index,
                        Matrix& x, Vector& log_det) {
  const Eigen::Index d = x.rows();
  const Eigen::Index n = x.cols();
  Matrix tangent(d, n * d);  // particle j owns columns [j d, (j+1) d): D_j = dY/dY_T
  for (Eigen::Index j = 0; j < n; ++j) tangent.middleCols(j * d, d).setIdentity();
  const Matrix identities = tangent;
  SamplerState state, tangent_state;
  const int total = grid.steps() - stop_index;
  for (int t = grid.steps(); t > stop_index; --t) {
    const StepContext context{grid, t, t == stop_index + 1, total};
    const RecordingScore recording(score, identities);
    sampler.step(context, recording, {}, x, state);
    const TangentScore tangent_score(score, recording.calls());
    sampler.step(context, tangent_score, {}, tangent, tangent_state);
  }
  for (Eigen::Index j = 0; j < n; ++j) {
    const Eigen::PartialPivLU<Matrix> lu(tangent.middleCols(j * d, d));
    log_det(j) = lu.matrixLU().diagonal().array().abs().log().sum();
  }
}

}  // namespace

FlowOutput push_forward_with_log_det(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score,
                                     ConstMatrixRef y_T, int stop_index, int threads, Eigen::Index block_size,
                                     FlowJacobianMethod method) {
  require(sampler.is_deterministic(), "change of variables: sampler '" + sampler.name() +
                                          "' is stochastic; its output law has no flow-map density");
  require(score.has_jacobian(), "change of variables: the score model provides no Jacobian");
  require(stop_index >= 0 && stop_index < grid.steps(), "change of variables: stop_index = " +
                                                            std::to_string(stop_index) + " must lie in [0, T)");
  require(block_size >= 1, "change of variables: block_size must be >= 1");
  const StepContext first{grid, grid.steps(), grid.steps() == stop_index + 1, grid.steps() - stop_index};
  // One-evaluation linear steps multiply per-step determinants; everything else goes through
  // tangents.
  const bool linear = method == FlowJacobianMethod::kAutomatic && sampler.linear_score_step(first).has_value();

  const Eigen::Index n = y_T.cols();
  FlowOutput out{Matrix(y_T.rows(), n), Vector::Zero(n)};
  const Eigen::Index blocks = (n + block_size - 1) / block_size;
  const int thread_count = resolve_threads(threads);
#pragma omp parallel for schedule(dynamic, 1) num_threads(thread_count)
  for (Eigen::Index b = 0; b < blocks; ++b) {
    const Eigen::Index begin = b * block_size;
    const Eigen::Index count = std::min(block_size, n - begin);
    Matrix x = y_T.middleCols(begin, count);
    Vector log_det = Vector::Zero(count);
    if (linear) {
      push_block_linear(sampler, grid, score, stop_index, x, log_det);
    } else {
      push_block_tangent(sampler, grid, score, stop_index, x, log_det);
    }
    out.y.middleCols(begin, count) = x;
    out.log_abs_det.segment(begin, count) = log_det;
  }
  return out;
}

}  // namespace dmconv
