// `dmconv samples`: the draws of a posterior experiment and its exact grid laws as column tables
// (experiment/posterior_samples.hpp).
#include "experiment/posterior_samples.hpp"

#include <algorithm>
#include <limits>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "posterior/estimators/grid_tv.hpp"

namespace dmconv::experiment {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMaxGridDim = 2;  // grid_posterior's limit

std::string join_values(const Vector& values) {
  std::ostringstream text;
  text.precision(17);
  for (Eigen::Index i = 0; i < values.size(); ++i) text << (i ? "," : "") << values(i);
  return text.str();
}

// Columns x0, x1, ... of points of (up to) `dim` coordinates; rows of lower dimension get NaN in
// the columns they lack, so a sweep over target.dim still gives one table.
struct CoordinateColumns {
  explicit CoordinateColumns(int dim) : values(static_cast<std::size_t>(dim)) {}
  void push(const double* x, int x_dim) {
    for (std::size_t k = 0; k < values.size(); ++k)
      values[k].push_back(static_cast<int>(k) < x_dim ? x[k] : kNaN);
  }
  void append_to(results::ColumnTable& table, const std::string& prefix) {
    for (std::size_t k = 0; k < values.size(); ++k)
      table.columns.emplace_back(prefix + std::to_string(k), std::move(values[k]));
  }
  std::vector<std::vector<double>> values;
};

struct GridRows {
  std::vector<std::string> point_key, reference;
  std::vector<double> eta, mass;
  CoordinateColumns centre{kMaxGridDim}, width{kMaxGridDim};
};

void append_grid_law(GridRows& rows, const std::string& point_key, const std::string& reference, double eta,
                     const posterior::GridLaw& law) {
  const Eigen::Index cells = law.mass.size();
  for (Eigen::Index c = 0; c < cells; ++c) {
    // GridLaw's cell order: index i0 + points * i1.
    const int index[2] = {static_cast<int>(c % law.points), static_cast<int>(c / law.points)};
    double centre[2], width[2];
    for (int axis = 0; axis < law.dim; ++axis) {
      centre[axis] = law.center(axis, index[axis]);
      width[axis] = law.spacing(axis);
    }
    rows.point_key.push_back(point_key);
    rows.reference.push_back(reference);
    rows.eta.push_back(eta);
    rows.mass.push_back(law.mass(c));
    rows.centre.push(centre, law.dim);
    rows.width.push(width, law.dim);
  }
}

// pi and pi_eta for every distinct stationary eta > 0 of the point's samplers (references()).
void append_point_grids(GridRows& rows, const SweepPoint& point, const posterior::GridOptions& grid) {
  std::set<double> etas = {0.0};
  for (const auto& [name, sampler] : point.posterior_samplers)
    for (const posterior::Reference& reference : posterior::references(*sampler)) etas.insert(reference.eta);
  for (const double eta : etas) {
    const posterior::GridLaw law = posterior::grid_posterior(*point.target, *point.likelihood, *point.observation, eta, grid);
    append_grid_law(rows, point.key, eta == 0.0 ? "pi" : "pi_eta", eta, law);
  }
}

bool selected(const config::RunSpec& run, const SamplesOptions& options) {
  return run.replicate == 0 && (!options.steps || run.steps == *options.steps);
}

}  // namespace

void require_posterior_config(const config::ExperimentConfig& config) {
  if (!config.posterior())
    throw InvalidArgument(config.path + ": dmconv samples needs a posterior experiment (a [likelihood] section); "
                          "experiment '" + config.name + "' has none");
}

void check_samples_options(const Plan& plan, const SamplesOptions& options) {
  const config::ExperimentConfig& config = plan.config;
  require_posterior_config(config);
  if (options.max_particles < 1)
    throw InvalidArgument("--particles " + std::to_string(options.max_particles) + ": must be at least 1");
  if (options.steps) {
    std::set<int> swept;
    for (const config::RunSpec& run : plan.runs) swept.insert(run.steps);
    if (swept.count(*options.steps) == 0) {
      std::string values;
      for (const int steps : swept) values += (values.empty() ? "" : ", ") + std::to_string(steps);
      throw InvalidArgument("--steps " + std::to_string(*options.steps) + ": not a value of [sampling] steps of " +
                            config.path + " (" + values + ")");
    }
  }
}

posterior::GridOptions samples_grid_options(const config::ExperimentConfig& config) {
  for (const config::EstimatorSpec& spec : config.estimators)
    if (spec.component.kind == "posterior_grid_tv") return posterior::posterior_grid_tv_options(spec.component.params);
  return posterior::posterior_grid_tv_options({});
}

results::ResultsFile posterior_samples_file(const Plan& plan, const SamplesOptions& options) {
  const config::ExperimentConfig& config = plan.config;
  const posterior::GridOptions grid = samples_grid_options(config);

  int max_dim = 1;
  for (const SweepPoint& point : plan.points) max_dim = std::max(max_dim, static_cast<int>(point.target->dim()));

  results::ColumnTable points;
  {
    std::vector<std::string> key, target, likelihood, observation;
    std::vector<std::int64_t> dim, grid_points;
    for (const SweepPoint& point : plan.points) {
      key.push_back(point.key);
      target.push_back(point.target->describe());
      likelihood.push_back(point.likelihood->describe());
      observation.push_back(join_values(*point.observation));
      dim.push_back(point.target->dim());
      grid_points.push_back(point.target->dim() <= kMaxGridDim ? grid.points : 0);
    }
    points.columns = {{"point_key", key},   {"target", target}, {"likelihood", likelihood},
                      {"observation", observation}, {"dim", dim}, {"grid_points", grid_points}};
  }

  std::vector<std::string> run_point, run_sampler, run_meaning;
  std::vector<std::int64_t> run_steps, run_particles, run_written, run_finite;
  std::vector<double> run_eta;
  std::vector<std::string> sample_point, sample_sampler;
  std::vector<std::int64_t> sample_steps, sample_particle;
  CoordinateColumns sample_x(max_dim);
  for (const config::RunSpec& run : plan.runs) {
    if (!selected(run, options)) continue;
    const SweepPoint& point = plan.point(run.index);
    const posterior::PosteriorProblem problem = point.posterior_problem();
    const posterior::PosteriorEstimationProblem full = posterior_estimation_problem(plan, run.index, problem, options.threads);
    const Eigen::Index written = std::min<Eigen::Index>(full.particles, options.max_particles);
    const posterior::PosteriorEstimationProblem capped{full.sampler, full.problem, full.steps, full.grid,
                                                       full.seed,    full.run,     written,    full.threads};
    if (options.progress != nullptr)
      *options.progress << "dmconv samples: " << (point.key.empty() ? "" : point.key + " ") << run.sampler
                        << " T=" << run.steps << ": " << written << " draws\n";
    bool finite = true;
    const Matrix draws = posterior::posterior_output(capped, finite);
    const std::optional<double> eta = full.sampler.stationary_eta();
    run_point.push_back(point.key);
    run_sampler.push_back(run.sampler);
    run_meaning.push_back(full.sampler.steps_meaning());
    run_steps.push_back(run.steps);
    run_eta.push_back(eta ? *eta : kNaN);
    run_particles.push_back(full.particles);
    run_written.push_back(written);
    run_finite.push_back(finite ? 1 : 0);
    for (Eigen::Index j = 0; j < draws.cols(); ++j) {
      sample_point.push_back(point.key);
      sample_sampler.push_back(run.sampler);
      sample_steps.push_back(run.steps);
      sample_particle.push_back(j);
      sample_x.push(draws.col(j).data(), static_cast<int>(draws.rows()));
    }
  }
  results::ColumnTable sampler_runs;
  sampler_runs.columns = {{"point_key", run_point},         {"sampler", run_sampler},
                          {"steps", run_steps},             {"steps_meaning", run_meaning},
                          {"stationary_eta", run_eta},      {"particles", run_particles},
                          {"particles_written", run_written}, {"finite", run_finite}};
  results::ColumnTable samples;
  samples.columns = {{"point_key", sample_point},
                     {"sampler", sample_sampler},
                     {"steps", sample_steps},
                     {"particle", sample_particle}};
  sample_x.append_to(samples, "x");

  GridRows grid_rows;
  for (const SweepPoint& point : plan.points)
    if (point.target->dim() <= kMaxGridDim) append_point_grids(grid_rows, point, grid);
  results::ColumnTable grid_table;
  grid_table.columns = {{"point_key", grid_rows.point_key}, {"reference", grid_rows.reference}, {"eta", grid_rows.eta}};
  grid_rows.centre.values.resize(static_cast<std::size_t>(std::min(max_dim, kMaxGridDim)));
  grid_rows.width.values.resize(grid_rows.centre.values.size());
  grid_rows.centre.append_to(grid_table, "x");
  grid_rows.width.append_to(grid_table, "width");
  grid_table.columns.emplace_back("mass", std::move(grid_rows.mass));

  results::ResultsFile file;
  file.attributes = {{"content", std::string("posterior_samples")}};
  results::append_tool_attributes(file.attributes, /*with_build_type=*/true);
  file.attributes.emplace_back("threads", static_cast<std::int64_t>(options.threads));
  results::append_origin_attributes(file.attributes, {options.command_line, config.path, config.text, config.hash});
  file.attributes.emplace_back("max_particles", options.max_particles);
  file.attributes.emplace_back("replicate", std::int64_t{0});
  file.attributes.emplace_back("seed", static_cast<std::int64_t>(config.seed));
  file.tables = {{"points", std::move(points)},
                 {"sampler_runs", std::move(sampler_runs)},
                 {"samples", std::move(samples)},
                 {"grid", std::move(grid_table)}};
  return file;
}

}  // namespace dmconv::experiment
