// Subgaussian norms (core/subgaussian.hpp, docs/theory.md §8.4) against closed forms and against
// 40-digit references computed independently with mpmath (findroot on mpmath.quad or on the
// closed-form moment generating function; script in the comment of each value).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/subgaussian.hpp"
#include "targets/gaussian_mixture.hpp"
#include "targets/registry.hpp"
#include "support/theory_targets.hpp"

namespace dmconv {
namespace {

constexpr double kRel = 1e-12;

TEST(Subgaussian, GaussianClosedForms) {
  // N(0, v): (ii) sqrt(8 v / 3); N(0, v I_d): (i) K^2 = 2 v / (1 - 2^{-2/d}) (docs/theory.md §8.4 table).
  for (double v : {0.1, 1.0, 7.5}) {
    for (int d : {1, 3, 10, 100}) {
      const auto target = target_registry().make("gaussian", {{"mean", std::vector<double>(static_cast<std::size_t>(d), 0.0)},
                                                               {"variance", v}});
      const SubgaussianNorms n = target->subgaussian_norms();
      EXPECT_NEAR(n.per_direction, std::sqrt(8.0 * v / 3.0), kRel * std::sqrt(v)) << v << " " << d;
      EXPECT_NEAR(n.norm_based, std::sqrt(2.0 * v / (1.0 - std::pow(2.0, -2.0 / d))), kRel * std::sqrt(v * d));
    }
  }
}

TEST(Subgaussian, UniformAgainstMpmath) {
  // mpmath: findroot(lambda K: quad(lambda u: exp(u*u/K**2), [0, 1]) - 2, 0.77)
  EXPECT_NEAR(psi2_uniform(1.0), 0.77270779216312857948, kRel);
  EXPECT_NEAR(psi2_uniform(2.5), 2.5 * 0.77270779216312857948, kRel * 2.5);
  // U[-1.5, 1.5]^10, (i): findroot(lambda K: 10*log(quad(lambda u: exp((1.5*u)**2/K**2), [0, 1])) - log(2), 4)
  const auto box = target_registry().make("uniform_box", {{"half_width", 1.5}, {"dim", 10}});
  EXPECT_NEAR(box->subgaussian_norms().norm_based, 3.3340524555620695206, kRel * 3.3);
  EXPECT_TRUE(std::isnan(box->subgaussian_norms().per_direction));  // sup over u not computed for d > 1
  const auto line = target_registry().make("uniform_box", {{"half_width", 1.0}, {"dim", 1}});
  EXPECT_NEAR(line->subgaussian_norms().per_direction, 0.77270779216312857948, kRel);
}

TEST(Subgaussian, MixturesAgainstMpmath) {
  // (1/2) N(+-2 e_1, 0.25 I_3): (ii) root of (1 - 2v/K^2)^{-1/2} exp(R^2/(K^2 - 2v)) = 2 -> 2.5724446246990609192;
  // (i) root of (1 - 2v/K^2)^{-3/2} exp(R^2/(K^2 - 2v)) = 2 -> 2.7046162487668258194.
  const auto pair = target_registry().make(
      "gaussian_mixture", {{"weights", std::vector<double>{0.5, 0.5}},
                           {"means", ParamValue::List{std::vector<double>{2.0, 0.0, 0.0}, std::vector<double>{-2.0, 0.0, 0.0}}},
                           {"variance", std::vector<double>{0.25, 0.25}}});
  EXPECT_NEAR(pair->subgaussian_norms().per_direction, 2.5724446246990609192, kRel * 2.6);
  EXPECT_NEAR(pair->subgaussian_norms().norm_based, 2.7046162487668258194, kRel * 2.7);
  // The same pair along a rotated line: the supremising direction is found by the SVD of the means.
  const double c = 2.0 / std::sqrt(3.0);
  const auto rotated = target_registry().make(
      "gaussian_mixture", {{"weights", std::vector<double>{0.5, 0.5}},
                           {"means", ParamValue::List{std::vector<double>{c, c, c}, std::vector<double>{-c, -c, -c}}},
                           {"variance", std::vector<double>{0.25, 0.25}}});
  EXPECT_NEAR(rotated->subgaussian_norms().per_direction, 2.5724446246990609192, 1e-10);
  // 1-D asymmetric 0.3 N(-2, 0.25) + 0.7 N(1.5, 0.5): sum_k w_k (1 - 2 s_k/K^2)^{-1/2} exp(c_k^2/(K^2 - 2 s_k)) = 2.
  const auto mixture = test_support::theory_mixture_1d();
  EXPECT_NEAR(mixture->subgaussian_norms().per_direction, 2.3277806629897913996, kRel * 2.3);
  // Non-collinear means: (ii) is not computed, (i) is.
  const auto general = target_registry().make("random_mixture", {{"dim", 4}, {"components", 3}, {"radius", 2.0}, {"variance", 0.3}});
  EXPECT_TRUE(std::isnan(general->subgaussian_norms().per_direction));
  EXPECT_TRUE(std::isfinite(general->subgaussian_norms().norm_based));
}

TEST(Subgaussian, HeavyTailedControlsAreNotSubgaussian) {
  const auto t = target_registry().make("student_t", {{"degrees_of_freedom", 3.0}, {"scale", 1.0}});
  EXPECT_TRUE(std::isinf(t->subgaussian_norms().per_direction));
  EXPECT_TRUE(std::isinf(t->subgaussian_norms().norm_based));
  const auto product = target_registry().make(
      "product", {{"dim", 3}, {"factor", std::string("student_t")}, {"degrees_of_freedom", 2.5}, {"scale", 1.0}});
  EXPECT_TRUE(std::isinf(product->subgaussian_norms().per_direction));
}

TEST(Subgaussian, ScaleFamilyIsIndexedByItsNorm) {
  // psi2_norm = 3 with v = 0.25 needs R = 2.3767262728256599826 (mpmath: nested findroot).
  const auto target = target_registry().make("subgaussian_mixture", {{"dim", 5}, {"variance", 0.25}, {"psi2_norm", 3.0}});
  const auto& mixture = dynamic_cast<const GaussianMixtureTarget&>(*target);
  EXPECT_NEAR(mixture.components()[0].mean()(0), 2.3767262728256599826, 1e-11);
  EXPECT_EQ(mixture.components()[0].mean().tail(4).norm(), 0.0);
  EXPECT_NEAR(target->subgaussian_norms().per_direction, 3.0, 1e-12);
  // The smallest admissible norm is that of N(0, v): R = 0.
  const auto smallest = target_registry().make(
      "subgaussian_mixture", {{"dim", 2}, {"variance", 0.25}, {"psi2_norm", std::sqrt(8.0 * 0.25 / 3.0)}});
  EXPECT_EQ(dynamic_cast<const GaussianMixtureTarget&>(*smallest).components()[0].mean().norm(), 0.0);
  EXPECT_THROW(target_registry().make("subgaussian_mixture", {{"dim", 2}, {"variance", 0.25}, {"psi2_norm", 0.5}}),
               InvalidArgument);
}

}  // namespace
}  // namespace dmconv
