#include "estimators/flow_density.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "core/parallel.hpp"

namespace dmconv {
namespace {

// Forwards to the sampler's real score model and remembers every evaluation point.
class RecordingScore final : public ScoreModel {
 public:
  struct Call {
    NoiseLevel level;
    Matrix x;
  };
  explicit RecordingScore(const ScoreModel& base) : base_(base) {}
  int dim() const override { return base_.dim(); }
  std::vector<Call>& calls() const { return calls_; }

 protected:
  void compute(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const override {
    base_.evaluate(level, x, out);
    calls_.push_back({level, x});
  }

 private:
  const ScoreModel& base_;
  mutable std::vector<Call> calls_;
};

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
    base_.jacobian_apply(call.level, call.x, v, out);
  }

 private:
  const ScoreModel& base_;
  const std::vector<RecordingScore::Call>& calls_;
  mutable std::size_t next_ = 0;
};

void push_block_linear(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score, int stop_index,
                       Matrix& x, Vector& log_det) {
  SamplerState state;
  const int total = grid.steps() - stop_index;
  Vector step_log_det(x.cols());
  for (int t = grid.steps(); t > stop_index; --t) {
    const StepContext context{grid, t, t == stop_index + 1, total};
    const LinearScoreStep form = *sampler.linear_score_step(context);
    score.log_abs_det_linear_step(grid.level(t), x, form.state_coefficient, form.score_coefficient, step_log_det);
    log_det += step_log_det;
    sampler.step(context, score, {}, x, state);
  }
}

void push_block_tangent(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score, int stop_index,
                        Matrix& x, Vector& log_det) {
  const Eigen::Index d = x.rows();
  const Eigen::Index n = x.cols();
  Matrix tangent(d, n * d);  // particle j owns columns [j d, (j+1) d): D_j = dY/dY_T
  for (Eigen::Index j = 0; j < n; ++j) tangent.middleCols(j * d, d).setIdentity();
  SamplerState state, tangent_state;
  const int total = grid.steps() - stop_index;
  for (int t = grid.steps(); t > stop_index; --t) {
    const StepContext context{grid, t, t == stop_index + 1, total};
    const RecordingScore recording(score);
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
