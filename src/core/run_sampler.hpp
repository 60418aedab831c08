// The one integration loop: walks a time grid from Y_T down to Y_1 (or Y_0).
//
//   Y_T ~ N(0, I)  or  Y_T ~ p_{X_T} exactly (target.sample at abar_T)
//   for t = T, ..., stop + 1:   Y_{t-1} = sampler.step(grid, t, s, Z_t, Y_t)
//
// Random numbers: particle j of run (seed, run) uses its own Philox streams; the noise of
// step t, injection k, is stream tag (kStepNoise, t, k). Particles are processed in column
// blocks, in parallel with OpenMP; since every column's arithmetic is independent of the
// others and of the block size, the output is bitwise identical for any thread count and
// block size (tested).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "core/sampler.hpp"
#include "core/target.hpp"
#include "core/time_grid.hpp"

namespace dmconv {

enum class Initialisation { kStandardNormal, kExactMarginal };

// One run's particles shared among the R processes of an MPI job (docs/cluster.md "MPI"): part p
// computes the particles [offsets[p], offsets[p + 1]) of split_offsets(n, R), and share() gives
// every part all n columns. Since particle j's trajectory is a pure function of (seed, run, j),
// the gathered matrix is bit-identical to the one a single process computes.
class ParticleSplit {
 public:
  virtual ~ParticleSplit() = default;
  virtual int parts() const = 0;
  virtual int part() const = 0;  // 0 .. parts() - 1
  // Collective (every part calls it, in the same order): on entry `samples` (d x n) holds this
  // part's columns; on return every column, the same bits on every part.
  virtual void share(Matrix& samples, const std::vector<Eigen::Index>& offsets) const = 0;
};

// Contiguous slices of n particles for `parts` parts, in order, sizes differing by at most one
// (the first n % parts slices one longer): offsets[0] = 0, offsets[parts] = n.
std::vector<Eigen::Index> split_offsets(Eigen::Index n, int parts);

struct RunOptions {
  std::uint64_t seed = 0;
  std::uint64_t run = 0;
  Eigen::Index particles = 1000;
  std::uint64_t first_particle = 0;  // global index of the first particle (for sharding)
  Initialisation initialisation = Initialisation::kExactMarginal;
  int stop_index = 1;                // 1: output Y_1 (compared with X_1); 0: continue to Y_0
  int threads = 0;                   // 0: OpenMP default
  Eigen::Index block_size = 512;     // particles per work unit
  // Set with parts() > 1: run_sampler computes this process's slice and gathers the rest.
  const ParticleSplit* split = nullptr;

  // Throws InvalidArgument naming the violated constraint.
  void validate(const TimeGrid& grid) const;
};

enum class RunStatus { kOk, kNonFinite };

struct RunResult {
  Matrix samples;                  // d x n: Y_stop
  RunStatus status = RunStatus::kOk;
  Eigen::Index non_finite_particles = 0;
  double nfe_per_particle = 0.0;   // score evaluations per trajectory
  double wall_seconds = 0.0;
  std::string message;             // empty when status is kOk
};

// Draws Y_T for particles [first_particle, first_particle + out.cols()).
void initial_state(const Target& target, const TimeGrid& grid, Initialisation init,
                   const RandomStreams& streams, std::uint64_t first_particle, MatrixRef out);

// Runs one block in place: x holds Y_from on entry, Y_stop on return. Exposed for tests and
// for estimators that need trajectories. run_stop_index (default: stop_index) is where the whole
// run ends: the step contexts (final_step, total_steps) are those of that run, so that stopping
// early (e.g. one step before the last, to take the last step apart) reproduces the run's steps.
void run_block(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score,
               const RandomStreams& streams, std::uint64_t first_particle, int from_index,
               int stop_index, Matrix& x, int run_stop_index = -1);

RunResult run_sampler(const Sampler& sampler, const TimeGrid& grid, const ScoreModel& score,
                      const Target& target, const RunOptions& options);

// Score evaluations per particle that sampler declares (Sampler::score_evaluations_at) for the
// steps from_index .. stop_index + 1, as run_block takes them.
double declared_nfe(const Sampler& sampler, const TimeGrid& grid, int from_index, int stop_index);

std::string to_string(RunStatus status);

}  // namespace dmconv
