#include "core/run_sampler.hpp"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <vector>

#include "core/error.hpp"
#include "core/parallel.hpp"

namespace dmconv {

void RunOptions::validate(const TimeGrid& grid) const {
  std::ostringstream message;
  if (particles < 1) {
    message << "run options: particles = " << particles << " must be at least 1";
  } else if (stop_index != 0 && stop_index != 1) {
    message << "run options: stop_index = " << stop_index << " must be 1 (output Y_1) or 0 (Y_0)";
  } else if (grid.steps() < stop_index + 1) {
    message << "run options: the grid has T = " << grid.steps() << " steps; at least "
            << stop_index + 1 << " are needed to run to Y_" << stop_index;
  } else if (threads < 0) {
    message << "run options: threads = " << threads << " must be >= 0 (0 = OpenMP default)";
  } else if (block_size < 1) {
    message << "run options: block_size = " << block_size << " must be at least 1";
  } else {
    return;
  }
  throw InvalidArgument(message.str());
}

void initial_state(const Target& target, const TimeGrid& grid, Initialisation init,
                   const RandomStreams& streams, std::uint64_t first_particle, MatrixRef out) {
  const StreamTag tag(StreamPurpose::kInitialState, 0);
  if (init == Initialisation::kStandardNormal) {
    streams.fill_normals(first_particle, tag, out);
  } else {
    target.sample(grid.level(grid.steps()), streams, first_particle, tag, out);
  }
}

void run_block(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score,
               const RandomStreams& streams, std::uint64_t first_particle, int from_index,
               int stop_index, Matrix& x, int run_stop_index) {
  if (run_stop_index < 0) run_stop_index = stop_index;
  SamplerState state;
  std::vector<Matrix> noise(static_cast<std::size_t>(sampler.noise_injections()),
                            Matrix(x.rows(), x.cols()));
  const int total_steps = from_index - run_stop_index;
  for (int t = from_index; t > stop_index; --t) {
    const StepContext context{grid, t, t == run_stop_index + 1, total_steps};
    const auto used = static_cast<std::size_t>(sampler.noise_injections_at(context));
    require(used <= noise.size(), "run_block: sampler '" + sampler.name() + "' asks for " + std::to_string(used) +
                                      " noise matrices at t = " + std::to_string(t) + " but declares at most " +
                                      std::to_string(noise.size()));
    for (std::size_t k = 0; k < used; ++k) {
      streams.fill_normals(first_particle, StreamTag(StreamPurpose::kStepNoise, t, k), noise[k]);
    }
    sampler.step(context, score, std::span<const Matrix>(noise.data(), used), x, state);
  }
}

RunResult run_sampler(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score,
                      const Target& target, const RunOptions& options) {
  options.validate(grid);
  require(score.dim() == target.dim(), "run_sampler: score model dimension " +
                                           std::to_string(score.dim()) + " != target dimension " +
                                           std::to_string(target.dim()));
  const auto start = std::chrono::steady_clock::now();
  const RandomStreams streams(options.seed, options.run);
  const Eigen::Index n = options.particles;
  const Eigen::Index d = target.dim();
  // This process's particles: all, or its slice of a split run.
  const bool split = options.split != nullptr && options.split->parts() > 1;
  const std::vector<Eigen::Index> offsets = split ? split_offsets(n, options.split->parts()) : std::vector<Eigen::Index>{0, n};
  const Eigen::Index lo = offsets[static_cast<std::size_t>(split ? options.split->part() : 0)];
  const Eigen::Index hi = offsets[static_cast<std::size_t>(split ? options.split->part() + 1 : 1)];
  const Eigen::Index blocks = (hi - lo + options.block_size - 1) / options.block_size;
  const std::uint64_t evaluations_before = score.particle_evaluations();

  RunResult result;
  result.samples.resize(d, n);
  const int threads = resolve_threads(options.threads);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (Eigen::Index b = 0; b < blocks; ++b) {
    const Eigen::Index begin = lo + b * options.block_size;
    const Eigen::Index count = std::min(options.block_size, hi - begin);
    const std::uint64_t first = options.first_particle + static_cast<std::uint64_t>(begin);
    Matrix x(d, count);
    initial_state(target, grid, options.initialisation, streams, first, x);
    run_block(sampler, grid, score, streams, first, grid.steps(), options.stop_index, x);
    result.samples.middleCols(begin, count) = x;
  }

  if (split) options.split->share(result.samples, offsets);

  const Eigen::Array<bool, 1, Eigen::Dynamic> finite = result.samples.array().isFinite().colwise().all();
  result.non_finite_particles = n - finite.count();
  if (result.non_finite_particles > 0) {
    result.status = RunStatus::kNonFinite;
    result.message = std::to_string(result.non_finite_particles) + " of " + std::to_string(n) +
                     " particles became non-finite";
  }
  // Counted on this process's particles (all of them unless the run is split).
  result.nfe_per_particle = hi > lo ? static_cast<double>(score.particle_evaluations() - evaluations_before) /
                                          static_cast<double>(hi - lo)
                                    : 0.0;
  result.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::vector<Eigen::Index> split_offsets(Eigen::Index n, int parts) {
  require(parts >= 1, "split_offsets: parts = " + std::to_string(parts) + " must be at least 1");
  std::vector<Eigen::Index> offsets(static_cast<std::size_t>(parts) + 1, 0);
  for (int p = 0; p < parts; ++p)
    offsets[static_cast<std::size_t>(p) + 1] = offsets[static_cast<std::size_t>(p)] + n / parts + (p < n % parts ? 1 : 0);
  return offsets;
}

double declared_nfe(const Sampler& sampler, const TimeGrid& grid, int from_index, int stop_index) {
  double total = 0.0;
  for (int t = from_index; t > stop_index; --t)
    total += sampler.score_evaluations_at(StepContext{grid, t, t == stop_index + 1, from_index - stop_index});
  return total;
}

std::string to_string(RunStatus status) {
  switch (status) {
    case RunStatus::kOk:
      return "ok";
    case RunStatus::kNonFinite:
      return "non_finite";
  }
  return "unknown";
}

}  // namespace dmconv
