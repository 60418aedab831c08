// Schema check of a results file (schema.hpp). The expected layout is file_layout() (rows.cpp),
// i.e. what make_results_file writes; nothing here lists a column by hand except the enum columns
// whose values are checked against their name tables.
#include "experiment/schema.hpp"

#include <algorithm>
#include <variant>

#include "experiment/rows.hpp"

namespace dmconv::experiment {
namespace {

const char* attribute_type(const results::Attribute& attribute) {
  if (std::holds_alternative<std::int64_t>(attribute)) return "int64";
  if (std::holds_alternative<double>(attribute)) return "float64";
  return "string";
}

// Values of a string column that its enum's name table does not know (first few reported).
template <class Names>
void check_names(const results::ColumnTable& table, const std::string& where, const std::string& column,
                 const Names& names, std::vector<std::string>& defects, const std::vector<std::string>& extra = {}) {
  const results::Column* found = table.find(column);
  const auto* values = found ? std::get_if<std::vector<std::string>>(found) : nullptr;
  if (values == nullptr) return;  // missing or mistyped: already reported
  for (std::size_t i = 0; i < values->size(); ++i) {
    const std::string& v = (*values)[i];
    if (std::find(extra.begin(), extra.end(), v) != extra.end()) continue;
    try {
      names.parse(v);
    } catch (const std::exception&) {
      defects.push_back(where + ": column '" + column + "' row " + std::to_string(i) + " = '" + v +
                        "' is not a " + names.what + " name");
      return;
    }
  }
}

}  // namespace

std::vector<std::string> schema_defects(const results::ResultsFile& file) {
  const FileLayout expected = file_layout();
  std::vector<std::string> defects;
  for (const auto& [name, attribute] : expected.layout.attributes) {
    const results::Attribute* found = file.attribute(name);
    if (found == nullptr) {
      defects.push_back("root attribute '" + name + "' is missing");
    } else if (found->index() != attribute.index()) {
      defects.push_back("root attribute '" + name + "' is " + attribute_type(*found) + ", expected " +
                        attribute_type(attribute));
    }
  }
  for (const auto& [table_name, table] : expected.layout.tables) {
    const std::string where = "/" + table_name;
    const results::ColumnTable* present = file.table(table_name);
    if (present == nullptr) {
      defects.push_back("table " + where + " is missing");
      continue;
    }
    for (const auto& [column, type] : table.columns) {
      const results::Column* found = present->find(column);
      const bool optional = std::find(expected.optional.begin(), expected.optional.end(), table_name + "/" + column) !=
                            expected.optional.end();
      if (found == nullptr) {
        if (!optional) defects.push_back(where + ": column '" + column + "' is missing");
      } else if (found->index() != type.index()) {
        defects.push_back(where + ": column '" + column + "' is " + results::type_name(*found) + ", expected " +
                          results::type_name(type));
      }
    }
    for (const auto& [column, values] : present->columns) {
      if (table.find(column) != nullptr) continue;
      // /runs carries one column per [sweep] axis, named by its dotted path (rows.cpp).
      const bool sweep_axis = table_name == "runs" && column.find('.') != std::string::npos &&
                              !std::holds_alternative<std::vector<std::int64_t>>(values);
      if (!sweep_axis)
        defects.push_back(where + ": unexpected column '" + column + "' (" + results::type_name(values) + ")");
    }
  }
  for (const auto& [table_name, table] : file.tables)
    if (expected.layout.table(table_name) == nullptr) defects.push_back("unexpected table /" + table_name);
  if (const results::ColumnTable* runs = file.table("runs")) {
    check_names(*runs, "/runs", "status", kEstimateStatusNames, defects);
    check_names(*runs, "/runs", "kind", kEstimateKindNames, defects, {"oracle", "failed"});
  }
  if (const results::ColumnTable* fits = file.table("fits")) check_names(*fits, "/fits", "verdict", kVerdictNames, defects);
  return defects;
}

}  // namespace dmconv::experiment
