// Schema check of a results file (`dmconv check`): the root attributes, tables, columns and
// column types that make_results_file writes (rows.hpp file_layout, derived from the writer's
// own column bindings, so the schema is stated once), plus the value sets of the enum columns.
#pragma once
#include <string>
#include <vector>

#include "results/results_file.hpp"

namespace dmconv::experiment {

// Every defect of `file` against the layout, one message each (empty: the file conforms):
// a missing root attribute, table or column, a type that differs ("column 'value' is string,
// expected float64"), an unexpected table or column (extra /runs columns must be [sweep] axes:
// a dotted path, float64 or string), or an enum column value that is not a name of its enum.
std::vector<std::string> schema_defects(const results::ResultsFile& file);

}  // namespace dmconv::experiment
