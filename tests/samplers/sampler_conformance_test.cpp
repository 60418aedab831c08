// Conformance suite over the sampler registry: every name in sampler_registry() is tested,
// so a newly registered sampler is covered automatically (docs/design.md §8).
//
// Target: the registry's example 2-D three-component Gaussian mixture (non-Gaussian score);
// grid: theory schedule c0 = 2, c1 = 6, T = 32 (docs/theory.md §2); 300 particles.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "core/run_sampler.hpp"
#include "samplers/registry.hpp"
#include "schedules/theory_schedule.hpp"
#include "targets/registry.hpp"

namespace dmconv {
namespace {

std::vector<std::string> registered_samplers() {
  std::vector<std::string> names;
  for (const auto& entry : sampler_registry().entries()) names.push_back(entry.name);
  return names;
}

constexpr int kSteps = 32;
constexpr Eigen::Index kParticles = 300;

Matrix normals(Eigen::Index rows, Eigen::Index cols, std::uint64_t index) {
  Matrix out(rows, cols);  // column j: stream (particle j, kTest index), drawn serially
  for (Eigen::Index j = 0; j < cols; ++j)
    RandomStreams(2024, 0).normals(static_cast<std::uint64_t>(j), StreamTag(StreamPurpose::kTest, index),
                                   out.col(j).data(), rows);
  return out;
}

class SamplerConformance : public ::testing::TestWithParam<std::string> {
 protected:
  SamplerConformance()
      : sampler_(sampler_registry().make_example(GetParam())),
        target_(target_registry().make_example("gaussian_mixture")),
        score_(*target_),
        grid_(TheorySchedule(2.0, 6.0).grid(kSteps)) {}

  RunOptions options() const {
    RunOptions o;
    o.seed = 17;
    o.run = 3;
    o.particles = kParticles;
    o.threads = 2;
    o.block_size = 512;
    return o;
  }
  RunResult run(const RunOptions& o) const { return run_sampler(*sampler_, grid_, score_, *target_, o); }

  // Steps t = T..1 from x with a fixed sequence of noise matrices (or the given span maker).
  template <class NoiseFor>
  Matrix trajectory(Matrix x, NoiseFor noise_for) const {
    SamplerState state;
    for (int t = kSteps; t >= 1; --t) {
      const std::vector<Matrix> noise = noise_for(t, x.rows(), x.cols());
      sampler_->step(StepContext{grid_, t, t == 1, kSteps}, score_, noise, x, state);
    }
    return x;
  }

  std::unique_ptr<Sampler> sampler_;
  std::unique_ptr<Target> target_;
  ExactScore score_;
  TimeGrid grid_;
};

TEST_P(SamplerConformance, DeclaresItsNameAndCounts) {
  EXPECT_EQ(sampler_->name(), GetParam());
  EXPECT_GE(sampler_->noise_injections(), 0);
  EXPECT_GE(sampler_->score_evaluations_per_step(), 1);
  EXPECT_EQ(sampler_->is_deterministic(), sampler_->noise_injections() == 0);
  // Per-step counts (Sampler::noise_injections_at, score_evaluations_at): within the declared
  // maximum, and some step uses noise iff the sampler is stochastic.
  int most = 0;
  for (int t = kSteps; t >= 1; --t) {
    const StepContext context{grid_, t, t == 1, kSteps};
    const int used = sampler_->noise_injections_at(context);
    EXPECT_GE(used, 0) << "t=" << t;
    EXPECT_LE(used, sampler_->noise_injections()) << "t=" << t;
    EXPECT_GE(sampler_->score_evaluations_at(context), 1) << "t=" << t;
    most = std::max(most, used);
  }
  EXPECT_EQ(most > 0, !sampler_->is_deterministic());
}

// Deterministic samplers must not read the noise: a trajectory with garbage (NaN) noise
// matrices, or with zero matrices, is bitwise the one with no noise at all.
// Stochastic samplers: every injection changes the output at t = T and t = 2, and the same
// noise gives bitwise the same output.
TEST_P(SamplerConformance, NoiseIsUsedExactlyWhenDeclared) {
  const Eigen::Index d = target_->dim(), n = 8;
  const Matrix x = normals(d, n, 1);
  if (sampler_->is_deterministic()) {
    const Matrix none = trajectory(x, [](int, Eigen::Index, Eigen::Index) { return std::vector<Matrix>{}; });
    const Matrix zeros = trajectory(x, [](int, Eigen::Index r, Eigen::Index c) {
      return std::vector<Matrix>(2, Matrix::Zero(r, c));
    });
    const Matrix garbage = trajectory(x, [](int, Eigen::Index r, Eigen::Index c) {
      return std::vector<Matrix>(3, Matrix::Constant(r, c, std::numeric_limits<double>::quiet_NaN()));
    });
    EXPECT_TRUE(none.allFinite());
    EXPECT_TRUE(none == zeros);
    EXPECT_TRUE(none == garbage);
    return;
  }
  for (int t : {kSteps, 2}) {
    // The step's own count (pmm_pc uses noise at its first step only).
    const StepContext context{grid_, t, false, kSteps - 1};
    const auto K = static_cast<std::size_t>(sampler_->noise_injections_at(context));
    std::vector<Matrix> noise;
    for (std::size_t k = 0; k < K; ++k) noise.push_back(normals(d, n, 10 + k));
    auto step = [&](const std::vector<Matrix>& z) {
      Matrix y = x;
      SamplerState state;
      sampler_->step(context, score_, z, y, state);
      return y;
    };
    const Matrix base = step(noise);
    EXPECT_TRUE(base == step(noise)) << "t=" << t;
    // Matrices beyond noise_injections_at(context) are not read.
    std::vector<Matrix> padded = noise;
    padded.push_back(Matrix::Constant(d, n, std::numeric_limits<double>::quiet_NaN()));
    EXPECT_TRUE(step(padded) == base) << "t=" << t;
    for (std::size_t k = 0; k < K; ++k) {
      std::vector<Matrix> other = noise;
      other[k] = normals(d, n, 20 + k);
      const Matrix changed = step(other);
      // Every column's noise differs, so every column must move.
      for (Eigen::Index j = 0; j < n; ++j)
        EXPECT_FALSE(changed.col(j) == base.col(j)) << "t=" << t << " injection " << k << " column " << j;
    }
  }
}

// Each particle's arithmetic is independent of the other columns (bitwise): a trajectory of
// 9 particles equals the 9 single-particle trajectories. This is what makes run_sampler's
// output independent of block size and thread count.
TEST_P(SamplerConformance, StepsTreatParticlesIndependently) {
  const Eigen::Index d = target_->dim(), n = 9;
  const Matrix x = normals(d, n, 2);
  const auto K = static_cast<std::size_t>(sampler_->noise_injections());
  std::vector<std::vector<Matrix>> noise(kSteps + 1);
  for (int t = 1; t <= kSteps; ++t)
    for (std::size_t k = 0; k < K; ++k) noise[static_cast<std::size_t>(t)].push_back(normals(d, n, 100 * t + k));
  const Matrix all = trajectory(x, [&](int t, Eigen::Index, Eigen::Index) { return noise[static_cast<std::size_t>(t)]; });
  for (Eigen::Index j = 0; j < n; ++j) {
    const Matrix one = trajectory(x.col(j), [&](int t, Eigen::Index, Eigen::Index) {
      std::vector<Matrix> column;
      for (const Matrix& z : noise[static_cast<std::size_t>(t)]) column.push_back(z.col(j));
      return column;
    });
    EXPECT_TRUE(one.col(0) == all.col(j)) << "particle " << j;
  }
}

// docs/theory.md §9.3: a cache that does not belong to the immediately preceding step (left over
// from another t, or from another run) must not be used: the step equals the fresh-state step.
TEST_P(SamplerConformance, StaleCacheIsNotUsed) {
  const Eigen::Index d = target_->dim(), n = 6;
  const Matrix x = normals(d, n, 3);
  const auto K = static_cast<std::size_t>(sampler_->noise_injections());
  std::vector<Matrix> noise;
  for (std::size_t k = 0; k < K; ++k) noise.push_back(normals(d, n, 30 + k));
  for (int t : {kSteps - 1, 10, 2}) {
    const StepContext context{grid_, t, false, kSteps - 1};
    Matrix fresh = x;
    SamplerState empty;
    sampler_->step(context, score_, noise, fresh, empty);
    for (int stale_t : {t + 2, t, t - 1, kSteps + 5}) {
      SamplerState stale;
      stale.previous_t = stale_t;
      stale.previous_output = Matrix::Constant(d, n, std::numeric_limits<double>::quiet_NaN());
      Matrix y = x;
      sampler_->step(context, score_, noise, y, stale);
      EXPECT_TRUE(y == fresh) << "t=" << t << " with a cache from t=" << stale_t;
    }
  }
}

// NFE (docs/theory.md §9.2): the evaluations counted by the ScoreModel over a run to Y_1 equal the
// declared sum of score_evaluations_at over the steps T .. 2 per particle (for most samplers
// score_evaluations_per_step() * (T - 1)). (A run to Y_0 may use fewer on the step to the data
// level, e.g. DPM-Solver-2's first-order last step, never more.)
TEST_P(SamplerConformance, NfeEqualsDeclaredEvaluationsPerStep) {
  RunOptions o = options();
  o.threads = 2;
  o.block_size = 64;
  score_.reset_count();
  const RunResult to_y1 = run(o);
  const double declared = declared_nfe(*sampler_, grid_, kSteps, 1);
  double summed = 0.0;
  for (int t = kSteps; t >= 2; --t) summed += sampler_->score_evaluations_at(StepContext{grid_, t, t == 2, kSteps - 1});
  EXPECT_EQ(declared, summed);
  EXPECT_GE(declared, static_cast<double>(sampler_->score_evaluations_per_step() * (kSteps - 1)));
  EXPECT_EQ(to_y1.nfe_per_particle, declared);
  EXPECT_EQ(static_cast<double>(score_.particle_evaluations()), declared * kParticles);
  o.stop_index = 0;
  const RunResult to_y0 = run(o);
  EXPECT_LE(to_y0.nfe_per_particle, declared_nfe(*sampler_, grid_, kSteps, 0));
  EXPECT_GE(to_y0.nfe_per_particle, declared + 1);
}

// run_sampler's output is bitwise the same for 1 or 2 threads and block sizes 1, 7, 512
// (300, 43 and 1 blocks); the reference is one thread, one block.
TEST_P(SamplerConformance, OutputIsIndependentOfThreadsAndBlockSize) {
  RunOptions single = options();
  single.threads = 1;
  single.block_size = 512;
  const RunResult reference = run(single);
  ASSERT_EQ(reference.status, RunStatus::kOk) << reference.message;
  ASSERT_TRUE(reference.samples.allFinite());
  for (int threads : {1, 2}) {
    for (Eigen::Index block : {1, 7, 512}) {
      if (threads == 1 && block == 512) continue;  // the reference
      RunOptions o = options();
      o.threads = threads;
      o.block_size = block;
      const RunResult result = run(o);
      EXPECT_EQ(result.status, RunStatus::kOk);
      EXPECT_TRUE(result.samples == reference.samples) << "threads=" << threads << " block_size=" << block;
    }
  }
}

// Sharding: particles [0, 300) in one run equal [0, 150) and [150, 300) in two runs (bitwise).
TEST_P(SamplerConformance, ShardedRunsConcatenate) {
  const RunResult whole = run(options());
  RunOptions first = options(), second = options();
  first.particles = second.particles = kParticles / 2;
  second.first_particle = kParticles / 2;
  second.block_size = first.block_size = 7;  // and a different blocking from the whole run
  const RunResult a = run(first), b = run(second);
  EXPECT_TRUE(a.samples == whole.samples.leftCols(kParticles / 2));
  EXPECT_TRUE(b.samples == whole.samples.rightCols(kParticles / 2));
}

// Runs are reproducible (the multistep cache is reset between runs), and the seed matters.
TEST_P(SamplerConformance, RepeatedRunsAreIdenticalAndSeedsMatter) {
  const RunResult first = run(options());
  const RunResult again = run(options());
  EXPECT_TRUE(first.samples == again.samples);
  RunOptions other = options();
  other.seed = 18;
  const RunResult reseeded = run(other);
  for (Eigen::Index j = 0; j < kParticles; ++j) EXPECT_FALSE(reseeded.samples.col(j) == first.samples.col(j)) << j;
}

// A score that returns NaN (here: at one grid level, for the particles whose first
// coordinate is positive there) makes the run end with status kNonFinite and a message, not
// a crash; the other particles are unaffected.
class NanScore final : public ScoreModel {
 public:
  NanScore(const Target& target, const NoiseLevel& poisoned) : target_(target), poisoned_(poisoned) {}
  int dim() const override { return target_.dim(); }

 protected:
  void compute(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const override {
    target_.score(level, x, out);
    if (level.abar() != poisoned_.abar()) return;
    for (Eigen::Index j = 0; j < x.cols(); ++j)
      if (x(0, j) > 0.0) out.col(j).setConstant(std::numeric_limits<double>::quiet_NaN());
  }

 private:
  const Target& target_;
  NoiseLevel poisoned_;
};

TEST_P(SamplerConformance, NonFiniteScoreIsReported) {
  const NanScore nan_score(*target_, grid_.level(kSteps / 2));
  RunOptions o = options();
  o.threads = 2;
  o.block_size = 16;
  RunResult result;
  ASSERT_NO_THROW(result = run_sampler(*sampler_, grid_, nan_score, *target_, o));
  EXPECT_EQ(result.status, RunStatus::kNonFinite);
  EXPECT_EQ(to_string(result.status), "non_finite");
  EXPECT_NE(result.message.find("non-finite"), std::string::npos) << result.message;
  const auto bad = kParticles - result.samples.array().isFinite().colwise().all().count();
  EXPECT_EQ(result.non_finite_particles, bad);
  EXPECT_GT(bad, 0);
  EXPECT_LT(bad, kParticles);  // particles with x_1 <= 0 at the poisoned level are unaffected
}

INSTANTIATE_TEST_SUITE_P(Registry, SamplerConformance, ::testing::ValuesIn(registered_samplers()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) { return param_info.param; });

}  // namespace
}  // namespace dmconv
