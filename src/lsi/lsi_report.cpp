#include "lsi/lsi_report.hpp"

#include <cctype>
#include <cstdio>

#include "results/results_file.hpp"

namespace dmconv::lsi {
namespace {

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

void print_row(std::ostream& out, const ProfileRow& row, int dim) {
  char line[256];
  std::snprintf(line, sizeof line, "  %6.3f  %10.6f  %3d/%-3d %10.6f", row.t1, row.kappa, row.starts_at_best,
                row.starts, row.analytic);
  out << line;
  if (dim == 1) {
    std::snprintf(line, sizeof line, "  %10.6f  %8.1e  %10.6f  %8.1e  %10.6f%s", row.poincare, row.poincare_budget,
                  row.lsi, row.lsi_budget, row.rate, row.lsi_converged ? "" : "  (LSI search not converged)");
    out << line;
  }
  out << "\n";
}

results::ColumnTable profile_table(const std::vector<TargetProfile>& targets) {
  std::vector<std::string> target;
  std::vector<std::int64_t> dim, starts, agree, converged;
  std::vector<double> t1, kappa, analytic, poincare, poincare_budget, lsi, lsi_budget, rate, rate_se;
  for (const TargetProfile& p : targets)
    for (const ProfileRow& r : p.rows) {
      target.push_back(p.name);
      dim.push_back(p.dim);
      t1.push_back(r.t1);
      kappa.push_back(r.kappa);
      starts.push_back(r.starts);
      agree.push_back(r.starts_at_best);
      analytic.push_back(r.analytic);
      poincare.push_back(r.poincare);
      poincare_budget.push_back(r.poincare_budget);
      lsi.push_back(r.lsi);
      lsi_budget.push_back(r.lsi_budget);
      converged.push_back(r.lsi_converged ? 1 : 0);
      rate.push_back(r.rate);
      rate_se.push_back(r.rate_se);
    }
  results::ColumnTable table;
  table.columns = {{"target", target},      {"dim", dim},
                   {"t1", t1},              {"kappa", kappa},
                   {"kappa_starts", starts}, {"kappa_starts_at_best", agree},
                   {"analytic_bound", analytic}, {"poincare", poincare},
                   {"poincare_budget", poincare_budget}, {"log_sobolev", lsi},
                   {"log_sobolev_budget", lsi_budget}, {"log_sobolev_converged", converged},
                   {"kl_rate", rate},       {"kl_rate_se", rate_se}};
  return table;
}

results::ColumnTable t1_star_table(const std::vector<TargetProfile>& targets, double delta) {
  std::vector<std::string> target;
  std::vector<std::int64_t> dim, reached;
  std::vector<double> deltas, t1, bracket, kappa, radius, derived;
  for (const TargetProfile& p : targets) {
    target.push_back(p.name);
    dim.push_back(p.dim);
    deltas.push_back(delta);
    t1.push_back(p.t1_star);
    bracket.push_back(p.bracket);
    reached.push_back(p.reached ? 1 : 0);
    kappa.push_back(p.kappa_at_t1_star);
    radius.push_back(p.radius ? *p.radius : NAN);
    derived.push_back(p.derived);
  }
  results::ColumnTable table;
  table.columns = {{"target", target}, {"dim", dim},          {"delta", deltas},
                   {"t1_star", t1},    {"bracket", bracket},  {"reached", reached},
                   {"kappa_at_t1_star", kappa}, {"support_radius", radius}, {"derived_t1", derived}};
  return table;
}

results::ColumnTable claim_table(const std::vector<ClaimRow>& rows) {
  std::vector<std::string> claim, group, metric, model, axis, bound, verdict, reason, message;
  std::vector<double> claimed, tolerance, fitted, low, high;
  std::vector<std::int64_t> points;
  for (const ClaimRow& row : rows) {
    claim.push_back(row.claim);
    group.push_back(row.group);
    metric.push_back(row.metric);
    model.push_back(row.model);
    axis.push_back(row.axis);
    bound.push_back(row.bound);
    verdict.push_back(row.verdict);
    reason.push_back(row.reason);
    message.push_back(row.message);
    claimed.push_back(row.claimed);
    tolerance.push_back(row.tolerance);
    fitted.push_back(row.fitted);
    low.push_back(row.low);
    high.push_back(row.high);
    points.push_back(row.points);
  }
  results::ColumnTable table;
  table.columns = {{"claim", claim},         {"group", group},   {"metric", metric},
                   {"model", model},         {"axis", axis},     {"claimed", claimed},
                   {"tolerance", tolerance}, {"bound", bound},   {"fitted", fitted},
                   {"low", low},             {"high", high},     {"points_used", points},
                   {"verdict", verdict},     {"verdict_reason", reason}, {"message", message}};
  return table;
}

}  // namespace

void print_target(std::ostream& out, const TargetProfile& target, const LsiSettings& settings) {
  out << "\n" << target.name << "\n";
  if (!settings.times.empty())
    out << "      T1       kappa  starts    analytic"
        << (target.dim == 1 ? "    poincare    budget         lsi    budget     KL rate" : "") << "\n";
  for (const ProfileRow& row : target.rows) print_row(out, row, target.dim);
  const double threshold = 1.0 - settings.delta;
  char line[256];
  if (target.reached) {
    std::snprintf(line, sizeof line, "T1 at which the Bakry-Emery bound reaches %.3g: %.6f (bracket %.1e)", threshold,
                  target.t1_star, target.bracket);
  } else {
    std::snprintf(line, sizeof line, "the Bakry-Emery bound does not reach %.3g by T1 = %.3g (%.6f there)", threshold,
                  settings.t1_max, target.kappa_at_t1_star);
  }
  out << line;
  if (target.radius) {
    std::snprintf(line, sizeof line, "; DERIVED (1/2) ln((1+R^2)/%.3g) = %.6f (R = %.6g)", settings.delta,
                  target.derived, *target.radius);
    out << line;
  }
  out << "\n";
}

int print_claims(std::ostream& out, const std::vector<ClaimRow>& rows) {
  int violations = 0;
  if (rows.empty()) return violations;
  out << "\nclaims ([[lsi.claim]]; slope: fitted [interval] vs claimed +- tolerance)\n";
  for (const ClaimRow& row : rows) {
    violations += row.verdict == "violated" ? 1 : 0;
    char line[512];
    std::snprintf(line, sizeof line, "  %s | %s | %s vs %s: %+.4f [%+.4f, %+.4f] claimed %+.4f +- %.3g (%s), %lld points: %s",
                  row.claim.c_str(), row.group.c_str(), row.metric.c_str(),
                  row.axis.empty() ? "kappa (level)" : row.axis.c_str(), row.fitted, row.low, row.high, row.claimed,
                  row.tolerance, row.bound.c_str(), static_cast<long long>(row.points), upper(row.verdict).c_str());
    out << line << (row.message.empty() ? "" : " (" + row.message + ")") << "\n";
    if (row.verdict != "holds" && !row.reason.empty()) out << "      why: " << row.reason << "\n";
  }
  return violations;
}

void write_lsi_file(const std::filesystem::path& path, const results::Origin& origin, const LsiSettings& settings,
                    const std::vector<TargetProfile>& targets, const std::vector<ClaimRow>& rows) {
  results::ResultsFile file;
  file.attributes = {{"schema", std::string("dmconv-lsi")}, {"schema_version", std::int64_t{2}}};
  results::append_tool_attributes(file.attributes, /*with_build_type=*/false);
  results::append_origin_attributes(file.attributes, origin);
  file.tables = {{"profile", profile_table(targets)},
                 {"t1_star", t1_star_table(targets, settings.delta)},
                 {"claims", claim_table(rows)}};
  results::write_results_file(path, file);
}

}  // namespace dmconv::lsi
