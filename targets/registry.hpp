// The target registry and the parameter readers shared by target factories.
#pragma once
#include "core/registry.hpp"
#include "core/target.hpp"

namespace dmconv {

const Registry<Target>& target_registry();

}  // namespace dmconv
