#include "samplers/unipc.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "samplers/parametrisations.hpp"

namespace dmconv::samplers {
namespace {

using Small = Eigen::Matrix<double, UniPc::kMaxOrder, 1>;
using SmallSquare = Eigen::Matrix<double, UniPc::kMaxOrder, UniPc::kMaxOrder>;

// The rho coefficients of one update of order q (UniP: predictor, UniC: corrector), from the
// ratios r_1..r_{q-1} (r_q = 1) and the step h > 0.
struct UpdateWeights {
  Small predictor = Small::Zero();  // rho^p_1..rho^p_{q-1}
  Small corrector = Small::Zero();  // rho^c_1..rho^c_q
};

UpdateWeights update_weights(double h, const Small& r, int q) {
  const double hh = -h, b_h = std::expm1(hh);
  Small b = Small::Zero();
  SmallSquare matrix = SmallSquare::Zero();
  double factorial = 1.0;
  for (int i = 1; i <= q; ++i) {
    b(i - 1) = hh * phi_function(i + 1, hh) * factorial / b_h;
    factorial *= (i + 1);
    for (int k = 0; k < q; ++k) matrix(i - 1, k) = std::pow(k + 1 == q ? 1.0 : r(k), i - 1);
  }
  UpdateWeights w;
  if (q == 2) w.predictor(0) = 0.5;
  if (q == 3) w.predictor.head(2) = matrix.topLeftCorner(2, 2).partialPivLu().solve(b.head(2));
  if (q == 1) {
    w.corrector(0) = 0.5;
  } else {
    w.corrector.head(q) = matrix.topLeftCorner(q, q).partialPivLu().solve(b.head(q));
  }
  return w;
}

}  // namespace

UniPc::UniPc(int order, bool lower_order_final) : order_(order), lower_order_final_(lower_order_final) {
  if (order < 1 || order > kMaxOrder)
    throw ParameterError("sampler 'unipc'", "order", std::to_string(order),
                         "must lie in [1, " + std::to_string(kMaxOrder) + "]");
}

void UniPc::step(const StepContext& context, const ScoreModel& score, std::span<const Matrix>, Matrix& x,
                 SamplerState& state) const {
  const TimeGrid& grid = context.grid;
  const int t = context.t;
  const NoiseLevel& now = grid.level(t);
  const Eigen::Index n = x.cols(), d = x.rows();
  Matrix model(d, n);
  score.evaluate(now, x, model);
  data_prediction_from_score(now, x, model);

  const bool cache_valid = state.previous_t == t + 1 && state.previous_output.rows() == d && n > 0 &&
                           state.previous_output.cols() % n == 0 && state.previous_output.cols() >= 2 * n;
  const int cached_models = cache_valid ? static_cast<int>(state.previous_output.cols() / n) - 1 : 0;
  auto cached_model = [&](int k) { return state.previous_output.middleCols(k * n, n); };  // m_{t+k}, k >= 1
  // Steps left in the run, this one included, not counting a final step to the data level: the
  // code reaches level 1 and then denoises (`denoise_to_zero`). The run starts at the top level T.
  const int stop = grid.steps() - context.total_steps;
  const int steps_left = lower_order_final_ ? t - std::max(stop, 1) : kMaxOrder;
  const NoiseLevel& to = grid.level(t - 1);

  // On the step to the data level the corrected x_1 is not used (Y_0 = m_1).
  if (cache_valid && !to.is_data()) {
    // UniC at level t: the previous step's update from t + 1, of the order it used.
    const int q = std::min({cached_models, order_, steps_left + 1});
    const NoiseLevel& from = grid.level(t + 1);
    const double h = now.lambda() - from.lambda();
    Small r = Small::Zero();
    for (int k = 1; k < q; ++k) r(k - 1) = (grid.level(t + 1 + k).lambda() - from.lambda()) / h;
    const UpdateWeights w = update_weights(h, r, q);
    const double step_weight = -now.sqrt_abar() * std::expm1(-h);  // -alpha_u B(h), bh2
    Matrix corrected = (now.sigma() / from.sigma()) * state.previous_output.leftCols(n) + step_weight * cached_model(1);
    for (int k = 1; k < q; ++k)
      corrected += (step_weight * w.corrector(k - 1) / r(k - 1)) * (cached_model(k + 1) - cached_model(1));
    corrected += (step_weight * w.corrector(q - 1)) * (model - cached_model(1));
    x = std::move(corrected);
  }

  const int models = std::min(cached_models + 1, order_);  // m_t and the newest cached ones
  const int q = std::min(models, steps_left);
  // The new cache: x^c_t, m_t, m_{t+1}, ... (the previous cache shifted by one output).
  Matrix next_cache(d, (1 + models) * n);
  next_cache.leftCols(n) = x;
  next_cache.middleCols(n, n) = model;
  for (int k = 1; k < models; ++k) next_cache.middleCols((k + 1) * n, n) = cached_model(k);

  if (to.is_data()) {
    x = model;
  } else {
    // UniP from t to t - 1.
    const double h = to.lambda() - now.lambda();
    Small r = Small::Zero();
    for (int k = 1; k < q; ++k) r(k - 1) = (grid.level(t + k).lambda() - now.lambda()) / h;
    const UpdateWeights w = update_weights(h, r, q);
    const double step_weight = -to.sqrt_abar() * std::expm1(-h);
    x = (to.sigma() / now.sigma()) * x + step_weight * model;
    for (int k = 1; k < q; ++k) x += (step_weight * w.predictor(k - 1) / r(k - 1)) * (cached_model(k) - model);
  }
  state.previous_output = std::move(next_cache);
  state.previous_t = t;
}

}  // namespace dmconv::samplers
