// The analytic targets that docs/theory.md's derived numbers are stated for, shared by the tests.
#pragma once
#include <memory>
#include <vector>

#include "core/params.hpp"
#include "core/target.hpp"
#include "targets/registry.hpp"

namespace dmconv::test_support {

// docs/theory.md §6.3 (also §6.6): p_data = 0.3 N(-2, 0.25) + 0.7 N(1.5, 0.5) in 1-D.
inline std::unique_ptr<Target> theory_mixture_1d() {
  return target_registry().make("gaussian_mixture",
                                {{"weights", std::vector<double>{0.3, 0.7}},
                                 {"means", ParamValue::List{std::vector<double>{-2.0}, std::vector<double>{1.5}}},
                                 {"variance", std::vector<double>{0.25, 0.5}}});
}

}  // namespace dmconv::test_support
