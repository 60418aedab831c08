// `dmconv list [KIND]`: one line per registered component (name, one-line description).
// `dmconv describe [KIND] NAME`: a component's description, source, declared parameters (name,
// type, default, range/choices, unit, meaning) and a config snippet that validates.
#include <iomanip>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/estimator.hpp"
#include "core/schedule.hpp"
#include "posterior/likelihood.hpp"
#include "posterior/posterior_estimator.hpp"
#include "posterior/posterior_sampler.hpp"
#include "samplers/registry.hpp"
#include "score_errors/score_error.hpp"
#include "targets/registry.hpp"

namespace dmconv::cli {
namespace {

template <class Product>
void print_registry(const Registry<Product>& registry, std::ostream& out) {
  out << registry.kind() << "s:\n";
  for (const auto& entry : registry.entries())
    out << "  " << std::left << std::setw(32) << entry.name << entry.description << "\n";
  out << "\n";
}

template <class Product>
void print_entry(const Registry<Product>& registry, const typename Registry<Product>::Entry& entry,
                 std::ostream& out) {
  out << registry.kind() << " '" << entry.name << "': " << entry.description << "\n"
      << "source: " << entry.source << "\n\n"
      << "parameters:\n"
      << describe_parameters(entry.params) << "\n"
      << "config:\n"
      << config_snippet(registry, entry);
}

// Calls visit(registry) for each registry, with its plural name as `dmconv list` spells it.
template <class Visit>
void for_each_registry(Visit&& visit) {
  visit("targets", target_registry());
  visit("schedules", schedule_registry());
  visit("samplers", sampler_registry());
  visit("estimators", estimator_registry());
  visit("score_errors", score_errors::score_error_registry());
  visit("likelihoods", likelihood_registry());
  visit("posterior_samplers", posterior::posterior_sampler_registry());
  visit("posterior_estimators", posterior::posterior_estimator_registry());
}

}  // namespace

int list_command(const std::string& kind, std::ostream& out) {
  for_each_registry([&](const std::string& plural, const auto& registry) {
    if (kind == "all" || kind == plural) print_registry(registry, out);
  });
  return 0;
}

int describe_command(const std::string& kind, const std::string& name, std::ostream& out) {
  int found = 0;
  std::string kinds;
  for_each_registry([&](const std::string& plural, const auto& registry) {
    if (!kind.empty() && kind != plural) return;
    for (const auto& entry : registry.entries()) {
      if (entry.name != name) continue;
      kinds += (kinds.empty() ? "" : ", ") + plural;
      if (found++ == 0) print_entry(registry, entry, out);
    }
  });
  if (found == 0)
    throw InvalidArgument("describe: no " + (kind.empty() ? std::string("component") : kind) + " named '" + name +
                          "' (`dmconv list` shows them all)");
  if (found > 1)
    throw InvalidArgument("describe: '" + name + "' names a component in several kinds (" + kinds +
                          "); say which: dmconv describe KIND " + name);
  return 0;
}

}  // namespace dmconv::cli
