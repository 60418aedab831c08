// Exact posterior laws on a grid in d <= 2, for likelihoods without closed-form posteriors
// (phase_retrieval, one_bit; docs/theory.md §4.7):
//
//   pi_eta(x) ∝ p_data(x) (e^{-L(.; y)} * N(0, eta^2 I))(x),   pi = pi_0
//
// p_data is the prior's density (Target::log_density at the data level); the smoothed likelihood
// is Likelihood::smoothed_log_likelihood where it has a closed form, otherwise the Gauss–Hermite
// rule E_W f(x + eta W) ≈ pi^{-d/2} sum_i w_i f(x + eta sqrt(2) t_i) (tensor rule in d = 2; nodes
// by Golub–Welsch, since Boost 1.74 has no Gauss–Hermite class; see gauss_hermite_rule). The law is held as cell masses on a uniform cell-centred grid over a
// box; within a cell the density is taken as constant (so sampling is: a cell by inverse CDF,
// then uniform within it). Its error against the continuous law is measured by halving the
// spacing (GridLaw::refinement_error), the floor every grid estimate reports.
#pragma once
#include <cstdint>
#include <vector>

#include "core/gauss_hermite.hpp"
#include "core/rng.hpp"
#include "core/target.hpp"
#include "core/types.hpp"
#include "posterior/likelihood.hpp"

namespace dmconv::posterior {

struct GridOptions {
  int points = 1024;          // cells per axis (d = 1: up to 2^20; d = 2: up to 4096)
  int hermite_points = 48;    // Gauss–Hermite nodes per axis when no closed form exists
  std::vector<double> lo, hi; // the box; empty: from the prior (GaussianMixtureView: means -+ 10 sd; else an error)
  void validate(int dim) const;  // throws InvalidArgument naming the option, value and rule
};

struct GridLaw {
  int dim = 1;
  int points = 0;                  // per axis
  std::vector<double> lo, hi;      // box per axis
  Vector mass;                     // cell masses, sum 1; index i0 + points * i1
  double spacing(int axis) const { return (hi[axis] - lo[axis]) / points; }
  double center(int axis, int i) const { return lo[axis] + (i + 0.5) * spacing(axis); }

  // out.col(j): exact draw from the piecewise-constant law (cell from uniform 0 of tag.sub(0), the
  // position within it from uniforms 1.. of tag.sub(0)).
  void sample(const RandomStreams& streams, std::uint64_t first_particle, StreamTag tag, MatrixRef out) const;
  // TV between the histogram of `samples` on this grid's cells and this law: (1/2) sum_c |n_c/n - mass_c|
  // (samples outside the box count as mass outside, where this law has none).
  double histogram_tv(ConstMatrixRef samples) const;
  // d = 1 only: W2^2 between the empirical law of `samples` and this piecewise-constant law, exactly
  // (quantile functions integrated piecewise).
  double w2_squared_1d(std::vector<double> samples) const;
  // TV to another grid law on the same box and number of points (throws InvalidArgument otherwise).
  double tv(const GridLaw& other) const;
  // TV between this law and the same law computed with half the spacing (2 points per cell, masses
  // summed back onto these cells): the measured discretisation floor of estimates on this grid.
  double refinement_error = 0.0;  // filled by grid_posterior
};

// gauss_hermite_rule (core/gauss_hermite.hpp) is used here and by the tests under this namespace.
using dmconv::GaussHermiteRule;
using dmconv::gauss_hermite_rule;

GridLaw grid_posterior(const Target& prior, const Likelihood& likelihood, const Vector& y, double eta,
                       const GridOptions& options);

}  // namespace dmconv::posterior
