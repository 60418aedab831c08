#include <iomanip>

#include "cli/commands.hpp"
#include "core/estimator.hpp"
#include "core/schedule.hpp"
#include "samplers/registry.hpp"
#include "score_errors/score_error.hpp"
#include "targets/registry.hpp"

namespace dmconv::cli {
namespace {

template <class Product>
void print_registry(const Registry<Product>& registry, std::ostream& out) {
  out << registry.kind() << "s:\n";
  for (const auto& entry : registry.entries()) {
    out << "  " << std::left << std::setw(32) << entry.name << entry.description << "\n"
        << "  " << std::setw(32) << "" << "source: " << entry.source << "\n";
  }
  out << "\n";
}

}  // namespace

int list_command(const std::string& kind, std::ostream& out) {
  if (kind == "all" || kind == "targets") print_registry(target_registry(), out);
  if (kind == "all" || kind == "schedules") print_registry(schedule_registry(), out);
  if (kind == "all" || kind == "samplers") print_registry(sampler_registry(), out);
  if (kind == "all" || kind == "estimators") print_registry(estimator_registry(), out);
  if (kind == "all" || kind == "score_errors") print_registry(score_errors::score_error_registry(), out);
  return 0;
}

}  // namespace dmconv::cli
