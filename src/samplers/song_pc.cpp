#include "samplers/song_pc.hpp"

#include <cmath>
#include <sstream>

#include "core/error.hpp"
#include "core/params.hpp"
#include "samplers/ddim.hpp"
#include "samplers/ddpm.hpp"
#include "samplers/reverse_diffusion.hpp"

namespace dmconv::samplers {
namespace {

[[noreturn]] void bad(const std::string& key, const std::string& value, const std::string& rule) {
  throw ParameterError("sampler 'song_pc'", key, value, rule);
}

}  // namespace

SongPredictorCorrector::SongPredictorCorrector(Options options) : options_(std::move(options)) {
  if (options_.corrector_steps < 0 || options_.corrector_steps > kMaxCorrectorSteps)
    bad("corrector_steps", std::to_string(options_.corrector_steps),
        "must be an integer in [0, " + std::to_string(kMaxCorrectorSteps) + "]");
  if (!std::isfinite(options_.snr) || options_.snr <= 0.0)
    bad("snr", shortest(options_.snr), "must be finite and > 0 (the signal-to-noise ratio r)");
  if (!std::isfinite(options_.corrector_step) || options_.corrector_step < 0.0)
    bad("corrector_step", shortest(options_.corrector_step), "must be finite and >= 0 (0 = the SNR step rule)");
  corrector_steps_ = static_cast<int>(options_.corrector_steps);
  if (options_.predictor == "ddpm") {
    predictor_ = std::make_unique<Ddpm>(Ddpm::Variant::kNoiseInside);
  } else if (options_.predictor == "ddpm_noise_outside") {
    predictor_ = std::make_unique<Ddpm>(Ddpm::Variant::kNoiseOutside);
  } else if (options_.predictor == "ddim") {
    predictor_ = std::make_unique<Ddim>();
  } else if (options_.predictor == "reverse_diffusion") {
    predictor_ = std::make_unique<ReverseDiffusion>();
  } else {
    bad("predictor", "\"" + options_.predictor + "\"",
        "must be one of \"ddpm\", \"ddpm_noise_outside\", \"ddim\", \"reverse_diffusion\"");
  }
  predictor_noise_ = predictor_->noise_injections();
}

void SongPredictorCorrector::step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise,
                                  Matrix& x, SamplerState& state) const {
  const auto p = static_cast<std::size_t>(predictor_noise_);
  predictor_->step(context, score, noise.first(p), x, state);
  if (!runs_corrector(context) || corrector_steps_ == 0) return;
  const NoiseLevel& level = context.grid.level(context.t - 1);
  const double alpha = context.grid.alpha(context.t);
  const double r = options_.snr;
  Matrix g(x.rows(), x.cols());
  Eigen::RowVectorXd eps(x.cols());
  for (int j = 0; j < corrector_steps_; ++j) {
    const Matrix& z = noise[p + static_cast<std::size_t>(j)];
    score.evaluate(level, x, g);
    if (options_.corrector_step > 0.0) {
      eps.setConstant(options_.corrector_step);
    } else {
      for (Eigen::Index i = 0; i < x.cols(); ++i) {
        const double ratio = r * z.col(i).norm() / g.col(i).norm();
        eps(i) = 2.0 * alpha * ratio * ratio;
      }
    }
    for (Eigen::Index i = 0; i < x.cols(); ++i)
      x.col(i) += eps(i) * g.col(i) + std::sqrt(2.0 * eps(i)) * z.col(i);
  }
}

}  // namespace dmconv::samplers
