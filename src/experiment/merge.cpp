// Reading and checking the parts of a sharded sweep (merge.hpp). The fits and the file are made
// by conclude_sweep, the same code as the end of `dmconv run`, so nothing here decides a number.
#include "experiment/merge.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "core/error.hpp"
#include "dmconv/version.hpp"
#include "experiment/schema.hpp"
#include "experiment/shard.hpp"

namespace dmconv::experiment {
namespace {

struct Part {
  std::filesystem::path path;
  results::ResultsFile file;
  Shard shard;
};

std::string text_attribute(const Part& part, const std::string& name) {
  const results::Attribute* found = part.file.attribute(name);
  const auto* text = found ? std::get_if<std::string>(found) : nullptr;
  if (text == nullptr)
    throw InvalidArgument(part.path.string() + ": root attribute '" + name + "' is missing or not a string");
  return *text;
}

std::int64_t int_attribute(const Part& part, const std::string& name) {
  const results::Attribute* found = part.file.attribute(name);
  const auto* number = found ? std::get_if<std::int64_t>(found) : nullptr;
  if (number == nullptr)
    throw InvalidArgument(part.path.string() + ": root attribute '" + name + "' is missing or not int64");
  return *number;
}

std::string shard_text(const Shard& shard) { return std::to_string(shard.index) + "/" + std::to_string(shard.count); }

// "1, 4, 7" (the first `limit`, then "... (N in all)"): errors name runs without flooding the terminal.
std::string list_runs(const std::vector<std::size_t>& runs, std::size_t limit = 20) {
  std::string out;
  for (std::size_t k = 0; k < runs.size() && k < limit; ++k) out += (k ? ", " : "") + std::to_string(runs[k]);
  if (runs.size() > limit) out += ", ... (" + std::to_string(runs.size()) + " in all)";
  return out;
}

Part read_part(const std::filesystem::path& path) {
  Part part{path, results::read_results_file(path), {}};
  if (const std::vector<std::string> defects = schema_defects(part.file); !defects.empty()) {
    std::string message = path.string() + ": not a dmconv results file of schema " + std::to_string(kSchemaVersion) + ":";
    for (const std::string& defect : defects) message += "\n  " + defect;
    throw InvalidArgument(message);
  }
  const std::optional<Shard> shard = read_shard(part.file, path.string());
  if (!shard)
    throw InvalidArgument(path.string() + ": not a part file (no shard_index/shard_count attributes): merge takes the "
                          "parts written by dmconv run --shard i/n");
  part.shard = *shard;
  if (int_attribute(part, "complete") != 1)
    throw InvalidArgument(path.string() + ": part " + shard_text(part.shard) +
                          " is a checkpoint (complete = 0): finish it with dmconv run --resume --shard " +
                          shard_text(part.shard) + " before merging");
  return part;
}

// Same value of a root attribute in every part as in the first, and (`expected` set) as expected.
void require_same(const std::vector<Part>& parts, const std::string& name, const std::optional<std::string>& expected,
                  const std::string& why) {
  const std::string first = text_attribute(parts.front(), name);
  for (const Part& part : parts) {
    const std::string value = text_attribute(part, name);
    if (value != first)
      throw InvalidArgument("merge: " + name + " differs between parts: " + parts.front().path.string() + " has '" + first +
                            "', " + part.path.string() + " has '" + value + "'; " + why);
  }
  if (expected && first != *expected)
    throw InvalidArgument("merge: the parts have " + name + " '" + first + "', this dmconv has '" + *expected + "'; " + why);
}

}  // namespace

MergeInput read_parts(const std::vector<std::filesystem::path>& paths) {
  if (paths.empty()) throw InvalidArgument("merge: no part files given");
  std::vector<Part> parts;
  for (const std::filesystem::path& path : paths) parts.push_back(read_part(path));

  require_same(parts, "config_hash", std::nullopt, "all parts must come from one config (same file and --set)");
  const std::string rebuild = "merge with the dmconv that wrote the parts (a fit over runs of different builds "
                              "would not be reproducible)";
  require_same(parts, "tool_version", std::string(kVersion), rebuild);
  require_same(parts, "git_sha", std::string(kGitSha), rebuild);

  // Shard count and indices: 1..n, each exactly once.
  const std::int64_t count = parts.front().shard.count;
  std::map<std::int64_t, const Part*> by_index;
  for (const Part& part : parts) {
    if (part.shard.count != count)
      throw InvalidArgument("merge: shard_count differs between parts: " + parts.front().path.string() + " is part " +
                            shard_text(parts.front().shard) + ", " + part.path.string() + " is part " +
                            shard_text(part.shard) + "; all parts must be of one --shard i/n split");
    const auto [found, inserted] = by_index.emplace(part.shard.index, &part);
    if (!inserted)
      throw InvalidArgument("merge: duplicated part: " + found->second->path.string() + " and " + part.path.string() +
                            " are both part " + shard_text(part.shard) + "; give each part once");
  }

  MergeInput input;
  input.shard_count = count;
  {
    const Part& first = parts.front();
    input.config = config::parse_config(text_attribute(first, "config_text"), text_attribute(first, "config_path"));
    // As stored: the merged file's provenance is that of the parts, whatever re-printing the TOML gives.
    input.config.text = text_attribute(first, "config_text");
    input.config.hash = text_attribute(first, "config_hash");
    input.config.path = text_attribute(first, "config_path");
    // The canonical TOML lists [sweep] keys alphabetically, so re-reading it would order the axes
    // (and with them the runs) alphabetically instead of as in the original file. The order the runs
    // were made in is recorded by the order of the swept columns of /runs (rows.cpp).
    const results::ColumnTable* runs_table = first.file.table("runs");
    auto position = [&](const config::SweepAxis& axis) {
      for (std::size_t c = 0; c < runs_table->columns.size(); ++c)
        if (runs_table->columns[c].first == axis.path) return c;
      throw InvalidArgument(first.path.string() + ": /runs has no column for the [sweep] axis '" + axis.path + "'");
    };
    std::stable_sort(input.config.sweep.begin(), input.config.sweep.end(),
                     [&](const config::SweepAxis& a, const config::SweepAxis& b) { return position(a) < position(b); });
  }
  const std::vector<config::RunSpec> runs = config::expand_runs(input.config);
  const std::vector<std::int64_t> shard_of = shard_of_runs(runs, count);

  std::vector<std::int64_t> missing;
  for (std::int64_t s = 1; s <= count; ++s)
    if (by_index.count(s) == 0) missing.push_back(s);
  if (!missing.empty()) {
    std::string message = "merge: missing part" + std::string(missing.size() == 1 ? "" : "s") + " of " +
                          std::to_string(count) + ":";
    for (std::int64_t s : missing) {
      std::vector<std::size_t> its_runs;
      for (std::size_t r = 0; r < runs.size(); ++r)
        if (shard_of[r] == s) its_runs.push_back(r);
      message += "\n  part " + shard_text(Shard{s, count}) + " (runs " + (its_runs.empty() ? "none" : list_runs(its_runs)) +
                 ") is not among the " + std::to_string(parts.size()) + " files given";
    }
    throw InvalidArgument(message + "\nevery run of the sweep must be covered exactly once");
  }

  // Every row's run: in the sweep, in its part's slice, held by one part only.
  input.by_run.assign(runs.size(), {});
  std::vector<const Part*> holder(runs.size(), nullptr);
  std::vector<std::size_t> duplicated;
  std::int64_t threads = -1;
  bool same_threads = true;
  for (const Part& part : parts) {
    const std::int64_t part_threads = int_attribute(part, "threads");
    same_threads = same_threads && (threads < 0 || threads == part_threads);
    threads = part_threads;
    input.ranks = std::max(input.ranks, int_attribute(part, "ranks"));
    std::set<std::size_t> held;
    for (RunRow& row : read_run_rows(part.file, input.config)) {
      const auto r = static_cast<std::size_t>(row.run_index);
      if (row.run_index < 0 || r >= runs.size() || runs[r].key != row.run_key)
        throw InvalidArgument(part.path.string() + ": /runs row of run_index " + std::to_string(row.run_index) +
                              " (run_key '" + row.run_key + "') is not a run of this config's sweep");
      if (shard_of[r] != part.shard.index)
        throw InvalidArgument(part.path.string() + ": part " + shard_text(part.shard) + " holds run " + std::to_string(r) +
                              ", which belongs to part " + shard_text(Shard{shard_of[r], count}) +
                              " (the parts were not made by this dmconv's --shard slicing)");
      if (held.insert(r).second && holder[r] != nullptr) duplicated.push_back(r);
      holder[r] = &part;
      input.by_run[r].push_back(std::move(row));
    }
  }
  if (!duplicated.empty())
    throw InvalidArgument("merge: duplicated runs " + list_runs(duplicated) + " (held by more than one part)");
  for (const Part* h : holder) input.runs_with_rows += h != nullptr ? 1 : 0;
  input.threads = same_threads ? threads : 0;
  return input;
}

}  // namespace dmconv::experiment
