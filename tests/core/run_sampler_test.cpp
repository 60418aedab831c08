// The run loop (core/run_sampler): option validation, dimension checks, and that a run is
// initial_state + run_block per particle block, with the noise of step t drawn from stream
// (kStepNoise, t, k) of each particle.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/run_sampler.hpp"
#include "samplers/registry.hpp"
#include "schedules/theory_schedule.hpp"
#include "targets/gaussian.hpp"
#include "targets/registry.hpp"

namespace dmconv {
namespace {

// Throws InvalidArgument whose message contains `needle`.
template <class F>
void expect_invalid(F f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no InvalidArgument thrown; expected one mentioning '" << needle << "'";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(RunOptions, ValidateRejectsBadOptionsNamingThem) {
  const TimeGrid grid = TheorySchedule(2.0, 6.0).grid(32);
  const RunOptions good;
  EXPECT_NO_THROW(good.validate(grid));
  auto with = [&](auto change) {
    RunOptions o;
    change(o);
    return [o, &grid] { o.validate(grid); };
  };
  expect_invalid(with([](RunOptions& o) { o.particles = 0; }), "particles");
  expect_invalid(with([](RunOptions& o) { o.particles = -5; }), "particles");
  expect_invalid(with([](RunOptions& o) { o.stop_index = 2; }), "stop_index");
  expect_invalid(with([](RunOptions& o) { o.stop_index = -1; }), "stop_index");
  expect_invalid(with([](RunOptions& o) { o.threads = -1; }), "threads");
  expect_invalid(with([](RunOptions& o) { o.block_size = 0; }), "block_size");
  // A one-step grid cannot run from Y_T to Y_1 (stop_index 1 needs T >= 2); to Y_0 it can.
  const TimeGrid one_step = TimeGrid::from_betas({0.5});
  RunOptions to_y1;
  expect_invalid([&] { to_y1.validate(one_step); }, "T = 1");
  RunOptions to_y0;
  to_y0.stop_index = 0;
  EXPECT_NO_THROW(to_y0.validate(one_step));
}

TEST(RunSampler, RejectsBadOptionsAndMismatchedDimensionsBeforeWork) {
  const auto target = target_registry().make_example("gaussian_mixture");  // d = 2
  const GaussianTarget other(GaussianComponent::isotropic(Vector::Zero(3), 1.0, "test"));  // d = 3
  const ExactScore wrong_score(other);
  const ExactScore score(*target);
  const auto sampler = sampler_registry().make_example("ddpm");
  const TimeGrid grid = TheorySchedule(2.0, 6.0).grid(32);
  RunOptions o;
  o.particles = 10;
  expect_invalid([&] { run_sampler(*sampler, grid, wrong_score, *target, o); }, "dimension");
  EXPECT_EQ(wrong_score.particle_evaluations(), 0u);
  o.block_size = 0;
  expect_invalid([&] { run_sampler(*sampler, grid, score, *target, o); }, "block_size");
  EXPECT_EQ(score.particle_evaluations(), 0u);
}

// run_sampler = initial_state + run_block on each block, with noise of step t, injection k
// from stream (particle, kStepNoise t, k): rebuilt here by hand for one particle, step by step,
// for a two-injection sampler, with both initialisations.
TEST(RunSampler, EqualsInitialStatePlusStepsWithPerStepStreams) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const ExactScore score(*target);
  const auto sampler = sampler_registry().make_example("acc_sde_a");
  const TimeGrid grid = TheorySchedule(2.0, 6.0).grid(32);
  for (Initialisation init : {Initialisation::kExactMarginal, Initialisation::kStandardNormal}) {
    RunOptions o;
    o.seed = 5;
    o.run = 2;
    o.particles = 4;
    o.first_particle = 1000;
    o.threads = 1;
    o.initialisation = init;
    const RunResult result = run_sampler(*sampler, grid, score, *target, o);
    const RandomStreams streams(5, 2);
    for (Eigen::Index j = 0; j < o.particles; ++j) {
      const std::uint64_t particle = 1000 + static_cast<std::uint64_t>(j);
      Matrix x(2, 1);
      if (init == Initialisation::kExactMarginal) {
        target->sample(grid.level(32), streams, particle, StreamTag(StreamPurpose::kInitialState, 0), x);
      } else {
        streams.normals(particle, StreamTag(StreamPurpose::kInitialState, 0), x.data(), 2);
      }
      SamplerState state;
      for (int t = 32; t >= 2; --t) {
        std::vector<Matrix> noise(2, Matrix(2, 1));
        for (std::uint64_t k = 0; k < 2; ++k)
          streams.normals(particle, StreamTag(StreamPurpose::kStepNoise, static_cast<std::uint64_t>(t), k),
                          noise[k].data(), 2);
        sampler->step(StepContext{grid, t, t == 2, 31}, score, noise, x, state);
      }
      EXPECT_TRUE(result.samples.col(j) == x.col(0)) << "particle " << j;
    }
  }
}

// A run split over R parts (RunOptions::split, what MPI ranks do): part p computes its slice, and
// share() here fills the other parts' columns from independent unsplit runs of those slices
// (first_particle), standing in for the gather. The result must be the unsplit run, bit for bit,
// for every part -- which holds only if part p's slice is computed from the global particle index.
class SlicesFromUnsplitRuns final : public ParticleSplit {
 public:
  SlicesFromUnsplitRuns(int parts, int part, std::function<Matrix(Eigen::Index, Eigen::Index)> slice)
      : parts_(parts), part_(part), slice_(std::move(slice)) {}
  int parts() const override { return parts_; }
  int part() const override { return part_; }
  void share(Matrix& samples, const std::vector<Eigen::Index>& offsets) const override {
    ++calls;
    for (int p = 0; p < parts_; ++p) {
      const Eigen::Index lo = offsets[static_cast<std::size_t>(p)], hi = offsets[static_cast<std::size_t>(p) + 1];
      if (p != part_ && hi > lo) samples.middleCols(lo, hi - lo) = slice_(lo, hi - lo);
    }
  }
  mutable int calls = 0;

 private:
  int parts_, part_;
  std::function<Matrix(Eigen::Index, Eigen::Index)> slice_;
};

TEST(RunSampler, SplitRunGathersTheUnsplitSamplesBitForBit) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const ExactScore score(*target);
  const TimeGrid grid = TheorySchedule(2.0, 6.0).grid(32);
  for (const char* name : {"ddpm", "ddim"}) {
    const auto sampler = sampler_registry().make_example(name);
    RunOptions options;
    options.seed = 11;
    options.run = 3;
    options.particles = 1001;
    options.block_size = 64;
    const Matrix whole = run_sampler(*sampler, grid, score, *target, options).samples;
    auto slice = [&](Eigen::Index first, Eigen::Index count) {
      RunOptions part = options;
      part.first_particle = static_cast<std::uint64_t>(first);
      part.particles = count;
      return run_sampler(*sampler, grid, score, *target, part).samples;
    };
    for (int parts : {2, 3, 7}) {
      for (int p = 0; p < parts; ++p) {
        const SlicesFromUnsplitRuns split(parts, p, slice);
        RunOptions split_options = options;
        split_options.split = &split;
        const Matrix gathered = run_sampler(*sampler, grid, score, *target, split_options).samples;
        EXPECT_EQ(split.calls, 1);
        ASSERT_EQ(gathered.cols(), whole.cols());
        EXPECT_EQ(std::memcmp(gathered.data(), whole.data(), sizeof(double) * static_cast<std::size_t>(whole.size())), 0)
            << name << ": part " << p << " of " << parts;
      }
    }
  }
}

TEST(RunSampler, SplitOffsetsAreContiguousAndBalanced) {
  EXPECT_EQ(split_offsets(10, 3), (std::vector<Eigen::Index>{0, 4, 7, 10}));
  EXPECT_EQ(split_offsets(2, 4), (std::vector<Eigen::Index>{0, 1, 2, 2, 2}));
  EXPECT_EQ(split_offsets(9, 1), (std::vector<Eigen::Index>{0, 9}));
  expect_invalid([] { split_offsets(9, 0); }, "parts = 0");
}

}  // namespace
}  // namespace dmconv
