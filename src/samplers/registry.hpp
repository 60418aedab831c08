// The sampler registry: every sampler of docs/theory.md §4, one line each.
#pragma once
#include "core/registry.hpp"
#include "core/sampler.hpp"

namespace dmconv {

const Registry<Sampler>& sampler_registry();

}  // namespace dmconv
