// Boundary conventions of the samplers (docs/theory.md §4.1, §4.3, §4.4, §4.5, §9.3):
//   * ddpm_noise_outside and acc_sde_c add no (second) noise on the step t = 1 to the data;
//   * DPM-Solver++(2M) with fewer than 10 steps in the run takes a first-order final step
//     (`lower_order_final`), with 10 or more a second-order one;
//   * through run_block, the multistep samplers take a plain first step and then use the
//     cache of the immediately preceding step, so whole trajectories on a Gaussian target
//     equal the composition of the per-step closed forms.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "core/run_sampler.hpp"
#include "samplers/gaussian_affine_reference.hpp"
#include "samplers/registry.hpp"
#include "schedules/logsnr_uniform_schedule.hpp"
#include "schedules/theory_schedule.hpp"
#include "targets/gaussian.hpp"
#include "targets/registry.hpp"

namespace dmconv::test {
namespace {

// Output of one step from Y_t = `x` with the given noise matrices (fresh state).
Matrix step_once(const Sampler& sampler, const ScoreModel& score, const TimeGrid& grid, int t, const Matrix& x,
                 const std::vector<Matrix>& noise) {
  Matrix y = x;
  SamplerState state;
  sampler.step(StepContext{grid, t, t == 1, grid.steps()}, score, noise, y, state);
  return y;
}

Matrix normals(Eigen::Index rows, Eigen::Index cols, std::uint64_t index) {
  Matrix out(rows, cols);  // column j: stream (particle j, kTest index), drawn serially
  for (Eigen::Index j = 0; j < cols; ++j)
    RandomStreams(99, 0).normals(static_cast<std::uint64_t>(j), StreamTag(StreamPurpose::kTest, index),
                                   out.col(j).data(), rows);
  return out;
}

// For each stochastic sampler: which noise injections the step t = 1 (to the data level)
// uses. docs/theory.md §4.1: the noise-outside variant, like the repository's ddpm_steps, adds
// no noise on the final step; §4.3 (C): "No Z_t is added on the last step" (the first
// injection Z+ still is). The analysed DDPM (2.4) and variants (A), (B) have no boundary.
TEST(SamplerBoundary, NoiseUsedOnTheStepToTheData) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const ExactScore score(*target);
  const TimeGrid grid = TheorySchedule(2.0, 6.0).grid(32);
  const Eigen::Index d = target->dim(), n = 5;
  const Matrix x = normals(d, n, 1);
  struct Expectation {
    std::string name;
    std::vector<bool> used_at_t1;
  };
  for (const Expectation& e : std::vector<Expectation>{{"ddpm", {true}},
                                                       {"ddpm_noise_outside", {false}},
                                                       {"reverse_diffusion", {false}},
                                                       {"acc_sde_a", {true, true}},
                                                       {"acc_sde_b", {true, true}},
                                                       {"acc_sde_c", {true, false}}}) {
    const auto sampler = sampler_registry().make_example(e.name);
    ASSERT_EQ(static_cast<std::size_t>(sampler->noise_injections()), e.used_at_t1.size()) << e.name;
    for (int t : {1, 2}) {
      const std::vector<Matrix> zero(e.used_at_t1.size(), Matrix::Zero(d, n));
      const Matrix base = step_once(*sampler, score, grid, t, x, zero);
      for (std::size_t k = 0; k < e.used_at_t1.size(); ++k) {
        std::vector<Matrix> noise = zero;
        noise[k] = normals(d, n, 10 + k);
        const bool changed = step_once(*sampler, score, grid, t, x, noise) != base;
        const bool expected = t == 2 || e.used_at_t1[k];  // every injection is used for t >= 2
        EXPECT_EQ(changed, expected) << e.name << " t=" << t << " injection " << k;
      }
    }
  }
}

// The affine map Y_stop = G Y_T + g of a whole deterministic run on a Gaussian target,
// composed from the per-step closed forms: a plain first step at t = T, then for t < T the
// two-step form with the cache of step t + 1, except where `plain_at` says otherwise.
struct Composite {
  RMatrix G;
  RVector g;
};

Composite compose(const GaussianClosedForms& closed, const std::string& name, int T, int stop,
                  const std::function<bool(int)>& plain_at) {
  const Eigen::Index d = closed.identity().rows();
  RMatrix G_next = RMatrix::Zero(d, d), G = closed.identity();  // Y_{t+1}, Y_t as maps of Y_T
  RVector g_next = RVector::Zero(d), g = RVector::Zero(d);
  for (int t = T; t > stop; --t) {
    const bool plain = t == T || plain_at(t);
    const AffineStep step = plain ? closed.plain(name, t) : closed.two_step(name, t);
    RMatrix G_new = step.A * G;
    RVector g_new = step.A * g + step.b;
    if (!plain) {
      G_new += step.Q * G_next;
      g_new += step.Q * g_next;
    }
    G_next = G, g_next = g, G = G_new, g = g_new;
  }
  return {G, g};
}

// run_block from Y_T = 0 and Y_T = e_i read off the affine map of the whole run.
std::pair<Matrix, Vector> run_block_map(const Sampler& sampler, const ScoreModel& score, const TimeGrid& grid,
                                        int stop) {
  const Eigen::Index d = score.dim();
  Matrix x = Matrix::Zero(d, 1 + d);
  x.middleCols(1, d).setIdentity();
  run_block(sampler, grid, score, RandomStreams(1, 0), 0, grid.steps(), stop, x);
  const Vector g = x.col(0);
  return {x.middleCols(1, d).colwise() - g, g};
}

struct Gaussian3 {
  Vector mu = Vector{{1.0, -0.5, 2.0}};
  Matrix sigma = (Matrix(3, 3) << 0.50, 0.20, -0.10, 0.20, 0.30, 0.05, -0.10, 0.05, 0.08).finished();
};

// docs/theory.md §4.5 boundary [CODE dpm-solver `sample`]: with lower_order_final and fewer than
// 10 steps, the final step drops to first order. A run to Y_1 on a grid of T levels has
// T - 1 steps: T = 10 -> 9 steps (final step first order), T = 11 -> 10 steps (second order).
TEST(SamplerBoundary, DpmSolverPlusPlusLowerOrderFinalStep) {
  const Gaussian3 problem;
  const GaussianTarget target(GaussianComponent::full(problem.mu, problem.sigma, "test"));
  const ExactScore score(target);
  const auto sampler = sampler_registry().make_example("dpm_solver_pp_2m");
  for (int T : {10, 11}) {
    const TimeGrid grid = LogSnrUniformSchedule(1e-3, 1e-3).grid(T);
    const GaussianClosedForms closed(grid, problem.mu, problem.sigma);
    const bool first_order_final = T - 1 < 10;
    const Composite expected = compose(closed, "dpm_solver_pp_2m", T, 1, [&](int t) { return t == 2 && first_order_final; });
    const Composite other = compose(closed, "dpm_solver_pp_2m", T, 1, [&](int t) { return t == 2 && !first_order_final; });
    const auto [G, g] = run_block_map(*sampler, score, grid, 1);
    EXPECT_LE(relative_error(G, expected.G), 1e-12) << "T=" << T;
    EXPECT_LE(relative_error(g, RMatrix(expected.g)), 1e-12) << "T=" << T;
    // The check discriminates: the other choice of final order is far outside the tolerance.
    EXPECT_GT(relative_error(G, other.G), 1e-6) << "T=" << T;
  }
  // The same decision at the level of Sampler::step: the final step of a 9-step run ignores a
  // valid cache; the final step of a 10-step run uses it.
  const TimeGrid grid = LogSnrUniformSchedule(1e-3, 1e-3).grid(10);
  const GaussianClosedForms closed(grid, problem.mu, problem.sigma);
  for (int total : {9, 10}) {
    Matrix x = Matrix::Zero(3, 4);
    x.middleCols(1, 3).setIdentity();
    SamplerState state;
    Matrix previous = x;
    sampler->step(StepContext{grid, 3, false, total}, score, {}, previous, state);
    sampler->step(StepContext{grid, 2, true, total}, score, {}, x, state);
    const Vector b = x.col(0);
    const Matrix A = x.middleCols(1, 3).colwise() - b;
    const AffineStep expected = total < 10 ? closed.plain("dpm_solver_pp_2m", 2) : closed.two_step("dpm_solver_pp_2m", 2);
    // With Y_{t+1} = Y_t here the probed A is A + Q of the two-step map.
    const RMatrix expected_A = total < 10 ? expected.A : RMatrix(expected.A + expected.Q);
    EXPECT_LE(relative_error(A, expected_A), 1e-12) << "total steps " << total;
    EXPECT_LE(relative_error(b, RMatrix(expected.b)), 1e-12) << "total steps " << total;
  }
}

// Whole runs of the multistep samplers through run_block (which owns the cache and the step
// contexts) equal the composition of the closed forms: plain first step, then every step
// uses the cache of the step just before. Runs to Y_1 and to Y_0, on a theory grid and a
// log-SNR grid.
TEST(SamplerBoundary, MultistepRunsComposeTheClosedForms) {
  const Gaussian3 problem;
  const GaussianTarget target(GaussianComponent::full(problem.mu, problem.sigma, "test"));
  const ExactScore score(target);
  const std::vector<std::pair<std::string, TimeGrid>> grids{{"theory T=48", TheorySchedule(2.0, 6.0).grid(48)},
                                                            {"logsnr T=30", LogSnrUniformSchedule(1e-4, 1e-6).grid(30)}};
  for (const std::string name : {"acc_ode_score", "acc_ode_noise", "dpm_solver_pp_2m"}) {
    const auto sampler = sampler_registry().make_example(name);
    for (const auto& [label, grid] : grids) {
      const GaussianClosedForms closed(grid, problem.mu, problem.sigma);
      for (int stop : {1, 0}) {
        const Composite expected = compose(closed, name, grid.steps(), stop, [](int) { return false; });
        const auto [G, g] = run_block_map(*sampler, score, grid, stop);
        // Errors of ~1e-14 per step compound over <= 48 steps.
        EXPECT_LE(relative_error(G, expected.G), 1e-12) << name << " " << label << " stop=" << stop;
        EXPECT_LE(relative_error(g, RMatrix(expected.g)), 1e-12) << name << " " << label << " stop=" << stop;
      }
    }
  }
}

}  // namespace
}  // namespace dmconv::test
