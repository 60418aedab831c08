#include "samplers/pmm_pc.hpp"

#include <cmath>
#include <sstream>

#include "core/error.hpp"
#include "core/params.hpp"
#include "samplers/accelerated_ode_noise.hpp"
#include "samplers/ddim.hpp"
#include "samplers/dpm_solver_2.hpp"

namespace dmconv::samplers {
namespace {

[[noreturn]] void bad(const std::string& key, double value, const std::string& rule) {
  throw ParameterError("sampler 'pmm_pc'", key, shortest(value), rule);
}

// The predictor's score, norm-truncated at C sqrt(d) / sigma_t; evaluations count on the inner
// model (the run's NFE counter).
class LevelTruncatedScore final : public ScoreModel {
 public:
  LevelTruncatedScore(const ScoreModel& inner, double scale) : inner_(inner), scale_(scale) {}
  int dim() const override { return inner_.dim(); }

 protected:
  void compute(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const override {
    inner_.evaluate(level, x, out);
    Matrix s = out;
    truncate_score_norms(scale_ * std::sqrt(static_cast<double>(inner_.dim())) / level.sigma(), s);
    out = s;
  }

 private:
  const ScoreModel& inner_;
  double scale_;
};

}  // namespace

void truncate_score_norms(double max_norm, Matrix& s) {
  for (Eigen::Index j = 0; j < s.cols(); ++j) {
    const double norm = s.col(j).norm();
    if (norm > max_norm) s.col(j) *= max_norm / norm;
  }
}

PmmPredictorCorrector::PmmPredictorCorrector(Options options) : options_(std::move(options)) {
  if (!std::isfinite(options_.langevin_time) || options_.langevin_time < 0.0)
    bad("langevin_time", options_.langevin_time, "must be finite and >= 0 (the Langevin time T2)");
  if (!std::isfinite(options_.langevin_step) || options_.langevin_step <= 0.0)
    bad("langevin_step", options_.langevin_step, "must be finite and > 0 (the ULA step gamma)");
  if (!std::isfinite(options_.truncation) || options_.truncation < 0.0)
    bad("truncation", options_.truncation, "must be finite and >= 0 (score norm bound M; 0 = no truncation)");
  if (!std::isfinite(options_.predictor_truncation) || options_.predictor_truncation < 0.0)
    bad("predictor_truncation", options_.predictor_truncation,
        "must be finite and >= 0 (bound C sqrt(d)/sigma_t on the predictor's score norm; 0 = no truncation)");
  const double k = std::round(options_.langevin_time / options_.langevin_step);
  if (!(k <= static_cast<double>(kMaxLangevinIterations)))
    bad("langevin_time", options_.langevin_time,
        "langevin_time / langevin_step = " + std::to_string(k) + " Langevin iterations; at most " +
            std::to_string(kMaxLangevinIterations) + " are allowed");
  iterations_ = static_cast<int>(k);
  if (options_.integrator == "ddim") {
    predictor_ = std::make_unique<Ddim>();
  } else if (options_.integrator == "acc_ode_noise") {
    predictor_ = std::make_unique<AcceleratedOdeNoise>();
  } else if (options_.integrator == "dpm_solver_2") {
    predictor_ = std::make_unique<DpmSolver2>();
  } else {
    throw ParameterError("sampler 'pmm_pc'", "integrator", "\"" + options_.integrator + "\"",
                         "must be one of \"ddim\", \"acc_ode_noise\", \"dpm_solver_2\"");
  }
}

void PmmPredictorCorrector::correct(const NoiseLevel& level, const ScoreModel& score, std::span<const Matrix> noise,
                                    Matrix& x) const {
  require(noise.size() >= static_cast<std::size_t>(iterations_),
          "pmm_pc: the corrector needs " + std::to_string(iterations_) + " noise matrices, got " +
              std::to_string(noise.size()));
  const double gamma = options_.langevin_step;
  const double noise_scale = std::sqrt(2.0 * gamma);
  Matrix s(x.rows(), x.cols());
  for (int k = 0; k < iterations_; ++k) {
    score.evaluate(level, x, s);
    if (options_.truncation > 0.0) truncate_score_norms(options_.truncation, s);
    x += gamma * s + noise_scale * noise[static_cast<std::size_t>(k)];
  }
}

std::vector<StochasticScoreStep> PmmPredictorCorrector::stochastic_score_substeps(const StepContext& context) const {
  std::vector<StochasticScoreStep> predictor = predictor_->stochastic_score_substeps(context);
  if (predictor.empty() || (options_.truncation > 0.0 && iterations_ > 0) || options_.predictor_truncation > 0.0)
    return {};
  if (!is_first_step(context) || iterations_ == 0) return predictor;
  const double gamma = options_.langevin_step;
  std::vector<StochasticScoreStep> steps(static_cast<std::size_t>(iterations_),
                                         StochasticScoreStep{0.0, 1.0, gamma, 2.0 * gamma});
  steps.insert(steps.end(), predictor.begin(), predictor.end());
  return steps;
}

void PmmPredictorCorrector::step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise,
                                 Matrix& x, SamplerState& state) const {
  if (is_first_step(context) && iterations_ > 0) correct(context.grid.level(context.t), score, noise, x);
  if (options_.predictor_truncation > 0.0) {
    const LevelTruncatedScore truncated(score, options_.predictor_truncation);
    predictor_->step(context, truncated, {}, x, state);
  } else {
    predictor_->step(context, score, {}, x, state);
  }
}

}  // namespace dmconv::samplers
